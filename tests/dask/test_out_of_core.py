#!/usr/bin/python3
"""tests/dask/test_out_of_core.py — a dataset over the kernel's memory
budget, through a real daad and the `daa` CLI: dfs[name] is a Dask
DataFrame (and a small dataset of the same project stays pandas), the
conventions are applied block by block (day-first dates, thousands
separators, zero-padded ids kept as text), a group-by sum, a mean and a
monthly series equal pandas computed in chunks outside daa, the profile is
a stated sample plus exact counts, and the exported script computes the
same standalone, as does a history re-run in a fresh kernel; with no
scheduler configured the kernel still has no sockets.

Then, in the same session (formerly test_ask.py and test_reprofile.py):
`daa ask` with the builtin analyst (no LLM configured): "average amount by
region", "total amount per month" and "top 5 product by amount" are
answered with Dask code (saved in history/) and the numbers pandas gives
when it reads the file in chunks outside daa; and a convention saved that
does not change how a Dask-backed dataset loads does not profile it again
(a profile is one exact pass over a file that may be larger than memory).
The first `daa ask` infers conventions from the profile (date_columns
repeating the user's date_column, the dataset's date column); before the
profile cache's load key was narrowed to what the conventions change in
each dataset (daemon/profiler/profiler_store.c prof_key_for), that started
a second full profile.  Also: a convention naming only columns the dataset
does not have keeps its profile; one that changes how it loads (a date
format) makes it again."""
# daa-test-timeout: 600
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, close, has, skip_unless_built  # noqa: E402


def check_backend(s):
    r, p = s.run_json("(type(dfs['orders']).__module__.split('.')[0], type(dfs['sales']).__module__.split('.')[0],"
                      " dfs.is_dask('orders'), dfs['orders'].npartitions > 1)", timeout=300)
    assert r and r["ok"], p.stdout + p.stderr
    assert r["result"]["repr"] == "('dask', 'pandas', True, True)", r["result"]
    print("ok - the large dataset is a Dask DataFrame in blocks; the small one stays pandas")


def check_conventions(s):
    code = ("o = dfs['orders']\n"
            "(str(o['order_date'].dtype), str(o['amount'].dtype), str(o['order_id'].dtype),"
            " o['order_id'].head(2).tolist())")
    r, p = s.run_json(code, timeout=300)
    assert r and r["ok"], p.stdout + p.stderr
    assert r["result"]["repr"] == "('datetime64[ns]', 'float64', 'object', ['00000000', '00000001'])", \
        r["result"]["repr"]
    print("ok - conventions applied in every block: dates, thousands separators, ids as text")


def check_answers(s, ref):
    code = ("o = dfs['orders']\n"
            "by_region = o.groupby('region')['amount'].sum().compute()\n"
            "means = o.groupby('region')['amount'].mean().compute()\n"
            "monthly = o.groupby(o['order_date'].dt.to_period('M'))['amount'].sum().compute()\n"
            "import json\n"
            "print(json.dumps({'sum': by_region.to_dict(), 'mean': means.to_dict(),"
            " 'month': {str(k): v for k, v in monthly.items()}, 'rows': int(o.shape[0].compute())}))")
    r, p = s.run_json(code, timeout=300)
    assert r and r["ok"], p.stdout + p.stderr
    got = json.loads(r["stdout"].strip().splitlines()[-1])
    assert got["rows"] == ref["rows"], (got["rows"], ref["rows"])
    for key, want in (("sum", ref["sum_by_region"]), ("mean", ref["mean_by_region"]),
                      ("month", ref["sum_by_month"])):
        assert set(got[key]) == set(want), (key, sorted(got[key]), sorted(want))
        bad = [k for k in want if not close(got[key][k], want[k])]
        assert not bad, (key, [(k, got[key][k], want[k]) for k in bad])
    print("ok - group-by sum, mean and monthly sums equal pandas read in chunks (%d rows)" % ref["rows"])


def check_profile(s, ref):
    out = s.daa("--json", "-p", s.project, "profile", "orders", timeout=300)
    summary = json.loads(out.stdout)
    assert summary["rows"] == ref["rows"], summary["rows"]
    assert any("sample" in n for n in summary.get("notes", [])), summary.get("notes")
    profs = os.path.join(s.path, ".daa", "profiles")
    light = None
    for f in os.listdir(profs):
        with open(os.path.join(profs, f)) as fh:
            doc = json.load(fh)
        found = doc.get("profile") if isinstance(doc, dict) else None
        if isinstance(found, dict) and found.get("name") == "orders":
            light = found
    assert light, os.listdir(profs)
    assert light["backend"] == "dask" and light["rows"] == ref["rows"], light.get("backend")
    assert light["sample_rows"] < ref["rows"] and "rows" in light["exact"]
    cols = {c["name"]: c for c in light["columns"]}
    assert cols["amount"]["kind"] == "numeric" and cols["amount"]["missing"] == 0
    mean = sum(ref["sum_by_region"].values()) / ref["rows"]
    assert close(cols["amount"]["mean"], mean), (cols["amount"]["mean"], mean)
    top = dict((k, v) for k, v in cols["region"]["top"])
    assert top == ref["count_by_region"], (top, ref["count_by_region"])
    assert any("sample of" in n for n in light.get("notes", [])), light.get("notes")
    print("ok - profile: exact rows, missing, mean and top counts; the rest from a stated sample")


def check_rerun(s, ref):
    """The Dask steps re-run from history in a fresh kernel with the same output."""
    r = s.d.call("history.rerun", {"project": s.project, "step": 1})
    assert r["ok"], r
    outs = [x["stdout"] for x in r["ran"] if x["stdout"].startswith("{")]
    got = json.loads(outs[-1].strip().splitlines()[-1])
    assert all(close(got["sum"][k], v) for k, v in ref["sum_by_region"].items()), got["sum"]
    print("ok - history re-run of the Dask steps in a fresh kernel: %d steps, same sums" % len(r["ran"]))


def check_no_sockets(s):
    """Without a scheduler configured, the kernel still has no sockets."""
    r, p = s.run_json("import socket\ntry:\n    socket.socket()\n    x = 'ok'\n"
                      "except OSError as e:\n    x = e.errno\nx")
    assert r and r["ok"] and r["result"]["repr"] == "13", (p.stdout, p.stderr)   # EACCES
    print("ok - no scheduler configured: socket() is still refused (EACCES)")


def check_export(s, ref):
    script = os.path.join(dasklib.TMP, "analysis.py")
    s.daa("-p", s.project, "export", "--script", script)
    p = subprocess.run(["/usr/bin/python3", script], capture_output=True, text=True, timeout=600,
                       env={"PATH": "/usr/bin:/bin", "HOME": dasklib.TMP,
                            "MPLCONFIGDIR": dasklib.TMP, "DAA_PROJECT_DIR": s.path})
    assert p.returncode == 0, p.stdout + p.stderr
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1]
    got = json.loads(line)
    assert all(close(got["sum"][k], v) for k, v in ref["sum_by_region"].items()), got["sum"]
    print("ok - the exported script reads the dataset with Dask too and prints the same sums")


def ask(s, request):
    p = s.daa("--json", "-p", s.project, "ask", request, timeout=300)
    r = json.loads(p.stdout)
    text = r.get("answer") or r.get("text") or json.dumps(r)
    return r, text


def last_step(s):
    hist = os.path.join(s.path, "history")
    with open(os.path.join(hist, sorted(os.listdir(hist))[-1])) as f:
        return f.read()


MARK = "profiling orders.csv"


def settle(s, limit=300):
    """Wait until no profile job runs; the orders profile's status."""
    deadline = time.monotonic() + limit
    while True:
        ds = {d["name"]: d for d in s.d.call("data.list", {"project": s.project})["datasets"]}
        states = [d["profile"]["state"] for d in ds.values()]
        if "running" not in states:
            return ds["orders"]["profile"]
        assert time.monotonic() < deadline, states
        time.sleep(0.2)


def profiled(s):
    """How many times the daemon has profiled orders.csv so far."""
    return s.d.log_text().count(MARK)


def conv(s, key, value):
    s.d.call("conventions.set", {"project": s.project, "key": key, "value": value})


def check_asks(s, ref):
    """The builtin analyst's three answers; conventions that do or do not make
    the profile again."""
    st = settle(s)
    assert st["state"] == "ready" and not st.get("outdated"), st
    before = profiled(s)
    r, text = ask(s, "average amount by region")
    code = last_step(s)
    assert ".compute()" in code and "loaded into memory" not in text, (code, text)
    for k, v in ref["mean_by_region"].items():
        assert has(text, v), (k, v, text)
    print("ok - average amount by region: Dask code, the 4 means of pandas in chunks")
    st = settle(s)
    conventions = s.d.call("conventions.get", {"project": s.project})
    text = repr(conventions)
    assert "date_columns" in text and "inferred" in text, text   # the turn saved some
    assert profiled(s) == before and st["state"] == "ready" and not st.get("outdated"), \
        (profiled(s) - before, st)
    print("ok - the first ask saved inferred conventions (date_columns) and did not "
          "profile the Dask dataset again")
    r, text = ask(s, "total amount per month")
    code = last_step(s)
    assert ".compute()" in code and "resample" in code, code
    months = sorted(ref["sum_by_month"])
    for k in (months[0], months[len(months) // 2], months[-1]):
        assert has(text, ref["sum_by_month"][k]), (k, ref["sum_by_month"][k], text)
    print("ok - total amount per month: %d months, first/middle/last equal pandas in chunks" % len(months))
    r, text = ask(s, "top 5 product by amount")
    code = last_step(s)
    assert ".compute()" in code, code
    top = sorted(ref["sum_by_product"].items(), key=lambda kv: -kv[1])[:5]
    for k, v in top:
        assert k in text and has(text, v), (k, v, text)
    print("ok - top 5 product by amount: the same 5 products and totals as pandas in chunks")
    settle(s)
    before = profiled(s)
    conv(s, "numeric_columns", ["no_such_column"])
    conv(s, "id_columns", ["order_id", "sales_only_id"])
    st = settle(s)
    assert profiled(s) == before and not st.get("outdated"), (profiled(s) - before, st)
    print("ok - conventions naming only columns orders does not have keep its profile")
    conv(s, "date_format", {"order_date": "%d/%m/%Y", "other": "%Y"})
    st = settle(s)
    assert profiled(s) == before + 1 and not st.get("outdated"), (profiled(s) - before, st)
    print("ok - a convention that changes how it loads (a per-column date format) "
          "profiles it again, once")


def main():
    skip_unless_built()
    path = dasklib.make_orders(rows=20000)   # about 13 blocks: size is not the point here
    ref = dasklib.pandas_in_chunks(path)
    assert os.path.getsize(path) * 5 > 2 * (dasklib.MEMORY_BUDGET_MB << 20)   # well over the budget
    with Session(config=dasklib.config()) as s:
        dasklib.project_with_orders(s, path)
        check_backend(s)
        check_conventions(s)
        check_answers(s, ref)
        check_profile(s, ref)
        check_rerun(s, ref)
        check_export(s, ref)
        check_no_sockets(s)
        check_asks(s, ref)
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
