#!/usr/bin/python3
"""tests/analyst/test_dask.py — the builtin analyst on a Dask-backed dataset
(sandbox/KERNEL.md "Datasets larger than memory"): the same requests over
the same data (examples/sales.csv) in two kernels of the real runtime, one
reading it with pandas, one with a memory budget so small that dfs["sales"]
is a Dask DataFrame.  For group-by sums/means, counts, top N, time series by
period, filters, describe and summary statistics the Dask run must write
Dask code (reductions end in .compute(), nothing loaded whole) and answer
with the same numbers as the pandas run."""
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

try:
    import dask  # noqa: F401
    import pandas  # noqa: F401
except ImportError as e:
    print("skip: %s (python3-dask; run with /usr/bin/python3)" % e)
    sys.exit(77)

CONVENTIONS = {"date_column": "order_date", "date_format": "%Y-%m-%d"}
REQUESTS = [
    "total revenue by region",
    "average revenue by region",
    "count orders by region",
    "top 5 products by revenue",
    "total revenue per month",
    "average unit_price per quarter",
    "number of orders per month",
    "total revenue in the West region",
    "average units where revenue > 1000",
    "total revenue in 2023",
    "describe the data",
    "revenue",
    "how many rows are there",
    "how many distinct customers",
    "max revenue",
    "median revenue",
]
LOADED = "are loaded into memory"
NUM = re.compile(r"-?\d[\d,]*\.?\d*")


class Kernel(harness.RuntimeKernel):
    """The runtime's Session bound with a `compute` setting."""

    def __init__(self, project, files, compute):
        sys.path.insert(0, os.path.join(harness.ROOT, "sandbox", "python"))
        os.environ["DAA_KERNEL_UNSANDBOXED"] = "1"
        os.environ.setdefault("MPLBACKEND", "Agg")
        from daakernel.session import Session
        self.sess = Session()
        self.sess.bind({"project": project, "outputs": os.path.join(project, "outputs"),
                        "tmp": os.path.join(project, ".tmp"), "datasets": files,
                        "conventions": CONVENTIONS, "compute": compute,
                        "sandbox": {"landlock": False, "allow_missing": True}})
        self.project = project


def kernel(root, name, compute):
    """A project folder holding sales.csv, bound to a kernel."""
    project = os.path.join(root, name)
    os.makedirs(os.path.join(project, "data"))
    shutil.copyfile(os.path.join(harness.ROOT, "examples", "sales.csv"),
                    os.path.join(project, "data", "sales.csv"))
    files = [{"name": "sales", "path": "data/sales.csv", "format": "csv"}]
    return Kernel(project, files, compute)


def numbers(text):
    """The numbers of an answer, in order, as floats (the approximate
    percentiles of the overview's describe table left out)."""
    return [float(n.replace(",", "")) for n in NUM.findall(text) if n.strip(",.")]


def run(k, analyst, request):
    prof = [k.profile("sales")]
    t = harness.run_turn(k, analyst, request, prof, CONVENTIONS)
    assert t.status == "done", (request, t.status, t.final)
    return t


def main():
    root = tempfile.mkdtemp(prefix="daa-analyst-dask-")
    analyst = harness.Analyst(inprocess=True, crosscheck_every=5)
    try:
        plain = kernel(root, "pandas", {"out_of_core": False})
        big = kernel(root, "dask", {"memory_budget_mb": 0.01})
        assert big.profile("sales").get("backend") == "dask"
        assert plain.profile("sales").get("backend") is None
        for req in REQUESTS:
            a, b = run(plain, analyst, req), run(big, analyst, req)
            code = "\n".join(b.code)
            assert ".compute()" in code or "len(sales)" in code, (req, code)   # len(): a Dask pass
            assert LOADED not in b.final, (req, b.final)
            assert "Error" not in b.final, (req, b.final)
            if req == "describe the data":   # Dask's percentiles are approximate: count rows and means
                na, nb = numbers(a.final)[:1], numbers(b.final)[:1]
            else:
                na, nb = numbers(a.final), numbers(b.final)
            assert len(na) == len(nb) and all(abs(x - y) <= 0.0051 + 1e-9 * abs(x) for x, y in zip(na, nb)), \
                (req, a.final, b.final)
            print("ok - %s: Dask code, the same %d numbers as pandas" % (req, len(na)))
        t = run(big, analyst, "box plot of revenue by region")
        assert LOADED in t.final and "Assumption" in t.final, t.final
        print("ok - an operation without a Dask form loads only the columns it needs and says so")
    finally:
        analyst.close()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
