/*
 * test_tsig.c -- the BIND key file parser and loader: files as tsig-keygen
 * and ddns-confgen write them (tests/data/tsig/), comments, several keys,
 * algorithms (sha1 weak, md5 refused), bad syntax with line numbers, the
 * permission check, and that reasons never carry the secret.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/error.h"
#include "tlsad/tsig.h"
#include "tlsad/util.h"

#define KEYS	TLSAD_TEST_DATA "/tsig/"

/* Copy a fixture to a temp file with mode, return its path. */
static void
fixture(const char *name, mode_t mode, char *path, size_t len)
{
	char	*buf = NULL;
	size_t	 n = 0;
	char	 src[512];
	FILE	*f;

	snprintf(src, sizeof(src), KEYS "%s", name);
	assert_int_equal(util_read_file(src, 65536, &buf, &n), 0);
	mkdir(TLSAD_TEST_TMP, 0700);
	snprintf(path, len, TLSAD_TEST_TMP "/tsig-%ld-%s", (long)getpid(), name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	free(buf);
}

static int
load(const char *name, const char *keyname, struct tsig_key **k, char *why,
    size_t whylen)
{
	char	path[512];
	int	rc;

	fixture(name, 0600, path, sizeof(path));
	rc = tsig_load(path, keyname, k, why, whylen);
	unlink(path);
	return rc;
}

static void
test_tsig_keygen_files(void **state)
{
	static const struct {
		const char	*file, *name;
		enum tsig_algo	 algo;
		size_t		 len;
	} cases[] = {
		{ "sha256.key", "tlsad-test.", TSIG_ALGO_HMAC_SHA256, 32 },
		{ "sha384.key", "k384.", TSIG_ALGO_HMAC_SHA384, 48 },
		{ "sha512.key", "k512.example.", TSIG_ALGO_HMAC_SHA512, 64 },
		{ "ddns-confgen.key", "ddns-key.example.", TSIG_ALGO_HMAC_SHA256, 32 },
		{ "ddns-confgen-q.key", "quiet.example.", TSIG_ALGO_HMAC_SHA256, 32 },
	};
	struct tsig_key	*k = NULL;
	char		 why[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load(cases[i].file, NULL, &k, why, sizeof(why)) != 0)
			fail_msg("%s: %s", cases[i].file, why);
		assert_string_equal(k->name, cases[i].name);
		assert_int_equal(k->algo, cases[i].algo);
		assert_int_equal(k->secret_len, cases[i].len);
		assert_int_equal(k->weak, 0);
		assert_non_null(strstr(k->algo_name, tsig_algo_str(k->algo)));
		tsig_key_free(k);
		k = NULL;
	}
}

static void
test_comments_and_case(void **state)
{
	struct tsig_key	*k = NULL;
	char		 why[256];

	(void)state;
	assert_int_equal(load("comments.key", "commented.example", &k, why,
	    sizeof(why)), 0);
	assert_string_equal(k->name, "commented.example.");
	assert_int_equal(k->secret_len, strlen("secret-secret-secret-secret-1234"));
	assert_memory_equal(k->secret, "secret-secret-secret-secret-1234", k->secret_len);
	assert_string_equal(k->secret_b64, "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=");
	tsig_key_free(k);
}

static void
test_select_by_name(void **state)
{
	struct tsig_key	*k = NULL;
	char		 why[256];

	(void)state;
	assert_int_equal(load("two.key", NULL, &k, why, sizeof(why)),
	    TLSAD_ETSIG_KEYFILE);
	assert_null(k);
	assert_non_null(strstr(why, "2 keys"));
	assert_int_equal(load("two.key", "k384.", &k, why, sizeof(why)), 0);
	assert_string_equal(k->name, "k384.");
	tsig_key_free(k);
	k = NULL;
	assert_int_equal(load("two.key", "TLSAD-TEST", &k, why, sizeof(why)), 0);
	assert_string_equal(k->name, "tlsad-test.");
	tsig_key_free(k);
	k = NULL;
	assert_int_equal(load("two.key", "nope", &k, why, sizeof(why)),
	    TLSAD_ETSIG_KEYFILE);
	assert_non_null(strstr(why, "no key named \"nope\""));
}

static void
test_algorithms(void **state)
{
	struct tsig_key	*k = NULL;
	char		 why[256];

	(void)state;
	assert_int_equal(load("sha1.key", NULL, &k, why, sizeof(why)), 0);
	assert_int_equal(k->algo, TSIG_ALGO_HMAC_SHA1);
	assert_int_equal(k->weak, 1);
	tsig_key_free(k);
	k = NULL;
	assert_int_equal(load("md5.key", NULL, &k, why, sizeof(why)), TLSAD_ETSIG_ALGO);
	assert_null(k);
	assert_non_null(strstr(why, "hmac-md5 is refused"));
	assert_int_equal(load("bad-algo.key", NULL, &k, why, sizeof(why)),
	    TLSAD_ETSIG_ALGO);
	assert_non_null(strstr(why, "line 2"));
	assert_non_null(strstr(why, "hmac-sha999"));
}

static void
test_bad_files(void **state)
{
	static const struct {
		const char	*file;
		int		 rc;
		const char	*why;
	} cases[] = {
		{ "bad-nosemi.key", TLSAD_ETSIG_KEYFILE, "line 4: expected ';' after the secret" },
		{ "bad-base64.key", TLSAD_ETSIG_SECRET, "line 3: the secret is not valid base64" },
		{ "bad-nosecret.key", TLSAD_ETSIG_KEYFILE, "key has no secret" },
		{ "bad-unclosed.key", TLSAD_ETSIG_KEYFILE, "not closed" },
		{ "bad-empty.key", TLSAD_ETSIG_KEYFILE, "no key clause" },
	};
	struct tsig_key	*k = NULL;
	char		 why[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(cases[i].file, NULL, &k, why, sizeof(why)),
		    cases[i].rc);
		assert_null(k);
		if (strstr(why, cases[i].why) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", cases[i].file, why,
			    cases[i].why);
	}
}

static void
test_parse_inline(void **state)
{
	static const char *const bad[] = {
		"key x { algorithm hmac-sha256; secret \"c2VjcmV0\"; }",	/* no ; */
		"key { algorithm hmac-sha256; secret \"c2VjcmV0\"; };",
		"key \"x\" { algorithm hmac-sha256; algorithm hmac-sha256; secret \"c2VjcmV0\"; };",
		"key \"x\" { algorithm hmac-sha256; secret \"\"; };",
		"key \"x\" { algorithm hmac-sha256; secret \"c2VjcmV0===\"; };",
		"key \"x\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; foo bar; };",
		"key \"x\" { algorithm hmac-sha256; secret \"c2Vj\ncmV0\"; };",
		"/* unterminated",
		/* Two keys whose names differ only in case and a final dot. */
		("key \"x\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };\n"
		    "key \"X.\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };"),
		"options { foo; ",
		"}",
		"key \"x\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };\noptions { ; x",
		"key \"a b\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };",
	};
	struct tsig_key	*k = NULL;
	const char	*ok = "key x { algorithm HMAC-SHA512; secret c2VjcmV0; };";
	char		 why[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int	rc = tsig_parse(bad[i], strlen(bad[i]), i == 8 ? "x" : NULL,
		    &k, why, sizeof(why));

		if (rc == 0)
			fail_msg("case %zu parsed: %s", i, bad[i]);
		assert_null(k);
		/* A reason never quotes the secret. */
		assert_null(strstr(why, "c2VjcmV0"));
	}
	assert_int_equal(tsig_parse(ok, strlen(ok), NULL, &k, why, sizeof(why)), 0);
	assert_string_equal(k->name, "x.");
	assert_int_equal(k->algo, TSIG_ALGO_HMAC_SHA512);
	assert_memory_equal(k->secret, "secret", 6);
	tsig_key_free(k);
	k = NULL;
	/* Text need not be NUL-terminated: the length rules. */
	assert_int_not_equal(tsig_parse(ok, strlen(ok) - 3, NULL, &k, why,
	    sizeof(why)), 0);
	tsig_key_free(NULL);
}

static void
test_size_cap(void **state)
{
	struct tsig_key	*k = NULL;
	char		*big;
	char		 why[256];

	(void)state;
	big = malloc(TSIG_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', TSIG_FILE_MAX + 1);
	big[TSIG_FILE_MAX + 1] = '\0';
	assert_int_equal(tsig_parse(big, TSIG_FILE_MAX + 1, NULL, &k, why, sizeof(why)),
	    TLSAD_ETOOBIG);
	free(big);
}

/* Key names are domain names: no empty label, no label over 63 bytes. */
static void
test_bad_key_names(void **state)
{
	static const char *const bad[] = { "k..", "a..b", ".lead", "..",
	    "k.example..",
	    "a234567890123456789012345678901234567890123456789012345678901234" };
	static const char *const good[] = { "k", "k.", "tlsad-mx.example.",
	    "a23456789012345678901234567890123456789012345678901234567890123" };
	struct tsig_key	*k = NULL;
	char		 text[512], why[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "key \"%s\" { algorithm "
		    "hmac-sha256; secret \"YWJj\"; };\n", bad[i]);
		assert_int_equal(tsig_parse(text, strlen(text), NULL, &k, why,
		    sizeof(why)), TLSAD_ETSIG_KEYFILE);
		assert_null(k);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "key \"%s\" { algorithm "
		    "hmac-sha256; secret \"YWJj\"; };\n", good[i]);
		assert_int_equal(tsig_parse(text, strlen(text), NULL, &k, why,
		    sizeof(why)), 0);
		tsig_key_free(k);
		k = NULL;
	}
}

static void
test_permissions(void **state)
{
	struct tsig_key	*k = NULL;
	char		 path[512], why[512], want[600];
	mode_t		 modes[] = { 0640, 0604, 0644, 0620 };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fixture("sha256.key", modes[i], path, sizeof(path));
		assert_int_equal(tsig_load(path, NULL, &k, why, sizeof(why)),
		    TLSAD_ETSIG_PERMS);
		assert_null(k);
		snprintf(want, sizeof(want), "chmod 0600 %s", path);
		assert_non_null(strstr(why, want));
		unlink(path);
	}
	fixture("sha256.key", 0400, path, sizeof(path));
	assert_int_equal(tsig_load(path, NULL, &k, why, sizeof(why)), 0);
	tsig_key_free(k);
	unlink(path);
	assert_int_equal(tsig_load(TLSAD_TEST_TMP "/no-such.key", NULL, &k, why,
	    sizeof(why)), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsig_keygen_files),
		cmocka_unit_test(test_comments_and_case),
		cmocka_unit_test(test_select_by_name),
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_parse_inline),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_bad_key_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
