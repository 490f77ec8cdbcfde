/*
 * client/cmd_daemon.c — commands about the daemon itself: ping, status,
 * shutdown, doctor.
 */
#include <string.h>

#include "client/cli.h"

/* daa ping */
static int cmd_ping(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct proto_msg m;
	int rc = cli_call(cli, "ping", NULL, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const char *ver = cli_str(m.result, "version");
		printf("daad %s is running (pid %lld) on %s\n", ver ? ver : "?",
		       (long long)proto_map_int(m.result, "pid", 0), cli->socket);
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* A list of strings joined with ", " (or "none"). */
static void print_names(const msgpack_object *o)
{
	if (!o || o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0) {
		printf("none");
		return;
	}
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		printf("%s", i ? ", " : "");
		if (o->via.array.ptr[i].type == MSGPACK_OBJECT_STR)
			cli_put_obj_str(stdout, &o->via.array.ptr[i]);
		else
			cli_json_print(stdout, &o->via.array.ptr[i], -1);
	}
}

/* daa status */
static int cmd_status(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct proto_msg m;
	int rc = cli_call(cli, "status", NULL, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const msgpack_object *r = m.result, *k = proto_map_get(r, "kernels");
		const msgpack_object *llm = proto_map_get(r, "llm");
		const char *ver = cli_str(r, "version"), *sock = cli_str(r, "socket");
		long long up = (long long)proto_map_int(r, "uptime_s", 0);
		printf("daad %s, pid %lld, up %lldh%02lldm%02llds\n", ver ? ver : "?",
		       (long long)proto_map_int(r, "pid", 0), up / 3600, up / 60 % 60, up % 60);
		printf("socket:   %s\n", sock ? sock : cli->socket);
		printf("clients:  %lld\n", (long long)proto_map_int(r, "clients", 0));
		printf("projects: ");
		print_names(proto_map_get(r, "projects_open"));
		printf("\nkernels:  %lld running, %lld spare\n", (long long)proto_map_int(k, "running", 0),
		       (long long)proto_map_int(k, "spare", 0));
		const char *be = cli_str(llm, "backend"), *model = cli_str(llm, "model");
		printf("llm:      %s%s%s\n", be ? be : "?", model ? ", model " : "", model ? model : "");
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* daa shutdown */
static int cmd_shutdown(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct proto_msg m;
	cli->no_start = true; /* never start a daemon just to stop it */
	int rc = cli_call(cli, "shutdown", NULL, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m))
		printf("daad is shutting down\n");
	proto_msg_done(&m);
	return CLI_OK;
}

/* daa doctor: the daemon's checks, one line each; exit 1 when one fails. */
static int cmd_doctor(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct proto_msg m;
	int rc = cli_call(cli, "doctor", NULL, CLI_TIMEOUT_SHORT * 2, &m);
	if (rc != CLI_OK)
		return rc;
	const msgpack_object *checks = proto_map_get(m.result, "checks");
	uint32_t n = checks && checks->type == MSGPACK_OBJECT_ARRAY ? checks->via.array.size : 0;
	int failed = 0;
	for (uint32_t i = 0; i < n; i++)
		failed += !proto_map_bool(&checks->via.array.ptr[i], "ok", false);
	if (!cli_json_result(cli, &m)) {
		printf("socket   %s\n", cli->socket);
		for (uint32_t i = 0; i < n; i++) {
			const msgpack_object *c = &checks->via.array.ptr[i];
			const char *name = cli_str(c, "name"), *detail = cli_str(c, "detail");
			printf("%-4s %-24s %s\n", proto_map_bool(c, "ok", false) ? "ok" : "FAIL",
			       name ? name : "?", detail ? detail : "");
		}
		if (failed)
			printf("%d of %u checks failed\n", failed, (unsigned)n);
	}
	proto_msg_done(&m);
	return failed ? CLI_ERR : CLI_OK;
}

const struct cli_cmd cli_cmds_daemon[] = {
	{"ping", "", "is the daemon alive? (starts it unless --no-start)", NULL, 0, 0, NULL, cmd_ping},
	{"status", "", "daemon version, uptime, open projects, kernels, LLM backend", NULL, 0, 0,
	 NULL, cmd_status},
	{"doctor", "", "check the install: python and its libraries, sandbox layers, LLM",
	 "Each check prints ok or FAIL with a detail; exit status 1 when any failed.\n", 0, 0, NULL,
	 cmd_doctor},
	{"shutdown", "", "stop the daemon (finishes or cancels its work first)", NULL, 0, 0, NULL,
	 cmd_shutdown},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
