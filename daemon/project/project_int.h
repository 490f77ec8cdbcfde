/*
 * daemon/project/project_int.h — the private project handle shared by project.c,
 * project_data.c and project_conv.c (not for other modules).
 */
#ifndef DAA_PROJECT_INT_H
#define DAA_PROJECT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>
#include "daemon/project/project.h"
#include "protocol/proto.h"

struct proj;

struct proj {
	char *name, *path, *data, *history, *outputs, *state, *conv_file;
	json_t *conv;          /* cached conventions.json, or NULL when not loaded */
	struct timespec conv_mtime;
	off_t conv_size;
	ino_t conv_ino;
	bool deleted;
	struct proj_slots slots; /* what each part hangs off the project */
	struct proj *next;
};

/* fsu_name_check plus: valid UTF-8, no Unicode control or format character. */
int proj_name_check(const char *name, const char *what, struct proto_err *err);
/* NOT_FOUND for a deleted handle (0 when alive). */
int proj_check_alive(const struct proj *p, struct proto_err *err);
/* Tell the parts that p's datasets or conventions changed (in their order). */
void proj_changed(struct proj *p);
/* Watch / stop watching p's data/ for files changed by hand (project_watch.c). */
void proj_watch_add(struct proj *p);
void proj_watch_remove(struct proj *p);

#endif
