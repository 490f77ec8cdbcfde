/*
 * daemon/m_project.c — project.create / project.list / project.info /
 * project.delete (protocol/PROTOCOL.md).
 */
#include <jansson.h>
#include "daemon/agent.h"
#include "daemon/kern.h"
#include "daemon/project.h"
#include "daemon/rpc.h"

#pragma weak agent_busy

static const struct proto_field create_params[] = {
	{"name", PROTO_T_STR, true}, {"dir", PROTO_T_STR, false}, {NULL, PROTO_T_ANY, false}};
static const struct proto_field no_params[] = {{NULL, PROTO_T_ANY, false}};
static const struct proto_field info_params[] = {{"project", PROTO_T_STR, false},
						 {NULL, PROTO_T_ANY, false}};
static const struct proto_field delete_params[] = {{"project", PROTO_T_STR, true},
						   {NULL, PROTO_T_ANY, false}};

/* project.create {name, dir?} → {name, path}. */
static void m_project_create(struct rpc_req *req)
{
	struct proto_err err = {0};
	const char *dir = req->args[1].present ? req->args[1].str : NULL;
	struct proj *p = proj_create(req->args[0].str, dir, &err);
	if (!p) {
		rpc_reply_err(req->from, &err);
		return;
	}
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 2);
	proto_pack_kv_str(pk, "name", proj_name(p));
	proto_pack_kv_str(pk, "path", proj_path(p));
	rpc_result_end();
}
RPC_METHOD(project_create, "project.create", create_params, m_project_create,
	   "create a project (under the data folder, or in dir)");

/* project.list → {projects: [{name, path, datasets, steps}]}. */
static void m_project_list(struct rpc_req *req)
{
	struct proto_err err = {0};
	json_t *list = proj_list(&err);
	if (!list) {
		rpc_reply_err(req->from, &err);
		return;
	}
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 1);
	proto_pack_key(pk, "projects");
	mpjson_pack(pk, list);
	rpc_result_end();
	json_decref(list);
}
RPC_METHOD(project_list, "project.list", no_params, m_project_list, "list the projects");

/* project.info {project?} → {name, path, datasets, steps, conventions}. */
static void m_project_info(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct proj *p = proj_get(req->args[0].present ? req->args[0].str : NULL, &err);
	json_t *ds = p ? proj_datasets(p, &err) : NULL;
	if (!ds) {
		rpc_reply_err(req->from, &err);
		return;
	}
	json_t *conv = proj_conventions(p);
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 5);
	proto_pack_kv_str(pk, "name", proj_name(p));
	proto_pack_kv_str(pk, "path", proj_path(p));
	proto_pack_key(pk, "datasets");
	mpjson_pack(pk, ds);
	proto_pack_kv_int(pk, "steps", proj_step_count(p));
	proto_pack_key(pk, "conventions");
	if (conv)
		mpjson_pack(pk, conv);
	else
		msgpack_pack_map(pk, 0);
	rpc_result_end();
	json_decref(ds);
}
RPC_METHOD(project_info, "project.info", info_params, m_project_info,
	   "a project's folder, datasets, steps and conventions");

/* project.delete {project} → {ok, files_removed, path}. */
static void m_project_delete(struct rpc_req *req)
{
	struct proto_err err = {0};
	bool removed = false;
	struct proj *p = proj_get(req->args[0].str, &err);
	if (p && agent_busy && agent_busy(p)) {
		rpc_reply_error(req->from, PROTO_ERR_BUSY,
				"a turn is running or waiting on project %s: cancel it first "
				"(daa cancel -p %s)", proj_name(p), proj_name(p));
		return;
	}
	if (!p || proj_delete(p, &removed, &err) < 0) {
		rpc_reply_err(req->from, &err);
		return;
	}
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 3);
	proto_pack_kv_bool(pk, "ok", true);
	proto_pack_kv_bool(pk, "files_removed", removed);
	proto_pack_kv_str(pk, "path", proj_path(p));
	rpc_result_end();
}
RPC_METHOD(project_delete, "project.delete", delete_params, m_project_delete,
	   "delete a project (its folder too when it lives in the data folder)");
