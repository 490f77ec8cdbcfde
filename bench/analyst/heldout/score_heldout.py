#!/usr/bin/python3
"""bench/analyst/heldout/score_heldout.py — the held-out evaluation of the
builtin analyst (issue #15): asks every question of a batch (dev.json,
test.json) through a private daad and the real `daa ask --batch --json`, as
a user would, each question in a fresh project holding only its dataset (no
earlier turns to lean on), and sorts every answer into

  correct                 every check of every part passes
  wrong-with-assumption   a check fails, but the answer states the assumption
                          behind its number (a line starting "Assumption:")
  wrong-silently          a check fails and nothing warns the reader
  refused                 no code ran successfully: an honest refusal, a
                          question back, or code that failed and said so

The truths are computed here, from the same CSV files, by truth.py (never by
the analyst). Counts are printed per batch and separately for single-part
and multi-part questions.

Usage: /usr/bin/python3 bench/analyst/heldout/score_heldout.py [-v] [--root DIR]
           [--only ID,...] [BATCH.json ...]        (default: dev.json)
--root DIR scores another checkout (its build/bin/daad and daemon/analyst;
it must be built), e.g. the commit the issue was filed at.
Exit status 1 when any answer is wrong silently.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OWN_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
import data  # noqa: E402
import truth  # noqa: E402

CLASSES = ("correct", "wrong-with-assumption", "wrong-silently", "refused")
ASK_TIMEOUT = 300


def start_daemon(root):
    """A private daad of ROOT's build (tests/lib/daad.py of this checkout)."""
    os.environ["DAA_ROOT"] = root
    os.environ["DAA_BUILD"] = os.path.join(root, "build")
    sys.path.insert(0, os.path.join(OWN_ROOT, "tests", "lib"))
    import daad
    if not os.access(daad.DAAD, os.X_OK):
        sys.exit("score_heldout: %s is not built (make -C %s)" % (daad.DAAD, root))
    return daad.Daad().start(), os.path.join(daad.BUILD, "bin", "daa")


class Asker:
    """Runs `daa` against the private daemon."""

    def __init__(self, d, daa):
        self.env = dict(d.env)
        self.daa_bin = daa

    def daa(self, *args, timeout=120):
        return subprocess.run([self.daa_bin, "--no-start"] + list(args), env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              errors="replace", timeout=timeout)

    def ask(self, project, csv, dataset, request):
        """The `ask --json` reply for request in a fresh project holding csv."""
        for args in (("project", "new", project), ("-p", project, "add", csv),
                     ("-p", project, "profile", dataset)):
            p = self.daa(*args)
            if p.returncode != 0:
                raise RuntimeError("daa %s -> %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        p = self.daa("--json", "-p", project, "ask", "--batch", request, timeout=ASK_TIMEOUT)
        self.daa("project", "rm", project)
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise RuntimeError("daa ask -> %d, no JSON: %s" % (p.returncode, (p.stdout + p.stderr)[-400:]))


def has_assumption(answer):
    return any(ln.strip().lower().startswith("assumption:") for ln in answer.splitlines())


def classify(q, reply, df):
    """(class, note, failed checks) of one reply."""
    if reply.get("status") == "question" or reply.get("question"):
        return "refused", "asked a question", []
    steps = reply.get("steps") or []
    if not any(s.get("ok") for s in steps):
        return "refused", "code failed" if steps else "no code ran", []
    answer = reply.get("answer") or ""
    failed = [(i, c) for i, part in enumerate(q["parts"], 1) for c in part["checks"]
              if not truth.passes(c, answer, df)]
    if not failed:
        return "correct", "", []
    return ("wrong-with-assumption" if has_assumption(answer) else "wrong-silently"), "", failed


def score_batch(path, asker, work, verbose, only):
    with open(path, encoding="utf-8") as f:
        batch = json.load(f)
    qs = [q for q in batch["questions"] if not only or q["id"] in only]
    frames, csvs = {}, {}
    rows = []
    t0 = time.perf_counter()
    # project names unique across batches: a question asked back leaves its
    # project behind (its turn waits for an answer, `project rm` refuses)
    stem = os.path.splitext(os.path.basename(path))[0]
    for n, q in enumerate(qs):
        name = q["dataset"]
        if name not in csvs:
            csvs[name] = data.write(name, work)
            frames[name] = data.load(csvs[name])
        try:
            reply = asker.ask("%s-q%d" % (stem, n), csvs[name], name, q["request"])
            cls, note, failed = classify(q, reply, frames[name])
        except Exception as e:  # a crash is a wrong answer nobody was warned about
            reply, cls, note, failed = None, "wrong-silently", "%s: %s" % (type(e).__name__, e), []
        rows.append((q, cls, note, failed, reply))
        if verbose:
            print_row(q, cls, note, failed, reply, frames[name])
    report(os.path.basename(path), rows, time.perf_counter() - t0)
    return rows


def print_row(q, cls, note, failed, reply, df):
    kind = "multi" if q.get("multi") else "single"
    print("%-22s %-8s %-6s %s%s" % (cls, q["id"], kind, q["request"], "  [%s]" % note if note else ""))
    if cls.startswith("wrong") or os.environ.get("HELDOUT_SHOW_ALL"):
        for part, c in failed:
            print("      part %d missing: %s" % (part, truth.describe(c, df)))
        if reply is not None:
            for ln in (reply.get("answer") or "").splitlines()[:25]:
                print("      | " + ln)
    elif cls == "refused" and reply is not None:
        text = reply.get("question") or reply.get("answer") or ""
        if isinstance(text, dict):
            text = json.dumps(text)
        for ln in [x for x in text.splitlines() if x.strip()][:3]:
            print("      | " + ln[:200])
    sys.stdout.flush()


def counts_line(label, rows):
    n = len(rows)
    c = {k: sum(1 for r in rows if r[1] == k) for k in CLASSES}
    return "%-14s n=%3d  " % (label, n) + "  ".join(
        "%s %d (%.0f%%)" % (k, c[k], 100.0 * c[k] / max(n, 1)) for k in CLASSES)


def report(name, rows, secs):
    print("\n%s: %d questions, %.0fs" % (name, len(rows), secs))
    print(counts_line("all", rows))
    print(counts_line("single-part", [r for r in rows if not r[0].get("multi")]))
    print(counts_line("multi-part", [r for r in rows if r[0].get("multi")]))
    notes = {}
    for r in rows:
        if r[1] == "refused":
            notes[r[2]] = notes.get(r[2], 0) + 1
    if notes:
        print("refused: " + ", ".join("%s %d" % kv for kv in sorted(notes.items())))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("batches", nargs="*", default=[os.path.join(HERE, "dev.json")])
    ap.add_argument("--root", default=OWN_ROOT, help="the checkout to score (built)")
    ap.add_argument("-v", action="store_true", help="one line per question, the wrong answers shown")
    ap.add_argument("--only", default="", help="comma-separated question ids")
    a = ap.parse_args(argv)
    only = set(x for x in a.only.split(",") if x)
    root = os.path.abspath(a.root)
    print("scoring %s (%s)" % (root, subprocess.run(["git", "-C", root, "log", "-1", "--format=%h %s"],
                                                    capture_output=True, text=True).stdout.strip()[:70]))
    d, daa = start_daemon(root)
    silent = 0
    try:
        with tempfile.TemporaryDirectory(prefix="daa-heldout-") as work:
            asker = Asker(d, daa)
            for b in a.batches:
                rows = score_batch(os.path.abspath(b), asker, work, a.v, only)
                silent += sum(1 for r in rows if r[1] == "wrong-silently")
    finally:
        d.stop()
        d.cleanup()
    return 1 if silent else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
