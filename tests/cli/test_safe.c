/*
 * tests/cli/test_safe.c — client/daa_safe.c: escape sequences removed,
 * controls and bad UTF-8 shown visibly, the same result whether the bytes
 * come in one write or one byte at a time, and idempotence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/daa_safe.h"

static int failed;

/* Output of a byte-at-a-time feed, collected. */
struct acc {
	char buf[4096];
	size_t n;
};

static void acc_out(const char *s, size_t n, void *ud)
{
	struct acc *a = ud;
	if (a->n + n < sizeof a->buf) {
		memcpy(a->buf + a->n, s, n);
		a->n += n;
	}
	a->buf[a->n] = '\0';
}

static void check(const char *name, const char *in, size_t n, const char *want)
{
	size_t len;
	char *got = daa_safe_str(in, n, &len);
	struct daa_safe s;
	struct acc a = {.n = 0};
	daa_safe_init(&s);
	for (size_t i = 0; i < n; i++)
		daa_safe_feed(&s, in + i, 1, acc_out, &a);
	daa_safe_finish(&s, acc_out, &a);
	char *again = got ? daa_safe_str(got, len, NULL) : NULL;
	if (!got || strcmp(got, want) != 0 || len != strlen(want)) {
		printf("FAIL %s: got \"%s\", want \"%s\"\n", name, got ? got : "(null)", want);
		failed++;
	} else if (strcmp(a.buf, want) != 0) {
		printf("FAIL %s (byte at a time): got \"%s\", want \"%s\"\n", name, a.buf, want);
		failed++;
	} else if (!again || strcmp(again, got) != 0) {
		printf("FAIL %s: not idempotent: \"%s\"\n", name, again ? again : "(null)");
		failed++;
	} else {
		printf("ok   %s\n", name);
	}
	free(got);
	free(again);
}

#define CHECK(name, in, want) check(name, in, sizeof(in) - 1, want)

/* Is out safe: valid UTF-8 without C0 (but newline, tab, CR before a
 * newline), DEL, C1 or bidi controls?  NULL, or what is wrong. */
static const char *unsafe(const unsigned char *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned c = o[i], cp, k;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\n' && c != '\t' && !(c == '\r' && i + 1 < n && o[i + 1] == '\n')) ||
			    c == 0x7f)
				return "a control character";
			continue;
		}
		k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
		if (!k || c > 0xf4 || i + k >= n)
			return "invalid UTF-8";
		cp = c & (0x3fu >> k);
		for (unsigned j = 1; j <= k; j++) {
			if ((o[i + j] & 0xc0) != 0x80)
				return "invalid UTF-8";
			cp = cp << 6 | (o[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp > 0x10ffff)
			return "invalid UTF-8 (overlong, surrogate, too big)";
		if (cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return "a C1 or bidi control";
		i += k;
	}
	return NULL;
}

/* Random strings over an alphabet of the troublesome bytes: always safe,
 * the same byte at a time, idempotent (fixed seed: reproducible). */
static void check_random(void)
{
	static const unsigned char alpha[] = "\033[]P_^X\\\a\r\n\t;0123aZ~\x9b\x9c\xc2\xe2\x80\x81\xae\xa9"
					     "\xf0\x9f\x98\xed\xa0\xc0\xff\x7f\x18\x01";
	unsigned seed = 12345;
	int bad = 0;
	for (int t = 0; t < 20000 && !bad; t++) {
		char in[96];
		size_t n = (seed = seed * 1103515245 + 12345) >> 16 & 63, len;
		for (size_t i = 0; i < n; i++)
			in[i] = (char)alpha[((seed = seed * 1103515245 + 12345) >> 16) % (sizeof alpha - 1)];
		char *out = daa_safe_str(in, n, &len);
		struct daa_safe s;
		struct acc a = {.n = 0};
		daa_safe_init(&s);
		for (size_t i = 0; i < n; i++)
			daa_safe_feed(&s, in + i, 1, acc_out, &a);
		daa_safe_finish(&s, acc_out, &a);
		char *again = out ? daa_safe_str(out, len, NULL) : NULL;
		const char *why = out ? unsafe((const unsigned char *)out, len) : "out of memory";
		if (!why && (a.n != len || memcmp(a.buf, out, len)))
			why = "byte at a time differs";
		if (!why && (!again || strcmp(again, out)))
			why = "not idempotent";
		if (why) {
			printf("FAIL random string %d: %s:", t, why);
			for (size_t i = 0; i < n; i++)
				printf(" %02x", (unsigned char)in[i]);
			printf(" -> \"%s\"\n", out ? out : "");
			bad = 1;
		}
		free(out);
		free(again);
	}
	if (!bad)
		printf("ok   20000 random strings: safe, the same byte at a time, idempotent\n");
	failed += bad;
}

int main(void)
{
	CHECK("plain", "hello, wörld ✓ 😀\tx\n", "hello, wörld ✓ 😀\tx\n");
	CHECK("empty", "", "");
	CHECK("OSC 52 clipboard (BEL)", "a\033]52;c;ZXZpbA==\007b", "ab");
	CHECK("OSC 0 title (ST)", "a\033]0;pwned\033\\b", "ab");
	CHECK("OSC 8 hyperlink", "\033]8;;http://evil/\033\\click\033]8;;\033\\.", "click.");
	CHECK("CSI clear screen", "x\033[2J\033[H\033[1;31mred\033[0m", "xred");
	CHECK("CSI private", "\033[?1049h\033[?25lz", "z");
	CHECK("DCS", "\033P1$tq\033\\ok", "ok");
	CHECK("APC kitty", "\033_Gf=100;AAAA\033\\ok", "ok");
	CHECK("short ESC forms", "\033c\033(B\0337ok", "ok");
	CHECK("unterminated OSC ends at newline", "\033]0;title\nnext", "\nnext");
	CHECK("OSC cancelled by CAN", "\033]0;t\030after", "after");
	CHECK("ESC inside OSC starts a sequence", "\033]0;t\033[31mred", "red");
	CHECK("lone ESC", "a\033\001b", "a^[^Ab");
	CHECK("ESC at the end", "a\033", "a^[");
	CHECK("C0 controls", "\001\002\007\010\013\014\177", "^A^B^G^H^K^L^?");
	CHECK("carriage return overwrite", "safe\rEVIL", "safe^MEVIL");
	CHECK("CRLF kept", "a\r\nb\r", "a\r\nb^M");
	CHECK("C1 as UTF-8", "\xc2\x9b" "2J\xc2\x9d" "0;t\xc2\x85", "<U+009B>2J<U+009D>0;t<U+0085>");
	CHECK("raw C1 bytes", "\x9b" "2J\x9d", "\\x9B2J\\x9D");
	CHECK("bidi overrides", "a\xe2\x80\xae" "cba\xe2\x81\xa6" "x\xe2\x81\xa9", "a<U+202E>cba<U+2066>x<U+2069>");
	CHECK("invalid UTF-8", "\xff\xfe" "a\xc3" "b\xe2\x82", "\\xFF\\xFEa\\xC3b\\xE2\\x82");
	CHECK("overlong and surrogate", "\xc0\xaf\xe0\x80\xaf\xed\xa0\x80", "\\xC0\\xAF\\xE0\\x80\\xAF\\xED\\xA0\\x80");
	CHECK("beyond U+10FFFF", "\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80");
	CHECK("NUL", "a\0b", "a^@b");
	CHECK("CSI aborted by a control", "\033[12\nx", "\nx");
	/* ESC [ and 65 digits: the 64th byte after ESC is the last one removed */
	CHECK("a CSI too long to be one", "\033[11111111111111111111111111111111111111111111111111111111111111111x",
	      "11x");
	char big[5001];
	memset(big, 'p', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "\033]0;", 4);
	check("an OSC too long to be one", big, sizeof big - 1, big + 4097);
	check_random();
	return failed ? 1 : 0;
}
