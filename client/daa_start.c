/*
 * client/daa_start.c — starting daad when nothing listens, like tmux's
 * client starts its server: find the binary ($DAA_DAEMON, next to daa, on
 * PATH), detach it (double fork + setsid, stdin /dev/null, stdout/stderr to
 * <socket dir>/daad.log), and wait up to 5 s for its socket.  daa makes
 * itself a child subreaper first, so the detached daemon is re-parented to
 * it and, should it die during start-up, its exit status can be told along
 * with the last lines it logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"

#define START_WAIT_MS 5000

/* Is path an executable regular file? */
static bool executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Find daad: $DAA_DAEMON, next to this daa, then $PATH.  0, or -1 (printed). */
static int find_daad(char *buf, size_t size)
{
	const char *env = getenv("DAA_DAEMON"), *path = getenv("PATH");
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		if (executable(buf))
			return 0;
		fprintf(stderr, "daa: cannot start the daemon: DAA_DAEMON=%s is not an executable file\n", env);
		return -1;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, size, "%s/daad", dirname(self));
		if (executable(buf))
			return 0;
	}
	for (const char *p = path ? path : ""; *p;) {
		size_t len = strcspn(p, ":");
		snprintf(buf, size, "%.*s/daad", (int)len, p);
		if (len > 0 && executable(buf))
			return 0;
		p += len + (p[len] == ':');
	}
	fprintf(stderr, "daa: cannot start the daemon: no `daad` found ($DAA_DAEMON is unset, "
			"it is not next to daa, nor on $PATH); install daa or set DAA_DAEMON\n");
	return -1;
}

/* mkdir -p dir with mode 0700 for the parts it creates. */
static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* Open the log in the socket's folder; its path into logpath. */
static int open_log(const struct cli *cli, char *logpath, size_t size)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", cli->socket);
	char *d = dirname(dir);
	if (mkdir_p(d) < 0) {
		fprintf(stderr, "daa: cannot start the daemon: cannot create %s: %s\n", d, strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(d, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 022)) {
		fprintf(stderr, "daa: cannot start the daemon: %s must be a directory of yours that "
				"others cannot write to (it holds the socket and the log)\n", d);
		return -1;
	}
	snprintf(logpath, size, "%s/daad.log", d);
	int fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		fprintf(stderr, "daa: cannot start the daemon: cannot open its log %s: %s\n", logpath,
			strerror(errno));
	return fd;
}

/* In the detached grandchild: stdio, then exec daad (errno to the pipe on failure). */
static void __attribute__((noreturn)) exec_daad(const char *daad, const char *sock, int logfd, int wfd)
{
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		goto fail;
	if (null > 2)
		close(null);
	if (chdir("/") < 0)
		goto fail;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* daa may block SIGINT (cmd_turn.c) */
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execl(daad, daad, "--foreground", "--socket", sock, (char *)NULL);
fail:;
	int e = errno;
	ssize_t w = write(wfd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

/* Double fork; returns the daemon's pid (re-parented to us), or -1 (printed). */
static pid_t spawn(const char *daad, const char *sock, int logfd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "daa: cannot start the daemon: pipe: %s\n", strerror(errno));
		return -1;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid_t mid = fork();
	if (mid == 0) {
		close(p[0]);
		setsid();
		pid_t g = fork();
		if (g == 0)
			exec_daad(daad, sock, logfd, p[1]);
		ssize_t w = write(p[1], &g, sizeof(g));
		_exit(w == sizeof(g) && g > 0 ? 0 : 1);
	}
	close(p[1]);
	pid_t gpid = -1;
	int e = 0;
	if (mid > 0) {
		waitpid(mid, NULL, 0);
		if (read(p[0], &gpid, sizeof(gpid)) != sizeof(gpid))
			gpid = -1;
		if (gpid > 0 && read(p[0], &e, sizeof(e)) == sizeof(e)) {
			waitpid(gpid, NULL, 0);
			fprintf(stderr, "daa: cannot start the daemon: cannot run %s: %s\n", daad, strerror(e));
			gpid = -1, e = -1;
		}
	}
	if (gpid <= 0 && e == 0)
		fprintf(stderr, "daa: cannot start the daemon: fork: %s\n", strerror(errno));
	close(p[0]);
	return gpid;
}

/* Print the lines daad logged since offset `from` (the last 12 at most). */
static void log_tail(const char *logpath, off_t from)
{
	char buf[8192];
	int fd = open(logpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end - from > (off_t)sizeof(buf) - 1)
		from = end - (off_t)sizeof(buf) + 1;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *start = buf;
	int lines = 0;
	for (char *p = buf + n - 1; p > buf; p--)
		if (p[-1] == '\n' && ++lines >= 12) {
			start = p;
			break;
		}
	fprintf(stderr, "daa: its log (%s) says:\n", logpath);
	for (char *line = strtok(start, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  | %s\n", line);
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the socket, watching the daemon; CLI_OK with cli->conn set. */
static int wait_ready(struct cli *cli, pid_t pid, const char *logpath, off_t from)
{
	struct proto_err err;
	long long deadline = now_ms() + START_WAIT_MS;
	for (;;) {
		if ((cli->conn = proto_client_connect(cli->socket, &err)))
			return CLI_OK;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if ((cli->conn = proto_client_connect(cli->socket, &err)))
				return CLI_OK; /* another daad won the race; use it */
			if (WIFEXITED(st))
				fprintf(stderr, "daa: the daemon exited with status %d during start-up\n",
					WEXITSTATUS(st));
			else
				fprintf(stderr, "daa: the daemon was killed by signal %d during start-up\n",
					WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			log_tail(logpath, from);
			return CLI_UNREACHABLE;
		}
		if (now_ms() >= deadline)
			break;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "daa: the daemon (pid %d) did not open %s within %d s\n", (int)pid,
		cli->socket, START_WAIT_MS / 1000);
	log_tail(logpath, from);
	return CLI_UNREACHABLE;
}

/* Start daad detached and wait until it listens. */
int cli_daemon_start(struct cli *cli)
{
	char daad[PATH_MAX], logpath[PATH_MAX];
	if (find_daad(daad, sizeof(daad)) < 0)
		return CLI_UNREACHABLE;
	int logfd = open_log(cli, logpath, sizeof(logpath));
	if (logfd < 0)
		return CLI_UNREACHABLE;
	off_t from = lseek(logfd, 0, SEEK_END);
	pid_t pid = spawn(daad, cli->socket, logfd);
	close(logfd);
	if (pid < 0)
		return CLI_UNREACHABLE;
	int rc = wait_ready(cli, pid, logpath, from < 0 ? 0 : from);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	return rc;
}
