/*
 * sandbox/sbx_seal.c — the in-process half: sbx_seal(), called by the Python
 * runtime through ctypes before any user code, applies the project's
 * Landlock ruleset (a warm spare had none for the filesystem) and the
 * seccomp filter that bans execve; sbx_probe() reports what the machine
 * offers, for `daa doctor` and `daa-sandbox --probe`.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/syscall.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "sandbox/landlock_compat.h"
#include "sandbox/sbx_int.h"

/* Landlock restricts only the calling thread (until ABI 8's TSYNC), and a
 * warm spare already has threads when it is sealed (OpenBLAS's pool, started
 * by the numpy import).  Like glibc's setxid broadcast, every other thread
 * is signalled and applies the same ruleset in the handler; the caller
 * restricts itself last, so that its signals still reach the others. */
#define TS_MAX 512
static int ts_fd = -1;
static uint32_t ts_flags;
static pid_t ts_done[TS_MAX];
static atomic_int ts_ndone, ts_nfailed;

/* Signal handler run by each other thread. */
static void ts_handler(int sig)
{
	(void)sig;
	int saved = errno;
	if (sbx_ll_restrict_self(ts_fd, ts_flags) == 0) {
		int i = atomic_fetch_add(&ts_ndone, 1);
		if (i < TS_MAX)
			ts_done[i] = gettid();
	} else {
		atomic_fetch_add(&ts_nfailed, 1);
	}
	errno = saved;
}

/* Has tid applied the ruleset? */
static bool ts_is_done(pid_t tid)
{
	int n = atomic_load(&ts_ndone);
	for (int i = 0; i < n && i < TS_MAX; i++)
		if (ts_done[i] == tid)
			return true;
	return false;
}

/* Signal every thread not yet restricted; how many were signalled (-1: error). */
static int ts_round(int sig)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int sent = 0;
	pid_t self = gettid(), pid = getpid();
	for (struct dirent *e; (e = readdir(d));) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || tid == self || ts_is_done(tid))
			continue;
		if (syscall(SYS_tgkill, pid, tid, sig) == 0)
			sent++;
		else if (errno != ESRCH)
			sent = -1;
		if (sent < 0)
			break;
	}
	closedir(d);
	return sent;
}

/* Apply ruleset fd to every thread of the process; 0 or -1 with why. */
static int ts_restrict_all(int fd, uint32_t flags, char *why, size_t len)
{
	int sig = SIGRTMAX - 3, rc = -1;
	struct sigaction sa = { .sa_handler = ts_handler, .sa_flags = SA_RESTART }, old;
	sigemptyset(&sa.sa_mask);
	ts_fd = fd;
	ts_flags = flags;
	atomic_store(&ts_ndone, 0);
	atomic_store(&ts_nfailed, 0);
	if (sigaction(sig, &sa, &old) < 0) {
		snprintf(why, len, "sigaction: %s", strerror(errno));
		return -1;
	}
	for (int round = 0; round < 20; round++) {
		int before = atomic_load(&ts_ndone), sent = ts_round(sig);
		if (sent <= 0) {
			rc = sent;
			break;
		}
		/* wait (bounded, 10 s) for the handlers: a timeout, not a timing test */
		for (int ms = 0; ms < 10000 && atomic_load(&ts_ndone) + atomic_load(&ts_nfailed) < before + sent; ms++)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
		if (atomic_load(&ts_nfailed) || atomic_load(&ts_ndone) < before + sent)
			break;
	}
	sigaction(sig, &old, NULL);
	if (rc < 0)
		snprintf(why, len, "a thread did not apply the ruleset within 10 s (%d did, %d failed; "
			 "one blocking signal %d?)", atomic_load(&ts_ndone), atomic_load(&ts_nfailed), sig);
	return rc;
}

/* Split DAA_SBX_EXTRA_RO ("a:b") into a NULL-terminated array in buf. */
static char **extra_ro_from_env(char **vec, size_t cap, char *buf, size_t buflen)
{
	const char *e = getenv(SBX_ENV_EXTRA_RO);
	size_t k = 0;
	snprintf(buf, buflen, "%s", e ? e : "");
	for (char *save = NULL, *t = strtok_r(buf, ":", &save); t && k + 1 < cap;
	     t = strtok_r(NULL, ":", &save))
		vec[k++] = t;
	vec[k] = NULL;
	return vec;
}

/* Landlock for the bound project, on the calling thread (all threads with
 * ABI 8) and every thread it creates later. */
static int seal_landlock(const char *project, const char *tmp, bool allow,
			 char *report, size_t len)
{
	char err[300], sum[200], buf[4096], *vec[32];
	int abi = sbx_ll_abi();
	if (abi == 0) {
		sbx_append(report, len, "landlock: MISSING (kernel without Landlock)%s\n",
			   allow ? " — running without it (allow_missing_layers)" : "");
		return allow ? 0 : -1;
	}
	const char *shm = getenv(SBX_ENV_PRIVATE_SHM);
	struct sbx_ll_spec s = { .project = project, .tmp = tmp, .fs = true,
				 .private_shm = shm && strcmp(shm, "1") == 0,
				 .connect_port = abi >= 4 ? sbx_connect_port_env() : 0,
				 .extra_ro = extra_ro_from_env(vec, 32, buf, sizeof buf) };
	int fd = sbx_ll_ruleset(&s, abi, err, sizeof err);
	if (fd < 0) {
		sbx_append(report, len, "%s\n", err);
		return -1;
	}
	uint32_t flags = sbx_ll_restrict_flags(abi);
	atomic_store(&ts_ndone, 0);
	if (!(flags & SBX_LL_RESTRICT_SELF_TSYNC) && ts_restrict_all(fd, flags, err, sizeof err) < 0) {
		close(fd);
		sbx_append(report, len, "landlock: not applied to every thread: %s\n", err);
		return -1;
	}
	int rc = sbx_ll_restrict_self(fd, flags);
	int saved = errno;
	close(fd);
	if (rc < 0) {
		sbx_append(report, len, "landlock: restrict_self failed: %s\n", strerror(saved));
		errno = saved;
		return -1;
	}
	sbx_append(report, len, "landlock: active (%s",
		   sbx_ll_summary(abi, true, s.connect_port, sum, sizeof sum));
	if (atomic_load(&ts_ndone) > 0)
		sbx_append(report, len, ", also applied by %d earlier thread(s)", atomic_load(&ts_ndone));
	sbx_append(report, len, ")\n");
	return 0;
}

/* Seccomp mode of this process from /proc/self/status (-1 unknown). */
static int seccomp_mode(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int mode = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	if (f)
		fclose(f);
	return mode;
}

/* Not started by sbx_spawn (no filter yet): add stage 1 now, say so. */
static int seal_late_stage1(char *report, size_t len)
{
	char err[300];
	if (seccomp_mode() != 0)
		return 0;
	if (sbx_sc_stage1_late(sbx_connect_port_env() && sbx_ll_abi() >= 4, err, sizeof err) < 0) {
		sbx_append(report, len, "%s\n", err);
		return -1;
	}
	sbx_append(report, len, "spawn: not started by sbx_spawn — seccomp stage 1 added at seal; "
		   "capabilities and rlimits as inherited\n");
	return 0;
}

/* Lock down to project_dir (NULL: rules already applied at spawn) and ban
 * execve for every thread.  0, or -1 with the reason in report. */
int sbx_seal(const char *project_dir, const char *tmp_dir, char *report, size_t report_len)
{
	static atomic_bool sealed;
	const char *am = getenv(SBX_ENV_ALLOW_MISSING);
	bool allow = am && strcmp(am, "1") == 0;
	char err[300];
	if (report_len)
		report[0] = '\0';
	if (atomic_exchange(&sealed, true)) {
		/* a second ruleset would intersect with the first: never what a caller wants */
		sbx_append(report, report_len, "seal: failed: already sealed (once per process)\n");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		sbx_append(report, report_len, "no_new_privs: %s\n", strerror(errno));
		return -1;
	}
	const char *ns = getenv(SBX_ENV_PRIVATE_SHM);
	sbx_append(report, report_len, ns && strcmp(ns, "1") == 0 ?
		   "mountns: active (own root: system paths and data/ history/ read-only, own /proc, "
		   "/tmp and /dev/shm)\n" : "mountns: off (this kernel was started without it)\n");
	if (project_dir && seal_landlock(project_dir, tmp_dir, allow, report, report_len) < 0)
		return -1;
	if (!project_dir)
		sbx_append(report, report_len, "landlock: nothing added at seal (project rules from spawn)\n");
	if (!sbx_sc_available()) {
		sbx_append(report, report_len, "seccomp: MISSING (kernel without seccomp filters)%s\n",
			   allow ? " — execve stays allowed (allow_missing_layers)" : "");
		return allow ? 0 : -1;
	}
	if (seal_late_stage1(report, report_len) < 0)
		return -1;
	if (sbx_sc_seal(err, sizeof err) < 0) {
		sbx_append(report, report_len, "%s\n", err);
		return -1;
	}
	sbx_append(report, report_len, "seccomp: execve/execveat denied (all threads)\n");
	return 0;
}

/* Capabilities line: what we hold, and whether the bounding set can go. */
static void probe_caps(char *report, size_t len)
{
	cap_t c = cap_get_proc();
	char *txt = c ? cap_to_text(c, NULL) : NULL;
	cap_flag_value_t v = CAP_CLEAR;
	if (c)
		cap_get_flag(c, CAP_SETPCAP, CAP_EFFECTIVE, &v);
	sbx_append(report, len, "capabilities: current \"%s\"; bounding set can be emptied: %s\n",
		   txt ? txt : "?", v == CAP_SET ? "yes" : "no (not needed: no_new_privs)");
	cap_free(txt);
	cap_free(c);
}

/* What this machine offers (for `daa doctor`): a multi-line report. */
int sbx_probe(char *report, size_t report_len)
{
	char sum[200];
	if (report_len)
		report[0] = '\0';
	int abi = sbx_ll_abi();
	if (abi > 0)
		sbx_append(report, report_len, "landlock: available (%s)\n",
			   sbx_ll_summary(abi, true, 0, sum, sizeof sum));
	else
		sbx_append(report, report_len, "landlock: MISSING (%s)\n", errno == EOPNOTSUPP ?
			   "disabled at boot: add landlock to lsm=" : "kernel without Landlock");
	const struct scmp_version *sv = seccomp_version();
	sbx_append(report, report_len, "seccomp: %s (libseccomp %u.%u.%u)\n",
		   sbx_sc_available() ? "available" : "MISSING", sv ? sv->major : 0,
		   sv ? sv->minor : 0, sv ? sv->micro : 0);
	probe_caps(report, report_len);
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	sbx_append(report, report_len, "no_new_privs: %s\n", nnp < 0 ? "MISSING" :
		   nnp ? "supported (already set here)" : "supported");
	FILE *f = fopen("/proc/sys/user/max_user_namespaces", "re");
	long userns = -1;
	if (f) {
		if (fscanf(f, "%ld", &userns) != 1)
			userns = -1;
		fclose(f);
	}
	char why[200];
	sbx_append(report, report_len, "user namespaces: %s (max %ld)\n",
		   userns > 0 ? "available" : "unavailable", userns);
	bool ns = sbx_ns_available(why, sizeof why);
	sbx_append(report, report_len, "mount namespace: %s%s\n", ns ? "" : "MISSING: ",
		   ns ? "available (user, mount, IPC; new root)" : why);
	bool pidns = ns && sbx_pidns_available(why, sizeof why);
	sbx_append(report, report_len, "pid namespace: %s%s\n", pidns ? "" : "MISSING: ",
		   pidns ? "available (own /proc)" : ns ? why : "needs the mount namespace");
	return 0;
}
