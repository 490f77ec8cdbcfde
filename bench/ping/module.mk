# bench/ping/module.mk — the baseline client for bench/ping/run.sh (not a test).
$(BUILD)/bench/ping_raw: bench/ping/ping_raw.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

ALL_TARGETS += $(BUILD)/bench/ping_raw
