/*
 * client/daa_progress.c — the progress of a long Dask computation (turn.event
 * "progress", history.event "run_progress": {done, total}) for `daa ask`,
 * `daa run`, `daa chat` and `daa watch`.
 *
 * On a terminal: one line, "[turn 3] computing [########------------]  40%
 * (120/300 tasks)", rewritten in place with \r and wiped ("\r\033[K") before
 * whatever is printed next, so it is gone once the step ends.  Not on a
 * terminal (a log, a pipe read by a script): a plain line "progress: 40%
 * (120/300 tasks)" at most once every PLAIN_GAP_S seconds — the daemon sends
 * up to 4 events a second, and a log is for reading afterwards; a line now
 * and then says a long computation is under way without burying the rest.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/daa_safe.h"

#define BAR_WIDTH 24
#define PLAIN_GAP_S 5

static FILE *bar_on;          /* the stream a bar is drawn on (as given), or NULL */
static time_t last_plain;     /* when the last plain line was written */

void cli_progress_clear(FILE *f)
{
	if (bar_on && bar_on == f) {
		FILE *raw = daa_safe_raw_of(f); /* the sanitizer would show \r and ESC */
		fflush(f);
		fputs("\r\033[K", raw);
		fflush(raw);
		bar_on = NULL;
	}
}

/* The bar's text: "[#####-----]  40% (120/300 tasks)". */
static void bar_text(char *buf, size_t len, long long done, long long total)
{
	int pct = (int)(done * 100 / total), fill = (int)(done * BAR_WIDTH / total);
	char bar[BAR_WIDTH + 1];
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '-', (size_t)(BAR_WIDTH - fill));
	bar[BAR_WIDTH] = '\0';
	snprintf(buf, len, "[%s] %3d%% (%lld/%lld tasks)", bar, pct, done, total);
}

void cli_progress_print(FILE *f, const msgpack_object *ev)
{
	long long done = (long long)proto_map_int(ev, "done", -1);
	long long total = (long long)proto_map_int(ev, "total", 0);
	long long turn = (long long)proto_map_int(ev, "turn", 0);
	if (total <= 0 || done < 0 || done > total)
		return;
	FILE *raw = daa_safe_raw_of(f);
	if (isatty(fileno(raw))) {
		char bar[BAR_WIDTH + 64];
		bar_text(bar, sizeof bar, done, total);
		fflush(f);
		if (turn > 0)
			fprintf(raw, "\r\033[K[turn %lld] computing %s ", turn, bar);
		else
			fprintf(raw, "\r\033[Kcomputing %s ", bar);
		fflush(raw);
		bar_on = f;
		return;
	}
	time_t now = time(NULL);
	if (last_plain && now - last_plain < PLAIN_GAP_S)
		return;
	last_plain = now;
	fprintf(f, "progress: %d%% (%lld/%lld tasks)\n", (int)(done * 100 / total), done, total);
	fflush(f);
}
