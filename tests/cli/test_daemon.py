#!/usr/bin/python3
"""tests/cli/test_daemon.py — daa against a private daad it starts itself
(temp HOME and XDG dirs, own socket, env -i style): auto-start by ping,
project new/list/rm, add, conventions, project choice (-p name or path,
$DAA_PROJECT, the cwd's project folder), --json output that parses, run,
ask with a question left unanswered (exit 3) then `daa answer`, the question
answered on a terminal, Ctrl-C during run, shutdown."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from clilib import DAA, DAAD, check, daa, expect, pty_run, run_tests

if not os.access(DAAD, os.X_OK):
    print("daad is not built (%s)" % DAAD)
    sys.exit(77)

from daad import Daad  # noqa: E402  (tests/lib, added to sys.path by clilib)

D = Daad()
ENV = dict(D.env)
SOCK = D.sock
WORK = os.path.join(D.dir, "work")
os.makedirs(WORK)
STATE = {}


def run(args, **kw):
    kw.setdefault("timeout", 120)
    return daa(args, kw.pop("env", ENV), **kw)


def jrun(args, rc=0, **kw):
    r = run(["--json"] + args, **kw)
    check(r.rc == rc, "daa --json %s: %r" % (" ".join(args), r))
    return json.loads(r.out)


def test_ping_autostarts():
    r = run(["--no-start", "ping"])
    expect(r, 4, "nothing running yet", err="no daemon is listening")
    # a stale socket left by a daemon that died: refused, so daa starts a new one
    os.makedirs(os.path.dirname(SOCK), mode=0o700)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(SOCK)
    stale.close()
    r = run(["--no-start", "ping"])
    expect(r, 4, "stale socket, --no-start", err="no daemon is listening")
    r = run(["ping"])
    expect(r, 0, "ping starts daad", out=["is running", SOCK])
    STATE["pid"] = int(re.search(r"pid (\d+)", r.out).group(1))
    j = jrun(["--no-start", "ping"])
    check(j.get("pong") is True and j.get("pid") == STATE["pid"], "ping json %r" % j)
    check(os.path.isfile(os.path.join(os.path.dirname(SOCK), "daad.log")), "no daad.log")
    r = run(["status"])
    expect(r, 0, "status", out=["daad", "socket:   " + SOCK, "kernels:"])
    j = jrun(["status"])
    check(j.get("pid") == STATE["pid"] and "uptime_s" in j, "status json %r" % j)


def test_projects():
    r = run(["project", "new", "alpha"])
    expect(r, 0, "project new", out="created project alpha at ")
    STATE["alpha"] = r.out.strip().rsplit(" at ", 1)[1]
    check(os.path.isdir(os.path.join(STATE["alpha"], "data")), "alpha has no data/")
    r = run(["project", "new", "alpha"])
    expect(r, 1, "project new twice")
    check(r.err.startswith("daa: ") and r.out == "", "error message %r" % r)
    elsewhere = os.path.join(WORK, "elsewhere")
    os.makedirs(elsewhere)
    r = run(["project", "new", "beta", "--dir", "elsewhere"], cwd=WORK)
    expect(r, 0, "project new --dir (relative)", out=elsewhere + "/beta")
    STATE["beta"] = elsewhere + "/beta"
    r = run(["project", "list"])
    expect(r, 0, "project list", out=["NAME", "alpha", "beta", STATE["alpha"]])
    j = jrun(["project", "list"])
    names = {p["name"]: p for p in j["projects"]}
    check("alpha" in names and names["alpha"]["path"] == STATE["alpha"], "list json %r" % j)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_add():
    write(os.path.join(WORK, "orders.csv"),
          "order_id,day,amount\n" + "".join("%d,2024-01-%02d,%d.5\n" % (i, i % 28 + 1, i)
                                            for i in range(1, 38)))
    write(os.path.join(WORK, "people.csv"), "person_id,name\n1,Ann\n2,Bob\n3,Cy\n")
    write(os.path.join(WORK, "blob.bin"), "\x00\x01")
    r = run(["-p", "alpha", "add", "orders.csv"], cwd=WORK)  # relative: daa sends realpath
    expect(r, 0, "add", out=["added orders.csv as orders", "csv"])
    check(os.path.isfile(os.path.join(STATE["alpha"], "data", "orders.csv")), "not copied")
    j = jrun(["-p", "alpha", "add", os.path.join(WORK, "people.csv")])
    check(j.get("name") == "people" and j.get("format") == "csv" and j.get("bytes") > 0,
          "add json %r" % j)
    r = run(["-p", "alpha", "add", "orders.csv"], cwd=WORK)
    expect(r, 1, "add again (exists)")
    r = run(["-p", "alpha", "add", "nosuch.csv"], cwd=WORK)
    expect(r, 1, "add a missing file", err="nosuch.csv: No such file or directory")
    r = run(["-p", "alpha", "add", "blob.bin"], cwd=WORK)
    expect(r, 1, "add an unsupported file")
    r = run(["--json", "-p", "alpha", "add", "blob.bin"], cwd=WORK)
    check(r.rc == 1 and isinstance(json.loads(r.out).get("error", {}).get("code"), int),
          "json error %r" % r)


def conventions(project):
    return jrun(["-p", project, "conventions"])["conventions"]


def test_conventions():
    r = run(["-p", "alpha", "conventions", "set", "date_column", "day", "--why", "only date"])
    expect(r, 0, "conventions set", out="set date_column")
    r = run(["-p", "alpha", "conventions"])
    expect(r, 0, "conventions get", out=["date_column = day", "user", "only date"])
    c = conventions("alpha")
    check(c.get("date_column", {}).get("value") == "day", "json conventions %r" % c)
    r = run(["-p", "alpha", "conventions", "rm", "date_column"])
    expect(r, 0, "conventions rm", out="removed date_column")
    r = run(["-p", "alpha", "conventions", "rm", "date_column"])
    expect(r, 1, "conventions rm again", err="date_column")
    check("date_column" not in conventions("alpha"), "still there")


def test_project_choice():
    # the cwd's project folder (walking up from a subfolder)
    r = run(["conventions", "set", "unit", "EUR"], cwd=os.path.join(STATE["alpha"], "data"))
    expect(r, 0, "set from inside alpha/data")
    check(conventions("alpha").get("unit", {}).get("value") == "EUR", "cwd did not pick alpha")
    # $DAA_PROJECT wins over the cwd, -p over both; a path works as well as a name
    env = dict(ENV, DAA_PROJECT="beta")
    r = run(["conventions", "set", "unit", "USD"], env=env, cwd=STATE["alpha"])
    expect(r, 0, "set with DAA_PROJECT")
    check(conventions("beta").get("unit", {}).get("value") == "USD", "DAA_PROJECT ignored")
    r = run(["-p", STATE["beta"], "conventions", "set", "tz", "UTC"], env=env, cwd=STATE["alpha"])
    expect(r, 0, "set with -p PATH")
    check(conventions("beta").get("tz", {}).get("value") == "UTC", "-p PATH ignored")
    check("tz" not in conventions("alpha"), "-p PATH went to alpha")
    r = run(["-p", "./nosuchdir", "conventions"], cwd=WORK)
    expect(r, 1, "-p with a missing folder", err="nosuchdir")


def test_run():
    r = run(["-p", "alpha", "run", "print(6 * 7)"])
    expect(r, 0, "run", out="42")
    r = run(["-p", "alpha", "run", "x = dfs['orders']\nx.amount.sum()"])
    expect(r, 0, "run with a value", out=str(sum(i + 0.5 for i in range(1, 38))))
    r = run(["-p", "alpha", "run", "dfs['orders'].head(3)"])
    expect(r, 0, "run with a table", out=["DataFrame", "order_id", "amount", "2024-01-02"])
    lines = [l for l in r.out.splitlines() if "order_id" in l]
    check(lines and lines[0].split() == ["order_id", "day", "amount"], "header %r" % r.out)
    write(os.path.join(WORK, "step.py"), "import matplotlib.pyplot as plt\n"
          "plt.plot([1, 2, 3])\nprint('plotted')\n")
    r = run(["-p", "alpha", "run", "-f", "step.py"], cwd=WORK)
    expect(r, 0, "run -f", out=["plotted", "figure: " + STATE["alpha"] + "/outputs/plots/"])
    fig = re.search(r"figure: (\S+)", r.out).group(1)
    check(os.path.isfile(fig), "figure path %s" % fig)
    r = run(["-p", "alpha", "run", "-f", "-"], stdin="print('from stdin')\n")
    expect(r, 0, "run -f -", out="from stdin")
    r = run(["-p", "alpha", "run", "1/0"])
    expect(r, 1, "run failing", err=["Traceback", "ZeroDivisionError"])
    j = jrun(["-p", "alpha", "run", "1/0"], rc=1)
    check(j.get("ok") is False and j["error"]["type"] == "ZeroDivisionError", "json %r" % j)


def test_ask_question_then_answer():
    r = run(["-p", "alpha", "ask", "how many rows are there"])
    expect(r, 3, "ask with a question, no terminal", out=["? ", "1) ", "orders", "people"],
           err="daa answer")
    r = run(["-p", "alpha", "answer", "orders"])
    expect(r, 0, "answer", out="37")
    r = run(["-p", "alpha", "answer", "orders"])
    expect(r, 1, "answer without a question")
    j = jrun(["-p", "alpha", "ask", "how many rows are there"], rc=3)
    check(j["status"] == "question" and "people" in j["question"]["choices"], "json %r" % j)
    j = jrun(["-p", "alpha", "answer", "people"])
    check(j["status"] == "done" and "3" in j["answer"], "json answer %r" % j)


def test_ask_on_terminal():
    rc, out = pty_run(["-p", "alpha", "ask", "how many rows are there"], ENV, "1")
    if os.environ.get("DAA_SHOW_LOG"):
        sys.stdout.write(out)
    check(rc == 0, "interactive ask exit %s:\n%s" % (rc, out))
    check("1) " in out and "37" in out.replace(",", ""), "interactive ask output:\n" + out)


def test_chat_from_a_pipe():
    r = run(["-p", "alpha", "chat"], stdin="how many rows are there\norders\n\n"
            "how many rows are there\npeople\nquit\nhow many rows are there\n")
    expect(r, 0, "chat", out=["? ", "(the next line answers the question)", "37", "3."])
    check(r.out.count("? ") == 2 and "daa answer" not in r.err, "two questions: %r" % r)
    check(r.err.count("started: how many rows are there") == 2, "turns after quit? %r" % r)


def test_ctrl_c_interrupts_run():
    marker = os.path.join(STATE["alpha"], "outputs", "started")
    code = "import time\nopen('outputs/started', 'w').close()\ntime.sleep(60)\n"
    p = subprocess.Popen([DAA, "-p", "alpha", "run", code], env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(marker) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        check(os.path.exists(marker), "the code never started")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 1, "exit %s\n%s\n%s" % (p.returncode, out, err))
    check("kernel.interrupt sent" in err and "KeyboardInterrupt" in err, "stderr:\n" + err)
    r = run(["-p", "alpha", "run", "print('still alive')"])
    expect(r, 0, "kernel usable after the interrupt", out="still alive")


def test_rm_and_shutdown():
    r = run(["project", "info", "alpha"])
    expect(r, 0, "project info", out=["project alpha", "path:  " + STATE["alpha"], "orders", "people"])
    r = run(["data", "list"], cwd=STATE["alpha"])
    expect(r, 0, "data list (cwd project)", out=["orders", "csv", "people"])
    j = jrun(["-p", "alpha", "data", "list"])
    check(sorted(d["name"] for d in j["datasets"]) == ["orders", "people"], "data list %r" % j)
    r = run(["project", "rm", "beta"])
    expect(r, 0, "project rm", out=["removed project beta", "was kept"])
    check(os.path.isdir(STATE["beta"]), "a --dir project folder was deleted")
    r = run(["project", "rm", "nosuch"])
    expect(r, 1, "project rm nosuch")
    check("beta" not in [p["name"] for p in jrun(["project", "list"])["projects"]], "beta listed")
    r = run(["shutdown"])
    expect(r, 0, "shutdown", out="shutting down")
    deadline = time.monotonic() + 30
    while os.path.exists("/proc/%d" % STATE["pid"]) and time.monotonic() < deadline:
        try:
            if open("/proc/%d/stat" % STATE["pid"]).read().split(") ")[1][0] == "Z":
                break
        except OSError:
            break
        time.sleep(0.05)
    r = run(["--no-start", "ping"])
    expect(r, 4, "ping after shutdown", err="no daemon is listening")


def cleanup():
    pid = STATE.get("pid")
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    D.cleanup()


if __name__ == "__main__":
    failed = True
    try:
        run_tests([test_ping_autostarts, test_projects, test_add, test_conventions,
                   test_project_choice, test_run, test_ask_question_then_answer,
                   test_ask_on_terminal, test_chat_from_a_pipe, test_ctrl_c_interrupts_run, test_rm_and_shutdown])
    except SystemExit as e:
        failed = e.code != 0
        raise
    finally:
        log = os.path.join(os.path.dirname(SOCK), "daad.log")
        if (failed or os.environ.get("DAA_SHOW_LOG")) and os.path.exists(log):
            sys.stdout.write("---- daad log ----\n" + open(log).read() + "---- end ----\n")
        cleanup()
