"""tests/dask/bigdata.py — a CSV several times larger than the kernel's
real memory limit (kernel.mem_mb → RLIMIT_DATA), written fast, and its
answers from pandas reading it in chunks outside daa: what
test_five_times*.py share.

The file ("orders"): order_date (ISO dates, one per day over about three
years), region, product, amount, units and a 400-character note, so that
most bytes are one long text cell (cheap to parse, heavy in memory: loaded
whole, the notes alone are larger than the file).  It is a few distinct
blocks of rows written over and over until the size is reached.

The reference answers come from pandas reading the bytes written, outside
daa: each distinct block's CSV text once (expected()).  The file is the
header followed by those texts, so its rows, sums and counts are the
blocks' times how often each was written: the numbers pandas gives reading
the whole file in chunks (checked equal to 3e-8 on a 66 MiB file), without
one more pass over hundreds of MiB.

shared_big() writes such a file once per build tree and size: under
$DAA_BUILD/tests/bigdata/, named by its size, seed and a digest of this
file (the generator), with its reference answers beside it (JSON), so
later runs (and a `make check` after a `make test`) read it instead of
writing it again.  A lock makes a test that asks while another writes it
wait for that one."""
import fcntl
import hashlib
import io
import json
import os

import numpy as np
import pandas as pd

BLOCK_ROWS = 20000
BLOCKS = 8
NOTE_CHARS = 400
REGIONS = ["North", "South", "East", "West", "Centre"]
PRODUCTS = ["Desk", "Chair", "Lamp", "Shelf", "Sofa", "Rug", "Bed", "Stool"]


def _block(k, rng):
    """One block of rows as CSV bytes (no header); block k starts k*137 days in."""
    start = pd.Timestamp("2021-01-01") + pd.Timedelta(days=137 * k)
    days = rng.integers(0, 120, BLOCK_ROWS)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz     ", dtype="S1")
    notes = rng.choice(letters, (64, NOTE_CHARS)).view("S%d" % NOTE_CHARS).ravel().astype(str)
    d = pd.DataFrame({
        "order_date": (start + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
        "region": rng.choice(REGIONS, BLOCK_ROWS),
        "product": rng.choice(PRODUCTS, BLOCK_ROWS, p=np.linspace(2, 1, len(PRODUCTS)) / 12),
        "amount": rng.integers(100, 900000, BLOCK_ROWS) / 100,
        "units": rng.integers(1, 20, BLOCK_ROWS),
        "note": rng.choice(notes, BLOCK_ROWS)})
    return d.to_csv(index=False, header=False).encode()


HEADER = b"order_date,region,product,amount,units,note\n"


def write_big(path, size, seed=11):
    """Write at least `size` bytes of orders to path; returns (the byte
    count, [(a distinct block's CSV text, how many times it was written)])."""
    rng = np.random.default_rng(seed)
    blocks = [_block(k, rng) for k in range(BLOCKS)]
    times = [0] * BLOCKS
    with open(path, "wb") as f:
        f.write(HEADER)
        n = len(HEADER)
        k = 0
        while n < size:
            f.write(blocks[k % BLOCKS])
            n += len(blocks[k % BLOCKS])
            times[k % BLOCKS] += 1
            k += 1
    return n, list(zip(blocks, times))


def _totals(parts):
    """The reference answers from (pandas frame, weight) pairs: per region
    sum/count of amount, per month and per product sums, rows."""
    by_region, n_region, by_month, by_product = {}, {}, {}, {}
    rows = 0

    def add(acc, series, weight):
        for k, v in series.items():
            acc[k] = acc.get(k, 0) + v * weight

    for part, weight in parts:
        rows += len(part) * weight
        month = pd.to_datetime(part["order_date"], format="%Y-%m-%d").dt.to_period("M").astype(str)
        add(by_region, part.groupby("region")["amount"].sum(), weight)
        add(n_region, part.groupby("region")["amount"].count(), weight)
        add(by_month, part.groupby(month)["amount"].sum(), weight)
        add(by_product, part.groupby("product")["amount"].sum(), weight)
    return {"sum_by_region": by_region, "count_by_region": n_region,
            "mean_by_region": {k: by_region[k] / n_region[k] for k in by_region},
            "sum_by_month": by_month, "sum_by_product": by_product, "rows": rows}


USECOLS = ["order_date", "region", "product", "amount"]


def expected(blocks):
    """The reference answers for a file write_big wrote, from pandas
    reading each distinct block's CSV text (header + block) once."""
    return _totals((pd.read_csv(io.BytesIO(HEADER + text), usecols=USECOLS), times)
                   for text, times in blocks if times)


def _generator_digest():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def _cache_dir():
    build = os.environ.get("DAA_BUILD") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    return os.path.join(build, "tests", "bigdata")


def shared_big(size, seed=11):
    """(path, byte count, reference answers) of a file write_big(size,
    seed) wrote, kept under the build tree: written (with expected() of
    its blocks) by the first test that asks, read by the others.  Files of
    an older generator are removed.  The file is the tests' to read, not
    to change: copy it (`daa add` does)."""
    folder = _cache_dir()
    os.makedirs(folder, exist_ok=True)
    digest = _generator_digest()
    stem = os.path.join(folder, "orders-%d-%d-%s" % (size, seed, digest))
    with open(os.path.join(folder, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # released when the file closes
        try:
            with open(stem + ".json") as f:
                ref = json.load(f)
            if os.path.getsize(stem + ".csv") == ref["bytes"]:
                return stem + ".csv", ref["bytes"], ref["answers"]
        except (OSError, ValueError, KeyError):
            pass
        for name in os.listdir(folder):   # an older generator's files
            if name.startswith("orders-") and digest not in name:
                os.unlink(os.path.join(folder, name))
        n, blocks = write_big(stem + ".csv.new", size, seed)
        text = json.dumps({"bytes": n, "answers": expected(blocks)},
                          default=lambda v: v.item())   # numpy numbers
        os.rename(stem + ".csv.new", stem + ".csv")
        with open(stem + ".json.new", "w") as f:
            f.write(text)
        os.rename(stem + ".json.new", stem + ".json")
        return stem + ".csv", n, json.loads(text)["answers"]


def config(limit_mb):
    """The daemon's config: the kernel's real memory limit (RLIMIT_DATA) is
    limit_mb; the out-of-core rule is daa's default (half of it)."""
    return {"kernel": {"mem_mb": limit_mb}}


def file_size(path):
    return os.path.getsize(path)
