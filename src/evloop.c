/*
 * evloop.c -- epoll + signalfd + one timerfd at the earliest deadline.
 *
 * Responsible for sleeping when nothing is due: the timerfd is re-armed
 * before every wait to the earliest armed timer, or disarmed when there is
 * none, so an idle daemon makes no wakeups of its own.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "tlsad/error.h"
#include "tlsad/evloop.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

struct fdh {
	int		 fd;
	int		 dead;		/* deleted; freed after the dispatch */
	evloop_fd_fn	*cb;
	void		*arg;
	struct fdh	*next;
};

struct timer {
	int		 used;
	int64_t		 deadline;	/* -1: disarmed */
	evloop_timer_fn	*cb;
	void		*arg;
};

struct evloop {
	int			 epfd;
	int			 sigfd;
	int			 tfd;
	int64_t			 armed;		/* what tfd is set to; -1 none */
	sigset_t		 oldmask;
	int			 masked;
	evloop_signal_fn	*sigcb;
	void			*sigarg;
	struct fdh		*fds;
	struct fdh		 sig_h;		/* sentinels for epoll data.ptr */
	struct fdh		 timer_h;
	struct timer		 timers[EVLOOP_MAX_TIMERS];
	int			 stop;
	uint64_t		 wakeups;
};

static int
add_internal(struct evloop *ev, int fd, struct fdh *h)
{
	struct epoll_event	e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.ptr = h;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e) == -1)
		return -errno;
	return 0;
}

int
evloop_new(struct evloop **out)
{
	struct evloop	*ev = NULL;
	sigset_t	 set;
	int		 i, rc = TLSAD_ENOMEM;

	*out = NULL;
	ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		goto out;
	ev->epfd = ev->sigfd = ev->tfd = -1;
	ev->armed = -1;
	for (i = 0; i < EVLOOP_MAX_TIMERS; i++)
		ev->timers[i].deadline = -1;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &ev->oldmask) == -1) {
		rc = -errno;
		goto out;
	}
	ev->masked = 1;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ev->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ev->epfd == -1 || ev->sigfd == -1 || ev->tfd == -1) {
		rc = -errno;
		log_warn("creating the event loop");
		goto out;
	}
	ev->sig_h.fd = ev->sigfd;
	ev->timer_h.fd = ev->tfd;
	rc = add_internal(ev, ev->sigfd, &ev->sig_h);
	if (rc == 0)
		rc = add_internal(ev, ev->tfd, &ev->timer_h);
	if (rc != 0)
		goto out;
	*out = ev;
	ev = NULL;
out:
	evloop_free(ev);
	return rc;
}

void
evloop_free(struct evloop *ev)
{
	struct fdh	*h, *next;

	if (ev == NULL)
		return;
	for (h = ev->fds; h != NULL; h = next) {
		next = h->next;
		free(h);
	}
	if (ev->epfd != -1)
		close(ev->epfd);
	if (ev->sigfd != -1)
		close(ev->sigfd);
	if (ev->tfd != -1)
		close(ev->tfd);
	if (ev->masked)
		(void)sigprocmask(SIG_SETMASK, &ev->oldmask, NULL);
	free(ev);
}

void
evloop_on_signal(struct evloop *ev, evloop_signal_fn *cb, void *arg)
{
	ev->sigcb = cb;
	ev->sigarg = arg;
}

static struct fdh *
find_fd(struct evloop *ev, int fd)
{
	struct fdh	*h;

	for (h = ev->fds; h != NULL; h = h->next)
		if (!h->dead && h->fd == fd)
			return h;
	return NULL;
}

int
evloop_add_fd(struct evloop *ev, int fd, uint32_t events, evloop_fd_fn *cb,
    void *arg)
{
	struct epoll_event	 e;
	struct fdh		*h = NULL;
	int			 rc = TLSAD_ENOMEM;

	if (fd < 0 || cb == NULL) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	if (find_fd(ev, fd) != NULL) {
		rc = -EEXIST;
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto out;
	h->fd = fd;
	h->cb = cb;
	h->arg = arg;
	memset(&e, 0, sizeof(e));
	e.events = events;
	e.data.ptr = h;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e) == -1) {
		rc = -errno;
		goto out;
	}
	h->next = ev->fds;
	ev->fds = h;
	h = NULL;
	rc = 0;
out:
	free(h);
	return rc;
}

int
evloop_mod_fd(struct evloop *ev, int fd, uint32_t events)
{
	struct epoll_event	 e;
	struct fdh		*h;

	h = find_fd(ev, fd);
	if (h == NULL)
		return -ENOENT;
	memset(&e, 0, sizeof(e));
	e.events = events;
	e.data.ptr = h;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &e) == -1)
		return -errno;
	return 0;
}

int
evloop_del_fd(struct evloop *ev, int fd)
{
	struct fdh	*h;

	h = find_fd(ev, fd);
	if (h == NULL)
		return -ENOENT;
	(void)epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
	h->dead = 1;		/* events of this round may still point at it */
	return 0;
}

int
evloop_timer_add(struct evloop *ev, evloop_timer_fn *cb, void *arg, int *id)
{
	int	i;

	if (cb == NULL)
		return TLSAD_EINVAL;
	for (i = 0; i < EVLOOP_MAX_TIMERS; i++) {
		if (!ev->timers[i].used) {
			ev->timers[i].used = 1;
			ev->timers[i].deadline = -1;
			ev->timers[i].cb = cb;
			ev->timers[i].arg = arg;
			*id = i;
			return 0;
		}
	}
	return TLSAD_ETOOBIG;
}

int
evloop_timer_set(struct evloop *ev, int id, int64_t deadline)
{
	if (id < 0 || id >= EVLOOP_MAX_TIMERS || !ev->timers[id].used)
		return TLSAD_EINVAL;
	ev->timers[id].deadline = deadline < 0 ? -1 : deadline;
	return 0;
}

int64_t
evloop_timer_get(const struct evloop *ev, int id)
{
	if (id < 0 || id >= EVLOOP_MAX_TIMERS || !ev->timers[id].used)
		return -1;
	return ev->timers[id].deadline;
}

int
evloop_timer_del(struct evloop *ev, int id)
{
	if (id < 0 || id >= EVLOOP_MAX_TIMERS || !ev->timers[id].used)
		return TLSAD_EINVAL;
	memset(&ev->timers[id], 0, sizeof(ev->timers[id]));
	ev->timers[id].deadline = -1;
	return 0;
}

void
evloop_stop(struct evloop *ev)
{
	ev->stop = 1;
}

uint64_t
evloop_wakeups(const struct evloop *ev)
{
	return ev->wakeups;
}

/* Arm the timerfd at the earliest deadline, or disarm it. */
static int
arm(struct evloop *ev)
{
	struct itimerspec	its;
	int64_t			next = -1;
	int			i;

	for (i = 0; i < EVLOOP_MAX_TIMERS; i++)
		if (ev->timers[i].used && ev->timers[i].deadline >= 0 &&
		    (next < 0 || ev->timers[i].deadline < next))
			next = ev->timers[i].deadline;
	if (next == ev->armed)
		return 0;
	memset(&its, 0, sizeof(its));
	if (next >= 0) {
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;	/* zero would disarm */
	}
	if (timerfd_settime(ev->tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		return -errno;
	ev->armed = next;
	return 0;
}

static int
read_signals(struct evloop *ev)
{
	struct signalfd_siginfo	si[8];
	ssize_t			n;
	size_t			i;
	int			calls = 0;

	for (;;) {
		n = read(ev->sigfd, si, sizeof(si));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			if (ev->sigcb != NULL) {
				ev->sigcb(ev, (int)si[i].ssi_signo, ev->sigarg);
				calls++;
			}
		}
	}
	return calls;
}

static int
run_timers(struct evloop *ev)
{
	uint64_t	expirations;
	int64_t		now;
	int		i, calls = 0;

	/* Drain the timerfd; the deadlines decide what is due, not it. */
	while (read(ev->tfd, &expirations, sizeof(expirations)) > 0)
		;
	now = util_now_mono_ms();
	if (ev->armed >= 0 && ev->armed <= now)
		ev->armed = -1;		/* a one-shot timerfd that fired is disarmed */
	for (i = 0; i < EVLOOP_MAX_TIMERS; i++) {
		if (!ev->timers[i].used || ev->timers[i].deadline < 0 ||
		    ev->timers[i].deadline > now)
			continue;
		ev->timers[i].deadline = -1;
		ev->timers[i].cb(ev, i, now, ev->timers[i].arg);
		calls++;
	}
	return calls;
}

static void
reap(struct evloop *ev)
{
	struct fdh	**hp, *h;

	for (hp = &ev->fds; *hp != NULL;) {
		h = *hp;
		if (h->dead) {
			*hp = h->next;
			free(h);
		} else
			hp = &h->next;
	}
}

int
evloop_run_once(struct evloop *ev, int timeout_ms)
{
	struct epoll_event	 evs[32];
	struct fdh		*h;
	int			 i, n, rc, calls = 0;

	rc = arm(ev);
	if (rc != 0)
		return rc;
	n = epoll_wait(ev->epfd, evs, 32, timeout_ms);
	if (n == -1)
		return errno == EINTR ? 0 : -errno;
	ev->wakeups++;
	for (i = 0; i < n; i++) {
		h = evs[i].data.ptr;
		if (h == &ev->sig_h)
			calls += read_signals(ev);
	}
	for (i = 0; i < n; i++) {
		h = evs[i].data.ptr;
		if (h == &ev->sig_h || h == &ev->timer_h || h->dead)
			continue;
		h->cb(ev, h->fd, evs[i].events, h->arg);
		calls++;
	}
	/* Timers last, and also when no timerfd event came: one may be due. */
	calls += run_timers(ev);
	reap(ev);
	return calls;
}

int
evloop_run(struct evloop *ev)
{
	int	rc;

	ev->stop = 0;
	while (!ev->stop) {
		rc = evloop_run_once(ev, -1);
		if (rc < 0) {
			log_warnx("event loop: %s", tlsad_strerror(rc));
			return rc;
		}
	}
	return 0;
}
