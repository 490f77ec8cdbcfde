#!/usr/bin/python3
"""tests/cli/test_term_safe.py — text that did not come from daa reaches a
terminal only in a harmless, visible form (client/daa_safe.h), through a
real daad (builtin analyst) and a real pseudo-terminal:

- `daa run` of kernel code printing OSC 52 (clipboard), OSC 0 (window
  title), OSC 8 (hyperlink), CSI clear screen, a C1 CSI, a bidi override and
  a carriage return, on stdout, on stderr and in an exception's message:
  no ESC / C1 byte arrives, the payloads are gone, the rest is visible;
- `daa chat` on a terminal (readline's own sequences aside) the same;
- `daa ask` on a dataset whose column names and cells hold such sequences:
  the question's choices and the table cells arrive escaped;
- piped (not a terminal) the same; `--json` stays byte-exact.
"""
import json
import os
import subprocess
import sys
import tempfile

from clilib import DAA, check, pty_run, run_tests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from daad import Daad  # noqa: E402

D = None
TMP = tempfile.mkdtemp(prefix="daa-termsafe.")

# What the kernel prints (Python source of the strings).
HOSTILE = ("'A\\x1b]52;c;Q0xJUEJPQVJE\\x07B\\x1b]0;PWNED_TITLE\\x1b\\\\C"
           "\\x1b]8;;http://evil.example/\\x1b\\\\LINK\\x1b]8;;\\x1b\\\\D\\x1b[2J\\x1b[HE"
           "\\u009b2J\\u202eF\\rG'")
CODE = ("import sys\ns = " + HOSTILE + "\nprint(s)\nprint('err:' + s, file=sys.stderr)\n"
        "raise ValueError('boom ' + s)\n")


def env():
    return dict(D.env, TERM="xterm-256color", DAA_IMAGES="none")


def no_raw_controls(data, what, payloads=True):
    """No ESC, no C1 (raw or UTF-8), no BEL, no lone CR, no bidi override;
    the payloads of removed sequences gone too (unless shown as text, like
    the \\u001b of code)."""
    for bad in (b"\x1b", b"\x07", b"\x9b", b"\xc2\x9b", b"\xe2\x80\xae"):
        check(bad not in data, "%s: %r reached the terminal: %r" % (what, bad, data))
    check(b"\r" not in data.replace(b"\r\n", b""), "%s: a bare CR: %r" % (what, data))
    for payload in (b"Q0xJUEJPQVJE", b"PWNED_TITLE", b"evil.example") if payloads else ():
        check(payload not in data, "%s: the payload %r is shown: %r" % (what, payload, data))


def test_run_on_a_terminal():
    rc, out = pty_run(["--no-start", "-p", "t", "run", "--scratch", CODE], env(), None)
    data = out.encode("utf-8", "surrogateescape")
    no_raw_controls(data, "daa run")
    check(rc == 1, "the exception makes exit 1: %d\n%s" % (rc, out))
    # the visible rest, on stdout, stderr and in the traceback
    for want in ("ABCLINKDE<U+009B>2J<U+202E>F^MG", "err:ABCLINKDE", "ValueError: boom ABCLINKDE"):
        check(want in out, "%r not shown: %r" % (want, out))


def test_run_piped_and_json():
    p = subprocess.run([DAA, "--no-start", "-p", "t", "run", "--scratch", CODE], env=env(),
                       capture_output=True, timeout=120)
    no_raw_controls(p.stdout + p.stderr, "daa run | cat")
    check(b"ABCLINKDE<U+009B>2J<U+202E>F^MG" in p.stdout, p)
    p = subprocess.run([DAA, "--no-start", "--json", "-p", "t", "run", "--scratch", CODE],
                       env=env(), capture_output=True, timeout=120)
    res = json.loads(p.stdout)
    want = eval(HOSTILE)  # noqa: S307 -- our own literal
    # chat has no JSON form: with --json its text is made safe all the same
    c = subprocess.run([DAA, "--no-start", "--json", "-p", "t", "chat"], env=env(),
                       input=("/run print(" + HOSTILE + ")\n").encode(), capture_output=True,
                       timeout=120)
    no_raw_controls(c.stdout + c.stderr, "daa --json chat")
    check(c.returncode == 0 and b"ABCLINKDE" in c.stdout, c)
    check(res["stdout"] == want + "\n", "--json is not exact: %r" % res["stdout"])
    check(want in res["error"]["message"] or want in json.dumps(res["error"]),
          "--json error not exact: %r" % res["error"])


def test_chat_on_a_terminal():
    """daa chat on a pty (readline draws the line: its own sequences are
    allowed); the kernel's sequences never arrive raw."""
    import select
    import time
    master, slave = os.openpty()
    p = subprocess.Popen([DAA, "--no-start", "-p", "t", "chat"], env=env(), stdin=slave,
                         stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out, deadline = b"", time.monotonic() + 120
    code = ("/run s = " + HOSTILE.replace("PWNED_TITLE", "PWNED' + '_TITLE") +
            "; print(s); print('done' + '!')\n")
    sent = quit_sent = False
    try:
        while time.monotonic() < deadline and p.poll() is None:
            if select.select([master], [], [], 1)[0]:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
            if not sent and b"daa> " in out:
                os.write(master, code.encode())
                sent = True
            if sent and not quit_sent and b"done!" in out:
                os.write(master, b"/quit\n")
                quit_sent = True
        check(b"done!" in out, "chat did not run the code: %r" % out)
        for raw in (b"\x1b]52", b"\x1b]0;", b"\x1b]8;", b"\x1b[2J", b"\xc2\x9b", b"\xe2\x80\xae",
                    b"PWNED_TITLE"):
            check(raw not in out, "chat: %r reached the terminal: %r" % (raw, out))
        check(b"ABCLINKDE<U+009B>2J<U+202E>F^MG" in out, "chat output: %r" % out)
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        os.close(master)


def make_dataset():
    """JSON records (a CSV would be split at the sequences' ';')."""
    path = os.path.join(TMP, "evil.json")
    gross, net = "gross revenue \x1b]0;PWNED_TITLE\x07", "net revenue \x1b]52;c;Q0xJUEJPQVJE\x07"
    rows = [{gross: i, net: i * 2, "name": "x\x1b[2J\u202e\x1b]8;;http://evil.example/\x07y%d" % i}
            for i in range(5)]
    with open(path, "w") as f:
        json.dump(rows, f)
    D.call("data.add", {"project": "t", "path": path})


def test_ask_choices_and_cells():
    make_dataset()
    # a question: "revenue" fits both columns; the choices are column names
    p = subprocess.run([DAA, "--no-start", "-p", "t", "ask", "--batch", "total revenue"],
                       env=env(), capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    check(p.returncode == 3, "expected a question: %r" % p)
    no_raw_controls(p.stdout + p.stderr, "daa ask (question)", False)
    check(b"1) gross revenue " in p.stdout and b"2) net revenue " in p.stdout, p)
    rc, out = pty_run(["--no-start", "-p", "t", "answer", "1"], env(), None)
    no_raw_controls(out.encode("utf-8", "surrogateescape"), "daa answer", False)
    check(rc == 0, "answer: %d %s" % (rc, out))
    # cells: the first rows as a table, on a terminal
    rc, out = pty_run(["--no-start", "-p", "t", "ask", "show the first 5 rows"], env(), None)
    data = out.encode("utf-8", "surrogateescape")
    no_raw_controls(data, "daa ask (table)", False)
    check(rc == 0 and "x<U+202E>y3" in out, "cells not shown escaped: %d %r" % (rc, out))


def main():
    global D
    with Daad() as d:
        D = d
        d.call("project.create", {"name": "t"})
        try:
            return run_tests([test_run_on_a_terminal, test_run_piped_and_json,
                              test_chat_on_a_terminal, test_ask_choices_and_cells])
        finally:
            subprocess.run(["rm", "-rf", TMP])


if __name__ == "__main__":
    sys.exit(main())
