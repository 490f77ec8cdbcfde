/*
 * daemon/llm/llm_builtin_int.h — shared by the builtin backend's two halves:
 * llm_builtin.c (model calls: the state sent, the answer parsed, errors
 * worded) and llm_builtin_proc.c (the analyst processes: spawned, their
 * pipes read through the loop, one idle server kept between calls).
 */
#ifndef DAA_LLM_BUILTIN_INT_H
#define DAA_LLM_BUILTIN_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "daemon/llm/llm.h"

#define BUILTIN_OUT_MAX (4u << 20) /* one answer's cap */
#define BUILTIN_ERR_MAX 4096       /* stderr kept for an error message */

struct bproc;

struct builtin {
	struct llm_backend base;
	struct loop *loop;
	char *argv[9];          /* python, -I, -S, script (or analyst_cmd split), --serve */
	bool serve;             /* a process answers many calls, one line each */
	int timeout_ms;
	unsigned seq;
	struct bcall *calls;    /* calls not finished */
	struct bproc *procs;    /* analyst processes, working or idle */
};

/* One model call. */
struct bcall {
	struct llm_call base;
	struct builtin *b;
	struct bcall *next;
	struct bproc *proc;     /* the process answering it; NULL once let go */
	char *in;               /* the state document (a line, for a server) */
	size_t inlen, inoff;
	char *out, *errb;       /* what the process wrote during this call */
	size_t outlen, errlen, outcap, errcap;
	bool out_eof, err_eof, exited, overflow, finished;
	int status;             /* the process's wait status, once exited */
	uint64_t timer, start_ms;
	llm_progress_cb progress;
	llm_done_cb done;
	void *ud;
	json_t *request_log;
};

/* llm_builtin_proc.c.  Give c a process (the idle server, or a new one)
 * and start writing c->in to it: 0, or -1 with err (c has none then). */
int bproc_attach(struct bcall *c, char *err, size_t errlen);
/* c was answered by a server (one line): the server stays for the next
 * call (or is let go). */
void bproc_release(struct bcall *c);
/* c failed, was cancelled or ran out of time: its process is killed. */
void bproc_kill(struct bcall *c);
/* Daemon shutdown: every process killed and reaped. */
void bproc_free_all(struct builtin *b);

/* llm_builtin.c: c's process wrote, closed a pipe or ended; finish c
 * (and free it) when that completes an answer or a failure. */
void bcall_progress(struct bcall *c);

#endif
