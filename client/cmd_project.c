/*
 * client/cmd_project.c — projects and their contents: project new / list /
 * rm, add (datasets), conventions (get / set / rm).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"

/* daa project new NAME [--dir PATH] */
static int cmd_project_new(struct cli *cli, struct cli_args *a)
{
	struct cli_params p = {0};
	struct proto_msg m;
	char dir[PATH_MAX];
	const char *d = a->val['d'];
	if (d && !realpath(d, dir)) {
		fprintf(stderr, "daa: --dir %s: %s\n", d, strerror(errno));
		return CLI_ERR;
	}
	cli_p_str(&p, "name", a->argv[0]);
	cli_p_str(&p, "dir", d ? dir : NULL);
	int rc = cli_call(cli, "project.create", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const char *path = cli_str(m.result, "path"), *name = cli_str(m.result, "name");
		printf("created project %s at %s\n", name ? name : a->argv[0], path ? path : "?");
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* A count field that may be a number or a list. */
static long long count_of(const msgpack_object *map, const char *key)
{
	const msgpack_object *o = proto_map_get(map, key);
	if (o && o->type == MSGPACK_OBJECT_ARRAY)
		return o->via.array.size;
	return (long long)proto_map_int(map, key, 0);
}

/* daa project list */
static int cmd_project_list(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct proto_msg m;
	int rc = cli_call(cli, "project.list", NULL, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const msgpack_object *ps = proto_map_get(m.result, "projects");
		uint32_t n = ps && ps->type == MSGPACK_OBJECT_ARRAY ? ps->via.array.size : 0;
		if (n == 0)
			printf("no projects yet (daa project new NAME)\n");
		else
			printf("%-20s %8s %6s  %s\n", "NAME", "DATASETS", "STEPS", "PATH");
		for (uint32_t i = 0; i < n; i++) {
			const msgpack_object *p = &ps->via.array.ptr[i];
			const char *name = cli_str(p, "name"), *path = cli_str(p, "path");
			printf("%-20s %8lld %6lld  %s\n", name ? name : "?", count_of(p, "datasets"),
			       count_of(p, "steps"), path ? path : "");
		}
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* daa project rm NAME */
static int cmd_project_rm(struct cli *cli, struct cli_args *a)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_str(&p, "project", a->argv[0]);
	int rc = cli_call(cli, "project.delete", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const char *path = cli_str(m.result, "path");
		if (proto_map_bool(m.result, "files_removed", true))
			printf("removed project %s\n", a->argv[0]);
		else
			printf("removed project %s from the list; its folder %s was kept\n", a->argv[0],
			       path ? path : "");
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* The profile status line under a dataset (data.list / data.add). */
static void profile_status_print(const msgpack_object *st)
{
	const char *state = st ? cli_str(st, "state") : NULL;
	if (!state)
		return;
	if (strcmp(state, "ready") == 0) {
		const char *rep = cli_str(st, "report");
		printf("    profile: %lld rows, %lld columns, %lld warnings%s%s%s\n",
		       (long long)proto_map_int(st, "rows", 0), (long long)proto_map_int(st, "n_columns", 0),
		       (long long)proto_map_int(st, "warnings", 0), rep ? " — " : "", rep ? rep : "",
		       proto_map_get(st, "outdated") ? " (conventions changed: made again when needed)" : "");
	} else if (strcmp(state, "running") == 0) {
		printf("    profile: being made in the background (`daa profile` waits for it)\n");
	} else if (strcmp(state, "failed") == 0) {
		const char *e = cli_str(st, "error");
		printf("    profile: failed: %s\n", e ? e : "?");
	} else {
		printf("    profile: not made yet (`daa profile` or the next question makes it)\n");
	}
}

/* DATASET lines: name, format, size, file; then the profile status. */
static void datasets_print(const msgpack_object *ds)
{
	uint32_t n = ds && ds->type == MSGPACK_OBJECT_ARRAY ? ds->via.array.size : 0;
	if (n == 0)
		printf("no datasets yet (daa add FILE)\n");
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *d = &ds->via.array.ptr[i];
		const char *name = cli_str(d, "name"), *fmt = cli_str(d, "format");
		const char *path = cli_str(d, "path") ? cli_str(d, "path") : cli_str(d, "file");
		printf("%-20s %-8s %12lld  %s\n", name ? name : "?", fmt ? fmt : "?",
		       (long long)proto_map_int(d, "bytes", 0), path ? path : "");
		profile_status_print(proto_map_get(d, "profile"));
	}
}

/* daa project info [NAME] */
static int cmd_project_info(struct cli *cli, struct cli_args *a)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_str(&p, "project", a->argc ? a->argv[0] : cli->project);
	int rc = cli_call(cli, "project.info", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const msgpack_object *conv = proto_map_get(m.result, "conventions");
		const char *name = cli_str(m.result, "name"), *path = cli_str(m.result, "path");
		printf("project %s\npath:  %s\nsteps: %lld\n\ndatasets:\n", name ? name : "?",
		       path ? path : "?", (long long)proto_map_int(m.result, "steps", 0));
		datasets_print(proto_map_get(m.result, "datasets"));
		printf("\nconventions: %u\n", conv && conv->type == MSGPACK_OBJECT_MAP
						       ? (unsigned)conv->via.map.size : 0u);
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* daa data list */
static int cmd_data_list(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	int rc = cli_call(cli, "data.list", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m))
		datasets_print(proto_map_get(m.result, "datasets"));
	proto_msg_done(&m);
	return CLI_OK;
}

/* Add one file; CLI_OK or an error code (already printed). */
static int add_one(struct cli *cli, struct cli_args *a, const char *file)
{
	char path[PATH_MAX];
	struct cli_params p = {0};
	struct proto_msg m;
	if (!realpath(file, path)) {
		fprintf(stderr, "daa: %s: %s\n", file, strerror(errno));
		return CLI_ERR;
	}
	cli_p_project(&p, cli);
	cli_p_str(&p, "path", path);
	cli_p_str(&p, "name", a->val['n']);
	if (a->val['f'])
		cli_p_bool(&p, "overwrite", true);
	int rc = cli_call(cli, "data.add", &p, CLI_TIMEOUT_SHORT * 4, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const char *name = cli_str(m.result, "name"), *f = cli_str(m.result, "file");
		const char *fmt = cli_str(m.result, "format");
		printf("added %s as %s (%s, %lld bytes)\n", file, name ? name : "?", fmt ? fmt : "?",
		       (long long)proto_map_int(m.result, "bytes", 0));
		profile_status_print(proto_map_get(m.result, "profile"));
		(void)f;
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* daa add FILE... [--name NAME] [--overwrite] */
static int cmd_add(struct cli *cli, struct cli_args *a)
{
	if (a->val['n'] && a->argc > 1)
		return cli_usage_error(cli_cmd_named("add"), "--name can only be used with one file");
	int worst = CLI_OK;
	for (int i = 0; i < a->argc; i++) {
		int rc = add_one(cli, a, a->argv[i]);
		if (rc == CLI_UNREACHABLE)
			return rc;
		if (rc != CLI_OK)
			worst = rc;
	}
	return worst;
}

/* Print the conventions map: KEY = VALUE  [source; why]. */
static void conventions_print(const msgpack_object *conv)
{
	uint32_t n = conv && conv->type == MSGPACK_OBJECT_MAP ? conv->via.map.size : 0;
	if (n == 0)
		printf("no conventions yet (daa conventions set KEY VALUE)\n");
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *k = &conv->via.map.ptr[i].key, *v = &conv->via.map.ptr[i].val;
		const msgpack_object *val = v->type == MSGPACK_OBJECT_MAP ? proto_map_get(v, "value") : v;
		const char *src = cli_str(v, "source"), *why = cli_str(v, "why");
		cli_put_obj_str(stdout, k);
		printf(" = ");
		if (val && val->type == MSGPACK_OBJECT_STR)
			cli_put_obj_str(stdout, val);
		else
			cli_json_print(stdout, val, -1);
		if (src || why)
			printf("  [%s%s%s]", src ? src : "", src && why ? "; " : "", why ? why : "");
		printf("\n");
	}
}

/* daa conventions [set KEY VALUE [--why TEXT] | rm KEY] */
static int cmd_conventions(struct cli *cli, struct cli_args *a)
{
	struct cli_params p = {0};
	struct proto_msg m;
	const char *method = "conventions.get", *verb = a->argc ? a->argv[0] : "";
	cli_p_project(&p, cli);
	if (!strcmp(verb, "set") && a->argc == 3) {
		method = "conventions.set";
		cli_p_str(&p, "key", a->argv[1]);
		cli_p_str(&p, "value", a->argv[2]);
		cli_p_str(&p, "source", "user");
		cli_p_str(&p, "why", a->val['w']);
	} else if (!strcmp(verb, "rm") && a->argc == 2) {
		method = "conventions.rm";
		cli_p_str(&p, "key", a->argv[1]);
	} else if (a->argc > 0) {
		return cli_usage_error(cli_cmd_named("conventions"),
				       "expected no arguments, `set KEY VALUE` or `rm KEY`");
	}
	if (a->val['w'] && strcmp(method, "conventions.set") != 0)
		return cli_usage_error(cli_cmd_named("conventions"), "--why goes with `set`");
	int rc = cli_call(cli, method, &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		if (a->argc == 0)
			conventions_print(proto_map_get(m.result, "conventions"));
		else
			printf("%s %s\n", a->argc == 3 ? "set" : "removed", a->argv[1]);
	}
	proto_msg_done(&m);
	return CLI_OK;
}

static const struct cli_opt opts_new[] = {{'d', "dir", true}, {0, NULL, false}};
static const struct cli_opt opts_add[] = {{'n', "name", true}, {'f', "overwrite", false},
					  {0, NULL, false}};
static const struct cli_opt opts_conv[] = {{'w', "why", true}, {0, NULL, false}};

const struct cli_cmd cli_cmds_project[] = {
	{"project new", "NAME [--dir PATH]", "create a project",
	 "Projects live under $XDG_DATA_HOME/daa/projects/NAME, or in PATH/NAME with --dir.\n",
	 1, 1, opts_new, cmd_project_new},
	{"project list", "", "list the projects", NULL, 0, 0, NULL, cmd_project_list},
	{"project info", "[NAME]", "a project's folder, datasets, steps and conventions count", NULL,
	 0, 1, NULL, cmd_project_info},
	{"project rm", "NAME", "delete a project (a folder made with --dir is kept)", NULL, 1, 1,
	 NULL, cmd_project_rm},
	{"data list", "", "the project's datasets", NULL, 0, 0, NULL, cmd_data_list},
	{"add", "FILE... [--name NAME] [--overwrite]", "copy datasets into the project's data/",
	 "Formats: .csv .tsv .txt .json .jsonl .xlsx .parquet.  The daemon copies the file, so\n"
	 "daa sends its absolute path.  --name (one file only) names the dataset; --overwrite\n"
	 "replaces a dataset of the same name.\n",
	 1, -1, opts_add, cmd_add},
	{"conventions", "[set KEY VALUE [--why TEXT] | rm KEY]", "show or change the project's conventions",
	 "Conventions are rules the agent follows (date column and format, id columns, units...).\n"
	 "VALUE is sent as a string.\n",
	 0, 3, opts_conv, cmd_conventions},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
