# daemon/module.mk — daad: every daemon/*.c and daemon/<folder>/*.c (each
# RPC method file in daemon/rpc/ registers itself through the "daa_rpc"
# section, so new files need no edit here; README.md "Contributing" has the
# folder map),
# linked with the protocol library, the sandbox library when that part
# exists, and the system libraries.  PROTO_LIB / SBX_LIB come from
# protocol/module.mk / sandbox/module.mk, read after this file, hence the
# secondary expansion ($$) for the prerequisites.
DAEMON_SRCS := $(wildcard daemon/*.c daemon/*/*.c)
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(OBJ)/%.o)
# The event loop, for test binaries that link single daemon objects.
LOOP_OBJS := $(addprefix $(OBJ)/daemon/core/,loop.o loop_timer.o loop_child.o)
DAEMON_LIBS = $(LIB_MSGPACK) $(LIB_JANSSON) $(LIB_CURL) $(LIB_SECCOMP) $(LIB_CAP) $(LIB_NETTLE) -lm

.SECONDEXPANSION:
$(BIN)/daad: $(DAEMON_OBJS) $$(PROTO_LIB) $$(SBX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(PROTO_LIB) $(if $(SBX_LIB),$(SBX_LIB)) $(DAEMON_LIBS)

ALL_TARGETS += $(BIN)/daad
