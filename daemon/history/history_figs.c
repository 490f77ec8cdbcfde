/*
 * daemon/history/history_figs.c — which figures belong to which step, decided by
 * the daemon alone.
 *
 * The kernel runtime saves the figures of an exec named S as
 * outputs/plots/<P>_<K>.png (P: S made file-name safe the way
 * sandbox/python/daakernel/runner.py step_name does; K = 1, 2, ...).  The
 * list a kernel reply carries is never used: kernel code can change it.
 * The daemon lists the regular files named <P>_<K>.png itself
 * (hist_exec_figures) and only ever renames or removes regular files
 * strictly inside outputs/ (fsutil_out.c).
 *
 * A saved step's figures are outputs/plots/<stem>_<K>.png (stem: its
 * history/<stem>.py).  Figures of a step that failed, or that was not
 * saved, are moved to outputs/plots/unsaved/ (the name says so; the next
 * unsaved figure of the same name replaces it).  When the daemon opens a
 * project (hist_figures_init: before any kernel works on it) it removes the runtime's
 * half-written temp files (.*.tmp) and moves figures named like a step
 * ("NNN_..._K.png") whose history script does not exist to unsaved/ — what
 * a daemon or kernel killed mid-step left behind.  It runs again whenever
 * a kernel dies under a step, a re-run or a replay of history (history.c,
 * history_run.c): the daemon lives on, and the .tmp of a figure being saved
 * would stay.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/fsutil.h"
#include "daemon/history/history.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"

#define FIGS_MAX 1024

/* One listed figure. */
struct fig {
	long k;
	char *name;
};

/* The runtime's file-name-safe step name (runner.step_name). */
static void hist_fig_prefix(const char *step, char *buf, size_t size)
{
	size_t n = 0;
	bool run = false;
	for (const unsigned char *p = (const unsigned char *)step; *p && n + 1 < size; p++) {
		bool safe = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-';
		if (safe)
			buf[n++] = (char)*p;
		else if (!run)
			buf[n++] = '-';
		run = !safe;
	}
	buf[n] = '\0';
	size_t start = strspn(buf, "-.");
	memmove(buf, buf + start, n - start + 1);
	n -= start;
	while (n > 0 && (buf[n - 1] == '-' || buf[n - 1] == '.'))
		buf[--n] = '\0';
	if (n > 80)
		buf[80] = '\0';
}

/* K of "<prefix>_<K>.png", or -1. */
static long fig_number(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	if (strncmp(name, prefix, pl) != 0 || name[pl] != '_')
		return -1;
	const char *d = name + pl + 1;
	size_t dig = strspn(d, "0123456789");
	if (dig == 0 || dig > 9 || strcmp(d + dig, ".png") != 0)
		return -1;
	return atol(d);
}

/* Order figures by number. */
static int fig_cmp(const void *a, const void *b)
{
	const struct fig *x = a, *y = b;
	return x->k < y->k ? -1 : x->k > y->k;
}

/* outputs/plots/<stem>_<K>.png regular files, by K. */
json_t *hist_step_figures(const char *project_path, const char *stem)
{
	struct proto_err err;
	struct fig v[256];
	size_t n = 0;
	json_t *out = json_array();
	int fd = fsu_out_opendir(project_path, "outputs/plots", false, &err);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d && fd >= 0)
		close(fd);
	while (d && (de = readdir(d)) && n < sizeof v / sizeof v[0]) {
		long k = fig_number(de->d_name, stem);
		if (k >= 0 && fsu_out_is_reg(dirfd(d), de->d_name) && (v[n].name = strdup(de->d_name)))
			v[n++].k = k;
	}
	if (d)
		closedir(d);
	qsort(v, n, sizeof v[0], fig_cmp);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(out, json_sprintf("outputs/plots/%s", v[i].name));
		free(v[i].name);
	}
	return out;
}

/* The figures an exec named step drew (listed by the daemon). */
json_t *hist_exec_figures(const char *project_path, const char *step)
{
	char prefix[96];
	hist_fig_prefix(step, prefix, sizeof prefix);
	return *prefix ? hist_step_figures(project_path, prefix) : json_array();
}

/* Rename figures to <to_stem>_<first+i>.png, or into unsaved/ (to_stem
 * NULL); the paths they have now (owned). */
json_t *hist_figures_move(const char *project_path, const json_t *figs, const char *to_stem,
			  int first)
{
	json_t *out = json_array(), *f;
	size_t i;
	char to[PATH_MAX];
	struct proto_err err;
	json_array_foreach(figs, i, f) {
		const char *rel = json_string_value(f), *base = rel ? strrchr(rel, '/') : NULL;
		if (!base)
			continue;
		int rc = to_stem ? fsu_path(to, sizeof to, &err, "outputs/plots/%s_%d.png", to_stem,
					    first + (int)i)
				 : fsu_path(to, sizeof to, &err, "outputs/plots/unsaved%s", base);
		if (rc == 0 && strcmp(rel, to) == 0) {
			json_array_append(out, f);
		} else if (rc == 0 && fsu_out_rename(project_path, rel, to, &err) == 0) {
			json_array_append_new(out, json_string(to));
		} else {
			log_warn("history: %s: figure %s not moved: %s", project_path, rel, err.msg);
			json_array_append(out, f);
		}
	}
	return out;
}

/* Remove figures (paths inside outputs/). */
void hist_figures_remove(const char *project_path, const json_t *figs)
{
	json_t *f;
	size_t i;
	struct proto_err err;
	json_array_foreach(figs, i, f)
		if (fsu_out_unlink(project_path, json_string_value(f), &err) < 0)
			log_warn("history: %s: figure not removed: %s", project_path, err.msg);
}

/* The step prefix of a figure name "NNN_<slug>_<K>.png" (into buf), or false. */
static bool step_figure(const char *name, char *buf, size_t size)
{
	size_t dig = strspn(name, "0123456789"), len = strlen(name);
	if (dig < 3 || name[dig] != '_' || len < 4 || strcmp(name + len - 4, ".png") != 0)
		return false;
	const char *end = name + len - 4, *us = end;
	while (us > name && us[-1] >= '0' && us[-1] <= '9')
		us--;
	if (us == end || us - 1 <= name + dig || us[-1] != '_' || (size_t)(us - 1 - name) >= size)
		return false;
	snprintf(buf, size, "%.*s", (int)(us - 1 - name), name);
	return true;
}

/* Is prefix the stem of a step on disk? */
static bool is_stem(const json_t *steps, const char *prefix)
{
	const json_t *s;
	size_t i;
	json_array_foreach(steps, i, s)
		if (strcmp(json_string_value(json_object_get(s, "stem")) ?: "", prefix) == 0)
			return true;
	return false;
}

static void figs_open_cb(struct proj *p)
{
	hist_figures_tidy(proj_path(p));
}

void hist_figures_init(void)
{
	static const struct proj_part_ops figs_part = {.open = figs_open_cb};
	proj_part_set(PROJ_PART_FIGS, &figs_part);
}

/* Leftovers of a daemon or kernel killed mid-step (see the top). */
void hist_figures_tidy(const char *project_path)
{
	struct proto_err err;
	json_t *steps = hist_steps(project_path, &err), *move = json_array();
	int fd = steps ? fsu_out_opendir(project_path, "outputs/plots", false, &err) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char prefix[NAME_MAX + 1];
	size_t n = 0;
	if (!d && fd >= 0)
		close(fd);
	while (d && (de = readdir(d)) && n < FIGS_MAX) {
		size_t len = strlen(de->d_name);
		if (!fsu_out_is_reg(dirfd(d), de->d_name))
			continue;
		if (de->d_name[0] == '.' && len > 5 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				log_info("history: %s: removed the half-written figure %s", project_path,
					 de->d_name);
		} else if (step_figure(de->d_name, prefix, sizeof prefix) && !is_stem(steps, prefix)) {
			json_array_append_new(move, json_sprintf("outputs/plots/%s", de->d_name));
			n++;
		}
	}
	if (d)
		closedir(d);
	if (json_array_size(move)) {
		log_info("history: %s: %zu figure(s) of steps that were never saved moved to "
			 "outputs/plots/unsaved/", project_path, json_array_size(move));
		json_decref(hist_figures_move(project_path, move, NULL, 0));
	}
	json_decref(move);
	json_decref(steps);
}
