/*
 * bench/ping/bench_runs.c — runs several commands N times each, interleaved
 * (a, b, c, a, b, c...) so that load on the machine hits them alike, and
 * prints for each the median wall time (fork to reaped) and the median CPU
 * time of the child (user + system, from wait4), in µs.  The CPU figure is
 * the one to compare on a busy machine: it does not count time spent waiting
 * for a core.  Each command is one argument, split on spaces (no quoting).
 * Ratios are against the command named by --base (default: the second).
 * Usage: bench_runs [--base K] N "LABEL=CMD ARG..." ...   Not a test.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 8
#define MAX_ARGS 16

struct cmd {
	const char *label;
	char *argv[MAX_ARGS + 1];
	long *wall, *cpu; /* µs per run */
};

static long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

/* "LABEL=prog arg..." into a label and an argv (the string is modified). */
static int cmd_parse(struct cmd *c, char *spec)
{
	char *eq = strchr(spec, '=');
	if (!eq)
		return -1;
	*eq = '\0';
	c->label = spec;
	int n = 0;
	for (char *save = NULL, *t = strtok_r(eq + 1, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == MAX_ARGS)
			return -1;
		c->argv[n++] = t;
	}
	c->argv[n] = NULL;
	return n > 0 ? 0 : -1;
}

/* One run: wall and child CPU time in µs; -1 when it failed. */
static int run_once(const struct cmd *c, long *wall, long *cpu)
{
	long a = now_us();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execv(c->argv[0], c->argv);
		_exit(127);
	}
	int st;
	struct rusage ru;
	if (wait4(pid, &st, 0, &ru) != pid)
		return -1;
	*wall = now_us() - a;
	*cpu = ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000L +
	       ru.ru_stime.tv_usec;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static long median(long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_long);
	return v[(n - 1) / 2];
}

int main(int argc, char **argv)
{
	int base = 1, i = 1;
	if (argc > 2 && !strcmp(argv[1], "--base")) {
		base = atoi(argv[2]) - 1;
		i = 3;
	}
	int n = i < argc ? atoi(argv[i++]) : 0, ncmd = argc - i;
	struct cmd cmds[MAX_CMDS];
	if (n <= 0 || ncmd < 1 || ncmd > MAX_CMDS || base < 0 || base >= ncmd) {
		fprintf(stderr, "usage: bench_runs [--base K] N \"LABEL=CMD ARG...\" ...\n");
		return 2;
	}
	for (int k = 0; k < ncmd; k++) {
		cmds[k].wall = calloc((size_t)n, sizeof(long));
		cmds[k].cpu = calloc((size_t)n, sizeof(long));
		if (!cmds[k].wall || !cmds[k].cpu || cmd_parse(&cmds[k], argv[i + k]) < 0) {
			fprintf(stderr, "bench_runs: bad command '%s'\n", argv[i + k]);
			return 2;
		}
	}
	for (int r = 0; r < n; r++)
		for (int k = 0; k < ncmd; k++)
			if (run_once(&cmds[k], &cmds[k].wall[r], &cmds[k].cpu[r]) < 0) {
				fprintf(stderr, "bench_runs: '%s' failed\n", cmds[k].label);
				return 1;
			}
	long bw = median(cmds[base].wall, n), bc = median(cmds[base].cpu, n);
	printf("%-36s %10s %8s %10s %8s\n", "median of N runs", "wall µs", "ratio", "CPU µs", "ratio");
	for (int k = 0; k < ncmd; k++) {
		long w = k == base ? bw : median(cmds[k].wall, n);
		long c = k == base ? bc : median(cmds[k].cpu, n);
		printf("%-36s %10ld %7.2fx %10ld %7.2fx\n", cmds[k].label, w, (double)w / (double)bw, c,
		       bc ? (double)c / (double)bc : 0.0);
	}
	return 0;
}
