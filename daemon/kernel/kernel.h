/*
 * daemon/kernel/kernel.h — the kernel manager: one sandboxed Python kernel per open
 * project plus one warm spare (sandbox/KERNEL.md is the wire protocol).
 * Requests are asynchronous; callbacks fire from the loop.  Replies are
 * parsed once where they arrive and given to callbacks as a `struct
 * kern_result` (borrowed for the duration of the call); a callback never
 * fires from inside the call that queued it.  Every exec/profile reply carries
 * `sandbox: {degraded: [...]}` (empty unless allow_missing_layers let a
 * kernel run without a layer).  Errors: PROTO_ERR_KERNEL (crash, time limit,
 * hostile output: the message says which and whether a fresh kernel was
 * started), PROTO_ERR_SANDBOX (a layer missing: fail closed), SHUTDOWN.
 * Extra config.json keys read by kern_init: "kernel": {kill_grace_ms, mem_mb,
 * cpu_s, fsize_mb, nofile, nproc, threads} (see daemon/kernel/kern_api.c).
 * kern_init never fails the daemon: if python or the runtime is missing it
 * returns 0, logs, and every request fails with that message (doctor shows it).
 */
#ifndef DAA_KERN_H
#define DAA_KERN_H

#include <jansson.h>
#include <stdbool.h>
#include "daemon/core/loop.h"
#include "protocol/proto.h"

struct kern_config {
	char *python;          /* default /usr/bin/python3 */
	char *runtime_dir;     /* folder holding daa_kernel.py (sandbox/python) */
	int step_timeout_s;    /* default 120 */
	int idle_timeout_s;    /* stop idle kernels after this (default 1800) */
	bool allow_unconfined; /* config "sandbox": {"allow_missing_layers": true} */
	bool warm_spare;       /* default true */
};

int kern_init(struct loop *l, const struct kern_config *cfg, struct proto_err *err);
void kern_shutdown(void);

/* The answer, read once where it arrives (daemon/kernel/kern_result.h): the
 * kernel's reply, or a KR_NO_REPLY result (crash, time limit, restart,
 * shutdown: code and why); a reply that breaks KERNEL.md is KR_MALFORMED.
 * r and what it points to are borrowed for the duration of the call. */
struct kern_result;
typedef void (*kern_reply_cb)(void *ud, const struct kern_result *r);

/* The kernel API takes the project's handle (daemon/project/project.h,
 * borrowed; it outlives every kernel): its live kernel hangs off the
 * handle's kern slot, so a project deleted and created again under the
 * same folder never reaches the old one's kernel.  A deleted project's
 * requests fail with NOT_FOUND. */
struct proj;

/* Run code in the project's kernel (starting/binding one if needed). */
int kern_exec(struct proj *pj, const char *code, const char *step_name,
	      kern_reply_cb cb, void *ud, struct proto_err *err);
/* The same with a time limit for this step (timeout_s <= 0: the configured one). */
int kern_exec_timeout(struct proj *pj, const char *code, const char *step_name,
		      int timeout_s, kern_reply_cb cb, void *ud, struct proto_err *err);
/* Profile one dataset with the daa_tools summary and its HTML report
 * (daemon/profiler/profiler.c; sandbox/KERNEL.md `profile` with `summary: true`).
 * A background request: any other request asked meanwhile goes first (the
 * profile is interrupted and sent again after it); cb sees only the end. */
int kern_profile_summary(struct proj *pj, const char *dataset, int timeout_s,
			 kern_reply_cb cb, void *ud, struct proto_err *err);
/* Progress of the Dask computations of one step (the kernel's `progress`
 * events, daemon/kernel/kern_progress.c): cb(ud, done, total) for each event of
 * the exec named `step` in the project's kernel that passes the checks and
 * the rate limit (at most ~4 per second; 0 <= done <= total).  The watch
 * stays until kern_unwatch_progress(ud) or kern_forget(ud). */
typedef void (*kern_progress_cb)(void *ud, long long done, long long total);
int kern_watch_progress(struct proj *pj, const char *step, kern_progress_cb cb, void *ud);
/* The same for the kernel's `profile` request of dataset (its Dask passes). */
int kern_watch_profile_progress(struct proj *pj, const char *dataset, kern_progress_cb cb,
				void *ud);
void kern_unwatch_progress(void *ud);
/* Forget a pending callback and progress watch (the caller is going away). */
void kern_forget(void *ud);
int kern_interrupt(struct proj *pj);
/* Restart the project's kernel; what it was doing or had queued fails with
 * PROTO_ERR_KERNEL and a message starting KERN_MSG_RESTARTED. */
int kern_restart(struct proj *pj);
#define KERN_MSG_RESTARTED "the kernel was restarted on request"
/* The project's live kernel: {pid, state, ready, layers, degraded} (owned), or NULL. */
json_t *kern_project_info(struct proj *pj);

/* doctor's trial kernel (daemon/rpc/m_doctor.c): bound to a throw-away
 * folder (absolute) that is not a registered project — no datasets from
 * the project layer, no dataset-cache ledger.  The same as kern_exec_timeout
 * and kern_project_info for the kernel bound to that folder, and its stop
 * (queued requests fail). */
int kern_trial_exec(const char *dir, const char *code, const char *step_name, int timeout_s,
		    kern_reply_cb cb, void *ud, struct proto_err *err);
json_t *kern_trial_info(const char *dir);
void kern_trial_stop(const char *dir);
/* Is pid one of our kernels (any state)?  For server.c: a peer on the daemon
 * socket that is a kernel must be refused (SO_PEERCRED pid). */
bool kern_is_kernel_pid(int pid);
/* For status / doctor: counts and the sandbox layers report (owned json, caller decrefs). */
json_t *kern_status(void);
/* What `doctor` reports of the kernel manager (borrowed, valid until the
 * next kernel event): the configured python, the sandbox library ("" when
 * not found), the folder of kernels' temp dirs ("" for the default), the
 * machine's sandbox probe lines, and the last ready kernel's python/libs
 * and last bind's layers (NULL before the first). */
struct kern_facts {
	const char *python, *sbx_lib, *base_tmp, *probe;
	const json_t *last_ready, *last_layers;
};
void kern_facts(struct kern_facts *out);
/* Does a sandbox layer's state say it is not in force? */
bool kern_layer_missing(const char *state);

/* Hooks of the dataset-cache ledger (daemon/profiler/cache_trust.c): `info` gives
 * the bind request's `cache` field; when `record` is set, a `cache` request
 * (sandbox/KERNEL.md) is queued right after every bind, and `record` gets
 * its successful reply only when no request that runs user code had been
 * sent to that kernel before it.  Unset: no `cache` field, no request. */
typedef json_t *(*kern_cache_info_fn)(struct proj *pj);
typedef int (*kern_cache_record_fn)(struct proj *pj, const json_t *reply);
void kern_set_cache_hooks(kern_cache_info_fn info, kern_cache_record_fn record);

#endif
