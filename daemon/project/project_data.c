/*
 * daemon/project/project_data.c — datasets of a project (daemon/project/project.h): the
 * files of data/, and adding one by copying it in (in the kernel with
 * copy_file_range / sendfile, to a hidden temp name, then rename), after
 * checking it is a readable regular file whose content matches its format.
 * The source is resolved first: only a regular file outside /proc, /sys and
 * /dev (and on no pseudo file system) is read, and the copy keeps the
 * source's read permissions (a 0600 file stays 0600).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>
#include "daemon/core/fsutil.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/project_int.h"

#define DATA_SNIFF 65536
#define CONFIGFS_MAGIC_ALT 0x62656570 /* not in every linux/magic.h */

static const struct {
	const char *ext, *format;
} data_formats[] = {
	{"csv", "csv"},   {"tsv", "tsv"},     {"tab", "tsv"},         {"txt", "csv"},
	{"json", "json"}, {"jsonl", "jsonl"}, {"ndjson", "jsonl"},    {"xlsx", "xlsx"},
	{"parquet", "parquet"}, {NULL, NULL}};

/* The format of a file name by its extension, or NULL. */
const char *proj_format_of(const char *filename)
{
	const char *dot = strrchr(filename, '.');
	if (!dot || dot == filename || strlen(dot + 1) > 8)
		return NULL;
	char ext[10];
	size_t i;
	for (i = 0; dot[1 + i]; i++)
		ext[i] = (char)tolower((unsigned char)dot[1 + i]);
	ext[i] = '\0';
	for (int k = 0; data_formats[k].ext; k++)
		if (!strcmp(ext, data_formats[k].ext))
			return data_formats[k].format;
	return NULL;
}

/* The stem of file name (without the last extension) into buf. */
static void data_stem(const char *file, char *buf, size_t size)
{
	const char *dot = strrchr(file, '.');
	size_t n = dot && dot != file ? (size_t)(dot - file) : strlen(file);
	snprintf(buf, size, "%.*s", (int)n, file);
}

/* One dataset row for a file of data/. */
static json_t *data_row(const struct proj *p, const char *file, const struct stat *st)
{
	char stem[NAME_MAX + 1], *path = NULL;
	data_stem(file, stem, sizeof(stem));
	if (asprintf(&path, "%s/%s", p->data, file) < 0)
		return NULL;
	json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", stem, "file", file, "path",
				path, "format", proj_format_of(file), "bytes",
				(json_int_t)st->st_size);
	free(path);
	return row;
}

/* Order rows by name. */
static int data_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* The datasets of the project, sorted by name. */
json_t *proj_datasets(struct proj *p, struct proto_err *err)
{
	if (proj_check_alive(p, err) < 0)
		return NULL;
	DIR *d = opendir(p->data);
	if (!d) {
		proto_fail(err, PROTO_ERR_IO, "cannot list %s: %s", p->data, strerror(errno));
		return NULL;
	}
	json_t *rows[1024];
	size_t n = 0;
	struct dirent *de;
	struct stat st;
	while ((de = readdir(d)) && n < 1024) {
		if (de->d_name[0] == '.' || !proj_format_of(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		json_t *row = data_row(p, de->d_name, &st);
		if (row)
			rows[n++] = row;
	}
	closedir(d);
	if (n > 1)
		qsort(rows, n, sizeof(rows[0]), data_cmp);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, rows[i]);
	return arr;
}

/* Check the first bytes of a file against its format. */
static int data_sniff(const char *src, const char *format, const unsigned char *b, size_t n,
		      struct proto_err *err)
{
	if (!strcmp(format, "xlsx")) {
		if (n < 4 || memcmp(b, "PK\3\4", 4))
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "%s is not an .xlsx workbook (no ZIP header); save it as "
					  ".xlsx or .csv", src);
		return 0;
	}
	if (!strcmp(format, "parquet")) {
		if (n < 4 || memcmp(b, "PAR1", 4))
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "%s is not a Parquet file (no PAR1 header)", src);
		return 0;
	}
	if (memchr(b, '\0', n))
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "%s holds binary data, not %s text: check the file or its extension",
				  src, format);
	if (!strcmp(format, "json")) {
		size_t i = 0;
		if (n >= 3 && !memcmp(b, "\xef\xbb\xbf", 3))
			i = 3;
		while (i < n && isspace(b[i]))
			i++;
		if (i < n && b[i] != '[' && b[i] != '{')
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "%s does not start like JSON ('[' or '{')", src);
	}
	return 0;
}

/* Is real path rp under /proc, /sys or /dev? */
static bool data_system_path(const char *rp)
{
	static const char *const roots[] = {"/proc", "/sys", "/dev"};
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		size_t n = strlen(roots[i]);
		if (!strncmp(rp, roots[i], n) && (rp[n] == '/' || rp[n] == '\0'))
			return true;
	}
	return false;
}

/* Is fd on a kernel pseudo file system (proc, sysfs, debugfs...) wherever
 * it is mounted? */
static bool data_pseudo_fs(int fd)
{
	static const unsigned long magics[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC,	  DEBUGFS_MAGIC,    TRACEFS_MAGIC,
		SECURITYFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,
		DEVPTS_SUPER_MAGIC, EFIVARFS_MAGIC, PSTOREFS_MAGIC, CONFIGFS_MAGIC_ALT};
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return true;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if ((unsigned long)sf.f_type == magics[i])
			return true;
	return false;
}

/* Open src for reading and check it: absolute, regular, supported, sane content. */
static int data_open_src(const char *src, const char **format, struct stat *st,
			 struct proto_err *err)
{
	if (src[0] != '/')
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "path must be absolute (got '%s'): the daemon does not share "
				  "your current folder", src);
	const char *base = strrchr(src, '/') + 1;
	*format = proj_format_of(base);
	if (!*format)
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "%s: unsupported file type; use .csv .tsv .txt .json .jsonl "
				  ".xlsx or .parquet", src);
	char rp[PATH_MAX];
	if (!realpath(src, rp))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "cannot read %s: %s", src,
				  strerror(errno));
	if (data_system_path(rp))
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "%s resolves to %s: files under /proc, /sys and /dev are not "
				  "datasets", src, rp);
	int fd = open(rp, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "cannot read %s: %s", src,
				  strerror(errno));
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s is not a regular file", src);
	}
	if (data_pseudo_fs(fd)) {
		close(fd);
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "%s is on a kernel pseudo file system (like /proc): not a dataset",
				  src);
	}
	unsigned char *buf = malloc(DATA_SNIFF);
	ssize_t n = buf ? pread(fd, buf, DATA_SNIFF, 0) : -1;
	int rc = n < 0 ? proto_fail(err, PROTO_ERR_BAD_INPUT, "cannot read %s: %s", src,
				    strerror(errno))
		       : data_sniff(src, *format, buf, (size_t)n, err);
	free(buf);
	if (rc < 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Files of data/ whose stem is name (any supported format): count, and the
 * first one into found. */
static int data_same_name(const struct proj *p, const char *name, char *found, size_t size)
{
	DIR *d = opendir(p->data);
	int n = 0;
	struct dirent *de;
	char stem[NAME_MAX + 1];
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !proj_format_of(de->d_name))
			continue;
		data_stem(de->d_name, stem, sizeof(stem));
		if (!strcmp(stem, name) && n++ == 0)
			snprintf(found, size, "%s", de->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

/* Remove the other files named like the dataset (overwrite with a new format). */
static void data_remove_others(const struct proj *p, const char *name, const char *keep)
{
	DIR *d = opendir(p->data);
	struct dirent *de;
	char stem[NAME_MAX + 1];
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !proj_format_of(de->d_name) || !strcmp(de->d_name, keep))
			continue;
		data_stem(de->d_name, stem, sizeof(stem));
		if (!strcmp(stem, name) && unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_info("project %s: replaced data/%s", p->name, de->d_name);
	}
	if (d)
		closedir(d);
}

/* The extension of src's base name, lower-cased, into buf. */
static void data_ext(const char *src, char *buf, size_t size)
{
	const char *dot = strrchr(src, '.');
	size_t i;
	for (i = 0; dot && dot[1 + i] && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)dot[1 + i]);
	buf[i] = '\0';
}

struct proj_data_job {
	struct proj *p;
	char name[NAME_MAX + 1], file[NAME_MAX + 1], tmp[PATH_MAX], dst[PATH_MAX];
	char src[PATH_MAX];
	const char *format;
	bool overwrite;
	long long size;
	int src_fd, tmp_fd;
	struct proj_data_job *next;
};

static struct proj_data_job *jobs; /* copies under way (names reserved) */
static unsigned job_seq;

/* Is a copy to this project and name under way? */
static bool data_job_pending(const struct proj *p, const char *name)
{
	for (const struct proj_data_job *j = jobs; j; j = j->next)
		if (j->p == p && !strcmp(j->name, name))
			return true;
	return false;
}

/* Free a job (closing its fds, removing its temp file unless renamed). */
static void data_job_free(struct proj_data_job *job)
{
	for (struct proj_data_job **pp = &jobs; *pp; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	if (job->src_fd >= 0)
		close(job->src_fd);
	if (job->tmp_fd >= 0)
		close(job->tmp_fd);
	if (job->tmp[0])
		unlink(job->tmp);
	free(job);
}

/* Name, file and clash checks for a new job. */
static int data_job_names(struct proj_data_job *job, const char *name, struct proto_err *err)
{
	char stem[NAME_MAX + 1], ext[16], found[NAME_MAX + 1];
	if (!name || !*name) {
		data_stem(strrchr(job->src, '/') + 1, stem, sizeof(stem));
		name = stem;
	}
	data_ext(job->src, ext, sizeof(ext));
	if (proj_name_check(name, "dataset name", err) < 0 ||
	    fsu_path(job->file, sizeof(job->file), err, "%s.%s", name, ext) < 0)
		return -1;
	snprintf(job->name, sizeof(job->name), "%s", name);
	if (data_job_pending(job->p, name))
		return proto_fail(err, PROTO_ERR_BUSY, "dataset '%s' is being added right now", name);
	if (data_same_name(job->p, name, found, sizeof(found)) > 0 && !job->overwrite)
		return proto_fail(err, PROTO_ERR_EXISTS,
				  "a dataset named '%s' already exists (data/%s); nothing was "
				  "overwritten: pick another name or pass overwrite", name, found);
	return 0;
}

/* Check src and the name, reserve the name and open a hidden temp file. */
struct proj_data_job *proj_data_begin(struct proj *p, const char *src, const char *name,
				      bool overwrite, struct proto_err *err)
{
	if (proj_check_alive(p, err) < 0)
		return NULL;
	struct proj_data_job *job = calloc(1, sizeof(*job));
	if (!job) {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	struct stat st = {0};
	job->p = p;
	job->overwrite = overwrite;
	job->tmp_fd = -1;
	snprintf(job->src, sizeof(job->src), "%s", src);
	job->src_fd = data_open_src(src, &job->format, &st, err);
	job->size = st.st_size;
	if (job->src_fd < 0 || data_job_names(job, name, err) < 0)
		goto fail;
	job->next = jobs; /* the name is reserved from here */
	jobs = job;
	if (fsu_path(job->dst, sizeof(job->dst), err, "%s/%s", p->data, job->file) < 0 ||
	    fsu_path(job->tmp, sizeof(job->tmp), err, "%s/.%s.part-%d-%u", p->data, job->file,
		     (int)getpid(), ++job_seq) < 0)
		goto fail;
	job->tmp_fd = open(job->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (job->tmp_fd < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot write in %s: %s", p->data, strerror(errno));
		job->tmp[0] = '\0';
		goto fail;
	}
	/* Who may read the copy: whoever could read the source (and the owner writes). */
	if (fchmod(job->tmp_fd, (st.st_mode & 0444) | 0200) < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot set the mode of %s: %s", job->tmp,
			   strerror(errno));
		goto fail;
	}
	return job;
fail:
	if (job->tmp_fd < 0)
		job->tmp[0] = '\0';
	data_job_free(job);
	return NULL;
}

/* The hidden temp file the copy goes to. */
const char *proj_data_job_tmp(const struct proj_data_job *job)
{
	return job->tmp;
}

/* Size of the source file. */
long long proj_data_job_size(const struct proj_data_job *job)
{
	return job->size;
}

/* The copy itself (in a child for big files): 0, or an errno value. */
int proj_data_copy(struct proj_data_job *job)
{
	if (fsu_copy_fd(job->src_fd, job->tmp_fd) < 0 || fsync(job->tmp_fd) < 0)
		return errno ? errno : EIO;
	return 0;
}

/* Rename the copy into place (copy_errno: proj_data_copy's result) and
 * describe the dataset; frees the job either way. */
json_t *proj_data_finish(struct proj_data_job *job, int copy_errno, struct proto_err *err)
{
	json_t *res = NULL;
	struct stat st;
	if (job->p->deleted) {
		proj_check_alive(job->p, err);
	} else if (copy_errno || fstat(job->tmp_fd, &st) < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot copy %s into %s: %s", job->src, job->dst,
			   strerror(copy_errno ? copy_errno : errno));
	} else if (rename(job->tmp, job->dst) < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot copy into %s: %s", job->dst, strerror(errno));
	} else {
		job->tmp[0] = '\0';
		fsu_fsync_dir(job->p->data);
		if (job->overwrite)
			data_remove_others(job->p, job->name, job->file);
		log_info("project %s: dataset %s added from %s (%lld bytes)", job->p->name,
			 job->file, job->src, (long long)st.st_size);
		res = json_pack("{s:s, s:s, s:I, s:s, s:s}", "name", job->name, "file", job->file,
				"bytes", (json_int_t)st.st_size, "format", job->format, "path",
				job->dst);
	}
	struct proj *changed = res ? job->p : NULL;
	data_job_free(job);
	if (changed)
		proj_changed(changed);
	return res;
}
