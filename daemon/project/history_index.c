/*
 * daemon/project/history_index.c — the in-memory index behind history.list
 * (daemon/project/history_index.h).  A listing reads every step file, the statuses
 * file and the figures folder (27 ms of the loop at ~1,600 steps); here
 * its packed `steps` array is kept per project and served again while
 * nothing it was made from changed.
 *
 * Validity comes from one inotify instance of our own, watching history/
 * (names and contents: a step's title is in its text), outputs/plots/
 * (names: the figures) and .daa/ (only events naming history.json count).
 * Its queue is drained at every call, never from the loop: the kernel
 * queues an event before the write that caused it returns, so whatever
 * changed before a history.list arrived — written by the daemon, a kernel
 * or an editor — is seen by it.  An event between hidx_begin and hidx_put
 * (a kernel writing while the listing was built) leaves the entry invalid.
 * A folder that cannot be watched (missing, no inotify, out of watches) or
 * a queue overflow means no caching, never a stale answer; a folder
 * replaced by another (its parent renamed away and a new one made: no
 * event reaches the old watch) is caught by comparing inode numbers at
 * each call.  At most
 * HIDX_MAX projects are kept (least recently used goes first).
 *
 * The same entries keep the number of steps of project.list and
 * project.info (a readdir of history/, the daemon's largest cost under
 * many clients at ~1,600 steps), valid until an event in history/.
 */
#include "daemon/project/history_index.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/core/log.h"

#define HIDX_MAX 64
#define HIDX_DIRS 3
#define HIDX_STATE "history.json"

/* One project's index. */
struct hidx_ent {
	char *path;
	int wd[HIDX_DIRS]; /* history/, outputs/plots/, .daa/; -1: not watched */
	dev_t dev[HIDX_DIRS];
	ino_t ino[HIDX_DIRS]; /* the folder watched (one put in its place is not) */
	bool valid;        /* bytes are the present listing */
	bool changed;      /* an event since hidx_begin */
	char *bytes;
	size_t len;
	int steps;         /* step count, when steps_valid */
	bool steps_valid, steps_changed;
	uint64_t used;     /* LRU clock */
};

static struct {
	int fd;     /* -1: not opened yet; -2: inotify unavailable or turned off */
	struct hidx_ent ent[HIDX_MAX];
	int n;
	uint64_t clock;
} H = {.fd = -1};

static const char *const hidx_sub[HIDX_DIRS] = {"history", "outputs/plots", ".daa"};
static const uint32_t hidx_mask[HIDX_DIRS] = {
	IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE |
		IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR,
	IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
		IN_ONLYDIR,
	IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE |
		IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR,
};

/* The inotify fd, opened on first use (false: no caching at all). */
static bool hidx_ready(void)
{
	if (H.fd == -1) {
		const char *knob = getenv("DAA_HISTORY_INDEX");
		if (knob && !strcmp(knob, "0")) {
			H.fd = -2;
			return false;
		}
		H.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (H.fd < 0) {
			log_warn("history.list is read from disk every time (no inotify: %s)",
				 strerror(errno));
			H.fd = -2;
		}
	}
	return H.fd >= 0;
}

/* Is wd used by an entry other than skip? */
static bool hidx_wd_shared(int wd, const struct hidx_ent *skip)
{
	for (int i = 0; i < H.n; i++)
		for (int k = 0; k < HIDX_DIRS; k++)
			if (&H.ent[i] != skip && H.ent[i].wd[k] == wd)
				return true;
	return false;
}

/* Drop e's cached listing. */
static void hidx_drop(struct hidx_ent *e)
{
	e->valid = false;
	e->changed = true;
	free(e->bytes);
	e->bytes = NULL;
	e->len = 0;
}

/* Stop watching folder k of e (the watch stays while another entry uses it). */
static void hidx_unwatch(struct hidx_ent *e, int k)
{
	if (e->wd[k] >= 0 && !hidx_wd_shared(e->wd[k], e))
		inotify_rm_watch(H.fd, e->wd[k]);
	e->wd[k] = -1;
}

/* Free e and take it out of the table. */
static void hidx_remove(struct hidx_ent *e)
{
	for (int k = 0; k < HIDX_DIRS; k++)
		hidx_unwatch(e, k);
	hidx_drop(e);
	free(e->path);
	*e = H.ent[--H.n];
}

/* One event: the entries watching its folder are out of date. */
static void hidx_event(const struct inotify_event *ev)
{
	for (int i = 0; i < H.n; i++) {
		struct hidx_ent *e = &H.ent[i];
		for (int k = 0; k < HIDX_DIRS; k++) {
			if (e->wd[k] != ev->wd)
				continue;
			if (k == 0) {
				e->steps_valid = false;
				e->steps_changed = true;
			}
			if (ev->mask & IN_IGNORED)
				e->wd[k] = -1; /* the folder went away: watched again at the next build */
			else if (ev->mask & IN_MOVE_SELF)
				hidx_unwatch(e, k); /* it lives elsewhere now: not the one to watch */
			else if (k == 2 && !(ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) &&
				 (ev->len == 0 || strcmp(ev->name, HIDX_STATE)))
				continue; /* something else in .daa/ */
			hidx_drop(e);
		}
	}
}

/* Read every queued event (an overflow drops every entry). */
static void hidx_drain(void)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(H.fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				for (int i = 0; i < H.n; i++) {
					hidx_drop(&H.ent[i]);
					H.ent[i].steps_valid = false;
					H.ent[i].steps_changed = true;
				}
			else
				hidx_event(ev);
			p += sizeof *ev + ev->len;
		}
	}
}

/* The entry of path, or NULL. */
static struct hidx_ent *hidx_find(const char *path)
{
	for (int i = 0; i < H.n; i++)
		if (!strcmp(H.ent[i].path, path))
			return &H.ent[i];
	return NULL;
}

/* The entry of path, created (evicting the least recently used). */
static struct hidx_ent *hidx_make(const char *path)
{
	struct hidx_ent *e = hidx_find(path);
	if (e)
		return e;
	if (H.n == HIDX_MAX) {
		struct hidx_ent *old = &H.ent[0];
		for (int i = 1; i < H.n; i++)
			if (H.ent[i].used < old->used)
				old = &H.ent[i];
		hidx_remove(old);
	}
	char *p = strdup(path);
	if (!p)
		return NULL;
	e = &H.ent[H.n++];
	*e = (struct hidx_ent){.path = p, .wd = {-1, -1, -1}};
	return e;
}

/* Watch folder k of e unless it is watched already (missing: stays -1). */
static void hidx_watch(struct hidx_ent *e, int k)
{
	char dir[PATH_MAX];
	struct stat st, st2;
	if (e->wd[k] >= 0 ||
	    snprintf(dir, sizeof dir, "%s/%s", e->path, hidx_sub[k]) >= (int)sizeof dir ||
	    stat(dir, &st) < 0)
		return;
	e->wd[k] = inotify_add_watch(H.fd, dir, hidx_mask[k]);
	if (e->wd[k] < 0 && errno != ENOENT)
		log_debug("history index: %s not watched: %s", dir, strerror(errno));
	if (e->wd[k] < 0)
		return;
	/* the same folder before and after: the watch is on the one at the path */
	if (stat(dir, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
		hidx_unwatch(e, k);
		return;
	}
	e->dev[k] = st.st_dev;
	e->ino[k] = st.st_ino;
}

/* Are the watched folders of e (the first n) still the ones at its paths?
 * The entry is dropped and they are let go when not. */
static bool hidx_same_dirs(struct hidx_ent *e, int n)
{
	bool same = true;
	for (int k = 0; k < n; k++) {
		char dir[PATH_MAX];
		struct stat st;
		if (e->wd[k] < 0)
			continue;
		snprintf(dir, sizeof dir, "%s/%s", e->path, hidx_sub[k]);
		if (stat(dir, &st) == 0 && st.st_dev == e->dev[k] && st.st_ino == e->ino[k])
			continue;
		hidx_unwatch(e, k);
		same = false;
	}
	if (!same) {
		hidx_drop(e);
		e->steps_valid = false;
	}
	return same;
}

const char *hidx_get(const char *path, size_t *len)
{
	if (!hidx_ready())
		return NULL;
	hidx_drain();
	struct hidx_ent *e = hidx_find(path);
	if (!e || !e->valid || !hidx_same_dirs(e, HIDX_DIRS))
		return NULL;
	e->used = ++H.clock;
	*len = e->len;
	return e->bytes;
}

void hidx_begin(const char *path)
{
	if (!hidx_ready())
		return;
	hidx_drain();
	struct hidx_ent *e = hidx_make(path);
	if (!e)
		return;
	e->used = ++H.clock;
	for (int k = 0; k < HIDX_DIRS; k++)
		hidx_watch(e, k);
	e->changed = false;
}

int hidx_step_count(const char *path, int (*count)(const char *history_dir))
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/history", path);
	if (!hidx_ready())
		return count(dir);
	hidx_drain();
	struct hidx_ent *e = hidx_make(path);
	if (!e)
		return count(dir);
	e->used = ++H.clock;
	if (e->steps_valid && hidx_same_dirs(e, 1))
		return e->steps;
	hidx_watch(e, 0);
	e->steps_changed = false;
	int n = count(dir);
	hidx_drain();
	if (e->wd[0] >= 0 && !e->steps_changed) {
		e->steps = n;
		e->steps_valid = true;
	}
	return n;
}

void hidx_put(const char *path, const char *bytes, size_t len)
{
	if (!hidx_ready())
		return;
	hidx_drain();
	struct hidx_ent *e = hidx_find(path);
	if (!e || e->changed)
		return;
	for (int k = 0; k < HIDX_DIRS; k++)
		if (e->wd[k] < 0)
			return;
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, bytes, len);
	free(e->bytes);
	e->bytes = copy;
	e->len = len;
	e->valid = true;
}

