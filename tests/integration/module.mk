# tests/integration/module.mk — C unit test of the event loop (the Python
# integration tests in this folder need no build).
$(BUILD)/tests/integration/test_loop: $(OBJ)/tests/integration/test_loop.o $(OBJ)/daemon/loop.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

TEST_BINS += $(BUILD)/tests/integration/test_loop
