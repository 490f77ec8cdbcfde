# tests/history/module.mk — test_workq: the project work queue
# (daemon/project/workq.c) on its own, with the project and connection functions it
# calls stubbed in the test; the Python tests in this folder need no build.
$(BUILD)/tests/history/test_workq: $(OBJ)/tests/history/test_workq.o $(OBJ)/daemon/project/workq.o \
		$(OBJ)/daemon/core/log.o $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROTO_LIB) $(LIB_MSGPACK)

TEST_BINS += $(BUILD)/tests/history/test_workq

# test_hist_entry: a step's .daa/history.json entry read into a struct
# (daemon/history/history_entry.c) on its own
$(BUILD)/tests/history/test_hist_entry: $(OBJ)/tests/history/test_hist_entry.o \
		$(OBJ)/daemon/history/history_entry.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB_JANSSON)

TEST_BINS += $(BUILD)/tests/history/test_hist_entry
