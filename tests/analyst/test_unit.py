#!/usr/bin/python3
"""tests/analyst/test_unit.py — the analyst's contract without a kernel:
the process interface (bad input still gives a final_answer), the stateless
plan (failed step → honest answer, no loop; ask → key; answer → remember
once), determinism, and a fuzz pass over random requests whose code must
compile and name only real columns.  Profiles are built from the example
CSVs with the stdlib csv module (no pandas needed here)."""
import csv
import json
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DAA_ROOT") or os.path.dirname(os.path.dirname(HERE))
PY = os.environ.get("DAA_PYTHON", "/usr/bin/python3")
SCRIPT = os.path.join(ROOT, "daemon", "analyst", "daa_analyst.py")
sys.path.insert(0, os.path.dirname(SCRIPT))
from analyst.plan import decide  # noqa: E402

sys.path.insert(0, HERE)
from corpus import column_literals  # noqa: E402

FAILS = []


def check(cond, what):
    """Records a failed expectation."""
    if not cond:
        FAILS.append(what)
        print("FAIL", what)


def profile(name):
    """A kernel-like profile of examples/NAME.csv (kinds guessed simply)."""
    with open(os.path.join(ROOT, "examples", name + ".csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    cols = []
    for c in rows[0].keys():
        vals = [r[c] for r in rows]
        try:
            [float(v) for v in vals]
            kind = "id" if c.endswith("_id") else "numeric"
        except ValueError:
            kind = "categorical" if len(set(vals)) <= 20 else "text"
        hints = ["date_like"] if re.match(r"^\d{4}-\d\d-\d\d$", vals[0]) else []
        cols.append({"name": c, "dtype": "float64" if kind == "numeric" else "object", "kind": kind,
                     "missing": 0, "distinct": len(set(vals)), "samples": list(dict.fromkeys(vals))[:5],
                     "hints": hints})
    return {"name": name, "rows": len(rows), "columns": cols}


def run(state_text):
    """daa_analyst.py as a process: (exit status, parsed stdout)."""
    p = subprocess.run([PY, "-I", "-S", SCRIPT], input=state_text.encode(), capture_output=True, timeout=30)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        return p.returncode, {"raw": p.stdout.decode(errors="replace"), "stderr": p.stderr.decode(errors="replace")}


def test_process(sales):
    """Bad input is answered, never crashes; the same state gives the same answer."""
    for bad in ["", "not json", "[1, 2]", '{"request": 5, "datasets": "x", "steps": {}}',
                '{"request": "total revenue", "datasets": [{"columns": [{"name": null}]}]}',
                json.dumps({"request": "\udcff" * 3 + "plot \u0000 revenue", "datasets": [sales]})]:
        rc, out = run(bad)
        check(rc == 0 and out.get("tool") == "final_answer" or out.get("tool") in ("run_python", "ask_user"),
              f"bad input {bad[:40]!r} → {out}")
    state = json.dumps({"request": "average revenue by region", "datasets": [sales], "conventions": {}, "steps": []})
    a, b = run(state), run(state)
    check(a == b and a[1].get("tool") == "run_python", f"not deterministic or no code: {a} / {b}")
    rc, out = run(json.dumps({"request": "total revenue", "datasets": []}))
    check(out.get("tool") == "final_answer" and "daa add" in out["args"]["text"], f"no datasets → {out}")


def test_serve(sales):
    """--serve: a state per line, an answer per line, the same answers as a
    process per call; a bad line is answered and the process goes on; a
    line over 16 MiB is answered with the error and ends the process."""
    good = json.dumps({"request": "average revenue by region", "datasets": [sales], "conventions": {},
                       "steps": []})
    lines = [good, "not json", "[1, 2]", json.dumps({"request": "total revenue", "datasets": []}), good]
    p = subprocess.run([PY, "-I", "-S", SCRIPT, "--serve"], input="".join(l + "\n" for l in lines).encode(),
                       capture_output=True, timeout=30)
    outs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    check(p.returncode == 0 and len(outs) == len(lines), f"--serve: {p.returncode}, {len(outs)} answers")
    check(outs[0] == outs[4] == run(good)[1], "--serve answers as a process per call does")
    check(all(o.get("tool") == "final_answer" for o in outs[1:4]) and "daa add" in outs[3]["args"]["text"],
          f"bad lines answered: {outs[1:4]}")
    big = b'{"request": "' + b"x" * (16 << 20) + b'"}\n' + good.encode() + b"\n"
    p = subprocess.run([PY, "-I", "-S", SCRIPT, "--serve"], input=big, capture_output=True, timeout=60)
    outs = p.stdout.decode().splitlines()
    check(p.returncode == 0 and len(outs) == 1 and "larger than 16 MiB" in outs[0],
          f"over the limit: {p.returncode} {outs[:1]}")


def test_plan(sales):
    """Failed step, ask with key, answer → remember once, unmatched answer."""
    st = {"request": "total revenue", "datasets": [sales], "conventions": {}, "steps": [
        {"tool": "run_python", "args": {"code": "x", "purpose": "total revenue"},
         "result": {"ok": False, "stdout": "", "error": {"type": "KeyError", "message": "'revenue'",
                                                           "traceback": "Traceback...\nKeyError: 'revenue'"}}}]}
    out = decide(st)
    check(out["tool"] == "final_answer" and "KeyError" in out["args"]["text"] and "'revenue'" in out["args"]["text"],
          f"failed step → {out}")
    two = dict(sales, columns=sales["columns"] + [{"name": "ship_date", "kind": "text", "dtype": "object",
                                                   "samples": ["2023-01-02"], "hints": ["date_like"]}])
    st = {"request": "plot revenue over time", "datasets": [two],
          "conventions": {"date_columns": {"value": ["order_date", "ship_date"], "source": "inferred"}}, "steps": []}
    out = decide(st)
    check(out["tool"] == "ask_user" and sorted(out["args"]["choices"]) == ["order_date", "ship_date"]
          and out["args"].get("key") == "date_column", f"two dates → {out}")
    st["steps"] = [{"tool": "ask_user", "args": out["args"], "answer": "ship"}]
    out2 = decide(st)
    check(out2["tool"] == "remember_convention" and out2["args"]["value"] == "ship_date", f"answer → {out2}")
    st["steps"].append({"tool": "remember_convention", "args": out2["args"]})
    out3 = decide(st)
    check(out3["tool"] == "run_python" and 'set_index("ship_date")' in out3["args"]["code"], f"after remember → {out3}")
    st["steps"] = [{"tool": "ask_user", "args": out["args"], "answer": "2"}]
    st["conventions"]["date_column"] = {"value": "ship_date", "source": "user"}
    out4 = decide(st)
    check(out4["tool"] == "run_python", f"answer already stored by the daemon → {out4}")
    st = {"request": "plot revenue over time", "datasets": [two], "conventions": {},
          "steps": [{"tool": "ask_user", "args": out["args"], "answer": "the blue one"}]}
    out5 = decide(st)
    check(out5["tool"] == "final_answer" and "the blue one" in out5["args"]["text"], f"unmatched answer → {out5}")
    amb = {"name": "t", "rows": 10, "columns": [
        {"name": "day", "kind": "text", "dtype": "object", "samples": ["03/04/2023"], "hints": ["date_like"],
         "date_format": "%d/%m/%Y", "date_formats": ["%d/%m/%Y", "%m/%d/%Y"]},
        {"name": "amount", "kind": "numeric", "dtype": "float64"}]}
    st = {"request": "plot amount over time", "datasets": [amb], "steps": []}
    q = decide(st)
    check(q["tool"] == "ask_user" and q["args"]["choices"] == ["%d/%m/%Y", "%m/%d/%Y"], f"ambiguous dates → {q}")
    st["steps"] = [{"tool": "ask_user", "args": q["args"], "answer": "%m/%d/%Y"}]
    st["conventions"] = {"day.date_format": {"value": "%m/%d/%Y", "source": "user"}}
    out7 = decide(st)
    check(out7["tool"] == "run_python" and 'format="%m/%d/%Y"' in out7["args"]["code"], f"date format answer → {out7}")
    ok = {"tool": "run_python", "args": {"code": "c", "purpose": "p"},
          "result": {"ok": True, "stdout": "Total revenue: 1,234.50\n", "figures": ["outputs/plots/a_1.png"]}}
    out6 = decide({"request": "total revenue", "datasets": [sales], "steps": [ok]})
    check(out6["tool"] == "final_answer" and "1,234.50" in out6["args"]["text"]
          and "outputs/plots/a_1.png" in out6["args"]["text"], f"success → {out6}")


WORDS = ("total average mean median max min std count how many distinct unique top bottom 3 5 10 plot chart "
         "bar histogram distribution scatter vs box correlation heatmap over time monthly weekly by per "
         "in where > < 10 100 2023 2024 since West North Electronics Furniture revenue sales units price "
         "unit_price discount region product category customer customers order date orders rows outliers "
         "normal t-test compare between and predict model from the of profit xyz 'quoted' \" ? ! é ß 😀").split()


def test_fuzz(sales, customers):
    """Random requests: always a valid tool call; code compiles and names real columns."""
    rng = random.Random(5)
    cols = {c["name"] for c in sales["columns"]} | {c["name"] for c in customers["columns"]}
    for i in range(400):
        req = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9)))
        ds = [sales] if i % 3 else [sales, customers]
        out = decide(json.loads(json.dumps({"request": req, "datasets": ds, "conventions": {}, "steps": []})))
        tool, args = out.get("tool"), out.get("args") or {}
        if tool == "run_python":
            try:
                compile(args["code"], "<fuzz>", "exec")
            except SyntaxError as e:
                check(False, f"{req!r}: code does not compile: {e}\n{args['code']}")
                continue
            bad = [n for n in column_literals(args["code"]) if n not in cols]
            check(not bad, f"{req!r}: code names unknown columns {bad}")
            check(isinstance(args.get("purpose"), str) and args["purpose"], f"{req!r}: no purpose")
        elif tool == "ask_user":
            check(isinstance(args.get("question"), str) and len(args.get("choices") or []) >= 2,
                  f"{req!r}: bad question {args}")
        elif tool == "final_answer":
            check(isinstance(args.get("text"), str) and args["text"], f"{req!r}: empty answer")
        else:
            check(False, f"{req!r}: unexpected tool {out}")


HOSTILE = ['{__import__("os").system("echo pwned")}', 'a"b', "c\\d", "new\nline", "it's", "}{", "\u2028x"]


def test_hostile_names():
    """Column names and values from the data never become code, whatever they hold."""
    import ast
    cols = [{"name": n, "kind": "numeric", "dtype": "float64", "distinct": 50, "samples": [1.5]} for n in HOSTILE]
    cols.append({"name": 'g{x}"', "kind": "categorical", "dtype": "object", "distinct": 3,
                 "samples": ['v{__import__("os")}"', "w\\"]})
    cols.append({"name": "when", "kind": "text", "dtype": "object", "samples": ["2023-01-02"], "hints": ["date_like"]})
    prof = {"name": 'we"ird{x}', "rows": 10, "columns": cols}
    for name in HOSTILE:
        q = json.dumps(name)
        for req in (f"total {q}", f"average {q} by {json.dumps(cols[-2]['name'])}", f"plot {q} over time",
                    f"histogram of {q}", f"outliers in {q}", f"is {q} normally distributed",
                    f"top 3 {json.dumps(cols[-2]['name'])} by {q}", f"predict {q} from the other columns",
                    f"{q} in 2023", "describe the data", f"compare {q} across {json.dumps(cols[-2]['name'])}"):
            out = decide({"request": req, "datasets": [prof], "steps": []})
            if out["tool"] != "run_python":
                continue
            code = out["args"]["code"]
            try:
                tree = ast.parse(code)
            except SyntaxError as e:
                check(False, f"{req!r}: code does not compile: {e}\n{code}")
                continue
            calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            check("__import__" not in calls and "system" not in {getattr(n, "attr", "") for n in ast.walk(tree)},
                  f"{req!r}: a name from the data became code:\n{code}")


def main():
    """Runs every test; exit 1 on any failure."""
    sales, customers = profile("sales"), profile("customers")
    test_process(sales)
    test_serve(sales)
    test_plan(sales)
    test_fuzz(sales, customers)
    test_hostile_names()
    print(f"{len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
