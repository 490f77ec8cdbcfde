/*
 * tests/llm/tools_fixture.h — an OpenAI "tools" array shaped like the agent's
 * four tools, for the LLM client's tests and llm_probe.  The LLM layer only
 * passes the array on (llm_ctx.tools); the daemon's own comes from the
 * agent's table (daemon/agent/agent_tools.c), tested in tests/agent.
 */
#ifndef DAA_TESTS_TOOLS_FIXTURE_H
#define DAA_TESTS_TOOLS_FIXTURE_H

#include <jansson.h>

/* One function tool: name, its properties (JSON members) and required names. */
#define FIXTURE_TOOL(name, desc, props, req)                                          \
	"{\"type\": \"function\", \"function\": {\"name\": \"" name "\", \"description\": \"" \
	desc "\", \"parameters\": {\"type\": \"object\", \"properties\": {" props         \
	"}, \"required\": [" req "], \"additionalProperties\": false}}}"
#define FIXTURE_STR(name) "\"" name "\": {\"type\": \"string\"}"

/* The array (new reference). */
static inline json_t *tools_fixture(void)
{
	return json_loads("["
		FIXTURE_TOOL("run_python", "Run Python code in the project's kernel.",
			     FIXTURE_STR("code") ", " FIXTURE_STR("purpose"), "\"code\", \"purpose\"") ", "
		FIXTURE_TOOL("ask_user", "Ask the user a question when the request is ambiguous.",
			     FIXTURE_STR("question") ", \"choices\": {\"type\": \"array\", "
			     "\"items\": {\"type\": \"string\"}}", "\"question\"") ", "
		FIXTURE_TOOL("remember_convention", "Remember a rule about this project's data.",
			     FIXTURE_STR("key") ", " FIXTURE_STR("value") ", " FIXTURE_STR("why"),
			     "\"key\", \"value\"") ", "
		FIXTURE_TOOL("final_answer", "Give the final answer to the user.", FIXTURE_STR("text"),
			     "\"text\"")
		"]", 0, NULL);
}

#endif
