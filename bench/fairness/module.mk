# bench/fairness/module.mk — the C load client of bench_fairness.py (not a test).
$(BUILD)/bench/mixed_load: $(OBJ)/bench/fairness/mixed_load.o $(PROTO_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(PROTO_LIB) $(LIB_MSGPACK)

ALL_TARGETS += $(BUILD)/bench/mixed_load
