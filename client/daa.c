/*
 * client/daa.c — the `daa` CLI: global options, the command lookup and the
 * one place where every command's options and arity are checked (tmux
 * style), help texts, and main() as a list of steps.
 *
 * Global options (before or after the command words): -p/--project
 * NAME|PATH, --json, --no-start, -h/--help.  Exit codes: 0 done, 1 error,
 * 2 usage, 3 a question was left unanswered, 4 daemon unreachable (or gone
 * while a reply was awaited: cli_lost), 5 the code ran but was not saved as
 * a history step.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/daa_safe.h"

static const struct cli_cmd *const *tables(void)
{
	static const struct cli_cmd *const t[] = {cli_cmds_daemon, cli_cmds_project,
						  cli_cmds_turn, cli_cmds_chat, cli_cmds_tray, cli_cmds_history,
						  cli_cmds_profile, cli_cmds_memory, NULL};
	return t;
}

/* Number of words in a command name. */
static int words(const char *name)
{
	int n = 1;
	for (const char *p = name; *p; p++)
		n += *p == ' ';
	return n;
}

/* Do the first k words of argv spell name? */
static bool match(const char *name, int argc, char **argv, int k)
{
	if (argc < k)
		return false;
	const char *p = name;
	for (int i = 0; i < k; i++) {
		size_t n = strlen(argv[i]);
		if (strncmp(p, argv[i], n) != 0 || (p[n] != ' ' && p[n] != '\0'))
			return false;
		p += n + (p[n] == ' ');
	}
	return *p == '\0';
}

/* Find the command spelled by the leading words of argv (longest first). */
static const struct cli_cmd *cli_cmd_find(int argc, char **argv, int *used)
{
	for (int k = 2; k >= 1; k--)
		for (const struct cli_cmd *const *t = tables(); *t; t++)
			for (const struct cli_cmd *c = *t; c->name; c++)
				if (words(c->name) == k && match(c->name, argc, argv, k)) {
					*used = k;
					return c;
				}
	return NULL;
}

/* The entry with exactly this name. */
const struct cli_cmd *cli_cmd_named(const char *name)
{
	for (const struct cli_cmd *const *t = tables(); *t; t++)
		for (const struct cli_cmd *c = *t; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}

/* The usage line of a command. */
static void usage_line(FILE *f, const struct cli_cmd *c)
{
	fprintf(f, "usage: daa [-p PROJECT] [--json] [--no-start] %s%s%s\n", c->name,
		c->usage[0] ? " " : "", c->usage);
}

/* Print all commands with their summaries. */
static void cli_help_all(FILE *f)
{
	fprintf(f, "usage: daa [-p PROJECT] [--json] [--no-start] COMMAND [ARGS]\n\n"
		   "daa talks to daad, the local data-analysis assistant (started on demand).\n\n"
		   "commands:\n");
	for (const struct cli_cmd *const *t = tables(); *t; t++)
		for (const struct cli_cmd *c = *t; c->name; c++) {
			char head[96];
			snprintf(head, sizeof(head), "%s %s", c->name, c->usage);
			if (strlen(head) > 30)
				fprintf(f, "  %s\n  %-30s %s\n", head, "", c->summary);
			else
				fprintf(f, "  %-30s %s\n", head, c->summary);
		}
	fprintf(f, "\nglobal options:\n"
		   "  -p, --project NAME|PATH  the project (else $DAA_PROJECT, else the project\n"
		   "                           folder holding the current directory, but not one\n"
		   "                           inside another project's outputs/, else default)\n"
		   "  --json                   print results as JSON, byte-exact (other output is\n"
		   "                           made terminal-safe: escape sequences removed,\n"
		   "                           control characters shown as ^X, <U+XXXX>, \\xNN)\n"
		   "  --no-start               do not start daad when none is running\n"
		   "  --no-images              never show figures inline (also DAA_IMAGES=none)\n"
		   "  -h, --help               this text; `daa help COMMAND` for one command\n"
		   "\nexit codes: 0 done, 1 error, 2 usage, 3 question left unanswered,\n"
		   "4 daemon unreachable, or it stopped or restarted while daa waited (the\n"
		   "request's result is then unknown: see `daa history`, `daa log`),\n"
		   "5 the code ran but was NOT saved as a history step.\n"
		   "The socket is $DAA_SOCKET, else\n"
		   "$XDG_RUNTIME_DIR/daa/daad.sock, else /tmp/daa-$UID/daad.sock.\n"
		   "Figures show inline on a terminal: kitty graphics, sixel, else symbols\n"
		   "(DAA_IMAGES=kitty|sixel|symbols|none chooses).\n");
}

/* Print one command's help. */
static void cli_help_cmd(FILE *f, const struct cli_cmd *c)
{
	usage_line(f, c);
	fprintf(f, "\n%s\n", c->summary);
	if (c->help)
		fprintf(f, "\n%s", c->help);
}

/* Report a usage error of cmd. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "daa: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (cmd) {
		usage_line(stderr, cmd);
		fprintf(stderr, "(see `daa help %s`)\n", cmd->name);
	} else {
		fprintf(stderr, "(see `daa --help`)\n");
	}
	return CLI_USAGE;
}

struct global {
	const char *project;
	bool json, no_start, help;
};

/* The value of option argv[*i] (inline after '=' or attached, else the next
 * word); NULL when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *inl)
{
	if (inl)
		return inl;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* A global option at argv[*i]: 1 taken, 0 not global, -1 usage error. */
static int global_opt(int argc, char **argv, int *i, struct global *g)
{
	const char *a = argv[*i], *eq = strchr(a, '=');
	size_t n = eq ? (size_t)(eq - a) : strlen(a);
	if (!strcmp(a, "--json"))
		g->json = true;
	else if (!strcmp(a, "--no-start"))
		g->no_start = true;
	else if (!strcmp(a, "--no-images"))
		setenv("DAA_IMAGES", "none", 1); /* read by client/daa_image.c */
	else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
		g->help = true;
	else if (!strcmp(a, "-p") || (n == 9 && !strncmp(a, "--project", 9)) ||
		 (!strncmp(a, "-p", 2) && a[2])) {
		const char *inl = eq && a[1] == '-' ? eq + 1 : (a[1] == 'p' && a[2] ? a + 2 : NULL);
		if (!(g->project = opt_value(argc, argv, i, inl)) || !*g->project)
			return -1;
	} else
		return 0;
	return 1;
}

/* Match argv[*i] against the command's own options; 1 taken, 0 unknown, -1 missing value. */
static int cmd_opt(const struct cli_cmd *c, int argc, char **argv, int *i, struct cli_args *a)
{
	const char *arg = argv[*i], *eq = strchr(arg, '=');
	for (const struct cli_opt *o = c->opts; o && o->ch; o++) {
		const char *inl = NULL;
		if (arg[1] == '-') {
			size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
			if (strlen(o->name) != n || strncmp(arg + 2, o->name, n))
				continue;
			inl = eq ? eq + 1 : NULL;
		} else if (arg[1] == o->ch) {
			inl = arg[2] ? arg + 2 : NULL;
		} else {
			continue;
		}
		if (!o->has_arg) {
			a->val[(unsigned char)o->ch] = "";
			return inl ? -1 : 1;
		}
		a->val[(unsigned char)o->ch] = opt_value(argc, argv, i, inl);
		return a->val[(unsigned char)o->ch] ? 1 : -1;
	}
	return 0;
}

/* Parse a command's words after its name: options (its own and global),
 * positionals; then the arity check.  Returns CLI_OK or CLI_USAGE. */
static int cmd_parse(const struct cli_cmd *c, int argc, char **argv, struct global *g,
		     struct cli_args *a)
{
	static char *pos[256];
	a->argc = 0;
	a->argv = pos;
	bool opts_done = false;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (opts_done || s[0] != '-' || !s[1]) {
			if (a->argc >= 255)
				return cli_usage_error(c, "too many arguments");
			pos[a->argc++] = argv[i];
			continue;
		}
		if (!strcmp(s, "--")) {
			opts_done = true;
			continue;
		}
		int rc = cmd_opt(c, argc, argv, &i, a);
		if (rc == 0)
			rc = global_opt(argc, argv, &i, g);
		if (rc < 0)
			return cli_usage_error(c, "option %s needs a value", s);
		if (rc == 0)
			return cli_usage_error(c, "unknown option %s for `%s`", s, c->name);
	}
	pos[a->argc] = NULL;
	if (g->help)
		return CLI_OK;
	if (a->argc < c->min_args || (c->max_args >= 0 && a->argc > c->max_args)) {
		if (c->min_args == c->max_args)
			return cli_usage_error(c, "`%s` takes %d argument%s, %d given", c->name,
					       c->min_args, c->min_args == 1 ? "" : "s", a->argc);
		return cli_usage_error(c, "`%s` takes %s%d argument%s, %d given", c->name,
				       a->argc < c->min_args ? "at least " : "at most ",
				       a->argc < c->min_args ? c->min_args : c->max_args,
				       (a->argc < c->min_args ? c->min_args : c->max_args) == 1 ? "" : "s",
				       a->argc);
	}
	return CLI_OK;
}

/* The members of a family ("project", "kernel"); false if word is none. */
static bool family_list(FILE *f, const char *word)
{
	bool any = false;
	size_t n = strlen(word);
	for (const struct cli_cmd *const *t = tables(); *t; t++)
		for (const struct cli_cmd *m = *t; m->name; m++)
			if (!strncmp(m->name, word, n) && m->name[n] == ' ') {
				if (!any)
					fprintf(f, "daa %s commands:\n", word);
				any = true;
				fprintf(f, "  %s %s\n      %s\n", m->name, m->usage, m->summary);
			}
	return any;
}

/* `daa help [CMD...]`. */
static int help_cmd(int argc, char **argv)
{
	if (argc == 0) {
		cli_help_all(stdout);
		return CLI_OK;
	}
	int used;
	const struct cli_cmd *c = cli_cmd_find(argc, argv, &used);
	if (c && used == argc) {
		cli_help_cmd(stdout, c);
		return CLI_OK;
	}
	if (argc == 1 && family_list(stdout, argv[0]))
		return CLI_OK;
	return cli_usage_error(NULL, "no command '%s'", argv[0]);
}

/* An unknown command: a family without its subcommand, or nothing at all. */
static int unknown_cmd(int argc, char **argv)
{
	if (family_list(stderr, argv[0])) {
		fputc('\n', stderr);
		if (argc > 1)
			return cli_usage_error(NULL, "no command '%s %s'", argv[0], argv[1]);
		return cli_usage_error(NULL, "'%s' needs a subcommand", argv[0]);
	}
	return cli_usage_error(NULL, "no command '%s'", argv[0]);
}

/* The global options before the command; returns the index of the command. */
static int main_globals(int argc, char **argv, struct global *g, int *rc)
{
	int i = 1;
	*rc = CLI_OK;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		int r = global_opt(argc, argv, &i, g);
		if (r <= 0) {
			*rc = cli_usage_error(NULL, r < 0 ? "option %s needs a value"
							  : "unknown option %s", argv[i]);
			break;
		}
	}
	return i;
}

/* Run the command with its connection; closes it afterwards. */
static int main_run(const struct cli_cmd *c, struct global *g, struct cli_args *a)
{
	struct cli cli = {.json = g->json, .no_start = g->no_start};
	char cwd[PATH_MAX], rel[PATH_MAX];
	if (proto_socket_path(rel, sizeof(rel)) < 0 ||
	    (rel[0] != '/' && (!getcwd(cwd, sizeof(cwd)) ||
			       snprintf(cli.socket, sizeof(cli.socket), "%s/%s", cwd, rel) >=
				       (int)sizeof(cli.socket)))) {
		fprintf(stderr, "daa: the socket path is too long (check $DAA_SOCKET / $XDG_RUNTIME_DIR)\n");
		return CLI_ERR;
	}
	if (rel[0] == '/')
		memcpy(cli.socket, rel, sizeof(rel)); /* a daemon started by daa runs in / */
	if (daa_safe_install(!g->json, false) < 0)
		fprintf(stderr, "daa: cannot filter the output for the terminal: it is shown as it comes\n");
	if (cli_project_resolve(&cli, g->project) < 0)
		return CLI_ERR;
	int rc = c->fn(&cli, a);
	cli_conn_close(&cli);
	fflush(stdout);
	return rc;
}

/* daa: globals, command lookup, its options and arity, then the command. */
int main(int argc, char **argv)
{
	struct global g = {0};
	int rc;
	daa_safe_install(false, true); /* stderr: every byte passes client/daa_safe.c */
	int i = main_globals(argc, argv, &g, &rc);
	if (rc != CLI_OK)
		return rc;
	if (i >= argc && !g.help && isatty(0) && isatty(1)) {
		struct cli_args a = {0};
		return main_run(cli_cmd_named("chat"), &g, &a); /* `daa` alone on a terminal */
	}
	if (i >= argc) {
		cli_help_all(g.help ? stdout : stderr);
		return g.help ? CLI_OK : CLI_USAGE;
	}
	if (!strcmp(argv[i], "help"))
		return help_cmd(argc - i - 1, argv + i + 1);
	int used;
	const struct cli_cmd *c = cli_cmd_find(argc - i, argv + i, &used);
	if (!c)
		return unknown_cmd(argc - i, argv + i);
	struct cli_args a;
	memset(&a, 0, sizeof(a));
	if ((rc = cmd_parse(c, argc - i - used, argv + i + used, &g, &a)) != CLI_OK)
		return rc;
	if (g.help) {
		cli_help_cmd(stdout, c);
		return CLI_OK;
	}
	return main_run(c, &g, &a);
}
