/*
 * dane.h -- the RFC 7671 section 8 safety check on a TLSA RRset.
 * Pure: no I/O, no logging.
 *
 * RFC 7671 section 8 (and section 5 of RFC 7672): a DANE client that
 * supports a (usage, selector, matching type) combination present in the
 * RRset may ignore records with other combinations, so for EVERY
 * combination published, at least one record with it must match the chain
 * the server presents.  tlsad runs this check on the RRset as it will be
 * after a DNS write, against the chain the MTA serves now, and refuses the
 * write otherwise.
 */
#ifndef TLSAD_DANE_H
#define TLSAD_DANE_H

#include <stddef.h>

#include "tlsad/cert.h"
#include "tlsad/tlsa.h"

/*
 * Check that rrset_after (the RRset as it will be once a write is done) is
 * safe for served (the chain the MTA serves now, leaf first): for every
 * (usage, selector, mtype) triple present in the RRset, at least one record
 * with that triple matches the chain (see cert_tlsa_match: usage 3/1 the
 * leaf, usage 2/0 any issuer certificate).
 *
 * Returns 0 when safe; TLSAD_EDNS_EMPTYRRSET when the RRset is empty;
 * TLSAD_EDNS_RFC7671 when some triple has no matching record; TLSAD_EINVAL
 * for NULL arguments or a malformed record; TLSAD_ENOMEM.  On any non-zero
 * return, why (if not NULL and whylen > 0) gets a NUL-terminated sentence
 * naming the offending triple and its records (truncated to whylen); on 0
 * it gets an empty string.
 */
int	dane_check_rfc7671(const struct tlsa_rrset *rrset_after,
	    const struct cert_chain *served, char *why, size_t whylen);

#endif /* TLSAD_DANE_H */
