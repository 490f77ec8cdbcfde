/*
 * daemon/rpc/m_turn.c — the RPC methods of the agent turn (protocol/PROTOCOL.md):
 * ask, answer, cancel, watch.  The dispatcher resolves the project; each
 * hands over to daemon/agent/agent.c; ask and answer reply later, with the TURN
 * RESULT.  ask, answer and watch subscribe the caller to all the project's
 * events (daemon/project/publish.h).
 */
#include "daemon/agent/agent.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "daemon/core/rpc.h"

static const struct proto_field ask_params[] = {
	{"project", PROTO_T_STR, false},
	{"request", PROTO_T_STR, true},
	{"interactive", PROTO_T_BOOL, false},
	{NULL, 0, false},
};

/* ask: subscribe the caller to the project's events, queue the turn. */
static json_t *m_ask(struct rpc_req *req)
{
	struct proto_err err;
	pub_subscribe(req->from.conn_id, req->proj, PUB_ALL);
	if (agent_ask(req->proj, req->args[1].str, req->args[2].present && req->args[2].b, req->from,
		      &err) < 0)
		return rpc_fail_err(req, &err);
	return RPC_LATER;
}
RPC_METHOD_PROJECT(ask, "ask", ask_params, m_ask, "run one agent turn on a request");

static const struct proto_field answer_params[] = {
	{"project", PROTO_T_STR, false},
	{"text", PROTO_T_STR, true},
	{NULL, 0, false},
};

/* answer: resume the suspended turn; the result comes when it ends or asks again. */
static json_t *m_answer(struct rpc_req *req)
{
	struct proto_err err;
	pub_subscribe(req->from.conn_id, req->proj, PUB_ALL);
	if (agent_answer(req->proj, req->args[1].str, req->from, &err) < 0)
		return rpc_fail_err(req, &err);
	return RPC_LATER;
}
RPC_METHOD_PROJECT(answer, "answer", answer_params, m_answer,
		   "answer the agent's pending question");

static const struct proto_field project_only[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false},
};

/* cancel: {cancelled: bool}. */
static json_t *m_cancel(struct rpc_req *req)
{
	return json_pack("{s:b}", "cancelled", agent_cancel(req->proj));
}
RPC_METHOD_PROJECT(cancel, "cancel", project_only, m_cancel, "cancel the project's running turn");

/* watch: subscribe; {ok: true, project_path, project}. */
static json_t *m_watch(struct rpc_req *req)
{
	pub_subscribe(req->from.conn_id, req->proj, PUB_ALL);
	return json_pack("{s:b, s:o, s:o}", "ok", 1, "project_path", rpc_str(proj_path(req->proj)),
			 "project", rpc_str(proj_name(req->proj)));
}
RPC_METHOD_PROJECT(watch, "watch", project_only, m_watch, "follow the project's events");
