/*
 * status.c -- judge every lineage from its files: the state file, the live
 * lineage and the deploy file; render the verdict as JSON (schema version 1,
 * documented in tlsactl(8)), as a table, or as one monitoring-plugin line.
 *
 * Read only: nothing here writes a file, and no read failure stops the
 * report: it becomes a problem of its lineage.  Does not log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsad/cert.h"
#include "tlsad/deploy.h"
#include "tlsad/error.h"
#include "tlsad/lineage.h"
#include "tlsad/state.h"
#include "tlsad/status.h"
#include "tlsad/util.h"

/* A stage other than the waits should be over within this. */
#define STAGE_SLOW_MS		(10 * 60 * 1000LL)
/* Propagation (or the removal) this long is a lagging server. */
#define PROPAGATE_SLOW_MS	(10 * 60 * 1000LL)
#define DAY_MS			(86400 * 1000LL)

/* A growable text buffer with a hard cap. */
struct obuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

static void ob_printf(struct obuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
ob_put(struct obuf *b, const char *s, size_t n)
{
	size_t	 need, ncap;
	char	*np;

	if (b->err != 0)
		return;
	need = b->len + n + 1;
	if (need > STATUS_OUT_MAX) {
		b->err = TLSAD_ETOOBIG;
		return;
	}
	if (need > b->cap) {
		ncap = b->cap == 0 ? 4096 : b->cap;
		while (ncap < need)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (np == NULL) {
			b->err = TLSAD_ENOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
ob_printf(struct obuf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 small[512];
	char	*big = NULL;
	int	 n;

	if (b->err != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = TLSAD_EINTERNAL;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		ob_put(b, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->err = TLSAD_ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ob_put(b, big, (size_t)n);
	free(big);
}

/* Hand the buffer over, or free it and return its error. */
static int
ob_finish(struct obuf *b, char **out, size_t *len)
{
	if (b->err == 0 && b->p == NULL)
		ob_put(b, "", 0);
	if (b->err != 0) {
		free(b->p);
		return b->err;
	}
	*out = b->p;
	if (len != NULL)
		*len = b->len;
	return 0;
}

/* A JSON string (quoted, escaped); NULL is null. */
static void
json_str(struct obuf *b, const char *s)
{
	const unsigned char	*p;
	char			 esc[8];

	if (s == NULL) {
		ob_put(b, "null", 4);
		return;
	}
	ob_put(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			ob_put(b, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			ob_put(b, esc, 6);
		} else {
			ob_put(b, (const char *)p, 1);
		}
	}
	ob_put(b, "\"", 1);
}

void
status_iso8601(int64_t wall_ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t;

	if (len == 0)
		return;
	if (wall_ms <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	t = (time_t)(wall_ms / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
}

/* A time field: ISO string, or null for 0. */
static void
json_time(struct obuf *b, int64_t wall_ms)
{
	char	iso[32];

	if (wall_ms <= 0) {
		ob_put(b, "null", 4);
		return;
	}
	status_iso8601(wall_ms, iso, sizeof(iso));
	json_str(b, iso);
}

/* "key": "64 hex", "key_short": "8 hex" (no braces). */
static void
json_key_fields(struct obuf *b, const struct rollover_key *k)
{
	char	hex[2 * ROLLOVER_KEY_LEN + 1], shorthex[9];

	rollover_key_hex(k, hex);
	rollover_key_short(k, shorthex);
	ob_printf(b, "\"key\": \"%s\", \"key_short\": \"%s\"", hex, shorthex);
}

/* Days left until not_after (negative once expired), rounded down. */
static long long
days_left(time_t not_after, int64_t now)
{
	int64_t	diff = (int64_t)not_after * 1000 - now;

	if (diff >= 0)
		return (long long)(diff / DAY_MS);
	return -(long long)((-diff + DAY_MS - 1) / DAY_MS);
}

const char *
status_level_name(enum status_level level)
{
	switch (level) {
	case STATUS_OK:
		return "ok";
	case STATUS_WARNING:
		return "warning";
	case STATUS_CRITICAL:
		return "critical";
	}
	return "unknown";
}

static void problem(struct status_lineage *, enum status_level, const char *,
    ...) __attribute__((format(printf, 3, 4)));

/* Note a problem of the lineage and raise its level. */
static void
problem(struct status_lineage *sl, enum status_level level, const char *fmt,
    ...)
{
	va_list	ap;

	if (level > sl->level)
		sl->level = level;
	if (sl->nproblems >= STATUS_PROBLEMS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(sl->problem[sl->nproblems].text, STATUS_PROBLEM_LEN, fmt, ap);
	va_end(ap);
	sl->problem[sl->nproblems].level = level;
	sl->nproblems++;
}

/* The certificate that matters for expiry: the one served, else the live one. */
static int
expiry_of(const struct status_lineage *sl, time_t *not_after)
{
	if (sl->has_deploy_expiry) {
		*not_after = sl->deploy_not_after;
		return 1;
	}
	if (sl->has_live_expiry) {
		*not_after = sl->live_not_after;
		return 1;
	}
	return 0;
}

/* When the machine acts next on its own, or 0. */
static int64_t
next_time(const struct rollover_state *st)
{
	switch (st->stage) {
	case ROLLOVER_HOLD:
		return st->hold_until;
	case ROLLOVER_PROPAGATE:
	case ROLLOVER_CONFIRM:
	case ROLLOVER_PROBE:
	case ROLLOVER_FAILED:
		return st->next_attempt;
	default:
		return 0;
	}
}

/* Read what the files say about one lineage. */
static void
observe(const struct conf *conf, const struct conf_lineage *lin, int64_t now,
    struct status_lineage *sl)
{
	struct lineage_snapshot	*snap = NULL;
	struct cert_chain	*chain = NULL;
	time_t			 t;
	int			 rc;

	/*
	 * The deploy file first, then the state: tlsad saves the state
	 * before it writes the file (write-ahead), so a file read before the
	 * state never holds a key the state does not know about yet.
	 */
	sl->deploy_rc = deploy_read_key(lin->deploy_file, sl->deploy_key.spki);
	if (sl->deploy_rc == 0) {
		rc = cert_chain_load(lin->deploy_file, &chain);
		if (rc == 0 && cert_not_after(chain, &t) == 0) {
			sl->deploy_not_after = t;
			sl->has_deploy_expiry = 1;
		}
	}

	sl->state_rc = state_load(conf->state_dir, lin->name, &sl->st,
	    sl->state_err, sizeof(sl->state_err));
	if (sl->state_rc != 0 && sl->state_err[0] == '\0')
		snprintf(sl->state_err, sizeof(sl->state_err), "%s",
		    tlsad_strerror(sl->state_rc));

	sl->live_version = -1;
	sl->live_rc = lineage_read(conf->live_dir, lin->name, &snap);
	if (snap != NULL) {
		snprintf(sl->live_detail, sizeof(sl->live_detail), "%s",
		    snap->detail);
		if (sl->live_rc == 0) {
			memcpy(sl->live_key.spki, snap->spki_sha256,
			    ROLLOVER_KEY_LEN);
			sl->live_version = snap->link[LINEAGE_CERT].version;
			sl->live_not_after = snap->not_after;
			sl->has_live_expiry = 1;
		}
	}
	if (sl->live_rc != 0 && sl->live_detail[0] == '\0')
		snprintf(sl->live_detail, sizeof(sl->live_detail), "%s",
		    tlsad_strerror(sl->live_rc));

	if (sl->state_rc == 0) {
		rollover_describe(&sl->st, now, sl->next, sizeof(sl->next));
		sl->next_at = next_time(&sl->st);
	} else if (sl->state_rc == -ENOENT) {
		snprintf(sl->next, sizeof(sl->next), "no state yet: tlsad has "
		    "not taken this lineage over");
	} else {
		snprintf(sl->next, sizeof(sl->next), "left alone: the state "
		    "file needs an admin");
	}
	cert_chain_free(chain);
	lineage_snapshot_free(snap);
}

/* Judge one lineage from what observe() read. */
static void
judge(const struct status_report *rep, struct status_lineage *sl)
{
	const struct rollover_state	*st = &sl->st;
	const struct rollover_key	*served = NULL;
	char				 a[9], b[9];
	time_t				 not_after;
	long long			 days;
	int64_t				 in_stage;

	/* The state file. */
	if (sl->state_rc == -ENOENT)
		problem(sl, STATUS_WARNING, "no state file yet (has tlsad run?)");
	else if (sl->state_rc != 0)
		problem(sl, STATUS_CRITICAL, "state file unusable, lineage "
		    "left alone: %s", sl->state_err);

	/* The live lineage. */
	if (sl->live_rc == TLSAD_ELINEAGE_INCONSISTENT)
		problem(sl, STATUS_WARNING, "live lineage inconsistent "
		    "(mid-renewal?): %s", sl->live_detail);
	else if (sl->live_rc == TLSAD_ELINEAGE_MISSING)
		problem(sl, STATUS_WARNING, "live lineage missing or "
		    "incomplete: %s", sl->live_detail);
	else if (sl->live_rc != 0)
		problem(sl, STATUS_WARNING, "live lineage unreadable (%s): %s",
		    tlsad_errname(sl->live_rc), sl->live_detail);

	/* The deploy file. */
	if (sl->deploy_rc == 0) {
		served = &sl->deploy_key;
	} else if (sl->deploy_rc == -ENOENT) {
		if (sl->state_rc == 0 && st->has_deployed)
			problem(sl, STATUS_CRITICAL, "deploy file %s is "
			    "missing, but the state says key %s is deployed",
			    sl->deploy_file, (rollover_key_short(&st->deployed,
			    a), a));
	} else if (sl->deploy_rc == -EACCES || sl->deploy_rc == -EPERM) {
		problem(sl, STATUS_WARNING, "deploy file %s is not readable "
		    "here (run as root to check it)", sl->deploy_file);
		if (sl->state_rc == 0 && st->has_deployed)
			served = &st->deployed;
	} else {
		problem(sl, STATUS_CRITICAL, "deploy file %s unusable: %s",
		    sl->deploy_file, tlsad_strerror(sl->deploy_rc));
	}

	if (sl->state_rc == 0) {
		if (served != NULL &&
		    !rollover_keyset_contains(&st->published, served)) {
			rollover_key_short(served, a);
			/*
			 * Once tlsad owns the file, a served key outside its
			 * set is one nobody published.  Before tlsad's first
			 * deploy the file is an admin's, taken over: its key's
			 * record is checked at tlsad's first DNS check, and is
			 * unknown here, not known missing.
			 */
			if (st->has_deployed || st->has_staged)
				problem(sl, STATUS_CRITICAL, "the deployed key "
				    "%s is not in the published TLSA set", a);
			else
				problem(sl, STATUS_WARNING, "the deploy file "
				    "holds key %s, which tlsad did not deploy "
				    "and has not seen in the DNS yet", a);
		}
		if (sl->deploy_rc == 0 && st->has_deployed &&
		    !rollover_key_equal(&sl->deploy_key, &st->deployed) &&
		    !(st->has_staged &&
		    rollover_key_equal(&sl->deploy_key, &st->staged))) {
			rollover_key_short(&sl->deploy_key, a);
			rollover_key_short(&st->deployed, b);
			problem(sl, STATUS_WARNING, "the deploy file holds key "
			    "%s, the state says %s", a, b);
		}

		in_stage = st->stage_since > 0 ? rep->now - st->stage_since : 0;
		switch (st->stage) {
		case ROLLOVER_IDLE:
			if (sl->live_rc == 0 && st->has_deployed &&
			    !rollover_key_equal(&sl->live_key, &st->deployed))
				problem(sl, STATUS_WARNING, "renewal not rolled "
				    "out yet: live version %ld is not deployed",
				    sl->live_version);
			break;
		case ROLLOVER_FAILED:
			problem(sl, STATUS_CRITICAL, "rollover failed (%s): %s",
			    tlsad_errname(st->last_error), st->last_message);
			break;
		case ROLLOVER_PROPAGATE:
		case ROLLOVER_CONFIRM:
			if (st->deadline > 0 && rep->now > st->deadline)
				problem(sl, STATUS_WARNING, "%s is past its "
				    "deadline", rollover_stage_name(st->stage));
			else if (in_stage > PROPAGATE_SLOW_MS ||
			    st->last_error == TLSAD_EDNS_LAGGING)
				problem(sl, STATUS_WARNING, "a server lags: %s "
				    "for %lld s after %u checks",
				    rollover_stage_name(st->stage),
				    (long long)(in_stage / 1000), st->polls);
			break;
		case ROLLOVER_HOLD:
			if (st->hold_until > 0 &&
			    rep->now > st->hold_until + STAGE_SLOW_MS)
				problem(sl, STATUS_WARNING, "hold ended %lld s "
				    "ago and the rollover has not moved on",
				    (long long)((rep->now - st->hold_until) /
				    1000));
			break;
		default:
			if (in_stage > STAGE_SLOW_MS)
				problem(sl, STATUS_WARNING, "stage %s for %lld s "
				    "(longer than expected)",
				    rollover_stage_name(st->stage),
				    (long long)(in_stage / 1000));
			break;
		}
	}

	/* Expiry of the certificate served (or about to be). */
	if (expiry_of(sl, &not_after)) {
		days = days_left(not_after, rep->now);
		if ((int64_t)not_after * 1000 <= rep->now)
			problem(sl, STATUS_CRITICAL, "certificate expired %lld "
			    "days ago", -days);
		else if (days < (long long)rep->expiry_warn_days)
			problem(sl, STATUS_WARNING, "certificate expires in "
			    "%lld days", days);
	}
}

static void
lineage_clear(struct status_lineage *sl)
{
	free(sl->name);
	free(sl->deploy_file);
	free(sl->activity);
}

void
status_report_free(struct status_report *rep)
{
	size_t	i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->n; i++)
		lineage_clear(&rep->l[i]);
	free(rep->l);
	free(rep);
}

int
status_collect(const struct conf *conf, const char *name, int64_t now,
    struct status_report **out)
{
	struct status_report		*rep = NULL;
	const struct conf_lineage	*lin;
	size_t				 i, n;
	int				 rc = TLSAD_ENOMEM;

	if (conf == NULL || out == NULL)
		return TLSAD_EINVAL;
	*out = NULL;
	if (name != NULL && conf_lineage_find(conf, name) == NULL)
		return TLSAD_ECONF_NOLINEAGE;
	rep = calloc(1, sizeof(*rep));
	if (rep == NULL)
		goto out;
	rep->now = now;
	rep->source = "files";
	rep->expiry_warn_days = conf->expiry_warn_days;
	n = name != NULL ? 1 : conf->nlineages;
	if (n > 0) {
		rep->l = calloc(n, sizeof(*rep->l));
		if (rep->l == NULL)
			goto out;
	}
	for (i = 0; i < conf->nlineages; i++) {
		lin = &conf->lineages[i];
		if (name != NULL && strcmp(lin->name, name) != 0)
			continue;
		rep->l[rep->n].name = util_strdup(lin->name);
		rep->l[rep->n].deploy_file = util_strdup(lin->deploy_file);
		rep->n++;
		if (rep->l[rep->n - 1].name == NULL ||
		    rep->l[rep->n - 1].deploy_file == NULL)
			goto out;
		observe(conf, lin, now, &rep->l[rep->n - 1]);
		judge(rep, &rep->l[rep->n - 1]);
		if (rep->l[rep->n - 1].level > rep->level)
			rep->level = rep->l[rep->n - 1].level;
	}
	*out = rep;
	rep = NULL;
	rc = 0;
out:
	status_report_free(rep);
	return rc;
}

int
status_set_activity(struct status_report *rep, const char *name,
    const char *text)
{
	size_t	 i;
	char	*copy;

	for (i = 0; i < rep->n; i++) {
		if (strcmp(rep->l[i].name, name) != 0)
			continue;
		copy = util_strdup(text);
		if (copy == NULL)
			return TLSAD_ENOMEM;
		free(rep->l[i].activity);
		rep->l[i].activity = copy;
		return 0;
	}
	return TLSAD_ECONF_NOLINEAGE;
}

int
status_exit_code(const struct status_report *rep)
{
	return (int)rep->level;
}

/* A key object {"key", "key_short", "version"} or null. */
static void
json_key_obj(struct obuf *b, int has, const struct rollover_key *k,
    long version)
{
	if (!has) {
		ob_put(b, "null", 4);
		return;
	}
	ob_put(b, "{", 1);
	json_key_fields(b, k);
	if (version >= 0)
		ob_printf(b, ", \"version\": %ld", version);
	else
		ob_printf(b, ", \"version\": null");
	ob_put(b, "}", 1);
}

static void
json_expiry(struct obuf *b, int has, time_t not_after, int64_t now)
{
	if (!has) {
		ob_printf(b, "\"not_after\": null, \"days_left\": null");
		return;
	}
	ob_printf(b, "\"not_after\": ");
	json_time(b, (int64_t)not_after * 1000);
	ob_printf(b, ", \"days_left\": %lld", days_left(not_after, now));
}

static void
json_error_obj(struct obuf *b, int code, const char *message, int64_t at)
{
	if (code == 0) {
		ob_put(b, "null", 4);
		return;
	}
	ob_printf(b, "{\"code\": %d, \"name\": ", code);
	json_str(b, tlsad_errname(code));
	ob_printf(b, ", \"message\": ");
	json_str(b, message);
	if (at != 0) {
		ob_printf(b, ", \"at\": ");
		json_time(b, at);
	}
	ob_put(b, "}", 1);
}

static void
json_lineage(struct obuf *b, const struct status_report *rep,
    const struct status_lineage *sl)
{
	const struct rollover_state	*st = &sl->st;
	int				 have = sl->state_rc == 0;
	size_t				 i;
	time_t				 not_after = 0;
	int				 has_exp;

	ob_printf(b, "    {\n      \"name\": ");
	json_str(b, sl->name);
	ob_printf(b, ",\n      \"status\": \"%s\",\n      \"problems\": [",
	    status_level_name(sl->level));
	for (i = 0; i < sl->nproblems; i++) {
		ob_printf(b, "%s{\"level\": \"%s\", \"text\": ", i ? ", " : "",
		    status_level_name(sl->problem[i].level));
		json_str(b, sl->problem[i].text);
		ob_put(b, "}", 1);
	}
	ob_printf(b, "],\n      \"stage\": ");
	json_str(b, have ? rollover_stage_name(st->stage) : NULL);
	ob_printf(b, ",\n      \"stage_since\": ");
	json_time(b, have ? st->stage_since : 0);
	ob_printf(b, ",\n      \"retry_stage\": ");
	json_str(b, have && st->stage == ROLLOVER_FAILED ?
	    rollover_stage_name(st->retry_stage) : NULL);
	ob_printf(b, ",\n      \"state_file\": {\"present\": %s, \"error\": ",
	    sl->state_rc == -ENOENT ? "false" : "true");
	json_error_obj(b, sl->state_rc == -ENOENT ? 0 : sl->state_rc,
	    sl->state_err, 0);
	ob_printf(b, "},\n      \"live\": {\"consistent\": %s, \"error\": ",
	    sl->live_rc == 0 ? "true" : "false");
	json_error_obj(b, sl->live_rc, sl->live_detail, 0);
	ob_printf(b, ", \"key\": ");
	json_key_obj(b, sl->live_rc == 0, &sl->live_key, sl->live_version);
	ob_printf(b, ", ");
	json_expiry(b, sl->has_live_expiry, sl->live_not_after, rep->now);
	ob_printf(b, "},\n      \"deployed\": {\"file\": ");
	json_str(b, sl->deploy_file);
	ob_printf(b, ", \"present\": %s, \"error\": ", sl->deploy_rc == 0 ?
	    "true" : sl->deploy_rc == -ENOENT ? "false" : "null");
	json_error_obj(b, sl->deploy_rc == -ENOENT ? 0 : sl->deploy_rc,
	    tlsad_strerror(sl->deploy_rc), 0);
	ob_printf(b, ", \"file_key\": ");
	json_key_obj(b, sl->deploy_rc == 0, &sl->deploy_key, -1);
	ob_printf(b, ", \"state_key\": ");
	json_key_obj(b, have && st->has_deployed, &st->deployed,
	    have ? (long)st->deployed_version : -1);
	ob_printf(b, ", ");
	json_expiry(b, sl->has_deploy_expiry, sl->deploy_not_after, rep->now);
	ob_printf(b, "},\n      \"target\": ");
	json_key_obj(b, have && st->has_target, &st->target,
	    have ? (long)st->target_version : -1);
	ob_printf(b, ",\n      \"staged\": ");
	json_key_obj(b, have && st->has_staged, &st->staged,
	    have ? (long)st->staged_version : -1);
	ob_printf(b, ",\n      \"published\": [");
	for (i = 0; have && i < st->published.n; i++) {
		ob_printf(b, "%s{", i ? ", " : "");
		json_key_fields(b, &st->published.key[i]);
		ob_put(b, "}", 1);
	}
	has_exp = expiry_of(sl, &not_after);
	ob_printf(b, "],\n      \"certificate\": {");
	json_expiry(b, has_exp, not_after, rep->now);
	ob_printf(b, "},\n      \"next_action\": ");
	json_str(b, sl->next);
	ob_printf(b, ",\n      \"next_at\": ");
	json_time(b, sl->next_at);
	ob_printf(b, ",\n      \"hold_until\": ");
	json_time(b, have ? st->hold_until : 0);
	ob_printf(b, ",\n      \"last_success\": ");
	json_time(b, have ? st->last_success : 0);
	ob_printf(b, ",\n      \"last_error\": ");
	json_error_obj(b, have ? st->last_error : 0, st->last_message,
	    st->last_error_at);
	ob_printf(b, ",\n      \"activity\": ");
	json_str(b, sl->activity);
	ob_printf(b, "\n    }");
}

int
status_json(const struct status_report *rep, char **out, size_t *len)
{
	struct obuf	b = { NULL, 0, 0, 0 };
	size_t		i;

	ob_printf(&b, "{\n  \"version\": %d,\n  \"generated\": ",
	    STATUS_JSON_VERSION);
	json_time(&b, rep->now);
	ob_printf(&b, ",\n  \"source\": ");
	json_str(&b, rep->source);
	ob_printf(&b, ",\n  \"status\": \"%s\",\n  \"exit\": %d,\n"
	    "  \"lineages\": [", status_level_name(rep->level),
	    status_exit_code(rep));
	for (i = 0; i < rep->n; i++) {
		ob_put(&b, i ? ",\n" : "\n", i ? 2 : 1);
		json_lineage(&b, rep, &rep->l[i]);
	}
	ob_printf(&b, "%s]\n}\n", rep->n ? "\n  " : "");
	return ob_finish(&b, out, len);
}

/* "3f2a1b4c v7" or "-" into buf. */
static void
key_cell(char *buf, size_t len, int has, const struct rollover_key *k,
    long version)
{
	char	s[9];

	if (!has) {
		snprintf(buf, len, "-");
		return;
	}
	rollover_key_short(k, s);
	if (version >= 0)
		snprintf(buf, len, "%s v%ld", s, version);
	else
		snprintf(buf, len, "%s", s);
}

int
status_text(const struct status_report *rep, char **out, size_t *len)
{
	struct obuf			 b = { NULL, 0, 0, 0 };
	const struct status_lineage	*sl;
	const struct rollover_state	*st;
	char				 live[32], dep[32], tgt[32], pub[128];
	char				 exp[48], iso[32], s[9];
	size_t				 i, k, off;
	time_t				 not_after;
	int				 have;

	ob_printf(&b, "%-24s %-9s %-12s %-12s %-12s %-19s %s\n", "LINEAGE",
	    "STAGE", "LIVE", "DEPLOYED", "TARGET", "PUBLISHED", "EXPIRES");
	for (i = 0; i < rep->n; i++) {
		sl = &rep->l[i];
		st = &sl->st;
		have = sl->state_rc == 0;
		key_cell(live, sizeof(live), sl->live_rc == 0, &sl->live_key,
		    sl->live_version);
		if (sl->deploy_rc == 0)
			key_cell(dep, sizeof(dep), 1, &sl->deploy_key,
			    have && st->has_deployed && rollover_key_equal(
			    &sl->deploy_key, &st->deployed) ?
			    (long)st->deployed_version : -1);
		else
			key_cell(dep, sizeof(dep), have && st->has_deployed,
			    &st->deployed, have ? (long)st->deployed_version :
			    -1);
		key_cell(tgt, sizeof(tgt), have && st->has_target, &st->target,
		    have ? (long)st->target_version : -1);
		off = 0;
		pub[0] = '\0';
		for (k = 0; have && k < st->published.n &&
		    off + 10 < sizeof(pub); k++) {
			rollover_key_short(&st->published.key[k], s);
			off += (size_t)snprintf(pub + off, sizeof(pub) - off,
			    "%s%s", k ? "," : "", s);
		}
		if (off == 0)
			snprintf(pub, sizeof(pub), "-");
		if (expiry_of(sl, &not_after)) {
			status_iso8601((int64_t)not_after * 1000, iso,
			    sizeof(iso));
			snprintf(exp, sizeof(exp), "%.10s (%lld d)", iso,
			    days_left(not_after, rep->now));
		} else {
			snprintf(exp, sizeof(exp), "-");
		}
		ob_printf(&b, "%-24s %-9s %-12s %-12s %-12s %-19s %s\n",
		    sl->name, have ? rollover_stage_name(st->stage) : "-", live,
		    dep, tgt, pub, exp);
		ob_printf(&b, "    status: %s", status_level_name(sl->level));
		if (sl->activity != NULL)
			ob_printf(&b, "; now: %s", sl->activity);
		ob_printf(&b, "\n    next: %s", sl->next);
		if (sl->next_at > 0) {
			status_iso8601(sl->next_at, iso, sizeof(iso));
			ob_printf(&b, " (at %s)", iso);
		}
		ob_put(&b, "\n", 1);
		if (have && st->last_success > 0) {
			status_iso8601(st->last_success, iso, sizeof(iso));
			ob_printf(&b, "    last success: %s\n", iso);
		}
		if (have && st->last_error != 0) {
			status_iso8601(st->last_error_at, iso, sizeof(iso));
			ob_printf(&b, "    last error: %s (%s) at %s: %s\n",
			    tlsad_errname(st->last_error),
			    tlsad_strerror(st->last_error), iso,
			    st->last_message);
		}
		for (k = 0; k < sl->nproblems; k++)
			ob_printf(&b, "    %s: %s\n",
			    status_level_name(sl->problem[k].level),
			    sl->problem[k].text);
	}
	if (rep->n == 0)
		ob_printf(&b, "(no lineages configured)\n");
	return ob_finish(&b, out, len);
}

void
status_check_line(const struct status_report *rep, char *buf, size_t len)
{
	static const char *const word[] = { "OK", "WARNING", "CRITICAL" };
	const struct status_lineage	*sl;
	size_t				 i, k, off, nbad = 0;
	int				 n;

	if (len == 0)
		return;
	if (rep->level == STATUS_OK) {
		for (i = 0; i < rep->n; i++)
			if (rep->l[i].st.stage != ROLLOVER_IDLE)
				nbad++;
		if (nbad == 0)
			snprintf(buf, len, "TLSAD OK - %zu lineage%s up to date",
			    rep->n, rep->n == 1 ? "" : "s");
		else
			snprintf(buf, len, "TLSAD OK - %zu lineage%s, %zu "
			    "rolling over", rep->n, rep->n == 1 ? "" : "s",
			    nbad);
		return;
	}
	n = snprintf(buf, len, "TLSAD %s - ", word[rep->level]);
	off = n > 0 ? (size_t)n : 0;
	/* The problems at the report's level first: they explain it. */
	for (i = 0; i < rep->n && off < len; i++) {
		sl = &rep->l[i];
		for (k = 0; k < sl->nproblems && off < len; k++) {
			if (sl->problem[k].level != rep->level)
				continue;
			n = snprintf(buf + off, len - off, "%s%s: %s",
			    nbad ? "; " : "", sl->name, sl->problem[k].text);
			if (n < 0)
				return;
			off += (size_t)n;
			nbad++;
		}
	}
	/* Newlines would end the plugin's output. */
	for (i = 0; i < len && buf[i] != '\0'; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
}
