/*
 * agent.h -- the executor of the rollover state machine: it performs the
 * actions rollover_step() asks for (DNS UPDATE and checks, deploy, reload,
 * probe, restore) for one lineage, feeds their results back, and saves the
 * state before every action (write-ahead, see rollover.h).
 *
 * Used by the daemon (one agent_lineage per configured lineage, woken by
 * inotify, kicks and timers) and by `tlsactl rollover` (the same machine
 * in the foreground).  Actions block: a DNS exchange is bounded by
 * dns-timeout, a reload by its timeout, a probe by its timeout.
 *
 * Safety lives in rollover.c; this file only maps keys to records and
 * reports what it saw, honestly: a check that could not be made is an
 * error observation, never a guess.
 */
#ifndef TLSAD_AGENT_H
#define TLSAD_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "tlsad/conf.h"
#include "tlsad/rollover.h"

struct agent_lineage;

/*
 * Called after every step with the action about to be performed (or the
 * wait that follows), for progress output and sd_notify STATUS lines.
 */
typedef void	agent_progress_fn(void *arg, const struct agent_lineage *l,
		    const struct rollover_action *act);

/*
 * Open lineage lin of conf (both borrowed: they must outlive the handle):
 * lock STATE_DIR/NAME.lock (TLSAD_EROLL_BUSY when another process holds it:
 * one executor per lineage), load STATE_DIR/NAME.state, or start a fresh
 * state when there is none.
 * A corrupt or foreign-version state file is an error (why says which line):
 * the lineage is not touched until an admin looks.
 */
int	agent_lineage_open(const struct conf *conf,
	    const struct conf_lineage *lin, struct agent_lineage **out,
	    char *why, size_t whylen);
void	agent_lineage_free(struct agent_lineage *l);

/* Replace the borrowed config (after SIGHUP); lin must have the same name. */
void	agent_lineage_set_conf(struct agent_lineage *l,
	    const struct conf *conf, const struct conf_lineage *lin);

void	agent_lineage_set_progress(struct agent_lineage *l,
	    agent_progress_fn *fn, void *arg);

/*
 * Step and act until the machine waits.  *wake_wall_ms gets the wall-clock
 * time (ms) at which to call again, or -1 when only an outside event
 * (inotify, kick, rescan) should.  At most max_actions actions are performed
 * per call (0: a default); then *wake_wall_ms is now, so that a caller with
 * other work (the daemon's event loop) gets the control back.  Returns 0,
 * or an error of the state file (a TLSAD_E code or -errno): then nothing more is done
 * for this lineage until the caller retries.
 */
int	agent_lineage_run(struct agent_lineage *l, unsigned max_actions,
	    int64_t *wake_wall_ms);

/* An outside event: the next run starts with a fresh look (done = NONE). */
void	agent_lineage_poke(struct agent_lineage *l);
/*
 * As poke, and an idle lineage checks the DNS once (after SIGHUP, at the
 * periodic rescan): a served key whose records went missing is published
 * again.
 */
void	agent_lineage_verify(struct agent_lineage *l);

const char			*agent_lineage_name(const struct agent_lineage *l);
const struct rollover_state	*agent_lineage_state(const struct agent_lineage *l);
/* The reason of the last action ("holding 37/300 s"); never NULL. */
const char			*agent_lineage_reason(const struct agent_lineage *l);

/* Rollover tunables from the config. */
void	agent_params_from_conf(const struct conf *conf,
	    struct rollover_params *p);

#endif /* TLSAD_AGENT_H */
