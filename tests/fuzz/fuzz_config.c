/*
 * tests/fuzz/fuzz_config.c — libFuzzer target for the configuration loader:
 * the input is written as config.json to a private temporary folder and
 * loaded the way daad starts (config_load with --config), then the "llm"
 * section goes through llm_config_from_json as the agent does, and every
 * key of the "sandbox" / "kernel" sections is looked up with the typed
 * helpers kern.c uses.  A load that fails must say why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/config.h"
#include "daemon/llm/llm.h"
#include "daemon/core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[512], path[600];

/* Once: a private folder, quiet logs, no environment overrides. */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/daa-fuzz-config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/config.json", dir);
	log_set_level(LOG_LVL_ERROR);
	const char *vars[] = {"DAA_SOCKET", "DAA_PYTHON", "DAA_PROJECT", "DAA_LLM_BASE_URL",
			      "DAA_LLM_MODEL", "OPENAI_API_KEY", "XDG_DATA_HOME", NULL};
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	setenv("HOME", dir, 1);
}

/* The typed lookups over every key of a section. */
static void section_lookups(const json_t *sec)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)sec, k, v) {
		(void)strlen(config_str(sec, k, ""));
		(void)config_int(sec, k, 0);
		(void)config_bool(sec, k, false);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0])
		setup();
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	struct config_cli cli = {.config_file = path};
	struct proto_err err = {0};
	if (config_load(&cli, &err) < 0) {
		if (!err.msg[0])
			abort(); /* daad prints it and exits: it must say what to fix */
		config_free();
		return 0;
	}
	const struct daa_config *c = config_get();
	if (!c->data_dir || c->data_dir[0] != '/' || !c->python || !c->default_project ||
	    !c->socket_path[0] || !c->share_dir)
		abort();
	struct llm_config lc;
	char msg[512];
	msg[0] = '\0';
	if (llm_config_from_json(&lc, c->llm, msg, sizeof msg) < 0) {
		if (!msg[0])
			abort();
	} else {
		if (!lc.backend)
			abort();
		llm_config_clear(&lc);
	}
	section_lookups(c->sandbox);
	section_lookups(c->kernel);
	config_free();
	return 0;
}
