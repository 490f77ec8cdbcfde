#!/usr/bin/python3
"""tests/cli/test_lazy_libs.py — `daa` starts with libc alone (issue 16):
GNU readline, libpng and libchafa (with glib) are loaded only by the
commands that use them (client/daa_dl.h).

- the binary's NEEDED entries name none of them;
- `daa ping` maps none of them (LD_DEBUG=files lists what the loader opens);
- a figure shown as symbols on a terminal does load libpng and libchafa,
  and draws with chafa (not the half-block fallback);
- `daa chat` on a terminal loads readline (its prompt comes up)."""
import os
import re
import shutil
import subprocess
import tempfile
import time

from clilib import DAA, ROOT, check, daa, pty_run, run_tests

LAZY = re.compile(r"lib(readline|chafa|glib-2\.0|png16|tinfo|z)\.so")
TMP = tempfile.mkdtemp(prefix="daa-cli-lazy.")
SOCK = os.path.join(TMP, "fake.sock")
ENV = {"HOME": TMP, "PATH": "/usr/bin:/bin", "DAA_SOCKET": SOCK, "LANG": "C.UTF-8"}


def loaded(text):
    """The libraries the dynamic loader opened, from LD_DEBUG=files output."""
    return set(re.findall(r"file=(\S+)\s+\[0\];\s+(?:needed|dynamically loaded) by", text))


def test_needed_entries():
    out = subprocess.run(["readelf", "-d", DAA], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    check(needed and not [n for n in needed if LAZY.search(n)], "daa NEEDs %r" % needed)


def test_ping_loads_libc_only():
    r = daa(["--no-start", "ping"], dict(ENV, LD_DEBUG="files"))
    libs = loaded(r.err)
    check(libs and not [n for n in libs if LAZY.search(n)], "daa ping loaded %r" % libs)


def make_png(w, h):
    import random
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    rnd = random.Random(1)
    rows = b"".join(b"\0" + bytes(rnd.randrange(256) for _ in range(3 * w)) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_figure_loads_png_and_chafa():
    proj = os.path.join(TMP, "proj")
    os.makedirs(os.path.join(proj, "outputs", "plots"))
    with open(os.path.join(proj, "outputs", "plots", "p_1.png"), "wb") as f:
        f.write(make_png(60, 60))
    fake = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/cli/fake_daad.py"),
                             SOCK, "plain", os.path.join(TMP, "requests.jsonl")],
                            env=dict(os.environ, FAKE_PROJECT_PATH=proj))
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(SOCK) and time.monotonic() < deadline and fake.poll() is None:
            time.sleep(0.02)
        env = dict(ENV, DAA_IMAGES="symbols", LD_DEBUG="files", COLUMNS="40")
        rc, out = pty_run(["--no-start", "-p", "demo", "run", "x"], env, None)
        libs = loaded(out)
        check(rc == 0 and any("libpng16" in n for n in libs) and any("libchafa" in n for n in libs),
              "symbols figure loaded %r:\n%s" % (libs, out[-3000:]))
        # chafa draws with its own symbol set; the fallback uses only U+2580
        figure = out[out.find("\x1b[38;2"):]
        check("figure not shown" not in out and re.search("[\u2580-\u259f\u2800-\u28ff]", figure)
              and set(re.findall("[\u2580-\u259f]", figure)) != {"\u2580"},
              "symbols figure not drawn by chafa:\n%r" % out[-2000:])
    finally:
        fake.kill()
        fake.wait()


def test_chat_loads_readline():
    start = subprocess.run([DAA, "--no-start", "chat"], env=ENV, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
    # not a terminal: chat reads lines and needs no readline (and no daemon here: exit 4)
    check("readline" not in start.stderr, "chat on a pipe asked for readline: %r" % start.stderr)
    rc, out = pty_run(["--no-start", "chat"], dict(ENV, LD_DEBUG="files"), None, timeout=60)
    # no daemon: chat stops before its prompt, but readline was loaded first
    check(any("libreadline" in n for n in loaded(out)), "chat on a terminal: %r" % out[-2000:])


if __name__ == "__main__":
    try:
        run_tests([test_needed_entries, test_ping_loads_libc_only, test_figure_loads_png_and_chafa,
                   test_chat_loads_readline])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
