/*
 * daemon/project/history_name.h — the names of step scripts, for the history
 * module (daemon/history/): history/NNN_slug.py, numbered from 001.  Here,
 * below daemon/history/, and dependency-free so that project.c can count
 * steps with the same parser.  Nothing else in the daemon parses or formats a step name.
 */
#ifndef DAA_HISTORY_NAME_H
#define DAA_HISTORY_NAME_H

#include <stddef.h>

/* The largest step script the daemon reads or writes, in bytes. */
#define HIST_STEP_MAX (4u << 20)

/* The number of a step file name "NNN_slug.py" (at least three digits, at
 * most nine, then '_', a non-empty slug and ".py"; 001 and up), or -1. */
int hist_step_number(const char *file);
/* The stem "NNN_slug" of step n (n < 1 is written as 000: a step that
 * will not be saved) into buf. */
void hist_step_stem(char *buf, size_t size, int n, const char *slug);
/* The stem of a relative path "history/NNN_slug.py" into buf ("" when it
 * is not one). */
void hist_stem_of_rel(char *buf, size_t size, const char *rel);
/* The highest step number in the folder history_dir plus one (1 when it
 * has none), or -1 when it cannot be listed (no number is guessed). */
int hist_next_number(const char *history_dir);

#endif
