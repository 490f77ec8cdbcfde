/*
 * daemon/rpc/m_turns.c — turns.list: the project's ended turns as the agent
 * recorded them in .daa/turns.jsonl (daemon/agent/agent_mem.c), so a client that
 * opens a project shows the conversation so far, whoever asked.  Read-only.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/agent/agent.h"
#include "daemon/core/fsutil.h"
#include "daemon/kernel/kernel.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"

#define TURNS_READ_MAX (4u << 20) /* bytes of turns.jsonl(.1) read back from the end */
#define TURNS_DEFAULT 50
#define TURNS_CAP 500

static const struct proto_field list_params[] = {
	{"project", PROTO_T_STR, false}, {"limit", PROTO_T_UINT, false}, {NULL, PROTO_T_ANY, false}};

/* turns.list {project?, limit?} → {turns, busy, question, project, project_path}. */
static json_t *m_turns_list(struct rpc_req *req)
{
	struct proj *p = req->proj;
	size_t limit = req->args[1].present ? (size_t)req->args[1].u : TURNS_DEFAULT;
	if (limit > TURNS_CAP)
		limit = TURNS_CAP;
	json_t *turns = agent_turns_read(proj_state_dir(p), limit, TURNS_READ_MAX), *q = agent_pending_question(p);
	return json_pack("{s:o, s:o, s:b, s:o, s:o}", "turns", turns ? turns : json_null(),
			 "question", q ? q : json_null(), "busy", agent_busy(p), "project",
			 rpc_str(proj_name(p)), "project_path", rpc_str(proj_path(p)));
}
RPC_METHOD_PROJECT(turns_list, "turns.list", list_params, m_turns_list,
		   "the project's ended turns (request, answer, code, figures)");
