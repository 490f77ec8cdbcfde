/*
 * daemon/history/history.c — the step scripts on disk and kernel restore.
 *
 * Steps are history/NNN_slug.py (NNN >= 001).  Their statuses (ok, edited,
 * stale, failed) and the outputs of their last run live in
 * .daa/history.json, rewritten atomically.  Restore: the module remembers,
 * per project (on the project's history slot, project.h), the pid of the
 * kernel it last brought up to date; before an
 * exec on any other kernel it queues every step (the kernel serves requests
 * in order) and then a marker exec whose reply records the kernel's pid.
 * The first time the module meets a project (the first work on it since
 * the daemon started) it tidies the figures a killed daemon or kernel left
 * (history_figs.c).  hist_exec wraps its caller's callback so that a step
 * whose owner went away (hist_exec_forget: a cancelled turn) still has its
 * figures moved to outputs/plots/unsaved/ when it ends.  New step scripts
 * are created, never written over an existing one, and not at all when
 * history/ cannot be listed (no number is guessed).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/core/fsutil.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/history/history.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "daemon/core/rpc.h"

/* What this module knows of a project's kernel: the project's history
 * slot (project.h), made on first use, freed at shutdown (hist_shutdown). */
struct hist_slot {
	struct hist_slot *next; /* every slot made, for hist_shutdown only */
	struct proj *pj;
	int pid;        /* kernel restored last (0: none) */
	bool restoring; /* replay queued, marker not yet answered */
	bool tidied;    /* this replay's kernel died and its temp figures were removed */
};
static struct hist_slot *slots_made;

/* One queued replay exec. */
struct replay_ctx {
	struct proj *pj;
	int step, of;   /* 1-based; step == 0 for the marker */
	char file[NAME_MAX + 1];
};

/* Order steps by number. */
static int step_cmp(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	return (int)(json_integer_value(json_object_get(*x, "n")) -
		     json_integer_value(json_object_get(*y, "n")));
}

/* Steps on disk, sorted by number: every one of them (replay, re-run,
 * export and history.list all read this list; a cap here would silently
 * leave steps out, picked by directory order). */
json_t *hist_steps(const char *project_path, struct proto_err *err)
{
	char dir[PATH_MAX];
	if (fsu_path(dir, sizeof dir, err, "%s/history", project_path) < 0)
		return NULL;
	DIR *d = opendir(dir);
	if (!d) {
		proto_fail(err, PROTO_ERR_IO, "cannot read %s: %s", dir, strerror(errno));
		return NULL;
	}
	json_t **v = NULL, *s;
	size_t nv = 0, cap = 0;
	bool oom = false;
	struct dirent *de;
	while (!oom && (de = readdir(d))) {
		int n = hist_step_number(de->d_name);
		if (n < 1)
			continue;
		json_t **grown = nv < cap ? v : realloc(v, (cap = cap ? cap * 2 : 64) * sizeof *v);
		s = json_pack("{s:i, s:s, s:s%, s:s++}", "n", n, "file", de->d_name, "stem", de->d_name,
			      strlen(de->d_name) - 3, "path", dir, "/", de->d_name);
		oom = !grown || !s;
		if (grown)
			v = grown;
		if (!oom)
			v[nv++] = s;
		else
			json_decref(s);
	}
	closedir(d);
	json_t *out = oom ? NULL : json_array();
	if (out && nv) { /* (v is NULL when there is no step: qsort wants an array) */
		qsort(v, nv, sizeof v[0], step_cmp);
		for (size_t i = 0; i < nv; i++)
			json_array_append(out, v[i]);
	}
	for (size_t i = 0; i < nv; i++)
		json_decref(v[i]);
	free(v);
	if (!out)
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory listing %s", dir);
	return out;
}

/* A step's script. */
char *hist_step_read(const json_t *step, struct proto_err *err)
{
	const char *path = json_string_value(json_object_get(step, "path"));
	if (!path) {
		proto_fail(err, PROTO_ERR_INTERNAL, "a step without a path");
		return NULL;
	}
	return fsu_read_file(path, HIST_STEP_MAX, NULL, err);
}

/* The next step's number. */
int hist_next_step(struct proj *pj)
{
	return hist_next_number(proj_history_dir(pj));
}

/* The step numbered n (borrowed), or NULL. */
const json_t *hist_step_find(const json_t *steps, int n)
{
	size_t i;
	const json_t *s;
	json_array_foreach(steps, i, s)
		if (json_integer_value(json_object_get(s, "n")) == n)
			return s;
	return NULL;
}

/* .daa/history.json as an object (an unreadable file counts as empty). */
json_t *hist_state_load(const char *project_path)
{
	char path[PATH_MAX];
	struct proto_err err;
	json_t *j = NULL;
	if (fsu_path(path, sizeof path, &err, "%s/.daa/history.json", project_path) == 0)
		j = json_load_file(path, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

/* Rewrite .daa/history.json atomically. */
int hist_state_save(const char *project_path, const json_t *state, struct proto_err *err)
{
	char path[PATH_MAX];
	char *text = json_dumps(state, JSON_INDENT(1) | JSON_SORT_KEYS);
	int rc = -1;
	if (!text)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	if (fsu_path(path, sizeof path, err, "%s/.daa/history.json", project_path) == 0)
		rc = fsu_write_atomic(path, text, strlen(text), err);
	free(text);
	return rc;
}

/* The entry of a step (created "ok" when missing). */
json_t *hist_state_entry(json_t *state, const char *stem)
{
	json_t *e = json_object_get(state, stem);
	if (!json_is_object(e)) {
		e = json_pack("{s:s}", "status", "ok");
		json_object_set_new(state, stem, e);
	}
	return e;
}

/* A new step's entry: whatever an older step of the same stem left (one
 * undone, or removed by hand) is not inherited (borrowed). */
static json_t *state_fresh(json_t *state, const char *stem)
{
	json_object_del(state, stem);
	return hist_state_entry(state, stem);
}

/* Drop a removed step's entry (status, error, outputs, stdout) from
 * .daa/history.json (atomic rewrite; none when it has no entry). */
int hist_state_forget(const char *project_path, const char *stem, struct proto_err *err)
{
	json_t *state = hist_state_load(project_path);
	int rc = 0;
	if (json_object_del(state, stem) == 0)
		rc = hist_state_save(project_path, state, err);
	json_decref(state);
	return rc;
}

/* Length of the valid UTF-8 sequence at p (its code point in *cp), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, unsigned *cp)
{
	size_t n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
	unsigned c = n == 4 ? p[0] & 0x07u : n == 3 ? p[0] & 0x0Fu : p[0] & 0x1Fu;
	if (n == 0 || p[0] > 0xF4)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3Fu);
	}
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* Write text into a Python comment so that it cannot leave it: '\n' becomes
 * cont (a new comment line), or "\n" when cont is NULL; every other line
 * break or control character (\r \v \f \x1c-\x1e, C1 controls such as
 * U+0085, U+2028, U+2029, DEL), every byte that is not valid UTF-8 (Python
 * refuses the whole file) and the ':' / '=' after "coding" (an encoding
 * declaration on line 1 or 2 would change how the file is read) are
 * written as escapes (\r, \xNN, \uNNNN). */
void hist_comment_put(FILE *f, const char *text, const char *cont)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	while (*p) {
		unsigned cp = 0;
		size_t n = *p >= 0x80 ? utf8_seq(p, &cp) : 1;
		if (*p == '\n') {
			fputs(cont ? cont : "\\n", f);
		} else if (*p == '\r') {
			fputs("\\r", f);
		} else if ((*p < 0x20 && *p != '\t') || *p == 0x7F || n == 0) {
			fprintf(f, "\\x%02x", *p);
			n = 1;
		} else if (n > 1 && ((cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)) {
			fprintf(f, "\\u%04x", cp);
		} else if ((*p == ':' || *p == '=') && (const char *)p - text >= 6 &&
			   strncmp((const char *)p - 6, "coding", 6) == 0) {
			fprintf(f, "\\x%02x", *p);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
}

/* The "# request: ..." line of a step's header ("" when none). */
char *hist_step_request(const char *text)
{
	const char *p = strstr(text ? text : "", "# request: ");
	if (!p)
		return strdup("");
	p += strlen("# request: ");
	return strndup(p, strcspn(p, "\n"));
}

/* Broadcast one history.event to the project's subscribers. */
void hist_event(struct proj *pj, const char *kind, json_t *fields)
{
	json_t *ev = json_pack("{s:s, s:s}", "project_path", proj_path(pj), "kind", kind);
	if (ev && json_is_object(fields))
		json_object_update_missing(ev, fields);
	json_decref(fields);
	if (!ev)
		return;
	pub_publish(pj, PUB_HISTORY_EVENT, ev);
	json_decref(ev);
}

/* The kernel record of a project: its slot (created on first use). */
static struct hist_slot *ks_get(struct proj *pj)
{
	struct hist_slot *k = proj_slots(pj)->hist;
	if (k)
		return k;
	if (!(k = calloc(1, sizeof *k)))
		return NULL;
	k->pj = pj;
	k->next = slots_made;
	slots_made = k;
	proj_slots(pj)->hist = k;
	return k; /* (its figures were tidied when it was opened: hist_figures_init) */
}

/* Free every slot (shutdown, after the kernels stopped). */
void hist_shutdown(void)
{
	while (slots_made) {
		struct hist_slot *k = slots_made;
		slots_made = k->next;
		proj_slots(k->pj)->hist = NULL;
		free(k);
	}
}

/* The pid of the project's kernel, 0 when none. */
static int kernel_pid(struct proj *pj)
{
	json_t *info = kern_project_info(pj);
	int pid = (int)json_integer_value(json_object_get(info, "pid"));
	json_decref(info);
	return pid;
}

/* A replay step (or the marker) answered.  No reply (the kernel died): a
 * figure the replayed step was saving is left as a .tmp, removed here as
 * for any other step — once, at the first of the replay's requests that
 * the death ends (the others were only queued). */
static void replay_cb(void *ud, const struct kern_result *kr)
{
	struct replay_ctx *c = ud;
	const char *path = proj_path(c->pj);
	struct hist_slot *k = ks_get(c->pj);
	bool answered = kr->kind != KR_NO_REPLY;
	if (!answered && !(k && k->tidied)) {
		hist_figures_tidy(path);
		if (k)
			k->tidied = true;
	}
	if (c->step == 0) {
		if (k) {
			k->restoring = false;
			k->pid = answered ? kernel_pid(c->pj) : 0;
		}
		hist_event(c->pj, "restored", json_pack("{s:i, s:b}", "steps", c->of, "ok", answered));
	} else {
		bool ok = kr->ok;
		const char *msg = kr->error_message;
		if (!ok)
			log_warn("history: restore of %s: step %s failed: %s", path, c->file, msg);
		hist_event(c->pj, "restore",
			   json_pack("{s:i, s:i, s:s, s:b, s:s?}", "step", c->step, "of", c->of,
				     "file", c->file, "ok", ok, "error", ok ? NULL : msg));
	}
	free(c);
}

/* Queue one replay exec. */
static int replay_queue(struct proj *pj, const char *code, const char *stem, int step, int of,
			const char *file, struct proto_err *err)
{
	struct replay_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	c->pj = pj;
	c->step = step;
	c->of = of;
	snprintf(c->file, sizeof c->file, "%s", file);
	if (kern_exec(pj, code, stem, replay_cb, c, err) < 0) {
		free(c);
		return -1;
	}
	return 0;
}

/* Queue steps 1..upto then the marker. */
int hist_restore(struct proj *pj, int upto, struct proto_err *err)
{
	const char *path = proj_path(pj);
	struct hist_slot *k = ks_get(pj);
	json_t *steps = hist_steps(path, err), *s;
	size_t i, of = 0;
	if (!k || !steps) {
		json_decref(steps);
		return k ? -1 : proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	json_array_foreach(steps, i, s)
		if (upto < 0 || json_integer_value(json_object_get(s, "n")) <= upto)
			of++;
	k->restoring = true;
	k->tidied = false;
	k->pid = 0;
	if (of)
		hist_event(pj, "restore_start", json_pack("{s:i}", "steps", (int)of));
	for (i = 0; i < of; i++) {
		s = json_array_get(steps, i);
		char *code = hist_step_read(s, err);
		int rc = code ? replay_queue(pj, code, json_string_value(json_object_get(s, "stem")),
					     (int)i + 1, (int)of,
					     json_string_value(json_object_get(s, "file")), err)
			      : -1;
		free(code);
		if (rc < 0)
			goto fail;
	}
	json_decref(steps);
	if (replay_queue(pj, "None", "restore_marker", 0, (int)of, "", err) < 0)
		goto fail_marker;
	return 0;
fail:
	json_decref(steps);
fail_marker:
	k->restoring = false;
	return -1;
}

/* Forget the restored kernel of a project, and restart it. */
void hist_restart_kernel(struct proj *pj)
{
	struct hist_slot *k = ks_get(pj);
	if (k)
		k->pid = 0; /* the next exec replays history */
	kern_restart(pj);
}

/* An exec of hist_exec: its owner's callback, or none once forgotten. */
struct hexec {
	struct hexec *next;
	struct proj *pj;
	char step[96];
	kern_reply_cb cb; /* NULL: the owner forgot it (hist_exec_forget) */
	void *ud;
};
static struct hexec *hexecs;

/* The kernel answered an exec: to its owner; a forgotten one (its turn
 * was cancelled while it ran) was never saved, so its figures go to
 * outputs/plots/unsaved/ (history_figs.c).  No reply (the kernel died):
 * the temp file of a figure it was saving is removed too. */
static void hexec_cb(void *ud, const struct kern_result *kr)
{
	struct hexec *h = ud;
	for (struct hexec **pp = &hexecs; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	/* the kernel died: a figure it was saving is left as a .tmp — gone
	 * before anyone hears of the failure (a client may look at once) */
	if (kr->kind == KR_NO_REPLY)
		hist_figures_tidy(proj_path(h->pj));
	if (h->cb) {
		h->cb(h->ud, kr);
	} else {
		json_t *figs = hist_exec_figures(proj_path(h->pj), h->step);
		if (json_array_size(figs))
			json_decref(hist_figures_move(proj_path(h->pj), figs, NULL, 0));
		json_decref(figs);
	}
	free(h);
}

/* The owner ud of hist_exec calls goes away: their replies are dropped. */
void hist_exec_forget(void *ud)
{
	for (struct hexec *h = hexecs; h; h = h->next)
		if (h->ud == ud)
			h->cb = NULL;
}

/* kern_exec, restoring the project's state first when the kernel is new. */
int hist_exec(struct proj *pj, const char *code, const char *step, int timeout_s,
	      kern_reply_cb cb, void *ud, struct proto_err *err)
{
	const char *path = proj_path(pj);
	struct hist_slot *k = ks_get(pj);
	char cache[PATH_MAX];
	struct proto_err cerr;
	/* the loaded-dataset cache (datasets.py); the sandbox opens it to kernels bound after this */
	if (fsu_path(cache, sizeof cache, &cerr, "%s/.daa/cache", path) == 0)
		fsu_mkdir_p(cache, 0700, &cerr);
	if (k && !k->restoring && (k->pid == 0 || k->pid != kernel_pid(pj))) {
		struct proto_err rerr;
		if (hist_restore(pj, -1, &rerr) < 0)
			log_warn("history: %s: state not restored: %s", path, rerr.msg);
	}
	struct hexec *h = calloc(1, sizeof *h);
	if (!h)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	h->pj = pj;
	snprintf(h->step, sizeof h->step, "%s", step ? step : "");
	h->cb = cb, h->ud = ud;
	h->next = hexecs;
	hexecs = h;
	if (kern_exec_timeout(pj, code, step, timeout_s, hexec_cb, h, err) < 0) {
		hexecs = h->next; /* a callback never fires from inside a submit (kernel.h) */
		free(h);
		return -1;
	}
	return 0;
}

/* "NNN_run" for the next step. */
void hist_run_step_name(struct proj *pj, char *buf, size_t size)
{
	hist_step_stem(buf, size, hist_next_step(pj), "run"); /* 000: history/ unreadable, not saved */
}

/* The text of a saved `run`: header comment, then the code. */
static char *run_text(const char *code)
{
	char date[64], *buf = NULL;
	size_t len = 0;
	time_t t = time(NULL);
	struct tm tm;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	localtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
	fprintf(f, "# daa run — %s\n# request: (code run directly with daa run)\n\n%s%s", date, code,
		*code && code[strlen(code) - 1] != '\n' ? "\n" : "");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Create the next step's script (never over an existing one) and its
 * fresh status entry. */
int hist_step_create(struct proj *pj, const char *slug, const char *text, char *rel,
		     size_t relsize, struct proto_err *err)
{
	char path[PATH_MAX], stem[NAME_MAX + 1];
	int n = hist_next_step(pj);
	if (n < 1)
		return proto_fail(err, PROTO_ERR_IO, "cannot list %s/history (%s): history/ cannot be "
				  "listed, so the step cannot be numbered (a guess could overwrite an "
				  "existing step)", proj_path(pj), strerror(errno));
	if (strlen(text) > HIST_STEP_MAX)
		return proto_fail(err, PROTO_ERR_TOO_LARGE, "a step script is limited to %u bytes",
				  HIST_STEP_MAX);
	hist_step_stem(stem, sizeof stem, n, slug);
	snprintf(rel, relsize, "history/%s.py", stem);
	if (fsu_path(path, sizeof path, err, "%s/%s", proj_path(pj), rel) < 0 ||
	    fsu_write_new(path, text, strlen(text), err) < 0) /* never over an existing step */
		return -1;
	json_t *st = hist_state_load(proj_path(pj));
	state_fresh(st, stem);
	if (hist_state_save(proj_path(pj), st, err) < 0)
		log_warn("history: %s: statuses not saved: %s", proj_path(pj), err->msg);
	json_decref(st);
	return 0;
}

/* Save a successful `run` as the next step, "NNN_run" (named like its
 * figures: the number was taken when it started and no other work ran since). */
int hist_save_run(struct proj *pj, const char *code, const struct kern_result *kr, char *rel,
		  size_t relsize, struct proto_err *err)
{
	char stem[NAME_MAX + 1];
	char *text = run_text(code);
	if (!text)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	int rc = hist_step_create(pj, "run", text, rel, relsize, err);
	free(text);
	if (rc == 0 && (kr->kind == KR_OK || kr->kind == KR_FAILED)) {
		hist_stem_of_rel(stem, sizeof stem, rel);
		hist_record_stdout(proj_path(pj), stem, kr->stdout_text);
	}
	return rc;
}

/* A step just saved: its entry starts afresh with the stdout of its run
 * (for notebooks with outputs). */
void hist_record_stdout(const char *project_path, const char *stem, const char *out)
{
	struct proto_err err;
	json_t *st = hist_state_load(project_path);
	json_object_set_new(state_fresh(st, stem), "stdout", json_string(out ? out : ""));
	if (hist_state_save(project_path, st, &err) < 0)
		log_warn("history: %s: statuses not saved: %s", project_path, err.msg);
	json_decref(st);
}
