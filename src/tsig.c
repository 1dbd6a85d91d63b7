/*
 * tsig.c -- read TSIG keys from BIND key files (tsig-keygen, ddns-confgen).
 *
 * Pure parser plus one loader that reads the file through a descriptor it
 * has checked with fstat (permissions checked on what is read, not on a
 * name that could be swapped).  Never logs.  The secret is copied exactly
 * twice (base64 text and decoded bytes), both wiped with OPENSSL_cleanse by
 * tsig_key_free; the loader wipes the file buffer too.  Reasons written to
 * `why` never quote a secret.
 *
 * Grammar accepted (named.conf subset):
 *	file	 := { stmt }
 *	stmt	 := "key" NAME "{" { keyopt } "}" ";"
 *		  | WORD ... ";"	(other statements, braces balanced: skipped,
 *					 e.g. ddns-confgen's update-policy example;
 *					 free text in them and a final one without
 *					 ';' are tolerated, as ddns-confgen ends
 *					 with "nsupdate -k <keyfile>")
 *	keyopt	 := "algorithm" WORD ";" | "secret" STRING ";"
 * Comments: `#` and `//` to end of line, C comments.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tlsad/error.h"
#include "tlsad/tsig.h"

enum tok_kind {
	TOK_EOF = 0,
	TOK_WORD,
	TOK_STRING,
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_SEMI,
	TOK_ERROR,
};

struct tok {
	enum tok_kind	 kind;
	const char	*p;	/* into the text; not NUL-terminated */
	size_t		 len;
	int		 line;
};

struct lexer {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	int		 line;
	const char	*err;	/* static reason for TOK_ERROR */
};

struct algo_desc {
	const char	*file_name;	/* as in the key file */
	const char	*ldns_name;	/* as ldns wants it */
	enum tsig_algo	 algo;
};

static const struct algo_desc algos[] = {
	{ "hmac-sha1", "hmac-sha1.", TSIG_ALGO_HMAC_SHA1 },
	{ "hmac-sha256", "hmac-sha256.", TSIG_ALGO_HMAC_SHA256 },
	{ "hmac-sha384", "hmac-sha384.", TSIG_ALGO_HMAC_SHA384 },
	{ "hmac-sha512", "hmac-sha512.", TSIG_ALGO_HMAC_SHA512 },
};

static void
setwhy(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
setwhy(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static void
skip_space(struct lexer *lx)
{
	while (lx->pos < lx->len) {
		char	c = lx->s[lx->pos];

		if (c == '\n') {
			lx->line++;
			lx->pos++;
		} else if (isspace((unsigned char)c)) {
			lx->pos++;
		} else if (c == '#' || (c == '/' && lx->pos + 1 < lx->len &&
		    lx->s[lx->pos + 1] == '/')) {
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
				lx->pos++;
		} else if (c == '/' && lx->pos + 1 < lx->len &&
		    lx->s[lx->pos + 1] == '*') {
			lx->pos += 2;
			for (;;) {
				if (lx->pos + 1 >= lx->len) {
					lx->pos = lx->len;
					lx->err = "unterminated comment";
					return;
				}
				if (lx->s[lx->pos] == '\n')
					lx->line++;
				if (lx->s[lx->pos] == '*' && lx->s[lx->pos + 1] == '/') {
					lx->pos += 2;
					break;
				}
				lx->pos++;
			}
		} else {
			return;
		}
	}
}

static int
is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' ||
	    c == '+' || c == '/' || c == '=' || c == ':';
}

static struct tok
next_tok(struct lexer *lx)
{
	struct tok	t = { TOK_EOF, NULL, 0, 0 };
	char		c;

	skip_space(lx);
	t.line = lx->line;
	if (lx->err != NULL) {
		t.kind = TOK_ERROR;
		return t;
	}
	if (lx->pos >= lx->len)
		return t;
	c = lx->s[lx->pos];
	t.p = lx->s + lx->pos;
	if (c == '{' || c == '}' || c == ';') {
		t.kind = c == '{' ? TOK_LBRACE : c == '}' ? TOK_RBRACE : TOK_SEMI;
		t.len = 1;
		lx->pos++;
		return t;
	}
	if (c == '"') {
		size_t	start = ++lx->pos;

		while (lx->pos < lx->len && lx->s[lx->pos] != '"' &&
		    lx->s[lx->pos] != '\n' && lx->s[lx->pos] != '\\')
			lx->pos++;
		if (lx->pos >= lx->len || lx->s[lx->pos] != '"') {
			lx->err = "unterminated or escaped quoted string";
			t.kind = TOK_ERROR;
			return t;
		}
		t.kind = TOK_STRING;
		t.p = lx->s + start;
		t.len = lx->pos - start;
		lx->pos++;
		return t;
	}
	if (is_word_char(c)) {
		size_t	start = lx->pos;

		while (lx->pos < lx->len && is_word_char(lx->s[lx->pos]))
			lx->pos++;
		t.kind = TOK_WORD;
		t.len = lx->pos - start;
		return t;
	}
	lx->err = c == '\0' ? "NUL byte in the key file" : "unexpected character";
	t.kind = TOK_ERROR;
	return t;
}

static int
tok_is(const struct tok *t, const char *word)
{
	return t->kind == TOK_WORD && strlen(word) == t->len &&
	    strncasecmp(t->p, word, t->len) == 0;
}

/* Compare a key name token with the wanted name, ignoring case and a final dot. */
static int
name_matches(const char *p, size_t len, const char *want)
{
	size_t	wlen = strlen(want);

	if (len > 0 && p[len - 1] == '.')
		len--;
	if (wlen > 0 && want[wlen - 1] == '.')
		wlen--;
	return len == wlen && strncasecmp(p, want, len) == 0;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64 (RFC 4648, padding optional, white space ignored) into a
 * new buffer.  The secret bytes pass through no other buffer.
 */
static int
b64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t		*buf = NULL;
	uint32_t	 acc = 0;
	size_t		 i, n = 0, bits = 0, pad = 0;
	int		 rc = TLSAD_ETSIG_SECRET, v;

	*out = NULL;
	*outlen = 0;
	buf = malloc(len / 4 * 3 + 3);
	if (buf == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)in[i]))
			continue;
		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			goto out;		/* data after padding */
		v = b64val(in[i]);
		if (v < 0)
			goto out;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero padding of a proper length. */
	if (bits >= 6 || pad > 2 || (acc & ((1u << bits) - 1)) != 0)
		goto out;
	if (n == 0)
		goto out;
	*out = buf;
	*outlen = n;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len / 4 * 3 + 3);
		free(buf);
	}
	acc = 0;
	return rc;
}

void
tsig_key_free(struct tsig_key *key)
{
	if (key == NULL)
		return;
	if (key->secret_b64 != NULL) {
		OPENSSL_cleanse(key->secret_b64, strlen(key->secret_b64));
		free(key->secret_b64);
	}
	if (key->secret != NULL) {
		OPENSSL_cleanse(key->secret, key->secret_len);
		free(key->secret);
	}
	free(key->name);
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}

const char *
tsig_algo_str(enum tsig_algo algo)
{
	size_t	i;

	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		if (algos[i].algo == algo)
			return algos[i].file_name;
	return "unknown";
}

/* A key clause as found: pointers into the text. */
struct clause {
	struct tok	name;
	struct tok	algo;
	struct tok	secret;
	int		line;
};

/* Parse "{ keyopt... } ;" after "key NAME". */
static int
parse_key_body(struct lexer *lx, struct clause *c, char *why, size_t whylen)
{
	struct tok	t;

	t = next_tok(lx);
	if (t.kind != TOK_LBRACE) {
		setwhy(why, whylen, "line %d: expected '{' after the key name", t.line);
		return TLSAD_ETSIG_KEYFILE;
	}
	for (;;) {
		struct tok	opt, val, semi;

		opt = next_tok(lx);
		if (opt.kind == TOK_RBRACE)
			break;
		if (opt.kind == TOK_ERROR) {
			setwhy(why, whylen, "line %d: %s", opt.line, lx->err);
			return TLSAD_ETSIG_KEYFILE;
		}
		if (opt.kind == TOK_EOF) {
			setwhy(why, whylen, "line %d: key clause not closed with '}'", opt.line);
			return TLSAD_ETSIG_KEYFILE;
		}
		if (!tok_is(&opt, "algorithm") && !tok_is(&opt, "secret")) {
			setwhy(why, whylen, "line %d: unknown key option (expected algorithm or secret)",
			    opt.line);
			return TLSAD_ETSIG_KEYFILE;
		}
		val = next_tok(lx);
		if (val.kind != TOK_WORD && val.kind != TOK_STRING) {
			setwhy(why, whylen, "line %d: %s needs a value", val.line,
			    tok_is(&opt, "secret") ? "secret" : "algorithm");
			return TLSAD_ETSIG_KEYFILE;
		}
		semi = next_tok(lx);
		if (semi.kind != TOK_SEMI) {
			setwhy(why, whylen, "line %d: expected ';' after the %s", semi.line,
			    tok_is(&opt, "secret") ? "secret" : "algorithm");
			return TLSAD_ETSIG_KEYFILE;
		}
		if (tok_is(&opt, "algorithm")) {
			if (c->algo.kind != TOK_EOF) {
				setwhy(why, whylen, "line %d: algorithm given twice", opt.line);
				return TLSAD_ETSIG_KEYFILE;
			}
			c->algo = val;
		} else {
			if (c->secret.kind != TOK_EOF) {
				setwhy(why, whylen, "line %d: secret given twice", opt.line);
				return TLSAD_ETSIG_KEYFILE;
			}
			c->secret = val;
		}
	}
	t = next_tok(lx);
	if (t.kind != TOK_SEMI) {
		setwhy(why, whylen, "line %d: expected ';' after the key clause's '}'", t.line);
		return TLSAD_ETSIG_KEYFILE;
	}
	return 0;
}

/* Skip a statement we do not use, up to its ';' at brace depth 0. */
static int
skip_stmt(struct lexer *lx, int line, char *why, size_t whylen)
{
	struct tok	t;
	int		depth = 0;

	for (;;) {
		t = next_tok(lx);
		if (t.kind == TOK_ERROR && lx->pos < lx->len &&
		    lx->s[lx->pos] != '"' && lx->s[lx->pos] != '\0') {
			/* Free text in a statement we skip (ddns-confgen ends its
			 * output with "nsupdate -k <keyfile>"): step over it. */
			lx->err = NULL;
			lx->pos++;
			continue;
		}
		if (t.kind == TOK_ERROR) {
			setwhy(why, whylen, "line %d: %s", t.line, lx->err);
			return TLSAD_ETSIG_KEYFILE;
		}
		if (t.kind == TOK_EOF && depth == 0)
			return 0;	/* trailing text without ';': ignored */
		if (t.kind == TOK_EOF) {
			setwhy(why, whylen, "line %d: statement not closed with '}'", line);
			return TLSAD_ETSIG_KEYFILE;
		}
		if (t.kind == TOK_LBRACE)
			depth++;
		if (t.kind == TOK_RBRACE && --depth < 0) {
			setwhy(why, whylen, "line %d: unbalanced '}'", t.line);
			return TLSAD_ETSIG_KEYFILE;
		}
		if (t.kind == TOK_SEMI && depth == 0)
			return 0;
	}
}

static int
valid_name(const char *p, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > TSIG_NAME_MAX - 1)
		return 0;
	/* A domain name: labels of 1 to 63 bytes; only the root dot may end it. */
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int
tsig_parse(const char *text, size_t len, const char *name,
    struct tsig_key **out, char *why, size_t whylen)
{
	struct lexer		 lx = { text, len, 0, 1, NULL };
	struct clause		 found;
	struct tsig_key		*key = NULL;
	const struct algo_desc	*ad = NULL;
	size_t			 i, nkeys = 0, nfound = 0;
	int			 rc = TLSAD_ETSIG_KEYFILE;

	*out = NULL;
	memset(&found, 0, sizeof(found));
	setwhy(why, whylen, "no error");
	if (len > TSIG_FILE_MAX) {
		setwhy(why, whylen, "key file larger than %d bytes", TSIG_FILE_MAX);
		rc = TLSAD_ETOOBIG;
		goto out;
	}
	for (;;) {
		struct tok	t = next_tok(&lx);
		struct clause	c;

		if (t.kind == TOK_EOF)
			break;
		if (t.kind == TOK_ERROR) {
			setwhy(why, whylen, "line %d: %s", t.line, lx.err);
			goto out;
		}
		if (t.kind != TOK_WORD) {
			setwhy(why, whylen, "line %d: expected a statement such as 'key'", t.line);
			goto out;
		}
		if (!tok_is(&t, "key")) {
			rc = skip_stmt(&lx, t.line, why, whylen);
			if (rc != 0)
				goto out;
			rc = TLSAD_ETSIG_KEYFILE;
			continue;
		}
		memset(&c, 0, sizeof(c));
		c.line = t.line;
		c.name = next_tok(&lx);
		if ((c.name.kind != TOK_WORD && c.name.kind != TOK_STRING) ||
		    !valid_name(c.name.p, c.name.len)) {
			setwhy(why, whylen, "line %d: expected a key name after 'key'", c.name.line);
			goto out;
		}
		rc = parse_key_body(&lx, &c, why, whylen);
		if (rc != 0)
			goto out;
		rc = TLSAD_ETSIG_KEYFILE;
		nkeys++;
		if (name == NULL || name_matches(c.name.p, c.name.len, name)) {
			nfound++;
			found = c;
		}
	}
	if (nkeys == 0) {
		setwhy(why, whylen, "no key clause found");
		goto out;
	}
	if (name == NULL && nkeys > 1) {
		setwhy(why, whylen, "%zu keys in the file: name the one to use", nkeys);
		goto out;
	}
	if (nfound == 0) {
		setwhy(why, whylen, "no key named \"%.*s\" in the file", TSIG_NAME_MAX,
		    name != NULL ? name : "");
		goto out;
	}
	if (nfound > 1) {
		setwhy(why, whylen, "key \"%.*s\" defined twice", (int)found.name.len,
		    found.name.p);
		goto out;
	}
	if (found.algo.kind == TOK_EOF) {
		setwhy(why, whylen, "line %d: key has no algorithm", found.line);
		goto out;
	}
	if (found.secret.kind == TOK_EOF) {
		setwhy(why, whylen, "line %d: key has no secret", found.line);
		goto out;
	}
	for (i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		if (found.algo.len == strlen(algos[i].file_name) &&
		    strncasecmp(found.algo.p, algos[i].file_name, found.algo.len) == 0)
			ad = &algos[i];
	if (ad == NULL) {
		rc = TLSAD_ETSIG_ALGO;
		if (found.algo.len >= 8 && strncasecmp(found.algo.p, "hmac-md5", 8) == 0)
			setwhy(why, whylen, "line %d: hmac-md5 is refused: MD5 is broken; "
			    "make a new key with tsig-keygen -a hmac-sha256", found.algo.line);
		else
			setwhy(why, whylen, "line %d: unknown algorithm \"%.*s\" "
			    "(use hmac-sha256, hmac-sha384 or hmac-sha512)", found.algo.line,
			    (int)(found.algo.len > 40 ? 40 : found.algo.len), found.algo.p);
		goto out;
	}
	if (found.secret.len > TSIG_SECRET_MAX * 2) {
		setwhy(why, whylen, "line %d: secret longer than %d bytes",
		    found.secret.line, TSIG_SECRET_MAX);
		rc = TLSAD_ETOOBIG;
		goto out;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	/* Name: lower case with a final dot, as it goes on the wire. */
	key->name = malloc(found.name.len + 2);
	if (key->name == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (i = 0; i < found.name.len; i++)
		key->name[i] = (char)tolower((unsigned char)found.name.p[i]);
	if (i == 0 || key->name[i - 1] != '.')
		key->name[i++] = '.';
	key->name[i] = '\0';
	key->algo = ad->algo;
	key->algo_name = ad->ldns_name;
	key->weak = ad->algo == TSIG_ALGO_HMAC_SHA1;
	rc = b64_decode(found.secret.p, found.secret.len, &key->secret,
	    &key->secret_len);
	if (rc != 0) {
		setwhy(why, whylen, "line %d: the secret is not valid base64",
		    found.secret.line);
		goto out;
	}
	if (key->secret_len > TSIG_SECRET_MAX) {
		setwhy(why, whylen, "line %d: secret longer than %d bytes",
		    found.secret.line, TSIG_SECRET_MAX);
		rc = TLSAD_ETOOBIG;
		goto out;
	}
	key->secret_b64 = malloc(found.secret.len + 1);
	if (key->secret_b64 == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	/* Keep the base64 without white space: ldns decodes it again. */
	for (i = 0, len = 0; i < found.secret.len; i++)
		if (!isspace((unsigned char)found.secret.p[i]))
			key->secret_b64[len++] = found.secret.p[i];
	key->secret_b64[len] = '\0';
	*out = key;
	key = NULL;
	setwhy(why, whylen, "ok");
	rc = 0;
out:
	tsig_key_free(key);
	return rc;
}

int
tsig_load(const char *path, const char *name, struct tsig_key **out,
    char *why, size_t whylen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd = -1, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		rc = -errno;
		setwhy(why, whylen, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		setwhy(why, whylen, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = TLSAD_ETSIG_KEYFILE;
		setwhy(why, whylen, "not a regular file");
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		rc = TLSAD_ETSIG_PERMS;
		setwhy(why, whylen, "the key file is readable or writable by group or "
		    "others (mode %04o): run chmod 0600 %s", (unsigned)(st.st_mode & 07777),
		    path);
		goto out;
	}
	if (st.st_size > TSIG_FILE_MAX) {
		rc = TLSAD_ETOOBIG;
		setwhy(why, whylen, "key file larger than %d bytes", TSIG_FILE_MAX);
		goto out;
	}
	buf = malloc(TSIG_FILE_MAX + 1);
	if (buf == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, TSIG_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = -errno;
			setwhy(why, whylen, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > TSIG_FILE_MAX) {
			rc = TLSAD_ETOOBIG;
			setwhy(why, whylen, "key file larger than %d bytes", TSIG_FILE_MAX);
			goto out;
		}
	}
	rc = tsig_parse(buf, len, name, out, why, whylen);
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, TSIG_FILE_MAX + 1);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	return rc;
}
