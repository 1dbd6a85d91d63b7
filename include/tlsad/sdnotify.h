/*
 * sdnotify.h -- the systemd notification protocol, without libsystemd.
 *
 * A service of Type=notify tells systemd how it is doing by sending a
 * datagram of "KEY=VALUE" lines to the AF_UNIX socket named in
 * $NOTIFY_SOCKET (a path, or "@name" for an abstract socket).  Without
 * $NOTIFY_SOCKET (not under systemd, or tlsad -d in a terminal) every
 * function here does nothing and returns 0.
 *
 *	READY=1		start-up done: the unit becomes active
 *	STATUS=...	one line shown by systemctl status
 *	WATCHDOG=1	still alive (needed at least every WATCHDOG_USEC)
 *	RELOADING=1	re-reading the config; send READY=1 when done
 *	STOPPING=1	shutting down
 */
#ifndef TLSAD_SDNOTIFY_H
#define TLSAD_SDNOTIFY_H

#include <stdint.h>

/* Longest message sent; a STATUS line is cut to fit. */
#define SDNOTIFY_MAX	1024

/*
 * Send msg ("READY=1\nSTATUS=..." lines) to $NOTIFY_SOCKET.  Returns 0 when
 * sent or when there is no $NOTIFY_SOCKET, else a negated errno
 * (-EAFNOSUPPORT for a socket kind other than AF_UNIX).  Does not log.
 */
int	sdnotify_send(const char *msg);

/* READY=1 with a STATUS line (status may be NULL). */
int	sdnotify_ready(const char *status);
/* STATUS=fmt...: what the daemon is doing now (newlines become spaces). */
int	sdnotify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* WATCHDOG=1 */
int	sdnotify_watchdog(void);
/* RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it; older ignores it). */
int	sdnotify_reloading(void);
/* STOPPING=1 */
int	sdnotify_stopping(void);

/*
 * The watchdog interval systemd asks for: 1 with *usec set when
 * $WATCHDOG_USEC is a positive number and $WATCHDOG_PID is unset or this
 * process; 0 when no watchdog is wanted (or the variables are malformed).
 * Ping with sdnotify_watchdog() every *usec / 2.
 */
int	sdnotify_watchdog_interval(uint64_t *usec);

#endif /* TLSAD_SDNOTIFY_H */
