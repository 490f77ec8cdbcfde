/*
 * daemon/llm/llm.c — the model-backend front door (daemon/llm/llm.h): picks the
 * backend named by the config ("openai" → llm_openai.c, "builtin" → the
 * offline analyst adapter llm_builtin.c), dispatches calls through the backend's ops table,
 * frees replies, and reads the "llm" section of config.json.
 */
#include "daemon/llm/llm.h"
#include "daemon/core/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LLM_KEY_MAX 4096

/* Create the configured backend. */
struct llm_backend *llm_backend_new(struct loop *l, const struct llm_config *cfg, char *err, size_t errlen)
{
	const char *name = cfg && cfg->backend ? cfg->backend : "builtin";
	if (strcmp(name, "openai") == 0)
		return llm_openai_new(l, cfg, err, errlen);
	if (strcmp(name, "builtin") == 0)
		return llm_builtin_new(l, cfg, err, errlen);
	snprintf(err, errlen, "unknown llm.backend \"%.40s\" in config.json: use \"openai\" or \"builtin\"",
		 name);
	return NULL;
}

/* Free a backend (its calls must be finished or cancelled). */
void llm_backend_free(struct llm_backend *b)
{
	if (b)
		b->ops->free(b);
}

/* "openai" | "builtin". */
const char *llm_backend_name(const struct llm_backend *b)
{
	return b->ops->name;
}

/* The model the backend talks to. */
const char *llm_backend_model(const struct llm_backend *b)
{
	return b->ops->model ? b->ops->model(b) : "";
}

/* Start a model call. */
struct llm_call *llm_call_start(struct llm_backend *b, const struct llm_ctx *ctx,
				llm_progress_cb progress, llm_done_cb done, void *ud)
{
	return b->ops->call_start(b, ctx, progress, done, ud);
}

/* Cancel a call; no callback afterwards. */
void llm_call_cancel(struct llm_call *c)
{
	if (c)
		c->backend->ops->call_cancel(c);
}

/* Free a reply and everything it owns. */
void llm_reply_free(struct llm_reply *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncalls; i++) {
		free(r->calls[i].id);
		free(r->calls[i].name);
		json_decref(r->calls[i].args);
		free(r->calls[i].error);
		free(r->calls[i].raw_args);
	}
	free(r->calls);
	free(r->text);
	free(r->model);
	free(r->finish_reason);
	json_decref(r->request_log);
	json_decref(r->response_log);
	free(r);
}

/* Overwrite then free a secret. */
static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Free the config's strings. */
void llm_config_clear(struct llm_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->backend);
	free(cfg->api_key_origin);
	free(cfg->base_url);
	free(cfg->model);
	free_secret(cfg->api_key);
	free(cfg->analyst_cmd);
	memset(cfg, 0, sizeof(*cfg));
}

/* Replace *dst with a copy of s (NULL keeps nothing). */
static int set_str(char **dst, const char *s)
{
	char *c = s ? strdup(s) : NULL;
	if (s && !c)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

/* Read an API key file, refusing one others can read.  malloc'd key or NULL. */
static char *read_key_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open llm.api_key_file %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	char *key = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "llm.api_key_file %s is not a regular file", path);
	} else if (st.st_mode & 077) {
		snprintf(err, errlen, "llm.api_key_file %s can be read by others (mode %03o): "
			 "run chmod 600 %s", path, (unsigned)(st.st_mode & 0777), path);
	} else if (st.st_uid != getuid()) {
		snprintf(err, errlen, "llm.api_key_file %s belongs to another user", path);
	} else if ((key = calloc(1, LLM_KEY_MAX + 1))) {
		ssize_t n = read(fd, key, LLM_KEY_MAX);
		size_t len = n > 0 ? (size_t)n : 0;
		while (len && (key[len - 1] == '\n' || key[len - 1] == '\r' || key[len - 1] == ' '))
			key[--len] = '\0';
		if (len == 0 || strpbrk(key, "\r\n")) {
			snprintf(err, errlen, "llm.api_key_file %s must hold the key alone on one line", path);
			free_secret(key);
			key = NULL;
		}
	}
	close(fd);
	return key;
}

/* Resolve the API key: api_key_env, api_key_file, else OPENAI_API_KEY. */
static int resolve_key(struct llm_config *o, const json_t *sec, char *err, size_t errlen)
{
	const char *env = json_string_value(json_object_get(sec, "api_key_env"));
	const char *file = json_string_value(json_object_get(sec, "api_key_file"));
	char origin[300];
	if (env) {
		const char *v = getenv(env);
		if (!v || !v[0]) {
			snprintf(err, errlen, "llm.api_key_env names %s, but %s is not set in the "
				 "daemon's environment", env, env);
			return -1;
		}
		snprintf(origin, sizeof(origin), "%s", env);
		o->api_key = strdup(v);
	} else if (file) {
		if (!(o->api_key = read_key_file(file, err, errlen)))
			return -1;
		snprintf(origin, sizeof(origin), "llm.api_key_file %s", file);
	} else if (getenv("OPENAI_API_KEY") && getenv("OPENAI_API_KEY")[0]) {
		o->api_key = strdup(getenv("OPENAI_API_KEY"));
		snprintf(origin, sizeof(origin), "OPENAI_API_KEY");
	} else {
		return 0;
	}
	if (!o->api_key || set_str(&o->api_key_origin, origin) < 0) {
		snprintf(err, errlen, "out of memory reading the API key");
		return -1;
	}
	return 0;
}

/* A string key (null or absent: *out kept); its type was checked. */
static int get_str(const json_t *sec, const char *k, char **out)
{
	const char *v = json_string_value(json_object_get(sec, k));
	return v ? set_str(out, v) : 0;
}

/* A whole-number key, or dflt when absent (its range was checked). */
static int64_t get_int(const json_t *sec, const char *k, int64_t dflt)
{
	const json_t *v = json_object_get(sec, k);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* Numbers and flags of the section (their types and ranges were checked). */
static void read_numbers(struct llm_config *o, const json_t *sec)
{
	o->connect_timeout_ms = (int)get_int(sec, "connect_timeout_ms", o->connect_timeout_ms);
	o->idle_timeout_ms = (int)get_int(sec, "idle_timeout_ms", o->idle_timeout_ms);
	o->total_timeout_ms = (int)get_int(sec, "total_timeout_ms", o->total_timeout_ms);
	o->max_retries = (int)get_int(sec, "max_retries", o->max_retries);
	o->max_tokens = get_int(sec, "max_tokens", o->max_tokens);
	o->max_reply_bytes = get_int(sec, "max_reply_bytes", o->max_reply_bytes);
	const json_t *t = json_object_get(sec, "temperature"), *s = json_object_get(sec, "stream");
	const json_t *serve = json_object_get(sec, "analyst_serve");
	if (json_is_number(t))
		o->temperature = json_number_value(t);
	if (json_is_boolean(s))
		o->stream = json_is_true(s);
	if (json_is_boolean(serve))
		o->analyst_serve = json_is_true(serve);
}

/* Apply a non-empty environment override. */
static int env_override(char **dst, const char *var)
{
	const char *v = getenv(var);
	return v && v[0] ? set_str(dst, v) : 0;
}

/* Fill a config from config.json's "llm" object and the environment. */
int llm_config_from_json(struct llm_config *out, const json_t *sec, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->temperature = -1;
	out->stream = true;
	out->connect_timeout_ms = 10000;
	out->idle_timeout_ms = 120000;
	out->total_timeout_ms = 600000;
	out->max_retries = 3;
	out->max_tokens = LLM_DEFAULT_MAX_TOKENS;
	out->max_reply_bytes = LLM_DEFAULT_MAX_REPLY;
	out->analyst_serve = -1;
	struct proto_err perr;
	/* the same table config_load checks it with (daemon/core/config_check.c):
	 * checked again here for callers that did not load a config */
	if (config_check_section(NULL, "llm", sec, &perr) < 0) {
		snprintf(err, errlen, "%s", perr.msg);
		return -1;
	}
	if (get_str(sec, "backend", &out->backend) < 0 ||
	    get_str(sec, "base_url", &out->base_url) < 0 ||
	    get_str(sec, "model", &out->model) < 0 ||
	    get_str(sec, "analyst_cmd", &out->analyst_cmd) < 0)
		goto nomem;
	read_numbers(out, sec);
	if (env_override(&out->base_url, "DAA_LLM_BASE_URL") < 0 ||
	    env_override(&out->model, "DAA_LLM_MODEL") < 0)
		goto nomem;
	if (!out->backend && set_str(&out->backend, out->base_url || out->model ? "openai" : "builtin") < 0)
		goto nomem;
	if (strcmp(out->backend, "openai") != 0 && strcmp(out->backend, "builtin") != 0) {
		snprintf(err, errlen, "llm.backend in config.json is \"%.40s\": use \"openai\" or \"builtin\"",
			 out->backend);
		goto fail;
	}
	if (strcmp(out->backend, "openai") == 0 && !out->base_url &&
	    set_str(&out->base_url, "https://api.openai.com/v1") < 0)
		goto nomem;
	if (resolve_key(out, sec, err, errlen) < 0)
		goto fail;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory reading the llm configuration");
fail:
	llm_config_clear(out);
	return -1;
}
