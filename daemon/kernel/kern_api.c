/*
 * daemon/kernel/kern_api.c — the kernel manager's public face (daemon/kernel/kernel.h):
 * start-up from the configuration, shutdown, exec/profile requests, interrupt,
 * restart, stop (each for a project's handle; doctor's trial folder has its
 * own three: kern_trial_*), and the status report used by `status` and
 * `doctor`.
 *
 * Configuration (config.json; every key optional):
 *   "python": interpreter (kern_config.python wins when set)
 *   "kernel": {"step_timeout_s": 120, "idle_timeout_s": 1800, "warm_spare": true,
 *              "kill_grace_ms": 5000 (after SIGINT — time limit or kernel.interrupt — a
 *              step still running gets SIGKILL and the project a fresh kernel),
 *              "mem_mb", "cpu_s", "fsize_mb", "nofile", "nproc": rlimits (0: the
 *              sandbox's defaults), "threads": BLAS/OpenMP threads (default: cores, max 4)}
 *   "sandbox": {"allow_missing_layers": false}
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/config.h"
#include "daemon/kernel/kern_int.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "sandbox/sbx.h"

static bool kern_ready_to_serve;

/* Settings: kern_config first, then config.json's "kernel"/"sandbox". */
static void load_settings(const struct kern_config *cfg)
{
	const struct daa_config *c = config_get();
	const json_t *ks = c ? c->kernel : NULL, *ss = c ? c->sandbox : NULL;
	struct kp_settings *s = &kern_g.set;
	memset(s, 0, sizeof *s);
	const char *py = cfg && cfg->python ? cfg->python : c && c->python ? c->python : NULL;
	const char *rt = cfg && cfg->runtime_dir ? cfg->runtime_dir
			 : c && c->runtime_dir ? c->runtime_dir : NULL;
	snprintf(s->python, sizeof s->python, "%s", py ? py : "");
	snprintf(s->runtime_dir, sizeof s->runtime_dir, "%s", rt ? rt : "");
	if (c && c->sandbox_lib)
		snprintf(s->sbx_lib, sizeof s->sbx_lib, "%s", c->sandbox_lib);
	s->mem_mb = (unsigned long)config_int(ks, "mem_mb", 0);
	s->cpu_s = (unsigned long)config_int(ks, "cpu_s", 0);
	s->fsize_mb = (unsigned long)config_int(ks, "fsize_mb", 0);
	s->nofile = (unsigned long)config_int(ks, "nofile", 0);
	s->nproc = (unsigned long)config_int(ks, "nproc", 0);
	s->threads = (int)config_int(ks, "threads", 0);
	s->progress_ms = (int)config_int(ks, "progress_interval_ms", 250);
	s->allow_missing = (cfg && cfg->allow_unconfined) ||
			   config_bool(ss, "allow_missing_layers", false);
	s->mount_ns = config_bool(ss, "mount_namespace", true);
	/* a scheduler that resolved at start-up: its port is the kernels' only connect() */
	if (c)
		config_compute_resolve();
	s->connect_port = c && c->compute.resolved[0] ? c->compute.port : 0;
	kern_g.step_timeout_s = cfg && cfg->step_timeout_s > 0
		? cfg->step_timeout_s : (int)config_int(ks, "step_timeout_s", 120);
	kern_g.idle_timeout_s = cfg && cfg->idle_timeout_s > 0
		? cfg->idle_timeout_s : (int)config_int(ks, "idle_timeout_s", 1800);
	kern_g.warm_spare = config_bool(ks, "warm_spare", cfg ? cfg->warm_spare : true);
	kern_g.report_images = config_bool(ks, "report_images", true);
	kern_g.grace_ms = (int)config_int(ks, "kill_grace_ms", 5000);
	if (kern_g.grace_ms < 100 || kern_g.grace_ms > 600000)
		kern_g.grace_ms = 5000;
	if (kern_g.step_timeout_s <= 0)
		kern_g.step_timeout_s = 120;
}

/* Stop k (when there is one) and fail what it had queued (code, why). */
static void stop_kernel(struct kern *k, int code, const char *why)
{
	if (!k)
		return;
	k->no_handover = true;
	kern_kill(k, code, why);
}

/* A project is being deleted or closed: its kernel stops (at shutdown
 * kern_shutdown reaps it afterwards). */
static void close_hook(struct proj *p, const struct proto_err *why)
{
	if (why->code != PROTO_ERR_SHUTDOWN)
		stop_kernel(kern_live(p), PROTO_ERR_KERNEL,
			    "the project's kernel was stopped (project closed)");
	else
		stop_kernel(kern_live(p), PROTO_ERR_SHUTDOWN, why->msg);
}
static int submit(struct proj *pj, const char *op, json_t *msg, int timeout_s,
		  kern_reply_cb cb, void *ud, struct proto_err *err);

/* A project's datasets or conventions changed: its bound kernel reloads them
 * (queued behind a running step, like any request). */
static void change_hook(struct proj *p)
{
	if (!kern_live(p))
		return;
	struct proto_err err = {0};
	if (submit(p, "conventions", kern_refresh_msg(p), kern_g.step_timeout_s, NULL, NULL,
		   &err) < 0)
		log_warn("kernel: cannot refresh %s: %s", proj_path(p), err.msg);
}

int kern_init(struct loop *l, const struct kern_config *cfg, struct proto_err *err)
{
	(void)err;
	memset(&kern_g, 0, sizeof kern_g);
	kern_g.l = l;
	load_settings(cfg);
	if (sbx_probe(kern_g.probe, sizeof kern_g.probe) < 0)
		log_warn("kernel: sandbox probe failed: %s", kern_g.probe);
	static const struct proj_part_ops kern_part = {.close = close_hook, .changed = change_hook};
	proj_part_set(PROJ_PART_KERN, &kern_part);
	struct proto_err e = {0};
	if (kp_resolve(&kern_g.set, &e) < 0) {
		/* The daemon still serves everything else; run/doctor report this. */
		kern_g.last_error_code = e.code;
		snprintf(kern_g.last_error, sizeof kern_g.last_error, "%s", e.msg);
		log_error("kernel: %s", e.msg);
		return 0;
	}
	kern_ready_to_serve = true;
	log_info("kernel: python %s, runtime %s, sandbox library %s, step limit %d s",
		 kern_g.set.python, kern_g.set.runtime_dir,
		 kern_g.set.sbx_lib[0] ? kern_g.set.sbx_lib : "(not found)", kern_g.step_timeout_s);
	kern_ensure_spare();
	return 0;
}

/* Kill and reap one kernel synchronously (shutdown only: SIGKILL is quick). */
static void shutdown_one(struct kern *k)
{
	int status = 0;
	k->state = KS_DYING;
	k->no_handover = true;
	snprintf(k->why, sizeof k->why, "the daemon is shutting down");
	k->why_code = PROTO_ERR_SHUTDOWN;
	kern_signal(k, SIGKILL);
	bool reaped = loop_child_wait(kern_g.l, k->child, 3000, &status) == 1;
	if (reaped)
		k->child = 0;
	kern_finalize(k, status, reaped && status != -1);
}

void kern_shutdown(void)
{
	if (!kern_g.l)
		return;
	kern_g.shutting_down = true;
	loop_timer_clear(kern_g.l, &kern_g.spare_timer);
	while (kern_g.list) {
		shutdown_one(kern_g.list);
	}
	kern_fonts_stop();
	while (kern_g.graveyard) {
		struct kern *k = kern_g.graveyard;
		kern_g.graveyard = k->next;
		kern_free(k);
	}
	loop_defer_cancel(kern_g.l, kern_g.reap_defer);
	kern_g.reap_defer = 0;
	json_decref(kern_g.last_ready);
	json_decref(kern_g.last_layers);
	memset(&kern_g, 0, sizeof kern_g);
	kern_ready_to_serve = false;
}

/* Queue r: background requests at the end; others before the queued
 * background ones, and a background request under way is interrupted to
 * let them go first (it is sent again afterwards: kern_req.c on_reply). */
static void enqueue(struct kern *k, struct kreq *r)
{
	struct kreq **pp = &k->queue;
	while (*pp && (r->background || !(*pp)->background))
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	struct kreq *in = k->inflight;
	if (!r->background && in && in->background && !in->yielding && k->state == KS_BUSY) {
		log_info("kernel %d: the background %s yields to a request (%s)", (int)k->sp.pid, in->op,
			 r->op);
		in->yielding = in->signalled = true;
		kern_signal(k, SIGINT);
	}
}

/* Queue a request on the kernel of pj — or, pj NULL, of doctor's trial
 * folder trial_dir — binding one if needed. */
static int submit_req(struct proj *pj, const char *trial_dir, const char *op, json_t *msg,
		      int timeout_s, bool background, kern_reply_cb cb, void *ud,
		      struct proto_err *err)
{
	if (!msg)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	if (!kern_ready_to_serve) {
		json_decref(msg);
		return proto_fail(err, kern_g.last_error_code ? kern_g.last_error_code
				  : PROTO_ERR_KERNEL, "%s", kern_g.last_error[0] ? kern_g.last_error
				  : "the kernel manager is not running");
	}
	if (!pj && (!trial_dir || trial_dir[0] != '/')) {
		json_decref(msg);
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "a kernel needs a project or an "
				  "absolute folder");
	}
	struct kern *k = kern_for_project(pj, trial_dir, err);
	if (!k) {
		json_decref(msg);
		return -1;
	}
	struct kreq *r = calloc(1, sizeof *r);
	if (!r) {
		json_decref(msg);
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	r->op = op, r->msg = msg, r->timeout_s = timeout_s, r->cb = cb, r->ud = ud;
	r->background = background;
	enqueue(k, r);
	kern_pump(k);
	return 0;
}

static int submit(struct proj *pj, const char *op, json_t *msg, int timeout_s,
		  kern_reply_cb cb, void *ud, struct proto_err *err)
{
	return submit_req(pj, NULL, op, msg, timeout_s, false, cb, ud, err);
}

/* The exec request for code (NULL with err). */
static json_t *exec_msg(const char *code, const char *step_name, struct proto_err *err)
{
	if (!code) {
		proto_fail(err, PROTO_ERR_PARAMS, "no code to run");
		return NULL;
	}
	json_t *msg = json_pack("{s:s,s:s,s:s,s:i}", "op", "exec", "code", code, "step",
				step_name && step_name[0] ? step_name : "run", "max_output", 65536);
	if (!msg)
		proto_fail(err, PROTO_ERR_BAD_INPUT, "the code is not valid UTF-8 text");
	return msg;
}

int kern_exec_timeout(struct proj *pj, const char *code, const char *step_name,
		      int timeout_s, kern_reply_cb cb, void *ud, struct proto_err *err)
{
	json_t *msg = exec_msg(code, step_name, err);
	if (!msg)
		return -1;
	return submit(pj, "exec", msg, timeout_s > 0 ? timeout_s : kern_g.step_timeout_s, cb, ud,
		      err);
}

int kern_exec(struct proj *pj, const char *code, const char *step_name,
	      kern_reply_cb cb, void *ud, struct proto_err *err)
{
	return kern_exec_timeout(pj, code, step_name, 0, cb, ud, err);
}

int kern_trial_exec(const char *dir, const char *code, const char *step_name, int timeout_s,
		    kern_reply_cb cb, void *ud, struct proto_err *err)
{
	json_t *msg = exec_msg(code, step_name, err);
	if (!msg)
		return -1;
	return submit_req(NULL, dir, "exec", msg, timeout_s > 0 ? timeout_s :
			  kern_g.step_timeout_s, false, cb, ud, err);
}

int kern_profile_summary(struct proj *pj, const char *dataset, int timeout_s,
			 kern_reply_cb cb, void *ud, struct proto_err *err)
{
	if (!dataset)
		return proto_fail(err, PROTO_ERR_PARAMS, "no dataset to profile");
	json_t *msg = json_pack("{s:s,s:s,s:b,s:b,s:b}", "op", "profile", "dataset", dataset,
				"samples", true, "summary", true, "images", kern_g.report_images);
	return submit_req(pj, NULL, "profile", msg, timeout_s > 0 ? timeout_s :
			  kern_g.step_timeout_s, true, cb, ud, err);
}

/* Forget callbacks with this ud in one kernel's requests. */
static void forget_in(struct kern *k, void *ud)
{
	if (k->inflight && k->inflight->ud == ud)
		k->inflight->cb = NULL;
	for (struct kreq *r = k->queue; r; r = r->next)
		if (r->ud == ud)
			r->cb = NULL;
}

void kern_forget(void *ud)
{
	kern_unwatch_progress(ud);
	for (struct kern *k = kern_g.list; k; k = k->next)
		forget_in(k, ud);
	for (struct kern *k = kern_g.graveyard; k; k = k->next)
		forget_in(k, ud);
}

/* An interrupted step still runs after the grace period (it ignores or
 * catches SIGINT): kill the kernel and bind a fresh one, and say so. */
static void intr_grace_cb(struct loop *l, uint64_t id, void *ud)
{
	struct kern *k = ud;
	char m[400];
	(void)l, (void)id;
	k->grace_timer = 0;
	log_info("kernel %d: still busy %d ms after SIGINT: killed and restarted", (int)k->sp.pid,
		 kern_g.grace_ms);
	snprintf(m, sizeof m, "the step did not stop within %.1f s of the interrupt (it ignores "
		 "SIGINT?), so the kernel was restarted — variables from earlier steps are gone until "
		 "history replay lands (kernel.kill_grace_ms)", kern_g.grace_ms / 1000.0);
	k->restart_after = true;
	kern_kill(k, PROTO_ERR_KERNEL, m);
}

/* SIGINT to the running step; a restart after kill_grace_ms when it goes on. */
int kern_interrupt(struct proj *pj)
{
	struct kern *k = kern_live(pj);
	if (k && k->state == KS_BUSY) {
		if (k->inflight)
			k->inflight->signalled = true;
		kern_signal(k, SIGINT);
		if (!k->grace_timer) /* cancelled when the reply comes (kern_handle_msg) */
			k->grace_timer = loop_timer_add(kern_g.l, (uint64_t)kern_g.grace_ms, intr_grace_cb, k);
	}
	return 0;
}

int kern_restart(struct proj *pj)
{
	struct kern *k = kern_live(pj);
	if (k) {
		k->restart_after = true;
		kern_kill(k, PROTO_ERR_KERNEL, KERN_MSG_RESTARTED "; variables from "
			  "earlier steps are gone");
		return 0;
	}
	struct proto_err err = {0};
	if (kern_ready_to_serve && pj)
		kern_for_project(pj, NULL, &err);
	return 0;
}

void kern_trial_stop(const char *dir)
{
	stop_kernel(kern_trial_find(dir), PROTO_ERR_KERNEL,
		    "the project's kernel was stopped (project closed)");
}

/* What doctor reports of the manager (kernel.h). */
void kern_facts(struct kern_facts *out)
{
	*out = (struct kern_facts){.python = kern_g.set.python, .sbx_lib = kern_g.set.sbx_lib,
				   .base_tmp = kern_g.set.base_tmp, .probe = kern_g.probe,
				   .last_ready = kern_g.last_ready, .last_layers = kern_g.last_layers};
}

/* One kernel as status shows it. */
static json_t *kern_json(const struct kern *k, uint64_t now)
{
	return json_pack("{s:i,s:s?,s:s,s:I,s:I,s:O?,s:s}", "pid", (int)k->sp.pid, "project",
			 k->project, "state", kern_state_name(k->state), "age_s",
			 (json_int_t)((now - k->started_ms) / 1000), "idle_s",
			 (json_int_t)(k->last_used_ms ? (now - k->last_used_ms) / 1000 : 0),
			 "degraded", k->degraded, "tmp", k->sp.tmp);
}

json_t *kern_status(void)
{
	int running = 0, spare = 0;
	const char *spare_state = "none";
	json_t *list = json_array();
	uint64_t now = loop_now_ms();
	for (struct kern *k = kern_g.list; k; k = k->next) {
		if (!kern_alive(k))
			continue;
		if (k->project)
			running++;
		else {
			spare_state = kern_state_name(k->state);
			spare += k->state == KS_READY;
		}
		json_array_append_new(list, kern_json(k, now));
	}
	json_t *ready = kern_g.last_ready;
	return json_pack("{s:i,s:i,s:s,s:o,s:s,s:O?,s:O?,s:O?,s:O?,s:s,s:s,s:s,s:s?,s:i,s:i,s:b}",
			 "running", running, "spare", spare, "spare_state", spare_state,
			 "kernels", list, "python", kern_g.set.python, "python_version",
			 json_object_get(ready, "python"), "libs", json_object_get(ready, "libs"),
			 "layers", kern_g.last_layers, "libs_error",
			 json_object_get(ready, "libs_error"), "runtime_dir",
			 kern_g.set.runtime_dir, "sandbox_lib", kern_g.set.sbx_lib, "probe",
			 kern_g.probe, "last_error", kern_g.last_error[0] ? kern_g.last_error : NULL,
			 "step_timeout_s", kern_g.step_timeout_s, "idle_timeout_s",
			 kern_g.idle_timeout_s, "allow_missing_layers", kern_g.set.allow_missing);
}

/* {pid, state, ready, layers, degraded} of k, or NULL. */
static json_t *kern_info(const struct kern *k)
{
	if (!k)
		return NULL;
	return json_pack("{s:i,s:s,s:O?,s:O?,s:O?}", "pid", (int)k->sp.pid, "state",
			 kern_state_name(k->state), "ready", k->ready, "layers", k->layers,
			 "degraded", k->degraded);
}

json_t *kern_project_info(struct proj *pj)
{
	return kern_info(kern_live(pj));
}

json_t *kern_trial_info(const char *dir)
{
	return kern_info(kern_trial_find(dir));
}

bool kern_is_kernel_pid(int pid)
{
	for (struct kern *k = kern_g.list; pid > 0 && k; k = k->next)
		if (k->sp.pid == pid)
			return true;
	return false;
}
