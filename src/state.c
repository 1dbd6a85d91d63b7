/*
 * state.c -- the durable per-lineage rollover state: STATE_DIR/NAME.state.
 *
 * Contract: a state file is replaced only whole (util_atomic_write), and
 * read only strictly: anything this file would not have written is refused
 * with its line number, and nothing here ever overwrites a file it could not
 * read.  Does not log: callers do, with the message it returns.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tlsad/error.h"
#include "tlsad/rollover.h"
#include "tlsad/state.h"
#include "tlsad/util.h"

#define STATE_MAGIC	"tlsad-state"

/* A growable text buffer with a hard cap. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

static void sb_printf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	size_t	 need, ncap;
	char	*np;

	if (b->err != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = TLSAD_EINTERNAL;
		return;
	}
	need = b->len + (size_t)n + 1;
	if (need > STATE_FILE_MAX) {
		b->err = TLSAD_ETOOBIG;
		return;
	}
	if (need > b->cap) {
		ncap = b->cap == 0 ? 1024 : b->cap;
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
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

int
state_name_valid(const char *name)
{
	size_t	i, n;

	if (name == NULL)
		return TLSAD_EINVAL;
	n = strlen(name);
	if (n == 0 || n > STATE_NAME_MAX || name[0] == '.')
		return TLSAD_EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char	ch = (unsigned char)name[i];

		if (ch == '/' || ch <= ' ' || ch == 0x7f)
			return TLSAD_EINVAL;
	}
	return 0;
}

int
state_path(const char *dir, const char *name, char *buf, size_t len)
{
	int	n;

	if (dir == NULL || state_name_valid(name) != 0)
		return TLSAD_EINVAL;
	n = snprintf(buf, len, "%s/%s%s", dir, name, STATE_SUFFIX);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Times: "-" for 0, else UTC ISO 8601 with milliseconds. */
static void
put_time(struct sbuf *b, const char *key, int64_t ms)
{
	struct tm	tm;
	time_t		t;
	char		s[32];

	if (ms <= 0) {
		sb_printf(b, "%s -\n", key);
		return;
	}
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		b->err = TLSAD_EINVAL;
		return;
	}
	sb_printf(b, "%s %s.%03dZ\n", key, s, (int)(ms % 1000));
}

static void
put_key(struct sbuf *b, const char *key, int has, const struct rollover_key *k,
    uint32_t version)
{
	char	hex[2 * ROLLOVER_KEY_LEN + 1];

	if (!has) {
		sb_printf(b, "%s -\n", key);
		return;
	}
	rollover_key_hex(k, hex);
	sb_printf(b, "%s %s %u\n", key, hex, version);
}

int
state_format(const char *name, const struct rollover_state *st, char **out,
    size_t *len)
{
	struct sbuf	 b = { NULL, 0, 0, 0 };
	char		 hex[2 * ROLLOVER_KEY_LEN + 1];
	char		 msg[ROLLOVER_MSG_MAX];
	size_t		 i;
	int		 rc;

	*out = NULL;
	*len = 0;
	if (state_name_valid(name) != 0)
		return TLSAD_EINVAL;
	sb_printf(&b, "%s %d\n", STATE_MAGIC, STATE_VERSION);
	sb_printf(&b, "lineage %s\n", name);
	sb_printf(&b, "stage %s\n", rollover_stage_name(st->stage));
	sb_printf(&b, "retry-stage %s\n", rollover_stage_name(st->retry_stage));
	put_key(&b, "live", st->has_live, &st->live, st->live_version);
	put_key(&b, "deployed", st->has_deployed, &st->deployed,
	    st->deployed_version);
	put_key(&b, "target", st->has_target, &st->target, st->target_version);
	put_key(&b, "staged", st->has_staged, &st->staged, st->staged_version);
	for (i = 0; i < st->published.n && i < ROLLOVER_KEYS_MAX; i++) {
		rollover_key_hex(&st->published.key[i], hex);
		sb_printf(&b, "published %s\n", hex);
	}
	put_time(&b, "stage-since", st->stage_since);
	put_time(&b, "t0", st->t0);
	put_time(&b, "hold-until", st->hold_until);
	sb_printf(&b, "hold-ttl %u\n", st->hold_ttl);
	put_time(&b, "validated-at", st->validated_at);
	put_time(&b, "next-attempt", st->next_attempt);
	put_time(&b, "deadline", st->deadline);
	sb_printf(&b, "polls %u\n", st->polls);
	sb_printf(&b, "substep %d\n", st->substep);
	sb_printf(&b, "adopt %d\n", st->adopt);
	sb_printf(&b, "failures %u\n", st->failures);
	if (st->last_error == 0)
		sb_printf(&b, "last-error 0\n");
	else
		sb_printf(&b, "last-error %d %s\n", st->last_error,
		    tlsad_errname(st->last_error));
	put_time(&b, "last-error-at", st->last_error_at);
	/* One line: no control characters may survive. */
	for (i = 0; i < sizeof(msg) - 1 && st->last_message[i] != '\0'; i++)
		msg[i] = ((unsigned char)st->last_message[i] < ' ' ||
		    st->last_message[i] == 0x7f) ? '?' : st->last_message[i];
	msg[i] = '\0';
	if (msg[0] == '\0')
		sb_printf(&b, "last-message -\n");
	else
		sb_printf(&b, "last-message %s\n", msg);
	put_time(&b, "last-success", st->last_success);
	if (b.err != 0) {
		rc = b.err;
		free(b.p);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* Parsing. */

struct parser {
	const char	*where;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
};

static int perr(struct parser *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *ps, int code, const char *fmt, ...)
{
	va_list	ap;
	char	msg[256];

	if (ps->err != NULL && ps->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->where, ps->line,
		    msg);
	}
	return code;
}

static int
parse_u32(const char *v, uint32_t *out)
{
	unsigned long long	n;

	if (util_parse_uint(v, 0, UINT32_MAX, &n) != 0)
		return TLSAD_EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* Exactly DD digits at s; -1 otherwise. */
static int
digits(const char *s, int n)
{
	int	v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
parse_time(const char *v, int64_t *out)
{
	struct tm	tm;
	time_t		t;
	int		y, mo, d, h, mi, s, ms;

	if (strcmp(v, "-") == 0) {
		*out = 0;
		return 0;
	}
	/* 2026-11-28T03:10:00.123Z */
	if (strlen(v) != 24 || v[4] != '-' || v[7] != '-' || v[10] != 'T' ||
	    v[13] != ':' || v[16] != ':' || v[19] != '.' || v[23] != 'Z')
		return TLSAD_EINVAL;
	y = digits(v, 4);
	mo = digits(v + 5, 2);
	d = digits(v + 8, 2);
	h = digits(v + 11, 2);
	mi = digits(v + 14, 2);
	s = digits(v + 17, 2);
	ms = digits(v + 20, 3);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 || ms < 0)
		return TLSAD_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)	/* Feb 31 normalised away */
		return TLSAD_EINVAL;
	*out = (int64_t)t * 1000 + ms;
	if (*out <= 0)
		return TLSAD_EINVAL;
	return 0;
}

static int
parse_hexkey(const char *v, size_t vlen, struct rollover_key *k)
{
	char	hex[2 * ROLLOVER_KEY_LEN + 1];
	size_t	n;
	size_t	i;

	if (vlen != 2 * ROLLOVER_KEY_LEN)
		return TLSAD_EINVAL;
	/* Lower case only: this file writes nothing else. */
	for (i = 0; i < vlen; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return TLSAD_EINVAL;
	memcpy(hex, v, vlen);
	hex[vlen] = '\0';
	if (util_unhex(hex, k->spki, sizeof(k->spki), &n) != 0 ||
	    n != ROLLOVER_KEY_LEN)
		return TLSAD_EINVAL;
	return 0;
}

/* "-" or "HEX VERSION". */
static int
parse_keyver(const char *v, int *has, struct rollover_key *k, uint32_t *ver)
{
	const char	*sp;

	if (strcmp(v, "-") == 0) {
		*has = 0;
		memset(k, 0, sizeof(*k));
		*ver = 0;
		return 0;
	}
	sp = strchr(v, ' ');
	if (sp == NULL || parse_hexkey(v, (size_t)(sp - v), k) != 0 ||
	    parse_u32(sp + 1, ver) != 0)
		return TLSAD_EINVAL;
	*has = 1;
	return 0;
}

static int
parse_stage(const char *v, enum rollover_stage *out)
{
	int	i = rollover_stage_parse(v);

	if (i < 0)
		return TLSAD_EINVAL;
	*out = (enum rollover_stage)i;
	return 0;
}

static int
parse_flag(const char *v, int *out)
{
	if (strcmp(v, "0") == 0)
		*out = 0;
	else if (strcmp(v, "1") == 0)
		*out = 1;
	else
		return TLSAD_EINVAL;
	return 0;
}

static int
parse_error(const char *v, int *out)
{
	const char	*sp = strchr(v, ' ');
	char		 num[16];
	size_t		 n = sp != NULL ? (size_t)(sp - v) : strlen(v);
	unsigned long long u;

	if (n == 0 || n >= sizeof(num))
		return TLSAD_EINVAL;
	memcpy(num, v, n);
	num[n] = '\0';
	if (strcmp(num, "0") == 0) {
		if (sp != NULL)
			return TLSAD_EINVAL;
		*out = 0;
		return 0;
	}
	if (num[0] != '-' || util_parse_uint(num + 1, 1, 99999, &u) != 0)
		return TLSAD_EINVAL;
	*out = -(int)u;
	/* The name after the number is for people; it must be the right one. */
	if (sp != NULL && strcmp(sp + 1, tlsad_errname(*out)) != 0)
		return TLSAD_EINVAL;
	return 0;
}

enum {
	K_LINEAGE, K_STAGE, K_RETRY, K_LIVE, K_DEPLOYED, K_TARGET, K_STAGED,
	K_PUBLISHED, K_SINCE, K_T0, K_HOLD_UNTIL, K_HOLD_TTL, K_VALIDATED,
	K_NEXT, K_DEADLINE, K_POLLS, K_SUBSTEP, K_ADOPT, K_FAILURES,
	K_LAST_ERROR, K_LAST_ERROR_AT, K_LAST_MESSAGE, K_LAST_SUCCESS,
	K_COUNT
};

static const char *const keynames[K_COUNT] = {
	"lineage", "stage", "retry-stage", "live", "deployed", "target",
	"staged", "published", "stage-since", "t0", "hold-until", "hold-ttl",
	"validated-at", "next-attempt", "deadline", "polls", "substep", "adopt",
	"failures", "last-error", "last-error-at", "last-message",
	"last-success",
};

static int
parse_field(struct parser *ps, struct rollover_state *st, int k,
    const char *v, const char *name)
{
	struct rollover_key	key;
	uint32_t		u;
	int			rc = 0;

	switch (k) {
	case K_LINEAGE:
		if (state_name_valid(v) != 0)
			return perr(ps, TLSAD_ESTATE_CORRUPT,
			    "bad lineage name \"%s\"", v);
		if (name != NULL && strcmp(v, name) != 0)
			return perr(ps, TLSAD_ESTATE_CORRUPT, "the file is for "
			    "lineage \"%s\", not \"%s\"", v, name);
		return 0;
	case K_STAGE:
		rc = parse_stage(v, &st->stage);
		break;
	case K_RETRY:
		rc = parse_stage(v, &st->retry_stage);
		break;
	case K_LIVE:
		rc = parse_keyver(v, &st->has_live, &st->live,
		    &st->live_version);
		break;
	case K_DEPLOYED:
		rc = parse_keyver(v, &st->has_deployed, &st->deployed,
		    &st->deployed_version);
		break;
	case K_TARGET:
		rc = parse_keyver(v, &st->has_target, &st->target,
		    &st->target_version);
		break;
	case K_STAGED:
		rc = parse_keyver(v, &st->has_staged, &st->staged,
		    &st->staged_version);
		break;
	case K_PUBLISHED:
		rc = parse_hexkey(v, strlen(v), &key);
		if (rc != 0)
			break;
		if (rollover_keyset_contains(&st->published, &key))
			return perr(ps, TLSAD_ESTATE_CORRUPT,
			    "published key listed twice");
		if (rollover_keyset_add(&st->published, &key) != 0)
			return perr(ps, TLSAD_ESTATE_CORRUPT, "more than %d "
			    "published keys", ROLLOVER_KEYS_MAX);
		return 0;
	case K_SINCE:
		rc = parse_time(v, &st->stage_since);
		break;
	case K_T0:
		rc = parse_time(v, &st->t0);
		break;
	case K_HOLD_UNTIL:
		rc = parse_time(v, &st->hold_until);
		break;
	case K_HOLD_TTL:
		rc = parse_u32(v, &st->hold_ttl);
		break;
	case K_VALIDATED:
		rc = parse_time(v, &st->validated_at);
		break;
	case K_NEXT:
		rc = parse_time(v, &st->next_attempt);
		break;
	case K_DEADLINE:
		rc = parse_time(v, &st->deadline);
		break;
	case K_POLLS:
		rc = parse_u32(v, &st->polls);
		break;
	case K_SUBSTEP:
		rc = parse_u32(v, &u);
		if (rc == 0 && u > 1)
			rc = TLSAD_EINVAL;
		if (rc == 0)
			st->substep = (int)u;
		break;
	case K_ADOPT:
		rc = parse_flag(v, &st->adopt);
		break;
	case K_FAILURES:
		rc = parse_u32(v, &st->failures);
		break;
	case K_LAST_ERROR:
		rc = parse_error(v, &st->last_error);
		break;
	case K_LAST_ERROR_AT:
		rc = parse_time(v, &st->last_error_at);
		break;
	case K_LAST_MESSAGE:
		if (strlen(v) >= sizeof(st->last_message))
			return perr(ps, TLSAD_ESTATE_CORRUPT,
			    "last-message longer than %d bytes",
			    ROLLOVER_MSG_MAX - 1);
		snprintf(st->last_message, sizeof(st->last_message), "%s",
		    strcmp(v, "-") == 0 ? "" : v);
		return 0;
	case K_LAST_SUCCESS:
		rc = parse_time(v, &st->last_success);
		break;
	default:
		rc = TLSAD_EINTERNAL;
		break;
	}
	if (rc != 0)
		return perr(ps, TLSAD_ESTATE_CORRUPT, "bad value for %s: \"%.80s\"",
		    keynames[k], v);
	return 0;
}

int
state_parse(const char *text, size_t len, const char *where, const char *name,
    struct rollover_state *out, char *err, size_t errlen)
{
	struct parser		 ps = { where != NULL ? where : "state", 0, err,
				    errlen };
	struct rollover_state	 st;
	unsigned char		 seen[K_COUNT];
	char			 line[1024];
	char			 why[128];
	const char		*p = text, *end = text + len, *nl, *sp;
	unsigned long long	 ver;
	size_t			 n;
	int			 k, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rollover_state_init(&st);
	memset(seen, 0, sizeof(seen));
	if (len > STATE_FILE_MAX)
		return perr(&ps, TLSAD_ETOOBIG, "larger than %d bytes",
		    STATE_FILE_MAX);
	if (memchr(text, '\0', len) != NULL) {
		ps.line = 1;
		return perr(&ps, TLSAD_ESTATE_CORRUPT, "NUL byte in the file");
	}
	while (p < end) {
		ps.line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return perr(&ps, TLSAD_ESTATE_CORRUPT, "the last line "
			    "has no newline: the file is truncated");
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			return perr(&ps, TLSAD_ESTATE_CORRUPT, "line too long");
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (ps.line == 1) {
			if (strncmp(line, STATE_MAGIC " ", sizeof(STATE_MAGIC)) != 0)
				return perr(&ps, TLSAD_ESTATE_CORRUPT, "not a "
				    "tlsad state file (no \"%s\" line)",
				    STATE_MAGIC);
			if (util_parse_uint(line + sizeof(STATE_MAGIC), 0,
			    UINT32_MAX, &ver) != 0)
				return perr(&ps, TLSAD_ESTATE_CORRUPT,
				    "bad version line");
			if (ver != STATE_VERSION)
				return perr(&ps, TLSAD_ESTATE_VERSION, "state "
				    "file version %llu; this tlsad reads "
				    "version %d", ver, STATE_VERSION);
			continue;
		}
		if (n == 0 || line[0] == '#')
			continue;
		sp = strchr(line, ' ');
		if (sp == NULL || sp == line || sp[1] == '\0')
			return perr(&ps, TLSAD_ESTATE_CORRUPT,
			    "expected \"key value\"");
		for (k = 0; k < K_COUNT; k++)
			if (strlen(keynames[k]) == (size_t)(sp - line) &&
			    strncmp(keynames[k], line, (size_t)(sp - line)) == 0)
				break;
		if (k == K_COUNT)
			return perr(&ps, TLSAD_ESTATE_CORRUPT,
			    "unknown key \"%.*s\"", (int)(sp - line), line);
		if (seen[k] && k != K_PUBLISHED)
			return perr(&ps, TLSAD_ESTATE_CORRUPT,
			    "%s given twice", keynames[k]);
		seen[k] = 1;
		rc = parse_field(&ps, &st, k, sp + 1, name);
		if (rc != 0)
			return rc;
	}
	if (ps.line == 0)
		return perr(&ps, TLSAD_ESTATE_CORRUPT, "empty file");
	if (!seen[K_LINEAGE] || !seen[K_STAGE])
		return perr(&ps, TLSAD_ESTATE_CORRUPT, "missing %s line",
		    !seen[K_LINEAGE] ? "lineage" : "stage");
	if (rollover_state_check(&st, why, sizeof(why)) != 0)
		return perr(&ps, TLSAD_ESTATE_CORRUPT, "inconsistent state: %s",
		    why);
	*out = st;
	return 0;
}

int
state_load(const char *dir, const char *name, struct rollover_state *st,
    char *err, size_t errlen)
{
	char	 path[4096];
	char	*text = NULL;
	size_t	 len = 0;
	int	 rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = state_path(dir, name, path, sizeof(path));
	if (rc != 0)
		goto out;
	rc = util_read_file(path, STATE_FILE_MAX, &text, &len);
	if (rc == TLSAD_ETOOBIG) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: larger than %d bytes", path,
			    STATE_FILE_MAX);
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = state_parse(text, len, path, name, st, err, errlen);
out:
	free(text);
	return rc;
}

int
state_save(const char *dir, const char *name, const struct rollover_state *st)
{
	char	 path[4096];
	char	*text = NULL;
	size_t	 len = 0;
	int	 rc;

	rc = state_path(dir, name, path, sizeof(path));
	if (rc != 0)
		goto out;
	rc = state_format(name, st, &text, &len);
	if (rc != 0)
		goto out;
	rc = util_atomic_write(path, text, len, 0644, (gid_t)-1);
out:
	free(text);
	return rc;
}

int
state_remove(const char *dir, const char *name)
{
	char	path[4096];
	int	rc;

	rc = state_path(dir, name, path, sizeof(path));
	if (rc != 0)
		return rc;
	if (unlink(path) == -1 && errno != ENOENT)
		return -errno;
	return 0;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
state_list_free(char **names, size_t n)
{
	size_t	i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
state_list(const char *dir, char ***namesp, size_t *np)
{
	DIR		*d = NULL;
	struct dirent	*de;
	char		**names = NULL, **nn;
	char		 *s;
	size_t		  n = 0, cap = 0, len, sl = strlen(STATE_SUFFIX);
	int		  rc;

	*namesp = NULL;
	*np = 0;
	d = opendir(dir);
	if (d == NULL) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				rc = -errno;
				goto out;
			}
			break;
		}
		len = strlen(de->d_name);
		if (len <= sl || strcmp(de->d_name + len - sl, STATE_SUFFIX) != 0)
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		s = strndup(de->d_name, len - sl);
		if (s == NULL) {
			rc = TLSAD_ENOMEM;
			goto out;
		}
		if (state_name_valid(s) != 0) {
			free(s);
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				free(s);
				rc = TLSAD_ENOMEM;
				goto out;
			}
			names = nn;
		}
		names[n++] = s;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmpstr);
	*namesp = names;
	*np = n;
	names = NULL;
	n = 0;
	rc = 0;
out:
	state_list_free(names, n);
	if (d != NULL)
		closedir(d);
	return rc;
}
