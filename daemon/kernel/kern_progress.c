/*
 * daemon/kernel/kern_progress.c — the kernel's `progress` events (sandbox/KERNEL.md):
 * how far a Dask computation of the step in flight has got, handed to
 * whoever watches that step (an agent turn, a `run`), or of the `profile`
 * request in flight (the passes over a Dask-backed dataset), handed to
 * whoever watches that dataset's profile (daemon/profiler/profiler.c).
 *
 * The event comes from a kernel that runs user code, so it is hostile
 * input: it is used only when `req` is the id of the exec or profile in
 * flight and
 * `done`, `total` are integers with 0 <= done <= total <= KP_MAX_TOTAL.
 * A malformed one is dropped and counts as an unsolicited message (too many
 * of those kill the kernel, kern_req.c).  Well-formed events pass at most
 * one per KP_MIN_GAP_MS, plus the one that says done == total (once per
 * gap); the others are dropped, and a kernel that sends more than
 * KP_MAX_DROPPED of them during one request is stopped as a flood.
 *
 * Watchers are few (one per running step), so a list is enough; each
 * holds its project's handle, matched to the kernel's by pointer.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/kernel/kern_int.h"
#include "daemon/core/log.h"

#define KP_MIN_GAP_MS 250
#define KP_MAX_TOTAL 1000000000LL
#define KP_MAX_DROPPED 100000

struct kp_watch {
	struct kp_watch *next;
	struct proj *pj;      /* borrowed handle */
	char *step;           /* the step's name, or the dataset's for a profile */
	bool profile;
	kern_progress_cb cb;
	void *ud;
};

static struct kp_watch *watches;

/* A watch of a step's (profile false) or a dataset's profile's progress. */
static int watch(struct proj *pj, const char *name, bool profile, kern_progress_cb cb, void *ud)
{
	struct kp_watch *w = calloc(1, sizeof *w);
	if (!w || !(w->step = strdup(name))) {
		free(w);
		return -1;
	}
	w->pj = pj;
	w->profile = profile;
	w->cb = cb;
	w->ud = ud;
	w->next = watches;
	watches = w;
	return 0;
}

void kern_unwatch_progress(void *ud)
{
	struct kp_watch **pp = &watches;
	while (*pp) {
		struct kp_watch *w = *pp;
		if (w->ud == ud) {
			*pp = w->next;
			free(w->step);
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

int kern_watch_progress(struct proj *pj, const char *step, kern_progress_cb cb, void *ud)
{
	return watch(pj, step, false, cb, ud);
}

int kern_watch_profile_progress(struct proj *pj, const char *dataset, kern_progress_cb cb,
				void *ud)
{
	return watch(pj, dataset, true, cb, ud);
}

/* A new request went out or a reply came in: the rate limit starts over. */
void kern_progress_reset(struct kern *k)
{
	k->progress_ms = 0;
	k->progress_full = false;
	k->progress_dropped = 0;
}

/* The event's (done, total) when it is well formed and for the exec or
 * profile in flight. */
static bool valid(const struct kern *k, const json_t *msg, long long *done, long long *total)
{
	const json_t *req = json_object_get(msg, "req"), *d = json_object_get(msg, "done"),
		     *t = json_object_get(msg, "total");
	const struct kreq *r = k->inflight;
	if (!r || (strcmp(r->op, "exec") != 0 && strcmp(r->op, "profile") != 0) || !json_is_integer(req) ||
	    json_integer_value(req) != r->id || !json_is_integer(d) || !json_is_integer(t))
		return false;
	*done = json_integer_value(d);
	*total = json_integer_value(t);
	return *total > 0 && *total <= KP_MAX_TOTAL && *done >= 0 && *done <= *total;
}

/* Hand (done, total) to the watchers of the step or profile in flight. */
static void deliver(const struct kern *k, long long done, long long total)
{
	bool profile = strcmp(k->inflight->op, "profile") == 0;
	const char *step = json_string_value(json_object_get(k->inflight->msg,
							     profile ? "dataset" : "step"));
	if (!step || !k->pj)
		return;
	for (struct kp_watch *w = watches, *next; w; w = next) {
		next = w->next; /* a callback may unwatch itself */
		if (w->profile == profile && w->pj == k->pj && strcmp(w->step, step) == 0)
			w->cb(w->ud, done, total);
	}
}

/* See kern_int.h.  -1: the kernel was stopped (flood). */
int kern_on_progress(struct kern *k, const json_t *msg)
{
	long long done, total;
	if (!valid(k, msg, &done, &total)) {
		log_debug("kernel %d: malformed or stray progress event dropped", (int)k->sp.pid);
		return 1; /* counted as unsolicited by the caller */
	}
	uint64_t now = loop_now_ms();
	bool full = done == total;
	bool gap = k->progress_ms == 0 || now - k->progress_ms >= KP_MIN_GAP_MS;
	if (!gap && !(full && !k->progress_full)) {
		if (++k->progress_dropped > KP_MAX_DROPPED) {
			kern_kill(k, PROTO_ERR_KERNEL, "the kernel flooded the daemon with progress events");
			return -1;
		}
		return 0;
	}
	if (gap)
		k->progress_ms = now;
	k->progress_full = full;
	deliver(k, done, total);
	return 0;
}
