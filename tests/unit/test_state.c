/*
 * test_state.c -- the durable state files: round trips, atomic save and
 * load, listing, name checks, and strict refusal of anything corrupt, with
 * the line number, without touching the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/error.h"
#include "tlsad/rollover.h"
#include "tlsad/state.h"
#include "tlsad/util.h"

#define T0	1764297000123LL		/* 2025-11-28T02:30:00.123Z */

static struct rollover_key
mkkey(unsigned n)
{
	struct rollover_key	k;
	size_t			i;

	for (i = 0; i < ROLLOVER_KEY_LEN; i++)
		k.spki[i] = (uint8_t)(n * 13 + i);
	return k;
}

/* A state with every field set, as in the middle of a hold. */
static void
rich_state(struct rollover_state *st)
{
	struct rollover_key	a = mkkey(1), b = mkkey(2), c = mkkey(3);

	rollover_state_init(st);
	st->stage = ROLLOVER_HOLD;
	st->has_live = 1;
	st->live = b;
	st->live_version = 7;
	st->has_deployed = 1;
	st->deployed = a;
	st->deployed_version = 6;
	st->has_target = 1;
	st->target = b;
	st->target_version = 7;
	(void)rollover_keyset_add(&st->published, &a);
	(void)rollover_keyset_add(&st->published, &c);
	(void)rollover_keyset_add(&st->published, &b);
	st->stage_since = T0;
	st->t0 = T0 + 1;
	st->hold_until = T0 + 660001;
	st->hold_ttl = 300;
	st->validated_at = T0 + 1;
	st->next_attempt = T0 + 999;
	st->deadline = T0 + 4260001;
	st->polls = 4;
	st->failures = 2;
	st->last_error = TLSAD_EDNS_REFUSED;
	st->last_error_at = T0 - 5000;
	snprintf(st->last_message, sizeof(st->last_message),
	    "the key is not allowed to update _25._tcp.mx.example.org.");
	st->last_success = T0 - 86400000LL * 60;
}

static void
make_dir(char *dir, size_t len, const char *name)
{
	(void)mkdir(TLSAD_TEST_TMP, 0755);
	snprintf(dir, len, "%s/%s-XXXXXX", TLSAD_TEST_TMP, name);
	assert_non_null(mkdtemp(dir));
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_roundtrip(void **unused)
{
	struct rollover_state	 st, back;
	char			*text = NULL;
	size_t			 len;
	char			 err[256];

	rich_state(&st);
	assert_int_equal(state_format("mx.example.org", &st, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	/* Human-readable: admins cat it. */
	assert_non_null(strstr(text, "tlsad-state 1\n"));
	assert_non_null(strstr(text, "\nlineage mx.example.org\n"));
	assert_non_null(strstr(text, "\nstage hold\n"));
	assert_non_null(strstr(text, "\nhold-until 2025-11-28T02:41:00.124Z\n"));
	assert_non_null(strstr(text, "\nlast-error -1404 DNS_REFUSED\n"));
	assert_non_null(strstr(text, "\nstaged -\n"));
	assert_non_null(strstr(text, "\ndeployed 0d0e0f10"));
	assert_int_equal(state_parse(text, len, "f", "mx.example.org", &back,
	    err, sizeof(err)), 0);
	assert_true(rollover_state_equal(&st, &back));
	assert_int_equal(back.published.n, 3);
	free(text);

	/* A fresh state too. */
	rollover_state_init(&st);
	assert_int_equal(state_format("a", &st, &text, &len), 0);
	assert_int_equal(state_parse(text, len, "f", NULL, &back, err,
	    sizeof(err)), 0);
	assert_true(rollover_state_equal(&st, &back));
	free(text);
}

static void
test_message_sanitised(void **unused)
{
	struct rollover_state	 st, back;
	char			*text = NULL;
	size_t			 len;
	char			 err[256];

	rollover_state_init(&st);
	st.last_error = TLSAD_ERELOAD;
	snprintf(st.last_message, sizeof(st.last_message),
	    "postfix said:\nfatal: bad\tthing\r");
	assert_int_equal(state_format("a", &st, &text, &len), 0);
	assert_non_null(strstr(text, "last-message postfix said:?fatal: bad?thing?\n"));
	assert_int_equal(state_parse(text, len, "f", "a", &back, err,
	    sizeof(err)), 0);
	assert_string_equal(back.last_message, "postfix said:?fatal: bad?thing?");
	free(text);
}

static void
test_save_load_list(void **unused)
{
	struct rollover_state	 st, back;
	char			 dir[512], path[600], err[256];
	char			**names = NULL, *text = NULL;
	size_t			 n = 0, len = 0;
	struct stat		 sb;

	make_dir(dir, sizeof(dir), "state");
	rich_state(&st);
	assert_int_equal(state_save(dir, "mx.example.org", &st), 0);
	rollover_state_init(&back);
	assert_int_equal(state_save(dir, "b.example", &back), 0);
	assert_int_equal(state_save(dir, "a.example", &back), 0);
	/* Saving again replaces it whole. */
	st.polls = 9;
	assert_int_equal(state_save(dir, "mx.example.org", &st), 0);
	assert_int_equal(state_load(dir, "mx.example.org", &back, err,
	    sizeof(err)), 0);
	assert_true(rollover_state_equal(&st, &back));
	snprintf(path, sizeof(path), "%s/mx.example.org.state", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);

	/* Strays the list must skip. */
	snprintf(path, sizeof(path), "%s/mx.example.org.state.tmpAbC123", dir);
	write_file(path, "x", 1);
	snprintf(path, sizeof(path), "%s/README", dir);
	write_file(path, "x", 1);
	snprintf(path, sizeof(path), "%s/.hidden.state", dir);
	write_file(path, "x", 1);
	snprintf(path, sizeof(path), "%s/sub.state", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(state_list(dir, &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "a.example");
	assert_string_equal(names[1], "b.example");
	assert_string_equal(names[2], "mx.example.org");
	state_list_free(names, n);

	assert_int_equal(state_load(dir, "nope", &back, err, sizeof(err)),
	    -ENOENT);
	assert_int_equal(state_remove(dir, "a.example"), 0);
	assert_int_equal(state_remove(dir, "a.example"), 0);
	assert_int_equal(state_load(dir, "a.example", &back, err, sizeof(err)),
	    -ENOENT);
	/* A lineage file under another name is refused. */
	snprintf(path, sizeof(path), "%s/b.example.state", dir);
	assert_int_equal(util_read_file(path, STATE_FILE_MAX, &text, &len), 0);
	snprintf(path, sizeof(path), "%s/c.example.state", dir);
	write_file(path, text, len);
	free(text);
	assert_int_equal(state_load(dir, "c.example", &back, err, sizeof(err)),
	    TLSAD_ESTATE_CORRUPT);
	assert_non_null(strstr(err, "c.example.state:2: the file is for "
	    "lineage \"b.example\", not \"c.example\""));
	assert_int_equal(state_list("/nonexistent-dir-for-tlsad", &names, &n),
	    -ENOENT);
}

static void
test_names(void **unused)
{
	static const char *const bad[] = {
		"", ".", "..", ".hidden", "a/b", "/abs", "a b", "tab\there",
		"nl\n", "del\x7f",
	};
	struct rollover_state	st;
	char			buf[64];
	size_t			i;

	rollover_state_init(&st);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(state_name_valid(bad[i]), TLSAD_EINVAL);
		assert_int_equal(state_save(TLSAD_TEST_TMP, bad[i], &st),
		    TLSAD_EINVAL);
	}
	assert_int_equal(state_name_valid("mx.example.org"), 0);
	assert_int_equal(state_name_valid("mx-2_example.org"), 0);
	assert_int_equal(state_path("/var/lib/tlsad", "mx", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/var/lib/tlsad/mx.state");
	assert_int_equal(state_path("/var/lib/tlsad", "mx", buf, 10),
	    -ENAMETOOLONG);
	memset(buf, 'a', sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(state_name_valid(buf), 0);
}

struct bad_case {
	const char	*text;
	int		 code;
	const char	*msg;
};

#define HDR	"tlsad-state 1\nlineage a\n"
#define KEYA	"0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c"

static void
test_corrupt(void **unused)
{
	static const struct bad_case cases[] = {
		{ "", TLSAD_ESTATE_CORRUPT, "f:0: empty file" },
		{ "hello\n", TLSAD_ESTATE_CORRUPT, "f:1: not a tlsad state file" },
		{ "tlsad-state 2\nlineage a\nstage idle\n", TLSAD_ESTATE_VERSION,
		  "f:1: state file version 2; this tlsad reads version 1" },
		{ "tlsad-state x\n", TLSAD_ESTATE_CORRUPT, "f:1: bad version line" },
		{ HDR "stage idle", TLSAD_ESTATE_CORRUPT,
		  "f:3: the last line has no newline" },
		{ HDR "stage nap\n", TLSAD_ESTATE_CORRUPT,
		  "f:3: bad value for stage: \"nap\"" },
		{ HDR "stage idle\ncolour blue\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: unknown key \"colour\"" },
		{ HDR "stage idle\nstage hold\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: stage given twice" },
		{ HDR "stage idle\nfailures\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: expected \"key value\"" },
		{ HDR "stage idle\nfailures -1\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: bad value for failures" },
		{ HDR "stage idle\nfailures 99999999999\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: bad value for failures" },
		{ HDR "stage idle\nt0 2026-02-31T00:00:00.000Z\n",
		  TLSAD_ESTATE_CORRUPT, "f:4: bad value for t0" },
		{ HDR "stage idle\nt0 1764297000\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: bad value for t0" },
		{ HDR "stage idle\npublished " KEYA "00\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: bad value for published" },
		{ HDR "stage idle\npublished " KEYA "\npublished " KEYA "\n",
		  TLSAD_ESTATE_CORRUPT, "f:5: published key listed twice" },
		{ HDR "stage idle\ndeployed " KEYA "\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: bad value for deployed" },
		{ HDR "stage idle\ndeployed " KEYA " 1\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: inconsistent state: the deployed key is not among the "
		  "published keys" },
		{ HDR "stage deploy\n", TLSAD_ESTATE_CORRUPT,
		  "inconsistent state: deploying without a staged target" },
		{ HDR "stage idle\nlast-error -1404 DNS_SERVFAIL\n",
		  TLSAD_ESTATE_CORRUPT, "f:4: bad value for last-error" },
		{ HDR "stage idle\nadopt 2\n", TLSAD_ESTATE_CORRUPT,
		  "f:4: bad value for adopt" },
		{ "tlsad-state 1\nstage idle\n", TLSAD_ESTATE_CORRUPT,
		  "missing lineage line" },
		{ "tlsad-state 1\nlineage a/b\nstage idle\n", TLSAD_ESTATE_CORRUPT,
		  "f:2: bad lineage name" },
	};
	struct rollover_state	st;
	char			err[256];
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&st, 0x5a, sizeof(st));
		rc = state_parse(cases[i].text, strlen(cases[i].text), "f", NULL,
		    &st, err, sizeof(err));
		if (rc != cases[i].code || strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, rc,
			    err, cases[i].code, cases[i].msg);
		/* Nothing half-written on failure. */
		assert_int_equal(st.stage, 0x5a5a5a5a);
	}
	/* A NUL byte. */
	rc = state_parse(HDR "stage idle\n\0x\n", sizeof(HDR "stage idle\n\0x\n") - 1,
	    "f", NULL, &st, err, sizeof(err));
	assert_int_equal(rc, TLSAD_ESTATE_CORRUPT);
	assert_non_null(strstr(err, "NUL"));
	/* Comments and blank lines are fine (an admin may annotate). */
	rc = state_parse(HDR "# looked at it\n\nstage idle\n",
	    strlen(HDR "# looked at it\n\nstage idle\n"), "f", "a", &st, err,
	    sizeof(err));
	assert_int_equal(rc, 0);
}

static void
test_corrupt_file_untouched(void **unused)
{
	struct rollover_state	 st;
	char			 dir[512], path[600], err[256];
	char			*text = NULL, *big = NULL;
	size_t			 len;
	static const char	 garbage[] = "tlsad-state 1\nlineage mx\nstage ???\n";

	make_dir(dir, sizeof(dir), "corrupt");
	snprintf(path, sizeof(path), "%s/mx.state", dir);
	write_file(path, garbage, sizeof(garbage) - 1);
	assert_int_equal(state_load(dir, "mx", &st, err, sizeof(err)),
	    TLSAD_ESTATE_CORRUPT);
	assert_non_null(strstr(err, "mx.state:3: bad value for stage"));
	assert_int_equal(util_read_file(path, 4096, &text, &len), 0);
	assert_int_equal(len, sizeof(garbage) - 1);
	assert_memory_equal(text, garbage, len);
	free(text);

	/* Over the size cap. */
	big = malloc(STATE_FILE_MAX + 10);
	assert_non_null(big);
	memset(big, '#', STATE_FILE_MAX + 10);
	memcpy(big, "tlsad-state 1\n", 14);
	write_file(path, big, STATE_FILE_MAX + 10);
	assert_int_equal(state_load(dir, "mx", &st, err, sizeof(err)),
	    TLSAD_ETOOBIG);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(state_parse(big, STATE_FILE_MAX + 10, "f", NULL, &st,
	    err, sizeof(err)), TLSAD_ETOOBIG);
	free(big);
}

/* Mutated files: never a crash, never a state that breaks the rules. */
static void
test_mutations(void **unused)
{
	struct rollover_state	 st, back;
	char			*text = NULL, *m = NULL;
	size_t			 len, mlen, i;
	unsigned		 rng = 12345, iter, pos;
	char			 err[256], why[128];
	int			 rc, ok = 0;

	rich_state(&st);
	assert_int_equal(state_format("mx", &st, &text, &len), 0);
	m = malloc(len + 1);
	assert_non_null(m);
	for (iter = 0; iter < 20000; iter++) {
		memcpy(m, text, len);
		mlen = len;
		for (i = 0; i < 1 + iter % 3; i++) {
			rng = rng * 1103515245u + 12345u;
			pos = (rng >> 8) % (unsigned)mlen;
			switch ((rng >> 4) % 4) {
			case 0:		/* a random byte */
				m[pos] = (char)(rng >> 16);
				break;
			case 1:		/* a likely character */
				m[pos] = "-0 9\nfa:Z."[(rng >> 16) % 10];
				break;
			case 2:		/* truncate */
				mlen = pos + 1;
				break;
			default:	/* drop a byte */
				memmove(m + pos, m + pos + 1, mlen - pos - 1);
				mlen--;
				break;
			}
			if (mlen == 0)
				mlen = 1;
		}
		rc = state_parse(m, mlen, "f", "mx", &back, err, sizeof(err));
		if (rc == 0) {
			ok++;
			assert_int_equal(rollover_state_check(&back, why,
			    sizeof(why)), 0);
		} else {
			assert_true(rc == TLSAD_ESTATE_CORRUPT ||
			    rc == TLSAD_ESTATE_VERSION);
			assert_true(strncmp(err, "f:", 2) == 0);
		}
	}
	/* Some mutations are harmless (a digit in a time); most are not. */
	assert_true(ok > 0 && ok < 20000);
	free(m);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_message_sanitised),
		cmocka_unit_test(test_save_load_list),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_corrupt_file_untouched),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
