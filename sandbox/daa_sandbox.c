/*
 * sandbox/daa_sandbox.c — `daa-sandbox`: runs any command under the sandbox
 * policy for a project folder (how tests probe the policy, and a way to try
 * the policy by hand), or prints what the machine supports (--probe).
 * The exec ban is not applied here: it is installed in-process by
 * sbx_seal() (see sandbox/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sandbox/sbx.h"

#define MAX_LIST 32

struct args {
	struct sbx_options o;
	const char *ro[MAX_LIST + 1], *env[MAX_LIST + 8];
	int keep[MAX_LIST];
	size_t nro, nenv, nkeep;
	bool report, probe;
	char **cmd;
};

static void usage(FILE *f)
{
	fputs("usage: daa-sandbox [--project DIR] [--tmp DIR] [--ro PATH]... [--env K=V]...\n"
	      "                   [--keep-fd N]... [--mem MB] [--cpu S] [--fsize MB] [--nofile N]\n"
	      "                   [--nproc N] [--allow-missing] [--report] [--mount-ns [--pid-ns]]\n"
	      "                   [--simulate-missing landlock|seccomp|mountns|pidns]\n"
	      "                   [--disable landlock|seccomp|mountns]\n"
	      "                   -- CMD [ARGS...]\n"
	      "       daa-sandbox --probe\n"
	      "Runs CMD under the spawn-stage policy (no execve ban: that is sbx_seal's).\n"
	      "--mount-ns: also the mount-namespace layer (a new root; see sandbox/README.md);\n"
	      "--pid-ns: with it, a pid namespace and a /proc of its own.\n"
	      "Exit: CMD's status, 128+signal, 120-126 sandbox set-up failed, 2 usage.\n", f);
}

/* "landlock" / "seccomp" / "mountns" / "pidns" -> SBX_LAYER_* (0 if unknown). */
static unsigned layer_bit(const char *s)
{
	return !strcmp(s, "landlock") ? SBX_LAYER_LANDLOCK : !strcmp(s, "seccomp") ? SBX_LAYER_SECCOMP
	       : !strcmp(s, "mountns") ? SBX_LAYER_MOUNTNS : !strcmp(s, "pidns") ? SBX_LAYER_PIDNS : 0;
}

/* A positive number option, or exit 2. */
static unsigned long number(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0) {
		fprintf(stderr, "daa-sandbox: %s wants a positive number, not '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

/* One option into a; false on a usage error. */
static bool one_opt(struct args *a, int c, const char *v)
{
	switch (c) {
	case 'p': a->o.project_dir = v; return true;
	case 't': a->o.tmp_dir = v; return true;
	case 'r': if (a->nro >= MAX_LIST) return false; a->ro[a->nro++] = v; return true;
	case 'e': if (a->nenv >= MAX_LIST || !strchr(v, '=')) return false; a->env[a->nenv++] = v; return true;
	case 'k': if (a->nkeep >= MAX_LIST) return false; a->keep[a->nkeep++] = (int)number("--keep-fd", v); return true;
	case 'm': a->o.mem_mb = number("--mem", v); return true;
	case 'c': a->o.cpu_s = number("--cpu", v); return true;
	case 'f': a->o.fsize_mb = number("--fsize", v); return true;
	case 'n': a->o.nofile = number("--nofile", v); return true;
	case 'N': a->o.nproc = number("--nproc", v); return true;
	case 'a': a->o.allow_missing_layers = true; return true;
	case 'M': a->o.mount_ns = true; return true;
	case 'I': a->o.pid_ns = true; return true;
	case 'R': a->report = true; return true;
	case 'P': a->probe = true; return true;
	case 's': a->o.simulate_missing |= layer_bit(v); return layer_bit(v) != 0;
	case 'd': a->o.disable |= layer_bit(v); return layer_bit(v) != 0;
	default: return false;
	}
}

/* Parse argv; exits 2 on a usage error. */
static void parse(struct args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", 1, 0, 'p' }, { "tmp", 1, 0, 't' }, { "ro", 1, 0, 'r' },
		{ "env", 1, 0, 'e' }, { "keep-fd", 1, 0, 'k' }, { "mem", 1, 0, 'm' },
		{ "cpu", 1, 0, 'c' }, { "fsize", 1, 0, 'f' }, { "nofile", 1, 0, 'n' },
		{ "nproc", 1, 0, 'N' }, { "allow-missing", 0, 0, 'a' }, { "report", 0, 0, 'R' },
		{ "probe", 0, 0, 'P' }, { "simulate-missing", 1, 0, 's' }, { "disable", 1, 0, 'd' },
		{ "mount-ns", 0, 0, 'M' }, { "pid-ns", 0, 0, 'I' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (!one_opt(a, c, optarg)) {
			usage(stderr);
			exit(2);
		}
	}
	a->cmd = argv + optind;
	if (!a->probe && !a->cmd[0]) {
		usage(stderr);
		exit(2);
	}
}

/* CMD as an absolute path: as given when it has a '/', else found on PATH. */
static char *resolve_cmd(const char *cmd)
{
	if (strchr(cmd, '/'))
		return realpath(cmd, NULL);
	const char *path = getenv("PATH");
	char buf[4096];
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		if (n && (size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, cmd) < sizeof buf &&
		    access(buf, X_OK) == 0)
			return realpath(buf, NULL);
		p += n + (p[n] == ':');
	}
	errno = ENOENT;
	return NULL;
}

/* The child's clean environment: fixed basics, then --env entries. */
static void build_env(struct args *a, char *home, char *tmpdir, size_t len)
{
	const char *t = a->o.tmp_dir;
	snprintf(home, len, "HOME=%s", t ? t : "/nonexistent");
	snprintf(tmpdir, len, "TMPDIR=%s", t ? t : "/nonexistent");
	size_t k = a->nenv;
	a->env[k++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	a->env[k++] = "LANG=C.UTF-8";
	a->env[k++] = home;
	a->env[k++] = tmpdir;
	a->env[k] = NULL;
}

/* Wait for the child; its exit status, or 128 + signal. */
static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("daa-sandbox: waitpid");
			return 1;
		}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* fds 0-2 open (on /dev/null if closed), so nothing we open lands there. */
static void std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			exit(1);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	char err[512], home[4200], tmpdir[4200];
	std_fds();
	parse(&a, argc, argv);
	if (a.probe) {
		char rep[2048];
		sbx_probe(rep, sizeof rep);
		fputs(rep, stdout);
		return 0;
	}
	char *cmd = resolve_cmd(a.cmd[0]);
	if (!cmd) {
		fprintf(stderr, "daa-sandbox: %s: %s\n", a.cmd[0], strerror(errno));
		return 127;
	}
	a.cmd[0] = cmd;
	a.ro[a.nro] = NULL;
	a.o.extra_ro = a.ro;
	build_env(&a, home, tmpdir, sizeof home);
	struct sbx_policy *p = sbx_policy_new(&a.o, err, sizeof err);
	if (!p) {
		fprintf(stderr, "daa-sandbox: %s\n", err);
		return 1;
	}
	if (a.report)
		fputs(sbx_policy_report(p), stderr);
	pid_t pid = sbx_spawn(p, a.cmd, (char *const *)a.env, a.keep, a.nkeep, 0, -1, -1,
			      err, sizeof err);
	sbx_policy_free(p);
	free(cmd);
	if (pid < 0) {
		fprintf(stderr, "daa-sandbox: %s\n", err);
		return 1;
	}
	return wait_child(pid);
}
