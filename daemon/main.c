/*
 * daemon/main.c — daad: options, configuration, signals, the socket, then
 * the loop; on SIGTERM / SIGINT / the `shutdown` method an orderly stop
 * (cancel turns, stop kernels, flush replies, remove the socket).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon/core/config.h"
#include "daemon/core/fsutil.h"
#include "daemon/kernel/kernel.h"
#include "daemon/core/log.h"
#include "daemon/core/loop.h"
#include "daemon/history/history.h"
#include "daemon/project/project.h"
#include "daemon/project/workq.h"
#include "daemon/core/sd.h"
#include "daemon/server/server.h"
#include "daemon/agent/agent.h"

struct main_opts {
	struct config_cli cli;
	bool foreground;
	const char *log_file;
};

static int ready_fd = -1; /* daemonized: tells the waiting parent how start-up went */

/* Print the usage text. */
static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: daad [options]\n"
		"  -f, --foreground        stay in the foreground, log to stderr\n"
		"  -s, --socket PATH       listen on PATH (default: $DAA_SOCKET,\n"
		"                          $XDG_RUNTIME_DIR/daa/daad.sock, /tmp/daa-$UID/daad.sock)\n"
		"  -l, --log-level LEVEL   error, warn, info (default) or debug\n"
		"  -m, --max-message BYTES largest accepted message (default 64 MiB)\n"
		"  -c, --config FILE       configuration file (default $XDG_CONFIG_HOME/daa/config.json)\n"
		"      --log-file FILE     where a background daad logs\n"
		"                          (default $XDG_STATE_HOME/daa/daad.log)\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this text\n");
}

/* Parse the command line; exits on --help, --version and usage errors. */
static void main_parse(int argc, char **argv, struct main_opts *o)
{
	static const struct option longs[] = {
		{"foreground", no_argument, NULL, 'f'}, {"socket", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'l'},
		{"max-message", required_argument, NULL, 'm'},
		{"config", required_argument, NULL, 'c'}, {"log-file", required_argument, NULL, 'L'},
		{"version", no_argument, NULL, 'V'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int ch;
	char *end;
	while ((ch = getopt_long(argc, argv, "fs:l:m:c:Vh", longs, NULL)) != -1) {
		switch (ch) {
		case 'f': o->foreground = true; break;
		case 's': o->cli.socket = optarg; break;
		case 'l': o->cli.log_level = optarg; break;
		case 'c': o->cli.config_file = optarg; break;
		case 'L': o->log_file = optarg; break;
		case 'm':
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || *end || v < 1024 || v > (1ULL << 31)) {
				fprintf(stderr, "daad: --max-message must be a number of bytes "
						"from 1024 to 2147483648\n");
				exit(2);
			}
			o->cli.max_message = (size_t)v;
			break;
		case 'V': printf("daad %s\n", DAA_VERSION); exit(0);
		case 'h': main_usage(stdout); exit(0);
		default: main_usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "daad: unexpected argument '%s'\n", argv[optind]);
		main_usage(stderr);
		exit(2);
	}
}

/* Report a start-up failure (to the terminal, and to the waiting parent) and exit. */
static void __attribute__((noreturn)) main_fatal(const char *msg)
{
	log_error("%s", msg);
	if (ready_fd >= 0) {
		ssize_t w = write(ready_fd, msg, strlen(msg));
		(void)w;
	}
	exit(1);
}

/* The log file of a background daemon. */
static void main_log_path(const struct main_opts *o, char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (o->log_file)
		snprintf(buf, size, "%s", o->log_file);
	else if (state && *state == '/')
		snprintf(buf, size, "%s/daa/daad.log", state);
	else
		snprintf(buf, size, "%s/.local/state/daa/daad.log", home && *home ? home : "/tmp");
}

/* Go to the background: the parent waits until the child is listening (or
 * failed, printing why), like tmux's server start. */
static void main_daemonize(const struct main_opts *o)
{
	char logpath[PATH_MAX], dir[PATH_MAX];
	main_log_path(o, logpath, sizeof(logpath));
	snprintf(dir, sizeof(dir), "%s", logpath);
	char *slash = strrchr(dir, '/');
	struct proto_err err = {0};
	if (slash && slash != dir) {
		*slash = '\0';
		fsu_mkdir_p(dir, 0700, &err);
	}
	int logfd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	int p[2];
	if (logfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "daad: cannot open the log %s: %s\n", logpath, strerror(errno));
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "daad: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		char msg[512];
		ssize_t n = read(p[0], msg, sizeof(msg) - 1);
		if (n == 1 && msg[0] == 'R')
			exit(0);
		msg[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "daad: %s\n", n > 0 ? msg : "failed to start (see the log)");
		fprintf(stderr, "daad: log: %s\n", logpath);
		exit(1);
	}
	close(p[0]);
	ready_fd = p[1];
	setsid();
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(devnull, 0);
	dup2(logfd, 1);
	dup2(logfd, 2);
	close(devnull);
	close(logfd);
	if (chdir("/") < 0)
		main_fatal("chdir /");
}

/* Block the signals we read through a signalfd; ignore SIGPIPE.  SIGCHLD is
 * blocked too, before any thread exists, but read by the loop's child
 * watcher (daemon/core/loop_child.c), only where pidfds are missing. */
static int main_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	sigset_t blocked = set;
	sigaddset(&blocked, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &blocked, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* A signal arrived. */
static void main_signal_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)events;
	(void)ud;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM: server_request_shutdown("SIGTERM"); break;
		case SIGINT: server_request_shutdown("SIGINT"); break;
		case SIGHUP: log_info("SIGHUP ignored (restart daad to reload its configuration)"); break;
		default: break;
		}
	}
}

/* Before each wait: a new turn for the server's fairness budget. */
static void main_before_wait(struct loop *l, void *ud)
{
	(void)l;
	(void)ud;
	server_before_wait();
}

/* Start the kernel manager and the agent. */
static void main_start_parts(struct loop *l, const struct daa_config *cfg)
{
	struct proto_err err = {0};
	struct kern_config kc = {
		.python = cfg->python,
		.runtime_dir = cfg->runtime_dir,
		.step_timeout_s = (int)config_int(cfg->kernel, "step_timeout_s", 120),
		.idle_timeout_s = (int)config_int(cfg->kernel, "idle_timeout_s", 1800),
		.allow_unconfined = config_bool(cfg->sandbox, "allow_missing_layers", false),
		.warm_spare = config_bool(cfg->kernel, "warm_spare", true),
	};
	if (kern_init(l, &kc, &err) < 0 || agent_init(l, &err) < 0)
		main_fatal(err.msg);
}

/* The orderly stop: no new clients, no new job; every open project closes
 * as project.delete closes one, in the parts' written order (project.h:
 * kernels stop, turns end, profile jobs fail, waiting jobs are dropped,
 * the data/ watch goes); then each part frees what is left of its own, the
 * replies are flushed and the handles forgotten. */
static void main_stop_parts(void)
{
	struct proto_err why;
	proto_fail(&why, PROTO_ERR_SHUTDOWN, "the daemon is shutting down");
	daa_sd_notify("STOPPING=1");
	server_stop_listening();
	workq_stop();
	proj_close_open(&why);
	agent_shutdown();
	kern_shutdown();
	hist_shutdown(); /* after the kernels: no replay answer comes any more */
	server_stop(2000);
	proj_watch_shutdown();
	proj_close_all();
}

/* daad: a list of named steps. */
int main(int argc, char **argv)
{
	struct main_opts o = {0};
	struct proto_err err = {0};
	main_parse(argc, argv, &o);
	if (config_load(&o.cli, &err) < 0) {
		fprintf(stderr, "daad: %s\n", err.msg);
		return 1;
	}
	const struct daa_config *cfg = config_get();
	log_set_level(cfg->log_level);
	int nfds = daa_sd_listen_fds();
	if (!o.foreground && nfds == 0)
		main_daemonize(&o);
	int sfd = main_signals();
	struct loop *l = loop_new();
	if (sfd < 0 || !l || loop_fd_add(l, sfd, LOOP_READ, main_signal_cb, NULL) < 0)
		main_fatal("cannot set up the event loop");
	loop_set_before_wait(l, main_before_wait, NULL);
	if (server_start(l, cfg, nfds > 0 ? DAA_SD_LISTEN_FDS_START : -1, &err) < 0)
		main_fatal(err.msg);
	proj_startup_cleanup();
	proj_watch_init(l);
	hist_figures_init();
	main_start_parts(l, cfg);
	log_info("daad %s ready (pid %d, projects in %s)", DAA_VERSION, (int)getpid(),
		 cfg->data_dir);
	daa_sd_notify("READY=1");
	if (ready_fd >= 0) {
		ssize_t w = write(ready_fd, "R", 1);
		(void)w;
		close(ready_fd);
		ready_fd = -1;
	}
	int rc = loop_run(l);
	main_stop_parts();
	loop_free(l);
	close(sfd);
	config_free();
	log_info("daad stopped");
	return rc < 0 ? 1 : 0;
}
