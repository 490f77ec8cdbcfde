/*
 * daemon/project/workq.h — the project's one work queue.  Everything that takes the
 * project (runs in its one kernel and adds or rewrites history/NNN_*.py) is
 * a job of this queue: agent turns (daemon/agent/agent.c), re-runs and edits
 * (daemon/history/history_run.c), direct non-scratch `run`s (daemon/rpc/m_kernel.c).
 * One job at a time per project, in arrival order; the rules and the state
 * diagram are in workq.c.  A project is its handle (project.h): one
 * deleted and created again in the same folder has a queue of its own.
 *
 * The queue is below the agent and the history module: it knows its jobs
 * only through the ops table their owner registers with each job, and never
 * calls up into them otherwise.  (Background dataset profiles do not take
 * the project: they are kernel background requests, which yield to any
 * other request in the kernel itself, daemon/kernel/kern_api.c.)
 */
#ifndef DAA_WORKQ_H
#define DAA_WORKQ_H

#include <stdbool.h>
#include <stdint.h>
#include "protocol/proto.h"

struct proj;

enum workq_kind {
	WQ_TURN,    /* an agent turn */
	WQ_RUN,     /* a direct `run` that will be saved as a step */
	WQ_RERUN,   /* re-running steps from N on */
	WQ_EDIT,    /* an edit that waited for a re-run */
	WQ_RESTART, /* the kernel restart of an edit saved while a job held the project */
};

/* How a job ended (workq_end), for the log and the diagram in workq.c. */
enum workq_end {
	WQ_DONE,
	WQ_FAILED,
	WQ_CANCELLED,
	WQ_INTERRUPTED,
};

/* Where a new job stands: position = jobs ahead of it (the one holding the
 * project included; 0: it starts now), behind = the kind of the job that
 * holds the project or is first in line (NULL when position is 0). */
struct workq_place {
	int position;
	const char *behind;
};

/*
 * A job is its owner's ud (borrowed: the owner frees it) and these callbacks:
 *   placed(ud, place): optional; called once by workq_submit, before the job
 *     can start, to tell its client where it stands;
 *   start(ud, err): begin the work; 0 = under way (the owner calls
 *     workq_end(ud, ...) when it has finished: later from a loop callback,
 *     or already from inside start), 1 = already finished, -1 = could not
 *     start (err filled);
 *   drop(ud, why): the job will never run (its start failed after it had
 *     waited, its client went away or asked to drop it, the project was
 *     closed, the daemon is stopping): answer its client and free ud.
 */
struct workq_ops {
	enum workq_kind kind;
	void (*placed)(void *ud, const struct workq_place *place);
	int (*start)(void *ud, struct proto_err *err);
	void (*drop)(void *ud, const struct proto_err *why);
};

/* Queue a job; it starts now when the project is free, else it waits.
 * owner_conn: the client whose disconnect drops the job while it waits (0:
 * none, the job goes on without its client).  -1 with err when it was
 * started now and could not start, or the daemon is stopping (nothing
 * queued, drop not called). */
int workq_submit(struct proj *pj, const struct workq_ops *ops, void *ud, uint64_t owner_conn,
		 struct proto_err *err);
/* The started job of ud has finished: the project goes to the next job. */
void workq_end(void *ud, enum workq_end how);
/* Drop the waiting (not started) jobs of kind on the project — only those
 * of client conn when conn is not 0; how many were dropped. */
int workq_drop(struct proj *pj, enum workq_kind kind, uint64_t conn, const struct proto_err *why);
/* Does a job hold the project or wait for it? */
bool workq_busy(struct proj *pj);
/* Jobs of kind on the project (waiting_only: not the one holding it). */
int workq_count(struct proj *pj, enum workq_kind kind, bool waiting_only);
/* The ud of the first waiting job of kind on the project, or NULL. */
void *workq_first_waiting(struct proj *pj, enum workq_kind kind);
/* The daemon stops: nothing starts any more (waiting jobs stay until the
 * project's close drops them, daemon/main.c). */
void workq_stop(void);
/* The daemon stops: every waiting job is dropped (why), nothing starts
 * any more; the running ones end as their owners end them. */
void workq_shutdown(const struct proto_err *why);

#endif
