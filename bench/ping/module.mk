# bench/ping/module.mk — the baseline client and the runner for
# bench/ping/run.sh (not tests).
$(BUILD)/bench/ping_raw: bench/ping/ping_raw.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/bench_runs: bench/ping/bench_runs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

ALL_TARGETS += $(BUILD)/bench/ping_raw $(BUILD)/bench/bench_runs
