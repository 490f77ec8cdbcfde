/*
 * daemon/core/filehash.h — the SHA-256 of a file's content, computed without
 * blocking the daemon's loop on a big file.
 *
 * A regular file under FHASH_INLINE_BYTES is hashed at once on the calling
 * thread; a bigger one in a forked child that only opens, hashes, writes its
 * 64 hex digits (or an errno) to a pipe and _exits.  At most FHASH_MAX_CHILDREN
 * children run at once; further big files wait in a FIFO.  Every outcome —
 * digest or error — reaches the callback from the loop (a 0 ms timer or the
 * loop's child watch), never from inside fhash_start, and exactly once
 * unless cancelled.
 *
 * Needs only daemon/core/loop.h, daemon/core/log.h and protocol/proto.h (for the
 * error); children are watched and reaped by the loop (loop_child_watch:
 * pidfds, else SIGCHLD), and nothing else may reap them (nothing in daad
 * calls waitpid(-1)).
 * State is module-global (one daemon, one loop).
 */
#ifndef DAA_FILEHASH_H
#define DAA_FILEHASH_H

#include "daemon/core/loop.h"
#include "protocol/proto.h"

#define FHASH_INLINE_BYTES (1024 * 1024)
#define FHASH_MAX_CHILDREN 2

/* hex: 64 lower-case hex digits (borrowed for the call), or NULL on error
 * and then errmsg says why ("cannot hash data/x.csv: Permission denied"). */
typedef void (*fhash_cb)(void *ud, const char *hex, const char *errmsg);

/*
 * Hash the file at path (copied; reported in messages as given).  Problems
 * with the file itself (missing, unreadable, not a regular file, read error,
 * a child that died) come through cb.  -1 with err only when the job could
 * not be queued at all (bad arguments, out of memory); then cb never fires.
 * cb may call fhash_start / fhash_cancel.  ud need not be unique.
 */
int fhash_start(struct loop *l, const char *path, fhash_cb cb, void *ud, struct proto_err *err);
/* The callback will not fire for any job with this ud; a running child of
 * such a job is killed (and reaped later on the loop).  Unknown ud: no-op. */
void fhash_cancel(void *ud);
/* Daemon exit (before loop_free): kill and reap every child, close and free
 * everything; no callback fires.  Idempotent; fhash_start works again after. */
void fhash_shutdown(void);

#endif
