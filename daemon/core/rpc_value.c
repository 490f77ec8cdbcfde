/*
 * daemon/core/rpc_value.c — what handlers build their replies with (daemon/core/rpc.h):
 * the error a handler returns, strings that go out byte for byte, {ok: true}.
 */
#include <stdio.h>

#include "daemon/core/rpc.h"

/* Only its address is used (RPC_LATER); immortal like json_null(). */
json_t rpc_later_marker = {JSON_NULL, (size_t)-1};

/* Set the error reply; NULL for the handler to return. */
json_t *rpc_fail(struct rpc_req *req, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req->err_msg, sizeof req->err_msg, fmt, ap);
	va_end(ap);
	req->err_code = code ? code : PROTO_ERR_INTERNAL;
	return NULL;
}

/* The same from a proto_err. */
json_t *rpc_fail_err(struct rpc_req *req, const struct proto_err *err)
{
	return rpc_fail(req, err->code, "%s", err->msg);
}

/* A string sent byte for byte (null for NULL). */
json_t *rpc_str(const char *s)
{
	return s ? json_string_nocheck(s) : json_null();
}

/* The same with a length (may hold NUL bytes). */
json_t *rpc_strn(const char *s, size_t len)
{
	return s ? json_stringn_nocheck(s, len) : json_null();
}

/* {ok: true}. */
json_t *rpc_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}
