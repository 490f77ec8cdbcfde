/*
 * daemon/m_core.c — the core methods: ping, status, shutdown.
 * status reads the kernel manager and the agent through weak symbols, so it
 * works in a daad built without them.
 */
#include <jansson.h>
#include <unistd.h>
#include "daemon/agent.h"
#include "daemon/config.h"
#include "daemon/kern.h"
#include "daemon/project.h"
#include "daemon/rpc.h"
#include "daemon/server.h"

#pragma weak kern_status
#pragma weak agent_backend_name
#pragma weak agent_backend_model

static const struct proto_field no_params[] = {{NULL, PROTO_T_ANY, false}};

/* ping → {pong, version, pid}. */
static void m_ping(struct rpc_req *req)
{
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 3);
	proto_pack_kv_bool(pk, "pong", true);
	proto_pack_kv_str(pk, "version", DAA_VERSION);
	proto_pack_kv_int(pk, "pid", getpid());
	rpc_result_end();
}
RPC_METHOD(ping, "ping", no_params, m_ping, "is the daemon alive?");

/* The llm part of status. */
static void m_status_llm(msgpack_packer *pk)
{
	const char *backend = agent_backend_name ? agent_backend_name() : NULL;
	const char *model = agent_backend_model ? agent_backend_model() : NULL;
	proto_pack_key(pk, "llm");
	msgpack_pack_map(pk, 2);
	proto_pack_kv_str(pk, "backend", backend ? backend : "none (built without the agent)");
	proto_pack_kv_str(pk, "model", model ? model : "");
}

/* status → version, uptime, socket, open projects, clients, kernels, llm. */
static void m_status(struct rpc_req *req)
{
	json_t *names = proj_open_names();
	json_t *kernels = kern_status ? kern_status() : NULL;
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 9);
	proto_pack_kv_str(pk, "version", DAA_VERSION);
	proto_pack_kv_int(pk, "pid", getpid());
	proto_pack_kv_uint(pk, "uptime_s", server_uptime_s());
	proto_pack_kv_str(pk, "socket", server_socket_path());
	proto_pack_kv_str(pk, "data_dir", config_get()->data_dir);
	proto_pack_key(pk, "projects_open");
	mpjson_pack(pk, names);
	proto_pack_kv_int(pk, "clients", server_client_count());
	proto_pack_key(pk, "kernels");
	if (kernels) {
		mpjson_pack(pk, kernels);
	} else {
		msgpack_pack_map(pk, 2);
		proto_pack_kv_int(pk, "running", 0);
		proto_pack_kv_int(pk, "spare", 0);
	}
	m_status_llm(pk);
	rpc_result_end();
	json_decref(names);
	json_decref(kernels);
}
RPC_METHOD(status, "status", no_params, m_status,
	   "version, uptime, projects open, clients, kernels, LLM backend");

/* shutdown → {ok}; then the orderly stop. */
static void m_shutdown(struct rpc_req *req)
{
	rpc_reply_ok(req->from);
	server_request_shutdown("the shutdown method");
}
RPC_METHOD(shutdown, "shutdown", no_params, m_shutdown,
	   "finish or cancel work, remove the socket, exit");
