/*
 * test_sdnotify.c -- sd_notify without libsystemd: a real datagram socket in
 * a temp dir (and an abstract one) plays systemd and reads what we send.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/sdnotify.h"

struct fixture {
	char	dir[256];
	char	path[300];
	int	fd;
};

static int
setup(void **state)
{
	struct fixture		*f;
	struct sockaddr_un	 sun;
	const char		*tmp = getenv("TMPDIR");

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/tlsad-sdn.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (f->fd == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	if (bind(f->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return -1;
	setenv("NOTIFY_SOCKET", f->path, 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	unsetenv("NOTIFY_SOCKET");
	close(f->fd);
	unlink(f->path);
	if (rmdir(f->dir) == -1)
		return -1;
	free(f);
	return 0;
}

/* The next datagram, NUL-terminated; "" when none is waiting. */
static void
recv_msg(int fd, char *buf, size_t size)
{
	ssize_t	n;

	n = recv(fd, buf, size - 1, 0);
	if (n == -1) {
		assert_int_equal(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
}

static void
test_messages(void **state)
{
	struct fixture	*f = *state;
	char		 buf[4096];

	assert_int_equal(sdnotify_ready("watching 2 lineages"), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1\nSTATUS=watching 2 lineages");
	assert_int_equal(sdnotify_ready(NULL), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1");
	/* a newline in a status would start a new key: flattened */
	assert_int_equal(sdnotify_status("mx: %s\nREADY=1", "holding 37/300 s"), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "STATUS=mx: holding 37/300 s READY=1");
	assert_int_equal(sdnotify_watchdog(), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "WATCHDOG=1");
	assert_int_equal(sdnotify_stopping(), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "STOPPING=1");
	assert_int_equal(sdnotify_reloading(), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_memory_equal(buf, "RELOADING=1\nMONOTONIC_USEC=", 27);
	assert_true(strlen(buf) > 27);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "");	/* nothing else was sent */
}

static void
test_long_status_cut(void **state)
{
	struct fixture	*f = *state;
	char		 big[3000], buf[4096];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sdnotify_status("%s", big), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_int_equal(strlen(buf), SDNOTIFY_MAX);
	assert_memory_equal(buf, "STATUS=xxx", 10);
}

static void
test_abstract_socket(void **state)
{
	struct sockaddr_un	sun;
	socklen_t		alen;
	char			name[64], buf[256];
	int			fd;

	(void)state;
	snprintf(name, sizeof(name), "@tlsad-test-sdnotify-%ld", (long)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name + 1, strlen(name) - 1);
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, alen), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdnotify_ready(NULL), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_no_socket(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_ready("x"), 0);	/* not under systemd: no-op */
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(sdnotify_watchdog(), 0);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_int_equal(sdnotify_watchdog(), -EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify", 1);
	assert_int_equal(sdnotify_watchdog(), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog_interval(void **state)
{
	uint64_t	usec = 7;
	char		pid[32];

	(void)state;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
	assert_int_equal(usec, 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(sdnotify_watchdog_interval(&usec), 1);
	assert_int_equal(usec, 30000000);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_interval(&usec), 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_interval(&usec), 0);	/* not ours */
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "0", 1);
	assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
	setenv("WATCHDOG_USEC", "30s", 1);
	assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
	setenv("WATCHDOG_USEC", "-5", 1);
	assert_int_equal(sdnotify_watchdog_interval(&usec), 0);
	unsetenv("WATCHDOG_USEC");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_status_cut, setup,
		    teardown),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_no_socket),
		cmocka_unit_test(test_watchdog_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
