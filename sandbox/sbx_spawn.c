/*
 * sandbox/sbx_spawn.c — fork and exec under a compiled policy.  The child
 * runs one ordered list of checked steps (nsjail / minijail habit): signals
 * reset, new session, parent-death signal (then getppid to close the race),
 * only its own fds, fail-closed check, rlimits, capabilities dropped,
 * no_new_privs, Landlock, seccomp, execve — no shell.  A failed step exits
 * with a reserved SBX_EXIT_* code and a one-line reason on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sandbox/landlock_compat.h"
#include "sandbox/sbx_int.h"

struct child {
	const struct sbx_policy *p;
	char *const *argv, *const *env;
	const int *keep;
	size_t n;
	int in, out, errfd;
	pid_t parent;
	int parent_fd;            /* pidfd of the parent (mount namespace: getppid is 0) */
	int ctl;                  /* the mount helper's end, or -1 */
};

/* One line on stderr, then the reserved exit code (async-signal-safe). */
static void child_fail(int code, const char *step, const char *why)
{
	const char *parts[] = { "daa-sandbox: ", step, ": ", why, "\n" };
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (write(2, parts[i], strlen(parts[i])) < 0)
			break;
	_exit(code);
}

static void child_errno(int code, const char *step)
{
	child_fail(code, step, strerrordesc_np(errno));
}

/* Default dispositions, empty mask (the daemon blocks signals for signalfd). */
static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_errno(SBX_EXIT_SETUP, "sigprocmask");
}

/* Move the fds we keep out of the way, then into place; close the rest.
 * The Landlock ruleset (if any) ends at 3 + n. */
static void setup_fds(const struct child *c)
{
	int src[SBX_MAX_KEEP_FDS + 4], tmp[SBX_MAX_KEEP_FDS + 4] = { -1, -1, -1, -1 };
	int base = 3 + (int)c->n + 1;
	size_t k = 0;
	src[k++] = c->in;
	src[k++] = c->out;
	src[k++] = c->errfd;
	src[k++] = c->p->ll_fd;
	for (size_t i = 0; i < c->n; i++)
		src[k++] = c->keep[i];
	for (size_t i = 0; i < k; i++)
		if (src[i] >= base)
			base = src[i] + 1;
	for (size_t i = 0; i < k; i++) {
		tmp[i] = -1;
		if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base)) < 0)
			child_errno(SBX_EXIT_SETUP, "keeping fds");
	}
	/* no O_CLOEXEC: if it lands on fd 0 itself, dup2 below is a no-op; any
	 * other fd it lands on is below `first` and overwritten, or closed */
	if (tmp[0] < 0 && (tmp[0] = open("/dev/null", O_RDONLY)) < 0)
		child_errno(SBX_EXIT_SETUP, "/dev/null");
	for (int fd = 0; fd < 3; fd++) {
		if (tmp[fd] < 0 && fd == c->p->ll_fd)   /* a closed stdio slot the ruleset took */
			tmp[fd] = open("/dev/null", O_RDWR);
		if (tmp[fd] >= 0 && dup2(tmp[fd], fd) < 0)
			child_errno(SBX_EXIT_SETUP, "dup2");
	}
	for (size_t i = 0; i < c->n; i++)
		if (dup2(tmp[4 + i], 3 + (int)i) < 0)
			child_errno(SBX_EXIT_SETUP, "dup2");
	if (tmp[3] >= 0 && dup3(tmp[3], 3 + (int)c->n, O_CLOEXEC) < 0)
		child_errno(SBX_EXIT_SETUP, "dup3");
	unsigned first = 3 + (unsigned)c->n + (tmp[3] >= 0 ? 1 : 0);
	if (syscall(SYS_close_range, first, ~0U, 0) < 0) {
		if (errno != ENOSYS)
			child_errno(SBX_EXIT_SETUP, "close_range");
		for (long fd = first, max = sysconf(_SC_OPEN_MAX); fd < max; fd++)
			close((int)fd);
	}
}

/* rlimits, in the order compiled. */
static void setup_rlimits(const struct sbx_policy *p)
{
	for (int i = 0; i < p->nrl; i++)
		if (setrlimit(p->rl_res[i], &p->rl[i]) < 0)
			child_errno(SBX_EXIT_RLIMIT, "setrlimit");
}

/* Every capability dropped, including bounding and ambient; then checked. */
static void setup_caps(const struct sbx_policy *p)
{
	if (p->caps_bound) {
		if (cap_set_secbits(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
				    SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
				    SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) < 0)
			child_errno(SBX_EXIT_CAPS, "securebits");
		for (cap_value_t v = 0; v < 64; v++)
			if (cap_drop_bound(v) < 0) {
				if (errno == EINVAL)
					break;
				child_errno(SBX_EXIT_CAPS, "dropping the bounding set");
			}
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		child_errno(SBX_EXIT_CAPS, "clearing ambient capabilities");
	if (cap_set_proc(p->caps_empty) < 0)
		child_errno(SBX_EXIT_CAPS, "dropping capabilities");
	for (int v = 0; p->caps_bound && v < 64; v++)
		if (prctl(PR_CAPBSET_READ, v, 0, 0, 0) == 1)
			child_fail(SBX_EXIT_CAPS, "capabilities", "bounding set not empty");
}

/* Landlock restrict_self, seccomp filters. */
static void setup_lsm(const struct child *c)
{
	const struct sbx_policy *p = c->p;
	int llfd = 3 + (int)c->n;
	if (p->ll_fd >= 0) {
		/* rules compiled on the host's inodes: add the namespace's /proc and /dev/shm */
		if (p->ns_on && p->project && sbx_ll_add_ns_rules(llfd, p->ll_abi) < 0)
			child_errno(SBX_EXIT_LANDLOCK, "landlock rules of the new root");
		if (sbx_ll_restrict_self(llfd, p->ll_flags) < 0)
			child_errno(SBX_EXIT_LANDLOCK, "landlock_restrict_self");
		close(llfd);
	}
	if (!p->sc_prog)
		return;
	struct sock_filter sig[16];  /* sbx_sc_signal_filter needs 14 */
	struct sock_fprog sigprog = { .len = (unsigned short)sbx_sc_signal_filter(getpid(), sig, 16),
				      .filter = sig };
	struct sock_fprog prog = { .len = p->sc_len, .filter = p->sc_prog };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sigprog) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		child_errno(SBX_EXIT_SECCOMP, "seccomp");
}

/* The child's ordered steps; never returns. */
static void child_main(const struct child *c)
{
	reset_signals();
	if (setsid() < 0)
		child_errno(SBX_EXIT_SETUP, "setsid");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_errno(SBX_EXIT_SETUP, "PR_SET_PDEATHSIG");
	if (c->p->ns_on) {
		/* (in a new pid namespace getppid() is 0): ask the parent's pidfd */
		struct pollfd pf = { .fd = c->parent_fd, .events = POLLIN };
		if (c->parent_fd >= 0 && poll(&pf, 1, 0) > 0)
			child_fail(SBX_EXIT_SETUP, "parent-death signal", "parent already gone");
		const char *step = sbx_ns_setup(c->p, c->ctl);
		if (step)
			child_errno(SBX_EXIT_NS, step);
		/* the helper (our child) is reaped by the kernel itself once done:
		 * kept across execve, and a kernel cannot fork other children */
		if (c->ctl >= 0)
			signal(SIGCHLD, SIG_IGN);
	} else if (getppid() != c->parent) {
		child_fail(SBX_EXIT_SETUP, "parent-death signal", "parent already gone");
	}
	setup_fds(c);
	if (c->p->fail_code)
		child_fail(c->p->fail_code, "fail closed", c->p->fail_why);
	if (c->p->project && chdir(c->p->project) < 0)
		child_errno(SBX_EXIT_SETUP, "chdir to the project");
	setup_rlimits(c->p);
	if (c->p->caps_drop)
		setup_caps(c->p);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_errno(SBX_EXIT_SETUP, "PR_SET_NO_NEW_PRIVS");
	setup_lsm(c);
	execve(c->argv[0], c->argv, c->env);
	child_fail(SBX_EXIT_EXEC, c->argv[0], strerrordesc_np(errno));
}

/* The child's environment: env minus our two DAA_SBX_ variables, plus what sbx_seal needs
 * to know of this policy (extra read-only paths, allowed missing layers).
 * One malloc block: pointers then strings. */
static char **seal_env(const struct sbx_policy *p, char *const env[])
{
	size_t n = 0, extra = sizeof SBX_ENV_EXTRA_RO + sizeof SBX_ENV_ALLOW_MISSING +
		   sizeof SBX_ENV_PRIVATE_SHM + 12;
	while (env && env[n])
		n++;
	for (size_t i = 0; p->extra_ro[i]; i++)
		extra += strlen(p->extra_ro[i]) + 1;
	char **out = malloc((n + 4) * sizeof *out + extra);
	if (!out)
		return NULL;
	char *s = (char *)(out + n + 4);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], SBX_ENV_EXTRA_RO "=", sizeof SBX_ENV_EXTRA_RO) != 0 &&
		    strncmp(env[i], SBX_ENV_ALLOW_MISSING "=", sizeof SBX_ENV_ALLOW_MISSING) != 0 &&
		    strncmp(env[i], SBX_ENV_PRIVATE_SHM "=", sizeof SBX_ENV_PRIVATE_SHM) != 0)
			out[k++] = env[i];
	out[k++] = s;
	s += sprintf(s, "%s=", SBX_ENV_EXTRA_RO);
	for (size_t i = 0; p->extra_ro[i]; i++)
		s += sprintf(s, "%s%s", i ? ":" : "", p->extra_ro[i]);
	s++;
	if (p->allow_missing) {
		out[k++] = s;
		s += sprintf(s, "%s=1", SBX_ENV_ALLOW_MISSING) + 1;
	}
	if (p->ns_on) {
		out[k++] = s;
		sprintf(s, "%s=1", SBX_ENV_PRIVATE_SHM);
	}
	out[k] = NULL;
	return out;
}

/* Fork and exec argv under the policy (see sbx.h).  Returns the pid or -1. */
pid_t sbx_spawn(const struct sbx_policy *p, char *const argv[], char *const env[],
		const int *keep_fds, size_t n, int stdin_fd, int out_fd, int err_fd,
		char *err, size_t errlen)
{
	return sbx_spawn_ns(p, argv, env, keep_fds, n, stdin_fd, out_fd, err_fd, NULL, err, errlen);
}

/* Fork (or clone into the new namespaces) and exec; see sbx.h. */
pid_t sbx_spawn_ns(const struct sbx_policy *p, char *const argv[], char *const env[],
		   const int *keep_fds, size_t n, int stdin_fd, int out_fd, int err_fd,
		   int *mount_fd, char *err, size_t errlen)
{
	if (mount_fd)
		*mount_fd = -1;
	if (!argv || !argv[0] || argv[0][0] != '/') {
		snprintf(err, errlen, "sandbox: the command must be an absolute path");
		errno = EINVAL;
		return -1;
	}
	if (n > SBX_MAX_KEEP_FDS) {
		snprintf(err, errlen, "sandbox: too many fds to keep (%zu > %d)", n, SBX_MAX_KEEP_FDS);
		errno = EINVAL;
		return -1;
	}
	int ctl[2] = { -1, -1 };
	if (p->ns_on && !p->project && mount_fd &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		snprintf(err, errlen, "sandbox: socketpair: %s", strerror(errno));
		return -1;
	}
	char **cenv = seal_env(p, env);
	if (!cenv) {
		snprintf(err, errlen, "sandbox: out of memory");
		if (ctl[0] >= 0)
			close(ctl[0]), close(ctl[1]);
		return -1;
	}
	struct child c = { .p = p, .argv = argv, .env = cenv, .keep = keep_fds, .n = n,
			   .in = stdin_fd, .out = out_fd, .errfd = err_fd, .parent = getpid(),
			   .parent_fd = -1, .ctl = ctl[1] };
	pid_t pid;
	if (p->ns_on) {
		c.parent_fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		pid = (pid_t)syscall(SYS_clone, SBX_NS_FLAGS | (p->ns_pid ? CLONE_NEWPID : 0) | SIGCHLD,
				     0, 0, 0, 0);
	} else {
		pid = fork();
	}
	if (pid == 0)
		child_main(&c);
	int saved = errno;
	free(cenv);
	if (c.parent_fd >= 0)
		close(c.parent_fd);
	if (ctl[1] >= 0)
		close(ctl[1]);
	if (pid < 0) {
		if (ctl[0] >= 0)
			close(ctl[0]);
		snprintf(err, errlen, "sandbox: %s: %s", p->ns_on ? "clone into new namespaces" : "fork",
			 strerror(saved));
		errno = saved;
		return -1;
	}
	if (mount_fd)
		*mount_fd = ctl[0];
	return pid;
}
