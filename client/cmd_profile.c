/*
 * client/cmd_profile.c — `daa profile [DATASET] [--open]` and `daa model
 * TARGET [--features a,b] [--kind K] [--dataset NAME]`: the command-line
 * faces of daa_tools.profile / daa_tools.model (methods profile.run and
 * model.run).  Prints one line per column with its warnings and the report
 * path, or the cross-validated metrics against the dummy baseline.
 * --open shows the daemon's sandboxed view of the report (.daa/view/),
 * never the kernel-written report file itself.  While a Dask-backed
 * dataset is profiled, its passes draw a progress bar on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/cli.h"

/* Print a msgpack number (int or float). */
static void put_num(const msgpack_object *o)
{
	if (!o)
		printf("-");
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		printf("%llu", (unsigned long long)o->via.u64);
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		printf("%lld", (long long)o->via.i64);
	else if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
		printf("%.3f", o->via.f64);
	else if (o->type == MSGPACK_OBJECT_STR)
		cli_put_obj_str(stdout, o);
	else
		printf("-");
}

/* Print an array of strings joined by sep. */
static void put_strs(const msgpack_object *a, const char *sep)
{
	if (!a || a->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		if (i)
			fputs(sep, stdout);
		cli_put_obj_str(stdout, &a->via.array.ptr[i]);
	}
}

/* One line per column: name, type, missing, distinct, warnings. */
static void profile_print(const msgpack_object *r)
{
	const char *ds = cli_str(r, "dataset");
	printf("%s: %lld rows, %lld columns, %lld duplicate rows\n", ds ? ds : "?",
	       (long long)proto_map_int(r, "rows", 0), (long long)proto_map_int(r, "n_columns", 0),
	       (long long)proto_map_int(r, "duplicate_rows", 0));
	const msgpack_object *cols = proto_map_get(r, "columns");
	for (uint32_t i = 0; cols && cols->type == MSGPACK_OBJECT_ARRAY && i < cols->via.array.size; i++) {
		const msgpack_object *c = &cols->via.array.ptr[i];
		const char *name = cli_str(c, "name"), *type = cli_str(c, "type");
		printf("  %-24s %-11s missing %lld, distinct %lld", name ? name : "?", type ? type : "?",
		       (long long)proto_map_int(c, "missing", 0), (long long)proto_map_int(c, "distinct", 0));
		const msgpack_object *w = proto_map_get(c, "warnings");
		if (w && w->type == MSGPACK_OBJECT_ARRAY && w->via.array.size) {
			fputs("  ! ", stdout);
			put_strs(w, "; ");
		}
		putchar('\n');
	}
	const msgpack_object *notes = proto_map_get(r, "notes");
	for (uint32_t i = 0; notes && notes->type == MSGPACK_OBJECT_ARRAY && i < notes->via.array.size; i++) {
		fputs("note: ", stdout);
		cli_put_obj_str(stdout, &notes->via.array.ptr[i]);
		putchar('\n');
	}
}

/* The report's absolute path (project_path/report) into buf. */
static void report_path(const msgpack_object *r, char *buf, size_t len)
{
	const char *rep = cli_str(r, "report"), *proj = cli_str(r, "project_path");
	if (rep && rep[0] != '/' && proj)
		snprintf(buf, len, "%s/%s", proj, rep);
	else
		snprintf(buf, len, "%s", rep ? rep : "");
}

/* The page --open may show: the daemon's `view` (its sandboxed, network-less
 * wrapper around the kernel-made report), only when it really is a regular
 * file NAME.html directly in <project>/.daa/view/ — never the report itself
 * or any other path.  0 with the real path in out, or -1 (message printed). */
static int view_path(const msgpack_object *r, char *out, size_t len)
{
	const char *view = cli_str(r, "view"), *proj = cli_str(r, "project_path");
	const char *why = cli_str(r, "view_error");
	char dir[PATH_MAX], want[PATH_MAX + 16];
	struct stat st;
	if (!view || !proj) {
		fprintf(stderr, "daa: not opening the report: the daemon made no safe view of it "
			"(%s)\n", why ? why : "an older daemon?");
		return -1;
	}
	size_t n = strlen(view);
	if (!realpath(proj, dir) || (size_t)snprintf(want, sizeof want, "%s/.daa/view/", dir) >=
					    sizeof want || n >= len || !realpath(view, out) ||
	    strncmp(out, want, strlen(want)) || strchr(out + strlen(want), '/') ||
	    strlen(out) < 6 || strcmp(out + strlen(out) - 5, ".html") || lstat(view, &st) < 0 ||
	    !S_ISREG(st.st_mode)) {
		fprintf(stderr, "daa: not opening %s: it is not a page the daemon wrote in %s/.daa/view\n",
			view, proj);
		return -1;
	}
	return 0;
}

/* Open a file with xdg-open, detached; never waits for the browser. */
static void open_file(const char *path)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			setsid();
			execlp("xdg-open", "xdg-open", path, (char *)NULL);
			fprintf(stderr, "daa: cannot run xdg-open: %m\n");
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	else
		fprintf(stderr, "daa: cannot open the report: %m\n");
}

/* data.event while profile.run waits: the progress bar of a Dask-backed
 * dataset's profile (profile_progress); other events are not ours to show. */
static void profile_note_cb(const char *method, const msgpack_object *ev, void *ud)
{
	const char *kind = cli_str(ev, "kind");
	if (!((struct cli *)ud)->json && !strcmp(method, "data.event") && kind &&
	    !strcmp(kind, "profile_progress"))
		cli_progress_print(stderr, ev);
}

static int cmd_profile(struct cli *cli, struct cli_args *a)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	if (a->argc == 1)
		cli_p_str(&p, "dataset", a->argv[0]);
	if (a->val['r'])
		cli_p_bool(&p, "refresh", true);
	int rc = cli_connect(cli);
	if (rc != CLI_OK)
		return rc;
	proto_async_set_notify(cli->conn, profile_note_cb, cli);
	rc = cli_call_long(cli, "profile.run", &p, "profiling in the project's kernel…", &m);
	cli_progress_clear(stderr);
	if (rc != CLI_OK)
		return rc;
	char path[PATH_MAX * 2];
	report_path(m.result, path, sizeof path);
	if (!cli_json_result(cli, &m)) {
		profile_print(m.result);
		printf("report: %s\n", path);
		const char *made = cli_str(m.result, "created");
		const msgpack_object *cached = proto_map_get(m.result, "cached");
		if (made && cached && cached->type == MSGPACK_OBJECT_BOOLEAN && cached->via.boolean)
			printf("(kept from %s: same file content; --refresh makes it again)\n", made);
	}
	char view[PATH_MAX];
	rc = CLI_OK;
	if (a->val['o'] && view_path(m.result, view, sizeof view) == 0)
		open_file(view);
	else if (a->val['o'])
		rc = CLI_ERR;
	proto_msg_done(&m);
	return rc;
}

/* The metrics table: one row per estimator, the baseline first. */
static void scores_print(const msgpack_object *r)
{
	const msgpack_object *sc = proto_map_get(r, "scores");
	const char *best = cli_str(r, "best");
	if (!sc || sc->type != MSGPACK_OBJECT_MAP)
		return;
	for (uint32_t i = 0; i < sc->via.map.size; i++) {
		const msgpack_object_kv *kv = &sc->via.map.ptr[i];
		char name[128] = "";
		if (kv->key.type == MSGPACK_OBJECT_STR)
			snprintf(name, sizeof name, "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
		printf("  %-22s", name);
		for (uint32_t j = 0; kv->val.type == MSGPACK_OBJECT_MAP && j < kv->val.via.map.size; j++) {
			const msgpack_object_kv *m = &kv->val.via.map.ptr[j];
			printf("  ");
			cli_put_obj_str(stdout, &m->key);
			printf(" ");
			put_num(&m->val);
		}
		printf("%s\n", best && strcmp(best, name) == 0 ? "   <- chosen" : "");
	}
}

/* The importances (first 8) and the dropped columns with their reasons. */
static void notes_print(const msgpack_object *r)
{
	const msgpack_object *imp = proto_map_get(r, "importances");
	if (imp && imp->type == MSGPACK_OBJECT_MAP && imp->via.map.size) {
		printf("permutation importances:");
		for (uint32_t i = 0; i < imp->via.map.size && i < 8; i++) {
			printf(i ? ", " : " ");
			cli_put_obj_str(stdout, &imp->via.map.ptr[i].key);
			printf(" ");
			put_num(&imp->via.map.ptr[i].val);
		}
		putchar('\n');
	}
	const msgpack_object *d = proto_map_get(r, "dropped");
	for (uint32_t i = 0; d && d->type == MSGPACK_OBJECT_MAP && i < d->via.map.size; i++) {
		printf("dropped ");
		cli_put_obj_str(stdout, &d->via.map.ptr[i].key);
		printf(": ");
		cli_put_obj_str(stdout, &d->via.map.ptr[i].val);
		putchar('\n');
	}
	const msgpack_object *n = proto_map_get(r, "notes");
	for (uint32_t i = 0; n && n->type == MSGPACK_OBJECT_ARRAY && i < n->via.array.size; i++) {
		printf("note: ");
		cli_put_obj_str(stdout, &n->via.array.ptr[i]);
		putchar('\n');
	}
}

/* The whole model result. */
static void model_print(const msgpack_object *r)
{
	const char *kind = cli_str(r, "kind"), *target = cli_str(r, "target");
	const char *ds = cli_str(r, "dataset"), *pm = cli_str(r, "primary_metric");
	const char *cv = cli_str(r, "cv");
	printf("%s of '%s' (dataset %s, %lld rows, %lld-fold %s cross-validation, chosen by %s)\n"
	       "features: ", kind ? kind : "?", target ? target : "?", ds ? ds : "?",
	       (long long)proto_map_int(r, "rows", 0), (long long)proto_map_int(r, "folds", 0),
	       cv ? cv : "shuffled", pm ? pm : "?");
	put_strs(proto_map_get(r, "features"), ", ");
	putchar('\n');
	scores_print(r);
	printf("%s\n", proto_map_bool(r, "beats_baseline", false) ? "beats the dummy baseline"
								   : "does NOT beat the dummy baseline");
	notes_print(r);
	const char *proj = cli_str(r, "project_path"), *mp = cli_str(r, "model_path");
	const char *card = cli_str(r, "card_path");
	printf("model: %s%s%s\n", proj && mp && mp[0] != '/' ? proj : "", proj && mp && mp[0] != '/' ? "/" : "",
	       mp ? mp : "?");
	proj = cli_str(r, "project_path");
	printf("card:  %s%s%s\n", proj && card && card[0] != '/' ? proj : "",
	       proj && card && card[0] != '/' ? "/" : "", card ? card : "?");
}

static int cmd_model(struct cli *cli, struct cli_args *a)
{
	const char *kind = a->val['k'];
	if (kind && strcmp(kind, "auto") && strcmp(kind, "classification") && strcmp(kind, "regression"))
		return cli_usage_error(cli_cmd_named("model"), "--kind is auto, classification or regression, not '%s'", kind);
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	cli_p_str(&p, "target", a->argv[0]);
	if (a->val['f'])
		cli_p_str(&p, "features", a->val['f']);
	if (kind)
		cli_p_str(&p, "kind", kind);
	if (a->val['d'])
		cli_p_str(&p, "dataset", a->val['d']);
	int rc = cli_call_long(cli, "model.run", &p,
			       "fitting and cross-validating models in the project's kernel…", &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m))
		model_print(m.result);
	proto_msg_done(&m);
	return CLI_OK;
}

static const struct cli_opt opts_profile[] = {{'o', "open", false}, {'r', "refresh", false},
					      {0, NULL, false}};
static const struct cli_opt opts_model[] = {{'f', "features", true}, {'k', "kind", true},
					    {'d', "dataset", true}, {0, NULL, false}};

const struct cli_cmd cli_cmds_profile[] = {
	{"profile", "[DATASET] [--open] [--refresh]", "profile a dataset: one line per column, an HTML report",
	 "Runs daa_tools.profile in the project's kernel: types, missing and distinct counts,\n"
	 "warnings (constant, identifier, date or numbers stored as text, skewed, ...) and a\n"
	 "self-contained HTML report in outputs/reports/.  --open shows it with xdg-open.\n"
	 "Adding a dataset profiles it in the background; the profile is kept per file content\n"
	 "(.daa/profiles/) and shown at once while the file and its loading conventions are\n"
	 "unchanged.  --refresh makes it again.\n",
	 0, 1, opts_profile, cmd_profile},
	{"model", "TARGET [--features a,b] [--kind auto|classification|regression] [--dataset NAME]",
	 "model a column from the others, cross-validated against a dummy baseline",
	 "Runs daa_tools.model: a scikit-learn pipeline (imputation, scaling, one-hot, date parts),\n"
	 "identifiers and leaking columns dropped with a note, two or three estimators compared;\n"
	 "saves the fitted pipeline (joblib) and a model card in outputs/models/.\n",
	 1, 1, opts_model, cmd_model},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
