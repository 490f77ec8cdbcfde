#!/usr/bin/python3
"""tests/cli/test_usage.py — the daa CLI without a daemon: help texts, usage
errors (exit 2 with a helpful message), --no-start (exit 4), and auto-start
failures told plainly (no daad found, not executable, exits during start-up
with its log, never opens the socket)."""
import os
import re
import shutil
import signal
import tempfile

from clilib import DAA, check, daa, expect, run_tests

TMP = tempfile.mkdtemp(prefix="daa-cli-test.")
SOCK = os.path.join(TMP, "run", "daa", "daad.sock")
ENV = {"HOME": TMP, "PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": os.path.join(TMP, "run"),
       "DAA_SOCKET": SOCK, "LANG": "C.UTF-8"}
COMMANDS = ["ping", "status", "doctor", "shutdown", "project new", "project list", "project rm",
            "project info", "data list",
            "add", "conventions", "ask", "answer", "chat", "run", "cancel", "watch", "kernel interrupt",
            "kernel restart"]


def env(**kw):
    e = dict(ENV)
    e.update(kw)
    return e


def test_help():
    r = daa(["--help"], ENV)
    expect(r, 0, "--help", out=["usage: daa", "exit codes"] + COMMANDS)
    r = daa(["help"], ENV)
    expect(r, 0, "help", out=COMMANDS)
    r = daa(["help", "ask"], ENV)
    expect(r, 0, "help ask", out=["usage: daa", "ask REQUEST", "exit status 3"])
    r = daa(["help", "project", "new"], ENV)
    expect(r, 0, "help project new", out=["project new NAME [--dir PATH]"])
    r = daa(["help", "kernel"], ENV)
    expect(r, 0, "help kernel (a family)", out=["kernel interrupt", "kernel restart"])
    r = daa(["run", "--help"], ENV)
    expect(r, 0, "run --help", out=["run CODE | -f FILE"])
    r = daa(["help", "nosuch"], ENV)
    expect(r, 2, "help nosuch", err="no command 'nosuch'")


def test_usage_errors():
    cases = [
        ([], None),
        (["nosuch"], "no command 'nosuch'"),
        (["project"], "'project' needs a subcommand"),
        (["project", "frob"], "no command 'project frob'"),
        (["project", "new"], "`project new` takes 1 argument, 0 given"),
        (["project", "new", "a", "b"], "takes 1 argument, 2 given"),
        (["ping", "extra"], "`ping` takes 0 arguments, 1 given"),
        (["add"], "takes at least 1 argument"),
        (["ask"], "`ask` takes 1 argument"),
        (["--frob", "ping"], "unknown option --frob"),
        (["ping", "--frob"], "unknown option --frob for `ping`"),
        (["-p"], "option -p needs a value"),
        (["ping", "--project"], "needs a value"),
        (["run"], "give the code as one argument or with -f FILE"),
        (["run", "print(1)", "-f", "x.py"], "not both"),
        (["run", "1", "--timeout", "soon"], "--timeout wants a whole number"),
        (["add", "a.csv", "b.csv", "--name", "x"], "--name can only be used with one file"),
        (["conventions", "frob"], "expected no arguments, `set KEY VALUE` or `rm KEY`"),
        (["conventions", "set", "k"], "expected no arguments"),
        (["conventions", "rm", "k", "--why", "w"], "--why goes with `set`"),
        (["project", "new", "x", "--dir"], "needs a value"),
    ]
    for args, msg in cases:
        r = daa(args, ENV)
        expect(r, 2, "daa %s" % " ".join(args), err=[msg] if msg else ["usage: daa"])
        check(r.out == "" or not args, "usage error printed on stdout: %r" % r)
    # usage errors never try to reach (or start) a daemon
    check(not os.path.exists(os.path.join(TMP, "run")), "a usage error touched the runtime dir")


def test_no_start():
    for args in (["--no-start", "ping"], ["ping", "--no-start"], ["--no-start", "status"],
                 ["--no-start", "--json", "project", "list"]):
        r = daa(args, ENV)
        expect(r, 4, "daa %s" % " ".join(args), err=["no daemon is listening on " + SOCK,
                                                      "--no-start"])
    r = daa(["shutdown"], ENV)  # never starts a daemon just to stop it
    expect(r, 4, "shutdown without a daemon", err="no daemon is listening")


def test_daemon_not_executable():
    r = daa(["ping"], env(DAA_DAEMON=os.path.join(TMP, "nosuch-daad")))
    expect(r, 4, "DAA_DAEMON missing", err="is not an executable file")


def test_no_daad_found():
    lone = os.path.join(TMP, "lonely")
    os.makedirs(lone)
    shutil.copy(DAA, os.path.join(lone, "daa"))  # no daad next to this copy, none on PATH
    r = daa(["ping"], ENV, exe=os.path.join(lone, "daa"))
    expect(r, 4, "no daad anywhere", err="no `daad` found")


def fake(name, body):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def test_daemon_exits_during_start():
    d = fake("bad-daad", 'echo "daad: config.json line 3: unknown key \\"llm_modle\\"" >&2\n'
                         'echo "args: $*" >&2\nexit 3\n')
    r = daa(["ping"], env(DAA_DAEMON=d))
    log = os.path.join(TMP, "run", "daa", "daad.log")
    expect(r, 4, "daemon exits 3", err=["exited with status 3 during start-up",
                                        "unknown key", "args: --socket %s --log-file %s" % (SOCK, log)])
    check(os.path.isfile(log) and (os.stat(log).st_mode & 0o777) == 0o600, "log file mode")
    check((os.stat(os.path.dirname(log)).st_mode & 0o777) == 0o700, "runtime dir mode")
    # a second failure shows only its own lines, not the first run's
    d2 = fake("bad-daad2", 'echo "second failure" >&2\nexit 5\n')
    r = daa(["ping"], env(DAA_DAEMON=d2))
    expect(r, 4, "daemon exits 5", err=["status 5", "second failure"])
    check("unknown key" not in r.err, "old log lines repeated: %r" % r)
    # a relative $DAA_SOCKET is made absolute (the daemon runs in /)
    r = daa(["ping"], env(DAA_DAEMON=d, DAA_SOCKET="rel/daad.sock"), cwd=TMP)
    expect(r, 4, "relative socket", err="--socket %s/rel/daad.sock --log-file" % TMP)


def test_unsafe_runtime_dir():
    d = fake("ok-daad", "exit 0\n")
    shared = os.path.join(TMP, "shared")
    os.makedirs(shared)
    os.chmod(shared, 0o777)  # anyone could plant a symlink as daad.log here
    r = daa(["ping"], env(DAA_DAEMON=d, DAA_SOCKET=os.path.join(shared, "daad.sock")))
    expect(r, 4, "world-writable socket dir", err="others cannot write to")
    check(not os.path.exists(os.path.join(shared, "daad.log")), "log created in an unsafe dir")
    os.chmod(shared, 0o700)
    os.symlink(os.path.join(TMP, "victim"), os.path.join(shared, "daad.log"))
    r = daa(["ping"], env(DAA_DAEMON=d, DAA_SOCKET=os.path.join(shared, "daad.sock")))
    expect(r, 4, "daad.log is a symlink", err="cannot open its log")
    check(not os.path.exists(os.path.join(TMP, "victim")), "followed the log symlink")


def test_daemon_never_listens():
    d = fake("mute-daad", "exec sleep 60\n")
    r = daa(["ping"], env(DAA_DAEMON=d), timeout=30)
    m = re.search(r"pid (\d+)", r.err)
    try:
        expect(r, 4, "daemon never listens", err=["did not open " + SOCK, "within 5 s"])
        check(m, "pid in message: %r" % r)
        # daad's start-up runs in a session of its own (a Ctrl-C for daa does not reach
        # it; the daemon it forks detaches itself, daemon/main.c)
        sid = int(open("/proc/%s/stat" % m.group(1)).read().rsplit(")", 1)[1].split()[3])
        check(sid != os.getsid(0), "daemon session %d (ours %d, its pid %s)"
              % (sid, os.getsid(0), m.group(1)))
    finally:
        if m:
            try:
                os.kill(int(m.group(1)), signal.SIGKILL)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    try:
        run_tests([test_help, test_usage_errors, test_no_start, test_daemon_not_executable,
                   test_no_daad_found, test_daemon_exits_during_start, test_unsafe_runtime_dir,
                   test_daemon_never_listens])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
