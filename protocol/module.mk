# protocol/module.mk — libdaaproto.a: msgpack-RPC framing, reading with caps,
# building helpers, named-parameter checks, the socket path, the client core.
PROTO_SRCS := $(wildcard protocol/*.c)
PROTO_OBJS := $(PROTO_SRCS:%.c=$(OBJ)/%.o)
PROTO_LIB := $(LIBDIR)/libdaaproto.a

$(PROTO_LIB): $(PROTO_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

ALL_TARGETS += $(PROTO_LIB)
