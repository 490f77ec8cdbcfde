/*
 * client/daa_render.c — turning results into text for a person: string
 * fields, DataFrame/Series previews as aligned tables (pandas-like, right
 * aligned, wide cells cut with "…"), kernel exec replies, turn.event
 * progress lines and the TURN RESULT.
 */
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "client/daa_safe.h"

#define CELL_MAX 24

/* A NUL-terminated copy of a string field; a ring of 16 so several can be
 * used in one expression.  NULL when absent or not a string. */
const char *cli_str(const msgpack_object *map, const char *key)
{
	static char *ring[16];
	static int next;
	const msgpack_object *o = proto_map_get(map, key);
	if (!o || (o->type != MSGPACK_OBJECT_STR && o->type != MSGPACK_OBJECT_BIN))
		return NULL;
	uint32_t n = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
	const char *p = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	free(ring[next]);
	ring[next] = s;
	next = (next + 1) % 16;
	return s;
}

/* Write a string object's bytes (as one field for the sanitizer). */
void cli_put_obj_str(FILE *f, const msgpack_object *o)
{
	if (o && o->type == MSGPACK_OBJECT_STR)
		fwrite(o->via.str.ptr, 1, o->via.str.size, f);
	else if (o && o->type == MSGPACK_OBJECT_BIN)
		fwrite(o->via.bin.ptr, 1, o->via.bin.size, f);
	daa_safe_field_end(f);
}

/* A cell as text into buf: sanitized (client/daa_safe.h) before widths are
 * counted, newlines and tabs as spaces, cut at a character boundary. */
static void cell_text(const msgpack_object *o, char *buf, size_t size)
{
	switch (o ? o->type : MSGPACK_OBJECT_NIL) {
	case MSGPACK_OBJECT_NIL: snprintf(buf, size, "NaN"); break;
	case MSGPACK_OBJECT_BOOLEAN: snprintf(buf, size, o->via.boolean ? "True" : "False"); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: snprintf(buf, size, "%llu", (unsigned long long)o->via.u64); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: snprintf(buf, size, "%lld", (long long)o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: snprintf(buf, size, "%.6g", o->via.f64); break;
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN: {
		const char *p = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
		size_t n = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
		char *safe = daa_safe_str(p, n > 4 * size ? 4 * size : n, &n);
		if (!safe) {
			snprintf(buf, size, "?");
			break;
		}
		if (n >= size)
			for (n = size - 1; n > 0 && ((unsigned char)safe[n] & 0xc0) == 0x80; n--)
				;
		for (size_t i = 0; i < n; i++)
			buf[i] = safe[i] == '\n' || safe[i] == '\t' || safe[i] == '\r' ? ' ' : safe[i];
		buf[n] = '\0';
		free(safe);
		break;
	}
	default: {
		FILE *m = fmemopen(buf, size, "w");
		if (m) {
			cli_json_print(m, o, -1);
			fclose(m);
		}
		buf[size - 1] = '\0';
	}
	}
}

/* Display width (UTF-8 code points) of s. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Cut s to at most max code points, ending in "…" when cut. */
static void cut(char *s, int max)
{
	if (width(s) <= max)
		return;
	int w = 0;
	char *p = s;
	for (; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && ++w == max)
			break;
	strcpy(p, "…");
}

/* The rows to show: head, an ellipsis (NULL) when rows were left out, tail. */
struct tview {
	const msgpack_object *rows[64];
	int idx[64]; /* position in `index`, -1 for none */
	int n, ncols;
};

/* Collect the rows of a preview (64 at most). */
static void tview_rows(struct tview *v, const msgpack_object *pv)
{
	const msgpack_object *head = proto_map_get(pv, "head"), *tail = proto_map_get(pv, "tail");
	const msgpack_object *shape = proto_map_get(pv, "shape");
	uint32_t nh = head && head->type == MSGPACK_OBJECT_ARRAY ? head->via.array.size : 0;
	uint32_t nt = tail && tail->type == MSGPACK_OBJECT_ARRAY ? tail->via.array.size : 0;
	int64_t total = -1;
	if (shape && shape->type == MSGPACK_OBJECT_ARRAY && shape->via.array.size >= 1 &&
	    shape->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		total = (int64_t)shape->via.array.ptr[0].via.u64;
	if (total >= 0 && total <= nh)
		nt = 0; /* the head already shows every row */
	v->n = 0;
	for (uint32_t i = 0; i < nh && v->n < 30; i++, v->n++)
		v->rows[v->n] = &head->via.array.ptr[i], v->idx[v->n] = (int)i;
	if (nt && (total < 0 || total > nh + nt))
		v->rows[v->n] = NULL, v->idx[v->n++] = -1;
	for (uint32_t i = 0; i < nt && v->n < 62; i++, v->n++)
		v->rows[v->n] = &tail->via.array.ptr[i], v->idx[v->n] = (int)(nh + i);
}

/* Text of cell (r, c) of the view; c == -1 is the index column. */
static void tview_cell(const struct tview *v, const msgpack_object *pv, int r, int c,
		       char *buf, size_t size)
{
	const msgpack_object *index = proto_map_get(pv, "index");
	buf[0] = '\0';
	if (!v->rows[r]) {
		snprintf(buf, size, "...");
		return;
	}
	if (c < 0) {
		if (index && index->type == MSGPACK_OBJECT_ARRAY && v->idx[r] >= 0 &&
		    (uint32_t)v->idx[r] < index->via.array.size)
			cell_text(&index->via.array.ptr[v->idx[r]], buf, size);
	} else if (v->rows[r]->type == MSGPACK_OBJECT_ARRAY && (uint32_t)c < v->rows[r]->via.array.size) {
		cell_text(&v->rows[r]->via.array.ptr[c], buf, size);
	} else if (v->rows[r]->type != MSGPACK_OBJECT_ARRAY && c == 0) {
		cell_text(v->rows[r], buf, size); /* a Series row may be a bare value */
	}
	cut(buf, CELL_MAX);
}

/* Print one line of the table: the header (r == -1) or row r. */
static void tview_line(FILE *f, const struct tview *v, const msgpack_object *pv, int r,
		       const int *w)
{
	const msgpack_object *cols = proto_map_get(pv, "columns");
	char buf[256];
	for (int c = -1; c < v->ncols; c++) {
		if (r < 0 && c >= 0)
			cell_text(&cols->via.array.ptr[c], buf, sizeof(buf)), cut(buf, CELL_MAX);
		else if (r < 0)
			buf[0] = '\0';
		else
			tview_cell(v, pv, r, c, buf, sizeof(buf));
		int pad = w[c + 1] - width(buf);
		fprintf(f, "%s%*s%s", c >= 0 ? "  " : "", pad > 0 ? pad : 0, "", buf);
	}
	fputc('\n', f);
}

/* A PREVIEW as an aligned table with a title line. */
static void cli_table_print(FILE *f, const msgpack_object *pv)
{
	static struct tview v;
	const msgpack_object *cols = proto_map_get(pv, "columns");
	const msgpack_object *shape = proto_map_get(pv, "shape");
	const char *name = cli_str(pv, "name"), *kind = cli_str(pv, "kind");
	if (!pv || pv->type != MSGPACK_OBJECT_MAP)
		return;
	tview_rows(&v, pv);
	v.ncols = cols && cols->type == MSGPACK_OBJECT_ARRAY ? (int)cols->via.array.size : 0;
	if (v.ncols > 40)
		v.ncols = 40;
	bool has_cols = v.ncols > 0;
	if (!has_cols && v.n > 0)
		v.ncols = 1; /* a Series without column names */
	int w[41] = {0};
	char buf[256];
	for (int c = -1; c < v.ncols; c++) {
		if (c >= 0 && has_cols) {
			cell_text(&cols->via.array.ptr[c], buf, sizeof(buf));
			cut(buf, CELL_MAX);
			w[c + 1] = width(buf);
		}
		for (int r = 0; r < v.n; r++) {
			tview_cell(&v, pv, r, c, buf, sizeof(buf));
			if (width(buf) > w[c + 1])
				w[c + 1] = width(buf);
		}
	}
	fprintf(f, "%s%s%s", name ? name : "", name ? " " : "", kind ? kind : "table");
	if (shape && shape->type == MSGPACK_OBJECT_ARRAY && shape->via.array.size == 2)
		fprintf(f, " (%lld rows × %lld columns)", (long long)shape->via.array.ptr[0].via.i64,
			(long long)shape->via.array.ptr[1].via.i64);
	else if (shape && shape->type == MSGPACK_OBJECT_ARRAY && shape->via.array.size == 1)
		fprintf(f, " (%lld rows)", (long long)shape->via.array.ptr[0].via.i64);
	fputc('\n', f);
	if (has_cols)
		tview_line(f, &v, pv, -1, w);
	for (int r = 0; r < v.n; r++)
		tview_line(f, &v, pv, r, w);
}

/* Array field items (n set), or NULL. */
static const msgpack_object *arr(const msgpack_object *map, const char *key, uint32_t *n)
{
	const msgpack_object *o = proto_map_get(map, key);
	*n = o && o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : 0;
	return *n ? o->via.array.ptr : NULL;
}

/* Print text, adding a newline when it lacks one. */
static void put_text(FILE *f, const char *s)
{
	if (!s || !*s)
		return;
	fputs(s, f);
	daa_safe_field_end(f);
	if (s[strlen(s) - 1] != '\n')
		fputc('\n', f);
}

/* Figure paths, absolute when project_path is known. */
static void figures_print(FILE *f, const msgpack_object *res, const char *project_path)
{
	uint32_t n;
	const msgpack_object *figs = arr(res, "figures", &n);
	for (uint32_t i = 0; i < n; i++) {
		if (figs[i].type != MSGPACK_OBJECT_STR)
			continue;
		char path[PATH_MAX];
		bool rel = project_path && figs[i].via.str.size && figs[i].via.str.ptr[0] != '/';
		snprintf(path, sizeof(path), "%s%s%.*s", rel ? project_path : "", rel ? "/" : "",
			 (int)figs[i].via.str.size, figs[i].via.str.ptr);
		fprintf(f, "figure: %s\n", path);
		if (f == stdout)
			cli_image_show(path);
	}
}

/* An error {type, message, traceback, hint?} (or a plain string) to stderr;
 * the kernel's hint (a close column name, memory still held) last. */
static void error_print(const msgpack_object *e)
{
	if (!e || e->type == MSGPACK_OBJECT_NIL)
		return;
	if (e->type == MSGPACK_OBJECT_STR) {
		cli_put_obj_str(stderr, e);
		fputc('\n', stderr);
		return;
	}
	const char *tb = cli_str(e, "traceback"), *type = cli_str(e, "type");
	const char *msg = cli_str(e, "message");
	const char *hint = cli_str(e, "hint");
	if (tb && *tb)
		put_text(stderr, tb);
	else
		fprintf(stderr, "%s: %s\n", type ? type : "Error", msg ? msg : "(no message)");
	if (hint && *hint) {
		fputs("hint: ", stderr);
		put_text(stderr, hint);
	}
}

/* The `run` result: output, value, tables, figures, error. */
bool cli_exec_print(const msgpack_object *res, const char *project_path)
{
	const msgpack_object *result = proto_map_get(res, "result");
	uint32_t nt;
	const msgpack_object *tables = arr(res, "tables", &nt);
	const char *pp = cli_str(res, "project_path");
	if (pp)
		project_path = pp;
	put_text(stdout, cli_str(res, "stdout"));
	fflush(stdout);
	put_text(stderr, cli_str(res, "stderr"));
	if (result && result->type == MSGPACK_OBJECT_MAP) {
		const msgpack_object *table = proto_map_get(result, "table");
		if (table && table->type == MSGPACK_OBJECT_MAP)
			cli_table_print(stdout, table);
		else
			put_text(stdout, cli_str(result, "repr"));
	}
	for (uint32_t i = 0; i < nt; i++)
		cli_table_print(stdout, &tables[i]);
	figures_print(stdout, res, project_path);
	if (proto_map_bool(res, "truncated", false))
		fprintf(stderr, "(output truncated)\n");
	fflush(stdout);
	error_print(proto_map_get(res, "error"));
	const char *step = cli_str(res, "step"), *serr = cli_str(res, "step_error");
	if (step)
		fprintf(stderr, "saved as %s\n", step);
	else if (serr)
		fprintf(stderr, "daa: the code ran but was NOT saved as a history step: %s\n", serr);
	return proto_map_bool(res, "ok", false);
}

/* s flattened to one line and cut to max code points (in a static buffer). */
static const char *oneline(const char *s, int max)
{
	static char buf[512];
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	cut(buf, max);
	return buf;
}

/* The first line of the error of an `output` event. */
static const char *event_error(const msgpack_object *ev)
{
	const msgpack_object *e = proto_map_get(ev, "error");
	static char buf[300];
	if (e && e->type == MSGPACK_OBJECT_STR)
		return cli_str(ev, "error");
	const char *type = cli_str(e, "type"), *msg = cli_str(e, "message");
	snprintf(buf, sizeof(buf), "%s%s%s", type ? type : "error", msg ? ": " : "", msg ? msg : "");
	return buf;
}

/* One turn.event as one short line. */
void cli_event_print(FILE *f, const msgpack_object *ev)
{
	const char *kind = cli_str(ev, "kind");
	long long turn = (long long)proto_map_int(ev, "turn", 0);
	uint32_t n;
	if (!kind)
		return;
	if (!strcmp(kind, "thinking") && proto_map_get(ev, "text"))
		return; /* streamed model text: the start line is enough */
	if (!strcmp(kind, "progress")) {
		cli_progress_print(f, ev);
		return;
	}
	cli_progress_clear(f);
	fprintf(f, "[turn %lld] ", turn);
	if (!strcmp(kind, "queued"))
		fprintf(f, proto_map_int(ev, "position", 0) > 0 ? "queued (%lld ahead)" : "queued",
			(long long)proto_map_int(ev, "position", 0));
	else if (!strcmp(kind, "started"))
		fprintf(f, "started: %s", oneline(cli_str(ev, "request"), 70));
	else if (!strcmp(kind, "thinking"))
		fprintf(f, "thinking…");
	else if (!strcmp(kind, "code"))
		fprintf(f, "running code (attempt %lld): %s", (long long)proto_map_int(ev, "attempt", 1),
			oneline(cli_str(ev, "purpose") ? cli_str(ev, "purpose") : cli_str(ev, "code"), 60));
	else if (!strcmp(kind, "output") && proto_map_bool(ev, "ok", false))
		arr(ev, "figures", &n), fprintf(f, "ok%s", n ? " (with figures)" : "");
	else if (!strcmp(kind, "output"))
		fprintf(f, "failed: %s", oneline(event_error(ev), 80));
	else if (!strcmp(kind, "question"))
		fprintf(f, "question: %s", oneline(cli_str(ev, "text"), 80));
	else if (!strcmp(kind, "answered"))
		fprintf(f, "answered: %s", oneline(cli_str(ev, "text"), 80));
	else if (!strcmp(kind, "convention"))
		fprintf(f, "remembered %s = ", oneline(cli_str(ev, "key"), 40)),
			cli_json_print(f, proto_map_get(ev, "value"), -1);
	else if (!strcmp(kind, "done") && cli_str(ev, "history_error")) {
		fprintf(f, "done (%s)", oneline(cli_str(ev, "status"), 20)); /* one static buffer */
		fprintf(f, " — NOT saved as a history step: %s", oneline(cli_str(ev, "history_error"), 200));
	} else if (!strcmp(kind, "done"))
		fprintf(f, "done (%s)", oneline(cli_str(ev, "status"), 20));
	else
		fprintf(f, "%s", oneline(kind, 30));
	fputc('\n', f);
	fflush(f);
}

/* A question with numbered choices. */
void cli_question_print(FILE *f, const msgpack_object *q)
{
	uint32_t n;
	const msgpack_object *choices = arr(q, "choices", &n);
	const char *text = cli_str(q, "text");
	fprintf(f, "? %s\n", text ? text : "(the agent asks a question)");
	for (uint32_t i = 0; i < n; i++) {
		fprintf(f, "  %u) ", (unsigned)i + 1);
		if (choices[i].type == MSGPACK_OBJECT_STR)
			cli_put_obj_str(f, &choices[i]);
		else
			cli_json_print(f, &choices[i], -1);
		fputc('\n', f);
	}
	fflush(f);
}

/* The code of the steps that ran, indented. */
static void steps_print(const msgpack_object *res)
{
	uint32_t n;
	const msgpack_object *steps = arr(res, "steps", &n);
	const char *hist = cli_str(res, "history");
	bool first = true;
	for (uint32_t i = 0; i < n; i++) {
		const char *code = cli_str(&steps[i], "code");
		if (!code || !proto_map_bool(&steps[i], "ok", false))
			continue;
		if (first)
			printf("\ncode%s%s%s:\n", hist ? " (" : "", hist ? hist : "", hist ? ")" : "");
		first = false;
		for (const char *line = code; *line;) {
			size_t len = strcspn(line, "\n");
			printf("%s%.*s\n", len ? "    " : "", (int)len, line);
			line += len + (line[len] == '\n');
		}
	}
}

/* The TURN RESULT; the exit code that fits its status. */
int cli_turn_print(const msgpack_object *res, bool hint)
{
	const char *status = cli_str(res, "status"), *answer = cli_str(res, "answer");
	const char *pp = cli_str(res, "project_path");
	uint32_t nt;
	const msgpack_object *tables = arr(res, "tables", &nt);
	if (status && !strcmp(status, "question")) {
		cli_question_print(stdout, proto_map_get(res, "question"));
		if (hint)
			fprintf(stderr, "daa: the agent asked a question; answer it with: daa answer \"TEXT\"\n");
		return CLI_QUESTION;
	}
	put_text(stdout, answer);
	steps_print(res);
	for (uint32_t i = 0; i < nt; i++) {
		printf("\n");
		cli_table_print(stdout, &tables[i]);
	}
	uint32_t nf;
	arr(res, "figures", &nf);
	if (nf)
		printf("\n");
	figures_print(stdout, res, pp);
	fflush(stdout);
	const char *herr = cli_str(res, "history_error");
	if (herr)
		fprintf(stderr, "daa: the code that ran was NOT saved as a history step: %s\n", herr);
	if (status && !strcmp(status, "done"))
		return herr ? CLI_NOT_SAVED : CLI_OK;
	fprintf(stderr, "daa: the turn %s\n", status && !strcmp(status, "cancelled") ? "was cancelled"
						 : "failed");
	return CLI_ERR;
}
