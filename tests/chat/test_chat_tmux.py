#!/usr/bin/python3
"""tests/chat/test_chat_tmux.py — `daa chat` driven as a person would, in a
real terminal (tmux: send-keys, capture-pane), against a private daad with
the builtin analyst (offline).

Covers: the banner and /help; "total revenue" answered with the number
pandas computes; a question from the agent answered in place by number (two
datasets with a `revenue` column: the agent asks which); /history; /undo;
/project switching; Ctrl-C during a slow /run interrupts it and the chat
goes on; another client's turn on the same project shows up in the chat, and
so does the background profile of a dataset another client added, and a
step another client edited (the steps it made stale, and when the kernel
restarts: at once, or after the run that holds the project; an edit that
waits behind a re-run, then is saved), and that client's re-run;
/quit leaves and the line history is saved under $XDG_STATE_HOME.
Each screen is saved to $DAA_TEST_OUT (or the temp dir) when it fails.
"""
import csv
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.join(
    os.path.dirname(__file__), "..", "..")), "tests/lib"))
from daad import BUILD, ROOT, Daad, EventClient  # noqa: E402

DAA = os.path.join(BUILD, "bin", "daa")
TIMEOUT = 40  # seconds; only to avoid hangs


class Tmux:
    """One tmux server on a private socket with one window running cmd."""

    def __init__(self, tmp, env, cmd):
        self.sock = os.path.join(tmp, "tmux.sock")
        self.env = dict(env, TERM="xterm-256color")
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", "110", "-y", "50", cmd)
        self.tmux("set-option", "-g", "remain-on-exit", "on")
        self.tmux("set-option", "-g", "history-limit", "5000")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=20).stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "0", *keys)

    def line(self, text):
        self.tmux("send-keys", "-t", "0", "-l", text)
        self.tmux("send-keys", "-t", "0", "Enter")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-J", "-S", "-5000", "-t", "0")

    def wait_for(self, what, after=0, timeout=TIMEOUT):
        """Wait until `what` (a string or a predicate on the text) shows up
        after offset `after` of the scrollback; returns the whole text."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            tail = text[after:]
            ok = what(tail) if callable(what) else what in tail
            if ok:
                return text
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %r; screen:\n%s" % (what, text))
            time.sleep(0.1)

    def dead(self):
        return self.tmux("display-message", "-p", "-t", "0", "#{pane_dead}").strip() == "1"

    def kill(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], env=self.env,
                       capture_output=True, timeout=20)


def expected_total():
    """The revenue column's sum, computed here with the csv module (an
    import of pandas would cost this process half a second of CPU)."""
    with open(os.path.join(ROOT, "examples", "sales.csv"), newline="") as f:
        return math.fsum(float(r["revenue"]) for r in csv.DictReader(f))


def digits(s):
    return s.replace(",", "")


def main():
    if not shutil.which("tmux"):
        print("tmux is not installed (tools/deps.sh installs it)")
        return 77
    tmp = tempfile.mkdtemp(prefix="daa-chat.")
    tm = None
    try:
        with Daad() as d:
            d.call("project.create", {"name": "shop"})
            d.call("project.create", {"name": "other"})
            d.call("data.add", {"project": "shop", "path": os.path.join(ROOT, "examples", "sales.csv")})
            q = os.path.join(tmp, "q.csv")
            with open(q, "w") as f:
                f.write("day,gross revenue,net revenue\n2024-01-01,10,8\n2024-01-02,20,15\n")
            d.call("data.add", {"project": "other", "path": q})
            env = dict(d.env)
            script = os.path.join(tmp, "chat.sh")
            with open(script, "w") as f:
                f.write("#!/bin/sh\nexec %s --no-start -p shop chat\n" % DAA)
            os.chmod(script, 0o755)
            tm = Tmux(tmp, env, script)
            try:
                run_session(d, tm, env)
                os.makedirs(os.path.join(tmp, "2"))
                double_ctrl_c(d, tmp, env)
            except BaseException:
                out = os.environ.get("DAA_TEST_OUT", tmp)
                os.makedirs(out, exist_ok=True)
                with open(os.path.join(out, "chat_screen.txt"), "w") as f:
                    f.write(tm.screen())
                sys.stderr.write("screen saved in %s/chat_screen.txt\n" % out)
                raise
    finally:
        if tm:
            tm.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


def run_session(d, tm, env):
    text = tm.wait_for("daa> ")
    assert "project shop" in text, text

    # /help lists the commands
    mark = len(text)
    tm.line("/help")
    text = tm.wait_for("/undo", mark)
    assert "/project" in text[mark:] and "/history" in text[mark:]

    # a plain request: the number pandas computes
    mark = len(text)
    tm.line("total revenue")
    total = expected_total()
    want = ["%.2f" % total, "%.0f" % total, "%.1f" % total]
    text = tm.wait_for(lambda t: any(w in digits(t) for w in want) and "daa> " in t, mark)
    assert "[turn" in text[mark:], "no progress shown:\n" + text[mark:]

    # a plot: shown inline as symbols (tmux answers DA1 without sixel)
    mark = len(text)
    tm.line("plot revenue by month")
    text = tm.wait_for(lambda t: "figure: " in t and "daa> " in t.split("figure: ")[-1], mark)
    after = text[mark:].split("figure: ")[-1]
    art = [ln for ln in after.splitlines()[1:] if sum(ord(c) > 0x2000 for c in ln) > 10]
    assert len(art) >= 5, "no symbols picture after the figure line:\n" + after
    sys.stdout.write("---- the plot as the terminal shows it ----\n%s\n" % after)

    # piped, never: the same figure through `daa run` into a pipe
    fig = os.path.join(d.projects, "shop", after.split("/outputs/")[1].split()[0].join(["outputs/", ""]))
    assert os.path.exists(fig), fig
    p = subprocess.run([DAA, "--no-start", "-p", "shop", "run", "--scratch",
                        "import matplotlib.pyplot as plt; plt.plot([1, 2]); plt.show()"],
                       env=dict(env, DAA_IMAGES="symbols"), capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0 and b"figure: " in p.stdout and b"\x1b" not in p.stdout, p

    # Ctrl-C during a slow step interrupts it; the chat goes on
    mark = len(text)
    tm.line("/run import time; time.sleep(60)")
    time.sleep(0.5)  # let the code start; the check below does not depend on it
    tm.keys("C-c")
    text = tm.wait_for("interrupting the code", mark)
    text = tm.wait_for(lambda t: "KeyboardInterrupt" in t or "interrupted" in t, mark)
    mark = len(text)
    tm.line("/run print(6*7)")
    text = tm.wait_for("42", mark)

    # another client on the same project shows up here
    mark = len(text)
    p = subprocess.run([os.path.join(BUILD, "bin", "daa"), "--no-start", "-p", "shop", "ask",
                        "--batch", "how many rows"], env=env, capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode in (0, 3), p.stderr
    text = tm.wait_for(lambda t: "started: how many rows" in t, mark)

    # a dataset added by another client is profiled in the background: said here
    p = subprocess.run([os.path.join(BUILD, "bin", "daa"), "--no-start", "-p", "shop", "add",
                        os.path.join(ROOT, "examples", "customers.csv")], env=env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    text = tm.wait_for(lambda t: "[data] customers profiled: 400 rows" in t)  # once: whole screen

    # a step edited by another client: said here, with the steps it made
    # stale and when the kernel restarts (its variables go with the old code)
    edit_by_another_client(d, tm)
    text = tm.screen()

    # /project switches
    mark = len(text)
    tm.line("/project other")
    text = tm.wait_for("now in project other", mark)

    # a question answered in place: "revenue" fits two columns
    mark = len(text)
    tm.line("total revenue")
    text = tm.wait_for("answer> ", mark)
    assert "1) gross revenue" in text[mark:], "no numbered choices:\n" + text[mark:]
    mark = len(text)
    tm.line("1")
    text = tm.wait_for(lambda t: "30.00" in t and "daa> " in t, mark)
    assert "gross revenue" in text[mark:]

    # /history lists the steps (or says why it cannot)
    mark = len(text)
    tm.line("/history")
    text = tm.wait_for(lambda t: "total" in t or "1 step" in t, mark)

    # /undo drops the last step
    hist = os.path.join(d.projects, "other", "history")
    steps = len(os.listdir(hist))
    assert steps == 1, os.listdir(hist)
    mark = len(text)
    tm.line("/undo")
    text = tm.wait_for("undone: history/001", mark)
    assert os.listdir(hist) == [], os.listdir(hist)
    mark = len(text)
    tm.line("/undo")
    text = tm.wait_for("nothing to undo", mark)

    mark = len(text)
    tm.line("/project nosuchproject")
    text = tm.wait_for("staying in project other", mark)

    # /quit leaves; the history file keeps the lines
    tm.line("/quit")
    deadline = time.monotonic() + TIMEOUT
    while not tm.dead():
        assert time.monotonic() < deadline, "daa chat did not leave:\n" + tm.screen()
        time.sleep(0.1)
    hist = os.path.join(env["XDG_STATE_HOME"], "daa", "chat_history")
    with open(hist) as f:
        lines = f.read()
    assert "total revenue" in lines and "/project other" in lines, lines
    sys.stdout.write(tm.screen()[-3000:])


def edit_by_another_client(d, tm):
    """history.edit from another connection, at once and while a run holds
    the project (restart deferred, then done).  Lines are counted, not
    found after an offset: progress lines erased since shorten the text."""
    def new_line(want, before):
        try:
            tm.wait_for(lambda t: t.count(want) > before)
        except AssertionError as e:
            raise AssertionError("no new line %r in the chat\n%s" % (want, e)) from None

    hist = os.path.join(d.projects, "shop", "history")
    steps = sorted(f for f in os.listdir(hist) if f.endswith(".py"))
    assert len(steps) >= 3, steps
    with open(os.path.join(hist, steps[0])) as f:
        code = f.read()
    later = ", ".join(str(n) for n in range(2, len(steps) + 1))
    edited = "[history] history/%s was edited; stale now: steps %s; the kernel restarted" % (steps[0], later)
    deferred = "the kernel restarts when the project's running work ends"
    restarted = "[history] the kernel restarted for the edit of step 1; stale now: steps %s, %d" % (
        later, len(steps) + 1)   # the run's step too: it ran on the old code
    c = EventClient(d.sock, timeout=TIMEOUT)   # keyword calls, send/wait
    try:
        screen = tm.screen()
        changed = screen.count("[history] changed")
        r = c.call("history.edit", project="shop", step=1, text=code + "\n# edited once\n")
        assert r["saved"] and not r["restart_deferred"], r
        new_line(edited, screen.count(edited))
        # a run (saved as a step, so it holds the project's queue) sent on the
        # same connection just before: the edit finds the project busy
        screen = tm.screen()
        run = c.send("run", project="shop", code="import time; time.sleep(1)")
        r = c.call("history.edit", project="shop", step=1, text=code + "\n# edited twice\n")
        assert r["saved"] and r["restart_deferred"], r
        new_line(deferred, screen.count(deferred))
        c.wait(run, timeout=TIMEOUT)
        new_line(restarted, screen.count(restarted))
        # behind a re-run the edit waits, then is saved
        screen = tm.screen()
        rerun = c.send("history.rerun", project="shop", step=len(steps) + 1)
        r = c.call("history.edit", project="shop", step=1, text=code + "\n# edited thrice\n")
        assert r["queued"] and not r["saved"], r
        waits = "[history] an edit of history/%s waits for the re-run to end" % steps[0]
        new_line(waits, screen.count(waits))
        c.wait(rerun, timeout=TIMEOUT)
        began = "[history] a re-run from step %d began in a fresh kernel (1 step to run" % (len(steps) + 1)
        ended = "[history] the re-run ended: every step ok"
        new_line(began, screen.count(began))
        new_line(ended, screen.count(ended))
        saved = "[history] the waiting edit of history/%s is saved; stale now: steps %s, %d; the kernel restarted" % (
            steps[0], later, len(steps) + 1)
        new_line(saved, screen.count(saved))
        # each saved edit's history.changed came just after its line: not shown
        assert tm.screen().count("[history] changed") == changed, "history.changed shown for an edit"
    finally:
        c.close()


def double_ctrl_c(d, tmp, env):
    """Ctrl-C twice during a slow step leaves the chat."""
    # The exit status is written by the shell rather than read from tmux:
    # tmux 3.3a sometimes leaves the exited pane process a zombie with no
    # pane_dead_status (seen here); the trap keeps the shell alive through
    # the Ctrl-Cs that go to the whole foreground process group.
    script = os.path.join(tmp, "chat2.sh")
    status_file = os.path.join(tmp, "2", "status")
    with open(script, "w") as f:
        f.write("#!/bin/sh\ntrap true INT\n%s --no-start -p shop chat\necho $? > %s.tmp\n"
                "mv %s.tmp %s\n" % (DAA, status_file, status_file, status_file))
    os.chmod(script, 0o755)
    tm = Tmux(os.path.join(tmp, "2"), env, script)
    try:
        text = tm.wait_for("daa> ")
        # code that swallows the interrupt, so the step is still running
        tm.line("/run exec('import time\\nwhile True:\\n try: time.sleep(60)\\n"
                " except KeyboardInterrupt: print(\\'swallowed\\', flush=True)')")
        time.sleep(0.5)  # let the code start; the check below does not depend on it
        tm.keys("C-c")
        tm.wait_for("interrupting the code")
        tm.keys("C-c")
        text = tm.wait_for("leaving; the daemon goes on")
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(status_file):
            assert time.monotonic() < deadline, "daa chat did not leave:\n" + tm.screen()
            time.sleep(0.1)
        with open(status_file) as f:
            status = f.read().strip()
        assert status == "0", "exit status %r\n%s" % (status, tm.screen())
    finally:
        tm.kill()


if __name__ == "__main__":
    sys.exit(main())
