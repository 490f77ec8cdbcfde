#!/usr/bin/python3
"""tests/dask/test_ask.py — `daa ask` with the builtin analyst (no LLM
configured) on a dataset over the kernel's memory budget: "average amount by
region", "total amount per month" and "top 5 product by amount" are answered
with Dask code (saved in history/) and the numbers pandas gives when it
reads the file in chunks outside daa.

In the same session (formerly test_reprofile.py): a convention saved that
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
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402

NUM = re.compile(r"-?\d[\d,]*\.\d+|-?\d[\d,]*")


def numbers(text):
    return [float(n.replace(",", "")) for n in NUM.findall(text)]


def has(text, value):
    """value appears in the answer, printed to 2 decimals."""
    return any(abs(n - value) <= 0.0051 for n in numbers(text))


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


def main():
    skip_unless_built()
    path = dasklib.make_orders(rows=20000)   # about 13 blocks: size is not the point here
    ref = dasklib.pandas_in_chunks(path)
    with Session(config=dasklib.config()) as s:
        dasklib.project_with_orders(s, path)
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
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
