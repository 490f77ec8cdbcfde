/*
 * client/daa_image.c — figures shown inline on terminals that can display
 * PNG files as they are: the kitty graphics protocol (kitty, WezTerm,
 * Ghostty, Konsole) and iTerm2's inline images.  Only when stdout is a
 * terminal; DAA_IMAGES=0 turns it off, DAA_IMAGES=kitty|iterm forces one.
 * Other terminals (sixel, symbols) get the path only: that would need an
 * image decoder, and the CLI links nothing but protocol/ and libc.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"

#define IMAGE_MAX (16 * 1024 * 1024)

enum proto_img { IMG_NONE, IMG_KITTY, IMG_ITERM };

/* Which protocol this terminal speaks (decided once). */
static enum proto_img image_proto(void)
{
	static int decided = -1;
	if (decided >= 0)
		return (enum proto_img)decided;
	const char *force = getenv("DAA_IMAGES"), *term = getenv("TERM");
	const char *prog = getenv("TERM_PROGRAM"), *lc = getenv("LC_TERMINAL");
	decided = IMG_NONE;
	if (force && (!strcmp(force, "0") || !strcmp(force, "off")))
		decided = IMG_NONE;
	else if (force && !strcmp(force, "kitty"))
		decided = IMG_KITTY;
	else if (force && !strcmp(force, "iterm"))
		decided = IMG_ITERM;
	else if (getenv("KITTY_WINDOW_ID") || (term && (!strcmp(term, "xterm-kitty") ||
							 !strcmp(term, "xterm-ghostty"))) ||
		 (prog && (!strcmp(prog, "WezTerm") || !strcmp(prog, "ghostty"))))
		decided = IMG_KITTY;
	else if ((prog && !strcmp(prog, "iTerm.app")) || (lc && !strcmp(lc, "iTerm2")))
		decided = IMG_ITERM;
	if (!isatty(1))
		decided = IMG_NONE;
	return (enum proto_img)decided;
}

/* Base64 of n bytes into out (room for 4 * ((n + 2) / 3) bytes); its length. */
static size_t b64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	return o;
}

/* The whole file (a PNG under the size cap), malloc'd; NULL otherwise. */
static unsigned char *png_read(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 8 ||
	    st.st_size > IMAGE_MAX || !(buf = malloc((size_t)st.st_size)) ||
	    read(fd, buf, (size_t)st.st_size) != st.st_size || memcmp(buf, "\x89PNG", 4) != 0) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	*len = buf ? (size_t)st.st_size : 0;
	return buf;
}

/* Show the PNG at path inline when the terminal can; silently nothing otherwise. */
void cli_image_show(const char *path)
{
	enum proto_img kind = image_proto();
	size_t len;
	unsigned char *png = kind == IMG_NONE ? NULL : png_read(path, &len);
	char *enc = png ? malloc(4 * ((len + 2) / 3) + 1) : NULL;
	if (!enc) {
		free(png);
		return;
	}
	size_t n = b64(png, len, enc);
	fflush(stdout);
	if (kind == IMG_ITERM) {
		printf("\033]1337;File=inline=1;size=%zu;preserveAspectRatio=1:%.*s\a\n", len, (int)n, enc);
	} else {
		for (size_t off = 0; off < n; off += 4096) {
			size_t k = n - off < 4096 ? n - off : 4096;
			printf("\033_G%sm=%d;%.*s\033\\", off ? "" : "f=100,a=T,", off + k < n, (int)k,
			       enc + off);
		}
		printf("\n");
	}
	fflush(stdout);
	free(enc);
	free(png);
}
