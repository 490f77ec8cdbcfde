/*
 * daemon/rpc/m_kernel.c — the RPC methods that drive a project's kernel directly
 * (protocol/PROTOCOL.md): `run` (code in the project's kernel; the reply is
 * the kernel's exec reply plus project_path and sandbox.degraded),
 * `kernel.interrupt` (SIGINT to a running step) and `kernel.restart`.
 * A successful `run` without `scratch` is saved as the next history step
 * (daemon/history/history.c; `step` in the reply); the kernel's state is restored
 * from history first when it is a fresh one (hist_exec).
 *
 * A `run` without `scratch` takes the project like an agent turn (a job of
 * the project's work queue, daemon/project/workq.c): asked while a turn or a re-run holds the
 * project, or while other work waits, it waits in arrival order; its client
 * gets `history.event` {kind: "run_queued", msgid, behind} and, when it
 * starts, {kind: "run_start", msgid}.  Its step number is taken when it
 * starts.  A waiting run whose client disconnects, or whose client sends
 * `kernel.interrupt`, is dropped (it never ran; the reply is a "cancelled"
 * error).  A scratch run (a quick look, not saved) runs at once: the kernel
 * serves requests one at a time, so it runs between two steps of a turn or
 * a re-run, never inside one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/history/history.h"
#include "daemon/kernel/kernel.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "daemon/core/rpc.h"
#include "daemon/project/workq.h"

/* A `run` waiting for the project or for its kernel. */
struct run_ctx {
	struct rpc_reply_to to;
	struct proj *pj;
	char *project_path;
	char *code;
	bool scratch;   /* not saved, not queued */
	bool queued;    /* it waited for the project */
	int timeout_s;
	char step[64];
};

/* Free a run. */
static void run_free(struct run_ctx *c)
{
	free(c->code);
	free(c->project_path);
	free(c);
}

/* history.event {project_path, kind, msgid, behind?} to the run's client only. */
static void run_note(const struct run_ctx *c, const char *kind, const char *behind)
{
	json_t *ev = json_pack("{s:s, s:s, s:I, s:s?}", "project_path", c->project_path, "kind", kind,
			       "msgid", (json_int_t)c->to.msgid, "behind", behind);
	if (!ev)
		return;
	pub_send(c->to.conn_id, PUB_HISTORY_EVENT, ev);
	json_decref(ev);
}

/* A Dask computation of the run moved on: history.event {kind: "run_progress",
 * msgid, done, total} to the run's client only. */
static void run_progress_cb(void *ud, long long done, long long total)
{
	const struct run_ctx *c = ud;
	json_t *ev = json_pack("{s:s, s:s, s:I, s:I, s:I}", "project_path", c->project_path, "kind",
			       "run_progress", "msgid", (json_int_t)c->to.msgid, "done",
			       (json_int_t)done, "total", (json_int_t)total);
	if (ev)
		pub_send(c->to.conn_id, PUB_HISTORY_EVENT, ev);
	json_decref(ev);
}

static void run_cb(void *ud, const struct kern_result *kr);

/* hist_exec, with the run's progress watched while it runs. */
static int run_exec(struct run_ctx *c, struct proto_err *err)
{
	int rc = hist_exec(c->pj, c->code, c->step, c->timeout_s, run_cb, c, err);
	if (rc == 0)
		kern_watch_progress(c->pj, c->step, run_progress_cb, c);
	return rc;
}

/* Save the code as a history step; `step` (or `step_error`) into out.
 * 0 when saved; its figures are then named after the saved step. */
static int run_save(struct run_ctx *c, const struct kern_result *kr, json_t *out, json_t **figs)
{
	struct proto_err err = {0};
	char rel[160], stem[160];
	if (hist_save_run(c->pj, c->code, kr, rel, sizeof rel, &err) < 0) {
		json_object_set_new(out, "step_error", json_string(err.msg));
		return -1;
	}
	json_object_set_new(out, "step", json_string(rel));
	hist_stem_of_rel(stem, sizeof stem, rel);
	json_t *moved = hist_figures_move(c->project_path, *figs, stem, 1);
	json_decref(*figs);
	*figs = moved;
	return 0;
}

/* The kernel answered (or failed): reply to the client that asked; a
 * saved run hands the project on.  The figures are the files the step
 * drew as the daemon lists them (never the kernel's list); those of a step
 * that is not saved go to outputs/plots/unsaved/ (history_figs.c). */
static void run_cb(void *ud, const struct kern_result *kr)
{
	struct run_ctx *c = ud;
	kern_unwatch_progress(c);
	json_t *figs = hist_exec_figures(c->project_path, c->step), *out = NULL;
	bool saved = false;
	/* the reply as it came goes to the client only when it kept to KERNEL.md */
	const json_t *reply = kr->raw;
	if (reply && (out = json_copy((json_t *)reply))) {
		json_object_set_new(out, "project_path", json_string(c->project_path));
		if (!c->scratch && kr->ok)
			saved = run_save(c, kr, out, &figs) == 0;
	}
	if (!c->scratch && !saved) {
		json_t *moved = hist_figures_move(c->project_path, figs, NULL, 0);
		json_decref(figs);
		figs = moved;
	}
	if (!reply) {
		rpc_reply_error(c->to, kr->code, "%s", kr->why);
	} else {
		if (out)
			json_object_set(out, "figures", figs);
		rpc_reply_value(c->to, out ? out : reply);
	}
	json_decref(out);
	json_decref(figs);
	if (!c->scratch) /* after the step was saved: the next one numbers after it */
		workq_end(c, kr->ok ? WQ_DONE : WQ_FAILED);
	run_free(c);
}

/* A unique step name for figure files: run_YYYYmmdd-HHMMSS_N. */
static void run_step_name(char *buf, size_t len)
{
	static unsigned counter;
	time_t t = time(NULL);
	struct tm tm;
	char stamp[32];
	localtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, len, "run_%s_%u", stamp, ++counter);
}

/* Job start: the step is numbered now, then the code goes to the kernel. */
static int run_start(void *ud, struct proto_err *err)
{
	struct run_ctx *c = ud;
	hist_run_step_name(c->pj, c->step, sizeof c->step);
	if (c->queued) {
		log_info("run: %s: starts after waiting (step %s)", proj_name(c->pj), c->step);
		run_note(c, "run_start", NULL);
	}
	return run_exec(c, err);
}

/* Job drop: the run never ran; its client gets the reason. */
static void run_drop(void *ud, const struct proto_err *why)
{
	struct run_ctx *c = ud;
	rpc_reply_err(c->to, why);
	run_free(c);
}

/* Waiting: its client is told what it waits behind. */
static void run_placed(void *ud, const struct workq_place *place)
{
	struct run_ctx *c = ud;
	c->queued = place->position > 0;
	if (c->queued)
		run_note(c, "run_queued", place->behind);
}

static const struct workq_ops run_ops = {WQ_RUN, run_placed, run_start, run_drop};

static const struct proto_field run_params[] = {
	{"project", PROTO_T_STR, false},
	{"code", PROTO_T_STR, true},
	{"scratch", PROTO_T_BOOL, false},
	{"timeout_s", PROTO_T_UINT, false},
	{NULL, 0, false}};

/* run: scratch code goes to the kernel now; other code queues for the project. */
static json_t *m_run(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct proj *pj = req->proj;
	struct run_ctx *c = calloc(1, sizeof *c);
	if (!c || !(c->project_path = strdup(proj_path(pj))) || !(c->code = strdup(req->args[1].str))) {
		if (c)
			run_free(c);
		return rpc_fail(req, PROTO_ERR_INTERNAL, "out of memory");
	}
	uint64_t t = req->args[3].present ? req->args[3].u : 0;
	c->to = req->from;
	c->pj = pj;
	c->timeout_s = t > 86400 ? 86400 : (int)t;
	c->scratch = req->args[2].present && req->args[2].b;
	int rc;
	if (c->scratch) {
		run_step_name(c->step, sizeof c->step);
		rc = run_exec(c, &err);
	} else {
		rc = workq_submit(pj, &run_ops, c, req->from.conn_id, &err);
	}
	if (rc < 0) {
		run_free(c);
		return rpc_fail_err(req, &err);
	}
	return RPC_LATER; /* (a queued run was told where it waits: run_placed) */
}
RPC_METHOD_PROJECT(run, "run", run_params, m_run, "run code in the project's kernel");

static const struct proto_field project_params[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false}};

/* kernel.interrupt: the caller's own waiting runs are dropped; without
 * any, the step running in the kernel gets SIGINT.  {ok, dropped}. */
static json_t *m_interrupt(struct rpc_req *req)
{
	struct proto_err why;
	proto_fail(&why, PROTO_ERR_CANCELLED,
		   "the run was cancelled (kernel.interrupt) while it waited for the project; "
		   "it never ran");
	int dropped = workq_drop(req->proj, WQ_RUN, req->from.conn_id, &why);
	if (dropped == 0)
		kern_interrupt(req->proj);
	return json_pack("{s:b, s:i}", "ok", 1, "dropped", dropped);
}
RPC_METHOD_PROJECT(kernel_interrupt, "kernel.interrupt", project_params, m_interrupt,
		   "interrupt the step running in the project's kernel");

/* kernel.restart: the next exec replays history. */
static json_t *m_restart(struct rpc_req *req)
{
	hist_restart_kernel(req->proj); /* the next exec replays history */
	return rpc_ok();
}
RPC_METHOD_PROJECT(kernel_restart, "kernel.restart", project_params, m_restart,
		   "restart the project's kernel (variables are lost)");
