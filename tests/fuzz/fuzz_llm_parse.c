/*
 * tests/fuzz/fuzz_llm_parse.c — libFuzzer target for daemon/llm/llm_parse.c,
 * what the OpenAI backend does with a server's bytes:
 *   - the input as a whole (non-streamed) body: json_loadb, then
 *     llm_parse_completion and llm_parse_message (oa_success, oa_reply);
 *   - the input as an error body (llm_parse_error_body);
 *   - the input as the text of a model without tool calling (llm_parse_text);
 *   - the input as streamed chunk payloads, one per line (what the SSE
 *     parser hands over: tool-call deltas reassembled by index), then
 *     llm_stream_result and llm_parse_message.
 * Nothing may crash, leak or read out of bounds; the error strings must be
 * NUL-terminated within their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/llm/llm.h"
#include "daemon/llm/llm_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* llm_parse_message into a fresh reply, then free it. */
static void parse_message(const json_t *msg)
{
	struct llm_reply *r = calloc(1, sizeof *r);
	char perr[300];
	if (!r)
		return;
	perr[sizeof perr - 1] = 'x';
	if (llm_parse_message(r, msg, perr, sizeof perr) < 0 && !memchr(perr, 0, sizeof perr))
		abort();
	for (size_t i = 0; i < r->ncalls; i++)
		if (!r->calls[i].name || (!r->calls[i].args && !r->calls[i].error))
			abort(); /* llm.h: args never NULL unless the call has an error */
	llm_reply_free(r);
}

/* A whole completion body. */
static void whole_body(const char *text, size_t len)
{
	json_error_t je;
	json_t *body = json_loadb(text, len, 0, &je);
	json_t *msg = NULL;
	int64_t pt, ct;
	char *model = NULL, err[300];
	char *finish = NULL;
	if (body && llm_parse_completion(body, &msg, &pt, &ct, &model, &finish, err, sizeof err) == 0)
		parse_message(msg);
	json_decref(msg);
	json_decref(body);
	free(model);
	free(finish);
}

/* Each line a streamed chunk's data (NUL-terminated, as sse.c gives it). */
static void streamed(const char *text, size_t len)
{
	struct llm_stream *s = llm_stream_new();
	bool server_error;
	char err[300];
	int rc = 0;
	for (size_t off = 0; off < len && rc == 0;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char *line = strndup(text + off, n);
		rc = llm_stream_feed(s, line, strlen(line), &server_error, err, sizeof err);
		(void)strlen(llm_stream_delta(s));
		free(line);
		off += n + 1;
	}
	if (rc >= 0 && llm_stream_complete(s)) {
		int64_t pt, ct;
		char *model;
		const char *fin;
		json_t *msg = llm_stream_result(s, &pt, &ct, &model, &fin);
		if (msg)
			parse_message(msg);
		json_decref(msg);
		free(model);
	}
	llm_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	whole_body(text, size);

	char msg[200], code[40];
	llm_parse_error_body(text, size, msg, sizeof msg, code, sizeof code);
	if (strlen(msg) >= sizeof msg || strlen(code) >= sizeof code)
		abort();

	struct llm_reply *r = calloc(1, sizeof *r);
	if (r && llm_parse_text(r, text) == 0 && r->ncalls < 1)
		abort(); /* llm_parse.h: text always becomes a call */
	llm_reply_free(r);

	streamed(text, size);
	free(text);
	return 0;
}
