#!/usr/bin/python3
"""tests/analyst/corpus.py — runs tests/analyst/corpus.json through a runner
and checks every case.  The runner is pluggable so the same corpus drives
the analyst directly (LocalRunner: harness.py plays the daemon) or, later,
a real daemon through `daa ask` (any object with the Runner methods below).

A case: {id, datasets: [names], request, answers?: [text...] (given to
ask_user in order), conventions?: {KEY: value}, digest?: [{request, status,
answer}] (earlier turns), expect: {...}} where expect
may hold
  numbers: [python expression...]  each value must appear in the final text;
           evaluated here with pandas over the raw CSVs (names = datasets),
           pd, np, stats (scipy.stats) and iqr_outliers(series)
  plot: line|bar|barh|hist|scatter|box|heatmap  the code draws that kind and
           at least one figure file exists
  code: [substring...]   in the code that ran     text: [substring...] in the answer
  ask: {choices: [...]}  the first question offered exactly these choices
  remember: {key, value} a remember_convention call with these
  status: done (default) | question            no_ask: true  never asked
  not_text: [substring...]  NOT in the answer (e.g. the fixed revenue/region examples)
  truth: [python expression...]  the true answer's numbers; an answer that
           ran code and lacks one of them must state the assumption that
           explains it (an "Assumption:" line containing every `assume`
           substring), else it is "wrong silently" and fails
  not_understood: true   an honest final answer without running code that
                          says how to configure an LLM

Usage: corpus.py [-v] [--process] [--only ID[,ID...]] [--not-daemon]   (exit 0 when all pass)
  --process  every analyst call as its own process (as daad does); default is
             in-process decide() with every 7th call cross-checked as a process
  --not-daemon  leave out the cases test_corpus_daemon runs through a real
             daad (daemon_runner.DEFAULT): test_corpus runs each case once
"""
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DAA_ROOT") or os.path.dirname(os.path.dirname(HERE))
PLOT_CALLS = {"line": "ax.plot(", "bar": "ax.bar(", "barh": "ax.barh(", "hist": "ax.hist(",
              "scatter": "ax.scatter(", "box": "ax.boxplot(", "heatmap": "ax.imshow("}
NUM_RE = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?", re.I)


class Result:
    """What a runner reports for one case (paths in figures are absolute)."""

    def __init__(self, status, final, code=(), figures=(), asked=(), remembered=()):
        self.status, self.final = status, final
        self.code, self.figures = list(code), list(figures)
        self.asked, self.remembered = list(asked), list(remembered)


class LocalRunner:
    """Plays the daemon with harness.py: one kernel, profiles as the daemon gets them."""

    def __init__(self, paths, workdir, inprocess=False):
        sys.path.insert(0, HERE)
        import harness
        self.h = harness
        self.project = os.path.join(workdir, "project")
        self.kernel = harness.make_kernel(self.project, paths)
        self.analyst = harness.Analyst(inprocess=inprocess, crosscheck_every=12 if inprocess else 0)
        self.profiles = {}
        self.n = 0

    def describe(self):
        """Which kernel namespace and analyst mode are used."""
        mode = ("in-process (every 12th call also run as a process and compared)" if self.analyst.inprocess
                else "one process per call")
        return f"kernel: {self.kernel.kind}; analyst: daa_analyst.py, {mode}"

    def run(self, case):
        """Runs one case to the end of its turn."""
        for name in case["datasets"]:
            if name not in self.profiles:
                self.profiles[name] = self.kernel.profile(name)
        self.n += 1
        t = self.h.run_turn(self.kernel, self.analyst, case["request"],
                            [self.profiles[n] for n in case["datasets"]],
                            conventions=case.get("conventions"), answers=case.get("answers", []),
                            step_base=f"c{self.n:03d}", digest=case.get("digest", []))
        figs = [os.path.join(self.project, f) for f in t.figures]
        return Result(t.status, t.final, t.code, figs, t.asked, t.remembered)


def dataset_paths(corpus, workdir):
    """{name: csv path}: examples/ files, the edge datasets written to workdir
    and the real datasets copied from Debian packages (real_data.py; those
    not installed are left out, and their cases skipped)."""
    sys.path.insert(0, HERE)
    import edge_data
    import real_data
    edge = edge_data.write_all(os.path.join(workdir, "edge"))
    real = real_data.write_all(os.path.join(workdir, "real"))
    out = {}
    for name, where in corpus["datasets"].items():
        if where == "real:":
            if name in real:
                out[name] = real[name]
        else:
            out[name] = edge[name] if where == "edge:" else os.path.join(ROOT, where)
    return out


def runnable(cases, paths):
    """(cases whose datasets are all present, number skipped)."""
    ok = [c for c in cases if all(n in paths for n in c["datasets"])]
    return ok, len(cases) - len(ok)


def expected_env(paths):
    """The namespace the expected-number expressions are evaluated in."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    def iqr_outliers(s):
        q1, q3 = s.quantile([0.25, 0.75])
        return int(((s < q1 - 1.5 * (q3 - q1)) | (s > q3 + 1.5 * (q3 - q1))).sum())
    def when(df):
        """The time of each row: a date column, else year (+ quarter or month)."""
        if "date" in df.columns:
            return pd.to_datetime(df["date"], errors="coerce")
        month = (df["quarter"] - 1) * 3 + 1 if "quarter" in df.columns else df.get("month", 1)
        return pd.to_datetime(pd.DataFrame({"year": df["year"], "month": month, "day": 1}))

    def per(df, col, freq, how):
        """col aggregated per period (freq: a pandas alias, or "decade")."""
        s = df.set_index(when(df))[col]
        if freq == "decade":
            return getattr(s.groupby(s.index.year // 10 * 10), how)()
        return getattr(s.resample(freq), how)()
    env = {"pd": pd, "np": np, "stats": stats, "iqr_outliers": iqr_outliers, "when": when, "per": per}
    for name, path in paths.items():
        env[name] = pd.read_csv(path)
    return env


def numbers_in(text):
    """Every number written in a text (thousands separators removed)."""
    out = []
    for m in NUM_RE.finditer(text or ""):
        try:
            out.append(float(m.group(0).replace(",", "")))
        except ValueError:
            pass
    return out


def close(a, e):
    """a (as printed, 2-4 decimals) is e."""
    return abs(a - e) <= 0.0051 + 1e-6 * abs(e)


def column_literals(code):
    """Column names the code indexes a frame with (frame["x"], groupby("x"), ...)."""
    names = re.findall(r'\b(?!dfs\[)\w+\["((?:[^"\\]|\\.)*)"\]', code)
    names += re.findall(r'(?:groupby|set_index|nlargest\(\d+,|nsmallest\(\d+,)\s*\(?"((?:[^"\\]|\\.)*)"\)', code)
    names += re.findall(r'key="((?:[^"\\]|\\.)*)"', code)
    return [json.loads('"' + n + '"') for n in names]


def check(case, r, env):
    """The failures of one case (empty list: pass)."""
    ex, bad = case["expect"], []
    want = ex.get("status", "question" if ex.get("status") == "question" else "done")
    if r.status != want:
        bad.append(f"status {r.status!r}, expected {want!r}")
    text = r.final or ""
    if "ask" in ex:
        if not r.asked:
            bad.append("expected a question, none asked")
        elif sorted(map(str, r.asked[0].get("choices") or [])) != sorted(ex["ask"]["choices"]):
            bad.append(f"asked with choices {r.asked[0].get('choices')}, expected {ex['ask']['choices']}")
    if ex.get("no_ask") and r.asked:
        bad.append(f"asked {r.asked[0]} though it should not")
    if "remember" in ex:
        hit = [m for m in r.remembered if m.get("key") == ex["remember"]["key"] and m.get("value") == ex["remember"]["value"]]
        if not hit:
            bad.append(f"no remember_convention {ex['remember']} (got {r.remembered})")
    found = numbers_in(text)
    for expr in ex.get("numbers", []):
        val = float(eval(expr, env))
        if not any(close(a, val) for a in found):
            bad.append(f"number {val:,.4f} ({expr}) not in the answer")
    code = "\n".join(r.code)
    known = {str(c) for n in case["datasets"] for c in env[n].columns}
    known |= set(re.findall(r'\b\w+\["([^"\\]+)"\] = ', code))   # columns the code itself adds
    invented = sorted({n for n in column_literals(code) if n not in known})
    if invented:
        bad.append(f"the code names columns the data does not have: {invented}")
    for sub in ex.get("code", []):
        if sub not in code:
            bad.append(f"code lacks {sub!r}")
    for sub in ex.get("text", []):
        if sub.casefold() not in text.casefold():
            bad.append(f"answer lacks {sub!r}")
    for sub in ex.get("not_text", []):
        if sub.casefold() in text.casefold():
            bad.append(f"answer has {sub!r} though it should not")
    if r.code and truth_missing(case, found, env) and not states_assumption(text, ex.get("assume", [])):
        bad.append("wrong silently: the answer lacks the true value(s) "
                   f"{truth_missing(case, found, env)} and states no assumption explaining why")
    if "plot" in ex:
        if PLOT_CALLS[ex["plot"]] not in code:
            bad.append(f"code does not call {PLOT_CALLS[ex['plot']]}")
        if not r.figures or not all(os.path.isfile(f) and os.path.getsize(f) > 0 for f in r.figures):
            bad.append(f"no figure file ({r.figures})")
        elif "ax.set_title(" not in code or "ax.set_xlabel(" not in code:
            bad.append("plot without title or axis label")
    if ex.get("not_understood"):
        if r.code:
            bad.append("ran code for a request it should not understand")
        if "OPENAI_API_KEY" not in text:
            bad.append("the answer does not say how to configure an LLM")
    elif r.status == "done" and "could not finish" in text:
        bad.append("the step failed: " + text[:300])
    return bad


def truth_missing(case, found, env):
    """The true values (expect.truth) not in the answer, as text."""
    out = []
    for expr in case["expect"].get("truth", []):
        val = float(eval(expr, env))
        if not any(close(a, val) for a in found):
            out.append(f"{val:,.4f}")
    return out


def states_assumption(text, subs):
    """True when the answer has an "Assumption:" line naming every subs."""
    lines = [ln for ln in (text or "").splitlines() if "assumption:" in ln.casefold()]
    return bool(lines) and all(any(s.casefold() in ln.casefold() for ln in lines) for s in subs)


CLASSES = ("correct", "wrong-with-assumption", "wrong-silently", "refused")


def classify(case, r, env):
    """One of CLASSES for a case's result: refused (no code ran: an honest
    refusal or a question left open), correct (every check passes), wrong but
    with an "Assumption:" line, or wrong silently."""
    if r is None:
        return "wrong-silently"
    if not r.code:
        return "refused"
    if not check(case, r, env):
        return "correct"
    return "wrong-with-assumption" if states_assumption(r.final, []) else "wrong-silently"


def main(argv):
    """Runs the corpus with the local runner; prints failures; exit status 0/1."""
    verbose = "-v" in argv
    only, daemon_cases = None, set()
    if "--only" in argv:
        only = set(argv[argv.index("--only") + 1].split(","))
    if "--not-daemon" in argv:
        from daemon_runner import DEFAULT
        daemon_cases = set(DEFAULT)
    with open(os.path.join(HERE, "corpus.json"), encoding="utf-8") as f:
        corpus = json.load(f)
    with tempfile.TemporaryDirectory(prefix="daa-analyst-") as work:
        paths = dataset_paths(corpus, work)
        env = expected_env(paths)
        runner = LocalRunner(paths, work, inprocess="--process" not in argv)
        print(runner.describe())
        cases, skipped = runnable(corpus["cases"], paths)
        if skipped:
            print(f"skip: {skipped} cases need real datasets that are not installed "
                  "(tools/deps.sh installs python3-statsmodels)")
        if daemon_cases:
            cases = [c for c in cases if c["id"] not in daemon_cases]
            print(f"{len(daemon_cases)} cases left to test_corpus_daemon (through a real daad)")
        fails, t0 = 0, time.perf_counter()
        for case in cases:
            if only and case["id"] not in only:
                continue
            tc = time.perf_counter()
            try:
                r = runner.run(case)
                bad = check(case, r, env)
            except Exception as e:  # a crash in one case is that case's failure
                r, bad = None, [f"{type(e).__name__}: {e}"]
            if bad:
                fails += 1
                print(f"FAIL {case['id']}: {case['request']!r}")
                for b in bad:
                    print("     " + b)
                if r is not None:
                    print("     answer: " + (r.final or "")[:600].replace("\n", "\n             "))
            elif verbose:
                print(f"ok   {case['id']} ({time.perf_counter() - tc:.2f}s)")
        a = runner.analyst
        a.close()
        n = len(cases) if not only else len(only)
        print(f"{n - fails}/{n} cases passed in {time.perf_counter() - t0:.1f}s; "
              f"{a.calls} analyst calls, mean {1000 * a.seconds / max(a.calls, 1):.0f} ms, "
              f"slowest {1000 * a.slowest:.0f} ms")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
