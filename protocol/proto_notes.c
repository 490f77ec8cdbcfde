/*
 * protocol/proto_notes.c — the text of a step edit's or a re-run's
 * history.event for the clients (see proto_notes.h).  The event's strings
 * are the daemon's; each client makes them safe for its own output (a
 * terminal, a GTK label).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "protocol/proto.h"
#include "protocol/proto_notes.h"

/* Append to buf at *len, cut at size (snprintf's way). */
static void note_add(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void note_add(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	if (*len >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? size : *len + (size_t)n;
}

/* "; stale now: steps 2, 3" when the event's stale array is not empty. */
static void note_stale(const msgpack_object *ev, char *buf, size_t size, size_t *len)
{
	const msgpack_object *a = proto_map_get(ev, "stale");
	if (!a || a->type != MSGPACK_OBJECT_ARRAY || !a->via.array.size)
		return;
	note_add(buf, size, len, "; stale now: step%s ", a->via.array.size > 1 ? "s" : "");
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		const msgpack_object *n = &a->via.array.ptr[i];
		note_add(buf, size, len, "%s%lld", i ? ", " : "",
			 n->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (long long)n->via.u64 : -1LL);
	}
}

/* A re-run's kinds (PROTOCOL.md history.rerun; file: the event's);
 * false for any other. */
static bool rerun_note(const char *kind, const char *file, const msgpack_object *ev, char *buf,
		       size_t size, size_t *len)
{
	char text[256] = "?";
	long long from = (long long)proto_map_int(ev, "from", 0);
	if (!strcmp(kind, "rerun_queued")) {
		proto_map_str(ev, "behind", text, sizeof text);
		note_add(buf, size, len, "a re-run from step %lld waits for the project's %s to end", from, text);
	} else if (!strcmp(kind, "rerun_start")) {
		long long n = (long long)proto_map_int(ev, "steps", 0);
		note_add(buf, size, len, "a re-run from step %lld began in a fresh kernel (%lld step%s to "
			 "run; the old kernel's variables are gone)", from, n, n == 1 ? "" : "s");
	} else if (!strcmp(kind, "rerun_step")) {
		note_add(buf, size, len, "re-ran %s: %s", file, proto_map_bool(ev, "ok", false)
				 ? "ok" : "FAILED (its previous outputs are kept)");
	} else if (!strcmp(kind, "rerun_done")) {
		if (proto_map_bool(ev, "ok", false))
			note_add(buf, size, len, "the re-run ended: every step ok");
		else if (proto_map_str(ev, "failed", text, sizeof text))
			note_add(buf, size, len, "the re-run stopped: %s failed", text);
		else if (proto_map_str(ev, "interrupted", text, sizeof text))
			note_add(buf, size, len, "the re-run was interrupted at %s", text);
		else
			note_add(buf, size, len, "the re-run did not run");
	} else {
		return false;
	}
	return true;
}

bool proto_history_note(const msgpack_object *ev, char *buf, size_t size)
{
	char kind[32] = "", file[256] = "?", error[512] = "?";
	size_t len = 0;
	if (!size || !proto_map_str(ev, "kind", kind, sizeof kind))
		return false;
	proto_map_str(ev, "file", file, sizeof file);
	long long step = (long long)proto_map_int(ev, "step", 0);
	buf[0] = '\0';
	if (!strcmp(kind, "edited")) {
		bool waited = proto_map_bool(ev, "queued", false);
		note_add(buf, size, &len, waited ? "the waiting edit of %s is saved" : "%s was edited", file);
		note_stale(ev, buf, size, &len);
		note_add(buf, size, &len, "; %s",
			 waited || !proto_map_bool(ev, "restart_deferred", false)
				 ? "the kernel restarted (the next run replays the history)"
				 : "the kernel restarts when the project's running work ends");
	} else if (!strcmp(kind, "edit_queued")) {
		note_add(buf, size, &len, "an edit of %s waits for the re-run to end", file);
	} else if (!strcmp(kind, "edit_restart")) {
		note_add(buf, size, &len, "the kernel restarted for the edit of step %lld", step);
		note_stale(ev, buf, size, &len);
	} else if (!strcmp(kind, "edit_failed")) {
		proto_map_str(ev, "error", error, sizeof error);
		note_add(buf, size, &len, "the waiting edit of step %lld was not saved: %s", step, error);
	} else {
		return rerun_note(kind, file, ev, buf, size, &len);
	}
	return true;
}
