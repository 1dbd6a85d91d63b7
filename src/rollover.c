/*
 * rollover.c -- decide what a lineage needs next.
 *
 * Pure: no I/O, no clock (now is a parameter), no logging.  The executor
 * performs the one action each step returns and reports its result.
 *
 * Invariant: Postfix never serves a key whose TLSA records are not published
 * on every authoritative address and validated, and the RRset never lacks
 * the records of a key Postfix may serve (the deployed key, and the staged
 * key from DEPLOY until a good probe or a finished rollback).  Two guards
 * hold it, and both are checked again right before their action is issued:
 * deploy_allowed() and delete_allowed().  On any doubt (insecure, bogus,
 * unknown RRset, inconsistent lineage) change nothing and say why.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tlsad/error.h"
#include "tlsad/rollover.h"

/* One step's working set: the state being built and the action out. */
struct ctx {
	struct rollover_state		*s;
	const struct rollover_obs	*obs;
	int64_t				 now;
	const struct rollover_params	*p;
	struct rollover_action		*act;
	enum rollover_act_type		 done;	/* obs->done if it fits the stage */
};

static const char *const stage_names[ROLLOVER_NSTAGES] = {
	"idle", "publish", "propagate", "hold", "deploy", "reload", "probe",
	"retire", "confirm", "failed", "rollback",
};

static const char *const act_names[ROLLOVER_NACTS] = {
	"none", "wait", "dns-add", "dns-check", "dns-delete", "deploy",
	"reload", "probe", "restore",
};

static void	enter_publish(struct ctx *);
static void	enter_propagate(struct ctx *, int);
static void	enter_hold(struct ctx *);
static void	retire_or_idle(struct ctx *);
static void	do_hold(struct ctx *);

/* Key helpers. */

int
rollover_key_equal(const struct rollover_key *a, const struct rollover_key *b)
{
	return memcmp(a->spki, b->spki, ROLLOVER_KEY_LEN) == 0;
}

void
rollover_key_hex(const struct rollover_key *k, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < ROLLOVER_KEY_LEN; i++) {
		out[2 * i] = digits[k->spki[i] >> 4];
		out[2 * i + 1] = digits[k->spki[i] & 0xf];
	}
	out[2 * ROLLOVER_KEY_LEN] = '\0';
}

void
rollover_key_short(const struct rollover_key *k, char *out)
{
	char	hex[2 * ROLLOVER_KEY_LEN + 1];

	rollover_key_hex(k, hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

int
rollover_keyset_contains(const struct rollover_keyset *set,
    const struct rollover_key *k)
{
	size_t	i;

	for (i = 0; i < set->n && i < ROLLOVER_KEYS_MAX; i++)
		if (rollover_key_equal(&set->key[i], k))
			return 1;
	return 0;
}

int
rollover_keyset_add(struct rollover_keyset *set, const struct rollover_key *k)
{
	if (rollover_keyset_contains(set, k))
		return 0;
	if (set->n >= ROLLOVER_KEYS_MAX)
		return TLSAD_ETOOBIG;
	set->key[set->n++] = *k;
	return 0;
}

void
rollover_keyset_remove(struct rollover_keyset *set, const struct rollover_key *k)
{
	size_t	i;

	for (i = 0; i < set->n; i++) {
		if (rollover_key_equal(&set->key[i], k)) {
			set->key[i] = set->key[set->n - 1];
			set->n--;
			return;
		}
	}
}

/* Names. */

const char *
rollover_stage_name(enum rollover_stage stage)
{
	if ((int)stage < 0 || (int)stage >= ROLLOVER_NSTAGES)
		return "?";
	return stage_names[stage];
}

int
rollover_stage_parse(const char *name)
{
	int	i;

	for (i = 0; i < ROLLOVER_NSTAGES; i++)
		if (strcmp(stage_names[i], name) == 0)
			return i;
	return -1;
}

const char *
rollover_act_name(enum rollover_act_type type)
{
	if ((int)type < 0 || (int)type >= ROLLOVER_NACTS)
		return "?";
	return act_names[type];
}

void
rollover_state_init(struct rollover_state *st)
{
	memset(st, 0, sizeof(*st));
	st->stage = ROLLOVER_IDLE;
	st->retry_stage = ROLLOVER_IDLE;
}

void
rollover_params_default(struct rollover_params *p)
{
	memset(p, 0, sizeof(*p));
	p->ttl_multiplier = 2;
	p->hold_margin_ms = 60 * 1000;
	p->propagation_timeout_ms = 3600 * 1000;
	p->poll_min_ms = 500;
	p->poll_max_ms = 60 * 1000;
	p->retry_min_ms = 60 * 1000;
	p->retry_max_ms = 3600 * 1000;
	p->probe_attempts = 3;
	p->probe_interval_ms = 2000;
	p->retire_foreign = 1;
}

int
rollover_state_equal(const struct rollover_state *a,
    const struct rollover_state *b)
{
	size_t	i;

#define SAME(f)	(a->f == b->f)
	/* A key and its version mean something only when its flag is set. */
#define SAMEKEY(h, k, v) (a->h == b->h && (!a->h || \
	(rollover_key_equal(&a->k, &b->k) && a->v == b->v)))
	if (!SAME(stage) || !SAME(retry_stage) ||
	    !SAMEKEY(has_live, live, live_version) ||
	    !SAMEKEY(has_deployed, deployed, deployed_version) ||
	    !SAMEKEY(has_target, target, target_version) ||
	    !SAMEKEY(has_staged, staged, staged_version) ||
	    !SAME(stage_since) || !SAME(t0) || !SAME(hold_until) ||
	    !SAME(hold_ttl) || !SAME(validated_at) || !SAME(next_attempt) ||
	    !SAME(deadline) || !SAME(polls) || !SAME(substep) ||
	    !SAME(adopt) || !SAME(failures) || !SAME(last_error) ||
	    !SAME(last_error_at) || !SAME(last_success) ||
	    !SAME(published.n))
		return 0;
#undef SAME
#undef SAMEKEY
	if (strncmp(a->last_message, b->last_message, ROLLOVER_MSG_MAX) != 0)
		return 0;
	/* Order matters for nothing but the file; compare as sets. */
	for (i = 0; i < a->published.n; i++)
		if (!rollover_keyset_contains(&b->published, &a->published.key[i]))
			return 0;
	return 1;
}

/* Checks. */

static int
stage_is_deploying(enum rollover_stage st)
{
	return st == ROLLOVER_DEPLOY || st == ROLLOVER_RELOAD ||
	    st == ROLLOVER_PROBE;
}

/*
 * May the target be written to the deploy file?  Either it is the key
 * Postfix serves already (a renewal that kept its key), or a DNS check made
 * at or after hold_until saw its records everywhere and validated.
 */
static int
deploy_allowed(const struct rollover_state *s)
{
	if (!s->has_target)
		return 0;
	if (s->has_deployed && rollover_key_equal(&s->target, &s->deployed))
		return 1;
	return s->hold_until > 0 && s->validated_at >= s->hold_until &&
	    rollover_keyset_contains(&s->published, &s->target);
}

/* A key Postfix may serve, or may soon: its records must stay. */
static int
key_protected(const struct rollover_state *s, const struct rollover_key *k)
{
	return (s->has_deployed && rollover_key_equal(k, &s->deployed)) ||
	    (s->has_staged && rollover_key_equal(k, &s->staged)) ||
	    (s->has_target && rollover_key_equal(k, &s->target));
}

static int
delete_allowed(const struct rollover_state *s, const struct rollover_keyset *set)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		if (key_protected(s, &set->key[i]))
			return 0;
	return 1;
}

int
rollover_state_check(const struct rollover_state *st, char *why, size_t whylen)
{
	const char	*msg = NULL;
	size_t		 i, j;

	if ((int)st->stage < 0 || (int)st->stage >= ROLLOVER_NSTAGES ||
	    (int)st->retry_stage < 0 || (int)st->retry_stage >= ROLLOVER_NSTAGES)
		msg = "stage out of range";
	else if (st->retry_stage == ROLLOVER_FAILED)
		msg = "retry stage cannot be \"failed\"";
	else if (st->published.n > ROLLOVER_KEYS_MAX)
		msg = "too many published keys";
	else if ((st->has_live | st->has_deployed | st->has_target |
	    st->has_staged | st->adopt) & ~1)
		msg = "a flag is neither 0 nor 1";
	else if (st->substep < 0 || st->substep > 1)
		msg = "substep out of range";
	else if (st->has_deployed &&
	    !rollover_keyset_contains(&st->published, &st->deployed))
		msg = "the deployed key is not among the published keys";
	else if (st->has_staged &&
	    !rollover_keyset_contains(&st->published, &st->staged))
		msg = "the staged key is not among the published keys";
	else if (st->has_staged && !stage_is_deploying(st->stage) &&
	    st->stage != ROLLOVER_ROLLBACK &&
	    !(st->stage == ROLLOVER_FAILED &&
	    st->retry_stage == ROLLOVER_ROLLBACK))
		msg = "a staged key outside deploy, reload, probe or rollback";
	else if (stage_is_deploying(st->stage) && (!st->has_staged ||
	    !st->has_target || !rollover_key_equal(&st->staged, &st->target)))
		msg = "deploying without a staged target";
	else if (stage_is_deploying(st->stage) && !deploy_allowed(st))
		msg = "deploying a key that was not validated after its hold";
	else if ((st->stage == ROLLOVER_ROLLBACK ||
	    (st->stage == ROLLOVER_FAILED &&
	    st->retry_stage == ROLLOVER_ROLLBACK)) && !st->has_staged)
		msg = "rolling back without a staged key";
	else if (st->stage >= ROLLOVER_PUBLISH && st->stage <= ROLLOVER_PROBE &&
	    !st->has_target && !st->has_deployed)
		msg = "a rollover without a target";
	else if (st->stage >= ROLLOVER_PUBLISH && st->stage <= ROLLOVER_PROBE &&
	    st->has_target &&
	    !rollover_keyset_contains(&st->published, &st->target))
		msg = "the target key is not among the published keys";
	for (i = 0; msg == NULL && i < st->published.n; i++)
		for (j = i + 1; j < st->published.n; j++)
			if (rollover_key_equal(&st->published.key[i],
			    &st->published.key[j]))
				msg = "a published key is listed twice";
	if (msg == NULL)
		return 0;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return TLSAD_ESTATE_CORRUPT;
}

/* Actions. */

static void reason(struct ctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
reason(struct ctx *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(c->act->reason, sizeof(c->act->reason), fmt, ap);
	va_end(ap);
}

static void
act_none(struct ctx *c)
{
	c->act->type = ROLLOVER_ACT_NONE;
}

static void
act_wait(struct ctx *c, int64_t until)
{
	c->act->type = ROLLOVER_ACT_WAIT;
	c->act->until = until;
}

static int64_t
secs(int64_t ms)
{
	return ms <= 0 ? 0 : (ms + 999) / 1000;
}

/* min * 2^n, capped at max, without overflow. */
static int64_t
backoff(int64_t min, int64_t max, uint32_t n)
{
	int64_t	d = min > 0 ? min : 1;
	uint32_t i;

	for (i = 0; i < n && d < max; i++)
		d *= 2;
	return d < max ? d : max;
}

static void
enter(struct ctx *c, enum rollover_stage stage)
{
	struct rollover_state	*s = c->s;

	s->stage = stage;
	if (stage != ROLLOVER_FAILED)
		s->retry_stage = ROLLOVER_IDLE;
	s->stage_since = c->now;
	s->polls = 0;
	s->next_attempt = 0;
	s->substep = 0;
	s->deadline = 0;
}

static void
set_error(struct ctx *c, int code, const char *msg)
{
	struct rollover_state	*s = c->s;

	if (code == 0)
		code = TLSAD_EINTERNAL;
	s->last_error = code;
	s->last_error_at = c->now;
	snprintf(s->last_message, sizeof(s->last_message), "%s",
	    msg != NULL && *msg != '\0' ? msg : tlsad_strerror(code));
}

/* Go to FAILED: say why, and when the retry (from retry) is due. */
static void
fail(struct ctx *c, int code, const char *msg, enum rollover_stage retry)
{
	struct rollover_state	*s = c->s;
	enum rollover_stage	 from = s->stage;

	if (msg != NULL || code != s->last_error)
		set_error(c, code, msg);
	if (s->failures < 1000)
		s->failures++;
	enter(c, ROLLOVER_FAILED);
	s->retry_stage = retry;
	s->next_attempt = c->now + backoff(c->p->retry_min_ms,
	    c->p->retry_max_ms, s->failures - 1);
	act_wait(c, s->next_attempt);
	reason(c, "failed in %s (%s): %s; retry from %s in %lld s",
	    rollover_stage_name(from), tlsad_errname(s->last_error),
	    s->last_message, rollover_stage_name(retry),
	    (long long)secs(s->next_attempt - c->now));
}

static void
fill_check_keys(struct ctx *c)
{
	struct rollover_state	*s = c->s;
	struct rollover_keyset	*ks = &c->act->keys;
	size_t			 i;

	ks->n = 0;
	for (i = 0; i < s->published.n; i++)
		(void)rollover_keyset_add(ks, &s->published.key[i]);
	if (s->has_target)
		(void)rollover_keyset_add(ks, &s->target);
	if (s->has_deployed)
		(void)rollover_keyset_add(ks, &s->deployed);
	if (s->has_staged)
		(void)rollover_keyset_add(ks, &s->staged);
}

static void
act_check(struct ctx *c)
{
	c->act->type = ROLLOVER_ACT_DNS_CHECK;
	fill_check_keys(c);
	reason(c, "%s: checking every authoritative address and validating",
	    rollover_stage_name(c->s->stage));
}

static const struct rollover_key_obs *
find_key_obs(const struct rollover_dns_obs *d, const struct rollover_key *k)
{
	size_t	i;

	for (i = 0; i < d->nkeys && i < ROLLOVER_KEYS_MAX; i++)
		if (rollover_key_equal(&d->keys[i].key, k))
			return &d->keys[i];
	return NULL;
}

/* Everywhere on the auth servers and in the secure validated RRset. */
static int
key_ready(const struct rollover_dns_obs *d, const struct rollover_key *k)
{
	const struct rollover_key_obs	*ko = find_key_obs(d, k);

	return d->dnssec == ROLLOVER_DNSSEC_SECURE && ko != NULL &&
	    ko->everywhere && ko->validated;
}

/* Remember 3 1 1 records of keys we do not know, to retire them later. */
static void
merge_foreign(struct ctx *c)
{
	const struct rollover_dns_obs	*d = &c->obs->dns;
	struct rollover_state		*s = c->s;
	size_t				 i;

	if (!c->p->retire_foreign)
		return;
	for (i = 0; i < d->nkeys && i < ROLLOVER_KEYS_MAX; i++) {
		if (d->keys[i].nowhere || key_protected(s, &d->keys[i].key))
			continue;
		/* Full: leave it; a later retire will see it again. */
		(void)rollover_keyset_add(&s->published, &d->keys[i].key);
	}
}

static void
note_ttl(struct ctx *c)
{
	const struct rollover_dns_obs	*d = &c->obs->dns;
	struct rollover_state		*s = c->s;

	if (d->ttl > s->hold_ttl)
		s->hold_ttl = d->ttl;
	if (d->neg_ttl > s->hold_ttl)
		s->hold_ttl = d->neg_ttl;
}

static const char *
dnssec_name(enum rollover_dnssec v)
{
	switch (v) {
	case ROLLOVER_DNSSEC_SECURE:
		return "secure";
	case ROLLOVER_DNSSEC_INSECURE:
		return "insecure";
	case ROLLOVER_DNSSEC_BOGUS:
		return "bogus";
	default:
		return "unknown";
	}
}

/* Stop on an answer that is validated but not secure. */
static int
fail_on_dnssec(struct ctx *c, enum rollover_stage retry)
{
	const struct rollover_dns_obs	*d = &c->obs->dns;
	char				 msg[ROLLOVER_MSG_MAX];

	if (d->dnssec != ROLLOVER_DNSSEC_BOGUS &&
	    d->dnssec != ROLLOVER_DNSSEC_INSECURE)
		return 0;
	snprintf(msg, sizeof(msg), "the TLSA RRset validates as %s%s%s: "
	    "nothing will be deployed", dnssec_name(d->dnssec),
	    c->obs->message != NULL ? ": " : "",
	    c->obs->message != NULL ? c->obs->message : "");
	fail(c, d->dnssec == ROLLOVER_DNSSEC_BOGUS ? TLSAD_EDNSSEC_BOGUS :
	    TLSAD_EDNSSEC_INSECURE, msg, retry);
	return 1;
}

/* Schedule the next poll of a polling stage, or give up at its deadline. */
static void
poll_again(struct ctx *c, int code, const char *what, enum rollover_stage retry)
{
	struct rollover_state	*s = c->s;
	char			 msg[ROLLOVER_MSG_MAX];

	s->polls++;
	if (s->deadline > 0 && c->now >= s->deadline) {
		snprintf(msg, sizeof(msg), "%s after %lld s%s%s", what,
		    (long long)secs(c->now - s->stage_since),
		    c->obs->message != NULL ? ": " : "",
		    c->obs->message != NULL ? c->obs->message : "");
		fail(c, code, msg, retry);
		return;
	}
	s->next_attempt = c->now + backoff(c->p->poll_min_ms, c->p->poll_max_ms,
	    s->polls - 1);
	if (s->deadline > 0 && s->next_attempt > s->deadline)
		s->next_attempt = s->deadline;
	act_wait(c, s->next_attempt);
	reason(c, "%s: check %u, %u address(es) lagging, validation %s, "
	    "next check in %lld s, giving up in %lld s%s%s", what, s->polls,
	    c->obs->dns.lagging, dnssec_name(c->obs->dns.dnssec),
	    (long long)secs(s->next_attempt - c->now),
	    (long long)secs(s->deadline - c->now),
	    c->obs->message != NULL ? ": " : "",
	    c->obs->message != NULL ? c->obs->message : "");
}

/* Wait for next_attempt if it is in the future; 1 if so. */
static int
wait_pending(struct ctx *c, const char *what)
{
	if (c->s->next_attempt <= c->now)
		return 0;
	act_wait(c, c->s->next_attempt);
	reason(c, "%s: next in %lld s", what,
	    (long long)secs(c->s->next_attempt - c->now));
	return 1;
}

/* Transitions. */

static void
begin_deploy(struct ctx *c)
{
	struct rollover_state	*s = c->s;

	if (!deploy_allowed(s) ||
	    (s->has_staged && !rollover_key_equal(&s->staged, &s->target))) {
		/* A bug if it ever happens: change nothing. */
		fail(c, TLSAD_EINTERNAL, "refusing to deploy: the target was "
		    "not validated after its hold", ROLLOVER_PUBLISH);
		return;
	}
	enter(c, ROLLOVER_DEPLOY);
	s->has_staged = 1;
	s->staged = s->target;
	s->staged_version = s->target_version;
	c->act->type = ROLLOVER_ACT_DEPLOY;
	c->act->has_key = 1;
	c->act->key = s->target;
	c->act->version = s->target_version;
	reason(c, "deploying version %u", s->target_version);
}

static void
begin_rollback(struct ctx *c, int code, const char *msg)
{
	struct rollover_state	*s = c->s;
	char			 buf[ROLLOVER_MSG_MAX];

	snprintf(buf, sizeof(buf), "%s; rolled back", msg != NULL &&
	    *msg != '\0' ? msg : tlsad_strerror(code));
	set_error(c, code, buf);
	enter(c, ROLLOVER_ROLLBACK);
	c->act->type = ROLLOVER_ACT_RESTORE;
	c->act->has_key = s->has_deployed;
	if (s->has_deployed) {
		c->act->key = s->deployed;
		c->act->version = s->deployed_version;
	}
	reason(c, "rolling back: restoring %s", s->has_deployed ?
	    "the previous deploy file" : "the file there before tlsad's "
	    "first deploy (or none)");
}

/* A new key (or certificate) to roll to: live as just read. */
static void
start_rollover(struct ctx *c)
{
	struct rollover_state	*s = c->s;
	const struct rollover_obs *o = c->obs;

	s->t0 = 0;
	s->hold_until = 0;
	s->hold_ttl = 0;
	s->validated_at = 0;
	s->adopt = 0;
	s->failures = 0;
	if (s->has_deployed && rollover_key_equal(&o->live_key, &s->deployed)) {
		if (o->live_version == s->deployed_version) {
			/* Back to what is served: drop the target. */
			s->has_target = 0;
			retire_or_idle(c);
			return;
		}
		/* Same key, new certificate: no DNS change needed. */
		s->has_target = 1;
		s->target = o->live_key;
		s->target_version = o->live_version;
		begin_deploy(c);
		return;
	}
	s->has_target = 1;
	s->target = o->live_key;
	s->target_version = o->live_version;
	if (!s->has_deployed) {
		/* First install: its record may be validated already. */
		if (rollover_keyset_add(&s->published, &s->target) != 0) {
			fail(c, TLSAD_ETOOBIG, "too many TLSA keys to track",
			    ROLLOVER_RETIRE);
			return;
		}
		enter_propagate(c, 1);
		return;
	}
	enter_publish(c);
}

static void
enter_publish(struct ctx *c)
{
	struct rollover_state	*s = c->s;
	struct rollover_keyset	*ks = &c->act->keys;

	s->t0 = 0;
	s->hold_until = 0;
	s->validated_at = 0;
	s->adopt = 0;
	/* Track first (saved before the UPDATE): a crash leaves no stray record. */
	if ((s->has_target &&
	    rollover_keyset_add(&s->published, &s->target) != 0) ||
	    (s->has_deployed &&
	    rollover_keyset_add(&s->published, &s->deployed) != 0)) {
		fail(c, TLSAD_ETOOBIG, "too many TLSA keys to track",
		    ROLLOVER_RETIRE);
		return;
	}
	enter(c, ROLLOVER_PUBLISH);
	ks->n = 0;
	if (s->has_target)
		(void)rollover_keyset_add(ks, &s->target);
	if (s->has_deployed)
		(void)rollover_keyset_add(ks, &s->deployed);
	c->act->type = ROLLOVER_ACT_DNS_ADD;
	reason(c, "adding the TLSA records of the %s key",
	    s->has_target ? "new" : "served");
}

static void
enter_propagate(struct ctx *c, int adopt)
{
	struct rollover_state	*s = c->s;

	enter(c, ROLLOVER_PROPAGATE);
	s->adopt = adopt;
	s->deadline = c->now + c->p->propagation_timeout_ms;
	act_check(c);
	reason(c, adopt ? "first install: is the key's record validated "
	    "already?" : "checking propagation on every authoritative address");
}

static void
enter_hold(struct ctx *c)
{
	struct rollover_state	*s = c->s;

	enter(c, ROLLOVER_HOLD);
	/* A retry may come long after the hold: give the check its own time. */
	s->deadline = (s->hold_until > c->now ? s->hold_until : c->now) +
	    c->p->propagation_timeout_ms;
	/* The check that led here was made before the hold: not a result. */
	c->done = ROLLOVER_ACT_NONE;
	do_hold(c);
}

/* Delete what no key needs any more, or rest. */
static void
retire_or_idle(struct ctx *c)
{
	struct rollover_state	*s = c->s;
	struct rollover_keyset	*ks = &c->act->keys;
	size_t			 i;

	ks->n = 0;
	for (i = 0; i < s->published.n; i++)
		if (!key_protected(s, &s->published.key[i]))
			(void)rollover_keyset_add(ks, &s->published.key[i]);
	if (ks->n == 0) {
		/* Re-entering IDLE would rewrite the file at every event. */
		if (s->stage != ROLLOVER_IDLE)
			enter(c, ROLLOVER_IDLE);
		s->failures = 0;
		act_none(c);
		reason(c, "up to date");
		return;
	}
	if (!delete_allowed(s, ks)) {
		ks->n = 0;
		fail(c, TLSAD_EINTERNAL, "refusing to delete the record of a "
		    "served key", ROLLOVER_RETIRE);
		return;
	}
	enter(c, ROLLOVER_RETIRE);
	c->act->type = ROLLOVER_ACT_DNS_DELETE;
	reason(c, "deleting the TLSA records of %zu key(s) no longer served",
	    ks->n);
}

/* Stage handlers: c->done is the result the stage waits for, or NONE. */

static void
do_idle(struct ctx *c)
{
	struct rollover_state	*s = c->s;
	const struct rollover_obs *o = c->obs;
	char			 msg[ROLLOVER_MSG_MAX];

	switch (o->live) {
	case ROLLOVER_LIVE_ERROR:
		snprintf(msg, sizeof(msg), "the lineage cannot be used: %s%s%s",
		    tlsad_strerror(o->live_error), o->message != NULL ? ": " : "",
		    o->message != NULL ? o->message : "");
		fail(c, o->live_error != 0 ? o->live_error :
		    TLSAD_ELINEAGE_INCONSISTENT, msg, ROLLOVER_IDLE);
		return;
	case ROLLOVER_LIVE_INCONSISTENT:
		act_none(c);
		reason(c, "the lineage is being renewed (its links disagree): "
		    "waiting for it to settle");
		return;
	case ROLLOVER_LIVE_UNKNOWN:
		act_none(c);
		reason(c, "the lineage has not been read");
		return;
	case ROLLOVER_LIVE_OK:
		break;
	}
	/* Live == target or deployed here (step() started a rollover otherwise). */
	if (s->has_target) {
		start_rollover(c);
		return;
	}
	if (o->verify && s->has_deployed) {
		/* Is the served key's record still there?  Repair if not. */
		enter_propagate(c, 0);
		reason(c, "checking that the served key's records are still "
		    "published and validated");
		return;
	}
	retire_or_idle(c);
	if (c->act->type == ROLLOVER_ACT_NONE && s->has_deployed)
		reason(c, "up to date: version %u deployed", s->deployed_version);
}

static void
do_publish(struct ctx *c)
{
	if (c->done == ROLLOVER_ACT_DNS_ADD) {
		if (c->obs->result != 0) {
			fail(c, c->obs->result, c->obs->message, ROLLOVER_PUBLISH);
			return;
		}
		enter_propagate(c, 0);
		return;
	}
	enter_publish(c);
}

static void
do_propagate(struct ctx *c)
{
	struct rollover_state		*s = c->s;
	const struct rollover_dns_obs	*d = &c->obs->dns;
	int				 ready;

	if (c->done != ROLLOVER_ACT_DNS_CHECK) {
		if (!wait_pending(c, "waiting for propagation"))
			act_check(c);
		return;
	}
	if (c->obs->result != 0) {
		poll_again(c, c->obs->result, "the DNS check failed",
		    ROLLOVER_PUBLISH);
		return;
	}
	if (fail_on_dnssec(c, ROLLOVER_PUBLISH))
		return;
	note_ttl(c);
	merge_foreign(c);
	ready = d->dnssec == ROLLOVER_DNSSEC_SECURE;
	if (s->has_target && !key_ready(d, &s->target))
		ready = 0;
	if (s->has_deployed && !key_ready(d, &s->deployed))
		ready = 0;
	if (s->adopt) {
		s->adopt = 0;
		if (!ready || !s->has_target) {
			enter_publish(c);
			return;
		}
		/*
		 * First install: the record is validated already, but nothing
		 * says since when: it may have been published a second ago,
		 * with caches still holding an older RRset (or its denial).
		 * Hold as after our own publish (below); no UPDATE is needed.
		 */
	}
	if (!ready && !s->has_target && s->has_deployed &&
	    d->dnssec == ROLLOVER_DNSSEC_SECURE &&
	    find_key_obs(d, &s->deployed) != NULL &&
	    !find_key_obs(d, &s->deployed)->validated) {
		/* The served key's record is gone: add it back at once. */
		set_error(c, TLSAD_EDNSSEC_MISSING, "the record of the served "
		    "key is missing from the validated RRset: adding it again");
		enter_publish(c);
		return;
	}
	if (ready && s->has_target && d->ttl == 0 && d->neg_ttl == 0) {
		/* No TTL at all: the hold would be the margin alone. */
		poll_again(c, TLSAD_EDNS_BADREPLY, "the DNS check reported no "
		    "TTL to hold for", ROLLOVER_PUBLISH);
		return;
	}
	if (!ready) {
		poll_again(c, d->lagging > 0 ? TLSAD_EDNS_LAGGING :
		    d->dnssec != ROLLOVER_DNSSEC_SECURE ? TLSAD_EDNSSEC_RESOLVE :
		    TLSAD_EDNSSEC_MISSING,
		    "waiting for propagation", ROLLOVER_PUBLISH);
		return;
	}
	if (!s->has_target) {
		/* Only the served key's records were re-added. */
		retire_or_idle(c);
		return;
	}
	s->t0 = c->now;
	s->validated_at = c->now;
	s->hold_until = s->t0 + (int64_t)s->hold_ttl * 1000 *
	    (int64_t)c->p->ttl_multiplier + c->p->hold_margin_ms;
	enter_hold(c);
}

static void
do_hold(struct ctx *c)
{
	struct rollover_state		*s = c->s;
	const struct rollover_dns_obs	*d = &c->obs->dns;

	if (c->done == ROLLOVER_ACT_DNS_CHECK && c->now >= s->hold_until) {
		if (c->obs->result != 0 ||
		    d->dnssec == ROLLOVER_DNSSEC_UNKNOWN) {
			poll_again(c, c->obs->result != 0 ? c->obs->result :
			    TLSAD_EDNSSEC_RESOLVE, "the check before deploy "
			    "failed", ROLLOVER_PUBLISH);
			return;
		}
		if (fail_on_dnssec(c, ROLLOVER_PUBLISH))
			return;
		note_ttl(c);
		merge_foreign(c);
		if (!key_ready(d, &s->target) ||
		    (s->has_deployed && !key_ready(d, &s->deployed))) {
			/*
			 * A record that was everywhere is gone from some
			 * address: caches may hold the RRset without it.
			 * Publish again and hold again.
			 */
			set_error(c, TLSAD_EDNSSEC_MISSING, "a TLSA record "
			    "vanished during the hold: publishing again");
			enter_publish(c);
			return;
		}
		s->validated_at = c->now;
		begin_deploy(c);
		return;
	}
	if (c->now < s->hold_until) {
		act_wait(c, s->hold_until);
		reason(c, "holding %lld/%lld s (TTL %u s x %u + %lld s margin)",
		    (long long)((c->now - s->t0) / 1000),
		    (long long)secs(s->hold_until - s->t0), s->hold_ttl,
		    c->p->ttl_multiplier, (long long)secs(c->p->hold_margin_ms));
		return;
	}
	if (wait_pending(c, "checking the DNS before deploy"))
		return;
	act_check(c);
	reason(c, "hold over: checking the DNS once more before deploy");
}

static void
do_deploy(struct ctx *c)
{
	if (c->done == ROLLOVER_ACT_DEPLOY) {
		if (c->obs->result != 0) {
			begin_rollback(c, c->obs->result, c->obs->message);
			return;
		}
		enter(c, ROLLOVER_RELOAD);
		c->act->type = ROLLOVER_ACT_RELOAD;
		reason(c, "reloading the MTA");
		return;
	}
	/* Again after a restart: writing the same file twice is harmless. */
	begin_deploy(c);
}

static void
act_probe(struct ctx *c)
{
	c->act->type = ROLLOVER_ACT_PROBE;
	c->act->has_key = 1;
	c->act->key = c->s->target;
	c->act->version = c->s->target_version;
	reason(c, "probing: the served key must be version %u's",
	    c->s->target_version);
}

static void
do_reload(struct ctx *c)
{
	if (c->done == ROLLOVER_ACT_RELOAD) {
		if (c->obs->result != 0) {
			begin_rollback(c, c->obs->result, c->obs->message);
			return;
		}
		enter(c, ROLLOVER_PROBE);
		act_probe(c);
		return;
	}
	c->act->type = ROLLOVER_ACT_RELOAD;
	reason(c, "reloading the MTA");
}

static void
do_probe(struct ctx *c)
{
	struct rollover_state	*s = c->s;
	int			 code;
	char			 msg[ROLLOVER_MSG_MAX];
	char			 got[9], want[9];

	if (c->done != ROLLOVER_ACT_PROBE) {
		if (!wait_pending(c, "probing again"))
			act_probe(c);
		return;
	}
	code = c->obs->result;
	if (code == 0 && !rollover_key_equal(&c->obs->served, &s->target))
		code = TLSAD_EPROBE_OLDKEY;
	if (code == 0) {
		s->has_deployed = 1;
		s->deployed = s->target;
		s->deployed_version = s->target_version;
		s->has_staged = 0;
		s->has_target = 0;
		s->last_success = c->now;
		s->failures = 0;
		retire_or_idle(c);
		return;
	}
	if (code == TLSAD_EPROBE_OLDKEY && c->obs->result == 0) {
		rollover_key_short(&c->obs->served, got);
		rollover_key_short(&s->target, want);
		snprintf(msg, sizeof(msg), "the MTA serves key %s, not the new "
		    "key %s", got, want);
	} else {
		snprintf(msg, sizeof(msg), "%s", c->obs->message != NULL ?
		    c->obs->message : tlsad_strerror(code));
	}
	s->polls++;
	if (s->polls < c->p->probe_attempts) {
		s->next_attempt = c->now + c->p->probe_interval_ms;
		act_wait(c, s->next_attempt);
		reason(c, "probe %u/%u failed (%s): trying again in %lld s",
		    s->polls, c->p->probe_attempts, msg,
		    (long long)secs(c->p->probe_interval_ms));
		return;
	}
	begin_rollback(c, code, msg);
}

static void
do_retire(struct ctx *c)
{
	struct rollover_state	*s = c->s;

	if (c->done == ROLLOVER_ACT_DNS_DELETE) {
		if (c->obs->result != 0) {
			fail(c, c->obs->result, c->obs->message, ROLLOVER_RETIRE);
			return;
		}
		enter(c, ROLLOVER_CONFIRM);
		s->deadline = c->now + c->p->propagation_timeout_ms;
		act_check(c);
		reason(c, "checking that the old records are gone everywhere");
		return;
	}
	retire_or_idle(c);
}

static void
do_confirm(struct ctx *c)
{
	struct rollover_state		*s = c->s;
	const struct rollover_dns_obs	*d = &c->obs->dns;
	const struct rollover_key_obs	*ko;
	size_t				 i, left = 0;

	if (c->done != ROLLOVER_ACT_DNS_CHECK) {
		if (!wait_pending(c, "waiting for the old records to go"))
			act_check(c);
		return;
	}
	if (c->obs->result != 0) {
		poll_again(c, c->obs->result, "the DNS check failed",
		    ROLLOVER_RETIRE);
		return;
	}
	if (s->has_deployed && d->dnssec == ROLLOVER_DNSSEC_SECURE) {
		/* Secondaries may lag behind the delete; validation may not. */
		ko = find_key_obs(d, &s->deployed);
		if (ko != NULL && !ko->validated) {
			fail(c, TLSAD_EDNSSEC_MISSING, "the record of the "
			    "served key is missing from the validated RRset: "
			    "adding it again", ROLLOVER_PUBLISH);
			return;
		}
	}
	for (i = 0; i < s->published.n; ) {
		if (key_protected(s, &s->published.key[i])) {
			i++;
			continue;
		}
		ko = find_key_obs(d, &s->published.key[i]);
		if (ko != NULL && ko->nowhere) {
			rollover_keyset_remove(&s->published,
			    &s->published.key[i]);
			continue;
		}
		left++;
		i++;
	}
	if (left == 0) {
		enter(c, ROLLOVER_IDLE);
		s->failures = 0;
		act_none(c);
		reason(c, "up to date: version %u deployed, old records gone",
		    s->deployed_version);
		return;
	}
	poll_again(c, TLSAD_EDNS_LAGGING, "waiting for the old records to go",
	    ROLLOVER_RETIRE);
}

static void
do_rollback(struct ctx *c)
{
	struct rollover_state	*s = c->s;
	char			 msg[ROLLOVER_MSG_MAX];

	if (s->substep == 0 && c->done == ROLLOVER_ACT_RESTORE) {
		if (c->obs->result != 0) {
			snprintf(msg, sizeof(msg), "rollback: restoring the "
			    "deploy file failed: %s", c->obs->message != NULL ?
			    c->obs->message : tlsad_strerror(c->obs->result));
			fail(c, c->obs->result, msg, ROLLOVER_ROLLBACK);
			return;
		}
		s->substep = 1;
		c->act->type = ROLLOVER_ACT_RELOAD;
		reason(c, "rolling back: reloading the MTA");
		return;
	}
	if (s->substep == 1 && c->done == ROLLOVER_ACT_RELOAD) {
		if (c->obs->result != 0) {
			snprintf(msg, sizeof(msg), "rollback: reload failed: %s",
			    c->obs->message != NULL ? c->obs->message :
			    tlsad_strerror(c->obs->result));
			fail(c, c->obs->result, msg, ROLLOVER_ROLLBACK);
			return;
		}
		/* Postfix serves the deployed key again; keep every record. */
		s->has_staged = 0;
		fail(c, s->last_error, NULL, s->has_target ? ROLLOVER_HOLD :
		    ROLLOVER_RETIRE);
		return;
	}
	if (s->substep == 1) {
		c->act->type = ROLLOVER_ACT_RELOAD;
		reason(c, "rolling back: reloading the MTA");
		return;
	}
	c->act->type = ROLLOVER_ACT_RESTORE;
	c->act->has_key = s->has_deployed;
	if (s->has_deployed) {
		c->act->key = s->deployed;
		c->act->version = s->deployed_version;
	}
	reason(c, "rolling back: restoring the previous deploy file");
}

static void
do_failed(struct ctx *c)
{
	struct rollover_state	*s = c->s;

	if (c->now < s->next_attempt &&
	    !(s->retry_stage == ROLLOVER_IDLE &&
	    c->obs->live == ROLLOVER_LIVE_OK)) {
		act_wait(c, s->next_attempt);
		reason(c, "failed (%s): %s; retry from %s in %lld s",
		    tlsad_errname(s->last_error), s->last_message,
		    rollover_stage_name(s->retry_stage),
		    (long long)secs(s->next_attempt - c->now));
		return;
	}
	c->done = ROLLOVER_ACT_NONE;
	switch (s->retry_stage) {
	case ROLLOVER_PUBLISH:
	case ROLLOVER_PROPAGATE:
		if (!s->has_target && !s->has_deployed)
			break;
		enter_publish(c);
		return;
	case ROLLOVER_HOLD:
		if (!s->has_target)
			break;
		if (s->has_deployed &&
		    rollover_key_equal(&s->target, &s->deployed)) {
			begin_deploy(c);
			return;
		}
		if (s->hold_until == 0) {
			enter_publish(c);
			return;
		}
		enter_hold(c);
		return;
	case ROLLOVER_ROLLBACK:
		enter(c, ROLLOVER_ROLLBACK);
		do_rollback(c);
		return;
	case ROLLOVER_RETIRE:
	case ROLLOVER_CONFIRM:
		retire_or_idle(c);
		return;
	default:
		break;
	}
	enter(c, ROLLOVER_IDLE);
	do_idle(c);
}

/* The result each stage waits for. */
static enum rollover_act_type
expected(const struct rollover_state *s)
{
	switch (s->stage) {
	case ROLLOVER_PUBLISH:
		return ROLLOVER_ACT_DNS_ADD;
	case ROLLOVER_PROPAGATE:
	case ROLLOVER_HOLD:
	case ROLLOVER_CONFIRM:
		return ROLLOVER_ACT_DNS_CHECK;
	case ROLLOVER_DEPLOY:
		return ROLLOVER_ACT_DEPLOY;
	case ROLLOVER_RELOAD:
		return ROLLOVER_ACT_RELOAD;
	case ROLLOVER_PROBE:
		return ROLLOVER_ACT_PROBE;
	case ROLLOVER_RETIRE:
		return ROLLOVER_ACT_DNS_DELETE;
	case ROLLOVER_ROLLBACK:
		return s->substep == 0 ? ROLLOVER_ACT_RESTORE :
		    ROLLOVER_ACT_RELOAD;
	default:
		return ROLLOVER_ACT_NONE;
	}
}

/* Does live/ hold something other than what we roll to or serve? */
static int
live_is_new(const struct rollover_state *s, const struct rollover_obs *o)
{
	if (o->live != ROLLOVER_LIVE_OK)
		return 0;
	if (s->has_target)
		return !(rollover_key_equal(&o->live_key, &s->target) &&
		    o->live_version == s->target_version);
	if (s->has_deployed)
		return !(rollover_key_equal(&o->live_key, &s->deployed) &&
		    o->live_version == s->deployed_version);
	return 1;
}

int
rollover_step(const struct rollover_state *st, const struct rollover_obs *obs,
    int64_t now, const struct rollover_params *p, struct rollover_state *next,
    struct rollover_action *act)
{
	struct rollover_state	s;
	struct ctx		c;
	char			why[128];
	int			rc;

	if (st == NULL || obs == NULL || p == NULL || next == NULL ||
	    act == NULL)
		return TLSAD_EINVAL;
	memset(act, 0, sizeof(*act));
	s = *st;
	rc = rollover_state_check(&s, why, sizeof(why));
	if (rc != 0) {
		*next = s;
		act->type = ROLLOVER_ACT_NONE;
		snprintf(act->reason, sizeof(act->reason),
		    "the saved state is inconsistent (%s): changing nothing", why);
		return TLSAD_EINVAL;
	}
	c.s = &s;
	c.obs = obs;
	c.now = now;
	c.p = p;
	c.act = act;
	c.done = obs->done == expected(&s) ? obs->done : ROLLOVER_ACT_NONE;

	if (obs->live == ROLLOVER_LIVE_OK) {
		s.has_live = 1;
		s.live = obs->live_key;
		s.live_version = obs->live_version;
	}

	/*
	 * A newer renewal: before anything is staged, roll to it at once (the
	 * old target's records become surplus, retired later).  Once DEPLOY
	 * was issued, finish the probe or the rollback first.
	 */
	if (!s.has_staged && live_is_new(&s, obs) &&
	    (s.stage != ROLLOVER_FAILED || s.retry_stage != ROLLOVER_ROLLBACK)) {
		start_rollover(&c);
		goto out;
	}

	switch (s.stage) {
	case ROLLOVER_IDLE:
		do_idle(&c);
		break;
	case ROLLOVER_PUBLISH:
		do_publish(&c);
		break;
	case ROLLOVER_PROPAGATE:
		do_propagate(&c);
		break;
	case ROLLOVER_HOLD:
		do_hold(&c);
		break;
	case ROLLOVER_DEPLOY:
		do_deploy(&c);
		break;
	case ROLLOVER_RELOAD:
		do_reload(&c);
		break;
	case ROLLOVER_PROBE:
		do_probe(&c);
		break;
	case ROLLOVER_RETIRE:
		do_retire(&c);
		break;
	case ROLLOVER_CONFIRM:
		do_confirm(&c);
		break;
	case ROLLOVER_FAILED:
		do_failed(&c);
		break;
	case ROLLOVER_ROLLBACK:
		do_rollback(&c);
		break;
	}
out:
	/* Last line of defence: a state that breaks its own rules is not saved. */
	rc = rollover_state_check(&s, why, sizeof(why));
	if (rc != 0) {
		*next = *st;
		memset(act, 0, sizeof(*act));
		act->type = ROLLOVER_ACT_NONE;
		snprintf(act->reason, sizeof(act->reason),
		    "internal error, changing nothing: %s", why);
		return TLSAD_EINTERNAL;
	}
	if (act->reason[0] == '\0')
		snprintf(act->reason, sizeof(act->reason), "%s: %s",
		    rollover_stage_name(s.stage), rollover_act_name(act->type));
	*next = s;
	return 0;
}

void
rollover_describe(const struct rollover_state *st, int64_t now, char *buf,
    size_t len)
{
	int64_t	left = st->next_attempt > now ? st->next_attempt - now : 0;

	if (len == 0)
		return;
	switch (st->stage) {
	case ROLLOVER_IDLE:
		if (st->has_deployed)
			snprintf(buf, len, "up to date (version %u deployed)",
			    st->deployed_version);
		else
			snprintf(buf, len, "nothing deployed yet");
		break;
	case ROLLOVER_PUBLISH:
		snprintf(buf, len, "adding the TLSA records of version %u",
		    st->target_version);
		break;
	case ROLLOVER_PROPAGATE:
		snprintf(buf, len, "waiting for propagation: check %u, next in "
		    "%lld s, giving up in %lld s", st->polls,
		    (long long)secs(left),
		    (long long)secs(st->deadline - now));
		break;
	case ROLLOVER_HOLD:
		if (now < st->hold_until)
			snprintf(buf, len, "holding %lld/%lld s",
			    (long long)((now - st->t0) / 1000),
			    (long long)secs(st->hold_until - st->t0));
		else
			snprintf(buf, len, "hold over: checking the DNS "
			    "before deploy");
		break;
	case ROLLOVER_DEPLOY:
		snprintf(buf, len, "deploying version %u", st->target_version);
		break;
	case ROLLOVER_RELOAD:
		snprintf(buf, len, "reloading the MTA");
		break;
	case ROLLOVER_PROBE:
		snprintf(buf, len, "probing (attempt %u)", st->polls + 1);
		break;
	case ROLLOVER_RETIRE:
		snprintf(buf, len, "deleting old TLSA records");
		break;
	case ROLLOVER_CONFIRM:
		snprintf(buf, len, "waiting for the old records to go: check "
		    "%u, giving up in %lld s", st->polls,
		    (long long)secs(st->deadline - now));
		break;
	case ROLLOVER_FAILED:
		snprintf(buf, len, "failed (%s): %s; retry from %s in %lld s",
		    tlsad_errname(st->last_error), st->last_message,
		    rollover_stage_name(st->retry_stage), (long long)secs(left));
		break;
	case ROLLOVER_ROLLBACK:
		snprintf(buf, len, "rolling back: %s", st->substep == 0 ?
		    "restoring the previous deploy file" : "reloading the MTA");
		break;
	default:
		snprintf(buf, len, "unknown stage %d", (int)st->stage);
		break;
	}
}
