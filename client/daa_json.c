/*
 * client/daa_json.c — decoded msgpack printed as JSON for --json: strings
 * escaped (invalid UTF-8 bytes become U+FFFD so the output always parses),
 * NaN/Inf as null, bin as a string, ext as null, non-string map keys
 * rendered as their JSON text.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"

/* Length of a valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (len == 0 || len > n || p[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (len == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
		return 0; /* overlong or surrogate */
	if (len == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
		return 0;
	return len;
}

/* A JSON string literal of n bytes. */
static void json_str(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c >= 0x80) {
			size_t len = utf8_len(p + i, n - i);
			if (len == 0) {
				fputs("\\ufffd", f);
				i++;
				continue;
			}
			fwrite(p + i, 1, len, f);
			i += len;
			continue;
		} else {
			fputc((int)c, f);
		}
		i++;
	}
	fputc('"', f);
}

static void json_value(FILE *f, const msgpack_object *o, int indent, int level);

/* Newline and indentation before an item (nothing in one-line mode). */
static void json_nl(FILE *f, int indent, int level)
{
	if (indent < 0)
		return;
	fputc('\n', f);
	for (int i = 0; i < indent * level; i++)
		fputc(' ', f);
}

/* A map key: strings as they are, anything else as its JSON text. */
static void json_key(FILE *f, const msgpack_object *k)
{
	if (k->type == MSGPACK_OBJECT_STR) {
		json_str(f, k->via.str.ptr, k->via.str.size);
		return;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		fputs("\"?\"", f);
		return;
	}
	json_value(m, k, -1, 0);
	fclose(m);
	json_str(f, buf, len);
	free(buf);
}

/* Containers. */
static void json_container(FILE *f, const msgpack_object *o, int indent, int level)
{
	bool map = o->type == MSGPACK_OBJECT_MAP;
	uint32_t n = map ? o->via.map.size : o->via.array.size;
	fputc(map ? '{' : '[', f);
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			fputs(indent < 0 ? ", " : ",", f);
		json_nl(f, indent, level + 1);
		if (map) {
			json_key(f, &o->via.map.ptr[i].key);
			fputs(": ", f);
			json_value(f, &o->via.map.ptr[i].val, indent, level + 1);
		} else {
			json_value(f, &o->via.array.ptr[i], indent, level + 1);
		}
	}
	if (n)
		json_nl(f, indent, level);
	fputc(map ? '}' : ']', f);
}

/* Any value. */
static void json_value(FILE *f, const msgpack_object *o, int indent, int level)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: fputs("null", f); break;
	case MSGPACK_OBJECT_BOOLEAN: fputs(o->via.boolean ? "true" : "false", f); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: fprintf(f, "%llu", (unsigned long long)o->via.u64); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: fprintf(f, "%lld", (long long)o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (isfinite(o->via.f64)) {
			char b[40];
			snprintf(b, sizeof(b), "%.15g", o->via.f64);
			if (strtod(b, NULL) != o->via.f64)
				snprintf(b, sizeof(b), "%.17g", o->via.f64);
			fputs(b, f);
		} else
			fputs("null", f);
		break;
	case MSGPACK_OBJECT_STR: json_str(f, o->via.str.ptr, o->via.str.size); break;
	case MSGPACK_OBJECT_BIN: json_str(f, o->via.bin.ptr, o->via.bin.size); break;
	case MSGPACK_OBJECT_ARRAY:
	case MSGPACK_OBJECT_MAP: json_container(f, o, indent, level); break;
	default: fputs("null", f); break;
	}
}

/* Print o as JSON; indent < 0 prints one line. */
void cli_json_print(FILE *f, const msgpack_object *o, int indent)
{
	if (!o) {
		fputs("null", f);
		return;
	}
	json_value(f, o, indent, 0);
}
