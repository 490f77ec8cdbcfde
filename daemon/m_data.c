/*
 * daemon/m_data.c — data.add / data.list (protocol/PROTOCOL.md).
 * The copy is done on the daemon's thread with copy_file_range (a reflink or
 * an in-kernel copy), which is fast for the dataset sizes daa targets.
 */
#include <jansson.h>
#include "daemon/kern.h"
#include "daemon/project.h"
#include "daemon/rpc.h"

static const struct proto_field add_params[] = {
	{"project", PROTO_T_STR, false}, {"path", PROTO_T_STR, true},
	{"name", PROTO_T_STR, false},    {"overwrite", PROTO_T_BOOL, false},
	{NULL, PROTO_T_ANY, false}};
static const struct proto_field list_params[] = {{"project", PROTO_T_STR, false},
						 {NULL, PROTO_T_ANY, false}};

/* Pack a json result and free it. */
static void m_data_reply(struct rpc_reply_to to, json_t *res)
{
	msgpack_packer *pk = rpc_result_begin(to);
	mpjson_pack(pk, res);
	rpc_result_end();
	json_decref(res);
}

/* data.add {project?, path, name?, overwrite?} → {name, file, bytes, format, path}. */
static void m_data_add(struct rpc_req *req)
{
	struct proto_err err = {0};
	const struct proto_value *a = req->args;
	struct proj *p = proj_get(a[0].present ? a[0].str : NULL, &err);
	json_t *res = p ? proj_data_add(p, a[1].str, a[2].present ? a[2].str : NULL,
					a[3].present && a[3].b, &err)
			: NULL;
	if (!res) {
		rpc_reply_err(req->from, &err);
		return;
	}
	m_data_reply(req->from, res);
}
RPC_METHOD(data_add, "data.add", add_params, m_data_add,
	   "copy a dataset file into the project's data/ folder");

/* data.list {project?} → {datasets: [...]}. */
static void m_data_list(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct proj *p = proj_get(req->args[0].present ? req->args[0].str : NULL, &err);
	json_t *ds = p ? proj_datasets(p, &err) : NULL;
	if (!ds) {
		rpc_reply_err(req->from, &err);
		return;
	}
	json_t *res = json_pack("{s:o, s:s}", "datasets", ds, "project_path", proj_path(p));
	m_data_reply(req->from, res);
}
RPC_METHOD(data_list, "data.list", list_params, m_data_list, "the project's datasets");
