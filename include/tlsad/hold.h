/*
 * hold.h -- how long to wait, computed from DNS data, and when to look
 * again.  Pure: no I/O, no clock (every time is a parameter, in ms), no
 * logging.
 *
 * The hold (RFC 7671 section 8.1): once every authoritative address serves
 * the new TLSA RRset at time t0, a resolver may still hold the old RRset
 * until t0 + its TTL as it was served; when the name had no TLSA RRset
 * before, it may hold the negative answer for the SOA negative TTL
 * (RFC 2308: min(SOA TTL, SOA MINIMUM)).  We hold until
 * t0 + TTL * multiplier + margin, the largest over all names.
 *
 * The poll schedule: a check that found work pending asks for the next
 * check time; intervals double from poll-min up to poll-max, and the last
 * check falls on the deadline.  Nothing here sleeps: the daemon arms a
 * timer, the CLI sleeps until the time it is given.
 */
#ifndef TLSAD_HOLD_H
#define TLSAD_HOLD_H

#include <stddef.h>
#include <stdint.h>

/* Largest multiplier accepted (keeps the arithmetic far from overflow). */
#define HOLD_MULTIPLIER_MAX	100
/* Largest TTL used: RFC 2181 section 8 caps TTLs at 2^31 - 1. */
#define HOLD_TTL_MAX		2147483647u

/* What one TLSA owner name served before the change. */
struct hold_name {
	const char	*name;		/* owner name, for the explanation */
	int		 had_rrset;	/* 1: a TLSA RRset was served before */
	uint32_t	 rrset_ttl;	/* its TTL as served (largest seen) */
	uint32_t	 neg_ttl;	/* else: min(SOA TTL, SOA MINIMUM) */
};

struct hold_params {
	unsigned	multiplier;	/* conf ttl-multiplier, >= 1 (default 2) */
	unsigned	margin_s;	/* conf hold-margin */
};

struct hold_result {
	int64_t		until_ms;	/* t0 + ttl * multiplier + margin (ms) */
	uint32_t	ttl;		/* the governing TTL (s) */
	int		negative;	/* 1: the governing TTL is a negative TTL */
	size_t		which;		/* index of the governing name */
	char		why[512];	/* one sentence: which name, which TTL, why */
};

/*
 * The hold for names[0..n-1] once all of them were seen propagated at t0_ms
 * (wall clock, ms).  The governing name is the one with the largest TTL.
 * Returns 0, or TLSAD_EINVAL (n == 0, multiplier 0 or over
 * HOLD_MULTIPLIER_MAX).  TTLs over HOLD_TTL_MAX count as HOLD_TTL_MAX.
 */
int	hold_compute(const struct hold_name *names, size_t n, int64_t t0_ms,
	    const struct hold_params *params, struct hold_result *out);

/* Milliseconds left until until_ms at now_ms; 0 when it has passed. */
int64_t	hold_remaining_ms(int64_t until_ms, int64_t now_ms);

/*
 * Format a wall-clock time (ms since the epoch) as
 * "2026-11-28T02:13:05Z" into buf (at least 21 bytes).  Returns buf.
 */
char	*hold_format_utc(int64_t wall_ms, char *buf, size_t size);

/* A poll schedule with exponential backoff and a deadline. */
struct hold_poll {
	int64_t		start_ms;	/* when the wait began */
	int64_t		deadline_ms;	/* start + timeout */
	unsigned	min_ms;		/* first interval */
	unsigned	max_ms;		/* interval cap */
	unsigned	cur_ms;		/* the next interval to use */
	unsigned	checks;		/* how many times next was asked */
};

/*
 * Start a schedule at now_ms.  min_ms 0 counts as 1; max_ms below min_ms
 * counts as min_ms; timeout_s 0 means a deadline at now_ms (one check).
 */
void	hold_poll_init(struct hold_poll *p, int64_t now_ms, unsigned min_ms,
	    unsigned max_ms, unsigned timeout_s);

/*
 * A check at now_ms found the work still pending: *next_ms gets when to
 * check again (never later than the deadline, never earlier than now_ms + 1),
 * and the interval doubles up to max_ms.  TLSAD_ETIMEOUT when now_ms is at or
 * past the deadline (*next_ms then = now_ms).
 */
int	hold_poll_next(struct hold_poll *p, int64_t now_ms, int64_t *next_ms);

#endif /* TLSAD_HOLD_H */
