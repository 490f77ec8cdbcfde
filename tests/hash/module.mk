# tests/hash/module.mk — test_sha256: SHA-256 (nettle + daemon/core/sha256 helpers) against NIST and hashlib
# vectors, daemon/core/filehash on a real loop.  Links only what it tests
# (sha256, filehash, loop, log) and the protocol library (proto_fail).
HASH_TEST_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(wildcard tests/hash/*.c)) \
	$(OBJ)/daemon/core/sha256.o $(OBJ)/daemon/core/filehash.o $(LOOP_OBJS) $(OBJ)/daemon/core/log.o

.SECONDEXPANSION:
$(BUILD)/tests/hash/test_sha256: $(HASH_TEST_OBJS) $$(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(HASH_TEST_OBJS) $(PROTO_LIB) $(LIB_MSGPACK) $(LIB_NETTLE)

TEST_BINS += $(BUILD)/tests/hash/test_sha256
