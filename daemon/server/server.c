/*
 * daemon/server/server.c — the listening socket, client connections and the RPC
 * dispatcher (daemon/server/server.h, daemon/core/rpc.h).
 *
 * Fairness: each loop turn serves a connection at most SRV_TURN_REQS
 * requests, SRV_TURN_MS of handler time and SRV_TURN_BYTES of input; one
 * with more left (requests already buffered, which epoll will not report
 * again) is marked pending and served again next turn through a 0 ms timer,
 * so a client pipelining hundreds of calls delays another's ping by one
 * budget, not by its whole backlog.  A connection with more than
 * SRV_PAUSE_BYTES of replies waiting is not read until they are written
 * (a client that pipelines without reading stalls itself, not the daemon).
 * DAA_FAIR_BUDGET=0 in the environment turns all this off (the benchmark's
 * "before": bench/fairness/).  Each complete request is validated against
 * its method's field table, its project resolved (methods marked
 * RPC_PROJECT), and handed to the handler with the message's zone as the
 * per-request arena, freed right after.  The handler returns its result as
 * a value, packed here into a buffer of its own (no reply is ever built in
 * shared state).  Replies and notifications (daemon/project/publish.c) are written
 * directly; what the socket does not take is queued and sent on
 * LOOP_WRITE.  A client whose queue passes max_queued is dropped.
 * Connections are never freed inside a callback: closing marks them dead,
 * and they are freed at the end of the loop turn (loop_defer).
 */
#include "daemon/server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "daemon/core/mpjson.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "daemon/core/rpc.h"
#include "daemon/server/server_int.h"

static const struct rpc_method *rpc_method_find(const char *name);

static const struct rpc_method *rpc_method_at(size_t i);

#define SRV_TURN_REQS 8                  /* requests per connection per turn */
#define SRV_TURN_MS 4                    /* handler time per connection per turn */
#define SRV_TURN_BYTES (256u * 1024)     /* input read per connection per turn */
#define SRV_PAUSE_BYTES (1u << 20)       /* replies waiting: stop reading */
#define SRV_FD_HEADROOM 128              /* fds kept for kernels, files, children */
#define SRV_MAX_FIELDS 32

struct conn {
	uint64_t id;
	int fd;
	struct proto_reader *rd;
	char *wbuf;
	size_t wlen, woff, wcap;
	bool dead, closing;
	bool pending;       /* more to serve next turn (see server_pending_cb) */
	uint64_t turn;      /* the loop turn it was last served in ... */
	uint64_t turn_ms;   /* ... when that began, */
	size_t turn_reqs, turn_bytes; /* and what it took */
};

static struct {
	struct loop *loop;
	const struct daa_config *cfg;
	int lfd, lockfd;
	bool activated, listening, shutting_down;
	char path[108], lockpath[128];
	struct conn **conns;
	size_t nconns, capconns;
	uint64_t next_id;
	uint64_t started_ms;
	uint64_t turn;            /* loop turns (server_before_wait) */
	uint64_t reap_defer;      /* loop_defer freeing the dead connections */
	uint64_t pending_timer;   /* 0 ms timer serving pending connections */
	bool no_budget;           /* DAA_FAIR_BUDGET=0 */
	int max_clients;          /* max_clients, lowered to fit RLIMIT_NOFILE */
	bool fd_bound;            /* ... and it was */
} srv = {.lfd = -1, .lockfd = -1};

static void conn_close(struct conn *c, const char *why);
static void conn_io_cb(struct loop *l, int fd, int events, void *ud);
static void conn_mark_pending(struct conn *c);

/* ---------- connections ---------- */

/* A live connection by id, or NULL. */
static struct conn *conn_find(uint64_t id)
{
	for (size_t i = 0; i < srv.nconns; i++)
		if (srv.conns[i]->id == id && !srv.conns[i]->dead)
			return srv.conns[i];
	return NULL;
}

/* Number of live connections. */
int server_client_count(void)
{
	int n = 0;
	for (size_t i = 0; i < srv.nconns; i++)
		n += !srv.conns[i]->dead;
	return n;
}

/* How core/rpc_reply.c's replies reach the connections (defined below). */
static const struct rpc_transport server_transport;

/* Is the connection still open? (the transport's `alive`) */
static bool conn_alive(uint64_t conn_id)
{
	return conn_find(conn_id) != NULL;
}

static void server_reap_cb(struct loop *l, void *ud);

/* Mark a connection dead: unregister and close its fd now, free it at the
 * end of the loop turn. */
static void conn_close(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	log_debug("client %llu closed: %s", (unsigned long long)c->id, why);
	c->dead = true;
	pub_conn_gone(c->id);
	loop_fd_del(srv.loop, c->fd);
	close(c->fd);
	c->fd = -1;
	if (!srv.reap_defer) /* 0 (out of memory): the next close asks again */
		srv.reap_defer = loop_defer(srv.loop, server_reap_cb, NULL);
}

/* Free a dead connection. */
static void conn_free(struct conn *c)
{
	proto_reader_free(c->rd);
	free(c->wbuf);
	free(c);
}

/* A new loop turn begins (before each wait). */
void server_before_wait(void)
{
	srv.turn++;
}

/* Free the dead connections (end of the loop turn, and server_stop). */
static void server_reap_cb(struct loop *l, void *ud)
{
	(void)l, (void)ud;
	srv.reap_defer = 0;
	size_t j = 0;
	for (size_t i = 0; i < srv.nconns; i++) {
		if (srv.conns[i]->dead)
			conn_free(srv.conns[i]);
		else
			srv.conns[j++] = srv.conns[i];
	}
	srv.nconns = j;
}

/* Bytes of replies waiting for c. */
static size_t conn_queued(const struct conn *c)
{
	return c->wlen - c->woff;
}

/* Too many replies wait for c to take more requests from it. */
static bool conn_paused(const struct conn *c)
{
	return !srv.no_budget && conn_queued(c) > SRV_PAUSE_BYTES;
}

/* Watch c for reading unless closing or paused, for writing when replies wait. */
static void conn_interest(struct conn *c)
{
	int ev = c->closing || conn_paused(c) ? 0 : LOOP_READ;
	if (conn_queued(c))
		ev |= LOOP_WRITE;
	loop_fd_mod(srv.loop, c->fd, ev);
}

/* Write queued bytes; switch write interest as needed.  -1 when closed. */
static int conn_flush(struct conn *c)
{
	bool was_paused = conn_paused(c);
	while (c->woff < c->wlen) {
		ssize_t w = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			conn_close(c, strerror(errno));
			return -1;
		}
		c->woff += (size_t)w;
	}
	if (c->woff == c->wlen) {
		c->woff = c->wlen = 0;
		if (c->wcap > SRV_TURN_BYTES) { /* a burst is over: give its memory back */
			free(c->wbuf);
			c->wbuf = NULL;
			c->wcap = 0;
		}
		if (c->closing) {
			conn_close(c, "closed after the error reply");
			return -1;
		}
	}
	conn_interest(c);
	if (was_paused && !conn_paused(c))
		conn_mark_pending(c); /* requests may be buffered: epoll will not say */
	return 0;
}

/* Append bytes to the queue (compacting it first when that makes room:
 * not on every append, which moved the whole queue per reply). */
static int conn_queue(struct conn *c, const char *data, size_t len)
{
	if (c->woff > 0 && c->wlen + len > c->wcap) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (c->wlen + len > c->wcap) {
		size_t n = c->wcap ? c->wcap : 4096;
		while (n < c->wlen + len)
			n *= 2;
		char *p = realloc(c->wbuf, n);
		if (!p)
			return -1;
		c->wbuf = p;
		c->wcap = n;
	}
	memcpy(c->wbuf + c->wlen, data, len);
	c->wlen += len;
	return 0;
}

/* Send one whole message to c: directly when nothing is queued, else queue. */
static void conn_send(struct conn *c, const char *data, size_t len)
{
	if (c->dead)
		return;
	bool was_queued = c->wlen > c->woff;
	if (!was_queued) {
		ssize_t w;
		do
			w = send(c->fd, data, len, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_close(c, strerror(errno));
			return;
		}
		if (w > 0) {
			data += w;
			len -= (size_t)w;
		}
		if (len == 0) {
			if (c->closing)
				conn_close(c, "closed after the error reply");
			return;
		}
	}
	if (was_queued && c->wlen - c->woff + len > srv.cfg->max_queued) {
		log_warn("client %llu does not read its replies (%zu bytes queued): dropped",
			 (unsigned long long)c->id, c->wlen - c->woff);
		conn_close(c, "write queue over the cap");
		return;
	}
	if (conn_queue(c, data, len) < 0) {
		conn_close(c, "out of memory");
		return;
	}
	conn_interest(c);
}

/* The publisher's sink (daemon/project/publish.h): one packed notification to a
 * connection; -1 when it is gone (or the send closed it). */
static int server_sink(uint64_t conn_id, const char *bytes, size_t len, void *ud)
{
	(void)ud;
	struct conn *c = conn_find(conn_id);
	if (!c)
		return -1;
	conn_send(c, bytes, len);
	return c->dead ? -1 : 0;
}

/* ---------- dispatch ---------- */

/* Send an error response now (msgid known). */
static void conn_error(struct conn *c, uint32_t msgid, int code, const char *msg)
{
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_error_response(&b.pk, msgid, code, msg);
	conn_send(c, b.sb.data, b.sb.size);
	proto_buf_free(&b);
}

/* Is the method marked RPC_PROJECT with params[0] the string "project"?
 * (A table that marks it wrongly is logged at start and refused here.) */
static bool method_project_ok(const struct rpc_method *m)
{
	return m->params && m->params[0].name && !strcmp(m->params[0].name, "project") &&
	       m->params[0].type == PROTO_T_STR;
}

/* Send what a handler returned: its result, its error, or nothing (RPC_LATER). */
static void server_answer(struct rpc_req *req, json_t *result)
{
	if (result == RPC_LATER)
		return;
	if (result) {
		rpc_reply_value(req->from, result);
		json_decref(result);
	} else if (req->err_code) {
		rpc_reply_error(req->from, req->err_code, "%s", req->err_msg);
	} else {
		log_error("%s: the handler made no reply", req->method);
		rpc_reply_error(req->from, PROTO_ERR_INTERNAL, "out of memory");
	}
}

/* Validate and run one request. */
static void server_dispatch(struct conn *c, struct proto_msg *m)
{
	const struct rpc_method *meth = rpc_method_find(m->method);
	char buf[300];
	if (!meth) {
		snprintf(buf, sizeof(buf), "unknown method '%.200s' (see protocol/PROTOCOL.md)",
			 m->method);
		conn_error(c, m->msgid, PROTO_ERR_NO_METHOD, buf);
		return;
	}
	size_t nf = 0;
	while (meth->params && meth->params[nf].name)
		nf++;
	struct proto_value vals[SRV_MAX_FIELDS];
	struct proto_err err = {0};
	memset(vals, 0, sizeof(vals));
	if (nf > SRV_MAX_FIELDS) {
		conn_error(c, m->msgid, PROTO_ERR_INTERNAL, "method table too large");
		return;
	}
	static const struct proto_field none[] = {{NULL, PROTO_T_ANY, false}};
	if (proto_params_read(m->params, meth->params ? meth->params : none, vals,
			      proto_msg_zone(m), &err) < 0) {
		snprintf(buf, sizeof(buf), "%s: %s", meth->name, err.msg);
		conn_error(c, m->msgid, err.code ? err.code : PROTO_ERR_PARAMS, buf);
		return;
	}
	struct rpc_req req = {
		.from = {.conn_id = c->id, .msgid = m->msgid},
		.method = meth->name,
		.args = vals,
		.zone = proto_msg_zone(m),
	};
	log_debug("client %llu: %s (#%u)", (unsigned long long)c->id, meth->name, m->msgid);
	if (meth->flags & RPC_PROJECT) {
		if (method_project_ok(meth))
			req.proj = proj_get(vals[0].present ? vals[0].str : NULL, &err);
		else
			proto_fail(&err, PROTO_ERR_INTERNAL, "%s: bad method table", meth->name);
		if (!req.proj) {
			conn_error(c, m->msgid, err.code ? err.code : PROTO_ERR_INTERNAL, err.msg);
			return;
		}
	}
	server_answer(&req, meth->handler(&req));
}

/* A broken stream: answer when the msgid is known, then close. */
static void conn_broken(struct conn *c, const struct proto_err *err, bool recoverable)
{
	uint32_t msgid;
	bool have = proto_reader_failed_msgid(c->rd, &msgid);
	log_info("client %llu sent a bad message: %s", (unsigned long long)c->id, err->msg);
	if (recoverable) {
		if (have)
			conn_error(c, msgid, err->code, err->msg);
		return;
	}
	if (have) {
		c->closing = true;
		conn_error(c, msgid, err->code, err->msg);
	} else {
		conn_close(c, err->msg);
	}
}

/* Has c used up this turn's budget (or are its replies piling up)? */
static bool conn_over_budget(struct conn *c)
{
	if (srv.no_budget)
		return false;
	return c->turn_reqs >= SRV_TURN_REQS || conn_paused(c) ||
	       loop_now_ms() - c->turn_ms >= SRV_TURN_MS;
}

/* Handle the complete messages buffered for c, within this turn's budget.
 * False when the budget ran out (more may be buffered). */
static bool conn_process(struct conn *c)
{
	while (!c->dead && !c->closing && !srv.shutting_down) {
		if (conn_over_budget(c))
			return false;
		struct proto_msg m;
		struct proto_err err = {0};
		bool recoverable = false;
		int r = proto_reader_next(c->rd, &m, &err, &recoverable);
		if (r == 0)
			return true;
		c->turn_reqs++;
		if (r < 0) {
			conn_broken(c, &err, recoverable);
			if (!recoverable)
				return true;
			continue;
		}
		if (m.kind == PROTO_REQUEST)
			server_dispatch(c, &m);
		else
			log_debug("client %llu: ignored a %s", (unsigned long long)c->id,
				  m.kind == PROTO_NOTIFY ? "notification" : "response");
		proto_msg_done(&m);
	}
	return true;
}

/* Read what the peer sent (up to this turn's byte budget) and process it. */
static void conn_read(struct conn *c)
{
	for (int i = 0; !c->dead && !c->closing; i++) {
		/* what is left in the socket is reported again by epoll */
		if (srv.no_budget ? i >= 16 : c->turn_bytes >= SRV_TURN_BYTES)
			return;
		size_t avail = 0;
		char *b = proto_reader_buffer(c->rd, 65536, &avail);
		if (!b) {
			conn_close(c, "out of memory");
			return;
		}
		ssize_t n = read(c->fd, b, avail);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (n == 0 && proto_reader_pending(c->rd) > 0)
				log_info("client %llu hung up in the middle of a message",
					 (unsigned long long)c->id);
			if (n == 0 && c->wlen > c->woff) {
				c->closing = true; /* flush what it asked for, then close */
				conn_interest(c);
				return;
			}
			conn_close(c, n == 0 ? "end of stream" : strerror(errno));
			return;
		}
		c->turn_bytes += (size_t)n;
		proto_reader_consumed(c->rd, (size_t)n);
		if (!conn_process(c)) {
			conn_mark_pending(c);
			return;
		}
	}
}

/* Serve c this turn: what is buffered first, then (readable) the socket. */
static void conn_serve(struct conn *c, bool readable)
{
	if (c->turn != srv.turn) {
		c->turn = srv.turn;
		c->turn_ms = loop_now_ms();
		c->turn_reqs = c->turn_bytes = 0;
	}
	c->pending = false;
	if (!conn_process(c))
		conn_mark_pending(c);
	else if (readable)
		conn_read(c);
}

/* The 0 ms timer: serve the connections left with work last turn. */
static void server_pending_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)l;
	(void)id;
	(void)ud;
	srv.pending_timer = 0;
	for (size_t i = 0; i < srv.nconns; i++) {
		struct conn *c = srv.conns[i];
		if (!c->dead && c->pending)
			conn_serve(c, false);
	}
}

/* c has buffered requests left: serve it again next turn (not while its
 * replies pile up: conn_flush calls this again once they are written). */
static void conn_mark_pending(struct conn *c)
{
	if (c->dead || c->closing || conn_paused(c))
		return;
	c->pending = true;
	if (!srv.pending_timer)
		srv.pending_timer = loop_timer_add(srv.loop, 0, server_pending_cb, NULL);
}

/* Loop callback of a connection. */
static void conn_io_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)fd;
	struct conn *c = ud;
	if (events & LOOP_WRITE)
		conn_flush(c);
	if (c->dead)
		return;
	if (events & LOOP_ERROR) {
		conn_close(c, "socket error");
		return;
	}
	if (c->closing) {
		/* only write interest is set: a hang-up here is a full one */
		if (events & LOOP_HUP)
			conn_close(c, "peer hung up");
		return;
	}
	if (events & (LOOP_READ | LOOP_HUP))
		conn_serve(c, true);
}

/* ---------- accepting ---------- */

/* Is the peer our own uid, and not a kernel? */
static bool conn_peer_ok(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		log_warn("cannot read the peer's credentials: %s; refused", strerror(errno));
		return false;
	}
	if (cr.uid != geteuid()) {
		log_warn("refused a client of uid %u (pid %d): only uid %u may connect",
			 (unsigned)cr.uid, (int)cr.pid, (unsigned)geteuid());
		return false;
	}
	if (server_peer_is_kernel(cr.pid)) {
		log_warn("refused a connection from kernel process %d (kernels may not use daad's socket)",
			 (int)cr.pid);
		return false;
	}
	return true;
}

/* Register a new connection for fd. */
static void conn_new(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (c)
		c->rd = proto_reader_new(srv.cfg->max_message, srv.cfg->max_depth);
	if (srv.nconns == srv.capconns && c) {
		size_t n = srv.capconns ? srv.capconns * 2 : 16;
		struct conn **p = realloc(srv.conns, n * sizeof(*p));
		if (p) {
			srv.conns = p;
			srv.capconns = n;
		}
	}
	if (!c || !c->rd || srv.nconns == srv.capconns ||
	    loop_fd_add(srv.loop, fd, LOOP_READ, conn_io_cb, c) < 0) {
		log_error("cannot take a new client: %s", strerror(errno ? errno : ENOMEM));
		if (c)
			proto_reader_free(c->rd);
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->id = ++srv.next_id;
	srv.conns[srv.nconns++] = c;
	log_debug("client %llu connected", (unsigned long long)c->id);
}

/* Tell a client past the connection cap which limit it hit, and close. */
static void server_refuse(int cfd)
{
	char msg[256];
	if (srv.fd_bound)
		snprintf(msg, sizeof msg,
			 "too many clients connected to daad: %d, the most its open-file limit "
			 "(ulimit -n) allows (config max_clients is %d)",
			 srv.max_clients, srv.cfg->max_clients);
	else
		snprintf(msg, sizeof msg,
			 "too many clients connected to daad: max_clients is %d (raise it in "
			 "config.json)", srv.max_clients);
	log_warn("a new client was refused: %s", msg);
	struct proto_buf b;
	json_t *params = json_pack("{s:i, s:s}", "code", PROTO_ERR_BUSY, "message", msg);
	proto_buf_init(&b);
	proto_pack_notify_head(&b.pk, "error"); /* not a connection yet: not published */
	mpjson_pack(&b.pk, params);
	json_decref(params);
	ssize_t w = send(cfd, b.sb.data, b.sb.size, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	proto_buf_free(&b);
	close(cfd);
}

/* The connection cap: max_clients, within the open-file limit (raised to
 * what it needs first, up to the hard limit: the loop is epoll, no fd_set). */
static void server_set_cap(void)
{
	struct rlimit rl;
	srv.max_clients = srv.cfg->max_clients;
	srv.fd_bound = false;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t want = (rlim_t)srv.max_clients + SRV_FD_HEADROOM;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rlim_t old = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = old;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		long fit = (long)rl.rlim_cur - SRV_FD_HEADROOM;
		srv.max_clients = fit > 1 ? (int)fit : 1;
		srv.fd_bound = true;
		log_warn("serving at most %d clients, not max_clients %d: the open-file limit is %ld",
			 srv.max_clients, srv.cfg->max_clients, (long)rl.rlim_cur);
	}
}

/* Accept every pending connection. */
static void server_accept_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)events;
	(void)ud;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (!conn_peer_ok(cfd)) {
			close(cfd);
			continue;
		}
		if (server_client_count() >= srv.max_clients) {
			server_refuse(cfd);
			continue;
		}
		conn_new(cfd);
	}
}

/* Log methods registered twice (two files claiming one name: the first wins). */
static void server_check_methods(void)
{
	const struct rpc_method *m, *o;
	size_t n = 0;
	for (size_t i = 0; (m = rpc_method_at(i)); i++, n++) {
		if ((m->flags & RPC_PROJECT) && !method_project_ok(m))
			log_error("RPC method %s takes a project but its first param is not "
				  "the string \"project\"", m->name);
		for (size_t j = 0; j < i && (o = rpc_method_at(j)); j++)
			if (!strcmp(m->name, o->name))
				log_error("RPC method %s is registered twice; one is unreachable",
					  m->name);
	}
	log_debug("%zu RPC methods registered", n);
}

/* Start listening (own socket, or the one systemd passed). */
int server_start(struct loop *l, const struct daa_config *cfg, int listen_fd,
		 struct proto_err *err)
{
	srv.loop = l;
	srv.cfg = cfg;
	srv.started_ms = loop_now_ms();
	const char *fair = getenv("DAA_FAIR_BUDGET");
	srv.no_budget = fair && !strcmp(fair, "0");
	server_set_cap();
	pub_set_sink(server_sink, NULL);
	rpc_transport_set(&server_transport);
	server_check_methods();
	snprintf(srv.path, sizeof(srv.path), "%s", cfg->socket_path);
	if (listen_fd >= 0) {
		srv.activated = true;
		srv.lfd = listen_fd;
		int fl = fcntl(listen_fd, F_GETFL);
		fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);
		if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) == 0 &&
		    sa.sun_family == AF_UNIX && sa.sun_path[0])
			snprintf(srv.path, sizeof(srv.path), "%s", sa.sun_path);
	} else {
		struct server_sock ss = {.lfd = -1, .lockfd = -1};
		int rc = server_sock_open(srv.path, &ss, err);
		srv.lockfd = ss.lockfd;
		snprintf(srv.lockpath, sizeof(srv.lockpath), "%s", ss.lockpath);
		if (rc < 0)
			return -1;
		srv.lfd = ss.lfd;
	}
	if (loop_fd_add(l, srv.lfd, LOOP_READ, server_accept_cb, NULL) < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot watch the socket: %s", strerror(errno));
	srv.listening = true;
	log_info("listening on %s%s", srv.path, srv.activated ? " (socket-activated)" : "");
	return 0;
}

/* Stop accepting; remove our socket file (never systemd's). */
void server_stop_listening(void)
{
	if (!srv.listening)
		return;
	srv.listening = false;
	loop_fd_del(srv.loop, srv.lfd);
	close(srv.lfd);
	srv.lfd = -1;
	if (!srv.activated)
		unlink(srv.path);
	if (srv.lockfd >= 0) {
		if (!srv.activated)
			unlink(srv.lockpath);
		close(srv.lockfd);
		srv.lockfd = -1;
	}
}

/* Flush every queue for up to timeout_ms, then close and free everything. */
void server_stop(int timeout_ms)
{
	uint64_t end = loop_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		struct pollfd pf[256];
		struct conn *pc[256];
		nfds_t n = 0;
		for (size_t i = 0; i < srv.nconns && n < 256; i++) {
			struct conn *c = srv.conns[i];
			if (!c->dead && c->wlen > c->woff) {
				pf[n] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
				pc[n++] = c;
			}
		}
		uint64_t now = loop_now_ms();
		if (n == 0 || now >= end)
			break;
		if (poll(pf, n, (int)(end - now)) <= 0)
			break;
		for (nfds_t i = 0; i < n; i++)
			if (pf[i].revents)
				conn_flush(pc[i]);
	}
	server_stop_listening();
	if (srv.pending_timer)
		loop_timer_cancel(srv.loop, srv.pending_timer);
	srv.pending_timer = 0;
	for (size_t i = 0; i < srv.nconns; i++)
		conn_close(srv.conns[i], "daemon stopping");
	loop_defer_cancel(srv.loop, srv.reap_defer);
	server_reap_cb(srv.loop, NULL);
	free(srv.conns);
	srv.conns = NULL;
	srv.nconns = srv.capconns = 0;
	pub_reset();
}

/* Ask the loop to stop; main does the orderly shutdown. */
void server_request_shutdown(const char *why)
{
	if (!srv.shutting_down)
		log_info("shutting down: %s", why);
	srv.shutting_down = true;
	if (srv.loop)
		loop_stop(srv.loop);
}

/* Seconds since server_start. */
uint64_t server_uptime_s(void)
{
	return (loop_now_ms() - srv.started_ms) / 1000u;
}

/* The socket served. */
const char *server_socket_path(void)
{
	return srv.path;
}

/* The daemon's loop (for method files that watch children or defer). */
struct loop *server_loop(void)
{
	return srv.loop;
}

/* ---------- rpc.h ---------- */

extern const struct rpc_method *const __start_daa_rpc[] __attribute__((weak));
extern const struct rpc_method *const __stop_daa_rpc[] __attribute__((weak));

/* The i-th registered method, or NULL past the end. */
static const struct rpc_method *rpc_method_at(size_t i)
{
	if (!__start_daa_rpc || !__stop_daa_rpc)
		return NULL;
	/* section bounds as addresses (the linker defines both ends) */
	size_t n = ((uintptr_t)__stop_daa_rpc - (uintptr_t)__start_daa_rpc) / sizeof(void *);
	return i < n ? __start_daa_rpc[i] : NULL;
}

/* A method by name. */
static const struct rpc_method *rpc_method_find(const char *name)
{
	const struct rpc_method *m;
	for (size_t i = 0; name && (m = rpc_method_at(i)); i++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/* A response to `to` holding either packed result bytes or a value
 * (borrowed); dropped when the client has gone. */
static void reply_send(struct rpc_reply_to to, const char *packed, size_t len,
		       const json_t *value)
{
	struct conn *c = conn_find(to.conn_id);
	if (!c) {
		log_debug("reply #%u dropped: client %llu has gone", to.msgid,
			  (unsigned long long)to.conn_id);
		return;
	}
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_response_head(&b.pk, to.msgid);
	if (packed)
		msgpack_sbuffer_write(&b.sb, packed, len);
	else
		mpjson_pack(&b.pk, value);
	conn_send(c, b.sb.data, b.sb.size);
	proto_buf_free(&b);
}

/* An error response to `to` (the transport's `error`; dropped when gone). */
static void reply_error(struct rpc_reply_to to, int code, const char *msg)
{
	struct conn *c = conn_find(to.conn_id);
	if (c)
		conn_error(c, to.msgid, code, msg);
}

static const struct rpc_transport server_transport = {
	.send = reply_send, .error = reply_error, .alive = conn_alive};
