/*
 * daemon/core/strbuf.h — a growable, always NUL-terminated byte string with an
 * optional size cap (LLM replies, SSE lines and events).
 */
#ifndef DAA_STRBUF_H
#define DAA_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *p;       /* NULL until the first append; owned (free(p)) */
	size_t len, cap;
};

/* Append n bytes; -1 when len would pass max (SIZE_MAX: no cap) or on ENOMEM. */
int strbuf_add(struct strbuf *b, const char *s, size_t n, size_t max);

#endif
