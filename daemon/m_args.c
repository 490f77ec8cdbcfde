/*
 * daemon/m_args.c — argument helpers shared by the RPC method files.
 */
#include "daemon/m_args.h"

struct proj *m_arg_project(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct proj *p = proj_get(req->args[0].present ? req->args[0].str : NULL, &err);
	if (!p)
		rpc_reply_err(req->from, &err);
	return p;
}
