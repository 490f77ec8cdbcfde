/*
 * tests/integration/test_fsutil.c — unit test of daemon/core/fsutil.c: safe
 * names, atomic rewrite (no temp file left, errors name the path), append,
 * mkdir -p, bounded reads, rm -rf that never follows a symlink out of the
 * tree, and the copy with its fallbacks (a pipe source forces read/write).
 * TAP output; exit 1 on any failure.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon/core/fsutil.h"
#include "tests/lib/tap.h"

/* Name rules. */
static void test_names(void)
{
	static const char *const good[] = {"a", "sales-2024", "my data", "x.y", "éé", NULL};
	static const char *const bad[] = {"", ".", "..", ".hidden", "a/b", "a\\b", "tab\there",
					  "nl\n", "del\x7f", NULL};
	int all = 1;
	for (int i = 0; good[i]; i++)
		all &= fsu_name_ok(good[i]);
	tap_ok(all, "good names accepted");
	all = 1;
	for (int i = 0; bad[i]; i++)
		all &= !fsu_name_ok(bad[i]);
	tap_ok(all, "bad names refused");
	char n64[65], n65[66];
	memset(n64, 'x', 64);
	n64[64] = '\0';
	memset(n65, 'x', 65);
	n65[65] = '\0';
	tap_ok(fsu_name_ok(n64) && !fsu_name_ok(n65) && !fsu_name_ok(NULL), "64 bytes max, NULL refused");
	struct proto_err err = {0};
	tap_ok(fsu_name_check("../x", "project name", &err) == -1 && err.code == PROTO_ERR_BAD_INPUT &&
		   strstr(err.msg, "project name"), "name_check error names the field");
}

/* Entries of dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* Atomic write, append, read. */
static void test_write(const char *tmp)
{
	char path[600], sub[512];
	struct proto_err err = {0};
	snprintf(sub, sizeof(sub), "%s/w", tmp);
	tap_ok(fsu_mkdir_p(sub, 0700, &err) == 0 && fsu_mkdir_p(sub, 0700, &err) == 0, "mkdir -p twice");
	snprintf(path, sizeof(path), "%s/f.json", sub);
	tap_ok(fsu_write_atomic(path, "{\"a\":1}", 7, &err) == 0, "atomic write");
	tap_ok(fsu_write_atomic(path, "{}", 2, &err) == 0, "atomic rewrite");
	size_t len = 0;
	char *s = fsu_read_file(path, 100, &len, &err);
	tap_ok(s && len == 2 && !strcmp(s, "{}"), "read back the new content");
	free(s);
	tap_ok(count_entries(sub) == 1, "no temp file left");
	tap_ok(!fsu_read_file(path, 1, NULL, &err) && err.code == PROTO_ERR_IO, "read cap");
	snprintf(path, sizeof(path), "%s/none/f.json", sub);
	tap_ok(fsu_write_atomic(path, "x", 1, &err) == -1 && err.code == PROTO_ERR_IO &&
		   strstr(err.msg, path), "write error names the path");
	tap_ok(!fsu_read_file(path, 100, NULL, &err) && err.code == PROTO_ERR_NOT_FOUND, "missing → not_found");
	snprintf(path, sizeof(path), "%s/log.jsonl", sub);
	tap_ok(fsu_append(path, "1\n", 2) == 0 && fsu_append(path, "2\n", 2) == 0, "append twice");
	s = fsu_read_file(path, 100, NULL, &err);
	tap_ok(s && !strcmp(s, "1\n2\n"), "appended lines in order");
	free(s);
}

/* rm -rf does not follow a symlink out of the tree. */
static void test_rm(const char *tmp)
{
	char tree[512], outside[512], keep[512], link[512], deep[512];
	struct proto_err err = {0};
	snprintf(tree, sizeof(tree), "%s/tree", tmp);
	snprintf(deep, sizeof(deep), "%s/tree/a/b/c", tmp);
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	snprintf(keep, sizeof(keep), "%s/outside/keep.txt", tmp);
	snprintf(link, sizeof(link), "%s/tree/a/link", tmp);
	fsu_mkdir_p(deep, 0755, &err);
	fsu_mkdir_p(outside, 0755, &err);
	fsu_write_atomic(keep, "k", 1, &err);
	if (symlink(outside, link) < 0)
		perror("symlink");
	char f[600];
	snprintf(f, sizeof(f), "%s/x.csv", deep);
	fsu_write_atomic(f, "x", 1, &err);
	tap_ok(fsu_rm_rf(tree, &err) == 0, "rm -rf a tree with a symlink inside");
	tap_ok(access(tree, F_OK) == -1 && access(keep, F_OK) == 0, "tree gone, link target kept");
	tap_ok(fsu_rm_rf(tree, &err) == 0, "rm -rf of a missing path is fine");
}

/* Copy from a file and from a pipe (fallback path). */
static void test_copy(const char *tmp)
{
	char src[512], dst[512];
	struct proto_err err = {0};
	snprintf(src, sizeof(src), "%s/src.bin", tmp);
	snprintf(dst, sizeof(dst), "%s/dst.bin", tmp);
	size_t n = 300000;
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 31 + 7);
	fsu_write_atomic(src, data, n, &err);
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	tap_ok(fsu_copy_fd(in, out) == (long long)n, "copy a file: all bytes");
	close(in);
	close(out);
	size_t len = 0;
	char *back = fsu_read_file(dst, n + 1, &len, &err);
	tap_ok(back && len == n && !memcmp(back, data, n), "copy a file: same bytes");
	free(back);
	int p[2];
	if (pipe(p) < 0)
		abort();
	if (write(p[1], "pipe data", 9) != 9)
		abort();
	close(p[1]);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	tap_ok(fsu_copy_fd(p[0], out) == 9, "copy from a pipe falls back to read/write");
	close(out);
	close(p[0]);
	back = fsu_read_file(dst, 100, NULL, &err);
	tap_ok(back && !strcmp(back, "pipe data"), "pipe copy content");
	free(back);
	free(data);
}

/* Runs every case in a temp dir. */
int main(void)
{
	char tmp[] = "/tmp/daa-fsutil.XXXXXX";
	if (!mkdtemp(tmp))
		return 1;
	test_names();
	test_write(tmp);
	test_rm(tmp);
	test_copy(tmp);
	struct proto_err err = {0};
	fsu_rm_rf(tmp, &err);
	return tap_done();
}
