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

#include <strings.h>

#include <cmocka.h>

#include "tlsad/dnscheck.h"
#include "tlsad/dnsquery.h"
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

/* --- a fake DNS world for discovery and the wait step ----------------------- */

#define HEX_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Zone data per server address: [0] 192.0.2.1, [1] 192.0.2.2; the
 * resolver 192.0.2.53 answers from [0]. */
struct world {
	const char	*data[2][16];
	int		 down[2];		/* 1: that address times out */
	int		 refuse_all;
	unsigned	 queries;
	/* the validator's answer */
	int		 vrc;
	const char	*why_bogus;
	int		 vrecords;		/* 0: none, 1: A, 2: A and B */
	unsigned	 validations;
	int64_t		 wall;			/* the fake wall clock */
};

static struct world	W;

static int
host_index(const char *host)
{
	if (strcmp(host, "192.0.2.1") == 0 || strcmp(host, "192.0.2.53") == 0)
		return 0;
	if (strcmp(host, "192.0.2.2") == 0)
		return 1;
	return -1;
}

static int
name_ends(const char *name, const char *suffix)
{
	size_t	n = strlen(name), m = strlen(suffix);

	if (m > n || strcasecmp(name + n - m, suffix) != 0)
		return 0;
	return n == m || name[n - m - 1] == '.';
}

static int
fake_query(void *arg, const char *host, uint16_t port, const char *name,
    ldns_rr_type type, int rd, unsigned timeout_ms, ldns_pkt **out)
{
	const char	**data;
	ldns_pkt	*pkt;
	ldns_rr		*rr, *soa = NULL;
	char		*owner;
	size_t		 i, best = 0;
	int		 h, answered = 0, exists = 0, rcode;

	(void)arg; (void)port; (void)rd; (void)timeout_ms;
	W.queries++;
	*out = NULL;
	h = host_index(host);
	if (h < 0 || W.down[h])
		return TLSAD_EDNS_TIMEOUT;
	pkt = ldns_pkt_new();
	assert_non_null(pkt);
	ldns_pkt_set_qr(pkt, 1);
	ldns_pkt_set_aa(pkt, 1);
	data = W.data[h];
	for (i = 0; !W.refuse_all && i < 16 && data[i] != NULL; i++) {
		assert_int_equal(ldns_rr_new_frm_str(&rr, data[i], 0, NULL,
		    NULL), LDNS_STATUS_OK);
		owner = ldns_rdf2str(ldns_rr_owner(rr));
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    name_ends(name, owner) && strlen(owner) > best) {
			best = strlen(owner);
			ldns_rr_free(soa);
			soa = ldns_rr_clone(rr);
		}
		if (strcasecmp(owner, name) == 0) {
			exists = 1;
			if (ldns_rr_get_type(rr) == type ||
			    ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME) {
				ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
				rr = NULL;
				answered = 1;
			}
		} else if (name_ends(owner, name)) {
			exists = 1;	/* an empty non-terminal */
		}
		free(owner);
		ldns_rr_free(rr);
	}
	if (W.refuse_all || soa == NULL) {
		rcode = LDNS_RCODE_REFUSED;
		ldns_pkt_set_aa(pkt, 0);
	} else if (answered) {
		rcode = LDNS_RCODE_NOERROR;
	} else {
		rcode = exists ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN;
		ldns_pkt_push_rr(pkt, LDNS_SECTION_AUTHORITY, soa);
		soa = NULL;
	}
	ldns_rr_free(soa);
	ldns_pkt_set_rcode(pkt, (uint8_t)rcode);
	*out = pkt;
	return dns_rcode_error(rcode);
}

static int
fake_validate(void *arg, const struct dnscheck_plan *plan,
    struct dnscheck_validated *out, char *why, size_t whylen)
{
	struct tlsa_rr	a, b;
	size_t		i;

	(void)arg; (void)why; (void)whylen;
	W.validations++;
	a = mkrr(0xaa);
	b = mkrr(0xbb);
	for (i = 0; i < plan->nnames; i++) {
		out[i].rc = W.vrc;
		out[i].secure = W.vrc == 0;
		out[i].bogus = W.vrc == TLSAD_EDNSSEC_BOGUS;
		if (W.why_bogus != NULL)
			snprintf(out[i].why_bogus, sizeof(out[i].why_bogus),
			    "%s", W.why_bogus);
		if (W.vrecords >= 1)
			assert_int_equal(tlsa_rrset_add(&out[i].rrset, &a), 0);
		if (W.vrecords >= 2)
			assert_int_equal(tlsa_rrset_add(&out[i].rrset, &b), 0);
	}
	tlsa_rr_clear(&a);
	tlsa_rr_clear(&b);
	return 0;
}

#define SOA_FMT	"example. 300 IN SOA ns1.example. host.example. %d 2 1 600 60"
#define ZONE_COMMON \
	SOA_FMT, \
	"example. 300 IN NS ns1.example.", \
	"example. 300 IN NS ns2.example.", \
	"ns1.example. 300 IN A 192.0.2.1", \
	"ns2.example. 300 IN A 192.0.2.2", \
	"_25._tcp.mx.example. 300 IN CNAME _dane.example."

static char	soa5[128], soa6[128];

static void
world_init(void)
{
	static const char *const common[] = { ZONE_COMMON };
	size_t	i;

	memset(&W, 0, sizeof(W));
	snprintf(soa5, sizeof(soa5), SOA_FMT, 5);
	snprintf(soa6, sizeof(soa6), SOA_FMT, 6);
	for (i = 0; i < 6; i++) {
		W.data[0][i] = i == 0 ? soa5 : common[i];
		W.data[1][i] = i == 0 ? soa5 : common[i];
	}
	W.data[0][6] = "_dane.example. 120 IN TLSA 3 1 1 " HEX_A;
	W.data[1][6] = "_dane.example. 120 IN TLSA 3 1 1 " HEX_A;
}

static int64_t
fake_wall(void *arg)
{
	(void)arg;
	return W.wall;
}

static void
cfg_fake(struct dnscheck_cfg *cfg, struct conf_addr *resolver)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(resolver->host, sizeof(resolver->host), "%s", "192.0.2.53");
	resolver->port = 53;
	cfg->resolvers = resolver;
	cfg->nresolvers = 1;
	cfg->dns_port = 53;
	cfg->timeout_ms = 100;
	cfg->query = fake_query;
	cfg->validate = fake_validate;
	cfg->wall_ms = fake_wall;
}

static void
test_discover(void **state)
{
	struct dnscheck_cfg	 cfg;
	struct conf_addr	 res;
	struct dnscheck_plan	*plan = NULL;
	char			*names[2] = { "_25._tcp.mx.example.",
				    "_465._tcp.other.example." };
	char			 why[256];
	const struct dnscheck_zone *z;

	(void)state;
	world_init();
	cfg_fake(&cfg, &res);
	assert_int_equal(dnscheck_discover(&cfg, names, 2, &plan, why,
	    sizeof(why)), 0);
	assert_int_equal(plan->nnames, 2);
	assert_int_equal(plan->nzones, 1);
	z = &plan->zones[0];
	assert_string_equal(z->apex, "example.");
	assert_string_equal(z->mname, "ns1.example.");
	assert_int_equal(z->serial, 5);
	assert_int_equal(z->soa_ttl, 300);
	assert_int_equal(z->negttl, 60);
	assert_string_equal(z->primary.host, "192.0.2.1");
	assert_string_equal(z->primary.via, "ns1.example.");
	assert_int_equal(z->nauth, 2);
	assert_string_equal(z->auth[0].host, "192.0.2.1");
	assert_string_equal(z->auth[1].host, "192.0.2.2");
	assert_string_equal(z->auth[1].via, "ns2.example.");
	assert_int_equal(z->auth[1].port, 53);
	/* The CNAME owner: its records live at the target. */
	assert_int_equal(plan->names[0].is_cname, 1);
	assert_string_equal(plan->names[0].target, "_dane.example.");
	/* The name that does not exist yet: found by the negative answer. */
	assert_int_equal(plan->names[1].is_cname, 0);
	assert_string_equal(plan->names[1].target, "_465._tcp.other.example.");
	assert_int_equal(plan->names[1].zone, 0);
	dnscheck_plan_free(plan);
}

static void
test_discover_configured(void **state)
{
	struct dnscheck_cfg	 cfg;
	struct conf_addr	 res, auth[1], upd;
	struct dnscheck_plan	*plan = NULL;
	char			*names[1] = { "_25._tcp.mx.example." };
	char			 why[256];

	(void)state;
	world_init();
	cfg_fake(&cfg, &res);
	cfg.nresolvers = 0;
	snprintf(auth[0].host, sizeof(auth[0].host), "%s", "192.0.2.2");
	auth[0].port = 5353;
	snprintf(upd.host, sizeof(upd.host), "%s", "192.0.2.1");
	upd.port = 5300;
	cfg.auth = auth;
	cfg.nauth = 1;
	cfg.update_server = &upd;
	assert_int_equal(dnscheck_discover(&cfg, names, 1, &plan, why,
	    sizeof(why)), 0);
	assert_string_equal(plan->zones[0].primary.via, "update-server");
	assert_int_equal(plan->zones[0].primary.port, 5300);
	assert_int_equal(plan->zones[0].nauth, 1);
	assert_string_equal(plan->zones[0].auth[0].via, "auth-server");
	assert_int_equal(plan->zones[0].auth[0].port, 5353);
	dnscheck_plan_free(plan);
}

static void
test_discover_failures(void **state)
{
	struct dnscheck_cfg	 cfg;
	struct conf_addr	 res;
	struct dnscheck_plan	*plan = NULL;
	char			*loop[1] = { "_a.example." };
	char			*names[1] = { "_25._tcp.mx.example." };
	char			 why[256];

	(void)state;
	world_init();
	W.data[0][7] = "_a.example. 300 IN CNAME _b.example.";
	W.data[0][8] = "_b.example. 300 IN CNAME _a.example.";
	cfg_fake(&cfg, &res);
	assert_int_equal(dnscheck_discover(&cfg, loop, 1, &plan, why,
	    sizeof(why)), TLSAD_EDNS_CNAMELOOP);
	assert_null(plan);
	assert_non_null(strstr(why, "_a.example."));

	world_init();
	W.refuse_all = 1;
	assert_int_equal(dnscheck_discover(&cfg, names, 1, &plan, why,
	    sizeof(why)), TLSAD_EDNS_REFUSED);
	assert_non_null(strstr(why, "_25._tcp.mx.example."));

	world_init();
	W.down[0] = 1;
	assert_int_equal(dnscheck_discover(&cfg, names, 1, &plan, why,
	    sizeof(why)), TLSAD_EDNS_TIMEOUT);
	assert_non_null(strstr(why, "192.0.2.53@53"));
	assert_int_equal(W.queries, 2);		/* asked twice, then gave up */
}

static void
test_wait_step(void **state)
{
	struct dnscheck_cfg	 cfg;
	struct conf_addr	 res;
	struct dnscheck_plan	*plan = NULL;
	struct dnscheck_wait	 w;
	struct dnscheck_expect	 exp;
	struct tlsa_rrset	 add;
	struct tlsa_rr		 b;
	const struct tlsa_rrset	*addp[1];
	uint32_t		 min[1] = { 6 };
	char			*names[1] = { "_25._tcp.mx.example." };
	char			 why[256];
	int64_t			 now = 1000, next;

	(void)state;
	world_init();
	cfg_fake(&cfg, &res);
	assert_int_equal(dnscheck_discover(&cfg, names, 1, &plan, why,
	    sizeof(why)), 0);
	tlsa_rrset_init(&add);
	b = mkrr(0xbb);
	assert_int_equal(tlsa_rrset_add(&add, &b), 0);
	addp[0] = &add;
	memset(&exp, 0, sizeof(exp));
	exp.add = addp;
	exp.min_serial = min;

	/* The primary has the new record at serial 6; the secondary not yet. */
	W.data[0][0] = soa6;
	W.data[0][7] = "_dane.example. 120 IN TLSA 3 1 1 " HEX_B;
	dnscheck_wait_init(&w, plan, &cfg, &exp, now, 100, 400, 2);
	assert_int_equal(dnscheck_wait_step(&w, now, 77000, &next),
	    TLSAD_EDNS_LAGGING);
	assert_int_equal(next, now + 100);
	assert_int_equal(w.verdict.nlagging, 1);
	assert_non_null(strstr(w.status, "192.0.2.2@53 (ns2.example.): serial 5 < 6"));
	assert_non_null(strstr(w.status, "lacks 3 1 1 bbbbbbbbbbbbbbbb"));
	assert_int_equal(w.t0_wall_ms, 0);
	assert_int_equal(W.validations, 0);	/* no validation while lagging */
	now = next;
	assert_int_equal(dnscheck_wait_step(&w, now, 77100, &next),
	    TLSAD_EDNS_LAGGING);
	assert_int_equal(next, now + 200);

	/* The secondary catches up; the validator still has the old answer. */
	W.data[1][0] = soa6;
	W.data[1][7] = "_dane.example. 120 IN TLSA 3 1 1 " HEX_B;
	W.vrecords = 1;
	now = next;
	W.wall = 77350;		/* the observation ended 50 ms after the step began */
	assert_int_equal(dnscheck_wait_step(&w, now, 77300, &next),
	    TLSAD_EDNSSEC_MISSING);
	assert_int_equal(next, now + 400);
	assert_int_equal(w.t0_wall_ms, 77350);	/* the later of the two */
	assert_non_null(strstr(w.status, "validated answer lacks"));

	/* Validated: done; t0 stays at the first time all served it. */
	W.vrecords = 2;
	now = next;
	W.wall = 77710;
	assert_int_equal(dnscheck_wait_step(&w, now, 77700, &next), 0);
	assert_int_equal(w.t0_wall_ms, 77350);
	assert_int_equal(w.checks, 4);

	/* Bogus stops at once with the validator's reason. */
	W.vrc = TLSAD_EDNSSEC_BOGUS;
	W.why_bogus = "signature expired";
	dnscheck_wait_init(&w, plan, &cfg, &exp, now, 100, 400, 2);
	assert_int_equal(dnscheck_wait_step(&w, now, 80000, &next),
	    TLSAD_EDNSSEC_BOGUS);
	assert_non_null(strstr(w.status, "signature expired"));

	/* Insecure too. */
	W.vrc = TLSAD_EDNSSEC_INSECURE;
	W.why_bogus = NULL;
	dnscheck_wait_init(&w, plan, &cfg, &exp, now, 100, 400, 2);
	assert_int_equal(dnscheck_wait_step(&w, now, 80000, &next),
	    TLSAD_EDNSSEC_INSECURE);

	/* A secondary that never answers: lagging until the deadline. */
	W.vrc = 0;
	W.down[1] = 1;
	dnscheck_wait_init(&w, plan, &cfg, &exp, 0, 100, 400, 1);
	now = 0;
	for (;;) {
		int rc = dnscheck_wait_step(&w, now, 90000, &next);

		if (rc != TLSAD_EDNS_LAGGING) {
			assert_int_equal(rc, TLSAD_ETIMEOUT);
			break;
		}
		assert_true(next > now && next <= 1000);
		now = next;
	}
	assert_int_equal(now, 1000);
	assert_non_null(strstr(w.status, "192.0.2.2@53 (ns2.example.): no answer"));

	tlsa_rr_clear(&b);
	tlsa_rrset_clear(&add);
	dnscheck_plan_free(plan);
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
		cmocka_unit_test(test_discover),
		cmocka_unit_test(test_discover_configured),
		cmocka_unit_test(test_discover_failures),
		cmocka_unit_test(test_wait_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
