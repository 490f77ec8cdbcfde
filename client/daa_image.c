/*
 * client/daa_image.c — figures shown inline when stdout is a terminal
 * (`daa ask`, `daa run`, `daa chat`).  Which way is decided once:
 *   DAA_IMAGES=kitty|iterm|sixel|symbols|none (0/off = none) forces one;
 *   kitty when TERM=xterm-kitty / KITTY_WINDOW_ID (also Ghostty, WezTerm);
 *   iTerm2's inline images for iTerm2;
 *   sixel when the terminal's answer to DA1 (ESC [ c) lists attribute 4;
 *   else symbols (libchafa or half blocks, client/inline_img.c).
 * Never when stdout is not a terminal (nor with --json: those paths print
 * no figures).  The encoders live in client/inline_img.c.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/daa_safe.h"
#include "client/inline_img.h"

#define IMAGE_MAX (16 * 1024 * 1024)

enum img_mode { IMG_UNSET = -1, IMG_NONE, IMG_KITTY, IMG_ITERM, IMG_SIXEL, IMG_SYMBOLS };

static enum img_mode decided = IMG_UNSET;

/* Does the terminal answer DA1 with the sixel attribute (4)?  Asked on
 * /dev/tty with echo off, waiting at most 300 ms for the reply. */
static bool da1_sixel(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios old, raw;
	char buf[128];
	size_t n = 0;
	if (fd < 0)
		return false;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return false;
	}
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	tcsetattr(fd, TCSANOW, &raw);
	if (write(fd, "\033[c", 3) == 3) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		while (n < sizeof(buf) - 1 && poll(&p, 1, 300) > 0) {
			ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
			if (k <= 0)
				break;
			n += (size_t)k;
			buf[n] = '\0';
			if (strchr(buf, 'c'))
				break;
		}
	}
	tcsetattr(fd, TCSANOW, &old);
	close(fd);
	buf[n] = '\0';
	char *q = strstr(buf, "\033[?");
	if (!q)
		return false;
	for (char *p = q + 3; *p && *p != 'c';) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v == 4)
			return true;
		p = *end == ';' ? end + 1 : end;
	}
	return false;
}

/* The mode from the environment alone; IMG_UNSET when the terminal must be asked. */
static enum img_mode env_mode(void)
{
	const char *force = getenv("DAA_IMAGES"), *term = getenv("TERM");
	const char *prog = getenv("TERM_PROGRAM"), *lc = getenv("LC_TERMINAL");
	static const struct { const char *name; enum img_mode m; } names[] = {
		{"none", IMG_NONE}, {"0", IMG_NONE}, {"off", IMG_NONE}, {"kitty", IMG_KITTY},
		{"iterm", IMG_ITERM}, {"sixel", IMG_SIXEL}, {"symbols", IMG_SYMBOLS}};
	for (size_t i = 0; force && *force && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(force, names[i].name))
			return names[i].m;
	if (getenv("KITTY_WINDOW_ID") || (term && (!strcmp(term, "xterm-kitty") ||
						   !strcmp(term, "xterm-ghostty"))) ||
	    (prog && (!strcmp(prog, "WezTerm") || !strcmp(prog, "ghostty"))))
		return IMG_KITTY;
	if ((prog && !strcmp(prog, "iTerm.app")) || (lc && !strcmp(lc, "iTerm2")))
		return IMG_ITERM;
	if (term && !strcmp(term, "dumb"))
		return IMG_NONE;
	return IMG_UNSET;
}

/* Decide (once) how figures are shown; asks the terminal only when needed. */
void cli_image_probe(void)
{
	if (decided != IMG_UNSET)
		return;
	if (!isatty(1)) {
		decided = IMG_NONE;
		return;
	}
	decided = env_mode();
	if (decided == IMG_UNSET)
		decided = isatty(0) && da1_sixel() ? IMG_SIXEL : IMG_SYMBOLS;
}

/* The whole file (at most IMAGE_MAX bytes), malloc'd; NULL with why filled. */
static unsigned char *png_read(const char *path, size_t *len, char *why, size_t size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		snprintf(why, size, "cannot read it");
	else if (st.st_size > IMAGE_MAX)
		snprintf(why, size, "the file is larger than %d MB", IMAGE_MAX >> 20);
	else if (!(buf = malloc((size_t)st.st_size + 1)) ||
		 read(fd, buf, (size_t)st.st_size) != st.st_size) {
		snprintf(why, size, "cannot read it");
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	*len = buf ? (size_t)st.st_size : 0;
	return buf;
}

/* The terminal's size in columns and pixels (pixels 0 when unknown). */
static void term_size(int *cols, int *xpix)
{
	struct winsize ws;
	*cols = 80;
	*xpix = 0;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		*cols = ws.ws_col;
		*xpix = ws.ws_xpixel;
	}
}

/* The escape sequences (or symbols) for the decoded PNG im in the decided
 * mode (kitty and iTerm2 are sent the file itself, decoded first all the
 * same so that a hostile file never reaches the terminal). */
static char *image_encode(enum img_mode mode, const unsigned char *png, size_t len,
			  struct cli_img *im, size_t *n)
{
	int cols, xpix;
	struct cli_img sm;
	char *out = NULL;
	term_size(&cols, &xpix);
	if (mode == IMG_KITTY) {
		bool wide = xpix ? im->w > xpix : im->w > cols * 10;
		return cli_img_kitty(png, len, wide ? cols - 1 : 0, n);
	}
	if (mode == IMG_ITERM) {
		char *b = cli_img_base64(png, len, n);
		if (b && (out = malloc(strlen(b) + 96)))
			*n = (size_t)sprintf(out, "\033]1337;File=inline=1;size=%zu;preserveAspectRatio=1:%s\a\n",
					     len, b);
		free(b);
		return out;
	}
	if (mode == IMG_SIXEL) {
		int maxw = xpix ? xpix * 9 / 10 : cols * 9;
		if (maxw > 1000)
			maxw = 1000;
		if (im->w > maxw && cli_img_scale(im, maxw, (int)((long long)im->h * maxw / im->w), &sm) == 0) {
			cli_img_free(im);
			*im = sm;
		}
		return cli_img_sixel(im, n);
	}
	return cli_img_symbols(im, cols > 100 ? 100 : cols - 1, n);
}

/* Show the PNG at path inline when stdout is a terminal; nothing otherwise.
 * A file that cannot be shown (broken, hostile, too large) is one line:
 * "figure not shown: WHY". */
void cli_image_show(const char *path)
{
	cli_image_probe();
	if (decided == IMG_NONE)
		return;
	size_t len, n = 0;
	char why[160] = "";
	struct cli_img im = {0};
	unsigned char *png = png_read(path, &len, why, sizeof why);
	char *out = NULL;
	if (png && cli_img_png_decode(png, len, &im, why, sizeof why) == 0 &&
	    !(out = image_encode(decided, png, len, &im, &n)))
		snprintf(why, sizeof why, "out of memory");
	if (out) /* daa's own escape sequences: past the sanitizer */
		daa_safe_raw(out, n);
	else
		printf("figure not shown: %s\n", why);
	cli_img_free(&im);
	free(out);
	free(png);
}
