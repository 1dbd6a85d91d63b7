/*
 * agent.c -- perform what the rollover machine asks for, for one lineage.
 *
 * rollover.c decides; this file acts and reports.  Each action is
 * idempotent (see rollover.h), and the state is saved before it runs, so a
 * crash anywhere repeats at most one harmless action.
 *
 * The machine reasons about keys (SPKI SHA-256); DNS holds records.  A key
 * maps to the records the lineage's config asks for (every tlsa param at
 * every tlsa-name), computed from a certificate chain that holds the key:
 * the live lineage's, the deployed file's, or the previous deployed file's.
 * A key with no chain at hand (a foreign or long-gone key) maps only to its
 * 3 1 1 record, which its SPKI digest is.  Records shared with a key that
 * stays (a 2 1 1 record of the common intermediate) are never deleted.
 *
 * What this file reports is what it saw: a DNS check that could not reach
 * an address says so (that address is neither "everywhere" nor "nowhere"),
 * and a validating lookup that failed is DNSSEC "unknown", never "secure".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tlsad/agent.h"
#include "tlsad/cert.h"
#include "tlsad/dane.h"
#include "tlsad/deploy.h"
#include "tlsad/dnscheck.h"
#include "tlsad/error.h"
#include "tlsad/lineage.h"
#include "tlsad/log.h"
#include "tlsad/mta.h"
#include "tlsad/state.h"
#include "tlsad/tsig.h"
#include "tlsad/util.h"

#define AGENT_MAX_ACTIONS	64
#define AGENT_MSG_MAX		1024

struct agent_lineage {
	const struct conf		*conf;
	const struct conf_lineage	*lin;
	struct rollover_params		 params;
	struct rollover_state		 st;
	struct rollover_obs		 obs;		/* for the next step */
	char				 msg[AGENT_MSG_MAX]; /* obs.message */
	char				 reason[ROLLOVER_REASON_MAX];
	struct lineage_snapshot		*snap;		/* as read at the last step */
	struct dnscheck_cfg		 cfg;
	struct dnscheck_plan		*plan;		/* discovered once, dropped on failure */
	agent_progress_fn		*progress;
	void				*progress_arg;
	int				 lockfd;	/* STATE_DIR/NAME.lock, flock'ed */
};

/* A chain that holds a key: where the key's non-3-1-1 records come from. */
struct chains {
	struct cert_chain	*deployed;	/* the deploy file's */
	struct cert_chain	*prev;		/* the deploy file's .prev */
	uint8_t			 deployed_spki[32];
	uint8_t			 prev_spki[32];
};

static const struct tlsa_param	param_311 = { 3, 1, 1 };

void
agent_params_from_conf(const struct conf *conf, struct rollover_params *p)
{
	rollover_params_default(p);
	p->ttl_multiplier = conf->ttl_multiplier;
	p->hold_margin_ms = (int64_t)conf->hold_margin_s * 1000;
	p->propagation_timeout_ms = (int64_t)conf->propagation_timeout_s * 1000;
	p->poll_min_ms = conf->poll_min_ms;
	p->poll_max_ms = conf->poll_max_ms;
	p->retry_min_ms = (int64_t)conf->retry_min_s * 1000;
	p->retry_max_ms = (int64_t)conf->retry_max_s * 1000;
}

/*
 * One executor per lineage at a time: the daemon and a `tlsactl rollover`
 * (the certbot hook's fallback while the daemon restarts) must not act at
 * once.  The lock (flock on STATE_DIR/NAME.lock) is held only while a run
 * acts, so an idle lineage costs no descriptor, and every run starts from
 * the state file, which is the truth whoever wrote it last.
 */
static int
lock_take(struct agent_lineage *l, char *why, size_t whylen)
{
	char	path[PATH_MAX];
	int	fd = -1, rc, n;

	n = snprintf(path, sizeof(path), "%s/%s.lock", l->conf->state_dir,
	    l->lin->name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		rc = -ENAMETOOLONG;
		snprintf(why, whylen, "lineage %s: lock path too long",
		    l->lin->name);
		goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		rc = -errno;
		snprintf(why, whylen, "lineage %s: %s: %s", l->lin->name, path,
		    strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		rc = errno == EWOULDBLOCK ? TLSAD_EROLL_BUSY : -errno;
		snprintf(why, whylen, "lineage %s: %s", l->lin->name,
		    rc == TLSAD_EROLL_BUSY ? "another tlsad or tlsactl "
		    "rollover is working on it" : strerror(errno));
		goto out;
	}
	l->lockfd = fd;
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

static void
lock_drop(struct agent_lineage *l)
{
	if (l->lockfd != -1)
		close(l->lockfd);
	l->lockfd = -1;
}

/* Read the state file; a new lineage (none yet) keeps *st as it is. */
static int
load_state(struct agent_lineage *l, struct rollover_state *st, char *why,
    size_t whylen)
{
	char	err[512];
	int	rc;

	err[0] = '\0';
	rc = state_load(l->conf->state_dir, l->lin->name, st, err,
	    sizeof(err));
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		snprintf(why, whylen, "lineage %s: state file: %s",
		    l->lin->name, err[0] != '\0' ? err : tlsad_strerror(rc));
	return rc;
}

int
agent_lineage_open(const struct conf *conf, const struct conf_lineage *lin,
    struct agent_lineage **out, char *why, size_t whylen)
{
	struct agent_lineage	*l = NULL;
	int			 rc;

	*out = NULL;
	why[0] = '\0';
	if (state_name_valid(lin->name) != 0) {
		snprintf(why, whylen, "lineage %s: unusable name", lin->name);
		return TLSAD_EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return TLSAD_ENOMEM;
	l->lockfd = -1;
	agent_lineage_set_conf(l, conf, lin);
	rollover_state_init(&l->st);
	/* The state directory (systemd's StateDirectory= makes it too). */
	if (mkdir(conf->state_dir, 0700) == -1 && errno != EEXIST) {
		rc = -errno;
		snprintf(why, whylen, "state-dir %s: %s", conf->state_dir,
		    strerror(errno));
		goto out;
	}
	rc = lock_take(l, why, whylen);
	if (rc != 0)
		goto out;
	rc = load_state(l, &l->st, why, whylen);
	lock_drop(l);
	if (rc != 0)
		goto out;
	snprintf(l->reason, sizeof(l->reason), "starting");
	*out = l;
	l = NULL;
out:
	agent_lineage_free(l);
	return rc;
}

void
agent_lineage_free(struct agent_lineage *l)
{
	if (l == NULL)
		return;
	lineage_snapshot_free(l->snap);
	dnscheck_plan_free(l->plan);
	if (l->lockfd != -1)
		close(l->lockfd);
	free(l);
}

void
agent_lineage_set_conf(struct agent_lineage *l, const struct conf *conf,
    const struct conf_lineage *lin)
{
	l->conf = conf;
	l->lin = lin;
	agent_params_from_conf(conf, &l->params);
	dnscheck_cfg_init(&l->cfg, conf, lin);
	/* Servers may have changed: discover again at the next DNS action. */
	dnscheck_plan_free(l->plan);
	l->plan = NULL;
}

void
agent_lineage_set_progress(struct agent_lineage *l, agent_progress_fn *fn,
    void *arg)
{
	l->progress = fn;
	l->progress_arg = arg;
}

void
agent_lineage_poke(struct agent_lineage *l)
{
	memset(&l->obs, 0, sizeof(l->obs));
	l->obs.done = ROLLOVER_ACT_NONE;
}

void
agent_lineage_verify(struct agent_lineage *l)
{
	agent_lineage_poke(l);
	l->obs.verify = 1;
}

const char *
agent_lineage_name(const struct agent_lineage *l)
{
	return l->lin->name;
}

const struct rollover_state *
agent_lineage_state(const struct agent_lineage *l)
{
	return &l->st;
}

const char *
agent_lineage_reason(const struct agent_lineage *l)
{
	return l->reason;
}

/* ---- observing the lineage ---- */

static void
observe_live(struct agent_lineage *l, struct rollover_obs *o)
{
	int	rc;

	lineage_snapshot_free(l->snap);
	l->snap = NULL;
	rc = lineage_read(l->conf->live_dir, l->lin->name, &l->snap);
	if (rc == 0) {
		o->live = ROLLOVER_LIVE_OK;
		memcpy(o->live_key.spki, l->snap->spki_sha256,
		    ROLLOVER_KEY_LEN);
		o->live_version = l->snap->link[LINEAGE_CERT].version < 0 ? 0 :
		    (uint32_t)l->snap->link[LINEAGE_CERT].version;
		return;
	}
	if (rc == TLSAD_ELINEAGE_INCONSISTENT || rc == TLSAD_ELINEAGE_MISSING)
		o->live = ROLLOVER_LIVE_INCONSISTENT;
	else
		o->live = ROLLOVER_LIVE_ERROR;
	o->live_error = rc;
	log_debug("%s: lineage not usable now: %s%s%s", l->lin->name,
	    tlsad_strerror(rc), l->snap != NULL && l->snap->detail[0] ?
	    ": " : "", l->snap != NULL ? l->snap->detail : "");
}

/* ---- keys to records ---- */

static void
chains_load(const struct agent_lineage *l, struct chains *c)
{
	char	 prev[4096];
	char	*buf = NULL;
	size_t	 len = 0;

	memset(c, 0, sizeof(*c));
	if (cert_read_file(l->lin->deploy_file, &buf, &len) == 0) {
		if (cert_chain_from_pem(buf, len, &c->deployed) != 0 ||
		    cert_spki_sha256(c->deployed, c->deployed_spki) != 0) {
			cert_chain_free(c->deployed);
			c->deployed = NULL;
		}
		OPENSSL_cleanse(buf, len);
		free(buf);
		buf = NULL;
	}
	snprintf(prev, sizeof(prev), "%s%s", l->lin->deploy_file,
	    DEPLOY_PREV_SUFFIX);
	if (cert_read_file(prev, &buf, &len) == 0) {
		if (cert_chain_from_pem(buf, len, &c->prev) != 0 ||
		    cert_spki_sha256(c->prev, c->prev_spki) != 0) {
			cert_chain_free(c->prev);
			c->prev = NULL;
		}
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

static void
chains_clear(struct chains *c)
{
	cert_chain_free(c->deployed);
	cert_chain_free(c->prev);
	memset(c, 0, sizeof(*c));
}

/* A chain whose leaf holds key k, or NULL. */
static const struct cert_chain *
chain_for(const struct agent_lineage *l, const struct chains *c,
    const struct rollover_key *k)
{
	if (l->snap != NULL && l->snap->consistent &&
	    memcmp(l->snap->spki_sha256, k->spki, ROLLOVER_KEY_LEN) == 0)
		return l->snap->chain;
	if (c->deployed != NULL &&
	    memcmp(c->deployed_spki, k->spki, ROLLOVER_KEY_LEN) == 0)
		return c->deployed;
	if (c->prev != NULL &&
	    memcmp(c->prev_spki, k->spki, ROLLOVER_KEY_LEN) == 0)
		return c->prev;
	return NULL;
}

/*
 * Add the records of key k (per the lineage's tlsa params) to set: all of
 * them from a chain that holds the key, else only its 3 1 1 record (its
 * SPKI digest), if the lineage publishes 3 1 1 at all.
 */
static int
key_records(const struct agent_lineage *l, const struct chains *c,
    const struct rollover_key *k, struct tlsa_rrset *set)
{
	const struct cert_chain	*chain = chain_for(l, c, k);
	struct tlsa_rr		 rr;
	size_t			 i;
	int			 rc, has311 = l->lin->ntlsa == 0;

	if (chain != NULL)
		return dnscheck_chain_records(chain, l->lin->tlsa,
		    l->lin->ntlsa, set);
	for (i = 0; i < l->lin->ntlsa; i++)
		if (tlsa_param_equal(l->lin->tlsa[i], param_311))
			has311 = 1;
	if (!has311)
		return 0;
	memset(&rr, 0, sizeof(rr));
	rc = tlsa_rr_set(&rr, param_311, k->spki, ROLLOVER_KEY_LEN);
	if (rc == 0)
		rc = tlsa_rrset_add(set, &rr);
	tlsa_rr_clear(&rr);
	return rc;
}

static int
keyset_records(const struct agent_lineage *l, const struct chains *c,
    const struct rollover_keyset *keys, struct tlsa_rrset *set)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < keys->n && rc == 0; i++)
		rc = key_records(l, c, &keys->key[i], set);
	return rc;
}

/* ---- DNS ---- */

static int
ensure_plan(struct agent_lineage *l)
{
	int	rc;

	if (l->plan != NULL)
		return 0;
	rc = dnscheck_discover(&l->cfg, l->lin->tlsa_names,
	    l->lin->ntlsa_names, &l->plan, l->msg, sizeof(l->msg));
	if (rc != 0)
		l->plan = NULL;
	return rc;
}

/* A DNS failure may mean the servers moved: discover again next time. */
static void
drop_plan(struct agent_lineage *l)
{
	dnscheck_plan_free(l->plan);
	l->plan = NULL;
}

/*
 * The DNS write of DNS_ADD (del == 0) or DNS_DELETE (del == 1): change the
 * records of keys at every name, after checking on the RRset as it will be
 * that the chain the MTA serves still matches (RFC 7671 section 8) and that
 * it does not become empty.
 */
static int
dns_write(struct agent_lineage *l, const struct rollover_keyset *keys,
    int del)
{
	struct chains			 c;
	struct tlsa_rrset		 change, keep, *primary = NULL, after;
	const struct tlsa_rrset		**vec = NULL;
	struct tsig_key			*key = NULL;
	struct rollover_keyset		 kept;
	struct dnscheck_applied		 done;
	const struct cert_chain		*served;
	char				 why[512];
	size_t				 i, k, n = 0;
	int				 rc;

	chains_load(l, &c);
	tlsa_rrset_init(&change);
	tlsa_rrset_init(&keep);
	tlsa_rrset_init(&after);
	rc = ensure_plan(l);
	if (rc != 0)
		goto out;
	n = l->plan->nnames;
	rc = keyset_records(l, &c, keys, &change);
	if (rc != 0)
		goto out;
	if (del) {
		/* Never delete a record that a key we keep also needs. */
		memset(&kept, 0, sizeof(kept));
		for (i = 0; i < l->st.published.n; i++)
			if (!rollover_keyset_contains(keys,
			    &l->st.published.key[i]))
				(void)rollover_keyset_add(&kept,
				    &l->st.published.key[i]);
		if (l->st.has_deployed)
			(void)rollover_keyset_add(&kept, &l->st.deployed);
		if (l->st.has_target)
			(void)rollover_keyset_add(&kept, &l->st.target);
		if (l->st.has_staged)
			(void)rollover_keyset_add(&kept, &l->st.staged);
		rc = keyset_records(l, &c, &kept, &keep);
		for (k = 0; rc == 0 && k < keep.n; k++)
			rc = tlsa_rrset_remove(&change, &keep.rr[k]);
		if (rc != 0)
			goto out;
	}
	primary = calloc(n, sizeof(*primary));
	vec = calloc(n, sizeof(*vec));
	if (primary == NULL || vec == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		tlsa_rrset_init(&primary[i]);
		vec[i] = &change;
	}
	why[0] = '\0';
	rc = dnscheck_primary_rrsets(l->plan, &l->cfg, primary, NULL, why,
	    sizeof(why));
	if (rc != 0) {
		snprintf(l->msg, sizeof(l->msg), "%s", why[0] != '\0' ? why :
		    tlsad_strerror(rc));
		drop_plan(l);
		goto out;
	}
	/*
	 * The chain the MTA serves now is the deployed file's.  Before the
	 * first deploy tlsad serves nothing and there is no chain to keep;
	 * after it, a file we cannot read means we cannot check what the
	 * write would do to the served key: change nothing.
	 */
	served = c.deployed;
	if (served == NULL && (l->st.has_deployed || l->st.has_staged)) {
		rc = TLSAD_EDEPLOY;
		snprintf(l->msg, sizeof(l->msg), "cannot read the chain the MTA "
		    "serves from %s: not changing the DNS without it",
		    l->lin->deploy_file);
		goto out;
	}
	for (i = 0; i < n; i++) {
		tlsa_rrset_clear(&after);
		rc = tlsa_rrset_copy(&after, &primary[i]);
		for (k = 0; rc == 0 && k < change.n; k++)
			rc = del ? tlsa_rrset_remove(&after, &change.rr[k]) :
			    tlsa_rrset_add(&after, &change.rr[k]);
		if (rc != 0)
			goto out;
		if (after.n == 0) {
			rc = TLSAD_EDNS_EMPTYRRSET;
			snprintf(l->msg, sizeof(l->msg), "%s: refused: the "
			    "change would leave the TLSA RRset empty",
			    l->plan->names[i].target);
			goto out;
		}
		if (served != NULL) {
			rc = dane_check_rfc7671(&after, served, why,
			    sizeof(why));
			if (rc != 0) {
				snprintf(l->msg, sizeof(l->msg), "%s: refused: "
				    "%s", l->plan->names[i].target, why);
				goto out;
			}
		}
	}
	if (change.n == 0) {
		rc = 0;		/* nothing of ours to change */
		goto out;
	}
	rc = dnscheck_load_key(l->conf, l->lin, &key, l->msg, sizeof(l->msg));
	if (rc != 0)
		goto out;
	rc = dnscheck_apply(l->plan, &l->cfg, key, del ? NULL : vec,
	    del ? vec : NULL, primary, 0, NULL, &done, why, sizeof(why));
	if (rc != 0) {
		snprintf(l->msg, sizeof(l->msg), "%s", why);
		log_warnx("%s: DNS update failed: %s", l->lin->name, why);
		goto out;
	}
	log_info("%s: DNS update: %s", l->lin->name, done.summary);
out:
	if (primary != NULL)
		for (i = 0; i < n; i++)
			tlsa_rrset_clear(&primary[i]);
	free(primary);
	free(vec);
	tsig_key_free(key);
	tlsa_rrset_clear(&change);
	tlsa_rrset_clear(&keep);
	tlsa_rrset_clear(&after);
	chains_clear(&c);
	if (rc != 0 && l->msg[0] == '\0')
		snprintf(l->msg, sizeof(l->msg), "%s", tlsad_strerror(rc));
	return rc;
}

/* Does every name of snapshot entry o (that answered) hold all of recs? */
static int
addr_has_all(const struct dnscheck_plan *plan, const struct dnscheck_obs *o,
    const struct tlsa_rrset *recs)
{
	size_t	i, k;

	for (i = 0; i < plan->nnames; i++) {
		if (plan->names[i].zone != o->zone)
			continue;
		for (k = 0; k < recs->n; k++)
			if (!tlsa_rrset_contains(&o->rrset[i], &recs->rr[k]))
				return 0;
	}
	return 1;
}

static int
addr_has_any(const struct dnscheck_plan *plan, const struct dnscheck_obs *o,
    const struct tlsa_rrset *recs)
{
	size_t	i, k;

	for (i = 0; i < plan->nnames; i++) {
		if (plan->names[i].zone != o->zone)
			continue;
		for (k = 0; k < recs->n; k++)
			if (tlsa_rrset_contains(&o->rrset[i], &recs->rr[k]))
				return 1;
	}
	return 0;
}

/*
 * An address counts only when it answered at a serial at least the
 * primary's as read just before the observation: a secondary that has not
 * caught up may still go through an older version of the zone, so what it
 * serves now proves nothing either way.
 */
static int
addr_current(const struct dnscheck_obs *o, const uint32_t *primary_serial)
{
	return o->rc == 0 && primary_serial != NULL &&
	    dnscheck_serial_ge(o->serial, primary_serial[o->zone]);
}

static void
judge_key(const struct agent_lineage *l, const struct dnscheck_snapshot *snap,
    const uint32_t *primary_serial, const struct dnscheck_validated *v,
    int all_secure, const struct tlsa_rrset *recs,
    struct rollover_key_obs *ko)
{
	size_t	j, i, k;

	ko->everywhere = recs->n > 0;
	ko->nowhere = 1;
	for (j = 0; j < snap->nobs; j++) {
		const struct dnscheck_obs *o = &snap->obs[j];

		if (!addr_current(o, primary_serial)) {
			/* Unknown there: neither everywhere nor nowhere. */
			ko->everywhere = 0;
			ko->nowhere = 0;
			continue;
		}
		if (!addr_has_all(l->plan, o, recs))
			ko->everywhere = 0;
		if (addr_has_any(l->plan, o, recs))
			ko->nowhere = 0;
	}
	ko->validated = all_secure && recs->n > 0;
	for (i = 0; ko->validated && i < l->plan->nnames; i++)
		for (k = 0; k < recs->n; k++)
			if (!tlsa_rrset_contains(&v[i].rrset, &recs->rr[k])) {
				ko->validated = 0;
				break;
			}
}

static int
dns_check(struct agent_lineage *l, const struct rollover_keyset *keys,
    struct rollover_dns_obs *d)
{
	struct dnscheck_snapshot	 snap;
	struct dnscheck_validated	*v = NULL;
	struct chains			 c;
	struct tlsa_rrset		 recs, all;
	struct rollover_keyset		 asked;
	struct rollover_key		 fk;
	uint32_t			*pserial = NULL;
	char				 why[512];
	size_t				 i, j, k, n = 0, len;
	int				 rc, nsecure = 0, nbogus = 0, ninsecure = 0;

	memset(&snap, 0, sizeof(snap));
	memset(d, 0, sizeof(*d));
	chains_load(l, &c);
	tlsa_rrset_init(&recs);
	tlsa_rrset_init(&all);
	rc = ensure_plan(l);
	if (rc != 0)
		goto out;
	n = l->plan->nnames;
	pserial = calloc(l->plan->nzones, sizeof(*pserial));
	if (pserial == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (i = 0; i < l->plan->nzones; i++) {
		rc = dnscheck_primary_serial(l->plan, i, &l->cfg, &pserial[i]);
		if (rc != 0) {
			snprintf(l->msg, sizeof(l->msg), "reading the serial of "
			    "%s at its primary %s@%u: %s", l->plan->zones[i].apex,
			    l->plan->zones[i].primary.host,
			    l->plan->zones[i].primary.port, tlsad_strerror(rc));
			drop_plan(l);
			goto out;
		}
	}
	rc = dnscheck_observe(l->plan, &l->cfg, &snap);
	if (rc != 0) {
		snprintf(l->msg, sizeof(l->msg), "observing the authoritative "
		    "servers: %s", tlsad_strerror(rc));
		drop_plan(l);
		goto out;
	}
	v = calloc(n, sizeof(*v));
	if (v == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	why[0] = '\0';
	rc = dnscheck_validate(l->plan, &l->cfg, v, why, sizeof(why));
	if (rc == 0) {
		for (i = 0; i < n; i++) {
			if (v[i].rc == 0 && v[i].secure)
				nsecure++;
			else if (v[i].rc == TLSAD_EDNSSEC_BOGUS || v[i].bogus)
				nbogus++;
			else if (v[i].rc == TLSAD_EDNSSEC_INSECURE)
				ninsecure++;
		}
		if (nbogus > 0)
			d->dnssec = ROLLOVER_DNSSEC_BOGUS;
		else if (ninsecure > 0)
			d->dnssec = ROLLOVER_DNSSEC_INSECURE;
		else if ((size_t)nsecure == n)
			d->dnssec = ROLLOVER_DNSSEC_SECURE;
		else
			d->dnssec = ROLLOVER_DNSSEC_UNKNOWN;
	} else {
		d->dnssec = ROLLOVER_DNSSEC_UNKNOWN;
	}

	/*
	 * The keys asked, then the other 3 1 1 records seen whose key this
	 * lineage served: the deploy file's and FILE.prev's (a key taken over
	 * from an admin's file before tlsad's first deploy, or one left by a
	 * crash).  The machine retires those once they are not served.  A key
	 * this lineage never served is not reported: it may be another MX
	 * host's at a shared _dane target (RFC 7671 section 7), and an extra
	 * record is harmless while a missing one is an outage.
	 */
	asked = *keys;
	for (i = 0; i < asked.n && d->nkeys < ROLLOVER_KEYS_MAX; i++) {
		tlsa_rrset_clear(&recs);
		rc = key_records(l, &c, &asked.key[i], &recs);
		if (rc != 0)
			goto out;
		d->keys[d->nkeys].key = asked.key[i];
		judge_key(l, &snap, pserial, v,
		    d->dnssec == ROLLOVER_DNSSEC_SECURE, &recs,
		    &d->keys[d->nkeys]);
		d->nkeys++;
	}
	for (j = 0; j < snap.nobs; j++) {
		if (snap.obs[j].rc != 0)
			continue;
		for (i = 0; i < n; i++) {
			const struct tlsa_rrset *set = &snap.obs[j].rrset[i];

			for (k = 0; k < set->n; k++) {
				const struct tlsa_rr *rr = &set->rr[k];

				if (!tlsa_param_equal(rr->param, param_311) ||
				    rr->len != ROLLOVER_KEY_LEN)
					continue;
				memcpy(fk.spki, rr->data, ROLLOVER_KEY_LEN);
				if (rollover_keyset_contains(&asked, &fk) ||
				    d->nkeys >= ROLLOVER_KEYS_MAX ||
				    chain_for(l, &c, &fk) == NULL)
					continue;
				(void)rollover_keyset_add(&asked, &fk);
				tlsa_rrset_clear(&recs);
				rc = tlsa_rrset_add(&recs, rr);
				if (rc != 0)
					goto out;
				d->keys[d->nkeys].key = fk;
				judge_key(l, &snap, pserial, v, d->dnssec ==
				    ROLLOVER_DNSSEC_SECURE, &recs,
				    &d->keys[d->nkeys]);
				d->nkeys++;
			}
		}
	}

	/* TTLs for the hold, and the addresses that lag, for the reason. */
	for (j = 0; j < snap.nobs; j++) {
		const struct dnscheck_obs *o = &snap.obs[j];
		const struct dnscheck_zone *z = &l->plan->zones[o->zone];

		if (z->negttl > d->neg_ttl)
			d->neg_ttl = z->negttl;
		if (o->rc == 0)
			for (i = 0; i < n; i++)
				if (o->ttl[i] > d->ttl)
					d->ttl = o->ttl[i];
	}
	tlsa_rrset_clear(&all);
	rc = keyset_records(l, &c, keys, &all);
	if (rc != 0)
		goto out;
	l->msg[0] = '\0';
	for (j = 0; j < snap.nobs; j++) {
		const struct dnscheck_obs *o = &snap.obs[j];
		const struct dnscheck_addr *a =
		    &l->plan->zones[o->zone].auth[o->addr];

		if (addr_current(o, pserial) && addr_has_all(l->plan, o, &all))
			continue;
		d->lagging++;
		len = strlen(l->msg);
		if (len + 2 >= sizeof(l->msg))
			continue;
		if (o->rc != 0)
			snprintf(l->msg + len, sizeof(l->msg) - len,
			    "%s%s@%u (%s): %s", len > 0 ? ", " : "waiting for ",
			    a->host, a->port, a->via, o->err);
		else if (!addr_current(o, pserial))
			snprintf(l->msg + len, sizeof(l->msg) - len,
			    "%s%s@%u (%s): serial %u, primary at %u",
			    len > 0 ? ", " : "waiting for ", a->host, a->port,
			    a->via, o->serial, pserial[o->zone]);
		else
			snprintf(l->msg + len, sizeof(l->msg) - len,
			    "%s%s@%u (%s)", len > 0 ? ", " : "waiting for ",
			    a->host, a->port, a->via);
	}
	for (i = 0; i < n && d->dnssec != ROLLOVER_DNSSEC_SECURE; i++) {
		if (v[i].rc == 0)
			continue;
		len = strlen(l->msg);
		if (len + 2 < sizeof(l->msg))
			snprintf(l->msg + len, sizeof(l->msg) - len,
			    "%s%s: %s%s%s", len > 0 ? "; " : "",
			    l->plan->names[i].owner, tlsad_strerror(v[i].rc),
			    v[i].why_bogus[0] != '\0' ? ": " : "",
			    v[i].why_bogus);
	}
	if (d->dnssec == ROLLOVER_DNSSEC_UNKNOWN && why[0] != '\0') {
		len = strlen(l->msg);
		if (len + 2 < sizeof(l->msg))
			snprintf(l->msg + len, sizeof(l->msg) - len, "%s%s",
			    len > 0 ? "; " : "", why);
	}
	rc = 0;
out:
	if (v != NULL)
		for (i = 0; i < n; i++)
			dnscheck_validated_clear(&v[i]);
	free(v);
	free(pserial);
	dnscheck_snapshot_clear(&snap);
	tlsa_rrset_clear(&recs);
	tlsa_rrset_clear(&all);
	chains_clear(&c);
	return rc;
}

/* ---- the MTA ---- */

static int
do_deploy(struct agent_lineage *l, const struct rollover_action *act)
{
	const struct lineage_snapshot	*s = l->snap;
	char				 why[512];
	int				 rc;

	if (s == NULL || !s->consistent) {
		snprintf(l->msg, sizeof(l->msg), "the lineage is not "
		    "consistent now: not deploying");
		return TLSAD_ELINEAGE_INCONSISTENT;
	}
	if (memcmp(s->spki_sha256, act->key.spki, ROLLOVER_KEY_LEN) != 0) {
		snprintf(l->msg, sizeof(l->msg), "live/ no longer holds the "
		    "key to deploy: not deploying");
		return TLSAD_EROLL_SUPERSEDED;
	}
	why[0] = '\0';
	rc = deploy_install(l->lin->deploy_file, s->privkey_pem,
	    s->privkey_len, s->fullchain_pem, s->fullchain_len,
	    l->lin->deploy_group, l->conf->live_dir, why, sizeof(why));
	if (rc != 0) {
		snprintf(l->msg, sizeof(l->msg), "%s", why[0] != '\0' ? why :
		    tlsad_strerror(rc));
		return rc;
	}
	log_info("%s: deployed archive version %u to %s", l->lin->name,
	    act->version, l->lin->deploy_file);
	return 0;
}

static int
do_reload(struct agent_lineage *l)
{
	char	why[512];
	int	rc;

	why[0] = '\0';
	rc = mta_reload(l->lin->reload_argv, 0, why, sizeof(why));
	if (rc != 0) {
		snprintf(l->msg, sizeof(l->msg), "%s", why[0] != '\0' ? why :
		    tlsad_strerror(rc));
		return rc;
	}
	log_info("%s: reloaded the MTA", l->lin->name);
	return 0;
}

/* The TLSA name an endpoint's clients look up: _PORT._tcp.HOST first. */
static size_t
name_for_port(const struct dnscheck_plan *plan, uint16_t port)
{
	char	prefix[32];
	size_t	i;

	snprintf(prefix, sizeof(prefix), "_%u._tcp.", port);
	for (i = 0; i < plan->nnames; i++)
		if (strncmp(plan->names[i].owner, prefix, strlen(prefix)) == 0)
			return i;
	return 0;
}

static int
do_probe(struct agent_lineage *l, struct rollover_key *served)
{
	struct dnscheck_validated	*v = NULL;
	const struct conf_verify	*vf;
	uint8_t				 got[32];
	char				 why[512];
	size_t				 i, n = 0, idx;
	int				 rc, have, first = 1;

	if (l->lin->nverify == 0) {
		/* Nothing to probe: trust the deploy and the reload. */
		if (!l->st.has_staged) {
			snprintf(l->msg, sizeof(l->msg), "nothing staged");
			return TLSAD_EINTERNAL;
		}
		*served = l->st.staged;
		return 0;
	}
	rc = ensure_plan(l);
	if (rc != 0)
		goto out;
	n = l->plan->nnames;
	v = calloc(n, sizeof(*v));
	if (v == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	why[0] = '\0';
	rc = dnscheck_validate(l->plan, &l->cfg, v, why, sizeof(why));
	if (rc != 0) {
		snprintf(l->msg, sizeof(l->msg), "validating lookup: %s", why);
		goto out;
	}
	for (i = 0; i < l->lin->nverify; i++) {
		vf = &l->lin->verify[i];
		idx = name_for_port(l->plan, vf->addr.port);
		if (v[idx].rc != 0) {
			rc = v[idx].rc;
			snprintf(l->msg, sizeof(l->msg), "%s: %s%s%s",
			    l->plan->names[idx].owner, tlsad_strerror(rc),
			    v[idx].why_bogus[0] != '\0' ? ": " : "",
			    v[idx].why_bogus);
			goto out;
		}
		why[0] = '\0';
		have = 0;
		rc = mta_probe(vf, vf->servername != NULL ? vf->servername :
		    l->lin->name, &v[idx].rrset, NULL, 0, got, &have, why,
		    sizeof(why));
		if (rc != 0) {
			snprintf(l->msg, sizeof(l->msg), "%s@%u: %s",
			    vf->addr.host, vf->addr.port, why[0] != '\0' ?
			    why : tlsad_strerror(rc));
			goto out;
		}
		if (!first && memcmp(got, served->spki, 32) != 0) {
			rc = TLSAD_EPROBE_OLDKEY;
			snprintf(l->msg, sizeof(l->msg), "%s@%u serves another "
			    "key than the other endpoints", vf->addr.host,
			    vf->addr.port);
			goto out;
		}
		memcpy(served->spki, got, 32);
		first = 0;
	}
	rc = 0;
out:
	if (v != NULL)
		for (i = 0; i < n; i++)
			dnscheck_validated_clear(&v[i]);
	free(v);
	if (rc != 0 && l->msg[0] == '\0')
		snprintf(l->msg, sizeof(l->msg), "%s", tlsad_strerror(rc));
	return rc;
}

static int
do_restore(struct agent_lineage *l, const struct rollover_action *act)
{
	struct stat	 sb;
	uint8_t		 spki[32];
	char		 prev[PATH_MAX], why[512];
	int		 rc, n;

	n = snprintf(prev, sizeof(prev), "%s%s", l->lin->deploy_file,
	    DEPLOY_PREV_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(prev)) {
		snprintf(l->msg, sizeof(l->msg), "%s: path too long",
		    l->lin->deploy_file);
		return -ENAMETOOLONG;
	}
	if (!act->has_key) {
		/*
		 * tlsad had deployed nothing before.  If a file was there all
		 * the same (an admin's, before tlsad took over), our deploy
		 * kept it as FILE.prev: put it back, it is what the MTA
		 * served.  Only when there was none is ours taken away, and
		 * only if it is ours (it holds the staged key).
		 */
		if (stat(prev, &sb) == 0) {
			why[0] = '\0';
			rc = deploy_restore_key(l->lin->deploy_file, NULL, why,
			    sizeof(why));
			if (rc != 0) {
				snprintf(l->msg, sizeof(l->msg), "%s",
				    why[0] != '\0' ? why : tlsad_strerror(rc));
				return rc;
			}
			log_warnx("%s: restored the file that was there before "
			    "tlsad's first deploy", l->lin->name);
			return 0;
		}
		rc = deploy_read_key(l->lin->deploy_file, spki);
		if (rc == -ENOENT)
			return 0;
		if (rc != 0 || !l->st.has_staged ||
		    memcmp(spki, l->st.staged.spki, 32) != 0) {
			snprintf(l->msg, sizeof(l->msg), "%s does not hold the "
			    "key tlsad deployed: leaving it alone",
			    l->lin->deploy_file);
			return rc != 0 ? rc : TLSAD_EDEPLOY;
		}
		if (unlink(l->lin->deploy_file) == -1 && errno != ENOENT) {
			rc = -errno;
			snprintf(l->msg, sizeof(l->msg), "%s: %s",
			    l->lin->deploy_file, strerror(errno));
			return rc;
		}
		log_warnx("%s: removed %s (there was no file before)",
		    l->lin->name, l->lin->deploy_file);
		return 0;
	}
	/* Already the key to restore (a repeat after a crash)? */
	if (deploy_read_key(l->lin->deploy_file, spki) == 0 &&
	    memcmp(spki, act->key.spki, 32) == 0)
		return 0;
	/* Checked before writing: a new smtpd serves what the file holds. */
	why[0] = '\0';
	rc = deploy_restore_key(l->lin->deploy_file, act->key.spki, why,
	    sizeof(why));
	if (rc != 0) {
		snprintf(l->msg, sizeof(l->msg), "%s", why[0] != '\0' ? why :
		    tlsad_strerror(rc));
		return rc;
	}
	log_warnx("%s: restored the previous %s", l->lin->name,
	    l->lin->deploy_file);
	return 0;
}

/* ---- the loop ---- */

static int
perform(struct agent_lineage *l, const struct rollover_action *act,
    struct rollover_obs *o)
{
	int	rc = 0;

	l->msg[0] = '\0';
	switch (act->type) {
	case ROLLOVER_ACT_DNS_ADD:
		rc = dns_write(l, &act->keys, 0);
		break;
	case ROLLOVER_ACT_DNS_DELETE:
		rc = dns_write(l, &act->keys, 1);
		break;
	case ROLLOVER_ACT_DNS_CHECK:
		rc = dns_check(l, &act->keys, &o->dns);
		break;
	case ROLLOVER_ACT_DEPLOY:
		rc = do_deploy(l, act);
		break;
	case ROLLOVER_ACT_RELOAD:
		rc = do_reload(l);
		break;
	case ROLLOVER_ACT_PROBE:
		rc = do_probe(l, &o->served);
		break;
	case ROLLOVER_ACT_RESTORE:
		rc = do_restore(l, act);
		break;
	case ROLLOVER_ACT_NONE:
	case ROLLOVER_ACT_WAIT:
		break;
	}
	o->done = act->type;
	o->result = rc;
	o->message = l->msg[0] != '\0' ? l->msg : NULL;
	return rc;
}

int
agent_lineage_run(struct agent_lineage *l, unsigned max_actions,
    int64_t *wake_wall_ms)
{
	struct rollover_state	next, loaded;
	struct rollover_action	act;
	char			why[600];
	enum rollover_stage	before;
	int64_t			now;
	unsigned		i;
	int			rc;

	if (max_actions == 0)
		max_actions = AGENT_MAX_ACTIONS;
	*wake_wall_ms = -1;
	loaded = l->st;
	rc = lock_take(l, why, sizeof(why));
	if (rc == 0)
		rc = load_state(l, &loaded, why, sizeof(why));
	if (rc != 0) {
		log_warnx("%s", why);
		goto out;
	}
	if (!rollover_state_equal(&loaded, &l->st)) {
		/* Someone else acted since our last run: start afresh. */
		l->st = loaded;
		agent_lineage_poke(l);
	}
	for (i = 0; i < max_actions; i++) {
		now = util_now_wall_ms();
		observe_live(l, &l->obs);
		before = l->st.stage;
		rc = rollover_step(&l->st, &l->obs, now, &l->params, &next,
		    &act);
		snprintf(l->reason, sizeof(l->reason), "%s", act.reason);
		if (rc != 0) {
			log_warnx("%s: %s", l->lin->name, act.reason);
			goto out;
		}
		if (!rollover_state_equal(&l->st, &next)) {
			rc = state_save(l->conf->state_dir, l->lin->name, &next);
			if (rc != 0) {
				log_warnx("%s: saving the state in %s: %s",
				    l->lin->name, l->conf->state_dir,
				    tlsad_strerror(rc));
				goto out;
			}
		}
		l->st = next;
		if (l->st.stage != before)
			log_info("%s: %s -> %s: %s", l->lin->name,
			    rollover_stage_name(before),
			    rollover_stage_name(l->st.stage), act.reason);
		else
			log_debug("%s: %s: %s %s", l->lin->name,
			    rollover_stage_name(l->st.stage),
			    rollover_act_name(act.type), act.reason);
		if (l->progress != NULL)
			l->progress(l->progress_arg, l, &act);
		memset(&l->obs, 0, sizeof(l->obs));
		if (act.type == ROLLOVER_ACT_NONE)
			goto out;
		if (act.type == ROLLOVER_ACT_WAIT) {
			l->obs.done = ROLLOVER_ACT_WAIT;
			if (act.until > util_now_wall_ms()) {
				*wake_wall_ms = act.until;
				goto out;
			}
			continue;
		}
		(void)perform(l, &act, &l->obs);
	}
	*wake_wall_ms = util_now_wall_ms();
out:
	lock_drop(l);
	return rc;
}
