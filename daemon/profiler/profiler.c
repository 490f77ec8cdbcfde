/*
 * daemon/profiler/profiler.c — profile jobs (daemon/profiler/profiler.h).  One job per
 * (project, dataset) at a time; whoever needs that profile meanwhile waits
 * on the same job:
 *
 *   begin ── index knows the file's size+mtime ──► lookup
 *     │                                              ▲
 *     └── hash the file (daemon/core/filehash.c) ─────────┘
 *   lookup ── entry fits (content, name, loading conventions) ──► done
 *     └── the kernel's `profile` request with summary ──► save ──► done
 *
 * A job whose file changed while it ran (re-added) starts again rather than
 * caching a profile under the wrong content hash.  Background jobs (nobody
 * waiting) end with a `data.event` to the project's subscribers; while the
 * kernel profiles a Dask-backed dataset, its passes' progress goes to them
 * as `data.event` profile_progress.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/core/filehash.h"
#include "daemon/kernel/kernel.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/core/log.h"
#include "daemon/profiler/profiler.h"
#include "daemon/profiler/cache_trust.h"
#include "daemon/profiler/profiler_int.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"

#define PROF_TIMEOUT_S 900 /* at the limit the kernel gets SIGINT (kernel.h) */

struct pwait {
	struct pwait *next;
	prof_cb cb;
	void *ud;
};

struct pjob;

/* What the profiler knows of one project: its slot on the handle
 * (daemon/project/project.h), also listed here for prof_forget and shutdown. */
struct prof_slot {
	struct prof_slot *next;
	struct proj *pj;
	char *path;
	json_t *files;  /* the index: FILE → {bytes, mtime_ns, sha256} */
	json_t *failed; /* FILE → error of the last failed job (memory only) */
	struct pjob *jobs;
};

struct pjob {
	struct pjob *next;
	struct prof_slot *pp;
	char *name, *file, *path; /* dataset name, data/ file name, absolute path */
	long long bytes, mtime_ns;
	char sha[65];
	bool refresh, again;
	bool retried;   /* began again once after its kernel was restarted under it */
	char *load_key;
	uint64_t timer;
	struct pwait *waiters;
};

static struct {
	struct loop *loop;
	struct prof_slot *projects;
} P;

static void job_begin(struct pjob *j);
static void job_end(struct pjob *j, const json_t *entry, const struct proto_err *err);
static void job_fail(struct pjob *j, int code, const char *msg);

/* The profiler's record of a project (created with its index on first use). */
static struct prof_slot *pp_get(struct proj *pj)
{
	struct prof_slot **slot = &proj_slots(pj)->prof, *pp = *slot;
	const char *path = proj_path(pj);
	if (pp)
		return pp;
	pp = calloc(1, sizeof *pp);
	if (!pp || !(pp->path = strdup(path))) {
		free(pp);
		return NULL;
	}
	pp->files = prof_index_load(path);
	pp->failed = json_object();
	pp->pj = pj;
	pp->next = P.projects;
	P.projects = pp;
	*slot = pp;
	return pp;
}

static struct pjob *job_find(struct prof_slot *pp, const char *name)
{
	for (struct pjob *j = pp->jobs; j; j = j->next)
		if (strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

static int job_wait(struct pjob *j, prof_cb cb, void *ud)
{
	if (!cb)
		return 0;
	struct pwait *w = calloc(1, sizeof *w), **pw = &j->waiters;
	if (!w)
		return -1;
	w->cb = cb;
	w->ud = ud;
	while (*pw)
		pw = &(*pw)->next;
	*pw = w;
	return 0;
}

/* Unlink and free a job (its waiters must have been told). */
static void job_free(struct pjob *j)
{
	struct pjob **pj = &j->pp->jobs;
	while (*pj && *pj != j)
		pj = &(*pj)->next;
	if (*pj)
		*pj = j->next;
	if (j->timer)
		loop_timer_cancel(P.loop, j->timer);
	fhash_cancel(j);
	kern_forget(j);
	while (j->waiters) {
		struct pwait *w = j->waiters;
		j->waiters = w->next;
		free(w);
	}
	free(j->name);
	free(j->file);
	free(j->path);
	free(j->load_key);
	free(j);
}

/* Broadcast one data.event to the project's subscribers. */
static void prof_event(const struct pjob *j, const json_t *entry, const char *errmsg)
{
	json_t *ev = entry ? prof_entry_brief(entry) : json_object();
	if (!ev)
		return;
	json_object_del(ev, "state");
	json_object_set_new(ev, "project_path", json_string(j->pp->path));
	json_object_set_new(ev, "kind", json_string(entry ? "profiled" : "profile_failed"));
	json_object_set_new(ev, "dataset", json_string(j->name));
	json_object_set_new(ev, "file", json_string(j->file));
	if (errmsg)
		json_object_set_new(ev, "error", json_string(errmsg));
	const char *rep = json_string_value(json_object_get(ev, "report"));
	if (rep) { /* what a viewer may open: the daemon's page, not the report */
		struct proto_err verr = {0};
		char *view = prof_view_write(j->pp->path, rep, &verr);
		json_object_set_new(ev, view ? "view" : "view_error", json_string(view ? view : verr.msg));
		free(view);
	}
	pub_publish(j->pp->pj, PUB_DATA_EVENT, ev);
	json_decref(ev);
}

/* The job is over: tell the waiters (and the subscribers when it made or
 * failed a profile), or start again when the file changed meanwhile. */
static void job_end(struct pjob *j, const json_t *entry, const struct proto_err *err)
{
	const char *errmsg = err ? err->msg : NULL;
	if (j->again) {
		j->again = false;
		job_begin(j);
		return;
	}
	if (errmsg) {
		log_warn("profiles: %s: %s: %s", j->pp->path, j->file, errmsg);
		json_object_set_new(j->pp->failed, j->file, json_string(errmsg));
	} else {
		json_object_del(j->pp->failed, j->file);
	}
	if (errmsg || json_is_true(json_object_get(entry, "fresh"))) /* made, not read */
		prof_event(j, entry, errmsg);
	struct pwait *w = j->waiters;
	j->waiters = NULL;
	job_free(j); /* before the callbacks: they may ask for the same dataset again */
	while (w) {
		struct pwait *next = w->next;
		if (w->cb)
			w->cb(w->ud, entry, err);
		free(w);
		w = next;
	}
}

/* End the job with an error. */
static void job_fail(struct pjob *j, int code, const char *msg)
{
	struct proto_err err = {0};
	proto_fail(&err, code, "%s", msg);
	job_end(j, NULL, &err);
}

/* "Type: message" of a failed kernel reply (malloc'd). */
static char *reply_error(const struct kern_result *kr)
{
	char *m = NULL;
	if (kr->kind == KR_NO_REPLY)
		return strdup(kr->why);
	const char *msg = kr->error && kr->error_message[0] ? kr->error_message :
		kr->kind == KR_MALFORMED ? kr->why : "profiling failed";
	if (asprintf(&m, "%s: %s", kr->ok ? "Error" : kr->error_type, msg) < 0)
		return NULL;
	return m;
}

/* The cache entry made of a kernel reply (new reference). */
static json_t *entry_of(const struct pjob *j, const json_t *reply)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	json_t *ok = prof_reply_checked(reply, j->name);
	if (!ok)
		return NULL;
	char *key = prof_key_for(j->load_key, json_object_get(ok, "profile"));
	json_t *e = !key ? NULL : json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:O}", "version",
			      PROF_ENTRY_VERSION, "sha256", j->sha, "load_key", key,
			      "dataset", j->name, "file", j->file, "created", when, "bytes",
			      (json_int_t)j->bytes, "profile", json_object_get(ok, "profile"));
	free(key);
	const json_t *s = json_object_get(ok, "summary");
	if (e && json_is_object(s))
		json_object_set(e, "summary", (json_t *)s);
	else if (e)
		json_object_set_new(e, "summary_error",
				    json_incref(json_object_get(ok, "summary_error")) ?:
				    json_string("the kernel sent no summary"));
	json_decref(ok);
	return e;
}

/* The kernel's profile of a Dask-backed dataset moved on: data.event
 * {kind: "profile_progress", dataset, file, done, total} to the project's
 * subscribers (checked and rate-limited by daemon/kernel/kern_progress.c). */
static void kprof_progress_cb(void *ud, long long done, long long total)
{
	const struct pjob *j = ud;
	json_t *ev = j->pp->pj ? json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "project_path",
					   j->pp->path, "kind", "profile_progress", "dataset",
					   j->name, "file", j->file, "done", (json_int_t)done,
					   "total", (json_int_t)total) : NULL;
	if (ev)
		pub_publish(j->pp->pj, PUB_DATA_EVENT, ev);
	json_decref(ev);
}

/* The kernel's reply to the profile request. */
static void kprof_cb(void *ud, const struct kern_result *kr)
{
	struct pjob *j = ud;
	long long bytes, mtime_ns;
	kern_unwatch_progress(j);
	if (kr->kind == KR_NO_REPLY && kr->code == PROTO_ERR_KERNEL && !j->retried &&
	    strncmp(kr->why, KERN_MSG_RESTARTED, strlen(KERN_MSG_RESTARTED)) == 0) {
		/* the kernel was restarted on purpose under the profile (by an
		 * edit, undo or re-run that held the project): the profile did not
		 * fail; it is made once more in the next kernel, so a turn queued
		 * after that work and waiting for it does not fail.  A kernel that
		 * died is a failure (the turn says so). */
		log_info("profiles: %s: %s: the kernel was restarted; profiling again", j->pp->path,
			 j->file);
		j->retried = true;
		job_begin(j);
		return;
	}
	/* the profile itself is not part of struct kern_result: read from the raw reply */
	if (!kr->ok || !json_is_object(json_object_get(kr->raw, "profile"))) {
		char *m = reply_error(kr);
		int code = kr->kind == KR_NO_REPLY ? kr->code :
			kr->interrupted ? PROTO_ERR_CANCELLED : PROTO_ERR_BAD_INPUT;
		job_fail(j, code, m ? m : "profiling failed");
		free(m);
		return;
	}
	if (prof_stat(j->path, &bytes, &mtime_ns) < 0 || bytes != j->bytes ||
	    mtime_ns != j->mtime_ns) {
		j->again = false; /* the file changed under the kernel: hash again */
		job_begin(j);
		return;
	}
	json_t *entry = entry_of(j, kr->raw);
	if (entry) {
		prof_entry_save(j->pp->path, j->sha, j->name, entry);
		json_object_set_new(entry, "fresh", json_true()); /* not saved: for the waiters */
	}
	if (entry)
		job_end(j, entry, NULL);
	else
		job_fail(j, PROTO_ERR_KERNEL, "the kernel's profile was malformed or too big "
			 "(see the daemon log); not kept");
	json_decref(entry);
}

/* The content hash is known: use the cache entry or ask the kernel. */
static void job_lookup(struct pjob *j)
{
	struct proto_err err = {0};
	struct proj *p = j->pp->pj; /* deleted: no conventions, no key */
	free(j->load_key);
	j->load_key = p ? prof_load_key(p) : NULL;
	if (!j->load_key) {
		job_fail(j, PROTO_ERR_NOT_FOUND, err.msg[0] ? err.msg : "the project is gone");
		return;
	}
	json_t *entry = j->refresh ? NULL : prof_entry_load(j->pp->path, j->sha, j->name);
	if (prof_entry_fits(entry, j->name, j->load_key)) {
		job_end(j, entry, NULL);
		json_decref(entry);
		return;
	}
	json_decref(entry);
	log_info("profiles: %s: profiling %s", j->pp->path, j->file);
	if (kern_profile_summary(j->pp->pj, j->name, PROF_TIMEOUT_S, kprof_cb, j, &err) < 0)
		job_end(j, NULL, &err);
	else
		kern_watch_profile_progress(j->pp->pj, j->name, kprof_progress_cb, j);
}

/* The file's content hash arrived. */
static void hash_cb(void *ud, const char *hex, const char *errmsg)
{
	struct pjob *j = ud;
	if (!hex) {
		job_fail(j, PROTO_ERR_IO, errmsg ? errmsg : "cannot hash the file");
		return;
	}
	snprintf(j->sha, sizeof j->sha, "%s", hex);
	json_object_set_new(j->pp->files, j->file, json_pack("{s:I, s:I, s:s}", "bytes",
		(json_int_t)j->bytes, "mtime_ns", (json_int_t)j->mtime_ns, "sha256", j->sha));
	prof_index_save(j->pp->path, j->pp->files);
	job_lookup(j);
}

/* Start (or start again): stat the file, then hash it unless the index
 * already knows this very file. */
static void job_begin(struct pjob *j)
{
	struct proto_err err = {0};
	char msg[600];
	if (prof_stat(j->path, &j->bytes, &j->mtime_ns) < 0) {
		snprintf(msg, sizeof msg, "cannot read data/%s: %s", j->file, strerror(errno));
		job_fail(j, PROTO_ERR_IO, msg);
		return;
	}
	const char *sha = prof_index_sha(j->pp->files, j->file, j->bytes, j->mtime_ns);
	if (sha) {
		snprintf(j->sha, sizeof j->sha, "%s", sha);
		job_lookup(j);
	} else if (fhash_start(P.loop, j->path, hash_cb, j, &err) < 0) {
		job_end(j, NULL, &err);
	}
}

static void begin_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	struct pjob *j = ud;
	(void)l;
	(void)id;
	j->timer = 0;
	job_begin(j);
}

/* A new job for dataset ds {name, file, path}, begun from the loop. */
static struct pjob *job_new(struct prof_slot *pp, const json_t *ds, struct proto_err *err)
{
	struct pjob *j = calloc(1, sizeof *j);
	const char *name = json_string_value(json_object_get(ds, "name"));
	const char *file = json_string_value(json_object_get(ds, "file"));
	const char *path = json_string_value(json_object_get(ds, "path"));
	if (!j || !name || !file || !path || !(j->name = strdup(name)) ||
	    !(j->file = strdup(file)) || !(j->path = strdup(path)) ||
	    !(j->timer = loop_timer_add(P.loop, 0, begin_timer_cb, j))) {
		if (j) {
			free(j->name);
			free(j->file);
			free(j->path);
		}
		free(j);
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory starting a profile");
		return NULL;
	}
	j->pp = pp;
	j->next = pp->jobs;
	pp->jobs = j;
	return j;
}

/* The dataset called name in the project's list (new reference), or NULL. */
static json_t *dataset_named(struct proj *p, const char *name, struct proto_err *err)
{
	json_t *list = proj_datasets(p, err), *ds, *found = NULL;
	size_t i;
	json_array_foreach(list, i, ds)
		if (!found && strcmp(json_string_value(json_object_get(ds, "name")) ?: "", name) == 0)
			found = json_incref(ds);
	json_decref(list);
	if (list && !found)
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no dataset %s in the project", name);
	return found;
}

int prof_get(struct proj *p, const char *name, bool refresh, prof_cb cb, void *ud,
	     struct proto_err *err)
{
	struct prof_slot *pp = pp_get(p);
	if (!pp)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	struct pjob *j = job_find(pp, name);
	if (!j) {
		json_t *ds = dataset_named(p, name, err);
		j = ds ? job_new(pp, ds, err) : NULL;
		json_decref(ds);
		if (!j)
			return -1;
	}
	j->refresh |= refresh;
	if (job_wait(j, cb, ud) < 0)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	return 0;
}

void prof_forget(void *ud)
{
	for (struct prof_slot *pp = P.projects; pp; pp = pp->next)
		for (struct pjob *j = pp->jobs; j; j = j->next)
			for (struct pwait *w = j->waiters; w; w = w->next)
				if (w->ud == ud)
					w->cb = NULL;
}

/* The cache entry for the file's present content (new reference), or NULL
 * (also when the index does not know it at its size and mtime); *gone when
 * the file cannot be stat'ed. */
static json_t *file_entry(struct prof_slot *pp, const char *name, const char *file,
			  const char *path, bool *gone)
{
	long long bytes, mtime_ns;
	*gone = prof_stat(path, &bytes, &mtime_ns) < 0;
	const char *sha = *gone ? NULL : prof_index_sha(pp->files, file, bytes, mtime_ns);
	return sha ? prof_entry_load(pp->path, sha, name) : NULL;
}

/* The status of one dataset: a job, a failure, a cache entry, or none. */
json_t *prof_status(struct proj *p, const json_t *ds)
{
	struct prof_slot *pp = pp_get(p);
	const char *name = json_string_value(json_object_get(ds, "name")) ?: "";
	const char *file = json_string_value(json_object_get(ds, "file")) ?: "";
	const char *path = json_string_value(json_object_get(ds, "path")) ?: "";
	bool gone;
	if (!pp)
		return json_pack("{s:s}", "state", "none");
	if (job_find(pp, name))
		return json_pack("{s:s}", "state", "running");
	if (json_object_get(pp->failed, file))
		return json_pack("{s:s, s:O}", "state", "failed", "error",
				 json_object_get(pp->failed, file));
	json_t *entry = file_entry(pp, name, file, path, &gone), *out;
	char *key = entry ? prof_load_key(p) : NULL;
	if (entry && strcmp(json_string_value(json_object_get(entry, "dataset")) ?: "", name) == 0) {
		out = prof_entry_brief(entry);
		if (out && key && !prof_entry_fits(entry, name, key))
			json_object_set_new(out, "outdated", json_true()); /* conventions changed */
	} else {
		out = json_pack("{s:s}", "state", "none");
	}
	free(key);
	json_decref(entry);
	return out;
}

/* Is there a profile of this very file made under the loading conventions
 * `key` (or nothing to profile)? */
static bool profile_current(struct prof_slot *pp, const char *name, const char *file,
			    const char *path, const char *key)
{
	bool gone;
	json_t *entry = file_entry(pp, name, file, path, &gone);
	bool ok = gone || (entry && key && prof_entry_fits(entry, name, key));
	json_decref(entry);
	return ok;
}

/* Datasets or conventions changed: profile in the background every file
 * without a current profile (new or changed content, or loading
 * conventions changed since); forget files that are gone. */
static void change_hook(struct proj *p)
{
	struct proto_err err = {0};
	struct prof_slot *pp = proj_deleted(p) ? NULL : pp_get(p);
	json_t *list = pp ? proj_datasets(p, &err) : NULL, *ds, *seen = json_object();
	char *key = pp ? prof_load_key(p) : NULL;
	size_t i;
	long long bytes, mtime_ns;
	json_array_foreach(list, i, ds) {
		const char *name = json_string_value(json_object_get(ds, "name"));
		const char *file = json_string_value(json_object_get(ds, "file"));
		const char *path = json_string_value(json_object_get(ds, "path"));
		if (!name || !file || !path)
			continue;
		json_object_set_new(seen, file, json_true());
		struct pjob *j = job_find(pp, name);
		if (j && !j->timer) /* begun: make it again if what it read changed */
			j->again |= prof_stat(path, &bytes, &mtime_ns) < 0 || bytes != j->bytes ||
				    mtime_ns != j->mtime_ns ||
				    (j->load_key && key && strcmp(j->load_key, key) != 0);
		else if (!j && !profile_current(pp, name, file, path, key))
			job_new(pp, ds, &err); /* a failed one too: a convention may mend it */
	}
	const char *k;
	void *tmp;
	json_t *v;
	bool gone = false;
	json_object_foreach_safe(list ? pp->files : NULL, tmp, k, v)
		if (!json_object_get(seen, k) && json_object_del(pp->files, k) == 0)
			gone = true;
	if (gone)
		prof_index_save(pp->path, pp->files);
	json_decref(seen);
	json_decref(list);
	free(key);
}

/* The project is being deleted: its jobs end with an error (jobs that the
 * callbacks start meanwhile fail on their own). */
static void close_hook(struct proj *p, const struct proto_err *why)
{
	struct prof_slot *pp = proj_slots(p)->prof;
	struct pjob *list = pp ? pp->jobs : NULL;
	if (pp)
		pp->jobs = NULL;
	while (list) {
		struct pjob *j = list;
		list = j->next;
		j->again = false;
		job_fail(j, why->code, why->msg);
	}
}

int prof_init(struct loop *l)
{
	P.loop = l;
	static const struct proj_part_ops prof_part = {.close = close_hook, .changed = change_hook};
	proj_part_set(PROJ_PART_PROF, &prof_part);
	ctrust_init();   /* the dataset cache's ledger, given to kernels at bind */
	return 0;
}

void prof_shutdown(void)
{
	while (P.projects) {
		struct prof_slot *pp = P.projects;
		P.projects = pp->next;
		while (pp->jobs)
			job_free(pp->jobs);
		json_decref(pp->files);
		json_decref(pp->failed);
		proj_slots(pp->pj)->prof = NULL;
		free(pp->path);
		free(pp);
	}
	fhash_shutdown();
}
