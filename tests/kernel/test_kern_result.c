/*
 * tests/kernel/test_kern_result.c — the kernel reply parser
 * (daemon/kernel/kern_result.c) on its own: a well-formed exec reply, a failed
 * one, no reply, missing fields, every field of the wrong type, and huge
 * values.  A wrong type must give a failed result whose message names the
 * field, never a crash and never "ok".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/kernel/kern_result.h"

static int failures;

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s: FAILED: %s\n", __FILE__, __LINE__, __func__, #cond); \
	failures++; } } while (0)

static json_t *parse_json(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
	if (!j) {
		fprintf(stderr, "bad test json: %s: %s\n", text, je.text);
		exit(2);
	}
	return j;
}

static void test_well_formed(void)
{
	json_t *j = parse_json("{\"ok\": true, \"stdout\": \"hi\\n\", \"stderr\": \"w\", "
			       "\"truncated\": true, \"result\": {\"repr\": \"42\", \"type\": \"int\"}, "
			       "\"tables\": [{\"kind\": \"DataFrame\"}], \"figures\": [\"outputs/plots/a_1.png\"], "
			       "\"error\": null, \"duration_ms\": 17}");
	struct kern_result r;
	CHECK(kern_result_parse(j, NULL, &r));
	CHECK(r.kind == KR_OK && r.ok && !r.interrupted);
	CHECK(strcmp(r.stdout_text, "hi\n") == 0 && strcmp(r.stderr_text, "w") == 0);
	CHECK(r.truncated);
	CHECK(r.value_repr && strcmp(r.value_repr, "42") == 0);
	CHECK(r.value_type && strcmp(r.value_type, "int") == 0);
	CHECK(json_array_size(r.tables) == 1 && json_array_size(r.figures) == 1);
	CHECK(r.error == NULL && r.error_type == NULL && r.error_message == NULL);
	CHECK(r.duration_ms == 17);
	CHECK(r.raw == j); /* kept to KERNEL.md: passed on whole where needed */
	json_decref(j);
}

static void test_failed_step(void)
{
	json_t *j = parse_json("{\"ok\": false, \"stdout\": \"\", \"error\": {\"type\": \"KeyError\", "
			       "\"message\": \"'x'\", \"traceback\": \"tb\", \"hint\": \"close: X\"}}");
	struct kern_result r;
	CHECK(!kern_result_parse(j, NULL, &r));
	CHECK(r.kind == KR_FAILED && !r.ok && !r.interrupted);
	CHECK(strcmp(r.error_type, "KeyError") == 0 && strcmp(r.error_message, "'x'") == 0);
	CHECK(strcmp(r.traceback, "tb") == 0 && r.hint && strcmp(r.hint, "close: X") == 0);
	CHECK(r.raw == j);
	CHECK(r.error != NULL);
	json_decref(j);

	j = parse_json("{\"ok\": false, \"error\": {\"type\": \"KeyboardInterrupt\", \"message\": \"\"}}");
	CHECK(!kern_result_parse(j, NULL, &r) && r.interrupted);
	json_decref(j);

	/* ok: true with an error object is not a success (the one rule) */
	j = parse_json("{\"ok\": true, \"error\": {\"type\": \"ValueError\", \"message\": \"m\"}}");
	CHECK(!kern_result_parse(j, NULL, &r) && r.kind == KR_FAILED);
	CHECK(strcmp(r.error_type, "ValueError") == 0);
	json_decref(j);

	/* ok: false and no error: failed, with a message saying so */
	j = parse_json("{\"ok\": false}");
	CHECK(!kern_result_parse(j, NULL, &r) && r.kind == KR_FAILED);
	CHECK(strcmp(r.error_type, "Error") == 0 && strstr(r.error_message, "without an error"));
	json_decref(j);
}

static void test_no_reply(void)
{
	struct proto_err err = {.code = PROTO_ERR_KERNEL};
	snprintf(err.msg, sizeof err.msg, "the kernel died");
	struct kern_result r;
	CHECK(!kern_result_parse(NULL, &err, &r));
	CHECK(r.kind == KR_NO_REPLY && strcmp(r.error_message, "the kernel died") == 0);
	CHECK(strcmp(r.error_type, "KernelError") == 0 && strcmp(r.stdout_text, "") == 0);
	CHECK(r.raw == NULL && r.code == PROTO_ERR_KERNEL);
	CHECK(!kern_result_parse(NULL, NULL, &r) && r.kind == KR_NO_REPLY && r.why[0]);
	/* a full-length error message is carried whole */
	memset(err.msg, 'x', sizeof err.msg - 1);
	err.msg[sizeof err.msg - 1] = '\0';
	CHECK(!kern_result_parse(NULL, &err, &r) && strlen(r.why) == sizeof err.msg - 1);
}

static void test_missing_fields(void)
{
	json_t *j = parse_json("{\"ok\": true}");
	struct kern_result r;
	CHECK(kern_result_parse(j, NULL, &r));
	CHECK(strcmp(r.stdout_text, "") == 0 && strcmp(r.stderr_text, "") == 0);
	CHECK(!r.truncated && !r.value && !r.value_repr && !r.tables && !r.figures);
	CHECK(r.duration_ms == -1 && strcmp(r.traceback, "") == 0);
	json_decref(j);

	j = parse_json("{\"stdout\": \"x\"}"); /* no ok at all */
	CHECK(!kern_result_parse(j, NULL, &r) && r.kind == KR_MALFORMED);
	CHECK(strstr(r.error_message, "'ok'") != NULL);
	json_decref(j);

	j = parse_json("{\"ok\": false, \"error\": {}}"); /* an error with no parts */
	CHECK(!kern_result_parse(j, NULL, &r) && r.kind == KR_FAILED);
	CHECK(strcmp(r.error_type, "Error") == 0 && strcmp(r.error_message, "") == 0);
	json_decref(j);
}

/* Each field of the wrong type: malformed, the field named in the message. */
static void test_wrong_types(void)
{
	static const struct { const char *json, *field; } cases[] = {
		{"[1, 2]", "'reply'"},
		{"\"ok\"", "'reply'"},
		{"{\"ok\": 1}", "'ok'"},
		{"{\"ok\": \"true\"}", "'ok'"},
		{"{\"ok\": null}", "'ok'"},
		{"{\"ok\": true, \"stdout\": 5}", "'stdout'"},
		{"{\"ok\": true, \"stdout\": [\"a\"]}", "'stdout'"},
		{"{\"ok\": true, \"stderr\": {}}", "'stderr'"},
		{"{\"ok\": true, \"truncated\": \"yes\"}", "'truncated'"},
		{"{\"ok\": true, \"duration_ms\": \"5\"}", "'duration_ms'"},
		{"{\"ok\": true, \"result\": \"42\"}", "'result'"},
		{"{\"ok\": true, \"result\": {\"repr\": 42}}", "'result.repr'"},
		{"{\"ok\": true, \"result\": {\"repr\": \"4\", \"type\": []}}", "'result.type'"},
		{"{\"ok\": true, \"tables\": {}}", "'tables'"},
		{"{\"ok\": true, \"figures\": \"a.png\"}", "'figures'"},
		{"{\"ok\": true, \"figures\": [\"a.png\", 3]}", "'figures'"},
		{"{\"ok\": false, \"error\": \"boom\"}", "'error'"},
		{"{\"ok\": false, \"error\": {\"type\": 1}}", "'error.type'"},
		{"{\"ok\": false, \"error\": {\"message\": {}}}", "'error.message'"},
		{"{\"ok\": false, \"error\": {\"traceback\": false}}", "'error.traceback'"},
		{"{\"ok\": false, \"error\": {\"hint\": 0.5}}", "'error.hint'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = parse_json(cases[i].json);
		struct kern_result r;
		bool ok = kern_result_parse(j, NULL, &r);
		if (ok || r.kind != KR_MALFORMED || !r.error_message ||
		    !strstr(r.error_message, cases[i].field) ||
		    strcmp(r.error_type, "KernelError") != 0) {
			fprintf(stderr, "wrong type not refused: %s (%s)\n", cases[i].json,
				r.error_message ? r.error_message : "(null)");
			failures++;
		}
		CHECK(r.stdout_text && r.stderr_text && r.traceback);
		CHECK(r.raw == NULL); /* never passed on as it came */
		json_decref(j);
	}
}

static void test_huge_values(void)
{
	struct kern_result r;
	size_t n = 20u << 20; /* 20 MiB of stdout: borrowed, not copied */
	char *big = malloc(n + 1);
	if (!big)
		exit(2);
	memset(big, 'a', n);
	big[n] = '\0';
	json_t *j = json_pack("{s:b, s:s, s:I}", "ok", 1, "stdout", big, "duration_ms",
			      (json_int_t)LLONG_MAX);
	CHECK(kern_result_parse(j, NULL, &r) && strlen(r.stdout_text) == n);
	CHECK(r.duration_ms == LLONG_MAX);
	json_decref(j);
	free(big);

	j = parse_json("{\"ok\": true, \"duration_ms\": -5}");
	CHECK(kern_result_parse(j, NULL, &r) && r.duration_ms == -1);
	json_decref(j);
	j = parse_json("{\"ok\": true, \"duration_ms\": 1e300}");
	CHECK(kern_result_parse(j, NULL, &r) && r.duration_ms == -1);
	json_decref(j);
	j = parse_json("{\"ok\": true, \"duration_ms\": 12.7}");
	CHECK(kern_result_parse(j, NULL, &r) && r.duration_ms == 12);
	json_decref(j);

	json_t *figs = json_array();
	for (int i = 0; i < 100000; i++)
		json_array_append_new(figs, json_string("outputs/plots/x.png"));
	json_array_append_new(figs, json_integer(1)); /* the last one is wrong */
	j = json_pack("{s:b, s:o}", "ok", 1, "figures", figs);
	CHECK(!kern_result_parse(j, NULL, &r) && r.kind == KR_MALFORMED);
	json_decref(j);
}

int main(void)
{
	test_well_formed();
	test_failed_step();
	test_no_reply();
	test_missing_fields();
	test_wrong_types();
	test_huge_values();
	if (failures) {
		fprintf(stderr, "test_kern_result: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_kern_result: ok\n");
	return 0;
}
