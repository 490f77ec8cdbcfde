/*
 * tests/history/test_workq.c — the project work queue (daemon/project/workq.c) on
 * its own: arrival order across job kinds, positions, a job that ends from
 * inside its start or at once, start failures, clients that went away,
 * dropping by kind and client, a closed project, a project deleted and
 * created again in the same folder (a new handle), shutdown, and a job
 * submitted from inside another's start.  Projects and connections are
 * stubbed here; every job records what happened to it in a trace.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/project/project.h"
#include "daemon/core/rpc.h"
#include "daemon/project/workq.h"

/* ---- stubs of what workq.c calls ---------------------------------------- */

struct proj {
	const char *path;
};
static const struct proj_part_ops *workq_part; /* what workq.c set */
static uint64_t dead_conn;

const char *proj_path(const struct proj *p)
{
	return p->path;
}

void proj_part_set(enum proj_part part, const struct proj_part_ops *ops)
{
	if (part == PROJ_PART_HIST)
		workq_part = ops;
}

bool rpc_conn_alive(uint64_t conn_id)
{
	return conn_id != dead_conn;
}

/* ---- jobs that record their life ------------------------------------------ */

enum start_mode { RUNS, ENDS_INSIDE, DONE_AT_ONCE, FAILS, SUBMITS };

struct job {
	char name[8];
	enum start_mode mode;
	int position;
	const char *behind;
	struct job *child; /* SUBMITS: submitted from inside start */
};

static char trace[512];
static int failures;
static struct proj P1 = {"/p1"}, P2 = {"/p2"};

static void note(const char *what, const struct job *j)
{
	size_t n = strlen(trace);
	snprintf(trace + n, sizeof trace - n, "%s%s%s", n ? " " : "", what, j->name);
}

static void placed(void *ud, const struct workq_place *p)
{
	struct job *j = ud;
	j->position = p->position;
	j->behind = p->behind;
}

static const struct workq_ops *ops_of(enum workq_kind kind);

static int start(void *ud, struct proto_err *err)
{
	struct job *j = ud;
	note("+", j);
	switch (j->mode) {
	case ENDS_INSIDE:
		workq_end(j, WQ_FAILED);
		return 0;
	case DONE_AT_ONCE:
		return 1;
	case FAILS:
		return proto_fail(err, PROTO_ERR_KERNEL, "no kernel");
	case SUBMITS:
		if (workq_submit(&P1, ops_of(WQ_EDIT), j->child, 0, err) < 0)
			return -1;
		return 0;
	default:
		return 0;
	}
}

static void drop(void *ud, const struct proto_err *why)
{
	(void)why;
	note("x", ud);
}

static const struct workq_ops ops[] = {
	{WQ_TURN, placed, start, drop},   {WQ_RUN, placed, start, drop},
	{WQ_RERUN, placed, start, drop},  {WQ_EDIT, placed, start, drop},
	{WQ_RESTART, placed, start, drop},
};

static const struct workq_ops *ops_of(enum workq_kind kind)
{
	return &ops[kind];
}

static void check(bool ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "FAIL", what);
	if (!ok) {
		printf("    trace: %s\n", trace);
		failures++;
	}
}

static int submit(struct proj *p, struct job *j, enum workq_kind kind, uint64_t conn)
{
	struct proto_err err;
	return workq_submit(p, ops_of(kind), j, conn, &err);
}

static void reset(void)
{
	trace[0] = '\0';
}

/* ---- cases ----------------------------------------------------------------- */

static void arrival_order(void)
{
	struct job a = {"A", RUNS, -1, NULL, NULL}, b = {"B", RUNS, -1, NULL, NULL};
	struct job c = {"C", RUNS, -1, NULL, NULL}, d = {"D", RUNS, -1, NULL, NULL};
	reset();
	submit(&P1, &a, WQ_TURN, 0);
	submit(&P1, &b, WQ_RUN, 0);
	submit(&P1, &c, WQ_TURN, 0);
	submit(&P1, &d, WQ_RERUN, 0);
	check(a.position == 0 && !a.behind && b.position == 1 && c.position == 2 &&
	      d.position == 3 && strcmp(d.behind, "turn") == 0, "positions count every job ahead");
	check(workq_count(&P1, WQ_TURN, false) == 2 && workq_count(&P1, WQ_TURN, true) == 1,
	      "counts by kind");
	workq_end(&a, WQ_DONE);
	workq_end(&b, WQ_DONE);
	workq_end(&c, WQ_CANCELLED);
	check(strcmp(trace, "+A +B +C +D") == 0, "turns, runs and re-runs go in arrival order");
	workq_end(&d, WQ_DONE);
	check(!workq_busy(&P1), "the queue is empty at the end");
}

static void immediate_ends(void)
{
	struct job a = {"A", RUNS, -1, NULL, NULL}, b = {"B", ENDS_INSIDE, -1, NULL, NULL};
	struct job c = {"C", DONE_AT_ONCE, -1, NULL, NULL}, d = {"D", RUNS, -1, NULL, NULL};
	reset();
	submit(&P1, &a, WQ_TURN, 0);
	submit(&P1, &b, WQ_TURN, 0);
	submit(&P1, &c, WQ_RESTART, 0);
	submit(&P1, &d, WQ_RUN, 0);
	workq_end(&a, WQ_DONE);
	check(strcmp(trace, "+A +B +C +D") == 0,
	      "a job that ends inside its start, or at once, hands the project on");
	workq_end(&d, WQ_DONE);
	reset();
	struct job e = {"E", ENDS_INSIDE, -1, NULL, NULL}, f = {"F", RUNS, -1, NULL, NULL};
	check(submit(&P1, &e, WQ_TURN, 0) == 0 && !workq_busy(&P1),
	      "started at submit and ended inside its start: the queue is free");
	submit(&P1, &f, WQ_RUN, 0);
	check(f.position == 0 && strcmp(trace, "+E +F") == 0, "the next one starts at once");
	workq_end(&f, WQ_DONE);
}

static void start_failures(void)
{
	struct job a = {"A", FAILS, -1, NULL, NULL}, b = {"B", RUNS, -1, NULL, NULL};
	struct job c = {"C", FAILS, -1, NULL, NULL}, d = {"D", RUNS, -1, NULL, NULL};
	reset();
	check(submit(&P1, &a, WQ_RERUN, 0) < 0 && !workq_busy(&P1) && strcmp(trace, "+A") == 0,
	      "a start that fails at submit returns -1 and is not dropped");
	reset();
	submit(&P1, &b, WQ_TURN, 0);
	submit(&P1, &c, WQ_RERUN, 0);
	submit(&P1, &d, WQ_RUN, 0);
	workq_end(&b, WQ_DONE);
	check(strcmp(trace, "+B +C xC +D") == 0, "a start that fails after waiting is dropped");
	workq_end(&d, WQ_DONE);
}

static void clients(void)
{
	struct job a = {"A", RUNS, -1, NULL, NULL}, b = {"B", RUNS, -1, NULL, NULL};
	struct job c = {"C", RUNS, -1, NULL, NULL}, d = {"D", RUNS, -1, NULL, NULL};
	struct job e = {"E", RUNS, -1, NULL, NULL};
	struct proto_err why;
	reset();
	proto_fail(&why, PROTO_ERR_CANCELLED, "interrupted");
	submit(&P1, &a, WQ_TURN, 0);
	submit(&P1, &b, WQ_RUN, 7);
	submit(&P1, &c, WQ_RUN, 8);
	submit(&P1, &d, WQ_RUN, 9);
	submit(&P1, &e, WQ_TURN, 0);
	check(workq_drop(&P1, WQ_RUN, 8, &why) == 1, "kernel.interrupt drops that client's runs");
	dead_conn = 9;
	workq_end(&a, WQ_DONE);
	workq_end(&b, WQ_DONE);
	dead_conn = 0;
	check(strcmp(trace, "+A xC +B xD +E") == 0,
	      "a run whose client went away is dropped when its turn comes");
	workq_end(&e, WQ_DONE);
}

static void closed_and_other_project(void)
{
	struct job a = {"A", RUNS, -1, NULL, NULL}, b = {"B", RUNS, -1, NULL, NULL};
	struct job c = {"C", RUNS, -1, NULL, NULL}, d = {"D", RUNS, -1, NULL, NULL};
	reset();
	submit(&P1, &a, WQ_TURN, 0);
	submit(&P2, &b, WQ_RUN, 0);
	submit(&P1, &c, WQ_RUN, 0);
	submit(&P1, &d, WQ_TURN, 0);
	check(b.position == 0 && strcmp(trace, "+A +B") == 0, "projects do not wait for each other");
	struct proto_err why;
	proto_fail(&why, PROTO_ERR_NOT_FOUND, "the project was closed");
	workq_part->close(&P1, &why);
	check(strcmp(trace, "+A +B xC xD") == 0, "a closed project drops its waiting jobs in order");
	workq_end(&a, WQ_CANCELLED);
	workq_end(&b, WQ_DONE);
	check(!workq_busy(&P1) && !workq_busy(&P2), "nothing left");
}

static void nested_submit(void)
{
	struct job child = {"K", RUNS, -1, NULL, NULL}, a = {"A", SUBMITS, -1, NULL, &child};
	struct job b = {"B", RUNS, -1, NULL, NULL};
	reset();
	submit(&P1, &a, WQ_TURN, 0);
	submit(&P1, &b, WQ_RUN, 0);
	check(child.position == 1 && workq_first_waiting(&P1, WQ_EDIT) == &child,
	      "a job submitted from inside a start waits behind it");
	workq_end(&a, WQ_DONE);
	workq_end(&child, WQ_DONE);
	check(strcmp(trace, "+A +K +B") == 0, "then runs in arrival order");
	workq_end(&b, WQ_DONE);
}

/* A project deleted and created again in the same folder is a new handle
 * with a queue of its own: it neither waits behind the old one's job still
 * ending nor counts it, and that job's end starts nothing of it. */
static void created_again(void)
{
	static struct proj old = {"/p3"}, again = {"/p3"};
	struct job a = {"A", RUNS, -1, NULL, NULL}, b = {"B", RUNS, -1, NULL, NULL};
	struct job c = {"C", RUNS, -1, NULL, NULL};
	struct proto_err why;
	reset();
	submit(&old, &a, WQ_RERUN, 0);
	submit(&old, &b, WQ_TURN, 0);
	proto_fail(&why, PROTO_ERR_NOT_FOUND, "the project was closed");
	workq_part->close(&old, &why);
	submit(&again, &c, WQ_RUN, 0);
	check(c.position == 0 && strcmp(trace, "+A xB +C") == 0,
	      "the new project's job starts at once, not behind the deleted one's");
	check(workq_count(&again, WQ_RERUN, false) == 0 && workq_busy(&old),
	      "the deleted project's job ending is not counted in the new one");
	workq_end(&a, WQ_INTERRUPTED);
	check(workq_busy(&again) && !workq_busy(&old), "its end leaves the new project's job alone");
	workq_end(&c, WQ_DONE);
}

static void stopping(void)
{
	struct job a = {"A", RUNS, -1, NULL, NULL}, b = {"B", RUNS, -1, NULL, NULL};
	struct job c = {"C", RUNS, -1, NULL, NULL};
	struct proto_err why, err;
	reset();
	proto_fail(&why, PROTO_ERR_SHUTDOWN, "stopping");
	submit(&P1, &a, WQ_RERUN, 0);
	submit(&P1, &b, WQ_TURN, 0);
	workq_shutdown(&why);
	workq_end(&a, WQ_INTERRUPTED);
	check(strcmp(trace, "+A xB") == 0 && !workq_busy(&P1),
	      "shutdown drops the waiting jobs and starts nothing");
	check(workq_submit(&P1, ops_of(WQ_RUN), &c, 0, &err) < 0 && err.code == PROTO_ERR_SHUTDOWN,
	      "nothing is queued once stopping");
}

int main(void)
{
	arrival_order();
	immediate_ends();
	start_failures();
	clients();
	closed_and_other_project();
	nested_submit();
	created_again();
	stopping();
	return failures ? 1 : 0;
}
