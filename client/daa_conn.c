/*
 * client/daa_conn.c — what every command shares: choosing the project,
 * building named parameters, connecting (with auto-start) and calling a
 * method with its errors reported once, the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"

static int cli_lost(const char *method, const char *why);

/* Append a string parameter (NULL values are skipped). */
void cli_p_str(struct cli_params *p, const char *key, const char *val)
{
	if (!val || p->n >= CLI_PARAMS_MAX)
		return;
	p->kv[p->n].key = key;
	p->kv[p->n].type = 's';
	p->kv[p->n++].s = val;
}

/* Append an integer parameter. */
void cli_p_int(struct cli_params *p, const char *key, long long val)
{
	if (p->n >= CLI_PARAMS_MAX)
		return;
	p->kv[p->n].key = key;
	p->kv[p->n].type = 'i';
	p->kv[p->n++].i = val;
}

/* Append a boolean parameter. */
void cli_p_bool(struct cli_params *p, const char *key, bool val)
{
	if (p->n >= CLI_PARAMS_MAX)
		return;
	p->kv[p->n].key = key;
	p->kv[p->n].type = 'b';
	p->kv[p->n++].i = val;
}

/* Append `project` when one was chosen. */
void cli_p_project(struct cli_params *p, const struct cli *cli)
{
	cli_p_str(p, "project", cli->project);
}

/* Pack a cli_params as the params map (ud: struct cli_params *, may be NULL). */
void cli_pack_params(msgpack_packer *pk, void *ud)
{
	const struct cli_params *p = ud;
	int n = p ? p->n : 0;
	msgpack_pack_map(pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		if (p->kv[i].type == 's')
			proto_pack_kv_str(pk, p->kv[i].key, p->kv[i].s);
		else if (p->kv[i].type == 'b')
			proto_pack_kv_bool(pk, p->kv[i].key, p->kv[i].i != 0);
		else
			proto_pack_kv_int(pk, p->kv[i].key, p->kv[i].i);
	}
}

/* Is dir a project folder (conventions.json and data/)? */
static bool is_project_dir(const char *dir)
{
	char path[PATH_MAX + 32];
	struct stat st;
	snprintf(path, sizeof(path), "%s/conventions.json", dir);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	snprintf(path, sizeof(path), "%s/data", dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The project folder whose outputs/ holds dir (found in the path: some
 * A/outputs/... with A a project), into out; false when there is none.
 * A kernel writes under outputs/: a folder there that looks like a project
 * (conventions.json and data/) was made by code, not by the user. */
static bool in_outputs(const char *dir, char *out, size_t size)
{
	for (const char *p = strstr(dir, "/outputs"); p; p = strstr(p + 1, "/outputs")) {
		if (p[8] != '/' && p[8] != '\0')
			continue;
		snprintf(out, size, "%.*s", p == dir ? 1 : (int)(p - dir), dir);
		if (is_project_dir(out))
			return true;
	}
	return false;
}

/* The project folder holding the current directory, into buf; false if
 * none.  A project-like folder inside another project's outputs/ is passed
 * over (said on stderr): the walk goes on to the project around it. */
static bool project_from_cwd(char *buf, size_t size)
{
	char outer[PATH_MAX];
	if (!getcwd(buf, size))
		return false;
	for (;;) {
		if (is_project_dir(buf)) {
			if (!in_outputs(buf, outer, sizeof outer))
				return true;
			fprintf(stderr, "daa: %s looks like a project but lies in the outputs of %s: "
					"not used (give -p to choose it anyway)\n", buf, outer);
		}
		if (!strcmp(buf, "/"))
			return false;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return false;
		slash[slash == buf ? 1 : 0] = '\0';
	}
}

/* A NAME stays a name; something that looks like a path becomes absolute. */
static int project_set(struct cli *cli, const char *v, const char *from)
{
	cli->project_from = from;
	if (!strchr(v, '/') && strcmp(v, ".") != 0 && strcmp(v, "..") != 0) {
		cli->project = v;
		return 0;
	}
	if (!realpath(v, cli->project_buf)) {
		fprintf(stderr, "daa: project folder %s (from %s): %s\n", v, from, strerror(errno));
		return -1;
	}
	cli->project = cli->project_buf;
	return 0;
}

/* Choose the project: -p, $DAA_PROJECT, the cwd's project folder, default. */
int cli_project_resolve(struct cli *cli, const char *opt)
{
	const char *env = getenv("DAA_PROJECT");
	if (opt)
		return project_set(cli, opt, "-p");
	if (env && *env)
		return project_set(cli, env, "$DAA_PROJECT");
	if (project_from_cwd(cli->project_buf, sizeof(cli->project_buf))) {
		cli->project = cli->project_buf;
		cli->project_from = "the current directory";
	}
	return 0;
}

/* Connect to daad, starting it when nothing listens (unless --no-start). */
int cli_connect(struct cli *cli)
{
	struct proto_err err;
	if (cli->conn)
		return CLI_OK;
	if (cli_conn_open(cli, &err) == 0)
		return CLI_OK;
	if (errno != ENOENT && errno != ECONNREFUSED) {
		fprintf(stderr, "daa: %s\n", err.msg);
		return CLI_UNREACHABLE;
	}
	if (cli->no_start) {
		fprintf(stderr, "daa: no daemon is listening on %s (--no-start was given; "
				"run `daa ping` without it, or start `daad`)\n", cli->socket);
		return CLI_UNREACHABLE;
	}
	return cli_daemon_start(cli); /* sets cli->conn once daad listens */
}

/* Print an error response: JSON on stdout with --json, else a line on stderr. */
int cli_print_error(struct cli *cli, const char *method, const msgpack_object *error)
{
	if (cli->json) {
		printf("{\"error\": ");
		cli_json_print(stdout, error, -1);
		printf("}\n");
		return CLI_ERR;
	}
	const char *msg = cli_str(error, "message");
	int64_t code = proto_map_int(error, "code", 0);
	if (msg)
		fprintf(stderr, "daa: %s\n", msg);
	else if (error->type == MSGPACK_OBJECT_STR) {
		fprintf(stderr, "daa: ");
		cli_put_obj_str(stderr, error);
		fprintf(stderr, "\n");
	} else {
		fprintf(stderr, "daa: %s failed (", method);
		cli_json_print(stderr, error, -1);
		fprintf(stderr, ")\n");
	}
	if (code == PROTO_ERR_NO_METHOD)
		fprintf(stderr, "daa: (this daad does not know `%s`; is it older than daa?)\n", method);
	return CLI_ERR;
}

/* With --json, print the result and say so. */
bool cli_json_result(struct cli *cli, const struct proto_msg *msg)
{
	if (!cli->json)
		return false;
	cli_json_print(stdout, msg->result, 2);
	printf("\n");
	return true;
}

/* The error or result of a finished call (as cli_call). */
static int call_outcome(struct cli *cli, const char *method, struct proto_msg *msg)
{
	if (msg->error && msg->error->type != MSGPACK_OBJECT_NIL) {
		int rc = cli_print_error(cli, method, msg->error);
		proto_msg_done(msg);
		return rc;
	}
	return CLI_OK;
}

/* A call that ended without a response: the connection closed (after method
 * was sent: its result is unknown) or it failed otherwise. */
static int call_failed(const char *method, const struct cli_call *call)
{
	if (call->sys_errno == ECONNRESET || call->sys_errno == EPIPE)
		return cli_lost(method, call->why);
	fprintf(stderr, "daa: %s: %s\n", method, call->why);
	return CLI_UNREACHABLE;
}

/* Call method with params; see cli.h for the return values. */
int cli_call(struct cli *cli, const char *method, struct cli_params *p, int timeout_ms,
	     struct proto_msg *msg)
{
	struct cli_call call;
	int rc = cli_connect(cli);
	if (rc != CLI_OK)
		return rc;
	if (cli_call_wait(cli, method, p, timeout_ms, &call) < 0)
		return call_failed(method, &call);
	*msg = call.msg;
	return call_outcome(cli, method, msg);
}

/* Ctrl-C while waiting: the first sends `stop` once; CLI_OK to go on
 * waiting, else the exit code. */
static int wait_interrupted(struct cli *cli, volatile sig_atomic_t *ints, const char *stop,
			    bool *stop_sent)
{
	struct proto_err err;
	if (*ints > 1) {
		fprintf(stderr, "daa: interrupted; the daemon goes on with what it was doing\n");
		return CLI_ERR;
	}
	if (*ints && stop && !*stop_sent) {
		struct cli_params p = {0};
		cli_p_project(&p, cli);
		fprintf(stderr, "daa: %s sent (Ctrl-C again to leave without waiting)\n", stop);
		if (!cli_send(cli, stop, &p, NULL, &err)) {
			fprintf(stderr, "daa: %s: %s\n", stop, err.msg);
			return CLI_UNREACHABLE;
		}
		*stop_sent = true;
	}
	return CLI_OK;
}

int cli_wait(struct cli *cli, const char *method, struct cli_call *call,
	     volatile sig_atomic_t *ints, const char *stop, bool *stop_sent, const char *notice,
	     struct proto_msg *m)
{
	int timeout = notice ? 1000 : -1, rc;
	while ((rc = wait_interrupted(cli, ints, stop, stop_sent)) == CLI_OK &&
	       cli_loop_until(cli, call, timeout) < 0) {
		if (errno == ETIMEDOUT && timeout > 0) {
			if (isatty(STDERR_FILENO))
				fprintf(stderr, "daa: %s (Ctrl-C interrupts it)\n", notice);
			timeout = -1;
		} else if (errno != EINTR) {
			rc = CLI_UNREACHABLE;
			fprintf(stderr, "daa: %s: waiting for the daemon: %s\n", method, strerror(errno));
			break;
		}
	}
	if (rc != CLI_OK) {
		cli_call_forget(cli, call);
		return rc;
	}
	if (call->failed)
		return call_failed(method, call);
	*m = call->msg;
	memset(&call->msg, 0, sizeof(call->msg));
	return call_outcome(cli, method, m);
}

/* The connection was lost after method was sent: say that its result is
 * unknown (why: the transport's message); returns CLI_UNREACHABLE. */
static int cli_lost(const char *method, const char *why)
{
	fprintf(stderr, "daa: daad restarted (or stopped) while waiting for `%s` (%s); the request's "
			"result is unknown — see `daa history` and `daa log`\n", method, why);
	return CLI_UNREACHABLE;
}

int cli_call_long(struct cli *cli, const char *method, struct cli_params *p, const char *notice,
		  struct proto_msg *msg)
{
	static volatile sig_atomic_t ints;
	static sigset_t wait_mask;
	struct proto_err err;
	struct cli_call call;
	bool interrupt_sent = false;
	int rc = cli_connect(cli);
	if (rc != CLI_OK)
		return rc;
	cli_sigint_catch(&ints, &wait_mask);
	cli->wait_mask = &wait_mask;
	if (!cli_send(cli, method, p, &call, &err)) {
		fprintf(stderr, "daa: %s: %s\n", method, err.msg);
		return CLI_UNREACHABLE;
	}
	return cli_wait(cli, method, &call, &ints, "kernel.interrupt", &interrupt_sent, notice, msg);
}
