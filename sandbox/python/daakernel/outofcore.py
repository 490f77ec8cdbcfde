"""Out-of-core datasets: a CSV/TSV too large for the kernel's memory is
exposed in `dfs` as a Dask DataFrame, read in blocks with the project's
conventions applied (separator, encoding, thousands/decimal separators, NA
markers, id columns as text, numbers stored as text, dates).

The rule (sandbox/KERNEL.md): Dask-backed when
    file size x expansion_factor > memory budget
with expansion_factor 5 (a CSV grows about that much as a DataFrame) and the
budget half of what the runtime leaves of the kernel's memory limit
(RLIMIT_DATA minus OOC_RUNTIME_MB; at least an eighth of the limit), both
overridable by the bind request's `compute` ({memory_budget_mb,
expansion_factor, dask_scheduler}; daad sends the budget it computes the
same way).  Computation runs on Dask's threaded scheduler inside the
kernel (threads only: no new process, no socket) unless `dask_scheduler`
names a dask.distributed scheduler, which then gets the work.

Self-contained apart from the names imported from datasets.py: daa's export
(daemon/history/history_export.c) concatenates datasets.py and this file into a
standalone script and drops the lines marked as export-skipped (the
package-relative imports below)."""

import codecs
import os
import resource
import tempfile

import pandas as pd

from .datasets import (DatasetError, _THOUSANDS, _as_list, _date_format,  # daa-export: skip
                       _sniff_sep)  # daa-export: skip

OOC_FORMATS = ("csv", "tsv")
OOC_DEFAULT_FACTOR = 5.0
OOC_MIN_BLOCK = 64 << 10
OOC_MAX_BLOCK = 64 << 20
OOC_TYPE_ROWS = 20000        # rows read with pandas to fix the column types
OOC_RUNTIME_MB = 160         # the runtime's own share of RLIMIT_DATA (daemon/core/config.c)
_ooc_state = {"client": None, "address": None, "configured": None, "malloc": False}
# glibc's malloc once Dask reads blocks here: blocks under 32 MiB from the
# heap and up to 64 MiB of free heap kept (glibc's own dynamic ceilings,
# fixed).  With the defaults each block's arrays went back to the system
# and were faulted in again: a pass over a file larger than memory spent a
# third of its CPU in page faults.  Not set for kernels without Dask work:
# near the memory limit it leaves pandas ~10% less room (measured: a
# 416 MiB limit read 1.57 M rows of a CSV where the defaults read 1.7 M).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
OOC_MALLOC_MMAP = 32 << 20
OOC_MALLOC_TRIM = 64 << 20


def ooc_budget_bytes(compute):
    """The memory budget for one dataset: compute.memory_budget_mb, else half
    of what the runtime leaves of the kernel's memory limit (RLIMIT_DATA;
    3/4 of RAM when unlimited), at least an eighth of the limit."""
    mb = (compute or {}).get("memory_budget_mb")
    if isinstance(mb, (int, float)) and not isinstance(mb, bool) and mb > 0:
        return int(mb * (1 << 20))
    try:
        soft = resource.getrlimit(resource.RLIMIT_DATA)[0]
    except (OSError, ValueError):
        soft = resource.RLIM_INFINITY
    if soft == resource.RLIM_INFINITY or soft <= 0:
        soft = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 3 // 4
    return max((int(soft) - (OOC_RUNTIME_MB << 20)) // 2, int(soft) // 8)


def ooc_factor(compute):
    """compute.expansion_factor (a positive number), else 5."""
    f = (compute or {}).get("expansion_factor")
    if isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0:
        return float(f)
    return OOC_DEFAULT_FACTOR


def ooc_wanted(path, fmt, compute):
    """Why this file is read with Dask (a sentence), or None for pandas."""
    if (compute or {}).get("out_of_core") is False or fmt not in OOC_FORMATS:
        return None
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    budget, factor = ooc_budget_bytes(compute), ooc_factor(compute)
    if size * factor <= budget:
        return None
    return ("the file (%s) x %g is more than the kernel's memory budget (%s)"
            % (_ooc_size(size), factor, _ooc_size(budget)))


def _ooc_size(n):
    """1536 -> '1.5 KiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "bytes" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


def ooc_blocksize(compute):
    """Bytes per block: a fraction of the budget, 64 KiB to 64 MiB."""
    per = ooc_budget_bytes(compute) // int(ooc_factor(compute) * 4)
    return max(OOC_MIN_BLOCK, min(OOC_MAX_BLOCK, per))


def ooc_keep_blocks():
    """Set the malloc thresholds above (once; not glibc: nothing)."""
    if _ooc_state["malloc"]:
        return
    _ooc_state["malloc"] = True
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, OOC_MALLOC_MMAP)
        libc.mallopt(M_TRIM_THRESHOLD, OOC_MALLOC_TRIM)
    except (OSError, AttributeError):
        pass


def ooc_setup(compute, notes=None):
    """Choose where Dask computes: the configured distributed scheduler (one
    Client, made once), else the threaded scheduler of this process.
    Spill files go to the private temp dir."""
    import dask
    ooc_keep_blocks()
    addr = (compute or {}).get("dask_scheduler") or None
    if _ooc_state["configured"] == addr and (addr is None or _ooc_state["client"] is not None):
        return _ooc_state["client"]
    dask.config.set({"temporary-directory": tempfile.gettempdir()})
    threads = int(os.environ.get("OMP_NUM_THREADS") or 0) or (os.cpu_count() or 1)
    dask.config.set(scheduler="threads", num_workers=max(1, min(threads, 8)))
    _ooc_state["configured"] = addr
    if addr:
        try:
            from distributed import Client
            _ooc_state["client"] = Client(addr, timeout="10s", set_as_default=True)
            _ooc_state["address"] = addr
        except Exception as e:   # unreachable: compute here rather than not at all
            if notes is not None:
                notes.append("the Dask scheduler %s is not reachable (%s: %s); computing in "
                             "this kernel instead (`daa doctor` checks the scheduler)"
                             % (addr, type(e).__name__, e))
    return _ooc_state["client"]


def ooc_client():
    """The dask.distributed Client in use, or None (threaded scheduler)."""
    return _ooc_state["client"]


def ooc_futures():
    """The keys of the futures the cluster client holds now (a snapshot
    taken as a step starts), or None without a client."""
    c = _ooc_state["client"]
    try:
        return None if c is None else set(c.futures)
    except Exception:
        return None


def ooc_cancel_since(before):
    """After an interrupted step: cancel on the cluster the futures made
    since the snapshot `before` (that step's work, also futures it kept in
    a variable), so the cluster does not compute on for nothing; returns how
    many.  A .compute() releases its own; this catches the rest."""
    c = _ooc_state["client"]
    if c is None or before is None:
        return 0
    try:
        from distributed import Future
        new = [k for k in list(c.futures) if k not in before]
        if new:
            c.cancel([Future(k, c, inform=False) for k in new])
        return len(new)
    except BaseException:   # a second interrupt, a lost scheduler: never fail the reply
        return 0


def _ooc_csv_kwargs(path, fmt, c):
    """read_csv arguments from the conventions (as datasets._read_csv)."""
    kw = {}
    for key, arg in (("thousands_separator", "thousands"), ("decimal_separator", "decimal")):
        if c.get(key):
            kw[arg] = str(c[key])
    if c.get("na_values"):
        kw["na_values"] = _as_list(c["na_values"])
    encodings = [c["encoding"]] if c.get("encoding") else ["utf-8", "cp1252", "latin-1"]
    with open(path, "rb") as f:
        head = f.read(4 << 20)
    for enc in encodings:       # the first 4 MiB decide (pandas: the whole file)
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
        except (UnicodeDecodeError, LookupError):
            continue
        kw["encoding"] = enc
        break
    else:
        raise DatasetError("cannot decode %s as %s; set the `encoding` convention"
                           % (path, "/".join(encodings)))
    kw["sep"] = "\t" if fmt == "tsv" else (c.get("csv_separator") or _sniff_sep(path, kw["encoding"]))
    return kw


def _ooc_types(sample, ids):
    """Column types for every block, from the first rows: integers become
    float64 (a later block may hold a missing value), booleans the nullable
    boolean, ids text."""
    out = {}
    for col, dt in sample.dtypes.items():
        if str(col) in ids or dt == object:
            out[col] = "object"
        elif pd.api.types.is_bool_dtype(dt):
            out[col] = "boolean"
        elif pd.api.types.is_numeric_dtype(dt):
            out[col] = "float64"
        else:
            out[col] = "object"
    return out


def _ooc_numeric_cols(sample, c):
    """Text columns to turn into numbers: numeric_columns, and (with a
    thousands_separator) those whose sampled values all match it."""
    sep = c.get("thousands_separator")
    named = set(_as_list(c.get("numeric_columns")))
    ids = set(_as_list(c.get("id_columns")))
    pat = _THOUSANDS.get(str(sep)) if sep else None
    cols = []
    for col in sample.columns:
        if sample[col].dtype != object or str(col) in ids:
            continue
        if str(col) in named:
            cols.append(col)
        elif pat is not None:
            vals = sample[col].dropna().astype(str).str.strip()
            if len(vals) and vals.str.match(pat).all() and vals.str.contains(str(sep), regex=False).any():
                cols.append(col)
    return cols


def _ooc_numbers(s, sep, dec):
    """A Dask column of text numbers as floats, as datasets.to_number does,
    written with Dask's own string methods: the graph then holds only
    pandas/dask functions, which a dask.distributed worker can unpickle
    without daa's runtime."""
    import dask.dataframe as dd
    t = s.astype("string").str.strip().str.replace(r"^[$€£¥]|[$€£¥%]$", "", regex=True)
    if sep:
        t = t.str.replace(sep, "", regex=False)
    if dec and dec != ".":
        t = t.str.replace(dec, ".", regex=False)
    return dd.to_numeric(t, errors="coerce").astype("float64")


def ooc_read(path, fmt, c, name, notes, compute):
    """The dataset as a Dask DataFrame with the conventions applied."""
    import dask.dataframe as dd
    ooc_setup(compute, notes)
    kw = _ooc_csv_kwargs(path, fmt, c)
    ids = set(_as_list(c.get("id_columns")))
    sample = pd.read_csv(path, nrows=OOC_TYPE_ROWS, low_memory=False,
                         dtype={k: str for k in ids} or None, **kw)
    ddf = dd.read_csv(path, blocksize=ooc_blocksize(compute), dtype=_ooc_types(sample, ids),
                      **kw)
    sep, dec = c.get("thousands_separator") or ",", c.get("decimal_separator") or "."
    for col in _ooc_numeric_cols(sample, c):
        ddf[col] = _ooc_numbers(ddf[col], str(sep), dec)
    for col in _as_list(c.get("date_column")) + _as_list(c.get("date_columns")):
        if col not in ddf.columns:
            continue
        fmt_ = _date_format(c, col)
        dkw = {"format": fmt_} if fmt_ else {"dayfirst": bool(c.get("dayfirst"))}
        ddf[col] = ddf[col].map_partitions(pd.to_datetime, errors="coerce", meta=(col, "M8[ns]"), **dkw)
    return ddf


def is_dask(obj):
    """Is obj a Dask collection (DataFrame, Series, scalar)?"""
    mod = type(obj).__module__ or ""
    return mod.startswith("dask.")
