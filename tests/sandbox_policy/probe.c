/*
 * tests/sandbox_policy/probe.c — a syscall-probing helper run under the
 * sandbox (nsjail habit): each argument names one attempt; it prints
 * "NAME: ok" or "NAME: ERRNO-NAME" (or a value) per line, and the test
 * scripts compare that with the verdict the policy should give.  Attempts
 * are chosen to be harmless if the sandbox failed to stop them (paths that
 * do not exist, signal 0, ...).  "seal P T" calls sbx_seal in-process.
 * "chmod PATH MODE" and friends try metadata changes on a file the test
 * made (the mode in octal), for the seccomp mode rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "sandbox/sbx.h"

#define NOPATH "/nonexistent-daa-probe"

/* Print the verdict of rc (< 0: errno). */
static void verdict(const char *name, long rc)
{
	if (rc < 0)
		printf("%s: %s\n", name, strerrorname_np(errno));
	else
		printf("%s: ok\n", name);
	fflush(stdout);
}

static long p_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

static long p_clone_proc(void)
{
	long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, NULL, NULL, 0UL);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long p_clone3(void)
{
	unsigned long long args[11] = { 0 };   /* struct clone_args, v2 (88 bytes) */
	args[4] = SIGCHLD;                      /* exit_signal */
	long pid = syscall(435, args, sizeof args);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static long p_thread(void)
{
	pthread_t t;
	int rc = pthread_create(&t, NULL, thread_fn, NULL);
	if (rc) {
		errno = rc;
		return -1;
	}
	return pthread_join(t, NULL) ? -1 : 0;
}

static long sock(int domain, int type)
{
	int fd = socket(domain, type, 0);
	if (fd >= 0)
		close(fd);
	return fd;
}

static long p_socket_inet(void) { return sock(AF_INET, SOCK_STREAM); }
static long p_socket_udp(void) { return sock(AF_INET, SOCK_DGRAM); }
static long p_socket_inet6(void) { return sock(AF_INET6, SOCK_STREAM); }
static long p_socket_packet(void) { return sock(AF_PACKET, SOCK_RAW); }
static long p_socket_netlink(void) { return sock(AF_NETLINK, SOCK_RAW); }
static long p_socket_unix(void) { return sock(AF_UNIX, SOCK_STREAM); }

static long p_socketpair_unix(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static long p_socketpair_inet(void)
{
	int sv[2];
	long rc = socketpair(AF_INET, SOCK_STREAM, 0, sv);
	return rc;
}

static long p_ptrace(void) { return ptrace(PTRACE_TRACEME, 0, NULL, NULL); }
static long p_mount(void) { return mount("none", NOPATH, "tmpfs", 0, NULL); }
static long p_umount(void) { return umount2(NOPATH, 0); }
static long p_chroot(void) { return chroot(NOPATH); }
static long p_pivot_root(void) { return syscall(SYS_pivot_root, NOPATH, NOPATH); }
static long p_unshare(void) { return unshare(CLONE_NEWUSER); }
static long p_setns(void) { return setns(-1, 0); }
static long p_keyctl(void) { return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0); }
static long p_bpf(void) { return syscall(SYS_bpf, -1, NULL, 0); }
static long p_perf(void) { return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0); }
static long p_userfaultfd(void) { return syscall(SYS_userfaultfd, 0); }
static long p_io_uring(void) { return syscall(425, 1, NULL); }
static long p_personality(void) { return personality(PER_LINUX32) < 0 ? -1 : (personality(PER_LINUX), 0); }
static long p_personality_query(void) { return personality(0xffffffff); }
static long p_init_module(void) { return syscall(SYS_init_module, NULL, 0, ""); }
static long p_swapon(void) { return syscall(SYS_swapon, NOPATH, 0); }
static long p_open_by_handle(void) { return syscall(SYS_open_by_handle_at, -1, NULL, 0); }
static long p_kill_parent(void) { return kill(getppid(), 0); }
static long p_kill_all(void) { return kill(-1, 0); }
static long p_kill_self(void) { return kill(getpid(), 0); }
static long p_kill_group(void) { return kill(0, 0); }
static long p_tgkill_parent(void) { return syscall(SYS_tgkill, getppid(), getppid(), 0); }
static long p_raise(void) { return raise(0) ? -1 : 0; }
static long p_prlimit_parent(void)
{
	struct rlimit rl;
	return prlimit(getppid(), RLIMIT_NOFILE, NULL, &rl);
}
static long p_prlimit_self(void)
{
	struct rlimit rl;
	return prlimit(0, RLIMIT_NOFILE, NULL, &rl) || prlimit(getpid(), RLIMIT_NOFILE, NULL, &rl) ? -1 : 0;
}
static long p_setown_parent(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	long rc = fd < 0 ? -1 : fcntl(fd, F_SETOWN, getppid());
	int saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return rc;
}
static long p_setpriority_parent(void) { return setpriority(PRIO_PROCESS, (id_t)getppid(), 0); }
/* One step nicer than now (raising one's own nice value needs no privilege,
 * so this holds when the test itself runs under `nice`). */
static long p_setpriority_self(void)
{
	errno = 0;
	int now = getpriority(PRIO_PROCESS, 0);
	if (now == -1 && errno)
		return -1;
	return setpriority(PRIO_PROCESS, 0, now < 19 ? now + 1 : 19);
}

static long p_process_vm_readv(void)
{
	char buf[1];
	struct iovec l = { buf, 1 }, r = { buf, 1 };
	return process_vm_readv(getppid(), &l, 1, &r, 1, 0);
}

static long p_exec(void)
{
	char *argv[] = { (char *)"/bin/true", NULL };
	char *env[] = { NULL };
	fflush(stdout);
	return execve("/bin/true", argv, env);
}


/* Attempts that take one argument (a path, a port, a name or an fd). */
static long p_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char c;
	if (fd < 0 || read(fd, &c, 1) < 0)
		return -1;
	close(fd);
	return 0;
}

static long p_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "x\n", 2) != 2)
		return -1;
	close(fd);
	return 0;
}

static long p_ls(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	closedir(d);
	return 0;
}

static long p_mkdir(const char *path) { return mkdir(path, 0700); }
static long p_writefd(const char *fd) { return write(atoi(fd), "x\n", 2) == 2 ? 0 : -1; }
static long p_unlink(const char *path) { return unlink(path); }

static long tcp(const char *port, bool do_bind)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	long rc = do_bind ? bind(fd, (struct sockaddr *)&a, sizeof a) :
			    connect(fd, (struct sockaddr *)&a, sizeof a);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static long p_tcp_connect(const char *port) { return tcp(port, false); }
static long p_tcp_bind(const char *port) { return tcp(port, true); }

static long p_abstract(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	if (n + 1 > sizeof a.sun_path)
		n = sizeof a.sun_path - 1;
	memcpy(a.sun_path + 1, name, n);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	long rc = connect(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* A thread started now that reads a path later (after a seal), to check
 * that sbx_seal reached threads that existed before it. */
static struct { pthread_t t; int pipe[2]; const char *path; long rc; int err; } early;

static void *early_fn(void *arg)
{
	char c;
	(void)arg;
	if (read(early.pipe[0], &c, 1) == 1) {
		early.rc = p_read(early.path);
		early.err = errno;
	}
	return NULL;
}

static long p_early_thread(const char *path)
{
	early.path = path;
	if (pipe(early.pipe) < 0)
		return -1;
	int rc = pthread_create(&early.t, NULL, early_fn, NULL);
	errno = rc;
	return rc ? -1 : 0;
}

static long p_early_thread_check(void)
{
	if (write(early.pipe[1], "g", 1) != 1 || pthread_join(early.t, NULL))
		return -1;
	errno = early.err;
	return early.rc;
}

/* A thread that blocks every signal and sleeps (sbx_seal must fail closed). */
static void *blocker_fn(void *arg)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	*(volatile int *)arg = 1;
	pause();
	return NULL;
}

static long p_blocking_thread(void)
{
	static volatile int ready;
	pthread_t t;
	int rc = pthread_create(&t, NULL, blocker_fn, (void *)&ready);
	while (!rc && !ready)
		sched_yield();
	errno = rc;
	return rc ? -1 : 0;
}

static const struct { const char *name; long (*fn)(void); } simple[] = {
	{ "fork", p_fork }, { "clone_proc", p_clone_proc }, { "clone3", p_clone3 },
	{ "thread", p_thread }, { "socket_inet", p_socket_inet }, { "socket_udp", p_socket_udp },
	{ "socket_inet6", p_socket_inet6 }, { "socket_packet", p_socket_packet },
	{ "socket_netlink", p_socket_netlink }, { "socket_unix", p_socket_unix },
	{ "socketpair_unix", p_socketpair_unix }, { "socketpair_inet", p_socketpair_inet },
	{ "ptrace", p_ptrace }, { "mount", p_mount }, { "umount", p_umount },
	{ "chroot", p_chroot }, { "pivot_root", p_pivot_root }, { "unshare", p_unshare },
	{ "setns", p_setns }, { "keyctl", p_keyctl }, { "bpf", p_bpf }, { "perf_event_open", p_perf },
	{ "userfaultfd", p_userfaultfd }, { "io_uring_setup", p_io_uring },
	{ "personality", p_personality }, { "personality_query", p_personality_query },
	{ "init_module", p_init_module }, { "swapon", p_swapon },
	{ "open_by_handle_at", p_open_by_handle }, { "kill_parent", p_kill_parent },
	{ "kill_all", p_kill_all }, { "kill_self", p_kill_self }, { "kill_group", p_kill_group },
	{ "tgkill_parent", p_tgkill_parent }, { "raise", p_raise },
	{ "prlimit_parent", p_prlimit_parent }, { "prlimit_self", p_prlimit_self },
	{ "setown_parent", p_setown_parent }, { "setpriority_parent", p_setpriority_parent },
	{ "setpriority_self", p_setpriority_self },
	{ "process_vm_readv", p_process_vm_readv }, { "exec", p_exec },
	{ "early_thread_check", p_early_thread_check }, { "blocking_thread", p_blocking_thread },
};

/* A POSIX ACL (system.posix_acl_access) of user::--- group::r-- other::r--:
 * as a chmod 044 would, it takes the owner's read right. */
static const unsigned char acl_no_owner_read[] = {
	2, 0, 0, 0,                                   /* version */
	1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,           /* ACL_USER_OBJ --- */
	4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,           /* ACL_GROUP_OBJ r-- */
	0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,        /* ACL_OTHER r-- */
};

/* "chmod|fchmod|fchmodat|fchmodat2|chmod_hi|create|mknod PATH MODE": the mode
 * change or the creation with that mode.  fchmod opens PATH read-only first;
 * chmod_hi puts garbage in the upper bits of the mode register (the kernel
 * reads a 16-bit umode_t); create is openat(O_CREAT|O_EXCL). */
static long mode_call(const char *op, const char *path, unsigned long mode)
{
	long rc;
	if (!strcmp(op, "chmod"))
		return chmod(path, (mode_t)mode);
	if (!strcmp(op, "fchmodat"))
		return syscall(SYS_fchmodat, AT_FDCWD, path, mode);
	if (!strcmp(op, "fchmodat2"))
		return syscall(452, AT_FDCWD, path, mode, 0);
	if (!strcmp(op, "chmod_hi"))
		return syscall(SYS_chmod, path, mode | 0xdead000000000000UL);
	if (!strcmp(op, "mknod"))
		return mknod(path, S_IFREG | (mode_t)mode, 0);
	int fd = !strcmp(op, "create") ? (int)syscall(SYS_openat, AT_FDCWD, path,
			O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || strcmp(op, "fchmod"))
		return fd < 0 ? -1 : close(fd);
	rc = fchmod(fd, (mode_t)mode);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static bool is_mode_op(const char *n)
{
	static const char *const ops[] = { "chmod", "fchmod", "fchmodat", "fchmodat2", "chmod_hi",
					   "create", "mknod", NULL };
	for (size_t i = 0; ops[i]; i++)
		if (!strcmp(n, ops[i]))
			return true;
	return false;
}

/* "chown PATH" (to our own uid/gid), "setacl PATH", "setxattr PATH" (user.daa),
 * "rmxattr PATH", "setxattrat PATH" (Linux 6.13, raw syscall 463). */
static long p_chown(const char *path) { return chown(path, getuid(), getgid()); }
static long p_setacl(const char *path)
{
	return setxattr(path, "system.posix_acl_access", acl_no_owner_read, sizeof acl_no_owner_read, 0);
}
static long p_setxattr(const char *path) { return setxattr(path, "user.daa", "1", 1, 0); }
static long p_rmxattr(const char *path) { return removexattr(path, "user.daa"); }
static long p_setxattrat(const char *path)
{
	struct { unsigned long long value; unsigned size, flags; } a = {
		(unsigned long long)(uintptr_t)"1", 1, 0 };
	return syscall(463, AT_FDCWD, path, 0, "user.daa", &a, sizeof a);
}

/* "OP PATH MODE" of mode_call. */
static void mode_line(const char *op, const char *path, const char *mode)
{
	char label[600];
	snprintf(label, sizeof label, "%s %s %s", op, path, mode);
	verdict(label, mode_call(op, path, strtoul(mode, NULL, 8)));
}

/* connect() to a named Unix socket (the daemon's socket is one). */
static long p_unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	long rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static const struct { const char *name; long (*fn)(const char *); } with_arg[] = {
	{ "read", p_read }, { "write", p_write }, { "ls", p_ls }, { "mkdir", p_mkdir },
	{ "unlink", p_unlink }, { "writefd", p_writefd }, { "tcp_connect", p_tcp_connect }, { "tcp_bind", p_tcp_bind },
	{ "abstract", p_abstract }, { "unix_connect", p_unix_connect }, { "early_thread", p_early_thread },
	{ "chown", p_chown }, { "setacl", p_setacl }, { "setxattr", p_setxattr },
	{ "rmxattr", p_rmxattr }, { "setxattrat", p_setxattrat },
};

/* "status KEY": the value of a /proc/self/status line (CapEff, NoNewPrivs, ...). */
static void status_line(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			char *v = line + n + 1;
			v += strspn(v, " \t");
			printf("%s: %s", key, v);
			break;
		}
	if (f)
		fclose(f);
	fflush(stdout);
}

/* "rlimit NAME": the soft limit (data, cpu, fsize, nofile, nproc, core). */
static void rlimit_line(const char *name)
{
	static const struct { const char *n; int r; } m[] = {
		{ "data", RLIMIT_DATA }, { "cpu", RLIMIT_CPU }, { "fsize", RLIMIT_FSIZE },
		{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "core", RLIMIT_CORE },
		{ "as", RLIMIT_AS },
	};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		struct rlimit rl;
		if (strcmp(m[i].n, name) || getrlimit(m[i].r, &rl) < 0)
			continue;
		if (rl.rlim_cur == RLIM_INFINITY)
			printf("rlimit_%s: unlimited\n", name);
		else
			printf("rlimit_%s: %llu\n", name, (unsigned long long)rl.rlim_cur);
	}
	fflush(stdout);
}

/* "readlink PATH": where a link points (for /proc/self/fd/N). */
static void readlink_line(const char *path)
{
	char buf[512];
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	buf[n < 0 ? 0 : n] = '\0';
	printf("readlink %s: %s\n", path, n < 0 ? strerrorname_np(errno) : buf);
	fflush(stdout);
}

/* "fds": the open fds, comma-separated (without the one listing them). */
static void fds_line(void)
{
	DIR *d = opendir("/proc/self/fd");
	int self = d ? dirfd(d) : -1, fds[256], n = 0;
	for (struct dirent *e; d && (e = readdir(d)) && n < 256;)
		if (e->d_name[0] != '.' && atoi(e->d_name) != self)
			fds[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	for (int i = 1; i < n; i++)   /* insertion sort: readdir order is not numeric */
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	printf("fds:");
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : " ", fds[i]);
	printf("\n");
	fflush(stdout);
}

/* "symlink TARGET PATH" / "link OLD NEW" / "rename OLD NEW". */
static void two_path_line(const char *op, const char *a, const char *b)
{
	long rc = !strcmp(op, "symlink") ? symlink(a, b) : !strcmp(op, "link") ? link(a, b) : rename(a, b);
	char label[600];
	snprintf(label, sizeof label, "%s %s %s", op, a, b);
	verdict(label, rc);
}

/* "seal PROJECT TMP" ("-" for NULL). */
static void seal_line(const char *project, const char *tmp)
{
	char rep[2048];
	int rc = sbx_seal(strcmp(project, "-") ? project : NULL, strcmp(tmp, "-") ? tmp : NULL,
			  rep, sizeof rep);
	printf("seal: %s\n", rc == 0 ? "ok" : "failed");
	for (char *l = strtok(rep, "\n"); l; l = strtok(NULL, "\n"))
		printf("# %s\n", l);
	fflush(stdout);
}

/* One attempt at argv[*i] (advancing *i past its arguments); 0 or -1 if unknown. */
static int one(int argc, char **argv, int *i)
{
	const char *name = argv[*i];
	for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++)
		if (!strcmp(name, simple[k].name)) {
			verdict(name, simple[k].fn());
			return 0;
		}
	bool two = !strcmp(name, "seal") || !strcmp(name, "symlink") || !strcmp(name, "link") ||
		   !strcmp(name, "rename") || is_mode_op(name);
	int need = two ? 2 : !strcmp(name, "fds") ? 0 : 1;
	if (*i + need >= argc)
		return -1;
	const char *a = argv[*i + 1];
	*i += need;
	for (size_t k = 0; k < sizeof with_arg / sizeof with_arg[0]; k++)
		if (!strcmp(name, with_arg[k].name)) {
			char label[300];
			snprintf(label, sizeof label, "%s %s", name, a);
			verdict(label, with_arg[k].fn(a));
			return 0;
		}
	if (!strcmp(name, "status"))
		status_line(a);
	else if (!strcmp(name, "rlimit"))
		rlimit_line(a);
	else if (!strcmp(name, "fds"))
		fds_line();
	else if (!strcmp(name, "readlink"))
		readlink_line(a);
	else if (!strcmp(name, "seal"))
		seal_line(a, argv[*i]);
	else if (is_mode_op(name))
		mode_line(name, a, argv[*i]);
	else if (two)
		two_path_line(name, a, argv[*i]);
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (one(argc, argv, &i) < 0) {
			fprintf(stderr, "probe: unknown attempt or missing argument: %s\n", argv[i]);
			return 2;
		}
	return 0;
}
