/*
 * daemon/core/fsutil.h — small filesystem helpers for the daemon: atomic rewrites
 * (temp file in the same folder, fsync, rename, fsync of the folder), append
 * for JSONL logs, safe names, mkdir -p, reading small files, rm -rf, and an
 * efficient copy (copy_file_range / sendfile).  Every failing call fills a
 * proto_err (code PROTO_ERR_IO / BAD_INPUT ...) naming the path; errno is kept.
 */
#ifndef DAA_FSUTIL_H
#define DAA_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "protocol/proto.h"

#define FSU_NAME_MAX 64

/* Replace path's content atomically (mode 0644); a crash leaves the old or
 * the new content, never a mix.  0 / -1. */
int fsu_write_atomic(const char *path, const void *data, size_t len, struct proto_err *err);
/* Write a new file atomically (mode 0644), never replacing an existing one
 * (EEXIST: err says so).  0 / -1. */
int fsu_write_new(const char *path, const void *data, size_t len, struct proto_err *err);
/* Append one record with a single write (O_APPEND; creates the file 0644).
 * 0 / -1 (errno).  For JSONL logs: pass a whole line ending in '\n'. */
int fsu_append(const char *path, const void *data, size_t len);
/* fsync a directory (after creating or renaming inside it). 0 / -1 (errno). */
int fsu_fsync_dir(const char *dir);

/* Is name safe as one path component: 1..64 bytes, no '/', not "." or "..",
 * no leading '.', no control characters, valid UTF-8 not required. */
bool fsu_name_ok(const char *name);
/* The same, filling err (BAD_INPUT) with a message naming `what`. */
int fsu_name_check(const char *name, const char *what, struct proto_err *err);

/* mkdir -p with mode for the created parts. 0 / -1. */
int fsu_mkdir_p(const char *path, mode_t mode, struct proto_err *err);
/* Read a whole regular file of at most max bytes; NUL-terminated, malloc'd
 * (caller frees); *len may be NULL.  NULL with err (NOT_FOUND when missing). */
char *fsu_read_file(const char *path, size_t max, size_t *len, struct proto_err *err);
/* The same for a file open on fd (left open); name is for messages. */
char *fsu_read_fd(int fd, const char *name, size_t max, size_t *len, struct proto_err *err);
/* Remove a tree (does not follow symlinks).  0 / -1. */
int fsu_rm_rf(const char *path, struct proto_err *err);
/* Copy the open regular file src_fd (from offset 0) to dst_fd, in the kernel
 * when possible.  Returns bytes copied or -1 (errno). */
long long fsu_copy_fd(int src_fd, int dst_fd);
/* snprintf into buf, -1 with err (BAD_INPUT "path too long") when truncated. */
int fsu_path(char *buf, size_t size, struct proto_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * fsutil_out.c — files a kernel can write: regular files strictly inside
 * <project>/outputs/ (rel paths like "outputs/plots/x.png"), reached with no
 * symlink and no ".." on the way.  The daemon renames, removes and reads a
 * path that came from a kernel (or lies in outputs/) only through these.
 */
/* A folder inside outputs/ ("outputs/plots") opened O_DIRECTORY (created
 * with create); fd or -1 (err). */
int fsu_out_opendir(const char *project, const char *rel_dir, bool create, struct proto_err *err);
/* Is name, in a folder fd from fsu_out_opendir, a regular file (no symlink)? */
bool fsu_out_is_reg(int dfd, const char *name);
/* Unlink a regular file inside outputs/.  0 / -1. */
int fsu_out_unlink(const char *project, const char *rel, struct proto_err *err);
/* Rename a regular file inside outputs/ to a name inside outputs/ (folders
 * created; an existing destination must be a regular file).  0 / -1. */
int fsu_out_rename(const char *project, const char *from, const char *to, struct proto_err *err);
/* Read a regular file inside outputs/ of at most max bytes (caller frees). */
char *fsu_out_read(const char *project, const char *rel, size_t max, size_t *len,
		   struct proto_err *err);

#endif
