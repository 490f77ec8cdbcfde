/*
 * daemon/llm/sse.c — incremental Server-Sent Events parser (see sse.h).  Bytes
 * are split into lines as they come; a line is buffered only while it is
 * incomplete, so a stream cut anywhere parses the same as one in one piece.
 */
#include "daemon/llm/sse.h"
#include "daemon/core/strbuf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sse {
	size_t max;
	sse_event_cb cb;
	void *ud;
	struct strbuf line;  /* the current incomplete line */
	struct strbuf data;  /* data of the event being built */
	char event[64];    /* its type ("" = message) */
	bool has_data;
	bool last_cr;      /* the previous byte was \r: skip a following \n */
	bool failed;
	bool overflow;     /* failed because a line or an event passed max */
	size_t nevents;
	char err[128];
};

/* Create a parser. */
struct sse *sse_new(size_t max_event, sse_event_cb cb, void *ud)
{
	struct sse *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->max = max_event ? max_event : (1u << 20);
	s->cb = cb;
	s->ud = ud;
	return s;
}

/* Free a parser. */
void sse_free(struct sse *s)
{
	if (!s)
		return;
	free(s->line.p);
	free(s->data.p);
	free(s);
}

/* Blank line: dispatch the event being built, if it has data. */
static int sse_dispatch(struct sse *s)
{
	int rc = 0;
	if (s->has_data) {
		s->nevents++;
		rc = s->cb(s->ud, s->event[0] ? s->event : "message", s->data.p ? s->data.p : "",
			   s->data.len);
		if (rc != 0)
			snprintf(s->err, sizeof(s->err), "stopped by the event handler");
	}
	s->data.len = 0;
	if (s->data.p)
		s->data.p[0] = '\0';
	s->event[0] = '\0';
	s->has_data = false;
	return rc;
}

/* Handle one complete line (without its terminator). */
static int sse_line(struct sse *s, const char *line, size_t n)
{
	if (n == 0)
		return sse_dispatch(s);
	if (line[0] == ':')
		return 0; /* comment / keep-alive */
	const char *colon = memchr(line, ':', n);
	size_t flen = colon ? (size_t)(colon - line) : n;
	const char *val = colon ? colon + 1 : line + n;
	size_t vlen = colon ? n - flen - 1 : 0;
	if (vlen && val[0] == ' ') {
		val++;
		vlen--;
	}
	if (flen == 4 && memcmp(line, "data", 4) == 0) {
		if ((s->has_data && strbuf_add(&s->data, "\n", 1, s->max) < 0) ||
		    strbuf_add(&s->data, val, vlen, s->max) < 0) {
			snprintf(s->err, sizeof(s->err), "an event is larger than %zu bytes", s->max);
			s->overflow = true;
			return -1;
		}
		if (!s->data.p) /* empty first data line: make the buffer exist */
			strbuf_add(&s->data, "", 0, s->max);
		s->has_data = true;
	} else if (flen == 5 && memcmp(line, "event", 5) == 0) {
		size_t k = vlen < sizeof(s->event) - 1 ? vlen : sizeof(s->event) - 1;
		memcpy(s->event, val, k);
		s->event[k] = '\0';
	}
	/* id, retry and unknown fields do not matter to a one-shot reader. */
	return 0;
}

/* Feed bytes, dispatching complete lines. */
int sse_feed(struct sse *s, const char *buf, size_t len)
{
	if (s->failed)
		return -1;
	size_t i = 0;
	while (i < len) {
		if (s->last_cr && buf[i] == '\n') {
			s->last_cr = false;
			i++;
			continue;
		}
		s->last_cr = false;
		size_t j = i;
		while (j < len && buf[j] != '\n' && buf[j] != '\r')
			j++;
		if (strbuf_add(&s->line, buf + i, j - i, s->max) < 0) {
			snprintf(s->err, sizeof(s->err), "a line is longer than %zu bytes", s->max);
			s->overflow = true;
			s->failed = true;
			return -1;
		}
		if (j == len)
			break; /* incomplete line: wait for more */
		s->last_cr = buf[j] == '\r';
		int rc = sse_line(s, s->line.p ? s->line.p : "", s->line.len);
		s->line.len = 0;
		if (rc != 0) {
			s->failed = true;
			return -1;
		}
		i = j + 1;
	}
	return 0;
}

/* Events dispatched so far. */
size_t sse_events(const struct sse *s)
{
	return s->nevents;
}

/* The reason of the last failure. */
const char *sse_error(const struct sse *s)
{
	return s->err;
}

/* Did the last failure come from the size cap? */
bool sse_overflowed(const struct sse *s)
{
	return s->overflow;
}
