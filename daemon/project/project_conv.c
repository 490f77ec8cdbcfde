/*
 * daemon/project/project_conv.c — a project's conventions (conventions.json):
 * {KEY: {value, source, why?, updated}}.  Cached, reloaded when the file
 * changed on disk (a user may edit it), rewritten atomically on every change.
 * A file that is not valid JSON is never overwritten: set/rm fail with a
 * message saying how to fix it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "daemon/core/fsutil.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/project_int.h"

#define CONV_MAX_FILE (8u * 1024 * 1024)
#define CONV_MAX_KEY 128

/* Has the file changed since it was cached? */
static bool conv_stale(const struct proj *p, const struct stat *st)
{
	return !p->conv || st->st_ino != p->conv_ino || st->st_size != p->conv_size ||
	       st->st_mtim.tv_sec != p->conv_mtime.tv_sec ||
	       st->st_mtim.tv_nsec != p->conv_mtime.tv_nsec;
}

/* An unreadable file reads as {} (and is read again next time). */
static void conv_reset(struct proj *p)
{
	if (p->conv)
		json_object_clear(p->conv);
	else
		p->conv = json_object();
	p->conv_ino = 0;
}

/* (Re)load conventions.json when needed.  0 / -1 with err (cache left {}). */
static int conv_load(struct proj *p, struct proto_err *err)
{
	struct stat st;
	if (stat(p->conv_file, &st) < 0) {
		if (errno != ENOENT)
			return proto_fail(err, PROTO_ERR_IO, "cannot read %s: %s", p->conv_file,
					  strerror(errno));
		memset(&st, 0, sizeof(st)); /* missing: an empty object */
	} else if (!conv_stale(p, &st)) {
		return 0;
	}
	json_t *j = NULL;
	if (st.st_size > (off_t)CONV_MAX_FILE) {
		conv_reset(p);
		return proto_fail(err, PROTO_ERR_IO, "%s is larger than %u MiB: trim it by hand",
				  p->conv_file, CONV_MAX_FILE >> 20);
	}
	if (st.st_ino) {
		json_error_t je;
		j = json_load_file(p->conv_file, JSON_REJECT_DUPLICATES, &je);
		if (!j) {
			conv_reset(p);
			return proto_fail(err, PROTO_ERR_IO,
					  "%s is not valid JSON (line %d: %s): fix it by hand or "
					  "replace it with {}", p->conv_file, je.line, je.text);
		}
		if (!json_is_object(j)) {
			json_decref(j);
			conv_reset(p);
			return proto_fail(err, PROTO_ERR_IO,
					  "%s must hold a JSON object {...}: fix it by hand or "
					  "replace it with {}", p->conv_file);
		}
	} else {
		j = json_object();
	}
	if (p->conv)
		json_decref(p->conv);
	p->conv = j;
	p->conv_ino = st.st_ino;
	p->conv_size = st.st_size;
	p->conv_mtime = st.st_mtim;
	return 0;
}

/* The conventions (borrowed). */
json_t *proj_conventions(struct proj *p)
{
	struct proto_err err = {0};
	if (p->deleted)
		return NULL;
	if (conv_load(p, &err) < 0)
		log_warn("project %s: %s", p->name, err.msg);
	return p->conv;
}

/* Write the cache to disk atomically and remember the new file's identity. */
static int conv_save(struct proj *p, struct proto_err *err)
{
	char *s = json_dumps(p->conv, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s)
		return proto_fail(err, PROTO_ERR_INTERNAL, "cannot serialize the conventions");
	size_t len = strlen(s);
	if (len > CONV_MAX_FILE) {
		free(s);
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "the conventions would exceed %u MiB: keep values short",
				  CONV_MAX_FILE >> 20);
	}
	char *buf = realloc(s, len + 2);
	if (!buf) {
		free(s);
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	buf[len++] = '\n';
	int rc = fsu_write_atomic(p->conv_file, buf, len, err);
	free(buf);
	struct stat st;
	if (rc == 0 && stat(p->conv_file, &st) == 0) {
		p->conv_ino = st.st_ino;
		p->conv_size = st.st_size;
		p->conv_mtime = st.st_mtim;
	}
	return rc;
}

/* A key may be any text of 1..128 bytes without control characters. */
static int conv_key_check(const char *key, struct proto_err *err)
{
	size_t n = key ? strlen(key) : 0;
	if (n == 0 || n > CONV_MAX_KEY)
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "a convention key must be 1 to %d bytes long", CONV_MAX_KEY);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "a convention key must not hold control characters");
	return 0;
}

/* The current UTC time as ISO 8601 into buf. */
static void conv_now(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Set one convention. */
int proj_convention_set(struct proj *p, const char *key, const json_t *value,
			const char *source, const char *why, struct proto_err *err)
{
	if (!source)
		source = "user";
	if (proj_check_alive(p, err) < 0 || conv_key_check(key, err) < 0 || conv_load(p, err) < 0)
		return -1;
	if (strcmp(source, "user") && strcmp(source, "agent") && strcmp(source, "inferred"))
		return proto_fail(err, PROTO_ERR_BAD_INPUT,
				  "source must be user, agent or inferred (got '%.40s')", source);
	if (!value)
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "a convention needs a value");
	char now[32];
	conv_now(now, sizeof(now));
	json_t *entry = json_pack("{s:O, s:s, s:s}", "value", (json_t *)value, "source", source,
				  "updated", now);
	if (!entry)
		return proto_fail(err, PROTO_ERR_INTERNAL, "cannot build the convention");
	if (why && *why)
		json_object_set_new(entry, "why", json_string(why));
	json_t *old = json_incref(json_object_get(p->conv, key));
	json_object_set_new(p->conv, key, entry);
	if (conv_save(p, err) < 0) {
		if (old)
			json_object_set(p->conv, key, old);
		else
			json_object_del(p->conv, key);
		json_decref(old);
		return -1;
	}
	json_decref(old);
	proj_changed(p);
	return 0;
}

/* Remove one convention. */
int proj_convention_rm(struct proj *p, const char *key, struct proto_err *err)
{
	if (proj_check_alive(p, err) < 0 || conv_load(p, err) < 0)
		return -1;
	json_t *old = json_incref(json_object_get(p->conv, key));
	if (!old)
		return proto_fail(err, PROTO_ERR_NOT_FOUND, "no convention '%.128s' in project %s",
				  key, p->name);
	json_object_del(p->conv, key);
	int rc = conv_save(p, err);
	if (rc < 0)
		json_object_set(p->conv, key, old);
	json_decref(old);
	if (rc == 0)
		proj_changed(p);
	return rc;
}
