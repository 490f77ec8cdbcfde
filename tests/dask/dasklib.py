"""tests/dask/dasklib.py — what the Dask suite shares: a generated CSV
("orders": text dates day-first, amounts written with thousands separators,
zero-padded ids), its answers computed with pandas in chunks outside daa,
and a private daad whose kernels treat anything over MEMORY_BUDGET_MB x 5
as too large for memory (compute.memory_budget_mb), so a small file tests
the out-of-core path.  Each test has its own temp dir (removed at exit)."""
import atexit
import os
import re
import shutil
import sys
import tempfile

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "kernel"))
from kcli import Session, skip_unless_built  # noqa: E402,F401

try:
    import numpy as np
    import pandas as pd
    import dask  # noqa: F401
except ImportError as e:
    print("skip: %s (python3-dask; run with /usr/bin/python3)" % e)
    sys.exit(77)

MEMORY_BUDGET_MB = 1
TMP = tempfile.mkdtemp(prefix="daa-dask-")
atexit.register(shutil.rmtree, TMP, True)
CONVENTIONS = {"date_column": "order_date", "date_format": "%d/%m/%Y",
               "thousands_separator": ",", "id_columns": ["order_id"]}


def make_orders(rows=60000, seed=7):
    """Write orders.csv (about 3 MiB for 60,000 rows); returns its path."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({
        "order_id": ["%08d" % i for i in range(rows)],
        "order_date": pd.date_range("2022-01-01", periods=rows, freq="17min").strftime("%d/%m/%Y"),
        "region": rng.choice(["North", "South", "East", "West"], rows),
        "product": rng.choice(["Desk", "Chair", "Lamp", "Shelf", "Sofa", "Rug", "Bed"], rows),
        "units": rng.integers(1, 20, rows),
        "amount": ["{:,.2f}".format(v) for v in rng.integers(100, 900000, rows) / 100]})
    path = os.path.join(TMP, "orders.csv")
    d.to_csv(path, index=False)
    return path


def pandas_in_chunks(path, chunk=7000):
    """The reference answers, from pandas reading the file in chunks (as
    someone would outside daa): per region sum/count of amount, per month
    sum, per product sum, rows, total units."""
    by_region, n_region, by_month, by_product = {}, {}, {}, {}
    rows, units = 0, 0
    for part in pd.read_csv(path, chunksize=chunk, thousands=",", dtype={"order_id": str}):
        part["order_date"] = pd.to_datetime(part["order_date"], format="%d/%m/%Y")
        rows += len(part)
        units += int(part["units"].sum())
        for k, v in part.groupby("region")["amount"].sum().items():
            by_region[k] = by_region.get(k, 0.0) + v
        for k, v in part.groupby("region")["amount"].count().items():
            n_region[k] = n_region.get(k, 0) + int(v)
        for k, v in part.groupby(part["order_date"].dt.to_period("M"))["amount"].sum().items():
            by_month[str(k)] = by_month.get(str(k), 0.0) + v
        for k, v in part.groupby("product")["amount"].sum().items():
            by_product[k] = by_product.get(k, 0.0) + v
    return {"sum_by_region": by_region, "count_by_region": n_region,
            "mean_by_region": {k: by_region[k] / n_region[k] for k in by_region},
            "sum_by_month": by_month, "sum_by_product": by_product, "rows": rows, "units": units}


def config(**extra):
    """The daemon's config.json for these tests."""
    compute = {"memory_budget_mb": MEMORY_BUDGET_MB}
    compute.update(extra)
    return {"compute": compute}


def project_with_orders(s, path, conventions=CONVENTIONS):
    """Add orders.csv to the session's project and set the conventions."""
    s.daa("-p", s.project, "add", path)
    for k, v in conventions.items():
        s.d.call("conventions.set", {"project": s.project, "key": k, "value": v})


def close(a, b, tol=1e-6):
    """Numbers equal up to float rounding."""
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(a)), abs(float(b)))


NUM = re.compile(r"-?\d[\d,]*\.\d+|-?\d[\d,]*")


def numbers(text):
    return [float(n.replace(",", "")) for n in NUM.findall(text)]


def has(text, value):
    """value appears in the answer, printed to 2 decimals."""
    return any(abs(n - value) <= 0.0051 for n in numbers(text))
