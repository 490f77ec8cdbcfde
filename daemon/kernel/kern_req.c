/*
 * daemon/kernel/kern_req.c — requests to kernels: choosing the kernel of a
 * project (the one on its handle's kern slot, else the warm spare bound to
 * it), the per-kernel queue (one request in flight at a time), time limits
 * (SIGINT, then SIGKILL after a grace period), the idle stop, and what the
 * kernel sends back (ready event, replies), checked strictly: an answer to
 * a request that was not asked kills the kernel.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/core/config.h"
#include "daemon/kernel/kern_int.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"

#define BIND_TIMEOUT_S 60
#define MAX_UNSOLICITED 1000

static void idle_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	struct kern *k = ud;
	char m[200];
	(void)l, (void)id;
	k->idle_timer = 0;
	snprintf(m, sizeof m, "the kernel was stopped after %d s without use",
		 kern_g.idle_timeout_s);
	k->no_handover = true;
	kern_kill(k, PROTO_ERR_KERNEL, m);
}

/* The grace period after SIGINT ran out: kill and restart. */
static void grace_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	struct kern *k = ud;
	char m[400];
	(void)l, (void)id;
	k->grace_timer = 0;
	int s = k->inflight ? k->inflight->timeout_s : kern_g.step_timeout_s;
	snprintf(m, sizeof m, "the step ran longer than %d s and was stopped; the kernel was "
		 "restarted — variables from earlier steps are gone until history replay lands", s);
	k->restart_after = true;
	kern_kill(k, PROTO_ERR_KERNEL, m);
}

/* A request ran past its time limit. */
static void req_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	struct kern *k = ud;
	(void)l, (void)id;
	k->req_timer = 0;
	if (!k->inflight || !kern_alive(k))
		return;
	if (strcmp(k->inflight->op, "exec") == 0 || strcmp(k->inflight->op, "profile") == 0) {
		log_info("kernel %d: step over %d s: SIGINT", (int)k->sp.pid, k->inflight->timeout_s);
		k->inflight->interrupted = k->inflight->signalled = true;
		kern_signal(k, SIGINT);
		k->grace_timer = loop_timer_add(kern_g.l, (uint64_t)kern_g.grace_ms, grace_timer_cb, k);
		return;
	}
	char m[200];
	snprintf(m, sizeof m, "the kernel did not answer '%s' within %d s", k->inflight->op,
		 k->inflight->timeout_s);
	kern_kill(k, PROTO_ERR_KERNEL, m);
}

static kern_cache_info_fn cache_info;
static kern_cache_record_fn cache_record;

void kern_set_cache_hooks(kern_cache_info_fn info, kern_cache_record_fn record)
{
	cache_info = info;
	cache_record = record;
}

/* Does op run only the runtime's own code (no user code, no user object)? */
static bool runtime_only(const char *op)
{
	static const char *const ops[] = {"bind", "cache", "ping", "conventions", "profile", NULL};
	for (size_t i = 0; ops[i]; i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

void kern_pump(struct kern *k)
{
	if (k->inflight || !k->queue || k->sp.sock < 0 || !k->project ||
	    (k->state != KS_READY && k->state != KS_IDLE))
		return;
	struct kreq *r = k->queue;
	k->queue = r->next;
	r->next = NULL;
	r->id = ++kern_g.next_id;
	json_object_set_new(r->msg, "id", json_integer(r->id));
	if (kw_queue(&k->wbuf, r->msg) < 0) {
		kern_req_finish(r, NULL, PROTO_ERR_INTERNAL, "out of memory");
		return;
	}
	k->inflight = r;
	r->before_user_code = !k->ran_user_code;
	if (!runtime_only(r->op))
		k->ran_user_code = true;
	k->state = strcmp(r->op, "bind") == 0 ? KS_BINDING : KS_BUSY;
	if (k->idle_timer) {
		loop_timer_clear(kern_g.l, &k->idle_timer);
		k->idle_timer = 0;
	}
	if (r->timeout_s > 0)
		k->req_timer = loop_timer_add(kern_g.l, (uint64_t)r->timeout_s * 1000, req_timer_cb, k);
	kern_flush(k);
}

/* Datasets of a project as the bind request wants them: [{name, path, format}]. */
static json_t *bind_datasets(struct proj *p)
{
	json_t *out = json_array();
	struct proto_err err = {0};
	json_t *all = p ? proj_datasets(p, &err) : NULL;
	size_t i;
	json_t *d;
	json_array_foreach(all, i, d) {
		json_array_append_new(out, json_pack("{s:O?,s:O?,s:O?}", "name",
						     json_object_get(d, "name"), "path",
						     json_object_get(d, "path"), "format",
						     json_object_get(d, "format")));
	}
	json_decref(all);
	return out;
}

/* The bind request for k's project (datasets and conventions from
 * project.h); doctor's trial folder (no pj) is not a registered project:
 * it gets its outputs/ and nothing else. */
static json_t *bind_msg(struct kern *k)
{
	struct proj *p = k->pj;
	char outputs[PATH_MAX + 16];
	if (p)
		snprintf(outputs, sizeof outputs, "%s", proj_outputs_dir(p));
	else
		snprintf(outputs, sizeof outputs, "%s/outputs", k->project);
	json_t *conv = p ? proj_conventions(p) : NULL;
	conv = json_is_object(conv) ? json_deep_copy(conv) : json_object();
	return json_pack("{s:s,s:s,s:s,s:s,s:o*,s:o,s:o*,s:{s:b,s:b},s:o*}", "op", "bind", "project",
			 k->project, "outputs", outputs, "tmp", k->sp.tmp, "datasets",
			 p ? bind_datasets(p) : NULL, "conventions", conv, "cache",
			 p && cache_info ? cache_info(p) : NULL,
			 "sandbox", "landlock", 1, "allow_missing",
			 kern_g.set.allow_missing, "compute", config_compute_json(true));
}

/* The `cache` request that follows a bind (r is the bind, first in the
 * queue): the dataset cache is checked and built before any user code. */
static void queue_cache_after(struct kern *k, struct kreq *bind)
{
	if (!cache_record || !k->pj)
		return;   /* no ledger, or doctor's throw-away project */
	struct kreq *r = calloc(1, sizeof *r);
	if (!r || !(r->msg = json_pack("{s:s}", "op", "cache"))) {
		free(r);
		return;
	}
	r->op = "cache";
	r->timeout_s = kern_g.step_timeout_s;
	r->next = bind->next;
	bind->next = r;
}

/* The reply to `cache`: to the ledger when it came before any user code. */
static void on_cache_reply(struct kern *k, struct kreq *r, const struct kern_result *kr)
{
	if (!kr->ok) {
		log_info("kernel %d: the dataset cache was not checked: %s", (int)k->sp.pid,
			 kr->error_message[0] ? kr->error_message : "no reason given");
	} else if (!r->before_user_code) {
		log_warn("kernel %d: a `cache` reply after user code ran was ignored", (int)k->sp.pid);
	} else if (cache_record && k->pj) {
		cache_record(k->pj, kr->raw);
	}
}

/* The request that tells a bound kernel its project's datasets or
 * conventions changed (the runtime's `conventions` op). */
json_t *kern_refresh_msg(struct proj *p)
{
	if (proj_deleted(p))
		return NULL;
	json_t *conv = proj_conventions(p);
	conv = json_is_object(conv) ? json_deep_copy(conv) : json_object();
	return json_pack("{s:s,s:o,s:o}", "op", "conventions", "conventions", conv, "datasets",
			 bind_datasets(p));
}

/* Assign a project (pj, or doctor's trial folder dir) to a spare (or
 * fresh) kernel: it becomes the project's live kernel, and a bind goes
 * first in its queue. */
static void start_binding(struct kern *k, struct proj *pj, const char *dir)
{
	if (!k->project)
		k->project = strdup(dir);
	k->pj = pj;
	if (pj)
		proj_slots(pj)->kern = k;
	char why[600];
	if (k->project && kp_bind_mounts(&k->sp, k->project, why, sizeof why) < 0) {
		kern_kill(k, PROTO_ERR_SANDBOX, why);
		return;
	}
	struct kreq *r = calloc(1, sizeof *r);
	if (!r || !k->project || !(r->msg = bind_msg(k))) {
		free(r);
		kern_kill(k, PROTO_ERR_INTERNAL, "out of memory while binding a kernel");
		return;
	}
	r->op = "bind";
	r->timeout_s = BIND_TIMEOUT_S;
	r->next = k->queue;
	k->queue = r;
	queue_cache_after(k, r);
	kern_pump(k);
}

struct kern *kern_live(struct proj *pj)
{
	struct kern *k = pj ? proj_slots(pj)->kern : NULL;
	return k && kern_alive(k) ? k : NULL;
}

/* The one lookup by folder left: doctor's trial folder is no project. */
struct kern *kern_trial_find(const char *dir)
{
	for (struct kern *k = kern_g.list; dir && k; k = k->next)
		if (kern_alive(k) && !k->pj && k->project && strcmp(k->project, dir) == 0)
			return k;
	return NULL;
}

/* The warm spare, when one is alive. */
static struct kern *find_spare(void)
{
	for (struct kern *k = kern_g.list; k; k = k->next)
		if (kern_alive(k) && !k->project)
			return k;
	return NULL;
}

struct kern *kern_for_project(struct proj *pj, const char *trial_dir, struct proto_err *err)
{
	struct kern *k = pj ? kern_live(pj) : kern_trial_find(trial_dir);
	if (k)
		return k;
	if (kern_g.shutting_down) {
		proto_fail(err, PROTO_ERR_SHUTDOWN, "the daemon is shutting down");
		return NULL;
	}
	if (pj && proj_deleted(pj)) {
		/* never a kernel for a deleted project: nothing would stop it */
		proto_fail(err, PROTO_ERR_NOT_FOUND, "project '%s' was deleted", proj_name(pj));
		return NULL;
	}
	const char *dir = pj ? proj_path(pj) : trial_dir;
	struct kern *spare = find_spare();
	k = spare ? spare : kern_spawn(dir, err);
	if (!k)
		return NULL;
	start_binding(k, pj, dir);
	if (spare && !kern_alive(k)) {
		/* the spare could not take the project (its mount helper failed):
		 * nothing was queued on it yet, so a fresh kernel takes over */
		log_warn("kernel: the warm spare could not be bound (%s); starting a fresh kernel",
			 k->why);
		if (!(k = kern_spawn(dir, err)))
			return NULL;
		start_binding(k, pj, dir);
	}
	if (!kern_alive(k)) {
		proto_fail(err, PROTO_ERR_KERNEL, "%s", k->why[0] ? k->why : "the kernel failed");
		return NULL;
	}
	kern_ensure_spare();
	return k;
}

void kern_handover(struct kern *dead, struct kreq *queue)
{
	struct proto_err err = {0};
	struct kern *k = kern_for_project(dead->pj, dead->pj ? NULL : dead->project, &err);
	if (!k) {
		while (queue) {
			struct kreq *n = queue->next;
			kern_req_finish(queue, NULL, err.code, err.msg);
			queue = n;
		}
		return;
	}
	struct kreq **pp = &k->queue;
	while (*pp)
		pp = &(*pp)->next;
	*pp = queue;
	kern_pump(k);
}

/* The ready event: python and library versions; bind if a project waits. */
static void on_ready(struct kern *k, json_t *msg)
{
	if (k->state != KS_SPAWNING) {
		kern_kill(k, PROTO_ERR_KERNEL, "the kernel announced 'ready' twice");
		return;
	}
	if (k->start_timer) {
		loop_timer_clear(kern_g.l, &k->start_timer);
		k->start_timer = 0;
	}
	/* its "pid" is written by the kernel (and is 1 in its own pid
	 * namespace): never kept, never used — k->sp.pid from the spawn is */
	json_object_del(msg, "pid");
	k->ready = json_incref(msg);
	json_decref(kern_g.last_ready);
	kern_g.last_ready = json_incref(msg);
	kern_g.spare_failures = 0;
	kern_g.last_error[0] = '\0';
	k->state = KS_READY;
	log_info("kernel %d ready (python %s)", (int)k->sp.pid,
		 json_string_value(json_object_get(msg, "python")) ?: "?");
	kern_pump(k);
}

/* Does a layer state say it is not in force?  (The words the runtime's
 * seal.py uses, so both sides agree on what "missing" is.) */
bool kern_layer_missing(const char *state)
{
	static const char *const bad[] = {"missing", "failed", "unavailable", "error",
					  "disabled", "not ", NULL};
	for (size_t i = 0; bad[i]; i++)
		if (strncasecmp(state, bad[i], strlen(bad[i])) == 0)
			return true;
	return false;
}

/* Missing layers of a bind reply as ["name: why"]; fills *first for errors. */
static json_t *missing_layers(const json_t *layers, char *first, size_t len)
{
	json_t *out = json_array();
	const char *name;
	json_t *v;
	first[0] = '\0';
	json_object_foreach((json_t *)layers, name, v) {
		const char *s = json_string_value(v);
		if (s && !kern_layer_missing(s))
			continue;
		char line[300];
		snprintf(line, sizeof line, "%s: %s", name, s ? s : "not reported");
		json_array_append_new(out, json_string(line));
		if (!first[0])
			snprintf(first, len, "%s", line);
	}
	return out;
}

/* The bind reply: fail closed on a missing layer unless allowed. */
static void on_bind_reply(struct kern *k, struct kreq *r, json_t *msg)
{
	char first[300], m[600];
	struct kern_result kr;
	if (!kern_result_parse(msg, NULL, &kr)) {
		const char *em = kr.error_message[0] ? kr.error_message : NULL;
		bool sandbox = strcmp(kr.error_type, "SandboxError") == 0;
		json_t *layers = json_object_get(msg, "layers");
		if (json_is_object(layers)) {
			json_decref(kern_g.last_layers);
			kern_g.last_layers = json_incref(layers);
		}
		snprintf(m, sizeof m, "%s%s", sandbox ? "the sandbox could not be applied, so no "
			 "code was run: " : "the kernel could not be bound to the project: ",
			 em ? em : "no reason given");
		kern_req_free(r);
		kern_kill(k, sandbox ? PROTO_ERR_SANDBOX : PROTO_ERR_KERNEL, m);
		return;
	}
	json_t *layers = json_object_get(msg, "layers");
	k->layers = json_is_object(layers) ? json_incref(layers) : json_object();
	json_decref(kern_g.last_layers);
	kern_g.last_layers = json_incref(k->layers);
	k->degraded = missing_layers(k->layers, first, sizeof first);
	kern_req_free(r);
	if (first[0] && !kern_g.set.allow_missing) {
		snprintf(m, sizeof m, "a sandbox layer is not in force (%s), so no code was run (see `daa doctor`). "
			 "To run without it, set \"sandbox\": {\"allow_missing_layers\": true} in "
			 "config.json", first);
		kern_kill(k, PROTO_ERR_SANDBOX, m);
		return;
	}
	if (first[0])
		log_warn("kernel %d runs degraded: %s", (int)k->sp.pid, first);
	k->state = KS_IDLE;
}

/* After a request that got a SIGINT: a ping goes first, so a signal the
 * kernel only saw after it had answered (it then waits, pending, for the
 * next request: KERNEL.md) is spent on the ping, not on the next step. */
static void queue_ping_first(struct kern *k)
{
	struct kreq *r = calloc(1, sizeof *r);
	if (!r || !(r->msg = json_pack("{s:s}", "op", "ping"))) {
		free(r);
		return;
	}
	r->op = "ping";
	r->timeout_s = kern_g.step_timeout_s;
	r->next = k->queue;
	k->queue = r;
}

/* A background request interrupted to let another go first: queue it
 * again behind the others (true), unless it finished anyway. */
static bool requeue_yielded(struct kern *k, struct kreq *r, const struct kern_result *kr)
{
	if (!r->yielding || r->interrupted || !kr->interrupted)
		return false;
	r->yielding = false;
	json_object_del(r->msg, "id");
	struct kreq **pp = &k->queue;
	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
	return true;
}

/* A reply to exec/profile/ping: parsed here, once, and given to its owner
 * as a struct kern_result, with the sandbox state added to the raw map. */
static void on_reply(struct kern *k, struct kreq *r, json_t *msg)
{
	struct kern_result kr;
	json_object_del(msg, "id");
	json_object_set_new(msg, "sandbox", json_pack("{s:O}", "degraded",
						      k->degraded ? k->degraded : json_array()));
	kern_result_parse(msg, NULL, &kr);
	if (requeue_yielded(k, r, &kr)) {
		k->state = KS_IDLE;
		return;
	}
	if (strcmp(r->op, "cache") == 0)
		on_cache_reply(k, r, &kr);
	k->state = KS_IDLE;
	if (r->interrupted) {
		char m[300];
		snprintf(m, sizeof m, "the step ran longer than %d s and was interrupted; the "
			 "kernel and its variables were kept", r->timeout_s);
		kern_req_finish(r, NULL, PROTO_ERR_KERNEL, m);
	} else {
		kern_req_finish(r, &kr, 0, NULL);
	}
}

/* After a reply: next request, or the idle clock. */
static void after_reply(struct kern *k)
{
	if (!kern_alive(k) || k->inflight)
		return;
	k->last_used_ms = loop_now_ms();
	if (k->queue) {
		kern_pump(k);
		return;
	}
	if (kern_g.idle_timeout_s > 0 && !k->idle_timer)
		k->idle_timer = loop_timer_add(kern_g.l, (uint64_t)kern_g.idle_timeout_s * 1000,
					       idle_timer_cb, k);
}

void kern_handle_msg(struct kern *k, json_t *msg)
{
	json_t *ev = json_object_get(msg, "ev"), *id = json_object_get(msg, "id");
	if (json_is_string(ev) && !id) {
		bool progress = strcmp(json_string_value(ev), "progress") == 0;
		if (strcmp(json_string_value(ev), "ready") == 0)
			on_ready(k, msg);
		else if (progress && kern_on_progress(k, msg) <= 0)
			return; /* passed on, rate-limited, or the kernel was stopped */
		else if (++k->unsolicited > MAX_UNSOLICITED)
			kern_kill(k, PROTO_ERR_KERNEL, "the kernel flooded the daemon with messages");
		return;
	}
	struct kreq *r = k->inflight;
	if (!r || !json_is_integer(id) || json_integer_value(id) != r->id) {
		kern_kill(k, PROTO_ERR_KERNEL,
			  "the kernel sent an answer to a request that was not asked, and was stopped");
		return;
	}
	k->inflight = NULL;
	k->unsolicited = 0;
	kern_progress_reset(k);
	if (k->req_timer) {
		loop_timer_clear(kern_g.l, &k->req_timer);
		k->req_timer = 0;
	}
	if (k->grace_timer) {
		loop_timer_clear(kern_g.l, &k->grace_timer);
		k->grace_timer = 0;
	}
	bool signalled = r->signalled;
	if (strcmp(r->op, "bind") == 0)
		on_bind_reply(k, r, msg);
	else
		on_reply(k, r, msg);
	if (signalled && kern_alive(k))
		queue_ping_first(k);
	after_reply(k);
}
