/*
 * test_dnscheck.c -- the pure parts of dnscheck: RFC 1982 serial order, the
 * propagation verdict (who lags and why), hold inputs from a snapshot, the
 * RRset union, shared CNAME targets, resolv.conf parsing and exit statuses.
 * No network: plans and snapshots are built by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlsad/dnscheck.h"
#include "tlsad/error.h"
#include "tlsad/tlsa.h"

static struct tlsa_rr
mkrr(uint8_t fill)
{
	struct tlsa_param	p = { 3, 1, 1 };
	struct tlsa_rr		rr;
	uint8_t			d[32];

	memset(&rr, 0, sizeof(rr));
	memset(d, fill, sizeof(d));
	assert_int_equal(tlsa_rr_set(&rr, p, d, sizeof(d)), 0);
	return rr;
}

/* One zone, two addresses, names[0] and names[1] in it. */
struct fixture {
	struct dnscheck_plan		plan;
	struct dnscheck_zone		zone;
	struct dnscheck_addr		auth[2];
	struct dnscheck_name		names[2];
	struct dnscheck_snapshot	snap;
	struct dnscheck_obs		obs[2];
	struct tlsa_rrset		rrsets[2][2];
	uint32_t			ttls[2][2];
	struct tlsa_rr			old, new;
};

static int
setup(void **state)
{
	struct fixture	*f;
	size_t		 i, j;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->auth[0].host, sizeof(f->auth[0].host), "%s", "192.0.2.1");
	f->auth[0].port = 53;
	snprintf(f->auth[0].via, sizeof(f->auth[0].via), "%s", "ns1.example.");
	snprintf(f->auth[1].host, sizeof(f->auth[1].host), "%s", "192.0.2.2");
	f->auth[1].port = 53;
	snprintf(f->auth[1].via, sizeof(f->auth[1].via), "%s", "ns2.example.");
	snprintf(f->zone.apex, sizeof(f->zone.apex), "%s", "example.");
	f->zone.negttl = 30;
	f->zone.auth = f->auth;
	f->zone.nauth = 2;
	snprintf(f->names[0].owner, sizeof(f->names[0].owner), "%s", "_25._tcp.mx.example.");
	snprintf(f->names[0].target, sizeof(f->names[0].target), "%s", "_25._tcp.mx.example.");
	snprintf(f->names[1].owner, sizeof(f->names[1].owner), "%s", "_465._tcp.mx.example.");
	snprintf(f->names[1].target, sizeof(f->names[1].target), "%s", "_465._tcp.mx.example.");
	f->plan.names = f->names;
	f->plan.nnames = 2;
	f->plan.zones = &f->zone;
	f->plan.nzones = 1;
	for (i = 0; i < 2; i++) {
		f->obs[i].zone = 0;
		f->obs[i].addr = i;
		f->obs[i].serial = 10;
		f->obs[i].rrset = f->rrsets[i];
		f->obs[i].ttl = f->ttls[i];
		for (j = 0; j < 2; j++)
			tlsa_rrset_init(&f->rrsets[i][j]);
	}
	f->snap.obs = f->obs;
	f->snap.nobs = 2;
	f->snap.nnames = 2;
	f->old = mkrr(0xaa);
	f->new = mkrr(0xbb);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	size_t		 i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			tlsa_rrset_clear(&f->rrsets[i][j]);
	tlsa_rr_clear(&f->old);
	tlsa_rr_clear(&f->new);
	free(f);
	return 0;
}

static void
test_serial_ge(void **state)
{
	(void)state;
	assert_true(dnscheck_serial_ge(5, 5));
	assert_true(dnscheck_serial_ge(6, 5));
	assert_false(dnscheck_serial_ge(4, 5));
	/* Wrap-around (RFC 1982): 1 comes after 0xffffffff. */
	assert_true(dnscheck_serial_ge(1, 0xffffffffu));
	assert_false(dnscheck_serial_ge(0xffffffffu, 1));
	assert_true(dnscheck_serial_ge(0x7fffffffu, 0));
	assert_false(dnscheck_serial_ge(0x80000000u, 0));
}

static void
test_evaluate_done(void **state)
{
	struct fixture			*f = *state;
	struct tlsa_rrset		 add;
	const struct tlsa_rrset		*addp[2];
	uint32_t			 min[1] = { 10 };
	struct dnscheck_expect		 exp = { addp, NULL, min };
	struct dnscheck_verdict		 v;
	size_t				 i, j;

	tlsa_rrset_init(&add);
	assert_int_equal(tlsa_rrset_add(&add, &f->new), 0);
	addp[0] = addp[1] = &add;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			assert_int_equal(tlsa_rrset_add(&f->rrsets[i][j], &f->new), 0);
	assert_int_equal(dnscheck_evaluate(&f->plan, &f->snap, &exp, &v), 0);
	assert_true(v.done);
	assert_int_equal(v.nlagging, 0);
	assert_string_equal(v.lagging, "");
	tlsa_rrset_clear(&add);
}

static void
test_evaluate_lagging(void **state)
{
	struct fixture			*f = *state;
	struct tlsa_rrset		 add, del;
	const struct tlsa_rrset		*addp[2], *delp[2];
	uint32_t			 min[1] = { 11 };
	struct dnscheck_expect		 exp = { addp, delp, min };
	struct dnscheck_verdict		 v;

	tlsa_rrset_init(&add);
	tlsa_rrset_init(&del);
	assert_int_equal(tlsa_rrset_add(&add, &f->new), 0);
	assert_int_equal(tlsa_rrset_add(&del, &f->old), 0);
	addp[0] = addp[1] = &add;
	delp[0] = delp[1] = &del;
	/* Address 0 is up to date; address 1 has the old serial and RRset. */
	f->obs[0].serial = 11;
	assert_int_equal(tlsa_rrset_add(&f->rrsets[0][0], &f->new), 0);
	assert_int_equal(tlsa_rrset_add(&f->rrsets[0][1], &f->new), 0);
	f->obs[1].serial = 10;
	assert_int_equal(tlsa_rrset_add(&f->rrsets[1][0], &f->old), 0);
	assert_int_equal(tlsa_rrset_add(&f->rrsets[1][1], &f->new), 0);
	assert_int_equal(dnscheck_evaluate(&f->plan, &f->snap, &exp, &v), 0);
	assert_false(v.done);
	assert_int_equal(v.nlagging, 1);
	assert_non_null(strstr(v.lagging, "192.0.2.2@53 (ns2.example.)"));
	assert_null(strstr(v.lagging, "192.0.2.1"));
	assert_non_null(strstr(v.lagging, "serial 10 < 11"));
	assert_non_null(strstr(v.lagging, "lacks 3 1 1 bbbbbbbbbbbbbbbb... at _25._tcp.mx.example."));
	assert_non_null(strstr(v.lagging, "still serves 3 1 1 aaaaaaaaaaaaaaaa... at _25._tcp.mx.example."));
	assert_null(strstr(v.lagging, "at _465._tcp"));
	tlsa_rrset_clear(&add);
	tlsa_rrset_clear(&del);
}

static void
test_evaluate_no_answer(void **state)
{
	struct fixture			*f = *state;
	struct dnscheck_expect		 exp = { NULL, NULL, NULL };
	struct dnscheck_verdict		 v;

	f->obs[0].rc = TLSAD_EDNS_TIMEOUT;
	snprintf(f->obs[0].err, sizeof(f->obs[0].err), "%s", "SOA example.: timeout");
	assert_int_equal(dnscheck_evaluate(&f->plan, &f->snap, &exp, &v), 0);
	assert_false(v.done);
	assert_int_equal(v.nlagging, 1);
	assert_non_null(strstr(v.lagging, "192.0.2.1@53 (ns1.example.): no answer (SOA example.: timeout)"));
	/* No address at all is never "done". */
	f->snap.nobs = 0;
	assert_int_equal(dnscheck_evaluate(&f->plan, &f->snap, &exp, &v), 0);
	assert_false(v.done);
	/* A snapshot that names an address the plan lacks is refused. */
	f->snap.nobs = 2;
	f->obs[1].addr = 7;
	assert_int_equal(dnscheck_evaluate(&f->plan, &f->snap, &exp, &v),
	    TLSAD_EINVAL);
}

static void
test_hold_names(void **state)
{
	struct fixture		*f = *state;
	struct hold_name	 hn[2];

	/* name 0: served with TTL 300 at one address, 600 at the other. */
	assert_int_equal(tlsa_rrset_add(&f->rrsets[0][0], &f->old), 0);
	assert_int_equal(tlsa_rrset_add(&f->rrsets[1][0], &f->old), 0);
	f->ttls[0][0] = 300;
	f->ttls[1][0] = 600;
	/* name 1: no RRset anywhere; address 1 did not answer (ignored). */
	f->obs[1].rc = TLSAD_EDNS_TIMEOUT;
	dnscheck_hold_names(&f->plan, &f->snap, hn);
	assert_int_equal(hn[0].had_rrset, 1);
	assert_int_equal(hn[0].rrset_ttl, 300);	/* address 1 did not answer */
	assert_string_equal(hn[0].name, "_25._tcp.mx.example.");
	assert_int_equal(hn[1].had_rrset, 0);
	assert_int_equal(hn[1].neg_ttl, 30);
	f->obs[1].rc = 0;
	dnscheck_hold_names(&f->plan, &f->snap, hn);
	assert_int_equal(hn[0].rrset_ttl, 600);	/* the largest served */
}

static void
test_rrset_union(void **state)
{
	struct fixture		*f = *state;
	struct tlsa_rrset	 u;
	int			 agree;

	tlsa_rrset_init(&u);
	assert_int_equal(tlsa_rrset_add(&f->rrsets[0][0], &f->old), 0);
	assert_int_equal(tlsa_rrset_add(&f->rrsets[1][0], &f->old), 0);
	assert_int_equal(dnscheck_rrset_union(&f->snap, 0, &u, &agree), 0);
	assert_int_equal(agree, 1);
	assert_int_equal(u.n, 1);
	tlsa_rrset_clear(&u);
	tlsa_rrset_init(&u);
	assert_int_equal(tlsa_rrset_add(&f->rrsets[1][0], &f->new), 0);
	assert_int_equal(dnscheck_rrset_union(&f->snap, 0, &u, &agree), 0);
	assert_int_equal(agree, 0);
	assert_int_equal(u.n, 2);
	tlsa_rrset_clear(&u);
}

static void
test_same_target(void **state)
{
	struct fixture	*f = *state;

	assert_false(dnscheck_same_target(&f->plan, 0));
	assert_false(dnscheck_same_target(&f->plan, 1));
	snprintf(f->names[0].target, sizeof(f->names[0].target), "%s", "_dane.example.");
	snprintf(f->names[1].target, sizeof(f->names[1].target), "%s", "_DANE.example.");
	f->names[0].is_cname = f->names[1].is_cname = 1;
	assert_false(dnscheck_same_target(&f->plan, 0));
	assert_true(dnscheck_same_target(&f->plan, 1));
}

static void
test_parse_resolv(void **state)
{
	const char		*text =
	    "# comment\n"
	    "search example.org\n"
	    "nameserver 192.0.2.53\n"
	    "nameserver\t2001:db8::53  \r\n"
	    "nameserver fe80::1%eth0\n"
	    "nameserverx 1.2.3.4\n"
	    "options trust-ad\n"
	    "nameserver 192.0.2.54\n"
	    "nameserver 192.0.2.55";
	struct conf_addr	a[3];

	(void)state;
	assert_int_equal(dnscheck_parse_resolv(text, a, 3), 3);
	assert_string_equal(a[0].host, "192.0.2.53");
	assert_int_equal(a[0].port, 53);
	assert_string_equal(a[1].host, "2001:db8::53");
	assert_string_equal(a[2].host, "192.0.2.54");
	assert_int_equal(dnscheck_parse_resolv("", a, 3), 0);
	assert_int_equal(dnscheck_parse_resolv("nameserver \n", a, 3), 0);
}

static void
test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(dnscheck_exit_status(0), 0);
	assert_int_equal(dnscheck_exit_status(TLSAD_EDNS_RFC7671), 2);
	assert_int_equal(dnscheck_exit_status(TLSAD_EDNS_EMPTYRRSET), 2);
	assert_int_equal(dnscheck_exit_status(TLSAD_EDNSSEC_BOGUS), 2);
	assert_int_equal(dnscheck_exit_status(TLSAD_EDNSSEC_INSECURE), 2);
	assert_int_equal(dnscheck_exit_status(TLSAD_ETIMEOUT), 3);
	assert_int_equal(dnscheck_exit_status(TLSAD_EUSAGE), 64);
	assert_int_equal(dnscheck_exit_status(TLSAD_EDNS_REFUSED), 1);
	assert_int_equal(dnscheck_exit_status(TLSAD_ETSIG_BADSIG), 1);
	assert_int_equal(dnscheck_exit_status(-2), 1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_serial_ge),
		cmocka_unit_test_setup_teardown(test_evaluate_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evaluate_lagging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evaluate_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rrset_union, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_target, setup, teardown),
		cmocka_unit_test(test_parse_resolv),
		cmocka_unit_test(test_exit_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
