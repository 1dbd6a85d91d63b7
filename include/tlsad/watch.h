/*
 * watch.h -- notice certbot's renewals: inotify on live-dir and on every
 * live-dir/NAME/, debounced per lineage.
 *
 * certbot replaces the four live/NAME/ symlinks one at a time (unlink, then
 * symlink: IN_DELETE then IN_CREATE for each), so one renewal is a burst of
 * events.  Every event on a lineage arms (or pushes back) that lineage's
 * quiet-period deadline; when the deadline passes with no further event the
 * watcher reports "lineage NAME settled" once.  Many events, one report.
 * The caller still has to check that the settled lineage is consistent: a
 * quiet period proves only that nothing moved for a while.
 *
 * The debounce (struct watch_debounce) is pure: it has no I/O and takes the
 * clock as a parameter, so it is tested with a fake clock.  struct watch
 * wraps it around a non-blocking inotify descriptor for an epoll loop:
 *
 *	watch_new(live_dir, quiet_ms, &w);
 *	watch_rescan(w, now);			   add watches for what exists
 *	epoll on watch_fd(w); when readable:	   watch_handle(w, now);
 *	arm a timer at watch_next_deadline(w)	   (-1: nothing pending, no timer)
 *	when it fires:				   watch_take(w, now, cb, arg);
 *
 * or, with the evloop module, watch_attach(w, ev, cb, arg) does the last
 * three lines.
 *
 * An inotify queue overflow (IN_Q_OVERFLOW), or live-dir itself vanishing,
 * is reported as WATCH_RESCAN (after the same quiet period): the caller must
 * then look at every lineage, as events were lost.  The periodic rescan
 * (hourly by default) is the caller's timer; it calls watch_rescan(), which
 * (re)adds watches for every directory present and is idempotent.
 *
 * Times are milliseconds of a monotonic clock (util_now_mono_ms()).
 */
#ifndef TLSAD_WATCH_H
#define TLSAD_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct evloop;

/* Upper bound on lineages tracked at once; past it the watcher asks for a rescan. */
#define WATCH_MAX_PENDING	65536
/* Longest lineage directory name (a DNS name fits: 253). */
#define WATCH_NAME_MAX		255

enum watch_event {
	WATCH_SETTLED = 1,	/* lineage NAME changed, then stayed quiet */
	WATCH_RESCAN = 2,	/* events were lost: look at every lineage; name is NULL */
};

/* Called once per report by watch_take()/watch_debounce_take(). */
typedef void	watch_fn(void *arg, enum watch_event ev, const char *name);

/* ---- the pure debounce ---- */

struct watch_pending {
	char	*name;
	int64_t	 deadline;	/* report when now >= deadline */
};

struct watch_debounce {
	int64_t			 quiet_ms;
	struct watch_pending	*pending;	/* unordered */
	size_t			 npending;
	size_t			 cap;
	int64_t			 rescan_deadline; /* -1: no rescan pending */
};

/* Start empty with the given quiet period (ms, >= 0). */
void	watch_debounce_init(struct watch_debounce *d, int64_t quiet_ms);
/* Free what it holds; it may be init'ed again. */
void	watch_debounce_clear(struct watch_debounce *d);

/*
 * An event on lineage name at now: arm or push its deadline to
 * now + quiet_ms.  Out of memory or past WATCH_MAX_PENDING the event turns
 * into a rescan request (nothing is lost); the return value is then the
 * error, for the caller to log, but the debounce stays consistent.
 */
int	watch_debounce_note(struct watch_debounce *d, const char *name, int64_t now);

/* Events were lost at now: arm or push the rescan deadline. */
void	watch_debounce_note_rescan(struct watch_debounce *d, int64_t now);

/* Earliest deadline pending, or -1 when nothing is (idle: no timer). */
int64_t	watch_debounce_next_deadline(const struct watch_debounce *d);

/*
 * Report (and forget) every deadline that passed at now: WATCH_RESCAN first
 * if due, then WATCH_SETTLED for each due lineage.  cb may call
 * watch_debounce_note() (the new note is kept, not reported in this call).
 * Returns the number of reports.
 */
size_t	watch_debounce_take(struct watch_debounce *d, int64_t now, watch_fn *cb,
	    void *arg);

/* ---- the inotify watcher ---- */

struct watch;

/*
 * Create a watcher for live_dir (copied) with the given quiet period.  It
 * watches nothing until watch_rescan() is called.  On success *out is the
 * caller's (watch_free).
 */
int	watch_new(const char *live_dir, int64_t quiet_ms, struct watch **out);
void	watch_free(struct watch *w);

/* The inotify descriptor (non-blocking, close-on-exec) to poll for EPOLLIN. */
int	watch_fd(const struct watch *w);

/*
 * Add watches on live_dir and every directory in it (again: harmless), and
 * drop the ones whose directory is gone.  Does not report anything by
 * itself: the caller that asks for a rescan looks at every lineage anyway.
 * Returns 0, or the error of watching live_dir itself (-ENOENT while certbot
 * has not created it yet: the watcher stays usable, watches the parent
 * directory, and when live_dir appears there adds it and reports
 * WATCH_RESCAN).  Errors on single lineage directories are logged and
 * skipped.
 */
int	watch_rescan(struct watch *w, int64_t now);

/*
 * Read every pending inotify event (until EAGAIN) and feed the debounce.
 * Adds a watch for each lineage directory created or moved in, drops the
 * watch of one that is deleted or moved away (IN_IGNORED).  Returns 0 or a
 * read error (negated errno).
 */
int	watch_handle(struct watch *w, int64_t now);

/* watch_debounce_next_deadline() of the watcher: -1 when nothing is pending. */
int64_t	watch_next_deadline(const struct watch *w);

/* watch_debounce_take() of the watcher. */
size_t	watch_take(struct watch *w, int64_t now, watch_fn *cb, void *arg);

/* Number of directories watched now (live_dir included), for status and tests. */
size_t	watch_count(const struct watch *w);

/*
 * Run the watcher on ev: its fd calls watch_handle(), one evloop timer is
 * kept at watch_next_deadline() (disarmed when nothing is pending), and
 * when it fires watch_take() calls cb.  After a direct call to
 * watch_rescan() nothing needs re-arming (a rescan reports nothing).
 * watch_free() detaches it (never from inside cb).
 */
int	watch_attach(struct watch *w, struct evloop *ev, watch_fn *cb, void *arg);

#endif /* TLSAD_WATCH_H */
