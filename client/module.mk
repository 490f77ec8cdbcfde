# client/module.mk — the `daa` CLI: client/daa*.c and client/cmd_*.c, linked
# with libdaaproto and msgpack-c only (not daa-tray, which has its own rules).
DAA_CLI_SRCS := $(filter-out client/daa-tray% client/daa_tray%,$(wildcard client/daa*.c client/cmd_*.c client/chat_*.c client/inline_img.c))
DAA_CLI_OBJS := $(DAA_CLI_SRCS:%.c=$(OBJ)/%.o)

# Chat line editing: GNU readline; PNG decoding for sixel/symbols: libpng;
# libchafa for symbols when pkg-config finds it (else half blocks).
DAA_PNG_CFLAGS := $(shell pkg-config --cflags libpng 2>/dev/null)
$(OBJ)/client/inline_img.o: CFLAGS += $(DAA_PNG_CFLAGS)
DAA_CHAFA := $(shell pkg-config --exists chafa 2>/dev/null && echo yes)
ifeq ($(DAA_CHAFA),yes)
$(OBJ)/client/inline_img.o: CFLAGS += -DDAA_HAVE_CHAFA $(shell pkg-config --cflags chafa)
DAA_CLI_LIBS := $(shell pkg-config --libs chafa)
endif
DAA_CLI_LIBS += -lreadline $(or $(shell pkg-config --libs libpng 2>/dev/null),-lpng)

# (protocol/module.mk is included after this file: name the library directly)
$(BIN)/daa: $(DAA_CLI_OBJS) $(LIBDIR)/libdaaproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(DAA_CLI_OBJS) $(PROTO_LIB) $(LIB_MSGPACK) $(DAA_CLI_LIBS) -lm

ALL_TARGETS += $(BIN)/daa
-include client/tray.mk
