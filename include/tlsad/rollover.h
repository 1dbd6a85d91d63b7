/*
 * rollover.h -- the key-rollover state machine of one lineage.
 *
 * Pure: no I/O, no clock, no logging.  The daemon (the "executor") owns all
 * I/O.  It drives a lineage with one loop:
 *
 *	load the state (state_load) or rollover_state_init() it
 *	obs = { what the lineage looks like now; done = ROLLOVER_ACT_NONE }
 *	for (;;) {
 *		rollover_step(&st, &obs, now, &params, &next, &act);
 *		if (!rollover_state_equal(&st, &next))
 *			state_save(dir, name, &next);	  (BEFORE the action)
 *		st = next;
 *		perform act, fill a fresh obs with its result (obs.done =
 *		act.type), and with the lineage as read now;
 *		for ROLLOVER_ACT_WAIT: sleep until act.until (or an event), then
 *		call step again with obs.done = ROLLOVER_ACT_WAIT;
 *		for ROLLOVER_ACT_NONE: sleep until an event (inotify, kick,
 *		rescan), then call step again with obs.done = ROLLOVER_ACT_NONE
 *		(and obs.verify = 1 after SIGHUP or at the periodic rescan).
 *	}
 *
 * The state is saved before its action is performed (write-ahead): after a
 * crash the saved stage names the action that may or may not have happened,
 * and the executor restarts with obs.done = ROLLOVER_ACT_NONE, which makes
 * the machine issue that action again.  Every action is therefore
 * idempotent: adding a present record, deleting an absent one, writing the
 * same deploy file, reloading, probing, restoring.
 *
 * Keys are identified by the SHA-256 of the leaf certificate's
 * SubjectPublicKeyInfo: the association data of a TLSA 3 1 1 record.  The
 * machine reasons about keys; the executor maps a key to every record the
 * lineage's config asks for (every tlsa-name, every tlsa parameter) when it
 * adds or deletes, and maps the records it sees back to keys when it checks.
 *
 * Invariant (see docs/DESIGN.md): Postfix never serves a key whose TLSA
 * record is not published and validated, and the TLSA RRset never lacks a
 * record for a key Postfix may serve.  The keys Postfix may serve are the
 * deployed key and, from the moment DEPLOY is issued until a good probe or a
 * completed rollback, the staged key.  The machine therefore:
 *   - issues DEPLOY only when the target is the deployed key (same key,
 *     new certificate), or when a DNS check made after hold_until showed the
 *     target's records on every authoritative address and in the secure
 *     validated RRset;
 *   - never issues DNS_DELETE for the deployed, staged or target key;
 *   - on doubt (insecure, bogus, unknown RRset, inconsistent or unreadable
 *     lineage) changes nothing and says why in act->reason.
 *
 * Times are wall-clock milliseconds since the epoch (they survive a reboot
 * in the state file).  A clock that steps back only makes waits longer.
 */
#ifndef TLSAD_ROLLOVER_H
#define TLSAD_ROLLOVER_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of the SPKI: the data of a TLSA 3 1 1 record. */
#define ROLLOVER_KEY_LEN	32
/* Keys tracked per lineage (deployed, target, staged, surplus, foreign). */
#define ROLLOVER_KEYS_MAX	16
/* Longest error message kept in the state (with its NUL). */
#define ROLLOVER_MSG_MAX	256
/* Longest act->reason (with its NUL). */
#define ROLLOVER_REASON_MAX	256

struct rollover_key {
	uint8_t	spki[ROLLOVER_KEY_LEN];
};

/* A small set of distinct keys. */
struct rollover_keyset {
	struct rollover_key	key[ROLLOVER_KEYS_MAX];
	size_t			n;
};

enum rollover_stage {
	ROLLOVER_IDLE = 0,	/* deployed == live; nothing due */
	ROLLOVER_PUBLISH,	/* DNS_ADD of the target (and deployed) records */
	ROLLOVER_PROPAGATE,	/* DNS_CHECK until everywhere + secure */
	ROLLOVER_HOLD,		/* WAIT until hold_until, then a last DNS_CHECK */
	ROLLOVER_DEPLOY,	/* write key + chain of the target */
	ROLLOVER_RELOAD,	/* reload the MTA */
	ROLLOVER_PROBE,		/* STARTTLS probe: served key == target, DANE ok */
	ROLLOVER_RETIRE,	/* DNS_DELETE of keys no longer needed */
	ROLLOVER_CONFIRM,	/* DNS_CHECK until they are gone everywhere */
	ROLLOVER_FAILED,	/* WAIT until next_attempt, then retry_stage */
	ROLLOVER_ROLLBACK,	/* RESTORE the previous file, then RELOAD */
};
#define ROLLOVER_NSTAGES	(ROLLOVER_ROLLBACK + 1)

enum rollover_act_type {
	ROLLOVER_ACT_NONE = 0,	/* nothing to do until an outside event */
	ROLLOVER_ACT_WAIT,	/* call step again at act.until (or on an event) */
	ROLLOVER_ACT_DNS_ADD,	/* add the records of act.keys (one UPDATE per zone) */
	ROLLOVER_ACT_DNS_CHECK,	/* check every auth address + validate; report act.keys */
	ROLLOVER_ACT_DNS_DELETE, /* delete the records of act.keys, one by one */
	ROLLOVER_ACT_DEPLOY,	/* write archive version act.version (key act.key) to the deploy file */
	ROLLOVER_ACT_RELOAD,	/* run the reload command */
	ROLLOVER_ACT_PROBE,	/* probe every verify endpoint; report the served key */
	ROLLOVER_ACT_RESTORE,	/* put the deploy file back to act.key/act.version, or
				   remove it when !act.has_key (there was none) */
};
#define ROLLOVER_NACTS		(ROLLOVER_ACT_RESTORE + 1)

/* The durable state of one lineage (state.c writes every field). */
struct rollover_state {
	enum rollover_stage	stage;
	/* FAILED: the stage a retry resumes at. */
	enum rollover_stage	retry_stage;

	/* What certbot's live/ held when last seen consistent. */
	int			has_live;
	struct rollover_key	live;
	uint32_t		live_version;	/* archive N of cert<N>.pem */

	/* What tlsad wrote to the deploy file and a probe saw served. */
	int			has_deployed;
	struct rollover_key	deployed;
	uint32_t		deployed_version;

	/* The key being rolled to. */
	int			has_target;
	struct rollover_key	target;
	uint32_t		target_version;

	/*
	 * Written to the deploy file (DEPLOY issued) but not yet confirmed by a
	 * good probe nor undone by a completed rollback: Postfix may serve it.
	 */
	int			has_staged;
	struct rollover_key	staged;
	uint32_t		staged_version;

	/*
	 * Keys whose records tlsad added or keeps (the deployed key's, the
	 * target's) or has yet to retire (a superseded target, the previous
	 * deployed key, foreign 3 1 1 records).  A key leaves this set only
	 * when a DNS check showed its records gone from every address.
	 */
	struct rollover_keyset	published;

	int64_t			stage_since;	/* when the current stage was entered */
	int64_t			t0;		/* first check that saw the target everywhere; 0: not yet */
	int64_t			hold_until;	/* t0 + hold_ttl * multiplier + margin; 0: not computed */
	uint32_t		hold_ttl;	/* seconds: largest TTL seen (RRset or negative) */
	int64_t			validated_at;	/* last check that saw the target everywhere + secure */
	int64_t			next_attempt;	/* next poll / probe / retry; 0: at once */
	int64_t			deadline;	/* PROPAGATE/CONFIRM give up after this */
	uint32_t		polls;		/* checks or probes made in this stage */
	int			substep;	/* ROLLBACK: 0 restore, 1 reload */
	int			adopt;		/* first install: may adopt a record already validated */

	uint32_t		failures;	/* consecutive failures (backoff exponent) */
	int			last_error;	/* TLSAD_E* of the last failure, 0: none */
	int64_t			last_error_at;
	char			last_message[ROLLOVER_MSG_MAX];
	int64_t			last_success;	/* last rollover (or deploy) that completed */
};

/* What the lineage under live/ looks like now. */
enum rollover_live {
	ROLLOVER_LIVE_UNKNOWN = 0,	/* not read (treated as "no change") */
	ROLLOVER_LIVE_OK,		/* consistent: live_key / live_version valid */
	ROLLOVER_LIVE_INCONSISTENT,	/* mid-renewal: wait */
	ROLLOVER_LIVE_ERROR,		/* unreadable / garbage: live_error says why */
};

enum rollover_dnssec {
	ROLLOVER_DNSSEC_UNKNOWN = 0,	/* the validating lookup failed */
	ROLLOVER_DNSSEC_SECURE,
	ROLLOVER_DNSSEC_INSECURE,
	ROLLOVER_DNSSEC_BOGUS,
};

/*
 * What a DNS check found for one key.  "Its records" are every record the
 * config makes of the key: each tlsa-name, each tlsa parameter.
 */
struct rollover_key_obs {
	struct rollover_key	key;
	/*
	 * Every authoritative address serves all its records, at a SOA serial
	 * at least the primary's after tlsad's last UPDATE (a secondary that
	 * has not seen a later delete must not count as having the record).
	 */
	int			everywhere;
	int			nowhere;	/* no auth address serves any of its records */
	int			validated;	/* all its records are in the secure validated RRset */
};

/* The result of ROLLOVER_ACT_DNS_CHECK. */
struct rollover_dns_obs {
	enum rollover_dnssec	dnssec;
	/*
	 * One entry per key asked (act.keys) plus one per other 3 1 1 record
	 * seen on any address (a foreign key).  A key asked but not listed is
	 * unknown: treated as not propagated and not gone.
	 */
	struct rollover_key_obs	keys[ROLLOVER_KEYS_MAX];
	size_t			nkeys;
	uint32_t		ttl;		/* largest TTL of the TLSA RRsets as served */
	uint32_t		neg_ttl;	/* the zone's negative TTL (SOA) */
	unsigned		lagging;	/* addresses that lag (for the reason text) */
};

/* Input of one step. */
struct rollover_obs {
	/* The lineage as read just now. */
	enum rollover_live	live;
	struct rollover_key	live_key;
	uint32_t		live_version;
	int			live_error;	/* ROLLOVER_LIVE_ERROR: a TLSAD_E* code */

	/*
	 * 1: when idle, check the DNS now (after SIGHUP, at the periodic
	 * rescan): a served key whose records went missing is published again.
	 */
	int			verify;

	/*
	 * The action performed since the last step: the type of the action
	 * step returned (then result/message/dns/served are its result), or
	 * ROLLOVER_ACT_NONE when nothing was performed (first call after a
	 * start, or an event woke the executor early).  A result for another
	 * action than the one the stage expects is ignored.
	 */
	enum rollover_act_type	done;
	int			result;		/* 0 or a TLSAD_E* code */
	const char		*message;	/* detail for a failure, or NULL (borrowed) */
	struct rollover_dns_obs	dns;		/* done == DNS_CHECK && result == 0 */
	struct rollover_key	served;		/* done == PROBE && result == 0: key served */
};

/* Tunables; rollover_params_default() fills conservative production values. */
struct rollover_params {
	uint32_t	ttl_multiplier;		/* 2 (RFC 7671 section 8.1) */
	int64_t		hold_margin_ms;		/* 60 s */
	int64_t		propagation_timeout_ms;	/* 1 h: PROPAGATE and CONFIRM */
	int64_t		poll_min_ms;		/* first DNS poll interval: 500 ms */
	int64_t		poll_max_ms;		/* poll backoff cap: 60 s */
	int64_t		retry_min_ms;		/* first retry after a failure: 60 s */
	int64_t		retry_max_ms;		/* retry backoff cap: 1 h */
	uint32_t	probe_attempts;		/* probes before a rollback: 3 */
	int64_t		probe_interval_ms;	/* between probes: 2 s */
	int		retire_foreign;		/* retire 3 1 1 records of unknown keys: 1 */
};

/* One thing to do next. */
struct rollover_action {
	enum rollover_act_type	type;
	int64_t			until;		/* WAIT: when to call step again */
	/* DNS_ADD / DNS_DELETE: the keys; DNS_CHECK: the keys to report on. */
	struct rollover_keyset	keys;
	/* DEPLOY / RESTORE / PROBE: the key (and archive version) meant. */
	int			has_key;
	struct rollover_key	key;
	uint32_t		version;
	/* Why (always set): "holding 37/300 s", "lineage inconsistent", ... */
	char			reason[ROLLOVER_REASON_MAX];
};

/* A fresh lineage: IDLE, nothing known. */
void	rollover_state_init(struct rollover_state *st);

/* Fill p with the production defaults listed in struct rollover_params. */
void	rollover_params_default(struct rollover_params *p);

/*
 * Decide what to do next.  st is the saved state, obs what the executor
 * saw, now the wall clock in ms.  Writes the state to save (*next, which may
 * be st itself only if the caller does not need the old one) and exactly one
 * action (*act).  Returns 0, or TLSAD_EINVAL for a NULL argument or a st
 * that fails rollover_state_check() (then *next = *st and act is NONE with
 * the reason).  Never fails otherwise: errors of the executor are
 * observations, folded into FAILED / ROLLBACK.
 */
int	rollover_step(const struct rollover_state *st,
	    const struct rollover_obs *obs, int64_t now,
	    const struct rollover_params *p, struct rollover_state *next,
	    struct rollover_action *act);

/*
 * Check the structural invariants of a state (the deployed and staged keys
 * are in published; DEPLOY/RELOAD/PROBE have a staged target that was
 * validated after its hold or is the deployed key; counts in range).
 * Returns 0 or TLSAD_ESTATE_CORRUPT with a sentence in why.
 */
int	rollover_state_check(const struct rollover_state *st, char *why,
	    size_t whylen);

/* Field-by-field equality (the executor saves when this is 0). */
int	rollover_state_equal(const struct rollover_state *a,
	    const struct rollover_state *b);

/* "idle", "publish", ... ; "?" for an out-of-range value. */
const char	*rollover_stage_name(enum rollover_stage stage);
/* The stage of a name; -1 when unknown. */
int		 rollover_stage_parse(const char *name);
/* "none", "wait", "dns-add", ... */
const char	*rollover_act_name(enum rollover_act_type type);

/*
 * One line for `tlsactl status`: what the lineage is doing and when it
 * will next act ("holding 37/300 s", "failed (DNS_REFUSED): ...; retry in
 * 120 s", "up to date").  Always NUL-terminates buf (truncating).
 */
void	rollover_describe(const struct rollover_state *st, int64_t now,
	    char *buf, size_t len);

/* Key helpers. */
int	rollover_key_equal(const struct rollover_key *a,
	    const struct rollover_key *b);
/* 64 lower-case hex digits + NUL into out (65 bytes). */
void	rollover_key_hex(const struct rollover_key *k, char *out);
/* The first 8 hex digits + NUL (9 bytes), for status lines. */
void	rollover_key_short(const struct rollover_key *k, char *out);
int	rollover_keyset_contains(const struct rollover_keyset *set,
	    const struct rollover_key *k);
/* Add k unless present; TLSAD_ETOOBIG when full. */
int	rollover_keyset_add(struct rollover_keyset *set,
	    const struct rollover_key *k);
/* Remove k; absent is success. */
void	rollover_keyset_remove(struct rollover_keyset *set,
	    const struct rollover_key *k);

#endif /* TLSAD_ROLLOVER_H */
