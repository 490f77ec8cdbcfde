/*
 * client/cmd_turn.c — commands that run analysis: run (code in the
 * project's kernel), ask (one agent turn, with progress, questions answered
 * on the terminal, Ctrl-C to cancel), answer, cancel, watch, and kernel
 * interrupt / restart.
 *
 * Ctrl-C: the first one sends `cancel` (ask, answer) or `kernel.interrupt`
 * (run) and keeps waiting for the result that says so; a second one leaves.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"

static volatile sig_atomic_t got_int;

static sigset_t wait_mask; /* the mask during waits: SIGINT let through */

/* SIGINT is counted into got_int, and kept blocked except inside waits
 * (ppoll) and terminal reads (client/daa_signal.c). */
static void catch_sigint(void)
{
	cli_sigint_catch(&got_int, &wait_mask);
}

/* Block (true) or let through (false) SIGINT outside waits. */
static void sigint_block(bool block)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

struct turn {
	struct cli *cli;
	bool interactive;      /* questions are asked on the terminal */
	bool progress;         /* one line per event on stderr */
	const char *stop;      /* method sent on the first Ctrl-C */
	bool stop_sent;
	struct cli_call answer; /* last `answer` sent from a question event (id 0: none) */
};

/* Send a request whose response call gets; false (said) when it cannot. */
static bool send_req(struct cli *cli, const char *method, struct cli_params *p,
		     struct cli_call *call)
{
	struct proto_err err;
	if (cli_send(cli, method, p, call, &err))
		return true;
	fprintf(stderr, "daa: %s: %s\n", method, err.msg);
	return false;
}

/* Ask the user on the terminal; the answer text (a number picks a choice)
 * into buf.  False on end of input or Ctrl-C. */
static bool prompt(const msgpack_object *q, char *buf, size_t size)
{
	cli_question_print(stdout, q);
	printf("> ");
	fflush(stdout);
	sigint_block(false);
	char *got = got_int ? NULL : fgets(buf, (int)size, stdin);
	sigint_block(true);
	if (!got)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	const msgpack_object *ch = proto_map_get(q, "choices");
	char *end;
	long k = strtol(buf, &end, 10);
	if (*buf && !*end && ch && ch->type == MSGPACK_OBJECT_ARRAY && k >= 1 &&
	    k <= (long)ch->via.array.size && ch->via.array.ptr[k - 1].type == MSGPACK_OBJECT_STR) {
		const msgpack_object *c = &ch->via.array.ptr[k - 1];
		snprintf(buf, size, "%.*s", (int)c->via.str.size, c->via.str.ptr);
	}
	return true;
}

/* Answer a question from the terminal; the answer's response goes to
 * t->answer (an earlier answer is forgotten).  False when none was sent. */
static bool answer_from_tty(struct turn *t, const msgpack_object *q)
{
	char line[4096];
	if (!prompt(q, line, sizeof(line))) {
		if (!got_int)
			got_int = 1; /* end of input: cancel the turn */
		printf("\n");
		return false;
	}
	struct cli_params p = {0};
	cli_p_project(&p, t->cli);
	cli_p_str(&p, "text", line);
	cli_call_forget(t->cli, &t->answer);
	return send_req(t->cli, "answer", &p, &t->answer);
}

/* turn.event (and other notifications) while a turn runs. */
static void turn_note_cb(const char *method, const msgpack_object *params, void *ud)
{
	struct turn *t = ud;
	const char *kind = cli_str(params, "kind");
	if (strcmp(method, "history.event") == 0 && kind && !strcmp(kind, "run_queued")) {
		const char *behind = cli_str(params, "behind");
		fprintf(stderr, "daa: waiting for the project's %s to end… (Ctrl-C drops this run)\n",
			behind ? behind : "work");
		return;
	}
	if (strcmp(method, "history.event") == 0 && kind && !strcmp(kind, "run_progress")) {
		if (!t->cli->json)
			cli_progress_print(stderr, params); /* a run's Dask work */
		return;
	}
	/* data.event profile_progress too is not ours: a profile the turn waits
	 * for comes as the turn's own "progress" (with its dataset) */
	if (strcmp(method, "turn.event") != 0)
		return;
	bool question = kind && !strcmp(kind, "question");
	if (t->progress && !(question && t->interactive))
		cli_event_print(stderr, params);
	if (question && t->interactive && !got_int)
		answer_from_tty(t, params);
}

/* Send method with p and wait for its result (error responses printed). */
static int turn_call(struct turn *t, const char *method, struct cli_params *p, struct proto_msg *m)
{
	int rc = cli_connect(t->cli);
	if (rc != CLI_OK)
		return rc;
	struct cli_call call;
	proto_async_set_notify(t->cli->conn, turn_note_cb, t);
	t->cli->wait_mask = &wait_mask;
	if (!send_req(t->cli, method, p, &call))
		return CLI_UNREACHABLE;
	rc = cli_wait(t->cli, method, &call, &got_int, t->stop, &t->stop_sent, NULL, m);
	cli_progress_clear(stderr); /* the step ended: no bar left over the result */
	return rc;
}

/* Is the TURN RESULT a question? */
static bool is_question(const msgpack_object *res)
{
	const char *s = cli_str(res, "status");
	return s && !strcmp(s, "question");
}

/* Follow a turn to its end: on a terminal, questions that come back in the
 * result are answered and the answer's result awaited. */
static int turn_follow(struct turn *t, struct proto_msg *m)
{
	while (t->interactive && is_question(m->result) && !got_int) {
		if (!t->answer.id && !answer_from_tty(t, proto_map_get(m->result, "question")))
			break;
		proto_msg_done(m);
		/* a question coming meanwhile replaces the answer waited for */
		int rc = cli_wait(t->cli, "answer", &t->answer, &got_int, t->stop, &t->stop_sent, NULL, m);
		memset(&t->answer, 0, sizeof(t->answer)); /* taken: the next question's slot */
		if (rc != CLI_OK)
			return rc;
	}
	cli_call_forget(t->cli, &t->answer);
	int rc;
	if (t->cli->json) {
		cli_json_print(stdout, m->result, 2);
		printf("\n");
		const char *s = cli_str(m->result, "status");
		rc = !s ? CLI_ERR : !strcmp(s, "done") ? (cli_str(m->result, "history_error") ? CLI_NOT_SAVED : CLI_OK)
			: !strcmp(s, "question") ? CLI_QUESTION : CLI_ERR;
	} else {
		rc = cli_turn_print(m->result, true);
	}
	proto_msg_done(m);
	return rc;
}

/* daa ask "REQUEST" */
static int cmd_ask(struct cli *cli, struct cli_args *a)
{
	struct turn t = {.cli = cli, .stop = "cancel", .progress = !cli->json};
	t.interactive = isatty(0) && isatty(1) && !cli->json && !a->val['b'];
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	cli_p_str(&p, "request", a->argv[0]);
	cli_p_bool(&p, "interactive", t.interactive);
	catch_sigint();
	int rc = turn_call(&t, "ask", &p, &m);
	return rc == CLI_OK ? turn_follow(&t, &m) : rc;
}

/* daa answer "TEXT" */
static int cmd_answer(struct cli *cli, struct cli_args *a)
{
	struct turn t = {.cli = cli, .stop = "cancel", .progress = !cli->json};
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	cli_p_str(&p, "text", a->argv[0]);
	catch_sigint();
	int rc = turn_call(&t, "answer", &p, &m);
	return rc == CLI_OK ? turn_follow(&t, &m) : rc;
}

/* The whole of a file ("-" = stdin) as a string (malloc'd), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "daa: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = (cap + 4096) * 2);
			if (!nb)
				break;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	bool bad = ferror(f) || !buf;
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "daa: cannot read %s\n", path);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		fprintf(stderr, "daa: %s holds NUL bytes; is it really Python code?\n", path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* daa run CODE | daa run -f FILE [--scratch] [--timeout SECONDS] */
static int cmd_run(struct cli *cli, struct cli_args *a)
{
	struct turn t = {.cli = cli, .stop = "kernel.interrupt"};
	const char *file = a->val['f'], *tmo = a->val['t'];
	if ((file != NULL) == (a->argc == 1))
		return cli_usage_error(cli_cmd_named("run"), "give the code as one argument or with -f FILE, not both");
	char *end = NULL;
	long secs = tmo ? strtol(tmo, &end, 10) : 0;
	if (tmo && (*end || secs <= 0))
		return cli_usage_error(cli_cmd_named("run"), "--timeout wants a whole number of seconds, not '%s'", tmo);
	char *code = file ? slurp(file) : strdup(a->argv[0]);
	if (!code)
		return CLI_ERR;
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	cli_p_str(&p, "code", code);
	if (a->val['s'])
		cli_p_bool(&p, "scratch", true);
	if (tmo)
		cli_p_int(&p, "timeout_s", secs);
	catch_sigint();
	int rc = turn_call(&t, "run", &p, &m);
	free(code);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m))
		rc = cli_exec_print(m.result, NULL) ? CLI_OK : CLI_ERR;
	else
		rc = proto_map_bool(m.result, "ok", false) ? CLI_OK : CLI_ERR;
	if (rc == CLI_OK && cli_str(m.result, "step_error"))
		rc = CLI_NOT_SAVED; /* it ran, but saving it failed: never a plain success */
	proto_msg_done(&m);
	return rc;
}

/* A method taking only {project?} whose result is printed by `say`. */
static int simple(struct cli *cli, const char *method, const char *yes, const char *no)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	int rc = cli_call(cli, method, &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		bool done = proto_map_bool(m.result, "cancelled", proto_map_bool(m.result, "ok", true));
		printf("%s\n", done ? yes : no);
	}
	proto_msg_done(&m);
	return CLI_OK;
}

/* daa cancel */
static int cmd_cancel(struct cli *cli, struct cli_args *a)
{
	(void)a;
	return simple(cli, "cancel", "cancelled the running turn", "no turn was running");
}

/* daa kernel interrupt */
static int cmd_kernel_interrupt(struct cli *cli, struct cli_args *a)
{
	(void)a;
	return simple(cli, "kernel.interrupt", "interrupted the kernel", "the kernel was not interrupted");
}

/* daa kernel restart */
static int cmd_kernel_restart(struct cli *cli, struct cli_args *a)
{
	(void)a;
	return simple(cli, "kernel.restart", "restarted the kernel", "the kernel was not restarted");
}

/* Every notification while watching: a line, or a JSON line with --json. */
static void watch_note_cb(const char *method, const msgpack_object *params, void *ud)
{
	struct cli *cli = ud;
	if (cli->json) {
		msgpack_object name = {.type = MSGPACK_OBJECT_STR};
		name.via.str.ptr = method;
		name.via.str.size = (uint32_t)strlen(method);
		printf("{\"method\": ");
		cli_json_print(stdout, &name, -1);
		printf(", \"params\": ");
		cli_json_print(stdout, params, -1);
		printf("}\n");
	} else if (!strcmp(method, "turn.event") && cli_str(params, "kind") &&
		   !strcmp(cli_str(params, "kind"), "progress") && cli_str(params, "dataset")) {
		/* a profile a turn waits for: drawn from its data.event below */
	} else if (!strcmp(method, "turn.event")) {
		cli_event_print(stdout, params);
	} else if (!strcmp(method, "data.event") && cli_str(params, "kind") &&
		   !strcmp(cli_str(params, "kind"), "profile_progress")) {
		cli_progress_print(stdout, params); /* a Dask dataset's profile */
	} else {
		cli_progress_clear(stdout);
		printf("%s ", method);
		cli_json_print(stdout, params, -1);
		printf("\n");
	}
	fflush(stdout);
}

/* daa watch: print every event of the project until Ctrl-C. */
static int cmd_watch(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	catch_sigint();
	int rc = cli_connect(cli);
	if (rc != CLI_OK)
		return rc;
	/* events may come right behind the reply, in the same read */
	proto_async_set_notify(cli->conn, watch_note_cb, cli);
	rc = cli_call(cli, "watch", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	const char *pp = cli_str(m.result, "project_path");
	fprintf(stderr, "watching %s (Ctrl-C to stop)\n", pp ? pp : cli->project ? cli->project : "default");
	proto_msg_done(&m);
	cli->wait_mask = &wait_mask;
	while (!got_int) {
		int r = cli_loop_once(cli, -1, CLI_TIMEOUT_NONE);
		if (r == -2 || (r == -1 && errno != EINTR)) {
			const char *why = proto_async_error(cli->conn, NULL);
			fprintf(stderr, "daa: %s\n", why ? why : strerror(errno));
			return CLI_UNREACHABLE;
		}
	}
	return CLI_OK;
}

static const struct cli_opt opts_run[] = {{'f', "file", true}, {'s', "scratch", false},
					  {'t', "timeout", true}, {0, NULL, false}};
static const struct cli_opt opts_ask[] = {{'b', "batch", false}, {0, NULL, false}};

const struct cli_cmd cli_cmds_turn[] = {
	{"ask", "REQUEST [--batch]", "one agent turn: progress on stderr, then answer, code, outputs",
	 "On a terminal the agent's questions are asked in place (a number picks a choice).\n"
	 "Otherwise (or with --batch) a question ends daa with exit status 3; answer it with\n"
	 "`daa answer TEXT`.  Ctrl-C cancels the turn; a second Ctrl-C leaves at once.\n"
	 "Exit status 5: the turn ended but its code was not saved as a history step.\n",
	 1, 1, opts_ask, cmd_ask},
	{"answer", "TEXT", "answer the project's pending question, then follow the turn", NULL, 1, 1,
	 NULL, cmd_answer},
	{"run", "CODE | -f FILE [--scratch] [--timeout SECONDS]", "run Python code in the project's kernel",
	 "Prints stdout, the value of the last expression, tables and figure paths; errors with\n"
	 "their traceback (exit status 1).  -f - reads the code from stdin.  --scratch: do not\n"
	 "save the code as a history step.  Ctrl-C interrupts the kernel.  Exit status 5: the\n"
	 "code ran but was not saved as a history step (the reason is printed).\n",
	 0, 1, opts_run, cmd_run},
	{"cancel", "", "cancel the project's running turn", NULL, 0, 0, NULL, cmd_cancel},
	{"watch", "", "print every event of the project as it happens (Ctrl-C to stop)", NULL, 0, 0,
	 NULL, cmd_watch},
	{"kernel interrupt", "", "interrupt the code running in the project's kernel", NULL, 0, 0,
	 NULL, cmd_kernel_interrupt},
	{"kernel restart", "", "restart the project's kernel (history is replayed)", NULL, 0, 0, NULL,
	 cmd_kernel_restart},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
