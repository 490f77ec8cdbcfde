/*
 * daemon/kernel/kern_result.c — a kernel's reply read once, checked field by field
 * (daemon/kernel/kern_result.h; the reply format is sandbox/KERNEL.md "exec").
 * Absent or null optional fields take their empty value; a present field of
 * the wrong type makes the whole result KR_MALFORMED with a message naming
 * the field.  Nothing here allocates, so nothing here can fail.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/kernel/kern_result.h"

/* A field that is absent or null. */
static bool absent(const json_t *v)
{
	return !v || json_is_null(v);
}

static void set_defaults(struct kern_result *r)
{
	memset(r, 0, sizeof *r);
	r->stdout_text = r->stderr_text = r->traceback = "";
	r->duration_ms = -1;
}

/* The result becomes a failure of the kernel itself (no reply, bad reply). */
static bool kernel_failure(struct kern_result *r, enum kern_result_kind kind)
{
	r->kind = kind;
	r->ok = false;
	r->error_type = "KernelError";
	r->error_message = r->why;
	if (!r->code)
		r->code = PROTO_ERR_KERNEL;
	return false;
}

static bool malformed(struct kern_result *r, const char *field, const char *what)
{
	snprintf(r->why, sizeof r->why, "the kernel's reply is malformed: '%s' is not %s", field,
		 what);
	return kernel_failure(r, KR_MALFORMED);
}

/* An optional string field: *out keeps its default when absent. */
static bool opt_string(const json_t *obj, const char *key, const char **out)
{
	const json_t *v = json_object_get(obj, key);
	if (absent(v))
		return true;
	if (!json_is_string(v))
		return false;
	*out = json_string_value(v);
	return true;
}

/* The error object: {type, message, traceback, hint?}, every part a string. */
static bool read_error(const json_t *reply, struct kern_result *r)
{
	const json_t *e = json_object_get(reply, "error");
	if (absent(e))
		return true;
	if (!json_is_object(e))
		return malformed(r, "error", "an object");
	if (!opt_string(e, "type", &r->error_type))
		return malformed(r, "error.type", "a string");
	if (!opt_string(e, "message", &r->error_message))
		return malformed(r, "error.message", "a string");
	if (!opt_string(e, "traceback", &r->traceback))
		return malformed(r, "error.traceback", "a string");
	if (!opt_string(e, "hint", &r->hint))
		return malformed(r, "error.hint", "a string");
	r->error = e;
	return true;
}

/* result: nil | {repr, type, table?} */
static bool read_value(const json_t *reply, struct kern_result *r)
{
	const json_t *v = json_object_get(reply, "result");
	if (absent(v))
		return true;
	if (!json_is_object(v))
		return malformed(r, "result", "an object");
	if (!opt_string(v, "repr", &r->value_repr))
		return malformed(r, "result.repr", "a string");
	if (!opt_string(v, "type", &r->value_type))
		return malformed(r, "result.type", "a string");
	r->value = v;
	return true;
}

/* tables: [PREVIEW...]; figures: [str...] */
static bool read_lists(const json_t *reply, struct kern_result *r)
{
	const json_t *t = json_object_get(reply, "tables"), *f = json_object_get(reply, "figures");
	size_t i;
	const json_t *v;
	if (!absent(t) && !json_is_array(t))
		return malformed(r, "tables", "an array");
	if (!absent(f) && !json_is_array(f))
		return malformed(r, "figures", "an array");
	json_array_foreach(f, i, v)
		if (!json_is_string(v))
			return malformed(r, "figures", "an array of strings");
	r->tables = absent(t) ? NULL : t;
	r->figures = absent(f) ? NULL : f;
	return true;
}

/* stdout, stderr, truncated, duration_ms */
static bool read_output(const json_t *reply, struct kern_result *r)
{
	const json_t *tr = json_object_get(reply, "truncated");
	const json_t *d = json_object_get(reply, "duration_ms");
	if (!opt_string(reply, "stdout", &r->stdout_text))
		return malformed(r, "stdout", "a string");
	if (!opt_string(reply, "stderr", &r->stderr_text))
		return malformed(r, "stderr", "a string");
	if (!absent(tr) && !json_is_boolean(tr))
		return malformed(r, "truncated", "a boolean");
	r->truncated = json_is_true(tr);
	if (!absent(d) && !json_is_number(d))
		return malformed(r, "duration_ms", "a number");
	if (json_is_integer(d) && json_integer_value(d) >= 0)
		r->duration_ms = json_integer_value(d);
	else if (json_is_real(d) && json_real_value(d) >= 0 && json_real_value(d) < 9.2e18)
		r->duration_ms = (long long)json_real_value(d);
	return true;
}

bool kern_result_parse(const json_t *reply, const struct proto_err *err,
		       struct kern_result *r)
{
	set_defaults(r);
	if (!reply) {
		snprintf(r->why, sizeof r->why, "%s",
			 err && err->msg[0] ? err->msg : "the kernel did not answer");
		r->code = err ? err->code : 0;
		return kernel_failure(r, KR_NO_REPLY);
	}
	if (!json_is_object(reply))
		return malformed(r, "reply", "a map");
	const json_t *ok = json_object_get(reply, "ok");
	if (!json_is_boolean(ok))
		return malformed(r, "ok", "a boolean");
	if (!read_error(reply, r) || !read_output(reply, r) || !read_value(reply, r) ||
	    !read_lists(reply, r))
		return false;
	r->ok = json_is_true(ok) && !r->error;
	r->kind = r->ok ? KR_OK : KR_FAILED;
	r->raw = reply;
	if (r->ok)
		return true;
	if (!r->error_type)
		r->error_type = "Error";
	if (!r->error_message)
		r->error_message = r->error ? "" : "the kernel reported a failure without an error";
	r->interrupted = strcmp(r->error_type, "KeyboardInterrupt") == 0;
	return false;
}
