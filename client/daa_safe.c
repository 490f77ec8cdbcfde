/*
 * client/daa_safe.c — the terminal-safe sanitizer (rules in daa_safe.h):
 * a byte-at-a-time state machine for escape sequences, UTF-8 checked
 * character by character, and stdout/stderr routed through it with
 * fopencookie so that no printing path of the CLI can forget it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/daa_safe.h"

enum { S_TEXT, S_ESC, S_ESC_I, S_CSI, S_STR, S_STR_ESC };

/* Longest sequences removed whole: a longer one is not a real one, and what
 * follows is shown as text (without its ESC) rather than hidden. */
#define SEQ_MAX 64    /* CSI and short ESC forms */
#define STR_MAX 4096  /* OSC, DCS, SOS, PM, APC */

/* Output collected in a small buffer, handed on in runs. */
struct emit {
	daa_safe_out_fn out;
	void *ud;
	char buf[512];
	size_t n;
};

static void emit_flush(struct emit *e)
{
	if (e->n)
		e->out(e->buf, e->n, e->ud);
	e->n = 0;
}

static void emit(struct emit *e, const char *s, size_t n)
{
	if (e->n + n > sizeof e->buf)
		emit_flush(e);
	memcpy(e->buf + e->n, s, n);
	e->n += n;
}

/* A C0 control or DEL as ^X. */
static void emit_caret(struct emit *e, unsigned char c)
{
	char v[2] = {'^', (char)(c ^ 0x40)};
	emit(e, v, 2);
}

/* A byte that is not UTF-8 as \xNN. */
static void emit_hex(struct emit *e, unsigned char c)
{
	char v[5];
	snprintf(v, sizeof v, "\\x%02X", c);
	emit(e, v, 4);
}

void daa_safe_init(struct daa_safe *s)
{
	memset(s, 0, sizeof *s);
}

/* The held UTF-8 character is not one: each of its bytes as \xNN. */
static void utf8_bad(struct daa_safe *s, struct emit *e)
{
	for (int i = 0; i < s->un; i++)
		emit_hex(e, s->u[i]);
	s->un = s->uneed = 0;
}

/* The held character is complete: shown as is, as <U+XXXX>, or as bytes. */
static void utf8_done(struct daa_safe *s, struct emit *e)
{
	unsigned cp = s->uneed == 2 ? (s->u[0] & 0x1fu) : s->uneed == 3 ? (s->u[0] & 0x0fu) : (s->u[0] & 0x07u);
	for (int i = 1; i < s->un; i++)
		cp = cp << 6 | (s->u[i] & 0x3fu);
	bool ok = (s->uneed == 2 && cp >= 0x80) ||
		  (s->uneed == 3 && cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff)) ||
		  (s->uneed == 4 && cp >= 0x10000 && cp <= 0x10ffff);
	if (!ok) {
		utf8_bad(s, e);
		return;
	}
	if (cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
		char v[16];
		int k = snprintf(v, sizeof v, "<U+%04X>", cp);
		emit(e, v, (size_t)k);
	} else {
		emit(e, (const char *)s->u, (size_t)s->un);
	}
	s->un = s->uneed = 0;
}

/* One byte of plain text (not inside a sequence). */
static void text_byte(struct daa_safe *s, struct emit *e, unsigned char c)
{
	if (s->uneed) {
		if ((c & 0xc0) == 0x80) {
			s->u[s->un++] = c;
			if (s->un == s->uneed)
				utf8_done(s, e);
			return;
		}
		utf8_bad(s, e);
	}
	if (s->cr) {
		s->cr = false;
		if (c == '\n') {
			emit(e, "\r\n", 2);
			return;
		}
		emit(e, "^M", 2);
	}
	if (c == '\r')
		s->cr = true;
	else if (c == 0x1b)
		s->st = S_ESC, s->seqlen = 0;
	else if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
		emit(e, (const char *)&c, 1);
	else if (c < 0x20 || c == 0x7f)
		emit_caret(e, c);
	else if (c >= 0xc2 && c <= 0xf4)
		s->u[0] = c, s->un = 1, s->uneed = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	else
		emit_hex(e, c);
}

/* One byte; returns false when it must be looked at again as text. */
static bool seq_byte(struct daa_safe *s, struct emit *e, unsigned char c)
{
	if (++s->seqlen > (s->st == S_STR || s->st == S_STR_ESC ? STR_MAX : SEQ_MAX)) {
		s->st = S_TEXT;
		return false;
	}
	switch (s->st) {
	case S_ESC:
		if (c == '[')
			s->st = S_CSI;
		else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
			s->st = S_STR;
		else if (c >= 0x20 && c <= 0x2f)
			s->st = S_ESC_I;
		else if (c >= 0x30 && c <= 0x7e)
			s->st = S_TEXT; /* a two-byte sequence: removed */
		else {
			emit_caret(e, 0x1b); /* a lone ESC */
			s->st = S_TEXT;
			return false;
		}
		return true;
	case S_ESC_I:
		if (c >= 0x20 && c <= 0x2f)
			return true;
		s->st = S_TEXT;
		return c >= 0x30 && c <= 0x7e;
	case S_CSI:
		if (c >= 0x20 && c <= 0x3f)
			return true;
		s->st = S_TEXT;
		return c >= 0x40 && c <= 0x7e;
	case S_STR:
		if (c == 0x1b)
			s->st = S_STR_ESC;
		else if (c == 0x07 || c == 0x9c || c == 0x18 || c == 0x1a)
			s->st = S_TEXT;
		else if (c == '\n') {
			s->st = S_TEXT; /* shown: the newline ends the string */
			return false;
		}
		return true;
	case S_STR_ESC:
		if (c == '\\') {
			s->st = S_TEXT;
			return true;
		}
		s->st = S_ESC; /* ESC ends the string and starts a sequence */
		s->seqlen = 0;
		return seq_byte(s, e, c);
	}
	return false;
}

void daa_safe_feed(struct daa_safe *s, const char *in, size_t n, daa_safe_out_fn out, void *ud)
{
	struct emit e = {.out = out, .ud = ud};
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (s->st == S_TEXT || !seq_byte(s, &e, c))
			text_byte(s, &e, c);
	}
	emit_flush(&e);
}

void daa_safe_finish(struct daa_safe *s, daa_safe_out_fn out, void *ud)
{
	struct emit e = {.out = out, .ud = ud};
	if (s->st == S_ESC)
		emit_caret(&e, 0x1b);
	utf8_bad(s, &e);
	if (s->cr)
		emit(&e, "^M", 2);
	emit_flush(&e);
	daa_safe_init(s);
}

/* A growing string for daa_safe_str. */
struct grow {
	char *p;
	size_t n, cap;
	bool oom;
};

static void grow_out(const char *s, size_t n, void *ud)
{
	struct grow *g = ud;
	if (g->oom)
		return;
	if (g->n + n + 1 > g->cap) {
		size_t cap = (g->n + n + 1) * 2;
		char *p = realloc(g->p, cap);
		if (!p) {
			g->oom = true;
			return;
		}
		g->p = p;
		g->cap = cap;
	}
	memcpy(g->p + g->n, s, n);
	g->n += n;
}

char *daa_safe_str(const char *in, size_t n, size_t *outlen)
{
	struct daa_safe s;
	struct grow g = {0};
	daa_safe_init(&s);
	grow_out("", 0, &g);
	daa_safe_feed(&s, in, n, grow_out, &g);
	daa_safe_finish(&s, grow_out, &g);
	if (g.oom || !g.p) {
		free(g.p);
		return NULL;
	}
	g.p[g.n] = '\0';
	if (outlen)
		*outlen = g.n;
	return g.p;
}

/* ---- stdout and stderr behind the sanitizer ---- */

/* A wrapped stream: the sanitizer's state and the real stream under it. */
struct wrap {
	struct daa_safe s;
	FILE *raw;
};

static struct wrap wrap_out, wrap_err;
static FILE *raw_out; /* the real stdout when wrapped */

static void wrap_put(const char *s, size_t n, void *ud)
{
	fwrite(s, 1, n, ud);
}

static ssize_t wrap_write(void *cookie, const char *buf, size_t n)
{
	struct wrap *w = cookie;
	daa_safe_feed(&w->s, buf, n, wrap_put, w->raw);
	fflush(w->raw);
	return (ssize_t)n;
}

static int wrap_close(void *cookie)
{
	struct wrap *w = cookie;
	daa_safe_finish(&w->s, wrap_put, w->raw);
	return fflush(w->raw);
}

/* A sanitizing stream over raw, buffered like it. */
static FILE *wrap_open(struct wrap *w, FILE *raw, int mode)
{
	cookie_io_functions_t io = {.write = wrap_write, .close = wrap_close};
	daa_safe_init(&w->s);
	w->raw = raw;
	FILE *f = fopencookie(w, "w", io);
	if (f)
		setvbuf(f, NULL, mode, mode == _IONBF ? 0 : BUFSIZ);
	return f;
}

int daa_safe_install(bool out, bool err)
{
	if (out && !raw_out) {
		FILE *f = wrap_open(&wrap_out, stdout, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF);
		if (!f)
			return -1;
		fflush(stdout);
		raw_out = stdout;
		stdout = f;
	}
	if (err && !wrap_err.raw) {
		FILE *f = wrap_open(&wrap_err, stderr, _IONBF);
		if (!f)
			return -1;
		stderr = f;
	}
	return 0;
}

void daa_safe_field_end(FILE *f)
{
	struct wrap *w = f == stdout && raw_out ? &wrap_out : f == stderr && wrap_err.raw ? &wrap_err : NULL;
	if (!w)
		return;
	fflush(f);
	daa_safe_finish(&w->s, wrap_put, w->raw);
	fflush(w->raw);
}

FILE *daa_safe_raw_stream(void)
{
	return raw_out ? raw_out : stdout;
}

FILE *daa_safe_raw_of(FILE *f)
{
	if (f == stdout && raw_out)
		return raw_out;
	if (f == stderr && wrap_err.raw)
		return wrap_err.raw;
	return f;
}

void daa_safe_raw(const void *p, size_t n)
{
	fflush(stdout);
	FILE *f = daa_safe_raw_stream();
	fwrite(p, 1, n, f);
	fflush(f);
}
