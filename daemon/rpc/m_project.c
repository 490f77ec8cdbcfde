/*
 * daemon/rpc/m_project.c — project.create / project.list / project.info /
 * project.delete (protocol/PROTOCOL.md).
 */
#include <jansson.h>
#include "daemon/agent/agent.h"
#include "daemon/kernel/kernel.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"


static const struct proto_field create_params[] = {
	{"name", PROTO_T_STR, true}, {"dir", PROTO_T_STR, false}, {NULL, PROTO_T_ANY, false}};
static const struct proto_field no_params[] = {{NULL, PROTO_T_ANY, false}};
static const struct proto_field info_params[] = {{"project", PROTO_T_STR, false},
						 {NULL, PROTO_T_ANY, false}};
static const struct proto_field delete_params[] = {{"project", PROTO_T_STR, true},
						   {NULL, PROTO_T_ANY, false}};

/* {name, path} of p. */
static json_t *name_path(const struct proj *p)
{
	return json_pack("{s:o, s:o}", "name", rpc_str(proj_name(p)), "path", rpc_str(proj_path(p)));
}

/* project.create {name, dir?} → {name, path}. */
static json_t *m_project_create(struct rpc_req *req)
{
	struct proto_err err = {0};
	const char *dir = req->args[1].present ? req->args[1].str : NULL;
	struct proj *p = proj_create(req->args[0].str, dir, &err);
	return p ? name_path(p) : rpc_fail_err(req, &err);
}
RPC_METHOD(project_create, "project.create", create_params, m_project_create,
	   "create a project (under the data folder, or in dir)");

/* project.list → {projects: [{name, path, datasets, steps}]}. */
static json_t *m_project_list(struct rpc_req *req)
{
	struct proto_err err = {0};
	json_t *list = proj_list(&err);
	return list ? json_pack("{s:o}", "projects", list) : rpc_fail_err(req, &err);
}
RPC_METHOD(project_list, "project.list", no_params, m_project_list, "list the projects");

/* project.info {project?} → {name, path, datasets, steps, conventions}. */
static json_t *m_project_info(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct proj *p = req->proj;
	json_t *ds = proj_datasets(p, &err);
	if (!ds)
		return rpc_fail_err(req, &err);
	json_t *conv = proj_conventions(p);
	return json_pack("{s:o, s:o, s:o, s:i, s:o}", "name", rpc_str(proj_name(p)), "path",
			 rpc_str(proj_path(p)), "datasets", ds, "steps", proj_step_count(p),
			 "conventions", conv ? json_incref(conv) : json_object());
}
RPC_METHOD_PROJECT(project_info, "project.info", info_params, m_project_info,
		   "a project's folder, datasets, steps and conventions");

/* project.delete {project} → {ok, files_removed, path}. */
static json_t *m_project_delete(struct rpc_req *req)
{
	struct proto_err err = {0};
	bool removed = false;
	struct proj *p = req->proj;
	if (agent_busy(p))
		return rpc_fail(req, PROTO_ERR_BUSY,
				"a turn is running or waiting on project %s: cancel it first "
				"(daa cancel -p %s)", proj_name(p), proj_name(p));
	if (proj_delete(p, &removed, &err) < 0)
		return rpc_fail_err(req, &err);
	return json_pack("{s:b, s:b, s:o}", "ok", 1, "files_removed", removed, "path",
			 rpc_str(proj_path(p)));
}
RPC_METHOD_PROJECT(project_delete, "project.delete", delete_params, m_project_delete,
		   "delete a project (its folder too when it lives in the data folder)");
