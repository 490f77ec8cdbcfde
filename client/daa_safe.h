/*
 * client/daa_safe.h — the one sanitizer for text that did not come from daa
 * itself (kernel output, tracebacks, dataset cells, answers, questions,
 * choices, error messages) on its way to a terminal, as git, less -R and
 * tmux treat untrusted text:
 *
 *   - ESC sequences are removed whole: CSI (ESC [ … final), OSC, DCS, SOS,
 *     PM, APC (ESC ] P X ^ _ … up to BEL, ESC \, 0x9C, CAN, SUB or a newline,
 *     which is kept) and the short ESC forms (ESC intermediates final);
 *     a "sequence" longer than 64 bytes (4096 for the strings) is no real
 *     one: it ends there and the rest shows as text;
 *   - a lone ESC and every other C0 control but newline and tab is shown as
 *     ^X (ESC ^[, DEL ^?); a carriage return too (^M) unless a newline follows;
 *   - C1 controls written as UTF-8 (U+0080–U+009F) and the bidi overrides and
 *     isolates (U+202A–U+202E, U+2066–U+2069) are shown as <U+XXXX>;
 *   - bytes that are not valid UTF-8 (raw 0x80–0xFF, overlongs, surrogates)
 *     are shown as \xNN.
 * What it writes holds no control but newline and tab, so it is idempotent.
 *
 * daa_safe_install() routes stdout (unless --json: that stays byte-exact)
 * and stderr through it, so every printf of daa passes it; daa's own escape
 * sequences (inline images, readline, clearing the prompt line) go through
 * daa_safe_raw() instead.
 */
#ifndef DAA_SAFE_H
#define DAA_SAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The streaming state (a sequence or a character may span two writes). */
struct daa_safe {
	int st;               /* where in an escape sequence */
	unsigned char u[4];   /* a UTF-8 character so far */
	int un, uneed;        /* bytes held, bytes the character has */
	bool cr;              /* a carriage return waits for its newline */
	int seqlen;           /* bytes of the sequence so far */
};

/* Where sanitized bytes go. */
typedef void (*daa_safe_out_fn)(const char *s, size_t n, void *ud);

void daa_safe_init(struct daa_safe *s);
/* Sanitize n more bytes of the stream. */
void daa_safe_feed(struct daa_safe *s, const char *in, size_t n, daa_safe_out_fn out, void *ud);
/* End of the stream: what is held back is shown (or dropped) for good. */
void daa_safe_finish(struct daa_safe *s, daa_safe_out_fn out, void *ud);

/* The pure function: n bytes in, their sanitized text out (malloc'd,
 * NUL-terminated, length in *outlen when not NULL); NULL when out of memory. */
char *daa_safe_str(const char *in, size_t n, size_t *outlen);

/* Put stdout (when out) and stderr (when err) behind the sanitizer.  0 or -1. */
int daa_safe_install(bool out, bool err);
/* One untrusted field written to f (stdout or stderr) ends here: a sequence
 * or character it left open is closed (shown or dropped), so that it cannot
 * swallow daa's own text after it. */
void daa_safe_field_end(FILE *f);
/* Write daa's own bytes (escape sequences) to the terminal as they are,
 * after what stdout holds. */
void daa_safe_raw(const void *p, size_t n);
/* The stream for such bytes (readline's rl_outstream); stdout when not installed. */
FILE *daa_safe_raw_stream(void);
/* The real stream behind f (stdout or stderr when wrapped; else f itself),
 * for daa's own escape sequences on that stream (flush f first). */
FILE *daa_safe_raw_of(FILE *f);

#endif
