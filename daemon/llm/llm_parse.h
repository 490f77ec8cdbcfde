/*
 * daemon/llm/llm_parse.h — reading what an OpenAI-compatible server sends back:
 * whole completions, streamed chunks (tool-call deltas reassembled by index),
 * error bodies, and plain-text answers of models without tool calling
 * (```python fences → run_python, a question → ask_user, else final_answer).
 * Pure functions over jansson values: no I/O, so they are tested directly.
 */
#ifndef DAA_LLM_PARSE_H
#define DAA_LLM_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "daemon/llm/llm.h"

/* Fill r->text and r->calls from an assistant message {content, tool_calls}.
 * A message without tool calls is read as text (llm_parse_text).  -1 (err)
 * only when there is nothing usable at all (no text, no calls). */
int llm_parse_message(struct llm_reply *r, const json_t *message, char *err, size_t errlen);

/* Text of a model without tool calling → one synthesized call (id "text-1"):
 * <tool_call>{json}</tool_call> or a bare {"name","arguments"} object → that
 * call; ```python fences → run_python{code, purpose}; text ending in '?' →
 * ask_user{question}; anything else → final_answer{text}.  0 / -1 (ENOMEM). */
int llm_parse_text(struct llm_reply *r, const char *text);


/* A non-streamed completion body: message (new ref), usage, model and
 * choices[0].finish_reason (malloc'd, NULL when absent). */
int llm_parse_completion(const json_t *body, json_t **message, int64_t *prompt_tokens,
			 int64_t *completion_tokens, char **model, char **finish_reason, char *err,
			 size_t errlen);

/* The server's own explanation in an error body ({"error":{"message","code"}},
 * {"error":"..."}, {"detail":...}, or text): msg and code ("" when none). */
void llm_parse_error_body(const char *body, size_t len, char *msg, size_t msglen, char *code,
			  size_t codelen);

/* JSON text as a server may send it, made loadable: a \u0000 escape, a lone
 * surrogate escape and an invalid UTF-8 byte each become U+FFFD (the answer
 * loses that character, not the turn).  NULL when nothing needed fixing,
 * else a malloc'd copy of *len bytes (updated). */
char *llm_json_fix(const char *s, size_t *len);

/* Streaming: one accumulator per attempt. */
struct llm_stream;
struct llm_stream *llm_stream_new(void);
void llm_stream_free(struct llm_stream *s);
/* Feed one SSE data payload.  0; 1 on "[DONE]"; -1 with err on garbage or an
 * error object sent in the stream (*server_error set then). */
int llm_stream_feed(struct llm_stream *s, const char *data, size_t len, bool *server_error,
		    char *err, size_t errlen);
/* The content delta of the last fed chunk ("" when none); borrowed. */
const char *llm_stream_delta(const struct llm_stream *s);
/* True once a finish_reason or [DONE] was seen. */
bool llm_stream_complete(const struct llm_stream *s);
size_t llm_stream_chunks(const struct llm_stream *s);
/* Bytes kept so far (content, tool-call names and arguments). */
size_t llm_stream_size(const struct llm_stream *s);
/* The assembled assistant message (new ref), usage and model (malloc'd or NULL). */
json_t *llm_stream_result(const struct llm_stream *s, int64_t *prompt_tokens,
			  int64_t *completion_tokens, char **model, const char **finish_reason);

#endif
