/*
 * protocol/proto_notes.h — the words both clients (`daa chat`, daa-tray)
 * use for the history.event of a step edit, so a person sharing a project
 * with the editor is told the same thing in either.
 */
#ifndef PROTO_NOTES_H
#define PROTO_NOTES_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

/* The line for a history.event of kind edited, edit_queued, edit_restart or
 * edit_failed (PROTOCOL.md history.edit): which step, the steps it made
 * stale, and when the kernel restarts (the variables of the old code go
 * with it).  Written into buf (cut to size); false for any other kind. */
bool proto_edit_note(const msgpack_object *ev, char *buf, size_t size);

#endif
