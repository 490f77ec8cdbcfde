# tests/sandbox_policy/module.mk — the syscall-probing helper the policy
# tests run under daa-sandbox (not a test itself: the test_* scripts are).
# Built without sanitizers even in `make SAN=1`: ASan's shadow mapping cannot
# live under the sandbox's RLIMIT_DATA.  (daa-sandbox itself, which runs the
# child's set-up steps, is sanitized.)
SBXT_DIR := $(BUILD)/tests/sandbox_policy

$(SBXT_DIR)/probe: $(BUILD)/obj-pic/tests/sandbox_policy/probe.o $(SBX_PIC_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(SBX_LIBS) -lpthread

TEST_BINS += $(SBXT_DIR)/probe

# The daemon's kernel-peer check with a fake kernel list (links server_sock.o).
$(SBXT_DIR)/test_peer_check: $(OBJ)/tests/sandbox_policy/test_peer_check.o \
		$(OBJ)/daemon/server/server_sock.o $(OBJ)/daemon/core/log.o $$(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_MSGPACK) $(LIB_JANSSON)

TEST_BINS += $(SBXT_DIR)/test_peer_check

# A spare's project mounted the moment it is spawned (links the sandbox).
$(SBXT_DIR)/test_mount_race: $(OBJ)/tests/sandbox_policy/test_mount_race.o $(SBX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(SBX_LIBS)

TEST_BINS += $(SBXT_DIR)/test_mount_race
