/*
 * daemon/m_conventions.c — conventions.get / conventions.set /
 * conventions.rm on the project's conventions.json (protocol/PROTOCOL.md).
 */
#include <jansson.h>
#include "daemon/kern.h"
#include "daemon/project.h"
#include "daemon/m_args.h"
#include "daemon/rpc.h"

static const struct proto_field get_params[] = {{"project", PROTO_T_STR, false},
						{NULL, PROTO_T_ANY, false}};
static const struct proto_field set_params[] = {
	{"project", PROTO_T_STR, false}, {"key", PROTO_T_STR, true},
	{"value", PROTO_T_ANY, true},    {"source", PROTO_T_STR, false},
	{"why", PROTO_T_STR, false},     {NULL, PROTO_T_ANY, false}};
static const struct proto_field rm_params[] = {
	{"project", PROTO_T_STR, false}, {"key", PROTO_T_STR, true}, {NULL, PROTO_T_ANY, false}};

/* The project named by args[0], or NULL after replying the error. */
static struct proj *m_conv_proj(struct rpc_req *req)
{
	return m_arg_project(req);
}

/* conventions.get {project?} → {conventions, project_path}. */
static void m_conv_get(struct rpc_req *req)
{
	struct proj *p = m_conv_proj(req);
	if (!p)
		return;
	json_t *conv = proj_conventions(p);
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 2);
	proto_pack_key(pk, "conventions");
	if (conv)
		mpjson_pack(pk, conv);
	else
		msgpack_pack_map(pk, 0);
	proto_pack_kv_str(pk, "project_path", proj_path(p));
	rpc_result_end();
}
RPC_METHOD(conventions_get, "conventions.get", get_params, m_conv_get,
	   "the project's conventions");

/* conventions.set {project?, key, value, source?, why?} → {ok}. */
static void m_conv_set(struct rpc_req *req)
{
	struct proj *p = m_conv_proj(req);
	if (!p)
		return;
	const struct proto_value *a = req->args;
	struct proto_err err = {0};
	json_t *value = mpjson_from_object(a[2].obj);
	if (!value) {
		rpc_reply_error(req->from, PROTO_ERR_PARAMS,
				"conventions.set: value must be JSON-like (nil, bool, number, "
				"string, array or map with string keys)");
		return;
	}
	int rc = proj_convention_set(p, a[1].str, value, a[3].present ? a[3].str : "user",
				     a[4].present ? a[4].str : NULL, &err);
	json_decref(value);
	if (rc < 0)
		rpc_reply_err(req->from, &err);
	else
		rpc_reply_ok(req->from);
}
RPC_METHOD(conventions_set, "conventions.set", set_params, m_conv_set,
	   "set one convention of the project");

/* conventions.rm {project?, key} → {ok}. */
static void m_conv_rm(struct rpc_req *req)
{
	struct proj *p = m_conv_proj(req);
	if (!p)
		return;
	struct proto_err err = {0};
	if (proj_convention_rm(p, req->args[1].str, &err) < 0)
		rpc_reply_err(req->from, &err);
	else
		rpc_reply_ok(req->from);
}
RPC_METHOD(conventions_rm, "conventions.rm", rm_params, m_conv_rm,
	   "remove one convention of the project");
