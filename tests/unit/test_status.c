/*
 * test_status.c -- the status report, on real files in a temp dir: a
 * certbot lineage (symlinks into archive/), state files written with
 * state_save(), and a deploy file (key + full chain).  Checks the levels
 * (exit codes), the JSON fields, the table and the monitoring line.
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
#include "tlsad/conf.h"
#include "tlsad/error.h"
#include "tlsad/lineage.h"
#include "tlsad/rollover.h"
#include "tlsad/state.h"
#include "tlsad/status.h"

#define CERTS	TLSAD_TEST_DATA "/certs/"
#define NAME	"mx.example.org"
#define NAME2	"mx2.example.org"
/* 2026-11-28T00:00:00Z: the test certificates expire in 2036. */
#define NOW	1795824000000LL
#define DAY	(86400 * 1000LL)

struct fixture {
	char		 root[256];
	char		 live[300];
	char		 state[300];
	char		 deploy[300];
	struct conf	*conf;
	struct rollover_key key[3];	/* SPKI of versions 1 (p256), 2 (rsa2048) */
	int64_t		 expiry[3];	/* notAfter (ms) of each version */
};

static const char *const kinds[LINEAGE_NKINDS] = {
	"cert", "chain", "fullchain", "privkey"
};

static const char *
source(int kind, int version)
{
	static char	buf[256];
	static const char *const type[] = { "?", "p256", "rsa2048" };
	static const char *const suffix[] = {
		"leaf.pem", "int.pem", "fullchain.pem", "leaf.key"
	};

	snprintf(buf, sizeof(buf), CERTS "%s-%s", type[version], suffix[kind]);
	return buf;
}

static void
write_text(const char *path, const char *text, size_t len)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
copy_file(const char *from, const char *to)
{
	char	*buf = NULL;
	size_t	 len = 0;

	assert_int_equal(cert_read_file(from, &buf, &len), 0);
	write_text(to, buf, len);
	free(buf);
}

/* archive/NAME/<kind>V.pem for every kind. */
static void
add_version(struct fixture *f, const char *name, int version)
{
	char	path[600];
	int	k;

	snprintf(path, sizeof(path), "%s/archive/%s", f->root, name);
	mkdir(path, 0755);
	for (k = 0; k < LINEAGE_NKINDS; k++) {
		snprintf(path, sizeof(path), "%s/archive/%s/%s%d.pem", f->root,
		    name, kinds[k], version);
		copy_file(source(k, version), path);
	}
}

static void
set_link(struct fixture *f, const char *name, int kind, int version)
{
	char	path[600], target[600];

	snprintf(path, sizeof(path), "%s/%s", f->live, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s.pem", f->live, name,
	    kinds[kind]);
	snprintf(target, sizeof(target), "../../archive/%s/%s%d.pem", name,
	    kinds[kind], version);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static void
set_all(struct fixture *f, const char *name, int version)
{
	int	k;

	add_version(f, name, version);
	for (k = 0; k < LINEAGE_NKINDS; k++)
		set_link(f, name, k, version);
}

/* The deploy file of name: key then full chain of version. */
static void
deploy(struct fixture *f, const char *name, int version)
{
	char	*key = NULL, *chain = NULL, *both, path[600];
	size_t	 klen, clen;

	assert_int_equal(cert_read_file(source(LINEAGE_PRIVKEY, version), &key,
	    &klen), 0);
	assert_int_equal(cert_read_file(source(LINEAGE_FULLCHAIN, version),
	    &chain, &clen), 0);
	both = malloc(klen + clen);
	assert_non_null(both);
	memcpy(both, key, klen);
	memcpy(both + klen, chain, clen);
	snprintf(path, sizeof(path), "%s/%s.pem", f->deploy, name);
	write_text(path, both, klen + clen);
	chmod(path, 0600);
	free(both);
	free(key);
	free(chain);
}

static void
undeploy(struct fixture *f, const char *name)
{
	char	path[600];

	snprintf(path, sizeof(path), "%s/%s.pem", f->deploy, name);
	assert_int_equal(unlink(path), 0);
}

/* An IDLE state with version v deployed and published. */
static void
idle_state(struct fixture *f, struct rollover_state *st, int v)
{
	rollover_state_init(st);
	st->stage = ROLLOVER_IDLE;
	st->has_live = 1;
	st->live = f->key[v];
	st->live_version = (uint32_t)v;
	st->has_deployed = 1;
	st->deployed = f->key[v];
	st->deployed_version = (uint32_t)v;
	st->published.n = 0;
	assert_int_equal(rollover_keyset_add(&st->published, &f->key[v]), 0);
	st->stage_since = NOW - DAY;
	st->last_success = NOW - DAY;
}

static void
save(struct fixture *f, const char *name, const struct rollover_state *st)
{
	assert_int_equal(state_save(f->state, name, st), 0);
}

static void
load_conf(struct fixture *f, int two)
{
	char	text[4096];
	char	*err = NULL;
	int	 n, rc;

	n = snprintf(text, sizeof(text),
	    "server:\n"
	    "    live-dir: %s\n"
	    "    state-dir: %s\n"
	    "    deploy-dir: %s\n"
	    "    expiry-warn-days: 14\n"
	    "lineage:\n"
	    "    name: " NAME "\n"
	    "    tlsa-name: _25._tcp." NAME "\n"
	    "%s",
	    f->live, f->state, f->deploy, two ?
	    "lineage:\n"
	    "    name: " NAME2 "\n"
	    "    tlsa-name: _25._tcp." NAME2 "\n" : "");
	assert_true(n > 0 && (size_t)n < sizeof(text));
	conf_free(f->conf);
	f->conf = NULL;
	rc = conf_parse("test.conf", text, (size_t)n, &f->conf, &err);
	if (rc != 0)
		fail_msg("conf: %s", err != NULL ? err : "?");
	free(err);
}

static void
key_of(int version, struct rollover_key *k, int64_t *expiry)
{
	struct cert_chain	*c = NULL;
	time_t			 t;

	assert_int_equal(cert_chain_load(source(LINEAGE_CERT, version), &c), 0);
	assert_int_equal(cert_spki_sha256(c, k->spki), 0);
	assert_int_equal(cert_not_after(c, &t), 0);
	*expiry = (int64_t)t * 1000;
	cert_chain_free(c);
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
	char		 path[600];

	assert_non_null(f);
	mkdir(TLSAD_TEST_TMP, 0755);
	snprintf(f->root, sizeof(f->root), TLSAD_TEST_TMP "/status.%ld.%d",
	    (long)getpid(), seq++);
	assert_int_equal(mkdir(f->root, 0755), 0);
	snprintf(f->live, sizeof(f->live), "%s/live", f->root);
	snprintf(f->state, sizeof(f->state), "%s/state", f->root);
	snprintf(f->deploy, sizeof(f->deploy), "%s/deploy", f->root);
	snprintf(path, sizeof(path), "%s/archive", f->root);
	assert_int_equal(mkdir(f->live, 0755), 0);
	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(mkdir(f->deploy, 0700), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	key_of(1, &f->key[1], &f->expiry[1]);
	key_of(2, &f->key[2], &f->expiry[2]);
	load_conf(f, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	conf_free(f->conf);
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Collect, render everything, return the exit code; *json for checks. */
static int
collect(struct fixture *f, const char *name, int64_t now, char **json,
    char *line, size_t linelen)
{
	struct status_report	*rep = NULL;
	char			*text = NULL, *j = NULL;
	size_t			 len = 0;
	int			 code;

	assert_int_equal(status_collect(f->conf, name, now, &rep), 0);
	assert_int_equal(status_json(rep, &j, &len), 0);
	assert_int_equal(strlen(j), len);
	assert_int_equal(status_text(rep, &text, &len), 0);
	assert_true(strstr(text, "LINEAGE") == text);
	status_check_line(rep, line, linelen);
	assert_null(strchr(line, '\n'));
	code = status_exit_code(rep);
	free(text);
	status_report_free(rep);
	if (json != NULL)
		*json = j;
	else
		free(j);
	return code;
}

static void
assert_has(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("missing \"%s\" in:\n%s", needle, hay);
}

static void
test_idle_ok(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			*json = NULL, line[512], hex[65], want[200];

	set_all(f, NAME, 1);
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 0);
	assert_string_equal(line, "TLSAD OK - 1 lineage up to date");
	assert_has(json, "\"version\": 1,");
	assert_has(json, "\"status\": \"ok\"");
	assert_has(json, "\"exit\": 0");
	assert_has(json, "\"name\": \"" NAME "\"");
	assert_has(json, "\"stage\": \"idle\"");
	assert_has(json, "\"problems\": []");
	assert_has(json, "\"consistent\": true");
	assert_has(json, "\"present\": true");
	rollover_key_hex(&f->key[1], hex);
	snprintf(want, sizeof(want), "\"key\": \"%s\", \"key_short\": "
	    "\"%.8s\", \"version\": 1", hex, hex);
	assert_has(json, want);
	assert_has(json, "\"published\": [{\"key\": \"");
	assert_has(json, "\"not_after\": \"2036-");
	assert_has(json, "\"last_success\": \"2026-11-27T00:00:00Z\"");
	assert_has(json, "\"last_error\": null");
	assert_has(json, "\"next_action\": \"up to date (version 1 deployed)\"");
	free(json);
}

static void
test_expiry(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			*json = NULL, line[512];

	set_all(f, NAME, 1);
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	save(f, NAME, &st);
	/* 13.5 days before notAfter: 13 days left, under the 14 of the config. */
	assert_int_equal(collect(f, NULL, f->expiry[1] - 13 * DAY - DAY / 2,
	    &json, line, sizeof(line)), 1);
	assert_has(line, "TLSAD WARNING - " NAME ": certificate expires in 13 days");
	assert_has(json, "\"days_left\": 13");
	assert_has(json, "\"status\": \"warning\"");
	free(json);
	/* 15 days left: fine. */
	assert_int_equal(collect(f, NULL, f->expiry[1] - 15 * DAY - 1000, NULL,
	    line, sizeof(line)), 0);
	/* One second after: expired, critical. */
	assert_int_equal(collect(f, NULL, f->expiry[1] + 1000, &json, line,
	    sizeof(line)), 2);
	assert_has(line, "TLSAD CRITICAL - " NAME ": certificate expired");
	assert_has(json, "\"days_left\": -1");
	free(json);
}

static void
test_failed(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			*json = NULL, line[512];

	set_all(f, NAME, 2);
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	st.stage = ROLLOVER_FAILED;
	st.retry_stage = ROLLOVER_PUBLISH;
	st.has_target = 1;
	st.target = f->key[2];
	st.target_version = 2;
	st.failures = 1;
	st.last_error = TLSAD_EDNS_REFUSED;
	st.last_error_at = NOW - 60000;
	st.next_attempt = NOW + 120000;
	snprintf(st.last_message, sizeof(st.last_message),
	    "the key is not allowed to update \"_25._tcp." NAME ".\"");
	save(f, NAME, &st);
	assert_int_equal(collect(f, NAME, NOW, &json, line, sizeof(line)), 2);
	assert_has(line, "TLSAD CRITICAL - " NAME ": rollover failed "
	    "(DNS_REFUSED): the key is not allowed");
	assert_has(json, "\"stage\": \"failed\"");
	assert_has(json, "\"retry_stage\": \"publish\"");
	assert_has(json, "\"last_error\": {\"code\": -1404, \"name\": "
	    "\"DNS_REFUSED\", \"message\": \"the key is not allowed to update "
	    "\\\"_25._tcp." NAME ".\\\"\", \"at\": \"2026-11-27T23:59:00Z\"}");
	assert_has(json, "\"next_at\": \"2026-11-28T00:02:00Z\"");
	assert_has(json, "\"target\": {\"key\": ");
	free(json);
}

static void
test_deployed_not_published(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			 line[512];

	/*
	 * tlsad deployed key 2 and published only it; the deploy file now
	 * serves key 1 (replaced behind tlsad's back): critical.
	 */
	set_all(f, NAME, 2);
	deploy(f, NAME, 1);
	rollover_state_init(&st);
	st.has_deployed = 1;
	st.deployed = f->key[2];
	st.deployed_version = 2;
	assert_int_equal(rollover_keyset_add(&st.published, &f->key[2]), 0);
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, NULL, line, sizeof(line)), 2);
	assert_has(line, "is not in the published TLSA set");
}

static void
test_takeover_not_yet_checked(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			 line[512];

	/*
	 * tlsad has deployed nothing yet: the deploy file is an admin's,
	 * whose record tlsad has not checked yet.  Unknown, not missing: a
	 * warning.
	 */
	set_all(f, NAME, 2);
	deploy(f, NAME, 1);
	rollover_state_init(&st);
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, NULL, line, sizeof(line)), 1);
	assert_has(line, "which tlsad did not deploy and has not seen in the "
	    "DNS yet");
}

static void
test_deploy_missing(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			*json = NULL, line[512];

	set_all(f, NAME, 1);
	idle_state(f, &st, 1);
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 2);
	assert_has(line, "is missing, but the state says key");
	assert_has(json, "\"present\": false");
	free(json);
	/* Nothing deployed yet and no file: only the state's word counts. */
	rollover_state_init(&st);
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, NULL, line, sizeof(line)), 0);
}

static void
test_no_state_and_corrupt(void **state)
{
	struct fixture	*f = *state;
	char		*json = NULL, line[512], path[600];
	static const char garbage[] = "tlsad-state 1\nbogus line\n";

	set_all(f, NAME, 1);
	deploy(f, NAME, 1);
	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 1);
	assert_has(line, "no state file yet");
	assert_has(json, "\"state_file\": {\"present\": false, \"error\": null}");
	assert_has(json, "\"stage\": null");
	free(json);

	snprintf(path, sizeof(path), "%s/" NAME ".state", f->state);
	write_text(path, garbage, sizeof(garbage) - 1);
	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 2);
	assert_has(line, "state file unusable, lineage left alone");
	assert_has(json, "\"name\": \"STATE_CORRUPT\"");
	free(json);
}

static void
test_live_inconsistent(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			*json = NULL, line[512];

	set_all(f, NAME, 1);
	add_version(f, NAME, 2);
	set_link(f, NAME, LINEAGE_CERT, 2);	/* certbot's first swap */
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 1);
	assert_has(line, "live lineage inconsistent");
	assert_has(json, "\"consistent\": false");
	assert_has(json, "\"name\": \"LINEAGE_INCONSISTENT\"");
	free(json);
}

static void
test_live_missing(void **state)
{
	struct fixture	*f = *state;
	char		*json = NULL, line[512];

	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 1);
	assert_has(line, "live lineage missing or incomplete");
	assert_has(json, "\"name\": \"LINEAGE_MISSING\"");
	assert_has(json, "\"certificate\": {\"not_after\": null, "
	    "\"days_left\": null}");
	free(json);
}

static void
test_renewal_pending(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			 line[512];

	set_all(f, NAME, 1);
	set_all(f, NAME, 2);
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, NULL, line, sizeof(line)), 1);
	assert_has(line, "renewal not rolled out yet: live version 2");
}

static void
test_hold(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			*json = NULL, line[512];

	set_all(f, NAME, 2);
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	st.stage = ROLLOVER_HOLD;
	st.has_target = 1;
	st.target = f->key[2];
	st.target_version = 2;
	assert_int_equal(rollover_keyset_add(&st.published, &f->key[2]), 0);
	st.stage_since = NOW - 40000;
	st.t0 = NOW - 37000;
	st.hold_ttl = 120;
	st.hold_until = NOW + 263000;
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 0);
	assert_string_equal(line, "TLSAD OK - 1 lineage, 1 rolling over");
	assert_has(json, "\"next_action\": \"holding 37/300 s\"");
	assert_has(json, "\"hold_until\": \"2026-11-28T00:04:23Z\"");
	assert_has(json, "\"next_at\": \"2026-11-28T00:04:23Z\"");
	free(json);
	/* Eleven minutes past the hold and still holding: a warning. */
	assert_int_equal(collect(f, NULL, NOW + 263000 + 11 * 60000, NULL, line,
	    sizeof(line)), 1);
	assert_has(line, "has not moved on");
}

static void
test_propagate_lagging(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			 line[512];

	set_all(f, NAME, 2);
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	st.stage = ROLLOVER_PROPAGATE;
	st.has_target = 1;
	st.target = f->key[2];
	st.target_version = 2;
	assert_int_equal(rollover_keyset_add(&st.published, &f->key[2]), 0);
	st.stage_since = NOW - 60000;
	st.deadline = NOW + 3600000;
	st.polls = 5;
	save(f, NAME, &st);
	assert_int_equal(collect(f, NULL, NOW, NULL, line, sizeof(line)), 0);
	assert_int_equal(collect(f, NULL, NOW + 11 * 60000, NULL, line,
	    sizeof(line)), 1);
	assert_has(line, "a server lags");
	assert_int_equal(collect(f, NULL, NOW + 3600001, NULL, line,
	    sizeof(line)), 1);
	assert_has(line, "past its deadline");
}

static void
test_two_lineages(void **state)
{
	struct fixture		*f = *state;
	struct rollover_state	 st;
	char			*json = NULL, line[512];
	struct status_report	*rep = NULL;

	load_conf(f, 1);
	set_all(f, NAME, 1);
	deploy(f, NAME, 1);
	idle_state(f, &st, 1);
	save(f, NAME, &st);
	set_all(f, NAME2, 1);
	deploy(f, NAME2, 1);
	save(f, NAME2, &st);
	assert_int_equal(collect(f, NULL, NOW, NULL, line, sizeof(line)), 0);
	assert_string_equal(line, "TLSAD OK - 2 lineages up to date");

	undeploy(f, NAME2);
	assert_int_equal(collect(f, NULL, NOW, &json, line, sizeof(line)), 2);
	assert_has(line, "TLSAD CRITICAL - " NAME2 ": deploy file");
	assert_null(strstr(line, NAME ":"));
	assert_has(json, "\"status\": \"critical\"");
	free(json);
	/* One lineage asked for: only that one. */
	assert_int_equal(collect(f, NAME, NOW, &json, line, sizeof(line)), 0);
	assert_null(strstr(json, NAME2));
	free(json);

	assert_int_equal(status_collect(f->conf, "nope.example", NOW, &rep),
	    TLSAD_ECONF_NOLINEAGE);
	assert_null(rep);
	assert_int_equal(status_collect(f->conf, NULL, NOW, &rep), 0);
	assert_int_equal(status_set_activity(rep, NAME, "holding \"1\"/2 s"), 0);
	assert_int_equal(status_set_activity(rep, "nope", "x"),
	    TLSAD_ECONF_NOLINEAGE);
	rep->source = "daemon";
	assert_int_equal(status_json(rep, &json, NULL), 0);
	assert_has(json, "\"source\": \"daemon\"");
	assert_has(json, "\"activity\": \"holding \\\"1\\\"/2 s\"");
	assert_has(json, "\"activity\": null");
	free(json);
	status_report_free(rep);
}

static void
test_iso8601(void **state)
{
	char	buf[32];

	(void)state;
	status_iso8601(NOW, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T00:00:00Z");
	status_iso8601(0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	assert_string_equal(status_level_name(STATUS_CRITICAL), "critical");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_not_yet_checked,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deployed_not_published,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deploy_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_state_and_corrupt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_live_inconsistent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_live_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_renewal_pending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_propagate_lagging, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_lineages, setup,
		    teardown),
		cmocka_unit_test(test_iso8601),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
