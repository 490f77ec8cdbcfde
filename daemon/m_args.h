/*
 * daemon/m_args.h — argument helpers shared by the RPC method files.
 */
#ifndef DAA_M_ARGS_H
#define DAA_M_ARGS_H

#include "daemon/project.h"
#include "daemon/rpc.h"

/* The project named by req->args[0] (the optional "project" param; the
 * default project when absent), or NULL after replying the error. */
struct proj *m_arg_project(struct rpc_req *req);

#endif
