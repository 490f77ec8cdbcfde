/*
 * client/cli.h — the `daa` CLI's internals: global options, the command
 * table (tmux style: name, usage, summary, arity and options, checked in one
 * place by daa.c), the connection with auto-start, parameter building,
 * the JSON printer and result renderers.  Links only protocol/.
 */
#ifndef DAA_CLI_H
#define DAA_CLI_H

#include <signal.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "protocol/proto_async.h"

/* Exit codes (DESIGN.md).  CLI_UNREACHABLE also when the daemon went away
 * while a reply was awaited (cli_lost): the request's result is unknown. */
enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2, CLI_QUESTION = 3, CLI_UNREACHABLE = 4,
       CLI_NOT_SAVED = 5 /* the code ran but was not saved as a history step */ };

/* Timeouts for calls, in ms (-1: wait as long as it takes). */
#define CLI_TIMEOUT_SHORT 30000
#define CLI_TIMEOUT_NONE (-1)

struct cli {
	const char *project;          /* name or absolute path; NULL: daemon's default */
	const char *project_from;     /* where it came from: "-p", "$DAA_PROJECT", "cwd" */
	bool json;
	bool no_start;
	char socket[PATH_MAX];
	struct proto_async *conn;     /* NULL until cli_connect (client/daa_loop.c) */
	const sigset_t *wait_mask;    /* set: waits use it (SIGINT let through) */
	char project_buf[PATH_MAX];
};

/* A command option: -c / --name, with or without an argument. */
struct cli_opt {
	char ch;
	const char *name;
	bool has_arg;
};

/* Parsed command line of one command. */
struct cli_args {
	int argc;            /* positional arguments */
	char **argv;
	const char *val[128]; /* option values by ch ("" for flags that were given) */
};

struct cli_cmd {
	const char *name;         /* "ping", "project new" */
	const char *usage;        /* arguments and options, after the name */
	const char *summary;      /* one line */
	const char *help;         /* more lines, or NULL */
	int min_args, max_args;   /* positional arity; max -1 = any */
	const struct cli_opt *opts; /* terminated by {0}; may be NULL */
	int (*fn)(struct cli *cli, struct cli_args *a);
};

/* The command tables, each terminated by an entry with name == NULL. */
extern const struct cli_cmd cli_cmds_daemon[];
extern const struct cli_cmd cli_cmds_project[];
extern const struct cli_cmd cli_cmds_turn[];
extern const struct cli_cmd cli_cmds_tray[]; /* cmd_tray.c */
extern const struct cli_cmd cli_cmds_chat[]; /* client/cmd_chat.c */
extern const struct cli_cmd cli_cmds_history[]; /* client/cmd_history.c */
extern const struct cli_cmd cli_cmds_profile[]; /* client/cmd_profile.c */
extern const struct cli_cmd cli_cmds_memory[]; /* client/cmd_memory.c */
/* The entry with exactly this name ("project new"), or NULL. */
const struct cli_cmd *cli_cmd_named(const char *name);
/* A usage error for cmd: message, usage line; returns CLI_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Named parameters for a request (strings are borrowed). */
#define CLI_PARAMS_MAX 12
struct cli_params {
	int n;
	struct {
		const char *key;
		char type; /* 's' string, 'i' int, 'b' bool */
		const char *s;
		long long i;
	} kv[CLI_PARAMS_MAX];
};
void cli_p_str(struct cli_params *p, const char *key, const char *val);
void cli_p_int(struct cli_params *p, const char *key, long long val);
void cli_p_bool(struct cli_params *p, const char *key, bool val);
/* Add `project` when one was chosen. */
void cli_p_project(struct cli_params *p, const struct cli *cli);
/* proto_pack_fn packing a struct cli_params as the params map. */
void cli_pack_params(msgpack_packer *pk, void *ud);

/* Resolve the project: -p value (NULL if none), $DAA_PROJECT, cwd discovery. */
int cli_project_resolve(struct cli *cli, const char *opt);

/* Ctrl-C (daa_signal.c): SIGINT increments *counter and stays blocked except
 * while waiting with *wait_mask (SIGINT let through), which this fills. */
void cli_sigint_catch(volatile sig_atomic_t *counter, sigset_t *wait_mask);

/* Connect (auto-starting daad unless no_start): CLI_OK or CLI_UNREACHABLE. */
int cli_connect(struct cli *cli);
/* Start daad in the background and wait for its socket (daa_start.c). */
int cli_daemon_start(struct cli *cli);
/*
 * Call a method; on success 0 with *msg filled (result in msg->result; call
 * proto_msg_done).  An error response is printed (JSON with --json) and
 * gives CLI_ERR; a transport failure gives CLI_UNREACHABLE.
 */
int cli_call(struct cli *cli, const char *method, struct cli_params *p, int timeout_ms,
	     struct proto_msg *msg);

/* ---- the loop (client/daa_loop.c): poll() driving the client core ---- */
/* A call the CLI waits for, filled by the core: done, then either msg (the
 * response, error or not) or failed (the connection closed: why, sys_errno
 * as in struct proto_reply). */
struct cli_call {
	uint32_t id;
	bool done, failed;
	struct proto_msg msg;
	int sys_errno;
	char why[256];
};
/* Open / close cli->conn (closing tells the calls still pending). */
int cli_conn_open(struct cli *cli, struct proto_err *err);
void cli_conn_close(struct cli *cli);
/* Send a request on cli->conn (p may be NULL); call (NULL: the response is
 * dropped) is reset and later filled.  The msgid, or 0 with err when the
 * connection is closed. */
uint32_t cli_send(struct cli *cli, const char *method, struct cli_params *p,
		  struct cli_call *call, struct proto_err *err);
/* Cancel the call if it still waits and free its response: a slot must be
 * forgotten before it goes out of scope unless it is done. */
void cli_call_forget(struct cli *cli, struct cli_call *call);
/* One wait on cli->conn, and on extra_fd for reading (-1: none), of at most
 * timeout_ms (-1: no limit); the connection's callbacks run inside.  1:
 * extra_fd is readable; 0: otherwise; -1: poll failed (errno EINTR: a
 * signal); -2: the connection is closed (proto_async_error says why). */
int cli_loop_once(struct cli *cli, int extra_fd, int timeout_ms);
/* Wait until call is done (a closed connection makes it done, failed); 0,
 * or -1 with errno ETIMEDOUT or EINTR (the call still waits). */
int cli_loop_until(struct cli *cli, struct cli_call *call, int timeout_ms);
/* Send method and wait for its response into *call: 0 (call->msg is the
 * response, error or not), or -1 with call->failed, why and sys_errno (the
 * connection closed: ECONNRESET or EPIPE; ETIMEDOUT; EINTR). */
int cli_call_wait(struct cli *cli, const char *method, struct cli_params *p, int timeout_ms,
		  struct cli_call *call);
/* Wait for call (sent on cli->conn).  Ctrl-C, counted in
 * *ints (cli_sigint_catch): the first sends `stop` for the project once
 * (*stop_sent remembers it), a second gives up.  notice (NULL: none) is said
 * on a terminal when no answer came within a second.  CLI_OK with *m filled;
 * an error response is printed (CLI_ERR), like every other failure.  The
 * call is forgotten when it ends without a response. */
int cli_wait(struct cli *cli, const char *method, struct cli_call *call,
	     volatile sig_atomic_t *ints, const char *stop, bool *stop_sent, const char *notice,
	     struct proto_msg *m);
/* cli_call for work that may take minutes (profile, model): no time limit;
 * after a second without an answer `notice` goes to stderr (a terminal
 * only); the first Ctrl-C sends kernel.interrupt for the project (the call
 * then ends with the daemon's CANCELLED error), a second one leaves. */
int cli_call_long(struct cli *cli, const char *method, struct cli_params *p, const char *notice,
		  struct proto_msg *msg);
/* Print an error response (msg->error) for the user; returns CLI_ERR. */
int cli_print_error(struct cli *cli, const char *method, const msgpack_object *error);
/* With --json, print msg's result as JSON and return true. */
bool cli_json_result(struct cli *cli, const struct proto_msg *msg);

/* JSON printing of decoded msgpack (daa_json.c).  indent < 0: one line. */
void cli_json_print(FILE *f, const msgpack_object *o, int indent);

/* Rendering (daa_render.c). */
/* A string field (NULL when absent), NUL-terminated copy in a static ring. */
const char *cli_str(const msgpack_object *map, const char *key);
/* Print a msgpack string object's bytes. */
void cli_put_obj_str(FILE *f, const msgpack_object *o);
/* A kernel exec reply (the `run` result); returns true when ok. */
bool cli_exec_print(const msgpack_object *res, const char *project_path);
/* One turn.event as a short line (progress) to f. */
void cli_event_print(FILE *f, const msgpack_object *ev);
/* A progress event ({done, total[, turn]}, client/daa_progress.c): a bar
 * rewritten in place on a terminal, else a plain line at most every 5 s;
 * cli_progress_clear wipes a bar drawn on f (cli_event_print does it too). */
void cli_progress_print(FILE *f, const msgpack_object *ev);
void cli_progress_clear(FILE *f);
/* A question with numbered choices. */
void cli_question_print(FILE *f, const msgpack_object *q);
/* Show a PNG inline when stdout is a terminal that can (daa_image.c). */
void cli_image_show(const char *path);
/* The TURN RESULT: answer, code, outputs (hint: how to answer a question).
 * Returns the exit code for its status. */
int cli_turn_print(const msgpack_object *res, bool hint);

#endif
