# tests/protocol/module.mk — unit tests of libdaaproto (one C binary per file
# test_*.c).  The reader's libFuzzer target is tests/fuzz/fuzz_reader.c.
PROTO_TEST_SRCS := $(wildcard tests/protocol/test_*.c)
PROTO_TEST_BINS := $(PROTO_TEST_SRCS:tests/protocol/%.c=$(BUILD)/tests/protocol/%)

$(BUILD)/tests/protocol/%: $(OBJ)/tests/protocol/%.o $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_MSGPACK)

TEST_BINS += $(PROTO_TEST_BINS)
