/*
 * tlsad.c -- the daemon: options, config, and one event loop that drives
 * every lineage's rollover (agent.c) from inotify, timers, signals and the
 * control socket.
 *
 * Contract: the daemon itself decides nothing about keys; the state machine
 * (rollover.c, through agent.c) does.  This file only decides WHEN each
 * lineage is run: at start-up, when its live directory settled after
 * changes, when kicked, at the wake time its last run asked for, at the
 * periodic rescan, and after a reload.  Idle means asleep: with nothing
 * due, the only armed timers are the periodic rescan and the systemd
 * watchdog.
 *
 * Lineage deadlines are kept per lineage and multiplexed onto one evloop
 * timer (the evloop holds EVLOOP_MAX_TIMERS timers; a config may hold
 * thousands of lineages).  Wall-clock wake times from the agent become
 * monotonic deadlines (mono_now + (wake - wall_now)), so a clock step only
 * shifts a wait, and the state machine re-checks the wall clock anyway.
 *
 * A lineage whose state file cannot be loaded is left alone (logged, and
 * shown by `tlsactl status`); the others run.  A reload (SIGHUP or the
 * control request) and a kick try such a lineage again.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlsad/agent.h"
#include "tlsad/conf.h"
#include "tlsad/ctl.h"
#include "tlsad/error.h"
#include "tlsad/evloop.h"
#include "tlsad/log.h"
#include "tlsad/sdnotify.h"
#include "tlsad/status.h"
#include "tlsad/util.h"
#include "tlsad/watch.h"

/*
 * Actions per run before the loop takes the control back: each may block
 * for a DNS exchange or a reload, and control requests (the certbot hook's
 * kick) and signals wait meanwhile.
 */
#define DAEMON_MAX_ACTIONS	2
/* Retry of watching live-dir when it does not exist yet. */
#define LIVE_DIR_RETRY_MS	(60 * 1000)

struct daemon;

/* One configured lineage. */
struct dlineage {
	struct daemon		*d;
	char			*name;
	struct agent_lineage	*al;		/* NULL: not open (see busy) */
	int			 busy;		/* !al: another executor holds it */
	int64_t			 due;		/* monotonic ms; -1: not due */
	char			 activity[1024];
};

struct daemon {
	const char		*conf_path;
	struct conf		*conf;
	struct evloop		*ev;
	struct watch		*watch;
	struct ctl_server	*ctl;
	struct dlineage		**l;		/* stable pointers: progress args */
	size_t			 n;
	int			 lineage_timer;
	int			 watch_timer;
	int			 rescan_timer;
	int			 watchdog_timer;
	int64_t			 watchdog_ms;	/* 0: no watchdog */
	int			 forced_debug;	/* -d */
	int			 live_watched;	/* watch_rescan(live_dir) succeeded */
	size_t			 next_run;	/* where the next pass starts (fairness) */
};

/*
 * One pass of the lineage timer runs due lineages for at most this long
 * (at least one), so that a SIGHUP or rescan over many lineages still lets
 * kicks, status requests and signals through between passes.
 */
#define PASS_BUDGET_MS	200

static void	reschedule(struct daemon *);

static void
usage(void)
{
	fprintf(stderr, "usage: tlsad [-dnV] [-c FILE]\n");
	exit(64);
}

/* ---- lineages ---- */

static void
on_progress(void *arg, const struct agent_lineage *al,
    const struct rollover_action *act)
{
	struct dlineage	*dl = arg;

	snprintf(dl->activity, sizeof(dl->activity), "%s: %s",
	    rollover_stage_name(agent_lineage_state(al)->stage), act->reason);
	if (act->type != ROLLOVER_ACT_NONE)
		sdnotify_status("%s: %s", dl->name, act->reason);
}

/* Open (or re-open) the agent of dl for lin; logs why it cannot. */
static void
dlineage_open(struct daemon *d, struct dlineage *dl,
    const struct conf_lineage *lin)
{
	char	why[768];
	int	rc;

	dl->busy = 0;
	rc = agent_lineage_open(d->conf, lin, &dl->al, why, sizeof(why));
	if (rc == TLSAD_EROLL_BUSY) {
		/* A tlsactl rollover runs it: take over when it is done. */
		log_notice("%s: %s; trying again in %u s", lin->name, why,
		    d->conf->retry_min_s);
		snprintf(dl->activity, sizeof(dl->activity), "busy: %s", why);
		dl->al = NULL;
		dl->busy = 1;
		dl->due = util_now_mono_ms() +
		    (int64_t)d->conf->retry_min_s * 1000;
		return;
	}
	if (rc != 0) {
		log_err("%s: left alone until its state file is fixed "
		    "(then reload or kick): %s", lin->name, why);
		snprintf(dl->activity, sizeof(dl->activity), "left alone: %s",
		    why);
		dl->al = NULL;
		return;
	}
	agent_lineage_set_progress(dl->al, on_progress, dl);
	snprintf(dl->activity, sizeof(dl->activity), "taking stock");
}

static struct dlineage *
dlineage_new(struct daemon *d, const struct conf_lineage *lin)
{
	struct dlineage	*dl = calloc(1, sizeof(*dl));

	if (dl == NULL)
		return NULL;
	dl->d = d;
	dl->due = -1;
	dl->name = util_strdup(lin->name);
	if (dl->name == NULL) {
		free(dl);
		return NULL;
	}
	dlineage_open(d, dl, lin);
	return dl;
}

static void
dlineage_free(struct dlineage *dl)
{
	if (dl == NULL)
		return;
	agent_lineage_free(dl->al);
	free(dl->name);
	free(dl);
}

static struct dlineage *
find_lineage(struct daemon *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->l[i]->name, name) == 0)
			return d->l[i];
	return NULL;
}

/*
 * An outside event for dl: a fresh look, as soon as the loop can.  With
 * verify (reload, rescan) an idle lineage also checks the DNS once.
 */
static void
poke(struct dlineage *dl, int verify)
{
	if (dl->al == NULL)
		return;
	if (verify)
		agent_lineage_verify(dl->al);
	else
		agent_lineage_poke(dl->al);
	dl->due = util_now_mono_ms();
}

static void
poke_all(struct daemon *d, int verify)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		poke(d->l[i], verify);
	reschedule(d);
}

/* Run one lineage until it waits; set its next deadline. */
static void
run_lineage(struct daemon *d, struct dlineage *dl)
{
	const struct conf_lineage	*lin;
	int64_t				 wake = -1, wall, mono;
	int				 rc;

	dl->due = -1;
	if (dl->al == NULL && dl->busy) {
		lin = conf_lineage_find(d->conf, dl->name);
		if (lin != NULL)
			dlineage_open(d, dl, lin);	/* re-arms when still busy */
	}
	if (dl->al == NULL)
		return;
	rc = agent_lineage_run(dl->al, DAEMON_MAX_ACTIONS, &wake);
	wall = util_now_wall_ms();
	mono = util_now_mono_ms();
	if (rc != 0) {
		/* The agent logged it (a state file it cannot write). */
		dl->due = mono + (int64_t)d->conf->retry_min_s * 1000;
		snprintf(dl->activity, sizeof(dl->activity), "error: %s; "
		    "retrying in %u s", tlsad_strerror(rc), d->conf->retry_min_s);
		sdnotify_status("%s: %s", dl->name, dl->activity);
		return;
	}
	if (wake < 0)
		return;
	dl->due = mono + (wake > wall ? wake - wall : 0);
}

/* Arm the lineage timer at the earliest lineage deadline (or disarm it). */
static void
reschedule(struct daemon *d)
{
	int64_t	next = -1;
	size_t	i;

	for (i = 0; i < d->n; i++)
		if (d->l[i]->due >= 0 && (next < 0 || d->l[i]->due < next))
			next = d->l[i]->due;
	evloop_timer_set(d->ev, d->lineage_timer, next);
}

/* Tell systemd what the daemon does when no lineage has anything due. */
static void
report_idle(struct daemon *d)
{
	size_t	i, busy = 0, broken = 0;

	for (i = 0; i < d->n; i++) {
		if (d->l[i]->al == NULL)
			broken++;
		else if (agent_lineage_state(d->l[i]->al)->stage !=
		    ROLLOVER_IDLE)
			busy++;
	}
	if (busy == 0 && broken == 0)
		sdnotify_status("watching %zu lineage%s: all up to date", d->n,
		    d->n == 1 ? "" : "s");
	else
		sdnotify_status("watching %zu lineage%s: %zu rolling over, %zu "
		    "left alone", d->n, d->n == 1 ? "" : "s", busy, broken);
}

static void
on_lineage_timer(struct evloop *ev, int timer, int64_t now, void *arg)
{
	struct daemon	*d = arg;
	int64_t		 start = util_now_mono_ms();
	size_t		 i, k;
	int		 any = 0;

	(void)ev;
	(void)timer;
	/*
	 * One pass: a lineage that is due again at once (it used up its
	 * actions) waits for the next pass, and a pass stops after
	 * PASS_BUDGET_MS, so that signals and control requests are served
	 * in between.  The next pass starts where this one stopped.
	 */
	for (k = 0; k < d->n; k++) {
		i = (d->next_run + k) % d->n;
		if (d->l[i]->due < 0 || d->l[i]->due > now)
			continue;
		if (any && util_now_mono_ms() - start >= PASS_BUDGET_MS) {
			d->next_run = i;
			break;
		}
		run_lineage(d, d->l[i]);
		any = 1;
	}
	reschedule(d);
	if (any && evloop_timer_get(d->ev, d->lineage_timer) < 0)
		report_idle(d);
}

/*
 * Make d->l match d->conf: keep (and re-point) the lineages still there,
 * open the new ones, free the removed ones.  Every lineage is then due.
 * On ENOMEM nothing changes.
 */
static int
sync_lineages(struct daemon *d)
{
	struct dlineage		**nl = NULL, *dl;
	const struct conf_lineage *lin;
	size_t			  i, j;
	int			  rc = TLSAD_ENOMEM, found;

	if (d->conf->nlineages > 0) {
		nl = calloc(d->conf->nlineages, sizeof(*nl));
		if (nl == NULL)
			goto out;
	}
	/*
	 * First everything that can fail: a handle for each new lineage.
	 * Until this succeeds the kept handles still point at the old config,
	 * which the caller frees only on success.
	 */
	for (i = 0; i < d->conf->nlineages; i++) {
		lin = &d->conf->lineages[i];
		found = 0;
		for (j = 0; j < d->n && !found; j++)
			found = d->l[j] != NULL &&
			    strcmp(d->l[j]->name, lin->name) == 0;
		if (found)
			continue;
		if (d->n > 0)
			log_info("%s: new lineage", lin->name);
		else
			log_debug("%s: new lineage", lin->name);
		nl[i] = dlineage_new(d, lin);
		if (nl[i] == NULL)
			goto out;
	}
	/* Then what cannot fail: move the kept handles to the new config. */
	for (i = 0; i < d->conf->nlineages; i++) {
		if (nl[i] != NULL)
			continue;
		lin = &d->conf->lineages[i];
		for (j = 0; j < d->n; j++) {
			if (d->l[j] != NULL && strcmp(d->l[j]->name,
			    lin->name) == 0) {
				dl = d->l[j];
				d->l[j] = NULL;
				if (dl->al != NULL)
					agent_lineage_set_conf(dl->al, d->conf,
					    lin);
				else
					dlineage_open(d, dl, lin);
				nl[i] = dl;
				break;
			}
		}
	}
	for (j = 0; j < d->n; j++) {
		if (d->l[j] != NULL)
			log_info("%s: no longer configured: not watched any "
			    "more (its state file and records are left as "
			    "they are)", d->l[j]->name);
		dlineage_free(d->l[j]);
	}
	free(d->l);
	d->l = nl;
	d->n = d->conf->nlineages;
	nl = NULL;
	rc = 0;
out:
	if (nl != NULL) {
		/* Only new handles are in nl here: the kept ones were not moved. */
		for (i = 0; i < d->conf->nlineages; i++)
			dlineage_free(nl[i]);
		free(nl);
	}
	return rc;
}

/* ---- the watcher ---- */

static void
arm_watch(struct daemon *d)
{
	if (d->watch != NULL)
		evloop_timer_set(d->ev, d->watch_timer,
		    watch_next_deadline(d->watch));
}

static void
rescan_watch(struct daemon *d)
{
	int	rc;

	if (d->watch == NULL)
		return;
	rc = watch_rescan(d->watch, util_now_mono_ms());
	if (rc != 0) {
		if (d->live_watched || rc != -ENOENT)
			log_warnx("cannot watch %s: %s", d->conf->live_dir,
			    tlsad_strerror(rc));
		d->live_watched = 0;
	} else {
		d->live_watched = 1;
	}
}

static void
on_watch_report(void *arg, enum watch_event what, const char *name)
{
	struct daemon	*d = arg;
	struct dlineage	*dl;

	if (what == WATCH_RESCAN) {
		log_notice("file notifications were lost: looking at every "
		    "lineage");
		rescan_watch(d);
		poke_all(d, 0);
		return;
	}
	dl = find_lineage(d, name);
	if (dl == NULL) {
		log_debug("%s/%s changed: not a configured lineage",
		    d->conf->live_dir, name);
		return;
	}
	log_info("%s: changed, then quiet: looking at it", name);
	poke(dl, 0);
}

static void
on_watch_fd(struct evloop *ev, int fd, uint32_t events, void *arg)
{
	struct daemon	*d = arg;
	int		 rc;

	(void)ev;
	(void)fd;
	(void)events;
	rc = watch_handle(d->watch, util_now_mono_ms());
	if (rc != 0)
		log_warnx("reading file notifications: %s", tlsad_strerror(rc));
	arm_watch(d);
}

static void
on_watch_timer(struct evloop *ev, int timer, int64_t now, void *arg)
{
	struct daemon	*d = arg;

	(void)ev;
	(void)timer;
	watch_take(d->watch, now, on_watch_report, d);
	arm_watch(d);
	reschedule(d);
}

static void
close_watch(struct daemon *d)
{
	if (d->watch == NULL)
		return;
	evloop_del_fd(d->ev, watch_fd(d->watch));
	evloop_timer_set(d->ev, d->watch_timer, -1);
	watch_free(d->watch);
	d->watch = NULL;
}

static int
open_watch(struct daemon *d)
{
	int	rc;

	rc = watch_new(d->conf->live_dir, d->conf->quiet_period_ms, &d->watch);
	if (rc != 0) {
		log_err("cannot watch %s: %s", d->conf->live_dir,
		    tlsad_strerror(rc));
		return rc;
	}
	rc = evloop_add_fd(d->ev, watch_fd(d->watch), EPOLLIN,
	    on_watch_fd, d);
	if (rc != 0) {
		log_err("event loop: %s", tlsad_strerror(rc));
		watch_free(d->watch);
		d->watch = NULL;
		return rc;
	}
	d->live_watched = 1;	/* so that a missing live-dir is logged once */
	rescan_watch(d);
	if (!d->live_watched)
		log_notice("%s does not exist yet: looking again every %d s "
		    "and at every rescan", d->conf->live_dir,
		    LIVE_DIR_RETRY_MS / 1000);
	return 0;
}

/* ---- periodic timers ---- */

static void
arm_rescan(struct daemon *d)
{
	int64_t	ms = (int64_t)d->conf->rescan_interval_s * 1000;

	if (!d->live_watched && ms > LIVE_DIR_RETRY_MS)
		ms = LIVE_DIR_RETRY_MS;
	evloop_timer_set(d->ev, d->rescan_timer, util_now_mono_ms() + ms);
}

static void
on_rescan_timer(struct evloop *ev, int timer, int64_t now, void *arg)
{
	struct daemon	*d = arg;
	int		 was = d->live_watched;

	(void)ev;
	(void)timer;
	(void)now;
	rescan_watch(d);
	if (!was && d->live_watched)
		log_notice("%s exists now: watching it", d->conf->live_dir);
	log_debug("periodic rescan of every lineage");
	poke_all(d, 1);
	arm_rescan(d);
}

static void
on_watchdog_timer(struct evloop *ev, int timer, int64_t now, void *arg)
{
	struct daemon	*d = arg;

	(void)timer;
	sdnotify_watchdog();
	evloop_timer_set(ev, d->watchdog_timer, now + d->watchdog_ms);
}

/* ---- reload ---- */

/*
 * Re-read the configuration.  On an error the old one stays and the error
 * is returned (and put in *msg when not NULL, malloc'ed).
 */
static int
reload(struct daemon *d, char **msg)
{
	struct conf	*nc = NULL, *old = d->conf;
	char		*err = NULL;
	int		 rc, rewatch;

	sdnotify_reloading();
	log_info("reloading %s", d->conf_path);
	rc = conf_load(d->conf_path, &nc, &err);
	if (rc != 0) {
		log_err("reload: %s; keeping the running configuration",
		    err != NULL ? err : tlsad_strerror(rc));
		if (msg != NULL) {
			*msg = err;
			err = NULL;
		}
		goto out;
	}
	if (strcmp(nc->control_socket, old->control_socket) != 0)
		log_warnx("reload: control-socket changed to %s: takes effect "
		    "at the next start", nc->control_socket);
	rewatch = strcmp(nc->live_dir, old->live_dir) != 0 ||
	    nc->quiet_period_ms != old->quiet_period_ms;
	d->conf = nc;
	rc = sync_lineages(d);
	if (rc != 0) {
		d->conf = old;
		conf_free(nc);
		log_err("reload: %s; keeping the running configuration",
		    tlsad_strerror(rc));
		goto out;
	}
	conf_free(old);
	if (!d->forced_debug)
		log_setlevel(d->conf->log_level);
	if (rewatch) {
		close_watch(d);
		if (open_watch(d) != 0)
			log_err("reload: not watching %s: relying on the "
			    "periodic rescan", d->conf->live_dir);
		arm_watch(d);
	}
	arm_rescan(d);
	poke_all(d, 1);
	log_info("reloaded: %zu lineage%s", d->n, d->n == 1 ? "" : "s");
out:
	free(err);
	sdnotify_ready(NULL);
	return rc;
}

/* ---- signals ---- */

static void
on_signal(struct evloop *ev, int signo, void *arg)
{
	struct daemon	*d = arg;

	switch (signo) {
	case SIGHUP:
		(void)reload(d, NULL);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("stopping on signal %d", signo);
		sdnotify_stopping();
		evloop_stop(ev);
		break;
	default:
		break;		/* SIGCHLD: children are reaped where spawned */
	}
}

/* ---- control requests ---- */

/* The lineage name of a kick argument: a name, or a path ending in it. */
static const char *
kick_name(char *arg)
{
	size_t	 len = strlen(arg);
	char	*slash;

	while (len > 1 && arg[len - 1] == '/')
		arg[--len] = '\0';
	slash = strrchr(arg, '/');
	return slash != NULL ? slash + 1 : arg;
}

static int text_body(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* A malloc'ed body for a control reply. */
static int
text_body(char **body, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	*body = NULL;
	if (n < 0)
		return TLSAD_EINTERNAL;
	*body = malloc((size_t)n + 1);
	if (*body == NULL)
		return TLSAD_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(*body, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return 0;
}

static int
ctl_status(struct daemon *d, const struct ctl_req *req, char **body)
{
	struct status_report	*rep = NULL;
	size_t			 i, len;
	int			 rc;

	rc = status_collect(d->conf, req->has_arg ? req->arg : NULL,
	    util_now_wall_ms(), &rep);
	if (rc == TLSAD_ECONF_NOLINEAGE) {
		(void)text_body(body, "no lineage %s in the configuration\n",
		    req->arg);
		goto out;
	}
	if (rc != 0)
		goto out;
	rep->source = "daemon";
	for (i = 0; i < d->n; i++)
		if (d->l[i]->activity[0] != '\0')
			(void)status_set_activity(rep, d->l[i]->name,
			    d->l[i]->activity);
	rc = status_json(rep, body, &len);
	if (rc == 0 && len > CTL_FRAME_MAX - 128) {
		free(*body);
		*body = NULL;
		rc = TLSAD_ETOOBIG;
		(void)text_body(body, "the status of every lineage does "
		    "not fit in one control frame: ask for one lineage, or run "
		    "tlsactl status, which reads the files\n");
	}
out:
	status_report_free(rep);
	return rc;
}

static int
ctl_kick(struct daemon *d, struct ctl_req *req, const struct ctl_peer *peer,
    char **body)
{
	const struct conf_lineage	*lin;
	struct dlineage			*dl;
	const char			*name;

	name = kick_name(req->arg);
	dl = find_lineage(d, name);
	if (dl == NULL) {
		log_notice("kick from pid %ld: %s is not a configured lineage",
		    (long)peer->pid, name);
		(void)text_body(body, "unknown lineage %s: not in the "
		    "configuration\n", name);
		return TLSAD_ECONF_NOLINEAGE;
	}
	if (dl->al == NULL) {
		lin = conf_lineage_find(d->conf, name);
		if (lin != NULL)
			dlineage_open(d, dl, lin);
		if (dl->al == NULL && dl->busy) {
			(void)text_body(body, "%s is being rolled over by "
			    "another process (tlsactl rollover): tlsad takes "
			    "over when it is done\n", name);
			reschedule(d);
			return TLSAD_EROLL_BUSY;
		}
		if (dl->al == NULL) {
			(void)text_body(body, "%s is left alone: its state "
			    "file is unusable (see the log)\n", name);
			return TLSAD_ESTATE_CORRUPT;
		}
	}
	log_info("%s: kicked by pid %ld: looking at it now", name,
	    (long)peer->pid);
	poke(dl, 0);
	reschedule(d);
	return text_body(body, "looking at %s now\n", name);
}

static int
on_ctl(void *arg, const struct ctl_req *creq, const struct ctl_peer *peer,
    char **body)
{
	struct daemon	*d = arg;
	struct ctl_req	 req = *creq;
	char		*msg = NULL;
	int		 rc;

	switch (req.verb) {
	case CTL_STATUS:
		return ctl_status(d, &req, body);
	case CTL_KICK:
		if (!req.has_arg)
			return TLSAD_EUSAGE;
		return ctl_kick(d, &req, peer, body);
	case CTL_RESCAN:
		log_info("rescan asked by pid %ld", (long)peer->pid);
		rescan_watch(d);
		poke_all(d, 1);
		return text_body(body, "looking at every lineage now\n");
	case CTL_RELOAD:
		rc = reload(d, &msg);
		if (rc != 0) {
			if (msg != NULL) {
				(void)text_body(body, "%s\n", msg);
				free(msg);
			}
			return rc;
		}
		return text_body(body, "reloaded\n");
	default:
		return TLSAD_ECTL_PROTO;
	}
}

/* ---- main ---- */

static void
daemon_clear(struct daemon *d)
{
	size_t	i;

	close_watch(d);
	ctl_server_close(d->ctl);
	d->ctl = NULL;
	for (i = 0; i < d->n; i++)
		dlineage_free(d->l[i]);
	free(d->l);
	d->l = NULL;
	d->n = 0;
	evloop_free(d->ev);
	d->ev = NULL;
	conf_free(d->conf);
	d->conf = NULL;
}

static int
daemon_run(struct daemon *d)
{
	uint64_t	usec;
	size_t		i;
	int		rc;

	if (mkdir(d->conf->state_dir, 0700) == -1 && errno != EEXIST) {
		rc = -errno;
		log_err("cannot create state-dir %s: %s", d->conf->state_dir,
		    tlsad_strerror(rc));
		return rc;
	}
	rc = evloop_new(&d->ev);
	if (rc != 0) {
		log_err("event loop: %s", tlsad_strerror(rc));
		return rc;
	}
	rc = ctl_server_open(d->conf->control_socket, &d->ctl);
	if (rc != 0) {
		/* ctl_server_open() said why. */
		log_err("not starting");
		return rc;
	}
	rc = ctl_server_attach(d->ctl, d->ev, on_ctl, d);
	if (rc != 0)
		return rc;
	evloop_on_signal(d->ev, on_signal, d);
	rc = evloop_timer_add(d->ev, on_lineage_timer, d, &d->lineage_timer);
	if (rc == 0)
		rc = evloop_timer_add(d->ev, on_watch_timer, d,
		    &d->watch_timer);
	if (rc == 0)
		rc = evloop_timer_add(d->ev, on_rescan_timer, d,
		    &d->rescan_timer);
	if (rc == 0)
		rc = evloop_timer_add(d->ev, on_watchdog_timer, d,
		    &d->watchdog_timer);
	if (rc != 0) {
		log_err("event loop timers: %s", tlsad_strerror(rc));
		return rc;
	}
	rc = sync_lineages(d);
	if (rc != 0) {
		log_err("lineages: %s", tlsad_strerror(rc));
		return rc;
	}
	rc = open_watch(d);
	if (rc != 0)
		return rc;
	arm_watch(d);
	arm_rescan(d);
	if (sdnotify_watchdog_interval(&usec) && usec / 2000 > 0) {
		d->watchdog_ms = (int64_t)(usec / 2000);
		evloop_timer_set(d->ev, d->watchdog_timer,
		    util_now_mono_ms() + d->watchdog_ms);
	}
	/* Take stock of every lineage at once (first install, resume). */
	for (i = 0; i < d->n; i++)
		poke(d->l[i], 0);
	reschedule(d);
	log_info("started: %zu lineage%s, watching %s, control socket %s",
	    d->n, d->n == 1 ? "" : "s", d->conf->live_dir,
	    d->conf->control_socket);
	sdnotify_ready("taking stock of every lineage");
	rc = evloop_run(d->ev);
	if (rc != 0)
		log_err("event loop: %s", tlsad_strerror(rc));
	return rc;
}

int
main(int argc, char *argv[])
{
	struct daemon	 d;
	struct conf	*conf = NULL;
	const char	*path = CONF_DEFAULT_PATH;
	char		*errmsg = NULL;
	int		 ch, rc, checkonly = 0, debug = 0;

	log_init("tlsad", LOG_LEVEL_INFO);
	for (;;) {
		ch = getopt(argc, argv, "c:dnV");
		if (ch == -1)
			break;
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			debug = 1;
			log_setlevel(LOG_LEVEL_DEBUG);
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'V':
			printf("tlsad %s\n", TLSAD_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/*
	 * -n: check the file and stop.  Silent and 0 when it is valid; one
	 * "FILE:LINE:COL: message" line and 1 when not, for ExecStartPre and
	 * for scripts.
	 */
	rc = conf_load(path, &conf, &errmsg);
	if (rc != 0) {
		if (errmsg != NULL)
			fprintf(stderr, "%s\n", errmsg);
		else
			fprintf(stderr, "%s: %s\n", path, tlsad_strerror(rc));
		free(errmsg);
		return 1;
	}
	if (checkonly) {
		conf_free(conf);
		return 0;
	}
	if (!debug)
		log_setlevel(conf->log_level);
	memset(&d, 0, sizeof(d));
	d.conf_path = path;
	d.conf = conf;
	d.forced_debug = debug;
	d.lineage_timer = d.watch_timer = d.rescan_timer = -1;
	d.watchdog_timer = -1;
	rc = daemon_run(&d);
	daemon_clear(&d);
	if (rc == 0)
		log_info("stopped");
	return rc == 0 ? 0 : 1;
}
