/*
 * test_dane.c -- the RFC 7671 section 8 check: every (usage, selector,
 * mtype) triple in the RRset after a write needs a record matching the
 * chain served now; an empty RRset is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tlsad/cert.h"
#include "tlsad/dane.h"
#include "tlsad/error.h"
#include "tlsad/tlsa.h"

#define CERTS	TLSAD_TEST_DATA "/certs/"

struct fixture {
	struct cert_chain	*cur;	/* p256 fullchain: served now */
	struct cert_chain	*next;	/* rsa2048 fullchain: the renewal */
	struct cert_chain	*bare;	/* p256 leaf alone, no issuer */
	struct tlsa_rrset	 set;
	char			 why[512];
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(cert_chain_load(CERTS "p256-fullchain.pem", &f->cur), 0);
	assert_int_equal(cert_chain_load(CERTS "rsa2048-fullchain.pem",
	    &f->next), 0);
	assert_int_equal(cert_chain_load(CERTS "p256-leaf.pem", &f->bare), 0);
	tlsa_rrset_init(&f->set);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	cert_chain_free(f->cur);
	cert_chain_free(f->next);
	cert_chain_free(f->bare);
	tlsa_rrset_clear(&f->set);
	free(f);
	return 0;
}

/* Add the record chain gives for "u s m" to the fixture's RRset. */
static void
add(struct fixture *f, const struct cert_chain *chain, uint8_t u, uint8_t s,
    uint8_t m)
{
	struct tlsa_param	p = { u, s, m };
	struct tlsa_rr		rr;

	memset(&rr, 0, sizeof(rr));
	assert_int_equal(cert_tlsa_rr(chain, p, &rr), 0);
	assert_int_equal(tlsa_rrset_add(&f->set, &rr), 0);
	tlsa_rr_clear(&rr);
}

static int
check(struct fixture *f, const struct cert_chain *served)
{
	memset(f->why, 'x', sizeof(f->why));
	return dane_check_rfc7671(&f->set, served, f->why, sizeof(f->why));
}

static void
test_empty(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(check(f, f->cur), TLSAD_EDNS_EMPTYRRSET);
	assert_non_null(strstr(f->why, "empty"));
}

static void
test_current_only(void **state)
{
	struct fixture	*f = *state;

	add(f, f->cur, 3, 1, 1);
	assert_int_equal(check(f, f->cur), 0);
	assert_string_equal(f->why, "");
}

/* The rollover's first step: new record published beside the served one. */
static void
test_prepublish(void **state)
{
	struct fixture	*f = *state;

	add(f, f->cur, 3, 1, 1);
	add(f, f->next, 3, 1, 1);
	assert_int_equal(check(f, f->cur), 0);
	/* And after the deploy the same RRset is fine for the new chain. */
	assert_int_equal(check(f, f->next), 0);
}

/* Retiring the served key's record (or deploying too early) is refused. */
static void
test_only_other_key(void **state)
{
	struct fixture	*f = *state;

	add(f, f->next, 3, 1, 1);
	assert_int_equal(check(f, f->cur), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, "3 1 1"));
	assert_non_null(strstr(f->why, "RFC 7671"));
	assert_int_equal(check(f, f->next), 0);
}

/*
 * A matching 2 1 1 does not excuse a 3 1 1 that matches nothing: a client
 * may use only the 3 1 1 records.
 */
static void
test_each_triple_needs_a_match(void **state)
{
	struct fixture	*f = *state;

	add(f, f->next, 3, 1, 1);
	add(f, f->cur, 2, 1, 1);
	assert_int_equal(check(f, f->cur), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, "parameters 3 1 1"));
	assert_null(strstr(f->why, "parameters 2 1 1"));
}

/* The reverse: 3 1 1 fine, but the 2 1 1 is for another CA. */
static void
test_wrong_issuer(void **state)
{
	struct fixture	*f = *state;

	add(f, f->cur, 3, 1, 1);
	add(f, f->next, 2, 1, 1);
	assert_int_equal(check(f, f->cur), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, "parameters 2 1 1"));
	/* Adding the right issuer's record repairs it. */
	add(f, f->cur, 2, 1, 1);
	assert_int_equal(check(f, f->cur), 0);
}

/* A server that sends no issuer can match no usage-2 record. */
static void
test_ta_without_issuer(void **state)
{
	struct fixture	*f = *state;

	add(f, f->cur, 3, 1, 1);
	add(f, f->cur, 2, 1, 1);
	assert_int_equal(check(f, f->cur), 0);
	assert_int_equal(check(f, f->bare), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, "2 1 1"));
}

static void
test_many_triples(void **state)
{
	struct fixture	*f = *state;
	uint8_t		 s, m;

	for (s = 0; s <= 1; s++) {
		for (m = 0; m <= 2; m++) {
			add(f, f->cur, 3, s, m);
			add(f, f->cur, 2, s, m);
			add(f, f->next, 3, s, m);
		}
	}
	assert_int_equal(f->set.n, 18);
	assert_int_equal(check(f, f->cur), 0);
	/* The next chain matches its 3 x x records but no 2 x x. */
	assert_int_equal(check(f, f->next), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, "parameters 2 "));
}

/* The offending triple is found wherever it sits in the RRset. */
static void
test_order_independent(void **state)
{
	struct fixture	*f = *state;

	add(f, f->cur, 3, 1, 1);
	add(f, f->cur, 3, 0, 1);
	add(f, f->next, 3, 1, 2);
	add(f, f->cur, 2, 0, 1);
	assert_int_equal(check(f, f->cur), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, "parameters 3 1 2"));
	tlsa_rrset_clear(&f->set);
	add(f, f->next, 3, 1, 2);
	add(f, f->cur, 3, 1, 1);
	assert_int_equal(check(f, f->cur), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, "parameters 3 1 2"));
}

/* The sentence lists the records of the triple, shortened. */
static void
test_why_names_records(void **state)
{
	struct fixture	*f = *state;
	struct tlsa_rr	 rr;
	char		 prefix[32], *text = NULL;

	memset(&rr, 0, sizeof(rr));
	add(f, f->next, 3, 1, 1);
	assert_int_equal(cert_tlsa_rr(f->next, (struct tlsa_param){ 3, 1, 1 },
	    &rr), 0);
	assert_int_equal(tlsa_rr_format(&rr, &text), 0);
	/* "3 1 1 " + the first 16 hex digits */
	snprintf(prefix, sizeof(prefix), "%.22s...", text);
	assert_int_equal(check(f, f->cur), TLSAD_EDNS_RFC7671);
	assert_non_null(strstr(f->why, prefix));
	free(text);
	tlsa_rr_clear(&rr);
}

static void
test_small_or_no_buffer(void **state)
{
	struct fixture	*f = *state;
	char		 small[12];

	add(f, f->next, 3, 1, 1);
	memset(small, 'x', sizeof(small));
	assert_int_equal(dane_check_rfc7671(&f->set, f->cur, small,
	    sizeof(small)), TLSAD_EDNS_RFC7671);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(dane_check_rfc7671(&f->set, f->cur, NULL, 0),
	    TLSAD_EDNS_RFC7671);
	assert_int_equal(dane_check_rfc7671(&f->set, f->next, NULL, 0), 0);
}

static void
test_bad_args(void **state)
{
	struct fixture	*f = *state;

	add(f, f->cur, 3, 1, 1);
	assert_int_equal(dane_check_rfc7671(NULL, f->cur, f->why,
	    sizeof(f->why)), TLSAD_EINVAL);
	assert_true(strlen(f->why) > 0);
	assert_int_equal(dane_check_rfc7671(&f->set, NULL, f->why,
	    sizeof(f->why)), TLSAD_EINVAL);
	/* A record broken behind the API's back is an error, not a pass. */
	f->set.rr[0].param.mtype = 7;
	assert_int_equal(check(f, f->cur), TLSAD_EINVAL);
	f->set.rr[0].param.mtype = 1;
	assert_int_equal(check(f, f->cur), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepublish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_other_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_triple_needs_a_match,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_issuer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ta_without_issuer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_triples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_independent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_why_names_records, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_small_or_no_buffer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
