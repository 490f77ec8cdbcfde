/*
 * daemon/rpc/m_conventions.c — conventions.get / conventions.set /
 * conventions.rm on the project's conventions.json (protocol/PROTOCOL.md).
 */
#include <jansson.h>
#include "daemon/core/mpjson.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"

static const struct proto_field get_params[] = {{"project", PROTO_T_STR, false},
						{NULL, PROTO_T_ANY, false}};
static const struct proto_field set_params[] = {
	{"project", PROTO_T_STR, false}, {"key", PROTO_T_STR, true},
	{"value", PROTO_T_ANY, true},    {"source", PROTO_T_STR, false},
	{"why", PROTO_T_STR, false},     {NULL, PROTO_T_ANY, false}};
static const struct proto_field rm_params[] = {
	{"project", PROTO_T_STR, false}, {"key", PROTO_T_STR, true}, {NULL, PROTO_T_ANY, false}};

/* conventions.get {project?} → {conventions, project_path}. */
static json_t *m_conv_get(struct rpc_req *req)
{
	json_t *conv = proj_conventions(req->proj);
	return json_pack("{s:o, s:o}", "conventions", conv ? json_incref(conv) : json_object(),
			 "project_path", rpc_str(proj_path(req->proj)));
}
RPC_METHOD_PROJECT(conventions_get, "conventions.get", get_params, m_conv_get,
		   "the project's conventions");

/* conventions.set {project?, key, value, source?, why?} → {ok}. */
static json_t *m_conv_set(struct rpc_req *req)
{
	const struct proto_value *a = req->args;
	struct proto_err err = {0};
	json_t *value = mpjson_from_object(a[2].obj);
	if (!value)
		return rpc_fail(req, PROTO_ERR_PARAMS,
				"conventions.set: value must be JSON-like (nil, bool, number, "
				"string, array or map with string keys)");
	int rc = proj_convention_set(req->proj, a[1].str, value, a[3].present ? a[3].str : "user",
				     a[4].present ? a[4].str : NULL, &err);
	json_decref(value);
	return rc < 0 ? rpc_fail_err(req, &err) : rpc_ok();
}
RPC_METHOD_PROJECT(conventions_set, "conventions.set", set_params, m_conv_set,
		   "set one convention of the project");

/* conventions.rm {project?, key} → {ok}. */
static json_t *m_conv_rm(struct rpc_req *req)
{
	struct proto_err err = {0};
	if (proj_convention_rm(req->proj, req->args[1].str, &err) < 0)
		return rpc_fail_err(req, &err);
	return rpc_ok();
}
RPC_METHOD_PROJECT(conventions_rm, "conventions.rm", rm_params, m_conv_rm,
		   "remove one convention of the project");
