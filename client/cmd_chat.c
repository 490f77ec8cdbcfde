/*
 * client/cmd_chat.c — `daa chat` (also `daa` alone on a terminal): a
 * conversation with the project's agent.
 *
 * On a terminal: GNU readline (loaded only then, client/chat_rl.h) in
 * callback mode, so one poll() loop serves both the keyboard and the
 * daemon's socket; history is kept in
 * $XDG_STATE_HOME/daa/chat_history.  The connection `watch`es the project,
 * so turns started by other clients show up too, as do their step edits
 * and re-runs (the kernel restarts: variables of the old code are gone).
 * A question from the agent (ours or another client's) is answered at the
 * prompt: a number picks a choice.  Ctrl-C cancels the running turn (or interrupts /run);
 * a second Ctrl-C leaves.  Slash commands: /help /history /undo
 * /project NAME /run CODE /cancel /quit.
 *
 * Not on a terminal (a pipe): one line at a time, each turn awaited; the
 * line after a question answers it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/chat_rl.h"
#include "client/cli.h"
#include "client/daa_safe.h"
#include "client/inline_img.h"
#include "protocol/proto_notes.h"

#define CHAT_PENDING 8
#define CHAT_RETRY_S 30 /* --no-start: how long a lost daemon is waited for */

enum pend_kind { PEND_TURN, PEND_RUN };

struct chat {
	struct cli *cli;
	bool tty, quit, question, cancel_sent, rl_on;
	bool in_cb; /* inside readline's line handler: it redraws the prompt itself */
	struct { uint32_t id; enum pend_kind kind; } pend[CHAT_PENDING];
	int npend;
	long long printed[8]; /* turns whose result was printed (answer + ask both reply) */
	int nprinted;
	char project_path[PATH_MAX];
	char project_name[256];
	char hist_path[PATH_MAX];
	char *choices[16]; /* of the question waiting for an answer */
	int nchoices;
};

static struct chat *chat; /* readline's callback has no user data */
static const struct chat_rl *rl; /* readline, loaded when chat runs on a terminal */
static char undone[NAME_MAX + 16]; /* our own /undo, so its notification is not shown twice */
static volatile sig_atomic_t got_int;
static sigset_t wait_mask;

/* SIGINT counted into got_int, and blocked except inside ppoll. */
static void chat_signals(void)
{
	cli_sigint_catch(&got_int, &wait_mask);
}

/* Before printing: take readline's line off the screen. */
static void out_begin(void)
{
	if (chat->rl_on && !chat->in_cb)
		daa_safe_raw("\r\033[K", 4);
}

/* After printing: the prompt and the half-typed line again. */
static void out_end(void)
{
	fflush(stdout);
	if (chat->rl_on && !chat->in_cb && !chat->quit) {
		rl->rl_on_new_line();
		rl->rl_redisplay();
	}
}

/* The prompt for what the next line means. */
static const char *chat_prompt(void)
{
	return chat->question ? "answer> " : "daa> ";
}

/* Send a request without waiting (cb: its reply, NULL: none); its msgid or
 * 0 (printed). */
static uint32_t chat_send(const char *method, struct cli_params *p, proto_reply_cb cb)
{
	struct proto_err err = {0};
	uint32_t id = proto_async_call(chat->cli->conn, method, cli_pack_params, p, cb, NULL);
	if (!id) {
		proto_fail(&err, PROTO_ERR_IO, "%s", proto_async_error(chat->cli->conn, NULL) ?: "out of memory");
		out_begin();
		fprintf(stdout, "daa: %s: %s\n", method, err.msg);
		out_end();
	}
	return id;
}

static void chat_reply_cb(const struct proto_reply *r, void *ud);

/* Send a request whose response ends a turn or a run, and remember it. */
static void pend_send(const char *method, struct cli_params *p, enum pend_kind kind)
{
	bool room = chat->npend < CHAT_PENDING;
	uint32_t id = chat_send(method, p, room ? chat_reply_cb : NULL);
	if (id && room) {
		chat->pend[chat->npend].id = id;
		chat->pend[chat->npend++].kind = kind;
	}
}

/* Was this turn's result printed already?  Marks it when not. */
static bool turn_seen(long long turn)
{
	for (int i = 0; i < chat->nprinted; i++)
		if (chat->printed[i] == turn)
			return true;
	chat->printed[chat->nprinted++ % 8] = turn;
	if (chat->nprinted > 8)
		chat->nprinted = 8;
	return false;
}

/* Keep the choices of the question q (a number typed picks one). */
static void choices_keep(const msgpack_object *q)
{
	const msgpack_object *ch = proto_map_get(q, "choices");
	for (int i = 0; i < chat->nchoices; i++)
		free(chat->choices[i]);
	chat->nchoices = 0;
	if (!ch || ch->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (uint32_t i = 0; i < ch->via.array.size && chat->nchoices < 16; i++) {
		const msgpack_object *c = &ch->via.array.ptr[i];
		char *v = c->type == MSGPACK_OBJECT_STR ? strndup(c->via.str.ptr, c->via.str.size) : NULL;
		if (v)
			chat->choices[chat->nchoices++] = v;
	}
}

/* A background profile made or failed (data.event). */
static void data_event_print(const msgpack_object *ev)
{
	const char *kind = cli_str(ev, "kind"), *ds = cli_str(ev, "dataset");
	if (kind && !strcmp(kind, "profiled")) {
		const char *rep = cli_str(ev, "report");
		printf("[data] %s profiled: %lld rows × %lld columns, %lld warnings%s%s\n", ds ? ds : "?",
		       (long long)proto_map_int(ev, "rows", 0), (long long)proto_map_int(ev, "n_columns", 0),
		       (long long)proto_map_int(ev, "warnings", 0), rep ? " — " : "", rep ? rep : "");
	} else if (kind && !strcmp(kind, "profile_failed")) {
		const char *e = cli_str(ev, "error");
		printf("[data] profile of %s failed: %s\n", ds ? ds : "?", e ? e : "?");
	}
}

/* A step edit or a re-run another client made (chat makes neither), in
 * the words the tray uses too (proto_history_note).  false: not one. */
static bool history_event_print(const msgpack_object *ev)
{
	char line[1024];
	if (!proto_history_note(ev, line, sizeof line))
		return false;
	printf("[history] %s\n", line);
	return true;
}

/* turn.event / history.changed / history.event / data.event from the
 * project (ours or another client's). */
static void chat_note_cb(const char *method, const msgpack_object *ev, void *ud)
{
	(void)ud;
	const char *kind = cli_str(ev, "kind"), *pp = cli_str(ev, "project_path");
	if (pp && chat->project_path[0] && strcmp(pp, chat->project_path) != 0)
		return;
	const char *rm = cli_str(ev, "removed");
	if (!strcmp(method, "history.changed") && rm && !strcmp(rm, undone)) {
		undone[0] = '\0';
		return;
	}
	const char *action = cli_str(ev, "action");
	if (!strcmp(method, "history.changed") && action && !strcmp(action, "edit"))
		return; /* its history.event "edited" says more */
	if (!strcmp(method, "turn.event") && kind && !strcmp(kind, "question") && !chat->tty &&
	    chat->npend > 0)
		return; /* a pipe: the turn's result carries the question */
	if (!strcmp(method, "turn.event") && kind && !strcmp(kind, "progress") &&
	    cli_str(ev, "dataset"))
		return; /* a profile a turn waits for: drawn from its data.event profile_progress */
	out_begin();
	if (!strcmp(method, "history.changed")) {
		printf("[history] %s%s\n", rm ? "undone: " : "changed", rm ? rm : "");
	} else if (!strcmp(method, "history.event") && history_event_print(ev)) {
		/* printed */
	} else if (!strcmp(method, "history.event") && kind && !strcmp(kind, "run_queued")) {
		const char *behind = cli_str(ev, "behind");
		printf("[run] waiting for the project's %s to end…\n", behind ? behind : "work");
	} else if ((!strcmp(method, "history.event") && kind && !strcmp(kind, "run_progress")) ||
		   (!strcmp(method, "data.event") && kind && !strcmp(kind, "profile_progress"))) {
		cli_progress_print(chat->tty ? stdout : stderr, ev);
	} else if (!strcmp(method, "data.event")) {
		data_event_print(ev);
	} else if (!strcmp(method, "turn.event") && kind && !strcmp(kind, "question")) {
		cli_question_print(stdout, ev);
		choices_keep(ev);
		if (chat->tty)
			printf("(answer below: a number picks a choice; Ctrl-C cancels the turn)\n");
		chat->question = true;
		if (chat->rl_on)
			rl->rl_set_prompt(chat_prompt());
	} else if (!strcmp(method, "turn.event")) {
		cli_event_print(chat->tty ? stdout : stderr, ev); /* a pipe: progress apart */
		if (kind && !strcmp(kind, "done") && chat->npend == 0) {
			/* another client's turn: its answer is all we get */
			const char *ans = cli_str(ev, "answer");
			if (ans && *ans && !turn_seen(proto_map_int(ev, "turn", 0)))
				printf("%s\n\n", ans);
		}
		if (kind && (!strcmp(kind, "answered") || !strcmp(kind, "done"))) {
			chat->question = false;
			if (chat->rl_on)
				rl->rl_set_prompt(chat_prompt());
		}
	}
	out_end();
}

/* A response to a pending request: print the turn or run result. */
static void chat_result(enum pend_kind kind, struct proto_msg *m, const char *method)
{
	out_begin();
	if (m->error && m->error->type != MSGPACK_OBJECT_NIL) {
		cli_print_error(chat->cli, method, m->error);
	} else if (kind == PEND_RUN) {
		cli_exec_print(m->result, chat->project_path);
	} else if ((cli_str(m->result, "status") && !strcmp(cli_str(m->result, "status"), "question")) ||
		   !turn_seen(proto_map_int(m->result, "turn", 0))) { /* a question is no end */
		int rc = cli_turn_print(m->result, false);
		chat->question = rc == CLI_QUESTION;
		if (chat->question)
			choices_keep(proto_map_get(m->result, "question"));
		if (chat->question && !chat->tty)
			printf("(the next line answers the question)\n");
	}
	printf("\n");
	if (chat->rl_on)
		rl->rl_set_prompt(chat_prompt());
	out_end();
}

/* The response to a pending ask, answer or run.  A failure (the connection
 * closed) is left to chat_reattach, which says what was pending. */
static void chat_reply_cb(const struct proto_reply *r, void *ud)
{
	(void)ud;
	for (int i = 0; r->msg && i < chat->npend; i++) {
		if (chat->pend[i].id != r->msg->msgid)
			continue;
		enum pend_kind kind = chat->pend[i].kind;
		memmove(&chat->pend[i], &chat->pend[i + 1], (size_t)(chat->npend - i - 1) * sizeof(chat->pend[0]));
		chat->npend--;
		chat_result(kind, r->msg, kind == PEND_RUN ? "run" : "ask");
		if (chat->npend == 0)
			chat->cancel_sent = false, got_int = 0;
		return;
	}
}

/* A short call answered at once (notifications and other responses still
 * handled meanwhile); *m is the response, error or not; -1 (printed) when
 * none came. */
static int chat_call_raw(const char *method, struct cli_params *p, struct proto_msg *m)
{
	struct cli_call call;
	if (cli_call_wait(chat->cli, method, p, CLI_TIMEOUT_SHORT, &call) < 0) {
		printf("daa: %s: %s\n", method, call.why);
		return -1;
	}
	*m = call.msg;
	return 0;
}

/* chat_call_raw, with an error response printed (and -1). */
static int chat_call(const char *method, struct cli_params *p, struct proto_msg *m)
{
	if (chat_call_raw(method, p, m) < 0)
		return -1;
	if (m->error && m->error->type != MSGPACK_OBJECT_NIL) {
		cli_print_error(chat->cli, method, m->error);
		proto_msg_done(m);
		return -1;
	}
	return 0;
}

/* Connect (auto-start) and watch the project; 0 or -1 (printed). */
static int chat_attach(void)
{
	struct cli_params p = {0};
	struct proto_msg m;
	chat->nprinted = 0; /* turn numbers are per project */
	if (cli_connect(chat->cli) != CLI_OK)
		return -1;
	proto_async_set_notify(chat->cli->conn, chat_note_cb, NULL);
	chat->cli->wait_mask = &wait_mask;
	cli_p_project(&p, chat->cli);
	if (chat_call("watch", &p, &m) < 0)
		return -1;
	proto_map_str(m.result, "project_path", chat->project_path, sizeof chat->project_path);
	if (!proto_map_str(m.result, "project", chat->project_name, sizeof chat->project_name))
		snprintf(chat->project_name, sizeof chat->project_name, "%s", chat->cli->project ? chat->cli->project : "default");
	proto_msg_done(&m);
	return 0;
}

static const char chat_help[] =
	"  plain words        ask the agent (\"total revenue by month\")\n"
	"  a number or text   answers the agent's question when it asks one\n"
	"  /run CODE          run Python in the project's kernel\n"
	"  /history           the project's steps\n"
	"  /undo              drop the last step (kept under .daa/undone/)\n"
	"  /project [NAME]    show the project, or switch to NAME\n"
	"  /cancel            cancel the project's running turn\n"
	"  /help              this text\n"
	"  /quit              leave (also Ctrl-D)\n"
	"Ctrl-C cancels the running turn (or interrupts /run); a second Ctrl-C leaves.\n";

/* One step of history.list, whatever names its fields use. */
static void step_print(const msgpack_object *st)
{
	static const char *const nums[] = {"n", "number", "step", "index"};
	static const char *const names[] = {"title", "request", "purpose", "file", "name", "path"};
	long long n = -1;
	const char *name = NULL, *status = cli_str(st, "status");
	if (st->type != MSGPACK_OBJECT_MAP) {
		cli_json_print(stdout, st, -1);
		printf("\n");
		return;
	}
	for (size_t i = 0; i < 4 && n < 0; i++)
		n = proto_map_int(st, nums[i], -1);
	for (size_t i = 0; i < 6 && !name; i++)
		name = cli_str(st, names[i]);
	printf("  %3lld  %-8s %s\n", n, status ? status : "", name ? name : "");
}

/* /history: history.list when the daemon has it, else the step count. */
static void chat_history(void)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, chat->cli);
	if (chat_call_raw("history.list", &p, &m) < 0)
		return;
	if (m.error && m.error->type != MSGPACK_OBJECT_NIL) {
		bool none = proto_map_int(m.error, "code", 0) == PROTO_ERR_NO_METHOD;
		if (!none)
			cli_print_error(chat->cli, "history.list", m.error);
		proto_msg_done(&m);
		if (none && chat_call("project.info", &p, &m) == 0) {
			printf("%lld step(s) in %s (this daemon has no history.list method, so the\n"
			       "steps cannot be listed one by one; see %s/history/)\n",
			       (long long)proto_map_int(m.result, "steps", 0), chat->project_name,
			       chat->project_path);
			proto_msg_done(&m);
		}
		return;
	}
	const msgpack_object *steps = m.result;
	if (steps && steps->type == MSGPACK_OBJECT_MAP)
		steps = proto_map_get(steps, "steps");
	if (!steps || steps->type != MSGPACK_OBJECT_ARRAY || steps->via.array.size == 0)
		printf("no steps yet in %s\n", chat->project_name);
	else
		for (uint32_t i = 0; i < steps->via.array.size; i++)
			step_print(&steps->via.array.ptr[i]);
	proto_msg_done(&m);
}

/* /undo: history.undo drops the last step. */
static void chat_undo(void)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, chat->cli);
	if (chat_call("history.undo", &p, &m) < 0)
		return;
	const char *rm = cli_str(m.result, "removed"), *kept = cli_str(m.result, "kept_as");
	if (rm) {
		snprintf(undone, sizeof undone, "%s", rm);
		printf("undone: %s (kept as %s); %lld step(s) left; the kernel was restarted\n", rm,
		       kept ? kept : "?", (long long)proto_map_int(m.result, "steps", 0));
	} else {
		printf("nothing to undo: %s has no steps\n", chat->project_name);
	}
	proto_msg_done(&m);
}

/* /project [NAME]: show, or reconnect watching another project. */
static void chat_project(const char *name)
{
	static char buf[2][PATH_MAX];
	static int which;
	if (!*name) {
		printf("project %s (%s)\n", chat->project_name, chat->project_path);
		return;
	}
	if (chat->npend) {
		printf("a turn is still running here; wait for it or /cancel it first\n");
		return;
	}
	const char *old = chat->cli->project;
	which ^= 1;
	snprintf(buf[which], sizeof buf[which], "%s", name);
	chat->cli->project = buf[which];
	cli_conn_close(chat->cli);
	chat->question = false;
	if (chat_attach() == 0) {
		printf("now in project %s (%s)\n", chat->project_name, chat->project_path);
		return;
	}
	printf("staying in project %s (create a project with `daa project new NAME`)\n", chat->project_name);
	chat->cli->project = old;
	cli_conn_close(chat->cli);
	if (chat_attach() < 0)
		chat->quit = true;
}

/* /cancel */
static void chat_cancel(void)
{
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, chat->cli);
	if (chat_call("cancel", &p, &m) < 0)
		return;
	printf(proto_map_bool(m.result, "cancelled", false) ? "cancelling the turn\n" : "no turn was running\n");
	proto_msg_done(&m);
}

/* A slash command (or quit / exit). */
static void chat_slash(const char *s)
{
	const char *arg = s + strcspn(s, " \t");
	size_t n = (size_t)(arg - s);
	arg += strspn(arg, " \t");
#define IS(word) (n == strlen(word) && !strncmp(s, word, n))
	if (IS("/quit") || IS("/exit") || IS("/q") || IS("quit") || IS("exit")) {
		chat->quit = true;
		return;
	}
	out_begin();
	if (IS("/help") || IS("/?"))
		fputs(chat_help, stdout);
	else if (IS("/history"))
		chat_history();
	else if (IS("/undo"))
		chat_undo();
	else if (IS("/project"))
		chat_project(arg);
	else if (IS("/cancel"))
		chat_cancel();
	else if (IS("/run") && *arg) {
		struct cli_params p = {0};
		cli_p_project(&p, chat->cli);
		cli_p_str(&p, "code", arg);
		pend_send("run", &p, PEND_RUN);
	} else if (IS("/run"))
		printf("usage: /run CODE (one line of Python)\n");
	else
		printf("no command %.*s; /help lists them\n", (int)n, s);
#undef IS
	out_end();
}


/* One line typed (or read): a slash command, an answer, or a request. */
static void chat_line(char *line)
{
	char *s = line;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	got_int = 0;
	if (!*s)
		return;
	if (chat->tty)
		rl->add_history(s);
	if (*s == '/' || !strcmp(s, "quit") || !strcmp(s, "exit")) {
		chat_slash(s);
		return;
	}
	struct cli_params p = {0};
	cli_p_project(&p, chat->cli);
	if (chat->question) {
		char *end;
		long k = strtol(s, &end, 10);
		cli_p_str(&p, "text", !*end && k >= 1 && k <= chat->nchoices ? chat->choices[k - 1] : s);
		chat->question = false;
		pend_send("answer", &p, PEND_TURN);
	} else {
		cli_p_str(&p, "request", s);
		cli_p_bool(&p, "interactive", chat->tty);
		pend_send("ask", &p, PEND_TURN);
	}
	if (chat->rl_on)
		rl->rl_set_prompt(chat_prompt());
}

/* readline's line handler (NULL: end of input). */
static void chat_rl_cb(char *line)
{
	if (!line) {
		chat->quit = true;
		printf("\n");
		return;
	}
	chat->in_cb = true;
	chat_line(line);
	chat->in_cb = false;
	free(line);
}


/* Ctrl-C: cancel what runs (first), leave (second, or at an empty prompt twice). */
static void chat_interrupt(void)
{
	out_begin();
	if (chat->npend > 0 && got_int >= 2) {
		printf("leaving; the daemon goes on with what it was doing\n");
		chat->quit = true;
	} else if (chat->npend > 0 && !chat->cancel_sent) {
		bool run = false;
		for (int i = 0; i < chat->npend; i++)
			run |= chat->pend[i].kind == PEND_RUN;
		struct cli_params p = {0};
		cli_p_project(&p, chat->cli);
		chat_send(run ? "kernel.interrupt" : "cancel", &p, NULL);
		printf("%s (Ctrl-C again leaves)\n", run ? "interrupting the code" : "cancelling the turn");
		chat->cancel_sent = true;
	} else if (chat->npend == 0 && chat->rl_on && *rl->rl_end > 0) {
		rl->rl_replace_line("", 0);
		printf("^C\n");
		got_int = 0;
	} else if (chat->npend == 0 && got_int >= 2) {
		chat->quit = true;
	} else if (chat->npend == 0) {
		printf("(Ctrl-C again, Ctrl-D or /quit leaves)\n");
	}
	out_end();
}

/* The daemon went away: connect again (auto-start; with --no-start it is
 * tried for CHAT_RETRY_S, for a daemon restarted by systemd or by hand);
 * what was pending is forgotten, and said to be unknown. */
static int chat_reattach(void)
{
	cli_conn_close(chat->cli);
	out_begin();
	if (chat->npend)
		printf("daa: daad restarted (or stopped) while %d request(s) waited; their result is "
		       "unknown — see /history or `daa log`\n", chat->npend);
	printf("daa: lost the daemon; connecting again\n");
	fflush(stdout);
	chat->npend = 0;
	chat->question = false;
	chat->cancel_sent = false;
	int rc = chat->cli->no_start ? -1 : chat_attach();
	for (int i = 0; rc < 0 && !chat->cli->conn && chat->cli->no_start && i < CHAT_RETRY_S * 5 &&
			got_int < 2; i++) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		struct proto_err err;
		ppoll(NULL, 0, &ts, &wait_mask);
		if (cli_conn_open(chat->cli, &err) == 0)
			rc = chat_attach(); /* quietly tried until then: no line per attempt */
	}
	if (rc == 0)
		printf("daa: connected again to project %s\n", chat->project_name);
	out_end();
	return rc;
}

/* The daemon went away: say why, connect again; -1 when chat cannot go on. */
static int chat_lost(void)
{
	out_begin();
	printf("daa: %s\n", proto_async_error(chat->cli->conn, NULL));
	out_end();
	return chat_reattach();
}

/* The terminal loop: readline in callback mode plus the socket. */
static int chat_loop_tty(void)
{
	*rl->rl_catch_signals = 0;
	*rl->rl_outstream = daa_safe_raw_stream(); /* its redisplay is daa's own, not the daemon's */
	rl->rl_callback_handler_install(chat_prompt(), chat_rl_cb);
	chat->rl_on = true;
	while (!chat->quit) {
		int rc = cli_loop_once(chat->cli, 0, -1);
		if (rc == -1 && errno == EINTR) {
			if (got_int)
				chat_interrupt();
			continue;
		}
		if (rc == -1 || (rc == -2 && chat_lost() < 0))
			break;
		if (rc == 1)
			rl->rl_callback_read_char();
	}
	chat->rl_on = false;
	rl->rl_callback_handler_remove();
	return chat->quit ? CLI_OK : CLI_UNREACHABLE;
}

/* Reading from a pipe: a line, then wait until what it started is done. */
static int chat_loop_pipe(void)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = CLI_OK;
	while (!chat->quit && getline(&line, &cap, stdin) >= 0) {
		chat_line(line);
		while (chat->npend > 0 && !chat->quit) {
			int r = cli_loop_once(chat->cli, -1, -1);
			if (r == -1 && errno == EINTR) {
				if (got_int)
					chat_interrupt();
			} else if (r == -2 && chat_lost() < 0) {
				rc = CLI_UNREACHABLE;
				chat->quit = true;
			}
		}
		fflush(stdout);
	}
	free(line);
	return rc != CLI_OK ? rc : chat->question ? CLI_QUESTION : CLI_OK;
}

/* Where the line history lives: $XDG_STATE_HOME/daa/chat_history. */
static void history_load(void)
{
	const char *st = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[PATH_MAX - 32];
	if (st && *st)
		snprintf(dir, sizeof dir, "%s/daa", st);
	else if (home && *home)
		snprintf(dir, sizeof dir, "%s/.local/state/daa", home);
	else
		return;
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
	mkdir(dir, 0700);
	snprintf(chat->hist_path, sizeof chat->hist_path, "%s/chat_history", dir);
	rl->stifle_history(1000);
	rl->read_history(chat->hist_path);
}

/* daa chat */
static int cmd_chat(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct chat c;
	memset(&c, 0, sizeof c);
	c.cli = cli;
	c.tty = isatty(0) && isatty(1) && !cli->json;
	if (cli->json) /* chat has no JSON form: its text is made terminal-safe all the same */
		daa_safe_install(true, false);
	char why[256];
	if (c.tty && !(rl = chat_rl_load(why, sizeof why))) {
		fprintf(stderr, "daa chat: line editing needs GNU readline: %s\n"
				"(install it — Debian: libreadline8 — or pipe the lines in: "
				"`cat | daa chat`)\n", why);
		return CLI_ERR;
	}
	chat = &c;
	chat_signals();
	if (c.tty) {
		cli_image_probe(); /* may ask the terminal: before readline takes it */
		history_load();
	}
	if (chat_attach() < 0)
		return cli->conn ? CLI_ERR : CLI_UNREACHABLE;
	if (c.tty)
		printf("daa chat — project %s (%s)\nAsk in plain words; /help lists commands; "
		       "Ctrl-D or /quit leaves.\n\n", c.project_name, c.project_path);
	int rc = c.tty ? chat_loop_tty() : chat_loop_pipe();
	if (c.tty && c.hist_path[0] && rl->write_history(c.hist_path) != 0)
		fprintf(stderr, "daa: cannot save the chat history in %s\n", c.hist_path);
	for (int i = 0; i < c.nchoices; i++)
		free(c.choices[i]);
	chat = NULL;
	return rc;
}

const struct cli_cmd cli_cmds_chat[] = {
	{"chat", "", "a conversation in the terminal (also `daa` alone on a terminal)",
	 "On a terminal: line editing and history ($XDG_STATE_HOME/daa/chat_history), the\n"
	 "agent's questions answered in place (a number picks a choice), turns of other\n"
	 "clients on the project shown as they happen, figures inline.  Ctrl-C cancels the\n"
	 "running turn; a second Ctrl-C leaves.  Commands: /help /history /undo\n"
	 "/project NAME /run CODE /cancel /quit.\n"
	 "Reading from a pipe: one line per turn; the line after a question answers it.\n",
	 0, 0, NULL, cmd_chat},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
