/*
 * daemon/history/history_undo.c — dropping the project's last step (history.undo,
 * daemon/rpc/m_undo.c).  The last history/NNN_slug.py is moved (one rename,
 * atomic) to .daa/undone/, so nothing is lost and a daemon killed at any
 * instant leaves either the step or its undone copy.  Then its status entry
 * and figures are dropped: a daemon killed in between leaves an entry of
 * no step, which the next step of that name replaces (history.c) — never
 * a step without its status.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/fsutil.h"
#include "daemon/history/history.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"

/* The file name of the highest-numbered step into name; its number, 0 when
 * there is none, -1 when the folder cannot be read. */
static int last_step(const char *dir, char *name, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int max = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		int n = hist_step_number(de->d_name);
		if (n > max && strlen(de->d_name) < size) {
			max = n;
			snprintf(name, size, "%s", de->d_name);
		}
	}
	closedir(d);
	return max;
}

/* Move history/<name> to .daa/undone/<name>; 0 or -1 (err). */
static int undo_move(struct proj *pj, const char *name, struct proto_err *err)
{
	char from[PATH_MAX], dir[PATH_MAX], to[PATH_MAX];
	if (fsu_path(from, sizeof from, err, "%s/%s", proj_history_dir(pj), name) < 0 ||
	    fsu_path(dir, sizeof dir, err, "%s/undone", proj_state_dir(pj)) < 0 ||
	    fsu_path(to, sizeof to, err, "%s/%s", dir, name) < 0 ||
	    fsu_mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (rename(from, to) < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot move %s to %s: %s", from, to,
				  strerror(errno));
	fsu_fsync_dir(proj_history_dir(pj));
	fsu_fsync_dir(dir);
	return 0;
}

/* The removed step leaves nothing a later step of the same name (the next
 * one gets its number) would inherit: its status entry and its figures. */
static void undo_forget(struct proj *pj, const char *name)
{
	struct proto_err err;
	char stem[NAME_MAX + 1];
	snprintf(stem, sizeof stem, "%.*s", (int)(strlen(name) - 3), name); /* NNN_slug.py */
	if (hist_state_forget(proj_path(pj), stem, &err) < 0)
		log_warn("history.undo: %s: the status of %s was not dropped: %s", proj_name(pj),
			 name, err.msg);
	json_t *figs = hist_step_figures(proj_path(pj), stem);
	if (json_array_size(figs)) {
		log_info("history.undo: %s: %zu figure(s) of %s moved to outputs/plots/unsaved/",
			 proj_name(pj), json_array_size(figs), name);
		json_decref(hist_figures_move(proj_path(pj), figs, NULL, 0));
	}
	json_decref(figs);
}

/* Undo the last step. */
int hist_undo_last(struct proj *pj, char *removed, size_t rsize, char *kept, size_t ksize,
		   struct proto_err *err)
{
	char name[NAME_MAX + 1];
	int n = last_step(proj_history_dir(pj), name, sizeof name);
	if (n < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot read %s: %s", proj_history_dir(pj),
				  strerror(errno));
	if (n == 0)
		return 0;
	if (undo_move(pj, name, err) < 0)
		return -1;
	undo_forget(pj, name);
	snprintf(removed, rsize, "history/%s", name);
	snprintf(kept, ksize, ".daa/undone/%s", name);
	log_info("history.undo: %s: moved %s to %s", proj_name(pj), removed, kept);
	return 1;
}
