/*
 * daemon/core/strbuf.c — the growable string of strbuf.h (doubling capacity).
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/core/strbuf.h"

int strbuf_add(struct strbuf *b, const char *s, size_t n, size_t max)
{
	if (n > max || b->len > max - n)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 64;
		while (c < b->len + n + 1)
			c *= 2;
		char *q = realloc(b->p, c);
		if (!q)
			return -1;
		b->p = q;
		b->cap = c;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}
