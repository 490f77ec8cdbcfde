/*
 * daemon/profiler/cache_trust.c — the ledger of trusted dataset-cache entries,
 * <project>/.daa/cache.json {version: 1, files: {NAME.pkl: sha256}}
 * (daemon/profiler/cache_trust.h says why and how it is filled).  Rewritten
 * atomically; a missing or broken ledger trusts nothing (the next bind
 * rebuilds the entries).
 */
#include "daemon/profiler/cache_trust.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon/core/fsutil.h"
#include "daemon/kernel/kernel.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"

#define CT_MAX_ENTRIES 1024
#define CT_MAX_LEDGER (1024 * 1024)

/* A file name the runtime can have written: [A-Za-z0-9_][A-Za-z0-9_.-]*.pkl, ≤ 104 bytes. */
static bool ct_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 5 || n > 104 || strcmp(s + n - 4, ".pkl") || !(isalnum((unsigned char)s[0]) ||
							       s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* 64 lower-case hex digits? */
static bool ct_hex_ok(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

/* <project>/.daa/<leaf> into buf; -1 when too long. */
static int ct_path(char *buf, size_t size, const char *project, const char *leaf)
{
	struct proto_err err = {0};
	return fsu_path(buf, size, &err, "%s/.daa/%s", project, leaf);
}

/* The ledger's files map (new reference; {} when missing or broken). */
static json_t *ct_load(const char *project)
{
	char path[PATH_MAX];
	struct proto_err err = {0};
	json_t *out = json_object();
	if (ct_path(path, sizeof path, project, "cache.json") < 0)
		return out;
	char *text = fsu_read_file(path, CT_MAX_LEDGER, NULL, &err);
	json_t *root = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(root, "files"), name, v) {
		if (ct_name_ok(name) && ct_hex_ok(json_string_value(v)) &&
		    json_object_size(out) < CT_MAX_ENTRIES)
			json_object_set(out, name, v);
	}
	json_decref(root);
	return out;
}

/* Write the ledger atomically, keeping only entries whose file exists. */
static int ct_save(const char *project, json_t *files)
{
	char path[PATH_MAX], dir[PATH_MAX], f[PATH_MAX + 128];
	struct proto_err err = {0};
	if (ct_path(path, sizeof path, project, "cache.json") < 0 ||
	    ct_path(dir, sizeof dir, project, "cache") < 0)
		return -1;
	const char *name;
	json_t *v;
	void *tmp;
	struct stat st;
	json_object_foreach_safe(files, tmp, name, v) {
		snprintf(f, sizeof f, "%s/%s", dir, name);
		if (lstat(f, &st) < 0 || !S_ISREG(st.st_mode))
			json_object_del(files, name);
	}
	json_t *root = json_pack("{s:i, s:O}", "version", 1, "files", files);
	char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	int rc = text ? fsu_write_atomic(path, text, strlen(text), &err) : -1;
	free(text);
	if (rc < 0)
		log_warn("dataset cache: cannot write %s: %s", path, err.msg[0] ? err.msg : "out of memory");
	return rc;
}

/* The kernel manager's bind hook: {files: {NAME.pkl: sha256}} for a kernel
 * bound to pj (new reference); creates .daa/cache (0700). */
static json_t *ctrust_bind_info(struct proj *pj)
{
	const char *project_path = proj_path(pj);
	char dir[PATH_MAX];
	if (ct_path(dir, sizeof dir, project_path, "cache") == 0 && mkdir(dir, 0700) < 0 &&
	    errno != EEXIST)
		log_debug("dataset cache: cannot create %s: %s", dir, strerror(errno));
	return json_pack("{s:o}", "files", ct_load(project_path));
}

/* Log the entries the runtime found changed or foreign and rebuilt. */
static void ct_log_rebuilt(const char *project, const json_t *rebuilt)
{
	size_t i;
	json_t *r;
	json_array_foreach(rebuilt, i, r) {
		const char *file = json_string_value(json_object_get(r, "file"));
		const char *why = json_string_value(json_object_get(r, "why"));
		if (i >= 32 || !ct_name_ok(file))
			break;
		log_warn("dataset cache of %s: .daa/cache/%s was %s: rebuilt from data/", project,
			 file, why && !strcmp(why, "changed after it was written")
				       ? "changed after it was written (not the SHA-256 recorded)"
				       : "not written by daa (no SHA-256 recorded)");
	}
}

/* The kernel manager's hook for a `cache` reply {written: {NAME.pkl:
 * sha256}, rebuilt: [...]} of a kernel that had run no user code: merge it
 * into the ledger (names and digests checked, entries whose file is gone
 * dropped), log what was rebuilt.  0, or -1 when nothing could be recorded. */
static int ctrust_record(struct proj *pj, const json_t *reply)
{
	const char *project_path = proj_path(pj);
	const json_t *written = json_object_get(reply, "written");
	ct_log_rebuilt(project_path, json_object_get(reply, "rebuilt"));
	if (!json_is_object(written) || json_object_size(written) == 0)
		return 0;
	json_t *files = ct_load(project_path);
	const char *name;
	json_t *v;
	int n = 0;
	json_object_foreach((json_t *)written, name, v) {
		if (!ct_name_ok(name) || !ct_hex_ok(json_string_value(v))) {
			log_warn("dataset cache of %s: ignored a malformed entry from the kernel",
				 project_path);
			continue;
		}
		if (json_object_size(files) >= CT_MAX_ENTRIES && !json_object_get(files, name))
			break;
		json_object_set(files, name, v);
		n++;
	}
	int rc = ct_save(project_path, files);
	json_decref(files);
	if (rc == 0)
		log_info("dataset cache of %s: recorded the SHA-256 of %d new entr%s", project_path,
			 n, n == 1 ? "y" : "ies");
	return rc;
}

void ctrust_init(void)
{
	kern_set_cache_hooks(ctrust_bind_info, ctrust_record);
}
