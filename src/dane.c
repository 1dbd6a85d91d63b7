/*
 * dane.c -- the RFC 7671 section 8 safety check on a TLSA RRset.
 * Pure: no I/O, no logging.
 * Invariant it guards: a TLSA RRset is never published unless every
 * (usage, selector, matching type) triple in it has a record matching the
 * chain the MTA serves, so no DANE client that picks one triple can fail.
 */
#include <stdio.h>
#include <string.h>

#include "tlsad/dane.h"
#include "tlsad/error.h"

/* How much of each record's hex the sentence shows. */
#define WHY_HEX_SHOWN	16

static void
say(char *why, size_t whylen, const char *s)
{
	if (why == NULL || whylen == 0)
		return;
	snprintf(why, whylen, "%s", s);
}

/*
 * Describe the records of rrset with triple p: "3 1 1 0123456789abcdef...,
 * 3 1 1 ..." into buf.
 */
static void
list_records(const struct tlsa_rrset *rrset, struct tlsa_param p, char *buf,
    size_t size)
{
	const struct tlsa_rr	*rr;
	char			 hex[2 * WHY_HEX_SHOWN + 1];
	size_t			 i, used = 0, shown;
	int			 n;

	buf[0] = '\0';
	for (i = 0; i < rrset->n; i++) {
		rr = &rrset->rr[i];
		if (!tlsa_param_equal(rr->param, p))
			continue;
		/* WHY_HEX_SHOWN hex digits = WHY_HEX_SHOWN / 2 bytes. */
		shown = rr->len < WHY_HEX_SHOWN / 2 ? rr->len :
		    WHY_HEX_SHOWN / 2;
		for (n = 0; (size_t)n < shown; n++)
			snprintf(hex + 2 * n, 3, "%02x", rr->data[n]);
		hex[2 * shown] = '\0';
		n = snprintf(buf + used, size - used, "%s%u %u %u %s%s",
		    used > 0 ? ", " : "", p.usage, p.selector, p.mtype, hex,
		    rr->len > shown ? "..." : "");
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

int
dane_check_rfc7671(const struct tlsa_rrset *rrset_after,
    const struct cert_chain *served, char *why, size_t whylen)
{
	const struct tlsa_rr	*rr;
	struct tlsa_param	 p;
	char			 records[512], msg[768];
	size_t			 i, j;
	int			 seen, matched, r;

	say(why, whylen, "");
	if (rrset_after == NULL || served == NULL ||
	    cert_chain_count(served) == 0) {
		say(why, whylen, "internal error: no RRset or no served chain "
		    "to check");
		return TLSAD_EINVAL;
	}
	if (rrset_after->n == 0) {
		say(why, whylen, "the TLSA RRset would be empty: a DANE client "
		    "would then fall back or fail, so the write is refused");
		return TLSAD_EDNS_EMPTYRRSET;
	}
	for (i = 0; i < rrset_after->n; i++) {
		p = rrset_after->rr[i].param;
		/* Each triple once: skip it if an earlier record has it. */
		seen = 0;
		for (j = 0; j < i; j++) {
			if (tlsa_param_equal(rrset_after->rr[j].param, p)) {
				seen = 1;
				break;
			}
		}
		if (seen)
			continue;
		matched = 0;
		for (j = i; j < rrset_after->n && !matched; j++) {
			rr = &rrset_after->rr[j];
			if (!tlsa_param_equal(rr->param, p))
				continue;
			r = cert_tlsa_match(served, rr);
			if (r < 0) {
				snprintf(msg, sizeof(msg), "TLSA record %u %u %u "
				    "could not be checked against the served "
				    "chain: %s", p.usage, p.selector, p.mtype,
				    tlsad_strerror(r));
				say(why, whylen, msg);
				return r;
			}
			matched = r;
		}
		if (!matched) {
			list_records(rrset_after, p, records, sizeof(records));
			snprintf(msg, sizeof(msg), "no TLSA record with "
			    "parameters %u %u %u matches the certificate chain "
			    "the MTA serves (%s): RFC 7671 section 8 requires "
			    "one for every parameter triple in the RRset",
			    p.usage, p.selector, p.mtype, records);
			say(why, whylen, msg);
			return TLSAD_EDNS_RFC7671;
		}
	}
	return 0;
}
