/*
 * conf.c -- read and validate tlsad.conf (unbound.conf/nsd.conf style).
 *
 * Pure apart from reading the file: never logs.  The first error found comes
 * back as one malloc'ed "FILE:LINE:COL: message" string (LINE and COL count
 * from 1, COL in bytes, a tab is one column) and nothing half-built escapes:
 * on failure *out stays NULL.  A struct conf returned by conf_parse() holds
 * every default filled in and every cross-check done, so later code may trust
 * it without checking again.
 *
 * Grammar, one line at a time:
 *   clause line   at column 1: NAME ":" [# comment]
 *   key line      indented by any mix of spaces and tabs:
 *                 KEY ":" VALUE [# comment]   VALUE may be "double quoted"
 *   blank lines and lines whose first non-blank byte is '#'.
 * Outside quotes '#' starts a comment anywhere.  server: and key: may appear
 * more than once and merge; a singular key set twice is an error anyway.
 * Every input is capped: CONF_MAX_SIZE bytes, CONF_MAX_LINE per line,
 * CONF_MAX_LIST values per repeatable key, CONF_MAX_LINEAGES clauses.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "tlsad/conf.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

#ifndef TLSAD_SYSCONFDIR
#define TLSAD_SYSCONFDIR	"/etc"
#endif
#ifndef TLSAD_LOCALSTATEDIR
#define TLSAD_LOCALSTATEDIR	"/var"
#endif
#ifndef TLSAD_RUNSTATEDIR
#define TLSAD_RUNSTATEDIR	"/run"
#endif

#define DEFAULT_LIVE_DIR	"/etc/letsencrypt/live"
#define DEFAULT_STATE_DIR	TLSAD_LOCALSTATEDIR "/lib/tlsad"
#define DEFAULT_DEPLOY_DIR	TLSAD_SYSCONFDIR "/tlsad/deploy"
#define DEFAULT_CONTROL_SOCKET	TLSAD_RUNSTATEDIR "/tlsad/tlsad.sock"
#define DEFAULT_TRUST_ANCHOR	"/usr/share/dns/root.key"
#define DEFAULT_RELOAD		"/usr/sbin/postfix reload"
#define LETSENCRYPT_DIR		"/etc/letsencrypt"
#define PATH_MAX_LEN		4095
#define NAME_MAX_LEN		255

enum clause {
	CL_NONE = 0,
	CL_SERVER,
	CL_KEY,
	CL_LINEAGE,
};

enum keyid {
	/* server: */
	K_LIVE_DIR, K_STATE_DIR, K_DEPLOY_DIR, K_CONTROL_SOCKET,
	K_TRUST_ANCHOR_FILE, K_RESOLVER, K_DNS_PORT, K_DNS_TIMEOUT,
	K_TTL_MULTIPLIER, K_HOLD_MARGIN, K_PROPAGATION_TIMEOUT, K_POLL_MIN,
	K_POLL_MAX, K_QUIET_PERIOD, K_RESCAN_INTERVAL, K_RETRY_MIN, K_RETRY_MAX,
	K_EXPIRY_WARN_DAYS, K_LOG_LEVEL,
	/* key: */
	K_FILE,
	/* lineage: */
	K_NAME, K_TLSA_NAME, K_TLSA, K_UPDATE_SERVER, K_AUTH_SERVER,
	K_DEPLOY_FILE, K_DEPLOY_GROUP, K_RELOAD, K_VERIFY, K_KEY_FILE,
	K_COUNT
};

#define KF_REPEAT	0x01	/* may appear more than once */

struct keydef {
	const char	*name;
	enum clause	 clause;
	unsigned	 flags;
};

/* Indexed by enum keyid. */
static const struct keydef keys[K_COUNT] = {
	[K_LIVE_DIR] =		{ "live-dir", CL_SERVER, 0 },
	[K_STATE_DIR] =		{ "state-dir", CL_SERVER, 0 },
	[K_DEPLOY_DIR] =	{ "deploy-dir", CL_SERVER, 0 },
	[K_CONTROL_SOCKET] =	{ "control-socket", CL_SERVER, 0 },
	[K_TRUST_ANCHOR_FILE] =	{ "trust-anchor-file", CL_SERVER, 0 },
	[K_RESOLVER] =		{ "resolver", CL_SERVER, KF_REPEAT },
	[K_DNS_PORT] =		{ "dns-port", CL_SERVER, 0 },
	[K_DNS_TIMEOUT] =	{ "dns-timeout", CL_SERVER, 0 },
	[K_TTL_MULTIPLIER] =	{ "ttl-multiplier", CL_SERVER, 0 },
	[K_HOLD_MARGIN] =	{ "hold-margin", CL_SERVER, 0 },
	[K_PROPAGATION_TIMEOUT] = { "propagation-timeout", CL_SERVER, 0 },
	[K_POLL_MIN] =		{ "poll-min", CL_SERVER, 0 },
	[K_POLL_MAX] =		{ "poll-max", CL_SERVER, 0 },
	[K_QUIET_PERIOD] =	{ "quiet-period", CL_SERVER, 0 },
	[K_RESCAN_INTERVAL] =	{ "rescan-interval", CL_SERVER, 0 },
	[K_RETRY_MIN] =		{ "retry-min", CL_SERVER, 0 },
	[K_RETRY_MAX] =		{ "retry-max", CL_SERVER, 0 },
	[K_EXPIRY_WARN_DAYS] =	{ "expiry-warn-days", CL_SERVER, 0 },
	[K_LOG_LEVEL] =		{ "log-level", CL_SERVER, 0 },
	[K_FILE] =		{ "file", CL_KEY, 0 },
	[K_NAME] =		{ "name", CL_LINEAGE, 0 },
	[K_TLSA_NAME] =		{ "tlsa-name", CL_LINEAGE, KF_REPEAT },
	[K_TLSA] =		{ "tlsa", CL_LINEAGE, KF_REPEAT },
	[K_UPDATE_SERVER] =	{ "update-server", CL_LINEAGE, 0 },
	[K_AUTH_SERVER] =	{ "auth-server", CL_LINEAGE, KF_REPEAT },
	[K_DEPLOY_FILE] =	{ "deploy-file", CL_LINEAGE, 0 },
	[K_DEPLOY_GROUP] =	{ "deploy-group", CL_LINEAGE, 0 },
	[K_RELOAD] =		{ "reload", CL_LINEAGE, 0 },
	[K_VERIFY] =		{ "verify", CL_LINEAGE, KF_REPEAT },
	[K_KEY_FILE] =		{ "key-file", CL_LINEAGE, 0 },
};

static const char *const clause_names[] = {
	[CL_NONE] = "",
	[CL_SERVER] = "server",
	[CL_KEY] = "key",
	[CL_LINEAGE] = "lineage",
};

/*
 * Durations: the field's unit, and the accepted range in milliseconds.
 * A plain number is seconds; a value finer than the field's unit is refused.
 */
struct durdef {
	enum keyid		 key;
	unsigned long long	 unit_ms;	/* 1: field in ms, 1000: in s */
	unsigned long long	 min_ms;
	unsigned long long	 max_ms;
};

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

static const struct durdef durations[] = {
	{ K_DNS_TIMEOUT,		1,	100,		5 * MIN },
	{ K_HOLD_MARGIN,		SEC,	0,		1 * DAY },
	{ K_PROPAGATION_TIMEOUT,	SEC,	1 * SEC,	7 * DAY },
	{ K_POLL_MIN,			1,	10,		1 * HOUR },
	{ K_POLL_MAX,			1,	10,		1 * HOUR },
	{ K_QUIET_PERIOD,		1,	0,		10 * MIN },
	{ K_RESCAN_INTERVAL,		SEC,	1 * SEC,	7 * DAY },
	{ K_RETRY_MIN,			SEC,	1 * SEC,	1 * DAY },
	{ K_RETRY_MAX,			SEC,	1 * SEC,	7 * DAY },
};

/* What the parser knows of one lineage clause beyond struct conf_lineage. */
struct lineage_meta {
	int	keyline[K_COUNT];	/* line a singular key was set on, or 0 */
	int	tlsa_name_line[CONF_MAX_LIST];
};

struct parser {
	const char		*name;		/* file name for messages */
	struct conf		*conf;
	struct lineage_meta	*meta;		/* parallel to conf->lineages */
	size_t			 metacap;
	size_t			 lincap;
	int			 keyline[K_COUNT]; /* server: and key: singulars */
	enum clause		 clause;
	int			 clause_line;
	int			 line;
	char			*err;
};

/* Record the first error; later ones are dropped.  Returns rc. */
static int perr(struct parser *, int, int, int, const char *, ...)
    __attribute__((format(printf, 5, 6)));

static int
perr(struct parser *p, int line, int col, int rc, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;
	size_t	 len;
	int	 n;

	if (p->err != NULL)
		return rc;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	len = strlen(p->name) + strlen(msg) + 64;
	p->err = malloc(len);
	if (p->err == NULL)
		return TLSAD_ENOMEM;
	if (line > 0)
		snprintf(p->err, len, "%s:%d:%d: %s", p->name, line, col, msg);
	else
		snprintf(p->err, len, "%s: %s", p->name, msg);
	return rc;
}

/* Levenshtein distance of two short strings (each capped at 63 bytes). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t	 row[64], la, lb, i, j, prev, cur, best;

	la = strnlen(a, 63);
	lb = strnlen(b, 63);
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			best = prev + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/* A name close enough to word to be what was meant, or NULL. */
static const char *
nearest(const char *word, const char *const *cands, size_t n)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = (size_t)-1, limit;

	limit = strlen(word) / 3;
	if (limit < 2)
		limit = 2;
	for (i = 0; i < n; i++) {
		d = edit_distance(word, cands[i]);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit ? best : NULL;
}

/* A byte for a message: "'x'" when printable, "0xNN" otherwise. */
static const char *
charname(unsigned char c, char *buf, size_t len)
{
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "0x%02x", c);
	return buf;
}

static int
keyid_of(const char *word)
{
	int	 i;

	for (i = 0; i < K_COUNT; i++)
		if (strcmp(keys[i].name, word) == 0)
			return i;
	return -1;
}

static enum clause
clause_of(const char *word)
{
	if (strcmp(word, "server") == 0)
		return CL_SERVER;
	if (strcmp(word, "key") == 0)
		return CL_KEY;
	if (strcmp(word, "lineage") == 0)
		return CL_LINEAGE;
	return CL_NONE;
}

/* Grow *arr (of elemsize bytes, *n used) by one zeroed slot, capped. */
static int
push(void **arr, size_t *n, size_t elemsize, size_t cap)
{
	void	*tmp;

	if (*n >= cap)
		return TLSAD_ETOOBIG;
	tmp = realloc(*arr, (*n + 1) * elemsize);
	if (tmp == NULL)
		return TLSAD_ENOMEM;
	*arr = tmp;
	memset((char *)tmp + *n * elemsize, 0, elemsize);
	(*n)++;
	return 0;
}

/* ---- value parsers: each reports its own error ---- */

static int
parse_path(struct parser *p, int col, const char *key, const char *val,
    char **dst)
{
	if (val[0] != '/')
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: expected an absolute path (starting with '/'), "
		    "got '%s'", key, val);
	if (strlen(val) > PATH_MAX_LEN)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: path longer than %d bytes", key, PATH_MAX_LEN);
	*dst = strdup(val);
	if (*dst == NULL)
		return perr(p, p->line, col, TLSAD_ENOMEM, "out of memory");
	return 0;
}

static int
parse_uint_range(struct parser *p, int col, const char *key, const char *val,
    unsigned long long min, unsigned long long max, const char *what,
    unsigned long long *out)
{
	unsigned long long	 v;
	size_t			 i;

	for (i = 0; val[i] != '\0'; i++)
		if (!isdigit((unsigned char)val[i]))
			return perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "%s: expected %s (a whole number from %llu to "
			    "%llu), got '%s'", key, what, min, max, val);
	if (i == 0 || i > 19 || util_parse_uint(val, 0, ~0ULL, &v) != 0)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: expected %s (a whole number from %llu to %llu), "
		    "got '%s'", key, what, min, max, val);
	if (v < min || v > max)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: %llu is out of range: expected %s from %llu to %llu",
		    key, v, what, min, max);
	*out = v;
	return 0;
}

/* "90", "90s", "1500ms", "5m", "2h", "1d" -> milliseconds. */
static int
duration_ms(const char *val, unsigned long long *out)
{
	unsigned long long	 v = 0, mult;
	size_t			 i = 0;
	int			 huge = 0;

	if (!isdigit((unsigned char)val[0]))
		return -1;
	for (; isdigit((unsigned char)val[i]); i++) {
		/* Far above any range; capping v keeps v * DAY in 64 bits. */
		if (v >= 100000000000ULL) {
			huge = 1;
			continue;
		}
		v = v * 10 + (unsigned long long)(val[i] - '0');
	}
	if (strcmp(val + i, "") == 0 || strcmp(val + i, "s") == 0)
		mult = SEC;
	else if (strcmp(val + i, "ms") == 0)
		mult = 1;
	else if (strcmp(val + i, "m") == 0)
		mult = MIN;
	else if (strcmp(val + i, "h") == 0)
		mult = HOUR;
	else if (strcmp(val + i, "d") == 0)
		mult = DAY;
	else
		return -1;
	if (huge)
		return -2;
	*out = v * mult;	/* v < 1e12, mult <= 8.64e7: fits in 64 bits */
	return 0;
}

static void
format_ms(unsigned long long ms, char *buf, size_t len)
{
	if (ms != 0 && ms % DAY == 0)
		snprintf(buf, len, "%llud", ms / DAY);
	else if (ms != 0 && ms % HOUR == 0)
		snprintf(buf, len, "%lluh", ms / HOUR);
	else if (ms != 0 && ms % MIN == 0)
		snprintf(buf, len, "%llum", ms / MIN);
	else if (ms % SEC == 0)
		snprintf(buf, len, "%llus", ms / SEC);
	else
		snprintf(buf, len, "%llums", ms);
}

static int
parse_duration(struct parser *p, int col, const struct durdef *d,
    const char *val, unsigned *dst)
{
	const char		*key = keys[d->key].name;
	unsigned long long	 ms;
	char			 lo[32], hi[32];
	int			 rc;

	format_ms(d->min_ms, lo, sizeof(lo));
	format_ms(d->max_ms, hi, sizeof(hi));
	rc = duration_ms(val, &ms);
	if (rc == -2)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: %s is out of range: expected from %s to %s",
		    key, val, lo, hi);
	if (rc != 0)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: expected a duration from %s to %s: a number with an "
		    "optional unit ms, s, m, h or d (no unit: seconds), "
		    "got '%s'", key, lo, hi, val);
	if (ms < d->min_ms || ms > d->max_ms)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: %s is out of range: expected from %s to %s",
		    key, val, lo, hi);
	if (ms % d->unit_ms != 0)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: %s is not a whole number of seconds", key, val);
	*dst = (unsigned)(ms / d->unit_ms);
	return 0;
}

/* An IP literal with an optional "@port"; port 0 in *out means "default". */
static int
parse_addr(struct parser *p, int col, const char *key, const char *val,
    int port_required, struct conf_addr *out)
{
	char			 host[128];
	const char		*at;
	unsigned char		 bin[16];
	unsigned long long	 port = 0;
	size_t			 hlen;
	int			 af;

	at = strrchr(val, '@');
	hlen = at != NULL ? (size_t)(at - val) : strlen(val);
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	/* "[2001:db8::1]@53" reads like a URL; take it too. */
	if (hlen > 2 && val[0] == '[' && val[hlen - 1] == ']') {
		memcpy(host, val + 1, hlen - 2);
		hlen -= 2;
	} else
		memcpy(host, val, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, bin) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, host, bin) == 1)
		af = AF_INET6;
	else
		goto bad;
	if (at == NULL && port_required)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: '%s' has no port: expected ADDRESS@PORT", key, val);
	if (at != NULL) {
		if (strlen(at + 1) > 5 || util_parse_uint(at + 1, 1, 65535,
		    &port) != 0)
			return perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "%s: bad port '%s': expected a number from 1 to "
			    "65535", key, at + 1);
	}
	if (inet_ntop(af, bin, out->host, sizeof(out->host)) == NULL)
		goto bad;
	out->port = (uint16_t)port;
	return 0;
bad:
	return perr(p, p->line, col, TLSAD_ECONF_VALUE,
	    "%s: expected an IPv4 or IPv6 address with an optional @PORT "
	    "(192.0.2.1@53, 2001:db8::1@53), got '%s'", key, val);
}

/*
 * A DNS name as an absolute, lower-case name with a final dot.  Labels
 * hold letters, digits, '-' and '_' (for _25._tcp); no wildcards.
 */
static int
parse_dname(struct parser *p, int col, const char *key, const char *val,
    int final_dot, char **dst)
{
	char	 name[NAME_MAX_LEN + 2], cbuf[16];
	size_t	 len, i, label = 0;

	len = strlen(val);
	if (len > 0 && val[len - 1] == '.')
		len--;
	if (len == 0)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: expected a domain name, got '%s'", key, val);
	if (len > 253)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "%s: domain name longer than 253 characters", key);
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)val[i];

		if (c == '.') {
			if (label == 0)
				return perr(p, p->line, col + (int)i,
				    TLSAD_ECONF_VALUE,
				    "%s: empty label in '%s'", key, val);
			label = 0;
			name[i] = '.';
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return perr(p, p->line, col + (int)i, TLSAD_ECONF_VALUE,
			    "%s: character %s is not allowed in a domain name "
			    "(letters, digits, '-', '_' and '.')", key,
			    charname(c, cbuf, sizeof(cbuf)));
		if (++label > 63)
			return perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "%s: a label of '%s' is longer than 63 characters",
			    key, val);
		name[i] = (char)tolower(c);
	}
	if (final_dot)
		name[len++] = '.';
	name[len] = '\0';
	*dst = strdup(name);
	if (*dst == NULL)
		return perr(p, p->line, col, TLSAD_ENOMEM, "out of memory");
	return 0;
}

static const char *
usage_name(unsigned long long u)
{
	switch (u) {
	case 0:
		return "PKIX-TA";
	case 1:
		return "PKIX-EE";
	case 2:
		return "DANE-TA";
	case 3:
		return "DANE-EE";
	default:
		return "unassigned";
	}
}

/* "3 1 1": the parameters tlsad may publish for SMTP. */
static int
parse_tlsa(struct parser *p, int col, const char *val, struct tlsa_param *out)
{
	unsigned long long	 f[3];
	const char		*s = val;
	char			 num[8];
	size_t			 i, n;

	for (i = 0; i < 3; i++) {
		while (*s == ' ' || *s == '\t')
			s++;
		n = 0;
		while (n < sizeof(num) - 1 && isdigit((unsigned char)s[n])) {
			num[n] = s[n];
			n++;
		}
		num[n] = '\0';
		if (n == 0 || isdigit((unsigned char)s[n]) ||
		    util_parse_uint(num, 0, 255, &f[i]) != 0)
			goto bad;
		s += n;
		if (i < 2 && *s != ' ' && *s != '\t')
			goto bad;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '\0')
		goto bad;
	if (f[0] != 2 && f[0] != 3)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "tlsa: usage %llu (%s) is not published by tlsad: SMTP "
		    "clients ignore PKIX usages 0 and 1 and use only DANE-TA(2) "
		    "and DANE-EE(3) (RFC 7672 section 3.1)", f[0],
		    usage_name(f[0]));
	if (f[1] > 1)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "tlsa: selector %llu is not defined: expected 0 (whole "
		    "certificate) or 1 (public key)", f[1]);
	if (f[2] == 0)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "tlsa: matching type 0 (full data) is not published by "
		    "tlsad: DANE for SMTP wants digests of the certificate or "
		    "key (RFC 7672 section 3.1); use 1 (SHA2-256) or "
		    "2 (SHA2-512)");
	if (f[2] > 2)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "tlsa: matching type %llu is not defined: expected "
		    "1 (SHA2-256) or 2 (SHA2-512)", f[2]);
	out->usage = (uint8_t)f[0];
	out->selector = (uint8_t)f[1];
	out->mtype = (uint8_t)f[2];
	return 0;
bad:
	return perr(p, p->line, col, TLSAD_ECONF_VALUE,
	    "tlsa: expected three numbers USAGE SELECTOR MATCHING-TYPE "
	    "such as '3 1 1', got '%s'", val);
}

/* Split a command line on blanks into a NULL-terminated argv. */
static int
parse_reload(struct parser *p, int col, const char *val, char ***dst)
{
	char		**argv = NULL;
	const char	 *s = val;
	size_t		  n = 0, len;
	int		  rc = 0;

	if (val[0] != '/') {
		rc = perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "reload: the command must start with an absolute path (no "
		    "shell and no PATH search), got '%s'", val);
		goto out;
	}
	argv = calloc(CONF_MAX_ARGV + 1, sizeof(*argv));
	if (argv == NULL) {
		rc = perr(p, p->line, col, TLSAD_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == CONF_MAX_ARGV) {
			rc = perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "reload: more than %d words", CONF_MAX_ARGV);
			goto out;
		}
		len = strcspn(s, " \t");
		argv[n] = strndup(s, len);
		if (argv[n] == NULL) {
			rc = perr(p, p->line, col, TLSAD_ENOMEM,
			    "out of memory");
			goto out;
		}
		n++;
		s += len;
	}
	*dst = argv;
	argv = NULL;
out:
	if (argv != NULL) {
		for (n = 0; argv[n] != NULL; n++)
			free(argv[n]);
		free(argv);
	}
	return rc;
}

/* ADDR[@PORT] starttls|tls [SERVERNAME] */
static int
parse_verify(struct parser *p, int col, const char *val, struct conf_verify *v)
{
	char	 words[3][512];
	int	 n, rc;

	n = 0;
	{
		const char	*s = val;
		size_t		 len;

		for (;;) {
			while (*s == ' ' || *s == '\t')
				s++;
			if (*s == '\0')
				break;
			len = strcspn(s, " \t");
			if (n == 3 || len >= sizeof(words[0])) {
				n = 4;
				break;
			}
			memcpy(words[n], s, len);
			words[n][len] = '\0';
			n++;
			s += len;
		}
	}
	if (n < 2 || n > 3)
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "verify: expected 'ADDRESS@PORT starttls|tls [SERVERNAME]', "
		    "got '%s'", val);
	if (strcmp(words[1], "starttls") == 0)
		v->mode = CONF_VERIFY_STARTTLS;
	else if (strcmp(words[1], "tls") == 0)
		v->mode = CONF_VERIFY_TLS;
	else
		return perr(p, p->line, col, TLSAD_ECONF_VALUE,
		    "verify: expected 'starttls' (SMTP, ports 25 and 587) or "
		    "'tls' (TLS at once, port 465) after the address, got '%s'",
		    words[1]);
	rc = parse_addr(p, col, "verify", words[0], 1, &v->addr);
	if (rc != 0)
		return rc;
	if (n == 3) {
		rc = parse_dname(p, col, "verify", words[2], 0, &v->servername);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The directory name of a certbot lineage: one safe path component. */
static int
parse_lineage_name(struct parser *p, int col, const char *val, char **dst)
{
	size_t	 i, len = strlen(val);

	if (len > NAME_MAX_LEN || val[0] == '.' || val[0] == '-')
		goto bad;
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)val[i];

		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			goto bad;
	}
	*dst = strdup(val);
	if (*dst == NULL)
		return perr(p, p->line, col, TLSAD_ENOMEM, "out of memory");
	return 0;
bad:
	return perr(p, p->line, col, TLSAD_ECONF_VALUE,
	    "name: expected the name of a directory under live-dir (letters, "
	    "digits, '.', '-', '_'; not starting with '.' or '-'), got '%s'",
	    val);
}

static int
parse_group(struct parser *p, int col, const char *val, char **dst)
{
	size_t	 i, len = strlen(val);

	if (len > 32 || val[0] == '-')
		goto bad;
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)val[i];

		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			goto bad;
	}
	*dst = strdup(val);
	if (*dst == NULL)
		return perr(p, p->line, col, TLSAD_ENOMEM, "out of memory");
	return 0;
bad:
	return perr(p, p->line, col, TLSAD_ECONF_VALUE,
	    "deploy-group: expected a group name (at most 32 letters, digits, "
	    "'.', '-', '_'), got '%s'", val);
}

static int
parse_log_level(struct parser *p, int col, const char *val, int *dst)
{
	static const struct {
		const char	*name;
		int		 level;
	} levels[] = {
		{ "err", LOG_LEVEL_ERR },
		{ "warning", LOG_LEVEL_WARNING },
		{ "notice", LOG_LEVEL_NOTICE },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	size_t	 i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(val, levels[i].name) == 0) {
			*dst = levels[i].level;
			return 0;
		}
	}
	return perr(p, p->line, col, TLSAD_ECONF_VALUE,
	    "log-level: expected err, warning, notice, info or debug, got '%s'",
	    val);
}

/* ---- clauses ---- */

static struct conf_lineage *
cur_lineage(struct parser *p)
{
	return &p->conf->lineages[p->conf->nlineages - 1];
}

static struct lineage_meta *
cur_meta(struct parser *p)
{
	return &p->meta[p->conf->nlineages - 1];
}

static int
open_lineage(struct parser *p)
{
	struct conf	*c = p->conf;
	void		*tmp;
	size_t		 cap;

	if (c->nlineages >= CONF_MAX_LINEAGES)
		return perr(p, p->line, 1, TLSAD_ETOOBIG,
		    "more than %d lineage: clauses", CONF_MAX_LINEAGES);
	if (c->nlineages == p->lincap) {
		cap = p->lincap == 0 ? 8 : p->lincap * 2;
		tmp = realloc(c->lineages, cap * sizeof(*c->lineages));
		if (tmp == NULL)
			return perr(p, p->line, 1, TLSAD_ENOMEM, "out of memory");
		c->lineages = tmp;
		tmp = realloc(p->meta, cap * sizeof(*p->meta));
		if (tmp == NULL)
			return perr(p, p->line, 1, TLSAD_ENOMEM, "out of memory");
		p->meta = tmp;
		p->lincap = cap;
	}
	memset(&c->lineages[c->nlineages], 0, sizeof(*c->lineages));
	memset(&p->meta[c->nlineages], 0, sizeof(*p->meta));
	c->lineages[c->nlineages].line = p->line;
	c->nlineages++;
	return 0;
}

/* End of a lineage clause: required keys and duplicates. */
static int
close_lineage(struct parser *p)
{
	struct conf_lineage	*l = cur_lineage(p);
	struct lineage_meta	*m = cur_meta(p);
	size_t			 i;

	if (l->name == NULL)
		return perr(p, l->line, 1, TLSAD_ECONF_MISSING,
		    "lineage at %s:%d has no name: add 'name: DIRECTORY' "
		    "(its directory under live-dir)", p->name, l->line);
	if (l->ntlsa_names == 0)
		return perr(p, l->line, 1, TLSAD_ECONF_MISSING,
		    "lineage '%s' at %s:%d has no tlsa-name: add at least one, "
		    "such as 'tlsa-name: _25._tcp.%s'", l->name, p->name,
		    l->line, l->name);
	for (i = 0; i + 1 < p->conf->nlineages; i++) {
		if (strcmp(p->conf->lineages[i].name, l->name) == 0)
			return perr(p, m->keyline[K_NAME], 1,
			    TLSAD_ECONF_DUPLICATE,
			    "duplicate lineage '%s': the first is at %s:%d",
			    l->name, p->name, p->conf->lineages[i].line);
	}
	return 0;
}

/* A tlsa-name another lineage already uses would let them retire each other's records. */
static int
check_tlsa_name_unique(struct parser *p, int col, const char *name)
{
	const struct conf	*c = p->conf;
	const struct conf_lineage *l = cur_lineage(p);
	size_t			 i, j;

	for (j = 0; j < l->ntlsa_names; j++)
		if (strcmp(l->tlsa_names[j], name) == 0)
			return perr(p, p->line, col, TLSAD_ECONF_DUPLICATE,
			    "duplicate tlsa-name '%s': first set at %s:%d",
			    name, p->name, cur_meta(p)->tlsa_name_line[j]);
	for (i = 0; i + 1 < c->nlineages; i++)
		for (j = 0; j < c->lineages[i].ntlsa_names; j++)
			if (strcmp(c->lineages[i].tlsa_names[j], name) == 0)
				return perr(p, p->line, col,
				    TLSAD_ECONF_DUPLICATE,
				    "tlsa-name '%s' is also used by the "
				    "lineage at %s:%d: two lineages would "
				    "retire each other's records", name,
				    p->name, c->lineages[i].line);
	return 0;
}

static int
set_key(struct parser *p, int id, int col, const char *val)
{
	struct conf		*c = p->conf;
	struct conf_lineage	*l = NULL;
	const char		*key = keys[id].name;
	unsigned long long	 v;
	size_t			 i;
	char			*s = NULL;
	int			 rc = 0;

	if (p->clause == CL_LINEAGE)
		l = cur_lineage(p);
	switch (id) {
	case K_LIVE_DIR:
		return parse_path(p, col, key, val, &c->live_dir);
	case K_STATE_DIR:
		return parse_path(p, col, key, val, &c->state_dir);
	case K_DEPLOY_DIR:
		rc = parse_path(p, col, key, val, &c->deploy_dir);
		if (rc == 0 && (strncmp(val, LETSENCRYPT_DIR "/",
		    strlen(LETSENCRYPT_DIR "/")) == 0 ||
		    strcmp(val, LETSENCRYPT_DIR) == 0))
			return perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "deploy-dir: must not be under %s: certbot owns "
			    "that tree and tlsad never writes there",
			    LETSENCRYPT_DIR);
		return rc;
	case K_CONTROL_SOCKET:
		if (strlen(val) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "control-socket: path is %zu bytes; a Unix socket "
			    "path holds at most %zu", strlen(val),
			    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return parse_path(p, col, key, val, &c->control_socket);
	case K_TRUST_ANCHOR_FILE:
		return parse_path(p, col, key, val, &c->trust_anchor_file);
	case K_RESOLVER:
		if (push((void **)&c->resolvers, &c->nresolvers,
		    sizeof(*c->resolvers), CONF_MAX_LIST) != 0)
			return perr(p, p->line, col, TLSAD_ETOOBIG,
			    "resolver: more than %d entries", CONF_MAX_LIST);
		rc = parse_addr(p, col, key, val, 0,
		    &c->resolvers[c->nresolvers - 1]);
		if (rc == 0 && c->resolvers[c->nresolvers - 1].port == 0)
			c->resolvers[c->nresolvers - 1].port = 53;
		return rc;
	case K_DNS_PORT:
		rc = parse_uint_range(p, col, key, val, 1, 65535, "a port",
		    &v);
		if (rc == 0)
			c->dns_port = (uint16_t)v;
		return rc;
	case K_TTL_MULTIPLIER:
		rc = parse_uint_range(p, col, key, val, 1, 10, "a factor", &v);
		if (rc == 0)
			c->ttl_multiplier = (unsigned)v;
		return rc;
	case K_EXPIRY_WARN_DAYS:
		rc = parse_uint_range(p, col, key, val, 0, 365,
		    "a number of days", &v);
		if (rc == 0)
			c->expiry_warn_days = (unsigned)v;
		return rc;
	case K_DNS_TIMEOUT:
		return parse_duration(p, col, &durations[0], val,
		    &c->dns_timeout_ms);
	case K_HOLD_MARGIN:
		return parse_duration(p, col, &durations[1], val,
		    &c->hold_margin_s);
	case K_PROPAGATION_TIMEOUT:
		return parse_duration(p, col, &durations[2], val,
		    &c->propagation_timeout_s);
	case K_POLL_MIN:
		return parse_duration(p, col, &durations[3], val,
		    &c->poll_min_ms);
	case K_POLL_MAX:
		return parse_duration(p, col, &durations[4], val,
		    &c->poll_max_ms);
	case K_QUIET_PERIOD:
		return parse_duration(p, col, &durations[5], val,
		    &c->quiet_period_ms);
	case K_RESCAN_INTERVAL:
		return parse_duration(p, col, &durations[6], val,
		    &c->rescan_interval_s);
	case K_RETRY_MIN:
		return parse_duration(p, col, &durations[7], val,
		    &c->retry_min_s);
	case K_RETRY_MAX:
		return parse_duration(p, col, &durations[8], val,
		    &c->retry_max_s);
	case K_LOG_LEVEL:
		return parse_log_level(p, col, val, &c->log_level);
	case K_FILE:
		return parse_path(p, col, key, val, &c->key_file);
	case K_NAME:
		return parse_lineage_name(p, col, val, &l->name);
	case K_TLSA_NAME:
		rc = parse_dname(p, col, key, val, 1, &s);
		if (rc != 0)
			return rc;
		rc = check_tlsa_name_unique(p, col, s);
		if (rc == 0 && push((void **)&l->tlsa_names, &l->ntlsa_names,
		    sizeof(*l->tlsa_names), CONF_MAX_LIST) != 0)
			rc = perr(p, p->line, col, TLSAD_ETOOBIG,
			    "tlsa-name: more than %d in one lineage",
			    CONF_MAX_LIST);
		if (rc != 0) {
			free(s);
			return rc;
		}
		l->tlsa_names[l->ntlsa_names - 1] = s;
		cur_meta(p)->tlsa_name_line[l->ntlsa_names - 1] = p->line;
		return 0;
	case K_TLSA: {
		struct tlsa_param	 tp;

		rc = parse_tlsa(p, col, val, &tp);
		if (rc != 0)
			return rc;
		for (i = 0; i < l->ntlsa; i++)
			if (l->tlsa[i].usage == tp.usage &&
			    l->tlsa[i].selector == tp.selector &&
			    l->tlsa[i].mtype == tp.mtype)
				return perr(p, p->line, col,
				    TLSAD_ECONF_DUPLICATE,
				    "duplicate tlsa '%u %u %u' in this lineage",
				    tp.usage, tp.selector, tp.mtype);
		if (push((void **)&l->tlsa, &l->ntlsa, sizeof(*l->tlsa),
		    CONF_MAX_LIST) != 0)
			return perr(p, p->line, col, TLSAD_ETOOBIG,
			    "tlsa: more than %d in one lineage", CONF_MAX_LIST);
		l->tlsa[l->ntlsa - 1] = tp;
		return 0;
	}
	case K_UPDATE_SERVER:
		rc = parse_addr(p, col, key, val, 0, &l->update_server);
		if (rc == 0)
			l->has_update_server = 1;
		return rc;
	case K_AUTH_SERVER:
		if (push((void **)&l->auth_servers, &l->nauth_servers,
		    sizeof(*l->auth_servers), CONF_MAX_LIST) != 0)
			return perr(p, p->line, col, TLSAD_ETOOBIG,
			    "auth-server: more than %d in one lineage",
			    CONF_MAX_LIST);
		return parse_addr(p, col, key, val, 0,
		    &l->auth_servers[l->nauth_servers - 1]);
	case K_DEPLOY_FILE:
		rc = parse_path(p, col, key, val, &l->deploy_file);
		if (rc == 0 && strncmp(val, LETSENCRYPT_DIR "/",
		    strlen(LETSENCRYPT_DIR "/")) == 0)
			return perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "deploy-file: must not be under %s: certbot owns "
			    "that tree and tlsad never writes there",
			    LETSENCRYPT_DIR);
		if (rc == 0 && val[strlen(val) - 1] == '/')
			return perr(p, p->line, col, TLSAD_ECONF_VALUE,
			    "deploy-file: expected a file name, got the "
			    "directory '%s'", val);
		return rc;
	case K_DEPLOY_GROUP:
		return parse_group(p, col, val, &l->deploy_group);
	case K_RELOAD:
		return parse_reload(p, col, val, &l->reload_argv);
	case K_VERIFY:
		if (push((void **)&l->verify, &l->nverify, sizeof(*l->verify),
		    CONF_MAX_LIST) != 0)
			return perr(p, p->line, col, TLSAD_ETOOBIG,
			    "verify: more than %d in one lineage",
			    CONF_MAX_LIST);
		return parse_verify(p, col, val, &l->verify[l->nverify - 1]);
	case K_KEY_FILE:
		return parse_path(p, col, key, val, &l->key_file);
	default:
		return perr(p, p->line, col, TLSAD_EINTERNAL,
		    "internal error: key '%s' has no parser", key);
	}
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_word(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* One key line of the current clause; buf is writable and NUL-terminated. */
static int
key_line(struct parser *p, char *buf, size_t start)
{
	const char	*cands[K_COUNT];
	const char	*near;
	char		*word, *val, *end, cbuf[16];
	size_t		 i = start, ncand = 0, wend;
	int		 id, k, *firstline, wcol, vcol;

	word = buf + start;
	wcol = (int)start + 1;
	while (is_word(buf[i]))
		i++;
	wend = i;
	if (wend == start)
		return perr(p, p->line, wcol, TLSAD_ECONF_SYNTAX,
		    "expected a key name, found %s",
		    charname((unsigned char)buf[start], cbuf, sizeof(cbuf)));
	while (is_blank(buf[i]))
		i++;
	if (buf[i] != ':') {
		char	c = buf[i];

		buf[wend] = '\0';
		if (c == '=' || c == '"' || c == ';' || c == ',')
			return perr(p, p->line, (int)i + 1, TLSAD_ECONF_SYNTAX,
			    "expected ':' after '%s', found '%c'", word, c);
		return perr(p, p->line, (int)wend + 1, TLSAD_ECONF_SYNTAX,
		    "missing ':' after '%s'", word);
	}
	buf[wend] = '\0';
	i++;
	if (p->clause == CL_NONE)
		return perr(p, p->line, wcol, TLSAD_ECONF_SYNTAX,
		    "key '%s' outside any clause: put it under 'server:', "
		    "'key:' or 'lineage:'", word);
	id = keyid_of(word);
	if (id < 0) {
		for (k = 0; k < K_COUNT; k++)
			if (keys[k].clause == p->clause)
				cands[ncand++] = keys[k].name;
		near = nearest(word, cands, ncand);
		if (near != NULL)
			return perr(p, p->line, wcol, TLSAD_ECONF_UNKNOWN,
			    "unknown key '%s' in %s:, did you mean '%s'?",
			    word, clause_names[p->clause], near);
		/* Perhaps a misspelt key of another clause. */
		for (k = 0; k < K_COUNT; k++)
			cands[k] = keys[k].name;
		near = nearest(word, cands, K_COUNT);
		if (near != NULL)
			return perr(p, p->line, wcol, TLSAD_ECONF_UNKNOWN,
			    "unknown key '%s' in %s:, did you mean '%s' "
			    "(a key of %s:)?", word, clause_names[p->clause],
			    near, clause_names[keys[keyid_of(near)].clause]);
		return perr(p, p->line, wcol, TLSAD_ECONF_UNKNOWN,
		    "unknown key '%s' in %s:", word, clause_names[p->clause]);
	}
	if (keys[id].clause != p->clause)
		return perr(p, p->line, wcol, TLSAD_ECONF_UNKNOWN,
		    "key '%s' belongs in a %s: clause, not in %s:", word,
		    clause_names[keys[id].clause], clause_names[p->clause]);

	/* The value: quoted, or up to a comment, trailing blanks trimmed. */
	while (is_blank(buf[i]))
		i++;
	vcol = (int)i + 1;
	if (buf[i] == '"') {
		val = buf + i + 1;
		end = strchr(val, '"');
		if (end == NULL)
			return perr(p, p->line, vcol, TLSAD_ECONF_SYNTAX,
			    "unterminated quoted value: no closing '\"'");
		*end = '\0';
		i = (size_t)(end - buf) + 1;
		while (is_blank(buf[i]))
			i++;
		if (buf[i] != '\0' && buf[i] != '#')
			return perr(p, p->line, (int)i + 1, TLSAD_ECONF_SYNTAX,
			    "unexpected text after the closing quote");
		vcol++;
	} else {
		val = buf + i;
		end = strchr(val, '#');
		if (end != NULL)
			*end = '\0';
		end = val + strlen(val);
		while (end > val && is_blank(end[-1]))
			end--;
		*end = '\0';
	}
	if (val[0] == '\0')
		return perr(p, p->line, vcol, TLSAD_ECONF_VALUE,
		    "key '%s' needs a value", word);

	if (!(keys[id].flags & KF_REPEAT)) {
		firstline = p->clause == CL_LINEAGE ?
		    &cur_meta(p)->keyline[id] : &p->keyline[id];
		if (*firstline != 0)
			return perr(p, p->line, wcol, TLSAD_ECONF_DUPLICATE,
			    "duplicate key '%s' in %s:; first set at %s:%d",
			    word, clause_names[p->clause], p->name,
			    *firstline);
		*firstline = p->line;
	}
	return set_key(p, id, vcol, val);
}

/* A clause line at column 1. */
static int
clause_line(struct parser *p, char *buf)
{
	static const char *const cands[] = { "server", "key", "lineage" };
	const char	*near;
	char		 cbuf[16];
	enum clause	 cl;
	size_t		 i = 0, wend;
	int		 id, rc;

	while (is_word(buf[i]))
		i++;
	wend = i;
	if (wend == 0)
		return perr(p, p->line, 1, TLSAD_ECONF_SYNTAX,
		    "expected a clause ('server:', 'key:' or 'lineage:') at "
		    "column 1, found %s",
		    charname((unsigned char)buf[0], cbuf, sizeof(cbuf)));
	while (is_blank(buf[i]))
		i++;
	if (buf[i] != ':') {
		buf[wend] = '\0';
		return perr(p, p->line, (int)i + 1, TLSAD_ECONF_SYNTAX,
		    "missing ':' after '%s'", buf);
	}
	buf[wend] = '\0';
	i++;
	cl = clause_of(buf);
	if (cl == CL_NONE) {
		id = keyid_of(buf);
		if (id >= 0)
			return perr(p, p->line, 1, TLSAD_ECONF_SYNTAX,
			    "key '%s' at column 1: indent it under its %s: "
			    "clause", buf, clause_names[keys[id].clause]);
		near = nearest(buf, cands, 3);
		if (near != NULL)
			return perr(p, p->line, 1, TLSAD_ECONF_UNKNOWN,
			    "unknown clause '%s:', did you mean '%s:'?", buf,
			    near);
		return perr(p, p->line, 1, TLSAD_ECONF_UNKNOWN,
		    "unknown clause '%s:': expected server:, key: or lineage:",
		    buf);
	}
	while (is_blank(buf[i]))
		i++;
	if (buf[i] != '\0' && buf[i] != '#')
		return perr(p, p->line, (int)i + 1, TLSAD_ECONF_SYNTAX,
		    "clause '%s:' takes no value: put each key on its own "
		    "indented line below it", buf);
	if (p->clause == CL_LINEAGE) {
		rc = close_lineage(p);
		if (rc != 0)
			return rc;
	}
	p->clause = cl;
	p->clause_line = p->line;
	if (cl == CL_LINEAGE)
		return open_lineage(p);
	return 0;
}

static int
parse_lines(struct parser *p, const char *text, size_t len)
{
	char		 buf[CONF_MAX_LINE + 1];
	const char	*nul, *nl, *s = text, *end = text + len;
	size_t		 n, i;
	int		 rc;

	nul = memchr(text, '\0', len);
	for (;;) {
		if (s >= end)
			break;
		p->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		if (nul != NULL && nul >= s && nul < s + n)
			return perr(p, p->line, (int)(nul - s) + 1,
			    TLSAD_ECONF_SYNTAX,
			    "NUL byte: the file is not a text file");
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > CONF_MAX_LINE)
			return perr(p, p->line, CONF_MAX_LINE + 1,
			    TLSAD_ETOOBIG, "line longer than %d bytes",
			    CONF_MAX_LINE);
		memcpy(buf, s, n);
		buf[n] = '\0';
		s = nl != NULL ? nl + 1 : end;
		for (i = 0; i < n; i++) {
			unsigned char	c = (unsigned char)buf[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return perr(p, p->line, (int)i + 1,
				    TLSAD_ECONF_SYNTAX,
				    "control character 0x%02x: only spaces "
				    "and tabs may separate words", c);
		}
		i = 0;
		while (is_blank(buf[i]))
			i++;
		if (buf[i] == '\0' || buf[i] == '#')
			continue;
		if (i == 0)
			rc = clause_line(p, buf);
		else
			rc = key_line(p, buf, i);
		if (rc != 0)
			return rc;
	}
	if (p->clause == CL_LINEAGE)
		return close_lineage(p);
	return 0;
}

static int
dupstr(char **dst, const char *s)
{
	if (*dst != NULL)
		return 0;
	*dst = strdup(s);
	return *dst == NULL ? TLSAD_ENOMEM : 0;
}

/* Is path dir itself or below it?  Compared as written, not resolved. */
static int
path_under(const char *path, const char *dir)
{
	size_t	 len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, len) == 0 &&
	    (path[len] == '/' || path[len] == '\0');
}

/* Defaults and checks that need the whole file. */
static int
finish(struct parser *p)
{
	struct conf		*c = p->conf;
	struct conf_lineage	*l;
	size_t			 i, j, len;
	int			 rc;

	if (c->poll_min_ms > c->poll_max_ms)
		return perr(p, p->keyline[K_POLL_MIN] != 0 ?
		    p->keyline[K_POLL_MIN] : p->keyline[K_POLL_MAX], 1,
		    TLSAD_ECONF_VALUE, "poll-min (%ums) is larger than "
		    "poll-max (%ums)", c->poll_min_ms, c->poll_max_ms);
	if (c->retry_min_s > c->retry_max_s)
		return perr(p, p->keyline[K_RETRY_MIN] != 0 ?
		    p->keyline[K_RETRY_MIN] : p->keyline[K_RETRY_MAX], 1,
		    TLSAD_ECONF_VALUE, "retry-min (%us) is larger than "
		    "retry-max (%us)", c->retry_min_s, c->retry_max_s);
	if (dupstr(&c->live_dir, DEFAULT_LIVE_DIR) != 0 ||
	    dupstr(&c->state_dir, DEFAULT_STATE_DIR) != 0 ||
	    dupstr(&c->deploy_dir, DEFAULT_DEPLOY_DIR) != 0 ||
	    dupstr(&c->control_socket, DEFAULT_CONTROL_SOCKET) != 0 ||
	    dupstr(&c->trust_anchor_file, DEFAULT_TRUST_ANCHOR) != 0)
		return perr(p, 0, 0, TLSAD_ENOMEM, "out of memory");
	for (i = 0; i < c->nlineages; i++) {
		l = &c->lineages[i];
		if (l->ntlsa == 0) {
			l->tlsa = calloc(1, sizeof(*l->tlsa));
			if (l->tlsa == NULL)
				return perr(p, 0, 0, TLSAD_ENOMEM,
				    "out of memory");
			l->tlsa[0].usage = TLSA_USAGE_DANE_EE;
			l->tlsa[0].selector = TLSA_SELECTOR_SPKI;
			l->tlsa[0].mtype = TLSA_MTYPE_SHA256;
			l->ntlsa = 1;
		}
		if (l->has_update_server && l->update_server.port == 0)
			l->update_server.port = c->dns_port;
		for (j = 0; j < l->nauth_servers; j++)
			if (l->auth_servers[j].port == 0)
				l->auth_servers[j].port = c->dns_port;
		if (l->deploy_file == NULL) {
			len = strlen(c->deploy_dir) + strlen(l->name) + 6;
			l->deploy_file = malloc(len);
			if (l->deploy_file == NULL)
				return perr(p, 0, 0, TLSAD_ENOMEM,
				    "out of memory");
			snprintf(l->deploy_file, len, "%s/%s.pem",
			    c->deploy_dir, l->name);
		}
		if (l->reload_argv == NULL) {
			p->line = l->line;
			rc = parse_reload(p, 1, DEFAULT_RELOAD,
			    &l->reload_argv);
			if (rc != 0)
				return rc;
		}
	}
	/*
	 * certbot swaps the links under live-dir one at a time: a file the MTA
	 * reads must never live there (nor anywhere under /etc/letsencrypt,
	 * checked as each key is read).
	 */
	for (i = 0; i < c->nlineages; i++) {
		l = &c->lineages[i];
		if (!path_under(l->deploy_file, c->live_dir))
			continue;
		if (p->meta[i].keyline[K_DEPLOY_FILE] != 0)
			return perr(p, p->meta[i].keyline[K_DEPLOY_FILE], 1,
			    TLSAD_ECONF_VALUE, "deploy-file '%s' is under "
			    "live-dir '%s': certbot owns that tree and tlsad "
			    "never writes there", l->deploy_file, c->live_dir);
		return perr(p, p->keyline[K_DEPLOY_DIR] != 0 ?
		    p->keyline[K_DEPLOY_DIR] : p->keyline[K_LIVE_DIR], 1,
		    TLSAD_ECONF_VALUE, "deploy-dir '%s' is under live-dir "
		    "'%s': certbot owns that tree and tlsad never writes there",
		    c->deploy_dir, c->live_dir);
	}
	/* Two lineages writing one file would serve each other's keys. */
	for (i = 0; i < c->nlineages; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(c->lineages[i].deploy_file,
			    c->lineages[j].deploy_file) != 0)
				continue;
			return perr(p, p->meta[i].keyline[K_DEPLOY_FILE] != 0 ?
			    p->meta[i].keyline[K_DEPLOY_FILE] :
			    c->lineages[i].line, 1, TLSAD_ECONF_DUPLICATE,
			    "deploy-file '%s' is also the deploy file of the "
			    "lineage at %s:%d", c->lineages[i].deploy_file,
			    p->name, c->lineages[j].line);
		}
	}
	return 0;
}

static void
lineage_clear(struct conf_lineage *l)
{
	size_t	 i;

	free(l->name);
	for (i = 0; i < l->ntlsa_names; i++)
		free(l->tlsa_names[i]);
	free(l->tlsa_names);
	free(l->tlsa);
	free(l->auth_servers);
	free(l->deploy_file);
	free(l->deploy_group);
	if (l->reload_argv != NULL) {
		for (i = 0; l->reload_argv[i] != NULL; i++)
			free(l->reload_argv[i]);
		free(l->reload_argv);
	}
	for (i = 0; i < l->nverify; i++)
		free(l->verify[i].servername);
	free(l->verify);
	free(l->key_file);
}

void
conf_free(struct conf *conf)
{
	size_t	 i;

	if (conf == NULL)
		return;
	free(conf->path);
	free(conf->live_dir);
	free(conf->state_dir);
	free(conf->deploy_dir);
	free(conf->control_socket);
	free(conf->trust_anchor_file);
	free(conf->resolvers);
	free(conf->key_file);
	for (i = 0; i < conf->nlineages; i++)
		lineage_clear(&conf->lineages[i]);
	free(conf->lineages);
	free(conf);
}

int
conf_parse(const char *name, const char *text, size_t len, struct conf **out,
    char **errmsg)
{
	struct parser	 p;
	struct conf	*c = NULL;
	int		 rc;

	*out = NULL;
	if (errmsg != NULL)
		*errmsg = NULL;
	memset(&p, 0, sizeof(p));
	p.name = name != NULL ? name : "(config)";
	if (text == NULL && len != 0) {
		rc = perr(&p, 0, 0, TLSAD_EINVAL, "no text to parse");
		goto out;
	}
	if (len > CONF_MAX_SIZE) {
		rc = perr(&p, 0, 0, TLSAD_ETOOBIG,
		    "file is larger than %d bytes", CONF_MAX_SIZE);
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = perr(&p, 0, 0, TLSAD_ENOMEM, "out of memory");
		goto out;
	}
	c->dns_port = 53;
	c->dns_timeout_ms = 5000;
	c->ttl_multiplier = 2;
	c->hold_margin_s = 60;
	c->propagation_timeout_s = 3600;
	c->poll_min_ms = 500;
	c->poll_max_ms = 60000;
	c->quiet_period_ms = 2000;
	c->rescan_interval_s = 3600;
	c->retry_min_s = 60;
	c->retry_max_s = 3600;
	c->expiry_warn_days = 14;
	c->log_level = LOG_LEVEL_INFO;
	p.conf = c;
	c->path = strdup(p.name);
	if (c->path == NULL) {
		rc = perr(&p, 0, 0, TLSAD_ENOMEM, "out of memory");
		goto out;
	}
	rc = len == 0 ? 0 : parse_lines(&p, text, len);
	if (rc != 0)
		goto out;
	rc = finish(&p);
	if (rc != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	if (rc != 0 && p.err == NULL)
		perr(&p, 0, 0, rc, "%s", tlsad_strerror(rc));
	if (rc != 0 && errmsg != NULL) {
		*errmsg = p.err;
		p.err = NULL;
	}
	free(p.err);
	free(p.meta);
	conf_free(c);
	return rc;
}

int
conf_load(const char *path, struct conf **out, char **errmsg)
{
	char	*text = NULL, *msg = NULL;
	size_t	 len = 0, mlen;
	int	 rc;

	*out = NULL;
	if (errmsg != NULL)
		*errmsg = NULL;
	rc = util_read_file(path, CONF_MAX_SIZE, &text, &len);
	if (rc != 0) {
		mlen = strlen(path) + 128;
		msg = malloc(mlen);
		if (msg != NULL) {
			if (rc == TLSAD_ETOOBIG)
				snprintf(msg, mlen, "%s: file is larger than "
				    "%d bytes", path, CONF_MAX_SIZE);
			else if (rc == TLSAD_EINVAL)
				snprintf(msg, mlen, "%s: not a regular file",
				    path);
			else
				snprintf(msg, mlen, "%s: cannot read: %s",
				    path, tlsad_strerror(rc));
		}
		if (errmsg != NULL)
			*errmsg = msg;
		else
			free(msg);
		msg = NULL;
		goto out;
	}
	rc = conf_parse(path, text, len, out, errmsg);
out:
	free(text);
	return rc;
}

const struct conf_lineage *
conf_lineage_find(const struct conf *conf, const char *name)
{
	size_t	 i;

	if (conf == NULL || name == NULL)
		return NULL;
	for (i = 0; i < conf->nlineages; i++)
		if (strcmp(conf->lineages[i].name, name) == 0)
			return &conf->lineages[i];
	return NULL;
}
