/*
 * tests/tray/check_view.c — unit checks of daa-tray's code that the desktop
 * tests cannot reach with the builtin analyst: a table PREVIEW rendered as a
 * GtkTreeView grid (columns, cells of every type, the "…" row between head
 * and tail), the text/uri-list parser of the drop handler and the file types
 * it accepts, the data.event lines (profiled / failed, counts with
 * thousands separators, repeats skipped) and the data.add note, and 3000
 * random turn.events / turns.list records / data.events fed to the renderer
 * (no crash, no sanitizer report).  Needs a display: run by tests/tray/test_view under Xvfb.
 */
#include <stdio.h>
#include <string.h>

#include "client/tray/tray.h"

static int failed;
#define CHECK(c, ...)                                                  \
	do {                                                           \
		if (!(c)) {                                            \
			failed++;                                      \
			printf("not ok: %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                           \
			printf("\n");                                  \
		}                                                      \
	} while (0)

/* A PREVIEW: 12 rows (5 head, 5 tail), columns region / revenue / ok / note. */
static void pack_preview(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 7);
	proto_pack_kv_str(pk, "name", "by_region");
	proto_pack_key(pk, "shape");
	msgpack_pack_array(pk, 2), msgpack_pack_int(pk, 12), msgpack_pack_int(pk, 4);
	proto_pack_key(pk, "columns");
	msgpack_pack_array(pk, 4);
	const char *cols[] = {"region", "revenue", "ok", "note"};
	for (int i = 0; i < 4; i++)
		proto_pack_str(pk, cols[i]);
	for (int part = 0; part < 2; part++) {
		proto_pack_key(pk, part ? "tail_index" : "index");
		msgpack_pack_array(pk, 5);
		for (int r = 0; r < 5; r++)
			msgpack_pack_int(pk, part * 7 + r);
		proto_pack_key(pk, part ? "tail" : "head");
		msgpack_pack_array(pk, 5);
		for (int r = 0; r < 5; r++) {
			msgpack_pack_array(pk, 4);
			proto_pack_str(pk, part ? "South" : "North");
			msgpack_pack_double(pk, 1234.5 + r);
			if (r % 2)
				msgpack_pack_true(pk);
			else
				msgpack_pack_false(pk);
			if (r == 0)
				msgpack_pack_nil(pk);
			else
				msgpack_pack_int(pk, -r);
		}
	}
}

/* The text of a cell of the first GtkTreeView under w. */
static GtkTreeView *find_tv(GtkWidget *w)
{
	if (GTK_IS_TREE_VIEW(w))
		return GTK_TREE_VIEW(w);
	if (!GTK_IS_CONTAINER(w))
		return NULL;
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w));
	GtkTreeView *tv = NULL;
	for (GList *k = kids; k && !tv; k = k->next)
		tv = find_tv(k->data);
	g_list_free(kids);
	return tv;
}

static char *cell(GtkTreeModel *m, int row, int col)
{
	GtkTreeIter it;
	char *s = NULL;
	if (gtk_tree_model_iter_nth_child(m, &it, NULL, row))
		gtk_tree_model_get(m, &it, col, &s, -1);
	return s;
}

static void check_table(void)
{
	struct proto_buf b;
	proto_buf_init(&b);
	pack_preview(&b.pk);
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	CHECK(msgpack_unpack_next(&u, b.sb.data, b.sb.size, NULL) == MSGPACK_UNPACK_SUCCESS, "unpack");
	GtkWidget *w = tray_view_table(&u.data);
	CHECK(w != NULL, "no widget for a preview");
	GtkTreeView *tv = w ? find_tv(w) : NULL;
	CHECK(tv != NULL, "no tree view");
	if (tv) {
		GtkTreeModel *m = gtk_tree_view_get_model(tv);
		CHECK(gtk_tree_view_get_n_columns(tv) == 5, "columns: %u", gtk_tree_view_get_n_columns(tv));
		CHECK(!strcmp(gtk_tree_view_column_get_title(gtk_tree_view_get_column(tv, 2)), "revenue"),
		      "column title");
		CHECK(gtk_tree_model_iter_n_children(m, NULL) == 11, "rows: %d (5 + … + 5)",
		      gtk_tree_model_iter_n_children(m, NULL));
		const struct { int r, c; const char *want; } cells[] = {
			{0, 0, "0"}, {0, 1, "North"}, {0, 2, "1234.5"}, {0, 3, "False"}, {0, 4, ""},
			{1, 3, "True"}, {1, 4, "-1"}, {5, 0, "…"}, {6, 0, "7"}, {6, 1, "South"},
			{10, 2, "1238.5"}};
		for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
			char *s = cell(m, cells[i].r, cells[i].c);
			CHECK(s && !strcmp(s, cells[i].want), "cell %d,%d = '%s', want '%s'", cells[i].r,
			      cells[i].c, s ? s : "(null)", cells[i].want);
			g_free(s);
		}
	}
	if (w)
		gtk_widget_destroy(g_object_ref_sink(w));
	/* not a preview: no widget, no crash */
	msgpack_object nil = {.type = MSGPACK_OBJECT_MAP};
	CHECK(tray_view_table(&nil) == NULL, "an empty map gave a widget");
	msgpack_unpacked_destroy(&u);
	proto_buf_free(&b);
}

static void check_drop(void)
{
	char *bad = NULL;
	char **p = tray_drop_paths("# a comment\r\nfile:///tmp/My%20Data/sales.csv\r\n"
				   "http://example.com/x.csv\r\nfile:///home/u/b.XLSX\r\n", &bad);
	CHECK(p[0] && !strcmp(p[0], "/tmp/My Data/sales.csv"), "path 0 '%s'", p[0] ? p[0] : "");
	CHECK(p[1] && !strcmp(p[1], "/home/u/b.XLSX"), "path 1 '%s'", p[1] ? p[1] : "");
	CHECK(p[1] && !p[2], "more paths than files");
	CHECK(bad && strstr(bad, "http://example.com/x.csv") && strstr(bad, "only local files"),
	      "message for a remote URI: '%s'", bad ? bad : "");
	g_strfreev(p), g_free(bad);
	p = tray_drop_paths("", &bad);
	CHECK(!p[0] && !bad, "empty list");
	g_strfreev(p);
	const char *ok[] = {"/a/b.csv", "/a/b.TSV", "/x/y.json", "/x/y.jsonl", "/x/y.xlsx",
			    "/x/y.parquet", "/x/y.txt", NULL};
	const char *no[] = {"/a/b.pdf", "/a/b", "/a.csv/b", "/a/.csv.png", "/a/b.xls", NULL};
	for (int i = 0; ok[i]; i++)
		CHECK(tray_drop_supported(ok[i]), "%s refused", ok[i]);
	for (int i = 0; no[i]; i++)
		CHECK(!tray_drop_supported(no[i]), "%s accepted", no[i]);
}

/* A msgpack map from a JSON-ish list of (key, type, value) triples. */
struct kvt {
	const char *k;
	char t; /* 's' string, 'i' integer, 'n' nil */
	const char *s;
	long long i;
};
static msgpack_unpacked *map_of(const struct kvt *kv, int n, struct proto_buf *b)
{
	static msgpack_unpacked u;
	proto_buf_init(b);
	msgpack_pack_map(&b->pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		proto_pack_str(&b->pk, kv[i].k);
		if (kv[i].t == 's')
			proto_pack_str(&b->pk, kv[i].s);
		else if (kv[i].t == 'i')
			msgpack_pack_int64(&b->pk, kv[i].i);
		else
			msgpack_pack_nil(&b->pk);
	}
	msgpack_unpacked_init(&u);
	msgpack_unpack_next(&u, b->sb.data, b->sb.size, NULL);
	return &u;
}

/* text of the data.event made of kv; failed in *f. */
static char *event_text(const struct kvt *kv, int n, bool *f)
{
	struct proto_buf b;
	msgpack_unpacked *u = map_of(kv, n, &b);
	char *t = tray_data_event_text(&u->data, f);
	msgpack_unpacked_destroy(u);
	proto_buf_free(&b);
	return t;
}

static void check_data_event(void)
{
	bool f;
	const struct kvt ok[] = {{"kind", 's', "profiled", 0}, {"dataset", 's', "sales", 0},
				 {"file", 's', "sales.csv", 0}, {"rows", 'i', NULL, 1234567},
				 {"n_columns", 'i', NULL, 8}, {"warnings", 'i', NULL, 3},
				 {"report", 's', "outputs/reports/sales_profile.html", 0}};
	char *t = event_text(ok, 7, &f);
	CHECK(t && !strcmp(t, "sales profiled: 1,234,567 rows × 8 columns, 3 warnings") && !f,
	      "profiled: '%s'", t ? t : "(null)");
	g_free(t);
	const struct kvt one[] = {{"kind", 's', "profiled", 0}, {"dataset", 's', "s", 0},
				  {"rows", 'i', NULL, 1}, {"n_columns", 'i', NULL, 1}, {"warnings", 'i', NULL, 1}};
	t = event_text(one, 5, &f);
	CHECK(t && !strcmp(t, "s profiled: 1 row × 1 column, 1 warning"), "singular: '%s'", t ? t : "");
	g_free(t);
	const struct kvt se[] = {{"kind", 's', "profiled", 0}, {"dataset", 's', "x", 0},
				 {"rows", 'i', NULL, 999}, {"n_columns", 'i', NULL, 2},
				 {"summary_error", 's', "ValueError: bad", 0}};
	t = event_text(se, 5, &f);
	CHECK(t && !strcmp(t, "x profiled: 999 rows × 2 columns (no detailed summary: ValueError: bad)"),
	      "summary_error: '%s'", t ? t : "");
	g_free(t);
	const struct kvt bad[] = {{"kind", 's', "profile_failed", 0}, {"dataset", 's', "broken", 0},
				  {"error", 's', "DatasetError: cannot read", 0}};
	t = event_text(bad, 3, &f);
	CHECK(t && !strcmp(t, "profile of broken failed: DatasetError: cannot read") && f,
	      "failed: '%s'", t ? t : "");
	g_free(t);
	const struct kvt other[] = {{"kind", 's', "progress", 0}, {"rows", 'i', NULL, -5}};
	t = event_text(other, 2, &f);
	CHECK(!t, "an unknown kind gave a line: '%s'", t);
	g_free(t);
	/* repeats: the same line again is not news; added again, it is */
	struct proto_buf b;
	msgpack_unpacked *u = map_of(bad, 3, &b);
	tray_data_forget(NULL);
	CHECK(tray_data_event_new(&u->data), "first failure not new");
	CHECK(!tray_data_event_new(&u->data), "a repeated failure is new");
	tray_data_forget("broken");
	CHECK(tray_data_event_new(&u->data), "not new after the dataset was added again");
	msgpack_unpacked_destroy(u);
	proto_buf_free(&b);
	tray_data_forget(NULL);
	/* the data.add note */
	proto_buf_init(&b);
	msgpack_pack_map(&b.pk, 3);
	proto_pack_kv_str(&b.pk, "name", "sales");
	proto_pack_key(&b.pk, "bytes"), msgpack_pack_int(&b.pk, 141387);
	proto_pack_key(&b.pk, "profile"), msgpack_pack_map(&b.pk, 1);
	proto_pack_kv_str(&b.pk, "state", "running");
	msgpack_unpacked au;
	msgpack_unpacked_init(&au);
	msgpack_unpack_next(&au, b.sb.data, b.sb.size, NULL);
	t = tray_data_added_text("/d/sales.csv", &au.data);
	CHECK(!strcmp(t, "added /d/sales.csv as dataset \"sales\" (141,387 bytes); profiling in the background…"),
	      "added note: '%s'", t);
	g_free(t);
	msgpack_unpacked_destroy(&au);
	proto_buf_free(&b);
}

/* One random value: nil, bool, int, float, short string, array or map. */
static void pack_random(msgpack_packer *pk, int depth)
{
	static const char *const words[] = {"", "x", "outputs/plots/none.png", "/etc/passwd",
					    "\xff\xfe", "started", "question", "done", "output"};
	switch (g_random_int_range(0, depth > 2 ? 5 : 7)) {
	case 0: msgpack_pack_nil(pk); break;
	case 1: msgpack_pack_true(pk); break;
	case 2: msgpack_pack_int64(pk, (int64_t)g_random_int() - (1 << 30)); break;
	case 3: msgpack_pack_double(pk, g_random_double() * 1e6); break;
	case 4: proto_pack_str(pk, words[g_random_int_range(0, 9)]); break;
	case 5: {
		int n = g_random_int_range(0, 4);
		msgpack_pack_array(pk, (size_t)n);
		while (n--)
			pack_random(pk, depth + 1);
		break;
	}
	default: {
		static const char *const keys[] = {"columns", "head", "tail", "index", "shape", "name"};
		int n = g_random_int_range(0, 4);
		msgpack_pack_map(pk, (size_t)n);
		while (n--) {
			proto_pack_str(pk, keys[g_random_int_range(0, 6)]);
			pack_random(pk, depth + 1);
		}
	}
	}
}

/* Garbage turn.events and turns.list records: rendered or ignored, no crash. */
static void check_garbage(void)
{
	static const char *const kinds[] = {"started", "queued", "thinking", "code", "output",
					    "question", "answered", "convention", "done", "bogus",
					    "profiled", "profile_failed"};
	static const char *const keys[] = {"request", "text", "choices", "code", "purpose", "stdout",
					   "error", "figures", "tables", "answer", "status", "position",
					   "stage", "key", "value", "project_path", "dataset", "rows",
					   "n_columns", "warnings", "report", "summary_error"};
	tray_app.projects = g_ptr_array_new_with_free_func(g_free);
	tray_app.project = g_strdup("p");
	tray_app.win = tray_win_new();
	g_random_set_seed(8);
	for (int i = 0; i < 3000; i++) {
		struct proto_buf b;
		proto_buf_init(&b);
		int n = g_random_int_range(0, 6);
		msgpack_pack_map(&b.pk, (size_t)n + 1);
		proto_pack_kv_str(&b.pk, "kind", kinds[g_random_int_range(0, 12)]);
		while (n--) {
			proto_pack_str(&b.pk, keys[g_random_int_range(0, 22)]);
			pack_random(&b.pk, 0);
		}
		msgpack_unpacked u;
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, b.sb.data, b.sb.size, NULL) == MSGPACK_UNPACK_SUCCESS) {
			if (i % 3 == 1)
				tray_win_event(tray_app.win, &u.data);
			else if (i % 3 == 2)
				tray_win_data_event(tray_app.win, &u.data);
			else
				tray_win_past_turn(tray_app.win, &u.data);
		}
		msgpack_unpacked_destroy(&u);
		proto_buf_free(&b);
		if (i % 100 == 99) {
			while (gtk_events_pending())
				gtk_main_iteration();
			tray_win_clear(tray_app.win);
		}
	}
	CHECK(true, "garbage");
}

/* turns.list's question: shown (state QUESTION) when a map, not when nil. */
static void check_pending(void)
{
	for (int with = 0; with < 2; with++) {
		tray_win_clear(tray_app.win);
		tray_state_set(TRAY_RUNNING);
		struct proto_buf b;
		proto_buf_init(&b);
		msgpack_pack_map(&b.pk, 2);
		proto_pack_kv_bool(&b.pk, "busy", true);
		proto_pack_key(&b.pk, "question");
		if (with) {
			msgpack_pack_map(&b.pk, 3);
			proto_pack_key(&b.pk, "turn"), msgpack_pack_int(&b.pk, 2);
			proto_pack_kv_str(&b.pk, "text", "Which dataset should I use?");
			proto_pack_key(&b.pk, "choices"), msgpack_pack_array(&b.pk, 2);
			proto_pack_str(&b.pk, "customers"), proto_pack_str(&b.pk, "sales");
		} else {
			msgpack_pack_nil(&b.pk);
		}
		msgpack_unpacked u;
		msgpack_unpacked_init(&u);
		msgpack_unpack_next(&u, b.sb.data, b.sb.size, NULL);
		tray_pending_check(&u.data);
		CHECK(tray_win_has_question(tray_app.win) == (with == 1), "question shown: %d", with);
		CHECK((tray_app.state == TRAY_QUESTION) == (with == 1), "state %d", tray_app.state);
		tray_pending_check(&u.data); /* twice: not a second block (state says so) */
		msgpack_unpacked_destroy(&u);
		proto_buf_free(&b);
	}
	tray_state_set(TRAY_IDLE);
	CHECK(!tray_win_has_question(tray_app.win), "the question block kept after the turn");
}

int main(int argc, char **argv)
{
	if (!gtk_init_check(&argc, &argv)) {
		printf("no display\n");
		return 77;
	}
	check_table();
	check_drop();
	check_data_event();
	check_garbage();
	check_pending();
	printf(failed ? "%d checks failed\n" : "all checks passed\n", failed);
	return failed ? 1 : 0;
}
