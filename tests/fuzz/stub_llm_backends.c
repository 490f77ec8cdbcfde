/*
 * tests/fuzz/stub_llm_backends.c — LINK-ONLY STUBS, not behaviour under
 * test.  daemon/llm/llm.c (llm_reply_free, llm_config_from_json) names the two
 * backend constructors, which would pull in libcurl, the event loop and the
 * child-process code.  No fuzz target calls llm_backend_new, so these are
 * never reached; they abort if one ever is.
 */
#include <stdlib.h>

#include "daemon/llm/llm.h"

struct llm_backend *llm_openai_new(struct loop *l, const struct llm_config *cfg, char *err,
				   size_t errlen)
{
	(void)l, (void)cfg, (void)err, (void)errlen;
	abort(); /* link-only stub */
}

struct llm_backend *llm_builtin_new(struct loop *l, const struct llm_config *cfg, char *err,
				    size_t errlen)
{
	(void)l, (void)cfg, (void)err, (void)errlen;
	abort(); /* link-only stub */
}
