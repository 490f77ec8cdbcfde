# tests/agent/module.mk — test_agent_tools: the agent's tools table
# (daemon/agent/agent_tools.c) on its own, with llm_call_fill
# (daemon/llm/llm_parse.c) and the turn functions its handlers call
# stubbed in the test; the Python tests in this folder need no build.
$(BUILD)/tests/agent/test_agent_tools: $(OBJ)/tests/agent/test_agent_tools.o \
		$(OBJ)/daemon/agent/agent_tools.o $(OBJ)/daemon/llm/llm_parse.o \
		$(OBJ)/daemon/core/strbuf.o $(OBJ)/daemon/core/log.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_JANSSON)

TEST_BINS += $(BUILD)/tests/agent/test_agent_tools
