/*
 * test_deploy.c -- the deploy file: content and order, modes and group,
 * FILE.prev and restore, refusals (certbot's tree, loose directories,
 * mismatched or broken input), and reading the deployed key back.
 * Keys and certificates are made here with OpenSSL; every test works in a
 * fresh directory under TLSAD_TEST_TMP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tlsad/deploy.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

struct pair {
	char	*key;
	size_t	 keylen;
	char	*cert;
	size_t	 certlen;
	uint8_t	 spki[32];
};

struct fixture {
	char		dir[1024];	/* short: paths below it fit PATH_MAX */
	char		file[PATH_MAX];
	struct pair	a, b;
};

static char *
bio_string(BIO *bio, size_t *len)
{
	char	*data, *copy;
	long	 n = BIO_get_mem_data(bio, &data);

	copy = malloc((size_t)n + 1);
	assert_non_null(copy);
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	return copy;
}

/* A P-256 key and a self-signed certificate for it, in PEM. */
static void
make_pair(struct pair *p)
{
	EVP_PKEY	*pk;
	X509		*x;
	X509_NAME	*name;
	BIO		*bio;
	unsigned char	*der = NULL;
	unsigned int	 mdlen;
	int		 n;

	pk = EVP_EC_gen("P-256");
	assert_non_null(pk);
	x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"mx.example", -1, -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);

	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0,
	    NULL, NULL), 1);
	p->key = bio_string(bio, &p->keylen);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	p->cert = bio_string(bio, &p->certlen);
	BIO_free(bio);

	n = i2d_PUBKEY(pk, &der);
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, p->spki, &mdlen,
	    EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
free_pair(struct pair *p)
{
	free(p->key);
	free(p->cert);
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	assert_non_null(f);
	mkdir(TLSAD_TEST_TMP, 0755);
	snprintf(f->dir, sizeof(f->dir), "%s/deploy.XXXXXX", TLSAD_TEST_TMP);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/d/mx.pem", f->dir);
	make_pair(&f->a);
	make_pair(&f->b);
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	/* The test's own temp dir; symlinks are removed, not followed. */
	(void)nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free_pair(&f->a);
	free_pair(&f->b);
	free(f);
	return 0;
}

static int
install(struct fixture *f, const char *path, const struct pair *key,
    const struct pair *cert, const char *group, const char *live,
    char *why, size_t whylen)
{
	return deploy_install(path, key->key, key->keylen, cert->cert,
	    cert->certlen, group, live, why, whylen);
}

static char *
slurp(const char *path)
{
	char	*buf = NULL;
	size_t	 len;

	if (util_read_file(path, DEPLOY_MAX_SIZE, &buf, &len) != 0)
		return NULL;
	return buf;
}

static void
assert_holds(const char *path, const struct pair *p)
{
	char	*buf = slurp(path), *expect;

	assert_non_null(buf);
	expect = malloc(p->keylen + p->certlen + 1);
	assert_non_null(expect);
	memcpy(expect, p->key, p->keylen);
	memcpy(expect + p->keylen, p->cert, p->certlen);
	expect[p->keylen + p->certlen] = '\0';
	assert_string_equal(buf, expect);
	free(expect);
	free(buf);
}

static void
test_first_install(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 prev[PATH_MAX + 8], dir[PATH_MAX];
	uint8_t		 spki[32];

	assert_int_equal(install(f, f->file, &f->a, &f->a, NULL, NULL, NULL,
	    0), 0);
	assert_holds(f->file, &f->a);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	/* The missing directory was made, private. */
	snprintf(dir, sizeof(dir), "%s/d", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(prev, sizeof(prev), "%s.prev", f->file);
	assert_int_equal(access(prev, F_OK), -1);
	assert_int_equal(deploy_read_key(f->file, spki), 0);
	assert_memory_equal(spki, f->a.spki, 32);
}

static void
test_prev_and_restore(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 prev[PATH_MAX + 8];
	uint8_t		 spki[32];

	snprintf(prev, sizeof(prev), "%s.prev", f->file);
	assert_int_equal(install(f, f->file, &f->a, &f->a, NULL, NULL, NULL,
	    0), 0);
	assert_int_equal(install(f, f->file, &f->b, &f->b, NULL, NULL, NULL,
	    0), 0);
	assert_holds(f->file, &f->b);
	assert_holds(prev, &f->a);
	/* Repeating a deploy (after a crash) keeps the real previous file. */
	assert_int_equal(install(f, f->file, &f->b, &f->b, NULL, NULL, NULL,
	    0), 0);
	assert_holds(prev, &f->a);
	/* Restore puts a back, keeps .prev, twice is harmless. */
	assert_int_equal(deploy_restore(f->file, NULL, 0), 0);
	assert_holds(f->file, &f->a);
	assert_holds(prev, &f->a);
	assert_int_equal(deploy_restore(f->file, NULL, 0), 0);
	assert_holds(f->file, &f->a);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(deploy_read_key(f->file, spki), 0);
	assert_memory_equal(spki, f->a.spki, 32);
	/* After a restore, deploying b again keeps a as .prev. */
	assert_int_equal(install(f, f->file, &f->b, &f->b, NULL, NULL, NULL,
	    0), 0);
	assert_holds(f->file, &f->b);
	assert_holds(prev, &f->a);
}

static void
test_restore_without_prev(void **state)
{
	struct fixture	*f = *state;
	char		 why[512];

	assert_int_equal(deploy_restore(f->file, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no previous file"));
	assert_int_equal(install(f, f->file, &f->a, &f->a, NULL, NULL, NULL,
	    0), 0);
	assert_int_equal(deploy_restore(f->file, why, sizeof(why)), -ENOENT);
	assert_holds(f->file, &f->a);
}

/* A restore checks FILE.prev before it writes anything. */
static void
test_restore_checks_prev(void **state)
{
	struct fixture	*f = *state;
	char		 prev[PATH_MAX + 8], why[512], *mixed;
	size_t		 len;

	snprintf(prev, sizeof(prev), "%s.prev", f->file);
	assert_int_equal(install(f, f->file, &f->a, &f->a, NULL, NULL, NULL,
	    0), 0);
	assert_int_equal(install(f, f->file, &f->b, &f->b, NULL, NULL, NULL,
	    0), 0);
	/* .prev holds a: asking for b's key is refused, b stays. */
	why[0] = '\0';
	assert_int_equal(deploy_restore_key(f->file, f->b.spki, why,
	    sizeof(why)), TLSAD_EDEPLOY);
	assert_non_null(strstr(why, "not the expected"));
	assert_holds(f->file, &f->b);
	assert_int_equal(deploy_restore_key(f->file, f->a.spki, why,
	    sizeof(why)), 0);
	assert_holds(f->file, &f->a);
	/* A .prev whose key is not its certificate's is never written. */
	assert_int_equal(install(f, f->file, &f->b, &f->b, NULL, NULL, NULL,
	    0), 0);
	len = f->b.keylen + f->a.certlen;
	mixed = malloc(len);
	assert_non_null(mixed);
	memcpy(mixed, f->b.key, f->b.keylen);
	memcpy(mixed + f->b.keylen, f->a.cert, f->a.certlen);
	assert_int_equal(util_atomic_write(prev, mixed, len, 0600,
	    (gid_t)-1), 0);
	free(mixed);
	assert_int_equal(deploy_restore(f->file, why, sizeof(why)),
	    TLSAD_ECERT_KEYMISMATCH);
	assert_non_null(strstr(why, "refusing to restore"));
	assert_holds(f->file, &f->b);
	/* Nor one without a key. */
	assert_int_equal(util_atomic_write(prev, f->a.cert, f->a.certlen, 0600,
	    (gid_t)-1), 0);
	assert_int_not_equal(deploy_restore(f->file, why, sizeof(why)), 0);
	assert_holds(f->file, &f->b);
}

static void
test_group(void **state)
{
	struct fixture	*f = *state;
	struct group	*gr = getgrgid(getegid());
	struct stat	 st;
	char		 why[512];

	assert_non_null(gr);
	assert_int_equal(install(f, f->file, &f->a, &f->a, gr->gr_name, NULL,
	    why, sizeof(why)), 0);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, getegid());
	assert_int_equal(install(f, f->file, &f->b, &f->b,
	    "no-such-group-tlsad", NULL, why, sizeof(why)), TLSAD_EINVAL);
	assert_non_null(strstr(why, "no such group"));
	assert_holds(f->file, &f->a);
	/* Dropping the group: same bytes, mode back to 0600. */
	assert_int_equal(install(f, f->file, &f->a, &f->a, NULL, NULL, NULL,
	    0), 0);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_refuse_certbot_tree(void **state)
{
	struct fixture	*f = *state;
	char		 live[PATH_MAX], path[PATH_MAX + 32], link[PATH_MAX];
	char		 why[1024];

	snprintf(live, sizeof(live), "%s/le/live", f->dir);
	snprintf(path, sizeof(path), "%s/le", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mkdir(live, 0700), 0);

	snprintf(path, sizeof(path), "%s/le/tlsad.pem", f->dir);
	assert_int_equal(install(f, path, &f->a, &f->a, NULL, live, why,
	    sizeof(why)), TLSAD_EDEPLOY);
	assert_non_null(strstr(why, "certbot"));
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/le/live/mx/x.pem", f->dir);
	assert_int_equal(install(f, path, &f->a, &f->a, NULL, live, why,
	    sizeof(why)), TLSAD_EDEPLOY);
	/* A symlink into the tree does not get around it. */
	snprintf(link, sizeof(link), "%s/sneaky", f->dir);
	snprintf(path, sizeof(path), "%s/le", f->dir);
	assert_int_equal(symlink(path, link), 0);
	snprintf(path, sizeof(path), "%s/sneaky/x.pem", f->dir);
	assert_int_equal(install(f, path, &f->a, &f->a, NULL, live, why,
	    sizeof(why)), TLSAD_EDEPLOY);
	/* /etc/letsencrypt is refused whatever live-dir says. */
	assert_int_equal(install(f, "/etc/letsencrypt/x.pem", &f->a, &f->a,
	    NULL, NULL, why, sizeof(why)), TLSAD_EDEPLOY);
	assert_int_equal(install(f, "/etc/letsencrypt", &f->a, &f->a,
	    NULL, NULL, why, sizeof(why)), TLSAD_EDEPLOY);
	assert_int_equal(deploy_check_path("/etc/letsencrypt-other/x.pem",
	    NULL, why, sizeof(why)), 0);
	assert_int_equal(deploy_check_path("relative/x.pem", NULL, why,
	    sizeof(why)), TLSAD_EINVAL);
	/* A sibling of live-dir's parent is fine. */
	snprintf(path, sizeof(path), "%s/other/x.pem", f->dir);
	assert_int_equal(deploy_check_path(path, live, why, sizeof(why)), 0);
}

static void
test_refuse_bad_input(void **state)
{
	struct fixture	*f = *state;
	struct pair	 garbage = { (char *)"not a key\n", 10,
			    (char *)"not a cert\n", 11, { 0 } };
	char		 why[512];

	assert_int_equal(install(f, f->file, &f->a, &f->a, NULL, NULL, NULL,
	    0), 0);
	/* a's key with b's certificate: never written. */
	assert_int_equal(install(f, f->file, &f->a, &f->b, NULL, NULL, why,
	    sizeof(why)), TLSAD_ECERT_KEYMISMATCH);
	assert_holds(f->file, &f->a);
	assert_int_equal(install(f, f->file, &garbage, &f->b, NULL, NULL, why,
	    sizeof(why)), TLSAD_ECERT_BADKEY);
	assert_int_equal(install(f, f->file, &f->b, &garbage, NULL, NULL, why,
	    sizeof(why)), TLSAD_ECERT_NOPEM);
	/* A certificate where the key should be. */
	assert_int_equal(deploy_install(f->file, f->b.cert, f->b.certlen,
	    f->b.cert, f->b.certlen, NULL, NULL, why, sizeof(why)),
	    TLSAD_ECERT_BADKEY);
	assert_int_equal(deploy_install(f->file, f->b.key, 0, f->b.cert,
	    f->b.certlen, NULL, NULL, why, sizeof(why)), TLSAD_EINVAL);
	assert_holds(f->file, &f->a);
}

static void
test_refuse_loose_dir(void **state)
{
	struct fixture	*f = *state;
	char		 dir[PATH_MAX], path[PATH_MAX + 16], why[512];

	snprintf(dir, sizeof(dir), "%s/loose", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	snprintf(path, sizeof(path), "%s/x.pem", dir);
	assert_int_equal(install(f, path, &f->a, &f->a, NULL, NULL, why,
	    sizeof(why)), TLSAD_EDEPLOY);
	assert_non_null(strstr(why, "writable by group or others"));
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_key_without_newline(void **state)
{
	struct fixture	*f = *state;
	char		*buf;
	uint8_t		 spki[32];

	/* Drop the key's final newline: a separator must be added. */
	assert_int_equal(deploy_install(f->file, f->a.key, f->a.keylen - 1,
	    f->a.cert, f->a.certlen, NULL, NULL, NULL, 0), 0);
	buf = slurp(f->file);
	assert_non_null(buf);
	assert_non_null(strstr(buf, "-----END PRIVATE KEY-----\n"
	    "-----BEGIN CERTIFICATE-----"));
	free(buf);
	assert_int_equal(deploy_read_key(f->file, spki), 0);
	assert_memory_equal(spki, f->a.spki, 32);
}

static void
test_read_key(void **state)
{
	struct fixture	*f = *state;
	char		 path[PATH_MAX + 16], *mixed;
	uint8_t		 spki[32];
	FILE		*fp;

	assert_int_equal(deploy_read_key(f->file, spki), -ENOENT);
	/* A certificate alone is fine. */
	snprintf(path, sizeof(path), "%s/cert.pem", f->dir);
	assert_int_equal(util_atomic_write(path, f->b.cert, f->b.certlen,
	    0600, (gid_t)-1), 0);
	assert_int_equal(deploy_read_key(path, spki), 0);
	assert_memory_equal(spki, f->b.spki, 32);
	assert_int_equal(deploy_pem_spki(f->b.cert, f->b.certlen, spki), 0);
	assert_memory_equal(spki, f->b.spki, 32);
	/* a's key with b's certificate, written behind tlsad's back. */
	snprintf(path, sizeof(path), "%s/mixed.pem", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(f->a.key, fp);
	fputs(f->b.cert, fp);
	fclose(fp);
	assert_int_equal(deploy_read_key(path, spki),
	    TLSAD_ECERT_KEYMISMATCH);
	/* A key alone holds no certificate. */
	mixed = f->a.key;
	assert_int_equal(deploy_pem_spki(mixed, f->a.keylen, spki),
	    TLSAD_ECERT_ISKEY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_install, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prev_and_restore, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_restore_without_prev,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_checks_prev,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_certbot_tree,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_bad_input, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refuse_loose_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_without_newline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_key, setup,
		    teardown),
	};

	log_init("test_deploy", LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
