/*
 * tests/fuzz/fuzz_profile.c — libFuzzer target for the profile cache
 * loaders (daemon/profiler/profiler_store.c).  The input is two files of a
 * project's .daa folder, split at the first NUL byte: the index
 * .daa/profiles.json, then one entry .daa/profiles/<sha>-data.csv.json.
 * In a private project folder it runs what profiler.c does with them:
 * prof_index_load, prof_index_sha for every file the index names (with
 * the size and mtime it records), prof_entry_load, prof_entry_fits,
 * prof_entry_brief; then prof_index_save and a reload that must be equal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/core/log.h"
#include "daemon/profiler/profiler_int.h"
#include "daemon/project/project.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LINK-ONLY STUB, not behaviour under test: prof_load_key (not called
 * here) reads the project's conventions.  Aborts if ever reached. */
json_t *proj_conventions(struct proj *p)
{
	(void)p;
	abort();
}

/* SPEED STUB (not behaviour under test): fsu_write_atomic syncs every file
 * and folder it writes, which held this target to ~20 inputs a second on a
 * busy disk; the files here are throwaway, so fsync does nothing. */
int fsync(int fd)
{
	(void)fd;
	return 0;
}

#define SHA "3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a"

static char proj[512], index_path[600], entry_path[700];

/* Write a whole file or abort. */
static void put(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

/* Once: a project folder with .daa/profiles/. */
static void setup(void)
{
	char p[1024];
	const char *tmp = getenv("TMPDIR");
	snprintf(proj, sizeof proj, "%s/daa-fuzz-profile.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(proj))
		abort();
	snprintf(p, sizeof p, "%s/.daa", proj);
	if (mkdir(p, 0700) < 0)
		abort();
	snprintf(p, sizeof p, "%s/.daa/profiles", proj);
	if (mkdir(p, 0700) < 0)
		abort();
	snprintf(index_path, sizeof index_path, "%s/.daa/profiles.json", proj);
	snprintf(entry_path, sizeof entry_path, "%s/.daa/profiles/%s-data.csv.json", proj, SHA);
	log_set_level(LOG_LVL_ERROR);
}

/* The entry as data.list and a profile job read it. */
static void use_entry(const char *sha, const char *name)
{
	json_t *e = prof_entry_load(proj, sha, name);
	if (!e)
		return;
	if (!json_is_object(json_object_get(e, "profile")))
		abort(); /* prof_entry_load promises a profile object */
	(void)prof_entry_fits(e, name, "{}");
	json_t *b = prof_entry_brief(e);
	if (!b)
		abort();
	char *d = json_dumps(b, JSON_COMPACT);
	free(d);
	json_decref(b);
	json_decref(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!proj[0])
		setup();
	const uint8_t *nul = memchr(data, 0, size);
	size_t n1 = nul ? (size_t)(nul - data) : size;
	put(index_path, data, n1);
	put(entry_path, nul ? nul + 1 : data, nul ? size - n1 - 1 : 0);

	json_t *files = prof_index_load(proj), *f;
	if (!json_is_object(files))
		abort();
	const char *file;
	json_object_foreach(files, file, f) {
		long long bytes = json_integer_value(json_object_get(f, "bytes"));
		long long mtime = json_integer_value(json_object_get(f, "mtime_ns"));
		const char *sha = prof_index_sha(files, file, bytes, mtime);
		if (sha && strlen(sha) != 64)
			abort();
	}
	use_entry(SHA, "data.csv");
	prof_index_save(proj, files);
	json_t *again = prof_index_load(proj);
	if (!json_equal(files, again))
		abort(); /* saved and loaded back differ */
	json_decref(again);
	json_decref(files);
	return 0;
}
