/*
 * client/cmd_history.c — the step scripts: `daa history` (one line per
 * step), `daa show N`, `daa edit N` ($VISUAL / $EDITOR on a copy; on save
 * the daemon marks the later steps stale and daa offers to re-run),
 * `daa rerun [N | --all]` and `daa export --script FILE | --notebook FILE
 * [--with-outputs]`.  Methods: history.* and export.* (protocol/PROTOCOL.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/cli.h"

/* A step number argument (1..100000), or -1. */
static long step_arg(const char *s)
{
	char *end = NULL;
	long n = strtol(s, &end, 10);
	return end && !*end && n >= 1 && n <= 100000 ? n : -1;
}

/* The count of an array field. */
static uint32_t arr_size(const msgpack_object *map, const char *key)
{
	const msgpack_object *a = proto_map_get(map, key);
	return a && a->type == MSGPACK_OBJECT_ARRAY ? a->via.array.size : 0;
}

/* `daa history`: number, status, title, outputs. */
static int cmd_history(struct cli *cli, struct cli_args *a)
{
	struct cli_params p = {0};
	struct proto_msg m;
	(void)a;
	cli_p_project(&p, cli);
	int rc = cli_call(cli, "history.list", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK || cli_json_result(cli, &m))
		goto done;
	const msgpack_object *steps = proto_map_get(m.result, "steps");
	if (!arr_size(m.result, "steps"))
		printf("no steps yet (each successful `daa ask` or `daa run` adds one)\n");
	for (uint32_t i = 0; i < arr_size(m.result, "steps"); i++) {
		const msgpack_object *st = &steps->via.array.ptr[i];
		const msgpack_object *outs = proto_map_get(st, "outputs");
		const char *title = cli_str(st, "title");
		printf("%3lld  %-7s %s", (long long)proto_map_int(st, "n", 0), cli_str(st, "status") ?: "?",
		       title && *title ? title : cli_str(st, "file") ?: "");
		for (uint32_t j = 0; outs && outs->type == MSGPACK_OBJECT_ARRAY && j < outs->via.array.size; j++) {
			printf("%s", j ? ", " : "  → ");
			cli_put_obj_str(stdout, &outs->via.array.ptr[j]);
		}
		printf("\n");
	}
	if (proto_map_bool(m.result, "rerunning", false))
		printf("(a re-run is under way)\n");
done:
	if (rc == CLI_OK)
		proto_msg_done(&m);
	return rc;
}

/* history.show for step n into *m. */
static int show_call(struct cli *cli, long n, struct proto_msg *m)
{
	struct cli_params p = {0};
	cli_p_project(&p, cli);
	cli_p_int(&p, "step", n);
	return cli_call(cli, "history.show", &p, CLI_TIMEOUT_SHORT, m);
}

/* `daa show N`: the script, after a status line on stderr. */
static int cmd_show(struct cli *cli, struct cli_args *a)
{
	struct proto_msg m;
	long n = step_arg(a->argv[0]);
	if (n < 0)
		return cli_usage_error(cli_cmd_named("show"), "N is a step number (see `daa history`)");
	int rc = show_call(cli, n, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		fprintf(stderr, "# %s — %s\n", cli_str(m.result, "file") ?: "?", cli_str(m.result, "status") ?: "?");
		cli_put_obj_str(stdout, proto_map_get(m.result, "text"));
		if (cli_str(m.result, "error"))
			fprintf(stderr, "# last re-run failed:\n%s\n", cli_str(m.result, "error"));
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* Run $VISUAL / $EDITOR (else vi) on path; 0 when it exited 0. */
static int run_editor(const char *path)
{
	const char *ed = getenv("VISUAL");
	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "exec $DAA_EDITOR \"$1\"", "sh", path, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Read a whole file (NULL on error). */
static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	if (!f)
		return NULL;
	FILE *o = open_memstream(&buf, &len);
	char chunk[8192];
	size_t n;
	while (o && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, n, o);
	fclose(f);
	if (o)
		fclose(o);
	return buf;
}

static int rerun(struct cli *cli, long from);

/* Ask whether to re-run from n (a TTY only; `--rerun` says yes). */
static bool want_rerun(struct cli_args *a, long n)
{
	char line[32];
	if (a->val['r'])
		return true;
	if (!isatty(0) || !isatty(2)) {
		fprintf(stderr, "re-run them with: daa rerun %ld\n", n);
		return false;
	}
	fprintf(stderr, "re-run from step %ld now? [Y/n] ", n);
	if (!fgets(line, sizeof line, stdin))
		return false;
	return line[0] == '\n' || line[0] == 'y' || line[0] == 'Y';
}

/* Save the edited text; report stale steps; maybe re-run. */
static int edit_save(struct cli *cli, struct cli_args *a, long n, const char *text)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	cli_p_int(&p, "step", n);
	cli_p_str(&p, "text", text);
	int rc = cli_call(cli, "history.edit", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	uint32_t stale = arr_size(m.result, "stale");
	bool queued = proto_map_bool(m.result, "queued", false);
	if (!cli_json_result(cli, &m) && queued)
		fprintf(stderr, "a re-run holds the project: the edit of %s is saved when it ends\n",
			cli_str(m.result, "file") ?: "");
	else if (!cli->json)
		fprintf(stderr, "saved %s; %u later step(s) now stale%s\n", cli_str(m.result, "file") ?: "",
			stale, proto_map_bool(m.result, "restart_deferred", false)
				? " (the kernel restarts when the running work ends)" : "");
	proto_msg_done(&m);
	return !queued && want_rerun(a, n) ? rerun(cli, n) : CLI_OK;
}

/* `daa edit N`: edit a copy in $VISUAL/$EDITOR, save it when changed. */
static int cmd_edit(struct cli *cli, struct cli_args *a)
{
	struct proto_msg m;
	long n = step_arg(a->argv[0]);
	char tmp[] = "/tmp/daa-edit-XXXXXX.py";
	if (n < 0)
		return cli_usage_error(cli_cmd_named("edit"), "N is a step number (see `daa history`)");
	int rc = show_call(cli, n, &m);
	if (rc != CLI_OK)
		return rc;
	char *old = strdup(cli_str(m.result, "text") ?: "");
	proto_msg_done(&m);
	int fd = mkstemps(tmp, 3);
	if (!old || fd < 0 || write(fd, old, strlen(old)) != (ssize_t)strlen(old)) {
		fprintf(stderr, "daa: cannot write a temporary copy of step %ld: %s\n", n, strerror(errno));
		if (fd >= 0)
			unlink(tmp), close(fd);
		free(old);
		return CLI_ERR;
	}
	close(fd);
	const char *ed = getenv("VISUAL") && *getenv("VISUAL") ? getenv("VISUAL") : getenv("EDITOR");
	setenv("DAA_EDITOR", ed && *ed ? ed : "vi", 1);
	char *text = run_editor(tmp) == 0 ? read_all(tmp) : NULL;
	unlink(tmp);
	if (!text) {
		fprintf(stderr, "daa: the editor failed; step %ld is unchanged\n", n);
		rc = CLI_ERR;
	} else if (strcmp(text, old) == 0) {
		fprintf(stderr, "step %ld unchanged\n", n);
	} else {
		rc = edit_save(cli, a, n, text);
	}
	free(text);
	free(old);
	return rc;
}

/* Progress of a re-run (history.event) as short lines on stderr. */
static void rerun_note_cb(const char *method, const msgpack_object *params, void *ud)
{
	const msgpack_object *ev = params;
	const char *kind;
	(void)ud;
	if (ev && ev->type == MSGPACK_OBJECT_ARRAY && ev->via.array.size)
		ev = &ev->via.array.ptr[0];
	if (strcmp(method, "history.event") || !ev || !(kind = cli_str(ev, "kind")))
		return;
	if (!strcmp(kind, "rerun_queued"))
		fprintf(stderr, "waiting for the project's running turn to end...\n");
	else if (!strcmp(kind, "restore_start"))
		fprintf(stderr, "replaying %lld earlier step(s)\n", (long long)proto_map_int(ev, "steps", 0));
	else if (!strcmp(kind, "restore"))
		fprintf(stderr, "  replayed %lld/%lld %s%s\n", (long long)proto_map_int(ev, "step", 0),
			(long long)proto_map_int(ev, "of", 0), cli_str(ev, "file") ?: "",
			proto_map_bool(ev, "ok", false) ? "" : " (FAILED)");
	else if (!strcmp(kind, "rerun_step"))
		fprintf(stderr, "  ran step %lld: %s\n", (long long)proto_map_int(ev, "n", 0),
			proto_map_bool(ev, "ok", false) ? "ok" : "failed");
}

/* history.rerun from `from`; progress on stderr, then each step's outcome. */
static int rerun(struct cli *cli, long from)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	int rc = cli_connect(cli);
	if (rc != CLI_OK)
		return rc;
	if (!cli->json) /* before `watch`: events may come right behind its reply */
		proto_async_set_notify(cli->conn, rerun_note_cb, NULL);
	rc = cli_call(cli, "watch", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	proto_msg_done(&m);
	cli_p_int(&p, "step", from);
	fprintf(stderr, "re-running from step %ld in a fresh kernel (steps before it are replayed)...\n", from);
	rc = cli_call(cli, "history.rerun", &p, CLI_TIMEOUT_NONE, &m);
	if (rc != CLI_OK)
		return rc;
	bool ok = proto_map_bool(m.result, "ok", false), cut = cli_str(m.result, "interrupted");
	if (!cli_json_result(cli, &m)) {
		const msgpack_object *ran = proto_map_get(m.result, "ran");
		for (uint32_t i = 0; i < arr_size(m.result, "ran"); i++) {
			const msgpack_object *st = &ran->via.array.ptr[i];
			bool sok = proto_map_bool(st, "ok", false);
			printf("== step %lld %s: %s\n", (long long)proto_map_int(st, "n", 0),
			       cli_str(st, "file") ?: "", sok ? "ok" : "FAILED");
			if (cli_str(st, "stdout"))
				printf("%s", cli_str(st, "stdout"));
			for (uint32_t j = 0; j < arr_size(st, "figures"); j++) {
				printf("figure: ");
				cli_put_obj_str(stdout, &proto_map_get(st, "figures")->via.array.ptr[j]);
				printf("\n");
			}
		}
		if (cut)
			fprintf(stderr, "daa: the re-run was interrupted at %s, which keeps its "
				"previous status and outputs:\n%s\n", cli_str(m.result, "interrupted"),
				cli_str(m.result, "error") ?: "");
		else if (!ok && cli_str(m.result, "failed"))
			fprintf(stderr, "daa: %s failed (its previous outputs are kept):\n%s\n",
				cli_str(m.result, "failed"), cli_str(m.result, "error") ?: "");
		else if (!ok)
			fprintf(stderr, "daa: the re-run did not run: %s\n",
				cli_str(m.result, "error") ?: "(no reason given)");
	}
	proto_msg_done(&m);
	/* cut: the daemon stopped (or the project closed) while daa waited (exit 4) */
	return ok ? CLI_OK : cut ? CLI_UNREACHABLE : CLI_ERR;
}

/* `daa rerun N` / `daa rerun --all`. */
static int cmd_rerun(struct cli *cli, struct cli_args *a)
{
	long n = a->argc ? step_arg(a->argv[0]) : -1;
	if ((a->argc == 1) == (a->val['a'] != NULL) || (a->argc && n < 0))
		return cli_usage_error(cli_cmd_named("rerun"), "give a step number N or --all");
	return rerun(cli, a->argc ? n : 1);
}

/* Write text to path atomically-ish (temp + rename). */
static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0) {
		int e = errno;
		if (f)
			unlink(tmp);
		fprintf(stderr, "daa: cannot write %s: %s\n", path, strerror(e));
		return CLI_ERR;
	}
	return CLI_OK;
}

/* `daa export --script FILE | --notebook FILE [--with-outputs]`. */
static int cmd_export(struct cli *cli, struct cli_args *a)
{
	const char *script = a->val['s'], *nb = a->val['n'];
	struct cli_params p = {0};
	struct proto_msg m;
	char dir[PATH_MAX], abs[PATH_MAX];
	if ((script != NULL) == (nb != NULL) || (script ? !*script : !*nb))
		return cli_usage_error(cli_cmd_named("export"), "give --script FILE or --notebook FILE");
	const char *file = script ? script : nb;
	cli_p_project(&p, cli);
	if (script) {
		snprintf(abs, sizeof abs, "%s", file);
		if (file[0] != '/' && getcwd(dir, sizeof dir) &&
		    strlen(dir) + strlen(file) + 2 <= sizeof abs) {
			strcat(strcat(strcpy(abs, dir), "/"), file);
		}
		memcpy(dir, abs, sizeof dir);
		char *slash = strrchr(dir, '/');
		if (slash)
			slash[slash == dir] = '\0'; /* "/x" -> "/", "/a/x" -> "/a" */
		cli_p_str(&p, "target_dir", dir);
	} else if (a->val['o']) {
		cli_p_bool(&p, "with_outputs", true);
	}
	int rc = cli_call(cli, script ? "export.script" : "export.notebook", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	const char *text = cli_str(m.result, "text");
	rc = text ? write_file(file, text) : CLI_ERR;
	if (rc == CLI_OK && script)
		chmod(file, 0755);
	if (rc == CLI_OK && !cli->json)
		printf("wrote %s\n", file);
	else if (rc == CLI_OK) {
		printf("{\"file\": \"");
		for (const unsigned char *c = (const unsigned char *)file; *c; c++)
			printf(*c == '"' || *c == '\\' ? "\\%c" : *c < 0x20 ? "\\u%04x" : "%c", *c);
		printf("\"}\n");
	}
	proto_msg_done(&m);
	return rc;
}

static const struct cli_opt opts_edit[] = {{'r', "rerun", false}, {0, NULL, false}};
static const struct cli_opt opts_rerun[] = {{'a', "all", false}, {0, NULL, false}};
static const struct cli_opt opts_export[] = {{'s', "script", true}, {'n', "notebook", true},
					     {'o', "with-outputs", false}, {0, NULL, false}};

const struct cli_cmd cli_cmds_history[] = {
	{"history", "", "the project's steps: number, status (ok/edited/stale/failed), request, outputs",
	 NULL, 0, 0, NULL, cmd_history},
	{"show", "N", "print step N's script (history/NNN_slug.py)", NULL, 1, 1, NULL, cmd_show},
	{"edit", "N [--rerun]", "edit step N in $VISUAL / $EDITOR; later steps become stale",
	 "On save, daa offers to re-run from step N (on a terminal); --rerun does it without asking.\n",
	 1, 1, opts_edit, cmd_edit},
	{"rerun", "N | --all", "re-run steps from N on in a fresh kernel (1..N-1 replayed first)",
	 "A step that fails stops the re-run: its traceback is shown and its previous outputs kept.\n",
	 0, 1, opts_rerun, cmd_rerun},
	{"export", "--script FILE | --notebook FILE [--with-outputs]",
	 "the whole analysis as a standalone script or a Jupyter notebook",
	 "The script runs with /usr/bin/python3 outside daa (the project folder is found relative\n"
	 "to the script's folder); figures go to outputs/plots/exported/.  --with-outputs puts the\n"
	 "last recorded stdout and the figures of each step into the notebook.\n",
	 0, 0, opts_export, cmd_export},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
