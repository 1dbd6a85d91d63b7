/*
 * test_ctl.c -- the control socket.
 *
 * The codec is fed partial, oversize, empty and garbage frames.  Then a real
 * server in a temp dir answers a client in a child process: the round trip,
 * the peer credentials the handler sees, the root-only verbs refused to
 * another uid (when the test runs as root), a second server refused, a
 * stale socket replaced, an oversize request answered TOOBIG.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/ctl.h"
#include "tlsad/error.h"
#include "tlsad/evloop.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

/* ---- codec ---- */

static void
test_frame_roundtrip_partial(void **state)
{
	struct ctl_reader	 r;
	uint8_t			*f = NULL;
	char			*text = NULL;
	size_t			 flen, used, len, i;
	int			 rc = 0;

	(void)state;
	assert_int_equal(ctl_frame_encode("status mx", 9, &f, &flen), 0);
	assert_int_equal(flen, 13);
	assert_memory_equal(f, "\0\0\0\x09status mx", 13);
	ctl_reader_init(&r);
	/* one byte at a time: nothing until the last */
	for (i = 0; i < flen; i++) {
		rc = ctl_reader_feed(&r, f + i, 1, &used);
		assert_int_equal(used, 1);
		if (i + 1 < flen)
			assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, 1);
	ctl_reader_take(&r, &text, &len);
	assert_int_equal(len, 9);
	assert_string_equal(text, "status mx");
	free(text);
	/* the reader is ready for the next frame */
	assert_int_equal(ctl_reader_feed(&r, f, flen, &used), 1);
	assert_int_equal(used, flen);
	ctl_reader_clear(&r);
	free(f);
}

static void
test_frame_two_in_one_buffer(void **state)
{
	struct ctl_reader	 r;
	uint8_t			 buf[64];
	char			*text = NULL;
	size_t			 used, len;

	(void)state;
	memcpy(buf, "\0\0\0\x04ping\0\0\0\x06rescan", 18);
	ctl_reader_init(&r);
	assert_int_equal(ctl_reader_feed(&r, buf, 18, &used), 1);
	assert_int_equal(used, 8);	/* stops after the first frame */
	ctl_reader_take(&r, &text, &len);
	assert_string_equal(text, "ping");
	free(text);
	assert_int_equal(ctl_reader_feed(&r, buf + 8, 10, &used), 1);
	assert_int_equal(used, 10);
	ctl_reader_take(&r, &text, &len);
	assert_string_equal(text, "rescan");
	free(text);
	ctl_reader_clear(&r);
}

static void
test_frame_bad(void **state)
{
	struct ctl_reader	 r;
	uint8_t			 hdr[4];
	uint8_t			*f = NULL, *big = NULL;
	size_t			 flen, used;
	uint32_t		 n;

	(void)state;
	/* oversize: refused from the header alone, nothing allocated */
	n = CTL_FRAME_MAX + 1;
	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	ctl_reader_init(&r);
	assert_int_equal(ctl_reader_feed(&r, hdr, 4, &used), TLSAD_ETOOBIG);
	assert_null(r.buf);
	ctl_reader_clear(&r);
	memcpy(hdr, "\xff\xff\xff\xff", 4);
	assert_int_equal(ctl_reader_feed(&r, hdr, 4, &used), TLSAD_ETOOBIG);
	ctl_reader_clear(&r);
	/* empty frame */
	memcpy(hdr, "\0\0\0\0", 4);
	assert_int_equal(ctl_reader_feed(&r, hdr, 4, &used), TLSAD_ECTL_PROTO);
	ctl_reader_clear(&r);
	/* a NUL byte in the text */
	assert_int_equal(ctl_reader_feed(&r, "\0\0\0\x03" "a\0b", 7, &used),
	    TLSAD_ECTL_PROTO);
	ctl_reader_clear(&r);
	/* exactly the cap is fine */
	big = malloc(CTL_FRAME_MAX + 1);
	assert_non_null(big);
	memset(big, 'x', CTL_FRAME_MAX + 1);
	assert_int_equal(ctl_frame_encode(big, CTL_FRAME_MAX, &f, &flen), 0);
	assert_int_equal(ctl_reader_feed(&r, f, flen, &used), 1);
	ctl_reader_clear(&r);
	free(f);
	assert_int_equal(ctl_frame_encode(big, CTL_FRAME_MAX + 1, &f, &flen),
	    TLSAD_ETOOBIG);
	assert_null(f);
	assert_int_equal(ctl_frame_encode(big, 0, &f, &flen), TLSAD_ECTL_PROTO);
	free(big);
}

static void
test_req_parse(void **state)
{
	struct ctl_req	 req;
	char		 longarg[CTL_ARG_MAX + 16];
	size_t		 i;
	static const char *const bad[] = {
		"", "\n", "statusx", "STATUS", "kick", "kick ", "rescan now",
		"reload x", "ping pong", "status ", " status", "status a\tb",
		"kick a\nb", "status a\r", "frobnicate", "status\x7f",
	};

	(void)state;
	assert_int_equal(ctl_req_parse("ping", 4, &req), 0);
	assert_int_equal(req.verb, CTL_PING);
	assert_int_equal(req.has_arg, 0);
	assert_int_equal(ctl_req_parse("status\n", 7, &req), 0);
	assert_int_equal(req.verb, CTL_STATUS);
	assert_string_equal(req.arg, "");
	assert_int_equal(ctl_req_parse("status mx.example.org", 21, &req), 0);
	assert_int_equal(req.has_arg, 1);
	assert_string_equal(req.arg, "mx.example.org");
	assert_int_equal(ctl_req_parse("kick /etc/letsencrypt/live/my host",
	    34, &req), 0);
	assert_int_equal(req.verb, CTL_KICK);
	assert_string_equal(req.arg, "/etc/letsencrypt/live/my host");
	assert_int_equal(ctl_req_parse("rescan", 6, &req), 0);
	assert_int_equal(req.verb, CTL_RESCAN);
	assert_int_equal(ctl_req_parse("reload", 6, &req), 0);
	assert_int_equal(req.verb, CTL_RELOAD);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ctl_req_parse(bad[i], strlen(bad[i]), &req) != TLSAD_ECTL_PROTO)
			fail_msg("accepted bad request \"%s\"", bad[i]);
	}
	memcpy(longarg, "kick ", 5);
	memset(longarg + 5, 'a', CTL_ARG_MAX);
	assert_int_equal(ctl_req_parse(longarg, CTL_ARG_MAX + 5, &req),
	    TLSAD_ETOOBIG);
	assert_int_equal(ctl_req_parse(longarg, CTL_ARG_MAX + 4, &req), 0);

	assert_int_equal(ctl_req_needs_root(CTL_PING), 0);
	assert_int_equal(ctl_req_needs_root(CTL_STATUS), 0);
	assert_int_equal(ctl_req_needs_root(CTL_KICK), 1);
	assert_int_equal(ctl_req_needs_root(CTL_RESCAN), 1);
	assert_int_equal(ctl_req_needs_root(CTL_RELOAD), 1);
	assert_int_equal(ctl_req_needs_root((enum ctl_verb)99), 1);
	assert_string_equal(ctl_verb_name(CTL_KICK), "kick");
	assert_null(ctl_verb_name((enum ctl_verb)99));
}

static void
test_lineage_name(void **state)
{
	char	name[16];

	(void)state;
	assert_int_equal(ctl_lineage_name("mx.example", name, sizeof(name)), 0);
	assert_string_equal(name, "mx.example");
	assert_int_equal(ctl_lineage_name("/etc/letsencrypt/live/mx.example",
	    name, sizeof(name)), 0);
	assert_string_equal(name, "mx.example");
	assert_int_equal(ctl_lineage_name("/etc/letsencrypt/live/mx.example//",
	    name, sizeof(name)), 0);
	assert_string_equal(name, "mx.example");
	assert_int_equal(ctl_lineage_name("live/a b", name, sizeof(name)), 0);
	assert_string_equal(name, "a b");
	assert_int_equal(ctl_lineage_name("", name, sizeof(name)), TLSAD_EINVAL);
	assert_int_equal(ctl_lineage_name("/", name, sizeof(name)), TLSAD_EINVAL);
	assert_int_equal(ctl_lineage_name("live/..", name, sizeof(name)),
	    TLSAD_EINVAL);
	assert_int_equal(ctl_lineage_name("./", name, sizeof(name)), TLSAD_EINVAL);
	assert_string_equal(name, "");
	assert_int_equal(ctl_lineage_name("/x/0123456789abcdef", name,
	    sizeof(name)), TLSAD_ETOOBIG);
	assert_int_equal(ctl_lineage_name("/x/0123456789abcde", name,
	    sizeof(name)), 0);
	assert_string_equal(name, "0123456789abcde");
}

static void
test_resp(void **state)
{
	char		*t = NULL;
	const char	*body;
	size_t		 len;
	int		 code;
	static const char *const bad[] = {
		"", "OK", "ok\n", "ERR\n", "ERR -\n", "ERR 1800 X\n",
		"ERR -18x0 X\n", "ERR -1800\n", "ERR - X\n", "HELLO\n",
		"ERR -99999999999999999999 X\n",
	};
	size_t		 i;

	(void)state;
	assert_int_equal(ctl_resp_format(0, "{\"a\":1}\n", &t, &len), 0);
	assert_string_equal(t, "OK\n{\"a\":1}\n");
	assert_int_equal(len, strlen(t));
	assert_int_equal(ctl_resp_parse(t, &code, &body), 0);
	assert_int_equal(code, 0);
	assert_string_equal(body, "{\"a\":1}\n");
	free(t);
	assert_int_equal(ctl_resp_format(TLSAD_ECTL_PERM, NULL, &t, &len), 0);
	assert_string_equal(t, "ERR -1802 CTL_PERM\n");
	assert_int_equal(ctl_resp_parse(t, &code, &body), 0);
	assert_int_equal(code, TLSAD_ECTL_PERM);
	assert_string_equal(body, "");
	free(t);
	assert_int_equal(ctl_resp_format(-ENOENT, "no such lineage\n", &t, &len), 0);
	assert_int_equal(ctl_resp_parse(t, &code, &body), 0);
	assert_int_equal(code, -ENOENT);
	assert_string_equal(body, "no such lineage\n");
	free(t);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ctl_resp_parse(bad[i], &code, &body) != TLSAD_ECTL_PROTO)
			fail_msg("accepted bad response \"%s\"", bad[i]);
}

/* ---- a real socket ---- */

struct fixture {
	char	dir[256];
	char	path[300];
};

static int
setup_sock(void **state)
{
	struct fixture	*f;
	const char	*tmp = getenv("TMPDIR");

	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	/* short: sun_path holds 108 bytes */
	snprintf(f->dir, sizeof(f->dir), "%s/tlsad-ctl.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (chmod(f->dir, 0755) == -1)	/* reachable by the unprivileged child */
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tlsad.sock", f->dir);
	*state = f;
	return 0;
}

static int
teardown_sock(void **state)
{
	struct fixture	*f = *state;
	char		 lock[320];

	(void)unlink(f->path);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	(void)unlink(lock);
	if (rmdir(f->dir) == -1)
		return -1;	/* something was left behind */
	free(f);
	return 0;
}

struct server_state {
	int		 calls;
	struct ctl_req	 last;
	struct ctl_peer	 peer;
	pid_t		 child;
	int		 child_status;
	int		 child_done;
};

static int
handler(void *arg, const struct ctl_req *req, const struct ctl_peer *peer,
    char **body)
{
	struct server_state	*s = arg;

	s->calls++;
	s->last = *req;
	s->peer = *peer;
	if (req->verb == CTL_STATUS && req->has_arg &&
	    strcmp(req->arg, "nosuch") == 0) {
		*body = strdup("no such lineage\n");
		return TLSAD_ECONF_NOLINEAGE;
	}
	if (req->verb == CTL_STATUS) {
		*body = strdup("{\"lineages\":[]}\n");
		return *body != NULL ? 0 : TLSAD_ENOMEM;
	}
	return 0;
}

static void
on_signal(struct evloop *ev, int signo, void *arg)
{
	struct server_state	*s = arg;
	int			 st;

	if (signo != SIGCHLD)
		return;
	if (waitpid(s->child, &st, WNOHANG) == s->child) {
		s->child_status = st;
		s->child_done = 1;
		evloop_stop(ev);
	}
}

/* Child side: exit 0 when every expectation holds, else the step number. */
static int
expect(const char *path, const char *req, int want_status, const char *want_body)
{
	char	*body = NULL;
	int	 status, rc;

	rc = ctl_request(path, req, 5000, &status, &body);
	if (rc != 0) {
		fprintf(stderr, "child: %s: %s\n", req, tlsad_strerror(rc));
		return 0;
	}
	if (status != want_status || (want_body != NULL &&
	    strncmp(body, want_body, strlen(want_body)) != 0)) {
		fprintf(stderr, "child: %s: status %d body \"%s\"\n", req,
		    status, body);
		free(body);
		return 0;
	}
	free(body);
	return 1;
}

/* Serve until the child exits; return its exit status. */
static int
serve_child(struct evloop *ev, struct server_state *s)
{
	int	i;

	evloop_on_signal(ev, on_signal, s);
	for (i = 0; i < 200 && !s->child_done; i++)
		assert_true(evloop_run_once(ev, 100) >= 0);
	assert_true(s->child_done);
	assert_true(WIFEXITED(s->child_status));
	return WEXITSTATUS(s->child_status);
}

static void
test_server_roundtrip(void **state)
{
	struct fixture		*f = *state;
	struct ctl_server	*srv = NULL, *srv2 = NULL;
	struct evloop		*ev = NULL;
	struct server_state	 s;
	struct stat		 st;
	char			 pong[64];

	memset(&s, 0, sizeof(s));
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(ctl_server_open(f->path, &srv), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0666);
	assert_int_equal(ctl_server_attach(srv, ev, handler, &s), 0);

	/* a second daemon on the same socket is refused */
	assert_int_equal(ctl_server_open(f->path, &srv2), TLSAD_ECTL_RUNNING);
	assert_null(srv2);

	snprintf(pong, sizeof(pong), "tlsad %s pid %ld\n", TLSAD_VERSION,
	    (long)getpid());
	s.child = fork();
	assert_true(s.child >= 0);
	if (s.child == 0) {
		if (!expect(f->path, "ping", 0, pong))
			_exit(1);
		if (!expect(f->path, "status", 0, "{\"lineages\":[]}\n"))
			_exit(2);
		if (!expect(f->path, "status nosuch", TLSAD_ECONF_NOLINEAGE,
		    "no such lineage\n"))
			_exit(3);
		if (!expect(f->path, "frobnicate", TLSAD_ECTL_PROTO, NULL))
			_exit(4);
		if (getuid() == 0 &&
		    !expect(f->path, "kick /etc/letsencrypt/live/mx", 0, ""))
			_exit(5);
		_exit(0);
	}
	assert_int_equal(serve_child(ev, &s), 0);
	/* what the handler saw: the last request and who made it */
	assert_int_equal(s.calls, getuid() == 0 ? 3 : 2);
	assert_int_equal(s.peer.pid, s.child);
	assert_int_equal(s.peer.uid, getuid());
	assert_int_equal(s.peer.gid, getgid());
	if (getuid() == 0) {
		assert_int_equal(s.last.verb, CTL_KICK);
		assert_string_equal(s.last.arg, "/etc/letsencrypt/live/mx");
	}
	assert_int_equal(ctl_server_nconns(srv), 0);

	ctl_server_close(srv);
	/* closing removes our socket; nothing answers any more */
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	evloop_free(ev);
}

/* Only root may change anything: a non-root peer gets CTL_PERM. */
static void
test_server_peer_permissions(void **state)
{
	struct fixture		*f = *state;
	struct ctl_server	*srv = NULL;
	struct evloop		*ev = NULL;
	struct server_state	 s;

	if (getuid() != 0)
		skip();		/* needs a second uid to become */
	memset(&s, 0, sizeof(s));
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(ctl_server_open(f->path, &srv), 0);
	assert_int_equal(ctl_server_attach(srv, ev, handler, &s), 0);
	s.child = fork();
	assert_true(s.child >= 0);
	if (s.child == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(9);
		if (!expect(f->path, "status", 0, "{"))
			_exit(1);
		if (!expect(f->path, "kick mx", TLSAD_ECTL_PERM, NULL))
			_exit(2);
		if (!expect(f->path, "rescan", TLSAD_ECTL_PERM, NULL))
			_exit(3);
		if (!expect(f->path, "reload", TLSAD_ECTL_PERM, NULL))
			_exit(4);
		_exit(0);
	}
	assert_int_equal(serve_child(ev, &s), 0);
	assert_int_equal(s.calls, 1);		/* only status reached the handler */
	assert_int_equal(s.last.verb, CTL_STATUS);
	assert_int_equal(s.peer.uid, 65534);
	assert_int_equal(s.peer.pid, s.child);
	ctl_server_close(srv);
	evloop_free(ev);
}

/*
 * Other users cannot lock root out by filling the connection table, and
 * connections that stall are dropped after CTL_CONN_TIMEOUT_MS.
 */
static void
test_server_full_and_stalled(void **state)
{
	struct fixture		*f = *state;
	struct ctl_server	*srv = NULL;
	struct evloop		*ev = NULL;
	struct server_state	 s;
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	pid_t			 holder;
	int64_t			 t0;
	int			 ready[2], hold[2], i, fd, st;
	char			 c;

	if (getuid() != 0)
		skip();
	memset(&s, 0, sizeof(s));
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(ctl_server_open(f->path, &srv), 0);
	assert_int_equal(ctl_server_attach(srv, ev, handler, &s), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	holder = fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		/* a local user opens one connection more than the table holds */
		close(ready[0]);
		close(hold[1]);
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(9);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
		for (i = 0; i < CTL_MAX_CONNS + 1; i++) {
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
			    sizeof(sun)) == -1)
				_exit(8);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(7);
		(void)read(hold[0], &c, 1);	/* until the parent closes it */
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	pfd.fd = ready[0];
	pfd.events = POLLIN;
	for (i = 0; i < 100; i++) {
		assert_true(evloop_run_once(ev, 50) >= 0);
		if (poll(&pfd, 1, 0) == 1 && ctl_server_nconns(srv) == CTL_MAX_CONNS)
			break;
	}
	for (i = 0; i < 5; i++)		/* the extra one is refused */
		assert_true(evloop_run_once(ev, 20) >= 0);
	assert_int_equal(ctl_server_nconns(srv), CTL_MAX_CONNS);

	/* root still gets an answer: it evicts the oldest non-root client */
	s.child = fork();
	assert_true(s.child >= 0);
	if (s.child == 0)
		_exit(expect(f->path, "status", 0, "{") ? 0 : 1);
	assert_int_equal(serve_child(ev, &s), 0);
	assert_int_equal(s.peer.uid, 0);
	assert_int_equal(ctl_server_nconns(srv), CTL_MAX_CONNS - 1);

	/* the idle ones are dropped when their time is up, not before */
	t0 = util_now_mono_ms();
	while (ctl_server_nconns(srv) > 0 &&
	    util_now_mono_ms() - t0 < CTL_CONN_TIMEOUT_MS + 2000)
		assert_true(evloop_run_once(ev, 200) >= 0);
	assert_int_equal(ctl_server_nconns(srv), 0);
	assert_true(util_now_mono_ms() - t0 >= CTL_CONN_TIMEOUT_MS - 1500);

	close(hold[1]);
	assert_int_equal(waitpid(holder, &st, 0), holder);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(ready[0]);
	ctl_server_close(srv);
	evloop_free(ev);
}

/* A raw client that sends an oversize header gets TOOBIG and is closed. */
static void
test_server_oversize_request(void **state)
{
	struct fixture		*f = *state;
	struct ctl_server	*srv = NULL;
	struct evloop		*ev = NULL;
	struct server_state	 s;
	struct sockaddr_un	 sun;
	struct ctl_reader	 r;
	uint8_t			 buf[256];
	char			*text = NULL;
	const char		*body;
	size_t			 used, len;
	ssize_t			 n;
	int			 fd, code, i, rc = 0;

	memset(&s, 0, sizeof(s));
	assert_int_equal(evloop_new(&ev), 0);
	assert_int_equal(ctl_server_open(f->path, &srv), 0);
	assert_int_equal(ctl_server_attach(srv, ev, handler, &s), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(write(fd, "\x00\x10\x00\x01garbage", 11), 11);
	for (i = 0; i < 20 && ctl_server_nconns(srv) + (i == 0) > 0; i++)
		assert_true(evloop_run_once(ev, 100) >= 0);
	assert_int_equal(ctl_server_nconns(srv), 0);
	ctl_reader_init(&r);
	n = read(fd, buf, sizeof(buf));
	assert_true(n > 4);
	rc = ctl_reader_feed(&r, buf, (size_t)n, &used);
	assert_int_equal(rc, 1);
	ctl_reader_take(&r, &text, &len);
	assert_int_equal(ctl_resp_parse(text, &code, &body), 0);
	assert_int_equal(code, TLSAD_ETOOBIG);
	free(text);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);	/* closed */
	close(fd);
	assert_int_equal(s.calls, 0);
	ctl_server_close(srv);
	evloop_free(ev);
}

static void
test_stale_socket_replaced(void **state)
{
	struct fixture		*f = *state;
	struct ctl_server	*srv = NULL;
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			*body = NULL;
	int			 fd, status;

	/* nothing there: no daemon */
	assert_int_equal(ctl_request(f->path, "status", 1000, &status, &body),
	    TLSAD_ECTL_NODAEMON);
	assert_null(body);

	/* a dead daemon's socket: bound, never unlinked, nobody listening */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(ctl_request(f->path, "status", 1000, &status, &body),
	    TLSAD_ECTL_NODAEMON);

	assert_int_equal(ctl_server_open(f->path, &srv), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
	ctl_server_close(srv);

	/* a path that is no socket is never removed */
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ctl_server_open(f->path, &srv), -EEXIST);
	assert_null(srv);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* The lock alone keeps a second daemon out, even with the socket unlinked. */
static void
test_lock_held(void **state)
{
	struct fixture		*f = *state;
	struct ctl_server	*srv = NULL, *srv2 = NULL;
	struct stat		 st;

	assert_int_equal(ctl_server_open(f->path, &srv), 0);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(ctl_server_open(f->path, &srv2), TLSAD_ECTL_RUNNING);
	assert_null(srv2);
	ctl_server_close(srv);
	/* and a successor after the first is gone starts fine */
	assert_int_equal(ctl_server_open(f->path, &srv2), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	ctl_server_close(srv2);
}

static void
test_client_errors(void **state)
{
	char	*body = NULL;
	char	 longpath[200];
	int	 status;

	(void)state;
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(ctl_request(longpath, "status", 100, &status, &body),
	    -ENAMETOOLONG);
	assert_int_equal(ctl_request("/nonexistent-dir/tlsad.sock", "status",
	    100, &status, &body), TLSAD_ECTL_NODAEMON);
	assert_int_equal(ctl_request("/nonexistent-dir/tlsad.sock", "", 100,
	    &status, &body), TLSAD_ECTL_PROTO);
	assert_null(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_roundtrip_partial),
		cmocka_unit_test(test_frame_two_in_one_buffer),
		cmocka_unit_test(test_frame_bad),
		cmocka_unit_test(test_req_parse),
		cmocka_unit_test(test_resp),
		cmocka_unit_test(test_lineage_name),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test_setup_teardown(test_server_roundtrip,
		    setup_sock, teardown_sock),
		cmocka_unit_test_setup_teardown(test_server_peer_permissions,
		    setup_sock, teardown_sock),
		cmocka_unit_test_setup_teardown(test_server_full_and_stalled,
		    setup_sock, teardown_sock),
		cmocka_unit_test_setup_teardown(test_server_oversize_request,
		    setup_sock, teardown_sock),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced,
		    setup_sock, teardown_sock),
		cmocka_unit_test_setup_teardown(test_lock_held,
		    setup_sock, teardown_sock),
	};

	log_init("test_ctl", LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
