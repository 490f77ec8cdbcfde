/*
 * daemon/kernel/kern_proc.c — starting a kernel process: resolving the interpreter,
 * the runtime and libdaasbx.so, a private 0700 temp dir per kernel, a clean
 * environment built from nothing (never the daemon's: no API keys), the
 * socketpair (fd 3 in the child) and the log pipe, then sbx_spawn() under a
 * policy compiled here.  Also: signalling, temp-dir removal (at the kernel's
 * end, and stale ones of a dead daemon at start) and the wording
 * of exit statuses for users.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/kernel/kern_int.h"
#include "daemon/core/log.h"
#include "sandbox/sbx.h"

/* glibc malloc's settings for kernels (plan.md, session 25).  By default
 * glibc trims the heap's top once 2x its last large free lies unused there,
 * so a step that makes two ~1 MiB temporaries per iteration (a Series of
 * 131,072 floats: (s * 2 + 1).sum()) gives the pages back and faults them
 * in again every time: ~480 page faults an iteration, 18x slower on this
 * VM.  Fixed thresholds are glibc's own ceilings for its dynamic ones
 * (chunks under 32 MiB from the heap, trim past 64 MiB free), from the
 * start.  hugetlb=1 madvises the heap and the mmap'd chunks for huge pages
 * (the sandbox shows /sys/kernel/mm/transparent_hugepage, where glibc learns
 * whether THP is on): a quarter fewer faults at `import pandas`.  Alone it
 * made loops over mmap'd ~1 MiB chunks zero a 2 MiB page each time; with
 * the thresholds those chunks come from the heap. */
#define KERNEL_MALLOC_TUNABLES "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:" \
	"glibc.malloc.trim_threshold=67108864"

/* The folder holding the running daad binary ("" when unknown). */
static void exe_dir(char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	buf[0] = '\0';
	if (n <= 0)
		return;
	path[n] = '\0';
	snprintf(buf, len, "%s", dirname(path));
}

/* First candidate `dir/rel` that exists, copied into out (as a folder or file). */
static bool first_existing(char *out, size_t len, const char *dir, const char *const *rels,
			   const char *leaf)
{
	for (size_t i = 0; rels[i]; i++) {
		char cand[PATH_MAX], probe[PATH_MAX + 64];
		if (snprintf(cand, sizeof cand, "%s/%s", dir, rels[i]) >= (int)sizeof cand)
			continue;
		snprintf(probe, sizeof probe, "%s%s%s", cand, leaf ? "/" : "", leaf ? leaf : "");
		char *real = realpath(cand, NULL);
		if (real && access(probe, R_OK) == 0) {
			snprintf(out, len, "%s", real);
			free(real);
			return true;
		}
		free(real);
	}
	return false;
}

static void rm_stale_tmps(const char *base);

/* Replace path by its realpath (left as is when that fails). */
static void canonical(char *path, size_t len)
{
	char *real = path[0] ? realpath(path, NULL) : NULL;
	if (real && strlen(real) < len)
		snprintf(path, len, "%s", real);
	free(real);
}

/* The parent folder of per-kernel temp dirs, created 0700. */
static int resolve_base_tmp(struct kp_settings *s, struct proto_err *err)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char d1[PATH_MAX];
	if (rt && rt[0] == '/')
		snprintf(d1, sizeof d1, "%s/daa", rt);
	else
		snprintf(d1, sizeof d1, "/tmp/daa-%u", (unsigned)getuid());
	if (snprintf(s->base_tmp, sizeof s->base_tmp, "%s/kernels", d1) >= (int)sizeof s->base_tmp)
		return proto_fail(err, PROTO_ERR_IO, "the runtime folder path is too long");
	if ((mkdir(d1, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(s->base_tmp, 0700) < 0 && errno != EEXIST))
		return proto_fail(err, PROTO_ERR_IO, "cannot create the kernels' temp folder %s: %s",
				  s->base_tmp, strerror(errno));
	struct stat st;
	if (lstat(s->base_tmp, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return proto_fail(err, PROTO_ERR_IO, "%s is not a folder of this user; remove it",
				  s->base_tmp);
	chmod(s->base_tmp, 0700);
	rm_stale_tmps(s->base_tmp);
	return 0;
}

int kp_resolve(struct kp_settings *s, struct proto_err *err)
{
	char dir[PATH_MAX];
	exe_dir(dir, sizeof dir);
	if (!s->python[0])
		snprintf(s->python, sizeof s->python, "/usr/bin/python3");
	if (access(s->python, X_OK) < 0)
		return proto_fail(err, PROTO_ERR_KERNEL,
				  "the kernel's python %s cannot be run (%s); set \"python\" in config.json",
				  s->python, strerror(errno));
	static const char *const rt_rels[] = {"../../sandbox/python", "../share/daa/runtime",
					      "../share/daa/python", NULL};
	if (!s->runtime_dir[0] &&
	    !first_existing(s->runtime_dir, sizeof s->runtime_dir, dir, rt_rels, "daa_kernel.py"))
		return proto_fail(err, PROTO_ERR_KERNEL,
				  "the kernel runtime daa_kernel.py was not found next to %s", dir);
	static const char *const lib_rels[] = {"../lib/libdaasbx.so", "../lib/daa/libdaasbx.so",
					       NULL};
	if (!s->sbx_lib[0] || access(s->sbx_lib, R_OK) < 0) {
		s->sbx_lib[0] = '\0';
		first_existing(s->sbx_lib, sizeof s->sbx_lib, dir, lib_rels, NULL);
	}
	/* canonical: a kernel in its own root sees only these paths, not the
	 * folders a "../" would climb through */
	canonical(s->sbx_lib, sizeof s->sbx_lib);
	canonical(s->runtime_dir, sizeof s->runtime_dir);
	if (s->threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		s->threads = n < 1 ? 1 : n > 4 ? 4 : (int)n;
	}
	return resolve_base_tmp(s, err);
}

/* The child's whole environment (strings in store; pointers in env). */
static void build_env(const struct kp_settings *s, const char *tmp, char store[][PATH_MAX + 32],
		      char *env[], size_t max)
{
	size_t n = 0;
#define ADD(...) \
	do { if (n + 1 < max) { snprintf(store[n], PATH_MAX + 32, __VA_ARGS__); env[n] = store[n]; n++; } } while (0)
	ADD("PATH=/usr/bin:/bin");
	ADD("LANG=C.UTF-8");
	ADD("LC_ALL=C.UTF-8");
	ADD("HOME=%s", tmp);
	ADD("TMPDIR=%s", tmp);
	ADD("MPLCONFIGDIR=%s/mpl", tmp);
	ADD("MPLBACKEND=Agg");
	if (s->sbx_lib[0])
		ADD("DAA_SBX_LIB=%s", s->sbx_lib);
	/* Thread pools sized for the machine, not unbounded; no multiprocessing
	 * in joblib (forking is forbidden anyway: fall back to threads/serial). */
	ADD("OPENBLAS_NUM_THREADS=%d", s->threads);
	ADD("OMP_NUM_THREADS=%d", s->threads);
	ADD("MKL_NUM_THREADS=%d", s->threads);
	ADD("NUMEXPR_MAX_THREADS=%d", s->threads);
	ADD("JOBLIB_MULTIPROCESSING=0");
	ADD("GLIBC_TUNABLES=%s", KERNEL_MALLOC_TUNABLES);
	ADD("DAA_PROGRESS_INTERVAL_MS=%d", s->progress_ms);   /* daakernel/progress.py */
#undef ADD
	env[n] = NULL;
}

/* Make a fresh 0700 temp dir for one kernel. */
static int make_tmp(const struct kp_settings *s, char *out, size_t len, struct proto_err *err)
{
	if (snprintf(out, len, "%s/k-%d-XXXXXX", s->base_tmp, (int)getpid()) >= (int)len ||
	    !mkdtemp(out))
		return proto_fail(err, PROTO_ERR_IO, "cannot create a temp folder in %s: %s",
				  s->base_tmp, strerror(errno));
	char mpl[PATH_MAX + 8];
	snprintf(mpl, sizeof mpl, "%s/mpl", out);
	mkdir(mpl, 0700);
	return 0;
}

/* Compile the policy and fork/exec argv (the runtime, or the font helper)
 * with fd keep (-1: none) kept; fills pid, mountfd and the report. */
static int spawn_child(const struct kp_settings *s, struct kp_spawn *o, char *const argv[],
		       int keep, int log_w, struct proto_err *err)
{
	const char *ro[] = {s->runtime_dir, s->sbx_lib[0] ? s->sbx_lib : NULL, NULL};
	struct sbx_options opt = {
		.project_dir = NULL, .tmp_dir = o->tmp, .extra_ro = ro,
		.mem_mb = s->mem_mb, .cpu_s = s->cpu_s, .fsize_mb = s->fsize_mb,
		.nofile = s->nofile, .nproc = s->nproc, .allow_missing_layers = s->allow_missing,
		.mount_ns = s->mount_ns,
		/* with the mount namespace, a pid namespace too: the kernel sees
		 * only itself in its own /proc (the daemon and every host process
		 * are invisible; it is pid 1 there).  The daemon signals, watches
		 * and reports only o->pid, the host pid clone gave us. */
		.pid_ns = s->mount_ns, .connect_port = s->connect_port};
	char msg[512] = "";
	struct sbx_policy *pol = sbx_policy_new(&opt, msg, sizeof msg);
	if (!pol)
		return proto_fail(err, PROTO_ERR_SANDBOX,
				  "the sandbox could not be set up: %s. To run kernels without the "
				  "missing layer, set \"sandbox\": {\"allow_missing_layers\": true} "
				  "in config.json", msg);
	snprintf(o->report, sizeof o->report, "%s", sbx_policy_report(pol));
	static char store[24][PATH_MAX + 32];
	char *env[24];
	build_env(s, o->tmp, store, env, 24);
	int fds[] = {keep};
	o->pid = sbx_spawn_ns(pol, argv, env, fds, keep >= 0 ? 1 : 0, -1, log_w, log_w,
			      &o->mountfd, msg, sizeof msg);
	sbx_policy_free(pol);
	if (o->pid < 0)
		return proto_fail(err, PROTO_ERR_SANDBOX, "cannot start a kernel: %s", msg);
	return 0;
}

int kp_spawn(const struct kp_settings *s, bool for_project, struct kp_spawn *o,
	     struct proto_err *err)
{
	int sv[2] = {-1, -1}, lp[2] = {-1, -1};
	memset(o, 0, sizeof *o);
	o->pid = -1, o->sock = o->logfd = o->mountfd = -1;
	if (make_tmp(s, o->tmp, sizeof o->tmp, err) < 0)
		return -1;
	char mpl[PATH_MAX + 8];
	snprintf(mpl, sizeof mpl, "%s/mpl", o->tmp);
	kern_fonts_seed(s, mpl);   /* before the start: its matplotlib reads the list at once */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(lp, O_CLOEXEC) < 0) {
		int e = errno;
		proto_fail(err, PROTO_ERR_INTERNAL, "cannot create the kernel's pipes: %s", strerror(e));
		goto fail;
	}
	char script[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/daa_kernel.py", s->runtime_dir);
	char *argv[] = {(char *)s->python, (char *)"-I", script,
			for_project ? (char *)"--plots-on-demand" : NULL, NULL};
	if (spawn_child(s, o, argv, sv[1], lp[1], err) < 0)
		goto fail;
	close(sv[1]);
	close(lp[1]);
	o->sock = sv[0];
	o->logfd = lp[0];
	fcntl(o->sock, F_SETFL, fcntl(o->sock, F_GETFL) | O_NONBLOCK);
	fcntl(o->logfd, F_SETFL, fcntl(o->logfd, F_GETFL) | O_NONBLOCK);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (lp[i] >= 0)
			close(lp[i]);
	}
	kp_rm_tmp(o->tmp);
	o->tmp[0] = '\0';
	return -1;
}

pid_t kp_spawn_plain(const struct kp_settings *s, char *const argv[], char *tmp, size_t tmplen,
		     struct proto_err *err)
{
	struct kp_spawn o;
	memset(&o, 0, sizeof o);
	o.mountfd = -1;
	if (make_tmp(s, o.tmp, sizeof o.tmp, err) < 0)
		return -1;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int rc = devnull < 0 ? proto_fail(err, PROTO_ERR_IO, "cannot open /dev/null: %s",
					  strerror(errno))
			     : spawn_child(s, &o, argv, -1, devnull, err);
	if (devnull >= 0)
		close(devnull);
	if (o.mountfd >= 0)
		close(o.mountfd);   /* no project: its mount helper sees EOF and ends */
	if (rc < 0) {
		kp_rm_tmp(o.tmp);
		return -1;
	}
	snprintf(tmp, tmplen, "%s", o.tmp);
	return o.pid;
}

int kp_bind_mounts(struct kp_spawn *sp, const char *project, char *why, size_t len)
{
	/* the kernel's dataset cache (daemon/history/history.c makes it too, but maybe
	 * only after this bind): it must exist now to be mounted / allowed */
	char cache[PATH_MAX];
	if (snprintf(cache, sizeof cache, "%s/.daa", project) < (int)sizeof cache - 6) {
		mkdir(cache, 0700);
		strcat(cache, "/cache");
		mkdir(cache, 0700);
	}
	if (sp->mountfd < 0)
		return 0;
	/* as the runtime will use it: the helper resolves it on the host and
	 * makes the same path (symlinked parts become plain folders) inside */
	int rc = sbx_mount_project(sp->mountfd, project, why, len);
	close(sp->mountfd);
	sp->mountfd = -1;
	return rc;
}

/* Remove name (in folder parent) and everything under it, never following
 * links.  A folder the kernel left without write or search permission (it
 * may chmod its own files to 0500 or 0600) is given 0700 first. */
static int rm_at(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth > 64)
		return -1;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fchmod(fd, 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rm_at(dirfd(d), e->d_name, depth + 1);
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

void kp_rm_tmp(const char *tmp)
{
	if (!tmp || !tmp[0])
		return;
	int e = errno;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", tmp);
	char *slash = strrchr(dir, '/');
	int pfd = -1;
	if (slash && slash[1]) {
		*slash = '\0';
		pfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (pfd < 0 || rm_at(pfd, slash + 1, 0) < 0)
		log_warn("kernel: could not remove its temp folder %s: %s", tmp, strerror(errno));
	if (pfd >= 0)
		close(pfd);
	errno = e;
}

/* Remove the temp folders of kernels whose daemon is gone (killed, crashed:
 * its kernels died with it by their parent-death signal).  Folders are named
 * k-<daemon pid>-XXXXXX; a folder of a live daemon is left alone. */
static void rm_stale_tmps(const char *base)
{
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = bfd < 0 ? NULL : fdopendir(bfd);
	if (!d) {
		if (bfd >= 0)
			close(bfd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));) {
		int pid = 0;
		if (strncmp(e->d_name, "k-", 2) != 0)
			continue;
		if (sscanf(e->d_name, "k-%d-", &pid) == 1 && pid > 0 &&
		    (pid == getpid() || kill(pid, 0) == 0 || errno == EPERM))
			continue;
		if (rm_at(dirfd(d), e->d_name, 0) == 0)
			log_info("removed a stale kernel temp folder %s/%s", base, e->d_name);
		else
			log_warn("could not remove the stale kernel temp folder %s/%s: %s", base,
				 e->d_name, strerror(errno));
	}
	closedir(d);
}

/* The layer an SBX_EXIT_* code stands for. */
static const char *sbx_exit_layer(int code)
{
	switch (code) {
	case SBX_EXIT_LANDLOCK: return "landlock";
	case SBX_EXIT_SECCOMP: return "seccomp";
	case SBX_EXIT_CAPS: return "capabilities";
	case SBX_EXIT_RLIMIT: return "rlimits";
	case SBX_EXIT_EXEC: return "exec of the python runtime";
	case SBX_EXIT_NS: return "mount namespace";
	default: return "set-up";
	}
}

int kp_describe_exit(int status, const struct kp_settings *s, char *buf, size_t len)
{
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);
		if (code >= SBX_EXIT_SETUP && code <= SBX_EXIT_NS) {
			snprintf(buf, len,
				 "the sandbox layer '%s' could not be applied (exit %d), so the kernel "
				 "did not start; see `daa doctor`. To run without it, set \"sandbox\": "
				 "{\"allow_missing_layers\": true} in config.json",
				 sbx_exit_layer(code), code);
			return PROTO_ERR_SANDBOX;
		}
		snprintf(buf, len, "the kernel exited with status %d", code);
		return PROTO_ERR_KERNEL;
	}
	if (!WIFSIGNALED(status)) {
		snprintf(buf, len, "the kernel stopped (wait status %d)", status);
		return PROTO_ERR_KERNEL;
	}
	int sig = WTERMSIG(status);
	if (sig == SIGKILL)
		snprintf(buf, len, "the kernel was killed (SIGKILL): most likely it ran out of "
			 "memory (its memory limit%s%.0lu%s) or was killed from outside",
			 s->mem_mb ? " is " : "", s->mem_mb, s->mem_mb ? " MB" : "");
	else if (sig == SIGXCPU)
		snprintf(buf, len, "the kernel used up its CPU time limit (%lu s)", s->cpu_s);
	else if (sig == SIGXFSZ)
		snprintf(buf, len, "the kernel wrote a file over the size limit (%lu MB)",
			 s->fsize_mb);
	else if (sig == SIGSYS)
		snprintf(buf, len, "the kernel was stopped by the sandbox (a forbidden system call)");
	else
		snprintf(buf, len, "the kernel crashed (signal %d, %s)", sig, strsignal(sig));
	return PROTO_ERR_KERNEL;
}
