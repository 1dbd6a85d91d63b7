/*
 * sdnotify.c -- sd_notify(3) by hand: one datagram to $NOTIFY_SOCKET.
 *
 * Responsible for telling systemd that tlsad is ready, what it is doing and
 * that it is alive, without linking libsystemd.  Never blocks (a full
 * notify socket loses the message, which systemd tolerates) and never logs:
 * the daemon decides whether a failure to notify is worth a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tlsad/sdnotify.h"
#include "tlsad/util.h"

int
sdnotify_send(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path;
	socklen_t		 alen;
	size_t			 plen, mlen;
	ssize_t			 n;
	int			 fd = -1, rc = 0;

	path = getenv("NOTIFY_SOCKET");
	if (path == NULL || path[0] == '\0')
		goto out;
	if (path[0] != '/' && path[0] != '@') {
		rc = -EAFNOSUPPORT;	/* vsock: and friends */
		goto out;
	}
	plen = strlen(path);
	if (plen >= sizeof(sun.sun_path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	mlen = strlen(msg);
	if (mlen == 0 || mlen > SDNOTIFY_MAX) {
		rc = -EINVAL;
		goto out;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no NUL after the name */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&sun,
		    alen);
		if (n == -1 && errno == EINTR)
			continue;
		break;
	}
	if (n == -1)
		rc = -errno;
	else if ((size_t)n != mlen)
		rc = -EMSGSIZE;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

int
sdnotify_ready(const char *status)
{
	char	buf[SDNOTIFY_MAX + 1];
	size_t	i;
	int	n;

	if (status == NULL)
		return sdnotify_send("READY=1");
	n = snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status);
	if (n < 0)
		return -EINVAL;
	for (i = strlen("READY=1\n"); buf[i] != '\0'; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	return sdnotify_send(buf);
}

int
sdnotify_status(const char *fmt, ...)
{
	va_list	ap;
	char	buf[SDNOTIFY_MAX + 1];
	size_t	i;
	int	n;

	memcpy(buf, "STATUS=", 7);
	va_start(ap, fmt);
	n = vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	for (i = 7; buf[i] != '\0'; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';	/* one line; a newline would start a key */
	return sdnotify_send(buf);
}

int
sdnotify_watchdog(void)
{
	return sdnotify_send("WATCHDOG=1");
}

int
sdnotify_stopping(void)
{
	return sdnotify_send("STOPPING=1");
}

int
sdnotify_reloading(void)
{
	char	buf[64];

	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)util_now_mono_ms() * 1000LL);
	return sdnotify_send(buf);
}

int
sdnotify_watchdog_interval(uint64_t *usec)
{
	unsigned long long	 v, pid;
	const char		*s;

	*usec = 0;
	s = getenv("WATCHDOG_USEC");
	if (s == NULL || util_parse_uint(s, 1, UINT64_MAX, &v) != 0)
		return 0;
	s = getenv("WATCHDOG_PID");
	if (s != NULL) {
		if (util_parse_uint(s, 1, UINT64_MAX, &pid) != 0 ||
		    pid != (unsigned long long)getpid())
			return 0;	/* meant for another process */
	}
	*usec = v;
	return 1;
}
