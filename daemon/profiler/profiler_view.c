/*
 * daemon/profiler/profiler_view.c — the page `daa profile --open` shows: a wrapper
 * the daemon writes to <project>/.daa/view/NAME.html (a folder no kernel can
 * read or write) around the kernel-made report outputs/reports/NAME.html.
 *
 * A kernel can rewrite the report, so it is hostile HTML.  The wrapper puts
 * it in an <iframe sandbox srcdoc="..."> (no allow-* token: no scripts, no
 * forms, no popups, no top navigation, no meta refresh, a unique origin)
 * under a Content-Security-Policy that allows no network at all (images,
 * fonts and media only as data: URIs, inline styles only); a srcdoc frame
 * inherits that policy.  daa_tools' report needs none of what is blocked
 * (it is self-contained: data: images, inline CSS, no script).  The report
 * is read without following symlinks (outputs/, reports/, the file) and at
 * most PV_MAX_REPORT bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon/core/fsutil.h"
#include "daemon/profiler/profiler.h"
#include "daemon/profiler/profiler_int.h"
#include "daemon/core/strbuf.h"

#define PV_MAX_REPORT (32u * 1024 * 1024)
#define PV_MAX_PAGE (6u * PV_MAX_REPORT + 65536)

#define PV_CSP                                                                                 \
	"default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "        \
	"media-src data:; frame-src 'none'; child-src 'none'; worker-src 'none'; "              \
	"script-src 'none'; connect-src 'none'; object-src 'none'; form-action 'none'; "        \
	"base-uri 'none'; manifest-src 'none'"

static const char pv_head[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"" PV_CSP "\">\n"
	"<meta http-equiv=\"x-dns-prefetch-control\" content=\"off\">\n"
	"<meta name=\"referrer\" content=\"no-referrer\">\n"
	"<title>daa profile report</title>\n"
	"<style>html,body{margin:0;height:100%}iframe{display:block;border:0;width:100%;"
	"height:100%}</style>\n</head><body>\n"
	"<!-- written by daad: the report below was made by a kernel; it is shown sandboxed, "
	"without scripts or network -->\n"
	"<iframe sandbox=\"\" referrerpolicy=\"no-referrer\" title=\"report\" srcdoc=\""
	"&lt;meta http-equiv=&quot;x-dns-prefetch-control&quot; content=&quot;off&quot;&gt;";
static const char pv_tail[] = "\"></iframe>\n</body></html>\n";

/* openat one component: a folder, or the report; never through a symlink. */
static int pv_open_at(int dirfd, const char *name, bool dir)
{
	int fl = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (dir ? O_DIRECTORY : O_NONBLOCK);
	return openat(dirfd, name, fl);
}

/* The report's bytes (outputs/reports/NAME under project), malloc'd. */
static char *pv_read_report(const char *project, const char *rel, size_t *len,
			    struct proto_err *err)
{
	int fd = open(project, O_RDONLY | O_CLOEXEC | O_DIRECTORY), next;
	const char *parts[] = {"outputs", "reports", strrchr(rel, '/') + 1};
	for (int i = 0; i < 3 && fd >= 0; i++) {
		next = pv_open_at(fd, parts[i], i < 2);
		close(fd);
		fd = next;
	}
	struct stat st;
	char *buf = NULL;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		proto_fail(err, PROTO_ERR_IO, "cannot read the report %s: %s", rel,
			   fd < 0 ? strerror(errno) : "not a regular file (or a symlink)");
	} else if ((size_t)st.st_size > PV_MAX_REPORT) {
		proto_fail(err, PROTO_ERR_IO, "the report %s is over %u MiB: not shown", rel,
			   PV_MAX_REPORT >> 20);
	} else if ((buf = malloc((size_t)st.st_size + 1))) {
		ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
		if (n < 0) {
			proto_fail(err, PROTO_ERR_IO, "cannot read the report %s: %s", rel,
				   strerror(errno));
			free(buf);
			buf = NULL;
		} else {
			*len = (size_t)n;
		}
	} else {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Append s escaped for a double-quoted attribute (NUL bytes dropped). */
static int pv_escape(struct strbuf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep = s[i] == '&' ? "&amp;" : s[i] == '"' ? "&quot;" : s[i] == '<' ? "&lt;"
				: s[i] == '>' ? "&gt;" : s[i] == '\0' ? "" : NULL;
		if (!rep)
			continue;
		if (strbuf_add(b, s + run, i - run, PV_MAX_PAGE) < 0 ||
		    strbuf_add(b, rep, strlen(rep), PV_MAX_PAGE) < 0)
			return -1;
		run = i + 1;
	}
	return strbuf_add(b, s + run, n - run, PV_MAX_PAGE);
}

char *prof_view_write(const char *project, const char *rel, struct proto_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	if (!prof_report_path_ok(rel)) {
		proto_fail(err, PROTO_ERR_BAD_INPUT, "the report path '%.80s' is not "
			   "outputs/reports/NAME.html", rel ? rel : "");
		return NULL;
	}
	if (fsu_path(dir, sizeof dir, err, "%s/.daa/view", project) < 0 ||
	    fsu_path(path, sizeof path, err, "%s/%s", dir, strrchr(rel, '/') + 1) < 0)
		return NULL;
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || lstat(dir, &st) < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot make the folder %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		proto_fail(err, PROTO_ERR_IO, "%s is not a folder", dir);
		return NULL;
	}
	size_t len = 0;
	char *rep = pv_read_report(project, rel, &len, err);
	if (!rep)
		return NULL;
	struct strbuf b = {0};
	int rc = strbuf_add(&b, pv_head, sizeof pv_head - 1, PV_MAX_PAGE) < 0 ||
			 pv_escape(&b, rep, len) < 0 ||
			 strbuf_add(&b, pv_tail, sizeof pv_tail - 1, PV_MAX_PAGE) < 0
		     ? proto_fail(err, PROTO_ERR_INTERNAL, "out of memory")
		     : fsu_write_atomic(path, b.p, b.len, err);
	free(rep);
	free(b.p);
	return rc < 0 ? NULL : strdup(path);
}
