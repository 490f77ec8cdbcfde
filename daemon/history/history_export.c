/*
 * daemon/history/history_export.c — the whole analysis as one standalone Python
 * script or a Jupyter notebook (nbformat 4.5).
 *
 * Both start with the same set-up: the project folder (relative to the
 * script when its target folder is known, else absolute; DAA_PROJECT_DIR
 * overrides), Agg matplotlib with plt.show() saving the figures under
 * outputs/plots/exported/ like the kernel does, the kernel runtime's own
 * dataset loader (sandbox/python/daakernel/datasets.py, copied in whole so
 * conventions apply exactly as in daa), the project's conventions, `dfs`,
 * `df` (one dataset) and show()/display().  Then every step in order.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/core/config.h"
#include "daemon/core/fsutil.h"
#include "daemon/history/history.h"
#include "daemon/project/project.h"

/* Notebook outputs (PROTOCOL.md, export.notebook): a figure file over
 * NB_FIG_MAX, or one that would take the embedded bytes past NB_EMBED_MAX,
 * is linked with a note instead of embedded; so is a step's stdout past
 * NB_STDOUT_MAX.  The whole reply then stays under the per-client queue of
 * the daemon (8 MiB by default) and the loop is busy for milliseconds. */
#define NB_FIG_MAX (2u << 20)
#define NB_STDOUT_MAX (256u << 10)
#define NB_EMBED_MAX (6u << 20)

/* JSON text safe inside a Python r'''...''' literal (every ' as \u0027). */
static void put_json_literal(FILE *f, const json_t *j)
{
	char *s = json_dumps(j, JSON_ENSURE_ASCII | JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	fputs("json.loads(r'''", f);
	for (const char *p = s ? s : "null"; *p; p++)
		fputs(*p == '\'' ? "\\u0027" : (char[]){*p, 0}, f);
	fputs("''')", f);
	free(s);
}

/* Split an absolute path into its components (at most max); the count. */
static size_t split_path(char *path, char **parts, size_t max)
{
	size_t n = 0;
	for (char *tok = strtok(path, "/"); tok && n < max; tok = strtok(NULL, "/"))
		if (strcmp(tok, ".") != 0)
			parts[n++] = tok;
	return n;
}

/* PROJECT = ...: relative to the script's folder dir, absolute when dir is NULL. */
static void put_project_dir(FILE *f, const char *project, const char *dir)
{
	char pb[PATH_MAX], db[PATH_MAX], rel[PATH_MAX * 2] = "";
	char *pp[256], *dp[256];
	size_t np, nd, common = 0, len = 0;
	fputs("PROJECT = os.environ.get(\"DAA_PROJECT_DIR\") or ", f);
	if (!dir || dir[0] != '/' || strlen(dir) >= sizeof db || strlen(project) >= sizeof pb) {
		json_t *abs = json_string(project);
		put_json_literal(f, abs);
		json_decref(abs);
		fputs("\n", f);
		return;
	}
	snprintf(pb, sizeof pb, "%s", project);
	snprintf(db, sizeof db, "%s", dir);
	np = split_path(pb, pp, 256);
	nd = split_path(db, dp, 256);
	while (common < np && common < nd && strcmp(pp[common], dp[common]) == 0)
		common++;
	for (size_t i = common; i < nd && len + 4 < sizeof rel; i++)
		len += (size_t)snprintf(rel + len, sizeof rel - len, "../");
	for (size_t i = common; i < np && len < sizeof rel; i++)
		len += (size_t)snprintf(rel + len, sizeof rel - len, "%s%s", pp[i], i + 1 < np ? "/" : "");
	json_t *r = json_string(rel[0] ? rel : ".");
	fputs("os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ", f);
	put_json_literal(f, r);
	fputs("))\n", f);
	json_decref(r);
}

/* One runtime file, without the lines marked "daa-export: skip" (the
 * package-relative imports between the loader's two files). */
static char *loader_file(const char *rt, const char *name, struct proto_err *err)
{
	char path[PATH_MAX];
	if (fsu_path(path, sizeof path, err, "%s/daakernel/%s", rt, name) < 0)
		return NULL;
	char *src = fsu_read_file(path, 1u << 20, NULL, err);
	if (!src)
		return NULL;
	char *w = src;
	for (char *line = src; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		char save = line[n];
		line[n] = '\0';
		bool skip = strstr(line, "daa-export: skip") != NULL;
		line[n] = save;
		if (!skip) {
			memmove(w, line, n);
			w += n;
		}
		line += n;
	}
	*w = '\0';
	return src;
}

/* The runtime's datasets.py and outofcore.py, as one source (NULL with err). */
static char *loader_source(struct proto_err *err)
{
	json_t *st = kern_status();
	const char *rt = json_string_value(json_object_get(st, "runtime_dir"));
	char *a = loader_file(rt ? rt : ".", "datasets.py", err);
	char *b = a ? loader_file(rt ? rt : ".", "outofcore.py", err) : NULL;
	char *out = NULL;
	if (b && asprintf(&out, "%s\n\n# ---- out-of-core datasets (sandbox/python/daakernel/outofcore.py) ----\n%s",
			  a, b) < 0) {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		out = NULL;
	}
	json_decref(st);
	free(a);
	free(b);
	return out;
}

/* The set-up code shared by the script and the notebook. */
static int put_setup(FILE *f, struct proj *pj, const char *dir, bool notebook, struct proto_err *err)
{
	char *loader = loader_source(err);
	json_t *ds = proj_datasets(pj, err), *d, *list;
	size_t i;
	if (!loader || !ds) {
		free(loader);
		json_decref(ds);
		return -1;
	}
	fputs("import json\nimport os\nimport sys\n\n", f);
	if (notebook)
		put_project_dir(f, proj_path(pj), NULL);
	else
		put_project_dir(f, proj_path(pj), dir);
	fputs("os.chdir(PROJECT)\n\nimport matplotlib\nmatplotlib.use(\"Agg\")\n"
	      "import matplotlib.pyplot as plt\nimport numpy as np\nimport pandas as pd\n\n", f);
	fputs("PLOTS = os.path.join(\"outputs\", \"plots\", \"exported\")\n"
	      "_step = [\"setup\", 0]\n\n\n"
	      "def _save_figures():\n"
	      "    \"\"\"Save and close the open figures, like daa's kernel does.\"\"\"\n"
	      "    os.makedirs(PLOTS, exist_ok=True)\n"
	      "    for num in plt.get_fignums():\n"
	      "        _step[1] += 1\n"
	      "        plt.figure(num).savefig(os.path.join(PLOTS, \"%s_%d.png\" % (_step[0], _step[1])),\n"
	      "                                dpi=100, bbox_inches=\"tight\")\n"
	      "    plt.close(\"all\")\n\n\n"
	      "def _begin(name):\n    _save_figures()\n    _step[0], _step[1] = name, 0\n\n\n"
	      "plt.show = lambda *a, **k: _save_figures()\n\n\n"
	      "def show(x, name=None):\n"
	      "    \"\"\"Print a table or a value (daa shows it as a table).\"\"\"\n"
	      "    print(x.to_string() if hasattr(x, \"to_string\") else repr(x))\n\n\n"
	      "display = show\n\n", f);
	fputs("# ---- the dataset loader of daa's kernel (sandbox/python/daakernel/datasets.py) ----\n", f);
	fputs(loader, f);
	fputs("# ---- end of the loader ----\n\nCACHE_ENABLED = False  # daa's .daa/cache is for its kernels\n\n", f);
	list = json_array();
	json_array_foreach(ds, i, d)
		json_array_append_new(list, json_pack("{s:O, s:s+, s:O}", "name", json_object_get(d, "name"),
						      "path", "data/", json_string_value(json_object_get(d, "file")),
						      "format", json_object_get(d, "format")));
	json_t *conv = proj_conventions(pj);
	fputs("CONVENTIONS = ", f);
	put_json_literal(f, conv ? conv : json_object());
	fputs("\nDATASETS = ", f);
	put_json_literal(f, list);
	json_t *compute = config_compute_json(false);
	fputs("\nCOMPUTE = ", f);   /* the same out-of-core rule and scheduler as daa's kernels */
	put_json_literal(f, compute ? compute : json_object());
	json_decref(compute);
	fputs("\ndfs = DatasetMap(DATASETS, CONVENTIONS, compute=COMPUTE)\n", f);
	if (json_array_size(list) == 1)
		fputs("df = dfs[DATASETS[0][\"name\"]]\n", f);
	json_decref(list);
	json_decref(ds);
	free(loader);
	return 0;
}

/* The whole analysis as one script. */
char *hist_export_script(struct proj *pj, const char *target_dir, struct proto_err *err)
{
	char *buf = NULL, date[64];
	size_t len = 0, i;
	time_t now = time(NULL);
	struct tm tm;
	json_t *steps = hist_steps(proj_path(pj), err), *s;
	FILE *f = steps ? open_memstream(&buf, &len) : NULL;
	if (!f) {
		json_decref(steps);
		return NULL;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
	fprintf(f, "#!/usr/bin/python3\n# daa project ");
	hist_comment_put(f, proj_name(pj), NULL); /* comment text never leaves the comment */
	fprintf(f, " — exported %s, %zu step(s).\n"
		   "# Runs outside daa: /usr/bin/python3 THIS_FILE (the project folder is found\n"
		   "# relative to this file; set DAA_PROJECT_DIR to use another copy).\n"
		   "# Figures are saved under outputs/plots/exported/.\n\n",
		date, json_array_size(steps));
	int rc = put_setup(f, pj, target_dir, false, err);
	json_array_foreach(steps, i, s) {
		if (rc < 0)
			break;
		char *code = hist_step_read(s, err);
		if (!code) {
			rc = -1;
			break;
		}
		fprintf(f, "\n# ======== step %d: history/", (int)json_integer_value(json_object_get(s, "n")));
		hist_comment_put(f, json_string_value(json_object_get(s, "file")), NULL);
		fprintf(f, " ========\n_begin(");
		put_json_literal(f, json_object_get(s, "stem"));
		fprintf(f, ")\n%s%s", code, *code && code[strlen(code) - 1] != '\n' ? "\n" : "");
		free(code);
	}
	fputs("\n_save_figures()\n", f);
	json_decref(steps);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return rc < 0 ? NULL : (proto_fail(err, PROTO_ERR_INTERNAL, "out of memory"), NULL);
	}
	return buf;
}

/* Base64 of a file's bytes (NULL when unreadable or over max); rel is inside
 * outputs/ (a kernel writes there: no symlink is followed, fsutil_out.c). */
static json_t *file_base64(const char *project, const char *rel, size_t max)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct proto_err err;
	size_t n = 0;
	unsigned char *b = (unsigned char *)fsu_out_read(project, rel, max, &n, &err);
	if (!b)
		return NULL;
	char *out = malloc(n / 3 * 4 + 8);
	size_t o = 0;
	for (size_t i = 0; out && i < n; i += 3) {
		unsigned v = (unsigned)b[i] << 16 | (i + 1 < n ? (unsigned)b[i + 1] << 8 : 0) |
			     (i + 2 < n ? b[i + 2] : 0);
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	json_t *j = out ? json_stringn(out, o) : NULL;
	free(out);
	free(b);
	return j;
}

/* A notebook cell. */
static json_t *nb_cell(const char *type, const char *id, const char *source)
{
	json_t *c = json_pack("{s:s, s:s, s:{}, s:s}", "cell_type", type, "id", id, "metadata",
			      "source", source);
	if (c && strcmp(type, "code") == 0) {
		json_object_set_new(c, "execution_count", json_null());
		json_object_set_new(c, "outputs", json_array());
	}
	return c;
}

/* A note among a cell's outputs (Markdown), for what was left out. */
static void nb_note(json_t *outs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void nb_note(json_t *outs, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_array_append_new(outs, json_pack("{s:s, s:{s:s}, s:{}}", "output_type", "display_data",
					      "data", "text/markdown", msg, "metadata"));
}

/* The step's stdout, cut past NB_STDOUT_MAX or what is left of *budget. */
static void nb_stdout(json_t *outs, const char *so, size_t *budget)
{
	size_t n = strlen(so), m = n;
	if (m > NB_STDOUT_MAX)
		m = NB_STDOUT_MAX;
	if (m > *budget)
		m = *budget;
	while (m > 0 && m < n && ((unsigned char)so[m] & 0xC0) == 0x80)
		m--;
	if (m)
		json_array_append_new(outs, json_pack("{s:s, s:s, s:s%}", "output_type", "stream",
						      "name", "stdout", "text", so, m));
	*budget -= m;
	if (m < n)
		nb_note(outs, "*daa: %zu more bytes of this step's output were left out of the notebook "
			      "(at most %u KiB per step, %u MiB in all).*", n - m, NB_STDOUT_MAX >> 10,
			NB_EMBED_MAX >> 20);
}

/* One figure: embedded while small and within *budget, else linked with a note. */
static void nb_figure(json_t *outs, struct proj *pj, const char *rel, size_t *budget)
{
	char path[PATH_MAX];
	struct proto_err err;
	struct stat st;
	if (fsu_path(path, sizeof path, &err, "%s/%s", proj_path(pj), rel) < 0 || lstat(path, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return;
	size_t size = (size_t)st.st_size, enc = (size + 2) / 3 * 4;
	json_t *b64 = NULL;
	if (size <= NB_FIG_MAX && enc <= *budget && (b64 = file_base64(proj_path(pj), rel, NB_FIG_MAX))) {
		*budget -= json_string_length(b64);
		json_array_append_new(outs, json_pack("{s:s, s:{s:o}, s:{}}", "output_type", "display_data",
						      "data", "image/png", b64, "metadata"));
		return;
	}
	if (size > NB_FIG_MAX)
		nb_note(outs, "*daa: figure [%s](%s) (%.1f MiB) is linked, not embedded: figures over "
			"%u MiB are not embedded.*", rel, rel, (double)size / (1 << 20), NB_FIG_MAX >> 20);
	else
		nb_note(outs, "*daa: figure [%s](%s) (%.1f MiB) is linked, not embedded: the notebook "
			"already embeds its %u MiB of outputs.*", rel, rel, (double)size / (1 << 20),
			NB_EMBED_MAX >> 20);
}

/* The outputs of a step's last run: its stdout (when recorded) and figures,
 * within *budget bytes embedded in the whole notebook. */
static void nb_outputs(json_t *cell, struct proj *pj, const json_t *state, const char *stem,
		       size_t *budget)
{
	json_t *outs = json_object_get(cell, "outputs"), *figs, *f;
	struct hist_entry e;
	hist_entry_read(state, stem, &e);
	const char *so = e.stdout_text;
	size_t i;
	if (so && *so)
		nb_stdout(outs, so, budget);
	figs = hist_step_figures(proj_path(pj), stem);
	json_array_foreach(figs, i, f)
		if (json_string_value(f))
			nb_figure(outs, pj, json_string_value(f), budget);
	json_decref(figs);
}

/* The cells of one step: its request (Markdown) and its code. */
static int nb_step(json_t *cells, struct proj *pj, const json_t *s, const json_t *state,
		   bool with_outputs, size_t *budget, struct proto_err *err)
{
	char id[64], *md = NULL;
	int n = (int)json_integer_value(json_object_get(s, "n"));
	const char *stem = json_string_value(json_object_get(s, "stem"));
	char *code = hist_step_read(s, err);
	if (!code)
		return -1;
	char *req = hist_step_request(code);
	if (asprintf(&md, "### Step %d\n\n**Request:** %s\n\n*history/%s*", n, *req ? req : "(none)",
		     json_string_value(json_object_get(s, "file"))) < 0)
		md = NULL;
	snprintf(id, sizeof id, "request-%03d", n);
	json_array_append_new(cells, nb_cell("markdown", id, md ? md : ""));
	snprintf(id, sizeof id, "step-%03d", n);
	json_t *cell = nb_cell("code", id, code);
	if (cell && with_outputs)
		nb_outputs(cell, pj, state, stem, budget);
	json_array_append_new(cells, cell);
	free(md);
	free(req);
	free(code);
	return 0;
}

/* The whole analysis as a notebook (nbformat 4.5, JSON text). */
char *hist_export_notebook(struct proj *pj, bool with_outputs, struct proto_err *err)
{
	char *setup = NULL, *title = NULL, *out = NULL;
	size_t len = 0, i;
	json_t *steps = hist_steps(proj_path(pj), err), *s, *state, *cells, *nb;
	FILE *f = steps ? open_memstream(&setup, &len) : NULL;
	if (!f) {
		json_decref(steps);
		return NULL;
	}
	int rc = put_setup(f, pj, NULL, true, err);
	if (fclose(f) != 0 || rc < 0 ||
	    asprintf(&title, "# %s\n\nThe analysis of daa project *%s*, one code cell per step "
			     "(history/NNN_*.py). The first cell loads the datasets the way daa does.",
		     proj_name(pj), proj_name(pj)) < 0) {
		free(setup);
		json_decref(steps);
		return rc < 0 ? NULL : (proto_fail(err, PROTO_ERR_INTERNAL, "out of memory"), NULL);
	}
	state = hist_state_load(proj_path(pj));
	cells = json_array();
	json_array_append_new(cells, nb_cell("markdown", "title", title));
	json_array_append_new(cells, nb_cell("code", "setup", setup));
	size_t budget = NB_EMBED_MAX;
	json_array_foreach(steps, i, s)
		if ((rc = nb_step(cells, pj, s, state, with_outputs, &budget, err)) < 0)
			break;
	nb = json_pack("{s:o, s:{s:{s:s, s:s, s:s}, s:{s:s}}, s:i, s:i}", "cells", cells, "metadata",
		       "kernelspec", "display_name", "Python 3", "language", "python", "name", "python3",
		       "language_info", "name", "python", "nbformat", 4, "nbformat_minor", 5);
	if (rc == 0 && nb && !(out = json_dumps(nb, JSON_INDENT(1))))
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	json_decref(nb);
	json_decref(state);
	json_decref(steps);
	free(setup);
	free(title);
	return out;
}
