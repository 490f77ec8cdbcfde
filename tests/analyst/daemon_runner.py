#!/usr/bin/python3
"""tests/analyst/daemon_runner.py — the corpus through a REAL private daemon:
daad with the builtin backend (no LLM configured), the agent turn, the
sandboxed kernels, driven over the msgpack-RPC socket exactly as `daa ask` /
`daa answer` drive it (tests/lib/daad.py starts the daemon in temp dirs).

One project per set of datasets (created, filled with data.add, deleted
after its cases so only one kernel lives at a time).  Before each case the
conventions the user or the agent set are removed (inferred ones stay), the
case's conventions are set, its digest requests are asked first (a real
earlier turn), then the request; questions are answered from the case's
answers, and a question left unanswered is cancelled.  Conventions stored
during the turn (by the analyst's remember_convention or by the daemon from
an answer) come from the `convention` events.

Usage: daemon_runner.py [--cli] [--all] [--only ID,...] [-v]
  --cli: through the `daa` command line (daa --json ask / answer / cancel /
  conventions / project new / add) instead of msgpack-RPC calls
  default: DEFAULT below (answers, questions, conventions, follow-ups,
  refusals, plots: 16 cases, four projects); --all: the whole corpus.
"""
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402

sys.path.insert(0, os.path.join(corpus.ROOT, "tests", "lib"))


class DaemonRunner:
    """Runs cases against a private daad (see the file comment)."""

    def __init__(self, paths):
        from daad import Daad
        self.paths = paths
        self.d = Daad(config={"kernel": {"warm_spare": True}})   # as in production
        self.d.start()
        self.c = self.d.client(timeout=180)
        self.project = None
        self.key = None

    def describe(self):
        """What this runner drives."""
        return "a private daad (builtin backend, sandboxed kernels) over msgpack-RPC"

    def close(self, failed=False):
        """Stops the daemon (its log is shown when something failed)."""
        try:
            self.c.close()
        finally:
            if failed:
                self.d.show_log()
            self.d.stop()
            self.d.cleanup()

    def _use(self, names):
        """The project holding exactly these datasets (the previous one is deleted)."""
        key = tuple(names)
        if key == self.key:
            return
        if self.project:
            self.c.call("project.delete", {"project": self.project})
        self.project = "p" + str(abs(hash(key)) % 10 ** 8)
        self.c.call("project.create", {"name": self.project})
        for n in names:
            self.c.call("data.add", {"project": self.project, "path": self.paths[n], "name": n})
        self.key = key

    def _reset_conventions(self, case):
        """Only the inferred conventions stay; then the case's own are set."""
        conv = self.c.call("conventions.get", {"project": self.project})["conventions"]
        for k, v in conv.items():
            if isinstance(v, dict) and v.get("source") in ("user", "agent"):
                self.c.call("conventions.rm", {"project": self.project, "key": k})
        for k, v in (case.get("conventions") or {}).items():
            self.c.call("conventions.set", {"project": self.project, "key": k, "value": v, "source": "user"})

    def _ask(self, request):
        """One non-interactive ask: its TURN RESULT."""
        return self.c.call("ask", {"project": self.project, "request": request})

    def run(self, case):
        """Runs one case; returns a corpus.Result."""
        self._use(case["datasets"])
        self._reset_conventions(case)
        for e in case.get("digest") or []:
            r = self._ask(e["request"])
            if r.get("status") == "question":
                self.c.call("cancel", {"project": self.project})
        self.c.notifications.clear()
        res = self._ask(case["request"])
        asked, answers = [], list(case.get("answers") or [])
        while res.get("status") == "question":
            q = res.get("question") or {}
            asked.append({"question": q.get("text"), "choices": q.get("choices") or []})
            if not answers:
                self.c.call("cancel", {"project": self.project})
                break
            res = self.c.call("answer", {"project": self.project, "text": answers.pop(0)})
        remembered = []
        for msg in self.c.notifications:
            p = msg[2][0] if isinstance(msg[2], list) and msg[2] else msg[2]
            if msg[1] == "turn.event" and isinstance(p, dict) and p.get("kind") == "convention" \
                    and p.get("source") in ("agent", "user"):
                remembered.append({"key": p.get("key"), "value": p.get("value")})
        base = res.get("project_path") or ""
        status = res.get("status")
        return corpus.Result(status, res.get("answer") if status != "question" else None,
                             [s.get("code") or "" for s in res.get("steps") or []],
                             [os.path.join(base, f) for f in res.get("figures") or []], asked, remembered)


DEFAULT = ["sum-revenue", "mean-by-region", "filter-west-2023", "time-month", "bar-region", "heatmap",
           "ttest-north-south", "nonsense", "no-profit", "followup-year", "followup-fragment",
           "dup-answer", "dup-convention", "twodates-answer", "twodates-convention", "multi-answer",
           # issue 15, one per class, on real public data: levels, numeric years, dropped words,
           # codes and 0/1, mixed dates, truncation, refusals
           "real-lv-co2-plot", "real-lv-macro-cpi-year", "real-yr-macro-cpi-1990", "real-yr-grunfeld-plot-firm",
           "real-dr-macro-decade", "real-dr-statecrime-region", "real-cd-anes-vote-rate",
           "real-dt-messy-dayfirst", "real-tr-statecrime-bar", "real-rf-macro-nonsense", "real-rf-people-groesse",
           "real-mp-iris-mean-std-outliers", "real-cd-anes-ttest",
           # a column note kept as a convention, and the refusal that says how to write one
           "a7-note-column-means", "a7-note-teach-refusal"]


class CliRunner(DaemonRunner):
    """The same, but through the `daa` command line (build/bin/daa --json ...):
    ask / answer / cancel / conventions / project / add, as a user would.
    Conventions stored during a turn are read by comparing conventions before
    and after it (the CLI prints no events in --json mode)."""

    def __init__(self, paths):
        super().__init__(paths)
        build = os.environ.get("DAA_BUILD") or os.path.join(corpus.ROOT, "build")
        self.daa = os.path.join(build, "bin", "daa")

    def describe(self):
        """What this runner drives."""
        return "the daa CLI (--json) against a private daad (builtin backend, sandboxed kernels)"

    def cli(self, *args, ok=(0,)):
        """Runs daa with the daemon's environment; its JSON output (or None)."""
        import subprocess
        p = subprocess.run([self.daa, "--no-start"] + list(args), env=self.d.env, capture_output=True,
                           timeout=300, stdin=subprocess.DEVNULL)
        if p.returncode not in ok:
            raise RuntimeError(f"daa {' '.join(args)} exited {p.returncode}: {p.stderr.decode()[-800:]}")
        try:
            return json.loads(p.stdout)
        except ValueError:
            return None

    def _use(self, names):
        """The project holding exactly these datasets (made with daa project new / daa add)."""
        key = tuple(names)
        if key == self.key:
            return
        if self.project:
            self.cli("--json", "project", "rm", self.project)
        self.project = "p" + str(abs(hash(key)) % 10 ** 8)
        self.cli("--json", "project", "new", self.project)
        for n in names:
            added = self.cli("-p", self.project, "--json", "add", self.paths[n])
            assert added["name"] == n, added
        self.key = key

    def _conventions(self):
        """The project's conventions set by the user or the agent: {key: value}."""
        conv = self.cli("-p", self.project, "--json", "conventions")["conventions"]
        return {k: v.get("value") for k, v in conv.items() if isinstance(v, dict) and v.get("source") in ("user", "agent")}

    def run(self, case):
        """Runs one case with daa ask / daa answer; returns a corpus.Result."""
        self._use(case["datasets"])
        for k in self._conventions():
            self.cli("-p", self.project, "conventions", "rm", k)
        for k, v in (case.get("conventions") or {}).items():
            self.cli("-p", self.project, "conventions", "set", k, v)
        for e in case.get("digest") or []:
            if self.cli("-p", self.project, "--json", "ask", e["request"], ok=(0, 3))["status"] == "question":
                self.cli("-p", self.project, "cancel")
        before = self._conventions()
        res = self.cli("-p", self.project, "--json", "ask", case["request"], ok=(0, 1, 3))
        asked, answers = [], list(case.get("answers") or [])
        while res.get("status") == "question":
            q = res.get("question") or {}
            asked.append({"question": q.get("text"), "choices": q.get("choices") or []})
            if not answers:
                self.cli("-p", self.project, "cancel")
                break
            res = self.cli("-p", self.project, "--json", "answer", answers.pop(0), ok=(0, 1, 3))
        after = self._conventions()
        remembered = [{"key": k, "value": v} for k, v in after.items() if before.get(k) != v]
        base, status = res.get("project_path") or "", res.get("status")
        return corpus.Result(status, res.get("answer") if status != "question" else None,
                             [st.get("code") or "" for st in res.get("steps") or []],
                             [os.path.join(base, f) for f in res.get("figures") or []], asked, remembered)


def pick(cases, everything):
    """The cases run by default (DEFAULT: every kind of check, four projects) or all."""
    return cases if everything else [c for c in cases if c["id"] in DEFAULT]


def main(argv):
    """Runs the cases grouped by dataset set; exit 0 when all pass."""
    if not os.path.exists(os.path.join(os.environ.get("DAA_BUILD") or os.path.join(corpus.ROOT, "build"), "bin", "daad")):
        print("skip: build/bin/daad is not built (run make)")
        return 77
    with open(os.path.join(HERE, "corpus.json"), encoding="utf-8") as f:
        cps = json.load(f)
    cases = pick(cps["cases"], "--all" in argv)
    if "--only" in argv:
        only = set(argv[argv.index("--only") + 1].split(","))
        cases = [c for c in cps["cases"] if c["id"] in only]
    order = {}
    for c in cases:
        order.setdefault(tuple(c["datasets"]), []).append(c)
    fails, t0, n = 0, time.perf_counter(), 0
    with tempfile.TemporaryDirectory(prefix="daa-analyst-d-") as work:
        paths = corpus.dataset_paths(cps, work)
        env = corpus.expected_env(paths)
        present = corpus.runnable(cases, paths)[0]
        if len(present) < len(cases):
            print(f"skip: {len(cases) - len(present)} cases need real datasets that are not installed")
        order = {}
        for c in present:
            order.setdefault(tuple(c["datasets"]), []).append(c)
        runner = CliRunner(paths) if "--cli" in argv else DaemonRunner(paths)
        print(runner.describe())
        try:
            for group in order.values():
                for case in group:
                    n += 1
                    try:
                        r = runner.run(case)
                        bad = corpus.check(case, r, env)
                    except Exception as e:
                        r, bad = None, [f"{type(e).__name__}: {e}"]
                    if bad:
                        fails += 1
                        print(f"FAIL {case['id']}: {case['request']!r}")
                        for b in bad:
                            print("     " + b)
                        if r is not None:
                            print("     answer: " + (r.final or "")[:600].replace("\n", "\n             "))
                    elif "-v" in argv:
                        print(f"ok   {case['id']}")
        finally:
            runner.close(failed=fails > 0)
    print(f"{n - fails}/{n} cases passed through the daemon in {time.perf_counter() - t0:.1f}s")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
