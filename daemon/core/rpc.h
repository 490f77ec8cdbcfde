/*
 * daemon/core/rpc.h — the RPC method table and the ways a handler replies.
 *
 * Each method lives in its own file (or small family) and registers itself
 * with RPC_METHOD() (or RPC_METHOD_PROJECT()): the entry lands in the
 * "daa_rpc" linker section, so no central list needs editing.  The
 * dispatcher (server.c) validates params centrally against the entry's
 * field table and, for a method marked RPC_PROJECT, resolves the project
 * (params[0], "project": a name, a folder path, or absent for the default)
 * once, before calling the handler with it in req->proj.
 *
 * A handler returns its reply as a value: the result (a json_t the
 * dispatcher packs, sends and frees), NULL after rpc_fail*() for an error
 * reply, or RPC_LATER when it answers by itself — later, by connection id
 * (an `ask` that runs a whole turn keeps req->from; if the client has gone
 * meanwhile the reply is dropped quietly), or at once through
 * rpc_reply_value() when a notification must follow its reply.
 * Notifications go through daemon/project/publish.h.
 */
#ifndef DAA_RPC_H
#define DAA_RPC_H

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include "protocol/proto.h"

struct proj;

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
	struct proj *proj;              /* RPC_PROJECT methods: the project (borrowed) */
	int err_code;                   /* set by rpc_fail*() */
	char err_msg[512];
};

/* The result (new reference), NULL after rpc_fail*(), or RPC_LATER. */
typedef json_t *(*rpc_handler)(struct rpc_req *req);

/* "I answer by myself": the handler keeps req->from (or already replied). */
extern json_t rpc_later_marker;
#define RPC_LATER (&rpc_later_marker)

#define RPC_PROJECT 1u /* params[0] is "project": resolved into req->proj */

struct rpc_method {
	const char *name;                  /* "noun.verb" */
	const struct proto_field *params;  /* terminated by {NULL} */
	rpc_handler handler;
	const char *summary;               /* one line, for `daa help` and logs */
	unsigned flags;                    /* RPC_PROJECT */
};

#define RPC_METHOD_FLAGS(ident, name_, params_, handler_, summary_, flags_)       \
	static const struct rpc_method rpc_entry_##ident = {name_, params_, handler_, \
							     summary_, flags_};       \
	static const struct rpc_method *const rpc_ptr_##ident                        \
		__attribute__((used, section("daa_rpc"), aligned(sizeof(void *)))) =  \
			&rpc_entry_##ident
#define RPC_METHOD(ident, name_, params_, handler_, summary_) \
	RPC_METHOD_FLAGS(ident, name_, params_, handler_, summary_, 0u)
/* A method whose first param is the optional (or required) "project". */
#define RPC_METHOD_PROJECT(ident, name_, params_, handler_, summary_) \
	RPC_METHOD_FLAGS(ident, name_, params_, handler_, summary_, RPC_PROJECT)


/* Handlers: set the error reply (printf-style, or from a proto_err) and
 * return NULL, so `return rpc_fail(req, ...);` ends the handler. */
json_t *rpc_fail(struct rpc_req *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_t *rpc_fail_err(struct rpc_req *req, const struct proto_err *err);

/* Building results: a string without the UTF-8 check jansson makes (a path
 * or a file's text goes out byte for byte, as msgpack str), JSON null for
 * NULL; and {ok: true}. */
json_t *rpc_str(const char *s);
json_t *rpc_strn(const char *s, size_t len);
json_t *rpc_ok(void);

/* Replying by connection id (later, or before a notification): the result
 * (borrowed), {ok: true}, or an error.  Dropped when the client has gone.
 * Defined here (daemon/core/rpc_reply.c) on top of the transport the
 * server sets at start, so the layers below the server (the agent, the
 * work queue) never call up into it. */
void rpc_reply_value(struct rpc_reply_to to, const json_t *result);
void rpc_reply_error(struct rpc_reply_to to, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rpc_reply_err(struct rpc_reply_to to, const struct proto_err *err);
/* The result as packed msgpack bytes (one object), for a handler that keeps
 * parts of its replies packed (history.list's index). */
void rpc_reply_packed(struct rpc_reply_to to, const char *result, size_t len);

/* Is the connection still open? */
bool rpc_conn_alive(uint64_t conn_id);

/* The connections side of the replies above, provided by the server
 * (daemon/server/server.c) through rpc_transport_set at start: send a
 * response (packed result bytes, or a value when packed is NULL), send an
 * error response, tell whether a connection is open.  Before it is set
 * (and in unit tests without a server) replies are dropped and no
 * connection is alive. */
struct rpc_transport {
	void (*send)(struct rpc_reply_to to, const char *packed, size_t len, const json_t *value);
	void (*error)(struct rpc_reply_to to, int code, const char *msg);
	bool (*alive)(uint64_t conn_id);
};
void rpc_transport_set(const struct rpc_transport *t);

#endif
