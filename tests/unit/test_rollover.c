/*
 * test_rollover.c -- drive the rollover state machine against a fake world
 * (a primary and lagging secondaries with their full history, a validating
 * resolver, a deploy file, a Postfix that may serve several keys at once)
 * with a fake clock, and check the safety invariant after every step:
 *
 *   every key Postfix may serve is on every authoritative server now, and
 *   was on the primary for the whole window a cache may remember
 *   (max(TTL, negative TTL) + the largest lag), and was validated secure
 *   when it was first served.
 *
 * Also: every failure path, reuse-key, first install, a newer renewal at
 * each stage, a crash at every step (state written and read back through
 * state.c), and long random runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "tlsad/error.h"
#include "tlsad/rollover.h"
#include "tlsad/state.h"

#define NSRV		3
#define START_MS	1700000000000LL
#define MAXVER		64

/* One version of the primary's RRset, and when each server first served it. */
struct snap {
	int64_t			t;
	uint32_t		ttl;
	struct rollover_keyset	set;
	int64_t			first[NSRV];	/* -1: not reached */
};

struct world {
	int64_t			 now;
	struct snap		*hist;		/* primary's RRset over time */
	size_t			 nhist, caphist;
	int64_t			 lag[NSRV];	/* server i catches up to primary(now - lag) */
	int64_t			 applied[NSRV];	/* primary time server i has reached */
	size_t			 last_update;	/* snapshot after tlsad's last UPDATE */
	uint32_t		 ttl, neg_ttl;
	enum rollover_dnssec	 dnssec;
	struct rollover_key	 archive[MAXVER];	/* version -> key */
	uint32_t		 nver;
	enum rollover_live	 live;
	uint32_t		 live_version;
	int			 file_has;
	struct rollover_key	 file_key;
	struct rollover_keyset	 served;	/* keys Postfix may serve now */
	/* fault injection */
	int			 fail_next[ROLLOVER_NACTS];
	int			 fail_code[ROLLOVER_NACTS];
	unsigned		 fail_pct;	/* random failures, percent */
	int			 partial_deploy; /* a failed deploy may still write */
	/* counters */
	unsigned		 nact[ROLLOVER_NACTS];
	unsigned		 deploys_of[MAXVER];
	unsigned		 rng;
};

struct harness {
	struct world		 w;
	struct rollover_state	 st;
	struct rollover_params	 p;
	struct rollover_action	 act;
	/* result of the last action, for the next obs */
	enum rollover_act_type	 done;
	int			 result;
	struct rollover_dns_obs	 dns;
	struct rollover_key	 served_probe;
	int64_t			 deploy_at[MAXVER];
	int64_t			 t0_at_deploy;
	int64_t			 check_at;	/* when h->dns was taken */
	unsigned		 crashes;
	int			 verify;	/* next obs asks for a verify */
	int			 use_files;	/* crash through real files */
	char			 dir[256];
};

/* Utilities. */

static unsigned
rnd(struct world *w)
{
	w->rng = w->rng * 1103515245u + 12345u;
	return (w->rng >> 8) & 0xffffff;
}

static struct rollover_key
mkkey(unsigned n)
{
	struct rollover_key	k;
	size_t			i;

	for (i = 0; i < ROLLOVER_KEY_LEN; i++)
		k.spki[i] = (uint8_t)(n * 31 + i * 7 + 1);
	k.spki[0] = (uint8_t)n;
	k.spki[1] = (uint8_t)(n >> 8);
	return k;
}

static size_t
snap_at(const struct world *w, int64_t t)
{
	size_t	i;

	for (i = w->nhist; i > 0; i--)
		if (w->hist[i - 1].t <= t)
			return i - 1;
	return 0;
}

static const struct rollover_keyset *
primary_at(const struct world *w, int64_t t)
{
	return &w->hist[snap_at(w, t)].set;
}

/* Secondaries only move forward: a lag set later never unlearns data. */
static void
advance(struct world *w)
{
	size_t	j;
	int64_t	to;
	int	i;

	for (i = 0; i < NSRV; i++) {
		to = w->now - w->lag[i];
		if (to > w->applied[i])
			w->applied[i] = to;
		for (j = 0; j < w->nhist; j++)
			if (w->hist[j].t <= w->applied[i] &&
			    w->hist[j].first[i] < 0)
				w->hist[j].first[i] = w->now;
	}
}

static const struct rollover_keyset *
server_now(struct world *w, int i)
{
	advance(w);
	return primary_at(w, w->applied[i]);
}

static int
set_equal(const struct rollover_keyset *a, const struct rollover_keyset *b)
{
	size_t	i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!rollover_keyset_contains(b, &a->key[i]))
			return 0;
	return 1;
}

static void
push_primary(struct world *w, const struct rollover_keyset *set)
{
	struct snap	*sn;
	int		 i;

	advance(w);
	if (w->nhist > 0 && set_equal(&w->hist[w->nhist - 1].set, set) &&
	    w->hist[w->nhist - 1].ttl == w->ttl)
		return;
	if (w->nhist == w->caphist) {
		w->caphist = w->caphist == 0 ? 64 : w->caphist * 2;
		w->hist = realloc(w->hist, w->caphist * sizeof(*w->hist));
		assert_non_null(w->hist);
	}
	sn = &w->hist[w->nhist];
	sn->t = w->nhist == 0 ? 0 : w->now;
	sn->ttl = w->ttl;
	sn->set = *set;
	for (i = 0; i < NSRV; i++)
		sn->first[i] = w->nhist == 0 ? 0 : -1;
	w->nhist++;
	advance(w);
}

/*
 * Could a cache hold an RRset without k now?  Snapshot j lacking k, served
 * by server i from first[i] of j until first[i] of j + 1, may be cached
 * until then + its TTL (or the negative TTL).
 */
static int
cacheable_without(const struct world *w, const struct rollover_key *k,
    int *server)
{
	uint32_t	ttl;
	int64_t		end;
	size_t		j;
	int		i;

	for (j = 0; j < w->nhist; j++) {
		if (rollover_keyset_contains(&w->hist[j].set, k))
			continue;
		ttl = w->hist[j].ttl > w->neg_ttl ? w->hist[j].ttl : w->neg_ttl;
		for (i = 0; i < NSRV; i++) {
			if (w->hist[j].first[i] < 0)
				continue;
			end = j + 1 < w->nhist ? w->hist[j + 1].first[i] : -1;
			/* Skipped over in one transfer: never served. */
			if (end >= 0 && end == w->hist[j].first[i])
				continue;
			if (end < 0 || end + (int64_t)ttl * 1000 > w->now) {
				*server = i;
				return 1;
			}
		}
	}
	return 0;
}

/* The invariant, checked against the world itself. */
static void
check_invariant(struct harness *h)
{
	struct world	*w = &h->w;
	size_t		 i;
	int		 s;
	char		 why[128];

	advance(w);
	for (i = 0; i < w->served.n; i++) {
		const struct rollover_key *k = &w->served.key[i];

		for (s = 0; s < NSRV; s++)
			if (!rollover_keyset_contains(server_now(w, s), k))
				fail_msg("served key %u missing on server %d at "
				    "+%lld ms", k->spki[0], s,
				    (long long)(w->now - START_MS));
		if (cacheable_without(w, k, &s))
			fail_msg("served key %u: server %d's RRset without it "
			    "may still be cached at +%lld ms", k->spki[0], s,
			    (long long)(w->now - START_MS));
	}
	assert_int_equal(rollover_state_check(&h->st, why, sizeof(why)), 0);
	if (h->st.has_deployed)
		assert_true(rollover_keyset_contains(&h->st.published,
		    &h->st.deployed));
}

/* The fake executor. */

static int
injected(struct world *w, enum rollover_act_type t)
{
	if (w->fail_next[t] > 0) {
		w->fail_next[t]--;
		return w->fail_code[t];
	}
	if (w->fail_pct > 0 && rnd(w) % 100 < w->fail_pct) {
		switch (t) {
		case ROLLOVER_ACT_DNS_ADD:
		case ROLLOVER_ACT_DNS_DELETE:
			return TLSAD_EDNS_REFUSED;
		case ROLLOVER_ACT_DNS_CHECK:
			return TLSAD_EDNS_TIMEOUT;
		case ROLLOVER_ACT_DEPLOY:
			return TLSAD_EDEPLOY;
		case ROLLOVER_ACT_RELOAD:
			return TLSAD_ERELOAD;
		case ROLLOVER_ACT_PROBE:
			return TLSAD_EPROBE_TLS;
		case ROLLOVER_ACT_RESTORE:
			return TLSAD_EDEPLOY;
		default:
			return 0;
		}
	}
	return 0;
}

/* Postfix may serve k from now on (checked by check_invariant). */
static void
serve_new(struct harness *h, const struct rollover_key *k)
{
	(void)rollover_keyset_add(&h->w.served, k);
}

static void
fill_dns(struct harness *h, const struct rollover_keyset *asked)
{
	struct world		*w = &h->w;
	struct rollover_keyset	 all = *asked;
	const struct rollover_keyset *prim = primary_at(w, w->now);
	size_t			 i;
	int			 s, in, cur;

	memset(&h->dns, 0, sizeof(h->dns));
	h->check_at = w->now;
	for (s = 0; s < NSRV; s++)
		for (i = 0; i < server_now(w, s)->n; i++)
			(void)rollover_keyset_add(&all, &server_now(w, s)->key[i]);
	for (i = 0; i < all.n && i < ROLLOVER_KEYS_MAX; i++) {
		struct rollover_key_obs *ko = &h->dns.keys[h->dns.nkeys++];

		ko->key = all.key[i];
		/* Like dnscheck: at a serial at least our last UPDATE's. */
		in = 0;
		cur = 0;
		for (s = 0; s < NSRV; s++) {
			in += rollover_keyset_contains(server_now(w, s),
			    &all.key[i]);
			cur += snap_at(w, w->applied[s]) >= w->last_update;
		}
		ko->everywhere = in == NSRV && cur == NSRV;
		ko->nowhere = in == 0;
		ko->validated = w->dnssec == ROLLOVER_DNSSEC_SECURE &&
		    rollover_keyset_contains(prim, &all.key[i]);
	}
	h->dns.dnssec = w->dnssec;
	h->dns.ttl = w->ttl;
	h->dns.neg_ttl = w->neg_ttl;
	for (s = 0; s < NSRV; s++)
		if (!set_equal(server_now(w, s), prim))
			h->dns.lagging++;
}

static void
perform(struct harness *h)
{
	struct world			*w = &h->w;
	const struct rollover_action	*a = &h->act;
	struct rollover_keyset		 set;
	size_t				 i;
	int				 rc;

	h->done = a->type;
	h->result = 0;
	w->nact[a->type]++;
	switch (a->type) {
	case ROLLOVER_ACT_NONE:
		return;
	case ROLLOVER_ACT_WAIT:
		assert_true(a->until > 0);
		if (a->until > w->now)
			w->now = a->until;
		advance(w);
		return;
	default:
		break;
	}
	w->now += 5 + rnd(w) % 200;
	advance(w);
	rc = injected(w, a->type);
	switch (a->type) {
	case ROLLOVER_ACT_DNS_ADD:
		assert_true(a->keys.n > 0);
		if (rc == 0) {
			set = *primary_at(w, w->now);
			for (i = 0; i < a->keys.n; i++)
				assert_int_equal(rollover_keyset_add(&set,
				    &a->keys.key[i]), 0);
			push_primary(w, &set);
		}
		w->last_update = w->nhist - 1;
		break;
	case ROLLOVER_ACT_DNS_DELETE:
		assert_true(a->keys.n > 0);
		for (i = 0; i < a->keys.n; i++) {
			/* Never the record of a key that may be served. */
			assert_false(rollover_keyset_contains(&w->served,
			    &a->keys.key[i]));
			if (w->file_has)
				assert_false(rollover_key_equal(&w->file_key,
				    &a->keys.key[i]));
		}
		if (rc == 0) {
			set = *primary_at(w, w->now);
			for (i = 0; i < a->keys.n; i++)
				rollover_keyset_remove(&set, &a->keys.key[i]);
			push_primary(w, &set);
		}
		w->last_update = w->nhist - 1;
		break;
	case ROLLOVER_ACT_DNS_CHECK:
		if (rc == 0)
			fill_dns(h, &a->keys);
		break;
	case ROLLOVER_ACT_DEPLOY:
		assert_true(a->has_key);
		assert_true(a->version < w->nver);
		if (!rollover_key_equal(&w->archive[a->version], &a->key)) {
			rc = TLSAD_ECERT_KEYMISMATCH;
			break;
		}
		if (rc == 0 || (w->partial_deploy && rnd(w) % 2 == 0)) {
			w->file_has = 1;
			w->file_key = a->key;
			w->deploys_of[a->version]++;
			h->deploy_at[a->version] = w->now;
			/* New smtpd processes read the file as they start. */
			serve_new(h, &a->key);
		}
		break;
	case ROLLOVER_ACT_RELOAD:
		if (rc == 0) {
			w->served.n = 0;
			if (w->file_has)
				(void)rollover_keyset_add(&w->served,
				    &w->file_key);
		}
		break;
	case ROLLOVER_ACT_PROBE:
		if (rc == 0) {
			if (!w->file_has ||
			    !rollover_keyset_contains(&w->served, &w->file_key)) {
				rc = TLSAD_EPROBE_CONNECT;
				break;
			}
			h->served_probe = w->file_key;
			if (w->dnssec != ROLLOVER_DNSSEC_SECURE ||
			    !rollover_keyset_contains(primary_at(w, w->now),
			    &w->file_key))
				rc = TLSAD_EPROBE_DANE;
		}
		break;
	case ROLLOVER_ACT_RESTORE:
		if (rc == 0) {
			if (a->has_key) {
				assert_true(a->version < w->nver);
				assert_true(rollover_key_equal(
				    &w->archive[a->version], &a->key));
				w->file_has = 1;
				w->file_key = a->key;
				serve_new(h, &a->key);
			} else {
				w->file_has = 0;
			}
		}
		break;
	default:
		fail_msg("unknown action %d", (int)a->type);
	}
	h->result = rc;
}

/* The loop: one step of the machine, then the executor. */

static void
build_obs(struct harness *h, struct rollover_obs *o)
{
	memset(o, 0, sizeof(*o));
	o->live = h->w.live;
	if (o->live == ROLLOVER_LIVE_OK) {
		o->live_key = h->w.archive[h->w.live_version];
		o->live_version = h->w.live_version;
	} else if (o->live == ROLLOVER_LIVE_ERROR) {
		o->live_error = TLSAD_ECERT_NOPEM;
	}
	o->done = h->done;
	o->result = h->result;
	o->message = h->result != 0 ? "injected failure" : NULL;
	o->dns = h->dns;
	o->served = h->served_probe;
	o->verify = h->verify;
	h->verify = 0;
}

/* Through state.c: a crash loses everything but the saved file. */
static void
reload_state(struct harness *h)
{
	struct rollover_state	 back;
	char			*text = NULL;
	size_t			 len = 0;
	char			 err[256];

	if (h->use_files) {
		(void)mkdir(TLSAD_TEST_TMP, 0755);
		(void)mkdir(h->dir, 0755);
		assert_int_equal(state_save(h->dir, "mx.example.org", &h->st), 0);
		assert_int_equal(state_load(h->dir, "mx.example.org", &back,
		    err, sizeof(err)), 0);
	} else {
		assert_int_equal(state_format("mx.example.org", &h->st, &text,
		    &len), 0);
		if (state_parse(text, len, "mem", "mx.example.org", &back, err,
		    sizeof(err)) != 0)
			fail_msg("parse: %s\n%s", err, text);
		free(text);
	}
	if (!rollover_state_equal(&h->st, &back)) {
		char	*t1 = NULL, *t2 = NULL;
		size_t	 l1, l2;

		(void)state_format("x", &h->st, &t1, &l1);
		(void)state_format("x", &back, &t2, &l2);
		if (strcmp(t1, t2) == 0)
			fail_msg("same text, different state: %lld/%lld %lld/%lld "
			    "%u/%u %d/%d [%s]/[%s] %zu/%zu", (long long)h->st.next_attempt,
			    (long long)back.next_attempt, (long long)h->st.deadline,
			    (long long)back.deadline, h->st.polls, back.polls,
			    h->st.substep, back.substep, h->st.last_message,
			    back.last_message, h->st.published.n, back.published.n);
		fail_msg("state changed through the file:\n%s\n--\n%s", t1, t2);
	}
	h->st = back;
	h->crashes++;
}

/*
 * A deploy of a new key: the last DNS check, made after the hold, saw it
 * everywhere and validated secure.  (A key already served needs nothing.)
 */
static void
check_deploy(struct harness *h)
{
	const struct rollover_key	*k = &h->act.key;
	size_t				 i;

	if (h->st.has_deployed && rollover_key_equal(k, &h->st.deployed))
		return;
	/* First install adopts a validated record without a hold. */
	if (h->st.hold_until != h->st.t0)
		assert_true(h->check_at >= h->st.hold_until);
	assert_int_equal(h->dns.dnssec, ROLLOVER_DNSSEC_SECURE);
	for (i = 0; i < h->dns.nkeys; i++)
		if (rollover_key_equal(&h->dns.keys[i].key, k))
			break;
	assert_true(i < h->dns.nkeys);
	assert_true(h->dns.keys[i].everywhere && h->dns.keys[i].validated);
}

static void
step(struct harness *h)
{
	struct rollover_obs	o;
	struct rollover_state	next;
	int			rc;

	advance(&h->w);
	build_obs(h, &o);
	if (getenv("ROLLOVER_TRACE") != NULL && o.done == ROLLOVER_ACT_DNS_CHECK) {
		size_t i;

		for (i = 0; i < o.dns.nkeys; i++)
			fprintf(stderr, "   key %u every %d none %d valid %d\n",
			    o.dns.keys[i].key.spki[0], o.dns.keys[i].everywhere,
			    o.dns.keys[i].nowhere, o.dns.keys[i].validated);
	}
	rc = rollover_step(&h->st, &o, h->w.now, &h->p, &next, &h->act);
	if (rc != 0)
		fail_msg("step: %d: %s", rc, h->act.reason);
	assert_true(h->act.reason[0] != '\0');
	h->st = next;
	if (getenv("ROLLOVER_TRACE") != NULL)
		fprintf(stderr, "+%lld %s %s: %s\n",
		    (long long)(h->w.now - START_MS),
		    rollover_stage_name(h->st.stage),
		    rollover_act_name(h->act.type), h->act.reason);
	if (h->act.type == ROLLOVER_ACT_DEPLOY) {
		h->t0_at_deploy = h->st.t0;
		check_deploy(h);
	}
	check_invariant(h);
	perform(h);
	check_invariant(h);
}

/* Run until the machine has nothing to do; returns the steps taken. */
static unsigned
run_idle(struct harness *h, unsigned max)
{
	unsigned	n;

	for (n = 0; n < max; n++) {
		step(h);
		if (h->act.type == ROLLOVER_ACT_NONE)
			return n + 1;
	}
	fail_msg("no rest after %u steps (stage %s: %s)", max,
	    rollover_stage_name(h->st.stage), h->act.reason);
	return max;
}

/* Run until the stage is reached (after at least one step). */
static int
run_until_stage(struct harness *h, enum rollover_stage stage, unsigned max)
{
	unsigned	n;

	for (n = 0; n < max; n++) {
		step(h);
		if (h->st.stage == stage)
			return 1;
		if (h->act.type == ROLLOVER_ACT_NONE)
			return 0;
	}
	return 0;
}

static void
setup_world(struct harness *h, unsigned seed)
{
	struct rollover_keyset	empty;

	memset(h, 0, sizeof(*h));
	rollover_params_default(&h->p);
	h->p.retry_min_ms = 10 * 1000;
	h->p.retry_max_ms = 600 * 1000;
	h->w.rng = seed * 2654435761u + 1;
	h->w.now = START_MS;
	h->w.ttl = 300;
	h->w.neg_ttl = 60;
	h->w.lag[0] = 0;
	h->w.lag[1] = 2000;
	h->w.lag[2] = 7000;
	h->w.dnssec = ROLLOVER_DNSSEC_SECURE;
	h->w.nver = MAXVER;
	for (unsigned i = 0; i < MAXVER; i++)
		h->w.archive[i] = mkkey(i);
	memset(&empty, 0, sizeof(empty));
	push_primary(&h->w, &empty);
	h->w.live = ROLLOVER_LIVE_OK;
	h->w.live_version = 1;
	rollover_state_init(&h->st);
	snprintf(h->dir, sizeof(h->dir), "%s/rollover-%u", TLSAD_TEST_TMP, seed);
}

/* Key 1 already in DNS since long ago, not deployed: first install. */
static void
setup_deployed(struct harness *h, unsigned seed)
{
	struct rollover_keyset	set;

	setup_world(h, seed);
	memset(&set, 0, sizeof(set));
	(void)rollover_keyset_add(&set, &h->w.archive[1]);
	h->w.hist[0].set = set;
	run_idle(h, 50);
	assert_int_equal(h->st.stage, ROLLOVER_IDLE);
	assert_true(h->st.has_deployed);
	assert_int_equal(h->st.deployed_version, 1);
	assert_int_equal(h->w.deploys_of[1], 1);
	memset(h->w.nact, 0, sizeof(h->w.nact));
}

static void
renew(struct harness *h, uint32_t version, struct rollover_key key)
{
	h->w.archive[version] = key;
	h->w.live_version = version;
	h->w.live = ROLLOVER_LIVE_OK;
}

/* After everything: one record, the served key's, everywhere. */
static void
assert_converged(struct harness *h, uint32_t version)
{
	const struct rollover_key	*k = &h->w.archive[version];
	int				 s;

	assert_int_equal(h->st.stage, ROLLOVER_IDLE);
	assert_true(h->st.has_deployed);
	assert_int_equal(h->st.deployed_version, version);
	assert_false(h->st.has_target);
	assert_false(h->st.has_staged);
	assert_int_equal(h->st.published.n, 1);
	assert_true(rollover_key_equal(&h->st.published.key[0], k));
	assert_int_equal(h->w.served.n, 1);
	assert_true(rollover_key_equal(&h->w.served.key[0], k));
	assert_true(rollover_key_equal(&h->w.file_key, k));
	for (s = 0; s < NSRV; s++) {
		assert_int_equal(server_now(&h->w, s)->n, 1);
		assert_true(rollover_keyset_contains(
		    server_now(&h->w, s), k));
	}
}

static void
teardown_world(struct harness *h)
{
	free(h->w.hist);
	h->w.hist = NULL;
}

/* Tests. */

static void
test_first_install_adopts(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 1);
	/* Deployed at once: no UPDATE, no hold. */
	assert_int_equal(h.w.hist[0].set.n, 1);
	assert_int_equal(h.w.nhist, 1);
	assert_converged(&h, 1);
	assert_int_equal(h.st.failures, 0);
	assert_true(h.st.last_success > 0);
	teardown_world(&h);
}

static void
test_first_install_publishes(void **unused)
{
	struct harness	h;
	int64_t		t_start;

	setup_world(&h, 2);
	t_start = h.w.now;
	run_idle(&h, 200);
	assert_converged(&h, 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_ADD], 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_DELETE], 0);
	/* Held for the negative TTL (no RRset before) x 2 + margin. */
	assert_true(h.deploy_at[1] - t_start >= 60 * 2 * 1000 + 60 * 1000);
	teardown_world(&h);
}

static void
test_full_rollover(void **unused)
{
	struct harness	h;
	struct rollover_state before;
	int		saw[ROLLOVER_NSTAGES] = { 0 };
	unsigned	n;

	setup_deployed(&h, 3);
	renew(&h, 2, mkkey(2));
	before = h.st;
	for (n = 0; n < 500; n++) {
		step(&h);
		saw[h.st.stage] = 1;
		if (h.act.type == ROLLOVER_ACT_NONE)
			break;
	}
	assert_converged(&h, 2);
	assert_true(saw[ROLLOVER_PUBLISH] && saw[ROLLOVER_PROPAGATE] &&
	    saw[ROLLOVER_HOLD] && saw[ROLLOVER_DEPLOY] && saw[ROLLOVER_RELOAD] &&
	    saw[ROLLOVER_PROBE] && saw[ROLLOVER_RETIRE] &&
	    saw[ROLLOVER_CONFIRM]);
	assert_false(saw[ROLLOVER_FAILED]);
	assert_false(saw[ROLLOVER_ROLLBACK]);
	/* One UPDATE each way, one deploy, one reload, one probe. */
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_ADD], 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_DELETE], 1);
	assert_int_equal(h.w.deploys_of[2], 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_RELOAD], 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_PROBE], 1);
	/* The hold: t0 (seen everywhere) + TTL x 2 + 60 s, from data. */
	assert_true(h.t0_at_deploy > before.stage_since);
	assert_true(h.deploy_at[2] >= h.t0_at_deploy + 300 * 2 * 1000 +
	    60 * 1000);
	/* Not much more than that: polls back off but are capped. */
	assert_true(h.deploy_at[2] <= h.t0_at_deploy + 300 * 2 * 1000 +
	    60 * 1000 + 5000);
	teardown_world(&h);
}

static void
test_hold_uses_served_ttl(void **unused)
{
	struct harness	h;
	char		buf[128];

	setup_deployed(&h, 4);
	h.w.ttl = 3600;
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_HOLD, 100));
	assert_int_equal(h.st.hold_ttl, 3600);
	assert_int_equal(h.st.hold_until, h.st.t0 + 3600 * 2 * 1000 + 60000);
	/* Waits for hold_until, in one sleep. */
	assert_int_equal(h.act.type, ROLLOVER_ACT_WAIT);
	assert_int_equal(h.act.until, h.st.hold_until);
	assert_non_null(strstr(h.act.reason, "holding 0/7260 s"));
	rollover_describe(&h.st, h.st.t0 + 37000, buf, sizeof(buf));
	assert_string_equal(buf, "holding 37/7260 s");
	run_idle(&h, 100);
	assert_converged(&h, 2);
	teardown_world(&h);
}

static void
test_reuse_key(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 5);
	renew(&h, 2, h.w.archive[1]);	/* same key, new certificate */
	run_idle(&h, 20);
	assert_converged(&h, 2);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_ADD], 0);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_DELETE], 0);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_CHECK], 0);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_WAIT], 0);
	assert_int_equal(h.w.deploys_of[2], 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_RELOAD], 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_PROBE], 1);
	teardown_world(&h);
}

static void
test_publish_refused(void **unused)
{
	struct harness	h;
	int64_t		t;

	setup_deployed(&h, 6);
	h.w.fail_next[ROLLOVER_ACT_DNS_ADD] = 2;
	h.w.fail_code[ROLLOVER_ACT_DNS_ADD] = TLSAD_EDNS_REFUSED;
	renew(&h, 2, mkkey(2));
	step(&h);
	assert_int_equal(h.act.type, ROLLOVER_ACT_DNS_ADD);
	step(&h);
	assert_int_equal(h.st.stage, ROLLOVER_FAILED);
	assert_int_equal(h.st.last_error, TLSAD_EDNS_REFUSED);
	assert_int_equal(h.st.retry_stage, ROLLOVER_PUBLISH);
	assert_int_equal(h.act.type, ROLLOVER_ACT_WAIT);
	assert_int_equal(h.st.next_attempt - h.st.stage_since, 10 * 1000);
	assert_non_null(strstr(h.act.reason, "DNS_REFUSED"));
	t = h.w.now;
	step(&h);	/* the wait is over: retry, and DNS_ADD fails again */
	assert_int_equal(h.act.type, ROLLOVER_ACT_DNS_ADD);
	step(&h);
	assert_int_equal(h.st.stage, ROLLOVER_FAILED);
	assert_int_equal(h.st.failures, 2);
	/* Exponential backoff: 20 s after the second failure. */
	assert_int_equal(h.st.next_attempt - h.st.stage_since, 20 * 1000);
	assert_true(h.w.now > t);
	assert_int_equal(h.w.served.n, 1);
	run_idle(&h, 300);
	assert_converged(&h, 2);
	assert_int_equal(h.st.failures, 0);
	teardown_world(&h);
}

static void
test_propagation_timeout(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 7);
	h.p.propagation_timeout_ms = 600 * 1000;
	h.w.lag[2] = 3600 * 1000;	/* one secondary stuck for an hour */
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 500));
	assert_int_equal(h.st.last_error, TLSAD_EDNS_LAGGING);
	assert_int_equal(h.st.retry_stage, ROLLOVER_PUBLISH);
	assert_int_equal(h.w.deploys_of[2], 0);
	assert_false(h.st.has_staged);
	/* Retries keep failing with growing waits until it catches up. */
	assert_true(run_until_stage(&h, ROLLOVER_PROPAGATE, 50));
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 500));
	assert_int_equal(h.st.failures, 2);
	assert_int_equal(h.st.next_attempt - h.st.stage_since, 20 * 1000);
	h.w.lag[2] = 1000;
	run_idle(&h, 1000);
	assert_converged(&h, 2);
	teardown_world(&h);
}

static void
test_bogus_and_insecure(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 8);
	h.w.dnssec = ROLLOVER_DNSSEC_BOGUS;
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 100));
	assert_int_equal(h.st.last_error, TLSAD_EDNSSEC_BOGUS);
	assert_non_null(strstr(h.act.reason, "bogus"));
	assert_int_equal(h.w.deploys_of[2], 0);
	h.w.dnssec = ROLLOVER_DNSSEC_INSECURE;
	assert_true(run_until_stage(&h, ROLLOVER_PROPAGATE, 50));
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 100));
	assert_int_equal(h.st.last_error, TLSAD_EDNSSEC_INSECURE);
	assert_int_equal(h.w.deploys_of[2], 0);
	h.w.dnssec = ROLLOVER_DNSSEC_SECURE;
	run_idle(&h, 500);
	assert_converged(&h, 2);
	teardown_world(&h);
}

static void
test_bogus_during_hold(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 9);
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_HOLD, 100));
	h.w.dnssec = ROLLOVER_DNSSEC_BOGUS;
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 100));
	assert_int_equal(h.st.last_error, TLSAD_EDNSSEC_BOGUS);
	assert_int_equal(h.w.deploys_of[2], 0);
	h.w.dnssec = ROLLOVER_DNSSEC_SECURE;
	run_idle(&h, 500);
	assert_converged(&h, 2);
	teardown_world(&h);
}

static void
test_record_vanishes_during_hold(void **unused)
{
	struct harness		h;
	struct rollover_keyset	set;
	int64_t			t_gone;

	setup_deployed(&h, 10);
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_HOLD, 100));
	/* Someone deletes the new record, and adds it back later. */
	set = *primary_at(&h.w, h.w.now);
	rollover_keyset_remove(&set, &h.w.archive[2]);
	push_primary(&h.w, &set);
	t_gone = h.w.now;
	run_idle(&h, 500);
	assert_converged(&h, 2);
	/* Published again, and held again from a later t0. */
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_ADD], 2);
	assert_true(h.deploy_at[2] >= t_gone + 300 * 2 * 1000);
	teardown_world(&h);
}

static void
test_reload_failure_rolls_back(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 11);
	h.w.fail_next[ROLLOVER_ACT_RELOAD] = 1;
	h.w.fail_code[ROLLOVER_ACT_RELOAD] = TLSAD_ERELOAD;
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_ROLLBACK, 200));
	assert_int_equal(h.act.type, ROLLOVER_ACT_RESTORE);
	assert_true(h.act.has_key);
	assert_int_equal(h.act.version, 1);
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 10));
	assert_int_equal(h.st.last_error, TLSAD_ERELOAD);
	assert_non_null(strstr(h.st.last_message, "rolled back"));
	/* Both records kept; the old key served again. */
	assert_true(rollover_keyset_contains(primary_at(&h.w, h.w.now),
	    &h.w.archive[1]));
	assert_true(rollover_keyset_contains(primary_at(&h.w, h.w.now),
	    &h.w.archive[2]));
	assert_true(rollover_key_equal(&h.w.file_key, &h.w.archive[1]));
	assert_int_equal(h.w.served.n, 1);
	assert_true(rollover_key_equal(&h.w.served.key[0], &h.w.archive[1]));
	assert_int_equal(h.st.deployed_version, 1);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_DELETE], 0);
	/* The retry resumes at the check before deploy, not a new hold. */
	assert_int_equal(h.st.retry_stage, ROLLOVER_HOLD);
	run_idle(&h, 200);
	assert_converged(&h, 2);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_DNS_ADD], 1);
	teardown_world(&h);
}

static void
test_probe_failure_rolls_back(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 12);
	h.w.fail_next[ROLLOVER_ACT_PROBE] = 3;
	h.w.fail_code[ROLLOVER_ACT_PROBE] = TLSAD_EPROBE_DANE;
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_ROLLBACK, 200));
	assert_int_equal(h.w.nact[ROLLOVER_ACT_PROBE], 3);
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 10));
	assert_int_equal(h.st.last_error, TLSAD_EPROBE_DANE);
	assert_true(rollover_key_equal(&h.w.served.key[0], &h.w.archive[1]));
	assert_int_equal(primary_at(&h.w, h.w.now)->n, 2);
	run_idle(&h, 200);
	assert_converged(&h, 2);
	teardown_world(&h);
}

static void
test_probe_retries_then_succeeds(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 13);
	h.w.fail_next[ROLLOVER_ACT_PROBE] = 2;
	h.w.fail_code[ROLLOVER_ACT_PROBE] = TLSAD_EPROBE_CONNECT;
	renew(&h, 2, mkkey(2));
	run_idle(&h, 300);
	assert_converged(&h, 2);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_PROBE], 3);
	assert_int_equal(h.w.nact[ROLLOVER_ACT_RESTORE], 0);
	teardown_world(&h);
}

static void
test_deploy_failure_rolls_back(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 14);
	h.w.fail_next[ROLLOVER_ACT_DEPLOY] = 1;
	h.w.fail_code[ROLLOVER_ACT_DEPLOY] = TLSAD_EDEPLOY;
	h.w.partial_deploy = 1;
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_ROLLBACK, 200));
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 10));
	assert_int_equal(h.st.last_error, TLSAD_EDEPLOY);
	assert_true(rollover_key_equal(&h.w.file_key, &h.w.archive[1]));
	run_idle(&h, 200);
	assert_converged(&h, 2);
	teardown_world(&h);
}

static void
test_rollback_failure_keeps_both(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 15);
	h.w.fail_next[ROLLOVER_ACT_PROBE] = 3;
	h.w.fail_code[ROLLOVER_ACT_PROBE] = TLSAD_EPROBE_TLS;
	h.w.fail_next[ROLLOVER_ACT_RESTORE] = 2;
	h.w.fail_code[ROLLOVER_ACT_RESTORE] = TLSAD_EDEPLOY;
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 300));
	assert_int_equal(h.st.retry_stage, ROLLOVER_ROLLBACK);
	assert_true(h.st.has_staged);
	/* A newer renewal must wait for the rollback to finish. */
	renew(&h, 3, mkkey(3));
	step(&h);
	assert_true(h.st.stage == ROLLOVER_FAILED ||
	    h.st.stage == ROLLOVER_ROLLBACK);
	assert_true(h.st.has_staged);
	assert_int_equal(h.st.target_version, 2);
	run_idle(&h, 500);
	assert_converged(&h, 3);
	assert_int_equal(h.w.deploys_of[2], 1);
	teardown_world(&h);
}

static void
test_retire_refused(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 16);
	h.w.fail_next[ROLLOVER_ACT_DNS_DELETE] = 1;
	h.w.fail_code[ROLLOVER_ACT_DNS_DELETE] = TLSAD_EDNS_REFUSED;
	renew(&h, 2, mkkey(2));
	assert_true(run_until_stage(&h, ROLLOVER_FAILED, 300));
	assert_int_equal(h.st.retry_stage, ROLLOVER_RETIRE);
	assert_int_equal(h.st.deployed_version, 2);
	assert_int_equal(primary_at(&h.w, h.w.now)->n, 2);
	run_idle(&h, 100);
	assert_converged(&h, 2);
	assert_int_equal(h.w.deploys_of[2], 1);
	teardown_world(&h);
}

static void
test_lineage_states(void **unused)
{
	struct harness	h;

	setup_deployed(&h, 17);
	/* Mid-renewal: nothing happens, and it says why. */
	h.w.live = ROLLOVER_LIVE_INCONSISTENT;
	h.w.live_version = 2;
	step(&h);
	assert_int_equal(h.act.type, ROLLOVER_ACT_NONE);
	assert_non_null(strstr(h.act.reason, "renewed"));
	assert_int_equal(h.st.stage, ROLLOVER_IDLE);
	/* Garbage: failed, with the reason, nothing deployed. */
	h.w.live = ROLLOVER_LIVE_ERROR;
	step(&h);
	assert_int_equal(h.st.stage, ROLLOVER_FAILED);
	assert_int_equal(h.st.last_error, TLSAD_ECERT_NOPEM);
	assert_int_equal(h.act.type, ROLLOVER_ACT_WAIT);
	/* Fixed: rolls over at once. */
	renew(&h, 2, mkkey(2));
	step(&h);
	assert_int_equal(h.act.type, ROLLOVER_ACT_DNS_ADD);
	/* An inconsistent read mid-rollover changes nothing either. */
	h.w.live = ROLLOVER_LIVE_INCONSISTENT;
	run_idle(&h, 300);
	assert_converged(&h, 2);
	teardown_world(&h);
}

/* A newer renewal arriving at each stage of a rollover. */
static void
supersede_at(enum rollover_stage stage, int reuse)
{
	struct harness	h;

	setup_deployed(&h, 100 + stage);
	if (stage == ROLLOVER_FAILED) {
		h.w.fail_next[ROLLOVER_ACT_DNS_ADD] = 1;
		h.w.fail_code[ROLLOVER_ACT_DNS_ADD] = TLSAD_EDNS_SERVFAIL;
	}
	if (stage == ROLLOVER_ROLLBACK) {
		h.w.fail_next[ROLLOVER_ACT_RELOAD] = 1;
		h.w.fail_code[ROLLOVER_ACT_RELOAD] = TLSAD_ERELOAD;
	}
	renew(&h, 2, mkkey(2));
	if (!run_until_stage(&h, stage, 300))
		fail_msg("stage %s never reached", rollover_stage_name(stage));
	renew(&h, 3, reuse ? h.w.archive[1] : mkkey(3));
	run_idle(&h, 1000);
	assert_converged(&h, 3);
	if (stage < ROLLOVER_DEPLOY || stage == ROLLOVER_FAILED)
		assert_int_equal(h.w.deploys_of[2], 0);
	else
		assert_int_equal(h.w.deploys_of[2], 1);
	assert_int_equal(h.w.deploys_of[3], 1);
	teardown_world(&h);
}

static void
test_supersede_each_stage(void **unused)
{
	static const enum rollover_stage stages[] = {
		ROLLOVER_PUBLISH, ROLLOVER_PROPAGATE, ROLLOVER_HOLD,
		ROLLOVER_DEPLOY, ROLLOVER_RELOAD, ROLLOVER_PROBE,
		ROLLOVER_RETIRE, ROLLOVER_CONFIRM, ROLLOVER_FAILED,
		ROLLOVER_ROLLBACK,
	};
	size_t	i;

	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		supersede_at(stages[i], 0);
		/* ... and by a renewal that went back to the served key. */
		supersede_at(stages[i], 1);
	}
}

/* Kill the daemon at step k of a rollover; start again from the file. */
static void
crash_at(unsigned k, int use_files)
{
	struct harness	h;
	unsigned	n;

	setup_deployed(&h, 200 + k);
	h.use_files = use_files;
	renew(&h, 2, mkkey(2));
	for (n = 0; n < k; n++) {
		step(&h);
		if (h.act.type == ROLLOVER_ACT_NONE)
			break;
	}
	/* Killed after the action ran: its result is lost. */
	h.done = ROLLOVER_ACT_NONE;
	h.result = 0;
	reload_state(&h);
	run_idle(&h, 500);
	assert_converged(&h, 2);
	/* Re-deploying the same file is the only repeat, at most once. */
	assert_true(h.w.deploys_of[2] >= 1 && h.w.deploys_of[2] <= 2);
	teardown_world(&h);
}

static void
test_crash_every_step(void **unused)
{
	unsigned	k;

	for (k = 0; k < 40; k++)
		crash_at(k, 0);
	for (k = 0; k < 40; k += 3)
		crash_at(k, 1);
}

/* A crash before the action: the action is not performed at all. */
static void
test_crash_before_action(void **unused)
{
	struct harness		h;
	struct rollover_obs	o;
	struct rollover_state	next;
	unsigned		n, k;

	for (k = 1; k < 40; k++) {
		setup_deployed(&h, 300 + k);
		renew(&h, 2, mkkey(2));
		for (n = 0; n < k; n++)
			step(&h);
		/* One more step whose action is never performed. */
		build_obs(&h, &o);
		assert_int_equal(rollover_step(&h.st, &o, h.w.now, &h.p, &next,
		    &h.act), 0);
		h.st = next;
		h.done = ROLLOVER_ACT_NONE;
		reload_state(&h);
		check_invariant(&h);
		run_idle(&h, 500);
		assert_converged(&h, 2);
		teardown_world(&h);
	}
}

/* Random renewals, faults, crashes, DNS trouble; invariant always. */
static void
test_random(void **unused)
{
	struct harness	h;
	struct rollover_keyset cur;
	unsigned	seed, n, r, i;
	unsigned	tot_crash = 0, tot_restore = 0, tot_delete = 0;
	unsigned	tot_deploy = 0;
	uint32_t	ver;

	for (seed = 1; seed <= 60; seed++) {
		setup_deployed(&h, 1000 + seed);
		h.w.fail_pct = 8;
		h.w.partial_deploy = 1;
		h.p.propagation_timeout_ms = 900 * 1000;
		ver = 1;
		for (n = 0; n < 3000; n++) {
			r = rnd(&h.w) % 1000;
			if (r < 6 && ver + 1 < MAXVER) {
				ver++;
				/* A new key, or the same key (--reuse-key). */
				renew(&h, ver, rnd(&h.w) % 4 == 0 ?
				    h.w.archive[ver - 1] : mkkey(ver));
			} else if (r < 12) {
				h.w.live = ROLLOVER_LIVE_INCONSISTENT;
			} else if (r < 30) {
				h.w.live = ROLLOVER_LIVE_OK;
			} else if (r < 33) {
				h.w.dnssec = ROLLOVER_DNSSEC_BOGUS;
			} else if (r < 36) {
				h.w.dnssec = ROLLOVER_DNSSEC_UNKNOWN;
			} else if (r < 60) {
				h.w.dnssec = ROLLOVER_DNSSEC_SECURE;
			} else if (r < 64) {
				h.w.lag[2] = (int64_t)(rnd(&h.w) % 1200) * 1000;
			} else if (r < 70 && h.w.ttl < 900) {
				/* Only up: see DESIGN.md on lowering a TTL. */
				h.w.ttl += rnd(&h.w) % 60;
				cur = *primary_at(&h.w, h.w.now);
				push_primary(&h.w, &cur);
			} else if (r < 75) {
				h.verify = 1;
			} else if (r < 90) {
				h.done = ROLLOVER_ACT_NONE;
				h.use_files = rnd(&h.w) % 8 == 0;
				reload_state(&h);
			}
			step(&h);
			if (h.act.type == ROLLOVER_ACT_NONE) {
				/* Idle: the next event comes later. */
				h.w.now += 1000 + rnd(&h.w) % 60000;
			}
		}
		/* Calm: everything must converge on the last renewal. */
		h.w.fail_pct = 0;
		h.w.dnssec = ROLLOVER_DNSSEC_SECURE;
		h.w.live = ROLLOVER_LIVE_OK;
		h.w.lag[2] = 5000;
		h.w.partial_deploy = 0;
		run_idle(&h, 5000);
		assert_converged(&h, ver);
		tot_crash += h.crashes;
		tot_restore += h.w.nact[ROLLOVER_ACT_RESTORE];
		tot_delete += h.w.nact[ROLLOVER_ACT_DNS_DELETE];
		for (i = 0; i < MAXVER; i++)
			tot_deploy += h.w.deploys_of[i];
		teardown_world(&h);
	}
	/* The random runs did go through the hard paths, many times. */
	if (getenv("ROLLOVER_TRACE") != NULL)
		fprintf(stderr, "crashes %u restores %u deletes %u deploys %u\n",
		    tot_crash, tot_restore, tot_delete, tot_deploy);
	assert_true(tot_crash > 1000);
	assert_true(tot_restore > 20);
	assert_true(tot_delete > 50);
	assert_true(tot_deploy > 100);
}

/* The guards, against crafted states and lying observations. */
static void
test_guards(void **unused)
{
	struct rollover_state	st, next;
	struct rollover_obs	o;
	struct rollover_action	act;
	struct rollover_params	p;
	struct rollover_key	a = mkkey(1), b = mkkey(2);
	char			why[128];

	rollover_params_default(&p);
	/* HOLD not over: a DNS check result never deploys. */
	rollover_state_init(&st);
	st.stage = ROLLOVER_HOLD;
	st.has_deployed = 1;
	st.deployed = a;
	st.deployed_version = 1;
	st.has_target = 1;
	st.target = b;
	st.target_version = 2;
	(void)rollover_keyset_add(&st.published, &a);
	(void)rollover_keyset_add(&st.published, &b);
	st.t0 = START_MS;
	st.hold_until = START_MS + 660000;
	memset(&o, 0, sizeof(o));
	o.live = ROLLOVER_LIVE_OK;
	o.live_key = b;
	o.live_version = 2;
	o.done = ROLLOVER_ACT_DNS_CHECK;
	o.dns.dnssec = ROLLOVER_DNSSEC_SECURE;
	o.dns.nkeys = 2;
	o.dns.keys[0].key = a;
	o.dns.keys[0].everywhere = o.dns.keys[0].validated = 1;
	o.dns.keys[1].key = b;
	o.dns.keys[1].everywhere = o.dns.keys[1].validated = 1;
	assert_int_equal(rollover_step(&st, &o, START_MS + 1000, &p, &next,
	    &act), 0);
	assert_int_equal(act.type, ROLLOVER_ACT_WAIT);
	assert_int_equal(act.until, st.hold_until);
	assert_int_equal(next.stage, ROLLOVER_HOLD);
	/* PROPAGATE: a check without any TTL is doubt, not a zero hold. */
	st.stage = ROLLOVER_PROPAGATE;
	st.deadline = START_MS + 3600000;
	assert_int_equal(rollover_step(&st, &o, START_MS + 1000, &p, &next,
	    &act), 0);
	assert_int_equal(act.type, ROLLOVER_ACT_WAIT);
	assert_int_equal(next.stage, ROLLOVER_PROPAGATE);
	assert_non_null(strstr(act.reason, "no TTL"));
	o.dns.ttl = 120;
	assert_int_equal(rollover_step(&st, &o, START_MS + 1000, &p, &next,
	    &act), 0);
	assert_int_equal(next.stage, ROLLOVER_HOLD);
	assert_int_equal(next.hold_until, START_MS + 1000 + 120 * 2 * 1000 +
	    60 * 1000);
	st.stage = ROLLOVER_HOLD;
	/* Over, and a check says yes: deploy. */
	assert_int_equal(rollover_step(&st, &o, st.hold_until + 1, &p, &next,
	    &act), 0);
	assert_int_equal(act.type, ROLLOVER_ACT_DEPLOY);
	/* Over, but the target is not validated: no deploy. */
	o.dns.keys[1].validated = 0;
	assert_int_equal(rollover_step(&st, &o, st.hold_until + 1, &p, &next,
	    &act), 0);
	assert_true(act.type != ROLLOVER_ACT_DEPLOY);
	/* Over, validated, but a server lacks it: no deploy. */
	o.dns.keys[1].validated = 1;
	o.dns.keys[1].everywhere = 0;
	assert_int_equal(rollover_step(&st, &o, st.hold_until + 1, &p, &next,
	    &act), 0);
	assert_true(act.type != ROLLOVER_ACT_DEPLOY);
	/* Over, but the key was not reported at all: no deploy. */
	o.dns.nkeys = 1;
	assert_int_equal(rollover_step(&st, &o, st.hold_until + 1, &p, &next,
	    &act), 0);
	assert_true(act.type != ROLLOVER_ACT_DEPLOY);
	/* A state in DEPLOY whose target was never validated is refused. */
	st.stage = ROLLOVER_DEPLOY;
	st.has_staged = 1;
	st.staged = b;
	st.validated_at = 0;
	assert_int_equal(rollover_state_check(&st, why, sizeof(why)),
	    TLSAD_ESTATE_CORRUPT);
	o.done = ROLLOVER_ACT_NONE;
	assert_int_equal(rollover_step(&st, &o, st.hold_until + 1, &p, &next,
	    &act), TLSAD_EINVAL);
	assert_int_equal(act.type, ROLLOVER_ACT_NONE);
	assert_non_null(strstr(act.reason, "inconsistent"));
	/* The deployed key missing from published is refused too. */
	rollover_state_init(&st);
	st.has_deployed = 1;
	st.deployed = a;
	assert_int_equal(rollover_state_check(&st, why, sizeof(why)),
	    TLSAD_ESTATE_CORRUPT);
	/* RETIRE never lists the deployed key. */
	rollover_state_init(&st);
	st.has_deployed = 1;
	st.deployed = a;
	st.deployed_version = 1;
	(void)rollover_keyset_add(&st.published, &a);
	(void)rollover_keyset_add(&st.published, &b);
	o.live_key = a;
	o.live_version = 1;
	assert_int_equal(rollover_step(&st, &o, START_MS, &p, &next, &act), 0);
	assert_int_equal(act.type, ROLLOVER_ACT_DNS_DELETE);
	assert_int_equal(act.keys.n, 1);
	assert_true(rollover_key_equal(&act.keys.key[0], &b));
	/* NULL arguments. */
	assert_int_equal(rollover_step(NULL, &o, 0, &p, &next, &act),
	    TLSAD_EINVAL);
}

/* Idle, asked to verify: a served key's record gone missing is re-added. */
static void
test_verify_repairs(void **unused)
{
	struct rollover_state	st, next;
	struct rollover_obs	o;
	struct rollover_action	act;
	struct rollover_params	p;
	struct rollover_key	a = mkkey(1);

	rollover_params_default(&p);
	rollover_state_init(&st);
	st.has_deployed = 1;
	st.deployed = a;
	st.deployed_version = 1;
	st.has_live = 1;
	st.live = a;
	st.live_version = 1;
	(void)rollover_keyset_add(&st.published, &a);
	memset(&o, 0, sizeof(o));
	o.live = ROLLOVER_LIVE_OK;
	o.live_key = a;
	o.live_version = 1;
	/* Not asked: nothing to do, no DNS traffic. */
	assert_int_equal(rollover_step(&st, &o, START_MS, &p, &next, &act), 0);
	assert_int_equal(act.type, ROLLOVER_ACT_NONE);
	assert_true(rollover_state_equal(&st, &next));
	o.verify = 1;
	assert_int_equal(rollover_step(&st, &o, START_MS, &p, &next, &act), 0);
	assert_int_equal(act.type, ROLLOVER_ACT_DNS_CHECK);
	st = next;
	o.verify = 0;
	o.done = ROLLOVER_ACT_DNS_CHECK;
	o.dns.dnssec = ROLLOVER_DNSSEC_SECURE;
	o.dns.nkeys = 1;
	o.dns.keys[0].key = a;
	o.dns.keys[0].nowhere = 1;
	assert_int_equal(rollover_step(&st, &o, START_MS + 10, &p, &next, &act),
	    0);
	assert_int_equal(act.type, ROLLOVER_ACT_DNS_ADD);
	assert_int_equal(act.keys.n, 1);
	assert_true(rollover_key_equal(&act.keys.key[0], &a));
	assert_int_equal(next.last_error, TLSAD_EDNSSEC_MISSING);
	st = next;
	o.done = ROLLOVER_ACT_DNS_ADD;
	assert_int_equal(rollover_step(&st, &o, START_MS + 20, &p, &next, &act),
	    0);
	assert_int_equal(act.type, ROLLOVER_ACT_DNS_CHECK);
	st = next;
	o.done = ROLLOVER_ACT_DNS_CHECK;
	o.dns.keys[0].nowhere = 0;
	o.dns.keys[0].everywhere = 1;
	o.dns.keys[0].validated = 1;
	assert_int_equal(rollover_step(&st, &o, START_MS + 30, &p, &next, &act),
	    0);
	assert_int_equal(act.type, ROLLOVER_ACT_NONE);
	assert_int_equal(next.stage, ROLLOVER_IDLE);
	/* The verify of a healthy lineage ends where it began. */
	st = next;
	o.done = ROLLOVER_ACT_NONE;
	o.verify = 1;
	assert_int_equal(rollover_step(&st, &o, START_MS + 40, &p, &next, &act),
	    0);
	assert_int_equal(act.type, ROLLOVER_ACT_DNS_CHECK);
	st = next;
	o.verify = 0;
	o.done = ROLLOVER_ACT_DNS_CHECK;
	assert_int_equal(rollover_step(&st, &o, START_MS + 50, &p, &next, &act),
	    0);
	assert_int_equal(act.type, ROLLOVER_ACT_NONE);
	assert_int_equal(next.stage, ROLLOVER_IDLE);
}

static void
test_names(void **unused)
{
	int	i;

	for (i = 0; i < ROLLOVER_NSTAGES; i++)
		assert_int_equal(rollover_stage_parse(
		    rollover_stage_name((enum rollover_stage)i)), i);
	assert_string_equal(rollover_stage_name(ROLLOVER_HOLD), "hold");
	assert_string_equal(rollover_stage_name((enum rollover_stage)99), "?");
	assert_int_equal(rollover_stage_parse("nope"), -1);
	assert_string_equal(rollover_act_name(ROLLOVER_ACT_DNS_DELETE),
	    "dns-delete");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_first_install_adopts),
		cmocka_unit_test(test_first_install_publishes),
		cmocka_unit_test(test_full_rollover),
		cmocka_unit_test(test_hold_uses_served_ttl),
		cmocka_unit_test(test_reuse_key),
		cmocka_unit_test(test_publish_refused),
		cmocka_unit_test(test_propagation_timeout),
		cmocka_unit_test(test_bogus_and_insecure),
		cmocka_unit_test(test_bogus_during_hold),
		cmocka_unit_test(test_record_vanishes_during_hold),
		cmocka_unit_test(test_reload_failure_rolls_back),
		cmocka_unit_test(test_probe_failure_rolls_back),
		cmocka_unit_test(test_probe_retries_then_succeeds),
		cmocka_unit_test(test_deploy_failure_rolls_back),
		cmocka_unit_test(test_rollback_failure_keeps_both),
		cmocka_unit_test(test_retire_refused),
		cmocka_unit_test(test_lineage_states),
		cmocka_unit_test(test_supersede_each_stage),
		cmocka_unit_test(test_crash_every_step),
		cmocka_unit_test(test_crash_before_action),
		cmocka_unit_test(test_guards),
		cmocka_unit_test(test_verify_repairs),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
