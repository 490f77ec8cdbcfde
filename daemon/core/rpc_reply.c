/*
 * daemon/core/rpc_reply.c — replying to a request later, by connection id
 * (daemon/core/rpc.h): the agent, the work queue and the method handlers
 * answer through these, and the server, which owns the connections,
 * provides the transport they go through (rpc_transport_set).  Declared in
 * core and provided from above, like the publisher's sink, so no layer
 * below the server calls up into it.
 */
#include <stdarg.h>
#include <stdio.h>

#include "daemon/core/rpc.h"

static const struct rpc_transport *transport;

/* The server's transport (NULL: replies are dropped). */
void rpc_transport_set(const struct rpc_transport *t)
{
	transport = t;
}

/* Send packed result bytes as the response to `to` (dropped when gone). */
void rpc_reply_packed(struct rpc_reply_to to, const char *result, size_t len)
{
	if (transport)
		transport->send(to, result, len, NULL);
}

/* The result value (borrowed) as the response to `to`. */
void rpc_reply_value(struct rpc_reply_to to, const json_t *result)
{
	if (transport)
		transport->send(to, NULL, 0, result);
}

/* An error response (printf-style message). */
void rpc_reply_error(struct rpc_reply_to to, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (transport)
		transport->error(to, code, msg);
}

/* An error response from a proto_err. */
void rpc_reply_err(struct rpc_reply_to to, const struct proto_err *err)
{
	rpc_reply_error(to, err->code ? err->code : PROTO_ERR_INTERNAL, "%s", err->msg);
}

/* Is the connection still open? */
bool rpc_conn_alive(uint64_t conn_id)
{
	return transport && transport->alive(conn_id);
}
