/*
 * test_evloop.c -- the event loop: timers fire at their deadline and only
 * then (no polling tick), descriptors dispatch and may be removed from
 * inside callbacks, signals arrive through the signalfd, and the signal
 * mask is restored afterwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/error.h"
#include "tlsad/evloop.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

struct tstate {
	int	fired[8];
	int64_t	at[8];
	int	order[8];
	int	norder;
	int	rearm_id;	/* re-arm this timer once, at its old deadline */
	int64_t	rearm_to;
	int	stop_after;
};

static void
on_timer(struct evloop *ev, int id, int64_t now, void *arg)
{
	struct tstate	*s = arg;

	assert_true(id >= 0 && id < 8);
	s->fired[id]++;
	s->at[id] = now;
	s->order[s->norder++] = id;
	if (id == s->rearm_id && s->fired[id] == 1)
		assert_int_equal(evloop_timer_set(ev, id, s->rearm_to), 0);
	if (s->stop_after > 0 && s->norder >= s->stop_after)
		evloop_stop(ev);
}

static void
test_timers_in_order(void **state)
{
	struct evloop	*ev = NULL;
	struct tstate	 s;
	int64_t		 t0;
	int		 a, b, c;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.rearm_id = -1;
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(evloop_timer_add(ev, on_timer, &s, &a), 0);
	assert_int_equal(evloop_timer_add(ev, on_timer, &s, &b), 0);
	assert_int_equal(evloop_timer_add(ev, on_timer, &s, &c), 0);
	t0 = util_now_mono_ms();
	assert_int_equal(evloop_timer_set(ev, a, t0 + 120), 0);
	assert_int_equal(evloop_timer_set(ev, b, t0 + 40), 0);
	/* c stays disarmed and never fires */
	assert_int_equal(evloop_timer_get(ev, c), -1);
	s.stop_after = 2;
	assert_int_equal(evloop_run(ev), 0);
	assert_int_equal(s.norder, 2);
	assert_int_equal(s.order[0], b);
	assert_int_equal(s.order[1], a);
	assert_true(s.at[b] >= t0 + 40);
	assert_true(s.at[a] >= t0 + 120);
	assert_int_equal(s.fired[c], 0);
	/* fired timers are disarmed */
	assert_int_equal(evloop_timer_get(ev, a), -1);
	assert_int_equal(evloop_timer_del(ev, c), 0);
	assert_int_equal(evloop_timer_set(ev, c, 5), TLSAD_EINVAL);
	evloop_free(ev);
}

/* Idle means asleep: nothing armed, nothing ready, no callback, one wakeup. */
static void
test_idle_no_tick(void **state)
{
	struct evloop	*ev = NULL;
	struct tstate	 s;
	int64_t		 t0;
	int		 a;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.rearm_id = -1;
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(evloop_timer_add(ev, on_timer, &s, &a), 0);
	/* armed and then disarmed: the timerfd must be disarmed too */
	assert_int_equal(evloop_timer_set(ev, a, util_now_mono_ms() + 20), 0);
	assert_int_equal(evloop_run_once(ev, 0), 0);
	assert_int_equal(evloop_timer_set(ev, a, -1), 0);
	t0 = util_now_mono_ms();
	assert_int_equal(evloop_run_once(ev, 300), 0);
	assert_true(util_now_mono_ms() - t0 >= 290);
	assert_int_equal(s.norder, 0);
	assert_int_equal(evloop_wakeups(ev), 2);
	evloop_free(ev);
}

/* A deadline in the past fires at once; re-arming at the same one works. */
static void
test_past_and_rearm(void **state)
{
	struct evloop	*ev = NULL;
	struct tstate	 s;
	int64_t		 t0;
	int		 a;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(evloop_timer_add(ev, on_timer, &s, &a), 0);
	t0 = util_now_mono_ms();
	s.rearm_id = a;
	s.rearm_to = t0 - 1000;		/* already passed: fires again */
	assert_int_equal(evloop_timer_set(ev, a, t0 - 1000), 0);
	assert_int_equal(evloop_run_once(ev, 1000), 1);
	assert_int_equal(s.fired[a], 1);
	assert_int_equal(evloop_run_once(ev, 1000), 1);
	assert_int_equal(s.fired[a], 2);
	assert_true(util_now_mono_ms() - t0 < 500);
	/* deadline 0 must not disarm the timerfd (it_value zero) */
	assert_int_equal(evloop_timer_set(ev, a, 0), 0);
	assert_int_equal(evloop_run_once(ev, 1000), 1);
	assert_int_equal(s.fired[a], 3);
	evloop_free(ev);
}

struct fstate {
	int	 calls[2];
	int	 fds[2];	/* read ends */
	int	 kill_other;
};

static void
on_fd(struct evloop *ev, int fd, uint32_t events, void *arg)
{
	struct fstate	*s = arg;
	char		 c;
	int		 i = fd == s->fds[0] ? 0 : 1;

	assert_true(events & EPOLLIN);
	s->calls[i]++;
	assert_int_equal(read(fd, &c, 1), 1);
	if (s->kill_other) {
		/* both are ready in this round: removing the other is safe */
		assert_int_equal(evloop_del_fd(ev, s->fds[1 - i]), 0);
		s->kill_other = 0;
	}
}

static void
test_fds(void **state)
{
	struct evloop	*ev = NULL;
	struct fstate	 s;
	int		 p0[2], p1[2];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(pipe(p0), 0);
	assert_int_equal(pipe(p1), 0);
	s.fds[0] = p0[0];
	s.fds[1] = p1[0];
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(evloop_add_fd(ev, p0[0], EPOLLIN, on_fd, &s), 0);
	assert_int_equal(evloop_add_fd(ev, p0[0], EPOLLIN, on_fd, &s), -EEXIST);
	assert_int_equal(evloop_add_fd(ev, p1[0], EPOLLIN, on_fd, &s), 0);
	assert_int_equal(write(p0[1], "a", 1), 1);
	assert_int_equal(evloop_run_once(ev, 1000), 1);
	assert_int_equal(s.calls[0], 1);
	assert_int_equal(s.calls[1], 0);

	s.kill_other = 1;
	assert_int_equal(write(p0[1], "b", 1), 1);
	assert_int_equal(write(p1[1], "c", 1), 1);
	assert_int_equal(evloop_run_once(ev, 1000), 1);	/* one of them only */
	assert_int_equal(s.calls[0] + s.calls[1], 2);
	assert_int_equal(evloop_del_fd(ev, p0[0]) == 0 ||
	    evloop_del_fd(ev, p1[0]) == 0, 1);
	assert_int_equal(evloop_del_fd(ev, 12345), -ENOENT);
	assert_int_equal(evloop_run_once(ev, 50), 0);
	evloop_free(ev);
	close(p0[0]);
	close(p0[1]);
	close(p1[0]);
	close(p1[1]);
}

struct sstate {
	int	got[65];
	int	n;
};

static void
on_signal(struct evloop *ev, int signo, void *arg)
{
	struct sstate	*s = arg;

	(void)ev;
	assert_true(signo > 0 && signo < 65);
	s->got[signo]++;
	s->n++;
}

static void
test_signals(void **state)
{
	struct evloop	*ev = NULL;
	struct sstate	 s;
	sigset_t	 cur;
	int		 i;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(evloop_new(&ev), 0);
	evloop_on_signal(ev, on_signal, &s);
	/* blocked: these wait for the signalfd instead of killing us */
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	for (i = 0; i < 10 && s.n < 2; i++)
		assert_true(evloop_run_once(ev, 1000) >= 0);
	assert_int_equal(s.got[SIGHUP], 1);
	assert_int_equal(s.got[SIGTERM], 1);
	evloop_free(ev);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	assert_false(sigismember(&cur, SIGHUP));
	assert_false(sigismember(&cur, SIGTERM));
	assert_false(sigismember(&cur, SIGCHLD));
}

static void
test_timer_table_full(void **state)
{
	struct evloop	*ev = NULL;
	struct tstate	 s;
	int		 i, id;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(evloop_new(&ev), 0);
	for (i = 0; i < EVLOOP_MAX_TIMERS; i++)
		assert_int_equal(evloop_timer_add(ev, on_timer, &s, &id), 0);
	assert_int_equal(evloop_timer_add(ev, on_timer, &s, &id), TLSAD_ETOOBIG);
	assert_int_equal(evloop_timer_add(ev, NULL, &s, &id), TLSAD_EINVAL);
	evloop_free(ev);
	evloop_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_in_order),
		cmocka_unit_test(test_idle_no_tick),
		cmocka_unit_test(test_past_and_rearm),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_timer_table_full),
	};

	log_init("test_evloop", LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
