/*
 * dnsupdate.h -- change TLSA records with one RFC 2136 UPDATE per zone,
 * TSIG-signed, over TCP, the reply's TSIG verified.
 *
 * Contract:
 *  - One UPDATE message per call, carrying the changes of every owner name
 *    of the zone (batch).  A call whose changes are all no-ops (adds already
 *    present, deletes already absent) sends nothing and succeeds: re-running
 *    is harmless.
 *  - Records are added one by one and deleted one by one (class NONE), never
 *    as a whole RRset.
 *  - Prerequisites pin each touched RRset to what we read just before (see
 *    dnsupdate.c): if someone else changed it in between, the server answers
 *    NXRRSET or YXRRSET and nothing at all changes (RFC 2136: an UPDATE is
 *    atomic).
 *  - Every failure is one named code from error.h, logged once here with the
 *    zone and server, plus a sentence for a mail administrator in
 *    result->msg.
 */
#ifndef TLSAD_DNSUPDATE_H
#define TLSAD_DNSUPDATE_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "tlsad/tlsa.h"
#include "tlsad/tsig.h"

/* The changes wanted at one owner name. */
struct dnsupdate_change {
	const char			*owner;	/* absolute TLSA owner name, in the zone */
	const struct tlsa_rrset		*add;	/* records that must be present; NULL: none */
	const struct tlsa_rrset		*del;	/* records that must be absent; NULL: none */
	/*
	 * The RRset as the caller read it and checked it (RFC 7671 section 8,
	 * not empty), or NULL.  When set, dnsupdate_apply's own fresh read
	 * must be the same set, or nothing is sent: the check would have been
	 * made on the wrong RRset.  Callers that fill this struct field by
	 * field must zero it first.
	 */
	const struct tlsa_rrset		*expect;
};

/*
 * A prerequisite on one owner's TLSA RRset (RFC 2136 section 2.4):
 * exists == 0: "RRset does not exist" (class NONE);
 * exists == 1: "RRset exists (value dependent)": exactly the records of rrset.
 */
struct dnsupdate_prereq {
	const char			*owner;
	int				 exists;
	const struct tlsa_rrset		*rrset;	/* when exists */
};

/* One exact record-level change of an UPDATE message. */
struct dnsupdate_op {
	const char			*owner;
	int				 add;	/* 1: add rr, 0: delete exactly rr */
	const struct tlsa_rr		*rr;
	uint32_t			 ttl;	/* add: TTL; 0: the ttl argument of send/build */
};

struct dnsupdate_opts {
	const char	*server;	/* numeric address of the primary */
	uint16_t	 port;		/* 53 */
	unsigned	 timeout_ms;	/* the whole exchange; 0: DNS_TIMEOUT_DEFAULT_MS */
	uint32_t	 ttl;		/* TTL for a new RRset (an existing one keeps its TTL); 0: 3600 */
	uint16_t	 fudge;		/* TSIG fudge in s; 0: 300 */
	int		 dry_run;	/* read and compute, send nothing */
	int		 quiet;		/* do not log failures (the caller will) */
};

struct dnsupdate_result {
	int		 sent;		/* an UPDATE went out (0: no-op or dry run or failed before) */
	size_t		 nadd;		/* records added by the message (or that would be, dry run) */
	size_t		 ndel;		/* records deleted by it */
	int		 rcode;		/* the reply's RCODE, -1 when there was no reply */
	int		 tsig_error;	/* TSIG error field of the reply (16 BADSIG, 17 BADKEY, 18 BADTIME), 0 none */
	int		 has_offset;	/* BADTIME: clock_offset_s is meaningful */
	int64_t		 clock_offset_s; /* BADTIME: server time - our time, seconds */
	char		 msg[512];	/* failure: a sentence for a mail admin; success: a summary */
};

/*
 * The high-level call: for each change, read the owner's TLSA RRset from
 * the primary itself (RD=0, over TCP), compute the record-level operations
 * (add = wanted-and-absent, delete = unwanted-and-present), pin each
 * touched RRset with a prerequisite built from that read, and send the one
 * UPDATE for zone.  A no-op sends nothing and returns 0.  owner names
 * outside zone give TLSAD_EDNS_NOTZONE before anything is sent.  A change
 * whose expect differs from the fresh read gives TLSAD_EDNS_NXRRSET (the
 * RRset changed under us) before anything is sent.
 * Returns 0 or a code from error.h; res (required) says what happened.
 */
int	dnsupdate_apply(const char *zone, const struct tsig_key *key,
	    const struct dnsupdate_change *changes, size_t nchanges,
	    const struct dnsupdate_opts *opts, struct dnsupdate_result *res);

/*
 * The low level: send exactly these prerequisites and operations in one
 * UPDATE (no read, no diff).  Used by dnsupdate_apply, and by tests that
 * need stale prerequisites.  nops == 0 is allowed (a prerequisite-only
 * message).
 */
int	dnsupdate_send(const char *zone, const struct tsig_key *key,
	    const struct dnsupdate_prereq *pre, size_t npre,
	    const struct dnsupdate_op *ops, size_t nops, uint32_t ttl,
	    const struct dnsupdate_opts *opts, struct dnsupdate_result *res);

/*
 * Build the UPDATE packet (unsigned) for dnsupdate_send; exposed for unit
 * tests.  *out is the caller's (ldns_pkt_free).
 */
int	dnsupdate_build(const char *zone, const struct dnsupdate_prereq *pre,
	    size_t npre, const struct dnsupdate_op *ops, size_t nops,
	    uint32_t ttl, ldns_pkt **out);

/*
 * Map a parsed reply (already checked to match the request) to a code:
 * NOERROR -> 0; a TSIG error in the reply's TSIG RR (BADSIG, BADKEY,
 * BADTIME, BADTRUNC; normally with RCODE NOTAUTH) -> TLSAD_ETSIG_*; else
 * dns_rcode_error(rcode).  Fills res->rcode, res->tsig_error and, for
 * BADTIME, res->clock_offset_s from the server time in the reply (Other
 * Data when it holds 6 bytes, else Time Signed) minus now_s.  Pure.
 */
int	dnsupdate_map_reply(const ldns_pkt *reply, int64_t now_s,
	    struct dnsupdate_result *res);

/*
 * A sentence for a mail admin about code for this zone and server (the
 * REFUSED one says "the key is not allowed to update ...: check
 * update-policy").  Written into buf (NUL-terminated, truncated to len).
 */
void	dnsupdate_explain(int code, const char *zone, const char *server,
	    uint16_t port, const char *keyname, const struct dnsupdate_result *res,
	    char *buf, size_t len);

#endif /* TLSAD_DNSUPDATE_H */
