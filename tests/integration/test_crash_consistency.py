#!/usr/bin/python3
# daa-test-timeout: 1800   (tests/run_all.sh: 100 rounds under DAA_CHECK=1, ~4-8 s each)
"""Crash consistency through a real daemon (issue #14; DESIGN.md "A project
on disk": a daemon killed at any instant leaves every project readable and
consistent).

Each round starts one operation on a project holding examples/sales.csv and
some history — an `ask` turn with the builtin offline analyst, a `daa run`
drawing matplotlib figures, a `history.rerun`, a `data.add` of a few-MB CSV,
a `profile.run` — then, after a random delay (0-1.5 s), SIGKILLs either daad
or one of its kernels (a daa_kernel.py child of daad), restarts the daemon
when it was the victim, and checks the project folders:

- raw state, right after the kill (before the daemon touches anything):
  every *.json parses; every line of every *.jsonl parses (the last line of
  turns.jsonl / llm_log_*.jsonl may be torn — a SIGKILL can cut a multi-page
  write(2) and PROTOCOL.md says their readers skip such lines — it is then
  reported, and a torn line in the middle is a failure); no 0-byte file in
  outputs/plots/;
- after the daemon has worked on the project again (a `daa run "1+1"` that
  must answer 2 — PROTOCOL.md `run`: the first work tidies what a killed
  step left): no temp-named (.*) or 0-byte file in outputs/plots/, every
  figure there is <stem>_<K>.png of a saved step history/<stem>.py and is
  listed in that step's outputs by history.list, history.list names exactly
  the history/NNN_*.py files (numbers and names), history/ holds nothing
  else, and the JSON checks above hold again.

Before the rounds, two directed cases: a kernel killed between savefig and
the rename of a `daa run` figure, and one killed the same way while a
fresh kernel replays a saved step (history replay): the daemon, alive,
must remove the temp figure with the failed work.

Rounds: 8 (make test), 100 under DAA_CHECK=1 (make check), DAA_CRASH_ROUNDS
overrides; DAA_CRASH_SEED replays a run (the seed is printed first).  One
line per round: op, victim, delay, result.  Timeouts only guard hangs."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.dirname(__file__) + "/../.."),
                                "tests/lib"))
from daad import BUILD, ROOT, Client, Daad, RpcError, children  # noqa: E402

DAA = os.path.join(BUILD, "bin", "daa")
SALES = os.path.join(ROOT, "examples", "sales.csv")
CHECK = os.environ.get("DAA_CHECK") == "1"
ROUNDS = int(os.environ.get("DAA_CRASH_ROUNDS") or (100 if CHECK else 8))
SEED = int(os.environ.get("DAA_CRASH_SEED") or int(time.time() * 1000) % 1000000)
HANG = 180 if os.environ.get("DAA_VALGRIND") == "1" else 90
STEPS_MAX = 12      # a project with more steps is replaced (replays stay short)
TORN_OK = re.compile(r"^(turns\.jsonl(\.1)?|llm_log_[0-9-]+(\.[0-9-]+)?\.jsonl)$")

ASKS = ["plot revenue over time", "average revenue by region", "plot revenue by region",
        "how many rows are there", "total revenue by month"]
PLOT = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "import pandas as pd\n"
        "df = pd.read_csv(%r)\n"
        "for i in range(%d):\n"
        "    fig, ax = plt.subplots()\n"
        "    ax.plot(range(200), [(x * (i + 1)) %% 37 for x in range(200)])\n"
        "    ax.set_title('fig %%d' %% i)\n"
        "print('drew', %d, 'rows', len(df))\n")


class Fail(Exception):
    """An invariant broken (message says which)."""


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def kernels(daad_pid):
    return [p for p in children(daad_pid) if "daa_kernel.py" in cmdline(p)]


def running(pid):
    """pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def gone(pids, timeout=30):
    """Wait until none of pids runs (kernels die with the daemon: PDEATHSIG)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        alive = [p for p in pids if running(p)]
        if not alive:
            return []
        time.sleep(0.02)
    return alive


# -- checks on disk ------------------------------------------------------------
def check_json_files(proj, notes):
    """Every .json parses; every .jsonl line parses (a torn last line only
    where the readers are documented to skip it)."""
    for dirpath, dirs, files in os.walk(proj):
        rel_dir = os.path.relpath(dirpath, proj)
        if rel_dir == "data" or rel_dir.startswith("data/"):
            continue  # the user's datasets, copied as they are
        for f in files:
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, proj)
            if f.endswith(".json"):
                try:
                    with open(p, "rb") as fh:
                        json.loads(fh.read().decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as e:
                    raise Fail("%s does not parse: %s" % (rel, e))
            elif f.endswith(".jsonl") or f == "turns.jsonl.1":
                with open(p, "rb") as fh:
                    data = fh.read()
                lines = data.split(b"\n")
                last = lines.pop()  # b"" when the file ends with a newline
                for i, line in enumerate(lines, 1):
                    try:
                        json.loads(line.decode("utf-8"))
                    except (ValueError, UnicodeDecodeError) as e:
                        raise Fail("%s line %d does not parse (%s): %r" % (rel, i, e, line[:200]))
                if last:
                    if not TORN_OK.match(f):
                        raise Fail("%s ends with a torn line %r" % (rel, last[:200]))
                    notes.append("torn last line in %s (readers skip it)" % rel)


def plot_files(proj):
    d = os.path.join(proj, "outputs", "plots")
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return []
    return [n for n in names if not os.path.isdir(os.path.join(d, n))]


def check_no_empty_figures(proj, raw=False):
    """No 0-byte figure.  raw: the state a crash left, before a daemon
    opened the project: a kernel killed inside savefig leaves its hidden
    .<name>.tmp (maybe empty), which the next daemon removes when it opens
    the project (check_tidy then refuses any left)."""
    for n in plot_files(proj):
        if raw and n.startswith(".") and n.endswith(".tmp"):
            continue
        if os.path.getsize(os.path.join(proj, "outputs", "plots", n)) == 0:
            raise Fail("0-byte file outputs/plots/%s" % n)


def check_tidy(proj, listed):
    """outputs/plots and history/ against history.list (after the daemon worked)."""
    check_no_empty_figures(proj)
    hist = sorted(os.listdir(os.path.join(proj, "history")))
    steps = [h for h in hist if re.match(r"^[0-9]{3,}_.*\.py$", h)]
    stray = [h for h in hist if h not in steps]
    if stray:
        raise Fail("files other than steps in history/: %s" % stray)
    got = [(s["n"], s["file"]) for s in listed["steps"]]
    want = [(int(h.split("_", 1)[0]), "history/" + h) for h in steps]
    if got != sorted(want):
        raise Fail("history.list %s != history/ files %s" % (got, sorted(want)))
    stems = {h[:-3] for h in steps}
    outputs = {o for s in listed["steps"] for o in s["outputs"]}
    for n in plot_files(proj):
        if n.startswith(".") or ".tmp" in n:
            raise Fail("temp file left in outputs/plots: %s" % n)
        m = re.match(r"^(.*)_([0-9]+)\.png$", n)
        if not m or m.group(1) not in stems:
            raise Fail("outputs/plots/%s belongs to no saved step (steps: %s)"
                       % (n, sorted(stems)))
        if "outputs/plots/" + n not in outputs:
            raise Fail("outputs/plots/%s is not listed by history.list" % n)


# -- the crash rounds ------------------------------------------------------------
# a step that stops between savefig and the rename to the final name (the
# runtime's daakernel/figures.py writes .<name>.tmp, then os.replace)
HOLD_SAVE = ("import os, sys, time\n"
             "import matplotlib.pyplot as plt\n"
             "_figs = sys.modules['daakernel.figures']\n"
             "class _Os:\n"
             "    def __getattr__(self, n):\n"
             "        return getattr(os, n)\n"
             "    def replace(self, a, b):\n"
             "        time.sleep(600)\n"
             "_figs.os = _Os()\n"
             "plt.plot([1, 2, 3])\n")
# the same only when outputs/hold exists (made after the step was saved)
HOLD_IF_MARKED = ("import os, sys, time\n"
                  "import matplotlib.pyplot as plt\n"
                  "class _Os:\n"
                  "    def __getattr__(self, n):\n"
                  "        return getattr(os, n)\n"
                  "    def replace(self, a, b):\n"
                  "        time.sleep(600)\n"
                  "if os.path.exists('outputs/hold'):\n"
                  "    sys.modules['daakernel.figures'].os = _Os()\n"
                  "plt.plot([1, 2, 3])\n")


class Rig:
    def __init__(self, d, work, rng):
        self.d, self.work, self.rng = d, work, rng
        self.project, self.nproj, self.restarts = None, 0, 0
        self.cur = ("setup", "-", 0.0)
        self.bigs = []
        for name, mb in (("big", 3), ("bigger", 9)):  # 9 MiB: copied by a child of daad
            p = os.path.join(work, name + ".csv")
            with open(p, "w") as f:
                f.write("id,region,revenue,date\n")
                i = 0
                while f.tell() < mb << 20:
                    f.write("".join("%d,r%d,%d.%02d,2024-%02d-%02d\n"
                                    % (j, j % 7, j * 13 % 9973, j % 100, j % 12 + 1, j % 28 + 1)
                                    for j in range(i, i + 5000)))
                    i += 5000
            self.bigs.append(p)

    def env(self):
        return dict(self.d.env)

    def daa(self, *args, timeout=HANG):
        return subprocess.run([DAA, "--no-start"] + list(args), env=self.env(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout)

    def path(self, name=None):
        return os.path.join(self.d.projects, name or self.project)

    def steps(self):
        return self.d.call("history.list", {"project": self.project})["steps"]

    def fresh_project(self):
        """A new project holding sales.csv and one or two steps."""
        old = self.project
        self.nproj += 1
        self.project = "crash%d" % self.nproj
        self.d.call("project.create", {"name": self.project})
        self.d.call("data.add", {"project": self.project, "path": SALES})
        for k in range(self.rng.randint(1, 2)):
            p = self.daa("--json", "-p", self.project, "run", PLOT % ("data/sales.csv", 1, 1))
            r = json.loads(p.stdout) if p.stdout.strip() else None
            if not r or not r.get("ok") or not r.get("step"):
                raise Fail("seeding history failed: %s %s" % (p.stdout[-800:], p.stderr[-800:]))
        if old:
            try:
                self.d.call("project.delete", {"project": old})
            except RpcError:
                pass  # busy (a background profile): it stays, still checked

    def start_op(self, op):
        """Start op without waiting; returns a finish() giving its outcome."""
        proj = self.project
        if op == "run":
            n = self.rng.randint(2, 8)
            code = PLOT % ("data/sales.csv", n, n)
            p = subprocess.Popen([DAA, "--no-start", "--json", "-p", proj, "run", code],
                                 env=self.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, errors="replace")

            def finish():
                try:
                    p.communicate(timeout=HANG)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.communicate()
                    raise Fail("daa run did not end within %d s (hang)" % HANG)
                return "exit %d" % p.returncode
            return finish
        c = Client(self.d.sock, timeout=HANG)
        if op == "ask":
            mid = c.send("ask", {"project": proj, "request": self.rng.choice(ASKS)})
        elif op == "rerun":
            n = len(self.steps())
            mid = c.send("history.rerun", {"project": proj, "step": self.rng.randint(1, max(1, n))})
        elif op == "data.add":
            src = self.rng.choice(self.bigs)
            mid = c.send("data.add", {"project": proj, "path": src, "name": "big",
                                      "overwrite": True})
        else:
            mid = c.send("profile.run", {"project": proj, "dataset": "sales", "refresh": True})

        def finish():
            try:
                resp = c.wait(mid)
                if op == "ask" and resp[2] is None and resp[3].get("status") == "question":
                    # the analyst asked: cancel, so the turn does not hold the project
                    c.wait(c.send("cancel", {"project": proj}))
                    return "question (cancelled)"
                if resp[2] is not None:
                    return "error %s" % (resp[2].get("message", "")[:60].replace("\n", " "))
                return "ok"
            except TimeoutError:  # socket.timeout: the daemon never answered
                raise Fail("no answer to %s within %d s (hang)" % (op, HANG))
            except (ConnectionError, OSError) as e:
                return "connection lost (%s)" % type(e).__name__
            finally:
                c.close()
        return finish

    def directed(self):
        """A kernel killed while a figure's temp file is on disk: the daemon
        (alive) must remove it with the failed step."""
        self.fresh_project()
        tmp = self.kill_while_saving("directed", HOLD_SAVE)
        print("directed: kernel killed between savefig and rename (%s) -> ok" % tmp)

    def directed_replay(self):
        """The same while a fresh kernel replays history: a saved step whose
        figure is held when outputs/hold exists (it did not when the step
        ran) is replayed for a `daa run` after a kernel restart; the hold is
        taken away and the kernels killed while its temp file is on disk.
        The daemon must remove the replayed step's temp figure too (make
        check once found .002_run_1.png.tmp left by a replay killed
        mid-save).  The run itself may fail or, on a fresh kernel that
        replays again, succeed."""
        self.fresh_project()
        p = self.daa("--json", "-p", self.project, "run", HOLD_IF_MARKED)
        if p.returncode != 0:
            raise Fail("directed replay: the step to replay failed: %s %s"
                       % (p.stdout[-500:], p.stderr[-500:]))
        stem = os.path.basename(self.steps()[-1]["file"])[:-3]
        hold = os.path.join(self.path(), "outputs", "hold")
        open(hold, "w").close()
        p = self.daa("-p", self.project, "kernel", "restart")
        if p.returncode != 0:
            os.unlink(hold)
            raise Fail("directed replay: kernel restart: %s" % p.stderr[-500:])
        tmp = self.kill_while_saving("directed replay", "1 + 1", ".%s_1.png.tmp" % stem,
                                     lambda: os.unlink(hold), must_fail=False)
        print("directed replay: kernel killed while a replayed step saved a figure (%s) -> ok"
              % tmp)

    def kill_while_saving(self, what, code, tmp=None, before_kill=None, must_fail=True):
        """`daa run code`; once a figure's temp file (named tmp, or any) is
        in outputs/plots, before_kill() and SIGKILL the kernels; the run
        must fail (must_fail), the temp file be gone and the project tidy.
        The temp file's name."""
        plots = os.path.join(self.path(), "outputs", "plots")
        p = subprocess.Popen([DAA, "--no-start", "--json", "-p", self.project, "run", code],
                             env=self.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, errors="replace")
        end = time.monotonic() + HANG
        while not [n for n in os.listdir(plots) if n == tmp or (not tmp and n.endswith(".tmp"))]:
            if p.poll() is not None or time.monotonic() > end:
                p.kill()
                raise Fail("%s: no figure temp file %s appeared (did daakernel/figures.py "
                           "change?): %s" % (what, tmp or "", p.communicate()[0][-500:]))
            time.sleep(0.02)
        seen = tmp or [n for n in os.listdir(plots) if n.endswith(".tmp")][0]
        if before_kill:
            before_kill()
        k = kernels(self.d.proc.pid)
        for pid in k:
            os.kill(pid, signal.SIGKILL)
        out, _ = p.communicate(timeout=HANG)
        while any(pid in children(self.d.proc.pid) for pid in k):
            time.sleep(0.01)
        if must_fail and p.returncode == 0:
            raise Fail("%s: the run whose kernel was killed succeeded: %s" % (what, out[-500:]))
        left = [n for n in os.listdir(plots) if n.endswith(".tmp")]
        if left:
            raise Fail("%s: the killed kernel's temp figure %s is still in outputs/plots"
                       % (what, left))
        listed = self.d.call("history.list", {"project": self.project})
        check_tidy(self.path(), listed)
        return seen

    def one_round(self, i):
        rng = self.rng
        if self.project is None or len(self.steps()) >= STEPS_MAX or rng.random() < 0.05:
            self.fresh_project()
        op = rng.choice(["ask", "run", "rerun", "data.add", "profile"])
        victim = rng.choice(["daad", "kernel"])
        delay = round(rng.uniform(0, 1.5), 3)
        notes = []
        self.cur = (op, victim, delay)
        finish = self.start_op(op)
        time.sleep(delay)
        pid = self.d.proc.pid
        ks = kernels(pid)
        if victim == "kernel" and ks:
            k = rng.choice(ks)
            os.kill(k, signal.SIGKILL)
            victim = "kernel(%d of %d)" % (ks.index(k) + 1, len(ks))
            self.cur = (op, victim, delay)
            outcome = finish()
            # daad has seen the death once it reaped its child (else a run sent
            # now races the SIGKILL and is rightly told the kernel died under it)
            end = time.monotonic() + HANG
            while k in children(pid) and time.monotonic() < end:
                time.sleep(0.01)
            if k in children(pid):
                raise Fail("daad did not reap its killed kernel %d" % k)
            if self.d.proc.poll() is not None:
                raise Fail("daad exited (%s) after its kernel was killed" % self.d.proc.returncode)
        else:
            if victim == "kernel":
                victim = "daad (no kernel)"
            self.cur = (op, victim, delay)
            os.kill(pid, signal.SIGKILL)
            self.d.proc.wait()
            self.d.log.close()
            left = gone(ks)
            if left:
                raise Fail("kernels %s outlived the daemon" % left)
            outcome = finish()
        # raw state: what the crash left, before the daemon touches it
        names = os.listdir(self.d.projects)
        for name in names:
            if not name.startswith("."):
                check_json_files(self.path(name), notes)
                check_no_empty_figures(self.path(name), raw=True)
        if self.d.proc.poll() is not None:
            self.d.start()
            self.restarts += 1
        # the daemon works on the project again: a fresh run must answer
        p = self.daa("--json", "-p", self.project, "run", "1+1")
        r = json.loads(p.stdout) if p.stdout.strip() else None
        if not r or not r.get("ok") or "2" not in json.dumps(r.get("result")):
            raise Fail("daa run 1+1 after the crash: rc %d %s %s" % (p.returncode, p.stdout[:500],
                                                                    p.stderr[:500]))
        listed = self.d.call("history.list", {"project": self.project})
        check_json_files(self.path(), notes)
        check_tidy(self.path(), listed)
        print("round %d: op=%s victim=%s delay=%.3f op-result=%s -> ok%s"
              % (i, op, victim.strip(), delay, outcome, ("  [" + "; ".join(notes) + "]") if notes else ""))
        sys.stdout.flush()


def main():
    for p in (DAA, os.path.join(BUILD, "bin", "daad")):
        if not os.access(p, os.X_OK):
            print("skip: %s not built" % p)
            sys.exit(77)
    if os.environ.get("DAA_VALGRIND") == "1":
        # a daad under valgrind starts no kernel (the sandbox's mount namespace
        # and rlimits fail under it, even with allow_missing_layers); the
        # SAN=1 run of `make check` covers this test
        print("skip: kernels cannot start under valgrind (DAA_VALGRIND=1)")
        sys.exit(77)
    print("seed %d, %d rounds (DAA_CRASH_SEED=%d DAA_CRASH_ROUNDS=%d to replay)"
          % (SEED, ROUNDS, SEED, ROUNDS))
    sys.stdout.flush()
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="daa-crash.")
    failed = 0
    try:
        with Daad(config={"kernel": {"warm_spare": True}}) as d:   # kernels killed include the spare
            rig = Rig(d, work, rng)
            for directed in (rig.directed, rig.directed_replay):
                try:
                    directed()
                except Fail as e:
                    failed += 1
                    print("%s: FAIL: %s" % (directed.__name__, e))
            rig.project = None
            for i in range(1, ROUNDS + 1):
                rig.cur = ("setup", "-", 0.0)
                try:
                    rig.one_round(i)
                except Fail as e:
                    failed += 1
                    print("round %d: op=%s victim=%s delay=%.3f -> FAIL (seed %d): %s"
                          % ((i,) + rig.cur + (SEED, e)))
                    sys.stdout.flush()
                    if d.proc.poll() is not None:
                        d.start()
                    rig.project = None  # go on with a fresh project
            log = d.log_text()
            for bad in ("ERROR: AddressSanitizer", "runtime error:"):
                if bad in log:  # also from a daemon killed later (SAN=1 builds)
                    i = log.index(bad)
                    print(log[max(0, i - 1000):i + 4000])
                    print("FAIL: the sanitizers reported an error in daad (above)")
                    failed += 1
            print("%d rounds, %d failed, %d daemon restarts (seed %d)"
                  % (ROUNDS, failed, rig.restarts, SEED))
            if failed:
                d.show_log() if os.environ.get("DAA_CRASH_LOG") else None
    finally:
        subprocess.run(["rm", "-rf", work])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
