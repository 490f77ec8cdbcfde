# client/tray.mk — daa-tray (GTK 3 + libayatana-appindicator3 + libnotify),
# built only where those development packages are present (`make deps`).
# The tray's code (all but tray_main.c) goes into a static library so GTK
# test programs in tests/tray can link the real handlers.
TRAY_PKGS := gtk+-3.0 ayatana-appindicator3-0.1 libnotify
TRAY_OK := $(shell pkg-config --exists $(TRAY_PKGS) 2>/dev/null && echo yes)
ifeq ($(TRAY_OK),yes)
TRAY_CFLAGS := $(shell pkg-config --cflags $(TRAY_PKGS)) -DTRAY_SRC_DATA='"$(abspath client/tray/data)"'
TRAY_LIBS := $(shell pkg-config --libs $(TRAY_PKGS))
TRAY_SRCS := $(filter-out client/tray/tray_main.c,$(wildcard client/tray/*.c))
TRAY_OBJS := $(TRAY_SRCS:%.c=$(OBJ)/%.o)
TRAY_LIB := $(LIBDIR)/libdaatray.a
# GTK's headers use old-style prototypes in places: keep our warnings, not theirs.
$(OBJ)/client/tray/%.o $(OBJ)/tests/tray/%.o: CFLAGS += $(TRAY_CFLAGS) -Wno-deprecated-declarations

$(TRAY_LIB): $(TRAY_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $(TRAY_OBJS)

$(BIN)/daa-tray: $(OBJ)/client/tray/tray_main.o $(TRAY_LIB) $(LIBDIR)/libdaaproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(OBJ)/client/tray/tray_main.o $(TRAY_LIB) $(LIBDIR)/libdaaproto.a $(TRAY_LIBS) $(LIB_MSGPACK) -lm

# GTK checks need a display: built as check_*, run by a tests/tray/test_* script under Xvfb.
TRAY_TEST_SRCS := $(wildcard tests/tray/test_*.c tests/tray/check_*.c)
TRAY_TEST_BINS := $(TRAY_TEST_SRCS:tests/tray/%.c=$(BUILD)/tests/tray/%)
$(BUILD)/tests/tray/%: $(OBJ)/tests/tray/%.o $(TRAY_LIB) $(LIBDIR)/libdaaproto.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TRAY_LIB) $(LIBDIR)/libdaaproto.a $(TRAY_LIBS) $(LIB_MSGPACK) -lm

ALL_TARGETS += $(BIN)/daa-tray
TEST_BINS += $(TRAY_TEST_BINS)
else
$(info daa-tray: not built (needs pkg-config packages $(TRAY_PKGS): run `make deps`))
endif
