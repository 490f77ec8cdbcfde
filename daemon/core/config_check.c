/*
 * daemon/core/config_check.c — every key of config.json that is read with the
 * typed lookups (config_str/int/bool fall back to the default on a missing
 * key) or copied at load: checked once against one table, so a key of the
 * wrong type or out of range stops the daemon with the key named instead of
 * being ignored, and an unknown key is warned about.  The table covers the
 * top-level keys (section ""), "llm" (also checked by llm_config_from_json,
 * daemon/llm/llm.c, for callers that did not load a config), "kernel",
 * "sandbox" and "agent"; "compute" is checked by config.c (its scheduler
 * address needs parsing).
 */
#include <stdio.h>
#include <string.h>
#include "daemon/core/config.h"
#include "daemon/core/log.h"

enum ck_type {
	CK_INT,     /* a whole number in [lo, hi] */
	CK_NUM,     /* any number in [lo, hi] */
	CK_BOOL,
	CK_STR,     /* a non-empty string (one of words, when set) */
	CK_TEXT,    /* a string, or null (= absent) */
	CK_OBJ,     /* a section {...}: its keys are rows of their own */
	CK_REFUSED, /* never allowed: `why` says where it goes instead */
};

struct ck_key {
	const char *section, *key; /* section "": a top-level key */
	enum ck_type type;
	long long lo, hi;          /* CK_INT, CK_NUM: the allowed range */
	const char *const *words;  /* CK_STR: the allowed values (NULL: any non-empty);
				    * CK_REFUSED: words[0] is the message */
};

static const char *const privacy_words[] = { "samples", "schema", NULL };
static const char *const level_words[] = { "error", "warn", "info", "debug", NULL };
static const char *const api_key_refused[] = {
	"config.json must not hold the API key (llm.api_key): put it in a file only you "
	"can read and set llm.api_key_file, or name an environment variable with "
	"llm.api_key_env (default OPENAI_API_KEY)", NULL };

#define DAY 86400LL
static const struct ck_key ck_keys[] = {
	{ "", "socket", CK_STR, 0, 0, NULL },
	{ "", "data_dir", CK_STR, 0, 0, NULL },
	{ "", "default_project", CK_STR, 0, 0, NULL },
	{ "", "python", CK_STR, 0, 0, NULL },
	{ "", "log_level", CK_STR, 0, 0, level_words },
	{ "", "max_message", CK_INT, 1024, 1LL << 31, NULL },
	{ "", "max_depth", CK_INT, 4, 1024, NULL },
	{ "", "max_clients", CK_INT, 1, 10000, NULL },
	{ "", "max_queued", CK_INT, 4096, 1LL << 32, NULL },
	{ "", "share_dir", CK_STR, 0, 0, NULL },
	{ "", "llm", CK_OBJ, 0, 0, NULL },
	{ "", "sandbox", CK_OBJ, 0, 0, NULL },
	{ "", "kernel", CK_OBJ, 0, 0, NULL },
	{ "", "agent", CK_OBJ, 0, 0, NULL },
	{ "", "compute", CK_OBJ, 0, 0, NULL },
	{ "llm", "backend", CK_TEXT, 0, 0, NULL },
	{ "llm", "base_url", CK_TEXT, 0, 0, NULL },
	{ "llm", "model", CK_TEXT, 0, 0, NULL },
	{ "llm", "analyst_cmd", CK_TEXT, 0, 0, NULL },
	{ "llm", "analyst_serve", CK_BOOL, 0, 0, NULL },
	{ "llm", "api_key_env", CK_STR, 0, 0, NULL },
	{ "llm", "api_key_file", CK_STR, 0, 0, NULL },
	{ "llm", "api_key", CK_REFUSED, 0, 0, api_key_refused },
	{ "llm", "connect_timeout_ms", CK_INT, 1, 600000, NULL },
	{ "llm", "idle_timeout_ms", CK_INT, 1, 3600000, NULL },
	{ "llm", "total_timeout_ms", CK_INT, 1, 24 * 3600000LL, NULL },
	{ "llm", "max_retries", CK_INT, 0, 20, NULL },
	{ "llm", "max_tokens", CK_INT, 0, 10000000, NULL },
	{ "llm", "max_reply_bytes", CK_INT, 4096, 1LL << 30, NULL },
	{ "llm", "temperature", CK_NUM, 0, 2, NULL },
	{ "llm", "stream", CK_BOOL, 0, 0, NULL },
	{ "kernel", "mem_mb", CK_INT, 0, 1LL << 20, NULL },
	{ "kernel", "cpu_s", CK_INT, 0, 365 * DAY, NULL },
	{ "kernel", "fsize_mb", CK_INT, 0, 1LL << 24, NULL },
	{ "kernel", "nofile", CK_INT, 0, 1 << 20, NULL },
	{ "kernel", "nproc", CK_INT, 0, 1 << 20, NULL },
	{ "kernel", "threads", CK_INT, 0, 1024, NULL },
	{ "kernel", "step_timeout_s", CK_INT, 1, 7 * DAY, NULL },
	{ "kernel", "idle_timeout_s", CK_INT, 0, 365 * DAY, NULL },
	{ "kernel", "kill_grace_ms", CK_INT, 0, 600000, NULL },
	{ "kernel", "warm_spare", CK_BOOL, 0, 0, NULL },
	{ "kernel", "report_images", CK_BOOL, 0, 0, NULL },
	{ "kernel", "progress_interval_ms", CK_INT, 0, 60000, NULL },
	{ "sandbox", "allow_missing_layers", CK_BOOL, 0, 0, NULL },
	{ "sandbox", "mount_namespace", CK_BOOL, 0, 0, NULL },
	{ "agent", "prompts_dir", CK_STR, 0, 0, NULL },
	{ "agent", "privacy", CK_STR, 0, 0, privacy_words },
	{ "agent", "context_tokens", CK_INT, 500, 10000000, NULL },
	{ "agent", "max_model_calls", CK_INT, 1, 1000, NULL },
	{ "agent", "max_failures", CK_INT, 0, 100, NULL },
	{ "agent", "digest_full", CK_INT, 0, 1000, NULL },
};
#define CK_N (sizeof ck_keys / sizeof ck_keys[0])
/* The sections whose keys are checked here (compute: by config.c). */
static const char *const ck_sections[] = { "llm", "kernel", "sandbox", "agent" };

/* "one of a, b, c" for an error message. */
static void ck_words(char *out, size_t len, const char *const *words)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; words[i] && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", i ? ", " : "",
					 words[i]);
}

/* One value against its table row; -1 with err naming it (name: "key" or
 * "section.key"). */
static int ck_value(const char *file, const struct ck_key *k, const char *name, const json_t *v,
		    struct proto_err *err)
{
	char allowed[120];
	switch (k->type) {
	case CK_INT:
		if (json_is_integer(v) && json_integer_value(v) >= k->lo &&
		    json_integer_value(v) <= k->hi)
			return 0;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be a whole number "
				  "from %lld to %lld", file, name, k->lo, k->hi);
	case CK_NUM:
		if (json_is_number(v) && json_number_value(v) >= (double)k->lo &&
		    json_number_value(v) <= (double)k->hi)
			return 0;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be a number from "
				  "%lld to %lld", file, name, k->lo, k->hi);
	case CK_BOOL:
		if (json_is_boolean(v))
			return 0;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be true or false",
				  file, name);
	case CK_STR:
		if (json_is_string(v) && json_string_length(v) > 0) {
			if (!k->words)
				return 0;
			for (size_t i = 0; k->words[i]; i++)
				if (strcmp(json_string_value(v), k->words[i]) == 0)
					return 0;
			ck_words(allowed, sizeof allowed, k->words);
			return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be one of %s",
					  file, name, allowed);
		}
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be a non-empty "
				  "string", file, name);
	case CK_TEXT:
		if (json_is_string(v) || json_is_null(v))
			return 0;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be a string", file,
				  name);
	case CK_OBJ:
		if (json_is_object(v))
			return 0;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be an object {...}",
				  file, name);
	case CK_REFUSED:
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s", k->words[0]);
	}
	return 0;
}

/* Check one section's keys (section "": the top level); unknown ones are
 * warned about when warn is set. */
static int ck_section(const char *file, const char *section, const json_t *sec, bool warn,
		      struct proto_err *err)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)sec, key, v) {
		const struct ck_key *k = NULL;
		char name[160];
		for (size_t i = 0; i < CK_N && !k; i++)
			if (strcmp(ck_keys[i].section, section) == 0 && strcmp(ck_keys[i].key, key) == 0)
				k = &ck_keys[i];
		snprintf(name, sizeof name, "%s%s%.100s", section, *section ? "." : "", key);
		if (!k) {
			if (warn)
				log_warn("%s: unknown key \"%s\" ignored", file, name);
		} else if (ck_value(file, k, name, v, err) < 0) {
			return -1;
		}
	}
	return 0;
}

int config_check_section(const char *file, const char *section, const json_t *sec,
			 struct proto_err *err)
{
	bool warn = file != NULL;
	if (!file)
		file = "config.json";
	if (sec && !json_is_object(sec))
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be an object {...}",
				  file, section);
	return sec ? ck_section(file, section, sec, warn, err) : 0;
}

int config_check_sections(const char *file, const json_t *root, struct proto_err *err)
{
	if (ck_section(file, "", root, true, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof ck_sections / sizeof ck_sections[0]; i++)
		if (config_check_section(file, ck_sections[i], json_object_get(root, ck_sections[i]),
					 err) < 0)
			return -1;
	return 0;
}
