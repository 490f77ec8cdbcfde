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

static msgpack_sbuffer sb; /* the event's bytes: its strings point into them */

/* A map from (key, type, value) triples ended by a NULL key, decoded into
 * *out (until done()).  Types: 's' string, 'i' long long, 'b' int as a
 * bool, 'a' an array of step numbers (const long long *, int count; a
 * negative one is packed as a string: not a step number). */
static const msgpack_object *event(msgpack_unpacked *out, ...)
{
	msgpack_packer pk;
	va_list ap;
	int n = 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	va_start(ap, out);
	for (const char *k; (k = va_arg(ap, const char *));) {
		int t = va_arg(ap, int);
		n++;
		if (t == 'a')
			(void)va_arg(ap, const long long *), (void)va_arg(ap, int);
		else if (t == 's')
			(void)va_arg(ap, const char *);
		else if (t == 'i')
			(void)va_arg(ap, long long);
		else
			(void)va_arg(ap, int);
	}
	va_end(ap);
	msgpack_pack_map(&pk, n);
	va_start(ap, out);
	for (const char *k; (k = va_arg(ap, const char *));) {
		int t = va_arg(ap, int);
		msgpack_pack_str_with_body(&pk, k, strlen(k));
		if (t == 's') {
			const char *v = va_arg(ap, const char *);
			msgpack_pack_str_with_body(&pk, v, strlen(v));
		} else if (t == 'i') {
			msgpack_pack_int64(&pk, va_arg(ap, long long));
		} else if (t == 'b') {
			if (va_arg(ap, int))
				msgpack_pack_true(&pk);
			else
				msgpack_pack_false(&pk);
		} else {
			const long long *a = va_arg(ap, const long long *);
			int count = va_arg(ap, int);
			msgpack_pack_array(&pk, count);
			for (int i = 0; i < count; i++)
				if (a[i] < 0)
					msgpack_pack_str_with_body(&pk, "x", 1);
				else
					msgpack_pack_int64(&pk, a[i]);
		}
	}
	va_end(ap);
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

/* The line of the event in u equals want (want NULL: not one of ours). */
static void check(msgpack_unpacked *u, const char *want, const char *what)
{
	char buf[256];
	bool got = proto_history_note(&u->data, buf, sizeof buf);
	tap_ok(want ? got && !strcmp(buf, want) : !got, what);
	if (want && got && strcmp(buf, want))
		printf("#   got: %s\n", buf);
	done(u);
}

int main(void)
{
	msgpack_unpacked u;
	const long long two[] = {2, 3}, one[] = {4}, bad[] = {-1};
	event(&u, "kind", 's', "edit_failed", "step", 'i', 3LL, "error", 's', "no step 3 in /p/history", NULL);
	check(&u, "the waiting edit of step 3 was not saved: no step 3 in /p/history",
	      "edit_failed: the step and the daemon's reason");
	event(&u, "kind", 's', "edit_restart", "step", 'i', 1LL, "stale", 'a', two, 2, NULL);
	check(&u, "the kernel restarted for the edit of step 1; stale now: steps 2, 3",
	      "edit_restart: the stale steps, plural");
	event(&u, "kind", 's', "edited", "file", 's', "history/001_a.py", "stale", 'a', one, 1, NULL);
	check(&u, "history/001_a.py was edited; stale now: step 4; the kernel restarted "
		  "(the next run replays the history)",
	      "edited: one stale step, singular; restarted at once");
	event(&u, "kind", 's', "edit_restart", "step", 'i', 1LL, "stale", 'a', bad, 1, NULL);
	check(&u, "the kernel restarted for the edit of step 1; stale now: step -1",
	      "a stale entry that is not a number shows as -1");
	event(&u, "kind", 's', "rerun_queued", "from", 'i', 2LL, "behind", 's', "turn", NULL);
	check(&u, "a re-run from step 2 waits for the project's turn to end", "rerun_queued");
	event(&u, "kind", 's', "rerun_start", "from", 'i', 2LL, "steps", 'i', 1LL, NULL);
	check(&u, "a re-run from step 2 began in a fresh kernel (1 step to run; the old kernel's "
		  "variables are gone)", "rerun_start");
	event(&u, "kind", 's', "rerun_step", "file", 's', "history/002_b.py", "ok", 'b', 0, NULL);
	check(&u, "re-ran history/002_b.py: FAILED (its previous outputs are kept)", "rerun_step, failed");
	event(&u, "kind", 's', "rerun_done", "ok", 'b', 0, "failed", 's', "history/002_b.py", NULL);
	check(&u, "the re-run stopped: history/002_b.py failed", "rerun_done, a step failed");
	event(&u, "kind", 's', "rerun_done", "ok", 'b', 0, "interrupted", 's', "history/002_b.py", NULL);
	check(&u, "the re-run was interrupted at history/002_b.py", "rerun_done, interrupted");
	event(&u, "kind", 's', "run_queued", NULL);
	check(&u, NULL, "another kind of history.event is not one of these");
	event(&u, "step", 'i', 1LL, NULL);
	check(&u, NULL, "no kind: nothing");

	char small[12];
	memset(small, 'x', sizeof small);
	event(&u, "kind", 's', "edit_restart", "step", 'i', 1LL, "stale", 'a', two, 2, NULL);
	tap_ok(proto_history_note(&u.data, small, 8) && !strcmp(small, "the ker") && small[8] == 'x',
	       "a short buffer: the line cut, nothing written past it");
	done(&u);
	return tap_done();
}
