# tests/cli/module.mk — the terminal-safe sanitizer (client/daa_safe.c)
# tested on its own; the Python tests here drive the real `daa`.
$(BUILD)/tests/cli/test_safe: $(OBJ)/tests/cli/test_safe.o $(OBJ)/client/daa_safe.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

TEST_BINS += $(BUILD)/tests/cli/test_safe
