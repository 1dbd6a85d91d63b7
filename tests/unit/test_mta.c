/*
 * test_mta.c -- SMTP reply parsing (pure), spawning (mta_run, mta_reload)
 * and the probe's SMTP dialogue against scripted servers on 127.0.0.1 with
 * a kernel-chosen port.  The TLS and DANE paths are tested against a real
 * Postfix in tests/integration/t_mta.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsad/conf.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/mta.h"
#include "tlsad/util.h"

static int
reply(const char *s, int *code, size_t *consumed)
{
	*code = -1;
	*consumed = 0;
	return mta_smtp_reply(s, strlen(s), code, consumed);
}

static void
test_reply_single(void **state)
{
	int	code;
	size_t	n;

	(void)state;
	assert_int_equal(reply("220 mx.example ESMTP\r\n", &code, &n), 0);
	assert_int_equal(code, 220);
	assert_int_equal(n, 22);
	/* A bare code, and a bare LF, are accepted. */
	assert_int_equal(reply("220\r\n", &code, &n), 0);
	assert_int_equal(code, 220);
	assert_int_equal(reply("250 ok\n", &code, &n), 0);
	assert_int_equal(code, 250);
	assert_int_equal(n, 7);
	/* Bytes after the reply are not consumed. */
	assert_int_equal(reply("220 go ahead\r\nEXTRA", &code, &n), 0);
	assert_int_equal(n, 14);
}

static void
test_reply_multi(void **state)
{
	const char	*ehlo = "250-mx.example\r\n250-PIPELINING\r\n"
			    "250-STARTTLS\r\n250 SMTPUTF8\r\n";
	int		 code;
	size_t		 n;

	(void)state;
	assert_int_equal(reply(ehlo, &code, &n), 0);
	assert_int_equal(code, 250);
	assert_int_equal(n, strlen(ehlo));
	assert_int_equal(reply("220-mx.example ESMTP\r\n220-second line\r\n"
	    "220 last\r\n", &code, &n), 0);
	assert_int_equal(code, 220);
}

static void
test_reply_incomplete(void **state)
{
	int	code;
	size_t	n;

	(void)state;
	assert_int_equal(reply("", &code, &n), 1);
	assert_int_equal(reply("22", &code, &n), 1);
	assert_int_equal(reply("220 mx", &code, &n), 1);
	assert_int_equal(reply("250-mx\r\n250-STARTTLS\r\n", &code, &n), 1);
	assert_int_equal(reply("250-mx\r\n250 SIZ", &code, &n), 1);
}

static void
test_reply_malformed(void **state)
{
	char	*big;
	int	 code;
	size_t	 n, i;

	(void)state;
	assert_int_equal(reply("hello\r\n", &code, &n), TLSAD_EPROBE_STARTTLS);
	assert_int_equal(reply("22\r\n", &code, &n), TLSAD_EPROBE_STARTTLS);
	assert_int_equal(reply("2x0 ok\r\n", &code, &n), TLSAD_EPROBE_STARTTLS);
	assert_int_equal(reply("120 ok\r\n", &code, &n), TLSAD_EPROBE_STARTTLS);
	assert_int_equal(reply("650 ok\r\n", &code, &n), TLSAD_EPROBE_STARTTLS);
	assert_int_equal(reply("220xok\r\n", &code, &n), TLSAD_EPROBE_STARTTLS);
	/* Every line of one reply carries the same code. */
	assert_int_equal(reply("250-a\r\n251 b\r\n", &code, &n),
	    TLSAD_EPROBE_STARTTLS);
	/* A line over the cap, with or without its end. */
	big = malloc(MTA_SMTP_REPLY_MAX + 16);
	assert_non_null(big);
	memcpy(big, "220 ", 4);
	memset(big + 4, 'x', MTA_SMTP_LINE_MAX);
	big[4 + MTA_SMTP_LINE_MAX] = '\0';
	assert_int_equal(reply(big, &code, &n), TLSAD_EPROBE_STARTTLS);
	memcpy(big + 4 + MTA_SMTP_LINE_MAX, "\r\n", 3);
	assert_int_equal(reply(big, &code, &n), TLSAD_EPROBE_STARTTLS);
	/* A reply over the total cap: many short continuation lines. */
	for (i = 0; i + 8 <= MTA_SMTP_REPLY_MAX + 8; i += 8)
		memcpy(big + i, "250-xx\r\n", 8);
	big[i] = '\0';
	assert_int_equal(reply(big, &code, &n), TLSAD_ETOOBIG);
	free(big);
}

static void
test_has_ext(void **state)
{
	const char	*r1 = "250-mx.example\r\n250-PIPELINING\r\n"
			    "250-STARTTLS\r\n250 8BITMIME\r\n";
	const char	*r2 = "250-mx.example\r\n250-starttls\r\n250 SIZE 10\r\n";
	const char	*r3 = "250-mx.example\r\n250-STARTTLSX\r\n"
			    "250 XSTARTTLS\r\n";
	const char	*r4 = "250-STARTTLS\r\n250 SIZE\r\n";
	const char	*r5 = "250-mx\r\n250 STARTTLS\r\n";
	const char	*r6 = "250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\n";

	(void)state;
	assert_int_equal(mta_smtp_has_ext(r1, strlen(r1), "STARTTLS"), 1);
	assert_int_equal(mta_smtp_has_ext(r2, strlen(r2), "STARTTLS"), 1);
	assert_int_equal(mta_smtp_has_ext(r3, strlen(r3), "STARTTLS"), 0);
	/* The first line is the server's name, not an extension. */
	assert_int_equal(mta_smtp_has_ext(r4, strlen(r4), "STARTTLS"), 0);
	assert_int_equal(mta_smtp_has_ext(r5, strlen(r5), "STARTTLS"), 1);
	assert_int_equal(mta_smtp_has_ext(r6, strlen(r6), "STARTTLS"), 1);
	assert_int_equal(mta_smtp_has_ext(r6, strlen(r6), "AUTH"), 1);
	assert_int_equal(mta_smtp_has_ext(r1, strlen(r1), "AUTH"), 0);
}

/* ---- spawning ---------------------------------------------------------- */

static void
test_run(void **state)
{
	char		*argv_echo[] = { "/bin/echo", "hello", NULL };
	char		*argv_sh[] = { "/bin/sh", "-c",
			    "echo oops >&2; exit 7", NULL };
	char		*argv_big[] = { "/bin/sh", "-c",
			    "head -c 200000 /dev/zero", NULL };
	char		*argv_path[] = { "sh", "-c", "echo $PATH", NULL };
	char		*argv_none[] = { "/nonexistent/prog", NULL };
	char		*argv_sleep[] = { "/bin/sleep", "10", NULL };
	char		*out = NULL, err[64];
	size_t		 len = 0;
	struct mta_exit	 ex;
	int64_t		 t0;

	(void)state;
	assert_int_equal(mta_run(argv_echo, 5000, &out, &len, 100, err,
	    sizeof(err), &ex), 0);
	assert_string_equal(out, "hello\n");
	assert_int_equal(len, 6);
	assert_int_equal(ex.exited, 1);
	assert_int_equal(ex.status, 0);
	free(out);

	assert_int_equal(mta_run(argv_sh, 5000, NULL, NULL, 0, err,
	    sizeof(err), &ex), 0);
	assert_int_equal(ex.exited, 1);
	assert_int_equal(ex.status, 7);
	assert_string_equal(err, "oops\n");

	/* Output past the cap is read and dropped; the child still ends. */
	assert_int_equal(mta_run(argv_big, 5000, &out, &len, 10, NULL, 0,
	    &ex), 0);
	assert_int_equal(len, 10);
	assert_int_equal(ex.status, 0);
	free(out);

	/* A bare name is found in the fixed PATH, which is all it gets. */
	assert_int_equal(mta_run(argv_path, 5000, &out, &len, 100, NULL, 0,
	    &ex), 0);
	assert_string_equal(out, "/usr/sbin:/usr/bin:/sbin:/bin\n");
	free(out);

	assert_int_equal(mta_run(argv_none, 5000, NULL, NULL, 0, NULL, 0,
	    &ex), TLSAD_ESPAWN);

	t0 = util_now_mono_ms();
	assert_int_equal(mta_run(argv_sleep, 300, NULL, NULL, 0, NULL, 0,
	    &ex), TLSAD_ETIMEOUT);
	assert_int_equal(ex.timed_out, 1);
	assert_true(util_now_mono_ms() - t0 < 3000);
}

static void
test_reload(void **state)
{
	char	*ok[] = { "/bin/true", NULL };
	char	*bad[] = { "/bin/sh", "-c",
		    "echo 'fatal: the Postfix mail system is not running' >&2;"
		    " exit 1", NULL };
	char	*none[] = { "/nonexistent/postfix", "reload", NULL };
	char	 why[512];

	(void)state;
	assert_int_equal(mta_reload(ok, 5000, why, sizeof(why)), 0);
	assert_int_equal(mta_reload(bad, 5000, why, sizeof(why)),
	    TLSAD_ERELOAD);
	assert_non_null(strstr(why, "exited with status 1"));
	assert_non_null(strstr(why, "mail system is not running"));
	assert_int_equal(mta_reload(none, 5000, why, sizeof(why)),
	    TLSAD_ESPAWN);
}

/* ---- the probe against scripted SMTP servers --------------------------- */

/* A one-connection server: says each line of script, reading a line
 * between them; "<" in the script means "read one line". */
struct fake {
	int		 lfd;
	uint16_t	 port;
	const char	*const *script;
	pthread_t	 thread;
};

static void *
fake_main(void *arg)
{
	struct fake	*f = arg;
	char		 buf[1024];
	size_t		 i;
	int		 fd;

	fd = accept(f->lfd, NULL, NULL);
	if (fd == -1)
		return NULL;
	for (i = 0; f->script[i] != NULL; i++) {
		if (strcmp(f->script[i], "<") == 0) {
			if (read(fd, buf, sizeof(buf)) <= 0)
				break;
		} else if (strcmp(f->script[i], "sleep") == 0) {
			usleep(1500 * 1000);
		} else {
			(void)util_write_all(fd, f->script[i],
			    strlen(f->script[i]));
		}
	}
	/* Let the client finish reading before the close. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return NULL;
}

static void
fake_start(struct fake *f, const char *const *script)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(f->lfd, 1), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sin, &sl),
	    0);
	f->port = ntohs(sin.sin_port);
	f->script = script;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->lfd);
}

/* How long the last probe_fake's probe took (the server's join excluded). */
static int64_t	last_probe_ms;

static int
probe_fake(const char *const *script, unsigned timeout_ms, char *why,
    size_t whylen)
{
	struct fake		f;
	struct conf_verify	v;
	uint8_t			served[32];
	int			rc;

	fake_start(&f, script);
	memset(&v, 0, sizeof(v));
	snprintf(v.addr.host, sizeof(v.addr.host), "127.0.0.1");
	v.addr.port = f.port;
	v.mode = CONF_VERIFY_STARTTLS;
	last_probe_ms = util_now_mono_ms();
	rc = mta_probe_key(&v, "mx.example", timeout_ms, served, why, whylen);
	last_probe_ms = util_now_mono_ms() - last_probe_ms;
	fake_stop(&f);
	return rc;
}

static void
test_probe_dialogue(void **state)
{
	static const char *const no_starttls[] = { "220 mx ESMTP\r\n", "<",
	    "250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", "<",
	    "221 bye\r\n", NULL };
	static const char *const bad_greeting[] = {
	    "554 go away\r\n", NULL };
	static const char *const refused[] = { "220-mx ESMTP\r\n220 hi\r\n",
	    "<", "250-mx\r\n250 STARTTLS\r\n", "<",
	    "454 TLS not available\r\n", NULL };
	static const char *const injected[] = { "220 mx ESMTP\r\n", "<",
	    "250-mx\r\n250 STARTTLS\r\n", "<",
	    "220 go ahead\r\n250 injected\r\n", NULL };
	static const char *const not_tls[] = { "220 mx ESMTP\r\n", "<",
	    "250-mx\r\n250 STARTTLS\r\n", "<", "220 go ahead\r\n", "<",
	    "this is not TLS at all, just text\r\n", NULL };
	static const char *const silent[] = { "sleep", NULL };
	static const char *const garbage[] = { "HELLO THERE\r\n", NULL };
	char	why[512];

	(void)state;
	assert_int_equal(probe_fake(no_starttls, 5000, why, sizeof(why)),
	    TLSAD_EPROBE_STARTTLS);
	assert_non_null(strstr(why, "does not offer STARTTLS"));
	assert_int_equal(probe_fake(bad_greeting, 5000, why, sizeof(why)),
	    TLSAD_EPROBE_STARTTLS);
	assert_non_null(strstr(why, "554 go away"));
	assert_int_equal(probe_fake(refused, 5000, why, sizeof(why)),
	    TLSAD_EPROBE_STARTTLS);
	assert_non_null(strstr(why, "454 TLS not available"));
	assert_int_equal(probe_fake(injected, 5000, why, sizeof(why)),
	    TLSAD_EPROBE_STARTTLS);
	assert_non_null(strstr(why, "after its 220"));
	assert_int_equal(probe_fake(not_tls, 5000, why, sizeof(why)),
	    TLSAD_EPROBE_TLS);
	assert_int_equal(probe_fake(garbage, 5000, why, sizeof(why)),
	    TLSAD_EPROBE_STARTTLS);
	assert_int_equal(probe_fake(silent, 300, why, sizeof(why)),
	    TLSAD_EPROBE_STARTTLS);
	assert_non_null(strstr(why, "timed out"));
	assert_true(last_probe_ms >= 250 && last_probe_ms < 1200);
}

static void
test_probe_connect(void **state)
{
	struct conf_verify	v;
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	uint8_t			served[32];
	char			why[512];
	int			fd;

	(void)state;
	/* A port that was just free: bind, learn it, close. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	memset(&v, 0, sizeof(v));
	snprintf(v.addr.host, sizeof(v.addr.host), "127.0.0.1");
	v.addr.port = ntohs(sin.sin_port);
	assert_int_equal(mta_probe_key(&v, "mx.example", 2000, served, why,
	    sizeof(why)), TLSAD_EPROBE_CONNECT);
	assert_non_null(strstr(why, "cannot connect"));
	/* No server name at all: refused before any I/O. */
	assert_int_equal(mta_probe_key(&v, NULL, 2000, served, why,
	    sizeof(why)), TLSAD_EINVAL);
	snprintf(v.addr.host, sizeof(v.addr.host), "not-an-address");
	assert_int_equal(mta_probe_key(&v, "mx.example", 2000, served, why,
	    sizeof(why)), TLSAD_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_single),
		cmocka_unit_test(test_reply_multi),
		cmocka_unit_test(test_reply_incomplete),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_has_ext),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_probe_dialogue),
		cmocka_unit_test(test_probe_connect),
	};

	log_init("test_mta", LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
