/*
 * dnsupdate.c -- RFC 2136 UPDATE of TLSA records, TSIG-signed (RFC 8945),
 * over TCP, one message per zone.
 *
 * Invariants:
 *  - One call sends at most one UPDATE; an UPDATE is atomic on the server,
 *    so either every change of the zone lands or none does.
 *  - Records are added and deleted one at a time (a delete is class NONE
 *    with the exact rdata): we never delete a whole RRset, so records that
 *    someone else put there and we do not know about survive.
 *  - Prerequisites (the design, RFC 2136 section 2.4): for every owner name
 *    we touch, the message carries the RRset exactly as we just read it from
 *    the primary: "RRset exists (value dependent)" with every record we saw,
 *    or "RRset does not exist" when we saw none.  If anyone changed that
 *    RRset between our read and our write (a record more, a record less),
 *    the prerequisite fails (NXRRSET, or YXRRSET for a set that appeared)
 *    and the server changes nothing.  Per-record prerequisites would be
 *    weaker: they would not notice a record added by someone else, and the
 *    RFC 7671 section 8 check done on the RRset we read would then have been
 *    done on the wrong set.
 *  - Idempotence: the operations are computed from that fresh read (add
 *    only what is absent, delete only what is present), so a re-run after a
 *    success is a no-op, which sends nothing and succeeds.
 *  - The request is signed with ldns_pkt_tsig_sign (what
 *    ldns_update_pkt_tsig_add calls, without copying the secret into a
 *    resolver) and sent over our own TCP connection: never UDP, whose
 *    truncation fallback would re-send an already signed packet.  The
 *    reply's TSIG is verified against our request MAC; a NOERROR reply that
 *    is unsigned or does not verify is TLSAD_ETSIG_REPLY (the outcome is
 *    then unknown, and the message says so).
 * Every failure is logged once here (unless opts->quiet) with the zone and
 * server, and explained for a mail admin in res->msg.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsad/dnsquery.h"
#include "tlsad/dnsupdate.h"
#include "tlsad/error.h"
#include "tlsad/log.h"

#define DEFAULT_TTL	3600
#define DEFAULT_FUDGE	300
#define DEFAULT_PORT	53

/* TSIG error values (RFC 8945 section 5.2 / IANA). */
#define TSIG_BADSIG	16
#define TSIG_BADKEY	17
#define TSIG_BADTIME	18
#define TSIG_BADTRUNC	22

static void
result_init(struct dnsupdate_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rcode = -1;
}

/* An RR with owner, TLSA type, class and TTL and no rdata. */
static int
empty_rr(const char *owner, ldns_rr_class cls, ldns_rr **out)
{
	ldns_rr		*rr = NULL;
	ldns_rdf	*name = NULL;

	*out = NULL;
	name = ldns_dname_new_frm_str(owner);
	if (name == NULL)
		return TLSAD_EINVAL;
	rr = ldns_rr_new();
	if (rr == NULL) {
		ldns_rdf_deep_free(name);
		return TLSAD_ENOMEM;
	}
	ldns_rr_set_owner(rr, name);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TLSA);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, 0);
	*out = rr;
	return 0;
}

/* Append a TLSA RR (class cls, ttl) to list. */
static int
push_tlsa(ldns_rr_list *list, const char *owner, ldns_rr_class cls,
    uint32_t ttl, const struct tlsa_rr *t)
{
	ldns_rr	*rr = NULL;
	int	 rc;

	rc = dns_tlsa_to_rr(owner, ttl, t, &rr);
	if (rc != 0)
		return rc;
	ldns_rr_set_class(rr, cls);
	if (!ldns_rr_list_push_rr(list, rr)) {
		ldns_rr_free(rr);
		return TLSAD_ENOMEM;
	}
	return 0;
}

int
dnsupdate_build(const char *zone, const struct dnsupdate_prereq *pre,
    size_t npre, const struct dnsupdate_op *ops, size_t nops, uint32_t ttl,
    ldns_pkt **out)
{
	ldns_rr_list	*prl = NULL, *upl = NULL;
	ldns_rdf	*zrdf = NULL;
	ldns_pkt	*pkt = NULL;
	ldns_rr		*rr = NULL;
	size_t		 i, j;
	int		 rc = TLSAD_ENOMEM;

	*out = NULL;
	if (zone == NULL || (npre > 0 && pre == NULL) || (nops > 0 && ops == NULL)) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	prl = ldns_rr_list_new();
	upl = ldns_rr_list_new();
	if (prl == NULL || upl == NULL)
		goto out;
	for (i = 0; i < npre; i++) {
		if (!pre[i].exists || pre[i].rrset == NULL || pre[i].rrset->n == 0) {
			/* RRset does not exist: class NONE, TTL 0, no rdata. */
			rc = empty_rr(pre[i].owner, LDNS_RR_CLASS_NONE, &rr);
			if (rc != 0)
				goto out;
			if (!ldns_rr_list_push_rr(prl, rr)) {
				rc = TLSAD_ENOMEM;
				goto out;
			}
			rr = NULL;
			continue;
		}
		/* RRset exists (value dependent): every record, class IN, TTL 0. */
		for (j = 0; j < pre[i].rrset->n; j++) {
			rc = push_tlsa(prl, pre[i].owner, LDNS_RR_CLASS_IN, 0,
			    &pre[i].rrset->rr[j]);
			if (rc != 0)
				goto out;
		}
	}
	for (i = 0; i < nops; i++) {
		if (ops[i].rr == NULL) {
			rc = TLSAD_EINVAL;
			goto out;
		}
		if (ops[i].add)
			rc = push_tlsa(upl, ops[i].owner, LDNS_RR_CLASS_IN,
			    ops[i].ttl != 0 ? ops[i].ttl : ttl, ops[i].rr);
		else	/* delete one RR: class NONE, TTL 0, exact rdata */
			rc = push_tlsa(upl, ops[i].owner, LDNS_RR_CLASS_NONE, 0,
			    ops[i].rr);
		if (rc != 0)
			goto out;
	}
	zrdf = ldns_dname_new_frm_str(zone);
	if (zrdf == NULL) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	/* Takes zrdf; clones the lists. */
	pkt = ldns_update_pkt_new(zrdf, LDNS_RR_CLASS_IN, prl, upl, NULL);
	zrdf = NULL;
	if (pkt == NULL)
		goto out;
	ldns_pkt_set_id(pkt, (uint16_t)arc4random());
	*out = pkt;
	pkt = NULL;
	rc = 0;
out:
	ldns_rr_free(rr);
	ldns_rdf_deep_free(zrdf);
	ldns_rr_list_deep_free(prl);
	ldns_rr_list_deep_free(upl);
	ldns_pkt_free(pkt);
	return rc;
}

/* A 48-bit big-endian time from 6 bytes. */
static int64_t
time48(const uint8_t *p)
{
	int64_t	t = 0;
	int	i;

	for (i = 0; i < 6; i++)
		t = (t << 8) | p[i];
	return t;
}

int
dnsupdate_map_reply(const ldns_pkt *reply, int64_t now_s,
    struct dnsupdate_result *res)
{
	const ldns_rr	*tsig;
	const ldns_rdf	*rdf;
	int		 err = 0;

	res->rcode = ldns_pkt_get_rcode(reply);
	res->tsig_error = 0;
	res->has_offset = 0;
	res->clock_offset_s = 0;
	tsig = ldns_pkt_tsig(reply);
	if (tsig != NULL && ldns_rr_rd_count(tsig) >= 6) {
		rdf = ldns_rr_rdf(tsig, 5);
		if (rdf != NULL && ldns_rdf_size(rdf) == 2)
			err = ldns_rdf2native_int16(rdf);
	}
	res->tsig_error = err;
	switch (err) {
	case 0:
		return dns_rcode_error(res->rcode);
	case TSIG_BADSIG:
		return TLSAD_ETSIG_BADSIG;
	case TSIG_BADKEY:
		return TLSAD_ETSIG_BADKEY;
	case TSIG_BADTRUNC:
		return TLSAD_ETSIG_BADTRUNC;
	case TSIG_BADTIME:
		/* Server time: Other Data (6 bytes after its length) or Time Signed. */
		rdf = ldns_rr_rd_count(tsig) >= 7 ? ldns_rr_rdf(tsig, 6) : NULL;
		if (rdf != NULL && ldns_rdf_size(rdf) == 8) {
			res->clock_offset_s = time48(ldns_rdf_data(rdf) + 2) - now_s;
			res->has_offset = 1;
		} else {
			rdf = ldns_rr_rdf(tsig, 1);
			if (rdf != NULL && ldns_rdf_size(rdf) == 6) {
				res->clock_offset_s = time48(ldns_rdf_data(rdf)) - now_s;
				res->has_offset = 1;
			}
		}
		return TLSAD_ETSIG_BADTIME;
	default:
		return TLSAD_ETSIG_REPLY;
	}
}

void
dnsupdate_explain(int code, const char *zone, const char *server,
    uint16_t port, const char *keyname, const struct dnsupdate_result *res,
    char *buf, size_t len)
{
	const char	*k = keyname != NULL ? keyname : "(none)";
	const char	*s = server != NULL ? server : "?";

	switch (code) {
	case 0:
		snprintf(buf, len, "zone %s updated on %s@%u", zone, s, port);
		break;
	case TLSAD_EDNS_REFUSED:
		snprintf(buf, len, "%s@%u REFUSED the update of zone %s: the key %s is "
		    "not allowed to update these names or records: check update-policy "
		    "(e.g. grant %s zonesub TLSA;) in the server's configuration",
		    s, port, zone, k, k);
		break;
	case TLSAD_EDNS_NOTAUTH:
		snprintf(buf, len, "%s@%u answered NOTAUTH for zone %s: it is not the "
		    "primary server of that zone (send updates to the primary: see "
		    "update-server) or does not accept the key %s", s, port, zone, k);
		break;
	case TLSAD_EDNS_NOTZONE:
		snprintf(buf, len, "NOTZONE: a TLSA name is not inside zone %s: check "
		    "tlsa-name", zone);
		break;
	case TLSAD_EDNS_YXRRSET:
	case TLSAD_EDNS_NXRRSET:
	case TLSAD_EDNS_YXDOMAIN:
		snprintf(buf, len, "%s: the prerequisite failed: someone else changed the "
		    "TLSA records in zone %s between our read and our write; nothing was "
		    "changed, run again to re-read", tlsad_errname(code) + 4, zone);
		break;
	case TLSAD_EDNS_SERVFAIL:
		snprintf(buf, len, "%s@%u answered SERVFAIL: it failed to apply the "
		    "update of zone %s; see the server's log", s, port, zone);
		break;
	case TLSAD_EDNS_FORMERR:
		snprintf(buf, len, "%s@%u answered FORMERR: it could not parse our "
		    "update of zone %s", s, port, zone);
		break;
	case TLSAD_EDNS_NOTIMP:
		snprintf(buf, len, "%s@%u answered NOTIMP: it does not support dynamic "
		    "updates of zone %s", s, port, zone);
		break;
	case TLSAD_ETSIG_BADSIG:
		snprintf(buf, len, "%s@%u rejected our signature (TSIG BADSIG): the "
		    "secret of key %s differs from the server's copy; copy the key file "
		    "again", s, port, k);
		break;
	case TLSAD_ETSIG_BADKEY:
		snprintf(buf, len, "%s@%u does not know key %s with this algorithm "
		    "(TSIG BADKEY): check the key name and algorithm in the server's "
		    "configuration", s, port, k);
		break;
	case TLSAD_ETSIG_BADTIME:
		if (res != NULL && res->has_offset)
			snprintf(buf, len, "%s@%u rejected the update for the clock (TSIG "
			    "BADTIME): its clock is %" PRId64 " s %s ours; fix NTP on one "
			    "side", s, port,
			    res->clock_offset_s < 0 ? -res->clock_offset_s : res->clock_offset_s,
			    res->clock_offset_s < 0 ? "behind" : "ahead of");
		else
			snprintf(buf, len, "%s@%u rejected the update for the clock (TSIG "
			    "BADTIME): fix NTP", s, port);
		break;
	case TLSAD_ETSIG_BADTRUNC:
		snprintf(buf, len, "%s@%u rejected the TSIG MAC as truncated (BADTRUNC)",
		    s, port);
		break;
	case TLSAD_ETSIG_REPLY:
		snprintf(buf, len, "the reply from %s@%u has no valid TSIG signature of "
		    "key %s: it cannot be trusted, so whether zone %s changed is unknown; "
		    "check the zone", s, port, k, zone);
		break;
	case TLSAD_EDNS_CONNREFUSED:
		snprintf(buf, len, "connection refused by %s port %u: no DNS server "
		    "listens there; is the primary running, is update-server right? "
		    "nothing was changed", s, port);
		break;
	case TLSAD_EDNS_TIMEOUT:
		snprintf(buf, len, "no answer from %s port %u in time: the primary is "
		    "down, overloaded or unreachable; if the update reached it, it may "
		    "still be applied: check the zone, or run again (re-running is "
		    "safe)", s, port);
		break;
	default:
		snprintf(buf, len, "update of zone %s at %s@%u failed: %s", zone, s, port,
		    tlsad_strerror(code));
		break;
	}
}

static void
fail_msg(int code, const char *zone, const struct tsig_key *key,
    const struct dnsupdate_opts *opts, struct dnsupdate_result *res)
{
	dnsupdate_explain(code, zone, opts->server, opts->port ? opts->port : DEFAULT_PORT,
	    key != NULL ? key->name : NULL, res, res->msg, sizeof(res->msg));
	if (!opts->quiet)
		log_warnx("update of zone %s via %s@%u: %s [%s]", zone,
		    opts->server != NULL ? opts->server : "?",
		    opts->port ? opts->port : DEFAULT_PORT, res->msg, tlsad_errname(code));
}

int
dnsupdate_send(const char *zone, const struct tsig_key *key,
    const struct dnsupdate_prereq *pre, size_t npre,
    const struct dnsupdate_op *ops, size_t nops, uint32_t ttl,
    const struct dnsupdate_opts *opts, struct dnsupdate_result *res)
{
	ldns_pkt	*req = NULL, *reply = NULL;
	ldns_rdf	*reqmac = NULL;
	uint8_t		*wire = NULL, *rbuf = NULL;
	size_t		 wlen = 0, rlen = 0, i;
	uint16_t	 port;
	int		 rc;

	result_init(res);
	port = opts->port ? opts->port : DEFAULT_PORT;
	if (key == NULL || opts->server == NULL) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	rc = dnsupdate_build(zone, pre, npre, ops, nops, ttl ? ttl : DEFAULT_TTL, &req);
	if (rc != 0)
		goto out;
	for (i = 0; i < nops; i++) {
		if (ops[i].add)
			res->nadd++;
		else
			res->ndel++;
	}
	if (ldns_pkt_tsig_sign(req, key->name, key->secret_b64,
	    opts->fudge ? opts->fudge : DEFAULT_FUDGE, key->algo_name, NULL) !=
	    LDNS_STATUS_OK) {
		rc = TLSAD_ETSIG_KEYFILE;
		goto out;
	}
	/* The request MAC, which the reply's MAC covers (RFC 8945 5.3). */
	if (ldns_pkt_tsig(req) == NULL || ldns_rr_rd_count(ldns_pkt_tsig(req)) < 4) {
		rc = TLSAD_EINTERNAL;
		goto out;
	}
	reqmac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(req), 3));
	if (reqmac == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	if (ldns_pkt2wire(&wire, req, &wlen) != LDNS_STATUS_OK) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	res->sent = 1;
	rc = dns_exchange_tcp(opts->server, port, wire, wlen, opts->timeout_ms,
	    &rbuf, &rlen);
	if (rc != 0) {
		/* Refused: never reached a server.  Timeout: unknown, said in msg. */
		res->sent = rc != TLSAD_EDNS_CONNREFUSED;
		goto out;
	}
	if (ldns_wire2pkt(&reply, rbuf, rlen) != LDNS_STATUS_OK ||
	    ldns_pkt_id(reply) != ldns_pkt_id(req) || !ldns_pkt_qr(reply) ||
	    ldns_pkt_get_opcode(reply) != LDNS_PACKET_UPDATE) {
		rc = TLSAD_EDNS_BADREPLY;
		goto out;
	}
	rc = dnsupdate_map_reply(reply, (int64_t)time(NULL), res);
	if (rc == 0) {
		/* Success counts only when the server proves it with our key. */
		if (ldns_pkt_tsig(reply) == NULL ||
		    !ldns_pkt_tsig_verify(reply, rbuf, rlen, key->name,
		    key->secret_b64, reqmac))
			rc = TLSAD_ETSIG_REPLY;
	}
out:
	if (rc == 0)
		dnsupdate_explain(0, zone, opts->server, port, key->name, res,
		    res->msg, sizeof(res->msg));
	else
		fail_msg(rc, zone, key, opts, res);
	ldns_rdf_deep_free(reqmac);
	ldns_pkt_free(req);
	ldns_pkt_free(reply);
	free(wire);
	free(rbuf);
	return rc;
}

/* Is owner inside zone (or the apex)? */
static int
in_zone(const char *owner, const char *zone)
{
	ldns_rdf	*o = NULL, *z = NULL;
	int		 ok = 0;

	o = ldns_dname_new_frm_str(owner);
	z = ldns_dname_new_frm_str(zone);
	if (o != NULL && z != NULL)
		ok = ldns_dname_compare(o, z) == 0 || ldns_dname_is_subdomain(o, z);
	ldns_rdf_deep_free(o);
	ldns_rdf_deep_free(z);
	return ok;
}

static int
has_cname(const ldns_pkt *pkt)
{
	const ldns_rr_list	*an = ldns_pkt_answer(pkt);
	size_t			 i;

	for (i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(an, i)) == LDNS_RR_TYPE_CNAME)
			return 1;
	return 0;
}

int
dnsupdate_apply(const char *zone, const struct tsig_key *key,
    const struct dnsupdate_change *changes, size_t nchanges,
    const struct dnsupdate_opts *opts, struct dnsupdate_result *res)
{
	struct tlsa_rrset	*cur = NULL;
	uint32_t		*curttl = NULL;
	struct dnsupdate_prereq	*pre = NULL;
	struct dnsupdate_op	*ops = NULL;
	ldns_pkt		*pkt = NULL;
	size_t			 i, j, npre = 0, nops = 0, maxops = 0;
	uint16_t		 port;
	int			 rc, logged = 0;

	result_init(res);
	port = opts->port ? opts->port : DEFAULT_PORT;
	if (zone == NULL || key == NULL || opts->server == NULL ||
	    (nchanges > 0 && changes == NULL)) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	for (i = 0; i < nchanges; i++) {
		if (changes[i].owner == NULL) {
			rc = TLSAD_EINVAL;
			goto out;
		}
		if (!in_zone(changes[i].owner, zone)) {
			rc = TLSAD_EDNS_NOTZONE;
			snprintf(res->msg, sizeof(res->msg), "%s is not inside zone %s: "
			    "check tlsa-name", changes[i].owner, zone);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcasecmp(changes[i].owner, changes[j].owner) == 0) {
				rc = TLSAD_EINVAL;
				snprintf(res->msg, sizeof(res->msg), "%s given twice in one "
				    "update", changes[i].owner);
				goto out;
			}
		maxops += (changes[i].add ? changes[i].add->n : 0) +
		    (changes[i].del ? changes[i].del->n : 0);
	}
	cur = calloc(nchanges + 1, sizeof(*cur));
	curttl = calloc(nchanges + 1, sizeof(*curttl));
	pre = calloc(nchanges + 1, sizeof(*pre));
	ops = calloc(maxops + 1, sizeof(*ops));
	if (cur == NULL || curttl == NULL || pre == NULL || ops == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (i = 0; i < nchanges; i++)
		tlsa_rrset_init(&cur[i]);

	for (i = 0; i < nchanges; i++) {
		const struct dnsupdate_change	*c = &changes[i];
		size_t				 before = nops;

		/* A fresh read from the primary itself, RD=0. */
		rc = dns_query(opts->server, port, c->owner, LDNS_RR_TYPE_TLSA, 0,
		    opts->timeout_ms, &pkt);
		if (rc == TLSAD_EDNS_NXDOMAIN)
			rc = 0;		/* no such name yet: an empty RRset */
		if (rc != 0) {
			if (rc == TLSAD_EDNS_REFUSED)
				rc = TLSAD_EDNS_NOTAUTH;	/* not serving the zone */
			goto out;
		}
		if (!ldns_pkt_aa(pkt)) {
			rc = TLSAD_EDNS_NOTAUTH;
			goto out;
		}
		if (has_cname(pkt)) {
			rc = TLSAD_EINVAL;
			snprintf(res->msg, sizeof(res->msg), "%s is a CNAME: update the "
			    "TLSA records at its target instead", c->owner);
			goto out;
		}
		rc = dns_pkt_tlsa(pkt, c->owner, &cur[i], &curttl[i]);
		if (rc != 0)
			goto out;
		ldns_pkt_free(pkt);
		pkt = NULL;
		/*
		 * The caller's safety checks were made on its own read: if the
		 * RRset moved since, they say nothing about this write.
		 */
		if (c->expect != NULL && !tlsa_rrset_equal(&cur[i], c->expect)) {
			rc = TLSAD_EDNS_NXRRSET;
			snprintf(res->msg, sizeof(res->msg), "the TLSA RRset at %s "
			    "changed since it was checked (%zu records now, %zu "
			    "then): someone else is changing it; nothing sent",
			    c->owner, cur[i].n, c->expect->n);
			goto out;
		}

		for (j = 0; c->add != NULL && j < c->add->n; j++) {
			if (c->del != NULL && tlsa_rrset_contains(c->del, &c->add->rr[j])) {
				rc = TLSAD_EINVAL;
				snprintf(res->msg, sizeof(res->msg), "a record for %s is both "
				    "to add and to delete", c->owner);
				goto out;
			}
			if (tlsa_rrset_contains(&cur[i], &c->add->rr[j]))
				continue;	/* already there: idempotent */
			ops[nops].owner = c->owner;
			ops[nops].add = 1;
			ops[nops].rr = &c->add->rr[j];
			/* Keep an existing RRset's TTL: BIND would change it for all. */
			ops[nops].ttl = cur[i].n > 0 ? curttl[i] : 0;
			nops++;
		}
		for (j = 0; c->del != NULL && j < c->del->n; j++) {
			if (!tlsa_rrset_contains(&cur[i], &c->del->rr[j]))
				continue;	/* already gone: idempotent */
			ops[nops].owner = c->owner;
			ops[nops].add = 0;
			ops[nops].rr = &c->del->rr[j];
			nops++;
		}
		if (nops > before) {
			pre[npre].owner = c->owner;
			pre[npre].exists = cur[i].n > 0;
			pre[npre].rrset = &cur[i];
			npre++;
		}
	}
	if (nops == 0) {
		snprintf(res->msg, sizeof(res->msg), "zone %s: nothing to change "
		    "(every record is already as wanted)", zone);
		rc = 0;
		goto out;
	}
	if (opts->dry_run) {
		for (i = 0; i < nops; i++) {
			if (ops[i].add)
				res->nadd++;
			else
				res->ndel++;
		}
		snprintf(res->msg, sizeof(res->msg), "zone %s: would add %zu and delete "
		    "%zu records (dry run)", zone, res->nadd, res->ndel);
		rc = 0;
		goto out;
	}
	rc = dnsupdate_send(zone, key, pre, npre, ops, nops,
	    opts->ttl ? opts->ttl : DEFAULT_TTL, opts, res);
	logged = 1;		/* dnsupdate_send logged any failure */
	if (rc == 0)
		snprintf(res->msg, sizeof(res->msg), "zone %s updated on %s@%u: %zu "
		    "added, %zu deleted", zone, opts->server, port, res->nadd, res->ndel);
out:
	if (rc != 0 && !logged) {
		if (res->msg[0] == '\0')
			fail_msg(rc, zone, key, opts, res);
		else if (!opts->quiet)
			log_warnx("update of zone %s via %s@%u: %s [%s]", zone,
			    opts->server != NULL ? opts->server : "?", port, res->msg,
			    tlsad_errname(rc));
	}
	ldns_pkt_free(pkt);
	if (cur != NULL)
		for (i = 0; i < nchanges; i++)
			tlsa_rrset_clear(&cur[i]);
	free(cur);
	free(curttl);
	free(pre);
	free(ops);
	return rc;
}
