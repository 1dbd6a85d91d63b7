/*
 * test_conf.c -- the config parser: good fixtures parse to exactly the
 * expected values, every bad fixture fails with exactly the message its
 * "# expect:" line names, and garbage never crashes (run it under ASan).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tlsad/conf.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

#define GOOD	TLSAD_TEST_DATA "/conf/good/"
#define BAD	TLSAD_TEST_DATA "/conf/bad/"

static struct conf *
load_good(const char *file)
{
	struct conf	*conf = NULL;
	char		*err = NULL;
	char		 path[4096];
	int		 rc;

	snprintf(path, sizeof(path), "%s%s", GOOD, file);
	rc = conf_load(path, &conf, &err);
	if (rc != 0)
		print_error("%s: %s\n", file, err != NULL ? err : "(no message)");
	assert_int_equal(rc, 0);
	assert_null(err);
	assert_non_null(conf);
	assert_string_equal(conf->path, path);
	return conf;
}

static void
assert_addr(const struct conf_addr *a, const char *host, unsigned port)
{
	assert_string_equal(a->host, host);
	assert_int_equal(a->port, port);
}

static void
assert_tlsa(const struct tlsa_param *t, int u, int s, int m)
{
	assert_int_equal(t->usage, u);
	assert_int_equal(t->selector, s);
	assert_int_equal(t->mtype, m);
}

static void
assert_argv(char **argv, ...)
{
	va_list		 ap;
	const char	*want;
	size_t		 i = 0;

	assert_non_null(argv);
	va_start(ap, argv);
	for (;;) {
		want = va_arg(ap, const char *);
		if (want == NULL)
			break;
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want);
		i++;
	}
	va_end(ap);
	assert_null(argv[i]);
}

static void
assert_server_defaults(const struct conf *c)
{
	assert_string_equal(c->live_dir, "/etc/letsencrypt/live");
	assert_string_equal(c->state_dir, TLSAD_LOCALSTATEDIR "/lib/tlsad");
	assert_string_equal(c->deploy_dir, TLSAD_SYSCONFDIR "/tlsad/deploy");
	assert_string_equal(c->control_socket,
	    TLSAD_RUNSTATEDIR "/tlsad/tlsad.sock");
	assert_string_equal(c->trust_anchor_file, "/usr/share/dns/root.key");
	assert_null(c->resolvers);
	assert_int_equal(c->nresolvers, 0);
	assert_int_equal(c->dns_port, 53);
	assert_int_equal(c->dns_timeout_ms, 5000);
	assert_int_equal(c->ttl_multiplier, 2);
	assert_int_equal(c->hold_margin_s, 60);
	assert_int_equal(c->propagation_timeout_s, 3600);
	assert_int_equal(c->poll_min_ms, 500);
	assert_int_equal(c->poll_max_ms, 60000);
	assert_int_equal(c->quiet_period_ms, 2000);
	assert_int_equal(c->rescan_interval_s, 3600);
	assert_int_equal(c->retry_min_s, 60);
	assert_int_equal(c->retry_max_s, 3600);
	assert_int_equal(c->expiry_warn_days, 14);
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
}

/* Every field of struct conf and of its lineages, set away from defaults. */
static void
test_good_full(void **state)
{
	struct conf			*c = load_good("full.conf");
	const struct conf_lineage	*l;

	(void)state;
	assert_string_equal(c->live_dir, "/srv/lets encrypt/live");
	assert_string_equal(c->state_dir, "/srv/tlsad/state");
	assert_string_equal(c->deploy_dir, "/srv/tlsad/deploy");
	assert_string_equal(c->control_socket, "/srv/tlsad/ctl.sock");
	assert_string_equal(c->trust_anchor_file, "/srv/tlsad/anchor.key");
	assert_int_equal(c->nresolvers, 2);
	assert_addr(&c->resolvers[0], "127.0.0.53", 5353);
	assert_addr(&c->resolvers[1], "::1", 53);
	assert_int_equal(c->dns_port, 5300);
	assert_int_equal(c->dns_timeout_ms, 1500);
	assert_int_equal(c->ttl_multiplier, 3);
	assert_int_equal(c->hold_margin_s, 5);
	assert_int_equal(c->propagation_timeout_s, 7200);
	assert_int_equal(c->poll_min_ms, 200);
	assert_int_equal(c->poll_max_ms, 120000);
	assert_int_equal(c->quiet_period_ms, 0);
	assert_int_equal(c->rescan_interval_s, 86400);
	assert_int_equal(c->retry_min_s, 30);
	assert_int_equal(c->retry_max_s, 2700);
	assert_int_equal(c->expiry_warn_days, 21);
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(c->key_file, "/srv/tlsad/update.key");
	assert_int_equal(c->nlineages, 2);

	l = &c->lineages[0];
	assert_string_equal(l->name, "mx.example.org");
	assert_int_equal(l->line, 30);
	assert_int_equal(l->ntlsa_names, 3);
	assert_string_equal(l->tlsa_names[0], "_25._tcp.mx.example.org.");
	assert_string_equal(l->tlsa_names[1], "_25._tcp.mx2.example.org.");
	assert_string_equal(l->tlsa_names[2], "_dane.example.org.");
	assert_int_equal(l->ntlsa, 2);
	assert_tlsa(&l->tlsa[0], 3, 1, 1);
	assert_tlsa(&l->tlsa[1], 2, 0, 2);
	assert_true(l->has_update_server);
	assert_addr(&l->update_server, "192.0.2.1", 5300);
	assert_int_equal(l->nauth_servers, 2);
	assert_addr(&l->auth_servers[0], "192.0.2.2", 5301);
	assert_addr(&l->auth_servers[1], "2001:db8::1", 5300);
	assert_string_equal(l->deploy_file, "/etc/postfix/tlsad/mx.pem");
	assert_string_equal(l->deploy_group, "ssl-cert");
	assert_argv(l->reload_argv, "/usr/sbin/postfix", "-c",
	    "/etc/postfix-out", "reload", (const char *)NULL);
	assert_int_equal(l->nverify, 3);
	assert_addr(&l->verify[0].addr, "127.0.0.1", 25);
	assert_int_equal(l->verify[0].mode, CONF_VERIFY_STARTTLS);
	assert_null(l->verify[0].servername);
	assert_addr(&l->verify[1].addr, "::1", 465);
	assert_int_equal(l->verify[1].mode, CONF_VERIFY_TLS);
	assert_null(l->verify[1].servername);
	assert_addr(&l->verify[2].addr, "192.0.2.3", 587);
	assert_int_equal(l->verify[2].mode, CONF_VERIFY_STARTTLS);
	assert_string_equal(l->verify[2].servername, "mail.example.org");
	assert_string_equal(l->key_file, "/srv/tlsad/mx.key");

	/* The second lineage takes every default, deploy-file from deploy-dir. */
	l = &c->lineages[1];
	assert_string_equal(l->name, "smtp.example.net-0001");
	assert_int_equal(l->line, 48);
	assert_int_equal(l->ntlsa_names, 1);
	assert_string_equal(l->tlsa_names[0], "_465._tcp.smtp.example.net.");
	assert_int_equal(l->ntlsa, 1);
	assert_tlsa(&l->tlsa[0], 3, 1, 1);
	assert_false(l->has_update_server);
	assert_int_equal(l->nauth_servers, 0);
	assert_string_equal(l->deploy_file,
	    "/srv/tlsad/deploy/smtp.example.net-0001.pem");
	assert_null(l->deploy_group);
	assert_argv(l->reload_argv, "/usr/sbin/postfix", "reload", (const char *)NULL);
	assert_int_equal(l->nverify, 0);
	assert_null(l->key_file);

	assert_ptr_equal(conf_lineage_find(c, "mx.example.org"), &c->lineages[0]);
	assert_ptr_equal(conf_lineage_find(c, "smtp.example.net-0001"),
	    &c->lineages[1]);
	assert_null(conf_lineage_find(c, "MX.example.org"));
	assert_null(conf_lineage_find(c, "nope"));
	assert_null(conf_lineage_find(c, NULL));
	assert_null(conf_lineage_find(NULL, "mx.example.org"));
	conf_free(c);
}

static void
test_good_minimal(void **state)
{
	struct conf			*c = load_good("minimal.conf");
	const struct conf_lineage	*l;

	(void)state;
	assert_server_defaults(c);
	assert_null(c->key_file);
	assert_int_equal(c->nlineages, 1);
	l = &c->lineages[0];
	assert_string_equal(l->name, "mx.example.org");
	assert_int_equal(l->line, 3);
	assert_int_equal(l->ntlsa_names, 1);
	assert_string_equal(l->tlsa_names[0], "_25._tcp.mx.example.org.");
	assert_int_equal(l->ntlsa, 1);
	assert_tlsa(&l->tlsa[0], 3, 1, 1);
	assert_false(l->has_update_server);
	assert_int_equal(l->nauth_servers, 0);
	assert_null(l->auth_servers);
	assert_string_equal(l->deploy_file,
	    TLSAD_SYSCONFDIR "/tlsad/deploy/mx.example.org.pem");
	assert_null(l->deploy_group);
	assert_argv(l->reload_argv, "/usr/sbin/postfix", "reload", (const char *)NULL);
	assert_int_equal(l->nverify, 0);
	assert_null(l->verify);
	assert_null(l->key_file);
	conf_free(c);
}

static void
test_good_empty(void **state)
{
	struct conf	*c = load_good("empty.conf");

	(void)state;
	assert_server_defaults(c);
	assert_null(c->key_file);
	assert_int_equal(c->nlineages, 0);
	assert_null(conf_lineage_find(c, "mx.example.org"));
	conf_free(c);
}

static void
test_good_crlf(void **state)
{
	struct conf	*c = load_good("crlf.conf");

	(void)state;
	assert_string_equal(c->live_dir, "/srv/live");
	assert_int_equal(c->nlineages, 1);
	assert_string_equal(c->lineages[0].name, "mx.example.org");
	assert_string_equal(c->lineages[0].tlsa_names[0],
	    "_25._tcp.mx.example.org.");
	conf_free(c);
}

/* The example of the man page and the README. */
static void
test_good_example(void **state)
{
	struct conf			*c = load_good("example.conf");
	const struct conf_lineage	*l;

	(void)state;
	assert_string_equal(c->live_dir, "/etc/letsencrypt/live");
	assert_string_equal(c->state_dir, "/var/lib/tlsad");
	assert_string_equal(c->trust_anchor_file, "/usr/share/dns/root.key");
	assert_string_equal(c->key_file, "/etc/tlsad/update.key");
	assert_int_equal(c->nlineages, 1);
	l = conf_lineage_find(c, "mx.example.org");
	assert_non_null(l);
	assert_int_equal(l->ntlsa_names, 1);
	assert_string_equal(l->tlsa_names[0], "_25._tcp.mx.example.org.");
	assert_int_equal(l->ntlsa, 2);
	assert_tlsa(&l->tlsa[0], 3, 1, 1);
	assert_tlsa(&l->tlsa[1], 2, 1, 1);
	assert_true(l->has_update_server);
	assert_addr(&l->update_server, "192.0.2.1", 53);
	assert_int_equal(l->nauth_servers, 2);
	assert_addr(&l->auth_servers[0], "192.0.2.1", 53);
	assert_addr(&l->auth_servers[1], "198.51.100.2", 53);
	assert_string_equal(l->deploy_file,
	    "/etc/postfix/tlsad/mx.example.org.pem");
	assert_argv(l->reload_argv, "/usr/sbin/postfix", "reload", (const char *)NULL);
	assert_int_equal(l->nverify, 1);
	assert_addr(&l->verify[0].addr, "127.0.0.1", 25);
	assert_int_equal(l->verify[0].mode, CONF_VERIFY_STARTTLS);
	conf_free(c);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replace every occurrence of path in msg by "FILE" (fixtures are portable). */
static char *
portable(const char *msg, const char *path)
{
	size_t		 plen = strlen(path), n = 0;
	const char	*s = msg, *hit;
	char		*out;

	out = malloc(strlen(msg) + 1);
	assert_non_null(out);
	for (;;) {
		hit = strstr(s, path);
		if (hit == NULL)
			break;
		memcpy(out + n, s, (size_t)(hit - s));
		n += (size_t)(hit - s);
		memcpy(out + n, "FILE", 4);
		n += 4;
		s = hit + plen;
	}
	memcpy(out + n, s, strlen(s) + 1);
	return out;
}

/*
 * Each tests/data/conf/bad/NAME.conf starts with "# expect: MESSAGE", where
 * FILE stands for the fixture's path; conf_load must fail with exactly it.
 */
static void
test_bad_fixtures(void **state)
{
	DIR		*dir;
	struct dirent	*de;
	char		*names[512], path[4096], *text, *nl, *err, *got;
	const char	*expect;
	struct conf	*conf;
	size_t		 n = 0, i, len, failures = 0;
	int		 rc;

	(void)state;
	dir = opendir(BAD);
	assert_non_null(dir);
	for (;;) {
		de = readdir(dir);
		if (de == NULL)
			break;
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		assert_true(n < 512);
		names[n] = strdup(de->d_name);
		assert_non_null(names[n]);
		n++;
	}
	closedir(dir);
	qsort(names, n, sizeof(names[0]), cmpstr);
	assert_true(n >= 60);	/* a lost directory must not pass quietly */

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%s", BAD, names[i]);
		assert_int_equal(util_read_file(path, CONF_MAX_SIZE, &text,
		    &len), 0);
		assert_true(strncmp(text, "# expect: ", 10) == 0);
		nl = strchr(text, '\n');
		assert_non_null(nl);
		*nl = '\0';
		expect = text + 10;

		conf = NULL;
		err = NULL;
		rc = conf_load(path, &conf, &err);
		if (rc == 0 || err == NULL || conf != NULL) {
			print_error("%s: parsed, expected: %s\n", names[i],
			    expect);
			failures++;
		} else {
			got = portable(err, path);
			if (strcmp(got, expect) != 0) {
				print_error("%s:\n  expected: %s\n  got:      "
				    "%s\n", names[i], expect, got);
				failures++;
			}
			assert_true(rc < 0);
			free(got);
		}
		conf_free(conf);
		free(err);
		free(text);
		free(names[i]);
	}
	assert_int_equal(failures, 0);
}

/* Error codes: one per kind of mistake, so callers can tell them apart. */
static void
test_error_codes(void **state)
{
	static const struct {
		const char	*text;
		int		 rc;
	} cases[] = {
		{ "server:\n  live_dir: /x\n", TLSAD_ECONF_UNKNOWN },
		{ "serve:\n", TLSAD_ECONF_UNKNOWN },
		{ "server:\n  tlsa: 3 1 1\n", TLSAD_ECONF_UNKNOWN },
		{ "server:\n  live-dir /x\n", TLSAD_ECONF_SYNTAX },
		{ "server:\n  dns-port: 0\n", TLSAD_ECONF_VALUE },
		{ "lineage:\n  name: a\n", TLSAD_ECONF_MISSING },
		{ "server:\n  dns-port: 1\n  dns-port: 2\n",
		    TLSAD_ECONF_DUPLICATE },
		{ "server:\n  live-dir: /x", 0 },	/* no final newline */
		{ "", 0 },
	};
	struct conf	*conf;
	char		*err;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf = NULL;
		err = NULL;
		rc = conf_parse("t.conf", cases[i].text, strlen(cases[i].text),
		    &conf, &err);
		if (rc != cases[i].rc)
			print_error("case %zu: %s\n", i, err != NULL ? err : "");
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_non_null(conf);
			assert_null(err);
		} else {
			assert_null(conf);
			assert_non_null(err);
			assert_true(strncmp(err, "t.conf:", 7) == 0);
		}
		conf_free(conf);
		free(err);
	}
	/* errmsg may be NULL. */
	conf = NULL;
	assert_int_equal(conf_parse("t.conf", "zone:\n", 6, &conf, NULL),
	    TLSAD_ECONF_UNKNOWN);
	assert_null(conf);
}

static void
test_file_errors(void **state)
{
	struct conf	*conf = NULL;
	char		*err = NULL, *big;
	int		 rc;

	(void)state;
	rc = conf_load(TLSAD_TEST_DATA "/conf/does-not-exist.conf", &conf,
	    &err);
	assert_int_equal(rc, -ENOENT);
	assert_null(conf);
	assert_non_null(err);
	assert_string_equal(err, TLSAD_TEST_DATA
	    "/conf/does-not-exist.conf: cannot read: No such file or directory");
	free(err);

	rc = conf_load(TLSAD_TEST_DATA "/conf", &conf, &err);
	assert_int_equal(rc, -EISDIR);
	assert_null(conf);
	assert_non_null(err);
	free(err);

	/* Over the size cap: refused before parsing. */
	big = malloc(CONF_MAX_SIZE + 1);
	assert_non_null(big);
	memset(big, '#', CONF_MAX_SIZE + 1);
	rc = conf_parse("big.conf", big, CONF_MAX_SIZE + 1, &conf, &err);
	assert_int_equal(rc, TLSAD_ETOOBIG);
	assert_null(conf);
	assert_string_equal(err, "big.conf: file is larger than 1048576 bytes");
	free(err);
	/* At the cap: one long comment line is still too long a line. */
	rc = conf_parse("big.conf", big, CONF_MAX_SIZE, &conf, &err);
	assert_int_equal(rc, TLSAD_ETOOBIG);
	assert_string_equal(err, "big.conf:1:4097: line longer than 4096 bytes");
	free(err);
	free(big);
}

/* Many lineages: the arrays grow; names stay unique; find finds each. */
static void
test_many_lineages(void **state)
{
	enum { N = 300 };
	struct conf	*conf = NULL;
	char		*text, *err = NULL, name[64];
	size_t		 cap = N * 128, len = 0, i;
	int		 n;

	(void)state;
	text = malloc(cap);
	assert_non_null(text);
	for (i = 0; i < N; i++) {
		n = snprintf(text + len, cap - len, "lineage:\n\tname: m%zu."
		    "example.org\n\ttlsa-name: _25._tcp.m%zu.example.org\n",
		    i, i);
		assert_true(n > 0 && (size_t)n < cap - len);
		len += (size_t)n;
	}
	assert_int_equal(conf_parse("many.conf", text, len, &conf, &err), 0);
	assert_int_equal(conf->nlineages, N);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "m%zu.example.org", i);
		assert_ptr_equal(conf_lineage_find(conf, name),
		    &conf->lineages[i]);
		assert_int_equal(conf->lineages[i].line, (int)(3 * i + 1));
	}
	conf_free(conf);
	free(text);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Parse; whatever happens, the result must be consistent and not crash. */
static void
parse_any(const char *text, size_t len)
{
	struct conf	*conf = NULL;
	char		*err = NULL;
	int		 rc;

	rc = conf_parse("fuzz.conf", text, len, &conf, &err);
	if (rc == 0) {
		assert_non_null(conf);
		assert_null(err);
	} else {
		assert_true(rc < 0);
		assert_null(conf);
		assert_non_null(err);
		assert_true(strncmp(err, "fuzz.conf:", 10) == 0);
	}
	conf_free(conf);
	free(err);
}

/* Random bytes, random token soup, and every truncation and many mutations of a good file. */
static void
test_garbage(void **state)
{
	static const char *const tokens[] = {
		"server:", "key:", "lineage:", "\n", "\n", "\n", "    ", "\t",
		" ", "#", "\"", ":", "@", "name: ", "tlsa-name: ", "tlsa: ",
		"3 1 1", "2 0 2", "_25._tcp.", "mx.example.org", "192.0.2.1",
		"::1", "@53", "/srv/x", "live-dir: ", "verify: ", "starttls",
		"tls", "reload: ", "poll-min: ", "200ms", "5s", "99999999999d",
		"dns-port: ", "65536", "auth-server: ", "update-server: ",
		"deploy-file: ", "\r", "\x01", "\xff", "..", "-", "_",
	};
	char		 buf[2048];
	char		*good, *mut;
	size_t		 glen, i, len, k;
	int		 iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		len = rng() % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (char)(rng() & 0xff);
		parse_any(buf, len);
	}
	for (iter = 0; iter < 20000; iter++) {
		len = 0;
		k = rng() % 64;
		for (i = 0; i < k; i++) {
			const char	*t = tokens[rng() %
			    (sizeof(tokens) / sizeof(tokens[0]))];
			size_t		 tl = strlen(t);

			if (len + tl > sizeof(buf))
				break;
			memcpy(buf + len, t, tl);
			len += tl;
		}
		parse_any(buf, len);
	}
	assert_int_equal(util_read_file(GOOD "full.conf", CONF_MAX_SIZE, &good,
	    &glen), 0);
	for (len = 0; len <= glen; len++)
		parse_any(good, len);
	mut = malloc(glen);
	assert_non_null(mut);
	for (iter = 0; iter < 20000; iter++) {
		memcpy(mut, good, glen);
		k = 1 + rng() % 4;
		for (i = 0; i < k; i++)
			mut[rng() % glen] = (char)(rng() & 0xff);
		parse_any(mut, glen);
	}
	free(mut);
	free(good);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_full),
		cmocka_unit_test(test_good_minimal),
		cmocka_unit_test(test_good_empty),
		cmocka_unit_test(test_good_crlf),
		cmocka_unit_test(test_good_example),
		cmocka_unit_test(test_bad_fixtures),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_many_lineages),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
