/*
 * ctl.c -- the control socket: frame codec, server side for tlsad, client
 * side for tlsactl.
 *
 * Responsible for: one capped frame in, one frame out, per connection; the
 * permission check (SO_PEERCRED: anyone may read, only uid 0 may change
 * anything) before any handler runs; never two daemons on one socket (a
 * lock file held for the server's life, and a connect test before bind).
 * The codec is pure; the server logs once where a failure happens; the
 * client does not log (tlsactl prints).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "tlsad/ctl.h"
#include "tlsad/error.h"
#include "tlsad/evloop.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

/* ---- codec ---- */

void
ctl_reader_init(struct ctl_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void
ctl_reader_clear(struct ctl_reader *r)
{
	free(r->buf);
	ctl_reader_init(r);
}

int
ctl_reader_feed(struct ctl_reader *r, const void *data, size_t n, size_t *used)
{
	const uint8_t	*p = data;
	size_t		 take;

	*used = 0;
	while (r->hdrgot < sizeof(r->hdr)) {
		if (*used == n)
			return 0;
		r->hdr[r->hdrgot++] = p[(*used)++];
		if (r->hdrgot < sizeof(r->hdr))
			continue;
		r->len = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
		    (uint32_t)r->hdr[2] << 8 | (uint32_t)r->hdr[3];
		if (r->len == 0)
			return TLSAD_ECTL_PROTO;
		if (r->len > CTL_FRAME_MAX)
			return TLSAD_ETOOBIG;
		r->buf = malloc((size_t)r->len + 1);
		if (r->buf == NULL)
			return TLSAD_ENOMEM;
		r->got = 0;
	}
	take = n - *used;
	if (take > r->len - r->got)
		take = r->len - r->got;
	if (memchr(p + *used, '\0', take) != NULL)
		return TLSAD_ECTL_PROTO;
	memcpy(r->buf + r->got, p + *used, take);
	r->got += take;
	*used += take;
	if (r->got < r->len)
		return 0;
	r->buf[r->len] = '\0';
	return 1;
}

void
ctl_reader_take(struct ctl_reader *r, char **text, size_t *len)
{
	*text = r->buf;
	*len = r->len;
	r->buf = NULL;
	ctl_reader_clear(r);
}

int
ctl_frame_encode(const void *payload, size_t len, uint8_t **frame, size_t *framelen)
{
	uint8_t	*f;

	*frame = NULL;
	*framelen = 0;
	if (len == 0)
		return TLSAD_ECTL_PROTO;
	if (len > CTL_FRAME_MAX)
		return TLSAD_ETOOBIG;
	f = malloc(len + 4);
	if (f == NULL)
		return TLSAD_ENOMEM;
	f[0] = (uint8_t)(len >> 24);
	f[1] = (uint8_t)(len >> 16);
	f[2] = (uint8_t)(len >> 8);
	f[3] = (uint8_t)len;
	memcpy(f + 4, payload, len);
	*frame = f;
	*framelen = len + 4;
	return 0;
}

static const struct {
	enum ctl_verb	 verb;
	const char	*name;
	int		 root;
	int		 arg;		/* 0 none, 1 optional, 2 required */
} verbs[] = {
	{ CTL_PING, "ping", 0, 0 },
	{ CTL_STATUS, "status", 0, 1 },
	{ CTL_KICK, "kick", 1, 2 },
	{ CTL_RESCAN, "rescan", 1, 0 },
	{ CTL_RELOAD, "reload", 1, 0 },
};

#define NVERBS	(sizeof(verbs) / sizeof(verbs[0]))

int
ctl_req_needs_root(enum ctl_verb verb)
{
	size_t	i;

	for (i = 0; i < NVERBS; i++)
		if (verbs[i].verb == verb)
			return verbs[i].root;
	return 1;	/* unknown: deny to non-root */
}

const char *
ctl_verb_name(enum ctl_verb verb)
{
	size_t	i;

	for (i = 0; i < NVERBS; i++)
		if (verbs[i].verb == verb)
			return verbs[i].name;
	return NULL;
}

int
ctl_lineage_name(const char *arg, char *out, size_t size)
{
	const char	*end, *start;
	size_t		 len;

	if (size > 0)
		out[0] = '\0';
	end = arg + strlen(arg);
	while (end > arg && end[-1] == '/')
		end--;
	start = end;
	while (start > arg && start[-1] != '/')
		start--;
	len = (size_t)(end - start);
	if (len == 0 || (len == 1 && start[0] == '.') ||
	    (len == 2 && start[0] == '.' && start[1] == '.'))
		return TLSAD_EINVAL;
	if (len >= size)
		return TLSAD_ETOOBIG;
	memcpy(out, start, len);
	out[len] = '\0';
	return 0;
}

int
ctl_req_parse(const char *text, size_t len, struct ctl_req *req)
{
	const char	*sp, *arg = NULL;
	size_t		 i, vlen, alen = 0;

	memset(req, 0, sizeof(*req));
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return TLSAD_ECTL_PROTO;
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return TLSAD_ECTL_PROTO;	/* one line, printable */
	sp = memchr(text, ' ', len);
	vlen = sp != NULL ? (size_t)(sp - text) : len;
	if (sp != NULL) {
		arg = sp + 1;
		alen = len - vlen - 1;
	}
	for (i = 0; i < NVERBS; i++) {
		if (strlen(verbs[i].name) == vlen &&
		    memcmp(verbs[i].name, text, vlen) == 0)
			break;
	}
	if (i == NVERBS)
		return TLSAD_ECTL_PROTO;
	if (alen == 0 && verbs[i].arg == 2)
		return TLSAD_ECTL_PROTO;
	if (alen > 0 && verbs[i].arg == 0)
		return TLSAD_ECTL_PROTO;
	if (sp != NULL && alen == 0)
		return TLSAD_ECTL_PROTO;	/* "status " */
	if (alen >= sizeof(req->arg))
		return TLSAD_ETOOBIG;
	req->verb = verbs[i].verb;
	if (alen > 0) {
		memcpy(req->arg, arg, alen);
		req->arg[alen] = '\0';
		req->has_arg = 1;
	}
	return 0;
}

int
ctl_resp_format(int code, const char *body, char **out, size_t *outlen)
{
	char	*buf = NULL;
	size_t	 blen = body != NULL ? strlen(body) : 0, size;
	int	 n, rc = TLSAD_ENOMEM;

	*out = NULL;
	*outlen = 0;
	size = blen + 128;
	buf = malloc(size);
	if (buf == NULL)
		goto out;
	if (code == 0)
		n = snprintf(buf, size, "OK\n");
	else
		n = snprintf(buf, size, "ERR %d %s\n", code, tlsad_errname(code));
	if (n < 0 || (size_t)n >= size) {
		rc = TLSAD_EINTERNAL;
		goto out;
	}
	if (blen > 0)
		memcpy(buf + n, body, blen);
	buf[(size_t)n + blen] = '\0';
	if ((size_t)n + blen > CTL_FRAME_MAX) {
		rc = TLSAD_ETOOBIG;
		goto out;
	}
	*out = buf;
	*outlen = (size_t)n + blen;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

int
ctl_resp_parse(const char *text, int *code, const char **body)
{
	const char		*nl, *sp;
	char			 num[16];
	unsigned long long	 v;
	size_t			 len;

	*code = 0;
	*body = NULL;
	nl = strchr(text, '\n');
	if (nl == NULL)
		return TLSAD_ECTL_PROTO;
	if (nl - text == 2 && strncmp(text, "OK", 2) == 0) {
		*body = nl + 1;
		return 0;
	}
	if (strncmp(text, "ERR -", 5) != 0)
		return TLSAD_ECTL_PROTO;
	sp = memchr(text + 5, ' ', (size_t)(nl - (text + 5)));
	if (sp == NULL)
		return TLSAD_ECTL_PROTO;
	len = (size_t)(sp - (text + 5));
	if (len == 0 || len >= sizeof(num))
		return TLSAD_ECTL_PROTO;
	memcpy(num, text + 5, len);
	num[len] = '\0';
	if (util_parse_uint(num, 1, 1000000, &v) != 0)
		return TLSAD_ECTL_PROTO;
	*code = -(int)v;
	*body = nl + 1;
	return 0;
}

/* ---- server ---- */

struct conn {
	int			 fd;
	struct ctl_peer		 peer;
	int64_t			 deadline;
	struct ctl_reader	 rd;
	uint8_t			*out;		/* frame being written */
	size_t			 outlen;
	size_t			 outoff;
	struct conn		*next;
};

struct ctl_server {
	int		 fd;
	int		 lockfd;
	char		*path;
	dev_t		 dev;		/* of the socket we bound */
	ino_t		 ino;
	struct evloop	*ev;
	int		 timer;		/* -1: none */
	int64_t		 paused_until;	/* accept paused (out of fds) until; -1: not */
	ctl_handler_fn	*cb;
	void		*arg;
	struct conn	*conns;
	size_t		 nconns;
};

static int
sun_fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* 1: something answers on path; 0: nothing (absent or stale); <0 error. */
static int
answers(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, rc;

	rc = sun_fill(&sun, path);
	if (rc != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (rc == 0)
		rc = 1;
	else if (errno == ENOENT || errno == ECONNREFUSED)
		rc = 0;
	else if (errno == EAGAIN)
		rc = 1;		/* a full backlog: someone listens */
	else
		rc = -errno;
	close(fd);
	return rc;
}

int
ctl_server_open(const char *path, struct ctl_server **out)
{
	struct ctl_server	*srv = NULL;
	struct sockaddr_un	 sun;
	struct stat		 st;
	char			 lockpath[sizeof(sun.sun_path) + 8];
	mode_t			 old;
	int			 n, rc;

	*out = NULL;
	rc = sun_fill(&sun, path);
	if (rc != 0) {
		log_warnx("control socket path %s is too long", path);
		goto out;
	}
	rc = TLSAD_ENOMEM;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		goto out;
	srv->fd = srv->lockfd = srv->timer = -1;
	srv->paused_until = -1;
	srv->path = strdup(path);
	if (srv->path == NULL)
		goto out;

	rc = answers(path);
	if (rc == 1) {
		rc = TLSAD_ECTL_RUNNING;
		log_warnx("%s: another tlsad answers on it", path);
		goto out;
	}
	if (rc < 0) {
		log_warnx("%s: %s", path, tlsad_strerror(rc));
		goto out;
	}
	/* The lock closes the race of two daemons starting at once. */
	n = snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	if (n < 0 || (size_t)n >= sizeof(lockpath)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	srv->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (srv->lockfd == -1) {
		rc = -errno;
		log_warn("%s", lockpath);
		goto out;
	}
	if (flock(srv->lockfd, LOCK_EX | LOCK_NB) == -1) {
		rc = errno == EWOULDBLOCK ? TLSAD_ECTL_RUNNING : -errno;
		log_warnx("%s: %s", lockpath, errno == EWOULDBLOCK ?
		    "held by another tlsad" : strerror(errno));
		goto out;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			rc = -EEXIST;
			log_warnx("%s exists and is not a socket: not touching it",
			    path);
			goto out;
		}
		log_info("%s: removing the stale socket of a dead tlsad", path);
		if (unlink(path) == -1 && errno != ENOENT) {
			rc = -errno;
			log_warn("unlink %s", path);
			goto out;
		}
	}
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd == -1) {
		rc = -errno;
		log_warn("socket");
		goto out;
	}
	/* Never a moment with a socket more open than 0660. */
	old = umask(0117);
	n = bind(srv->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (n == -1) {
		rc = errno == EADDRINUSE ? TLSAD_ECTL_RUNNING : -errno;
		log_warn("bind %s", path);
		goto out;
	}
	if (chmod(path, 0666) == -1 || lstat(path, &st) == -1) {
		rc = -errno;
		log_warn("chmod %s", path);
		(void)unlink(path);
		goto out;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	if (listen(srv->fd, 16) == -1) {
		rc = -errno;
		log_warn("listen %s", path);
		(void)unlink(path);
		goto out;
	}
	*out = srv;
	srv = NULL;
	rc = 0;
out:
	if (srv != NULL) {
		/* never unlink a socket we did not bind: srv->ino is 0 */
		srv->ino = 0;
		ctl_server_close(srv);
	}
	return rc;
}

int
ctl_server_fd(const struct ctl_server *srv)
{
	return srv->fd;
}

size_t
ctl_server_nconns(const struct ctl_server *srv)
{
	return srv->nconns;
}

static void
conn_close(struct ctl_server *srv, struct conn *c)
{
	struct conn	**cp;

	for (cp = &srv->conns; *cp != NULL; cp = &(*cp)->next) {
		if (*cp == c) {
			*cp = c->next;
			break;
		}
	}
	if (srv->ev != NULL)
		(void)evloop_del_fd(srv->ev, c->fd);
	close(c->fd);
	ctl_reader_clear(&c->rd);
	free(c->out);
	free(c);
	srv->nconns--;
}

static void
rearm(struct ctl_server *srv)
{
	struct conn	*c;
	int64_t		 next = -1;

	if (srv->ev == NULL || srv->timer == -1)
		return;
	for (c = srv->conns; c != NULL; c = c->next)
		if (next < 0 || c->deadline < next)
			next = c->deadline;
	if (srv->paused_until >= 0 && (next < 0 || srv->paused_until < next))
		next = srv->paused_until;
	(void)evloop_timer_set(srv->ev, srv->timer, next);
}

/* Try to write the rest of the reply; close when done or broken. */
static void
conn_flush(struct ctl_server *srv, struct conn *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			(void)evloop_mod_fd(srv->ev, c->fd, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			log_debug("control: peer pid %ld went away before "
			    "the reply: %s", (long)c->peer.pid, strerror(errno));
			break;
		}
		c->outoff += (size_t)n;
	}
	conn_close(srv, c);
	rearm(srv);
}

static void
conn_reply(struct ctl_server *srv, struct conn *c, int code, const char *body)
{
	char	*text = NULL;
	size_t	 len;
	int	 rc;

	rc = ctl_resp_format(code, body, &text, &len);
	if (rc == TLSAD_ETOOBIG) {
		log_warnx("control: reply too big for a frame");
		rc = ctl_resp_format(TLSAD_ETOOBIG, "reply too big\n", &text, &len);
	}
	if (rc == 0)
		rc = ctl_frame_encode(text, len, &c->out, &c->outlen);
	free(text);
	if (rc != 0) {
		conn_close(srv, c);
		rearm(srv);
		return;
	}
	c->outoff = 0;
	conn_flush(srv, c);
}

static void
conn_request(struct ctl_server *srv, struct conn *c, const char *text, size_t len)
{
	struct ctl_req	*req = NULL;
	char		*body = NULL;
	char		 pong[128];
	int		 rc;

	req = malloc(sizeof(*req));
	if (req == NULL) {
		conn_reply(srv, c, TLSAD_ENOMEM, NULL);
		goto out;
	}
	rc = ctl_req_parse(text, len, req);
	if (rc != 0) {
		log_debug("control: bad request from pid %ld: %s",
		    (long)c->peer.pid, tlsad_strerror(rc));
		conn_reply(srv, c, rc, "unknown or malformed request\n");
		goto out;
	}
	if (ctl_req_needs_root(req->verb) && c->peer.uid != 0) {
		log_notice("control: refused \"%s\" from uid %ld pid %ld: "
		    "only root may", ctl_verb_name(req->verb),
		    (long)c->peer.uid, (long)c->peer.pid);
		conn_reply(srv, c, TLSAD_ECTL_PERM, NULL);
		goto out;
	}
	if (req->verb == CTL_PING) {
		snprintf(pong, sizeof(pong), "tlsad %s pid %ld\n", TLSAD_VERSION,
		    (long)getpid());
		conn_reply(srv, c, 0, pong);
		goto out;
	}
	rc = srv->cb != NULL ? srv->cb(srv->arg, req, &c->peer, &body) :
	    TLSAD_EINTERNAL;
	conn_reply(srv, c, rc, body);
out:
	free(body);
	free(req);
}

static void
conn_event(struct evloop *ev, int fd, uint32_t events, void *arg)
{
	struct ctl_server	*srv = arg;
	struct conn		*c;
	char			 buf[4096];
	char			*text = NULL;
	size_t			 used, len;
	ssize_t			 n;
	int			 rc;

	(void)ev;
	for (c = srv->conns; c != NULL; c = c->next)
		if (c->fd == fd)
			break;
	if (c == NULL)
		return;
	if (c->out != NULL) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			conn_flush(srv, c);
		return;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EOF or error before a whole request: nothing to answer */
			conn_close(srv, c);
			rearm(srv);
			return;
		}
		rc = ctl_reader_feed(&c->rd, buf, (size_t)n, &used);
		if (rc == 0)
			continue;
		if (rc < 0) {
			log_debug("control: bad frame from pid %ld: %s",
			    (long)c->peer.pid, tlsad_strerror(rc));
			conn_reply(srv, c, rc, NULL);
			return;
		}
		/* one request per connection: bytes after it are ignored */
		ctl_reader_take(&c->rd, &text, &len);
		conn_request(srv, c, text, len);
		free(text);
		return;
	}
}

/*
 * The table is full.  Other users may fill it with idle connections, but
 * must not lock root out (the certbot hook's kick would fail): a root peer
 * evicts the oldest non-root connection.  Returns 1 when there is room.
 */
static int
make_room(struct ctl_server *srv, uid_t uid)
{
	struct conn	*c, *oldest = NULL;

	if (uid != 0)
		return 0;
	for (c = srv->conns; c != NULL; c = c->next)
		if (c->peer.uid != 0 && c->out == NULL &&
		    (oldest == NULL || c->deadline < oldest->deadline))
			oldest = c;
	if (oldest == NULL)
		return 0;
	log_debug("control: full; dropping uid %ld pid %ld for root",
	    (long)oldest->peer.uid, (long)oldest->peer.pid);
	conn_close(srv, oldest);
	return 1;
}

static void
accept_event(struct evloop *ev, int fd, uint32_t events, void *arg)
{
	struct ctl_server	*srv = arg;
	struct conn		*c = NULL;
	struct ucred		 cred;
	socklen_t		 clen;
	int			 cfd;

	(void)events;
	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				break;
			/*
			 * Out of descriptors or memory: the connection stays
			 * in the backlog and the level-triggered socket would
			 * wake us at once, forever.  Stop listening for a
			 * second instead.
			 */
			log_warn("control: accept (pausing for %d ms)",
			    CTL_ACCEPT_PAUSE_MS);
			if (evloop_mod_fd(ev, fd, 0) == 0)
				srv->paused_until = util_now_mono_ms() +
				    CTL_ACCEPT_PAUSE_MS;
			break;
		}
		clen = sizeof(cred);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1) {
			log_warn("control: SO_PEERCRED");
			close(cfd);
			continue;
		}
		if (srv->nconns >= CTL_MAX_CONNS && !make_room(srv, cred.uid)) {
			log_debug("control: dropping a connection of uid %ld "
			    "(%zu open)", (long)cred.uid, srv->nconns);
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->peer.pid = cred.pid;
		c->peer.uid = cred.uid;
		c->peer.gid = cred.gid;
		c->deadline = util_now_mono_ms() + CTL_CONN_TIMEOUT_MS;
		ctl_reader_init(&c->rd);
		if (evloop_add_fd(ev, cfd, EPOLLIN, conn_event, srv) != 0) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = srv->conns;
		srv->conns = c;
		srv->nconns++;
	}
	rearm(srv);
}

static void
timeout_event(struct evloop *ev, int timer, int64_t now, void *arg)
{
	struct ctl_server	*srv = arg;
	struct conn		*c, *next;

	(void)timer;
	if (srv->paused_until >= 0 && srv->paused_until <= now) {
		srv->paused_until = -1;
		(void)evloop_mod_fd(ev, srv->fd, EPOLLIN);
	}
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->deadline <= now) {
			log_debug("control: pid %ld stalled: dropped",
			    (long)c->peer.pid);
			conn_close(srv, c);
		}
	}
	rearm(srv);
}

int
ctl_server_attach(struct ctl_server *srv, struct evloop *ev, ctl_handler_fn *cb,
    void *arg)
{
	int	rc;

	if (srv->ev != NULL)
		return TLSAD_EINVAL;
	rc = evloop_timer_add(ev, timeout_event, srv, &srv->timer);
	if (rc != 0)
		return rc;
	rc = evloop_add_fd(ev, srv->fd, EPOLLIN, accept_event, srv);
	if (rc != 0) {
		(void)evloop_timer_del(ev, srv->timer);
		srv->timer = -1;
		return rc;
	}
	srv->ev = ev;
	srv->cb = cb;
	srv->arg = arg;
	return 0;
}

void
ctl_server_close(struct ctl_server *srv)
{
	struct stat	st;

	if (srv == NULL)
		return;
	while (srv->conns != NULL)
		conn_close(srv, srv->conns);
	if (srv->ev != NULL) {
		if (srv->fd != -1)
			(void)evloop_del_fd(srv->ev, srv->fd);
		if (srv->timer != -1)
			(void)evloop_timer_del(srv->ev, srv->timer);
	}
	if (srv->fd != -1) {
		/* unlink only our own socket, not a successor's */
		if (srv->ino != 0 && lstat(srv->path, &st) == 0 &&
		    st.st_dev == srv->dev && st.st_ino == srv->ino)
			(void)unlink(srv->path);
		close(srv->fd);
	}
	if (srv->lockfd != -1)
		close(srv->lockfd);	/* the lock file stays: see flock(2) races */
	free(srv->path);
	free(srv);
}

/* ---- client ---- */

/* Milliseconds left before deadline, at least 0. */
static int
left(int64_t deadline)
{
	int64_t	d = deadline - util_now_mono_ms();

	return d < 0 ? 0 : (d > 1000000 ? 1000000 : (int)d);
}

static int
wait_fd(int fd, short what, int64_t deadline)
{
	struct pollfd	pfd;
	int		n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = what;
		pfd.revents = 0;
		n = poll(&pfd, 1, left(deadline));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		if (n == 0)
			return TLSAD_ETIMEOUT;
		return 0;
	}
}

int
ctl_request(const char *path, const char *req, int timeout_ms, int *status,
    char **body)
{
	struct sockaddr_un	 sun;
	struct ctl_reader	 rd;
	uint8_t			*frame = NULL;
	char			 buf[4096];
	char			*text = NULL;
	const char		*b;
	size_t			 flen, off = 0, used, len;
	ssize_t			 n;
	int64_t			 deadline;
	int			 fd = -1, rc;

	*status = 0;
	*body = NULL;
	ctl_reader_init(&rd);
	deadline = util_now_mono_ms() + (timeout_ms < 0 ? CTL_TIMEOUT_MS : timeout_ms);
	rc = sun_fill(&sun, path);
	if (rc != 0)
		goto out;
	rc = ctl_frame_encode(req, strlen(req), &frame, &flen);
	if (rc != 0)
		goto out;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		rc = -errno;
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
			rc = TLSAD_ECTL_NODAEMON;
		else if (errno == EAGAIN)
			rc = TLSAD_ETIMEOUT;	/* backlog full: a busy daemon */
		else
			rc = -errno;
		goto out;
	}
	while (off < flen) {
		n = send(fd, frame + off, flen - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			rc = wait_fd(fd, POLLOUT, deadline);
			if (rc != 0)
				goto out;
			continue;
		}
		if (n == -1) {
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			rc = wait_fd(fd, POLLIN, deadline);
			if (rc != 0)
				goto out;
			continue;
		}
		if (n == -1) {
			rc = -errno;
			goto out;
		}
		if (n == 0) {
			rc = TLSAD_ECTL_PROTO;	/* closed before a whole reply */
			goto out;
		}
		rc = ctl_reader_feed(&rd, buf, (size_t)n, &used);
		if (rc < 0)
			goto out;
		if (rc == 1)
			break;
	}
	ctl_reader_take(&rd, &text, &len);
	rc = ctl_resp_parse(text, status, &b);
	if (rc != 0)
		goto out;
	*body = strdup(b);
	if (*body == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	ctl_reader_clear(&rd);
	free(frame);
	free(text);
	return rc;
}
