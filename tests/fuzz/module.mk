# tests/fuzz/module.mk — libFuzzer targets (clang, ASan + UBSan) for the
# parsers that read untrusted bytes: the RPC reader, the SSE parser, the LLM
# response / tool-call parser, the kernel wire reader, the config loader,
# the history.json and profile cache loaders and the client's PNG decoder.
#
#   make fuzz-build   build every target into $(BUILD)/fuzz/
#   make fuzz         run each for FUZZ_SECS seconds (default 60), one at a
#                     time under nice; FUZZ_RUN="sse png" picks targets
#   make fuzz-merge   minimize what the runs found into tests/fuzz/corpus/
# tests/fuzz/test_fuzz_corpus replays the committed corpora (regression).
FUZZ_SECS ?= 60
FUZZ_DIR ?= $(BUILD)/fuzz
FUZZ_CC ?= clang
FUZZ_TARGETS := reader sse llm_parse kern_wire config history profile png
FUZZ_RUN ?= $(FUZZ_TARGETS)
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -I. $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wall -Wextra -Werror
FUZZ_PROTO := $(wildcard protocol/*.c)
FUZZ_LLM := daemon/core/strbuf.c daemon/llm/llm_parse.c daemon/llm/llm.c tests/fuzz/stub_llm_backends.c

# Sources and libraries of each target (the minimal set of modules; the few
# symbols those name but the targets never reach are link-only stubs).
FUZZ_SRC_reader := $(FUZZ_PROTO)
FUZZ_LIBS_reader := $(LIB_MSGPACK)
# llm.c checks its config section with the table of daemon/core/config_check.c
FUZZ_LLM_CONFIG := daemon/core/config_check.c daemon/core/log.c $(FUZZ_PROTO)
FUZZ_SRC_sse := daemon/llm/sse.c $(FUZZ_LLM) $(FUZZ_LLM_CONFIG)
FUZZ_LIBS_sse := $(LIB_JANSSON) $(LIB_MSGPACK)
FUZZ_SRC_llm_parse := $(FUZZ_LLM) $(FUZZ_LLM_CONFIG)
FUZZ_LIBS_llm_parse := $(LIB_JANSSON) $(LIB_MSGPACK)
FUZZ_SRC_kern_wire := daemon/kernel/kern_wire.c daemon/core/mpjson.c $(FUZZ_PROTO)
FUZZ_LIBS_kern_wire := $(LIB_JANSSON) $(LIB_MSGPACK)
FUZZ_SRC_config := daemon/core/config.c daemon/core/config_check.c daemon/core/fsutil.c daemon/core/log.c daemon/llm/llm.c \
	tests/fuzz/stub_llm_backends.c $(FUZZ_PROTO)
FUZZ_LIBS_config := $(LIB_JANSSON) $(LIB_MSGPACK)
FUZZ_SRC_history := daemon/history/history.c daemon/project/history_name.c daemon/history/history_figs.c daemon/core/mpjson.c \
	daemon/kernel/kern_result.c \
	daemon/core/fsutil.c \
	daemon/core/fsutil_out.c daemon/core/log.c $(FUZZ_PROTO)
FUZZ_LIBS_history := $(LIB_JANSSON) $(LIB_MSGPACK)
FUZZ_SRC_profile := daemon/profiler/profiler_store.c daemon/core/fsutil.c daemon/core/log.c $(FUZZ_PROTO)
FUZZ_LIBS_profile := $(LIB_JANSSON) $(LIB_MSGPACK)
FUZZ_SRC_png := client/inline_img.c client/daa_dl.c
FUZZ_LIBS_png := $(shell pkg-config --libs libpng 2>/dev/null || echo -lpng16) -lz
ifeq ($(shell pkg-config --exists chafa 2>/dev/null && echo yes),yes)
FUZZ_CFLAGS_png := -DDAA_HAVE_CHAFA $(shell pkg-config --cflags chafa)
FUZZ_LIBS_png += $(shell pkg-config --libs chafa)
endif

# Each source is compiled once into $(FUZZ_DIR)/obj/ (with -MMD, so a
# header change rebuilds what includes it) and the eight targets link
# those objects: protocol/*.c alone is in seven of them.
FUZZ_OBJ := $(FUZZ_DIR)/obj
fuzz_objs = $(patsubst %.c,$(FUZZ_OBJ)/%.o,tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)))
$(FUZZ_OBJ)/%.o: %.c tests/fuzz/module.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_OBJ_CFLAGS) -MMD -MP -c $< -o $@
-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)

define FUZZ_RULE
$(call fuzz_objs,$(1)): FUZZ_OBJ_CFLAGS := $$(FUZZ_CFLAGS_$(1))
$(FUZZ_DIR)/fuzz_$(1): $(call fuzz_objs,$(1))
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $$@ $$^ $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

.PHONY: fuzz-build fuzz-merge
fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

fuzz: fuzz-build
	./tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECS) $(FUZZ_RUN)

fuzz-merge: fuzz-build
	./tests/fuzz/run.sh --merge $(FUZZ_DIR) 0 $(FUZZ_RUN)
