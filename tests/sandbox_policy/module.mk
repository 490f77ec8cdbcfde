# tests/sandbox_policy/module.mk — the syscall-probing helper the policy
# tests run under daa-sandbox (not a test itself: the test_* scripts are).
SBXT_DIR := $(BUILD)/tests/sandbox_policy

$(SBXT_DIR)/probe: $(OBJ)/tests/sandbox_policy/probe.o $(SBX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(SBX_LIBS) -lpthread

TEST_BINS += $(SBXT_DIR)/probe
