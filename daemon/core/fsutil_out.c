/*
 * daemon/core/fsutil_out.c — the only way the daemon touches files a kernel can
 * write: regular files strictly inside <project>/outputs/, reached by an
 * O_NOFOLLOW walk from the project folder (no symlink, no "..", no
 * absolute part on the way), then renamed, unlinked or read relative to
 * the folder's descriptor with AT_SYMLINK_NOFOLLOW.  A kernel can replace
 * anything under outputs/ (a symlink instead of outputs/plots, a symlink
 * or a folder named like a figure): the worst it gets is an error, never
 * a rename or unlink of data/, history/, .daa/ or conventions.json, nor a
 * read of a file outside outputs/.
 */
#include "daemon/core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Is s one plain path component ("." / ".." / empty / with '/' are not)? */
static bool component_ok(const char *s, size_t n)
{
	return n > 0 && n <= NAME_MAX && memchr(s, '/', n) == NULL &&
	       !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* Open the folder of rel ("outputs/a/b/name": outputs/a/b) beneath the
 * project, never following a symlink; the last component into *name.
 * mkdir: create missing folders (0755).  fd or -1 (err). */
static int out_parent(const char *project, const char *rel, bool mkdir, const char **name,
		      struct proto_err *err)
{
	if (!rel || strncmp(rel, "outputs/", 8) != 0 || strlen(rel) >= PATH_MAX)
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s is not a path inside outputs/",
				  rel ? rel : "(none)");
	int fd = open(project, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot open %s: %s", project, strerror(errno));
	const char *p = rel;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char part[NAME_MAX + 1];
		if (!component_ok(p, n)) {
			close(fd);
			return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s is not a plain path inside outputs/", rel);
		}
		if (!slash) {
			*name = p;
			return fd;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		int next = openat(fd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && mkdir && mkdirat(fd, part, 0755) == 0)
			next = openat(fd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno;
			close(fd);
			return proto_fail(err, e == ENOENT ? PROTO_ERR_NOT_FOUND : PROTO_ERR_IO,
					  "cannot open %.*s in %s: %s", (int)(slash - rel), rel, project,
					  e == ELOOP || e == ENOTDIR ? "not a folder (a symlink?)" : strerror(e));
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
}

/* Is name in folder dfd a regular file (not followed when a symlink)? */
static int out_check_reg(int dfd, const char *name, const char *rel, struct proto_err *err)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return proto_fail(err, errno == ENOENT ? PROTO_ERR_NOT_FOUND : PROTO_ERR_IO,
				  "cannot stat %s: %s", rel, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s is not a regular file", rel);
	return 0;
}

/* Open a folder strictly inside outputs/ ("outputs/plots"), no symlinks. */
int fsu_out_opendir(const char *project, const char *rel_dir, bool create, struct proto_err *err)
{
	char rel[PATH_MAX];
	const char *name;
	if (fsu_path(rel, sizeof rel, err, "%s/_", rel_dir) < 0) /* "_": a name in it */
		return -1;
	int dfd = out_parent(project, rel, create, &name, err);
	if (dfd < 0)
		return -1;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot open %s: %s", rel_dir, strerror(errno));
	return fd;
}

/* Is name, in a folder opened by fsu_out_opendir, a regular file? */
bool fsu_out_is_reg(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* Unlink a regular file strictly inside outputs/. */
int fsu_out_unlink(const char *project, const char *rel, struct proto_err *err)
{
	const char *name;
	int dfd = out_parent(project, rel, false, &name, err);
	if (dfd < 0)
		return -1;
	int rc = out_check_reg(dfd, name, rel, err);
	if (rc == 0 && unlinkat(dfd, name, 0) < 0)
		rc = proto_fail(err, PROTO_ERR_IO, "cannot remove %s: %s", rel, strerror(errno));
	close(dfd);
	return rc;
}

/* Rename a regular file inside outputs/ to another name inside outputs/
 * (its folder created); an existing destination must be a regular file. */
int fsu_out_rename(const char *project, const char *from, const char *to, struct proto_err *err)
{
	const char *fname, *tname;
	int ffd = out_parent(project, from, false, &fname, err), tfd = -1, rc = -1;
	if (ffd < 0)
		return -1;
	if (out_check_reg(ffd, fname, from, err) < 0 ||
	    (tfd = out_parent(project, to, true, &tname, err)) < 0)
		goto out;
	struct stat st;
	if (fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
		proto_fail(err, PROTO_ERR_BAD_INPUT, "%s exists and is not a regular file", to);
		goto out;
	}
	if (renameat(ffd, fname, tfd, tname) < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot move %s to %s: %s", from, to, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(ffd);
	if (tfd >= 0)
		close(tfd);
	return rc;
}

/* Read a regular file strictly inside outputs/ (at most max bytes). */
char *fsu_out_read(const char *project, const char *rel, size_t max, size_t *len,
		   struct proto_err *err)
{
	const char *name;
	int dfd = out_parent(project, rel, false, &name, err);
	if (dfd < 0)
		return NULL;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	close(dfd);
	if (fd < 0) {
		proto_fail(err, errno == ENOENT ? PROTO_ERR_NOT_FOUND : PROTO_ERR_IO, "cannot read %s: %s",
			   rel, errno == ELOOP ? "a symlink" : strerror(errno));
		return NULL;
	}
	char *buf = fsu_read_fd(fd, rel, max, len, err);
	close(fd);
	return buf;
}
