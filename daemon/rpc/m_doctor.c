/*
 * daemon/rpc/m_doctor.c — the `doctor` method: checks the install end to end.
 * It binds a kernel to a throw-away project (one tiny CSV) and runs a step
 * that loads it and writes to outputs/, so the checks report what really
 * happened: python and its libraries (from the kernel's ready event), each
 * sandbox layer as the bind applied it, what this machine offers
 * (sbx_probe), and the LLM backend.  With compute.dask_scheduler set, a
 * second step in the same sandboxed kernel connects a dask.distributed
 * Client to it (proving the sandbox lets exactly that through) and reports
 * the workers.  The trial kernel is stopped after.
 * Result: {checks: [{name, ok, detail}]}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/agent/agent.h"
#include "daemon/core/config.h"
#include "daemon/core/fsutil.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/kernel/kernel.h"
#include "daemon/core/rpc.h"

#define DOCTOR_CODE                                                        \
	"import sys\n"                                                     \
	"open('outputs/doctor.txt', 'w').write('ok')\n"                    \
	"print(sys.version.split()[0])\n"                                  \
	"len(df)\n"

/* The Dask check's step: version, and with a scheduler its workers. */
#define DOCTOR_DASK_CODE                                                               \
	"import json\n"                                                                 \
	"import dask\n"                                                                 \
	"out = {'dask': dask.__version__}\n"                                            \
	"if ADDR:\n"                                                                    \
	"    from distributed import Client\n"                                          \
	"    c = Client(ADDR, timeout='10s', set_as_default=False)\n"                   \
	"    w = c.scheduler_info().get('workers', {})\n"                               \
	"    out['workers'] = len(w)\n"                                                 \
	"    out['threads'] = sum(int(x.get('nthreads', 0)) for x in w.values())\n"     \
	"    c.close()\n"                                                               \
	"print('DOCTOR-DASK ' + json.dumps(out))\n"

struct doctor_ctx {
	struct rpc_reply_to to;
	char project[PATH_MAX];
	bool trial_ok;            /* the trial step ran */
	char trial[800];          /* the "kernel" check's detail, kept while the Dask step runs */
};

static void add(json_t *checks, const char *name, bool ok, const char *detail)
{
	json_array_append_new(checks, json_pack("{s:s,s:b,s:s}", "name", name, "ok", ok,
						"detail", detail ? detail : ""));
}

/* python and libraries, from the ready event (sklearn: found and its
 * package version, not imported: sandbox/python/daakernel/warm.py). */
static void check_python(json_t *checks, const json_t *ready)
{
	char d[PATH_MAX + 64];
	const char *ver = json_string_value(json_object_get(ready, "python"));
	struct kern_facts kf;
	kern_facts(&kf);
	snprintf(d, sizeof d, "%s %s", kf.python[0] ? kf.python : "(none)",
		 ver ? ver : "(did not start)");
	add(checks, "python", ver != NULL, d);
	static const char *const libs[] = {"pandas", "numpy", "matplotlib", "sklearn", NULL};
	json_t *lv = json_object_get(ready, "libs");
	for (size_t i = 0; libs[i]; i++) {
		const char *v = json_string_value(json_object_get(lv, libs[i]));
		add(checks, libs[i], v != NULL, v ? v : "not found by the kernel's python");
	}
}

/* Sandbox layers: what the bind applied, then what the machine offers. */
static void check_layers(json_t *checks, const json_t *layers)
{
	const char *name;
	json_t *v;
	char n[128];
	json_object_foreach((json_t *)layers, name, v) {
		snprintf(n, sizeof n, "sandbox: %s", name);
		add(checks, n, json_is_string(v) && !kern_layer_missing(json_string_value(v)), json_string_value(v));
	}
	if (!json_object_size(layers))
		add(checks, "sandbox layers", false, "no kernel could be bound, so no layer was "
		    "applied (see the kernel check)");
	struct kern_facts kf;
	kern_facts(&kf);
	char *probe = strdup(kf.probe);
	for (char *line = probe ? strtok(probe, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *state = colon + 1 + strspn(colon + 1, " ");
		snprintf(n, sizeof n, "machine: %s", line);
		add(checks, n, !kern_layer_missing(state), state);
	}
	free(probe);
	add(checks, "sandbox library", kf.sbx_lib[0] != '\0',
	    kf.sbx_lib[0] ? kf.sbx_lib : "libdaasbx.so not found: build it with make");
}

/* The LLM backend as configured (not contacted: a doctor run stays offline). */
static void check_llm(json_t *checks)
{
	char d[512];
	const char *name = agent_backend_name();
	const char *model = agent_backend_model();
	const struct daa_config *c = config_get();
	const char *url = c ? config_str(c->llm, "base_url", NULL) : NULL;
	if (!name) {
		add(checks, "llm", false, "this daad was built without the agent");
		return;
	}
	snprintf(d, sizeof d, "backend %s%s%s%s%s (not contacted by doctor)", name,
		 model && model[0] ? ", model " : "", model ? model : "", url ? ", " : "",
		 url ? url : "");
	add(checks, "llm", true, d);
}

/* "dask" and, when configured, "dask scheduler" from the Dask step's reply. */
static void check_dask(json_t *checks, const struct kern_result *kr)
{
	const struct daa_compute *cc = &config_get()->compute;
	bool ran = kr->ok;
	const char *mark = strstr(kr->stdout_text, "DOCTOR-DASK ");
	json_t *info = mark ? json_loads(mark + 12, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
	const char *ver = json_string_value(json_object_get(info, "dask"));
	const char *msg = ran ? "no answer" : kr->error_message;
	char d[700];
	if (ver || !cc->port) {
		snprintf(d, sizeof d, ver ? "dask %s in the kernel; datasets larger than the memory budget are "
			 "Dask DataFrames" : "not importable in the kernel (python3-dask): datasets larger than "
			 "memory cannot be analysed", ver ? ver : "");
		add(checks, "dask", ver != NULL, d);
	}
	if (!cc->port)
		return;
	if (!cc->resolved[0])
		snprintf(d, sizeof d, "%s: the host name %s does not resolve", cc->scheduler, cc->host);
	else if (info && json_integer_value(json_object_get(info, "workers")) > 0)
		snprintf(d, sizeof d, "%s reachable from the sandboxed kernel: %lld worker(s), %lld thread(s)",
			 cc->scheduler, (long long)json_integer_value(json_object_get(info, "workers")),
			 (long long)json_integer_value(json_object_get(info, "threads")));
	else if (info)
		snprintf(d, sizeof d, "%s reachable from the sandboxed kernel but it has no workers",
			 cc->scheduler);
	else
		snprintf(d, sizeof d, "%s not reachable from the sandboxed kernel: %.300s", cc->scheduler,
			 msg);
	add(checks, "dask scheduler", info && json_integer_value(json_object_get(info, "workers")) > 0, d);
	json_decref(info);
}

/* The "kernel" check from the trial step's result, kept in c. */
static void trial_check(struct doctor_ctx *c, const struct kern_result *kr)
{
	c->trial_ok = kr->ok;
	if (kr->kind == KR_FAILED || kr->kind == KR_MALFORMED)
		snprintf(c->trial, sizeof c->trial, "the trial step failed: %s", kr->error_message);
	else if (kr->kind == KR_NO_REPLY)
		snprintf(c->trial, sizeof c->trial, "%s", kr->why);
	else
		snprintf(c->trial, sizeof c->trial, "a sandboxed kernel loaded a dataset and wrote "
			 "to outputs/ (step took %.1f ms)",
			 kr->duration_ms < 0 ? 0.0 : (double)kr->duration_ms);
}

/* All checks once the trial step (trial_check) and, when it ran, the Dask
 * step (dask; NULL when it did not run) are over, then the reply. */
static void doctor_finish(struct doctor_ctx *c, const struct kern_result *dask)
{
	json_t *checks = json_array();
	json_t *info = kern_trial_info(c->project);
	struct kern_facts kf;
	kern_facts(&kf);
	const json_t *ready = info ? json_object_get(info, "ready") : kf.last_ready;
	check_python(checks, ready);
	add(checks, "kernel", c->trial_ok, c->trial);
	check_layers(checks, info ? json_object_get(info, "layers") : kf.last_layers);
	if (dask)
		check_dask(checks, dask);
	check_llm(checks);
	json_decref(info);
	kern_trial_stop(c->project);
	struct proto_err e = {0};
	fsu_rm_rf(c->project, &e);
	json_t *res = json_pack("{s:o}", "checks", checks);
	if (res)
		rpc_reply_value(c->to, res);
	else
		rpc_reply_error(c->to, PROTO_ERR_INTERNAL, "out of memory");
	json_decref(res);
	free(c);
}

/* The Dask step's result: finish. */
static void doctor_dask_cb(void *ud, const struct kern_result *kr)
{
	doctor_finish(ud, kr);
}

/* The trial step's result: then the Dask step in the same kernel. */
static void doctor_cb(void *ud, const struct kern_result *kr)
{
	struct doctor_ctx *c = ud;
	struct proto_err e = {0};
	const struct daa_compute *cc = &config_get()->compute;
	json_t *addr = json_string(cc->resolved);
	char *lit = addr ? json_dumps(addr, JSON_ENCODE_ANY) : NULL;
	char code[sizeof DOCTOR_DASK_CODE + 400];
	json_decref(addr);
	trial_check(c, kr);
	if (!kr->ok || !lit) {
		free(lit);
		doctor_finish(c, NULL);
		return;
	}
	snprintf(code, sizeof code, "ADDR = %s\n%s", cc->port && cc->resolved[0] ? lit : "None",
		 DOCTOR_DASK_CODE);
	free(lit);
	if (kern_trial_exec(c->project, code, "doctor_dask", 60, doctor_dask_cb, c, &e) < 0) {
		struct kern_result none; /* the Dask step could not be sent */
		kern_result_parse(NULL, &e, &none);
		doctor_finish(c, &none);
	}
}

/* The throw-away project: data/check.csv and outputs/. */
static int make_trial_project(struct doctor_ctx *c, struct proto_err *err)
{
	char p[PATH_MAX + 32];
	struct kern_facts kf;
	kern_facts(&kf);
	const char *base = kf.base_tmp[0] ? kf.base_tmp : "/tmp";
	if (snprintf(c->project, sizeof c->project, "%s/doctor-XXXXXX", base) >=
		    (int)sizeof c->project || !mkdtemp(c->project))
		return proto_fail(err, PROTO_ERR_IO, "cannot create a trial project in %s: %s",
				  base, strerror(errno));
	snprintf(p, sizeof p, "%s/data", c->project);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/outputs", c->project);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/data/check.csv", c->project);
	return fsu_write_atomic(p, "a,b\n1,2\n3,4\n", 12, err);
}

/* doctor → {checks}, once the trial step ran (or failed). */
static json_t *m_doctor(struct rpc_req *req)
{
	struct proto_err err = {0};
	struct doctor_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return rpc_fail(req, PROTO_ERR_INTERNAL, "out of memory");
	c->to = req->from;
	if (make_trial_project(c, &err) < 0 ||
	    kern_trial_exec(c->project, DOCTOR_CODE, "doctor", 60, doctor_cb, c, &err) < 0) {
		struct kern_result none; /* the trial step could not be sent */
		kern_result_parse(NULL, &err, &none);
		trial_check(c, &none);
		doctor_finish(c, NULL);
	}
	return RPC_LATER;
}

static const struct proto_field doctor_params[] = {{NULL, 0, false}};
RPC_METHOD(doctor, "doctor", doctor_params, m_doctor,
	   "check python, its libraries, each sandbox layer and the LLM backend");
