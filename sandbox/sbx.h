/*
 * sandbox/sbx.h — the lock-down library (nsjail / minijail habits): a policy
 * is compiled before fork and only applied in the child, as one ordered list
 * of checked steps ending in execve.  A layer that cannot be applied fails
 * closed (reserved exit code) unless the policy explicitly allows it.
 *
 * Two-stage for kernels: sbx_spawn() applies everything that must happen
 * before execve (session, pdeathsig, fds, rlimits, capabilities,
 * no_new_privs, Landlock when the project is known, seccomp without the exec
 * ban); the Python runtime then calls sbx_seal() (exported from
 * libdaasbx.so, through ctypes) before any user code runs: Landlock for the
 * bound project (warm spare) and the seccomp filter that forbids execve.
 * A spare (project_dir NULL) gets Landlock's network and scope rules at
 * spawn and the filesystem rules at seal.  Details: sandbox/README.md.
 */
#ifndef DAA_SBX_H
#define DAA_SBX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Exit codes reserved for "sandbox set-up failed" in the child: SETUP
 * (session, fds, chdir, no_new_privs), then one per layer, EXEC for execve. */
enum { SBX_EXIT_SETUP = 120, SBX_EXIT_LANDLOCK = 121, SBX_EXIT_SECCOMP = 122,
       SBX_EXIT_CAPS = 123, SBX_EXIT_RLIMIT = 124, SBX_EXIT_EXEC = 125,
       SBX_EXIT_NS = 126 /* the mount-namespace layer */ };

struct sbx_policy;

struct sbx_options {
	const char *project_dir;   /* NULL: no project yet (warm spare) */
	const char *tmp_dir;       /* private temp dir (read-write) */
	const char *const *extra_ro; /* extra read-only paths (runtime dir), NULL-terminated */
	unsigned long mem_mb, cpu_s, fsize_mb, nofile, nproc; /* 0: defaults */
	bool allow_missing_layers; /* user config: run even if a layer is missing */
	/* A dask.distributed scheduler's TCP port (0: none).  Then, and only
	 * then, the kernel may create AF_INET/AF_INET6 stream sockets and
	 * connect() them to this port (Landlock ABI >= 4; any other port, bind,
	 * listen, UDP and raw sockets stay denied).  Below ABI 4 Landlock cannot
	 * filter ports, so sockets stay denied altogether. */
	unsigned short connect_port;
	/* The mount-namespace layer: new user, mount, pid and IPC namespaces and
	 * a new root holding only system paths, the temp dir and the project
	 * (sandbox/README.md).  Without project_dir, sbx_spawn_ns hands back the
	 * fd of a helper that mounts the project later (sbx_mount_project). */
	bool mount_ns;
	/* With mount_ns: also a pid namespace, and a /proc of its own (the
	 * kernel is pid 1 there, so os.getpid() is 1); else the host's /proc is
	 * bound read-only. */
	bool pid_ns;
	/* Test-only (daa-sandbox --simulate-missing / --disable): SBX_LAYER_* bits.
	 * simulate_missing: behave as if the machine lacked the layer (fails
	 * closed unless allow_missing_layers); disable: skip it on purpose, said
	 * in the report (used to test one layer without the one in front). */
	unsigned simulate_missing, disable;
};

enum { SBX_LAYER_LANDLOCK = 1u, SBX_LAYER_SECCOMP = 2u, SBX_LAYER_MOUNTNS = 4u,
       SBX_LAYER_PIDNS = 8u };

/* Compile a policy (in the parent).  NULL with err filled. */
struct sbx_policy *sbx_policy_new(const struct sbx_options *o, char *err, size_t errlen);
void sbx_policy_free(struct sbx_policy *p);
/* One line per layer: "landlock: active (ABI 7)", "seccomp: active", ... */
const char *sbx_policy_report(const struct sbx_policy *p);

/*
 * Fork and exec argv under the policy.  keep_fds (count n) are kept (dup'd to
 * 3, 4, ... in order) — everything else is closed; stdin is /dev/null unless
 * stdin_fd >= 0; stdout/stderr go to out_fd/err_fd (or stay).  env is the
 * full, clean environment for the child.  Returns the pid or -1.
 */
pid_t sbx_spawn(const struct sbx_policy *p, char *const argv[], char *const env[],
		const int *keep_fds, size_t n, int stdin_fd, int out_fd, int err_fd,
		char *err, size_t errlen);
/* The same; with the mount-namespace layer on and no project yet, *mount_fd
 * receives the fd (close-on-exec, the caller owns it) on which
 * sbx_mount_project asks the kernel's helper to mount the project; else -1. */
pid_t sbx_spawn_ns(const struct sbx_policy *p, char *const argv[], char *const env[],
		   const int *keep_fds, size_t n, int stdin_fd, int out_fd, int err_fd,
		   int *mount_fd, char *err, size_t errlen);
/* At bind, in the caller (the daemon): the kernel's helper mounts project
 * (absolute, canonical) into the kernel's new root — data/ and history/
 * read-only, outputs/ and .daa/cache read-write — and exits.  Waits at most
 * 10 s.  0, or -1 with err (the kernel must then not be used). */
int sbx_mount_project(int mount_fd, const char *project, char *err, size_t errlen);

/* In-process, for the runtime after exec (ctypes): lock down to project_dir
 * (may be NULL when already applied at spawn) and forbid execve, for every
 * thread of the process.  Extra read-only paths and allow_missing come from
 * the environment sbx_spawn set (DAA_SBX_EXTRA_RO, DAA_SBX_ALLOW_MISSING).
 * Writes a layer report ("landlock: active (...)" per line) into report.
 * Once per process (a second call fails: rulesets only intersect).
 * 0 / -1; on -1 the caller must not run user code (some layers may be on). */
int sbx_seal(const char *project_dir, const char *tmp_dir, char *report, size_t report_len);

/* What this machine offers (for `daa doctor`): a multi-line report. */
int sbx_probe(char *report, size_t report_len);

#endif
