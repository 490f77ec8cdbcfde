# tests/llm/module.mk — the LLM client's C tests (one binary per test_*.c),
# linked with the real event loop and the client objects; the fake OpenAI
# server (fake_openai.py) and the npm interop test need no build.
LLM_TEST_SRCS := $(wildcard tests/llm/test_*.c)
LLM_TEST_BINS := $(LLM_TEST_SRCS:tests/llm/%.c=$(BUILD)/tests/llm/%)
# (llm.c checks its section with config.json's table: config_check.o, log.o
# and protocol's proto_fail)
LLM_TEST_DEPS := $(LOOP_OBJS) $(addprefix $(OBJ)/daemon/llm/,llm.o llm_openai.o llm_parse.o http.o sse.o) \
	$(addprefix $(OBJ)/daemon/core/,strbuf.o config_check.o log.o) $(OBJ)/tests/llm/stub_builtin.o

.SECONDEXPANSION:
$(BUILD)/tests/llm/%: $(OBJ)/tests/llm/%.o $(LLM_TEST_DEPS) $$(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROTO_LIB) $(LIB_MSGPACK) $(LIB_JANSSON) $(LIB_CURL)

TEST_BINS += $(LLM_TEST_BINS)

# llm_probe: one call from the command line (used by test_interop_mock_llm).
$(BUILD)/tests/llm/llm_probe: $(OBJ)/tests/llm/llm_probe.o $(LLM_TEST_DEPS) $$(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROTO_LIB) $(LIB_MSGPACK) $(LIB_JANSSON) $(LIB_CURL)

TEST_BINS += $(BUILD)/tests/llm/llm_probe
