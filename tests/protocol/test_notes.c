/*
 * tests/protocol/test_notes.c — proto_edit_note (protocol/proto_notes.c):
 * the line both clients show for a step edit's history.event, for each
 * kind; other kinds are not its; a bad stale entry and a short buffer
 * stay safe.  The chat and tray tests see the first three kinds end to
 * end; edit_failed needs a step that vanishes during a re-run, so it is
 * checked here.
 */
#include <msgpack.h>
#include <string.h>

#include "protocol/proto_notes.h"
#include "tests/lib/tap.h"

static msgpack_sbuffer sb; /* the event's bytes: its strings point into them */

/* {kind, step, <key>: str, stale: [stale...]} decoded into *out (until done()). */
static const msgpack_object *event(msgpack_unpacked *out, const char *kind, const char *key,
				   const char *str, long long num, const long long *stale, int nstale)
{
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2 + (key != NULL) + (stale != NULL));
	msgpack_pack_str_with_body(&pk, "kind", 4);
	msgpack_pack_str_with_body(&pk, kind, strlen(kind));
	msgpack_pack_str_with_body(&pk, "step", 4);
	msgpack_pack_int64(&pk, num);
	if (key) {
		msgpack_pack_str_with_body(&pk, key, strlen(key));
		msgpack_pack_str_with_body(&pk, str, strlen(str));
	}
	if (stale) {
		msgpack_pack_str_with_body(&pk, "stale", 5);
		msgpack_pack_array(&pk, nstale);
		for (int i = 0; i < nstale; i++)
			if (stale[i] < 0)
				msgpack_pack_str_with_body(&pk, "x", 1); /* not a step number */
			else
				msgpack_pack_int64(&pk, stale[i]);
	}
	msgpack_unpacked_init(out);
	msgpack_unpack_next(out, sb.data, sb.size, NULL);
	return &out->data;
}

/* The event is no longer used. */
static void done(msgpack_unpacked *u)
{
	msgpack_unpacked_destroy(u);
	msgpack_sbuffer_destroy(&sb);
}

/* One event's line equals want (want NULL: not an edit event). */
static void check(const char *kind, const char *key, const char *str, long long step,
		  const long long *stale, int nstale, const char *want, const char *what)
{
	msgpack_unpacked u;
	char buf[256];
	bool got = proto_edit_note(event(&u, kind, key, str, step, stale, nstale), buf, sizeof buf);
	tap_ok(want ? got && !strcmp(buf, want) : !got, what);
	if (want && got && strcmp(buf, want))
		printf("#   got: %s\n", buf);
	done(&u);
}

int main(void)
{
	const long long two[] = {2, 3}, one[] = {4}, bad[] = {-1};
	check("edit_failed", "error", "no step 3 in /p/history", 3, NULL, 0,
	      "the waiting edit of step 3 was not saved: no step 3 in /p/history",
	      "edit_failed: the step and the daemon's reason");
	check("edit_restart", NULL, NULL, 1, two, 2,
	      "the kernel restarted for the edit of step 1; stale now: steps 2, 3",
	      "edit_restart: the stale steps, plural");
	check("edited", "file", "history/001_a.py", 0, one, 1,
	      "history/001_a.py was edited; stale now: step 4; the kernel restarted "
	      "(the next run replays the history)",
	      "edited: one stale step, singular; restarted at once");
	check("edit_restart", NULL, NULL, 1, bad, 1,
	      "the kernel restarted for the edit of step 1; stale now: step -1",
	      "a stale entry that is not a number shows as -1");
	check("run_queued", NULL, NULL, 0, NULL, 0, NULL, "another kind of history.event is not an edit's");

	msgpack_unpacked u;
	char small[12];
	memset(small, 'x', sizeof small);
	tap_ok(proto_edit_note(event(&u, "edit_restart", NULL, NULL, 1, two, 2), small, 8) &&
	       !strcmp(small, "the ker") && small[8] == 'x',
	       "a short buffer: the line cut, nothing written past it");
	done(&u);
	return tap_done();
}
