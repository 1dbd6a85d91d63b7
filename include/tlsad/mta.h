/*
 * mta.h -- talk to the MTA: run its reload command, and probe what it
 * serves over SMTP STARTTLS (25, 587) or TLS at once (465), checking the
 * served chain against a validated TLSA RRset with OpenSSL's DANE code.
 *
 * Programs run with posix_spawn: fixed argv, no shell, a minimal
 * environment (PATH only), stdin from /dev/null, default signal
 * dispositions and an empty signal mask (a daemon that blocks signals for
 * signalfd must not pass that on), in a process group of their own that is
 * killed (SIGKILL) when the timeout passes.
 *
 * Failures are logged once here (log_warnx) and, when the caller passes a
 * buffer, described there too, for the state file and `tlsactl status`.
 * The probe ignores SIGPIPE while it runs (and restores the disposition).
 */
#ifndef TLSAD_MTA_H
#define TLSAD_MTA_H

#include <stddef.h>
#include <stdint.h>

#include "tlsad/conf.h"
#include "tlsad/tlsa.h"

/* Default deadlines. */
#define MTA_RELOAD_TIMEOUT_MS	30000
#define MTA_PROBE_TIMEOUT_MS	15000
/* Caps: one SMTP reply line (RFC 5321 says 512), one reply, captured output. */
#define MTA_SMTP_LINE_MAX	1000
#define MTA_SMTP_REPLY_MAX	(64 * 1024)
#define MTA_STDERR_MAX		4096
/* PATH of every spawned program. */
#define MTA_SPAWN_PATH		"PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* How a spawned program ended. */
struct mta_exit {
	int	exited;		/* 1: exited, code in status; 0: see below */
	int	status;		/* exit code, or the signal that killed it */
	int	timed_out;	/* 1: we killed it at the deadline */
};

/*
 * Run argv (argv[0] an absolute path, or a name found in MTA_SPAWN_PATH)
 * and wait for it at most timeout_ms.  out (optional): its stdout, up to
 * outmax bytes, NUL-terminated, malloc'ed (caller frees; more is read and
 * dropped).  errtext (optional): its stderr, up to errtextlen - 1 bytes,
 * NUL-terminated.  *ex says how it ended.  Returns 0 when the program ran
 * (whatever its exit), TLSAD_ESPAWN when it could not be started,
 * TLSAD_ETIMEOUT when it was killed at the deadline, or -errno.
 * Does not log.
 */
int	mta_run(char *const argv[], unsigned timeout_ms, char **out,
	    size_t *outlen, size_t outmax, char *errtext, size_t errtextlen,
	    struct mta_exit *ex);

/*
 * Run the reload command (argv as conf's reload_argv) within timeout_ms
 * (0: MTA_RELOAD_TIMEOUT_MS).  0 on exit status 0; TLSAD_ESPAWN when it
 * cannot be started; TLSAD_ERELOAD on a non-zero exit, a signal or the
 * timeout, with the exit code or signal and the first line of its stderr
 * in why.
 */
int	mta_reload(char *const argv[], unsigned timeout_ms, char *why,
	    size_t whylen);

/*
 * Probe one endpoint and check it against the validated RRset:
 *   connect to v->addr (TLSAD_EPROBE_CONNECT on refusal, timeout, ...);
 *   for CONF_VERIFY_STARTTLS read the 220 greeting (multi-line), EHLO,
 *   require STARTTLS in the reply, STARTTLS, 220 (TLSAD_EPROBE_STARTTLS
 *   otherwise); for CONF_VERIFY_TLS handshake at once;
 *   TLS handshake with SNI = servername (TLSAD_EPROBE_TLS on failure);
 *   DANE: every DANE-TA(2)/DANE-EE(3) record of rrset is given to
 *   SSL_dane_tlsa_add (PKIX usages 0/1 are unusable for SMTP, RFC 7672
 *   3.1.3, and skipped); the served chain must verify and match a record
 *   (TLSAD_EPROBE_DANE otherwise, with OpenSSL's reason in why);
 *   then, if expect is not NULL, the served leaf's SPKI SHA-256 must equal
 *   expect (TLSAD_EPROBE_OLDKEY otherwise).
 * servername: the MX host name for SNI and DANE-TA name checks; NULL means
 * v->servername, which must then be set.  timeout_ms bounds the whole probe
 * (0: MTA_PROBE_TIMEOUT_MS).  served (optional) gets the served leaf's SPKI
 * SHA-256 whenever the handshake completed, even when a check failed;
 * *have_served (optional) says whether it was filled.  Ends with QUIT.
 */
int	mta_probe(const struct conf_verify *v, const char *servername,
	    const struct tlsa_rrset *rrset, const uint8_t expect[32],
	    unsigned timeout_ms, uint8_t served[32], int *have_served,
	    char *why, size_t whylen);

/*
 * The lighter probe for monitors and status: the same dialogue without
 * DANE, returning only the served leaf's SPKI SHA-256 in served.
 */
int	mta_probe_key(const struct conf_verify *v, const char *servername,
	    unsigned timeout_ms, uint8_t served[32], char *why, size_t whylen);

/*
 * SMTP reply parsing, pure (exposed for the unit tests).
 *
 * mta_smtp_reply: is a complete reply at the start of buf (len bytes)?
 * Lines end in CRLF (a bare LF is accepted); "CCC-text" continues, "CCC text"
 * or "CCC" ends the reply; every line must carry the same code.  Returns 1
 * when more bytes are needed, 0 when complete (*code, *consumed = bytes up
 * to and including the final line's end), TLSAD_EPROBE_STARTTLS for a
 * malformed reply or a line over MTA_SMTP_LINE_MAX, TLSAD_ETOOBIG for a
 * reply over MTA_SMTP_REPLY_MAX.
 */
int	mta_smtp_reply(const char *buf, size_t len, int *code,
	    size_t *consumed);

/*
 * Does a complete EHLO reply (as mta_smtp_reply accepted it) advertise
 * keyword (e.g. "STARTTLS") as the first word of one of its lines after
 * the first?  Case-insensitive.  1 yes, 0 no.
 */
int	mta_smtp_has_ext(const char *reply, size_t len, const char *keyword);

#endif /* TLSAD_MTA_H */
