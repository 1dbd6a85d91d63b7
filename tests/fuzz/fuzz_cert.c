/*
 * fuzz_cert.c -- fuzz target for the PEM readers (cert_chain_from_pem, eager
 * and lazy, cert_key_from_pem) and the TLSA presentation parsers
 * (tlsa_rr_parse, tlsa_param_parse), all fed the same input.
 *
 * A chain that loads eagerly loads lazily too, to the same key; its 3 1 1
 * record matches it and survives format and parse.  A TLSA record or
 * parameter triple that parses is in range and formats and parses back
 * equal.  Nothing may crash, leak or read out of bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsad/cert.h"
#include "tlsad/error.h"
#include "tlsad/tlsa.h"

/* A record in range, whose presentation form parses back equal. */
static void
check_rr(const struct tlsa_rr *rr)
{
	struct tlsa_rr	 back;
	char		*s = NULL, *p;

	if (rr->param.usage > 3 || rr->param.selector > 1 ||
	    rr->param.mtype > 2 || rr->data == NULL || rr->len == 0 ||
	    rr->len > TLSA_DATA_MAX)
		abort();
	if ((rr->param.mtype == TLSA_MTYPE_SHA256 && rr->len != 32) ||
	    (rr->param.mtype == TLSA_MTYPE_SHA512 && rr->len != 64))
		abort();
	if (tlsa_rr_format(rr, &s) != 0)
		abort();
	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			abort();
	memset(&back, 0, sizeof(back));
	if (tlsa_rr_parse(s, &back) != 0 || !tlsa_rr_equal(rr, &back))
		abort();
	tlsa_rr_clear(&back);
	free(s);
}

static void
check_tlsa_text(const char *s)
{
	struct tlsa_rr		rr;
	struct tlsa_param	p, back;
	char			buf[16];
	int			rc;

	memset(&rr, 0, sizeof(rr));
	rc = tlsa_rr_parse(s, &rr);
	if (rc == 0)
		check_rr(&rr);
	else if (rc != TLSAD_EINVAL || rr.data != NULL)
		abort();
	tlsa_rr_clear(&rr);

	rc = tlsa_param_parse(s, &p);
	if (rc == 0) {
		if (p.usage > 3 || p.selector > 1 || p.mtype > 2)
			abort();
		snprintf(buf, sizeof(buf), "%u %u %u", p.usage, p.selector,
		    p.mtype);
		if (tlsa_param_parse(buf, &back) != 0 ||
		    !tlsa_param_equal(p, back))
			abort();
	} else if (rc != TLSAD_EINVAL)
		abort();
}

static void
check_chain(const char *buf, size_t len)
{
	struct cert_chain	*chain = NULL, *lazy = NULL;
	struct cert_key		*key = NULL;
	struct tlsa_param	 p311 = { 3, 1, 1 };
	struct tlsa_rr		 rr;
	uint8_t			 spki[32], spki2[32];
	int			 rc, lrc;

	memset(&rr, 0, sizeof(rr));
	rc = cert_chain_from_pem(buf, len, &chain);
	lrc = cert_chain_from_pem_flags(buf, len, CERT_LOAD_LAZY, &lazy);
	if ((rc == 0) != (chain != NULL) || (lrc == 0) != (lazy != NULL))
		abort();
	if (rc == 0) {
		if (lrc != 0)
			abort();	/* lazy checks less, never more */
		if (cert_chain_count(chain) < 1 ||
		    cert_chain_count(chain) > CERT_CHAIN_MAX ||
		    cert_chain_leaf(chain) == NULL ||
		    cert_chain_get(chain, cert_chain_count(chain)) != NULL)
			abort();
		if (cert_spki_sha256(chain, spki) != 0 ||
		    cert_spki_sha256(lazy, spki2) != 0 ||
		    memcmp(spki, spki2, sizeof(spki)) != 0)
			abort();
		if (cert_tlsa_rr(chain, p311, &rr) != 0 || rr.len != 32 ||
		    memcmp(rr.data, spki, 32) != 0)
			abort();
		check_rr(&rr);
		if (cert_tlsa_match(chain, &rr) != 1)
			abort();
	} else if (rc >= 0)
		abort();

	rc = cert_key_from_pem(buf, len, &key);
	if ((rc == 0) != (key != NULL))
		abort();
	if (key != NULL) {
		if (cert_key_pkey(key) == NULL)
			abort();
		if (chain != NULL) {
			/*
			 * UNSUPPORTED: the leaf's DER framing is sound but
			 * OpenSSL cannot decode its public key.
			 */
			rc = cert_key_matches(chain, key);
			if (rc != 0 && rc != TLSAD_ECERT_KEYMISMATCH &&
			    rc != TLSAD_ECERT_UNSUPPORTED)
				abort();
		}
	}
	tlsa_rr_clear(&rr);
	cert_key_free(key);
	cert_chain_free(lazy);
	cert_chain_free(chain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	check_chain((const char *)data, size);
	/* The TLSA parsers read C strings. */
	if (size > 2 * TLSA_DATA_MAX + 64)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_tlsa_text(s);
	free(s);
	return 0;
}
