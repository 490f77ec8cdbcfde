/*
 * protocol/proto.h — msgpack-RPC over a stream socket, as the public
 * msgpack-rpc spec defines it (request [0,id,method,params], response
 * [1,id,error,result], notification [2,method,params]).  params is an array
 * holding one map of named arguments.
 *
 * This library knows nothing of its callers (daemon, CLI, tray): it frames,
 * reads with caps (message size, nesting depth), builds messages, and checks
 * named parameters against a field table; the client core that drives a
 * connection is protocol/proto_async.h.  Depends on msgpack-c only.
 */
#ifndef DAA_PROTO_H
#define DAA_PROTO_H

#include <msgpack.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_DEFAULT_MAX_MSG (64u * 1024 * 1024)
#define PROTO_DEFAULT_MAX_DEPTH 32

/* Error codes carried in a response's error map {code, message, data?}. */
enum proto_errcode {
	PROTO_ERR_PARSE = -32700,      /* malformed msgpack */
	PROTO_ERR_INVALID = -32600,    /* msgpack, but not a msgpack-rpc message */
	PROTO_ERR_NO_METHOD = -32601,  /* unknown method */
	PROTO_ERR_PARAMS = -32602,     /* missing / wrong-typed / unknown param */
	PROTO_ERR_INTERNAL = -32603,   /* a bug or an unexpected system error */
	PROTO_ERR_TOO_LARGE = -32001,  /* message over the size cap */
	PROTO_ERR_TOO_DEEP = -32002,   /* nesting over the depth cap */
	PROTO_ERR_NOT_FOUND = -32004,  /* project, dataset, step... does not exist */
	PROTO_ERR_EXISTS = -32005,     /* name clash; nothing was overwritten */
	PROTO_ERR_BAD_INPUT = -32006,  /* invalid name, unsupported file... */
	PROTO_ERR_IO = -32007,         /* filesystem error (message says which) */
	PROTO_ERR_BUSY = -32008,       /* resource busy / limit reached */
	PROTO_ERR_CANCELLED = -32009,  /* the operation was cancelled */
	PROTO_ERR_SHUTDOWN = -32010,   /* daemon is shutting down */
	PROTO_ERR_SANDBOX = -32020,    /* a sandbox layer could not be applied */
	PROTO_ERR_KERNEL = -32021,     /* kernel crashed / timed out / not ready */
	PROTO_ERR_LLM = -32030,        /* LLM backend failed (message is actionable) */
	PROTO_ERR_NO_QUESTION = -32031 /* `answer` with no pending question */
};

/* A short symbolic name for an error code ("not_found"), never NULL. */
const char *proto_errname(int code);

/* An error to report: a code and a message a user can act on. */
struct proto_err {
	int code;
	char msg[256];
};
/* Fill err (printf-style). Returns -1 so callers can `return proto_fail(...)`. */
int proto_fail(struct proto_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum proto_kind { PROTO_REQUEST = 0, PROTO_RESPONSE = 1, PROTO_NOTIFY = 2 };

/*
 * One decoded message.  All pointers borrow from `unpacked` (its zone), which
 * the message owns: release with proto_msg_done().  The zone may also be
 * used as the per-request arena (proto_params_read copies strings into it).
 */
struct proto_msg {
	enum proto_kind kind;
	uint32_t msgid;                 /* request, response */
	const char *method;             /* request, notify (NUL-terminated copy) */
	const msgpack_object *params;   /* request, notify: the named-args map, or NULL if params was [] */
	const msgpack_object *error;    /* response: nil object or the error map */
	const msgpack_object *result;   /* response */
	msgpack_unpacked unpacked;
};
void proto_msg_done(struct proto_msg *msg);
/* The arena of a message (its msgpack zone). */
msgpack_zone *proto_msg_zone(struct proto_msg *msg);

/* Incremental reader over a byte stream (msgpack-c's streaming unpacker). */
struct proto_reader;
struct proto_reader *proto_reader_new(size_t max_msg, int max_depth);
void proto_reader_free(struct proto_reader *r);
/* Get a buffer of at least `want` bytes to read() into. */
char *proto_reader_buffer(struct proto_reader *r, size_t want, size_t *avail);
/* Tell the reader how many bytes were written into that buffer. */
void proto_reader_consumed(struct proto_reader *r, size_t n);
/*
 * Next complete message: 1 = msg filled (call proto_msg_done), 0 = need more
 * bytes, -1 = the stream is broken (err says why: PARSE, INVALID, TOO_LARGE,
 * TOO_DEEP); the connection should then be answered (if msgid known) and closed.
 * An INVALID message that was well-formed msgpack leaves the stream usable:
 * then -1 is returned with *recoverable = true and err->code == PROTO_ERR_INVALID;
 * recoverable may be NULL.
 */
int proto_reader_next(struct proto_reader *r, struct proto_msg *msg,
		      struct proto_err *err, bool *recoverable);
/*
 * After proto_reader_next returned -1: true (and *msgid set) when the failed
 * message was a request whose msgid could be read, so it can be answered with
 * an error response (also for TOO_LARGE / TOO_DEEP, found before the message
 * is complete).  msgid may be NULL.
 */
bool proto_reader_failed_msgid(const struct proto_reader *r, uint32_t *msgid);
/* Bytes buffered but not yet returned as messages (a peer that closes with
 * this > 0 sent a truncated message). */
size_t proto_reader_pending(const struct proto_reader *r);

/* Building messages.  A proto_buf is an sbuffer with a packer on it. */
struct proto_buf {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};
void proto_buf_init(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);
void proto_buf_reset(struct proto_buf *b);

/* Heads: pack the frame up to the payload; the caller then packs ONE object
 * (the params map for request/notify, the result for a response). */
void proto_pack_request_head(msgpack_packer *pk, uint32_t msgid, const char *method);
void proto_pack_notify_head(msgpack_packer *pk, const char *method);
void proto_pack_response_head(msgpack_packer *pk, uint32_t msgid);
/* A whole error response [1, msgid, {code, message}, nil]. */
void proto_pack_error_response(msgpack_packer *pk, uint32_t msgid, int code,
			       const char *message);

/* Small typed packing helpers (s may be NULL → nil). */
void proto_pack_str(msgpack_packer *pk, const char *s);
void proto_pack_strn(msgpack_packer *pk, const char *s, size_t n);
void proto_pack_kv_str(msgpack_packer *pk, const char *key, const char *val);
void proto_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val);
void proto_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t val);
void proto_pack_kv_bool(msgpack_packer *pk, const char *key, bool val);
void proto_pack_kv_nil(msgpack_packer *pk, const char *key);
/* Key only: the caller packs the value next. */
void proto_pack_key(msgpack_packer *pk, const char *key);
/* Deep-copy an object into the packer. */
void proto_pack_object(msgpack_packer *pk, const msgpack_object *o);

/* Reading named params against a field table (central validation). */
enum proto_type {
	PROTO_T_STR,    /* UTF-8 string (bin accepted) → v.str (NUL-terminated, in the arena), v.len */
	PROTO_T_INT,    /* integer → v.i */
	PROTO_T_UINT,   /* non-negative integer → v.u */
	PROTO_T_FLOAT,  /* float or integer → v.f */
	PROTO_T_BOOL,   /* boolean → v.b */
	PROTO_T_MAP,    /* map → v.obj */
	PROTO_T_ARRAY,  /* array → v.obj */
	PROTO_T_STRS,   /* array of strings → v.strs (NULL-terminated, in the arena), v.len = count */
	PROTO_T_ANY     /* anything → v.obj */
};
struct proto_field {
	const char *name;
	enum proto_type type;
	bool required;
};
struct proto_value {
	bool present;
	const char *str;
	const char **strs;
	size_t len;
	int64_t i;
	uint64_t u;
	double f;
	bool b;
	const msgpack_object *obj;
};
/*
 * Check `params` (a map, or NULL meaning no args) against `fields` (terminated
 * by an entry with name == NULL) and fill vals[i] for fields[i].  Unknown keys,
 * missing required fields and wrong types are errors naming the field.
 * Strings are copied NUL-terminated into `zone`; a string holding a NUL byte
 * is rejected.
 */
int proto_params_read(const msgpack_object *params, const struct proto_field *fields,
		      struct proto_value *vals, msgpack_zone *zone, struct proto_err *err);

/* Lookups on decoded maps (for clients reading results).  NULL when absent. */
const msgpack_object *proto_map_get(const msgpack_object *map, const char *key);
/* Copy a string field into buf (truncated, NUL-terminated); false if absent or not a string. */
bool proto_map_str(const msgpack_object *map, const char *key, char *buf, size_t size);
/* Integer field, or `dflt` when absent or not an integer. */
int64_t proto_map_int(const msgpack_object *map, const char *key, int64_t dflt);
bool proto_map_bool(const msgpack_object *map, const char *key, bool dflt);

/* The daemon's socket path: $DAA_SOCKET, else $XDG_RUNTIME_DIR/daa/daad.sock,
 * else /tmp/daa-$UID/daad.sock.  Returns -1 if it does not fit in buf. */
int proto_socket_path(char *buf, size_t size);

/* A notification's handler: method and its named-args map (NULL if none). */
typedef void (*proto_notify_cb)(const char *method, const msgpack_object *params, void *ud);
/* Packs a request's params map (one object) for a call (protocol/proto_async.h,
 * the asynchronous client core the CLI and the tray use). */
typedef void (*proto_pack_fn)(msgpack_packer *pk, void *ud);

#endif
