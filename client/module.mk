# client/module.mk — the `daa` CLI: client/daa*.c and client/cmd_*.c, linked
# with libdaaproto and msgpack-c only (not daa-tray, which has its own rules).
DAA_CLI_SRCS := $(filter-out client/daa-tray% client/daa_tray%,$(wildcard client/daa*.c client/cmd_*.c))
DAA_CLI_OBJS := $(DAA_CLI_SRCS:%.c=$(OBJ)/%.o)

# (protocol/module.mk is included after this file: name the library directly)
$(BIN)/daa: $(DAA_CLI_OBJS) $(LIBDIR)/libdaaproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(DAA_CLI_OBJS) $(PROTO_LIB) $(LIB_MSGPACK) -lm

ALL_TARGETS += $(BIN)/daa
