/*
 * sandbox/sbx_policy.c — compiles a policy in the parent: resolves paths,
 * picks rlimits, builds the Landlock ruleset and the stage-1 seccomp BPF,
 * plans the mount namespace's binds, decides what the child must do when a
 * layer is missing (fail closed unless allowed), and writes the
 * one-line-per-layer report.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sandbox/sbx_int.h"

/* printf onto the end of buf (truncating). */
void sbx_append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* realpath() with a message naming the option. */
static char *resolve(const char *what, const char *path, char *err, size_t errlen)
{
	char *r = realpath(path, NULL);
	if (!r)
		snprintf(err, errlen, "sandbox: %s %s: %s", what, path, strerror(errno));
	return r;
}

/* Add one rlimit (soft = v, hard = v + extra), capped by the current hard limit. */
static void add_rlimit(struct sbx_policy *p, int res, rlim_t v, rlim_t extra)
{
	struct rlimit cur;
	if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
		if (v > cur.rlim_max)
			v = cur.rlim_max;
		if (v + extra > cur.rlim_max)
			extra = cur.rlim_max - v;
	}
	p->rl_res[p->nrl] = res;
	p->rl[p->nrl].rlim_cur = v;
	p->rl[p->nrl].rlim_max = v + extra;
	p->nrl++;
}

/* Defaults that let a normal analysis of a few GiB run.  Memory is
 * RLIMIT_DATA (RLIMIT_AS breaks OpenBLAS/numpy's large virtual reservations). */
static void pick_rlimits(struct sbx_policy *p, const struct sbx_options *o)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	unsigned long phys_mb = pages > 0 && psz > 0 ? (unsigned long)pages / 1024 * (unsigned long)psz / 1024 : 4096;
	unsigned long mem = o->mem_mb ? o->mem_mb : phys_mb / 4 * 3;
	if (!o->mem_mb && mem < 1024)
		mem = 1024;
	add_rlimit(p, RLIMIT_DATA, (rlim_t)mem << 20, 0);
	add_rlimit(p, RLIMIT_CPU, o->cpu_s ? o->cpu_s : 4 * 3600, 5);
	add_rlimit(p, RLIMIT_FSIZE, (rlim_t)(o->fsize_mb ? o->fsize_mb : 8192) << 20, 0);
	add_rlimit(p, RLIMIT_NOFILE, o->nofile ? o->nofile : 4096, 0);
	add_rlimit(p, RLIMIT_NPROC, o->nproc ? o->nproc : 16384, 0);
	add_rlimit(p, RLIMIT_CORE, 0, 0);
	sbx_append(p->report, sizeof p->report,
		   "rlimits: data %lu MiB, cpu %lu s, fsize %lu MiB, nofile %lu, nproc %lu, core 0\n",
		   (unsigned long)(p->rl[0].rlim_cur >> 20), (unsigned long)p->rl[1].rlim_cur,
		   (unsigned long)(p->rl[2].rlim_cur >> 20), (unsigned long)p->rl[3].rlim_cur,
		   (unsigned long)p->rl[4].rlim_cur);
}

/* A layer the machine lacks: fail closed in the child, or note it. */
static void missing(struct sbx_policy *p, const char *layer, int code, const char *why)
{
	if (p->allow_missing) {
		sbx_append(p->report, sizeof p->report,
			   "%s: MISSING (%s) — running without it (allow_missing_layers)\n", layer, why);
		return;
	}
	sbx_append(p->report, sizeof p->report,
		   "%s: MISSING (%s) — the sandbox refuses to start\n", layer, why);
	if (!p->fail_code) {
		p->fail_code = code;
		snprintf(p->fail_why, sizeof p->fail_why,
			 "%s is not available (%s); set allow_missing_layers to run anyway", layer, why);
	}
}

/* Capabilities: can we empty the bounding set (needs CAP_SETPCAP)? */
static int plan_caps(struct sbx_policy *p, char *err, size_t errlen)
{
	p->caps_drop = true;
	p->caps_empty = cap_init();
	cap_t cur = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	if (!p->caps_empty || !cur) {
		snprintf(err, errlen, "sandbox: libcap: %s", strerror(errno));
		if (cur)
			cap_free(cur);
		return -1;
	}
	cap_get_flag(cur, CAP_SETPCAP, CAP_EFFECTIVE, &v);
	cap_free(cur);
	/* in its own user namespace the child holds CAP_SETPCAP there */
	p->caps_bound = p->ns_on || v == CAP_SET;
	sbx_append(p->report, sizeof p->report, "capabilities: %s\n", p->caps_bound ?
		   "all dropped (bounding, ambient, permitted, effective, inheritable; securebits locked)" :
		   "all dropped (bounding set left: no CAP_SETPCAP, harmless with no_new_privs)");
	sbx_append(p->report, sizeof p->report, "no_new_privs: set\n");
	return 0;
}

/* Add a copy of path to the NULL-terminated list (room for cap entries). */
static int ns_add(struct sbx_policy *p, size_t *n, size_t cap, const char *path)
{
	if (*n + 1 >= cap || !(p->ns_ro[*n] = strdup(path)))
		return -1;
	(*n)++;
	return 0;
}

/* The mount namespace: probe once, list the read-only binds (system paths
 * as Landlock's, without /proc and /dev which get their own mounts). */
static int plan_ns(struct sbx_policy *p, const struct sbx_options *o, char *err, size_t errlen)
{
	char why[200];
	if (!o->mount_ns)
		return 0;
	if (o->disable & SBX_LAYER_MOUNTNS) {
		sbx_append(p->report, sizeof p->report, "mountns: DISABLED (test option)\n");
		return 0;
	}
	if ((o->simulate_missing & SBX_LAYER_MOUNTNS) || !sbx_ns_available(why, sizeof why)) {
		missing(p, "mountns", SBX_EXIT_NS, (o->simulate_missing & SBX_LAYER_MOUNTNS) ?
			"simulated for a test" : why);
		return 0;
	}
	size_t n = 0, cap = 64 + 8;
	for (size_t i = 0; p->extra_ro[i]; i++)
		cap++;
	if (!(p->ns_ro = calloc(cap, sizeof *p->ns_ro)))
		goto oom;
	const char *const *sys = sbx_ll_sys_paths();
	for (size_t i = 0; sys[i]; i++)
		if (strncmp(sys[i], "/proc", 5) != 0 && strncmp(sys[i], "/dev/", 5) != 0 &&
		    ns_add(p, &n, cap, sys[i]) < 0)
			goto oom;
	glob_t g;
	if (glob("/etc/python3.*", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (ns_add(p, &n, cap, g.gl_pathv[i]) < 0) {
				globfree(&g);
				goto oom;
			}
		globfree(&g);
	}
	for (size_t i = 0; p->extra_ro[i]; i++)
		if (ns_add(p, &n, cap, p->extra_ro[i]) < 0)
			goto oom;
	p->ns_on = true;
	p->ns_pid = o->pid_ns;
	if (o->pid_ns && ((o->simulate_missing & SBX_LAYER_PIDNS) ||
			  !sbx_pidns_available(why, sizeof why))) {
		/* fails closed; allowed to be missing: the host's /proc, read-only */
		missing(p, "pidns", SBX_EXIT_NS, (o->simulate_missing & SBX_LAYER_PIDNS) ?
			"simulated for a test" : why);
		p->ns_pid = false;
	}
	p->ns_uid = geteuid();
	p->ns_gid = getegid();
	p->ns_shm_mb = o->fsize_mb ? o->fsize_mb : 1024;
	sbx_append(p->report, sizeof p->report, "mountns: active (own user, mount%s and IPC "
		   "namespaces; a new root of read-only system paths, the temp dir, private /tmp and "
		   "/dev/shm, minimal /dev, %s; project data/ history/ read-only%s)\n",
		   p->ns_pid ? ", pid" : "", p->ns_pid ? "own /proc" : "the host's /proc read-only",
		   p->project ? "" : ", mounted at bind by a helper");
	return 0;
oom:
	snprintf(err, errlen, "sandbox: out of memory");
	return -1;
}

/* Landlock: compile the ruleset now; the child only restricts itself. */
static int plan_landlock(struct sbx_policy *p, const struct sbx_options *o, char *err, size_t errlen)
{
	char sum[200];
	if (o->disable & SBX_LAYER_LANDLOCK) {
		sbx_append(p->report, sizeof p->report, "landlock: DISABLED (test option)\n");
		return 0;
	}
	p->ll_abi = (o->simulate_missing & SBX_LAYER_LANDLOCK) ? 0 : sbx_ll_abi();
	if (p->ll_abi == 0) {
		missing(p, "landlock", SBX_EXIT_LANDLOCK, (o->simulate_missing & SBX_LAYER_LANDLOCK) ?
			"simulated for a test" : "kernel without Landlock or not enabled in lsm=");
		return 0;
	}
	struct sbx_ll_spec s = { .project = p->project, .tmp = p->tmp,
				 .extra_ro = p->extra_ro, .fs = p->project != NULL,
				 .connect_port = p->ll_abi >= 4 ? p->connect_port : 0 };
	if (!s.fs && p->ll_abi < 4) {
		sbx_append(p->report, sizeof p->report, "landlock: ABI %d, nothing at spawn "
			   "(warm spare); filesystem rules at sbx_seal\n", p->ll_abi);
		return 0;
	}
	p->ll_fd = sbx_ll_ruleset(&s, p->ll_abi, err, errlen);
	if (p->ll_fd < 0)
		return -1;
	p->ll_flags = sbx_ll_restrict_flags(p->ll_abi);
	sbx_append(p->report, sizeof p->report, "landlock: active (%s)\n",
		   sbx_ll_summary(p->ll_abi, s.fs, s.connect_port, sum, sizeof sum));
	return 0;
}

/* seccomp stage 1: compile to BPF now; loaded by the child. */
static int plan_seccomp(struct sbx_policy *p, const struct sbx_options *o, char *err, size_t errlen)
{
	if (o->disable & SBX_LAYER_SECCOMP) {
		sbx_append(p->report, sizeof p->report, "seccomp: DISABLED (test option)\n");
		return 0;
	}
	if ((o->simulate_missing & SBX_LAYER_SECCOMP) || !sbx_sc_available()) {
		missing(p, "seccomp", SBX_EXIT_SECCOMP, (o->simulate_missing & SBX_LAYER_SECCOMP) ?
			"simulated for a test" : "kernel without seccomp filters");
		return 0;
	}
	/* TCP client sockets only when Landlock (ABI >= 4) limits them to the port */
	bool tcp = p->connect_port && p->ll_fd >= 0 && p->ll_abi >= 4;
	if (sbx_sc_compile(&p->sc_prog, &p->sc_len, tcp, err, errlen) < 0)
		return -1;
	if (p->connect_port)
		sbx_append(p->report, sizeof p->report, tcp ? "network: TCP connect to port %u only "
			   "(the Dask scheduler)\n" : "network: none — Landlock here cannot limit "
			   "TCP to port %u (needs ABI 4), so sockets stay denied\n", p->connect_port);
	sbx_append(p->report, sizeof p->report, "seccomp: active (no fork, no socket() but AF_UNIX socketpair, "
		   "no ptrace/mount/namespaces/bpf/...; no SysV IPC, POSIX mq, inotify/fanotify; signals only to itself; chmod only to ordinary "
		   "modes, no setuid files, no chown or xattr changes; execve banned at sbx_seal)\n");
	return 0;
}

/* Resolved copies of the paths of o. */
static int copy_paths(struct sbx_policy *p, const struct sbx_options *o, char *err, size_t errlen)
{
	if (o->project_dir && !(p->project = resolve("project", o->project_dir, err, errlen)))
		return -1;
	if (o->tmp_dir && !(p->tmp = resolve("temp dir", o->tmp_dir, err, errlen)))
		return -1;
	size_t n = 0;
	while (o->extra_ro && o->extra_ro[n])
		n++;
	p->extra_ro = calloc(n + 1, sizeof *p->extra_ro);
	if (!p->extra_ro) {
		snprintf(err, errlen, "sandbox: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!(p->extra_ro[i] = resolve("read-only path", o->extra_ro[i], err, errlen)))
			return -1;
	return 0;
}

/* Compile a policy (in the parent).  NULL with err filled. */
struct sbx_policy *sbx_policy_new(const struct sbx_options *o, char *err, size_t errlen)
{
	struct sbx_policy *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "sandbox: out of memory");
		return NULL;
	}
	p->ll_fd = -1;
	p->allow_missing = o->allow_missing_layers;
	p->connect_port = o->connect_port;
	sbx_append(p->report, sizeof p->report, "session: new session, parent-death signal, "
		   "only its own fds, clean environment\n");
	if (copy_paths(p, o, err, errlen) < 0)
		goto fail;
	pick_rlimits(p, o);
	if (plan_ns(p, o, err, errlen) < 0 || plan_caps(p, err, errlen) < 0 || plan_landlock(p, o, err, errlen) < 0 ||
	    plan_seccomp(p, o, err, errlen) < 0)
		goto fail;
	return p;
fail:
	sbx_policy_free(p);
	return NULL;
}

/* Free a policy (closes the ruleset fd). */
void sbx_policy_free(struct sbx_policy *p)
{
	if (!p)
		return;
	int saved = errno;
	if (p->ll_fd >= 0)
		close(p->ll_fd);
	for (size_t i = 0; p->extra_ro && p->extra_ro[i]; i++)
		free(p->extra_ro[i]);
	free(p->extra_ro);
	for (size_t i = 0; p->ns_ro && p->ns_ro[i]; i++)
		free(p->ns_ro[i]);
	free(p->ns_ro);
	free(p->project);
	free(p->tmp);
	free(p->sc_prog);
	if (p->caps_empty)
		cap_free(p->caps_empty);
	free(p);
	errno = saved;
}

/* One line per layer. */
const char *sbx_policy_report(const struct sbx_policy *p)
{
	return p->report;
}
