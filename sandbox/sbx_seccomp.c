/*
 * sandbox/sbx_seccomp.c — the seccomp layers.  Stage 1 (compiled in the
 * parent with libseccomp, exported as BPF, loaded by the child before
 * execve): no new processes (clone only with CLONE_THREAD, clone3 answers
 * ENOSYS so glibc falls back to clone for threads), no socket() (only
 * AF_UNIX socketpair()) — or, when a Dask scheduler is configured, only
 * TCP client sockets (AF_INET/AF_INET6, SOCK_STREAM, protocol 0 or TCP; no
 * listen(), no TCP Fast Open data on send; Landlock limits connect() to
 * the scheduler's port),
 * none of the kernel-attack-surface calls, no SysV IPC, POSIX message
 * queues or inotify/fanotify, and no metadata change Landlock
 * cannot see: chmod only to ordinary modes, no setuid/setgid file created,
 * no chown, no extended attributes (POSIX ACLs) set or removed.  A tiny
 * hand-written filter,
 * built in the child because it needs the child's pid, lets signals reach
 * only the sandboxed process itself.  Stage 2 (sbx_seal, in-process, all
 * threads): execve/execveat denied.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sandbox/sbx_int.h"

/* Denied with EPERM in stage 1.  Names unknown to this libseccomp or this
 * architecture are skipped. */
static const char *const deny_eperm[] = {
	"fork", "vfork", "ptrace", "mount", "umount", "umount2", "pivot_root", "chroot",
	"unshare", "setns", "keyctl", "add_key", "request_key", "bpf",
	"perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
	"io_uring_register", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "reboot", "swapon", "swapoff",
	"process_vm_readv", "process_vm_writev", "open_by_handle_at",
	"name_to_handle_at", "tkill", "pidfd_open", "pidfd_send_signal",
	"pidfd_getfd", "acct", "quotactl", "syslog", "vhangup", "iopl", "ioperm",
	"uselib", "lookup_dcookie", "fsopen", "fsconfig", "fsmount", "fspick",
	"move_mount", "open_tree", "mount_setattr", "kcmp", "settimeofday",
	"clock_settime", "clock_adjtime", "adjtimex", "sethostname",
	"setdomainname", "nfsservctl",
	/* host-shared state a kernel has no use for: SysV IPC (segments, queues
	 * and semaphores of other processes, found by id in /proc/sysvipc, and
	 * world-writable leftovers), POSIX message queues, and file watches
	 * (inotify on ~/.ssh revealed file names Landlock hides from listing).
	 * "ipc" is the multiplexer of the architectures that have one. */
	"shmget", "shmat", "shmdt", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
	"semget", "semop", "semtimedop", "semtimedop_time64", "semctl", "ipc",
	"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
	"mq_getsetattr", "mq_timedsend_time64", "mq_timedreceive_time64",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	"fanotify_init", "fanotify_mark",
	/* metadata Landlock (up to ABI 8) does not control: owner/group, and
	 * extended attributes — system.posix_acl_access would grant another
	 * user access, or take the owner's read right like chmod 000.
	 * shutil.copy2 ignores EPERM from setxattr. */
	"chown", "fchown", "lchown", "fchownat", "setxattr", "lsetxattr", "fsetxattr",
	"removexattr", "lremovexattr", "fremovexattr",
	NULL
};

/* Syscalls newer than some libseccomp (names it cannot resolve), by number on
 * the architectures whose tables we know; all share the generic numbering. */
#if defined(__x86_64__) || defined(__aarch64__)
#define SBX_NR_FCHMODAT2 452       /* Linux 6.6 */
#define SBX_NR_SETXATTRAT 463      /* Linux 6.13 */
#define SBX_NR_REMOVEXATTRAT 466   /* Linux 6.13 */
#else
#define SBX_NR_FCHMODAT2 (-1)
#define SBX_NR_SETXATTRAT (-1)
#define SBX_NR_REMOVEXATTRAT (-1)
#endif

/* A syscall by name, else the fallback number (-1: not on this arch). */
static int sc_nr(const char *name, int fallback)
{
	int nr = seccomp_syscall_resolve_name(name);
	return nr == __NR_SCMP_ERROR || nr < 0 ? fallback : nr;
}

/* Is seccomp filtering available in this kernel? */
bool sbx_sc_available(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
	       syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0,
		       &(uint32_t){ SECCOMP_RET_ERRNO }) == 0;
}

/* socket() only for a TCP client: every domain but AF_INET/AF_INET6, every
 * type but SOCK_STREAM (the low 4 bits; NONBLOCK/CLOEXEC are flags above
 * them) and every protocol but 0 and IPPROTO_TCP (not SCTP, MPTCP) get
 * EACCES.  Arguments are compared as 64 bits, so junk in the upper half is
 * refused too.  listen() is refused (it would autobind a port without
 * bind()), and so is sending with MSG_FASTOPEN (a connect inside sendto). */
static int add_tcp_client_rules(scmp_filter_ctx ctx)
{
	int rc = 0;
	const int doms[] = { AF_INET, AF_INET6 };
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_LT, AF_INET));
	for (int d = AF_INET + 1; d < AF_INET6; d++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)d));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
			       SCMP_A0(SCMP_CMP_GT, AF_INET6));
	for (size_t i = 0; i < 2; i++) {
		for (scmp_datum_t t = 0; t < 16; t++)
			if (t != SOCK_STREAM)
				rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 2,
						       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)doms[i]),
						       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, t));
		for (scmp_datum_t pr = 1; pr < IPPROTO_TCP; pr++)
			rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 2,
					       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)doms[i]),
					       SCMP_A2(SCMP_CMP_EQ, pr));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 2,
				       SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)doms[i]),
				       SCMP_A2(SCMP_CMP_GT, IPPROTO_TCP));
	}
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(listen), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(sendto), 1,
			       SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(sendmsg), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(sendmmsg), 1,
			       SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
	return rc;
}

/* Rules that look at arguments. */
static int add_arg_rules(scmp_filter_ctx ctx, bool tcp_client)
{
	int rc = 0;
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* No socket() at all, not even AF_UNIX: Landlock (up to ABI 8) does not
	 * control connect() to a named Unix socket, and the daemon's socket,
	 * D-Bus or docker.sock are reachable by path.  socketpair() stays
	 * (already connected to nothing but itself).  With a Dask scheduler:
	 * TCP client sockets only (AF_UNIX stays denied). */
	if (tcp_client)
		rc |= add_tcp_client_rules(ctx);
	else
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socketpair), 1,
			       SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
			       SCMP_A0(SCMP_CMP_NE, 0xffffffffUL));
	/* typing into a terminal the sandbox may have inherited */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCSTI));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCLINUX));
	/* SIGIO/SIGURG aimed at another process (Landlock scopes it only from ABI 6) */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fcntl), 1,
			       SCMP_A1(SCMP_CMP_EQ, F_SETOWN));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fcntl), 1,
			       SCMP_A1(SCMP_CMP_EQ, F_SETOWN_EX));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, FIOSETOWN));
	/* priorities of other processes (who != 0) */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setpriority), 1,
			       SCMP_A1(SCMP_CMP_NE, 0));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioprio_set), 1,
			       SCMP_A1(SCMP_CMP_NE, 0));
	return rc ? -1 : 0;
}

/* chmod-family calls and the index of their mode argument. */
static const struct { const char *name; int fallback; unsigned arg; } chmod_calls[] = {
	{ "chmod", -1, 1 }, { "fchmod", -1, 1 }, { "fchmodat", -1, 2 },
	{ "fchmodat2", SBX_NR_FCHMODAT2, 2 },
};

/* A chmod whose mode matches one of these ((mode & mask) == value) gets
 * EPERM: setuid, setgid, sticky, group or other write (unless the umask
 * allows it, see add_mode_rules), or no owner read.
 * Landlock cannot stop chmod of a data/ file (the kernel runs as its owner),
 * so the mode is what can be checked; ordinary modes (0644 0600 0755 0444)
 * pass, so shutil.copy into outputs/ (copymode) keeps working.  The kernel
 * reads mode as a 16-bit umode_t: only low bits are compared. */
static const struct { uint64_t mask, value; } bad_chmod[] = {
	{ S_ISUID, S_ISUID }, { S_ISGID, S_ISGID }, { S_ISVTX, S_ISVTX },
	{ S_IWGRP, S_IWGRP }, { S_IWOTH, S_IWOTH }, { S_IRUSR, 0 },
};

/* Calls that create a file with a mode (index of the mode argument): no
 * setuid/setgid file may be created (another local user could run it as us).
 * glibc passes mode 0 to open/openat without O_CREAT/O_TMPFILE, so the bits
 * are refused whatever the flags. */
static const struct { const char *name; unsigned arg; } create_calls[] = {
	{ "open", 2 }, { "openat", 3 }, { "creat", 1 }, { "mknod", 1 }, { "mknodat", 2 },
};

/* This process's umask, from /proc/self/status (022 when unknown). */
static mode_t own_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned um = 022;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Umask: %o", &um) == 1)
			break;
	if (f)
		fclose(f);
	return (mode_t)um;
}

/* Rules on file modes: chmod to ordinary modes only, no setuid files.
 * Group (other) write counts as ordinary when the umask of the process
 * compiling the policy (the daemon's: the user's habit) lets new files
 * have it — with umask 002 files are created 0664, and copying one
 * (shutil.copy's copymode) must keep working. */
static int add_mode_rules(scmp_filter_ctx ctx)
{
	int rc = 0;
	mode_t um = own_umask();
	for (size_t i = 0; i < sizeof chmod_calls / sizeof chmod_calls[0]; i++) {
		int nr = sc_nr(chmod_calls[i].name, chmod_calls[i].fallback);
		for (size_t k = 0; nr >= 0 && k < sizeof bad_chmod / sizeof bad_chmod[0]; k++) {
			uint64_t m = bad_chmod[k].mask;
			if ((m == S_IWGRP || m == S_IWOTH) && !(um & m))
				continue;
			rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, (struct scmp_arg_cmp){
				chmod_calls[i].arg, SCMP_CMP_MASKED_EQ, m, bad_chmod[k].value });
		}
	}
	for (size_t i = 0; i < sizeof create_calls / sizeof create_calls[0]; i++) {
		int nr = sc_nr(create_calls[i].name, -1);
		for (uint64_t bit = S_ISGID; nr >= 0 && bit <= S_ISUID; bit <<= 1)
			rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, (struct scmp_arg_cmp){
				create_calls[i].arg, SCMP_CMP_MASKED_EQ, bit, bit });
	}
	/* openat2's mode sits in a struct seccomp cannot read: ENOSYS, and
	 * callers fall back to openat (as on kernels before 5.6). */
	int nr = sc_nr("openat2", -1);
	if (nr >= 0)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	/* the *xattrat calls (Linux 6.13), unknown to older libseccomp */
	if ((nr = sc_nr("setxattrat", SBX_NR_SETXATTRAT)) >= 0)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	if ((nr = sc_nr("removexattrat", SBX_NR_REMOVEXATTRAT)) >= 0)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	return rc ? -1 : 0;
}

/* Export ctx as raw BPF into a malloc'd array. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **prog, unsigned short *len,
		      char *err, size_t errlen)
{
	int fd = memfd_create("daa-sbx-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "seccomp: memfd_create: %s", strerror(errno));
		return -1;
	}
	int rc = seccomp_export_bpf(ctx, fd);
	off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > 0xffff) {
		snprintf(err, errlen, "seccomp: cannot export the filter (%s)", strerror(rc ? -rc : EINVAL));
		close(fd);
		return -1;
	}
	*prog = malloc((size_t)size);
	if (!*prog || pread(fd, *prog, (size_t)size, 0) != size) {
		snprintf(err, errlen, "seccomp: cannot read the exported filter");
		free(*prog);
		*prog = NULL;
		close(fd);
		return -1;
	}
	close(fd);
	*len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

/* Compile stage 1 into BPF (caller frees *prog). */
int sbx_sc_compile(struct sock_filter **prog, unsigned short *len, bool tcp_client,
		   char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: seccomp_init failed");
		return -1;
	}
	for (size_t i = 0; deny_eperm[i]; i++) {
		int nr = seccomp_syscall_resolve_name(deny_eperm[i]);
		if (nr == __NR_SCMP_ERROR || nr < 0)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) < 0) {
			snprintf(err, errlen, "seccomp: cannot add a rule for %s", deny_eperm[i]);
			goto fail;
		}
	}
	if (add_arg_rules(ctx, tcp_client) < 0 || add_mode_rules(ctx) < 0) {
		snprintf(err, errlen, "seccomp: cannot add the argument rules");
		goto fail;
	}
	if (export_bpf(ctx, prog, len, err, errlen) < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	seccomp_release(ctx);
	return -1;
}

/* The scheduler port the runtime set in $DAA_SBX_CONNECT_PORT for sbx_seal
 * (from its bind request), 0 when unset or not a port. */
unsigned short sbx_connect_port_env(void)
{
	const char *e = getenv(SBX_ENV_CONNECT_PORT);
	char *end;
	long v = e && *e ? strtol(e, &end, 10) : 0;
	return e && *e && !*end && v > 0 && v < 65536 ? (unsigned short)v : 0;
}

/* Stage 2, in-process for every thread: no more execve/execveat. */
int sbx_sc_seal(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: seccomp_init failed");
		return -1;
	}
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execveat), 0);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: cannot load the exec ban: %s", strerror(-rc));
		errno = -rc;
		return -1;
	}
	return 0;
}

/* Stage 1 and the signal filter for a process not started by sbx_spawn
 * (sbx_seal finds no filter): loaded for every thread. */
int sbx_sc_stage1_late(bool tcp_client, char *err, size_t errlen)
{
	struct sock_filter *prog = NULL, sig[16];
	unsigned short len = 0;
	if (sbx_sc_compile(&prog, &len, tcp_client, err, errlen) < 0)
		return -1;
	struct sock_fprog p1 = { .len = len, .filter = prog };
	struct sock_fprog p2 = { .len = (unsigned short)sbx_sc_signal_filter(getpid(), sig, 16),
				 .filter = sig };
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &p2);
	if (rc == 0)
		rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &p1);
	int saved = errno;
	free(prog);
	if (rc != 0) {
		snprintf(err, errlen, "seccomp: cannot load stage 1: %s",
			 rc > 0 ? "a thread has other filters" : strerror(saved));
		return -1;
	}
	return 0;
}

#define LD_ABS(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define RET(k) BPF_STMT(BPF_RET | BPF_K, (k))
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG0_LO offsetof(struct seccomp_data, args[0])
#else
#define ARG0_LO (offsetof(struct seccomp_data, args[0]) + 4)
#endif

/* Into buf (>= 14 entries): kill/tgkill/rt_(tg)sigqueueinfo only towards
 * self (or 0, our own process group: a new session that cannot fork), so
 * kill(-1) and kill(daemon) get EPERM; prlimit64 likewise (same uid could
 * otherwise lower the daemon's limits).  The pid the kernel uses is the low
 * 32 bits of the argument, which is what is compared.  Returns the count.
 * Async-signal-safe (called in the child after fork). */
size_t sbx_sc_signal_filter(pid_t self, struct sock_filter *buf, size_t cap)
{
	const struct sock_filter f[] = {
		LD_ABS(offsetof(struct seccomp_data, arch)),
		JEQ(seccomp_arch_native(), 0, 11),      /* foreign arch: stage 1 kills it */
		LD_ABS(offsetof(struct seccomp_data, nr)),
		JEQ(__NR_kill, 5, 0),
		JEQ(__NR_tgkill, 4, 0),
		JEQ(__NR_rt_sigqueueinfo, 3, 0),
		JEQ(__NR_rt_tgsigqueueinfo, 2, 0),
		JEQ(__NR_prlimit64, 1, 0),
		RET(SECCOMP_RET_ALLOW),
		LD_ABS(ARG0_LO),
		JEQ((uint32_t)self, 2, 0),
		JEQ(0, 1, 0),
		RET(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		RET(SECCOMP_RET_ALLOW),
	};
	size_t n = sizeof f / sizeof f[0];
	if (cap < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		buf[i] = f[i];
	return n;
}
