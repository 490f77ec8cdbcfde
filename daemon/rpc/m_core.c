/*
 * daemon/rpc/m_core.c — the core methods: ping, status, shutdown.
 */
#include <jansson.h>
#include <unistd.h>
#include "daemon/agent/agent.h"
#include "daemon/core/config.h"
#include "daemon/kernel/kernel.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"
#include "daemon/server/server.h"

static const struct proto_field no_params[] = {{NULL, PROTO_T_ANY, false}};

/* ping → {pong, version, pid}. */
static json_t *m_ping(struct rpc_req *req)
{
	(void)req;
	return json_pack("{s:b, s:s, s:i}", "pong", 1, "version", DAA_VERSION, "pid", (int)getpid());
}
RPC_METHOD(ping, "ping", no_params, m_ping, "is the daemon alive?");

/* The llm part of status. */
static json_t *m_status_llm(void)
{
	const char *backend = agent_backend_name();
	const char *model = agent_backend_model();
	return json_pack("{s:o, s:o}", "backend", rpc_str(backend ? backend : "none"), "model",
			 rpc_str(model ? model : ""));
}

/* status → version, uptime, socket, open projects, clients, kernels, llm. */
static json_t *m_status(struct rpc_req *req)
{
	json_t *kernels = kern_status();
	(void)req;
	if (!kernels)
		kernels = json_pack("{s:i, s:i}", "running", 0, "spare", 0);
	return json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:i, s:o, s:o}", "version", DAA_VERSION,
			 "pid", (int)getpid(), "uptime_s", (json_int_t)server_uptime_s(), "socket",
			 rpc_str(server_socket_path()), "data_dir", rpc_str(config_get()->data_dir),
			 "projects_open", proj_open_names(), "clients", server_client_count(),
			 "kernels", kernels, "llm", m_status_llm());
}
RPC_METHOD(status, "status", no_params, m_status,
	   "version, uptime, projects open, clients, kernels, LLM backend");

/* shutdown → {ok}; then the orderly stop. */
static json_t *m_shutdown(struct rpc_req *req)
{
	(void)req;
	server_request_shutdown("the shutdown method");
	return rpc_ok();
}
RPC_METHOD(shutdown, "shutdown", no_params, m_shutdown,
	   "finish or cancel work, remove the socket, exit");
