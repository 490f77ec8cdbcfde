/*
 * tests/protocol/test_notes.c — proto_history_note (protocol/proto_notes.c):
 * the line both clients show for a step edit's or a re-run's
 * history.event, for each kind; other kinds are not its; a bad stale entry
 * and a short buffer stay safe.  The chat and tray tests see most kinds
 * end to end; edit_failed needs a step that vanishes during a re-run and a
 * failed or interrupted re-run more set-up, so they are checked here.
 */
#include <msgpack.h>
#include <stdarg.h>
#include <string.h>

#include "protocol/proto_notes.h"
#include "tests/lib/tap.h"

#define EV_MAX 4 /* keys an event of these tests has at most */

static msgpack_object_kv kv[EV_MAX];
static msgpack_object items[EV_MAX], ev;

/* A string object pointing at s (a literal: it outlives the event). */
static msgpack_object str_obj(const char *s)
{
	msgpack_object o = {.type = MSGPACK_OBJECT_STR};
	o.via.str.ptr = s;
	o.via.str.size = (uint32_t)strlen(s);
	return o;
}

/* The event (one at a time): a map of (key, type, value) triples ended by
 * a NULL key.  Types: 's' string, 'i' long long, 'b' int as a bool, 'a' an
 * array of step numbers (const long long *, int count, at most EV_MAX; a
 * negative one is a string: not a step number). */
static const msgpack_object *event(const char *key, ...)
{
	va_list ap;
	uint32_t n = 0;
	va_start(ap, key);
	for (const char *k = key; k && n < EV_MAX; k = va_arg(ap, const char *), n++) {
		msgpack_object *v = &kv[n].val;
		kv[n].key = str_obj(k);
		switch (va_arg(ap, int)) {
		case 's':
			*v = str_obj(va_arg(ap, const char *));
			break;
		case 'i':
			v->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			v->via.u64 = (uint64_t)va_arg(ap, long long);
			break;
		case 'b':
			v->type = MSGPACK_OBJECT_BOOLEAN;
			v->via.boolean = va_arg(ap, int) != 0;
			break;
		default: { /* 'a' */
			const long long *a = va_arg(ap, const long long *);
			int count = va_arg(ap, int);
			for (int i = 0; i < count && i < EV_MAX; i++) {
				if (a[i] < 0) {
					items[i] = str_obj("x");
				} else {
					items[i].type = MSGPACK_OBJECT_POSITIVE_INTEGER;
					items[i].via.u64 = (uint64_t)a[i];
				}
			}
			v->type = MSGPACK_OBJECT_ARRAY;
			v->via.array.ptr = items;
			v->via.array.size = (uint32_t)(count < EV_MAX ? count : EV_MAX);
		}
		}
	}
	va_end(ap);
	ev.type = MSGPACK_OBJECT_MAP;
	ev.via.map.ptr = kv;
	ev.via.map.size = n;
	return &ev;
}

/* The event's line equals want (want NULL: not one of ours). */
static void check(const msgpack_object *e, const char *want, const char *what)
{
	char buf[256];
	bool got = proto_history_note(e, buf, sizeof buf);
	tap_ok(want ? got && !strcmp(buf, want) : !got, what);
	if (want && got && strcmp(buf, want))
		printf("#   got: %s\n", buf);
}

int main(void)
{
	const long long two[] = {2, 3}, one[] = {4}, bad[] = {-1};
	check(event("kind", 's', "edit_failed", "step", 'i', 3LL, "error", 's', "no step 3 in /p/history", NULL),
	      "the waiting edit of step 3 was not saved: no step 3 in /p/history",
	      "edit_failed: the step and the daemon's reason");
	check(event("kind", 's', "edit_restart", "step", 'i', 1LL, "stale", 'a', two, 2, NULL),
	      "the kernel restarted for the edit of step 1; stale now: steps 2, 3",
	      "edit_restart: the stale steps, plural");
	check(event("kind", 's', "edited", "file", 's', "history/001_a.py", "stale", 'a', one, 1, NULL),
	      "history/001_a.py was edited; stale now: step 4; the kernel restarted "
		  "(the next run replays the history)",
	      "edited: one stale step, singular; restarted at once");
	check(event("kind", 's', "edit_restart", "step", 'i', 1LL, "stale", 'a', bad, 1, NULL),
	      "the kernel restarted for the edit of step 1; stale now: step -1",
	      "a stale entry that is not a number shows as -1");
	check(event("kind", 's', "rerun_queued", "from", 'i', 2LL, "behind", 's', "turn", NULL),
	      "a re-run from step 2 waits for the project's turn to end", "rerun_queued");
	check(event("kind", 's', "rerun_start", "from", 'i', 2LL, "steps", 'i', 1LL, NULL),
	      "a re-run from step 2 began in a fresh kernel (1 step to run; the old kernel's "
		  "variables are gone)", "rerun_start");
	check(event("kind", 's', "rerun_step", "file", 's', "history/002_b.py", "ok", 'b', 0, NULL),
	      "re-ran history/002_b.py: FAILED (its previous outputs are kept)", "rerun_step, failed");
	check(event("kind", 's', "rerun_done", "ok", 'b', 0, "failed", 's', "history/002_b.py", NULL),
	      "the re-run stopped: history/002_b.py failed", "rerun_done, a step failed");
	check(event("kind", 's', "rerun_done", "ok", 'b', 0, "interrupted", 's', "history/002_b.py", NULL),
	      "the re-run was interrupted at history/002_b.py", "rerun_done, interrupted");
	check(event("kind", 's', "run_queued", NULL),
	      NULL, "another kind of history.event is not one of these");
	check(event("step", 'i', 1LL, NULL),
	      NULL, "no kind: nothing");

	char small[12];
	memset(small, 'x', sizeof small);
	tap_ok(proto_history_note(event("kind", 's', "edit_restart", "step", 'i', 1LL, "stale", 'a', two, 2,
					NULL), small, 8) &&
	       !strcmp(small, "the ker") && small[8] == 'x',
	       "a short buffer: the line cut, nothing written past it");
	return tap_done();
}
