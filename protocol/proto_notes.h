/*
 * protocol/proto_notes.h — the words both clients (`daa chat`, daa-tray)
 * use for the history.event of a step edit or a re-run made by another
 * client, so a person sharing a project is told the same thing in either.
 */
#ifndef PROTO_NOTES_H
#define PROTO_NOTES_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

/* The line for a history.event of kind edited, edit_queued, edit_restart,
 * edit_failed (PROTOCOL.md history.edit), rerun_queued, rerun_start,
 * rerun_step or rerun_done (history.rerun): which step, the steps made
 * stale, when the kernel restarts (the variables of the old code go with
 * it), how each re-run step went.  Written into buf (cut to size); false
 * for any other kind. */
bool proto_history_note(const msgpack_object *ev, char *buf, size_t size);

#endif
