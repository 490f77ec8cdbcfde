/*
 * tests/fuzz/fuzz_history.c — libFuzzer target for the history state
 * loader: the input is a project's .daa/history.json (a user may edit or
 * damage it; another tool may write it).  In a private project folder with
 * two step scripts and a figure, it runs what the daemon does with the
 * file through daemon/history/history.c's API: hist_state_load, hist_state_entry
 * for every step, hist_record_stdout (load, change, save), and checks that
 * what hist_state_save wrote loads back equal (else abort).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/history/history.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "daemon/core/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * LINK-ONLY STUBS, not behaviour under test: daemon/history/history.c also holds
 * kernel restore (kern_exec*), the step naming of a project (proj_*) and
 * the history.event broadcast (pub_publish).  None of the functions this
 * target calls reaches them; they abort if one ever does.
 */
int kern_exec(struct proj *p, const char *c, const char *s, kern_reply_cb cb, void *ud,
	      struct proto_err *e)
{
	(void)p, (void)c, (void)s, (void)cb, (void)ud, (void)e;
	abort();
}
int kern_exec_timeout(struct proj *p, const char *c, const char *s, int t, kern_reply_cb cb,
		      void *ud, struct proto_err *e)
{
	(void)p, (void)c, (void)s, (void)t, (void)cb, (void)ud, (void)e;
	abort();
}
json_t *kern_project_info(struct proj *p)
{
	(void)p;
	abort();
}
int kern_restart(struct proj *p)
{
	(void)p;
	abort();
}
const char *proj_path(const struct proj *p)
{
	(void)p;
	abort();
}
struct proj_slots *proj_slots(struct proj *p)
{
	(void)p;
	abort();
}
const char *proj_history_dir(const struct proj *p)
{
	(void)p;
	abort();
}
int pub_publish(const struct proj *p, enum pub_topic t, const json_t *v)
{
	(void)p, (void)t, (void)v;
	abort();
}
void proj_part_set(enum proj_part part, const struct proj_part_ops *ops)
{
	(void)part, (void)ops;
	abort();
}
/* (end of link-only stubs) */

/* SPEED STUB (not behaviour under test): fsu_write_atomic syncs every file
 * and folder it writes, which held this target to ~20 inputs a second on a
 * busy disk; the files here are throwaway, so fsync does nothing. */
int fsync(int fd)
{
	(void)fd;
	return 0;
}

static char proj[512], state_path[600];

/* Write a whole file or abort. */
static void put(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

/* Once: a project folder with history/001_load.py, 002_plot.py and a figure. */
static void setup(void)
{
	char p[1024];
	const char *tmp = getenv("TMPDIR");
	snprintf(proj, sizeof proj, "%s/daa-fuzz-history.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(proj))
		abort();
	const char *dirs[] = {"history", ".daa", "outputs", "outputs/plots", NULL};
	for (int i = 0; dirs[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", proj, dirs[i]);
		if (mkdir(p, 0700) < 0)
			abort();
	}
	snprintf(p, sizeof p, "%s/history/001_load.py", proj);
	put(p, "# request: load the data\nimport pandas as pd\n", 45);
	snprintf(p, sizeof p, "%s/history/002_plot.py", proj);
	put(p, "# request: plot it\ndf.plot()\n", 29);
	snprintf(p, sizeof p, "%s/outputs/plots/002_plot_1.png", proj);
	put(p, "\x89PNG", 4);
	snprintf(state_path, sizeof state_path, "%s/.daa/history.json", proj);
	log_set_level(LOG_LVL_ERROR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!proj[0])
		setup();
	put(state_path, data, size);
	json_t *state = hist_state_load(proj);
	if (!json_is_object(state))
		abort(); /* history.h: an object, never NULL */
	struct proto_err err;
	json_t *steps = hist_steps(proj, &err), *s;
	size_t i;
	json_array_foreach(steps, i, s) {
		const char *stem = json_string_value(json_object_get(s, "stem"));
		json_t *e = hist_state_entry(state, stem);
		if (!json_is_object(e))
			abort();
		(void)json_string_value(json_object_get(e, "status"));
		json_decref(hist_step_figures(proj, stem));
	}
	if (hist_state_save(proj, state, &err) < 0)
		abort();
	json_t *again = hist_state_load(proj);
	if (!json_equal(state, again))
		abort(); /* saved and loaded back differ */
	json_decref(again);
	hist_record_stdout(proj, "002_plot", "a line of output\n");
	json_decref(steps);
	json_decref(state);
	return 0;
}
