/*
 * watch.c -- inotify on live-dir and live-dir/NAME/, debounced per lineage.
 *
 * Responsible for turning certbot's bursts of symlink swaps into one
 * "lineage settled" report each, and for never losing a change silently:
 * anything the kernel could not queue (IN_Q_OVERFLOW) or that took the
 * watched directory away becomes a request to rescan everything.
 * The debounce half is pure (clock as a parameter); the inotify half logs
 * once where a watch cannot be added.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "tlsad/error.h"
#include "tlsad/evloop.h"
#include "tlsad/log.h"
#include "tlsad/util.h"
#include "tlsad/watch.h"

/* ---- the pure debounce ---- */

void
watch_debounce_init(struct watch_debounce *d, int64_t quiet_ms)
{
	memset(d, 0, sizeof(*d));
	d->quiet_ms = quiet_ms < 0 ? 0 : quiet_ms;
	d->rescan_deadline = -1;
}

void
watch_debounce_clear(struct watch_debounce *d)
{
	size_t	i;

	for (i = 0; i < d->npending; i++)
		free(d->pending[i].name);
	free(d->pending);
	d->pending = NULL;
	d->npending = d->cap = 0;
	d->rescan_deadline = -1;
}

void
watch_debounce_note_rescan(struct watch_debounce *d, int64_t now)
{
	d->rescan_deadline = now + d->quiet_ms;
}

int
watch_debounce_note(struct watch_debounce *d, const char *name, int64_t now)
{
	struct watch_pending	*p;
	char			*copy = NULL;
	size_t			 i, ncap;
	int			 rc = TLSAD_ENOMEM;

	for (i = 0; i < d->npending; i++) {
		if (strcmp(d->pending[i].name, name) == 0) {
			d->pending[i].deadline = now + d->quiet_ms;
			rc = 0;
			goto out;
		}
	}
	if (d->npending >= WATCH_MAX_PENDING) {
		rc = TLSAD_ETOOBIG;
		goto out;
	}
	if (d->npending == d->cap) {
		ncap = d->cap == 0 ? 8 : d->cap * 2;
		p = reallocarray(d->pending, ncap, sizeof(*p));
		if (p == NULL)
			goto out;
		d->pending = p;
		d->cap = ncap;
	}
	copy = strdup(name);
	if (copy == NULL)
		goto out;
	d->pending[d->npending].name = copy;
	d->pending[d->npending].deadline = now + d->quiet_ms;
	d->npending++;
	copy = NULL;
	rc = 0;
out:
	/* A change we cannot track by name is still not lost. */
	if (rc != 0)
		watch_debounce_note_rescan(d, now);
	free(copy);
	return rc;
}

int64_t
watch_debounce_next_deadline(const struct watch_debounce *d)
{
	int64_t	next = d->rescan_deadline;
	size_t	i;

	for (i = 0; i < d->npending; i++)
		if (next < 0 || d->pending[i].deadline < next)
			next = d->pending[i].deadline;
	return next;
}

size_t
watch_debounce_take(struct watch_debounce *d, int64_t now, watch_fn *cb, void *arg)
{
	struct watch_pending	*due = NULL;
	size_t			 i, n = 0, ndue = 0, reports = 0;

	if (d->rescan_deadline >= 0 && d->rescan_deadline <= now) {
		d->rescan_deadline = -1;
		cb(arg, WATCH_RESCAN, NULL);
		reports++;
	}
	/*
	 * Move the due entries out first, so that cb may note new events
	 * (which then wait for their own quiet period) without disturbing
	 * the array we walk.
	 */
	for (i = 0; i < d->npending; i++)
		if (d->pending[i].deadline <= now)
			ndue++;
	if (ndue == 0)
		goto out;
	due = calloc(ndue, sizeof(*due));
	if (due == NULL) {
		/* Report them in place; cb's notes are then taken next time. */
		for (i = 0; i < d->npending; i++) {
			if (d->pending[i].deadline <= now) {
				d->pending[i].deadline = now + d->quiet_ms;
				cb(arg, WATCH_SETTLED, d->pending[i].name);
				reports++;
			}
		}
		goto out;
	}
	for (i = 0, ndue = 0; i < d->npending; i++) {
		if (d->pending[i].deadline <= now)
			due[ndue++] = d->pending[i];
		else
			d->pending[n++] = d->pending[i];
	}
	d->npending = n;
	for (i = 0; i < ndue; i++) {
		cb(arg, WATCH_SETTLED, due[i].name);
		free(due[i].name);
		reports++;
	}
out:
	free(due);
	return reports;
}

/* ---- the inotify watcher ---- */

#define ROOT_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | \
			 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define LINEAGE_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | \
			 IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | \
			 IN_MOVE_SELF | IN_ONLYDIR)

struct wentry {
	int	 wd;
	char	*name;		/* lineage directory name */
	int	 seen;		/* mark for watch_rescan's sweep */
};

struct watch {
	int			 fd;
	char			*live_dir;
	int			 root_wd;	/* -1: live_dir not watched */
	int			 parent_wd;	/* watching for live_dir to appear */
	char			*parent;	/* dirname of live_dir */
	char			*base;		/* basename of live_dir */
	struct wentry		*ents;
	size_t			 nents;
	size_t			 cap;
	struct watch_debounce	 deb;
	struct evloop		*ev;		/* watch_attach() */
	int			 timer;
	watch_fn		*cb;
	void			*cbarg;
};

/* parent and base of live_dir, trailing slashes ignored. */
static int
split_path(struct watch *w)
{
	char	*copy, *slash;
	size_t	 len;

	copy = strdup(w->live_dir);
	if (copy == NULL)
		return TLSAD_ENOMEM;
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	if (slash == NULL) {
		w->parent = strdup(".");
		w->base = strdup(copy);
	} else {
		w->base = strdup(slash + 1);
		if (slash == copy)
			slash[1] = '\0';	/* "/live": parent "/" */
		else
			slash[0] = '\0';
		w->parent = strdup(copy);
	}
	free(copy);
	if (w->parent == NULL || w->base == NULL)
		return TLSAD_ENOMEM;
	return 0;
}

/*
 * live_dir is missing (certbot has not run yet, or it was removed): watch
 * its parent for it to appear, so that the first certificate is seen at
 * once rather than at the next periodic rescan.  A missing parent too is
 * left to the periodic rescan.
 */
static void
watch_parent(struct watch *w)
{
	int	wd;

	if (w->parent_wd != -1 || w->base[0] == '\0' ||
	    strcmp(w->base, "/") == 0)
		return;
	wd = inotify_add_watch(w->fd, w->parent,
	    IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
	if (wd != -1)
		w->parent_wd = wd;
}

static void
unwatch_parent(struct watch *w)
{
	if (w->parent_wd == -1)
		return;
	/* unless the parent's wd is shared with a lineage (it cannot be) */
	(void)inotify_rm_watch(w->fd, w->parent_wd);
	w->parent_wd = -1;
}

int
watch_new(const char *live_dir, int64_t quiet_ms, struct watch **out)
{
	struct watch	*w = NULL;
	int		 rc = TLSAD_ENOMEM;

	*out = NULL;
	if (live_dir == NULL || live_dir[0] == '\0') {
		rc = TLSAD_EINVAL;
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto out;
	w->fd = -1;
	w->root_wd = -1;
	w->parent_wd = -1;
	w->timer = -1;
	watch_debounce_init(&w->deb, quiet_ms);
	w->live_dir = strdup(live_dir);
	if (w->live_dir == NULL)
		goto out;
	rc = split_path(w);
	if (rc != 0)
		goto out;
	rc = TLSAD_ENOMEM;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd == -1) {
		rc = -errno;
		log_warn("inotify_init1");
		goto out;
	}
	*out = w;
	w = NULL;
	rc = 0;
out:
	watch_free(w);
	return rc;
}

void
watch_free(struct watch *w)
{
	size_t	i;

	if (w == NULL)
		return;
	if (w->ev != NULL) {
		if (w->fd != -1)
			(void)evloop_del_fd(w->ev, w->fd);
		(void)evloop_timer_del(w->ev, w->timer);
	}
	if (w->fd != -1)
		close(w->fd);
	for (i = 0; i < w->nents; i++)
		free(w->ents[i].name);
	free(w->ents);
	free(w->live_dir);
	free(w->parent);
	free(w->base);
	watch_debounce_clear(&w->deb);
	free(w);
}

int
watch_fd(const struct watch *w)
{
	return w->fd;
}

size_t
watch_count(const struct watch *w)
{
	return w->nents + (w->root_wd != -1 ? 1 : 0);
}

int64_t
watch_next_deadline(const struct watch *w)
{
	return watch_debounce_next_deadline(&w->deb);
}

size_t
watch_take(struct watch *w, int64_t now, watch_fn *cb, void *arg)
{
	return watch_debounce_take(&w->deb, now, cb, arg);
}

static struct wentry *
find_wd(struct watch *w, int wd)
{
	size_t	i;

	for (i = 0; i < w->nents; i++)
		if (w->ents[i].wd == wd)
			return &w->ents[i];
	return NULL;
}

static struct wentry *
find_name(struct watch *w, const char *name)
{
	size_t	i;

	for (i = 0; i < w->nents; i++)
		if (strcmp(w->ents[i].name, name) == 0)
			return &w->ents[i];
	return NULL;
}

static void
drop_entry(struct watch *w, struct wentry *e, int rm)
{
	size_t	i = (size_t)(e - w->ents);

	if (rm)
		(void)inotify_rm_watch(w->fd, e->wd);	/* may be gone already */
	free(e->name);
	w->ents[i] = w->ents[w->nents - 1];
	w->nents--;
}

static int
valid_name(const char *name)
{
	size_t	len = strlen(name);

	if (len == 0 || len > WATCH_NAME_MAX)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	return strchr(name, '/') == NULL;
}

/* Watch live_dir/name; idempotent (the kernel returns the same wd). */
static int
add_lineage(struct watch *w, const char *name)
{
	struct wentry	*e, *ne;
	char		 path[PATH_MAX];
	char		*copy = NULL;
	size_t		 ncap;
	int		 wd, n, rc = TLSAD_ENOMEM;

	if (!valid_name(name)) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	n = snprintf(path, sizeof(path), "%s/%s", w->live_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	wd = inotify_add_watch(w->fd, path, LINEAGE_MASK);
	if (wd == -1) {
		rc = -errno;
		/* ENOENT/ENOTDIR: gone again, or not a directory: not worth a word */
		if (rc != -ENOENT && rc != -ENOTDIR)
			log_warn("cannot watch %s", path);
		goto out;
	}
	e = find_wd(w, wd);
	if (e == NULL)
		e = find_name(w, name);
	if (e != NULL) {
		if (strcmp(e->name, name) != 0) {
			copy = strdup(name);
			if (copy == NULL)
				goto out;
			free(e->name);
			e->name = copy;
			copy = NULL;
		}
		e->wd = wd;
		e->seen = 1;
		rc = 0;
		goto out;
	}
	if (w->nents == w->cap) {
		ncap = w->cap == 0 ? 16 : w->cap * 2;
		ne = reallocarray(w->ents, ncap, sizeof(*ne));
		if (ne == NULL) {
			(void)inotify_rm_watch(w->fd, wd);
			goto out;
		}
		w->ents = ne;
		w->cap = ncap;
	}
	copy = strdup(name);
	if (copy == NULL) {
		(void)inotify_rm_watch(w->fd, wd);
		goto out;
	}
	w->ents[w->nents].wd = wd;
	w->ents[w->nents].name = copy;
	w->ents[w->nents].seen = 1;
	w->nents++;
	copy = NULL;
	rc = 0;
out:
	free(copy);
	return rc;
}

int
watch_rescan(struct watch *w, int64_t now)
{
	DIR		*dir = NULL;
	struct dirent	*de;
	struct stat	 st;
	size_t		 i;
	int		 wd, rc = 0;

	(void)now;
	wd = inotify_add_watch(w->fd, w->live_dir, ROOT_MASK);
	if (wd == -1) {
		rc = -errno;
		w->root_wd = -1;
		if (rc == -ENOENT) {
			log_info("%s does not exist yet; watching it once it does",
			    w->live_dir);
			watch_parent(w);
		} else
			log_warn("cannot watch %s", w->live_dir);
		goto out;
	}
	w->root_wd = wd;
	unwatch_parent(w);
	dir = opendir(w->live_dir);
	if (dir == NULL) {
		rc = -errno;
		log_warn("cannot read %s", w->live_dir);
		goto out;
	}
	for (i = 0; i < w->nents; i++)
		w->ents[i].seen = 0;
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (de == NULL)
			break;
		if (!valid_name(de->d_name))
			continue;
		/* Follow a symlink: a lineage directory may be one. */
		if (fstatat(dirfd(dir), de->d_name, &st, 0) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		(void)add_lineage(w, de->d_name);	/* logs itself */
	}
	if (errno != 0) {
		rc = -errno;
		log_warn("cannot read %s", w->live_dir);
		goto out;	/* keep every watch: we did not see them all */
	}
	for (i = 0; i < w->nents;) {
		if (!w->ents[i].seen)
			drop_entry(w, &w->ents[i], 1);
		else
			i++;
	}
out:
	if (dir != NULL)
		closedir(dir);
	return rc;
}

static void
note(struct watch *w, const char *name, int64_t now)
{
	int	rc;

	rc = watch_debounce_note(&w->deb, name, now);
	if (rc != 0)
		log_warnx("cannot track lineage %s (%s): rescanning everything",
		    name, tlsad_strerror(rc));
}

static void
root_event(struct watch *w, const struct inotify_event *ev, int64_t now)
{
	struct wentry	*e;

	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		/* live-dir went away or moved: the hourly rescan re-adds it */
		if (ev->mask & IN_MOVE_SELF)
			(void)inotify_rm_watch(w->fd, w->root_wd);
		if (ev->mask & (IN_MOVE_SELF | IN_IGNORED)) {
			w->root_wd = -1;
			watch_parent(w);
		}
		watch_debounce_note_rescan(&w->deb, now);
		return;
	}
	if (ev->len == 0 || !(ev->mask & IN_ISDIR) || !valid_name(ev->name))
		return;		/* certbot's README and other files */
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		(void)add_lineage(w, ev->name);
	if (ev->mask & IN_MOVED_FROM) {
		/* the wd would follow the directory to its new name */
		e = find_name(w, ev->name);
		if (e != NULL)
			drop_entry(w, e, 1);
	}
	note(w, ev->name, now);
}

static void
lineage_event(struct watch *w, struct wentry *e, const struct inotify_event *ev,
    int64_t now)
{
	note(w, e->name, now);
	if (ev->mask & IN_MOVE_SELF)
		drop_entry(w, e, 1);
	else if (ev->mask & IN_IGNORED)
		drop_entry(w, e, 0);
}

int
watch_handle(struct watch *w, int64_t now)
{
	/* Aligned as the kernel writes struct inotify_event records. */
	char				 buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ev;
	struct wentry			*e;
	ssize_t				 n;
	size_t				 off;
	int				 rc = 0;

	for (;;) {
		n = read(w->fd, buf, sizeof(buf));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				rc = -errno;
			break;
		}
		if (n == 0)
			break;
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW) {
				log_warnx("inotify queue overflow on %s: "
				    "rescanning every lineage", w->live_dir);
				(void)watch_rescan(w, now);
				watch_debounce_note_rescan(&w->deb, now);
				continue;
			}
			if (w->parent_wd != -1 && ev->wd == w->parent_wd) {
				/* live_dir appeared: watch it and all in it */
				if (ev->len > 0 && strcmp(ev->name, w->base) == 0 &&
				    watch_rescan(w, now) == 0)
					watch_debounce_note_rescan(&w->deb, now);
				continue;
			}
			if (w->root_wd != -1 && ev->wd == w->root_wd) {
				root_event(w, ev, now);
				continue;
			}
			e = find_wd(w, ev->wd);
			if (e != NULL)
				lineage_event(w, e, ev, now);
			/* else: a watch we dropped already */
		}
	}
	if (rc != 0)
		log_warnx("reading inotify events: %s", tlsad_strerror(rc));
	return rc;
}

/* ---- glue to the event loop ---- */

static void
attached_rearm(struct watch *w)
{
	(void)evloop_timer_set(w->ev, w->timer, watch_next_deadline(w));
}

static void
attached_fd(struct evloop *ev, int fd, uint32_t events, void *arg)
{
	struct watch	*w = arg;

	(void)ev;
	(void)fd;
	(void)events;
	(void)watch_handle(w, util_now_mono_ms());	/* logs itself */
	attached_rearm(w);
}

static void
attached_timer(struct evloop *ev, int timer, int64_t now, void *arg)
{
	struct watch	*w = arg;

	(void)ev;
	(void)timer;
	(void)watch_take(w, now, w->cb, w->cbarg);
	attached_rearm(w);
}

int
watch_attach(struct watch *w, struct evloop *ev, watch_fn *cb, void *arg)
{
	int	rc;

	if (w->ev != NULL || cb == NULL)
		return TLSAD_EINVAL;
	rc = evloop_timer_add(ev, attached_timer, w, &w->timer);
	if (rc != 0)
		return rc;
	rc = evloop_add_fd(ev, w->fd, EPOLLIN, attached_fd, w);
	if (rc != 0) {
		(void)evloop_timer_del(ev, w->timer);
		w->timer = -1;
		return rc;
	}
	w->ev = ev;
	w->cb = cb;
	w->cbarg = arg;
	attached_rearm(w);
	return 0;
}
