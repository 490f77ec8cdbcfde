#!/usr/bin/python3
"""bench/analyst/score.py — how far the builtin analyst's answers can be
trusted: runs the whole request corpus (tests/analyst/corpus.json, with the
real public datasets from Debian packages when installed) through the
analyst and the kernel runtime, and sorts every answer into

  correct                 every check of the case passes
  wrong-with-assumption   a check fails, but the answer states the assumption
                          behind its number (an "Assumption:" line)
  wrong-silently          a check fails and nothing warns the reader
  refused                 no code ran: an honest refusal, or a question back

Usage: DAA_ROOT=$PWD /usr/bin/python3 bench/analyst/score.py [-v] [--process]
Exit status 1 when any answer is wrong silently (the target is 0).
"""
import json
import os
import sys
import tempfile
import time

ROOT = os.environ.get("DAA_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "analyst"))
import corpus  # noqa: E402


def main(argv):
    """Scores the corpus; prints the counts (and the wrong cases with -v)."""
    with open(os.path.join(ROOT, "tests", "analyst", "corpus.json"), encoding="utf-8") as f:
        cps = json.load(f)
    counts = {k: 0 for k in corpus.CLASSES}
    asked = 0
    wrong = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="daa-score-") as work:
        paths = corpus.dataset_paths(cps, work)
        env = corpus.expected_env(paths)
        cases, skipped = corpus.runnable(cps["cases"], paths)
        runner = corpus.LocalRunner(paths, work, inprocess="--process" not in argv)
        for case in cases:
            try:
                r = runner.run(case)
                cls = corpus.classify(case, r, env)
            except Exception as e:  # a crash is a wrong answer nobody was warned about
                r, cls = None, "wrong-silently"
                print(f"{case['id']}: {type(e).__name__}: {e}")
            counts[cls] += 1
            if cls == "refused" and r is not None and r.status == "question":
                asked += 1
            if cls.startswith("wrong"):
                wrong.append((cls, case, r))
    n = sum(counts.values())
    print(f"corpus: {n} cases" + (f" ({skipped} skipped: real datasets not installed)" if skipped else "")
          + f", {time.perf_counter() - t0:.0f}s")
    for k in corpus.CLASSES:
        extra = f" ({asked} asked a question, {counts[k] - asked} honest refusals)" if k == "refused" else ""
        print(f"{k:>22}: {counts[k]:4d}  {100 * counts[k] / max(n, 1):5.1f}%{extra}")
    if "-v" in argv:
        for cls, case, r in wrong:
            print(f"\n{cls}: {case['id']}: {case['request']!r}")
            if r is not None:
                for b in corpus.check(case, r, env):
                    print("   " + b)
    return 1 if counts["wrong-silently"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
