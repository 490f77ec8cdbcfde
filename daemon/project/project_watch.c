/*
 * daemon/project/project_watch.c — a dataset dropped into (or removed from, or
 * rewritten in) a project's data/ folder by hand is noticed: one inotify
 * instance watches data/ of every open project, and a burst of events runs
 * the project parts' change callbacks once, 300 ms after the last one (so a bound
 * kernel sees the new file and the profiler profiles it, as after data.add).
 * Hidden names (data.add's ".part-" copies) are ignored.  Best effort: when
 * inotify is unavailable or out of watches, everything still works through
 * data.add, only files copied by hand wait for the next turn.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/project_int.h"

#define WATCH_SETTLE_MS 300
#define WATCH_MAX 256
#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)

/* One watched data/ folder. */
struct pwatch {
	struct proj *p;
	int wd;
	uint64_t timer;
};

static struct {
	struct loop *loop;
	int fd;
	struct pwatch w[WATCH_MAX];
	int n;
} W = {.fd = -1};

static struct pwatch *watch_of_wd(int wd)
{
	for (int i = 0; i < W.n; i++)
		if (W.w[i].wd == wd)
			return &W.w[i];
	return NULL;
}

/* The burst is over: tell the parts (unless the project is gone). */
static void settle_cb(struct loop *l, uint64_t id, void *ud)
{
	struct proj *p = ud; /* not the slot: slots move when one is removed */
	(void)l;
	for (int i = 0; i < W.n; i++)
		if (W.w[i].p == p && W.w[i].timer == id)
			W.w[i].timer = 0;
	if (!proj_deleted(p)) {
		log_debug("project %s: data/ changed outside daa", proj_name(p));
		proj_changed(p);
	}
}

/* One inotify event: (re)start the project's settle timer. */
static void on_event(const struct inotify_event *ev)
{
	struct pwatch *w = watch_of_wd(ev->wd);
	if (!w)
		return;
	if (ev->mask & IN_IGNORED) { /* data/ itself went away */
		if (w->timer)
			loop_timer_cancel(W.loop, w->timer);
		*w = W.w[--W.n];
		return;
	}
	if (ev->len == 0 || ev->name[0] == '.')
		return;
	if (w->timer)
		loop_timer_cancel(W.loop, w->timer);
	w->timer = loop_timer_add(W.loop, WATCH_SETTLE_MS, settle_cb, w->p);
}

static void read_cb(struct loop *l, int fd, int events, void *ud)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	(void)l;
	(void)events;
	(void)ud;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			return; /* EAGAIN: all read */
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			on_event(ev);
			p += sizeof *ev + ev->len;
		}
	}
}

int proj_watch_init(struct loop *l)
{
	W.loop = l;
	W.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (W.fd < 0 || loop_fd_add(l, W.fd, LOOP_READ, read_cb, NULL) < 0) {
		log_warn("data/ folders are not watched (%s): files copied there by hand are "
			 "noticed at the next turn", strerror(errno));
		if (W.fd >= 0)
			close(W.fd);
		W.fd = -1;
		return -1;
	}
	return 0;
}

void proj_watch_add(struct proj *p)
{
	if (W.fd < 0 || W.n == WATCH_MAX)
		return;
	int wd = inotify_add_watch(W.fd, proj_data_dir(p), WATCH_EVENTS);
	if (wd < 0) {
		log_warn("project %s: data/ not watched: %s", proj_name(p), strerror(errno));
		return;
	}
	if (watch_of_wd(wd))
		return; /* the same folder through another handle */
	W.w[W.n++] = (struct pwatch){.p = p, .wd = wd};
}

void proj_watch_remove(struct proj *p)
{
	for (int i = 0; i < W.n; i++) {
		if (W.w[i].p != p)
			continue;
		if (W.w[i].timer)
			loop_timer_cancel(W.loop, W.w[i].timer);
		inotify_rm_watch(W.fd, W.w[i].wd);
		W.w[i] = W.w[--W.n];
		return;
	}
}

void proj_watch_shutdown(void)
{
	for (int i = 0; i < W.n; i++)
		if (W.w[i].timer)
			loop_timer_cancel(W.loop, W.w[i].timer);
	W.n = 0;
	if (W.fd >= 0) {
		loop_fd_del(W.loop, W.fd);
		close(W.fd);
	}
	W.fd = -1;
}
