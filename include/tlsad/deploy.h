/*
 * deploy.h -- the one file the MTA reads: private key, then the full chain
 * (leaf first, then issuers), as Postfix >= 3.4 `smtpd_tls_chain_files`
 * expects it.
 *
 * The file lives in a directory tlsad owns, never under certbot's tree
 * (/etc/letsencrypt, or the parent of the configured live-dir): certbot's
 * symlink swap there would put a new key in service before its TLSA record
 * is published.  Every write is atomic (temp file, fsync, rename, fsync the
 * directory); the file it replaces is kept as FILE.prev so that a failed
 * reload or probe can put it back with deploy_restore().
 *
 * Failures are logged once here (log_warnx) and, when the caller passes a
 * buffer, described there too so that the caller can store the reason
 * without logging it again.
 */
#ifndef TLSAD_DEPLOY_H
#define TLSAD_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

/* Largest deploy file read back or written (key + chain). */
#define DEPLOY_MAX_SIZE		(1024 * 1024)
/* Suffix of the kept previous file. */
#define DEPLOY_PREV_SUFFIX	".prev"
/* Always refused as a deploy location, whatever live-dir says. */
#define DEPLOY_FORBIDDEN_DIR	"/etc/letsencrypt"

/*
 * May path be a deploy file?  It must be absolute and lie neither under
 * DEPLOY_FORBIDDEN_DIR nor under the parent of live_dir (NULL: only the
 * fixed one), compared both as written and with symlinks resolved.
 * 0 if allowed; TLSAD_EDEPLOY (why says which rule) or TLSAD_EINVAL.
 * Does not log.
 */
int	deploy_check_path(const char *path, const char *live_dir, char *why,
	    size_t whylen);

/*
 * Write keypem (keylen bytes, a PEM private key) and chainpem (chainlen
 * bytes, PEM certificates, leaf first) into path as one file: key first.
 * Checks first (with cert.h) that the chain parses (its errors:
 * TLSAD_ECERT_NOPEM, _ISKEY, _BADPEM, ...), that the key parses
 * (TLSAD_ECERT_BADKEY for any key failure) and that the key belongs to the
 * chain's first certificate (TLSAD_ECERT_KEYMISMATCH): a wrong pair is
 * never written.
 *
 * group NULL: mode 0600 and the process's own group; otherwise mode 0640 and
 * that group (by name; unknown: TLSAD_EINVAL).  The directory of path is
 * created (mode 0700, or 0750 with a group) when missing; a directory that
 * group or others may write is refused (TLSAD_EDEPLOY).  live_dir as for
 * deploy_check_path().
 *
 * If path already holds exactly these bytes, nothing is rewritten (mode
 * and group are fixed) and FILE.prev is left alone, so that repeating a
 * deploy after a crash keeps the real previous file.  Otherwise the current
 * file (if any) becomes FILE.prev atomically, then the new file replaces
 * path atomically.  On failure path is untouched.
 *
 * Key bytes copied here are wiped before they are freed; the caller wipes
 * its own.  why (optional, whylen bytes) gets a sentence on failure.
 */
int	deploy_install(const char *path, const char *keypem, size_t keylen,
	    const char *chainpem, size_t chainlen, const char *group,
	    const char *live_dir, char *why, size_t whylen);

/*
 * Put FILE.prev back as path, atomically, with its mode and group.
 * FILE.prev is kept (restoring twice is harmless).  -ENOENT when there is
 * no previous file (the first deploy): the caller decides what to do.
 * A FILE.prev without a private key matching its certificate is refused
 * and path left untouched (see deploy_restore_key()).
 */
int	deploy_restore(const char *path, char *why, size_t whylen);

/*
 * deploy_restore(), checked before anything is written: FILE.prev must hold
 * a private key that matches its first certificate (else the cert.h code,
 * e.g. TLSAD_ECERT_KEYMISMATCH, TLSAD_ECERT_BADKEY), and, when expect is
 * not NULL, that certificate's SPKI SHA-256 must be expect
 * (TLSAD_EDEPLOY otherwise).  On any refusal path is untouched: a new smtpd
 * reads the file as it starts, so writing a key is serving it.
 */
int	deploy_restore_key(const char *path, const uint8_t expect[32],
	    char *why, size_t whylen);

/*
 * What key does the deployed file hold?  spki gets the SHA-256 of the
 * SubjectPublicKeyInfo of the file's first certificate (the leaf), i.e. the
 * data of its TLSA 3 1 1 record.  If the file also holds a private key, it
 * must match that certificate (TLSAD_ECERT_KEYMISMATCH).  -ENOENT when the
 * file does not exist.  The buffer that held the key is wiped.  Does not log.
 */
int	deploy_read_key(const char *path, uint8_t spki[32]);

/*
 * SHA-256 of the SubjectPublicKeyInfo of the first certificate in pem
 * (other PEM blocks before it, e.g. a key, are skipped; errors as
 * cert_chain_from_pem's, e.g. TLSAD_ECERT_ISKEY for a key alone).
 * Does not log.
 */
int	deploy_pem_spki(const char *pem, size_t len, uint8_t spki[32]);

#endif /* TLSAD_DEPLOY_H */
