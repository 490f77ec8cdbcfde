/*
 * client/inline_img.h — pictures for terminals (client/inline_img.c): PNG
 * decoding with libpng (hostile input refused with a message), a scaler, and the three encodings `daa` shows figures with — the kitty
 * graphics protocol, sixel, and Unicode symbols (libchafa when built with
 * it, else half blocks in 24-bit colour).  Pure functions over buffers so
 * tests can check their bytes; client/daa_image.c decides what to use.
 */
#ifndef DAA_INLINE_IMG_H
#define DAA_INLINE_IMG_H

#include <stddef.h>

/* An RGBA picture, 4 bytes per pixel, rows top to bottom (owned: rgba). */
struct cli_img {
	int w, h;
	unsigned char *rgba;
};

/* Pictures larger than this are not shown (a kernel wrote the PNG: a
 * 100-byte file may claim 2^31 x 2^31 pixels): at most 8192 pixels a side
 * and 16 Mpixels (64 MiB of RGBA) in all, checked before allocating. */
#define CLI_IMG_MAX_SIDE 8192
#define CLI_IMG_MAX_PIXELS (16 << 20)

/* Decode a PNG held in buf (len bytes) into RGBA; 0, or -1 with err filled
 * with a short reason (not a PNG, broken, too large).  A pure function over
 * memory, the entry point for fuzzing the image path. */
int cli_img_png_decode(const unsigned char *buf, size_t len, struct cli_img *out, char *err,
		       size_t errsize);
/* Width and height from a PNG's header without decoding; -1 if not a PNG. */
int cli_img_png_size(const unsigned char *buf, size_t len, int *w, int *h);
/* A copy scaled to w x h (box filter when shrinking); 0 or -1 (no memory). */
int cli_img_scale(const struct cli_img *in, int w, int h, struct cli_img *out);
void cli_img_free(struct cli_img *im);

/* The escape sequences, malloc'd and NUL-terminated (*len without the NUL),
 * or NULL when out of memory. */
/* Base64 of len bytes. */
char *cli_img_base64(const unsigned char *in, size_t len, size_t *outlen);
/* kitty graphics protocol: the PNG as is, base64 in chunks of 4096;
 * cols > 0 asks the terminal to fit it in that many columns. */
char *cli_img_kitty(const unsigned char *png, size_t len, int cols, size_t *outlen);
/* sixel: DCS q, raster attributes, a palette of the colours used (3-3-2
 * levels), bands of six rows with run-length encoding, ST.  Transparent
 * pixels are drawn over white. */
char *cli_img_sixel(const struct cli_img *im, size_t *outlen);
/* Symbols for a text terminal cols wide: libchafa when available, else
 * upper half blocks with 24-bit foreground/background colours.  Lines end
 * with a colour reset and '\n'. */
char *cli_img_symbols(const struct cli_img *im, int cols, size_t *outlen);
/* Which symbols renderer this build has: "chafa" or "half-blocks". */
const char *cli_img_symbols_kind(void);

/* client/daa_image.c: decide once how figures are shown (may ask the
 * terminal with DA1: call before a line editor takes the terminal). */
void cli_image_probe(void);

#endif
