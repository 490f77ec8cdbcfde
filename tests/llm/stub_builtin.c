/*
 * tests/llm/stub_builtin.c — link-only stand-in for the builtin backend
 * (daemon/llm/llm_builtin.c, which needs the config and the analyst): the LLM
 * client tests drive the "openai" backend, and llm.c names both.
 */
#include <stdio.h>
#include "daemon/llm/llm.h"

struct llm_backend *llm_builtin_new(struct loop *l, const struct llm_config *cfg, char *err,
				    size_t errlen)
{
	(void)l, (void)cfg;
	snprintf(err, errlen, "the builtin backend is not linked in this test");
	return NULL;
}
