/*
 * daemon/kernel/kern_fonts.c — matplotlib's font list for the kernels, built
 * once and shared, so that a kernel does not rebuild it at every start (each
 * has a fresh MPLCONFIGDIR; the rebuild scans the system's fonts: 0.2-0.5 s
 * of CPU per kernel).
 *
 * Trust: the shared list lives in the daemon's cache folder,
 * $XDG_CACHE_HOME/daa/matplotlib (default ~/.cache/daa/matplotlib, 0700),
 * outside every path the sandbox opens to a kernel.  Only the font helper's
 * output goes there: a process started exactly like a kernel (same python,
 * sandbox policy and environment, so it sees the fonts a kernel sees, at the
 * same paths) that runs `import matplotlib.font_manager` and nothing else:
 * no socket, no project, never user code.  When it exits 0 the daemon
 * copies the fontlist-v*.json it wrote into the cache.  Each kernel gets a
 * copy of its own in its private MPLCONFIGDIR before it starts: what a
 * kernel does to its copy, no other kernel reads.
 *
 * Freshness: a stamp next to the list says the python, matplotlib's
 * font_manager.py (path and mtime) and the newest mtime under the system
 * font folders when it was built; checked once per daemon run, at the first
 * kernel start.  Without a valid list kernels build their own, as before,
 * while the helper runs in the background (at most once per daemon run).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/kernel/kern_int.h"
#include "daemon/core/fsutil.h"
#include "daemon/core/log.h"

#define FONTS_HELPER_TIMEOUT_MS 120000
#define FONTS_FILE_MAX (16u * 1024 * 1024)   /* a font list is ~50 KB */

static struct {
	bool checked, valid;       /* the stamp was checked this run; the list is usable */
	bool helper_started;       /* once per daemon run */
	uint64_t child, timer;
	char tmp[PATH_MAX];        /* the helper's temp dir */
	char cache[PATH_MAX];      /* "" when there is no cache folder */
} fonts;

/* The helper's whole program: the font list lands in $MPLCONFIGDIR, with
 * the path of the module that built it (for the stamp). */
static const char HELPER_CODE[] =
	"import os, matplotlib.font_manager as f\n"
	"with open(os.path.join(os.environ['MPLCONFIGDIR'], 'font_manager.path'), 'w') as o:\n"
	"    o.write(f.__file__)\n";

/* $XDG_CACHE_HOME/daa/matplotlib (or ~/.cache/...), created 0700; false
 * when there is none. */
static bool cache_dir(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char base[PATH_MAX], daa[PATH_MAX];
	out[0] = '\0';
	if (xdg && xdg[0] == '/')
		snprintf(base, sizeof base, "%s", xdg);
	else if (home && home[0] == '/')
		snprintf(base, sizeof base, "%s/.cache", home);
	else
		return false;
	struct stat st;
	if (snprintf(daa, sizeof daa, "%s/daa", base) < (int)sizeof daa &&
	    snprintf(out, len, "%s/matplotlib", daa) < (int)len &&
	    (mkdir(base, 0700) == 0 || errno == EEXIST) && (mkdir(daa, 0700) == 0 || errno == EEXIST) &&
	    (mkdir(out, 0700) == 0 || errno == EEXIST) &&
	    lstat(out, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid())
		return true;
	out[0] = '\0';
	return false;
}

/* A whole small regular file (not a link) into a malloc'd buffer; NULL on error. */
static char *read_small(int dirfd, const char *name, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct proto_err err = {0};
	char *buf = fsu_read_fd(fd, name, FONTS_FILE_MAX, len, &err);
	close(fd);
	return buf;
}

/* Write data as dir/name, atomically. */
static int write_in(const char *dir, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	struct proto_err err = {0};
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return -1;
	return fsu_write_atomic(path, data, len, &err);
}

/* Is name a font list matplotlib writes (fontlist-v<N>.json)? */
static bool is_font_list(const char *name)
{
	size_t n = strlen(name);
	return strncmp(name, "fontlist-v", 10) == 0 && n > 15 && strcmp(name + n - 5, ".json") == 0 &&
	       !strchr(name, '/');
}

/* A kernel's own copy of the font list name in folder dirfd, as to/name: a
 * plain new file (the folder is the kernel's private temp, made just now,
 * and thrown away with it; the kernel starts after the copy), so no temp
 * file, rename or fsync on the loop at each kernel start. */
static int copy_plain(int dirfd, const char *name, const char *to)
{
	char path[PATH_MAX];
	struct stat st;
	int src = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), dst = -1, rc = -1;
	if (src >= 0 && fstat(src, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= FONTS_FILE_MAX &&
	    snprintf(path, sizeof path, "%s/%s", to, name) < (int)sizeof path)
		dst = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dst >= 0) {
		rc = fsu_copy_fd(src, dst) == (long long)st.st_size ? 0 : -1;
		if (close(dst) < 0 || rc < 0) {
			unlink(path);   /* no half list: the kernel would fail to read it */
			rc = -1;
		}
	}
	if (src >= 0)
		close(src);
	return rc;
}

/* A list kept in the cache: read whole (capped) and written atomically. */
static int copy_durable(int dirfd, const char *name, const char *to)
{
	size_t len = 0;
	char *data = read_small(dirfd, name, &len);
	int rc = data ? write_in(to, name, data, len) : -1;
	free(data);
	return rc;
}

/* Copy every font list of folder from into folder to (into the cache:
 * durable; into a kernel's temp: plain); how many were copied. */
static int copy_lists(const char *from, const char *to, bool durable)
{
	int ffd = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = ffd < 0 ? NULL : fdopendir(ffd);
	if (!d) {
		if (ffd >= 0)
			close(ffd);
		return 0;
	}
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (is_font_list(e->d_name) &&
		    (durable ? copy_durable : copy_plain)(dirfd(d), e->d_name, to) == 0)
			n++;
	closedir(d);
	return n;
}

static long long newest_font_mtime;

static int note_mtime(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path, (void)type, (void)ftw;
	if (st->st_mtime > newest_font_mtime)
		newest_font_mtime = st->st_mtime;
	return 0;
}

/* What the stamp must say for a list built by python with font_manager.py
 * at fm_path: "" when that file cannot be seen. */
static void expected_stamp(const char *python, const char *fm_path, char *out, size_t len)
{
	struct stat st;
	out[0] = '\0';
	if (!fm_path[0] || stat(fm_path, &st) < 0)
		return;
	newest_font_mtime = 0;
	static const char *const font_dirs[] = {"/usr/share/fonts", "/usr/local/share/fonts", NULL};
	for (size_t i = 0; font_dirs[i]; i++)
		nftw(font_dirs[i], note_mtime, 16, FTW_PHYS);
	snprintf(out, len, "python %s\nfont_manager %s %lld.%09ld\nfonts %lld\n", python, fm_path,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, newest_font_mtime);
}

/* Does the cache's stamp match this python, its matplotlib and the fonts? */
static bool stamp_ok(const char *python)
{
	int dfd = open(fonts.cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t len = 0;
	char *stamp = dfd < 0 ? NULL : read_small(dfd, "stamp", &len);
	if (dfd >= 0)
		close(dfd);
	if (!stamp)
		return false;
	char fm_path[PATH_MAX] = "", want[PATH_MAX * 2 + 128];
	const char *line = strstr(stamp, "\nfont_manager ");
	if (line)
		sscanf(line + 14, "%4095s", fm_path);
	expected_stamp(python, fm_path, want, sizeof want);
	bool ok = want[0] && strcmp(stamp, want) == 0;
	free(stamp);
	return ok;
}

/* The helper exited 0: its lists and the stamp into the cache. */
static void helper_collect(const char *python)
{
	char mpl[PATH_MAX + 8], fm_path[PATH_MAX] = "", stamp[PATH_MAX * 2 + 128];
	snprintf(mpl, sizeof mpl, "%s/mpl", fonts.tmp);
	int dfd = open(mpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t len = 0;
	char *path = dfd < 0 ? NULL : read_small(dfd, "font_manager.path", &len);
	if (dfd >= 0)
		close(dfd);
	if (path && path[0] == '/' && len < sizeof fm_path && !strchr(path, '\n'))
		snprintf(fm_path, sizeof fm_path, "%s", path);
	free(path);
	expected_stamp(python, fm_path, stamp, sizeof stamp);
	if (!stamp[0] || copy_lists(mpl, fonts.cache, true) == 0 ||
	    write_in(fonts.cache, "stamp", stamp, strlen(stamp)) < 0) {
		log_warn("kernel: the font helper's list could not be kept in %s", fonts.cache);
		return;
	}
	fonts.valid = true;
	log_info("kernel: matplotlib's font list is now shared from %s", fonts.cache);
}

static void helper_done(struct loop *l, pid_t pid, int status, void *ud)
{
	(void)l, (void)pid, (void)ud;
	fonts.child = 0;
	loop_timer_clear(kern_g.l, &fonts.timer);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		helper_collect(kern_g.set.python);
	else
		log_warn("kernel: the font helper failed (wait status %d); kernels build their "
			 "own font list", status);
	kp_rm_tmp(fonts.tmp);
	fonts.tmp[0] = '\0';
}

static void helper_timeout(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	fonts.timer = 0;
	if (fonts.child)
		loop_child_kill(l, fonts.child, SIGKILL);
}

/* Start the helper in the background (once per daemon run). */
static void helper_start(const struct kp_settings *s)
{
	fonts.helper_started = true;
	char *argv[] = {(char *)s->python, (char *)"-I", (char *)"-c", (char *)HELPER_CODE, NULL};
	struct proto_err err = {0};
	pid_t pid = kp_spawn_plain(s, argv, fonts.tmp, sizeof fonts.tmp, &err);
	if (pid < 0) {
		log_warn("kernel: cannot start the font helper: %s", err.msg);
		return;
	}
	fonts.child = loop_child_watch(kern_g.l, pid, helper_done, NULL);
	if (!fonts.child) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		kp_rm_tmp(fonts.tmp);
		fonts.tmp[0] = '\0';
		return;
	}
	fonts.timer = loop_timer_add(kern_g.l, FONTS_HELPER_TIMEOUT_MS, helper_timeout, NULL);
	log_debug("kernel: font helper %d started", (int)pid);
}

void kern_fonts_seed(const struct kp_settings *s, const char *mpl_dir)
{
	if (!fonts.checked) {
		fonts.checked = true;
		fonts.valid = cache_dir(fonts.cache, sizeof fonts.cache) && stamp_ok(s->python);
		if (!fonts.cache[0])
			return;
	}
	if (fonts.valid)
		copy_lists(fonts.cache, mpl_dir, false);
	else if (fonts.cache[0] && !fonts.helper_started && kern_g.l)
		helper_start(s);
}

void kern_fonts_stop(void)
{
	loop_timer_clear(kern_g.l, &fonts.timer);
	if (fonts.child) {
		int status;
		loop_child_kill(kern_g.l, fonts.child, SIGKILL);
		loop_child_wait(kern_g.l, fonts.child, 3000, &status);
		fonts.child = 0;
	}
	if (fonts.tmp[0])
		kp_rm_tmp(fonts.tmp);
	memset(&fonts, 0, sizeof fonts);
}
