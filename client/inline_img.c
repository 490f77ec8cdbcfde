/*
 * client/inline_img.c — pictures for terminals: PNG decoding (zlib for the
 * inflate), scaling, and the kitty / sixel / symbols encodings (see
 * client/inline_img.h).  Everything works on memory buffers and returns
 * malloc'd escape sequences, so the bytes can be tested without a terminal.
 * Input is untrusted (a kernel wrote the PNG): every size is checked.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#ifdef DAA_HAVE_CHAFA
#include <chafa.h>
#endif

#include "client/inline_img.h"

#define PNG_MAX_PIXELS (16u * 1024 * 1024)

/* Big-endian 32-bit value at p. */
static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Width and height from the IHDR chunk. */
int cli_img_png_size(const unsigned char *buf, size_t len, int *w, int *h)
{
	if (len < 24 || memcmp(buf, "\x89PNG\r\n\x1a\n", 8) || memcmp(buf + 12, "IHDR", 4))
		return -1;
	uint32_t ww = be32(buf + 16), hh = be32(buf + 20);
	if (!ww || !hh || ww > 65535 || hh > 65535)
		return -1;
	*w = (int)ww;
	*h = (int)hh;
	return 0;
}

/* What the chunks say: header fields, palette, transparency, the IDAT bytes. */
struct png_info {
	int w, h, depth, ctype, interlace;
	unsigned char pal[256][4];
	int npal;
	unsigned char *idat;
	size_t nidat;
};

/* Walk the chunks after the signature, filling pi; 0 or -1 (err). */
static int png_chunks(const unsigned char *buf, size_t len, struct png_info *pi, char *err,
		      size_t es)
{
	size_t off = 8;
	while (off + 12 <= len) {
		uint32_t n = be32(buf + off);
		const unsigned char *type = buf + off + 4, *d = buf + off + 8;
		if (n > len - off - 12) {
			snprintf(err, es, "truncated PNG chunk");
			return -1;
		}
		if (!memcmp(type, "IHDR", 4) && n >= 13 && off == 8) {
			/* only the first chunk: its size is the one checked */
			pi->w = (int)be32(d);
			pi->h = (int)be32(d + 4);
			pi->depth = d[8];
			pi->ctype = d[9];
			pi->interlace = d[12];
		} else if (!memcmp(type, "PLTE", 4)) {
			pi->npal = (int)(n / 3 > 256 ? 256 : n / 3);
			for (int i = 0; i < pi->npal; i++) {
				memcpy(pi->pal[i], d + 3 * i, 3);
				pi->pal[i][3] = 255;
			}
		} else if (!memcmp(type, "tRNS", 4) && pi->ctype == 3) {
			for (uint32_t i = 0; i < n && i < 256; i++)
				pi->pal[i][3] = d[i];
		} else if (!memcmp(type, "IDAT", 4)) {
			unsigned char *nb = realloc(pi->idat, pi->nidat + n + 1);
			if (!nb) {
				snprintf(err, es, "out of memory");
				return -1;
			}
			pi->idat = nb;
			memcpy(pi->idat + pi->nidat, d, n);
			pi->nidat += n;
		} else if (!memcmp(type, "IEND", 4)) {
			return 0;
		}
		off += 12 + (size_t)n;
	}
	snprintf(err, es, "PNG without an end chunk");
	return -1;
}

/* Paeth predictor (PNG spec 9.4). */
static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undo the per-row filters in place (raw: h rows of 1 + stride bytes). */
static int png_unfilter(unsigned char *raw, int h, size_t stride, int bpp)
{
	for (int y = 0; y < h; y++) {
		unsigned char *row = raw + (size_t)y * (stride + 1), *cur = row + 1;
		const unsigned char *prev = y ? raw + (size_t)(y - 1) * (stride + 1) + 1 : NULL;
		int f = row[0];
		for (size_t i = 0; i < stride; i++) {
			int a = i >= (size_t)bpp ? cur[i - bpp] : 0, b = prev ? prev[i] : 0;
			int c = prev && i >= (size_t)bpp ? prev[i - bpp] : 0;
			switch (f) {
			case 0: break;
			case 1: cur[i] = (unsigned char)(cur[i] + a); break;
			case 2: cur[i] = (unsigned char)(cur[i] + b); break;
			case 3: cur[i] = (unsigned char)(cur[i] + (a + b) / 2); break;
			case 4: cur[i] = (unsigned char)(cur[i] + paeth(a, b, c)); break;
			default: return -1;
			}
		}
	}
	return 0;
}

/* One decoded pixel x of a row into rgba. */
static void png_pixel(const struct png_info *pi, const unsigned char *row, int x, unsigned char *o)
{
	switch (pi->ctype) {
	case 0: o[0] = o[1] = o[2] = row[x]; o[3] = 255; break;
	case 2: memcpy(o, row + 3 * x, 3); o[3] = 255; break;
	case 3: memcpy(o, pi->pal[row[x] < pi->npal ? row[x] : 0], 4); break;
	case 4: o[0] = o[1] = o[2] = row[2 * x]; o[3] = row[2 * x + 1]; break;
	default: memcpy(o, row + 4 * x, 4); break;
	}
}

/* Decode an 8-bit non-interlaced PNG into RGBA. */
int cli_img_png_decode(const unsigned char *buf, size_t len, struct cli_img *out, char *err,
		       size_t es)
{
	static const int chans[7] = {1, 0, 3, 1, 2, 0, 4};
	struct png_info pi;
	unsigned char *raw = NULL;
	memset(&pi, 0, sizeof pi);
	memset(out, 0, sizeof *out);
	if (cli_img_png_size(buf, len, &pi.w, &pi.h) < 0) {
		snprintf(err, es, "not a PNG file");
		return -1;
	}
	if (png_chunks(buf, len, &pi, err, es) < 0)
		goto fail;
	if (pi.depth != 8 || pi.ctype > 6 || !chans[pi.ctype] || pi.interlace ||
	    (pi.ctype == 3 && !pi.npal) || (uint64_t)pi.w * (uint64_t)pi.h > PNG_MAX_PIXELS) {
		snprintf(err, es, "unsupported PNG (depth %d, colour type %d, interlace %d, %dx%d)",
			 pi.depth, pi.ctype, pi.interlace, pi.w, pi.h);
		goto fail;
	}
	int bpp = chans[pi.ctype];
	size_t stride = (size_t)pi.w * (size_t)bpp;
	uLongf rawlen = (uLongf)((stride + 1) * (size_t)pi.h);
	raw = malloc(rawlen);
	out->rgba = malloc((size_t)pi.w * (size_t)pi.h * 4);
	if (!raw || !out->rgba) {
		snprintf(err, es, "out of memory");
		goto fail;
	}
	uLongf got = rawlen;
	if (uncompress(raw, &got, pi.idat, (uLong)pi.nidat) != Z_OK || got != rawlen ||
	    png_unfilter(raw, pi.h, stride, bpp) < 0) {
		snprintf(err, es, "broken PNG image data");
		goto fail;
	}
	for (int y = 0; y < pi.h; y++)
		for (int x = 0; x < pi.w; x++)
			png_pixel(&pi, raw + (size_t)y * (stride + 1) + 1, x,
				  out->rgba + ((size_t)y * (size_t)pi.w + (size_t)x) * 4);
	out->w = pi.w;
	out->h = pi.h;
	free(raw);
	free(pi.idat);
	return 0;
fail:
	free(raw);
	free(pi.idat);
	free(out->rgba);
	out->rgba = NULL;
	return -1;
}

/* Scale with a box filter (each output pixel averages its source area). */
int cli_img_scale(const struct cli_img *in, int w, int h, struct cli_img *out)
{
	out->w = w < 1 ? 1 : w;
	out->h = h < 1 ? 1 : h;
	out->rgba = malloc((size_t)out->w * (size_t)out->h * 4);
	if (!out->rgba)
		return -1;
	for (int y = 0; y < out->h; y++) {
		int y0 = (int)((long long)y * in->h / out->h), y1 = (int)((long long)(y + 1) * in->h / out->h);
		if (y1 <= y0)
			y1 = y0 + 1;
		for (int x = 0; x < out->w; x++) {
			int x0 = (int)((long long)x * in->w / out->w);
			int x1 = (int)((long long)(x + 1) * in->w / out->w);
			unsigned long sum[4] = {0, 0, 0, 0}, n = 0;
			if (x1 <= x0)
				x1 = x0 + 1;
			for (int sy = y0; sy < y1; sy++)
				for (int sx = x0; sx < x1; sx++, n++)
					for (int k = 0; k < 4; k++)
						sum[k] += in->rgba[((size_t)sy * (size_t)in->w + (size_t)sx) * 4 + (size_t)k];
			for (int k = 0; k < 4; k++)
				out->rgba[((size_t)y * (size_t)out->w + (size_t)x) * 4 + (size_t)k] =
					(unsigned char)(sum[k] / n);
		}
	}
	return 0;
}

void cli_img_free(struct cli_img *im)
{
	free(im->rgba);
	im->rgba = NULL;
}

/* Close a memstream and hand its buffer over (NULL on error). */
static char *mem_done(FILE *f, char **buf, size_t *len, size_t *outlen)
{
	if (fclose(f) != 0) { /* fclose sets *buf and *len */
		free(*buf);
		return NULL;
	}
	*outlen = *len;
	return *buf;
}

/* Base64 (RFC 4648, padded), malloc'd and NUL-terminated. */
char *cli_img_base64(const unsigned char *in, size_t len, size_t *outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	char *enc = malloc(4 * ((len + 2) / 3) + 1);
	if (!enc)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);
		enc[o++] = tab[v >> 18 & 63];
		enc[o++] = tab[v >> 12 & 63];
		enc[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
		enc[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	enc[o] = '\0';
	*outlen = o;
	return enc;
}

/* kitty: a=T (transmit and show), f=100 (PNG), chunks with m=1 / m=0. */
char *cli_img_kitty(const unsigned char *png, size_t len, int cols, size_t *outlen)
{
	size_t n = 0, blen = 0;
	char *enc = cli_img_base64(png, len, &n), *buf = NULL;
	FILE *f = enc ? open_memstream(&buf, &blen) : NULL;
	if (!f) {
		free(enc);
		return NULL;
	}
	for (size_t off = 0; off < n || off == 0; off += 4096) {
		size_t k = n - off < 4096 ? n - off : 4096;
		if (off == 0 && cols > 0)
			fprintf(f, "\033_Gf=100,a=T,c=%d,m=%d;", cols, off + k < n);
		else if (off == 0)
			fprintf(f, "\033_Gf=100,a=T,m=%d;", off + k < n);
		else
			fprintf(f, "\033_Gm=%d;", off + k < n);
		fwrite(enc + off, 1, k, f);
		fputs("\033\\", f);
		if (n == 0)
			break;
	}
	fputc('\n', f);
	free(enc);
	return mem_done(f, &buf, &blen, outlen);
}

/* A pixel over white, reduced to a 3-3-2 palette index. */
static int sixel_index(const unsigned char *p)
{
	int r = (p[0] * p[3] + 255 * (255 - p[3])) / 255, g = (p[1] * p[3] + 255 * (255 - p[3])) / 255;
	int b = (p[2] * p[3] + 255 * (255 - p[3])) / 255;
	return (r * 7 + 127) / 255 << 5 | (g * 7 + 127) / 255 << 2 | (b * 3 + 127) / 255;
}

/* One run of sixel characters, run-length encoded when longer than 3. */
static void sixel_run(FILE *f, int ch, int n)
{
	if (n > 3)
		fprintf(f, "!%d%c", n, ch);
	else
		while (n-- > 0)
			fputc(ch, f);
}

/* The band of six rows starting at y0, colour by colour. */
static void sixel_band(FILE *f, const struct cli_img *im, const unsigned char *idx, int y0)
{
	bool used[256] = {false};
	bool first = true;
	for (int y = y0; y < y0 + 6 && y < im->h; y++)
		for (int x = 0; x < im->w; x++)
			used[idx[(size_t)y * (size_t)im->w + (size_t)x]] = true;
	for (int c = 0; c < 256; c++) {
		if (!used[c])
			continue;
		if (!first)
			fputc('$', f);
		first = false;
		fprintf(f, "#%d", c);
		int run_ch = -1, run = 0;
		for (int x = 0; x < im->w; x++) {
			int bits = 0;
			for (int k = 0; k < 6 && y0 + k < im->h; k++)
				if (idx[(size_t)(y0 + k) * (size_t)im->w + (size_t)x] == c)
					bits |= 1 << k;
			if (bits + 63 != run_ch) {
				sixel_run(f, run_ch, run);
				run_ch = bits + 63;
				run = 0;
			}
			run++;
		}
		sixel_run(f, run_ch, run);
	}
	fputc('-', f);
}

/* sixel: DCS 0;1 q, raster attributes, palette, bands, ST. */
char *cli_img_sixel(const struct cli_img *im, size_t *outlen)
{
	size_t n = (size_t)im->w * (size_t)im->h, blen = 0;
	unsigned char *idx = malloc(n ? n : 1);
	char *buf = NULL;
	bool used[256] = {false};
	FILE *f = idx ? open_memstream(&buf, &blen) : NULL;
	if (!f) {
		free(idx);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		used[idx[i] = (unsigned char)sixel_index(im->rgba + 4 * i)] = true;
	fprintf(f, "\033P0;1;0q\"1;1;%d;%d", im->w, im->h);
	for (int c = 0; c < 256; c++)
		if (used[c])
			fprintf(f, "#%d;2;%d;%d;%d", c, ((c >> 5) * 100 + 3) / 7,
				((c >> 2 & 7) * 100 + 3) / 7, ((c & 3) * 100 + 1) / 3);
	for (int y = 0; y < im->h; y += 6)
		sixel_band(f, im, idx, y);
	fputs("\033\\\n", f);
	free(idx);
	return mem_done(f, &buf, &blen, outlen);
}

#ifdef DAA_HAVE_CHAFA
/* Symbols through libchafa: its best symbol set, 24-bit colour. */
static char *symbols_chafa(const struct cli_img *im, int cols, int rows, size_t *outlen)
{
	ChafaSymbolMap *map = chafa_symbol_map_new();
	chafa_symbol_map_add_by_tags(map, CHAFA_SYMBOL_TAG_ALL);
	ChafaCanvasConfig *cfg = chafa_canvas_config_new();
	chafa_canvas_config_set_geometry(cfg, cols, rows);
	chafa_canvas_config_set_symbol_map(cfg, map);
	chafa_canvas_config_set_canvas_mode(cfg, CHAFA_CANVAS_MODE_TRUECOLOR);
	ChafaCanvas *canvas = chafa_canvas_new(cfg);
	chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, im->rgba, im->w, im->h,
				     im->w * 4);
	GString *gs = chafa_canvas_print(canvas, NULL); /* NULL: default (xterm-like) sequences */
	char *s = NULL;
	if (gs) {
		size_t len = gs->len;
		s = malloc(len + 9);
		if (s) {
			memcpy(s, gs->str, len);
			len += (size_t)sprintf(s + len, "\033[0m\n");
			*outlen = len;
		}
		g_string_free(gs, TRUE);
	}
	chafa_canvas_unref(canvas);
	chafa_canvas_config_unref(cfg);
	chafa_symbol_map_unref(map);
	return s;
}
#endif

/* Upper half blocks: the top pixel as foreground, the bottom as background. */
static char *symbols_half(const struct cli_img *sm, size_t *outlen)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	if (!f)
		return NULL;
	for (int y = 0; y < sm->h; y += 2) {
		for (int x = 0; x < sm->w; x++) {
			unsigned char t[4], b[4] = {255, 255, 255, 255};
			const unsigned char *pt = sm->rgba + ((size_t)y * (size_t)sm->w + (size_t)x) * 4;
			for (int k = 0; k < 3; k++)
				t[k] = (unsigned char)((pt[k] * pt[3] + 255 * (255 - pt[3])) / 255);
			if (y + 1 < sm->h) {
				const unsigned char *pb = pt + (size_t)sm->w * 4;
				for (int k = 0; k < 3; k++)
					b[k] = (unsigned char)((pb[k] * pb[3] + 255 * (255 - pb[3])) / 255);
			}
			fprintf(f, "\033[38;2;%d;%d;%dm\033[48;2;%d;%d;%dm\u2580", t[0], t[1], t[2], b[0],
				b[1], b[2]);
		}
		fputs("\033[0m\n", f);
	}
	return mem_done(f, &buf, &blen, outlen);
}

/* Symbols cols wide; rows keep the aspect (a cell is about twice as tall as wide). */
char *cli_img_symbols(const struct cli_img *im, int cols, size_t *outlen)
{
	struct cli_img sm;
	if (cols < 1)
		cols = 1;
	int rows = (int)((long long)im->h * cols / im->w / 2);
	if (rows < 1)
		rows = 1;
#ifdef DAA_HAVE_CHAFA
	char *c = symbols_chafa(im, cols, rows, outlen);
	if (c)
		return c;
#endif
	if (cli_img_scale(im, cols, rows * 2, &sm) < 0)
		return NULL;
	char *s = symbols_half(&sm, outlen);
	cli_img_free(&sm);
	return s;
}

const char *cli_img_symbols_kind(void)
{
#ifdef DAA_HAVE_CHAFA
	return "chafa";
#else
	return "half-blocks";
#endif
}
