/*
 * cmd_rollover.c -- `tlsactl rollover [-q] LINEAGE`: the daemon's state
 * machine (agent.c) in the foreground, for one lineage, printing each
 * stage change and why it waits.  The certbot hook runs it when no daemon
 * answers.
 *
 * It refuses to run while a daemon answers on the control socket: the
 * daemon owns the lineage's state file.  Between steps it sleeps until the
 * wake time the machine asks for.  It stops instead of sitting out a
 * failure's backoff: a foreground tool should not block for an hour.
 * SIGINT and SIGTERM are held while an action runs (no DNS exchange,
 * deploy or reload is cut in half) and stop the tool while it sleeps; the
 * state file is durable, so running it again resumes.
 *
 * Exit: 0 the lineage is idle with its live key deployed (rolled over, or
 * nothing to do); 1 it failed, cannot go on without an outside event (the
 * live lineage is unusable or half-renewed), a daemon runs, or an error;
 * 130 interrupted; 64 usage.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tlsad/agent.h"
#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/ctl.h"
#include "tlsad/error.h"
#include "tlsad/lineage.h"
#include "tlsad/log.h"
#include "tlsad/rollover.h"
#include "tlsad/util.h"

/* How long to wait for a daemon's answer to ping before going on. */
#define PING_TIMEOUT_MS		2000

static volatile sig_atomic_t	stop_signal;

struct progress {
	int			quiet;
	int			printed;	/* something printed yet */
	enum rollover_stage	stage;
	char			reason[ROLLOVER_REASON_MAX];
};

static void
on_stop(int signo)
{
	stop_signal = signo;
}

static void
stamp(char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = time(NULL);

	if (localtime_r(&t, &tm) == NULL || strftime(buf, len, "%H:%M:%S",
	    &tm) == 0)
		snprintf(buf, len, "--:--:--");
}

/* Print each stage change, and each new reason within a stage. */
static void
on_progress(void *arg, const struct agent_lineage *al,
    const struct rollover_action *act)
{
	struct progress			*p = arg;
	const struct rollover_state	*st = agent_lineage_state(al);
	char				 ts[16];

	if (p->printed && st->stage == p->stage &&
	    (strcmp(p->reason, act->reason) == 0 ||
	    act->type == ROLLOVER_ACT_DNS_CHECK))
		return;		/* a poll: its result (the wait) says more */
	if (!p->quiet) {
		stamp(ts, sizeof(ts));
		if (!p->printed || st->stage != p->stage)
			printf("%s %s: %s: %s\n", ts, agent_lineage_name(al),
			    rollover_stage_name(st->stage), act->reason);
		else
			printf("%s %s:   %s\n", ts, agent_lineage_name(al),
			    act->reason);
		fflush(stdout);
	}
	p->printed = 1;
	p->stage = st->stage;
	snprintf(p->reason, sizeof(p->reason), "%s", act->reason);
}

/*
 * May we run?  0 when nothing answers on the control socket; otherwise 1
 * with a sentence in why.  Only "nobody there" lets us go on: a daemon that
 * is slow to answer, or a socket we may not use, may still be a daemon.
 */
static int
daemon_answers(const struct conf *conf, const char *name, char *why,
    size_t whylen)
{
	char	*body = NULL;
	int	 code = 0, rc;

	rc = ctl_request(conf->control_socket, "ping", PING_TIMEOUT_MS, &code,
	    &body);
	free(body);
	if (rc == TLSAD_ECTL_NODAEMON)
		return 0;
	if (rc == 0)
		snprintf(why, whylen, "tlsad is running: use tlsactl kick %s",
		    name);
	else
		snprintf(why, whylen, "cannot tell whether tlsad is running "
		    "(%s: %s): not touching the lineage", conf->control_socket,
		    tlsad_strerror(rc));
	return 1;
}

/* Sleep until the wall time wake (ms) with the stop signals let through. */
static void
sleep_until(int64_t wake, const sigset_t *open_mask)
{
	struct timespec	ts;
	int64_t		now, left;

	while (!stop_signal) {
		now = util_now_wall_ms();
		if (now >= wake)
			return;
		left = wake - now;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		/* ppoll swaps the mask atomically: no lost wake-up. */
		if (ppoll(NULL, 0, &ts, open_mask) == -1 && errno != EINTR)
			return;
	}
}

/*
 * The machine is idle and waits for an outside event.  That is success
 * only when the live key is the deployed one: an idle machine may also be
 * one that will not touch a lineage it cannot read (garbage in archive/, a
 * renewal caught half-way).  Returns the exit status.
 */
static int
idle_outcome(const struct conf *conf, const char *name,
    const struct rollover_state *st, const char *reason)
{
	struct lineage_snapshot	*snap = NULL;
	struct rollover_key	 live;
	int			 rc, status = 1;

	rc = lineage_read(conf->live_dir, name, &snap);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: rollover: %s: nothing done: the live "
		    "lineage cannot be used (%s): %s\n", name,
		    tlsad_errname(rc), snap != NULL && snap->detail[0] != '\0' ?
		    snap->detail : tlsad_strerror(rc));
		goto out;
	}
	memcpy(live.spki, snap->spki_sha256, ROLLOVER_KEY_LEN);
	if (!st->has_deployed || !rollover_key_equal(&live, &st->deployed)) {
		fprintf(stderr, "tlsactl: rollover: %s: the live key is not "
		    "deployed: %s\n", name, reason);
		goto out;
	}
	printf("%s: %s\n", name, reason);
	status = 0;
out:
	lineage_snapshot_free(snap);
	return status;
}

int
cmd_rollover(const struct cmd_env *env, int argc, char *argv[])
{
	const struct conf_lineage	*lin;
	const struct rollover_state	*st;
	struct agent_lineage		*al = NULL;
	struct conf			*conf = NULL;
	struct progress			 prog;
	struct sigaction		 sa, old_int, old_term;
	sigset_t			 block, open_mask;
	char				*errmsg = NULL, why[1024], when[32];
	int64_t				 wake = -1;
	int				 ch, rc, status = 1, quiet = 0;
	int				 handlers = 0;
	struct tm			 tm;
	time_t				 t;

	memset(&prog, 0, sizeof(prog));
	for (;;) {
		ch = getopt(argc, argv, "hq");
		if (ch == -1)
			break;
		if (ch == 'q') {
			quiet = 1;
			continue;
		}
		fprintf(stderr, "usage: tlsactl rollover [-q] LINEAGE\n");
		return ch == 'h' ? 0 : 64;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: tlsactl rollover [-q] LINEAGE\n");
		return 64;
	}
	prog.quiet = quiet;
	rc = conf_load(env->conf_path, &conf, &errmsg);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: %s\n", errmsg != NULL ? errmsg :
		    tlsad_strerror(rc));
		goto out;
	}
	lin = conf_lineage_find(conf, argv[optind]);
	if (lin == NULL) {
		fprintf(stderr, "tlsactl: rollover: no lineage %s in %s\n",
		    argv[optind], conf->path);
		goto out;
	}
	if (daemon_answers(conf, lin->name, why, sizeof(why))) {
		fprintf(stderr, "tlsactl: rollover: %s\n", why);
		goto out;
	}
	/* The agent logs every stage change at info: we print them already. */
	if (env->verbose == 0)
		log_setlevel(LOG_LEVEL_WARNING);
	rc = agent_lineage_open(conf, lin, &al, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: rollover: %s\n", why);
		goto out;
	}
	agent_lineage_set_progress(al, on_progress, &prog);

	/* Hold the stop signals during actions; let them in while asleep. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &open_mask) == -1) {
		fprintf(stderr, "tlsactl: rollover: sigprocmask failed\n");
		goto out;
	}
	sigdelset(&open_mask, SIGINT);
	sigdelset(&open_mask, SIGTERM);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	handlers = 1;

	for (;;) {
		rc = agent_lineage_run(al, 0, &wake);
		if (rc != 0) {
			fprintf(stderr, "tlsactl: rollover: %s: %s\n", lin->name,
			    tlsad_strerror(rc));
			goto out;
		}
		st = agent_lineage_state(al);
		if (st->stage == ROLLOVER_FAILED) {
			t = (time_t)(st->next_attempt / 1000);
			if (localtime_r(&t, &tm) == NULL || strftime(when,
			    sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
				snprintf(when, sizeof(when), "later");
			fprintf(stderr, "tlsactl: rollover: %s failed (%s): %s\n"
			    "tlsactl: rollover: the state is saved; run again "
			    "after %s (or start tlsad, which retries) to go "
			    "on from %s\n", lin->name,
			    tlsad_errname(st->last_error), st->last_message,
			    when, rollover_stage_name(st->retry_stage));
			goto out;
		}
		if (wake < 0) {
			if (st->stage == ROLLOVER_IDLE) {
				status = idle_outcome(conf, lin->name, st,
				    agent_lineage_reason(al));
			} else {
				fprintf(stderr, "tlsactl: rollover: %s: "
				    "stopped at %s, waiting for a change: %s\n",
				    lin->name, rollover_stage_name(st->stage),
				    agent_lineage_reason(al));
			}
			goto out;
		}
		sleep_until(wake, &open_mask);
		if (stop_signal) {
			fprintf(stderr, "tlsactl: rollover: %s: interrupted at "
			    "%s; the state is saved: run again to resume\n",
			    lin->name, rollover_stage_name(
			    agent_lineage_state(al)->stage));
			status = 130;
			goto out;
		}
	}
out:
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigprocmask(SIG_UNBLOCK, &block, NULL);
	}
	agent_lineage_free(al);
	free(errmsg);
	conf_free(conf);
	return status;
}
