# tests/chat/module.mk — the inline-image encoders (client/inline_img.c)
# tested on their own; test_chat_tmux.py drives `daa chat` and needs no build.
$(BUILD)/tests/chat/test_inline_img: $(OBJ)/tests/chat/test_inline_img.o $(OBJ)/client/inline_img.o \
		$(OBJ)/client/daa_dl.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(DAA_CLI_LIBS) -lz -lm

TEST_BINS += $(BUILD)/tests/chat/test_inline_img
