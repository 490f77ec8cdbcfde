#!/usr/bin/python3
"""tests/cli/test_render.py — the CLI against fake_daad.py (scripted
replies, recorded requests): table previews as aligned text, run output
and figure paths, inline figures (and hostile PNGs refused in one line),
project discovery passing over project-like folders in outputs/, --json of
awkward values (NaN, invalid UTF-8, big ints, non-string keys), error responses of odd shapes, ask cancelled by Ctrl-C
(cancel sent on the same connection), a question arriving as an event and
answered on a terminal by choice number, watch until the daemon goes."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from clilib import DAA, ROOT, check, daa, expect, pty_run, run_tests

TMP = tempfile.mkdtemp(prefix="daa-cli-render.")
SOCK = os.path.join(TMP, "fake.sock")
LOG = os.path.join(TMP, "requests.jsonl")
ENV = {"HOME": TMP, "PATH": "/usr/bin:/bin", "DAA_SOCKET": SOCK, "LANG": "C.UTF-8"}
FAKE = None


def start_fake(scenario, project_path=None):
    global FAKE
    stop_fake()
    for f in (SOCK, LOG):
        if os.path.exists(f):
            os.unlink(f)
    env = dict(os.environ, FAKE_PROJECT_PATH=project_path or "/projects/demo")
    FAKE = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/cli/fake_daad.py"),
                             SOCK, scenario, LOG], env=env)
    deadline = time.monotonic() + 30
    while not os.path.exists(SOCK) and time.monotonic() < deadline and FAKE.poll() is None:
        time.sleep(0.02)
    check(os.path.exists(SOCK), "fake daemon did not start")


def stop_fake():
    global FAKE
    if FAKE and FAKE.poll() is None:
        FAKE.kill()
        FAKE.wait()
    FAKE = None


def requests():
    with open(LOG) as f:
        return [json.loads(line) for line in f]


def run(args, **kw):
    return daa(["--no-start", "-p", "demo"] + args, ENV, **kw)


def test_run_rendering():
    start_fake("plain")
    r = run(["run", "x"])
    expect(r, 0, "run", out=["hello\n", "figure: /projects/demo/outputs/plots/p_1.png"],
           err=["a warning", "(output truncated)", "saved as history/004_run.py"])
    lines = r.out.splitlines()
    title = lines.index("sales DataFrame (100 rows × 3 columns)")
    want = [
        "%3s  %6s  %7s  %24s" % ("", "region", "revenue", "note"),
        "%3s  %6s  %7s  %24s" % ("0", "North", "1.5", "short"),
        "%3s  %6s  %7s  %24s" % ("1", "Süd", "20.25", "a very long note that g…"),
        "%3s  %6s  %7s  %24s" % ("...", "...", "...", "..."),
        "%3s  %6s  %7s  %24s" % ("98", "East", "NaN", "True"),
        "%3s  %6s  %7s  %24s" % ("99", "West", "-3", "x"),
    ]
    check(lines[title + 1:title + 7] == want, "table:\n%s\nwanted:\n%s" %
          ("\n".join(lines[title:title + 7]), "\n".join(want)))
    series = lines.index("Series (2 rows)")
    check(lines[series + 1:series + 3] == ["a  1", "b  2"], "series:\n" + r.out)
    check(requests() == [["run", {"project": "demo", "code": "x"}]], "sent %r" % requests())


def make_png(w, h, rows=None):
    """A PNG of w x h RGB noise (or the given raw rows), as bytes; w and h
    go into the header as they are (a hostile file may claim anything)."""
    import random
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    rnd = random.Random(1)
    if rows is None:
        rows = b"".join(b"\0" + bytes(rnd.randrange(256) for _ in range(3 * w)) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_inline_figures():
    proj = os.path.join(TMP, "proj")
    os.makedirs(os.path.join(proj, "outputs", "plots"))
    png = make_png(60, 60)
    with open(os.path.join(proj, "outputs", "plots", "p_1.png"), "wb") as f:
        f.write(png)
    start_fake("plain", proj)
    kitty = dict(ENV, TERM="xterm-kitty")
    rc, out = pty_run(["--no-start", "-p", "demo", "run", "x"], kitty, None)
    chunks = re.findall(r"\x1b_G([^;]*);([A-Za-z0-9+/=]*)\x1b\\", out)
    check(rc == 0 and len(chunks) == 4, "kitty chunks %r in\n%r" % ([c[0] for c in chunks], out))
    check(chunks[0][0] == "f=100,a=T,m=1" and chunks[-1][0] == "m=0", "controls %r" % chunks)
    check(base64.b64decode("".join(c[1] for c in chunks)) == png, "image bytes differ")
    rc, out = pty_run(["--no-start", "-p", "demo", "run", "x"], dict(kitty, DAA_IMAGES="0"), None)
    check(rc == 0 and "\x1b_G" not in out and "p_1.png" in out, "DAA_IMAGES=0:\n%r" % out)
    rc, out = pty_run(["--no-start", "-p", "demo", "run", "x"], dict(ENV, TERM_PROGRAM="iTerm.app"),
                      None)
    m = re.search(r"\x1b\]1337;File=inline=1;size=(\d+);preserveAspectRatio=1:([^\x07]*)\x07", out)
    check(rc == 0 and m and int(m.group(1)) == len(png) and base64.b64decode(m.group(2)) == png,
          "iTerm2 image:\n%r" % out)
    r = daa(["--no-start", "-p", "demo", "run", "x"], kitty)  # piped: never
    check(r.rc == 0 and "\x1b" not in r.out and "figure: %s/outputs/plots/p_1.png" % proj in r.out,
          "piped output %r" % r)
    # hostile figures: one line each, nothing sent to the terminal, in every mode
    hostile = {"negative size": make_png(0x80000000, 0x80000000, b"\0" * 100),
               "beyond the caps": make_png(9000, 9000, b"\0" * 100),
               "truncated": make_png(60, 60)[:-200],
               "not a PNG": b"GIF89a" + b"\0" * 100}
    for what, data in hostile.items():
        with open(os.path.join(proj, "outputs", "plots", "p_1.png"), "wb") as f:
            f.write(data)
        for mode in ("kitty", "iterm", "sixel", "symbols"):
            rc, out = pty_run(["--no-start", "-p", "demo", "run", "x"], dict(ENV, DAA_IMAGES=mode),
                              None)
            lines = [ln for ln in out.splitlines() if "figure not shown: " in ln]
            check(rc == 0 and len(lines) == 1 and "\x1b" not in out and len(out) < 2000,
                  "%s PNG (%s):\n%r" % (what, mode, out))
        print("# %s: %s" % (what, lines[0].strip()))


def test_discovery_skips_outputs():
    """A project-like folder a kernel made in outputs/ is never picked by
    walking up from the cwd: the project around it is."""
    base = os.path.realpath(os.path.join(TMP, "disc"))

    def mkproj(path):
        os.makedirs(os.path.join(path, "data"))
        with open(os.path.join(path, "conventions.json"), "w") as f:
            f.write("{}")
    real = os.path.join(base, "real")
    evil = os.path.join(real, "outputs", "x", "evil")
    free = os.path.join(base, "outputs", "p2")  # "outputs" of a folder that is no project
    for p in (real, evil, free):
        mkproj(p)
    start_fake("plain")
    for cwd, want, note in ((os.path.join(evil, "data"), real, True), (evil, real, True),
                            (os.path.join(real, "outputs"), real, False), (free, free, False)):
        os.unlink(LOG) if os.path.exists(LOG) else None
        r = daa(["--no-start", "run", "x"], ENV, cwd=cwd)
        sent = requests()[0][1].get("project")
        check(r.rc == 0 and sent == want, "from %s: sent project %r, want %r\n%r" % (cwd, sent, want, r))
        check(("lies in the outputs of %s" % real in r.err) == note, "note on stderr: %r" % r.err)
    os.unlink(LOG)
    r = daa(["--no-start", "-p", evil, "run", "x"], ENV, cwd=base)  # chosen by name: used
    check(r.rc == 0 and requests()[0][1]["project"] == evil, "-p %r" % requests())


def test_json_values():
    start_fake("plain")
    r = run(["--json", "status"])
    check(r.rc == 0, "status --json %r" % r)
    j = json.loads(r.out)
    check(j["nan"] is None and j["inf"] is None, "nan/inf %r" % j)
    check(j["half"] == 0.5 and j["tenth"] == 0.1 and '"tenth": 0.1,' in r.out, "floats %r" % r.out)
    check(j["big"] == 2**64 - 1 and j["neg"] == -2**63, "ints %r" % j)
    check(j["bad_utf8"] == "café \ufffd!", "invalid utf-8 %r" % j["bad_utf8"])
    check(j["text"] == "tab\tquote\" back\\ nl\n ctl\x01 é ✓", "escapes %r" % j["text"])
    check(j["7"] == "int key" and j["nested"] == [[{}], []], "keys/nesting %r" % j)


def test_error_shapes():
    start_fake("plain")
    r = run(["conventions"])
    expect(r, 1, "bare string error", err="daa: a bare string error")
    r = run(["doctor"])
    expect(r, 1, "unknown method", err=["no method 'doctor'", "does not know `doctor`"])
    r = run(["--json", "doctor"])
    check(r.rc == 1 and json.loads(r.out)["error"]["code"] == -32601, "json error %r" % r)


def test_ask_ctrl_c():
    start_fake("cancel")
    p = subprocess.Popen([DAA, "--no-start", "-p", "demo", "ask", "something long"], env=ENV,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        err = ""
        while "started" not in err:  # progress lines arrive before Ctrl-C is pressed
            line = p.stderr.readline()
            check(line, "stderr ended early: %r" % err)
            err += line
        p.send_signal(signal.SIGINT)
        out, rest = p.communicate(timeout=30)
        err += rest
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 1, "exit %s\n%s\n%s" % (p.returncode, out, err))
    check("[turn 7] queued" in err and "[turn 7] started: something long" in err, err)
    check("cancel sent" in err and "the turn was cancelled" in err, err)
    check("cancelled by the user" in out, out)
    check(requests() == [["ask", {"project": "demo", "request": "something long",
                                  "interactive": False}],
                         ["cancel", {"project": "demo"}]], "sent %r" % requests())


def test_question_on_terminal():
    start_fake("question")
    rc, out = pty_run(["--no-start", "-p", "demo", "ask", "revenue by region"], ENV, "2")
    check(rc == 0, "exit %s:\n%s" % (rc, out))
    out = out.replace("\r\n", "\n")
    check("? Which region?\n  1) south\n  2) north\n> " in out, "prompt:\n" + out)
    check("Revenue of north: 42" in out, out)
    check("code (history/007_r.py):\n    x = 1\n\n    y = 2\n" in out and "boom" not in out, out)
    check("figure: /projects/demo/outputs/plots/r.png" in out and "Series (2 rows)" in out, out)
    check(requests() == [["ask", {"project": "demo", "request": "revenue by region",
                                  "interactive": True}],
                         ["answer", {"project": "demo", "text": "north"}]], "sent %r" % requests())


def test_watch():
    start_fake("plain")
    r = run(["watch"])
    expect(r, 4, "watch until the daemon goes", err=["watching /projects/demo", "closed"],
           out=["[turn 3] running code (attempt 1): look at the data",
                "[turn 3] failed: KeyError: 'x'", 'project.changed {"what": "data"}'])
    r = run(["--json", "watch"])
    events = [json.loads(line) for line in r.out.splitlines()]
    check(r.rc == 4 and len(events) == 3 and events[1]["params"]["error"]["type"] == "KeyError",
          "json watch %r" % r)
    check([e["method"] for e in events] == ["turn.event", "turn.event", "project.changed"],
          "methods %r" % events)


if __name__ == "__main__":
    try:
        run_tests([test_run_rendering, test_inline_figures, test_discovery_skips_outputs,
                   test_json_values, test_error_shapes, test_ask_ctrl_c,
                   test_question_on_terminal, test_watch])
    finally:
        stop_fake()
        shutil.rmtree(TMP, ignore_errors=True)
