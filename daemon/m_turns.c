/*
 * daemon/m_turns.c — turns.list: the project's ended turns as the agent
 * recorded them in .daa/turns.jsonl (daemon/agent_mem.c), so a client that
 * opens a project shows the conversation so far, whoever asked.  Read-only.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/agent.h"
#include "daemon/fsutil.h"
#include "daemon/kern.h"
#include "daemon/project.h"
#include "daemon/m_args.h"
#include "daemon/rpc.h"

#define TURNS_READ_MAX (4u << 20) /* bytes of turns.jsonl(.1) read back from the end */
#define TURNS_DEFAULT 50
#define TURNS_CAP 500

static const struct proto_field list_params[] = {
	{"project", PROTO_T_STR, false}, {"limit", PROTO_T_UINT, false}, {NULL, PROTO_T_ANY, false}};

/* turns.list {project?, limit?} → {turns, busy, question, project, project_path}. */
static void m_turns_list(struct rpc_req *req)
{
	struct proj *p = m_arg_project(req);
	if (!p)
		return;
	size_t limit = req->args[1].present ? (size_t)req->args[1].u : TURNS_DEFAULT;
	if (limit > TURNS_CAP)
		limit = TURNS_CAP;
	json_t *turns = agent_turns_read(proj_state_dir(p), limit, TURNS_READ_MAX), *q = agent_pending_question(p);
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 5);
	proto_pack_key(pk, "turns");
	mpjson_pack(pk, turns);
	proto_pack_key(pk, "question");
	if (q)
		mpjson_pack(pk, q);
	else
		msgpack_pack_nil(pk);
	json_decref(q);
	proto_pack_kv_bool(pk, "busy", agent_busy(p));
	proto_pack_kv_str(pk, "project", proj_name(p));
	proto_pack_kv_str(pk, "project_path", proj_path(p));
	rpc_result_end();
	json_decref(turns);
}
RPC_METHOD(turns_list, "turns.list", list_params, m_turns_list,
	   "the project's ended turns (request, answer, code, figures)");
