/*
 * state.h -- the durable rollover state of each lineage, one text file per
 * lineage in state-dir: STATE_DIR/NAME.state.
 *
 * The format is for people as much as for tlsad (admins cat it): a version
 * line, then one "key value" per line, times in UTC ISO 8601 with
 * milliseconds, keys as 64 hex digits, "-" for "none":
 *
 *	tlsad-state 1
 *	lineage mx.example.org
 *	stage hold
 *	deployed 3f2a...64 hex... 6
 *	target 9b1c...64 hex... 7
 *	published 3f2a...
 *	published 9b1c...
 *	hold-until 2026-11-28T03:10:00.000Z
 *	...
 *
 * Every transition rewrites the file atomically (util_atomic_write: temp
 * file, fsync, rename, fsync the directory), so a crash leaves either the old
 * or the new state, never a mix.  Loading is strict: an unknown key, a
 * malformed value, a repeated key, a file over STATE_FILE_MAX or a state
 * that fails rollover_state_check() is TLSAD_ESTATE_CORRUPT with the line in
 * the message; a version other than STATE_VERSION is TLSAD_ESTATE_VERSION.
 * A corrupt file is never replaced here: the caller decides (tlsad stops
 * that lineage and says so; the admin inspects the file).
 */
#ifndef TLSAD_STATE_H
#define TLSAD_STATE_H

#include <stddef.h>

#include "tlsad/rollover.h"

#define STATE_VERSION		1
#define STATE_FILE_MAX		(64 * 1024)
#define STATE_SUFFIX		".state"
/* Longest lineage name (a file name component, with room for the suffix). */
#define STATE_NAME_MAX		200

/*
 * Is name usable as a lineage name for a state file?  Non-empty, at most
 * STATE_NAME_MAX bytes, no '/', no control characters or white space, not
 * "." or "..", not starting with '.'.  0 if usable, else TLSAD_EINVAL.
 */
int	state_name_valid(const char *name);

/* DIR/NAME.state into buf; TLSAD_EINVAL for a bad name, -ENAMETOOLONG. */
int	state_path(const char *dir, const char *name, char *buf, size_t len);

/*
 * The file's text for st (malloc'ed, NUL-terminated, *out for the caller
 * to free, *len bytes without the NUL).  Control characters in the message
 * become '?'.  TLSAD_EINVAL for a bad name, TLSAD_ENOMEM.
 */
int	state_format(const char *name, const struct rollover_state *st,
	    char **out, size_t *len);

/*
 * Parse a file's text.  where names it in messages ("FILE").  On failure
 * err (if not NULL) gets "WHERE:LINE: what is wrong".  If name is not NULL
 * the file's lineage line must match it.  *st is written only on success.
 */
int	state_parse(const char *text, size_t len, const char *where,
	    const char *name, struct rollover_state *st, char *err,
	    size_t errlen);

/*
 * Read DIR/NAME.state.  -ENOENT when there is none (a new lineage: the
 * caller uses rollover_state_init()); TLSAD_ETOOBIG over STATE_FILE_MAX;
 * otherwise as state_parse().
 */
int	state_load(const char *dir, const char *name,
	    struct rollover_state *st, char *err, size_t errlen);

/* Rewrite DIR/NAME.state atomically (mode 0644: status is not secret). */
int	state_save(const char *dir, const char *name,
	    const struct rollover_state *st);

/* Remove DIR/NAME.state (a lineage dropped from the config); absent is 0. */
int	state_remove(const char *dir, const char *name);

/*
 * The lineage names that have a state file in dir, sorted.  Temp files and
 * names state_name_valid() refuses are skipped.  *names is a malloc'ed
 * array of *n malloc'ed strings: free with state_list_free().
 */
int	state_list(const char *dir, char ***names, size_t *n);
void	state_list_free(char **names, size_t n);

#endif /* TLSAD_STATE_H */
