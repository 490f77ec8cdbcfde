/*
 * sandbox/sbx_seal.c — the in-process half: sbx_seal(), called by the Python
 * runtime through ctypes before any user code, applies the project's
 * Landlock ruleset (a warm spare had none for the filesystem) and the
 * seccomp filter that bans execve; sbx_probe() reports what the machine
 * offers, for `daa doctor` and `daa-sandbox --probe`.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "sandbox/landlock_compat.h"
#include "sandbox/sbx_int.h"

/* Threads of this process (from /proc/self/status), 0 if unknown. */
static int thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int n = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
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
	struct sbx_ll_spec s = { .project = project, .tmp = tmp, .fs = true,
				 .extra_ro = extra_ro_from_env(vec, 32, buf, sizeof buf) };
	int fd = sbx_ll_ruleset(&s, abi, err, sizeof err);
	if (fd < 0) {
		sbx_append(report, len, "%s\n", err);
		return -1;
	}
	int rc = sbx_ll_restrict_self(fd, sbx_ll_restrict_flags(abi));
	int saved = errno;
	close(fd);
	if (rc < 0) {
		sbx_append(report, len, "landlock: restrict_self failed: %s\n", strerror(saved));
		errno = saved;
		return -1;
	}
	int threads = thread_count();
	sbx_append(report, len, "landlock: active (%s)", sbx_ll_summary(abi, true, sum, sizeof sum));
	if (abi < 8 && threads > 1)
		sbx_append(report, len, "; %d thread(s) started before sbx_seal keep the "
			   "spawn-time rules (Landlock ABI < 8 has no TSYNC)", threads - 1);
	sbx_append(report, len, "\n");
	return 0;
}

/* Lock down to project_dir (NULL: rules already applied at spawn) and ban
 * execve for every thread.  0, or -1 with the reason in report. */
int sbx_seal(const char *project_dir, const char *tmp_dir, char *report, size_t report_len)
{
	const char *am = getenv(SBX_ENV_ALLOW_MISSING);
	bool allow = am && strcmp(am, "1") == 0;
	char err[300];
	if (report_len)
		report[0] = '\0';
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		sbx_append(report, report_len, "no_new_privs: %s\n", strerror(errno));
		return -1;
	}
	if (project_dir && seal_landlock(project_dir, tmp_dir, allow, report, report_len) < 0)
		return -1;
	if (!project_dir)
		sbx_append(report, report_len, "landlock: nothing added at seal (project rules from spawn)\n");
	if (!sbx_sc_available()) {
		sbx_append(report, report_len, "seccomp: MISSING (kernel without seccomp filters)%s\n",
			   allow ? " — execve stays allowed (allow_missing_layers)" : "");
		return allow ? 0 : -1;
	}
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
			   sbx_ll_summary(abi, true, sum, sizeof sum));
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
	sbx_append(report, report_len, "user namespaces: %s (not used by daa; max %ld)\n",
		   userns > 0 ? "available" : "unavailable", userns);
	return 0;
}
