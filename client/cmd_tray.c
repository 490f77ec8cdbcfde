/*
 * client/cmd_tray.c — `daa tray`: runs the desktop tray + chat window
 * (daa-tray, found next to daa, else on $PATH) with this daa's socket and
 * project; `--autostart on|off` writes or removes
 * $XDG_CONFIG_HOME/autostart/daa-tray.desktop instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"

/* The daa-tray binary: next to this daa, else on $PATH.  0 or -1. */
static int find_tray(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, size, "%s/daa-tray", dirname(self));
		if (access(buf, X_OK) == 0)
			return 0;
	}
	const char *path = getenv("PATH");
	for (const char *p = path ? path : ""; *p;) {
		size_t len = strcspn(p, ":");
		snprintf(buf, size, "%.*s/daa-tray", (int)len, p);
		if (len > 0 && buf[0] == '/' && access(buf, X_OK) == 0)
			return 0;
		p += len + (p[len] == ':');
	}
	fprintf(stderr, "daa: daa-tray is not installed (it is built only where GTK 3, "
			"libayatana-appindicator3 and libnotify are present: run `make deps && make "
			"install`)\n");
	return -1;
}

/* ~/.config/autostart (XDG_CONFIG_HOME honoured) into buf; -1 if no home. */
static int autostart_dir(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && *xdg == '/')
		snprintf(buf, size, "%s/autostart", xdg);
	else if (home && *home)
		snprintf(buf, size, "%s/.config/autostart", home);
	else {
		fprintf(stderr, "daa: neither $XDG_CONFIG_HOME nor $HOME is set\n");
		return -1;
	}
	return 0;
}

/* Write the autostart entry atomically (temp file, rename). */
static int autostart_on(const char *dir, const char *file, const char *tray)
{
	char tmp[PATH_MAX + 64], parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", dir);
	mkdir(dirname(parent), 0700); /* ~/.config; its absence is reported below */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "daa: cannot create %s: %s\n", dir, strerror(errno));
		return CLI_ERR;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "daa: cannot write %s: %s\n", tmp, strerror(errno));
		return CLI_ERR;
	}
	fprintf(f, "[Desktop Entry]\nType=Application\nName=daa tray\n"
		   "Comment=The daa tray icon (data analysis assistant)\nExec=%s --hidden\n"
		   "Icon=daa\nTerminal=false\nNoDisplay=true\nX-GNOME-Autostart-enabled=true\n", tray);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, file) < 0) {
		int e = errno;
		unlink(tmp);
		fprintf(stderr, "daa: cannot write %s: %s\n", file, strerror(e));
		return CLI_ERR;
	}
	printf("daa-tray will start with your desktop session (%s)\n", file);
	return CLI_OK;
}

/* --autostart on|off. */
static int autostart(const char *how)
{
	char dir[PATH_MAX], file[PATH_MAX + 32], tray[PATH_MAX];
	if (strcmp(how, "on") != 0 && strcmp(how, "off") != 0)
		return cli_usage_error(cli_cmd_named("tray"), "--autostart takes on or off, not '%s'", how);
	if (autostart_dir(dir, sizeof dir) < 0)
		return CLI_ERR;
	snprintf(file, sizeof file, "%s/daa-tray.desktop", dir);
	if (strcmp(how, "off") == 0) {
		if (unlink(file) < 0 && errno != ENOENT) {
			fprintf(stderr, "daa: cannot remove %s: %s\n", file, strerror(errno));
			return CLI_ERR;
		}
		printf("daa-tray will not start with your session (%s removed)\n", file);
		return CLI_OK;
	}
	if (find_tray(tray, sizeof tray) < 0)
		return CLI_ERR;
	return autostart_on(dir, file, tray);
}

/* daa tray [--autostart on|off] */
static int cmd_tray(struct cli *cli, struct cli_args *a)
{
	char tray[PATH_MAX];
	if (a->val['a'])
		return autostart(a->val['a']);
	if (find_tray(tray, sizeof tray) < 0)
		return CLI_ERR;
	char *argv[8];
	int n = 0;
	argv[n++] = tray;
	argv[n++] = (char *)"--socket";
	argv[n++] = cli->socket;
	if (cli->no_start)
		argv[n++] = (char *)"--no-start";
	if (cli->project)
		argv[n++] = (char *)"-p", argv[n++] = (char *)cli->project;
	argv[n] = NULL;
	execv(tray, argv);
	fprintf(stderr, "daa: cannot run %s: %s\n", tray, strerror(errno));
	return CLI_ERR;
}

static const struct cli_opt opts_tray[] = {{'a', "autostart", true}, {0, NULL, false}};

const struct cli_cmd cli_cmds_tray[] = {
	{"tray", "[--autostart on|off]", "the desktop tray icon and chat window (daa-tray)",
	 "Without options, runs daa-tray with this daemon's socket and project.\n"
	 "--autostart on|off adds or removes ~/.config/autostart/daa-tray.desktop.\n",
	 0, 0, opts_tray, cmd_tray},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
