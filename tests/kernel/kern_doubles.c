/*
 * tests/kernel/kern_doubles.c — minimal stand-ins for daemon/core/config.h and
 * daemon/project/project.h so the kernel manager can be tested on its own, with real
 * kernels and a real loop (test-only; daad links the real modules).
 * A "project" here is any absolute folder (a handle per proj_get, or a
 * second one for the same folder from kern_test_proj_again: a project
 * deleted and created again there); its datasets are data/sales.csv when
 * present.  The slots are the real ones: the manager hangs the live
 * kernel off them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/config.h"
#include "daemon/project/project.h"
#include "tests/kernel/kern_doubles.h"

struct proj {
	char path[PATH_MAX];
	char outputs[PATH_MAX + 16];
	struct proj_slots slots;
	bool deleted;
};

static struct daa_config cfg;
static struct proj projs[8];
static char sbx_lib[PATH_MAX];

const struct daa_config *config_get(void)
{
	const char *b = getenv("DAA_BUILD");
	snprintf(sbx_lib, sizeof sbx_lib, "%s/lib/libdaasbx.so", b ? b : "build");
	cfg.sandbox_lib = sbx_lib;
	if (!cfg.kernel) /* a short SIGINT → SIGKILL grace keeps the test quick */
		cfg.kernel = json_pack("{s:i}", "kill_grace_ms", 1000);
	return &cfg;
}

const char *config_str(const json_t *s, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(s, key));
	return v ? v : dflt;
}

long long config_int(const json_t *s, const char *key, long long dflt)
{
	json_t *v = json_object_get(s, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool config_bool(const json_t *s, const char *key, bool dflt)
{
	json_t *v = json_object_get(s, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

void config_compute_resolve(void)
{
}

json_t *config_compute_json(bool for_kernel)
{
	(void)for_kernel;
	return NULL;   /* bind carries no `compute`: the kernel's own defaults */
}

/* A handle for folder p: the first one made for it (again: a new one). */
static struct proj *get(const char *p, bool again, struct proto_err *err)
{
	if (!p || p[0] != '/') {
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no such project");
		return NULL;
	}
	for (size_t i = 0; i < 8; i++) {
		if ((!again && strcmp(projs[i].path, p) == 0) || !projs[i].path[0]) {
			snprintf(projs[i].path, sizeof projs[i].path, "%s", p);
			snprintf(projs[i].outputs, sizeof projs[i].outputs, "%s/outputs", p);
			return &projs[i];
		}
	}
	proto_fail(err, PROTO_ERR_BUSY, "too many test projects");
	return NULL;
}

struct proj *proj_get(const char *p, struct proto_err *err)
{
	return get(p, false, err);
}

/* kern_doubles.h */
struct proj *kern_test_proj_again(const char *p)
{
	struct proto_err err;
	return get(p, true, &err);
}
void kern_test_proj_delete(struct proj *p) { p->deleted = true; }

const char *proj_outputs_dir(const struct proj *p) { return p->outputs; }
const char *proj_path(const struct proj *p) { return p->path; }
const char *proj_name(const struct proj *p) { return p->path; }
bool proj_deleted(const struct proj *p) { return p->deleted; }
struct proj_slots *proj_slots(struct proj *p) { return &p->slots; }
json_t *proj_conventions(struct proj *p) { (void)p; return NULL; }
void proj_part_set(enum proj_part part, const struct proj_part_ops *ops) { (void)part, (void)ops; }

json_t *proj_datasets(struct proj *p, struct proto_err *err)
{
	(void)err;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/data/sales.csv", p->path);
	FILE *f = fopen(path, "r");
	if (!f)
		return json_array();
	fclose(f);
	return json_pack("[{s:s,s:s,s:s}]", "name", "sales", "path", path, "format", "csv");
}
