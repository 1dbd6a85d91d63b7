/*
 * evloop.h -- the daemon's one event loop: epoll, a signalfd, and one
 * timerfd armed at the earliest registered deadline.
 *
 * Idle means asleep: when no timer is armed the timerfd is disarmed and
 * epoll_wait() blocks until a descriptor or a signal wakes it.  There is no
 * polling tick.
 *
 *	evloop_new(&ev);			  blocks SIGHUP SIGTERM SIGINT SIGCHLD
 *	evloop_on_signal(ev, sigcb, arg);
 *	evloop_add_fd(ev, watch_fd(w), EPOLLIN, oncb, arg);
 *	evloop_timer_add(ev, timercb, arg, &t);	  then evloop_timer_set(ev, t, deadline)
 *	evloop_run(ev);				  until a callback calls evloop_stop()
 *
 * The signals are blocked in the calling thread by evloop_new() so that
 * they arrive through the signalfd only.  A child started with posix_spawn()
 * inherits that mask: reset it with posix_spawnattr_setsigmask() (and
 * POSIX_SPAWN_SETSIGMASK) or the child cannot be stopped by SIGTERM/SIGHUP.
 * evloop_free() restores the mask it found.
 *
 * Times are milliseconds of CLOCK_MONOTONIC (util_now_mono_ms()).
 * Callbacks may add, remove and re-arm fds and timers, and call
 * evloop_stop(), from inside any callback.
 */
#ifndef TLSAD_EVLOOP_H
#define TLSAD_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

struct evloop;

/* A descriptor is ready: events is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLHUP...). */
typedef void	evloop_fd_fn(struct evloop *ev, int fd, uint32_t events, void *arg);
/* One of the handled signals arrived (one call per signalfd record). */
typedef void	evloop_signal_fn(struct evloop *ev, int signo, void *arg);
/* A timer's deadline passed; it is disarmed before the call (re-arm to repeat). */
typedef void	evloop_timer_fn(struct evloop *ev, int timer, int64_t now, void *arg);

/* Most timers one loop holds; the daemon needs a handful. */
#define EVLOOP_MAX_TIMERS	64

/*
 * Create a loop; blocks SIGHUP, SIGTERM, SIGINT and SIGCHLD in the calling
 * thread and receives them through a signalfd.  *out is the caller's.
 */
int	evloop_new(struct evloop **out);
/*
 * Close everything and restore the signal mask.  Accepts NULL.  Detach what
 * is attached to it first (watch_free(), ctl_server_close()): they remove
 * their fds and timers from the loop.
 */
void	evloop_free(struct evloop *ev);

/* Set the one signal handler (NULL: signals are read and dropped). */
void	evloop_on_signal(struct evloop *ev, evloop_signal_fn *cb, void *arg);

/* Watch fd (borrowed: the caller closes it after evloop_del_fd()). */
int	evloop_add_fd(struct evloop *ev, int fd, uint32_t events,
	    evloop_fd_fn *cb, void *arg);
/* Change the events of a watched fd. */
int	evloop_mod_fd(struct evloop *ev, int fd, uint32_t events);
/* Stop watching fd; safe from inside its own callback.  -ENOENT if unknown. */
int	evloop_del_fd(struct evloop *ev, int fd);

/* Register a timer (disarmed); *id names it for set/del. */
int	evloop_timer_add(struct evloop *ev, evloop_timer_fn *cb, void *arg, int *id);
/* Arm timer id at the absolute monotonic deadline (ms); -1 disarms. */
int	evloop_timer_set(struct evloop *ev, int id, int64_t deadline);
/* The deadline of timer id, or -1 when disarmed or unknown. */
int64_t	evloop_timer_get(const struct evloop *ev, int id);
/* Forget timer id. */
int	evloop_timer_del(struct evloop *ev, int id);

/*
 * Wait once (up to timeout_ms; -1: until something happens) and dispatch:
 * signals, then ready descriptors, then timers that are due.  Returns the
 * number of callbacks run, or a negative error.
 */
int	evloop_run_once(struct evloop *ev, int timeout_ms);
/* evloop_run_once(ev, -1) until evloop_stop(); returns 0 or an error. */
int	evloop_run(struct evloop *ev);
/* Make evloop_run() return after the current dispatch. */
void	evloop_stop(struct evloop *ev);

/* Number of wakeups (epoll_wait returns) so far: tests check idleness. */
uint64_t evloop_wakeups(const struct evloop *ev);

#endif /* TLSAD_EVLOOP_H */
