/*
 * client/chat_rl.h — GNU readline for `daa chat` on a terminal, loaded when
 * the chat starts (client/daa_dl.h) rather than by every `daa` process.
 * The table holds readline's functions and the addresses of the three
 * variables chat sets or reads, under readline's own names.
 */
#ifndef DAA_CHAT_RL_H
#define DAA_CHAT_RL_H

#include <stddef.h>
#include <stdio.h>

#include <readline/history.h>
#include <readline/readline.h>

struct chat_rl {
	__typeof__(rl_callback_handler_install) *rl_callback_handler_install;
	__typeof__(rl_callback_handler_remove) *rl_callback_handler_remove;
	__typeof__(rl_callback_read_char) *rl_callback_read_char;
	__typeof__(rl_on_new_line) *rl_on_new_line;
	__typeof__(rl_redisplay) *rl_redisplay;
	__typeof__(rl_replace_line) *rl_replace_line;
	__typeof__(rl_set_prompt) *rl_set_prompt;
	__typeof__(add_history) *add_history;
	__typeof__(stifle_history) *stifle_history;
	__typeof__(read_history) *read_history;
	__typeof__(write_history) *write_history;
	__typeof__(rl_catch_signals) *rl_catch_signals; /* variables: their addresses */
	__typeof__(rl_end) *rl_end;
	__typeof__(rl_outstream) *rl_outstream;
};

/* The table, loading readline on the first call; NULL with a message in why
 * when the library cannot be loaded. */
const struct chat_rl *chat_rl_load(char *why, size_t size);

#endif
