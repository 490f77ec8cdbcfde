"""Message framing between the kernel and daad: msgpack maps back to back on
one stream socket (sandbox/KERNEL.md).  Reading streams through an Unpacker
so a message may arrive in pieces; writing packs with a fallback so a value
the packer does not know never kills the kernel."""

import os

import msgpack

MAX_MESSAGE = 64 << 20   # same cap as the daemon's RPC socket


def _fallback(obj):
    """Pack hook: anything msgpack does not know is sent as its str()."""
    try:
        return str(obj)
    except Exception:  # a broken __str__ must not break the reply
        return "<unprintable %s>" % type(obj).__name__


class Channel:
    """The daemon's socket: `messages()` yields decoded maps, `send()` writes one."""

    def __init__(self, fd):
        self.fd = fd
        self.unpacker = msgpack.Unpacker(raw=False, unicode_errors="replace",
                                         max_buffer_size=MAX_MESSAGE,
                                         strict_map_key=False)
        self.packer = msgpack.Packer(default=_fallback, unicode_errors="replace",
                                     use_bin_type=True)

    def messages(self):
        """Yield each message until the daemon closes the socket."""
        while True:
            data = os.read(self.fd, 1 << 16)
            if not data:
                return
            self.unpacker.feed(data)
            for msg in self.unpacker:
                yield msg

    def send(self, obj):
        """Pack and write one message completely (a too-odd value degrades
        to a minimal error reply rather than a half-written frame)."""
        try:
            data = self.packer.pack(obj)
        except Exception as e:  # e.g. an int over 64 bits deep in a result
            self.packer.reset()
            data = self.packer.pack({"id": obj.get("id"), "ok": False,
                                     "error": {"type": "ProtocolError",
                                               "message": "reply not packable: %s" % e,
                                               "traceback": ""}})
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
