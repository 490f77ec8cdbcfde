/*
 * tests/kernel/kern_doubles.c — minimal stand-ins for daemon/core/config.h and
 * daemon/project/project.h so the kernel manager can be tested on its own, with real
 * kernels and a real loop (test-only; daad links the real modules).
 * A "project" here is any absolute folder; its datasets are left to the
 * runtime's own scan of data/.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/config.h"
#include "daemon/project/project.h"

struct proj {
	char path[PATH_MAX];
	char outputs[PATH_MAX + 16];
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

struct proj *proj_get(const char *p, struct proto_err *err)
{
	if (!p || p[0] != '/') {
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no such project");
		return NULL;
	}
	for (size_t i = 0; i < 8; i++) {
		if (strcmp(projs[i].path, p) == 0 || !projs[i].path[0]) {
			snprintf(projs[i].path, sizeof projs[i].path, "%s", p);
			snprintf(projs[i].outputs, sizeof projs[i].outputs, "%s/outputs", p);
			return &projs[i];
		}
	}
	proto_fail(err, PROTO_ERR_BUSY, "too many test projects");
	return NULL;
}

const char *proj_outputs_dir(const struct proj *p) { return p->outputs; }
const char *proj_path(const struct proj *p) { return p->path; }
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
