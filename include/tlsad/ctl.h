/*
 * ctl.h -- the control socket between tlsad and tlsactl, and its frame codec.
 *
 * Transport: an AF_UNIX SOCK_STREAM socket (conf control_socket, by default
 * /run/tlsad/tlsad.sock), mode 0666: anyone may connect and read status;
 * what changes anything is allowed to uid 0 only, checked on every request
 * with the peer's SO_PEERCRED credentials.  One request per connection:
 * the client connects, sends one frame, reads one frame, and the server
 * closes.
 *
 * Frame: a 4-byte big-endian length, then that many bytes of text
 * (1 .. CTL_FRAME_MAX, no NUL byte).  Anything else is a protocol error and
 * the connection is closed.
 *
 * Requests (one line; a trailing newline is allowed; ARG is the rest of
 * the line and may contain spaces):
 *	ping			anyone	answers "tlsad VERSION pid N"
 *	status [LINEAGE]	anyone	the daemon's status; body is JSON
 *	kick LINEAGE_OR_PATH	root	a lineage changed: look at it now (the
 *					certbot hook passes $RENEWED_LINEAGE,
 *					a path whose last component is the name)
 *	rescan			root	look at every lineage now
 *	reload			root	re-read the configuration (as SIGHUP)
 *
 * Responses:
 *	"OK\n" BODY
 *	"ERR " CODE " " NAME "\n" BODY
 * where CODE is the decimal tlsad error code (error.h, stable numbers),
 * NAME its tlsad_errname() and BODY a message for a human (may be empty).
 *
 * tlsactl exits with CTL_EXIT_NODAEMON (69, EX_UNAVAILABLE) when no daemon
 * answers (ctl_request() returned TLSAD_ECTL_NODAEMON); the certbot hook
 * relies on that number.
 */
#ifndef TLSAD_CTL_H
#define TLSAD_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evloop;

#define CTL_FRAME_MAX		(64 * 1024)	/* payload cap, both directions */
#define CTL_ARG_MAX		4096		/* a path fits */
#define CTL_MAX_CONNS		32		/* more are closed at once */
#define CTL_CONN_TIMEOUT_MS	5000		/* a client that stalls is dropped */
#define CTL_TIMEOUT_MS		10000		/* tlsactl's default wait */
#define CTL_ACCEPT_PAUSE_MS	1000		/* accept paused this long when out of fds */
#define CTL_EXIT_NODAEMON	69		/* EX_UNAVAILABLE */

enum ctl_verb {
	CTL_PING = 1,
	CTL_STATUS,
	CTL_KICK,
	CTL_RESCAN,
	CTL_RELOAD,
};

struct ctl_req {
	enum ctl_verb	verb;
	int		has_arg;
	char		arg[CTL_ARG_MAX];	/* NUL-terminated; "" when !has_arg */
};

/* Who is asking (SO_PEERCRED at connect time). */
struct ctl_peer {
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
};

/* ---- codec (pure) ---- */

/* An incremental frame reader: feed it bytes as they arrive. */
struct ctl_reader {
	uint8_t	 hdr[4];
	size_t	 hdrgot;
	uint32_t len;		/* payload length once the header is in */
	char	*buf;		/* len + 1 bytes, NUL-terminated when complete */
	size_t	 got;
};

void	ctl_reader_init(struct ctl_reader *r);
void	ctl_reader_clear(struct ctl_reader *r);

/*
 * Consume up to n bytes of data; *used gets how many were consumed (a
 * complete frame stops consumption: bytes after it are not used).
 * Returns 1 when a frame is complete (r->buf, r->len: take it with
 * ctl_reader_take()), 0 when more bytes are needed, TLSAD_ETOOBIG for a
 * length over CTL_FRAME_MAX, TLSAD_ECTL_PROTO for a zero length or a NUL
 * byte in the payload, TLSAD_ENOMEM.
 */
int	ctl_reader_feed(struct ctl_reader *r, const void *data, size_t n,
	    size_t *used);

/* Hand over the complete frame (*text is the caller's, NUL-terminated) and reset. */
void	ctl_reader_take(struct ctl_reader *r, char **text, size_t *len);

/* Build a frame of len bytes of payload; *frame is the caller's (free). */
int	ctl_frame_encode(const void *payload, size_t len, uint8_t **frame,
	    size_t *framelen);

/* Parse a request text; TLSAD_ECTL_PROTO names nothing more specific. */
int	ctl_req_parse(const char *text, size_t len, struct ctl_req *req);

/* 1 when the verb changes something (root only), else 0. */
int	ctl_req_needs_root(enum ctl_verb verb);

/*
 * The lineage name a kick argument names: the argument itself, or the last
 * component of a path ("/etc/letsencrypt/live/mx.example.org/" ->
 * "mx.example.org").  TLSAD_EINVAL for "", ".", ".." or a path ending in
 * nothing; TLSAD_ETOOBIG when out (size bytes) cannot hold it.
 */
int	ctl_lineage_name(const char *arg, char *out, size_t size);

/* The verb as it is written ("kick"), or NULL. */
const char *ctl_verb_name(enum ctl_verb verb);

/* Format a response for code (0: OK) and body (NULL: empty); *out is the caller's. */
int	ctl_resp_format(int code, const char *body, char **out, size_t *outlen);

/*
 * Parse a response text: *code gets 0 or the daemon's error code, *body
 * points into text (after the first line).  TLSAD_ECTL_PROTO if malformed.
 */
int	ctl_resp_parse(const char *text, int *code, const char **body);

/* ---- server (inside tlsad) ---- */

struct ctl_server;

/*
 * Answer one request.  *body may be set to a malloc'ed text that the server
 * sends after the status line and frees (keep it under CTL_FRAME_MAX - 128,
 * or the client gets TOOBIG instead).  Return 0, or the error code to send
 * (with *body as its explanation, or NULL).  Called only for requests the
 * peer is allowed to make ("ping" is answered by the server itself).  It
 * must not call ctl_server_close(): defer that (e.g. to a timer at 0).
 */
typedef int	ctl_handler_fn(void *arg, const struct ctl_req *req,
	    const struct ctl_peer *peer, char **body);

/*
 * Create the listening socket at path.  Refuses (TLSAD_ECTL_RUNNING) when a
 * daemon answers on it or holds its lock file (path + ".lock", kept while
 * the server lives); a stale socket left by a dead daemon is unlinked and
 * replaced; a path that exists and is not a socket is left alone (-EEXIST).
 * The socket is bound under umask 0117, then made 0666 (anyone may ask for
 * status; SO_PEERCRED decides the rest).  Logs its failures.
 */
int	ctl_server_open(const char *path, struct ctl_server **out);

/*
 * Serve on ev: accepts (non-blocking), reads one capped frame per
 * connection, checks the peer, calls cb, writes the reply, closes.
 * Connections that stall are dropped after CTL_CONN_TIMEOUT_MS.
 */
int	ctl_server_attach(struct ctl_server *srv, struct evloop *ev,
	    ctl_handler_fn *cb, void *arg);

/* Number of open client connections (tests). */
size_t	ctl_server_nconns(const struct ctl_server *srv);

/* The listening descriptor. */
int	ctl_server_fd(const struct ctl_server *srv);

/*
 * Detach from the loop, close every connection and the socket, unlink the
 * socket path if it is still the one this server bound.  Accepts NULL.
 */
void	ctl_server_close(struct ctl_server *srv);

/* ---- client (tlsactl) ---- */

/*
 * Send request text req to the daemon at path and wait up to timeout_ms
 * for the reply.  Returns 0 with *status (0 or the daemon's error code) and
 * *body (malloc'ed, the caller's; may be "") set, or: TLSAD_ECTL_NODAEMON
 * when nothing answers (no socket, connection refused), TLSAD_ETIMEOUT,
 * TLSAD_ECTL_PROTO / TLSAD_ETOOBIG for a bad reply, -EACCES and other
 * negated errno values.  Does not log.
 */
int	ctl_request(const char *path, const char *req, int timeout_ms,
	    int *status, char **body);

#endif /* TLSAD_CTL_H */
