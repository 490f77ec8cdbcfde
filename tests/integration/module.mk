# tests/integration/module.mk — C unit tests of the daemon's core modules
# (event loop, fsutil, the publisher); the Python integration tests in this folder need no
# build.
$(BUILD)/tests/integration/test_loop: $(OBJ)/tests/integration/test_loop.o $(LOOP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/integration/test_fsutil: $(OBJ)/tests/integration/test_fsutil.o \
		$(OBJ)/daemon/core/fsutil.o $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROTO_LIB) $(LIB_MSGPACK)

TEST_BINS += $(BUILD)/tests/integration/test_loop $(BUILD)/tests/integration/test_fsutil

$(BUILD)/tests/integration/test_loop_child: $(OBJ)/tests/integration/test_loop_child.o $(LOOP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

TEST_BINS += $(BUILD)/tests/integration/test_loop_child

# The publisher (daemon/project/publish.c) with a fake sink and a fake project handle.
$(BUILD)/tests/integration/test_publish: $(OBJ)/tests/integration/test_publish.o \
		$(OBJ)/daemon/project/publish.o $(OBJ)/daemon/core/mpjson.o $(OBJ)/daemon/core/log.o $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROTO_LIB) $(LIB_MSGPACK) $(LIB_JANSSON)

TEST_BINS += $(BUILD)/tests/integration/test_publish
