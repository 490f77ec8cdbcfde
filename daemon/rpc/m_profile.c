/*
 * daemon/rpc/m_profile.c — `profile.run` (protocol/PROTOCOL.md): a dataset's
 * daa_tools summary and HTML report, through the profile cache
 * (daemon/profiler/profiler.h): answered at once when the file, its name and the
 * loading conventions are unchanged and the report is still there, else
 * made in the project's kernel (or waited for when the background profile
 * started by data.add is under way).  The reply names `view`, the page the
 * daemon wrote around the report for `daa profile --open` (the report
 * itself is kernel-written: daemon/profiler/profiler_view.c).  The caller is
 * subscribed to the project's data.event, so it sees the progress of a
 * Dask-backed dataset's profile while it waits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon/core/mpjson.h"
#include "daemon/core/rpc.h"
#include "daemon/profiler/profiler.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"

/* A profile.run waiting for its profile. */
struct prun {
	struct rpc_reply_to to;
	struct proj *proj;
	char *name;
	bool refreshed;
};

static void prun_cb(void *ud, const json_t *entry, const struct proto_err *err);

/* The names of the datasets, "a, b, c" (malloc'd). */
static char *names_of(const json_t *list)
{
	char *out = NULL;
	size_t len = 0, i;
	const json_t *ds;
	FILE *f = open_memstream(&out, &len);
	json_array_foreach(list, i, ds)
		if (f)
			fprintf(f, "%s%s", i ? ", " : "", json_string_value(json_object_get(ds, "name")));
	if (f)
		fclose(f);
	return out;
}

/* The dataset `want` names (its name exactly, else its name or file name
 * in any letter case), or the only one; malloc'd name or NULL with err. */
static char *pick_dataset(struct proj *p, const char *want, struct proto_err *err)
{
	json_t *list = proj_datasets(p, err), *ds;
	const char *hit = NULL;
	size_t i, nfold = 0;
	if (!list)
		return NULL;
	json_array_foreach(list, i, ds) {
		const char *name = json_string_value(json_object_get(ds, "name")) ?: "";
		const char *file = json_string_value(json_object_get(ds, "file")) ?: "";
		if (want && strcmp(name, want) == 0) {
			hit = name, nfold = 1;
			break;
		}
		if (want && (strcasecmp(name, want) == 0 || strcasecmp(file, want) == 0))
			hit = name, nfold++;
	}
	if (!want && json_array_size(list) == 1)
		hit = json_string_value(json_object_get(json_array_get(list, 0), "name")), nfold = 1;
	char *names = hit && nfold == 1 ? NULL : names_of(list), *out = NULL;
	if (hit && nfold == 1)
		out = strdup(hit);
	else if (!json_array_size(list))
		proto_fail(err, PROTO_ERR_BAD_INPUT, "the project has no dataset: add one with `daa add FILE`");
	else if (want)
		proto_fail(err, PROTO_ERR_BAD_INPUT, "no dataset %s; datasets: %s", want, names ?: "?");
	else
		proto_fail(err, PROTO_ERR_BAD_INPUT, "the project has several datasets (%s): name one",
			   names ?: "?");
	free(names);
	json_decref(list);
	return out;
}

/* Is the entry's HTML report still in the project? */
static bool report_exists(struct proj *p, const json_t *summary)
{
	const char *rep = json_string_value(json_object_get(summary, "report"));
	char path[4096];
	return rep && rep[0] != '/' && !strstr(rep, "..") &&
	       snprintf(path, sizeof path, "%s/%s", proj_path(p), rep) < (int)sizeof path &&
	       access(path, R_OK) == 0;
}

/* Reply with the summary (cached or just made). */
static void prun_reply(struct prun *r, const json_t *entry)
{
	json_t *res = json_deep_copy(json_object_get(entry, "summary"));
	json_object_set_new(res, "dataset", json_string(r->name));
	json_object_set_new(res, "project_path", json_string(proj_path(r->proj)));
	json_object_set(res, "created", json_object_get(entry, "created"));
	json_object_set_new(res, "cached", json_boolean(!json_is_true(json_object_get(entry, "fresh"))));
	/* what `--open` may show: the daemon's sandboxed page around the report */
	struct proto_err verr = {0};
	char *view = prof_view_write(proj_path(r->proj),
				     json_string_value(json_object_get(res, "report")), &verr);
	if (view)
		json_object_set_new(res, "view", json_string(view));
	else
		json_object_set_new(res, "view_error", json_string(verr.msg));
	free(view);
	rpc_reply_value(r->to, res);
	json_decref(res);
}

static void prun_free(struct prun *r)
{
	free(r->name);
	free(r);
}

static void prun_cb(void *ud, const json_t *entry, const struct proto_err *err)
{
	struct prun *r = ud;
	struct proto_err again = {0};
	const json_t *summary = json_object_get(entry, "summary");
	if (!entry) {
		rpc_reply_err(r->to, err);
	} else if (!json_is_object(summary)) {
		rpc_reply_error(r->to, PROTO_ERR_BAD_INPUT, "%s", json_string_value(json_object_get(
			entry, "summary_error")) ?: "the kernel made no summary");
	} else if (!report_exists(r->proj, summary) && !r->refreshed) {
		r->refreshed = true; /* the report was deleted: make it again */
		if (prof_get(r->proj, r->name, true, prun_cb, r, &again) == 0)
			return;
		rpc_reply_err(r->to, &again);
	} else {
		prun_reply(r, entry);
	}
	prun_free(r);
}

static const struct proto_field profile_params[] = {
	{"project", PROTO_T_STR, false},
	{"dataset", PROTO_T_STR, false},
	{"refresh", PROTO_T_BOOL, false},
	{NULL, 0, false}};

/* profile.run {project?, dataset?, refresh?} → the summary. */
static json_t *m_profile(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct proj *p = req->proj;
	struct prun *r = calloc(1, sizeof *r);
	if (!r)
		return rpc_fail(req, PROTO_ERR_INTERNAL, "out of memory");
	r->to = req->from;
	r->proj = p;
	r->refreshed = req->args[2].present && req->args[2].b;
	if (!(r->name = pick_dataset(p, req->args[1].present ? req->args[1].str : NULL, &err)) ||
	    prof_get(p, r->name, r->refreshed, prun_cb, r, &err) < 0) {
		prun_free(r);
		return rpc_fail_err(req, &err);
	}
	/* the caller follows the project's data.event: the progress of a Dask
	 * dataset's profile (profile_progress) while it waits */
	pub_subscribe(req->from.conn_id, p, 1u << PUB_DATA_EVENT);
	return RPC_LATER;
}
RPC_METHOD_PROJECT(profile_run, "profile.run", profile_params, m_profile,
		   "profile a dataset: summary and a self-contained HTML report (cached)");
