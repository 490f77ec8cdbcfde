# tests/protocol/module.mk — unit tests of libdaaproto (one C binary per file
# test_*.c) and the libFuzzer target for the reader (`make fuzz`).
PROTO_TEST_SRCS := $(wildcard tests/protocol/test_*.c)
PROTO_TEST_BINS := $(PROTO_TEST_SRCS:tests/protocol/%.c=$(BUILD)/tests/protocol/%)

$(BUILD)/tests/protocol/%: $(OBJ)/tests/protocol/%.o $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIB_MSGPACK)

TEST_BINS += $(PROTO_TEST_BINS)

# make fuzz: libFuzzer on proto_reader (clang); FUZZ_SECS=60 by default.
FUZZ_SECS ?= 60
PROTO_FUZZ_DIR := $(BUILD)/fuzz
$(PROTO_FUZZ_DIR)/fuzz_reader: tests/protocol/fuzz_reader.c $(wildcard protocol/*.c) protocol/proto.h
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-o $@ tests/protocol/fuzz_reader.c $(wildcard protocol/*.c) $(LIB_MSGPACK)

# (prerequisite only: other suites may hang their own fuzzers on `fuzz` too)
fuzz: fuzz-proto
.PHONY: fuzz-proto
fuzz-proto: $(PROTO_FUZZ_DIR)/fuzz_reader
	@mkdir -p $(PROTO_FUZZ_DIR)/corpus
	$(PROTO_FUZZ_DIR)/fuzz_reader -max_total_time=$(FUZZ_SECS) -max_len=4096 \
		$(PROTO_FUZZ_DIR)/corpus tests/protocol/corpus
