/*
 * tests/sandbox_policy/test_mount_race.c — a warm spare's project mount asked
 * for at once, before the spare has finished building its new root.  The
 * daemon may bind a spare the moment it is spawned (kern_for_project picks a
 * spare that is still starting); the mount helper must then wait for the
 * kernel's root to be final instead of entering a namespace mid-pivot (CI saw
 * "opening the kernel's root: Invalid argument" that way).  Each round spawns
 * a spare (sbx_spawn_ns, no project) and calls sbx_mount_project right away;
 * every round must mount, and the kernel must see the project's data.
 * TAP-style output; exit 0 when all pass, 77 when namespaces are missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sandbox/sbx.h"

#define ROUNDS 30

static int checks, failures;

static void check(int ok, const char *what, const char *detail)
{
	checks++;
	if (!ok)
		failures++;
	printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", checks, what, detail[0] ? ": " : "",
	       detail);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* One round: spawn, mount at once, then let the child read the data. */
static void one_round(const struct sbx_policy *pol, const char *proj, int round)
{
	char err[512] = "", data[600], what[64];
	int go[2], out[2];
	if (pipe(go) < 0 || pipe(out) < 0) {
		perror("pipe");
		exit(1);
	}
	snprintf(data, sizeof data, "read -r _ <&3; cat %s/data/x.csv", proj);
	char *argv[] = { "/bin/sh", "-c", data, NULL };
	char *env[] = { "PATH=/usr/bin:/bin", NULL };
	int keep[] = { go[0] };
	int mfd = -1;
	pid_t pid = sbx_spawn_ns(pol, argv, env, keep, 1, -1, out[1], -1, &mfd, err, sizeof err);
	close(go[0]);
	close(out[1]);
	snprintf(what, sizeof what, "round %d: spawned with a mount helper", round);
	check(pid > 0 && mfd >= 0, what, err);
	if (pid <= 0 || mfd < 0)
		exit(1);
	int rc = sbx_mount_project(mfd, proj, err, sizeof err);
	close(mfd);
	snprintf(what, sizeof what, "round %d: mounted at once", round);
	check(rc == 0, what, rc == 0 ? "" : err);
	if (write(go[1], "go\n", 3) != 3)
		rc = -1;
	close(go[1]);
	char buf[64] = "";
	ssize_t n = read(out[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(out[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	snprintf(what, sizeof what, "round %d: the kernel reads the project", round);
	if (rc == 0)
		check(strcmp(buf, "a,b\n") == 0, what, buf);
}

int main(void)
{
	char tmpl[] = "/tmp/daa-mrace-XXXXXX", proj[256], sub[300];
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	char *real = realpath(tmpl, NULL);
	snprintf(proj, sizeof proj, "%s/proj", real);
	free(real);
	const char *subs[] = { "", "/data", "/outputs", "/history", "/tmp" };
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(sub, sizeof sub, "%s%s", proj, subs[i]);
		mkdir(sub, 0700);
	}
	snprintf(sub, sizeof sub, "%s/data/x.csv", proj);
	write_text(sub, "a,b\n");
	snprintf(sub, sizeof sub, "%s/tmp", proj);
	char err[512];
	struct sbx_options o = { .tmp_dir = sub, .mount_ns = true,
				 .disable = SBX_LAYER_LANDLOCK | SBX_LAYER_SECCOMP };
	struct sbx_policy *pol = sbx_policy_new(&o, err, sizeof err);
	if (!pol) {
		printf("1..0 # SKIP no policy: %s\n", err);
		return 77;
	}
	if (!strstr(sbx_policy_report(pol), "mountns: active")) {
		printf("1..0 # SKIP no mount namespace here: %s", sbx_policy_report(pol));
		sbx_policy_free(pol);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int r = 1; r <= ROUNDS; r++)
		one_round(pol, proj, r);
	sbx_policy_free(pol);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpl);
	printf("1..%d\n", checks);
	return failures ? 1 : 0;
}
