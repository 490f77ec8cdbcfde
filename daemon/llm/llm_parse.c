/*
 * daemon/llm/llm_parse.c — turning what an OpenAI-compatible server sends into
 * an llm_reply (see llm_parse.h).  The tools are the agent's (their schema
 * comes in llm_ctx.tools, their arguments are checked by the agent); this
 * file only names three of them, for the plain-text answers of models
 * without tool calling (llm_parse_text).
 * Everything here reads untrusted input: it checks every type, caps what it
 * copies, and reports a problem with one call as that call's error (for the
 * agent to send back to the model) rather than failing the whole reply.
 */
#include "daemon/llm/llm_parse.h"
#include "daemon/core/strbuf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLM_MAX_CALLS 16

/* Set c->error (printf-style). */
static void call_error(struct llm_tool_call *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void call_error(struct llm_tool_call *c, const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(c->error);
	c->error = strdup(buf);
}

/* Fill one call from name + arguments (string or object). */
int llm_call_fill(struct llm_tool_call *c, const char *id, const char *name, const json_t *arguments)
{
	memset(c, 0, sizeof(*c));
	c->id = strdup(id);
	c->name = strdup(name ? name : "");
	c->args = json_object();
	if (!c->id || !c->name || !c->args)
		return -1;
	if (json_is_object(arguments)) {
		json_object_update(c->args, (json_t *)arguments);
		c->raw_args = json_dumps(arguments, JSON_COMPACT);
	} else if (json_is_string(arguments)) {
		const char *s = json_string_value(arguments);
		c->raw_args = strdup(s);
		json_error_t je;
		json_t *v = json_loads(s, JSON_DECODE_ANY, &je);
		size_t k = strspn(s, " \t\r\n");
		if (s[k] == '\0') {
			json_decref(v); /* "" means no arguments */
		} else if (!json_is_object(v)) {
			call_error(c, "the arguments of %.40s are not a valid JSON object (%.120s at "
				   "position %d): send the call again with arguments as one JSON object",
				   c->name[0] ? c->name : "the tool call", v ? "not an object" : je.text,
				   je.position);
			json_decref(v);
			return 0;
		} else {
			json_object_update(c->args, v);
			json_decref(v);
		}
	} else if (arguments && !json_is_null(arguments)) {
		call_error(c, "the arguments of %.40s must be a JSON object", c->name);
		return 0;
	}
	if (!c->name[0])
		call_error(c, "a tool call came without a function name");
	return 0;
}

/* Append one more call to the reply; returns it zeroed, or NULL. */
static struct llm_tool_call *reply_add_call(struct llm_reply *r)
{
	if (r->ncalls >= LLM_MAX_CALLS)
		return NULL;
	struct llm_tool_call *p = realloc(r->calls, (r->ncalls + 1) * sizeof(*p));
	if (!p)
		return NULL;
	r->calls = p;
	memset(&p[r->ncalls], 0, sizeof(*p));
	return &p[r->ncalls++];
}

/* A JSON object that names one of our tools: {name, arguments|parameters} or
 * the analyst's {tool, args}.  Returns 1 when it filled a call. */
static int text_json_call(struct llm_reply *r, const char *s, size_t n)
{
	json_error_t je;
	json_t *v = json_loadb(s, n, 0, &je);
	const char *name = json_string_value(json_object_get(v, "name"));
	const json_t *args = json_object_get(v, "arguments");
	if (!name) {
		name = json_string_value(json_object_get(v, "tool"));
		args = json_object_get(v, "args");
	}
	if (!args)
		args = json_object_get(v, "parameters");
	int rc = 0;
	if (name && args) {
		struct llm_tool_call *c = reply_add_call(r);
		char id[32];
		snprintf(id, sizeof(id), "text-%zu", r->ncalls);
		rc = c && llm_call_fill(c, id, name, args) == 0 ? 1 : -1;
	}
	json_decref(v);
	return rc;
}

/* <tool_call>{...}</tool_call> blocks (Hermes / Qwen style). */
static int text_tool_tags(struct llm_reply *r, const char *text)
{
	int found = 0;
	const char *p = text;
	while ((p = strstr(p, "<tool_call>"))) {
		p += strlen("<tool_call>");
		const char *e = strstr(p, "</tool_call>");
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int rc = text_json_call(r, p, n);
		if (rc < 0)
			return -1;
		found += rc;
		p += n;
	}
	return found;
}

/* Is a fence's language tag one we run? */
static bool fence_is_python(const char *tag, size_t n)
{
	static const char *const ok[] = {"python", "py", "python3", "ipython", NULL};
	if (n == 0)
		return true;
	for (const char *const *k = ok; *k; k++)
		if (strlen(*k) == n && strncasecmp(tag, *k, n) == 0)
			return true;
	return false;
}

/* Collect the code of every python (or untagged) fence; *before = bytes of
 * prose before the first fence.  0 / -1. */
static int text_fences(const char *text, struct strbuf *code, size_t *before)
{
	const char *p = text;
	bool in = false, keep = false, seen = false;
	*before = strlen(text);
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		const char *t = p;
		while (t < p + n && (*t == ' ' || *t == '\t'))
			t++;
		if ((size_t)(p + n - t) >= 3 && strncmp(t, "```", 3) == 0) {
			if (!in) {
				const char *tag = t + 3;
				size_t tn = (size_t)(p + n - tag);
				while (tn && isspace((unsigned char)tag[tn - 1]))
					tn--;
				keep = fence_is_python(tag, tn);
				if (!seen)
					*before = (size_t)(p - text);
				seen = true;
				if (keep && code->len && strbuf_add(code, "\n\n", 2, SIZE_MAX) < 0)
					return -1;
			}
			in = !in;
		} else if (in && keep && (strbuf_add(code, p, n, SIZE_MAX) < 0 ||
					  strbuf_add(code, "\n", 1, SIZE_MAX) < 0)) {
			return -1;
		}
		p += n + (eol ? 1 : 0);
	}
	return 0;
}

/* One line of purpose from the prose before the code. */
static char *text_purpose(const char *text, size_t n)
{
	while (n && isspace((unsigned char)*text)) {
		text++;
		n--;
	}
	const char *nl = memchr(text, '\n', n);
	if (nl)
		n = (size_t)(nl - text);
	while (n && (isspace((unsigned char)text[n - 1]) || text[n - 1] == ':'))
		n--;
	if (n > 200)
		n = 200;
	return n ? strndup(text, n) : strdup("run the code the model wrote");
}

/* Add one synthesized call with string arguments. */
static int text_call(struct llm_reply *r, const char *name, json_t *args)
{
	struct llm_tool_call *c = reply_add_call(r);
	int rc = c && args ? llm_call_fill(c, "text-1", name, args) : -1;
	json_decref(args);
	return rc;
}

/* Plain text → one call (see llm_parse.h). */
int llm_parse_text(struct llm_reply *r, const char *text)
{
	int rc = text_tool_tags(r, text);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	size_t k = strspn(text, " \t\r\n");
	if (text[k] == '{' && text_json_call(r, text + k, strlen(text + k)) == 1)
		return 0;
	struct strbuf code = {0};
	size_t before;
	if (text_fences(text, &code, &before) < 0) {
		free(code.p);
		return -1;
	}
	if (code.len && strspn(code.p, " \t\r\n") < code.len) {
		char *purpose = text_purpose(text, before);
		rc = text_call(r, "run_python", json_pack("{s:s, s:s}", "code", code.p, "purpose",
							  purpose ? purpose : ""));
		free(purpose);
		free(code.p);
		return rc;
	}
	free(code.p);
	size_t n = strlen(text);
	while (n > k && isspace((unsigned char)text[n - 1])) /* k: leading " \t\r\n" only */
		n--;
	if (n && text[n - 1] == '?')
		return text_call(r, "ask_user", json_pack("{s:s%, s:[]}", "question", text + k,
							  n - k, "choices"));
	return text_call(r, "final_answer", json_pack("{s:s%}", "text", text + k, n - k));
}

/* Message content: a string, or an array of {type:"text", text} parts. */
static char *content_text(const json_t *content)
{
	if (json_is_string(content))
		return strdup(json_string_value(content));
	if (!json_is_array(content))
		return NULL;
	struct strbuf b = {0};
	size_t i;
	const json_t *part;
	json_array_foreach(content, i, part) {
		const char *t = json_string_value(json_object_get(part, "text"));
		if (t && strbuf_add(&b, t, strlen(t), SIZE_MAX) < 0) {
			free(b.p);
			return NULL;
		}
	}
	return b.p;
}

/* Tool calls of a message → r->calls. */
static int message_calls(struct llm_reply *r, const json_t *tcs)
{
	size_t i;
	const json_t *tc;
	json_array_foreach(tcs, i, tc) {
		const json_t *fn = json_object_get(tc, "function");
		const char *id = json_string_value(json_object_get(tc, "id"));
		char made[32];
		if (!id || !id[0]) {
			snprintf(made, sizeof(made), "call-%zu", i + 1);
			id = made;
		}
		struct llm_tool_call *c = reply_add_call(r);
		if (!c)
			return -1;
		if (llm_call_fill(c, id, json_string_value(json_object_get(fn, "name")),
				  json_object_get(fn, "arguments")) < 0)
			return -1;
	}
	return 0;
}

/* Assistant message → text + calls. */
int llm_parse_message(struct llm_reply *r, const json_t *message, char *err, size_t errlen)
{
	if (!json_is_object(message)) {
		snprintf(err, errlen, "the reply holds no assistant message");
		return -1;
	}
	r->text = content_text(json_object_get(message, "content"));
	const json_t *tcs = json_object_get(message, "tool_calls");
	if (json_is_array(tcs) && json_array_size(tcs) > 0) {
		if (message_calls(r, tcs) < 0) {
			snprintf(err, errlen, "out of memory reading the tool calls");
			return -1;
		}
		return 0;
	}
	const char *t = r->text ? r->text : "";
	if (t[strspn(t, " \t\r\n")] == '\0') {
		snprintf(err, errlen, "the model answered with neither text nor a tool call");
		return -1;
	}
	if (llm_parse_text(r, t) < 0) {
		snprintf(err, errlen, "out of memory reading the model's text");
		return -1;
	}
	return 0;
}

/* Usage numbers of a usage object. */
static void read_usage(const json_t *u, int64_t *pt, int64_t *ct)
{
	const json_t *p = json_object_get(u, "prompt_tokens");
	const json_t *c = json_object_get(u, "completion_tokens");
	if (json_is_integer(p))
		*pt = json_integer_value(p);
	if (json_is_integer(c))
		*ct = json_integer_value(c);
}

/* A whole (non-streamed) completion. */
int llm_parse_completion(const json_t *body, json_t **message, int64_t *pt, int64_t *ct,
			 char **model, char **finish_reason, char *err, size_t errlen)
{
	*message = NULL;
	*model = *finish_reason = NULL;
	*pt = *ct = -1;
	const json_t *ch = json_array_get(json_object_get(body, "choices"), 0);
	const json_t *msg = json_object_get(ch, "message");
	if (!json_is_object(msg)) {
		snprintf(err, errlen, "no choices[0].message in the reply");
		return -1;
	}
	*message = json_incref((json_t *)msg);
	read_usage(json_object_get(body, "usage"), pt, ct);
	const char *m = json_string_value(json_object_get(body, "model"));
	const char *f = json_string_value(json_object_get(ch, "finish_reason"));
	*model = m ? strdup(m) : NULL;
	*finish_reason = f ? strndup(f, 64) : NULL;
	return 0;
}

/* Copy at most cap-1 printable bytes of s into out. */
static void copy_clean(char *out, size_t cap, const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[k++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	if (cap)
		out[k] = '\0';
}

/* The server's explanation of an error. */
void llm_parse_error_body(const char *body, size_t len, char *msg, size_t msglen, char *code,
			  size_t codelen)
{
	msg[0] = code[0] = '\0';
	json_t *v = json_loadb(body ? body : "", len, 0, NULL);
	const json_t *e = json_object_get(v, "error");
	const char *m = json_string_value(e);
	if (!m)
		m = json_string_value(json_object_get(e, "message"));
	if (!m)
		m = json_string_value(json_object_get(v, "detail"));
	if (!m)
		m = json_string_value(json_object_get(v, "message"));
	const json_t *c = json_object_get(e, "code");
	if (!json_is_string(c))
		c = json_object_get(e, "type");
	if (json_is_string(c))
		copy_clean(code, codelen, json_string_value(c), json_string_length(c));
	if (m)
		copy_clean(msg, msglen, m, strlen(m));
	else if (!v && body)
		copy_clean(msg, msglen, body, len < 200 ? len : 200);
	json_decref(v);
}

/* One tool call being reassembled from deltas. */
struct stcall {
	long index;
	char *id;
	struct strbuf name, args;
};

struct llm_stream {
	struct strbuf text;
	struct stcall calls[LLM_MAX_CALLS];
	size_t ncalls, nchunks;
	int64_t pt, ct;
	char *model;
	char finish[32];
	bool done;
	size_t delta_off;
};

/* New accumulator. */
struct llm_stream *llm_stream_new(void)
{
	struct llm_stream *s = calloc(1, sizeof(*s));
	if (s)
		s->pt = s->ct = -1;
	return s;
}

/* Free an accumulator. */
void llm_stream_free(struct llm_stream *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncalls; i++) {
		free(s->calls[i].id);
		free(s->calls[i].name.p);
		free(s->calls[i].args.p);
	}
	free(s->text.p);
	free(s->model);
	free(s);
}

/* The slot of the tool call a delta belongs to (by index, else by id). */
static struct stcall *stream_slot(struct llm_stream *s, const json_t *tc)
{
	const json_t *ix = json_object_get(tc, "index");
	const char *id = json_string_value(json_object_get(tc, "id"));
	long index;
	if (json_is_integer(ix))
		index = (long)json_integer_value(ix);
	else if (id && id[0] && (!s->ncalls || !s->calls[s->ncalls - 1].id ||
				 strcmp(s->calls[s->ncalls - 1].id, id) != 0))
		index = s->ncalls ? s->calls[s->ncalls - 1].index + 1 : 0;
	else
		index = s->ncalls ? s->calls[s->ncalls - 1].index : 0;
	for (size_t i = 0; i < s->ncalls; i++)
		if (s->calls[i].index == index)
			return &s->calls[i];
	if (s->ncalls >= LLM_MAX_CALLS)
		return NULL;
	struct stcall *c = &s->calls[s->ncalls++];
	c->index = index;
	return c;
}

/* Apply the tool_calls of one delta. */
static int stream_tool_deltas(struct llm_stream *s, const json_t *tcs)
{
	size_t i;
	const json_t *tc;
	json_array_foreach(tcs, i, tc) {
		struct stcall *c = stream_slot(s, tc);
		if (!c)
			continue; /* past LLM_MAX_CALLS: ignored */
		const char *id = json_string_value(json_object_get(tc, "id"));
		if (id && id[0] && !c->id && !(c->id = strdup(id)))
			return -1;
		const json_t *fn = json_object_get(tc, "function");
		const char *name = json_string_value(json_object_get(fn, "name"));
		/* Some servers repeat the whole name in every chunk. */
		if (name && !(c->name.p && strcmp(c->name.p, name) == 0) &&
		    strbuf_add(&c->name, name, strlen(name), SIZE_MAX) < 0)
			return -1;
		const json_t *a = json_object_get(fn, "arguments");
		if (json_is_string(a) && strbuf_add(&c->args, json_string_value(a),
						    json_string_length(a), SIZE_MAX) < 0)
			return -1;
		if (json_is_object(a)) { /* a whole object at once (Ollama) */
			char *d = json_dumps(a, JSON_COMPACT);
			int rc = d ? strbuf_add(&c->args, d, strlen(d), SIZE_MAX) : -1;
			free(d);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

/* Apply one parsed chunk. */
static int stream_chunk(struct llm_stream *s, const json_t *v)
{
	const char *m = json_string_value(json_object_get(v, "model"));
	if (m && !s->model)
		s->model = strdup(m);
	const json_t *u = json_object_get(v, "usage");
	if (json_is_object(u))
		read_usage(u, &s->pt, &s->ct);
	const json_t *ch = json_array_get(json_object_get(v, "choices"), 0);
	const json_t *d = json_object_get(ch, "delta");
	if (!d)
		d = json_object_get(ch, "message");
	const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
	if (fr)
		snprintf(s->finish, sizeof(s->finish), "%s", fr);
	s->delta_off = s->text.len;
	const json_t *c = json_object_get(d, "content");
	if (json_is_string(c) &&
	    strbuf_add(&s->text, json_string_value(c), json_string_length(c), SIZE_MAX) < 0)
		return -1;
	const json_t *tcs = json_object_get(d, "tool_calls");
	if (json_is_array(tcs) && stream_tool_deltas(s, tcs) < 0)
		return -1;
	return 0;
}

/* Value of 4 hex digits at p (-1 when not hex). */
static long hex4(const char *p)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t k;
	unsigned long cp;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		k = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		k = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		k = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return k;
}

/* How many bytes at s[i] need replacing (0: fine), and how many to skip
 * when fine (*keep). */
static size_t fix_at(const char *s, size_t n, size_t i, size_t *keep)
{
	*keep = 1;
	if (s[i] == '\\') {
		if (i + 1 >= n)
			return 0;
		*keep = 2;
		if (s[i + 1] != 'u' || i + 6 > n)
			return 0;
		long v = hex4(s + i + 2);
		*keep = 6;
		if (v == 0 || (v >= 0xDC00 && v <= 0xDFFF))
			return 6;
		if (v >= 0xD800 && v <= 0xDBFF) {
			long w = i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(s + i + 8) : -1;
			if (w >= 0xDC00 && w <= 0xDFFF) {
				*keep = 12;
				return 0;
			}
			return 6;
		}
		return 0;
	}
	if ((unsigned char)s[i] < 0x80)
		return 0;
	size_t k = utf8_len((const unsigned char *)s + i, n - i);
	*keep = k ? k : 1;
	return k ? 0 : 1;
}

/* See llm_parse.h. */
char *llm_json_fix(const char *s, size_t *len)
{
	size_t n = *len, i = 0, keep = 1, bad = 0;
	while (i < n && !(bad = fix_at(s, n, i, &keep)))
		i += keep;
	if (i >= n)
		return NULL;
	struct strbuf out = {0};
	if (strbuf_add(&out, s, i, SIZE_MAX) < 0)
		return NULL;
	while (i < n) {
		bad = fix_at(s, n, i, &keep);
		const char *rep = bad == 6 ? "\\ufffd" : "\xEF\xBF\xBD";
		if (strbuf_add(&out, bad ? rep : s + i, bad ? (bad == 6 ? 6 : 3) : keep, SIZE_MAX) < 0) {
			free(out.p);
			return NULL;
		}
		i += bad ? bad : keep;
	}
	*len = out.len;
	return out.p;
}

/* Feed one SSE data payload. */
int llm_stream_feed(struct llm_stream *s, const char *data, size_t len, bool *server_error,
		    char *err, size_t errlen)
{
	*server_error = false;
	s->delta_off = s->text.len;
	size_t k = strspn(data, " \t\r\n");
	if (len - k >= 6 && strncmp(data + k, "[DONE]", 6) == 0) {
		s->done = true;
		return 1;
	}
	json_error_t je;
	size_t flen = len;
	char *fixed = llm_json_fix(data, &flen);
	json_t *v = json_loadb(fixed ? fixed : data, flen, 0, &je);
	free(fixed);
	if (!json_is_object(v)) {
		char snip[100];
		copy_clean(snip, sizeof(snip), data, len);
		snprintf(err, errlen, "a streamed chunk is not a JSON object: \"%s\"", snip);
		json_decref(v);
		return -1;
	}
	s->nchunks++;
	if (json_object_get(v, "error")) {
		char msg[300], code[64];
		char *d = json_dumps(v, JSON_COMPACT);
		llm_parse_error_body(d, d ? strlen(d) : 0, msg, sizeof(msg), code, sizeof(code));
		free(d);
		snprintf(err, errlen, "%s%s%s%s", msg[0] ? msg : "unknown error", code[0] ? " (" : "",
			 code, code[0] ? ")" : "");
		*server_error = true;
		json_decref(v);
		return -1;
	}
	int rc = stream_chunk(s, v);
	json_decref(v);
	if (rc < 0)
		snprintf(err, errlen, "out of memory while reading the stream");
	return rc;
}

/* Content delta of the last chunk. */
const char *llm_stream_delta(const struct llm_stream *s)
{
	return s->text.p ? s->text.p + s->delta_off : "";
}

/* Was the end of the answer seen? */
bool llm_stream_complete(const struct llm_stream *s)
{
	return s->done || s->finish[0];
}

/* Chunks received. */
size_t llm_stream_chunks(const struct llm_stream *s)
{
	return s->nchunks;
}

/* Bytes kept so far. */
size_t llm_stream_size(const struct llm_stream *s)
{
	size_t n = s->text.len;
	for (size_t i = 0; i < s->ncalls; i++)
		n += s->calls[i].name.len + s->calls[i].args.len;
	return n;
}

/* Sort calls by index (insertion sort: a handful at most). */
static void stream_sort(struct stcall **v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1]->index > v[j]->index; j--) {
			struct stcall *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Assemble the assistant message. */
json_t *llm_stream_result(const struct llm_stream *s, int64_t *pt, int64_t *ct, char **model,
			  const char **finish_reason)
{
	*pt = s->pt;
	*ct = s->ct;
	*model = s->model ? strdup(s->model) : NULL;
	*finish_reason = s->finish;
	json_t *msg = json_pack("{s:s, s:o}", "role", "assistant", "content",
				s->text.p ? json_string(s->text.p) : json_null());
	if (!msg || !s->ncalls)
		return msg;
	struct stcall *v[LLM_MAX_CALLS];
	for (size_t i = 0; i < s->ncalls; i++)
		v[i] = (struct stcall *)&s->calls[i];
	stream_sort(v, s->ncalls);
	json_t *tcs = json_array();
	for (size_t i = 0; i < s->ncalls; i++) {
		char made[32];
		snprintf(made, sizeof(made), "call-%zu", i + 1);
		json_array_append_new(tcs, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id",
			v[i]->id ? v[i]->id : made, "type", "function", "function", "name",
			v[i]->name.p ? v[i]->name.p : "", "arguments", v[i]->args.p ? v[i]->args.p : ""));
	}
	json_object_set_new(msg, "tool_calls", tcs);
	return msg;
}
