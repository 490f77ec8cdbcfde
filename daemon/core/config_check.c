/*
 * daemon/core/config_check.c — the sections other modules read with the typed
 * lookups (config_str/int/bool fall back to the default on a missing key):
 * checked once at load against one table, so a key of the wrong type or out
 * of range stops the daemon with the key named instead of being ignored,
 * and an unknown key is warned about.  The "llm" section is checked by
 * llm_config_from_json (daemon/llm/llm.c), which knows its own keys.
 */
#include <stdio.h>
#include <string.h>
#include "daemon/core/config.h"
#include "daemon/core/log.h"

enum ck_type { CK_INT, CK_BOOL, CK_STR };

struct ck_key {
	const char *section, *key;
	enum ck_type type;
	long long lo, hi;          /* CK_INT: the allowed range */
	const char *const *words;  /* CK_STR: the allowed values (NULL: any non-empty) */
};

static const char *const privacy_words[] = { "samples", "schema", NULL };

#define DAY 86400LL
static const struct ck_key ck_keys[] = {
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
static const char *const ck_sections[] = { "kernel", "sandbox", "agent" };

/* "one of a, b, c" for an error message. */
static void ck_words(char *out, size_t len, const char *const *words)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; words[i] && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", i ? ", " : "",
					 words[i]);
}

/* One value against its table row; -1 with err naming section.key. */
static int ck_value(const char *file, const struct ck_key *k, const json_t *v,
		    struct proto_err *err)
{
	char allowed[120];
	switch (k->type) {
	case CK_INT:
		if (json_is_integer(v) && json_integer_value(v) >= k->lo &&
		    json_integer_value(v) <= k->hi)
			return 0;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s.%s\" must be a whole number "
				  "from %lld to %lld", file, k->section, k->key, k->lo, k->hi);
	case CK_BOOL:
		if (json_is_boolean(v))
			return 0;
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s.%s\" must be true or false",
				  file, k->section, k->key);
	case CK_STR:
		if (json_is_string(v) && json_string_length(v) > 0) {
			if (!k->words)
				return 0;
			for (size_t i = 0; k->words[i]; i++)
				if (strcmp(json_string_value(v), k->words[i]) == 0)
					return 0;
			ck_words(allowed, sizeof allowed, k->words);
			return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s.%s\" must be one of %s",
					  file, k->section, k->key, allowed);
		}
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s.%s\" must be a non-empty "
				  "string", file, k->section, k->key);
	}
	return 0;
}

/* Check one section's keys; unknown ones are warned about. */
static int ck_section(const char *file, const char *name, const json_t *sec,
		      struct proto_err *err)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)sec, key, v) {
		const struct ck_key *k = NULL;
		for (size_t i = 0; i < CK_N && !k; i++)
			if (strcmp(ck_keys[i].section, name) == 0 && strcmp(ck_keys[i].key, key) == 0)
				k = &ck_keys[i];
		if (!k)
			log_warn("%s: unknown key \"%s.%s\" ignored", file, name, key);
		else if (ck_value(file, k, v, err) < 0)
			return -1;
	}
	return 0;
}

int config_check_sections(const char *file, const json_t *root, struct proto_err *err)
{
	for (size_t i = 0; i < sizeof ck_sections / sizeof ck_sections[0]; i++) {
		const json_t *sec = json_object_get(root, ck_sections[i]);
		if (!sec)
			continue;
		if (!json_is_object(sec))
			return proto_fail(err, PROTO_ERR_BAD_INPUT, "%s: \"%s\" must be an object {...}",
					  file, ck_sections[i]);
		if (ck_section(file, ck_sections[i], sec, err) < 0)
			return -1;
	}
	return 0;
}
