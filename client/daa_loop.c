/*
 * client/daa_loop.c — the CLI's event loop: poll() (ppoll with the command's
 * signal mask, so Ctrl-C interrupts exactly the waits) driving the
 * protocol's client core (protocol/proto_async.h) on cli->conn, plus one
 * more fd to read when a command wants it (the chat's keyboard).  Every
 * call the CLI waits for has a struct cli_call that the core fills when the
 * response comes or the connection closes.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "client/cli.h"

/* Open cli->conn to cli->socket; 0, or -1 with err (errno kept). */
int cli_conn_open(struct cli *cli, struct proto_err *err)
{
	int fd = proto_connect(cli->socket, false, err);
	if (fd < 0)
		return -1;
	cli->conn = proto_async_new(fd, 0, 0);
	if (!cli->conn) {
		errno = ENOMEM;
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	return 0;
}

/* Close cli->conn (calls still pending are told) and forget it. */
void cli_conn_close(struct cli *cli)
{
	proto_async_free(cli->conn);
	cli->conn = NULL;
}

/* The core's reply into the call's slot (the response message is taken). */
static void call_reply_cb(const struct proto_reply *r, void *ud)
{
	struct cli_call *call = ud;
	call->done = true;
	if (r->msg) {
		call->msg = *r->msg;
		memset(r->msg, 0, sizeof(*r->msg));
		return;
	}
	call->failed = true;
	call->sys_errno = r->sys_errno;
	snprintf(call->why, sizeof(call->why), "%s", r->errmsg);
}

uint32_t cli_send(struct cli *cli, const char *method, struct cli_params *p,
		  struct cli_call *call, struct proto_err *err)
{
	if (call)
		memset(call, 0, sizeof(*call));
	uint32_t id = proto_async_call(cli->conn, method, cli_pack_params, p,
				       call ? call_reply_cb : NULL, call);
	if (!id) {
		const char *why = proto_async_error(cli->conn, NULL);
		proto_fail(err, PROTO_ERR_IO, "%s", why ? why : "out of memory");
	}
	if (call)
		call->id = id;
	return id;
}

void cli_call_forget(struct cli *cli, struct cli_call *call)
{
	if (call->id && !call->done && cli->conn)
		proto_async_cancel(cli->conn, call->id);
	proto_msg_done(&call->msg);
	memset(call, 0, sizeof(*call));
}

int cli_loop_once(struct cli *cli, int extra_fd, int timeout_ms)
{
	struct proto_async *a = cli->conn;
	if (proto_async_handle(a, 0) < 0) /* a failed direct write is reported here */
		return -2;
	int ev = proto_async_events(a);
	struct pollfd pf[2] = {
		{.fd = proto_async_fd(a), .events = (short)((ev & PROTO_ASYNC_READ ? POLLIN : 0) |
							    (ev & PROTO_ASYNC_WRITE ? POLLOUT : 0))},
		{.fd = extra_fd, .events = POLLIN}};
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
	int rc = cli->wait_mask ? ppoll(pf, 2, timeout_ms < 0 ? NULL : &ts, cli->wait_mask)
				: poll(pf, 2, timeout_ms);
	if (rc < 0)
		return -1;
	int ready = (pf[0].revents & (POLLIN | POLLHUP | POLLERR) ? PROTO_ASYNC_READ : 0) |
		    (pf[0].revents & POLLOUT ? PROTO_ASYNC_WRITE : 0);
	if (ready && proto_async_handle(a, ready) < 0)
		return -2;
	return extra_fd >= 0 && pf[1].revents ? 1 : 0;
}

/* Monotonic milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cli_loop_until(struct cli *cli, struct cli_call *call, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	while (!call->done) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		int rc = cli_loop_once(cli, -1, (int)left);
		if (rc == -1)
			return -1;
		if (rc == -2 && !call->done) { /* closed before this call was made */
			const char *why = proto_async_error(cli->conn, &call->sys_errno);
			call->done = call->failed = true;
			snprintf(call->why, sizeof(call->why), "%s", why);
		}
	}
	return 0;
}

/* The call failed in transport: done, failed, with why. */
static int call_fail(struct cli_call *call, int sys_errno, const char *why)
{
	call->done = call->failed = true;
	call->sys_errno = sys_errno;
	snprintf(call->why, sizeof(call->why), "%s", why);
	return -1;
}

int cli_call_wait(struct cli *cli, const char *method, struct cli_params *p, int timeout_ms,
		  struct cli_call *call)
{
	struct proto_err err;
	int e = 0;
	if (!cli_send(cli, method, p, call, &err)) {
		proto_async_error(cli->conn, &e);
		return call_fail(call, e, err.msg);
	}
	if (cli_loop_until(cli, call, timeout_ms) < 0) {
		e = errno;
		cli_call_forget(cli, call);
		return call_fail(call, e, e == ETIMEDOUT ? "the daemon did not answer in time"
							 : "interrupted while waiting for the daemon");
	}
	return call->failed ? -1 : 0;
}
