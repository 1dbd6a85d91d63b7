/*
 * test_hold.c -- the data-derived hold and the poll schedule.
 * No sleeping: every time is a parameter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tlsad/error.h"
#include "tlsad/hold.h"

static const struct hold_params	def = { 2, 60 };

static void
test_old_rrset_ttl(void **state)
{
	struct hold_name	n = { "_25._tcp.mx.example.", 1, 300, 30 };
	struct hold_result	r;

	(void)state;
	assert_int_equal(hold_compute(&n, 1, 1000000, &def, &r), 0);
	/* 300 s x 2 + 60 s */
	assert_int_equal(r.until_ms, 1000000 + 660 * 1000);
	assert_int_equal(r.ttl, 300);
	assert_int_equal(r.negative, 0);
	assert_non_null(strstr(r.why, "_25._tcp.mx.example."));
	assert_non_null(strstr(r.why, "old TLSA RRset"));
	assert_non_null(strstr(r.why, "660 s"));
}

static void
test_negative_ttl(void **state)
{
	/* No RRset before: the SOA negative TTL governs, not the (absent) TTL. */
	struct hold_name	n = { "_25._tcp.new.example.", 0, 86400, 45 };
	struct hold_params	p = { 1, 1 };
	struct hold_result	r;

	(void)state;
	assert_int_equal(hold_compute(&n, 1, 0, &p, &r), 0);
	assert_int_equal(r.until_ms, 46 * 1000);
	assert_int_equal(r.ttl, 45);
	assert_int_equal(r.negative, 1);
	assert_non_null(strstr(r.why, "negative"));
}

static void
test_largest_name_governs(void **state)
{
	struct hold_name	n[3] = {
		{ "a.", 1, 60, 3600 },
		{ "b.", 0, 9999, 600 },	/* negative 600 s wins */
		{ "c.", 1, 300, 10 },
	};
	struct hold_result	r;

	(void)state;
	assert_int_equal(hold_compute(n, 3, 5000, &def, &r), 0);
	assert_int_equal(r.which, 1);
	assert_int_equal(r.ttl, 600);
	assert_int_equal(r.negative, 1);
	assert_int_equal(r.until_ms, 5000 + (600 * 2 + 60) * 1000);
}

static void
test_zero_ttl_and_margin(void **state)
{
	struct hold_name	n = { "x.", 1, 0, 0 };
	struct hold_params	p = { 1, 0 };
	struct hold_result	r;

	(void)state;
	assert_int_equal(hold_compute(&n, 1, 777, &p, &r), 0);
	assert_int_equal(r.until_ms, 777);
}

static void
test_ttl_capped(void **state)
{
	struct hold_name	n = { "x.", 1, 0xffffffffu, 0 };
	struct hold_params	p = { HOLD_MULTIPLIER_MAX, 0 };
	struct hold_result	r;

	(void)state;
	assert_int_equal(hold_compute(&n, 1, 0, &p, &r), 0);
	assert_int_equal(r.ttl, HOLD_TTL_MAX);
	assert_true(r.until_ms ==
	    (int64_t)HOLD_TTL_MAX * HOLD_MULTIPLIER_MAX * 1000);
}

static void
test_bad_input(void **state)
{
	struct hold_name	n = { "x.", 1, 10, 0 };
	struct hold_params	zero = { 0, 0 }, huge = { HOLD_MULTIPLIER_MAX + 1, 0 };
	struct hold_result	r;

	(void)state;
	assert_int_equal(hold_compute(&n, 0, 0, &def, &r), TLSAD_EINVAL);
	assert_int_equal(hold_compute(NULL, 1, 0, &def, &r), TLSAD_EINVAL);
	assert_int_equal(hold_compute(&n, 1, 0, &zero, &r), TLSAD_EINVAL);
	assert_int_equal(hold_compute(&n, 1, 0, &huge, &r), TLSAD_EINVAL);
}

static void
test_remaining(void **state)
{
	(void)state;
	assert_int_equal(hold_remaining_ms(1000, 400), 600);
	assert_int_equal(hold_remaining_ms(1000, 1000), 0);
	assert_int_equal(hold_remaining_ms(1000, 5000), 0);
}

static void
test_format_utc(void **state)
{
	char	buf[32];

	(void)state;
	assert_string_equal(hold_format_utc(0, buf, sizeof(buf)),
	    "1970-01-01T00:00:00Z");
	assert_string_equal(hold_format_utc(1795832385123LL, buf, sizeof(buf)),
	    "2026-11-28T02:19:45Z");
}

static void
test_poll_backoff(void **state)
{
	struct hold_poll	p;
	int64_t			next, now = 10000;
	int64_t			want[] = { 100, 200, 400, 800, 1000, 1000 };
	size_t			i;

	(void)state;
	hold_poll_init(&p, now, 100, 1000, 60);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(hold_poll_next(&p, now, &next), 0);
		assert_int_equal(next - now, want[i]);
		now = next;
	}
	assert_int_equal(p.checks, 6);
}

static void
test_poll_deadline(void **state)
{
	struct hold_poll	p;
	int64_t			next, now = 0;
	int			rc, n = 0;

	(void)state;
	/* 1 s deadline, 300 ms min: 300, 600 (capped to the deadline), then out. */
	hold_poll_init(&p, now, 300, 60000, 1);
	for (;;) {
		rc = hold_poll_next(&p, now, &next);
		if (rc != 0)
			break;
		assert_true(next > now);
		assert_true(next <= p.deadline_ms);
		now = next;
		n++;
		assert_true(n < 100);
	}
	assert_int_equal(rc, TLSAD_ETIMEOUT);
	assert_int_equal(now, 1000);		/* last check exactly at the deadline */
	assert_int_equal(n, 3);			/* 300, 900, 1000 */
}

static void
test_poll_degenerate(void **state)
{
	struct hold_poll	p;
	int64_t			next;

	(void)state;
	hold_poll_init(&p, 50, 0, 0, 0);
	assert_int_equal(p.min_ms, 1);
	assert_int_equal(p.max_ms, 1);
	assert_int_equal(hold_poll_next(&p, 50, &next), TLSAD_ETIMEOUT);
	assert_int_equal(next, 50);
	/* A large cap never overflows the doubling. */
	hold_poll_init(&p, 0, 3000000000u, 4000000000u, 10000000);
	assert_int_equal(hold_poll_next(&p, 0, &next), 0);
	assert_int_equal(hold_poll_next(&p, next, &next), 0);
	assert_int_equal(p.cur_ms, 4000000000u);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_old_rrset_ttl),
		cmocka_unit_test(test_negative_ttl),
		cmocka_unit_test(test_largest_name_governs),
		cmocka_unit_test(test_zero_ttl_and_margin),
		cmocka_unit_test(test_ttl_capped),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_remaining),
		cmocka_unit_test(test_format_utc),
		cmocka_unit_test(test_poll_backoff),
		cmocka_unit_test(test_poll_deadline),
		cmocka_unit_test(test_poll_degenerate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
