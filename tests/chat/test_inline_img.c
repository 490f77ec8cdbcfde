/*
 * tests/chat/test_inline_img.c — client/inline_img.c on small PNGs made
 * here with zlib: decoding (filters, colour types, broken files, hostile
 * headers beyond the caps, decompression bombs), the kitty
 * chunks (base64 round trip), sixel golden bytes and run-length encoding,
 * and the symbols text.  TAP output; exit 1 on the first failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "client/inline_img.h"
#include "tests/lib/tap.h"

/* One TAP line; exits on failure (later checks build on earlier ones). */
static void ok(int cond, const char *what)
{
	if (!tap_ok(cond, what))
		exit(1);
}

/* Append a PNG chunk (length, type, data, CRC) at *p. */
static void chunk(unsigned char **p, const char *type, const unsigned char *d, unsigned n)
{
	unsigned char *s = *p;
	s[0] = (unsigned char)(n >> 24), s[1] = (unsigned char)(n >> 16), s[2] = (unsigned char)(n >> 8), s[3] = (unsigned char)n;
	memcpy(s + 4, type, 4);
	if (n)
		memcpy(s + 8, d, n);
	unsigned long c = crc32(0, s + 4, n + 4);
	s[8 + n] = (unsigned char)(c >> 24), s[9 + n] = (unsigned char)(c >> 16);
	s[10 + n] = (unsigned char)(c >> 8), s[11 + n] = (unsigned char)c;
	*p = s + 12 + n;
}

/* A w x h RGBA (ctype 6) or RGB (ctype 2) PNG of px, row filters cycling
 * through none / sub / up; its length. */
static size_t make_png(unsigned char *out, int w, int h, int ctype, const unsigned char *px)
{
	int bpp = ctype == 6 ? 4 : 3;
	size_t stride = (size_t)w * (size_t)bpp, rawn = (stride + 1) * (size_t)h;
	unsigned char *raw = malloc(rawn), *z = malloc(rawn * 2 + 64), *p = out;
	unsigned char ihdr[13] = {0, 0, 0, (unsigned char)w, 0, 0, 0, (unsigned char)h, 8, (unsigned char)ctype, 0, 0, 0};
	for (int y = 0; y < h; y++) {
		unsigned char *row = raw + (size_t)y * (stride + 1), *cur = row + 1;
		row[0] = (unsigned char)(y % 3);
		for (size_t i = 0; i < stride; i++) {
			int x = (int)(i / (size_t)bpp), k = (int)(i % (size_t)bpp);
			int v = px[((size_t)y * (size_t)w + (size_t)x) * 4 + (size_t)k];
			int a = i >= (size_t)bpp ? px[((size_t)y * (size_t)w + (size_t)x - 1) * 4 + (size_t)k] : 0;
			int b = y ? px[((size_t)(y - 1) * (size_t)w + (size_t)x) * 4 + (size_t)k] : 0;
			cur[i] = (unsigned char)(row[0] == 0 ? v : row[0] == 1 ? v - a : v - b);
		}
	}
	uLongf zn = rawn * 2 + 64;
	compress(z, &zn, raw, rawn);
	memcpy(p, "\x89PNG\r\n\x1a\n", 8);
	p += 8;
	chunk(&p, "IHDR", ihdr, 13);
	chunk(&p, "IDAT", z, (unsigned)zn);
	chunk(&p, "IEND", NULL, 0);
	free(raw);
	free(z);
	return (size_t)(p - out);
}

/* A PNG whose IHDR claims w x h (any 32-bit values) with an IDAT of zn
 * compressed zero bytes (`raw` of them) and, when text > 0, a zTXt chunk of
 * `text` compressed zero bytes; malloc'd, its length in *len. */
static unsigned char *hostile_png(unsigned w, unsigned h, size_t raw, size_t text, size_t *len)
{
	size_t big = raw > text ? raw : text;
	unsigned char *zeros = calloc(1, big + 1), *z = malloc(big / 100 + 4096), *t = malloc(big / 100 + 4096);
	unsigned char *out = malloc(2 * (big / 100 + 4096) + 256), *p = out;
	unsigned char ihdr[13] = {(unsigned char)(w >> 24), (unsigned char)(w >> 16), (unsigned char)(w >> 8),
				  (unsigned char)w, (unsigned char)(h >> 24), (unsigned char)(h >> 16),
				  (unsigned char)(h >> 8), (unsigned char)h, 8, 2, 0, 0, 0};
	uLongf zn = big / 100 + 4096, tn = big / 100 + 4096 - 8;
	compress(z, &zn, zeros, raw);
	memcpy(t, "Comment\0\0", 9); /* keyword, NUL, compression method 0 */
	if (text)
		compress(t + 9, &tn, zeros, text);
	memcpy(p, "\x89PNG\r\n\x1a\n", 8);
	p += 8;
	chunk(&p, "IHDR", ihdr, 13);
	if (text)
		chunk(&p, "zTXt", t, (unsigned)(tn + 9));
	chunk(&p, "IDAT", z, (unsigned)zn);
	chunk(&p, "IEND", NULL, 0);
	free(zeros), free(z), free(t);
	*len = (size_t)(p - out);
	return out;
}

/* Hostile files: refused with a reason before anything big is allocated,
 * or (bombs) decoded at their declared small size. */
static void test_hostile(void)
{
	static const struct { unsigned w, h; const char *what; } bad[] = {
		{0x80000000u, 0x80000000u, "IHDR with 'negative' sizes refused"},
		{0x7fffffffu, 1, "IHDR 2^31-1 wide refused"},
		{CLI_IMG_MAX_SIDE + 1, 10, "wider than the side cap refused"},
		{CLI_IMG_MAX_SIDE, CLI_IMG_MAX_SIDE, "more pixels than the cap refused"},
		{0, 10, "zero width refused"},
	};
	struct cli_img im;
	char err[160];
	size_t n;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned char *png = hostile_png(bad[i].w, bad[i].h, 100, 0, &n);
		err[0] = '\0';
		int rc = cli_img_png_decode(png, n, &im, err, sizeof err);
		printf("# %ux%u: %s\n", bad[i].w, bad[i].h, err);
		ok(rc < 0 && err[0] && !im.rgba, bad[i].what);
		int w, h;
		ok(cli_img_png_size(png, n, &w, &h) < 0, "  and its size is refused too");
		free(png);
	}
	/* 10x10 RGB needs 310 bytes of image data; 16 MiB of zeros are given */
	unsigned char *png = hostile_png(10, 10, 16u << 20, 0, &n);
	int rc = cli_img_png_decode(png, n, &im, err, sizeof err);
	printf("# IDAT bomb (%zu bytes): %s\n", n, rc ? err : "decoded");
	ok(rc < 0 || (im.w == 10 && im.h == 10), "IDAT bomb: refused or just the 10x10 picture");
	cli_img_free(&im);
	free(png);
	png = hostile_png(10, 10, 310, 16u << 20, &n);
	rc = cli_img_png_decode(png, n, &im, err, sizeof err);
	printf("# zTXt bomb (%zu bytes): %s\n", n, rc ? err : "decoded");
	ok(rc < 0 || (im.w == 10 && im.h == 10), "zTXt bomb: refused or just the 10x10 picture");
	cli_img_free(&im);
	free(png);
	png = hostile_png(100, 100, 30100, 0, &n);
	ok(cli_img_png_decode(png, n - 40, &im, err, sizeof err) < 0 && err[0], "truncated IDAT refused");
	free(png);
}

/* Decode base64 (for checking kitty's payload); its length. */
static size_t unb64(const char *s, size_t n, unsigned char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	unsigned v = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *q = strchr(tab, s[i]);
		v = v << 6 | (unsigned)(q - tab);
		if ((bits += 6) >= 8)
			out[o++] = (unsigned char)(v >> (bits -= 8));
	}
	return o;
}

/* Decoding: pixels back, RGB as opaque, broken files refused. */
static void test_decode(void)
{
	unsigned char px[4 * 5 * 7], png[4096], bad[4096];
	struct cli_img im;
	char err[128];
	for (size_t i = 0; i < sizeof px; i++)
		px[i] = (unsigned char)(i * 37 + 11);
	size_t n = make_png(png, 5, 7, 6, px);
	ok(cli_img_png_decode(png, n, &im, err, sizeof err) == 0, "RGBA PNG decodes");
	ok(im.w == 5 && im.h == 7 && !memcmp(im.rgba, px, sizeof px), "RGBA pixels survive sub/up filters");
	cli_img_free(&im);
	for (size_t i = 3; i < sizeof px; i += 4)
		px[i] = 255;
	n = make_png(png, 5, 7, 2, px);
	ok(cli_img_png_decode(png, n, &im, err, sizeof err) == 0 && !memcmp(im.rgba, px, sizeof px),
	   "RGB PNG decodes as opaque RGBA");
	cli_img_free(&im);
	memcpy(bad, png, n);
	ok(cli_img_png_decode(bad, n / 2, &im, err, sizeof err) < 0 && err[0], "truncated PNG refused");
	bad[n - 20] ^= 0x55; /* inside the compressed data */
	ok(cli_img_png_decode(bad, n, &im, err, sizeof err) < 0, "corrupt image data refused");
	ok(cli_img_png_decode((const unsigned char *)"GIF89a..........................", 32, &im, err,
			      sizeof err) < 0, "not a PNG refused");
}

/* kitty: one chunk for a small PNG, the payload is the file. */
static void test_kitty(void)
{
	unsigned char px[4 * 4] = {255, 0, 0, 255, 0, 0, 255, 255, 0, 255, 0, 255, 9, 9, 9, 128};
	unsigned char png[1024], back[1024];
	size_t n = make_png(png, 2, 2, 6, px), len;
	char *k = cli_img_kitty(png, n, 0, &len);
	const char *head = "\033_Gf=100,a=T,m=0;";
	ok(k && !strncmp(k, head, strlen(head)), "kitty header: transmit+show PNG, last chunk");
	ok(len > 3 && !strcmp(k + len - 3, "\033\\\n"), "kitty ends with ST and a newline");
	size_t b = unb64(k + strlen(head), len - strlen(head) - 3, back);
	ok(b == n && !memcmp(back, png, n), "kitty payload is the PNG in base64");
	free(k);
	unsigned char *big = malloc(20000);
	for (int i = 0; i < 20000; i++)
		big[i] = (unsigned char)i;
	k = cli_img_kitty(big, 20000, 40, &len);
	ok(k && !strncmp(k, "\033_Gf=100,a=T,c=40,m=1;", 22) && strstr(k, "\033_Gm=0;"),
	   "big image: chunks with m=1 ... m=0, fitted to 40 columns");
	free(k);
	free(big);
}

/* sixel: exact bytes for a red+blue pair, RLE for a run, two bands. */
static void test_sixel(void)
{
	unsigned char rb[8] = {255, 0, 0, 255, 0, 0, 255, 255};
	struct cli_img im = {2, 1, rb};
	size_t len;
	char *s = cli_img_sixel(&im, &len);
	const char *want = "\033P0;1;0q\"1;1;2;1#3;2;0;0;100#224;2;100;0;0#3?@$#224@?-\033\\\n";
	ok(s && len == strlen(want) && !strcmp(s, want), "sixel golden bytes (2x1 red, blue)");
	free(s);
	unsigned char red[4 * 10 * 7];
	for (int i = 0; i < 70; i++)
		memcpy(red + 4 * i, "\xff\x00\x00\xff", 4);
	im = (struct cli_img){10, 7, red};
	s = cli_img_sixel(&im, &len);
	ok(s && strstr(s, "\"1;1;10;7") && strstr(s, "#224!10~-#224!10@-"),
	   "sixel: raster size, run-length bands of 6 rows then 1");
	free(s);
	unsigned char clear[4] = {0, 0, 0, 0};
	im = (struct cli_img){1, 1, clear};
	s = cli_img_sixel(&im, &len);
	ok(s && strstr(s, "#255;2;100;100;100"), "transparent pixels are drawn over white");
	free(s);
}

/* Symbols: text, one line per two pixel rows. */
static void test_symbols(void)
{
	unsigned char px[4 * 8 * 8];
	for (int i = 0; i < 64; i++)
		memcpy(px + 4 * i, i < 32 ? "\x10\x20\x30\xff" : "\xf0\xe0\xd0\xff", 4);
	struct cli_img im = {8, 8, px};
	size_t len;
	char *s = cli_img_symbols(&im, 8, &len);
	int lines = 0;
	for (size_t i = 0; s && i < len; i++)
		lines += s[i] == '\n';
	ok(s && lines == 4 && strstr(s, "\033[0m\n"), "symbols: 8 columns -> 4 lines of text");
	if (!strcmp(cli_img_symbols_kind(), "half-blocks"))
		ok(strstr(s, "\u2580") && strstr(s, "\033[38;2;16;32;48m") && strstr(s, "\033[48;2;240;224;208m"),
		   "half blocks carry the image's colours");
	free(s);
}

int main(void)
{
	test_decode();
	test_hostile();
	test_kitty();
	test_sixel();
	test_symbols();
	return tap_done();
}
