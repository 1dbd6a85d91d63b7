/*
 * test_tlsa.c -- TLSA records and RRsets: parsing, formatting, set algebra.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tlsad/error.h"
#include "tlsad/tlsa.h"

static const char	hex32[] =
    "c06c95a44f761971958b7adf32054fe083bb8d2e41d78cbbe240ca1ed19aebe4";

static void
parse_ok(const char *s, struct tlsa_rr *rr)
{
	memset(rr, 0, sizeof(*rr));
	assert_int_equal(tlsa_rr_parse(s, rr), 0);
}

static void
test_parse_format_roundtrip(void **state)
{
	struct tlsa_rr	 rr;
	char		*s = NULL, in[128];

	(void)state;
	snprintf(in, sizeof(in), "3 1 1 %s", hex32);
	parse_ok(in, &rr);
	assert_int_equal(rr.param.usage, 3);
	assert_int_equal(rr.param.selector, 1);
	assert_int_equal(rr.param.mtype, 1);
	assert_int_equal(rr.len, 32);
	assert_int_equal(rr.data[0], 0xc0);
	assert_int_equal(rr.data[31], 0xe4);
	assert_int_equal(tlsa_rr_format(&rr, &s), 0);
	assert_string_equal(s, in);
	free(s);
	tlsa_rr_clear(&rr);
	assert_null(rr.data);
	assert_int_equal(rr.len, 0);
}

static void
test_parse_dig_style(void **state)
{
	struct tlsa_rr	 a, b;
	char		*s = NULL;

	(void)state;
	/* dig prints the data upper case, split in words, maybe with tabs. */
	parse_ok("  3 1 1 C06C95A44F761971958B7ADF32054FE083BB8D2E41D78CBBE240CA1E "
	    "\tD19AEBE4\n", &a);
	parse_ok("3 1 1 c06c95a44f761971958b7adf32054fe083bb8d2e41d78cbbe240ca1ed19aebe4", &b);
	assert_true(tlsa_rr_equal(&a, &b));
	assert_int_equal(tlsa_rr_format(&a, &s), 0);
	assert_string_equal(s + 6, hex32);
	free(s);
	tlsa_rr_clear(&a);
	tlsa_rr_clear(&b);
}

static void
test_parse_lengths(void **state)
{
	struct tlsa_rr	rr;
	char		buf[300];

	(void)state;
	/* SHA-256 must be 32 bytes, SHA-512 64, full data any length > 0. */
	memset(&rr, 0, sizeof(rr));
	assert_int_equal(tlsa_rr_parse("3 1 1 abcd", &rr), TLSAD_EINVAL);
	snprintf(buf, sizeof(buf), "3 1 2 %s", hex32);
	assert_int_equal(tlsa_rr_parse(buf, &rr), TLSAD_EINVAL);
	snprintf(buf, sizeof(buf), "3 1 2 %s%s", hex32, hex32);
	parse_ok(buf, &rr);
	assert_int_equal(rr.len, 64);
	tlsa_rr_clear(&rr);
	parse_ok("3 1 0 30", &rr);
	assert_int_equal(rr.len, 1);
	tlsa_rr_clear(&rr);
	assert_int_equal(tlsa_rr_parse("3 1 0", &rr), TLSAD_EINVAL);
	assert_int_equal(tlsa_rr_parse("3 1 0 ", &rr), TLSAD_EINVAL);
	/* 33 bytes for SHA-256 */
	snprintf(buf, sizeof(buf), "3 1 1 %s00", hex32);
	assert_int_equal(tlsa_rr_parse(buf, &rr), TLSAD_EINVAL);
	assert_null(rr.data);
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "3", "3 1", "3 1 1", "4 1 1 00", "3 2 1 00", "3 1 3 00",
		"3 1 0 0", "3 1 0 0g", "3 1 0 zz", "-3 1 0 00", "3x 1 0 00",
		"3 1 0 0x00", "1000 1 0 00", "3 1 1 c06c95a44f761971958b7adf32054fe083bb8d2e41d78cbbe240ca1ed19aebe",
		"3 1 1 c06c95a44f761971958b7adf32054fe083bb8d2e41d78cbbe240ca1ed19aebe4 ; comment",
	};
	struct tlsa_rr	rr;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&rr, 0, sizeof(rr));
		assert_int_equal(tlsa_rr_parse(bad[i], &rr), TLSAD_EINVAL);
		assert_null(rr.data);
	}
	assert_int_equal(tlsa_rr_parse(NULL, &rr), TLSAD_EINVAL);
}

static void
test_parse_oversize(void **state)
{
	struct tlsa_rr	 rr;
	char		*s;
	size_t		 n = 6 + 2 * (TLSA_DATA_MAX + 1) + 1;

	(void)state;
	s = malloc(n);
	assert_non_null(s);
	memcpy(s, "3 0 0 ", 6);
	memset(s + 6, 'a', 2 * TLSA_DATA_MAX);
	s[6 + 2 * TLSA_DATA_MAX] = '\0';
	memset(&rr, 0, sizeof(rr));
	assert_int_equal(tlsa_rr_parse(s, &rr), 0);	/* exactly the cap */
	assert_int_equal(rr.len, TLSA_DATA_MAX);
	tlsa_rr_clear(&rr);
	memset(s + 6, 'b', 2 * (TLSA_DATA_MAX + 1));
	s[n - 1] = '\0';
	assert_int_equal(tlsa_rr_parse(s, &rr), TLSAD_EINVAL);
	free(s);
}

static void
test_param(void **state)
{
	struct tlsa_param	p, q = { 2, 0, 2 };

	(void)state;
	assert_int_equal(tlsa_param_parse("3 1 1", &p), 0);
	assert_int_equal(p.usage, 3);
	assert_int_equal(p.selector, 1);
	assert_int_equal(p.mtype, 1);
	assert_int_equal(tlsa_param_parse(" 2\t0 2 ", &p), 0);
	assert_true(tlsa_param_equal(p, q));
	q.mtype = 1;
	assert_false(tlsa_param_equal(p, q));
	assert_int_equal(tlsa_param_parse("3 1", &p), TLSAD_EINVAL);
	assert_int_equal(tlsa_param_parse("3 1 1 1", &p), TLSAD_EINVAL);
	assert_int_equal(tlsa_param_parse("3 1 3", &p), TLSAD_EINVAL);
	assert_int_equal(tlsa_param_parse("4 1 1", &p), TLSAD_EINVAL);
	assert_int_equal(tlsa_param_parse("3 2 1", &p), TLSAD_EINVAL);
	assert_int_equal(tlsa_param_parse("311", &p), TLSAD_EINVAL);
}

static void
test_set_and_copy(void **state)
{
	struct tlsa_param	p = { 3, 1, 1 }, bad = { 3, 1, 7 };
	struct tlsa_rr		a, b;
	uint8_t			d[32];

	(void)state;
	memset(d, 0x5a, sizeof(d));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(tlsa_rr_set(&a, p, d, 31), TLSAD_EINVAL);
	assert_int_equal(tlsa_rr_set(&a, bad, d, 32), TLSAD_EINVAL);
	assert_int_equal(tlsa_rr_set(&a, p, NULL, 32), TLSAD_EINVAL);
	assert_int_equal(tlsa_rr_set(&a, p, d, 32), 0);
	d[0] = 0;	/* the record holds a copy */
	assert_int_equal(a.data[0], 0x5a);
	assert_int_equal(tlsa_rr_copy(&b, &a), 0);
	assert_true(tlsa_rr_equal(&a, &b));
	assert_ptr_not_equal(a.data, b.data);
	b.data[31] ^= 1;
	assert_false(tlsa_rr_equal(&a, &b));
	b.data[31] ^= 1;
	b.param.usage = 2;
	assert_false(tlsa_rr_equal(&a, &b));
	assert_false(tlsa_rr_equal(&a, NULL));
	tlsa_rr_clear(&a);
	tlsa_rr_clear(&b);
	tlsa_rr_clear(NULL);
}

static void
make_rr(struct tlsa_rr *rr, uint8_t usage, uint8_t fill)
{
	struct tlsa_param	p = { usage, 1, 1 };
	uint8_t			d[32];

	memset(d, fill, sizeof(d));
	memset(rr, 0, sizeof(*rr));
	assert_int_equal(tlsa_rr_set(rr, p, d, sizeof(d)), 0);
}

static void
test_rrset(void **state)
{
	struct tlsa_rrset	s, t;
	struct tlsa_rr		r1, r2, r3;

	(void)state;
	make_rr(&r1, 3, 1);
	make_rr(&r2, 3, 2);
	make_rr(&r3, 2, 1);
	tlsa_rrset_init(&s);
	tlsa_rrset_init(&t);
	assert_int_equal(s.n, 0);
	assert_true(tlsa_rrset_equal(&s, &t));
	assert_int_equal(tlsa_rrset_add(&s, &r1), 0);
	assert_int_equal(tlsa_rrset_add(&s, &r1), 0);	/* duplicate: no-op */
	assert_int_equal(s.n, 1);
	assert_int_equal(tlsa_rrset_add(&s, &r2), 0);
	assert_int_equal(tlsa_rrset_add(&s, &r3), 0);
	assert_int_equal(s.n, 3);
	assert_true(tlsa_rrset_contains(&s, &r2));
	assert_false(tlsa_rrset_contains(&t, &r2));
	/* Order does not matter for equality. */
	assert_int_equal(tlsa_rrset_add(&t, &r3), 0);
	assert_int_equal(tlsa_rrset_add(&t, &r2), 0);
	assert_false(tlsa_rrset_equal(&s, &t));
	assert_int_equal(tlsa_rrset_add(&t, &r1), 0);
	assert_true(tlsa_rrset_equal(&s, &t));
	/* Remove the middle one; removing an absent record is fine. */
	assert_int_equal(tlsa_rrset_remove(&s, &r2), 0);
	assert_int_equal(s.n, 2);
	assert_false(tlsa_rrset_contains(&s, &r2));
	assert_true(tlsa_rrset_contains(&s, &r1));
	assert_true(tlsa_rrset_contains(&s, &r3));
	assert_int_equal(tlsa_rrset_remove(&s, &r2), 0);
	assert_int_equal(s.n, 2);
	assert_false(tlsa_rrset_equal(&s, &t));
	/* Copy replaces dst. */
	assert_int_equal(tlsa_rrset_copy(&t, &s), 0);
	assert_int_equal(t.n, 2);
	assert_true(tlsa_rrset_equal(&s, &t));
	assert_ptr_not_equal(t.rr[0].data, s.rr[0].data);
	tlsa_rrset_clear(&s);
	assert_int_equal(s.n, 0);
	assert_null(s.rr);
	assert_int_equal(t.n, 2);
	tlsa_rrset_clear(&t);
	tlsa_rr_clear(&r1);
	tlsa_rr_clear(&r2);
	tlsa_rr_clear(&r3);
}

static void
test_rrset_grow_and_cap(void **state)
{
	struct tlsa_rrset	s;
	struct tlsa_rr		rr;
	unsigned		i;
	int			rc = 0;

	(void)state;
	tlsa_rrset_init(&s);
	for (i = 0; i < 1000 && rc == 0; i++) {
		make_rr(&rr, 3, 0);
		rr.data[0] = (uint8_t)i;
		rr.data[1] = (uint8_t)(i >> 8);
		rc = tlsa_rrset_add(&s, &rr);
		tlsa_rr_clear(&rr);
	}
	/* The cap holds: growth stops with TLSAD_ETOOBIG, set intact. */
	assert_int_equal(rc, TLSAD_ETOOBIG);
	assert_true(s.n >= 16);
	assert_int_equal(s.n, i - 1);
	make_rr(&rr, 3, 0);
	assert_true(tlsa_rrset_contains(&s, &rr));	/* i == 0 */
	tlsa_rr_clear(&rr);
	tlsa_rrset_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_roundtrip),
		cmocka_unit_test(test_parse_dig_style),
		cmocka_unit_test(test_parse_lengths),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_oversize),
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_set_and_copy),
		cmocka_unit_test(test_rrset),
		cmocka_unit_test(test_rrset_grow_and_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
