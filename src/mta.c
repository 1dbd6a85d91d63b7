/*
 * mta.c -- run the MTA's reload command and probe what the MTA serves.
 *
 * Spawning: posix_spawn with a fixed argv, PATH as the whole environment,
 * no shell, default signals, its own process group (killed at the
 * deadline); stdout and stderr are read through pipes with hard caps.
 *
 * Probing: one deadline for the whole exchange; every SMTP reply is capped
 * (line and total); data the server sends after its 220 to STARTTLS is a
 * protocol violation (plaintext that would be taken for TLS-protected) and
 * fails the probe.  The served chain is checked by OpenSSL's DANE code
 * against the records the caller validated, never against a CA store.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/mta.h"
#include "tlsad/util.h"

static void
say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---- spawning ---------------------------------------------------------- */

/* Find argv0 in MTA_SPAWN_PATH (not in our own environment's PATH). */
static int
find_program(const char *name, char *path, size_t pathsize)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin",
	    "/bin" };
	size_t	i;
	int	n;

	if (strchr(name, '/') != NULL) {
		n = snprintf(path, pathsize, "%s", name);
		return n < 0 || (size_t)n >= pathsize ? -ENAMETOOLONG : 0;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		n = snprintf(path, pathsize, "%s/%s", dirs[i], name);
		if (n < 0 || (size_t)n >= pathsize)
			return -ENAMETOOLONG;
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Read what is there from fd; close it (set -1) at EOF or on error. */
static void
drain(int *fd, char *buf, size_t *len, size_t cap)
{
	char	scratch[4096];
	ssize_t	n;

	for (;;) {
		if (buf != NULL && *len < cap)
			n = read(*fd, buf + *len, cap - *len);
		else
			n = read(*fd, scratch, sizeof(scratch));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close(*fd);
			*fd = -1;
			return;
		}
		if (buf != NULL && *len < cap)
			*len += (size_t)n;
	}
}

int
mta_run(char *const argv[], unsigned timeout_ms, char **out, size_t *outlen,
    size_t outmax, char *errtext, size_t errtextlen, struct mta_exit *ex)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 sigs;
	struct pollfd			 pfd[3];
	char				 prog[4096];
	char				*envp[] = { (char *)MTA_SPAWN_PATH, NULL };
	char				*obuf = NULL;
	size_t				 olen = 0, elen = 0, ecap = 0;
	int				 outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int				 fa_init = 0, attr_init = 0, pidfd = -1;
	int				 reaped = 0, status = 0, rc, e, nfd, i;
	int64_t				 deadline, grace = 0, now, wait_ms;
	pid_t				 pid = -1, w;

	memset(ex, 0, sizeof(*ex));
	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (errtext != NULL && errtextlen > 0) {
		errtext[0] = '\0';
		ecap = errtextlen - 1;
	}
	if (argv == NULL || argv[0] == NULL) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	rc = find_program(argv[0], prog, sizeof(prog));
	if (rc != 0) {
		rc = TLSAD_ESPAWN;
		goto out;
	}
	if (out != NULL) {
		obuf = malloc(outmax + 1);
		if (obuf == NULL) {
			rc = TLSAD_ENOMEM;
			goto out;
		}
	}
	if (pipe2(outp, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(errp, O_CLOEXEC | O_NONBLOCK) == -1) {
		rc = -errno;
		goto out;
	}
	/* The child's ends must block: clear O_NONBLOCK there. */
	if (fcntl(outp[1], F_SETFL, 0) == -1 ||
	    fcntl(errp[1], F_SETFL, 0) == -1) {
		rc = -errno;
		goto out;
	}
	e = posix_spawn_file_actions_init(&fa);
	if (e != 0) {
		rc = -e;
		goto out;
	}
	fa_init = 1;
	e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	if (e != 0) {
		rc = -e;
		goto out;
	}
	e = posix_spawnattr_init(&attr);
	if (e != 0) {
		rc = -e;
		goto out;
	}
	attr_init = 1;
	sigemptyset(&sigs);
	e = posix_spawnattr_setsigmask(&attr, &sigs);
	sigfillset(&sigs);
	if (e == 0)
		e = posix_spawnattr_setsigdefault(&attr, &sigs);
	if (e == 0)
		e = posix_spawnattr_setpgroup(&attr, 0);
	if (e == 0)
		e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
		    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if (e != 0) {
		rc = -e;
		goto out;
	}
	e = posix_spawn(&pid, prog, &fa, &attr, argv, envp);
	if (e != 0) {
		pid = -1;
		rc = TLSAD_ESPAWN;
		if (errtext != NULL && ecap > 0)
			say(errtext, errtextlen, "%s: %s", prog, strerror(e));
		goto out;
	}
	close(outp[1]);
	outp[1] = -1;
	close(errp[1]);
	errp[1] = -1;
	/* A pidfd makes the child's exit pollable; without one we tick. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	deadline = util_now_mono_ms() + (int64_t)timeout_ms;
	for (;;) {
		if (!reaped) {
			w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				reaped = 1;
				/* Grandchildren may hold the pipes: not forever. */
				grace = util_now_mono_ms() + 200;
			} else if (w == -1 && errno != EINTR) {
				rc = -errno;
				goto out;
			}
		}
		if (reaped && outp[0] == -1 && errp[0] == -1)
			break;
		now = util_now_mono_ms();
		if (reaped && now >= grace)
			break;
		if (!reaped && now >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			do {
				w = waitpid(pid, &status, 0);
			} while (w == -1 && errno == EINTR);
			reaped = 1;
			ex->timed_out = 1;
			break;
		}
		nfd = 0;
		if (outp[0] != -1)
			pfd[nfd++] = (struct pollfd){ outp[0], POLLIN, 0 };
		if (errp[0] != -1)
			pfd[nfd++] = (struct pollfd){ errp[0], POLLIN, 0 };
		if (!reaped && pidfd != -1)
			pfd[nfd++] = (struct pollfd){ pidfd, POLLIN, 0 };
		wait_ms = (reaped ? grace : deadline) - now;
		if (!reaped && pidfd == -1 && wait_ms > 20)
			wait_ms = 20;
		if (poll(pfd, (nfds_t)nfd, (int)wait_ms) == -1 &&
		    errno != EINTR) {
			rc = -errno;
			goto out;
		}
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == outp[0])
				drain(&outp[0], obuf, &olen, outmax);
			else if (pfd[i].fd == errp[0])
				drain(&errp[0], errtext, &elen, ecap);
		}
	}
	if (errtext != NULL && ecap > 0)
		errtext[elen] = '\0';
	if (ex->timed_out) {
		ex->exited = 0;
		ex->status = SIGKILL;
		rc = TLSAD_ETIMEOUT;
		goto out;
	}
	if (WIFEXITED(status)) {
		ex->exited = 1;
		ex->status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		ex->status = WTERMSIG(status);
	}
	if (out != NULL) {
		obuf[olen] = '\0';
		*out = obuf;
		obuf = NULL;
		if (outlen != NULL)
			*outlen = olen;
	}
	rc = 0;
out:
	if (pid != -1 && !reaped) {
		/* An error left the child running: do not leave it behind. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		do {
			w = waitpid(pid, &status, 0);
		} while (w == -1 && errno == EINTR);
	}
	free(obuf);
	if (pidfd != -1)
		close(pidfd);
	for (i = 0; i < 2; i++) {
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
	}
	if (attr_init)
		posix_spawnattr_destroy(&attr);
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* The first non-empty line of text, trimmed, into line. */
static void
first_line(const char *text, char *line, size_t size)
{
	size_t	n;

	while (*text == '\n' || *text == '\r' || *text == ' ')
		text++;
	n = strcspn(text, "\r\n");
	if (n >= size)
		n = size - 1;
	memcpy(line, text, n);
	line[n] = '\0';
}

int
mta_reload(char *const argv[], unsigned timeout_ms, char *why, size_t whylen)
{
	struct mta_exit	ex;
	char		errtext[MTA_STDERR_MAX], line[512], msg[1024];
	const char	*prog = argv != NULL && argv[0] != NULL ? argv[0] : "?";
	int		rc;

	msg[0] = '\0';
	if (timeout_ms == 0)
		timeout_ms = MTA_RELOAD_TIMEOUT_MS;
	rc = mta_run(argv, timeout_ms, NULL, NULL, 0, errtext,
	    sizeof(errtext), &ex);
	first_line(errtext, line, sizeof(line));
	if (rc == TLSAD_ESPAWN) {
		say(msg, sizeof(msg), "reload: cannot start %s%s%s", prog,
		    line[0] != '\0' ? ": " : "", line);
		goto out;
	}
	if (rc == TLSAD_ETIMEOUT) {
		rc = TLSAD_ERELOAD;
		say(msg, sizeof(msg), "reload: %s did not finish within %u ms "
		    "and was killed%s%s", prog, timeout_ms,
		    line[0] != '\0' ? ": " : "", line);
		goto out;
	}
	if (rc != 0) {
		say(msg, sizeof(msg), "reload: running %s: %s", prog,
		    tlsad_strerror(rc));
		goto out;
	}
	if (!ex.exited) {
		rc = TLSAD_ERELOAD;
		say(msg, sizeof(msg), "reload: %s killed by signal %d (%s)%s%s",
		    prog, ex.status, strsignal(ex.status),
		    line[0] != '\0' ? ": " : "", line);
		goto out;
	}
	if (ex.status != 0) {
		rc = TLSAD_ERELOAD;
		say(msg, sizeof(msg), "reload: %s exited with status %d%s%s",
		    prog, ex.status, line[0] != '\0' ? ": " : "", line);
		goto out;
	}
	log_info("reload: %s done", prog);
out:
	if (rc != 0) {
		log_warnx("%s", msg);
		say(why, whylen, "%s", msg);
	}
	return rc;
}

/* ---- SMTP replies (pure) ----------------------------------------------- */

int
mta_smtp_reply(const char *buf, size_t len, int *code, size_t *consumed)
{
	const char	*nl;
	size_t		 pos = 0, linelen, textlen;
	int		 first = -1, c;
	char		 sep;

	for (;;) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			if (len - pos > MTA_SMTP_LINE_MAX)
				return TLSAD_EPROBE_STARTTLS;
			if (len > MTA_SMTP_REPLY_MAX)
				return TLSAD_ETOOBIG;
			return 1;
		}
		linelen = (size_t)(nl - (buf + pos));
		if (linelen + 1 > MTA_SMTP_LINE_MAX)
			return TLSAD_EPROBE_STARTTLS;
		textlen = linelen;
		if (textlen > 0 && buf[pos + textlen - 1] == '\r')
			textlen--;
		if (textlen < 3 || buf[pos] < '2' || buf[pos] > '5' ||
		    buf[pos + 1] < '0' || buf[pos + 1] > '9' ||
		    buf[pos + 2] < '0' || buf[pos + 2] > '9')
			return TLSAD_EPROBE_STARTTLS;
		c = (buf[pos] - '0') * 100 + (buf[pos + 1] - '0') * 10 +
		    (buf[pos + 2] - '0');
		if (first == -1)
			first = c;
		else if (c != first)
			return TLSAD_EPROBE_STARTTLS;
		sep = textlen == 3 ? ' ' : buf[pos + 3];
		if (sep != ' ' && sep != '-')
			return TLSAD_EPROBE_STARTTLS;
		pos += linelen + 1;
		if (pos > MTA_SMTP_REPLY_MAX)
			return TLSAD_ETOOBIG;
		if (sep == ' ') {
			*code = first;
			*consumed = pos;
			return 0;
		}
	}
}

int
mta_smtp_has_ext(const char *reply, size_t len, const char *keyword)
{
	size_t	pos = 0, linelen, klen = strlen(keyword), i;
	int	lineno = 0;
	const char *nl, *text;

	while (pos < len) {
		nl = memchr(reply + pos, '\n', len - pos);
		linelen = nl == NULL ? len - pos : (size_t)(nl - (reply + pos));
		if (lineno > 0 && linelen >= 4 + klen) {
			text = reply + pos + 4;
			i = 4 + klen;
			if (strncasecmp(text, keyword, klen) == 0 &&
			    (i == linelen || reply[pos + i] == ' ' ||
			    reply[pos + i] == '\r'))
				return 1;
		}
		lineno++;
		pos += linelen + 1;
	}
	return 0;
}

/* ---- probing ----------------------------------------------------------- */

struct conn {
	int		 fd;
	SSL		*ssl;
	int64_t		 deadline;
	size_t		 len;
	char		 buf[MTA_SMTP_REPLY_MAX + 1];
};

/* Wait until fd is ready for events or the deadline passes. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		n;

	for (;;) {
		left = deadline - util_now_mono_ms();
		if (left <= 0)
			return TLSAD_ETIMEOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		if (n > 0)
			return 0;
	}
}

/* Wait for what OpenSSL asked for; other errors end the exchange. */
static int
ssl_wait(struct conn *c, int ret)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return wait_fd(c->fd, POLLIN, c->deadline);
	case SSL_ERROR_WANT_WRITE:
		return wait_fd(c->fd, POLLOUT, c->deadline);
	case SSL_ERROR_ZERO_RETURN:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

static int
conn_write(struct conn *c, const char *data, size_t len)
{
	ssize_t	n;
	int	ret, rc;

	while (len > 0) {
		if (c->ssl != NULL) {
			ret = SSL_write(c->ssl, data, (int)len);
			if (ret <= 0) {
				rc = ssl_wait(c, ret);
				if (rc != 0)
					return rc;
				continue;
			}
			n = ret;
		} else {
			n = send(c->fd, data, len, MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				rc = wait_fd(c->fd, POLLOUT, c->deadline);
				if (rc != 0)
					return rc;
				continue;
			}
			if (n == -1)
				return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until one complete reply is buffered; *consumed is its length. */
static int
conn_reply(struct conn *c, int *code, size_t *consumed)
{
	ssize_t	n;
	int	rc, ret;

	for (;;) {
		rc = mta_smtp_reply(c->buf, c->len, code, consumed);
		if (rc <= 0)
			return rc;
		if (c->len >= MTA_SMTP_REPLY_MAX)
			return TLSAD_ETOOBIG;
		if (c->ssl != NULL) {
			ret = SSL_read(c->ssl, c->buf + c->len,
			    (int)(MTA_SMTP_REPLY_MAX - c->len));
			if (ret <= 0) {
				rc = ssl_wait(c, ret);
				if (rc != 0)
					return rc;
				continue;
			}
			n = ret;
		} else {
			n = recv(c->fd, c->buf + c->len,
			    MTA_SMTP_REPLY_MAX - c->len, 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				rc = wait_fd(c->fd, POLLIN, c->deadline);
				if (rc != 0)
					return rc;
				continue;
			}
			if (n == -1)
				return -errno;
			if (n == 0)
				return -ECONNRESET;
		}
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
	}
}

static void
conn_consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	c->buf[c->len] = '\0';
}

/* The first line of the buffered reply, printable, for messages. */
static void
reply_line(const struct conn *c, char *line, size_t size)
{
	size_t	i, n = strcspn(c->buf, "\r\n");

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		line[i] = c->buf[i] >= 0x20 && c->buf[i] < 0x7f ? c->buf[i] : '?';
	line[n] = '\0';
}

static int
conn_open(struct conn *c, const struct conf_addr *addr, char *msg,
    size_t msglen)
{
	struct addrinfo	 hints, *ai = NULL;
	socklen_t	 sl;
	char		 port[8];
	int		 rc, e, soerr = 0, connecting = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", (unsigned)addr->port);
	e = getaddrinfo(addr->host, port, &hints, &ai);
	if (e != 0) {
		say(msg, msglen, "probe %s@%u: not a numeric address: %s",
		    addr->host, (unsigned)addr->port, gai_strerror(e));
		rc = TLSAD_EINVAL;
		goto out;
	}
	/* From here on every failure is "cannot connect". */
	connecting = 1;
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		rc = -errno;
		goto out;
	}
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			rc = -errno;
			goto out;
		}
		rc = wait_fd(c->fd, POLLOUT, c->deadline);
		if (rc != 0)
			goto out;
		sl = sizeof(soerr);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			rc = -soerr;
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0 && connecting) {
		say(msg, msglen, "probe %s@%u: cannot connect: %s", addr->host,
		    (unsigned)addr->port, rc == TLSAD_ETIMEOUT ? "timed out" :
		    strerror(-rc));
		rc = TLSAD_EPROBE_CONNECT;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	return rc;
}

/* Our EHLO name: the host name if it is a plain DNS name, else localhost. */
static void
ehlo_name(char *name, size_t size)
{
	size_t	i;
	int	plain;

	plain = gethostname(name, size) == 0;
	name[size - 1] = '\0';
	if (name[0] == '\0')
		plain = 0;
	for (i = 0; plain && name[i] != '\0'; i++) {
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '-' || name[i] == '.'))
			plain = 0;
	}
	if (!plain)
		snprintf(name, size, "localhost");
}

static const char *
io_reason(int rc)
{
	if (rc == TLSAD_ETIMEOUT)
		return "timed out";
	if (rc == -ECONNRESET)
		return "connection closed by the server";
	if (rc == TLSAD_ETOOBIG || rc == TLSAD_EPROBE_STARTTLS)
		return "malformed or oversized reply";
	return tlsad_strerror(rc);
}

static int
smtp_starttls(struct conn *c, const struct conf_addr *addr, char *msg,
    size_t msglen)
{
	char	host[256], cmd[300], line[160];
	size_t	consumed;
	int	code, rc;

	rc = conn_reply(c, &code, &consumed);
	if (rc != 0) {
		say(msg, msglen, "probe %s@%u: reading the greeting: %s",
		    addr->host, (unsigned)addr->port, io_reason(rc));
		goto fail;
	}
	if (code != 220) {
		reply_line(c, line, sizeof(line));
		say(msg, msglen, "probe %s@%u: greeting is not 220: %s",
		    addr->host, (unsigned)addr->port, line);
		goto fail;
	}
	conn_consume(c, consumed);
	ehlo_name(host, sizeof(host));
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", host);
	rc = conn_write(c, cmd, strlen(cmd));
	if (rc == 0)
		rc = conn_reply(c, &code, &consumed);
	if (rc != 0) {
		say(msg, msglen, "probe %s@%u: EHLO: %s", addr->host,
		    (unsigned)addr->port, io_reason(rc));
		goto fail;
	}
	if (code != 250) {
		reply_line(c, line, sizeof(line));
		say(msg, msglen, "probe %s@%u: EHLO refused: %s", addr->host,
		    (unsigned)addr->port, line);
		goto fail;
	}
	if (!mta_smtp_has_ext(c->buf, consumed, "STARTTLS")) {
		say(msg, msglen, "probe %s@%u: the server does not offer "
		    "STARTTLS (check smtpd_tls_security_level and the "
		    "certificate files)", addr->host, (unsigned)addr->port);
		goto fail;
	}
	conn_consume(c, consumed);
	rc = conn_write(c, "STARTTLS\r\n", 10);
	if (rc == 0)
		rc = conn_reply(c, &code, &consumed);
	if (rc != 0) {
		say(msg, msglen, "probe %s@%u: STARTTLS: %s", addr->host,
		    (unsigned)addr->port, io_reason(rc));
		goto fail;
	}
	if (code != 220) {
		reply_line(c, line, sizeof(line));
		say(msg, msglen, "probe %s@%u: STARTTLS refused: %s",
		    addr->host, (unsigned)addr->port, line);
		goto fail;
	}
	if (consumed != c->len) {
		say(msg, msglen, "probe %s@%u: the server sent data after its "
		    "220 to STARTTLS (protocol violation)", addr->host,
		    (unsigned)addr->port);
		goto fail;
	}
	c->len = 0;
	return 0;
fail:
	return TLSAD_EPROBE_STARTTLS;
}

static int
x509_spki_sha256(X509 *x, uint8_t out[32])
{
	unsigned char	*der = NULL;
	unsigned int	 mdlen = 0;
	int		 n, rc = TLSAD_ECERT_UNSUPPORTED;

	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (n > 0 && EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(),
	    NULL) == 1 && mdlen == 32)
		rc = 0;
	OPENSSL_free(der);
	return rc;
}

/* The OpenSSL error queue's first reason, or fallback. */
static const char *
ssl_reason(const char *fallback, char *buf, size_t size)
{
	unsigned long	e = ERR_peek_error();

	if (e == 0)
		return fallback;
	ERR_error_string_n(e, buf, size);
	return buf;
}

/* Say goodbye; failures here change nothing. */
static void
smtp_quit(struct conn *c, int tls_greeting)
{
	size_t	consumed;
	int	code, rc;
	int64_t	soon = util_now_mono_ms() + 2000;

	if (soon < c->deadline)
		c->deadline = soon;
	c->len = 0;
	if (tls_greeting) {
		rc = conn_reply(c, &code, &consumed);
		if (rc != 0)
			return;
		c->len = 0;
	}
	if (conn_write(c, "QUIT\r\n", 6) != 0)
		return;
	(void)conn_reply(c, &code, &consumed);
	if (c->ssl != NULL)
		(void)SSL_shutdown(c->ssl);
}

static int
probe(const struct conf_verify *v, const char *servername,
    const struct tlsa_rrset *rrset, const uint8_t expect[32],
    unsigned timeout_ms, uint8_t served[32], int *have_served, char *why,
    size_t whylen)
{
	struct sigaction	 ign, oldpipe;
	struct conn		*c = NULL;
	SSL_CTX			*ctx = NULL;
	X509			*peer;
	EVP_PKEY		*mspki = NULL;
	char			 msg[1024], ebuf[256], hex_s[65], hex_e[65];
	const struct tlsa_rr	*rr;
	uint8_t			 spki[32];
	size_t			 i, usable = 0;
	long			 vr;
	int			 rc, ret, depth, pipe_saved = 0, tls_up = 0;

	msg[0] = '\0';
	hex_s[0] = '\0';
	if (have_served != NULL)
		*have_served = 0;
	if (servername == NULL)
		servername = v->servername;
	if (servername == NULL || servername[0] == '\0') {
		rc = TLSAD_EINVAL;
		say(msg, sizeof(msg), "probe %s@%u: no server name for SNI",
		    v->addr.host, (unsigned)v->addr.port);
		goto out;
	}
	if (timeout_ms == 0)
		timeout_ms = MTA_PROBE_TIMEOUT_MS;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, &oldpipe) == 0)
		pipe_saved = 1;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	c->fd = -1;
	c->deadline = util_now_mono_ms() + (int64_t)timeout_ms;
	rc = conn_open(c, &v->addr, msg, sizeof(msg));
	if (rc != 0)
		goto out;
	if (v->mode == CONF_VERIFY_STARTTLS) {
		rc = smtp_starttls(c, &v->addr, msg, sizeof(msg));
		if (rc != 0)
			goto out;
	}

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (rrset != NULL && SSL_CTX_dane_enable(ctx) <= 0) {
		rc = TLSAD_EINTERNAL;
		say(msg, sizeof(msg), "probe: OpenSSL DANE support unavailable");
		goto out;
	}
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, servername) != 1) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	if (rrset != NULL) {
		if (SSL_dane_enable(c->ssl, servername) <= 0) {
			rc = TLSAD_EINTERNAL;
			say(msg, sizeof(msg), "probe: SSL_dane_enable(%s) "
			    "failed", servername);
			goto out;
		}
		for (i = 0; i < rrset->n; i++) {
			rr = &rrset->rr[i];
			if (rr->param.usage != TLSA_USAGE_DANE_TA &&
			    rr->param.usage != TLSA_USAGE_DANE_EE)
				continue;
			ret = SSL_dane_tlsa_add(c->ssl, rr->param.usage,
			    rr->param.selector, rr->param.mtype, rr->data,
			    rr->len);
			if (ret > 0)
				usable++;
		}
		ERR_clear_error();
		if (usable == 0) {
			rc = TLSAD_EPROBE_DANE;
			say(msg, sizeof(msg), "probe %s@%u: the TLSA RRset "
			    "(%zu records) holds no usable DANE-TA or DANE-EE "
			    "record", v->addr.host, (unsigned)v->addr.port,
			    rrset->n);
			goto out;
		}
	}
	for (;;) {
		ret = SSL_connect(c->ssl);
		if (ret == 1)
			break;
		rc = ssl_wait(c, ret);
		if (rc != 0) {
			say(msg, sizeof(msg), "probe %s@%u: TLS handshake "
			    "failed: %s", v->addr.host, (unsigned)v->addr.port,
			    rc == TLSAD_ETIMEOUT ? "timed out" :
			    ssl_reason("connection closed", ebuf,
			    sizeof(ebuf)));
			rc = TLSAD_EPROBE_TLS;
			goto out;
		}
	}
	/* From here on, say goodbye before closing. */
	tls_up = 1;
	peer = SSL_get0_peer_certificate(c->ssl);
	if (peer == NULL || x509_spki_sha256(peer, spki) != 0) {
		rc = TLSAD_EPROBE_TLS;
		say(msg, sizeof(msg), "probe %s@%u: no usable server "
		    "certificate", v->addr.host, (unsigned)v->addr.port);
		goto out;
	}
	if (served != NULL)
		memcpy(served, spki, 32);
	if (have_served != NULL)
		*have_served = 1;
	util_hex(spki, 32, hex_s);
	if (rrset != NULL) {
		vr = SSL_get_verify_result(c->ssl);
		depth = SSL_get0_dane_authority(c->ssl, NULL, &mspki);
		if (vr != X509_V_OK || depth < 0) {
			rc = TLSAD_EPROBE_DANE;
			say(msg, sizeof(msg), "probe %s@%u: the served chain "
			    "(key %.16s...) fails DANE against the %zu "
			    "validated TLSA records: %s", v->addr.host,
			    (unsigned)v->addr.port, hex_s, rrset->n,
			    vr != X509_V_OK ? X509_verify_cert_error_string(vr)
			    : "no record matched");
			goto out;
		}
	}
	if (expect != NULL && memcmp(expect, spki, 32) != 0) {
		util_hex(expect, 32, hex_e);
		rc = TLSAD_EPROBE_OLDKEY;
		say(msg, sizeof(msg), "probe %s@%u: serves key %.16s..., not "
		    "the expected %.16s...", v->addr.host,
		    (unsigned)v->addr.port, hex_s, hex_e);
		goto out;
	}
	rc = 0;
out:
	if (tls_up)
		smtp_quit(c, v->mode == CONF_VERIFY_TLS);
	if (rc != 0) {
		if (msg[0] == '\0')
			say(msg, sizeof(msg), "probe %s@%u: %s", v->addr.host,
			    (unsigned)v->addr.port, tlsad_strerror(rc));
		log_warnx("%s", msg);
		say(why, whylen, "%s", msg);
	} else {
		log_info("probe %s@%u: serves key %.16s...%s", v->addr.host,
		    (unsigned)v->addr.port, hex_s,
		    rrset != NULL ? ", DANE verified" : "");
	}
	ERR_clear_error();
	if (c != NULL) {
		SSL_free(c->ssl);
		if (c->fd != -1)
			close(c->fd);
		free(c);
	}
	SSL_CTX_free(ctx);
	if (pipe_saved)
		sigaction(SIGPIPE, &oldpipe, NULL);
	return rc;
}

int
mta_probe(const struct conf_verify *v, const char *servername,
    const struct tlsa_rrset *rrset, const uint8_t expect[32],
    unsigned timeout_ms, uint8_t served[32], int *have_served, char *why,
    size_t whylen)
{
	static const struct tlsa_rrset	empty = { NULL, 0, 0 };

	/* No RRset is not "no DANE": it is a set nothing can match. */
	return probe(v, servername, rrset != NULL ? rrset : &empty, expect,
	    timeout_ms, served, have_served, why, whylen);
}

int
mta_probe_key(const struct conf_verify *v, const char *servername,
    unsigned timeout_ms, uint8_t served[32], char *why, size_t whylen)
{
	return probe(v, servername, NULL, NULL, timeout_ms, served, NULL, why,
	    whylen);
}
