/*
 * dnscheck.c -- find where a lineage's TLSA records live, observe every
 * authoritative address, validate with a fresh libunbound context, and
 * decide whether a change has propagated.
 *
 * Invariant: "propagated" is never said on partial evidence.  An address
 * that does not answer lags; a validated answer that is not secure (bogus
 * or insecure) stops the wait: DANE without DNSSEC is no DANE.
 * I/O functions log at debug level only; callers log failures once.
 * The judgement functions (serial arithmetic, evaluate, hold inputs,
 * resolv.conf parsing) are pure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <unbound.h>

#include "tlsad/dnscheck.h"
#include "tlsad/dnsquery.h"
#include "tlsad/dnsupdate.h"
#include "tlsad/error.h"
#include "tlsad/lineage.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

#define RESOLV_MAX	3
#define WALK_MAX	64	/* SOA queries per name, at most */

/* A server asked during discovery. */
struct qsrv {
	char		host[64];
	uint16_t	port;
	int		rd;
};

struct qsrvs {
	struct qsrv	s[RESOLV_MAX + CONF_MAX_LIST + 1];
	size_t		n;
};

/* --- small pure helpers ------------------------------------------------ */

static void
copystr(char *dst, size_t size, const char *src)
{
	size_t	len;

	if (size == 0)
		return;
	len = strlen(src);
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Append to a NUL-terminated buffer, truncating silently. */
static void
appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
appendf(char *buf, size_t size, const char *fmt, ...)
{
	va_list	ap;
	size_t	len;

	len = strlen(buf);
	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static int
name_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* 1 when sub is parent or below it (absolute names, final dot). */
static int
name_under(const char *sub, const char *parent)
{
	size_t	ls = strlen(sub), lp = strlen(parent);

	if (strcmp(parent, ".") == 0)
		return 1;
	if (ls < lp)
		return 0;
	if (strcasecmp(sub + ls - lp, parent) != 0)
		return 0;
	return ls == lp || sub[ls - lp - 1] == '.';
}

/* The parent of an absolute name; "." for a top-level name and for ".". */
static void
name_parent(const char *name, char *out, size_t size)
{
	const char	*p;

	for (p = name; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '.')
			break;
	}
	if (*p == '\0' || p[1] == '\0')
		copystr(out, size, ".");
	else
		copystr(out, size, p + 1);
}

int
dnscheck_serial_ge(uint32_t a, uint32_t b)
{
	/* RFC 1982: a >= b when a == b or (a - b) mod 2^32 < 2^31. */
	return a == b || (uint32_t)(a - b) < 0x80000000u;
}

static void
rr_short(const struct tlsa_rr *rr, char *buf, size_t size)
{
	char	hex[17];
	size_t	n = rr->len < 8 ? rr->len : 8;

	util_hex(rr->data, n, hex);
	snprintf(buf, size, "%u %u %u %s%s", rr->param.usage,
	    rr->param.selector, rr->param.mtype, hex, rr->len > 8 ? "..." : "");
}

size_t
dnscheck_parse_resolv(const char *text, struct conf_addr *out, size_t max)
{
	const char	*p = text, *eol, *a;
	size_t		 n = 0, len;

	while (p != NULL && *p != '\0' && n < max) {
		eol = strchr(p, '\n');
		len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (len > 11 && strncmp(p, "nameserver", 10) == 0 &&
		    (p[10] == ' ' || p[10] == '\t')) {
			a = p + 10;
			while (a < p + len && (*a == ' ' || *a == '\t'))
				a++;
			len -= (size_t)(a - p);
			while (len > 0 && (a[len - 1] == ' ' ||
			    a[len - 1] == '\t' || a[len - 1] == '\r'))
				len--;
			if (len > 0 && len < sizeof(out[n].host)) {
				memcpy(out[n].host, a, len);
				out[n].host[len] = '\0';
				/* A scoped v6 address (fe80::1%eth0) is not for us. */
				if (strchr(out[n].host, '%') == NULL) {
					out[n].port = 53;
					n++;
				}
			}
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return n;
}

/* --- configuration ------------------------------------------------------ */

void
dnscheck_cfg_init(struct dnscheck_cfg *cfg, const struct conf *conf,
    const struct conf_lineage *lin)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->resolvers = conf->resolvers;
	cfg->nresolvers = conf->nresolvers;
	cfg->dns_port = conf->dns_port != 0 ? conf->dns_port : 53;
	cfg->timeout_ms = conf->dns_timeout_ms != 0 ? conf->dns_timeout_ms :
	    DNS_TIMEOUT_DEFAULT_MS;
	cfg->trust_anchor_file = conf->trust_anchor_file;
	if (lin != NULL) {
		cfg->auth = lin->auth_servers;
		cfg->nauth = lin->nauth_servers;
		if (lin->has_update_server)
			cfg->update_server = &lin->update_server;
	}
}

/* The servers discovery asks, in order. */
static void
discovery_servers(const struct dnscheck_cfg *cfg, struct qsrvs *qs)
{
	struct conf_addr	 rc[RESOLV_MAX];
	char			*text = NULL;
	size_t			 len, i, n;

	qs->n = 0;
	for (i = 0; i < cfg->nresolvers && qs->n < CONF_MAX_LIST; i++) {
		copystr(qs->s[qs->n].host, sizeof(qs->s[0].host),
		    cfg->resolvers[i].host);
		qs->s[qs->n].port = cfg->resolvers[i].port;
		qs->s[qs->n++].rd = 1;
	}
	/* The configured servers too: a resolver may time out on a lagging server. */
	for (i = 0; i < cfg->nauth && qs->n < CONF_MAX_LIST; i++) {
		copystr(qs->s[qs->n].host, sizeof(qs->s[0].host),
		    cfg->auth[i].host);
		qs->s[qs->n].port = cfg->auth[i].port;
		qs->s[qs->n++].rd = 0;
	}
	if (cfg->update_server != NULL) {
		copystr(qs->s[qs->n].host, sizeof(qs->s[0].host),
		    cfg->update_server->host);
		qs->s[qs->n].port = cfg->update_server->port;
		qs->s[qs->n++].rd = 0;
	}
	if (qs->n > 0)
		return;
	if (util_read_file(cfg->resolv_conf != NULL ? cfg->resolv_conf :
	    "/etc/resolv.conf", 65536, &text, &len) != 0)
		return;
	n = dnscheck_parse_resolv(text, rc, RESOLV_MAX);
	for (i = 0; i < n; i++) {
		copystr(qs->s[qs->n].host, sizeof(qs->s[0].host), rc[i].host);
		qs->s[qs->n].port = rc[i].port;
		qs->s[qs->n++].rd = 1;
	}
	free(text);
}

/* --- queries -------------------------------------------------------------- */

static int
ask(const struct dnscheck_cfg *cfg, const char *host, uint16_t port,
    const char *name, ldns_rr_type type, int rd, ldns_pkt **out)
{
	if (cfg->nqueries != NULL)
		(*cfg->nqueries)++;
	if (cfg->query != NULL)
		return cfg->query(cfg->seam_arg, host, port, name, type, rd,
		    cfg->timeout_ms, out);
	return dns_query(host, port, name, type, rd, cfg->timeout_ms, out);
}

/*
 * Ask the discovery servers in turn until one gives a reply that is not
 * SERVFAIL/REFUSED.  *out is set when some reply was parsed (the last one).
 */
static int
ask_any(const struct dnscheck_cfg *cfg, const struct qsrvs *qs,
    const char *name, ldns_rr_type type, ldns_pkt **out, char *why,
    size_t whylen)
{
	ldns_pkt	*pkt = NULL;
	size_t		 i;
	int		 rc = TLSAD_EDNS_NOSERVERS;

	*out = NULL;
	if (qs->n == 0) {
		snprintf(why, whylen, "no server to ask about %s: set "
		    "resolver, auth-server or update-server", name);
		return rc;
	}
	/*
	 * Two rounds: a resolver that timed out on one authoritative server
	 * (stopped, lagging) has marked it slow and asks another next time.
	 */
	for (i = 0; i < 2 * qs->n; i++) {
		ldns_pkt_free(pkt);
		pkt = NULL;
		rc = ask(cfg, qs->s[i % qs->n].host, qs->s[i % qs->n].port,
		    name, type, qs->s[i % qs->n].rd, &pkt);
		if (pkt != NULL && rc != TLSAD_EDNS_SERVFAIL &&
		    rc != TLSAD_EDNS_REFUSED)
			break;
		snprintf(why, whylen, "%s@%u about %s: %s",
		    qs->s[i % qs->n].host, qs->s[i % qs->n].port, name,
		    tlsad_strerror(rc));
		log_debug("%s", why);
	}
	*out = pkt;
	return rc;
}

/* The CNAME target of name in pkt's answer, or "" when there is none. */
static void
find_cname(const ldns_pkt *pkt, const char *name, char *out, size_t size)
{
	ldns_rr_list	*ans = ldns_pkt_answer(pkt);
	ldns_rr		*rr;
	char		*s;
	size_t		 i;

	out[0] = '\0';
	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME)
			continue;
		s = ldns_rdf2str(ldns_rr_owner(rr));
		if (s != NULL && name_eq(s, name) && ldns_rr_rd_count(rr) > 0) {
			free(s);
			s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			if (s != NULL)
				copystr(out, size, s);
			free(s);
			return;
		}
		free(s);
	}
}

/* Addresses (A then AAAA) of name, appended to z->auth up to the cap. */
static int
add_addrs(const struct dnscheck_cfg *cfg, const struct qsrvs *qs,
    const char *name, struct dnscheck_addr *list, size_t *n, size_t max,
    char *why, size_t whylen)
{
	static const ldns_rr_type	 types[2] = { LDNS_RR_TYPE_A,
					    LDNS_RR_TYPE_AAAA };
	ldns_pkt			*pkt = NULL;
	ldns_rr_list			*ans;
	ldns_rr				*rr;
	char				*s;
	size_t				 t, i, j, found = 0;
	int				 rc, dup;

	for (t = 0; t < 2; t++) {
		ldns_pkt_free(pkt);
		pkt = NULL;
		rc = ask_any(cfg, qs, name, types[t], &pkt, why, whylen);
		if (pkt == NULL)
			continue;
		ans = ldns_pkt_answer(pkt);
		for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
			rr = ldns_rr_list_rr(ans, i);
			if (ldns_rr_get_type(rr) != types[t] ||
			    ldns_rr_rd_count(rr) < 1)
				continue;
			s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			if (s == NULL)
				continue;
			for (dup = 0, j = 0; j < *n; j++)
				if (strcmp(list[j].host, s) == 0 &&
				    list[j].port == cfg->dns_port)
					dup = 1;
			if (!dup && *n < max) {
				copystr(list[*n].host, sizeof(list[0].host), s);
				list[*n].port = cfg->dns_port;
				copystr(list[*n].via, sizeof(list[0].via), name);
				(*n)++;
			}
			found++;
			free(s);
		}
	}
	(void)rc;
	ldns_pkt_free(pkt);
	if (found == 0) {
		snprintf(why, whylen, "no A or AAAA address found for %s", name);
		return TLSAD_EDNS_NOSERVERS;
	}
	return 0;
}

/* --- discovery -------------------------------------------------------------- */

static int
zone_index(struct dnscheck_plan *plan, const char *apex)
{
	size_t	i;

	for (i = 0; i < plan->nzones; i++)
		if (name_eq(plan->zones[i].apex, apex))
			return (int)i;
	return -1;
}

/* Add zone apex with its SOA (from an answer-section SOA). */
static int
zone_add(const struct dnscheck_cfg *cfg, const struct qsrvs *qs,
    struct dnscheck_plan *plan, const struct dns_soa *soa, size_t *idx,
    char *why, size_t whylen)
{
	struct dnscheck_zone	*zones, *z;
	struct dnscheck_addr	 prim[DNSCHECK_ADDR_MAX];
	ldns_pkt		*pkt = NULL;
	ldns_rr_list		*ans;
	ldns_rr			*rr;
	char			*s;
	size_t			 i, nprim = 0, nns = 0;
	int			 rc;

	zones = reallocarray(plan->zones, plan->nzones + 1, sizeof(*zones));
	if (zones == NULL)
		return TLSAD_ENOMEM;
	plan->zones = zones;
	z = &zones[plan->nzones];
	memset(z, 0, sizeof(*z));
	plan->nzones++;
	*idx = plan->nzones - 1;
	copystr(z->apex, sizeof(z->apex), soa->owner);
	copystr(z->mname, sizeof(z->mname), soa->mname);
	z->serial = soa->serial;
	z->soa_ttl = soa->ttl;
	z->negttl = soa->ttl < soa->minimum ? soa->ttl : soa->minimum;
	z->auth = calloc(DNSCHECK_ADDR_MAX, sizeof(*z->auth));
	if (z->auth == NULL)
		return TLSAD_ENOMEM;

	/* The update server. */
	if (cfg->update_server != NULL) {
		copystr(z->primary.host, sizeof(z->primary.host),
		    cfg->update_server->host);
		z->primary.port = cfg->update_server->port;
		copystr(z->primary.via, sizeof(z->primary.via), "update-server");
	} else {
		rc = add_addrs(cfg, qs, z->mname, prim, &nprim,
		    DNSCHECK_ADDR_MAX, why, whylen);
		if (rc != 0) {
			snprintf(why, whylen, "zone %s: the SOA MNAME %s has "
			    "no address: set update-server", z->apex, z->mname);
			return rc;
		}
		z->primary = prim[0];
	}

	/* The authoritative addresses. */
	if (cfg->nauth > 0) {
		for (i = 0; i < cfg->nauth && i < DNSCHECK_ADDR_MAX; i++) {
			copystr(z->auth[i].host, sizeof(z->auth[i].host),
			    cfg->auth[i].host);
			z->auth[i].port = cfg->auth[i].port;
			copystr(z->auth[i].via, sizeof(z->auth[i].via),
			    "auth-server");
		}
		z->nauth = i;
		return 0;
	}
	rc = ask_any(cfg, qs, z->apex, LDNS_RR_TYPE_NS, &pkt, why, whylen);
	if (pkt == NULL || rc != 0) {
		snprintf(why, whylen, "zone %s: NS query failed: %s", z->apex,
		    tlsad_strerror(rc));
		ldns_pkt_free(pkt);
		return rc != 0 ? rc : TLSAD_EDNS_NOSERVERS;
	}
	ans = ldns_pkt_answer(pkt);
	for (i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
		rr = ldns_rr_list_rr(ans, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS ||
		    ldns_rr_rd_count(rr) < 1)
			continue;
		s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		if (s == NULL)
			continue;
		nns++;
		rc = add_addrs(cfg, qs, s, z->auth, &z->nauth,
		    DNSCHECK_ADDR_MAX, why, whylen);
		if (rc != 0)
			log_debug("zone %s: %s", z->apex, why);
		free(s);
	}
	ldns_pkt_free(pkt);
	if (z->nauth == 0) {
		snprintf(why, whylen, "zone %s: no address for any of its %zu "
		    "NS names: set auth-server", z->apex, nns);
		return TLSAD_EDNS_NOSERVERS;
	}
	why[0] = '\0';
	return 0;
}

/*
 * A resolver hands out the SOA with its cached, decremented TTL: take the
 * TTLs the hold depends on from an authoritative address (the update server
 * first).  Failure here is not fatal: the observation will name the address.
 */
static void
zone_refresh_soa(const struct dnscheck_cfg *cfg, struct dnscheck_zone *z)
{
	const struct dnscheck_addr	*a;
	struct dns_soa			 soa;
	ldns_pkt			*pkt = NULL;
	size_t				 i;
	int				 rc;

	for (i = 0; i <= z->nauth; i++) {
		a = i == 0 ? &z->primary : &z->auth[i - 1];
		rc = ask(cfg, a->host, a->port, z->apex, LDNS_RR_TYPE_SOA, 0,
		    &pkt);
		if (rc == 0 && dns_pkt_soa(pkt, &soa) == 0 && soa.in_answer &&
		    ldns_pkt_aa(pkt)) {
			z->serial = soa.serial;
			z->soa_ttl = soa.ttl;
			z->negttl = soa.ttl < soa.minimum ? soa.ttl :
			    soa.minimum;
			ldns_pkt_free(pkt);
			return;
		}
		ldns_pkt_free(pkt);
		pkt = NULL;
	}
}

/* Follow CNAMEs from name->owner and find the target's zone. */
static int
find_zone(const struct dnscheck_cfg *cfg, const struct qsrvs *qs,
    struct dnscheck_plan *plan, struct dnscheck_name *dn, char *why,
    size_t whylen)
{
	struct dns_soa	 soa;
	ldns_pkt	*pkt = NULL;
	char		 cand[DNSCHECK_NAME_MAX], cname[DNSCHECK_NAME_MAX];
	size_t		 step, idx;
	int		 hops = 0, rc, zi;

	copystr(dn->target, sizeof(dn->target), dn->owner);
	copystr(cand, sizeof(cand), dn->owner);
	for (step = 0; step < WALK_MAX; step++) {
		ldns_pkt_free(pkt);
		pkt = NULL;
		rc = ask_any(cfg, qs, cand, LDNS_RR_TYPE_SOA, &pkt, why, whylen);
		if (pkt == NULL)
			goto out;
		if (name_eq(cand, dn->target)) {
			find_cname(pkt, cand, cname, sizeof(cname));
			if (cname[0] != '\0') {
				if (++hops > DNSCHECK_CNAME_MAX ||
				    name_eq(cname, dn->owner)) {
					snprintf(why, whylen, "%s: CNAME chain "
					    "longer than %d or looping",
					    dn->owner, DNSCHECK_CNAME_MAX);
					rc = TLSAD_EDNS_CNAMELOOP;
					goto out;
				}
				dn->is_cname = 1;
				copystr(dn->target, sizeof(dn->target), cname);
				copystr(cand, sizeof(cand), cname);
				continue;
			}
		}
		if (rc != 0 && rc != TLSAD_EDNS_NXDOMAIN) {
			snprintf(why, whylen, "SOA query for %s: %s", cand,
			    tlsad_strerror(rc));
			goto out;
		}
		if (dns_pkt_soa(pkt, &soa) == 0) {
			if (soa.in_answer && name_eq(soa.owner, cand)) {
				zi = zone_index(plan, cand);
				if (zi >= 0) {
					dn->zone = (size_t)zi;
					rc = 0;
					goto out;
				}
				rc = zone_add(cfg, qs, plan, &soa, &idx, why,
				    whylen);
				dn->zone = idx;
				if (rc == 0 && qs->n > 0 && qs->s[0].rd)
					zone_refresh_soa(cfg, &plan->zones[idx]);
				goto out;
			}
			if (!soa.in_answer && name_under(cand, soa.owner) &&
			    !name_eq(cand, soa.owner)) {
				/* A negative answer names the zone. */
				zi = zone_index(plan, soa.owner);
				if (zi >= 0) {
					dn->zone = (size_t)zi;
					rc = 0;
					goto out;
				}
				copystr(cand, sizeof(cand), soa.owner);
				continue;
			}
		}
		if (strcmp(cand, ".") == 0)
			break;
		name_parent(cand, cname, sizeof(cname));
		copystr(cand, sizeof(cand), cname);
	}
	snprintf(why, whylen, "no zone found above %s (is the server "
	    "authoritative for it?)", dn->target);
	rc = TLSAD_EDNS_NOZONE;
out:
	ldns_pkt_free(pkt);
	return rc;
}

int
dnscheck_discover(const struct dnscheck_cfg *cfg, char *const *names,
    size_t nnames, struct dnscheck_plan **out, char *why, size_t whylen)
{
	struct dnscheck_plan	*plan = NULL;
	struct qsrvs		*qs = NULL;
	size_t			 i;
	int			 rc = TLSAD_ENOMEM;

	*out = NULL;
	why[0] = '\0';
	if (nnames == 0) {
		snprintf(why, whylen, "the lineage has no tlsa-name");
		rc = TLSAD_EINVAL;
		goto out;
	}
	qs = calloc(1, sizeof(*qs));
	plan = calloc(1, sizeof(*plan));
	if (qs == NULL || plan == NULL)
		goto out;
	plan->names = calloc(nnames, sizeof(*plan->names));
	if (plan->names == NULL)
		goto out;
	plan->nnames = nnames;
	discovery_servers(cfg, qs);
	for (i = 0; i < nnames; i++) {
		if (strlen(names[i]) >= DNSCHECK_NAME_MAX) {
			rc = TLSAD_EINVAL;
			snprintf(why, whylen, "name too long: %.64s...", names[i]);
			goto out;
		}
		copystr(plan->names[i].owner, DNSCHECK_NAME_MAX, names[i]);
		rc = find_zone(cfg, qs, plan, &plan->names[i], why, whylen);
		if (rc != 0)
			goto out;
	}
	*out = plan;
	plan = NULL;
	why[0] = '\0';
	rc = 0;
out:
	dnscheck_plan_free(plan);
	free(qs);
	return rc;
}

void
dnscheck_plan_free(struct dnscheck_plan *plan)
{
	size_t	i;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->nzones; i++)
		free(plan->zones[i].auth);
	free(plan->zones);
	free(plan->names);
	free(plan);
}

/* --- observation ------------------------------------------------------------- */

static int
observe_one(const struct dnscheck_plan *plan, const struct dnscheck_cfg *cfg,
    struct dnscheck_obs *o)
{
	const struct dnscheck_zone	*z = &plan->zones[o->zone];
	const struct dnscheck_addr	*a = &z->auth[o->addr];
	struct dns_soa			 soa;
	ldns_pkt			*pkt = NULL;
	size_t				 i;
	int				 rc;

	rc = ask(cfg, a->host, a->port, z->apex, LDNS_RR_TYPE_SOA, 0, &pkt);
	if (rc == 0 && (dns_pkt_soa(pkt, &soa) != 0 || !soa.in_answer ||
	    !ldns_pkt_aa(pkt)))
		rc = TLSAD_EDNS_BADREPLY;
	if (rc != 0) {
		snprintf(o->err, sizeof(o->err), "SOA %s: %s%s", z->apex,
		    tlsad_strerror(rc), rc == TLSAD_EDNS_BADREPLY ?
		    " (not authoritative?)" : "");
		goto out;
	}
	o->serial = soa.serial;
	for (i = 0; i < plan->nnames; i++) {
		if (plan->names[i].zone != o->zone)
			continue;
		ldns_pkt_free(pkt);
		pkt = NULL;
		rc = ask(cfg, a->host, a->port, plan->names[i].target,
		    LDNS_RR_TYPE_TLSA, 0, &pkt);
		if (rc == TLSAD_EDNS_NXDOMAIN)
			rc = 0;
		if (rc == 0)
			rc = dns_pkt_tlsa(pkt, plan->names[i].target,
			    &o->rrset[i], &o->ttl[i]);
		if (rc != 0) {
			snprintf(o->err, sizeof(o->err), "TLSA %s: %s",
			    plan->names[i].target, tlsad_strerror(rc));
			goto out;
		}
	}
out:
	ldns_pkt_free(pkt);
	o->rc = rc;
	return rc;
}

int
dnscheck_observe(const struct dnscheck_plan *plan,
    const struct dnscheck_cfg *cfg, struct dnscheck_snapshot *snap)
{
	struct dnscheck_obs	*o;
	size_t			 z, a, i, n = 0;

	memset(snap, 0, sizeof(*snap));
	for (z = 0; z < plan->nzones; z++)
		n += plan->zones[z].nauth;
	snap->obs = calloc(n > 0 ? n : 1, sizeof(*snap->obs));
	if (snap->obs == NULL)
		return TLSAD_ENOMEM;
	snap->nnames = plan->nnames;
	for (z = 0; z < plan->nzones; z++) {
		for (a = 0; a < plan->zones[z].nauth; a++) {
			o = &snap->obs[snap->nobs++];
			o->zone = z;
			o->addr = a;
			o->rrset = calloc(plan->nnames, sizeof(*o->rrset));
			o->ttl = calloc(plan->nnames, sizeof(*o->ttl));
			if (o->rrset == NULL || o->ttl == NULL) {
				dnscheck_snapshot_clear(snap);
				return TLSAD_ENOMEM;
			}
			for (i = 0; i < plan->nnames; i++)
				tlsa_rrset_init(&o->rrset[i]);
			if (observe_one(plan, cfg, o) != 0)
				log_debug("%s@%u: %s", plan->zones[z].auth[a].host,
				    plan->zones[z].auth[a].port, o->err);
		}
	}
	snap->wall_ms = cfg->wall_ms != NULL ? cfg->wall_ms(cfg->seam_arg) :
	    util_now_wall_ms();
	return 0;
}

void
dnscheck_snapshot_clear(struct dnscheck_snapshot *snap)
{
	size_t	i, j;

	if (snap == NULL || snap->obs == NULL)
		return;
	for (i = 0; i < snap->nobs; i++) {
		if (snap->obs[i].rrset == NULL)
			continue;
		for (j = 0; j < snap->nnames; j++)
			tlsa_rrset_clear(&snap->obs[i].rrset[j]);
		free(snap->obs[i].rrset);
		free(snap->obs[i].ttl);
	}
	free(snap->obs);
	memset(snap, 0, sizeof(*snap));
}

int
dnscheck_primary_serial(const struct dnscheck_plan *plan, size_t z,
    const struct dnscheck_cfg *cfg, uint32_t *serial)
{
	const struct dnscheck_zone	*zone = &plan->zones[z];
	struct dns_soa			 soa;
	ldns_pkt			*pkt = NULL;
	int				 rc;

	rc = ask(cfg, zone->primary.host, zone->primary.port, zone->apex,
	    LDNS_RR_TYPE_SOA, 0, &pkt);
	if (rc == 0 && (dns_pkt_soa(pkt, &soa) != 0 || !soa.in_answer))
		rc = TLSAD_EDNS_BADREPLY;
	if (rc == 0)
		*serial = soa.serial;
	ldns_pkt_free(pkt);
	return rc;
}

int
dnscheck_primary_rrsets(const struct dnscheck_plan *plan,
    const struct dnscheck_cfg *cfg, struct tlsa_rrset *out, uint32_t *ttl,
    char *why, size_t whylen)
{
	const struct dnscheck_zone	*z;
	ldns_pkt			*pkt = NULL;
	uint32_t			 t;
	size_t				 i;
	int				 rc = 0;

	why[0] = '\0';
	for (i = 0; i < plan->nnames; i++) {
		z = &plan->zones[plan->names[i].zone];
		rc = ask(cfg, z->primary.host, z->primary.port,
		    plan->names[i].target, LDNS_RR_TYPE_TLSA, 0, &pkt);
		if (rc == TLSAD_EDNS_NXDOMAIN)
			rc = 0;
		if (rc == 0)
			rc = dns_pkt_tlsa(pkt, plan->names[i].target, &out[i], &t);
		ldns_pkt_free(pkt);
		pkt = NULL;
		if (rc != 0) {
			snprintf(why, whylen, "TLSA %s at the update server "
			    "%s@%u: %s", plan->names[i].target, z->primary.host,
			    z->primary.port, tlsad_strerror(rc));
			break;
		}
		if (ttl != NULL)
			ttl[i] = out[i].n > 0 ? t : 0;
	}
	return rc;
}

int
dnscheck_same_target(const struct dnscheck_plan *plan, size_t i)
{
	size_t	j;

	for (j = 0; j < i && j < plan->nnames; j++)
		if (name_eq(plan->names[j].target, plan->names[i].target))
			return 1;
	return 0;
}

int
dnscheck_apply(const struct dnscheck_plan *plan,
    const struct dnscheck_cfg *cfg, const struct tsig_key *key,
    const struct tlsa_rrset *const *add, const struct tlsa_rrset *const *del,
    const struct tlsa_rrset *expect, int dry_run, uint32_t *min_serial,
    struct dnscheck_applied *done, char *why, size_t whylen)
{
	const struct dnscheck_zone	*z;
	struct dnsupdate_change		*ch = NULL;
	struct dnsupdate_opts		 opts;
	struct dnsupdate_result		 res;
	size_t				 zi, i, n;
	int				 rc = TLSAD_ENOMEM;

	why[0] = '\0';
	if (done != NULL)
		memset(done, 0, sizeof(*done));
	ch = calloc(plan->nnames > 0 ? plan->nnames : 1, sizeof(*ch));
	if (ch == NULL)
		goto out;
	rc = 0;
	for (zi = 0; zi < plan->nzones; zi++) {
		z = &plan->zones[zi];
		for (n = 0, i = 0; i < plan->nnames; i++) {
			if (plan->names[i].zone != zi ||
			    dnscheck_same_target(plan, i))
				continue;
			ch[n].owner = plan->names[i].target;
			ch[n].add = add != NULL ? add[i] : NULL;
			ch[n].del = del != NULL ? del[i] : NULL;
			ch[n].expect = expect != NULL ? &expect[i] : NULL;
			n++;
		}
		if (n == 0)
			continue;
		memset(&opts, 0, sizeof(opts));
		opts.server = z->primary.host;
		opts.port = z->primary.port;
		opts.timeout_ms = cfg->timeout_ms;
		opts.ttl = z->soa_ttl > 0 ? z->soa_ttl : 3600;
		opts.dry_run = dry_run;
		opts.quiet = 1;
		memset(&res, 0, sizeof(res));
		rc = dnsupdate_apply(z->apex, key, ch, n, &opts, &res);
		if (done != NULL && res.sent)
			done->nsent++;
		if (rc != 0) {
			dnsupdate_explain(rc, z->apex, z->primary.host,
			    z->primary.port, key != NULL ? key->name : "(none)",
			    &res, why, whylen);
			goto out;
		}
		log_debug("zone %s: %s", z->apex, res.msg);
		if (done != NULL) {
			done->nadd += res.nadd;
			done->ndel += res.ndel;
			appendf(done->summary, sizeof(done->summary),
			    "%s%s %zu added, %zu deleted%s",
			    done->summary[0] != '\0' ? "; " : "", z->apex,
			    res.nadd, res.ndel, res.sent ? "" : dry_run ?
			    " (dry run: nothing sent)" : " (nothing to send)");
		}
		if (min_serial != NULL && !dry_run) {
			rc = dnscheck_primary_serial(plan, zi, cfg,
			    &min_serial[zi]);
			if (rc != 0) {
				snprintf(why, whylen, "zone %s: SOA serial at "
				    "the update server %s@%u after the UPDATE: "
				    "%s", z->apex, z->primary.host,
				    z->primary.port, tlsad_strerror(rc));
				goto out;
			}
		}
	}
out:
	free(ch);
	return rc;
}

/* --- validation ---------------------------------------------------------------- */

void
dnscheck_validated_clear(struct dnscheck_validated *v)
{
	if (v == NULL)
		return;
	tlsa_rrset_clear(&v->rrset);
}

static void
fill_validated(const struct ub_result *r, struct dnscheck_validated *v)
{
	struct tlsa_rr		rr;
	struct tlsa_param	p;
	int			i;

	v->secure = r->secure;
	v->bogus = r->bogus;
	v->nxdomain = r->nxdomain;
	v->rcode = r->rcode;
	v->ttl = r->ttl > 0 ? (uint32_t)r->ttl : 0;
	if (r->why_bogus != NULL)
		copystr(v->why_bogus, sizeof(v->why_bogus), r->why_bogus);
	for (i = 0; r->havedata && r->data != NULL && r->data[i] != NULL; i++) {
		if (r->len[i] < 4)
			continue;
		p.usage = (uint8_t)r->data[i][0];
		p.selector = (uint8_t)r->data[i][1];
		p.mtype = (uint8_t)r->data[i][2];
		memset(&rr, 0, sizeof(rr));
		if (tlsa_rr_set(&rr, p, (const uint8_t *)r->data[i] + 3,
		    (size_t)r->len[i] - 3) == 0)
			(void)tlsa_rrset_add(&v->rrset, &rr);
		tlsa_rr_clear(&rr);
	}
	if (r->bogus)
		v->rc = TLSAD_EDNSSEC_BOGUS;
	else if (r->rcode != 0 && r->rcode != 3)
		v->rc = TLSAD_EDNSSEC_RESOLVE;
	else if (!r->secure)
		v->rc = TLSAD_EDNSSEC_INSECURE;
	else
		v->rc = 0;
}

int
dnscheck_validate(const struct dnscheck_plan *plan,
    const struct dnscheck_cfg *cfg, struct dnscheck_validated *out,
    char *why, size_t whylen)
{
	struct ub_ctx		*ctx = NULL;
	struct ub_result	*r = NULL;
	char			 addr[96];
	size_t			 i, z, a;
	int			 rc = TLSAD_ENOMEM, ub;

	why[0] = '\0';
	for (i = 0; i < plan->nnames; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		tlsa_rrset_init(&out[i].rrset);
		out[i].rc = TLSAD_EDNSSEC_RESOLVE;
	}
	if (cfg->validate != NULL) {
		if (cfg->nvalidations != NULL)
			*cfg->nvalidations += plan->nnames;
		return cfg->validate(cfg->seam_arg, plan, out, why, whylen);
	}
	if (cfg->trust_anchor_file == NULL ||
	    access(cfg->trust_anchor_file, R_OK) != 0) {
		snprintf(why, whylen, "trust anchor file %s: %s",
		    cfg->trust_anchor_file != NULL ? cfg->trust_anchor_file :
		    "(none)", cfg->trust_anchor_file != NULL ? strerror(errno) :
		    "not configured");
		rc = TLSAD_EDNSSEC_ANCHOR;
		goto out;
	}
	/* A fresh context every time: nothing cached from an earlier check. */
	ctx = ub_ctx_create();
	if (ctx == NULL)
		goto out;
	ub = ub_ctx_add_ta_file(ctx, cfg->trust_anchor_file);
	if (ub != 0) {
		snprintf(why, whylen, "trust anchor file %s: %s",
		    cfg->trust_anchor_file, ub_strerror(ub));
		rc = TLSAD_EDNSSEC_ANCHOR;
		goto out;
	}
	/*
	 * The zones themselves are asked at their authoritative addresses
	 * (stubs): a forwarding resolver may still cache the old RRset or a
	 * negative answer, and a fresh context must not inherit that.  Only
	 * the chain of trust above the zones (DS, parents) goes through the
	 * forwarders, or full recursion without them.
	 */
	ub = 0;
	addr[0] = '\0';
	for (i = 0; i < cfg->nresolvers && ub == 0; i++) {
		snprintf(addr, sizeof(addr), "%s@%u", cfg->resolvers[i].host,
		    cfg->resolvers[i].port);
		ub = ub_ctx_set_fwd(ctx, addr);
	}
	for (z = 0; z < plan->nzones && ub == 0; z++) {
		for (a = 0; a < plan->zones[z].nauth && ub == 0; a++) {
			snprintf(addr, sizeof(addr), "%s@%u",
			    plan->zones[z].auth[a].host,
			    plan->zones[z].auth[a].port);
			ub = ub_ctx_set_stub(ctx, plan->zones[z].apex, addr, 0);
		}
	}
	if (ub != 0) {
		snprintf(why, whylen, "validator setup (%s): %s", addr,
		    ub_strerror(ub));
		rc = TLSAD_EDNSSEC_RESOLVE;
		goto out;
	}
	for (i = 0; i < plan->nnames; i++) {
		if (cfg->nvalidations != NULL)
			(*cfg->nvalidations)++;
		r = NULL;
		ub = ub_resolve(ctx, plan->names[i].owner, LDNS_RR_TYPE_TLSA,
		    LDNS_RR_CLASS_IN, &r);
		if (ub != 0 || r == NULL) {
			snprintf(out[i].why_bogus, sizeof(out[i].why_bogus),
			    "lookup failed: %s", ub_strerror(ub));
			out[i].rc = TLSAD_EDNSSEC_RESOLVE;
		} else {
			fill_validated(r, &out[i]);
		}
		ub_resolve_free(r);
		r = NULL;
	}
	rc = 0;
out:
	if (ctx != NULL)
		ub_ctx_delete(ctx);
	return rc;
}

/* --- judgement (pure) ---------------------------------------------------------- */

int
dnscheck_evaluate(const struct dnscheck_plan *plan,
    const struct dnscheck_snapshot *snap, const struct dnscheck_expect *exp,
    struct dnscheck_verdict *v)
{
	const struct dnscheck_obs	*o;
	const struct dnscheck_addr	*a;
	const struct tlsa_rrset		*set;
	char				 rr[64], buf[512];
	size_t				 i, j, k;

	memset(v, 0, sizeof(*v));
	if (plan == NULL || snap == NULL || exp == NULL)
		return TLSAD_EINVAL;
	for (i = 0; i < snap->nobs; i++) {
		o = &snap->obs[i];
		if (o->zone >= plan->nzones ||
		    o->addr >= plan->zones[o->zone].nauth)
			return TLSAD_EINVAL;
		a = &plan->zones[o->zone].auth[o->addr];
		buf[0] = '\0';
		if (o->rc != 0) {
			appendf(buf, sizeof(buf), "no answer (%s)", o->err);
		} else {
			if (exp->min_serial != NULL &&
			    !dnscheck_serial_ge(o->serial,
			    exp->min_serial[o->zone]))
				appendf(buf, sizeof(buf), "serial %" PRIu32
				    " < %" PRIu32, o->serial,
				    exp->min_serial[o->zone]);
			for (j = 0; j < plan->nnames; j++) {
				if (plan->names[j].zone != o->zone)
					continue;
				set = exp->add != NULL ? exp->add[j] : NULL;
				for (k = 0; set != NULL && k < set->n; k++) {
					if (tlsa_rrset_contains(&o->rrset[j],
					    &set->rr[k]))
						continue;
					rr_short(&set->rr[k], rr, sizeof(rr));
					appendf(buf, sizeof(buf), "%slacks %s at %s",
					    buf[0] != '\0' ? ", " : "", rr,
					    plan->names[j].target);
				}
				set = exp->del != NULL ? exp->del[j] : NULL;
				for (k = 0; set != NULL && k < set->n; k++) {
					if (!tlsa_rrset_contains(&o->rrset[j],
					    &set->rr[k]))
						continue;
					rr_short(&set->rr[k], rr, sizeof(rr));
					appendf(buf, sizeof(buf),
					    "%sstill serves %s at %s",
					    buf[0] != '\0' ? ", " : "", rr,
					    plan->names[j].target);
				}
			}
		}
		if (buf[0] != '\0') {
			appendf(v->lagging, sizeof(v->lagging), "%s%s@%u (%s): %s",
			    v->nlagging > 0 ? "; " : "", a->host, a->port,
			    a->via, buf);
			v->nlagging++;
		}
	}
	v->done = v->nlagging == 0 && snap->nobs > 0;
	if (snap->nobs == 0)
		copystr(v->lagging, sizeof(v->lagging),
		    "no authoritative address to check");
	return 0;
}

void
dnscheck_hold_names(const struct dnscheck_plan *plan,
    const struct dnscheck_snapshot *before, struct hold_name *names)
{
	const struct dnscheck_obs	*o;
	size_t				 i, j;

	for (i = 0; i < plan->nnames; i++) {
		memset(&names[i], 0, sizeof(names[i]));
		names[i].name = plan->names[i].owner;
		names[i].neg_ttl = plan->zones[plan->names[i].zone].negttl;
		for (j = 0; before != NULL && j < before->nobs; j++) {
			o = &before->obs[j];
			if (o->rc != 0 || o->zone != plan->names[i].zone ||
			    o->rrset[i].n == 0)
				continue;
			names[i].had_rrset = 1;
			if (o->ttl[i] > names[i].rrset_ttl)
				names[i].rrset_ttl = o->ttl[i];
		}
	}
}

int
dnscheck_rrset_union(const struct dnscheck_snapshot *snap, size_t i,
    struct tlsa_rrset *out, int *agree)
{
	const struct dnscheck_obs	*o, *first = NULL;
	size_t				 j, k;
	int				 rc;

	if (agree != NULL)
		*agree = 1;
	for (j = 0; j < snap->nobs; j++) {
		o = &snap->obs[j];
		if (o->rc != 0)
			continue;
		/* Only addresses of the name's zone hold data for it. */
		if (first != NULL && first->zone != o->zone)
			continue;
		if (first == NULL)
			first = o;
		else if (agree != NULL &&
		    !tlsa_rrset_equal(&first->rrset[i], &o->rrset[i]))
			*agree = 0;
		for (k = 0; k < o->rrset[i].n; k++) {
			rc = tlsa_rrset_add(out, &o->rrset[i].rr[k]);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* --- waiting ----------------------------------------------------------------------- */

void
dnscheck_wait_init(struct dnscheck_wait *w, const struct dnscheck_plan *plan,
    const struct dnscheck_cfg *cfg, const struct dnscheck_expect *exp,
    int64_t now_mono_ms, unsigned poll_min_ms, unsigned poll_max_ms,
    unsigned timeout_s)
{
	memset(w, 0, sizeof(*w));
	w->plan = plan;
	w->cfg = cfg;
	w->exp = exp;
	hold_poll_init(&w->poll, now_mono_ms, poll_min_ms, poll_max_ms,
	    timeout_s);
}

/* Does every validated RRset hold the change?  Sets status when not. */
static int
validated_ok(struct dnscheck_wait *w, struct dnscheck_validated *v)
{
	const struct dnscheck_plan	*plan = w->plan;
	const struct tlsa_rrset		*set;
	char				 rr[64];
	size_t				 i, k;
	int				 rc = 0;

	for (i = 0; i < plan->nnames; i++) {
		if (v[i].rc == TLSAD_EDNSSEC_BOGUS ||
		    v[i].rc == TLSAD_EDNSSEC_INSECURE) {
			snprintf(w->status, sizeof(w->status), "%s: %s%s%s",
			    plan->names[i].owner, tlsad_strerror(v[i].rc),
			    v[i].why_bogus[0] != '\0' ? ": " : "",
			    v[i].why_bogus);
			return v[i].rc;
		}
		if (v[i].rc != 0) {
			snprintf(w->status, sizeof(w->status),
			    "%s: validating lookup failed (rcode %d)%s%s",
			    plan->names[i].owner, v[i].rcode,
			    v[i].why_bogus[0] != '\0' ? ": " : "",
			    v[i].why_bogus);
			rc = TLSAD_EDNSSEC_MISSING;
			continue;
		}
		set = w->exp->add != NULL ? w->exp->add[i] : NULL;
		for (k = 0; set != NULL && k < set->n; k++) {
			if (tlsa_rrset_contains(&v[i].rrset, &set->rr[k]))
				continue;
			rr_short(&set->rr[k], rr, sizeof(rr));
			snprintf(w->status, sizeof(w->status), "%s: the "
			    "validated answer lacks %s yet",
			    plan->names[i].owner, rr);
			rc = TLSAD_EDNSSEC_MISSING;
		}
		set = w->exp->del != NULL ? w->exp->del[i] : NULL;
		for (k = 0; set != NULL && k < set->n; k++) {
			if (!tlsa_rrset_contains(&v[i].rrset, &set->rr[k]))
				continue;
			rr_short(&set->rr[k], rr, sizeof(rr));
			snprintf(w->status, sizeof(w->status), "%s: the "
			    "validated answer still holds %s",
			    plan->names[i].owner, rr);
			rc = TLSAD_EDNSSEC_MISSING;
		}
	}
	return rc;
}

int
dnscheck_wait_step(struct dnscheck_wait *w, int64_t now_mono_ms,
    int64_t now_wall_ms, int64_t *next_mono_ms)
{
	struct dnscheck_snapshot	 snap;
	struct dnscheck_validated	*v = NULL;
	char				 why[512];
	int64_t				 seen_ms;
	size_t				 i;
	int				 rc, prc;

	*next_mono_ms = now_mono_ms;
	w->checks++;
	rc = dnscheck_observe(w->plan, w->cfg, &snap);
	if (rc != 0)
		goto out;
	rc = dnscheck_evaluate(w->plan, &snap, w->exp, &w->verdict);
	/*
	 * t0 is when every address was seen serving the change: the end of
	 * the observation, which is later (so the hold longer) than its start.
	 */
	seen_ms = snap.wall_ms > now_wall_ms ? snap.wall_ms : now_wall_ms;
	dnscheck_snapshot_clear(&snap);
	if (rc != 0)
		goto out;
	if (!w->verdict.done) {
		w->t0_wall_ms = 0;
		snprintf(w->status, sizeof(w->status), "%zu address%s lag: %s",
		    w->verdict.nlagging, w->verdict.nlagging == 1 ? "" : "es",
		    w->verdict.lagging);
		rc = TLSAD_EDNS_LAGGING;
		goto pending;
	}
	if (w->t0_wall_ms == 0)
		w->t0_wall_ms = seen_ms;
	v = calloc(w->plan->nnames, sizeof(*v));
	if (v == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	rc = dnscheck_validate(w->plan, w->cfg, v, why, sizeof(why));
	if (rc != 0) {
		snprintf(w->status, sizeof(w->status), "%s", why);
		goto out;
	}
	rc = validated_ok(w, v);
	if (rc == 0) {
		snprintf(w->status, sizeof(w->status), "every address serves "
		    "the change and the validated answer is secure");
		goto out;
	}
	if (rc != TLSAD_EDNSSEC_MISSING)
		goto out;
pending:
	prc = hold_poll_next(&w->poll, now_mono_ms, next_mono_ms);
	if (prc != 0)
		rc = prc;
out:
	if (v != NULL) {
		for (i = 0; i < w->plan->nnames; i++)
			dnscheck_validated_clear(&v[i]);
		free(v);
	}
	return rc;
}

int
dnscheck_wait(struct dnscheck_wait *w)
{
	struct timespec	ts;
	char		last[sizeof(w->status)] = "";
	int64_t		next, now, left;
	int		rc;

	for (;;) {
		rc = dnscheck_wait_step(w, util_now_mono_ms(),
		    util_now_wall_ms(), &next);
		if (rc != TLSAD_EDNS_LAGGING && rc != TLSAD_EDNSSEC_MISSING)
			return rc;
		if (strcmp(last, w->status) != 0) {
			log_info("waiting: %s", w->status);
			copystr(last, sizeof(last), w->status);
		}
		for (;;) {
			now = util_now_mono_ms();
			left = next - now;
			if (left <= 0)
				break;
			ts.tv_sec = (time_t)(left / 1000);
			ts.tv_nsec = (long)(left % 1000) * 1000000L;
			if (nanosleep(&ts, NULL) == 0)
				break;
			if (errno != EINTR)
				break;
		}
	}
}

/* --- lineage sessions ------------------------------------------------------------- */

int
dnscheck_chain_records(const struct cert_chain *chain,
    const struct tlsa_param *params, size_t n, struct tlsa_rrset *set)
{
	static const struct tlsa_param	 def = { 3, 1, 1 };
	struct tlsa_rr			 rr;
	size_t				 i;
	int				 rc = 0;

	if (n == 0) {
		params = &def;
		n = 1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		memset(&rr, 0, sizeof(rr));
		rc = cert_tlsa_rr(chain, params[i], &rr);
		if (rc == 0)
			rc = tlsa_rrset_add(set, &rr);
		tlsa_rr_clear(&rr);
	}
	return rc;
}

int
dnscheck_session_open(struct dnscheck_session *s, const struct conf *conf,
    const char *lineage_name, char *why, size_t whylen)
{
	int	rc;

	memset(s, 0, sizeof(*s));
	tlsa_rrset_init(&s->want);
	why[0] = '\0';
	s->conf = conf;
	s->lin = conf_lineage_find(conf, lineage_name);
	if (s->lin == NULL) {
		snprintf(why, whylen, "%s: no lineage clause with this name in %s",
		    lineage_name, conf->path != NULL ? conf->path : "the config");
		rc = TLSAD_ECONF_NOLINEAGE;
		goto out;
	}
	dnscheck_cfg_init(&s->cfg, conf, s->lin);
	s->cfg.nqueries = &s->nqueries;
	s->cfg.nvalidations = &s->nvalidations;
	rc = lineage_read(conf->live_dir, lineage_name, &s->lineage);
	if (rc != 0) {
		snprintf(why, whylen, "lineage %s/%s: %s%s%s", conf->live_dir,
		    lineage_name, tlsad_strerror(rc),
		    s->lineage != NULL && s->lineage->detail[0] != '\0' ?
		    ": " : "", s->lineage != NULL ? s->lineage->detail : "");
		goto out;
	}
	rc = dnscheck_chain_records(s->lineage->chain, s->lin->tlsa,
	    s->lin->ntlsa, &s->want);
	if (rc != 0) {
		snprintf(why, whylen, "lineage %s: computing its TLSA records: "
		    "%s", lineage_name, tlsad_strerror(rc));
		goto out;
	}
	rc = dnscheck_discover(&s->cfg, s->lin->tlsa_names,
	    s->lin->ntlsa_names, &s->plan, why, whylen);
out:
	if (rc != 0) {
		tlsa_rrset_clear(&s->want);
		lineage_snapshot_free(s->lineage);
		s->lineage = NULL;
	}
	return rc;
}

int
dnscheck_load_key(const struct conf *conf, const struct conf_lineage *lin,
    struct tsig_key **key, char *why, size_t whylen)
{
	const char	*file;
	char		 err[512];
	int		 rc;

	*key = NULL;
	file = lin->key_file != NULL ? lin->key_file : conf->key_file;
	if (file == NULL) {
		snprintf(why, whylen, "no TSIG key: set file: in the key: "
		    "clause or key-file: in the lineage");
		return TLSAD_ETSIG_KEYFILE;
	}
	err[0] = '\0';
	rc = tsig_load(file, NULL, key, err, sizeof(err));
	if (rc != 0) {
		snprintf(why, whylen, "%s: %s%s%s", file, tlsad_strerror(rc),
		    err[0] != '\0' ? ": " : "", err);
		return rc;
	}
	if ((*key)->weak)
		log_warnx("%s: key %s uses hmac-sha1: move to hmac-sha256",
		    file, (*key)->name);
	return 0;
}

void
dnscheck_session_close(struct dnscheck_session *s)
{
	if (s == NULL)
		return;
	tlsa_rrset_clear(&s->want);
	lineage_snapshot_free(s->lineage);
	dnscheck_plan_free(s->plan);
	s->lineage = NULL;
	s->plan = NULL;
}

int
dnscheck_exit_status(int code)
{
	switch (code) {
	case 0:
		return 0;
	case TLSAD_EDNS_RFC7671:
	case TLSAD_EDNS_EMPTYRRSET:
	case TLSAD_EDNSSEC_BOGUS:
	case TLSAD_EDNSSEC_INSECURE:
		return 2;
	case TLSAD_ETIMEOUT:
	case TLSAD_EDNS_LAGGING:
		return 3;
	case TLSAD_EUSAGE:
		return 64;
	default:
		return 1;
	}
}
