/*
 * tests/fuzz/fuzz_sse.c — libFuzzer target for the SSE parser
 * (daemon/llm/sse.c) and what the OpenAI backend does with its events
 * (daemon/llm/llm_openai.c: every event's data into llm_stream_feed, then the
 * assembled message through llm_parse_message).
 *
 * Input: byte 0 picks the chunk size (1..64), the rest is the body.  The
 * body is fed twice — in chunks and in one piece — and both parsers must
 * see the same events (else abort: a split-dependent bug).  Each event's
 * data must be NUL-terminated at len.  The chunked run then drives a
 * stream accumulator exactly as oa_sse_event / oa_success do.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/llm/llm.h"
#include "daemon/llm/llm_parse.h"
#include "daemon/llm/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENT 2048 /* small, so the size caps are reached */

/* What one parser saw: event count and a running hash of types and data. */
struct seen {
	size_t n;
	uint64_t hash;
	struct llm_stream *acc; /* NULL: just record */
	bool stopped;
};

/* FNV-1a over len bytes. */
static uint64_t fnv(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211u;
	return h;
}

/* The event callback: check, record, and (chunked run) feed the stream. */
static int on_event(void *ud, const char *event, const char *d, size_t len)
{
	struct seen *s = ud;
	if (d[len] != '\0' || strlen(event) >= 64)
		abort();
	s->n++;
	s->hash = fnv(fnv(s->hash, event, strlen(event) + 1), d, len);
	if (!s->acc)
		return 0;
	bool server_error;
	char err[300];
	int rc = llm_stream_feed(s->acc, d, len, &server_error, err, sizeof err);
	if (rc < 0) {
		s->stopped = true;
		return -1;
	}
	(void)strlen(llm_stream_delta(s->acc));
	return 0;
}

/* What oa_success does with a complete stream. */
static void assemble(struct llm_stream *acc)
{
	int64_t pt, ct;
	char *model = NULL;
	const char *fin;
	json_t *msg = llm_stream_result(acc, &pt, &ct, &model, &fin);
	struct llm_reply *r = calloc(1, sizeof *r);
	char perr[300];
	if (msg && r)
		(void)llm_parse_message(r, msg, perr, sizeof perr);
	llm_reply_free(r);
	json_decref(msg);
	free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (data[0] & 0x3f) + 1;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	struct seen whole = {0}, split = {0}, piped = {0};
	struct sse *a = sse_new(MAX_EVENT, on_event, &whole);
	int ra = sse_feed(a, body, len);
	struct sse *b = sse_new(MAX_EVENT, on_event, &split);
	int rb = 0;
	for (size_t off = 0; off < len && rb == 0; off += chunk)
		rb = sse_feed(b, body + off, len - off < chunk ? len - off : chunk);
	/* Same events whatever the split (a failure may come at a different
	 * place only through the line cap, which both hit identically). */
	if (ra != rb || whole.n != split.n || whole.hash != split.hash ||
	    sse_events(a) != sse_events(b))
		abort();
	sse_free(a);
	sse_free(b);

	piped.acc = llm_stream_new();
	struct sse *c = sse_new(MAX_EVENT, on_event, &piped);
	for (size_t off = 0; off < len; off += chunk)
		if (sse_feed(c, body + off, len - off < chunk ? len - off : chunk) < 0)
			break;
	if (!piped.stopped && llm_stream_complete(piped.acc))
		assemble(piped.acc);
	sse_free(c);
	llm_stream_free(piped.acc);
	return 0;
}
