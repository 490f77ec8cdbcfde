/*
 * tests/fuzz/fuzz_png.c — libFuzzer target for the client's PNG decoder
 * (the figures a kernel wrote, shown inline by `daa`): decode, then what
 * client/daa_image.c does with a picture — scale it to a terminal's size
 * and encode it as sixel and as symbols.  The decoded size must match what
 * cli_img_png_size read from the header.
 *
 * Only decode_png() below names the decoder: when the decoder is replaced
 * (e.g. by libpng behind another function), change that wrapper alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/inline_img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The decode entry point under test: 0 and an RGBA picture, or -1. */
static int decode_png(const uint8_t *buf, size_t len, struct cli_img *out)
{
	char err[200];
	err[0] = '\0';
	int rc = cli_img_png_decode(buf, len, out, err, sizeof err);
	if (rc < 0 && (!err[0] || out->rgba))
		abort(); /* a failure says why and leaves nothing allocated */
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_img im = {0}, sm = {0};
	int w, h;
	if (decode_png(data, size, &im) < 0)
		return 0;
	if (cli_img_png_size(data, size, &w, &h) < 0 || w != im.w || h != im.h || !im.rgba)
		abort();
	/* Terminal-sized, as daa_image.c would (keep the work per input small). */
	int tw = im.w > 80 ? 80 : im.w, th = im.h > 48 ? 48 : im.h;
	if (cli_img_scale(&im, tw, th, &sm) == 0) {
		size_t n;
		free(cli_img_sixel(&sm, &n));
		free(cli_img_symbols(&im, 40, &n)); /* symbols scale by themselves */
	}
	cli_img_free(&sm);
	cli_img_free(&im);
	return 0;
}
