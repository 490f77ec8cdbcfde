# daemon/module.mk — daad: every daemon/*.c (each RPC method file registers
# itself through the "daa_rpc" section, so new files need no edit here),
# linked with the protocol library, the sandbox library when that part
# exists, and the system libraries.  PROTO_LIB / SBX_LIB come from
# protocol/module.mk / sandbox/module.mk, read after this file, hence the
# secondary expansion ($$) for the prerequisites.
DAEMON_SRCS := $(wildcard daemon/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(OBJ)/%.o)
# The event loop, for test binaries that link single daemon objects.
LOOP_OBJS := $(addprefix $(OBJ)/daemon/,loop.o loop_timer.o loop_child.o)
DAEMON_LIBS = $(LIB_MSGPACK) $(LIB_JANSSON) $(LIB_CURL) $(LIB_SECCOMP) $(LIB_CAP) $(LIB_NETTLE) -lm

.SECONDEXPANSION:
$(BIN)/daad: $(DAEMON_OBJS) $$(PROTO_LIB) $$(SBX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(PROTO_LIB) $(if $(SBX_LIB),$(SBX_LIB)) $(DAEMON_LIBS)

ALL_TARGETS += $(BIN)/daad
