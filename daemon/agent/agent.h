/*
 * daemon/agent/agent.h — the agent turn (DESIGN.md "The agent turn"): a job of the
 * project's work queue (daemon/project/workq.h), one at a time with its runs,
 * re-runs and edits; each turn profiles the datasets, calls
 * the model, runs code in the project's kernel, asks the user when the model
 * asks, remembers conventions, and ends with a TURN RESULT (PROTOCOL.md) sent
 * to every client waiting on it.  Every event is broadcast to the project's
 * subscribers as `turn.event`.
 *
 * The RPC methods ask / answer / cancel / watch (daemon/rpc/m_turn.c) are thin
 * wrappers over these functions.  Replies go out by rpc_reply_to, so a client
 * that goes away never leaves a dangling pointer.
 */
#ifndef DAA_AGENT_H
#define DAA_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include "daemon/core/loop.h"
#include "daemon/core/rpc.h"
#include "protocol/proto.h"

/* Start the agent: reads the configuration (LLM backend, prompts dir,
 * privacy, budget) and creates the model backend.  Called by main.c. */
int agent_init(struct loop *l, struct proto_err *err);
/* Cancel every turn (waiting clients get status "cancelled"), free all. */
void agent_shutdown(void);

struct proj;

/* Queue a turn on the project (a borrowed daemon/project/project.h handle).  The
 * response goes to `to` when the turn ends, or — interactive false — as soon
 * as the agent asks a question.  0, or -1 with err (nothing queued). */
int agent_ask(struct proj *pj, const char *request, bool interactive, struct rpc_reply_to to,
	      struct proto_err *err);
/* Answer the project's pending question; `to` gets the TURN RESULT when the
 * turn ends or asks again.  -1 with PROTO_ERR_NO_QUESTION when none. */
int agent_answer(struct proj *pj, const char *text, struct rpc_reply_to to,
		 struct proto_err *err);
/* Cancel the project's running (or suspended) turn; queued turns stay queued.
 * Returns whether a turn was cancelled. */
bool agent_cancel(struct proj *pj);
/* Is a turn running, suspended or queued on the project? */
bool agent_busy(struct proj *pj);
/* The question the project's suspended turn waits on: {turn, text, choices}
 * (new reference), or NULL. */
json_t *agent_pending_question(struct proj *pj);

/* The last `limit` records of <state_dir>/turns.jsonl, oldest first,
 * continuing into turns.jsonl.1 (the part before the last rotation) when the
 * file holds fewer; read back from the end, at most max_bytes in all. */
json_t *agent_turns_read(const char *state_dir, size_t limit, size_t max_bytes);

/* The active backend's name and model (for status), never NULL. */
const char *agent_backend_name(void);
const char *agent_backend_model(void);

#endif
