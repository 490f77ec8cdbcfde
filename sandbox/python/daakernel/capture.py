"""Capped capture of a step's stdout/stderr.  Output is kept as UTF-8 bytes up
to a cap (the rest is counted, not kept) and decoded with errors='replace' at
the end, so invalid UTF-8 or lone surrogates never reach the wire; a visible
marker says how much was dropped."""

import io


class CapBuffer:
    """Bytes up to `limit`; counts what did not fit."""

    def __init__(self, limit):
        self.limit = max(0, int(limit))
        self.buf = bytearray()
        self.dropped = 0

    def add(self, data):
        """Append bytes, cutting at a character boundary when the cap is hit."""
        room = self.limit - len(self.buf)
        if len(data) <= room:
            self.buf += data
            return
        cut = max(room, 0)
        while 0 < cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1   # do not split a UTF-8 sequence
        self.buf += data[:cut]
        self.dropped += len(data) - cut
        self.limit = len(self.buf)   # full: later writes are only counted

    def text(self):
        """The captured text, with the truncation marker when output was dropped."""
        s = self.buf.decode("utf-8", "replace")
        if self.dropped:
            s += "%s... [truncated %d bytes]\n" % ("" if s.endswith("\n") else "\n",
                                                 self.dropped)
        return s


class _BinaryWriter(io.RawIOBase):
    """`sys.stdout.buffer`: raw bytes go to the same capped buffer."""

    def __init__(self, cap):
        super().__init__()
        self.cap = cap

    def writable(self):
        return True

    def write(self, b):
        """Keep the bytes (capped); report them all as written."""
        data = bytes(b)
        self.cap.add(data)
        return len(data)


class CapStream(io.TextIOBase):
    """A text stream replacing sys.stdout / sys.stderr during a step."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, limit):
        super().__init__()
        self.cap = CapBuffer(limit)
        self.buffer = _BinaryWriter(self.cap)

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, s):
        """Encode (lone surrogates kept as bytes, else replaced) and keep."""
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        try:
            data = s.encode("utf-8")
        except UnicodeEncodeError:
            try:
                data = s.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                data = s.encode("utf-8", "replace")
        self.cap.add(data)
        return len(s)

    def text(self):
        """Captured text (see CapBuffer.text)."""
        return self.cap.text()

    @property
    def truncated(self):
        return self.cap.dropped > 0


class NoInput(io.TextIOBase):
    """sys.stdin for user code: reading fails with an explanation."""

    def readable(self):
        return True

    def read(self, size=-1):
        raise EOFError("input() is not available in the kernel: there is no terminal; "
                       "ask the user through the assistant instead")

    def readline(self, size=-1):
        return self.read()
