/*
 * daemon/rpc.h — the RPC method table and the ways a handler replies.
 *
 * Each method lives in its own file (or small family) and registers itself
 * with RPC_METHOD(): the entry lands in the "daa_rpc" linker section, so no
 * central list needs editing.  The dispatcher (server.c) validates params
 * centrally against the entry's field table before calling the handler.
 *
 * Replies go out by connection id, never by pointer: a handler that answers
 * later (an `ask` that runs a whole turn) keeps an rpc_reply_to, and if the
 * client has gone meanwhile the reply is dropped quietly.
 */
#ifndef DAA_RPC_H
#define DAA_RPC_H

#include <stdarg.h>
#include <stdint.h>
#include "protocol/proto.h"

struct rpc_reply_to {
	uint64_t conn_id;
	uint32_t msgid;
};

/* One request being handled.  Owned by the dispatcher; valid only during the
 * handler call (copy what you keep: the zone is freed after it returns). */
struct rpc_req {
	struct rpc_reply_to from;
	const char *method;
	const struct proto_value *args; /* args[i] matches entry->params[i] */
	msgpack_zone *zone;             /* per-request arena */
};

typedef void (*rpc_handler)(struct rpc_req *req);

struct rpc_method {
	const char *name;                  /* "noun.verb" */
	const struct proto_field *params;  /* terminated by {NULL} */
	rpc_handler handler;
	const char *summary;               /* one line, for `daa help` and logs */
};

#define RPC_METHOD(ident, name_, params_, handler_, summary_)                     \
	static const struct rpc_method rpc_entry_##ident = {name_, params_, handler_, \
							     summary_};               \
	static const struct rpc_method *const rpc_ptr_##ident                        \
		__attribute__((used, section("daa_rpc"), aligned(sizeof(void *)))) =  \
			&rpc_entry_##ident

/* Lookup over all registered methods (NULL when unknown). */
const struct rpc_method *rpc_method_find(const char *name);
/* Iterate: i from 0 while the result is not NULL. */
const struct rpc_method *rpc_method_at(size_t i);

/*
 * Replying.  Pack exactly one object (the result) between begin and end.
 * One reply is built at a time (single-threaded daemon; begin/end must not nest
 * with another begin).  If the connection is gone, end() drops the bytes.
 */
msgpack_packer *rpc_result_begin(struct rpc_reply_to to);
void rpc_result_end(void);
/* Shorthand: result {ok: true}. */
void rpc_reply_ok(struct rpc_reply_to to);
void rpc_reply_error(struct rpc_reply_to to, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rpc_reply_err(struct rpc_reply_to to, const struct proto_err *err);

/*
 * Notifications.  Pack exactly one params map between begin and one of the
 * ends.  Projects are identified by their absolute folder path.
 */
msgpack_packer *rpc_notify_begin(const char *method);
void rpc_notify_end_conn(uint64_t conn_id);
void rpc_notify_end_project(const char *project_path);

/* A connection follows a project's events (turn.event, ...); dropped on close. */
void rpc_subscribe(uint64_t conn_id, const char *project_path);
void rpc_unsubscribe(uint64_t conn_id, const char *project_path);
/* Is the connection still open? */
bool rpc_conn_alive(uint64_t conn_id);

#endif
