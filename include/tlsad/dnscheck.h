/*
 * dnscheck.h -- where a lineage's TLSA records live, and proof that a
 * change reached every authoritative address and validates.
 *
 * Three steps, each usable alone:
 *  1. discovery (dnscheck_discover): for every TLSA owner name, follow a
 *     CNAME (RFC 7671 section 7: the records then live at the target), find
 *     the enclosing zone by SOA queries walking up, the update server (the
 *     SOA MNAME's addresses unless update-server is set) and every
 *     authoritative address (every A and AAAA of every NS, unless
 *     auth-server is set).  Asked: the configured resolvers (RD=1), then
 *     the configured auth/update servers (RD=0), in two rounds; with none of
 *     these, the resolv.conf servers.
 *  2. observation (dnscheck_observe): per authoritative address, RD=0, the
 *     zone's SOA serial and the TLSA RRset (with its TTL) at every target.
 *     Validation (dnscheck_validate): one FRESH libunbound context per
 *     call (no stale cache), the trust anchor file, forwarding to the
 *     resolvers or, without resolvers, stubs to the configured servers.
 *  3. judgement (dnscheck_evaluate, pure) and the wait
 *     (dnscheck_wait_step: check once, say when to check next; for the
 *     daemon's timers) with a blocking wrapper for the CLI (dnscheck_wait).
 *
 * I/O functions log at debug level only; failures are returned as codes
 * plus a sentence in a caller's buffer, so the caller logs once with its
 * context.  Pure functions are marked so.
 */
#ifndef TLSAD_DNSCHECK_H
#define TLSAD_DNSCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "tlsad/cert.h"
#include "tlsad/conf.h"
#include "tlsad/hold.h"
#include "tlsad/tlsa.h"
#include "tlsad/tsig.h"

#define DNSCHECK_NAME_MAX	256	/* presentation name incl. final dot and NUL */
#define DNSCHECK_CNAME_MAX	8	/* CNAME hops followed */
#define DNSCHECK_ADDR_MAX	64	/* addresses per zone */

/* One server address, and where we learned it. */
struct dnscheck_addr {
	char		host[64];		/* numeric v4 or v6 */
	uint16_t	port;
	char		via[DNSCHECK_NAME_MAX];	/* NS or MNAME name, or "auth-server" */
};

/* One zone holding some of the lineage's TLSA records. */
struct dnscheck_zone {
	char			 apex[DNSCHECK_NAME_MAX];	/* absolute, final dot */
	char			 mname[DNSCHECK_NAME_MAX];	/* SOA MNAME */
	uint32_t		 serial;	/* at discovery */
	uint32_t		 soa_ttl;
	uint32_t		 negttl;	/* min(SOA TTL, SOA MINIMUM) */
	struct dnscheck_addr	 primary;	/* where UPDATEs go */
	struct dnscheck_addr	*auth;		/* every address to check */
	size_t			 nauth;
};

/* One configured TLSA owner name. */
struct dnscheck_name {
	char	owner[DNSCHECK_NAME_MAX];	/* as configured */
	char	target[DNSCHECK_NAME_MAX];	/* where the records live */
	int	is_cname;			/* 1: owner is a CNAME to target */
	size_t	zone;				/* index into plan->zones (target's zone) */
};

struct dnscheck_plan {
	struct dnscheck_name	*names;
	size_t			 nnames;
	struct dnscheck_zone	*zones;
	size_t			 nzones;
};

struct dnscheck_validated;

/* What the checks need from the configuration (borrowed pointers). */
struct dnscheck_cfg {
	const struct conf_addr	*resolvers;	/* forwarders; may be empty */
	size_t			 nresolvers;
	const struct conf_addr	*auth;		/* lineage auth-server; may be empty */
	size_t			 nauth;
	const struct conf_addr	*update_server;	/* NULL: the SOA MNAME */
	uint16_t		 dns_port;	/* for addresses found via NS/MNAME */
	unsigned		 timeout_ms;	/* one exchange */
	const char		*trust_anchor_file;
	const char		*resolv_conf;	/* NULL: /etc/resolv.conf */
	unsigned long		*nqueries;	/* if not NULL: += every query sent */
	unsigned long		*nvalidations;	/* if not NULL: += every validating lookup */
	/*
	 * Seams for unit tests; NULL: the real thing.  query replaces
	 * dns_query (same contract); validate replaces the libunbound lookups
	 * of dnscheck_validate (out is already initialised); wall_ms replaces
	 * util_now_wall_ms for the snapshot time stamps.
	 */
	int			(*query)(void *arg, const char *host,
				    uint16_t port, const char *name,
				    ldns_rr_type type, int rd, unsigned timeout_ms,
				    ldns_pkt **out);
	int			(*validate)(void *arg,
				    const struct dnscheck_plan *plan,
				    struct dnscheck_validated *out, char *why,
				    size_t whylen);
	int64_t			(*wall_ms)(void *arg);	/* the wall clock */
	void			*seam_arg;
};

/* Fill cfg from conf and lineage (pointers into them; counters NULL). */
void	dnscheck_cfg_init(struct dnscheck_cfg *cfg, const struct conf *conf,
	    const struct conf_lineage *lin);

/*
 * Discover the plan for the names (absolute, final dot).  On success *out
 * is the caller's (dnscheck_plan_free).  On failure a sentence in why:
 * TLSAD_EDNS_NOZONE, TLSAD_EDNS_NOSERVERS, TLSAD_EDNS_CNAMELOOP, transport
 * errors of the last server tried.
 */
int	dnscheck_discover(const struct dnscheck_cfg *cfg,
	    char *const *names, size_t nnames, struct dnscheck_plan **out,
	    char *why, size_t whylen);
void	dnscheck_plan_free(struct dnscheck_plan *plan);

/* What one authoritative address served at one check. */
struct dnscheck_obs {
	size_t			 zone;		/* plan zone index */
	size_t			 addr;		/* index into that zone's auth */
	int			 rc;		/* 0, or why this address gave no answer */
	char			 err[400];	/* rc as a sentence */
	uint32_t		 serial;	/* when rc == 0 */
	struct tlsa_rrset	*rrset;		/* [plan->nnames]; names of other zones empty */
	uint32_t		*ttl;		/* [plan->nnames]; 0 when no RRset */
};

struct dnscheck_snapshot {
	struct dnscheck_obs	*obs;
	size_t			 nobs;
	size_t			 nnames;	/* length of each obs's rrset/ttl arrays */
	int64_t			 wall_ms;	/* when the observation ended */
};

/* Ask every address of every zone; per-address failures are in obs->rc. */
int	dnscheck_observe(const struct dnscheck_plan *plan,
	    const struct dnscheck_cfg *cfg, struct dnscheck_snapshot *snap);
void	dnscheck_snapshot_clear(struct dnscheck_snapshot *snap);

/* The SOA serial of zone z at its primary (the update server), RD=0. */
int	dnscheck_primary_serial(const struct dnscheck_plan *plan, size_t z,
	    const struct dnscheck_cfg *cfg, uint32_t *serial);

/*
 * The TLSA RRset of every target as the update server itself serves it
 * (RD=0): what an UPDATE acts on.  out has plan->nnames initialised sets
 * (filled here); ttl (if not NULL) plan->nnames entries, 0 when no RRset.
 */
int	dnscheck_primary_rrsets(const struct dnscheck_plan *plan,
	    const struct dnscheck_cfg *cfg, struct tlsa_rrset *out,
	    uint32_t *ttl, char *why, size_t whylen);

/*
 * Pure.  1 when an earlier name of plan (index < i) has the same target as
 * name i: several owners may be CNAMEs to one shared target (RFC 7671
 * section 7), whose records are then changed, checked and printed once.
 */
int	dnscheck_same_target(const struct dnscheck_plan *plan, size_t i);

/*
 * Send the change: one RFC 2136 UPDATE per zone (dnsupdate_apply, which
 * reads, diffs, pins with prerequisites, signs and verifies), carrying for
 * each name of the zone add[i] (must be present) and del[i] (must be
 * absent); NULL entries or arrays mean none.  Names sharing a target
 * (dnscheck_same_target) must want the same change: the first one's is
 * sent.  A new RRset gets the zone's
 * SOA TTL.  Stops at the first zone that fails (zones before it stay
 * changed: each UPDATE is atomic, the set is not); why names the zone, the
 * server and the reason in a sentence for a mail admin.  On success
 * min_serial[z] (plan->nzones entries, if not NULL) is the primary's serial
 * after the change; *done (if not NULL) counts what happened.
 * dry_run: read and compute only (done counts what would be changed).
 * expect (plan->nnames sets, or NULL): the RRsets the caller read and
 * checked (RFC 7671 section 8, not empty); when the primary's fresh read in
 * dnsupdate_apply finds another RRset, nothing is sent for that zone
 * (TLSAD_EDNS_NXRRSET): someone changed it between the check and the write.
 */
struct dnscheck_applied {
	size_t	nsent;		/* UPDATE messages sent */
	size_t	nadd;		/* records added (or to add, dry run) */
	size_t	ndel;		/* records deleted (or to delete) */
	char	summary[512];	/* "dane.example.: 1 added, 0 deleted; ..." */
};

int	dnscheck_apply(const struct dnscheck_plan *plan,
	    const struct dnscheck_cfg *cfg, const struct tsig_key *key,
	    const struct tlsa_rrset *const *add,
	    const struct tlsa_rrset *const *del,
	    const struct tlsa_rrset *expect, int dry_run,
	    uint32_t *min_serial, struct dnscheck_applied *done, char *why,
	    size_t whylen);

/* A validating lookup of one owner name. */
struct dnscheck_validated {
	int			 rc;		/* 0 secure; BOGUS, INSECURE, RESOLVE */
	int			 secure;
	int			 bogus;
	int			 nxdomain;
	int			 rcode;
	char			 why_bogus[256];
	struct tlsa_rrset	 rrset;		/* the records (also when not secure) */
	uint32_t		 ttl;
};

/*
 * Validate every owner name of plan (the configured name: a CNAME is
 * followed by the validator) with one fresh libunbound context.  out has
 * plan->nnames entries (initialised here; clear with
 * dnscheck_validated_clear).  Returns 0 when every lookup was done (each
 * entry's rc says secure or not), TLSAD_EDNSSEC_ANCHOR when the anchor file
 * is unusable, TLSAD_ENOMEM, or TLSAD_EDNSSEC_RESOLVE (context setup).
 */
int	dnscheck_validate(const struct dnscheck_plan *plan,
	    const struct dnscheck_cfg *cfg, struct dnscheck_validated *out,
	    char *why, size_t whylen);
void	dnscheck_validated_clear(struct dnscheck_validated *v);

/* What must hold after a change: per name (plan index) and per zone. */
struct dnscheck_expect {
	const struct tlsa_rrset	**add;		/* [nnames] must be served; NULL entries: none */
	const struct tlsa_rrset	**del;		/* [nnames] must be absent; NULL entries: none */
	const uint32_t		 *min_serial;	/* [nzones] primary's serial after the change; NULL: any */
};

struct dnscheck_verdict {
	int	done;			/* every address serves the change */
	size_t	nlagging;		/* addresses that do not */
	char	lagging[1024];		/* "ADDR@PORT (via): why; ..." */
};

/*
 * Pure.  Compare serials by RFC 1982 arithmetic: 1 when a >= b.
 */
int	dnscheck_serial_ge(uint32_t a, uint32_t b);

/*
 * Pure.  Judge snap against exp: an address propagated when it answered,
 * its serial >= min_serial, and at every name of its zone it serves every
 * add record and no del record.  Returns 0 (verdict filled) or TLSAD_EINVAL.
 */
int	dnscheck_evaluate(const struct dnscheck_plan *plan,
	    const struct dnscheck_snapshot *snap,
	    const struct dnscheck_expect *exp, struct dnscheck_verdict *v);

/*
 * Pure.  The hold inputs from a snapshot taken BEFORE the change: per name
 * whether any address served a TLSA RRset and the largest TTL served, else
 * the zone's negative TTL.  names has plan->nnames entries; their name
 * pointers borrow from plan.
 */
void	dnscheck_hold_names(const struct dnscheck_plan *plan,
	    const struct dnscheck_snapshot *before, struct hold_name *names);

/*
 * Pure.  The union of the RRsets served at name index i by the addresses
 * that answered (what the RRset "is" when all agree); 0 or TLSAD_ENOMEM.
 * *agree (if not NULL) gets 1 when every answering address served the same.
 */
int	dnscheck_rrset_union(const struct dnscheck_snapshot *snap, size_t i,
	    struct tlsa_rrset *out, int *agree);

/* Pure.  Parse resolv.conf text: up to max "nameserver" addresses, port 53. */
size_t	dnscheck_parse_resolv(const char *text, struct conf_addr *out,
	    size_t max);

/*
 * The wait for validated propagation, as a step function.  The caller owns
 * the struct; plan, cfg and exp are borrowed and must outlive it.
 */
struct dnscheck_wait {
	const struct dnscheck_plan	*plan;
	const struct dnscheck_cfg	*cfg;
	const struct dnscheck_expect	*exp;
	struct hold_poll		 poll;
	int64_t				 t0_wall_ms;	/* first check where all addresses served the change; 0: not yet */
	struct dnscheck_verdict		 verdict;	/* of the last check */
	unsigned			 checks;
	char				 status[1280];	/* the last check in one sentence */
};

void	dnscheck_wait_init(struct dnscheck_wait *w,
	    const struct dnscheck_plan *plan, const struct dnscheck_cfg *cfg,
	    const struct dnscheck_expect *exp, int64_t now_mono_ms,
	    unsigned poll_min_ms, unsigned poll_max_ms, unsigned timeout_s);

/*
 * Check once (observe, then validate when every address serves the change).
 * Returns:
 *   0                       propagated everywhere and the validated RRsets
 *                           are secure and hold the add records and none of
 *                           the del records; w->t0_wall_ms is set.
 *   TLSAD_EDNS_LAGGING      some address lags (w->verdict names them), or
 *   TLSAD_EDNSSEC_MISSING   the validated answer lacks the change yet:
 *                           *next_mono_ms is when to check again.
 *   TLSAD_ETIMEOUT          still pending at the deadline (w->status says what).
 *   TLSAD_EDNSSEC_BOGUS, TLSAD_EDNSSEC_INSECURE, TLSAD_EDNSSEC_ANCHOR, ...:
 *                           stop; w->status says why (why_bogus included).
 * t0 is the later of now_wall_ms and the wall clock when the observation
 * ended; now_mono_ms drives the schedule.  One step blocks for the queries
 * it makes (each bounded by dns-timeout); it never sleeps.
 */
int	dnscheck_wait_step(struct dnscheck_wait *w, int64_t now_mono_ms,
	    int64_t now_wall_ms, int64_t *next_mono_ms);

/*
 * Blocking: step, sleep until the next time, repeat.  Prints progress
 * (lagging addresses) at info level when it changes.  Same returns.
 */
int	dnscheck_wait(struct dnscheck_wait *w);

/*
 * A lineage's DNS session: the configuration, the lineage as it is now in
 * live-dir, the records its certificate needs, and the discovered plan.
 * Used by tlsactl publish/retire/dns, and usable by the daemon.
 */
struct lineage_snapshot;

struct dnscheck_session {
	const struct conf		*conf;		/* borrowed */
	const struct conf_lineage	*lin;		/* borrowed, inside conf */
	struct dnscheck_cfg		 cfg;
	struct lineage_snapshot		*lineage;	/* live-dir/NAME as read now */
	struct tlsa_rrset		 want;		/* records of its certificate, per the lineage's tlsa params */
	struct dnscheck_plan		*plan;
	unsigned long			 nqueries;	/* counted through cfg */
	unsigned long			 nvalidations;
};

/*
 * Find the lineage in conf, read it (lineage_read: a lineage read
 * mid-renewal fails with TLSAD_ELINEAGE_INCONSISTENT), compute its records
 * and discover the plan.  On failure why says what and where; the session
 * is left closed (safe to dnscheck_session_close).
 */
int	dnscheck_session_open(struct dnscheck_session *s,
	    const struct conf *conf, const char *lineage_name, char *why,
	    size_t whylen);
void	dnscheck_session_close(struct dnscheck_session *s);

/*
 * Load the lineage's TSIG key: its key-file, else the key: clause's file.
 * On failure why says which file and what is wrong (no key configured:
 * TLSAD_ETSIG_KEYFILE).  An hmac-sha1 key is logged as a warning here.
 */
int	dnscheck_load_key(const struct conf *conf,
	    const struct conf_lineage *lin, struct tsig_key **key, char *why,
	    size_t whylen);

/*
 * Records of chain for params[0..n-1], added to set (initialised).
 * Pure apart from hashing.
 */
int	dnscheck_chain_records(const struct cert_chain *chain,
	    const struct tlsa_param *params, size_t n, struct tlsa_rrset *set);

/*
 * Pure.  The tlsactl exit status for a code: 0 ok; 2 refused by a safety
 * rule (RFC 7671 section 8, empty RRset, bogus, insecure); 3 timeout (a
 * deadline passed, some server still lags); 64 usage; 1 any other failure.
 */
int	dnscheck_exit_status(int code);

#endif /* TLSAD_DNSCHECK_H */
