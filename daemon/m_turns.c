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

#define TURNS_READ_MAX (8u << 20) /* bytes of turns.jsonl read (the newest kept) */
#define TURNS_DEFAULT 50
#define TURNS_CAP 500

static const struct proto_field list_params[] = {
	{"project", PROTO_T_STR, false}, {"limit", PROTO_T_UINT, false}, {NULL, PROTO_T_ANY, false}};

/* The last `limit` records of turns.jsonl (torn or bad lines skipped). */
static json_t *turns_read(struct proj *p, size_t limit)
{
	char path[4096];
	struct proto_err err;
	json_t *all = json_array();
	char *data, *line, *save = NULL;
	if (fsu_path(path, sizeof path, &err, "%s/turns.jsonl", proj_state_dir(p)) < 0 ||
	    !(data = fsu_read_file(path, TURNS_READ_MAX, NULL, &err)))
		return all; /* no turn yet (or unreadable): an empty conversation */
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *e = json_loads(line, 0, NULL);
		if (json_is_object(e))
			json_array_append_new(all, e);
		else
			json_decref(e);
		while (json_array_size(all) > limit)
			json_array_remove(all, 0);
	}
	free(data);
	return all;
}

/* turns.list {project?, limit?} → {turns, busy, question, project, project_path}. */
static void m_turns_list(struct rpc_req *req)
{
	struct proj *p = m_arg_project(req);
	if (!p)
		return;
	size_t limit = req->args[1].present ? (size_t)req->args[1].u : TURNS_DEFAULT;
	if (limit > TURNS_CAP)
		limit = TURNS_CAP;
	json_t *turns = turns_read(p, limit), *q = agent_pending_question(p);
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
