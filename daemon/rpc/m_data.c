/*
 * daemon/rpc/m_data.c — data.add / data.list (protocol/PROTOCOL.md).
 * A small file is copied on the daemon's thread (copy_file_range: a reflink
 * or an in-kernel copy); a big one in a forked child that only copies and
 * exits, so the loop never waits on the disk; the reply goes out when the
 * child is reaped (loop_child_watch).  The child dies with the daemon
 * (PR_SET_PDEATHSIG) and then removes its temp file itself.  Each dataset carries its profile
 * status (daemon/profiler/profiler.h); adding one starts its profile in the background.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "daemon/kernel/kernel.h"
#include "daemon/core/log.h"
#include "daemon/profiler/profiler.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"
#include "daemon/server/server.h"

#define M_DATA_ASYNC_BYTES (8LL * 1024 * 1024)

struct m_data_copy {
	struct proj *proj;
	struct proj_data_job *job;
	struct rpc_reply_to to;
	int result_fd; /* the child writes its result (an int errno) here */
};

static const struct proto_field add_params[] = {
	{"project", PROTO_T_STR, false}, {"path", PROTO_T_STR, true},
	{"name", PROTO_T_STR, false},    {"overwrite", PROTO_T_BOOL, false},
	{NULL, PROTO_T_ANY, false}};
static const struct proto_field list_params[] = {{"project", PROTO_T_STR, false},
						 {NULL, PROTO_T_ANY, false}};

/* Finish a job: the result with the profile the change callback started, or
 * NULL with err. */
static json_t *m_data_finish(struct proj *p, struct proj_data_job *job, int copy_errno,
			     struct proto_err *err)
{
	json_t *res = proj_data_finish(job, copy_errno, err);
	if (res)
		json_object_set_new(res, "profile", prof_status(p, res));
	return res;
}

/* The copying child exited: its result is in the pipe (nothing there: it died). */
static void m_data_child_cb(struct loop *l, pid_t pid, int status, void *ud)
{
	struct m_data_copy *c = ud;
	(void)l;
	int copy_errno = EIO;
	if (read(c->result_fd, &copy_errno, sizeof(copy_errno)) != (ssize_t)sizeof(copy_errno)) {
		log_warn("data.add: copying child %d died (status 0x%x)", (int)pid, (unsigned)status);
		copy_errno = EIO;
	}
	close(c->result_fd);
	struct proto_err err = {0};
	json_t *res = m_data_finish(c->proj, c->job, copy_errno, &err);
	if (res)
		rpc_reply_value(c->to, res);
	else
		rpc_reply_err(c->to, &err);
	json_decref(res);
	free(c);
}

static const char *child_tmp; /* in the copying child: its temp file */

/* In the child, SIGTERM (the daemon died): remove the temp file and leave. */
static void m_data_child_term(int sig)
{
	(void)sig;
	unlink(child_tmp);
	_exit(1);
}

/* In the child: die with the daemon (SIGTERM, handled: the temp file goes too). */
static void m_data_child_tie(struct proj_data_job *job, pid_t daemon_pid)
{
	child_tmp = proj_data_job_tmp(job);
	struct sigaction sa = {.sa_handler = m_data_child_term};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_UNBLOCK, &set, NULL); /* the daemon blocks it for its signalfd */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != daemon_pid)
		m_data_child_term(SIGTERM);
}

/* In the child: copy, report, exit (nothing else: no atexit, no loop). */
static void __attribute__((noreturn)) m_data_child(struct proj_data_job *job, int wfd,
						   pid_t daemon_pid)
{
	m_data_child_tie(job, daemon_pid);
	int e = proj_data_copy(job);
	ssize_t w = write(wfd, &e, sizeof(e));
	(void)w;
	_exit(e ? 1 : 0);
}

/* Copy in a child; -1 when it could not be started (then copy inline). */
static int m_data_fork(struct rpc_reply_to to, struct proj *proj, struct proj_data_job *job)
{
	struct m_data_copy *c = malloc(sizeof(*c));
	int p[2];
	if (!c || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(c);
		return -1;
	}
	c->proj = proj;
	c->job = job;
	c->to = to;
	c->result_fd = p[0];
	pid_t daemon_pid = getpid();
	pid_t pid = fork();
	if (pid == 0)
		m_data_child(job, p[1], daemon_pid);
	close(p[1]);
	if (pid < 0 || !loop_child_watch(server_loop(), pid, m_data_child_cb, c)) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		close(p[0]);
		free(c);
		return -1;
	}
	log_debug("data.add: copying %lld bytes in child %d", proj_data_job_size(job), (int)pid);
	return 0;
}

/* data.add {project?, path, name?, overwrite?} → {name, file, bytes, format, path}. */
static json_t *m_data_add(struct rpc_req *req)
{
	struct proto_err err = {0};
	const struct proto_value *a = req->args;
	struct proj *p = req->proj;
	struct proj_data_job *job = proj_data_begin(p, a[1].str, a[2].present ? a[2].str : NULL,
						    a[3].present && a[3].b, &err);
	if (!job)
		return rpc_fail_err(req, &err);
	if (proj_data_job_size(job) >= M_DATA_ASYNC_BYTES && m_data_fork(req->from, p, job) == 0)
		return RPC_LATER;
	json_t *res = m_data_finish(p, job, proj_data_copy(job), &err);
	return res ? res : rpc_fail_err(req, &err);
}
RPC_METHOD_PROJECT(data_add, "data.add", add_params, m_data_add,
		   "copy a dataset file into the project's data/ folder");

/* data.list {project?} → {datasets: [...]}. */
static json_t *m_data_list(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct proj *p = req->proj;
	json_t *ds = proj_datasets(p, &err), *d;
	size_t i;
	if (!ds)
		return rpc_fail_err(req, &err);
	json_array_foreach(ds, i, d)
		json_object_set_new(d, "profile", prof_status(p, d));
	return json_pack("{s:o, s:s}", "datasets", ds, "project_path", proj_path(p));
}
RPC_METHOD_PROJECT(data_list, "data.list", list_params, m_data_list, "the project's datasets");
