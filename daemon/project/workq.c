/*
 * daemon/project/workq.c — the project's work queue (daemon/project/workq.h).
 *
 * A turn, a re-run, a direct `run` and an edit or kernel restart that must
 * wait each take the project: they run in its one kernel and add or rewrite
 * history/NNN_*.py, so two of them interleaving would mix their steps in
 * the kernel and in the numbering.  They go one at a time, in arrival
 * order (FIFO per project), whatever their kind.  A job's life:
 *
 *   workq_submit ─► QUEUED ──(first in line, project free)──► RUNNING
 *                     │   (position, behind: ops->placed)      │  ops->start:
 *                     │                                        │   0 under way, until the owner's
 *                     │                                        │     workq_end (even from inside start)
 *                     │                                        │   1 finished at once ─► DONE
 *                     │                                        │  -1 could not start ─► DROPPED
 *                     │                                        ▼
 *                     │                workq_end: DONE | FAILED | CANCELLED | INTERRUPTED
 *                     │                          └─► the next QUEUED job of the project starts
 *                     └── client gone, workq_drop (kernel.interrupt, a
 *                         closed project, the daemon stopping) ─► DROPPED (ops->drop)
 *
 * A turn waiting for the user's answer is RUNNING here: it holds the
 * project (daemon/agent/agent.c ends it first when a new request supersedes it).
 * A job whose client went away while it waited (owner_conn) is dropped when
 * its turn comes; turns, re-runs and edits have no owner_conn and go on
 * without their client.  This file decides what runs next and tells each
 * new job where it stands; it calls its jobs only through their ops.
 */
#include <stdlib.h>

#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"
#include "daemon/project/workq.h"

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_ENDED };

struct wq_job {
	struct wq_job *next;
	struct wq_proj *q;
	const struct workq_ops *ops;
	void *ud;
	uint64_t conn;  /* client whose disconnect drops it while it waits */
	enum job_state state;
};

/* One project's queue: head holds the project when it is RUNNING. */
struct wq_proj {
	struct wq_proj *next;
	struct proj *pj; /* borrowed handle (it outlives the queue's use) */
	struct wq_job *head;
	bool starting; /* a start callback runs: workq_end only marks its job */
};

static struct {
	struct wq_proj *projects;
	bool stopping;
} W;

static void advance(struct wq_proj *q);
static int drop_where(struct wq_proj *q, int kind, uint64_t conn, const struct proto_err *why);

/* "turn", "run", "rerun", "edit", "restart": logs and events (`behind`). */
static const char *workq_kind_name(enum workq_kind kind)
{
	static const char *const names[] = {"turn", "run", "rerun", "edit", "restart"};
	return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

static const char *end_name(enum workq_end how)
{
	static const char *const names[] = {"done", "failed", "cancelled", "interrupted"};
	return (unsigned)how < sizeof names / sizeof names[0] ? names[how] : "?";
}

/* The queue of a project's handle (NULL when it has none and create is false). */
static struct wq_proj *proj_queue(struct proj *pj, bool create)
{
	struct wq_proj *q;
	for (q = W.projects; q; q = q->next)
		if (q->pj == pj)
			return q;
	if (!create || !(q = calloc(1, sizeof *q)))
		return NULL;
	q->pj = pj;
	q->next = W.projects;
	W.projects = q;
	return q;
}

/* The job of ud, or NULL. */
static struct wq_job *job_of(const void *ud)
{
	for (struct wq_proj *q = W.projects; q; q = q->next)
		for (struct wq_job *j = q->head; j; j = j->next)
			if (j->ud == ud)
				return j;
	return NULL;
}

/* Unlink and free a job (not its ud). */
static void job_free(struct wq_job *j)
{
	for (struct wq_job **pp = &j->q->head; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	free(j);
}

/* Unlink a job that will never run, and tell its owner why. */
static void job_drop(struct wq_job *j, const struct proto_err *why)
{
	const struct workq_ops *ops = j->ops;
	void *ud = j->ud;
	log_info("workq: %s: a waiting %s was dropped before it ran: %s", proj_path(j->q->pj),
		 workq_kind_name(ops->kind), why->msg);
	job_free(j);
	ops->drop(ud, why);
}

/* QUEUED → RUNNING: start the head job.  0: it holds the project; 1: it
 * has already finished (freed); -1: it could not start (err; still linked). */
static int job_start(struct wq_job *j, struct proto_err *err)
{
	struct wq_proj *q = j->q;
	j->state = JOB_RUNNING;
	q->starting = true;
	int rc = j->ops->start(j->ud, err);
	q->starting = false;
	if (j->state == JOB_ENDED || rc > 0) {
		job_free(j);
		return 1;
	}
	return rc < 0 ? -1 : 0;
}

/* The project is free: start the jobs first in line until one holds it. */
static void advance(struct wq_proj *q)
{
	struct wq_job *j;
	struct proto_err err;
	while (!q->starting && !W.stopping && (j = q->head) && j->state == JOB_QUEUED) {
		if (j->conn && !rpc_conn_alive(j->conn)) {
			proto_fail(&err, PROTO_ERR_CANCELLED, "its client went away while it waited");
			job_drop(j, &err);
			continue;
		}
		int rc = job_start(j, &err);
		if (rc == 0)
			return;
		if (rc < 0)
			job_drop(j, &err);
	}
}

/* A project is closed or deleted: its waiting jobs never run. */
static void closed_cb(struct proj *pj, const struct proto_err *why)
{
	drop_where(proj_queue(pj, false), -1, 0, why);
}
static const struct proj_part_ops workq_part = {.close = closed_cb};

/* Where a job about to join q stands. */
static struct workq_place place_of(const struct wq_proj *q)
{
	struct workq_place p = {0, NULL};
	for (const struct wq_job *j = q->head; j; j = j->next)
		p.position++;
	if (q->head)
		p.behind = workq_kind_name(q->head->ops->kind);
	return p;
}

int workq_submit(struct proj *pj, const struct workq_ops *ops, void *ud, uint64_t owner_conn,
		 struct proto_err *err)
{
	if (W.stopping)
		return proto_fail(err, PROTO_ERR_SHUTDOWN, "the daemon is shutting down");
	proj_part_set(PROJ_PART_HIST, &workq_part); /* (idempotent) */
	struct wq_proj *q = proj_queue(pj, true);
	struct wq_job *j = q ? calloc(1, sizeof *j) : NULL, **pp;
	if (!j)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	struct workq_place place = place_of(q);
	j->q = q, j->ops = ops, j->ud = ud, j->conn = owner_conn, j->state = JOB_QUEUED;
	for (pp = &q->head; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	if (place.position > 0)
		log_info("workq: %s: the new %s waits behind the %s (position %d)", proj_path(pj),
			 workq_kind_name(ops->kind), place.behind, place.position);
	if (ops->placed)
		ops->placed(ud, &place);
	if (place.position > 0 || q->starting || q->head != j)
		return 0; /* it waits (or a start under way submitted it: it is next) */
	int rc = job_start(j, err);
	if (rc < 0) {
		job_free(j); /* the caller answers; drop is not called */
		advance(q);
		return -1;
	}
	if (rc > 0)
		advance(q);
	return 0;
}

void workq_end(void *ud, enum workq_end how)
{
	struct wq_job *j = job_of(ud);
	if (!j || j->state != JOB_RUNNING)
		return;
	struct wq_proj *q = j->q;
	log_debug("workq: %s: the %s ended %s", proj_path(q->pj), workq_kind_name(j->ops->kind),
		  end_name(how));
	j->state = JOB_ENDED;
	if (q->starting)
		return; /* ended from inside its own start: job_start frees it */
	job_free(j);
	advance(q);
}

/* Drop q's waiting jobs of kind (any kind when kind < 0) and of client
 * conn (any when 0), in arrival order; how many. */
static int drop_where(struct wq_proj *q, int kind, uint64_t conn, const struct proto_err *why)
{
	int n = 0;
	bool again = q != NULL;
	while (again) {
		again = false;
		for (struct wq_job *j = q->head; j; j = j->next)
			if (j->state == JOB_QUEUED && (kind < 0 || (int)j->ops->kind == kind) &&
			    (!conn || j->conn == conn)) {
				job_drop(j, why);
				n++;
				again = true; /* drop may change the list: start over */
				break;
			}
	}
	return n;
}

int workq_drop(struct proj *pj, enum workq_kind kind, uint64_t conn, const struct proto_err *why)
{
	return drop_where(proj_queue(pj, false), (int)kind, conn, why);
}

bool workq_busy(struct proj *pj)
{
	struct wq_proj *q = proj_queue(pj, false);
	return q && q->head;
}

int workq_count(struct proj *pj, enum workq_kind kind, bool waiting_only)
{
	struct wq_proj *q = proj_queue(pj, false);
	int n = 0;
	for (struct wq_job *j = q ? q->head : NULL; j; j = j->next)
		if (j->ops->kind == kind && (!waiting_only || j->state == JOB_QUEUED))
			n++;
	return n;
}

void *workq_first_waiting(struct proj *pj, enum workq_kind kind)
{
	struct wq_proj *q = proj_queue(pj, false);
	for (struct wq_job *j = q ? q->head : NULL; j; j = j->next)
		if (j->state == JOB_QUEUED && j->ops->kind == kind)
			return j->ud;
	return NULL;
}

void workq_stop(void)
{
	W.stopping = true;
}

void workq_shutdown(const struct proto_err *why)
{
	W.stopping = true;
	for (struct wq_proj *q = W.projects; q; q = q->next)
		drop_where(q, -1, 0, why);
}
