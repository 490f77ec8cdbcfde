/*
 * client/chat_rl.c — binds GNU readline's functions and variables for
 * `daa chat` (client/chat_rl.h) on first use.
 */
#include "client/chat_rl.h"

#include <stdbool.h>

#include "client/daa_dl.h"

/* Every entry of the table, or NULL with why set. */
const struct chat_rl *chat_rl_load(char *why, size_t size)
{
	static struct chat_rl rl;
	static bool loaded;
	if (loaded)
		return &rl;
	const char *so = DAA_SONAME_READLINE;
	void *h = cli_dl_open(so, why, size);
#define BIND(m) CLI_DL_BIND(h, so, &rl, m, why, size)
	loaded = h && BIND(rl_callback_handler_install) && BIND(rl_callback_handler_remove) &&
		 BIND(rl_callback_read_char) && BIND(rl_on_new_line) && BIND(rl_redisplay) &&
		 BIND(rl_replace_line) && BIND(rl_set_prompt) && BIND(add_history) &&
		 BIND(stifle_history) && BIND(read_history) && BIND(write_history) &&
		 BIND(rl_catch_signals) && BIND(rl_end) && BIND(rl_outstream);
#undef BIND
	return loaded ? &rl : NULL;
}
