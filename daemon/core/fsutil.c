/*
 * daemon/core/fsutil.c — filesystem helpers (daemon/core/fsutil.h).  Atomic rewrite =
 * temp file in the same folder + write + fsync + rename + fsync(folder), so
 * a daemon killed at any instant leaves the old or the new file.
 */
#include "daemon/core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

/* Format a path; BAD_INPUT when it does not fit. */
int fsu_path(char *buf, size_t size, struct proto_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "path too long (%d bytes)", n);
	}
	return 0;
}

/* Write all of buf to fd (retrying on EINTR / short writes). */
static int fsu_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The folder part of path into buf ("." when none). */
static void fsu_dirname(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(buf, size, ".");
		return;
	}
	size_t n = (size_t)(slash - path);
	if (n == 0)
		n = 1;
	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
}

/* fsync a directory. */
int fsu_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Create path's temp sibling PATH.tmp.PID (name in tmp); its fd, or -1 with err. */
static int temp_create(const char *path, char *tmp, size_t size, struct proto_err *err)
{
	if (fsu_path(tmp, size, err, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	return fd;
}

/* Atomically replace path with data. */
int fsu_write_atomic(const char *path, const void *data, size_t len, struct proto_err *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd = temp_create(path, tmp, sizeof tmp, err);
	if (fd < 0)
		return -1;
	if (fsu_write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	fsu_dirname(path, dir, sizeof(dir));
	if (fsu_fsync_dir(dir) < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot sync folder %s: %s", dir, strerror(errno));
	return 0;
fail:;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return proto_fail(err, PROTO_ERR_IO, "cannot write %s: %s", path, strerror(saved));
}

/* A new file: temp, write, fsync, then a rename that refuses to replace
 * (renameat2 RENAME_NOREPLACE; link() where the filesystem lacks it). */
int fsu_write_new(const char *path, const void *data, size_t len, struct proto_err *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd = temp_create(path, tmp, sizeof tmp, err);
	if (fd < 0)
		return -1;
	int rc = fsu_write_all(fd, data, len) < 0 || fsync(fd) < 0 ? -1 : 0;
	int saved = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, saved = errno;
	if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0 &&
	    !((errno == EINVAL || errno == ENOSYS) && link(tmp, path) == 0))
		rc = -1, saved = errno;
	unlink(tmp); /* gone after a rename; the spare name after a link */
	if (rc < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot write %s: %s", path,
				  saved == EEXIST ? "it already exists (not replaced)" : strerror(saved));
	fsu_dirname(path, dir, sizeof(dir));
	if (fsu_fsync_dir(dir) < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot sync folder %s: %s", dir, strerror(errno));
	return 0;
}

/* Append one record in one write. */
int fsu_append(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	int rc = fsu_write_all(fd, data, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Is name one safe path component? */
bool fsu_name_ok(const char *name)
{
	if (!name)
		return false;
	size_t n = strlen(name);
	if (n == 0 || n > FSU_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return false;
	}
	return true;
}

/* Name check with an actionable message. */
int fsu_name_check(const char *name, const char *what, struct proto_err *err)
{
	if (fsu_name_ok(name))
		return 0;
	if (!name || !*name)
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s must not be empty", what);
	if (strlen(name) > FSU_NAME_MAX)
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s is longer than %d bytes", what,
				  FSU_NAME_MAX);
	return proto_fail(err, PROTO_ERR_BAD_INPUT,
			  "invalid %s '%.64s': use letters, digits, '-', '_' or '.', "
			  "no '/', no leading '.', no control characters", what, name);
}

/* mkdir -p. */
int fsu_mkdir_p(const char *path, mode_t mode, struct proto_err *err)
{
	char buf[PATH_MAX];
	if (fsu_path(buf, sizeof(buf), err, "%s", path) < 0)
		return -1;
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return proto_fail(err, PROTO_ERR_IO, "cannot create folder %s: %s", buf,
					  strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return proto_fail(err, PROTO_ERR_IO, "%s exists and is not a folder", path);
	return 0;
}

/* Read the whole regular file open on fd (at most max bytes; fd stays open),
 * NUL-terminated; name is for messages. */
char *fsu_read_fd(int fd, const char *name, size_t max, size_t *len, struct proto_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		proto_fail(err, PROTO_ERR_IO, "cannot read %s: not a regular file under %zu bytes",
			   name, max);
		return NULL;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		proto_fail(err, PROTO_ERR_IO, "out of memory reading %s", name);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}

/* Read a small regular file. */
char *fsu_read_file(const char *path, size_t max, size_t *len, struct proto_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int code = errno == ENOENT ? PROTO_ERR_NOT_FOUND : PROTO_ERR_IO;
		proto_fail(err, code, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = fsu_read_fd(fd, path, max, len, err);
	close(fd);
	return buf;
}

/* Remove the entries of the open directory dfd recursively. */
static int fsu_rm_at(int dfd, const char *path, struct proto_err *err)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return proto_fail(err, PROTO_ERR_IO, "cannot list %s: %s", path, strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0 || fsu_rm_at(sub, de->d_name, err) < 0 ||
			    unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
				rc = -1;
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			rc = -1;
		}
		if (rc < 0 && err->code == 0)
			proto_fail(err, PROTO_ERR_IO, "cannot remove %s/%s: %s", path, de->d_name,
				   strerror(errno));
	}
	closedir(d);
	return rc;
}

/* rm -rf path (no symlink is followed). */
int fsu_rm_rf(const char *path, struct proto_err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
				       : proto_fail(err, PROTO_ERR_IO, "cannot remove %s: %s", path,
						    strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			return proto_fail(err, PROTO_ERR_IO, "cannot remove %s: %s", path,
					  strerror(errno));
		return 0;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
	err->code = 0;
	if (fsu_rm_at(fd, path, err) < 0)
		return -1;
	if (rmdir(path) < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* Copy src_fd to dst_fd: copy_file_range, else sendfile, else read/write. */
long long fsu_copy_fd(int src_fd, int dst_fd)
{
	long long total = 0;
	int mode = 0; /* 0 copy_file_range, 1 sendfile, 2 read/write */
	char buf[65536];
	for (;;) {
		ssize_t n;
		if (mode == 0)
			n = copy_file_range(src_fd, NULL, dst_fd, NULL, 1u << 30, 0);
		else if (mode == 1)
			n = sendfile(dst_fd, src_fd, NULL, 1u << 30);
		else
			n = read(src_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && mode < 2 && total == 0 &&
		    (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
			mode++;
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		if (mode == 2 && fsu_write_all(dst_fd, buf, (size_t)n) < 0)
			return -1;
		total += n;
	}
}
