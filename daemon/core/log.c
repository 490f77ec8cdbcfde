/*
 * daemon/core/log.c — leveled logging to stderr (daemon/core/log.h).  When stderr is
 * the systemd journal ($JOURNAL_STREAM names stderr's device:inode), each
 * line gets the "<N>" syslog priority prefix and no timestamp (journald adds
 * its own); otherwise lines read "daad[pid] HH:MM:SS.mmm LEVEL message".
 * One write() per line, so lines from a child sharing stderr do not mix.
 */
#include "daemon/core/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_level = LOG_LVL_INFO;
static int log_journal = -1; /* -1: not checked yet */

/* Set the most verbose level that is printed. */
void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

/* Is stderr connected to the journal? */
static bool log_is_journal(void)
{
	if (log_journal >= 0)
		return log_journal;
	log_journal = 0;
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		log_journal = 1;
	return log_journal;
}

/* Format and write one line. */
void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	static const int prio[] = {3, 4, 6, 7};
	if (lvl > log_level || lvl < LOG_LVL_ERROR)
		return;
	char line[2048];
	int n;
	if (log_is_journal()) {
		n = snprintf(line, sizeof(line), "<%d>", prio[lvl]);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "daad[%d] %02d:%02d:%02d.%03ld %-5s ", (int)getpid(),
			     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, names[lvl]);
	}
	if (n < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* One line per message: control characters from peers are flattened. */
	for (size_t i = (size_t)n; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	ssize_t w = write(2, line, len);
	(void)w;
}
