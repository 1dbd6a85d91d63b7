/*
 * status.h -- what every lineage is doing and whether that is fine, for
 * `tlsactl status`, `tlsactl check` and the daemon's `status` control
 * request (which all give the same JSON).
 *
 * The report is built from files alone: the state file (state_load), the
 * live lineage (lineage_read) and the deploy file (deploy_read_key), so it
 * works while the daemon is down.  The daemon's state is written before
 * every action (write-ahead), so the files are never behind what it does.
 *
 * Levels (and exit codes of `tlsactl status` / `tlsactl check`):
 *   STATUS_OK (0)       nothing to say
 *   STATUS_WARNING (1)  certificate expiring within expiry-warn-days; a
 *                       stage taking longer than expected or a lagging
 *                       server; a live lineage that is inconsistent or
 *                       unreadable; a renewal not rolled out yet; no state
 *                       file yet; a deploy file that cannot be read
 *   STATUS_CRITICAL (2) FAILED stage; a corrupt state file; the deployed
 *                       key missing from the published set; an expired
 *                       certificate; the deploy file missing while the
 *                       state says a key is deployed
 * The JSON schema ("version": 1) is documented in tlsactl(8).
 */
#ifndef TLSAD_STATUS_H
#define TLSAD_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tlsad/conf.h"
#include "tlsad/rollover.h"

#define STATUS_JSON_VERSION	1
/* Problems remembered per lineage (more are counted, not kept). */
#define STATUS_PROBLEMS_MAX	8
#define STATUS_PROBLEM_LEN	256
/*
 * Largest JSON or text output: about 2 KiB per lineage, so CONF_MAX_LINEAGES
 * fit (the daemon's control frame holds at most CTL_FRAME_MAX of it).
 */
#define STATUS_OUT_MAX		(32 * 1024 * 1024)

enum status_level {
	STATUS_OK = 0,
	STATUS_WARNING = 1,
	STATUS_CRITICAL = 2,
};

/* One problem: its level and a sentence naming the lineage's trouble. */
struct status_problem {
	enum status_level	level;
	char			text[STATUS_PROBLEM_LEN];
};

/* Everything known about one lineage. */
struct status_lineage {
	char			*name;

	/* The state file: 0, -ENOENT (none yet) or the load error. */
	int			 state_rc;
	char			 state_err[512];
	struct rollover_state	 st;		/* valid when state_rc == 0 */

	/* The live lineage: lineage_read()'s code; valid fields when 0. */
	int			 live_rc;
	char			 live_detail[512];
	struct rollover_key	 live_key;
	long			 live_version;	/* -1: unknown */
	int			 has_live_expiry;
	time_t			 live_not_after;

	/* The deploy file: 0, -ENOENT, -EACCES, or a parse error. */
	char			*deploy_file;
	int			 deploy_rc;
	struct rollover_key	 deploy_key;	/* valid when deploy_rc == 0 */
	int			 has_deploy_expiry;
	time_t			 deploy_not_after;

	/* rollover_describe() of the state, and when it acts next (0: none). */
	char			 next[ROLLOVER_REASON_MAX + 64];
	int64_t			 next_at;

	/* The daemon's last progress line, or NULL (status_set_activity). */
	char			*activity;

	enum status_level	 level;
	struct status_problem	 problem[STATUS_PROBLEMS_MAX];
	size_t			 nproblems;	/* kept (<= STATUS_PROBLEMS_MAX) */
};

struct status_report {
	int64_t			 now;		/* wall ms the report is for */
	const char		*source;	/* "files" or "daemon" (static) */
	unsigned		 expiry_warn_days;
	enum status_level	 level;		/* the worst of the lineages */
	struct status_lineage	*l;
	size_t			 n;
};

/*
 * Build the report for every configured lineage (name NULL) or for the one
 * named (TLSAD_ECONF_NOLINEAGE when the config has no such lineage).  now
 * is the wall clock in ms.  Every per-lineage read failure is part of the
 * report, not an error of this function.  *out is the caller's
 * (status_report_free).  Does not log.
 */
int	status_collect(const struct conf *conf, const char *name, int64_t now,
	    struct status_report **out);
void	status_report_free(struct status_report *rep);

/* Attach the daemon's current progress line to lineage name (copied). */
int	status_set_activity(struct status_report *rep, const char *name,
	    const char *text);

/* The exit code of the report: its worst level (0, 1, 2). */
int	status_exit_code(const struct status_report *rep);
/* "ok", "warning", "critical". */
const char *status_level_name(enum status_level level);

/* The JSON document (schema version 1), newline-terminated; *out is the caller's. */
int	status_json(const struct status_report *rep, char **out, size_t *len);

/* The human table, as `tlsactl status` prints it; *out is the caller's. */
int	status_text(const struct status_report *rep, char **out, size_t *len);

/*
 * The one-line monitoring-plugin summary: "TLSAD OK - 2 lineages up to
 * date", "TLSAD WARNING - mx.example.org: ...", "TLSAD CRITICAL - ...".
 * Always NUL-terminates buf (truncating).
 */
void	status_check_line(const struct status_report *rep, char *buf,
	    size_t len);

/* UTC ISO 8601 with seconds ("2026-11-28T03:10:00Z") of wall ms; "-" for 0. */
void	status_iso8601(int64_t wall_ms, char *buf, size_t len);

#endif /* TLSAD_STATUS_H */
