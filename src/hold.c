/*
 * hold.c -- the data-derived hold (RFC 7671 section 8.1) and the poll
 * backoff schedule.
 * Pure: no I/O, no clock (times are parameters), no logging.
 * Invariant: the hold is never shorter than the largest TTL a cache may
 * still honour for the old answer, times the multiplier, plus the margin.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tlsad/error.h"
#include "tlsad/hold.h"

static uint32_t
name_ttl(const struct hold_name *h)
{
	uint32_t	ttl;

	ttl = h->had_rrset ? h->rrset_ttl : h->neg_ttl;
	if (ttl > HOLD_TTL_MAX)
		ttl = HOLD_TTL_MAX;
	return ttl;
}

int
hold_compute(const struct hold_name *names, size_t n, int64_t t0_ms,
    const struct hold_params *params, struct hold_result *out)
{
	const struct hold_name	*g;
	size_t			 i, which = 0;
	uint32_t		 ttl, best = 0;
	int64_t			 hold_s;
	int			 rc = TLSAD_EINVAL;

	memset(out, 0, sizeof(*out));
	if (names == NULL || n == 0 || params == NULL)
		goto out;
	if (params->multiplier == 0 || params->multiplier > HOLD_MULTIPLIER_MAX)
		goto out;
	for (i = 0; i < n; i++) {
		ttl = name_ttl(&names[i]);
		if (i == 0 || ttl > best) {
			best = ttl;
			which = i;
		}
	}
	g = &names[which];
	hold_s = (int64_t)best * params->multiplier + params->margin_s;
	out->until_ms = t0_ms + hold_s * 1000;
	out->ttl = best;
	out->negative = !g->had_rrset;
	out->which = which;
	snprintf(out->why, sizeof(out->why),
	    "%s: caches may hold %s for %" PRIu32 " s (%s); "
	    "hold %" PRIu32 " s x %u + %u s margin = %lld s after every "
	    "server served the new RRset",
	    g->name != NULL ? g->name : "(name)",
	    g->had_rrset ? "the old TLSA RRset" :
	    "the negative answer (no TLSA RRset before)",
	    best,
	    g->had_rrset ? "its TTL as served" :
	    "SOA negative TTL, min(SOA TTL, SOA MINIMUM)",
	    best, params->multiplier, params->margin_s, (long long)hold_s);
	rc = 0;
out:
	return rc;
}

int64_t
hold_remaining_ms(int64_t until_ms, int64_t now_ms)
{
	if (now_ms >= until_ms)
		return 0;
	return until_ms - now_ms;
}

char *
hold_format_utc(int64_t wall_ms, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	t = (time_t)(wall_ms / 1000);
	if (gmtime_r(&t, &tm) == NULL)
		return buf;
	if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
	return buf;
}

void
hold_poll_init(struct hold_poll *p, int64_t now_ms, unsigned min_ms,
    unsigned max_ms, unsigned timeout_s)
{
	memset(p, 0, sizeof(*p));
	if (min_ms == 0)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	p->start_ms = now_ms;
	p->deadline_ms = now_ms + (int64_t)timeout_s * 1000;
	p->min_ms = min_ms;
	p->max_ms = max_ms;
	p->cur_ms = min_ms;
}

int
hold_poll_next(struct hold_poll *p, int64_t now_ms, int64_t *next_ms)
{
	int64_t	next;

	p->checks++;
	if (now_ms >= p->deadline_ms) {
		*next_ms = now_ms;
		return TLSAD_ETIMEOUT;
	}
	next = now_ms + p->cur_ms;
	if (next > p->deadline_ms)
		next = p->deadline_ms;
	if (p->cur_ms > p->max_ms / 2)
		p->cur_ms = p->max_ms;
	else
		p->cur_ms *= 2;
	*next_ms = next;
	return 0;
}
