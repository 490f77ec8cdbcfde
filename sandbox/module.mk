# sandbox/module.mk — the lock-down library (static and shared) and the
# daa-sandbox tool.  The shared library (for the Python runtime's ctypes
# sbx_seal call) is built from -fPIC objects in its own object dir and never
# with sanitizers (it is loaded into /usr/bin/python3).
SBX_SRCS := $(filter-out sandbox/daa_sandbox.c,$(wildcard sandbox/*.c))
SBX_OBJS := $(SBX_SRCS:%.c=$(OBJ)/%.o)
SBX_PIC_OBJS := $(SBX_SRCS:%.c=$(BUILD)/obj-pic/%.o)
SBX_LIB := $(LIBDIR)/libdaasbx.a
SBX_SO := $(LIBDIR)/libdaasbx.so
SBX_LIBS := $(LIB_SECCOMP) $(LIB_CAP)
SBX_PIC_CFLAGS := $(filter-out -fsanitize=%,$(CFLAGS)) -fPIC

$(SBX_LIB): $(SBX_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj-pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SBX_PIC_CFLAGS) -c $< -o $@

$(SBX_SO): $(SBX_PIC_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-z,defs -Wl,-soname,libdaasbx.so -o $@ $^ $(SBX_LIBS)

$(BIN)/daa-sandbox: $(OBJ)/sandbox/daa_sandbox.o $(SBX_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(SBX_LIBS)

ALL_TARGETS += $(SBX_LIB) $(SBX_SO) $(BIN)/daa-sandbox
