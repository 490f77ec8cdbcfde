/*
 * daemon/project/history_name.c — parsing and formatting step names
 * (daemon/project/history_name.h): the one place that knows what NNN_slug.py means.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/project/history_name.h"

/* NNN of "NNN_slug.py", or -1. */
int hist_step_number(const char *file)
{
	size_t digits = 0, len = strlen(file);
	int n = 0;
	while (file[digits] >= '0' && file[digits] <= '9') {
		if (digits >= 9)
			return -1;
		n = n * 10 + (file[digits] - '0');
		digits++;
	}
	if (digits < 3 || file[digits] != '_' || len < digits + 1 + 1 + 3 ||
	    strcmp(file + len - 3, ".py") != 0)
		return -1;
	return n >= 1 ? n : -1;
}

/* "NNN_slug". */
void hist_step_stem(char *buf, size_t size, int n, const char *slug)
{
	snprintf(buf, size, "%03d_%s", n > 0 ? n : 0, slug);
}

/* "NNN_slug" of "history/NNN_slug.py". */
void hist_stem_of_rel(char *buf, size_t size, const char *rel)
{
	const char *prefix = "history/";
	size_t plen = strlen(prefix), len = strlen(rel);
	if (strncmp(rel, prefix, plen) != 0 || len < plen + 3 || strcmp(rel + len - 3, ".py") != 0) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(buf, size, "%.*s", (int)(len - plen - 3), rel + plen);
}

/* max + 1 over the folder's step names. */
int hist_next_number(const char *history_dir)
{
	DIR *d = opendir(history_dir);
	int max = 0;
	struct dirent *de;
	if (!d)
		return -1;
	errno = 0;
	while ((de = readdir(d))) {
		int n = hist_step_number(de->d_name);
		if (n > max)
			max = n;
	}
	int failed = errno != 0;
	closedir(d);
	return failed ? -1 : max + 1;
}
