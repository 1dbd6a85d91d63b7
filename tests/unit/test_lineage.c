/*
 * test_lineage.c -- the certbot lineage reader, on lineages built at run
 * time in a temp dir: consistent ones, every mid-renewal state certbot
 * passes through, and broken links of every kind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/cert.h"
#include "tlsad/error.h"
#include "tlsad/lineage.h"

#define CERTS	TLSAD_TEST_DATA "/certs/"
#define NAME	"mx.example.org"

struct fixture {
	char	root[256];	/* temp dir */
	char	live[300];	/* root/live */
	char	archive[300];	/* root/archive/NAME */
	char	dir[300];	/* root/live/NAME */
};

static const char *const kinds[LINEAGE_NKINDS] = {
	"cert", "chain", "fullchain", "privkey"
};

/* Test data for version N: 1 = p256, 2 = rsa2048, 3 = ed25519. */
static const char *
source(int kind, int version)
{
	static char	buf[256];
	static const char *const type[] = { "?", "p256", "rsa2048", "ed25519" };
	static const char *const suffix[] = {
		"leaf.pem", "int.pem", "fullchain.pem", "leaf.key"
	};

	snprintf(buf, sizeof(buf), CERTS "%s-%s", type[version], suffix[kind]);
	return buf;
}

static void
copy_file(const char *from, const char *to)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	assert_int_equal(cert_read_file(from, &buf, &len), 0);
	f = fopen(to, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

static void
archive_path(struct fixture *f, int kind, int version, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%d.pem", f->archive, kinds[kind], version);
}

static void
link_path(struct fixture *f, int kind, char *out, size_t size)
{
	snprintf(out, size, "%s/%s.pem", f->dir, kinds[kind]);
}

/* What certbot does per link: unlink, then symlink to ../../archive/NAME/<kind>N.pem. */
static void
set_link(struct fixture *f, int kind, int version)
{
	char	path[512], target[512];

	link_path(f, kind, path, sizeof(path));
	snprintf(target, sizeof(target), "../../archive/" NAME "/%s%d.pem",
	    kinds[kind], version);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static void
set_link_raw(struct fixture *f, int kind, const char *target)
{
	char	path[512];

	link_path(f, kind, path, sizeof(path));
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static void
add_version(struct fixture *f, int version)
{
	char	path[512];
	int	k;

	for (k = 0; k < LINEAGE_NKINDS; k++) {
		archive_path(f, k, version, path, sizeof(path));
		copy_file(source(k, version), path);
		if (k == LINEAGE_PRIVKEY)
			chmod(path, 0600);
	}
}

static void
set_all(struct fixture *f, int version)
{
	int	k;

	for (k = 0; k < LINEAGE_NKINDS; k++)
		set_link(f, k, version);
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static int
setup(void **state)
{
	static int	 seq;
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	mkdir(TLSAD_TEST_TMP, 0700);
	snprintf(f->root, sizeof(f->root), TLSAD_TEST_TMP "/lineage-%ld-%d",
	    (long)getpid(), seq++);
	assert_int_equal(mkdir(f->root, 0700), 0);
	snprintf(f->live, sizeof(f->live), "%s/live", f->root);
	snprintf(f->dir, sizeof(f->dir), "%s/live/" NAME, f->root);
	snprintf(f->archive, sizeof(f->archive), "%s/archive", f->root);
	assert_int_equal(mkdir(f->live, 0700), 0);
	assert_int_equal(mkdir(f->dir, 0755), 0);
	assert_int_equal(mkdir(f->archive, 0700), 0);
	strncat(f->archive, "/" NAME, sizeof(f->archive) - strlen(f->archive) - 1);
	assert_int_equal(mkdir(f->archive, 0700), 0);
	add_version(f, 1);
	add_version(f, 2);
	set_all(f, 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int
read_lineage(struct fixture *f, struct lineage_snapshot **snap)
{
	int	rc;

	*snap = NULL;
	rc = lineage_read(f->live, NAME, snap);
	assert_non_null(*snap);
	assert_int_equal((*snap)->consistent, rc == 0);
	if (rc != 0) {
		/* Nothing half-filled is handed out on failure. */
		assert_null((*snap)->chain);
		assert_null((*snap)->privkey_pem);
		assert_null((*snap)->fullchain_pem);
		assert_true(strlen((*snap)->detail) > 0);
	}
	return rc;
}

static void
assert_versions(struct lineage_snapshot *s, long c, long ch, long fc, long pk)
{
	assert_int_equal(s->link[LINEAGE_CERT].version, c);
	assert_int_equal(s->link[LINEAGE_CHAIN].version, ch);
	assert_int_equal(s->link[LINEAGE_FULLCHAIN].version, fc);
	assert_int_equal(s->link[LINEAGE_PRIVKEY].version, pk);
}

static void
test_consistent(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	struct cert_chain	*want;
	uint8_t			 spki[32];
	time_t			 t;
	char			*buf = NULL;
	size_t			 len = 0;
	int			 k;

	assert_int_equal(read_lineage(f, &s), 0);
	assert_versions(s, 1, 1, 1, 1);
	assert_true(s->versions_agree);
	assert_string_equal(s->detail, "");
	assert_string_equal(s->name, NAME);
	for (k = 0; k < LINEAGE_NKINDS; k++) {
		assert_int_equal(s->link[k].status, 0);
		assert_non_null(strstr(s->link[k].target, "../../archive/" NAME "/"));
	}
	/* What later code takes from it. */
	assert_int_equal(cert_chain_load(source(LINEAGE_FULLCHAIN, 1), &want), 0);
	assert_int_equal(cert_chain_count(s->chain), 2);
	assert_int_equal(cert_spki_sha256(want, spki), 0);
	assert_memory_equal(s->spki_sha256, spki, 32);
	assert_int_equal(cert_not_after(want, &t), 0);
	assert_int_equal(s->not_after, t);
	cert_chain_free(want);
	assert_int_equal(cert_read_file(source(LINEAGE_FULLCHAIN, 1), &buf, &len), 0);
	assert_int_equal(s->fullchain_len, len);
	assert_memory_equal(s->fullchain_pem, buf, len);
	assert_int_equal(s->fullchain_pem[len], '\0');
	free(buf);
	assert_int_equal(cert_read_file(source(LINEAGE_PRIVKEY, 1), &buf, &len), 0);
	assert_int_equal(s->privkey_len, len);
	assert_memory_equal(s->privkey_pem, buf, len);
	free(buf);
	lineage_snapshot_free(s);
}

/*
 * certbot's order: cert, privkey, chain, fullchain.  Every state in between
 * is inconsistent with a reason; the end state is consistent again.
 */
static void
test_renewal_steps(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;

	set_link(f, LINEAGE_CERT, 2);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_INCONSISTENT);
	assert_versions(s, 2, 1, 1, 1);
	assert_false(s->versions_agree);
	assert_non_null(strstr(s->detail, "privkey.pem (version 1)"));
	assert_non_null(strstr(s->detail, "cert.pem (version 2)"));
	lineage_snapshot_free(s);

	set_link(f, LINEAGE_PRIVKEY, 2);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_INCONSISTENT);
	assert_versions(s, 2, 1, 1, 2);
	assert_non_null(strstr(s->detail, "fullchain.pem (version 1)"));
	lineage_snapshot_free(s);

	set_link(f, LINEAGE_CHAIN, 2);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_INCONSISTENT);
	assert_versions(s, 2, 2, 1, 2);
	assert_non_null(strstr(s->detail, "fullchain.pem"));
	lineage_snapshot_free(s);

	set_link(f, LINEAGE_FULLCHAIN, 2);
	assert_int_equal(read_lineage(f, &s), 0);
	assert_versions(s, 2, 2, 2, 2);
	assert_true(s->versions_agree);
	lineage_snapshot_free(s);
}

/* Between certbot's unlink and symlink an entry is missing. */
static void
test_missing(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	char			 path[512];

	link_path(f, LINEAGE_FULLCHAIN, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_MISSING);
	assert_int_equal(s->link[LINEAGE_FULLCHAIN].status, TLSAD_ELINEAGE_MISSING);
	assert_int_equal(s->link[LINEAGE_CERT].status, 0);
	assert_int_equal(s->link[LINEAGE_PRIVKEY].status, 0);
	assert_int_equal(s->link[LINEAGE_FULLCHAIN].version, -1);
	assert_non_null(strstr(s->detail, "fullchain.pem"));
	lineage_snapshot_free(s);
}

static void
test_no_lineage_dir(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s = NULL;

	assert_int_equal(lineage_read(f->live, "other.example", &s),
	    TLSAD_ELINEAGE_MISSING);
	assert_non_null(s);
	assert_non_null(strstr(s->detail, "other.example"));
	lineage_snapshot_free(s);
	s = NULL;
	assert_int_equal(lineage_read(f->live, "../archive", &s), TLSAD_EINVAL);
	assert_int_equal(lineage_read(f->live, "", &s), TLSAD_EINVAL);
	assert_int_equal(lineage_read(f->live, "..", &s), TLSAD_EINVAL);
	assert_int_equal(lineage_read(NULL, NAME, &s), TLSAD_EINVAL);
	assert_null(s);
}

static void
test_dangling(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;

	set_link(f, LINEAGE_PRIVKEY, 9);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_DANGLING);
	assert_int_equal(s->link[LINEAGE_PRIVKEY].status, TLSAD_ELINEAGE_DANGLING);
	assert_int_equal(s->link[LINEAGE_PRIVKEY].version, 9);
	assert_non_null(strstr(s->detail, "privkey9.pem"));
	lineage_snapshot_free(s);
}

static void
test_loops(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	char			 path[512];

	/* Points at itself. */
	set_link_raw(f, LINEAGE_CHAIN, "chain.pem");
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_LOOP);
	assert_int_equal(s->link[LINEAGE_CHAIN].status, TLSAD_ELINEAGE_LOOP);
	assert_int_equal(s->link[LINEAGE_CHAIN].version, -1);
	lineage_snapshot_free(s);
	/* Two links pointing at each other, through the archive. */
	snprintf(path, sizeof(path), "%s/chain7.pem", f->archive);
	assert_int_equal(symlink("../../live/" NAME "/chain.pem", path), 0);
	set_link(f, LINEAGE_CHAIN, 7);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_LOOP);
	assert_int_equal(s->link[LINEAGE_CHAIN].version, 7);
	lineage_snapshot_free(s);
}

static void
test_not_a_link(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	char			 path[512];

	link_path(f, LINEAGE_CERT, path, sizeof(path));
	unlink(path);
	copy_file(source(LINEAGE_CERT, 1), path);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_NOTLINK);
	assert_int_equal(s->link[LINEAGE_CERT].status, TLSAD_ELINEAGE_NOTLINK);
	assert_null(s->link[LINEAGE_CERT].target);
	lineage_snapshot_free(s);
}

static void
test_unreadable(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	char			 path[512];

	if (geteuid() != 0) {
		archive_path(f, LINEAGE_PRIVKEY, 1, path, sizeof(path));
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(read_lineage(f, &s), -EACCES);
		assert_int_equal(s->link[LINEAGE_PRIVKEY].status, -EACCES);
		lineage_snapshot_free(s);
		assert_int_equal(chmod(path, 0600), 0);
	}
	/* Root reads anything: a directory is unreadable as a file for all. */
	snprintf(path, sizeof(path), "%s/privkey5.pem", f->archive);
	assert_int_equal(mkdir(path, 0700), 0);
	set_link(f, LINEAGE_PRIVKEY, 5);
	assert_int_equal(read_lineage(f, &s), -EISDIR);
	assert_int_equal(s->link[LINEAGE_PRIVKEY].status, -EISDIR);
	lineage_snapshot_free(s);
}

static void
test_oversize(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	char			 path[512];
	FILE			*fp;

	snprintf(path, sizeof(path), "%s/fullchain4.pem", f->archive);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, CERT_PEM_MAX, SEEK_SET), 0);
	fputc('\n', fp);
	fclose(fp);
	set_link(f, LINEAGE_FULLCHAIN, 4);
	assert_int_equal(read_lineage(f, &s), TLSAD_ETOOBIG);
	assert_int_equal(s->link[LINEAGE_FULLCHAIN].status, TLSAD_ETOOBIG);
	lineage_snapshot_free(s);
}

static void
test_bad_contents(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	char			 path[512];

	snprintf(path, sizeof(path), "%s/fullchain3.pem", f->archive);
	copy_file(CERTS "bad-truncated.pem", path);
	set_link(f, LINEAGE_FULLCHAIN, 3);
	assert_int_equal(read_lineage(f, &s), TLSAD_ECERT_TRUNCATED);
	assert_non_null(strstr(s->detail, "fullchain.pem"));
	assert_non_null(strstr(s->detail, "truncated"));
	lineage_snapshot_free(s);
	/* A certificate where the key should be. */
	set_link(f, LINEAGE_FULLCHAIN, 1);
	snprintf(path, sizeof(path), "%s/privkey3.pem", f->archive);
	copy_file(source(LINEAGE_CERT, 1), path);
	set_link(f, LINEAGE_PRIVKEY, 3);
	assert_int_equal(read_lineage(f, &s), TLSAD_ECERT_BADKEY);
	assert_non_null(strstr(s->detail, "privkey.pem"));
	lineage_snapshot_free(s);
}

/* chain.pem of another issuer than fullchain's second certificate. */
static void
test_chain_mismatch(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;

	set_link(f, LINEAGE_CHAIN, 2);
	assert_int_equal(read_lineage(f, &s), TLSAD_ELINEAGE_INCONSISTENT);
	assert_non_null(strstr(s->detail, "chain.pem"));
	lineage_snapshot_free(s);
}

/* Different N, same contents: consistent, with a note. */
static void
test_versions_differ(void **state)
{
	struct fixture		*f = *state;
	struct lineage_snapshot	*s;
	char			 path[512];

	archive_path(f, LINEAGE_CHAIN, 6, path, sizeof(path));
	copy_file(source(LINEAGE_CHAIN, 1), path);
	set_link(f, LINEAGE_CHAIN, 6);
	assert_int_equal(read_lineage(f, &s), 0);
	assert_false(s->versions_agree);
	assert_versions(s, 1, 6, 1, 1);
	assert_non_null(strstr(s->detail, "different versions"));
	lineage_snapshot_free(s);
	/* A target without a number is read, its version unknown. */
	archive_path(f, LINEAGE_CERT, 1, path, sizeof(path));
	set_link_raw(f, LINEAGE_CERT, path);
	assert_int_equal(read_lineage(f, &s), 0);
	assert_int_equal(s->link[LINEAGE_CERT].version, 1);
	lineage_snapshot_free(s);
	snprintf(path, sizeof(path), "%s/cert.pem", f->archive);
	copy_file(source(LINEAGE_CERT, 1), path);
	set_link_raw(f, LINEAGE_CERT, "../../archive/" NAME "/cert.pem");
	assert_int_equal(read_lineage(f, &s), 0);
	assert_int_equal(s->link[LINEAGE_CERT].version, -1);
	assert_false(s->versions_agree);
	lineage_snapshot_free(s);
}

static void
test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(lineage_kind_name(LINEAGE_CERT), "cert");
	assert_string_equal(lineage_kind_name(LINEAGE_PRIVKEY), "privkey");
	assert_string_equal(lineage_kind_name(LINEAGE_NKINDS), "?");
	lineage_snapshot_free(NULL);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_consistent),
		T(test_renewal_steps),
		T(test_missing),
		T(test_no_lineage_dir),
		T(test_dangling),
		T(test_loops),
		T(test_not_a_link),
		T(test_unreadable),
		T(test_oversize),
		T(test_bad_contents),
		T(test_chain_mismatch),
		T(test_versions_differ),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
