/*
 * daemon/llm/sse.h — an incremental Server-Sent Events parser (the WHATWG
 * "text/event-stream" format): feed it bytes as they arrive, in any split,
 * and it calls back once per complete event with its type and data.
 * Lines may end in \n, \r\n or \r; comments (":...") and unknown fields are
 * ignored; "data:" lines of one event are joined with '\n'.
 */
#ifndef DAA_SSE_H
#define DAA_SSE_H

#include <stdbool.h>
#include <stddef.h>

struct sse;

/* One event: `event` is "message" when the stream named none; data is
 * NUL-terminated (len excludes the NUL); both borrowed for the call.
 * Return 0 to go on, -1 to stop parsing (sse_feed then returns -1). */
typedef int (*sse_event_cb)(void *ud, const char *event, const char *data, size_t len);

/* max_event: cap on one line / one event's data in bytes (larger → error). */
struct sse *sse_new(size_t max_event, sse_event_cb cb, void *ud);
void sse_free(struct sse *s);
/* Feed bytes.  0, or -1 when the callback stopped or an event was too large
 * (sse_error says which). */
int sse_feed(struct sse *s, const char *buf, size_t len);
/* Events dispatched so far (a last event with no blank line after it is
 * never dispatched, as the spec says). */
size_t sse_events(const struct sse *s);
/* Why sse_feed failed ("" when it did not). */
const char *sse_error(const struct sse *s);

/* True when the parser failed because a line or an event passed max_event. */
bool sse_overflowed(const struct sse *s);

#endif
