# client/module.mk — the `daa` CLI: client/daa*.c and client/cmd_*.c, linked
# with libdaaproto and msgpack-c only (not daa-tray, which has its own rules).
DAA_CLI_SRCS := $(filter-out client/daa-tray% client/daa_tray%,$(wildcard client/daa*.c client/cmd_*.c client/chat_*.c client/inline_img.c))
DAA_CLI_OBJS := $(DAA_CLI_SRCS:%.c=$(OBJ)/%.o)

# `daa` links libc and msgpack-c (static, one shared object fewer to map at
# each start) and nothing else: GNU readline (chat line editing), libpng
# (figures) and libchafa + glib (symbols) are dlopen'ed by the commands that
# use them (client/daa_dl.h).  Their headers are needed at build time; their
# sonames are read here from the -dev packages' link names.
dl_soname = $(or $(shell objdump -p $$($(CC) -print-file-name=$(1)) 2>/dev/null | sed -n 's/^ *SONAME *//p'),$(2))
DAA_SONAMES := -DDAA_SONAME_READLINE='"$(call dl_soname,libreadline.so,libreadline.so.8)"' \
	-DDAA_SONAME_PNG='"$(call dl_soname,libpng16.so,libpng16.so.16)"'
DAA_PNG_CFLAGS := $(shell pkg-config --cflags libpng 2>/dev/null)
$(OBJ)/client/inline_img.o: CFLAGS += $(DAA_PNG_CFLAGS)
DAA_CHAFA := $(shell pkg-config --exists chafa 2>/dev/null && echo yes)
ifeq ($(DAA_CHAFA),yes)
DAA_SONAMES += -DDAA_SONAME_CHAFA='"$(call dl_soname,libchafa.so,libchafa.so.0)"'
$(OBJ)/client/inline_img.o: CFLAGS += -DDAA_HAVE_CHAFA $(shell pkg-config --cflags chafa)
endif
$(OBJ)/client/inline_img.o $(OBJ)/client/chat_rl.o: CFLAGS += $(DAA_SONAMES)
# msgpack-c from its static archive when there is one (Debian's libmsgpack-dev has it).
DAA_MSGPACK_A := $(wildcard $(shell $(CC) -print-file-name=libmsgpackc.a))
DAA_CLI_LIBS := $(or $(DAA_MSGPACK_A),$(LIB_MSGPACK))

# (protocol/module.mk is included after this file: name the library directly)
$(BIN)/daa: $(DAA_CLI_OBJS) $(LIBDIR)/libdaaproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(DAA_CLI_OBJS) $(PROTO_LIB) $(DAA_CLI_LIBS)

ALL_TARGETS += $(BIN)/daa
-include client/tray.mk
