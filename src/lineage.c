/*
 * lineage.c -- read one certbot lineage and say whether it is consistent.
 * No logging: the caller decides what a mid-renewal read means (normally:
 * wait for the next inotify event and read again).
 * Invariant: a snapshot marked consistent holds a key that matches its
 * leaf, a fullchain whose leaf is cert.pem, and bytes read through links
 * that did not change during the read.  Anything else is an error code with
 * a detail sentence, never a guess.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "tlsad/error.h"
#include "tlsad/lineage.h"

static const char *const kind_names[LINEAGE_NKINDS] = {
	"cert", "chain", "fullchain", "privkey",
};

/* The raw bytes read from each link, before parsing. */
struct raw_files {
	char	*buf[LINEAGE_NKINDS];
	size_t	 len[LINEAGE_NKINDS];
};

const char *
lineage_kind_name(enum lineage_kind kind)
{
	if ((int)kind < 0 || kind >= LINEAGE_NKINDS)
		return "?";
	return kind_names[kind];
}

static void
wipe_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

void
lineage_snapshot_free(struct lineage_snapshot *snap)
{
	int	k;

	if (snap == NULL)
		return;
	for (k = 0; k < LINEAGE_NKINDS; k++)
		free(snap->link[k].target);
	cert_chain_free(snap->chain);
	free(snap->fullchain_pem);
	wipe_free(snap->privkey_pem, snap->privkey_len);
	free(snap->name);
	free(snap->dir);
	free(snap);
}

/* "<kind>N.pem" as the last path component of target: N, else -1. */
static long
parse_version(const char *kind, const char *target)
{
	const char	*base, *p;
	size_t		 klen = strlen(kind);
	long		 v = 0;

	base = strrchr(target, '/');
	base = base == NULL ? target : base + 1;
	if (strncmp(base, kind, klen) != 0)
		return -1;
	p = base + klen;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (LONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return strcmp(p, ".pem") == 0 ? v : -1;
}

/* The text of symlink path into a malloc'ed string. */
static int
read_link(const char *path, char **out)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	*out = NULL;
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n == -1)
		return -errno;
	buf[n] = '\0';
	*out = strdup(buf);
	return *out == NULL ? TLSAD_ENOMEM : 0;
}

/*
 * Check one live/ link and read the file it points at into raw.  Sets
 * link->status and returns it.
 */
static int
read_one(struct lineage_snapshot *snap, enum lineage_kind k,
    struct raw_files *raw)
{
	struct lineage_link	*link = &snap->link[k];
	struct stat		 st;
	char			 path[PATH_MAX], *again = NULL;
	int			 n, rc;

	n = snprintf(path, sizeof(path), "%s/%s.pem", snap->dir, kind_names[k]);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (lstat(path, &st) == -1) {
		rc = errno == ENOENT ? TLSAD_ELINEAGE_MISSING : -errno;
		goto out;
	}
	if (!S_ISLNK(st.st_mode)) {
		rc = TLSAD_ELINEAGE_NOTLINK;
		goto out;
	}
	rc = read_link(path, &link->target);
	if (rc == -ENOENT || rc == -EINVAL) {
		/* Removed or replaced since lstat: certbot is at work. */
		rc = TLSAD_ELINEAGE_MISSING;
		goto out;
	}
	if (rc != 0)
		goto out;
	link->version = parse_version(kind_names[k], link->target);
	if (stat(path, &st) == -1) {
		if (errno == ELOOP)
			rc = TLSAD_ELINEAGE_LOOP;
		else if (errno == ENOENT || errno == ENOTDIR)
			rc = TLSAD_ELINEAGE_DANGLING;
		else
			rc = -errno;
		goto out;
	}
	rc = cert_read_file(path, &raw->buf[k], &raw->len[k]);
	if (rc == -ELOOP)
		rc = TLSAD_ELINEAGE_LOOP;
	else if (rc == -ENOENT)
		rc = TLSAD_ELINEAGE_DANGLING;
	if (rc != 0)
		goto out;
	/* The bytes must be those of the target we recorded. */
	rc = read_link(path, &again);
	if (rc == 0 && strcmp(again, link->target) != 0)
		rc = TLSAD_ELINEAGE_INCONSISTENT;
	else if (rc == -ENOENT || rc == -EINVAL)
		rc = TLSAD_ELINEAGE_INCONSISTENT;
out:
	free(again);
	link->status = rc;
	return rc;
}

static const char *
version_text(const struct lineage_link *link, char *buf, size_t size)
{
	if (link->version < 0)
		snprintf(buf, size, "%s", link->target != NULL ?
		    link->target : "?");
	else
		snprintf(buf, size, "version %ld", link->version);
	return buf;
}

/* Fill detail with "LIVE/NAME/<kind>.pem -> TARGET: <sentence>". */
static void
detail_link(struct lineage_snapshot *snap, enum lineage_kind k, int rc)
{
	if (rc == TLSAD_ELINEAGE_INCONSISTENT) {
		snprintf(snap->detail, sizeof(snap->detail), "%s.pem changed "
		    "while it was read (renewal in progress?)", kind_names[k]);
		return;
	}
	snprintf(snap->detail, sizeof(snap->detail), "%s/%s.pem%s%s%s: %s",
	    snap->dir, kind_names[k],
	    snap->link[k].target != NULL ? " -> " : "",
	    snap->link[k].target != NULL ? snap->link[k].target : "",
	    snap->link[k].target != NULL && snap->link[k].version < 0 ?
	    " (no version number)" : "", tlsad_strerror(rc));
}

/* Same certificates, in the same order, in a[from..] and all of b. */
static int
same_certs(const struct cert_chain *a, size_t from, const struct cert_chain *b)
{
	size_t	i, n = cert_chain_count(b);

	if (cert_chain_count(a) != from + n)
		return 0;
	for (i = 0; i < n; i++) {
		if (X509_cmp(cert_chain_get(a, from + i), cert_chain_get(b, i)) != 0)
			return 0;
	}
	return 1;
}

/* Parse raw file k as a chain; on failure say which file in detail. */
static int
parse_chain(struct lineage_snapshot *snap, const struct raw_files *raw,
    enum lineage_kind k, struct cert_chain **out)
{
	int	rc;

	rc = cert_chain_from_pem(raw->buf[k], raw->len[k], out);
	if (rc != 0)
		detail_link(snap, k, rc);
	return rc;
}

int
lineage_read(const char *live_dir, const char *name,
    struct lineage_snapshot **out)
{
	struct lineage_snapshot	*snap = NULL;
	struct cert_chain	*cert = NULL, *chain = NULL, *full = NULL;
	struct cert_key		*key = NULL;
	struct raw_files	 raw;
	struct stat		 st;
	char			 v1[64], v2[64];
	size_t			 dirlen;
	int			 k, rc = 0, r;

	memset(&raw, 0, sizeof(raw));
	if (live_dir == NULL || name == NULL || out == NULL)
		return TLSAD_EINVAL;
	*out = NULL;
	if (name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return TLSAD_EINVAL;
	snap = calloc(1, sizeof(*snap));
	if (snap == NULL)
		return TLSAD_ENOMEM;
	for (k = 0; k < LINEAGE_NKINDS; k++)
		snap->link[k].version = -1;
	snap->name = strdup(name);
	dirlen = strlen(live_dir) + 1 + strlen(name) + 1;
	snap->dir = malloc(dirlen);
	if (snap->name == NULL || snap->dir == NULL) {
		lineage_snapshot_free(snap);
		return TLSAD_ENOMEM;
	}
	snprintf(snap->dir, dirlen, "%s/%s", live_dir, name);

	r = stat(snap->dir, &st) == -1 ? errno : 0;
	if (r != 0 || !S_ISDIR(st.st_mode)) {
		/* Say why: "permission denied" is not "does not exist". */
		rc = r == EACCES || r == EPERM ? -r : TLSAD_ELINEAGE_MISSING;
		snprintf(snap->detail, sizeof(snap->detail), "%s: %s",
		    snap->dir, rc == TLSAD_ELINEAGE_MISSING ?
		    "no such lineage directory" : strerror(-rc));
		for (k = 0; k < LINEAGE_NKINDS; k++)
			snap->link[k].status = rc;
		goto out;
	}
	/* Every link, so the snapshot reports all of them; keep the first error. */
	for (k = 0; k < LINEAGE_NKINDS; k++) {
		r = read_one(snap, (enum lineage_kind)k, &raw);
		if (r == TLSAD_ENOMEM) {
			rc = r;
			goto out;
		}
		if (r != 0 && rc == 0) {
			rc = r;
			detail_link(snap, (enum lineage_kind)k, r);
		}
	}
	snap->versions_agree = 1;
	for (k = 1; k < LINEAGE_NKINDS; k++) {
		if (snap->link[k].version < 0 ||
		    snap->link[k].version != snap->link[0].version)
			snap->versions_agree = 0;
	}
	if (rc != 0)
		goto out;

	rc = parse_chain(snap, &raw, LINEAGE_CERT, &cert);
	if (rc != 0)
		goto out;
	rc = parse_chain(snap, &raw, LINEAGE_CHAIN, &chain);
	if (rc != 0)
		goto out;
	rc = parse_chain(snap, &raw, LINEAGE_FULLCHAIN, &full);
	if (rc != 0)
		goto out;
	rc = cert_key_from_pem(raw.buf[LINEAGE_PRIVKEY],
	    raw.len[LINEAGE_PRIVKEY], &key);
	if (rc != 0) {
		detail_link(snap, LINEAGE_PRIVKEY, rc);
		goto out;
	}

	rc = cert_key_matches(cert, key);
	if (rc == TLSAD_ECERT_KEYMISMATCH) {
		rc = TLSAD_ELINEAGE_INCONSISTENT;
		snprintf(snap->detail, sizeof(snap->detail), "privkey.pem (%s) "
		    "does not match the certificate in cert.pem (%s)",
		    version_text(&snap->link[LINEAGE_PRIVKEY], v1, sizeof(v1)),
		    version_text(&snap->link[LINEAGE_CERT], v2, sizeof(v2)));
	}
	if (rc != 0)
		goto out;
	if (X509_cmp(cert_chain_leaf(full), cert_chain_leaf(cert)) != 0) {
		rc = TLSAD_ELINEAGE_INCONSISTENT;
		snprintf(snap->detail, sizeof(snap->detail), "fullchain.pem (%s) "
		    "does not begin with the certificate in cert.pem (%s)",
		    version_text(&snap->link[LINEAGE_FULLCHAIN], v1, sizeof(v1)),
		    version_text(&snap->link[LINEAGE_CERT], v2, sizeof(v2)));
		goto out;
	}
	if (!same_certs(full, 1, chain)) {
		rc = TLSAD_ELINEAGE_INCONSISTENT;
		snprintf(snap->detail, sizeof(snap->detail), "fullchain.pem (%s) "
		    "is not cert.pem followed by chain.pem (%s)",
		    version_text(&snap->link[LINEAGE_FULLCHAIN], v1, sizeof(v1)),
		    version_text(&snap->link[LINEAGE_CHAIN], v2, sizeof(v2)));
		goto out;
	}
	rc = cert_spki_sha256(full, snap->spki_sha256);
	if (rc != 0)
		goto out;
	rc = cert_not_after(full, &snap->not_after);
	if (rc != 0)
		goto out;

	/* Consistent: hand over the parsed chain and the raw bytes. */
	snap->chain = full;
	full = NULL;
	snap->fullchain_pem = raw.buf[LINEAGE_FULLCHAIN];
	snap->fullchain_len = raw.len[LINEAGE_FULLCHAIN];
	raw.buf[LINEAGE_FULLCHAIN] = NULL;
	snap->privkey_pem = raw.buf[LINEAGE_PRIVKEY];
	snap->privkey_len = raw.len[LINEAGE_PRIVKEY];
	raw.buf[LINEAGE_PRIVKEY] = NULL;
	snap->consistent = 1;
	if (!snap->versions_agree)
		snprintf(snap->detail, sizeof(snap->detail), "the links point at "
		    "different versions (cert %ld, chain %ld, fullchain %ld, "
		    "privkey %ld) but their contents agree",
		    snap->link[LINEAGE_CERT].version,
		    snap->link[LINEAGE_CHAIN].version,
		    snap->link[LINEAGE_FULLCHAIN].version,
		    snap->link[LINEAGE_PRIVKEY].version);
	rc = 0;
out:
	for (k = 0; k < LINEAGE_NKINDS; k++)
		wipe_free(raw.buf[k], raw.len[k]);
	cert_key_free(key);
	cert_chain_free(cert);
	cert_chain_free(chain);
	cert_chain_free(full);
	if (rc == TLSAD_ENOMEM) {
		lineage_snapshot_free(snap);
		snap = NULL;
	}
	*out = snap;
	return rc;
}
