# tests/kernel/module.mk — the kernel manager tested on its own (real kernels,
# real loop; config/project stand-ins in kern_doubles.c).  The scripts in this
# folder (test_*.py/sh) test it through a real daad and need no build.
KERN_TEST_OBJS := $(OBJ)/tests/kernel/test_kern_mgr.o $(OBJ)/tests/kernel/kern_doubles.o \
	$(patsubst %.c,$(OBJ)/%.o,$(wildcard daemon/kernel/kern*.c) daemon/core/mpjson.c daemon/core/loop.c daemon/core/loop_timer.c daemon/core/loop_child.c daemon/core/log.c daemon/core/fsutil.c)

.SECONDEXPANSION:
$(BUILD)/tests/kernel/test_kern_mgr: $(KERN_TEST_OBJS) $$(PROTO_LIB) $$(SBX_LIB) $$(SBX_SO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(KERN_TEST_OBJS) $(PROTO_LIB) $(SBX_LIB) $(LIB_MSGPACK) \
		$(LIB_JANSSON) $(LIB_SECCOMP) $(LIB_CAP) -lm

# the same program, run as the hostile-kernel half (it looks at argv[0])
$(BUILD)/tests/kernel/test_kern_hostile: $(BUILD)/tests/kernel/test_kern_mgr
	cp $< $@

TEST_BINS += $(BUILD)/tests/kernel/test_kern_mgr $(BUILD)/tests/kernel/test_kern_hostile

# the reply parser on its own (no kernel, no loop)
KERN_RESULT_TEST_OBJS := $(OBJ)/tests/kernel/test_kern_result.o $(OBJ)/daemon/kernel/kern_result.o
$(BUILD)/tests/kernel/test_kern_result: $(KERN_RESULT_TEST_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(KERN_RESULT_TEST_OBJS) $(LIB_JANSSON)

TEST_BINS += $(BUILD)/tests/kernel/test_kern_result
