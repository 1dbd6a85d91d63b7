/*
 * test_watch.c -- the lineage watcher.
 *
 * The debounce is driven with a fake clock (no sleeping); the inotify part
 * runs for real in a temp dir with a short quiet period: a certbot-style
 * renewal (four unlink + symlink swaps with small pauses) must give exactly
 * one "settled" report, new lineage directories are picked up without a
 * rescan, removed ones drop their watch.
 */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/error.h"
#include "tlsad/evloop.h"
#include "tlsad/log.h"
#include "tlsad/util.h"
#include "tlsad/watch.h"

#define MAXREP	64

struct rec {
	int	n;
	int	ev[MAXREP];
	char	name[MAXREP][WATCH_NAME_MAX + 1];
	/* for the re-entrancy test */
	struct watch_debounce	*deb;
	int64_t			 renote_at;
};

static void
record(void *arg, enum watch_event ev, const char *name)
{
	struct rec	*r = arg;

	assert_true(r->n < MAXREP);
	r->ev[r->n] = ev;
	snprintf(r->name[r->n], sizeof(r->name[0]), "%s",
	    name != NULL ? name : "(null)");
	r->n++;
	if (r->deb != NULL && name != NULL)
		assert_int_equal(watch_debounce_note(r->deb, name, r->renote_at), 0);
}

/* ---- the pure debounce, fake clock ---- */

static void
test_debounce_idle(void **state)
{
	struct watch_debounce	d;
	struct rec		r = { 0 };

	(void)state;
	watch_debounce_init(&d, 2000);
	assert_int_equal(watch_debounce_next_deadline(&d), -1);
	assert_int_equal(watch_debounce_take(&d, 1000000, record, &r), 0);
	assert_int_equal(r.n, 0);
	watch_debounce_clear(&d);
}

static void
test_debounce_burst_one_report(void **state)
{
	struct watch_debounce	d;
	struct rec		r = { 0 };
	int64_t			t;

	(void)state;
	watch_debounce_init(&d, 2000);
	/* certbot: 8 events (4 x unlink + symlink) 100 ms apart */
	for (t = 10000; t < 10800; t += 100) {
		assert_int_equal(watch_debounce_note(&d, "mx.example.org", t), 0);
		assert_int_equal(watch_debounce_next_deadline(&d), t + 2000);
		/* nothing is due while events keep coming */
		assert_int_equal(watch_debounce_take(&d, t, record, &r), 0);
	}
	/* last event at 10700: due at 12700, not a millisecond before */
	assert_int_equal(watch_debounce_take(&d, 12699, record, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(watch_debounce_take(&d, 12700, record, &r), 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0], WATCH_SETTLED);
	assert_string_equal(r.name[0], "mx.example.org");
	/* reported once, then idle */
	assert_int_equal(watch_debounce_next_deadline(&d), -1);
	assert_int_equal(watch_debounce_take(&d, 99999, record, &r), 0);
	assert_int_equal(r.n, 1);
	watch_debounce_clear(&d);
}

static void
test_debounce_two_lineages(void **state)
{
	struct watch_debounce	d;
	struct rec		r = { 0 };

	(void)state;
	watch_debounce_init(&d, 1000);
	assert_int_equal(watch_debounce_note(&d, "a", 0), 0);
	assert_int_equal(watch_debounce_note(&d, "b", 300), 0);
	assert_int_equal(watch_debounce_next_deadline(&d), 1000);
	assert_int_equal(watch_debounce_note(&d, "a", 900), 0);	/* pushes a */
	assert_int_equal(watch_debounce_next_deadline(&d), 1300);
	assert_int_equal(watch_debounce_take(&d, 1300, record, &r), 1);
	assert_string_equal(r.name[0], "b");
	assert_int_equal(watch_debounce_next_deadline(&d), 1900);
	assert_int_equal(watch_debounce_take(&d, 5000, record, &r), 1);
	assert_string_equal(r.name[1], "a");
	assert_int_equal(r.n, 2);
	watch_debounce_clear(&d);
}

static void
test_debounce_rescan(void **state)
{
	struct watch_debounce	d;
	struct rec		r = { 0 };

	(void)state;
	watch_debounce_init(&d, 500);
	assert_int_equal(watch_debounce_note(&d, "a", 0), 0);
	watch_debounce_note_rescan(&d, 100);
	watch_debounce_note_rescan(&d, 200);	/* pushed like any event */
	assert_int_equal(watch_debounce_next_deadline(&d), 500);
	assert_int_equal(watch_debounce_take(&d, 699, record, &r), 1);
	assert_int_equal(r.ev[0], WATCH_SETTLED);
	assert_int_equal(watch_debounce_take(&d, 700, record, &r), 1);
	assert_int_equal(r.ev[1], WATCH_RESCAN);
	assert_string_equal(r.name[1], "(null)");
	assert_int_equal(watch_debounce_next_deadline(&d), -1);
	watch_debounce_clear(&d);
}

/* A note made from inside the callback waits for its own quiet period. */
static void
test_debounce_reentrant(void **state)
{
	struct watch_debounce	d;
	struct rec		r = { 0 };

	(void)state;
	watch_debounce_init(&d, 100);
	r.deb = &d;
	r.renote_at = 150;
	assert_int_equal(watch_debounce_note(&d, "a", 0), 0);
	assert_int_equal(watch_debounce_note(&d, "b", 10), 0);
	assert_int_equal(watch_debounce_take(&d, 150, record, &r), 2);
	assert_int_equal(d.npending, 2);
	assert_int_equal(watch_debounce_next_deadline(&d), 250);
	r.deb = NULL;
	assert_int_equal(watch_debounce_take(&d, 249, record, &r), 0);
	assert_int_equal(watch_debounce_take(&d, 250, record, &r), 2);
	assert_int_equal(r.n, 4);
	watch_debounce_clear(&d);
}

static void
test_debounce_zero_quiet(void **state)
{
	struct watch_debounce	d;
	struct rec		r = { 0 };

	(void)state;
	watch_debounce_init(&d, -5);	/* clamped to 0 */
	assert_int_equal(watch_debounce_note(&d, "a", 42), 0);
	assert_int_equal(watch_debounce_next_deadline(&d), 42);
	assert_int_equal(watch_debounce_take(&d, 42, record, &r), 1);
	watch_debounce_clear(&d);
}

/* ---- real inotify in a temp dir ---- */

struct fixture {
	char	top[256];
	char	live[300];
	char	archive[300];
};

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rmtree(const char *path)
{
	assert_int_equal(nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static void
mkdir_ok(const char *path)
{
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static int
setup_dir(void **state)
{
	struct fixture	*f;
	const char	*tmp = getenv("TMPDIR");

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->top, sizeof(f->top), "%s/tlsad-watch.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(f->top) == NULL)
		return -1;
	snprintf(f->live, sizeof(f->live), "%s/live", f->top);
	snprintf(f->archive, sizeof(f->archive), "%s/archive", f->top);
	*state = f;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct fixture	*f = *state;

	rmtree(f->top);
	free(f);
	return 0;
}

static const char *const kinds[] = { "cert", "chain", "fullchain", "privkey" };

/* Version v of lineage NAME's archive files. */
static void
make_archive(struct fixture *f, const char *name, int v)
{
	char	path[800];
	int	i;

	mkdir_ok(f->archive);
	snprintf(path, sizeof(path), "%s/%s", f->archive, name);
	mkdir_ok(path);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s%d.pem", f->archive, name,
		    kinds[i], v);
		write_file(path, "x\n");
	}
}

/* A certbot lineage NAME at version 1, as certbot lays it out. */
static void
make_lineage(struct fixture *f, const char *name)
{
	char	link[800], target[800];
	int	i;

	make_archive(f, name, 1);
	mkdir_ok(f->live);
	snprintf(link, sizeof(link), "%s/%s", f->live, name);
	mkdir_ok(link);
	for (i = 0; i < 4; i++) {
		snprintf(link, sizeof(link), "%s/%s/%s.pem", f->live, name,
		    kinds[i]);
		snprintf(target, sizeof(target), "../../archive/%s/%s1.pem",
		    name, kinds[i]);
		assert_int_equal(symlink(target, link), 0);
	}
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Run the watcher as the daemon would (poll the fd, sleep until the
 * deadline, take the reports) for at most ms milliseconds.
 */
static void
pump(struct watch *w, int64_t ms, struct rec *r)
{
	struct pollfd	pfd;
	int64_t		now, end, dl, wait;

	end = util_now_mono_ms() + ms;
	for (;;) {
		now = util_now_mono_ms();
		if (now >= end)
			break;
		dl = watch_next_deadline(w);
		wait = end - now;
		if (dl >= 0 && dl - now < wait)
			wait = dl - now < 0 ? 0 : dl - now;
		pfd.fd = watch_fd(w);
		pfd.events = POLLIN;
		pfd.revents = 0;
		assert_true(poll(&pfd, 1, (int)wait) >= 0);
		now = util_now_mono_ms();
		if (pfd.revents & POLLIN)
			assert_int_equal(watch_handle(w, now), 0);
		(void)watch_take(w, now, record, r);
	}
}

#define QUIET	250

static void
test_inotify_certbot_renewal(void **state)
{
	struct fixture	*f = *state;
	struct watch	*w = NULL;
	struct rec	 r = { 0 };
	int		 i;

	make_lineage(f, "mx.example.org");
	make_lineage(f, "other.example.org");
	assert_int_equal(watch_new(f->live, QUIET, &w), 0);
	assert_int_equal(watch_rescan(w, util_now_mono_ms()), 0);
	assert_int_equal(watch_count(w), 3);
	assert_int_equal(watch_next_deadline(w), -1);	/* idle: no timer */

	/* certbot renew: new files in archive/, then the four links swapped */
	make_archive(f, "mx.example.org", 2);
	for (i = 0; i < 4; i++) {
		char	link[600], target[300];

		snprintf(link, sizeof(link), "%s/mx.example.org/%s.pem",
		    f->live, kinds[i]);
		snprintf(target, sizeof(target),
		    "../../archive/mx.example.org/%s2.pem", kinds[i]);
		assert_int_equal(unlink(link), 0);
		sleep_ms(10);
		assert_int_equal(symlink(target, link), 0);
		/* pauses under the quiet period, but the whole swap lasts longer than it */
		pump(w, 100, &r);
		assert_int_equal(r.n, 0);
	}
	assert_true(watch_next_deadline(w) > 0);
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0], WATCH_SETTLED);
	assert_string_equal(r.name[0], "mx.example.org");
	assert_int_equal(watch_next_deadline(w), -1);
	watch_free(w);
}

static void
test_inotify_new_and_removed_lineage(void **state)
{
	struct fixture	*f = *state;
	struct watch	*w = NULL;
	struct rec	 r = { 0 };
	char		 path[600];
	char		 readme[600];


	mkdir_ok(f->live);
	snprintf(readme, sizeof(readme), "%s/README", f->live);
	write_file(readme, "certbot's README\n");
	assert_int_equal(watch_new(f->live, QUIET, &w), 0);
	assert_int_equal(watch_rescan(w, util_now_mono_ms()), 0);
	assert_int_equal(watch_count(w), 1);

	/* a file in live/ is no lineage */
	write_file(readme, "changed\n");
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 0);

	/* certbot certonly: a new lineage directory, then its links */
	make_lineage(f, "new.example.org");
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.name[0], "new.example.org");
	assert_int_equal(watch_count(w), 2);

	/* the new directory is watched: a later change inside it is seen */
	snprintf(path, sizeof(path), "%s/new.example.org/cert.pem", f->live);
	assert_int_equal(unlink(path), 0);
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.name[1], "new.example.org");

	/* certbot delete: the watch goes away with the directory (IN_IGNORED) */
	snprintf(path, sizeof(path), "%s/new.example.org", f->live);
	rmtree(path);
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.name[2], "new.example.org");
	assert_int_equal(watch_count(w), 1);
	watch_free(w);
}

static void
test_inotify_live_dir_appears_later(void **state)
{
	struct fixture	*f = *state;
	struct watch	*w = NULL;
	struct rec	 r = { 0 };
	char		 from[600], moved[600];
	int		 i, rescans;

	assert_int_equal(watch_new(f->live, QUIET, &w), 0);
	assert_int_equal(watch_rescan(w, util_now_mono_ms()), -ENOENT);
	assert_int_equal(watch_count(w), 0);
	/* certbot's first run creates live/: seen at once, not at a rescan */
	make_lineage(f, "a.example");
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0], WATCH_RESCAN);
	assert_int_equal(watch_count(w), 2);
	r.n = 0;
	/* rescan again: idempotent */
	assert_int_equal(watch_rescan(w, util_now_mono_ms()), 0);
	assert_int_equal(watch_count(w), 2);

	/* a lineage renamed away and back: the watch follows the name */
	snprintf(moved, sizeof(moved), "%s/b.example", f->live);
	snprintf(from, sizeof(from), "%s/a.example", f->live);
	assert_int_equal(rename(from, moved), 0);
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 2);	/* a gone, b new; order by deadline */
	assert_int_equal(watch_count(w), 2);

	/* live-dir itself removed: events were lost, ask for a rescan */
	rmtree(f->live);
	pump(w, QUIET * 3, &r);
	assert_true(r.n >= 3);
	for (i = 2, rescans = 0; i < r.n; i++)
		rescans += r.ev[i] == WATCH_RESCAN;
	assert_int_equal(rescans, 1);
	assert_int_equal(watch_count(w), 0);
	assert_int_equal(watch_rescan(w, util_now_mono_ms()), -ENOENT);

	/* and when it comes back, it is watched again */
	r.n = 0;
	mkdir_ok(f->live);
	pump(w, QUIET * 3, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0], WATCH_RESCAN);
	assert_int_equal(watch_count(w), 1);
	watch_free(w);
}

/* More events than the kernel queues: IN_Q_OVERFLOW becomes one RESCAN. */
static void
test_inotify_overflow(void **state)
{
	struct fixture	*f = *state;
	struct watch	*w = NULL;
	struct rec	 r = { 0 };
	char		 link[600];
	FILE		*fp;
	unsigned long	 max = 0;
	unsigned long	 i;
	int		 rescans = 0, j;

	fp = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	if (fp == NULL || fscanf(fp, "%lu", &max) != 1 || max > 1000000) {
		if (fp != NULL)
			fclose(fp);
		skip();
	}
	fclose(fp);
	make_lineage(f, "a.example");
	assert_int_equal(watch_new(f->live, QUIET, &w), 0);
	assert_int_equal(watch_rescan(w, util_now_mono_ms()), 0);
	/* two events per round (IN_CREATE, IN_DELETE), none read meanwhile */
	snprintf(link, sizeof(link), "%s/a.example/x.pem", f->live);
	for (i = 0; i < max / 2 + 64; i++) {
		assert_int_equal(symlink("cert.pem", link), 0);
		assert_int_equal(unlink(link), 0);
	}
	pump(w, QUIET * 3, &r);
	for (j = 0; j < r.n; j++)
		rescans += r.ev[j] == WATCH_RESCAN;
	assert_int_equal(rescans, 1);
	/* the watches are still in place after the internal rescan */
	assert_int_equal(watch_count(w), 2);
	watch_free(w);
}

/* The same renewal through watch_attach() and the event loop. */
static void
test_attached_to_evloop(void **state)
{
	struct fixture	*f = *state;
	struct watch	*w = NULL;
	struct evloop	*ev = NULL;
	struct rec	 r = { 0 };
	char		 link[600], target[300];
	int64_t		 end;
	int		 i;

	make_lineage(f, "mx.example.org");
	make_archive(f, "mx.example.org", 2);
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(watch_new(f->live, QUIET, &w), 0);
	assert_int_equal(watch_rescan(w, util_now_mono_ms()), 0);
	assert_int_equal(watch_attach(w, ev, record, &r), 0);
	assert_int_equal(watch_attach(w, ev, record, &r), TLSAD_EINVAL);
	for (i = 0; i < 4; i++) {
		snprintf(link, sizeof(link), "%s/mx.example.org/%s.pem",
		    f->live, kinds[i]);
		snprintf(target, sizeof(target),
		    "../../archive/mx.example.org/%s2.pem", kinds[i]);
		assert_int_equal(unlink(link), 0);
		assert_int_equal(symlink(target, link), 0);
		end = util_now_mono_ms() + 100;
		while (util_now_mono_ms() < end)
			assert_true(evloop_run_once(ev, 20) >= 0);
	}
	assert_int_equal(r.n, 0);
	end = util_now_mono_ms() + QUIET * 3;
	while (r.n == 0 && util_now_mono_ms() < end)
		assert_true(evloop_run_once(ev, QUIET * 3) >= 0); /* only its timer reports */
	assert_int_equal(r.n, 1);
	assert_string_equal(r.name[0], "mx.example.org");
	/* idle again: nothing armed, nothing wakes the loop */
	assert_int_equal(evloop_run_once(ev, QUIET), 0);
	assert_int_equal(r.n, 1);
	watch_free(w);
	evloop_free(ev);
}

static void
test_new_bad_args(void **state)
{
	struct watch	*w = NULL;

	(void)state;
	assert_int_equal(watch_new("", 100, &w), TLSAD_EINVAL);
	assert_null(w);
	watch_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debounce_idle),
		cmocka_unit_test(test_debounce_burst_one_report),
		cmocka_unit_test(test_debounce_two_lineages),
		cmocka_unit_test(test_debounce_rescan),
		cmocka_unit_test(test_debounce_reentrant),
		cmocka_unit_test(test_debounce_zero_quiet),
		cmocka_unit_test(test_new_bad_args),
		cmocka_unit_test_setup_teardown(test_inotify_certbot_renewal,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_inotify_new_and_removed_lineage,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_attached_to_evloop,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_inotify_overflow,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_inotify_live_dir_appears_later,
		    setup_dir, teardown_dir),
	};

	log_init("test_watch", LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
