/*
 * deploy.c -- write the key + full chain file the MTA reads, keep the
 * previous one, put it back on request.
 *
 * Invariant: the file at path is always either the complete old file or the
 * complete new one (temp file + rename), never a mix, never a key that does
 * not belong to its certificate, never anywhere under certbot's tree.
 * Key material copied here is wiped (OPENSSL_cleanse) before it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tlsad/cert.h"
#include "tlsad/deploy.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

static void
say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Split path into its directory (into dir, dirsize bytes). */
static int
dir_of(const char *path, char *dir, size_t dirsize)
{
	const char	*slash = strrchr(path, '/');
	size_t		 n;

	if (slash == NULL)
		return TLSAD_EINVAL;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirsize)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* Is path equal to dir or below it?  Both without a trailing slash. */
static int
is_under(const char *path, const char *dir)
{
	size_t	n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/*
 * Does path (or, resolved, the deepest existing directory holding it) lie
 * under forbidden (as written or resolved)?
 */
static int
path_forbidden(const char *path, const char *forbidden)
{
	char	resolved_forbidden[PATH_MAX], probe[PATH_MAX], real[PATH_MAX];
	char	*slash;

	if (is_under(path, forbidden))
		return 1;
	if (realpath(forbidden, resolved_forbidden) == NULL)
		snprintf(resolved_forbidden, sizeof(resolved_forbidden), "%s",
		    forbidden);
	if (is_under(path, resolved_forbidden))
		return 1;
	/* Resolve the deepest existing ancestor: symlinked dirs count. */
	if (snprintf(probe, sizeof(probe), "%s", path) >= (int)sizeof(probe))
		return 1;
	for (;;) {
		if (realpath(probe, real) != NULL)
			return is_under(real, resolved_forbidden) ||
			    is_under(real, forbidden);
		slash = strrchr(probe, '/');
		if (slash == NULL || slash == probe)
			return 0;
		*slash = '\0';
	}
}

int
deploy_check_path(const char *path, const char *live_dir, char *why,
    size_t whylen)
{
	char	parent[PATH_MAX];
	int	rc;

	if (path == NULL || path[0] != '/') {
		say(why, whylen, "deploy file %s: not an absolute path",
		    path == NULL ? "(none)" : path);
		return TLSAD_EINVAL;
	}
	if (path_forbidden(path, DEPLOY_FORBIDDEN_DIR)) {
		say(why, whylen, "deploy file %s is under %s: certbot owns that "
		    "tree, and Postfix reading it would serve a renewed key "
		    "before its TLSA record is published", path,
		    DEPLOY_FORBIDDEN_DIR);
		return TLSAD_EDEPLOY;
	}
	if (live_dir != NULL && live_dir[0] != '\0') {
		rc = dir_of(live_dir, parent, sizeof(parent));
		if (rc != 0 || strcmp(parent, "/") == 0) {
			/* live-dir at the root: forbid live-dir itself. */
			snprintf(parent, sizeof(parent), "%s", live_dir);
		}
		if (path_forbidden(path, parent)) {
			say(why, whylen, "deploy file %s is under %s, certbot's "
			    "directory (the parent of live-dir %s): choose a "
			    "directory that tlsad owns", path, parent,
			    live_dir);
			return TLSAD_EDEPLOY;
		}
	}
	return 0;
}

int
deploy_pem_spki(const char *pem, size_t len, uint8_t spki[32])
{
	struct cert_chain	*chain = NULL;
	int			 rc;

	/* Blocks other than certificates (the key) are skipped. */
	rc = cert_chain_from_pem(pem, len, &chain);
	if (rc == 0)
		rc = cert_spki_sha256(chain, spki);
	cert_chain_free(chain);
	return rc;
}

/*
 * Check that keypem holds a private key that belongs to the first
 * certificate of certpem.  Without key_required, a keypem with no usable
 * key is accepted (a certificate-only file).  Any failure to parse the key
 * is TLSAD_ECERT_BADKEY: the codes of cert.h speak of certificates.
 */
static int
check_pair(const char *keypem, size_t keylen, const char *certpem,
    size_t certlen, int key_required)
{
	struct cert_chain	*chain = NULL;
	struct cert_key		*key = NULL;
	int			 rc;

	rc = cert_chain_from_pem(certpem, certlen, &chain);
	if (rc != 0)
		goto out;
	rc = cert_key_from_pem(keypem, keylen, &key);
	if (rc == TLSAD_ENOMEM)
		goto out;
	if (rc != 0) {
		rc = key_required ? TLSAD_ECERT_BADKEY : 0;
		goto out;
	}
	rc = cert_key_matches(chain, key);
out:
	cert_key_free(key);
	cert_chain_free(chain);
	return rc;
}

static void
wipe_free(char *buf, size_t len)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/* Make the directory of a deploy file if missing; refuse a loose one. */
static int
prepare_dir(const char *dir, gid_t gid, char *why, size_t whylen)
{
	struct stat	st;

	if (mkdir(dir, gid == (gid_t)-1 ? 0700 : 0750) == 0) {
		if (gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) == -1) {
			say(why, whylen, "cannot give %s to its group: %s", dir,
			    strerror(errno));
			return -errno;
		}
	} else if (errno != EEXIST) {
		say(why, whylen, "cannot create directory %s: %s", dir,
		    strerror(errno));
		return -errno;
	}
	if (stat(dir, &st) == -1) {
		say(why, whylen, "cannot stat %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode)) {
		say(why, whylen, "%s is not a directory", dir);
		return TLSAD_EDEPLOY;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		say(why, whylen, "directory %s is writable by group or others "
		    "(mode %04o): anyone there could replace the key; "
		    "chmod go-w it", dir, (unsigned)(st.st_mode & 07777));
		return TLSAD_EDEPLOY;
	}
	if (st.st_uid != geteuid()) {
		say(why, whylen, "directory %s belongs to uid %u, not to tlsad "
		    "(uid %u)", dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return TLSAD_EDEPLOY;
	}
	return 0;
}

static int
lookup_group(const char *group, gid_t *gid, char *why, size_t whylen)
{
	struct group	 gr, *res = NULL;
	char		 buf[4096];
	int		 e;

	e = getgrnam_r(group, &gr, buf, sizeof(buf), &res);
	if (e != 0 || res == NULL) {
		say(why, whylen, "no such group: %s", group);
		return TLSAD_EINVAL;
	}
	*gid = res->gr_gid;
	return 0;
}

/* Hard-link path to path.prev, atomically replacing an older .prev. */
static int
keep_prev(const char *path, char *why, size_t whylen)
{
	char	prev[PATH_MAX], tmp[PATH_MAX];
	int	n, rc;

	n = snprintf(prev, sizeof(prev), "%s%s", path, DEPLOY_PREV_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(prev))
		return -ENAMETOOLONG;
	n = snprintf(tmp, sizeof(tmp), "%s%s.tmp%ld", path,
	    DEPLOY_PREV_SUFFIX, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	if (link(path, tmp) == -1) {
		rc = -errno;
		say(why, whylen, "cannot keep %s as %s: %s", path, prev,
		    strerror(errno));
		return rc;
	}
	if (rename(tmp, prev) == -1) {
		rc = -errno;
		say(why, whylen, "cannot keep %s as %s: %s", path, prev,
		    strerror(errno));
		(void)unlink(tmp);
		return rc;
	}
	/* rename() of two links to one inode does nothing: drop the temp. */
	(void)unlink(tmp);
	return 0;
}

int
deploy_install(const char *path, const char *keypem, size_t keylen,
    const char *chainpem, size_t chainlen, const char *group,
    const char *live_dir, char *why, size_t whylen)
{
	char		 dir[PATH_MAX], msg[512];
	char		*content = NULL, *cur = NULL;
	size_t		 len = 0, curlen = 0;
	struct stat	 st;
	mode_t		 mode = 0600;
	gid_t		 gid = (gid_t)-1;
	int		 rc, sep;

	msg[0] = '\0';
	rc = deploy_check_path(path, live_dir, msg, sizeof(msg));
	if (rc != 0)
		goto out;
	if (keypem == NULL || chainpem == NULL || keylen == 0 ||
	    chainlen == 0 || keylen + chainlen + 1 > DEPLOY_MAX_SIZE) {
		rc = keylen + chainlen + 1 > DEPLOY_MAX_SIZE ?
		    TLSAD_ETOOBIG : TLSAD_EINVAL;
		say(msg, sizeof(msg), "deploy %s: key or chain empty or "
		    "too large", path);
		goto out;
	}
	rc = check_pair(keypem, keylen, chainpem, chainlen, 1);
	if (rc != 0) {
		say(msg, sizeof(msg), "refusing to deploy %s: %s", path,
		    tlsad_strerror(rc));
		goto out;
	}
	if (group != NULL) {
		rc = lookup_group(group, &gid, msg, sizeof(msg));
		if (rc != 0)
			goto out;
		mode = 0640;
	}
	rc = dir_of(path, dir, sizeof(dir));
	if (rc != 0)
		goto out;
	rc = prepare_dir(dir, gid, msg, sizeof(msg));
	if (rc != 0)
		goto out;

	/* Key first, then the chain, with a newline between if missing. */
	sep = keypem[keylen - 1] != '\n';
	len = keylen + (size_t)sep + chainlen;
	content = malloc(len);
	if (content == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	memcpy(content, keypem, keylen);
	if (sep)
		content[keylen] = '\n';
	memcpy(content + keylen + (size_t)sep, chainpem, chainlen);

	rc = util_read_file(path, DEPLOY_MAX_SIZE, &cur, &curlen);
	if (rc == 0 && curlen == len && memcmp(cur, content, len) == 0) {
		/* Already deployed (a repeat after a crash): keep .prev. */
		if (chmod(path, mode) == -1 ||
		    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1)) {
			rc = -errno;
			say(msg, sizeof(msg), "cannot set mode of %s: %s",
			    path, strerror(errno));
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (rc == 0 || lstat(path, &st) == 0) {
		rc = keep_prev(path, msg, sizeof(msg));
		if (rc != 0)
			goto out;
	} else if (rc != -ENOENT) {
		say(msg, sizeof(msg), "cannot read %s: %s", path,
		    tlsad_strerror(rc));
		goto out;
	}
	rc = util_atomic_write(path, content, len, mode, gid);
	if (rc != 0) {
		say(msg, sizeof(msg), "cannot write %s: %s", path,
		    tlsad_strerror(rc));
		goto out;
	}
	log_info("deployed %s (mode %04o%s%s)", path, (unsigned)mode,
	    group != NULL ? ", group " : "", group != NULL ? group : "");
out:
	if (rc != 0) {
		if (msg[0] == '\0')
			say(msg, sizeof(msg), "deploy %s: %s", path,
			    tlsad_strerror(rc));
		log_warnx("%s", msg);
		say(why, whylen, "%s", msg);
	}
	wipe_free(content, len);
	wipe_free(cur, curlen);
	return rc;
}

int
deploy_restore(const char *path, char *why, size_t whylen)
{
	return deploy_restore_key(path, NULL, why, whylen);
}

int
deploy_restore_key(const char *path, const uint8_t expect[32], char *why,
    size_t whylen)
{
	char		 prev[PATH_MAX], msg[512], hex_p[65], hex_e[65];
	char		*buf = NULL;
	size_t		 len = 0;
	struct stat	 st;
	uint8_t		 spki[32];
	int		 n, rc;

	msg[0] = '\0';
	n = snprintf(prev, sizeof(prev), "%s%s", path, DEPLOY_PREV_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(prev)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (stat(prev, &st) == -1) {
		rc = -errno;
		say(msg, sizeof(msg), "cannot restore %s: %s: %s", path,
		    prev, errno == ENOENT ? "no previous file (first deploy)" :
		    strerror(errno));
		goto out;
	}
	rc = util_read_file(prev, DEPLOY_MAX_SIZE, &buf, &len);
	if (rc != 0) {
		say(msg, sizeof(msg), "cannot read %s: %s", prev,
		    tlsad_strerror(rc));
		goto out;
	}
	/*
	 * Check before writing: a new smtpd reads the file as it starts, so
	 * writing a wrong or broken file is serving it, reload or not.
	 */
	rc = deploy_pem_spki(buf, len, spki);
	if (rc == 0)
		rc = check_pair(buf, len, buf, len, 1);
	if (rc != 0) {
		say(msg, sizeof(msg), "refusing to restore %s from %s: %s", path,
		    prev, tlsad_strerror(rc));
		goto out;
	}
	if (expect != NULL && memcmp(spki, expect, sizeof(spki)) != 0) {
		util_hex(spki, sizeof(spki), hex_p);
		util_hex(expect, sizeof(spki), hex_e);
		rc = TLSAD_EDEPLOY;
		say(msg, sizeof(msg), "refusing to restore %s from %s: it holds "
		    "key %.16s..., not the expected %.16s...", path, prev,
		    hex_p, hex_e);
		goto out;
	}
	rc = util_atomic_write(path, buf, len, st.st_mode & 0777, st.st_gid);
	if (rc != 0) {
		say(msg, sizeof(msg), "cannot restore %s from %s: %s",
		    path, prev, tlsad_strerror(rc));
		goto out;
	}
	log_notice("restored %s from %s", path, prev);
out:
	if (rc != 0) {
		if (msg[0] == '\0')
			say(msg, sizeof(msg), "restore %s: %s", path,
			    tlsad_strerror(rc));
		log_warnx("%s", msg);
		say(why, whylen, "%s", msg);
	}
	wipe_free(buf, len);
	return rc;
}

int
deploy_read_key(const char *path, uint8_t spki[32])
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	rc = util_read_file(path, DEPLOY_MAX_SIZE, &buf, &len);
	if (rc != 0)
		goto out;
	rc = deploy_pem_spki(buf, len, spki);
	if (rc != 0)
		goto out;
	/* A key in the file must belong to the certificate. */
	rc = check_pair(buf, len, buf, len, 0);
out:
	wipe_free(buf, len);
	return rc;
}
