/*
 * daemon/m_kernel.c — the RPC methods that drive a project's kernel directly
 * (protocol/PROTOCOL.md): `run` (code in the project's kernel; the reply is
 * the kernel's exec reply plus project_path and sandbox.degraded),
 * `kernel.interrupt` (SIGINT to a running step) and `kernel.restart`.
 * A successful `run` without `scratch` is saved as the next history step
 * (daemon/history.c; `step` in the reply); the kernel's state is restored
 * from history first when it is a fresh one (hist_exec).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/history.h"
#include "daemon/kern.h"
#include "daemon/project.h"
#include "daemon/m_args.h"
#include "daemon/rpc.h"

/* A `run` waiting for its kernel. */
struct run_ctx {
	struct rpc_reply_to to;
	char *project_path;
	char *code;     /* saved as a step on success, NULL with scratch */
	char step[64];
};

/* Save the code as a history step; `step` (or `step_error`) into out. */
static void run_save(struct run_ctx *c, json_t *out)
{
	struct proto_err err = {0};
	char rel[160];
	struct proj *pj = proj_get(c->project_path, &err);
	if (pj && hist_save_run(pj, c->code, c->step, out, rel, sizeof rel, &err) == 0)
		json_object_set_new(out, "step", json_string(rel));
	else
		json_object_set_new(out, "step_error", json_string(err.msg));
}

/* The kernel answered (or failed): reply to the client that asked. */
static void run_cb(void *ud, const json_t *reply, const struct proto_err *err)
{
	struct run_ctx *c = ud;
	if (!reply) {
		rpc_reply_err(c->to, err);
	} else {
		json_t *out = json_copy((json_t *)reply);
		if (out)
			json_object_set_new(out, "project_path", json_string(c->project_path));
		if (out && c->code && json_is_true(json_object_get(reply, "ok")))
			run_save(c, out);
		msgpack_packer *pk = rpc_result_begin(c->to);
		mpjson_pack(pk, out ? out : reply);
		rpc_result_end();
		json_decref(out);
	}
	free(c->code);
	free(c->project_path);
	free(c);
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

/* The project path of a request's `project` (replies the error itself). */
static const char *req_project(struct rpc_req *req)
{
	struct proj *p = m_arg_project(req);
	if (!p)
		return NULL;
	return proj_path(p);
}

static const struct proto_field run_params[] = {
	{"project", PROTO_T_STR, false},
	{"code", PROTO_T_STR, true},
	{"scratch", PROTO_T_BOOL, false},
	{"timeout_s", PROTO_T_UINT, false},
	{NULL, 0, false}};

static void m_run(struct rpc_req *req)
{
	struct proto_err err = {0};
	const char *path = req_project(req);
	if (!path)
		return;
	struct run_ctx *c = calloc(1, sizeof *c);
	if (!c || !(c->project_path = strdup(path))) {
		free(c);
		rpc_reply_error(req->from, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	c->to = req->from;
	uint64_t t = req->args[3].present ? req->args[3].u : 0;
	bool scratch = req->args[2].present && req->args[2].b;
	struct proj *pj = proj_get(path, &err);
	if (scratch || !pj)
		run_step_name(c->step, sizeof c->step);
	else
		hist_run_step_name(pj, c->step, sizeof c->step);
	if (!scratch && !(c->code = strdup(req->args[1].str))) {
		free(c->project_path);
		free(c);
		rpc_reply_error(req->from, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	if (hist_exec(c->project_path, req->args[1].str, c->step,
		      t > 86400 ? 86400 : (int)t, run_cb, c, &err) < 0) {
		rpc_reply_err(req->from, &err);
		free(c->code);
		free(c->project_path);
		free(c);
	}
}
RPC_METHOD(run, "run", run_params, m_run, "run code in the project's kernel");

static const struct proto_field project_params[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false}};

static void m_interrupt(struct rpc_req *req)
{
	const char *path = req_project(req);
	if (path) {
		kern_interrupt(path);
		rpc_reply_ok(req->from);
	}
}
RPC_METHOD(kernel_interrupt, "kernel.interrupt", project_params, m_interrupt,
	   "interrupt the step running in the project's kernel");

static void m_restart(struct rpc_req *req)
{
	const char *path = req_project(req);
	if (path) {
		hist_forget_kernel(path); /* the next exec replays history */
		kern_restart(path);
		rpc_reply_ok(req->from);
	}
}
RPC_METHOD(kernel_restart, "kernel.restart", project_params, m_restart,
	   "restart the project's kernel (variables are lost)");
