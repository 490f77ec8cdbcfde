/*
 * client/inline_img.c — pictures for terminals: PNG decoding (libpng, with
 * size caps checked before allocating), scaling, and the kitty / sixel / symbols encodings (see
 * client/inline_img.h).  libpng and libchafa (with glib) are loaded on the
 * first figure (client/daa_dl.h), not by every `daa` process.  Everything works on memory buffers and returns
 * malloc'd escape sequences, so the bytes can be tested without a terminal.
 * Input is untrusted (a kernel wrote the PNG): every size is checked.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

#ifdef DAA_HAVE_CHAFA
#include <chafa.h>
#endif

#include "client/daa_dl.h"
#include "client/inline_img.h"

/* libpng's simplified API, bound on first use. */
static struct png_lib {
	__typeof__(png_sig_cmp) *png_sig_cmp;
	__typeof__(png_image_begin_read_from_memory) *png_image_begin_read_from_memory;
	__typeof__(png_image_finish_read) *png_image_finish_read;
	__typeof__(png_image_free) *png_image_free;
} libpng;

/* Load libpng once; 0, or -1 with a message in err (every call repeats it). */
static int png_load(char *err, size_t es)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	static char why[256];
	if (state == 0) {
		const char *so = DAA_SONAME_PNG;
		void *h = cli_dl_open(so, why, sizeof why);
#define BIND(m) CLI_DL_BIND(h, so, &libpng, m, why, sizeof why)
		state = h && BIND(png_sig_cmp) && BIND(png_image_begin_read_from_memory) &&
				BIND(png_image_finish_read) && BIND(png_image_free)
			? 1
			: -1;
#undef BIND
	}
	if (state < 0)
		snprintf(err, es, "%s", why);
	return state > 0 ? 0 : -1;
}

/* Width and height from a PNG's header (libpng reads only the header);
 * -1 when it is not a PNG or is beyond the caps (client/inline_img.h). */
int cli_img_png_size(const unsigned char *buf, size_t len, int *w, int *h)
{
	png_image im;
	char why[256];
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	if (png_load(why, sizeof why) < 0 || len < 8 || libpng.png_sig_cmp(buf, 0, 8) ||
	    !libpng.png_image_begin_read_from_memory(&im, buf, len))
		return -1;
	libpng.png_image_free(&im);
	if (im.width < 1 || im.height < 1 || im.width > CLI_IMG_MAX_SIDE || im.height > CLI_IMG_MAX_SIDE ||
	    (uint64_t)im.width * im.height > CLI_IMG_MAX_PIXELS)
		return -1;
	*w = (int)im.width;
	*h = (int)im.height;
	return 0;
}

/* Decode a PNG (any kind libpng reads: depths, palettes, grey, interlaced)
 * into RGBA with libpng's simplified API: the header first, the caps checked
 * before anything is allocated, then the pixels.  libpng's own limits bound
 * the ancillary chunks it inflates (8 MB each); image data beyond the
 * header's size is never inflated. */
int cli_img_png_decode(const unsigned char *buf, size_t len, struct cli_img *out, char *err,
		       size_t es)
{
	png_image im;
	memset(&im, 0, sizeof im);
	memset(out, 0, sizeof *out);
	im.version = PNG_IMAGE_VERSION;
	if (png_load(err, es) < 0)
		return -1;
	if (!buf || len < 8 || libpng.png_sig_cmp(buf, 0, 8)) {
		snprintf(err, es, "not a PNG file");
		return -1;
	}
	if (!libpng.png_image_begin_read_from_memory(&im, buf, len)) {
		snprintf(err, es, "broken PNG (%s)", im.message);
		return -1;
	}
	if (im.width < 1 || im.height < 1 || im.width > CLI_IMG_MAX_SIDE || im.height > CLI_IMG_MAX_SIDE ||
	    (uint64_t)im.width * im.height > CLI_IMG_MAX_PIXELS) {
		snprintf(err, es, "%ux%u pixels is too large (at most %d a side, %d Mpixels)", (unsigned)im.width,
			 (unsigned)im.height, CLI_IMG_MAX_SIDE, CLI_IMG_MAX_PIXELS >> 20);
		libpng.png_image_free(&im);
		return -1;
	}
	im.format = PNG_FORMAT_RGBA;
	out->rgba = malloc(PNG_IMAGE_SIZE(im));
	if (!out->rgba) {
		snprintf(err, es, "out of memory");
		libpng.png_image_free(&im);
		return -1;
	}
	if (!libpng.png_image_finish_read(&im, NULL, out->rgba, 0, NULL)) {
		snprintf(err, es, "broken PNG (%s)", im.message);
		libpng.png_image_free(&im);
		free(out->rgba);
		out->rgba = NULL;
		return -1;
	}
	out->w = (int)im.width;
	out->h = (int)im.height;
	return 0;
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
/* libchafa's canvas API and glib's g_string_free (found through chafa's
 * own dependencies), bound on first use. */
static struct chafa_lib {
	__typeof__(chafa_symbol_map_new) *chafa_symbol_map_new;
	__typeof__(chafa_symbol_map_add_by_tags) *chafa_symbol_map_add_by_tags;
	__typeof__(chafa_symbol_map_unref) *chafa_symbol_map_unref;
	__typeof__(chafa_canvas_config_new) *chafa_canvas_config_new;
	__typeof__(chafa_canvas_config_set_geometry) *chafa_canvas_config_set_geometry;
	__typeof__(chafa_canvas_config_set_symbol_map) *chafa_canvas_config_set_symbol_map;
	__typeof__(chafa_canvas_config_set_canvas_mode) *chafa_canvas_config_set_canvas_mode;
	__typeof__(chafa_canvas_config_unref) *chafa_canvas_config_unref;
	__typeof__(chafa_canvas_new) *chafa_canvas_new;
	__typeof__(chafa_canvas_draw_all_pixels) *chafa_canvas_draw_all_pixels;
	__typeof__(chafa_canvas_print) *chafa_canvas_print;
	__typeof__(chafa_canvas_unref) *chafa_canvas_unref;
	__typeof__(g_string_free) *g_string_free;
} cf;

/* Load libchafa once; false when it is not there (half blocks then). */
static bool chafa_load(void)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	if (state == 0) {
		char why[256];
		const char *so = DAA_SONAME_CHAFA;
		void *h = cli_dl_open(so, why, sizeof why);
#define BIND(m) CLI_DL_BIND(h, so, &cf, m, why, sizeof why)
		state = h && BIND(chafa_symbol_map_new) && BIND(chafa_symbol_map_add_by_tags) &&
				BIND(chafa_symbol_map_unref) && BIND(chafa_canvas_config_new) &&
				BIND(chafa_canvas_config_set_geometry) &&
				BIND(chafa_canvas_config_set_symbol_map) &&
				BIND(chafa_canvas_config_set_canvas_mode) &&
				BIND(chafa_canvas_config_unref) && BIND(chafa_canvas_new) &&
				BIND(chafa_canvas_draw_all_pixels) && BIND(chafa_canvas_print) &&
				BIND(chafa_canvas_unref) && BIND(g_string_free)
			? 1
			: -1;
#undef BIND
	}
	return state > 0;
}

/* Symbols through libchafa: its best symbol set, 24-bit colour. */
static char *symbols_chafa(const struct cli_img *im, int cols, int rows, size_t *outlen)
{
	if (!chafa_load())
		return NULL;
	ChafaSymbolMap *map = cf.chafa_symbol_map_new();
	cf.chafa_symbol_map_add_by_tags(map, CHAFA_SYMBOL_TAG_ALL);
	ChafaCanvasConfig *cfg = cf.chafa_canvas_config_new();
	cf.chafa_canvas_config_set_geometry(cfg, cols, rows);
	cf.chafa_canvas_config_set_symbol_map(cfg, map);
	cf.chafa_canvas_config_set_canvas_mode(cfg, CHAFA_CANVAS_MODE_TRUECOLOR);
	ChafaCanvas *canvas = cf.chafa_canvas_new(cfg);
	cf.chafa_canvas_draw_all_pixels(canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, im->rgba, im->w,
					im->h, im->w * 4);
	GString *gs = cf.chafa_canvas_print(canvas, NULL); /* NULL: default (xterm-like) sequences */
	char *s = NULL;
	if (gs) {
		size_t len = gs->len;
		s = malloc(len + 9);
		if (s) {
			memcpy(s, gs->str, len);
			len += (size_t)sprintf(s + len, "\033[0m\n");
			*outlen = len;
		}
		cf.g_string_free(gs, TRUE);
	}
	cf.chafa_canvas_unref(canvas);
	cf.chafa_canvas_config_unref(cfg);
	cf.chafa_symbol_map_unref(map);
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
	return chafa_load() ? "chafa" : "half-blocks";
#else
	return "half-blocks";
#endif
}
