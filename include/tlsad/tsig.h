/*
 * tsig.h -- TSIG keys (RFC 8945) read from BIND key files.
 *
 * The files are those `tsig-keygen` and `ddns-confgen` write:
 *
 *	key "update.example" {
 *		algorithm hmac-sha256;
 *		secret "base64...";
 *	};
 *
 * with `#`, `//` and C comments allowed and possibly several key clauses.
 * Pure parser plus a loader that also checks the file's permissions.  Never
 * logs.  The secret lives only inside struct tsig_key (two heap copies: the
 * base64 text that ldns wants and the decoded bytes) and is wiped with
 * OPENSSL_cleanse when the key is freed; it is never printed by anything here.
 */
#ifndef TLSAD_TSIG_H
#define TLSAD_TSIG_H

#include <stddef.h>
#include <stdint.h>

/* Largest key file read (a key file is a few hundred bytes). */
#define TSIG_FILE_MAX		(64 * 1024)
/* Largest decoded secret accepted (HMAC-SHA512 block size is 128). */
#define TSIG_SECRET_MAX		512
/* Longest key name (a domain name in presentation form). */
#define TSIG_NAME_MAX		255

enum tsig_algo {
	TSIG_ALGO_HMAC_SHA1 = 1,	/* accepted, with key->weak set */
	TSIG_ALGO_HMAC_SHA256 = 2,
	TSIG_ALGO_HMAC_SHA384 = 3,
	TSIG_ALGO_HMAC_SHA512 = 4,
};

struct tsig_key {
	char		*name;		/* absolute, lower case, final dot: "update.example." */
	enum tsig_algo	 algo;
	const char	*algo_name;	/* static, ldns form: "hmac-sha256." */
	char		*secret_b64;	/* base64 as in the file (what ldns wants); wiped on free */
	uint8_t		*secret;	/* decoded bytes; wiped on free */
	size_t		 secret_len;
	int		 weak;		/* 1 for hmac-sha1: the caller should log a warning */
};

/*
 * Parse the key file text (len bytes, need not be NUL-terminated).  name
 * selects the key clause (with or without the final dot, case-insensitive);
 * NULL takes the only key in the text (TLSAD_ETSIG_KEYFILE when there are
 * several or none).  Returns 0 and *out (caller frees with tsig_key_free), or
 * TLSAD_ETSIG_KEYFILE (syntax, no such key), TLSAD_ETSIG_ALGO (unknown
 * algorithm, or hmac-md5: refused because MD5 is broken), TLSAD_ETSIG_SECRET
 * (not base64, empty), TLSAD_ETOOBIG, TLSAD_ENOMEM.  When why is not NULL it
 * receives a NUL-terminated reason with the line number ("line 3: expected
 * ';' after the secret"); the reason never contains the secret.
 */
int	tsig_parse(const char *text, size_t len, const char *name,
	    struct tsig_key **out, char *why, size_t whylen);

/*
 * Read path (at most TSIG_FILE_MAX bytes) and parse it as tsig_parse does.
 * Refuses (TLSAD_ETSIG_PERMS) a file that group or others may read or write:
 * the reason then says "run chmod 0600 PATH".  Negated errno for open/read
 * failures.  why as for tsig_parse; the caller prefixes the file name.
 */
int	tsig_load(const char *path, const char *name, struct tsig_key **out,
	    char *why, size_t whylen);

/* Wipe and free; NULL is fine. */
void	tsig_key_free(struct tsig_key *key);

/* "hmac-sha256" for TSIG_ALGO_HMAC_SHA256, as in the key file; never NULL. */
const char *tsig_algo_str(enum tsig_algo algo);

#endif /* TLSAD_TSIG_H */
