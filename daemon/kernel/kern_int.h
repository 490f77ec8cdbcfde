/*
 * daemon/kernel/kern_int.h — internals shared by the kernel manager's files:
 * kern.c (life cycle, public API), kern_wire.c (msgpack framing over the
 * socketpair, with caps), kern_proc.c (paths, environment, temp dirs,
 * spawning under the sandbox policy, exit-status wording), kern_fonts.c
 * (matplotlib's font list, shared).
 */
#ifndef DAA_KERN_INT_H
#define DAA_KERN_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "daemon/core/mpjson.h"
#include "daemon/kernel/kernel.h"
#include "protocol/proto_scan.h"

#define KW_MAX_DEPTH 32
#define KW_MAX_MSG (64u * 1024 * 1024)


/* Byte buffers for the socket: what was read and not yet parsed, and what is
 * queued to write. */
struct kw_buf {
	char *data;
	size_t len, off, cap;
};

/* Reading: append up to `max` bytes from fd.  >0 bytes read, 0 EOF,
 * -1 error (errno; EAGAIN when nothing to read). */
ssize_t kw_read(int fd, struct kw_buf *b, size_t max);
/* Next message from b: 1 = *out set (new reference), 0 = need more bytes,
 * -1 = the stream is hostile or broken (why filled).  s: the frame scanner's
 * state for this stream (zeroed at first: kw_next sets its caps). */
int kw_next(struct kw_buf *b, struct proto_scan *s, json_t **out, char *why, size_t whylen);
/* Queue a json map as one msgpack message. */
int kw_queue(struct kw_buf *b, const json_t *msg);
/* Write what is queued: 1 all written, 0 some left (EAGAIN), -1 error. */
int kw_flush(int fd, struct kw_buf *b);
void kw_buf_free(struct kw_buf *b);

/* Everything a kernel process needs to be started. */
struct kp_spawn {
	pid_t pid;
	int sock;              /* our end of the socketpair (non-blocking) */
	int logfd;             /* read end of the stdout/stderr pipe (non-blocking) */
	int mountfd;           /* the mount helper of a spare in its own namespaces, or -1 */
	char tmp[PATH_MAX];    /* private temp dir (0700) */
	char report[1024];     /* sbx_policy_report() at spawn */
};

/* Resolved settings (kern.c fills them from kern_config + config.json). */
struct kp_settings {
	char python[PATH_MAX];
	char runtime_dir[PATH_MAX];
	char sbx_lib[PATH_MAX];     /* "" when not found */
	char base_tmp[PATH_MAX];    /* parent of the per-kernel temp dirs */
	unsigned long mem_mb, cpu_s, fsize_mb, nofile, nproc;
	int threads;
	int progress_ms;             /* kernel.progress_interval_ms: least gap between two progress events */
	bool allow_missing;
	bool mount_ns;              /* "sandbox": {"mount_namespace": true} (default) */
	unsigned short connect_port; /* compute.dask_scheduler's port (0: none), the only TCP connect */
};

/* Fill the paths of s (python and runtime_dir may be preset); -1 with err. */
int kp_resolve(struct kp_settings *s, struct proto_err *err);
/* Start one kernel (no project yet: the runtime seals at bind).  for_project:
 * a project waits for it (not a warm spare started ahead of need), so its
 * runtime leaves matplotlib to the first step that plots and is ready
 * sooner (daa_kernel.py --plots-on-demand).  -1 with err. */
int kp_spawn(const struct kp_settings *s, bool for_project, struct kp_spawn *out,
	     struct proto_err *err);
/* Start argv like a kernel (same policy, environment, a temp dir of its own,
 * written into tmp) but with no socket, no project, stdout/stderr to
 * /dev/null: the font helper.  Its pid, or -1 with err. */
pid_t kp_spawn_plain(const struct kp_settings *s, char *const argv[], char *tmp, size_t tmplen,
		     struct proto_err *err);
/* kern_fonts.c: put the shared matplotlib font list into a new kernel's
 * MPLCONFIGDIR mpl_dir (when there is a valid one; else start the helper
 * that builds it, once per daemon run). */
void kern_fonts_seed(const struct kp_settings *s, const char *mpl_dir);
/* Kill the font helper if it runs, remove its temp dir (shutdown). */
void kern_fonts_stop(void);
/* At bind: mount the project into the spare's own root (mount-namespace
 * layer; nothing to do without it).  Closes the helper's fd.  -1 with why. */
int kp_bind_mounts(struct kp_spawn *sp, const char *project, char *why, size_t len);
/* Remove a kernel's temp dir (never follows symlinks). */
void kp_rm_tmp(const char *tmp);
/* Say what an exit status means, for a user.  Returns the error code to use
 * (PROTO_ERR_SANDBOX for the sandbox's reserved exit codes, else KERNEL). */
int kp_describe_exit(int status, const struct kp_settings *s, char *buf, size_t len);

/* ---- the manager (kern.c, kern_req.c, kern_api.c) ---- */

enum kstate { KS_SPAWNING, KS_READY, KS_BINDING, KS_IDLE, KS_BUSY, KS_DYING, KS_DEAD };

/* One request to a kernel (owned by the kernel's queue, then by inflight). */
struct kreq {
	struct kreq *next;
	int64_t id;
	const char *op;      /* static string: bind, cache, exec, profile, conventions, ping */
	json_t *msg;         /* the request map (id added when sent) */
	int timeout_s;       /* 0: no limit */
	bool interrupted;    /* SIGINT sent because the time limit passed */
	bool background;     /* yields to any other request (kern_profile_summary) */
	bool yielding;       /* SIGINT sent so a request asked later can go first */
	bool signalled;      /* a SIGINT was sent while it was in flight (any reason) */
	bool before_user_code; /* sent before any request that runs user code */
	kern_reply_cb cb;    /* NULL once forgotten */
	void *ud;
};

struct kern {
	struct kern *next;
	unsigned seq;
	enum kstate state;
	struct kp_spawn sp;
	char *project;              /* the folder it is bound to (NULL: the warm spare) */
	struct proj *pj;            /* its project (borrowed handle, whose kern slot points
	                             * here while it is the live one); NULL: the spare, or
	                             * doctor's trial kernel (project set, pj NULL) */
	struct kw_buf rbuf, wbuf;
	struct proto_scan scan;
	bool want_write;
	struct kreq *queue, *inflight;
	/* loop timers (loop_timer_clear cancels and zeroes; a callback clears its own) */
	uint64_t req_timer, grace_timer, idle_timer, start_timer, eof_timer;
	uint64_t child;             /* the loop's watch of the process (0 once reaped) */
	json_t *ready;              /* the ready event */
	json_t *layers;             /* the bind reply's layers */
	json_t *degraded;           /* ["landlock: missing ..."] (array, never NULL once bound) */
	int why_code;               /* why we stopped it (first reason) */
	char why[600];
	char lastlog[320];          /* last line the process printed */
	int loglines;
	int unsolicited;
	uint64_t progress_ms;       /* when the last progress event was passed on (kern_progress.c) */
	bool progress_full;         /* it said done == total */
	unsigned progress_dropped;  /* progress events dropped by the rate limit, this request */
	uint64_t started_ms, last_used_ms;
	bool restart_after;         /* bind a fresh kernel to the project when it is gone */
	bool no_handover;           /* fail its queue instead of handing it over */
	bool ran_user_code;         /* an exec (or vars...) was sent: its writes are suspect */
};

struct kern_mgr {
	struct loop *l;
	struct kp_settings set;
	int step_timeout_s, idle_timeout_s;
	int grace_ms;               /* SIGINT → SIGKILL delay for a step over its limit */
	bool warm_spare, shutting_down;
	bool report_images;         /* config kernel.report_images: charts in background profiles */
	struct kern *list, *graveyard;
	int64_t next_id;
	unsigned seq;
	int spare_failures;
	uint64_t spare_timer;       /* loop timer */
	uint64_t reap_defer;        /* loop_defer freeing the graveyard */
	int last_error_code;
	char last_error[600];       /* why the last kernel failed to start */
	json_t *last_ready;         /* python/libs of the last ready kernel */
	json_t *last_layers;        /* layers of the last bind */
	char probe[2048];           /* sbx_probe() at init */
};
extern struct kern_mgr kern_g;

const char *kern_state_name(enum kstate s);
bool kern_alive(const struct kern *k);
/* Start a kernel (bound to project later, or the spare when NULL). */
struct kern *kern_spawn(const char *project, struct proto_err *err);
/* Stop k with a reason for its requests (code PROTO_ERR_*); reaped later. */
void kern_kill(struct kern *k, int code, const char *why);
/* Signal k's process while it is not reaped (through the loop's watch: its
 * pidfd when it has one); SIGKILL also goes to its process group. */
void kern_signal(struct kern *k, int sig);
void kern_ensure_spare(void);
/* The process is gone: answer or hand over its requests, bury it. */
void kern_finalize(struct kern *k, int status, bool have_status);
void kern_free(struct kern *k);
int kern_flush(struct kern *k);
void kern_req_free(struct kreq *r);
/* Give the owner its answer and free r: the reply as parsed once where it
 * arrived (kern_req.c), or, kr NULL, no reply for code+msg. */
struct kern_result;
void kern_req_finish(struct kreq *r, const struct kern_result *kr, int code, const char *msg);
/* Does a layer state ("active", "missing: why", ...) say it is not in force? */
/* kern_req.c: a message from the kernel; queue and send requests. */
void kern_handle_msg(struct kern *k, json_t *msg);
/* kern_progress.c: a `progress` event of k.  1: malformed or stray (count it
 * as unsolicited), 0: passed on or dropped by the rate limit, -1: k was
 * stopped for a flood. */
int kern_on_progress(struct kern *k, const json_t *msg);
void kern_progress_reset(struct kern *k);
/* The `conventions` request (datasets + conventions) for a bound kernel. */
json_t *kern_refresh_msg(struct proj *pj);
void kern_pump(struct kern *k);
/* The live kernel of a project (its kern slot), or NULL. */
struct kern *kern_live(struct proj *pj);
/* The live kernel bound to doctor's trial folder dir, or NULL. */
struct kern *kern_trial_find(const char *dir);
/* The live kernel of pj — or, pj NULL, of doctor's trial folder trial_dir —
 * or a new one (the spare, bound), or NULL+err. */
struct kern *kern_for_project(struct proj *pj, const char *trial_dir, struct proto_err *err);
/* A dead kernel's queue (may be NULL) goes to a fresh kernel bound to what it was. */
void kern_handover(struct kern *dead, struct kreq *queue);

#endif
