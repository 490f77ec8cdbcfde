/*
 * daemon/m_turn.c — the RPC methods of the agent turn (protocol/PROTOCOL.md):
 * ask, answer, cancel, watch.  Each resolves the project and hands over to
 * daemon/agent.c; ask and answer reply later, with the TURN RESULT.
 */
#include "daemon/agent.h"
#include "daemon/project.h"
#include "daemon/rpc.h"

static const struct proto_field ask_params[] = {
	{"project", PROTO_T_STR, false},
	{"request", PROTO_T_STR, true},
	{"interactive", PROTO_T_BOOL, false},
	{NULL, 0, false},
};

/* The project named by args[0] (absent: the default one). */
static struct proj *req_project(struct rpc_req *req, struct proto_err *err)
{
	return proj_get(req->args[0].present ? req->args[0].str : NULL, err);
}

/* ask: subscribe the caller to the project's events, queue the turn. */
static void m_ask(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req_project(req, &err);
	if (!pj) {
		rpc_reply_err(req->from, &err);
		return;
	}
	rpc_subscribe(req->from.conn_id, proj_path(pj));
	if (agent_ask(pj, req->args[1].str, req->args[2].present && req->args[2].b, req->from,
		      &err) < 0)
		rpc_reply_err(req->from, &err);
}
RPC_METHOD(ask, "ask", ask_params, m_ask, "run one agent turn on a request");

static const struct proto_field answer_params[] = {
	{"project", PROTO_T_STR, false},
	{"text", PROTO_T_STR, true},
	{NULL, 0, false},
};

/* answer: resume the suspended turn; the result comes when it ends or asks again. */
static void m_answer(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req_project(req, &err);
	if (!pj) {
		rpc_reply_err(req->from, &err);
		return;
	}
	rpc_subscribe(req->from.conn_id, proj_path(pj));
	if (agent_answer(pj, req->args[1].str, req->from, &err) < 0)
		rpc_reply_err(req->from, &err);
}
RPC_METHOD(answer, "answer", answer_params, m_answer, "answer the agent's pending question");

static const struct proto_field project_only[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false},
};

/* cancel: {cancelled: bool}. */
static void m_cancel(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req_project(req, &err);
	bool done;
	if (!pj) {
		rpc_reply_err(req->from, &err);
		return;
	}
	done = agent_cancel(pj);
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 1);
	proto_pack_kv_bool(pk, "cancelled", done);
	rpc_result_end();
}
RPC_METHOD(cancel, "cancel", project_only, m_cancel, "cancel the project's running turn");

/* watch: subscribe; {ok: true, project_path}. */
static void m_watch(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req_project(req, &err);
	if (!pj) {
		rpc_reply_err(req->from, &err);
		return;
	}
	rpc_subscribe(req->from.conn_id, proj_path(pj));
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 3);
	proto_pack_kv_bool(pk, "ok", true);
	proto_pack_kv_str(pk, "project_path", proj_path(pj));
	proto_pack_kv_str(pk, "project", proj_name(pj));
	rpc_result_end();
}
RPC_METHOD(watch, "watch", project_only, m_watch, "follow the project's events");
