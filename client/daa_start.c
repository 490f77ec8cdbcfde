/*
 * client/daa_start.c — starting daad when nothing listens, like tmux's
 * client starts its server: find the binary ($DAA_DAEMON, next to daa, on
 * PATH) and run it in its own background mode, `daad --socket S --log-file
 * <socket dir>/daad.log` (in a session of its own, stdin /dev/null): that
 * process forks the daemon and exits once the daemon's readiness pipe says
 * the socket listens (0), or with the reason on stderr (1).  daa waits up to
 * 5 s for that exit; on failure it tells the status, what daad said and the
 * last lines it logged.  daa-tray starts daad the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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

/* In the child: a session of its own, stdio, then exec daad (the reason
 * to stderr, which is daa's pipe, when that fails). */
static void __attribute__((noreturn)) exec_daad(const char *daad, const char *sock,
						const char *logpath, int logfd, int errfd)
{
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(127);
	if (null > 2)
		close(null);
	setsid(); /* a Ctrl-C meant for daa does not reach daad's start-up */
	if (chdir("/") < 0)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* daa may block SIGINT (cmd_turn.c) */
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execl(daad, daad, "--socket", sock, "--log-file", logpath, (char *)NULL);
	dprintf(2, "cannot run %s: %s\n", daad, strerror(errno));
	_exit(127);
}

/* Fork and exec daad; its pid, with its stderr readable on *errfd, or -1 (printed). */
static pid_t spawn(const char *daad, const char *sock, const char *logpath, int logfd, int *errfd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "daa: cannot start the daemon: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		exec_daad(daad, sock, logpath, logfd, p[1]);
	close(p[1]);
	if (pid < 0) {
		fprintf(stderr, "daa: cannot start the daemon: fork: %s\n", strerror(errno));
		close(p[0]);
		return -1;
	}
	*errfd = p[0];
	return pid;
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

/* Read what daad's start-up writes to stderr until it closes it (it has
 * exited) or the deadline; true on EOF.  The text is kept in said. */
static bool read_until_exit(int fd, long long deadline, char *said, size_t size)
{
	size_t len = strlen(said);
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return false;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		char buf[512];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		size_t k = (size_t)n < size - 1 - len ? (size_t)n : size - 1 - len;
		memcpy(said + len, buf, k);
		len += k;
		said[len] = '\0';
	}
}

/* Wait until daad's start-up exits; CLI_OK with cli->conn set. */
static int wait_ready(struct cli *cli, pid_t pid, int errfd, const char *logpath, off_t from)
{
	struct proto_err err;
	char said[4096] = "";
	int st = 0;
	bool done = read_until_exit(errfd, now_ms() + START_WAIT_MS, said, sizeof said);
	if (done)
		waitpid(pid, &st, 0);
	/* exited 0: it listens; otherwise another daad may have won the race: use it */
	if (done && cli_conn_open(cli, &err) == 0)
		return CLI_OK;
	if (!done)
		fprintf(stderr, "daa: the daemon (pid %d) did not open %s within %d s\n", (int)pid,
			cli->socket, START_WAIT_MS / 1000);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		fprintf(stderr, "daa: the daemon started but %s does not answer: %s\n", cli->socket,
			err.msg);
	else if (WIFEXITED(st))
		fprintf(stderr, "daa: the daemon exited with status %d during start-up\n",
			WEXITSTATUS(st));
	else
		fprintf(stderr, "daa: the daemon was killed by signal %d during start-up\n",
			WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	for (char *line = strtok(said, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  | %s\n", line);
	log_tail(logpath, from);
	return CLI_UNREACHABLE;
}

/* Start daad in its background mode and wait until it listens. */
int cli_daemon_start(struct cli *cli)
{
	char daad[PATH_MAX], logpath[PATH_MAX];
	if (find_daad(daad, sizeof(daad)) < 0)
		return CLI_UNREACHABLE;
	int logfd = open_log(cli, logpath, sizeof(logpath));
	if (logfd < 0)
		return CLI_UNREACHABLE;
	off_t from = lseek(logfd, 0, SEEK_END);
	int errfd = -1;
	pid_t pid = spawn(daad, cli->socket, logpath, logfd, &errfd);
	close(logfd);
	if (pid < 0)
		return CLI_UNREACHABLE;
	int rc = wait_ready(cli, pid, errfd, logpath, from < 0 ? 0 : from);
	close(errfd);
	return rc;
}
