"""tests/sandbox/attacklib.py — the attack suite's runner.

Each attack is a snippet run through the real `daa run` against a real
private daad, with an expected verdict:
  blocked    every probe in the snippet prints BLOCKED (none prints ESCAPED)
  contained  the step may fail or kill its kernel, but nothing prints ESCAPED
  ok         the step succeeds (positive suite)
and an optional side-effect check (a function returning an error or None).
After each attack: the daemon answers, data/ is byte-identical and
mode-identical (the folder and every file in it), and a normal step (1 + 1)
works.  Snippets may use @HOME@ (the daemon's $HOME, holding a
fake ~/.ssh secret), @DAEMON_PID@, @PORT@ (a live TCP listener), @UDP@,
@SOCK@ (the daemon's socket), @PROJECT@, @OTHER@ (another project).
"""
import os
import socket
import stat
import sys
import time
from collections import namedtuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernel"))
from kcli import Session, data_digest, skip_unless_built  # noqa: E402,F401

Attack = namedtuple("Attack", "name code expect check known timeout", defaults=(None, None, None))
# timeout: this step's time limit in seconds (`daa run --timeout`), for
# an attack that is stopped by it anyway (a loop, a bomb that grows slower
# than the limit); None: the configured kernel.step_timeout_s.
# known: a weakness found by this suite in another part, not fixed yet (the
# text says which part must fix it).  It is printed as KNOWN-WEAKNESS and does
# not fail the suite, unless DAA_STRICT_ATTACKS=1.  An attack marked known
# that passes is reported so the mark gets removed.

PRELUDE = '''
def probe(label, fn):
    try:
        r = fn()
    except BaseException as e:
        print("BLOCKED", label, type(e).__name__, str(e)[:100])
        return
    if r is False:
        print("BLOCKED", label, "(refused)")
    else:
        print("ESCAPED", label, repr(r)[:100])
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
def sysc(nr, *args):
    r = _libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    return False if r == -1 else r
'''

SECRET = "sk-test-secret-attack"
SSH_SECRET = "-----BEGIN FAKE PRIVATE KEY----- attack-suite"

# Limits small enough that resource attacks end quickly.
CONFIG = {"kernel": {"step_timeout_s": 8, "mem_mb": 2048, "fsize_mb": 64, "nofile": 512}}


class Ctx:
    """Listeners and paths the snippets refer to."""

    def __init__(self, s):
        self.s = s
        home = s.d.home
        os.makedirs(os.path.join(home, ".ssh"), exist_ok=True)
        with open(os.path.join(home, ".ssh", "id_rsa"), "w") as f:
            f.write(SSH_SECRET)
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.setblocking(False)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        s.daa("project", "new", "other")
        self.other = os.path.join(s.d.projects, "other")
        os.makedirs(os.path.join(self.other, "data"), exist_ok=True)
        with open(os.path.join(self.other, "data", "private.csv"), "w") as f:
            f.write("a\n1\n")
        self.vars = {"@HOME@": home, "@DAEMON_PID@": str(s.d.proc.pid),
                     "@PORT@": str(self.tcp.getsockname()[1]),
                     "@UDP@": str(self.udp.getsockname()[1]), "@SOCK@": s.d.sock,
                     "@PROJECT@": s.path, "@OTHER@": self.other}

    def fill(self, code):
        for k, v in self.vars.items():
            code = code.replace(k, v)
        return code

    def tcp_accepted(self):
        try:
            c, _ = self.tcp.accept()
            c.close()
            return True
        except BlockingIOError:
            return False

    def udp_received(self):
        try:
            self.udp.recv(100)
            return True
        except BlockingIOError:
            return False

    def close(self):
        self.tcp.close()
        self.udp.close()


def judge(a, r, p):
    """None when the reply matches the expected verdict, else why not."""
    text = (r or {}).get("stdout", "") if r else p.stdout
    if "ESCAPED" in text:
        return "escaped: " + " | ".join(l for l in text.splitlines() if "ESCAPED" in l)[:400]
    if a.expect == "blocked":
        if not r or not r.get("ok") or "BLOCKED" not in text:
            return "expected BLOCKED lines, got: %s %s" % ((r or {}).get("error"), p.stderr[-300:])
    elif a.expect == "ok":
        if not r or not r.get("ok"):
            return "expected success, got: %s" % ((r or {}).get("error") or p.stderr[-400:])
    elif a.expect != "contained":
        return "unknown verdict %s" % a.expect
    return None


def data_modes(path):
    """{relative path: permission bits} of data/ itself and everything in it."""
    base = os.path.join(path, "data")
    out = {".": stat.S_IMODE(os.lstat(base).st_mode)}
    for dirpath, dirs, files in os.walk(base):
        for f in dirs + files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, base)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def restore_modes(path, modes):
    """Put the modes back (so one failed attack does not fail the next ones)."""
    base = os.path.join(path, "data")
    for rel, m in modes.items():
        try:
            os.chmod(os.path.join(base, rel), m)
        except OSError:
            pass


def after_checks(s, digest, modes=None):
    """The daemon answers, data/ is untouched (bytes and modes), a normal step works."""
    if not s.alive():
        return "the daemon does not answer"
    if modes is not None and data_modes(s.path) != modes:
        now = data_modes(s.path)
        restore_modes(s.path, modes)
        return "data/ modes changed: %s" % ", ".join(
            "%s %o->%o" % (k, modes[k], now.get(k, 0)) for k in modes if now.get(k) != modes[k])
    if data_digest(s.path) != digest:
        return "data/ changed"
    r, p = s.run_json("1 + 1", timeout=120)
    if not r or not r.get("result") or r["result"].get("repr") != "2":
        return "a normal step failed afterwards: %s %s" % (p.stdout[-300:], p.stderr[-300:])
    return None


def run_attacks(s, ctx, attacks, failed):
    """Run each attack, judge it and check what it must not have changed."""
    digest = data_digest(s.path)
    modes = data_modes(s.path)
    other = data_digest(ctx.other)
    other_modes = data_modes(ctx.other)
    for a in attacks:
        ta = time.monotonic()
        limit = ("--timeout", str(a.timeout)) if a.timeout else ()
        r, p = s.run_json(ctx.fill(PRELUDE + a.code), *limit, timeout=180)
        why = judge(a, r, p)
        if why is None and a.check:
            why = a.check(s, ctx, r)
        if why is None:
            why = after_checks(s, digest, modes)
        if why is None and (data_digest(ctx.other) != other or
                            data_modes(ctx.other) != other_modes):
            why = "the other project's data/ changed"
        if why is None and SECRET in (p.stdout + p.stderr):
            why = "the daemon's API key reached the output"
        if why and a.known and os.environ.get("DAA_STRICT_ATTACKS") != "1":
            print("KNOWN-WEAKNESS %s: %s [%s]" % (a.name, why, a.known))
        else:
            print("%s %s (%.1f s): %s%s" % ("ok  " if why is None else "FAIL", a.name,
                                   time.monotonic() - ta, why or a.expect,
                                   " (marked known: remove the mark)" if a.known and
                                   not why else ""))
            if why:
                failed.append(a.name)
        sys.stdout.flush()


def run_suite(title, attacks, config=CONFIG, setup=None):
    """Run every attack of a group; exit status for the test runner.
    setup(ctx), when given, may add @VARS@ to ctx.vars (host objects the
    attacks aim at) and returns a function run at the end (or None)."""
    skip_unless_built()
    # The daemon's umask decides whether group write counts as an ordinary
    # mode for chmod (sandbox/README.md); the verdicts assume the usual one.
    os.umask(0o022)
    failed = []
    t0 = time.monotonic()
    with Session(config=config, extra_env={"OPENAI_API_KEY": SECRET}) as s:
        ctx = Ctx(s)
        teardown = setup(ctx) if setup else None
        try:
            run_attacks(s, ctx, attacks, failed)
        finally:
            ctx.close()
            if teardown:
                teardown()
    print("%s: %d attacks, %d failed (%.0f s)" % (title, len(attacks), len(failed),
                                                  time.monotonic() - t0))
    return 1 if failed else 0
