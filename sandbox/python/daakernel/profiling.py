"""The `profile` request: a compact description of a DataFrame for the agent's
context: per column the dtype, a kind (numeric, datetime, categorical, text,
bool, id), missing and distinct counts, min/max/mean, sample values, and hints
for text columns that should be converted: `date_like` (with the guessed
format, or the candidates when day/month order is ambiguous) and
`numeric_text` (with the thousands/decimal separators seen)."""

import datetime
import re

import pandas as pd

from .datasets import _THOUSANDS
from .preview import cell

SAMPLE_FOR_HINTS = 200
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
                "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z",
                "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%d.%m.%Y",
                "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
                "%d/%m/%y", "%m/%d/%y", "%d-%b-%Y", "%d-%b-%y",
                "%b %d, %Y", "%d %b %Y", "%B %d, %Y", "%d %B %Y", "%Y-%m", "%b %Y", "%B %Y",
                "%Y%m%d"]
_DIGITY = re.compile(r"[0-9]")
_ID_NAME = re.compile(r"(^|_|\b)(id|key|code|uuid|guid|sku)$|id$", re.I)
_SYMBOLS = re.compile(r"^[$€£¥]|[$€£¥%]$")


def guess_date_formats(values):
    """The formats (from DATE_FORMATS) every value parses with."""
    vals = [v.strip() for v in values]
    if not vals or not all(_DIGITY.search(v) for v in vals):
        return []
    ok = []
    for fmt in DATE_FORMATS:
        if fmt == "%Y%m%d" and not all(len(v) == 8 for v in vals):
            continue
        try:
            for v in vals:
                datetime.datetime.strptime(v, fmt)
        except ValueError:
            continue
        ok.append(fmt)
    return ok


def numeric_text(values):
    """{thousands, decimal, symbol?} when all values are numbers written as
    text with separators (at least one separator or symbol seen), else None."""
    stripped = [_SYMBOLS.sub("", v.strip()) for v in values]
    symbol = any(s != v.strip() for s, v in zip(stripped, values))
    for sep, dec in ((",", "."), (".", ","), (" ", ","), ("'", ".")):
        pat = _THOUSANDS[sep]
        if all(pat.match(s) for s in stripped) and (symbol or any(sep in s for s in stripped)):
            if sep == " " and not any(" " in s for s in stripped):
                continue
            out = {"thousands": sep, "decimal": dec}
            if symbol:
                out["symbol"] = True
            return out
    if symbol and all(re.match(r"^[-+]?\d+(\.\d+)?$", s) for s in stripped):
        return {"thousands": "", "decimal": ".", "symbol": True}
    return None


def _text_hints(col, s):
    """Hints for an object column (date-like, numbers stored as text)."""
    vals = s.dropna().astype(str)
    vals = vals[vals.str.strip() != ""].head(SAMPLE_FOR_HINTS).tolist()
    if not vals:
        return
    fmts = guess_date_formats(vals)
    if fmts:
        col.setdefault("hints", []).append("date_like")
        col["date_format"] = fmts[0]
        if len(fmts) > 1:
            col["date_formats"] = fmts   # e.g. %d/%m/%Y vs %m/%d/%Y: ask the user
        return
    num = numeric_text(vals)
    if num:
        col.setdefault("hints", []).append("numeric_text")
        col["numeric_text"] = num


def _kind(name, s, nonnull, distinct):
    """numeric | datetime | categorical | text | bool | id for one column."""
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    idlike = nonnull > 1 and distinct == nonnull and bool(_ID_NAME.search(str(name)))
    if pd.api.types.is_numeric_dtype(s):
        return "id" if idlike and pd.api.types.is_integer_dtype(s) else "numeric"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if idlike:
        return "id"
    if distinct <= max(20, nonnull // 20) and distinct < nonnull:
        return "categorical"
    return "text"


def _stats(col, s, kind):
    """min/max (and mean for numbers) for numeric and datetime columns."""
    try:
        if kind in ("numeric", "id") and not pd.api.types.is_bool_dtype(s):
            col["min"], col["max"] = cell(s.min()), cell(s.max())
            col["mean"] = cell(s.mean())
        elif kind == "datetime":
            col["min"], col["max"] = cell(s.min()), cell(s.max())
    except (TypeError, ValueError):
        pass


def _samples(s, n=5):
    """Up to n distinct non-missing values, in order of appearance."""
    out = []
    for v in s.dropna().head(1000):
        c = cell(v)
        if c not in out:
            out.append(c)
            if len(out) == n:
                break
    return out


def _column(name, s, rows, samples):
    """The profile of one column."""
    nonnull = int(s.notna().sum())
    try:
        distinct = int(s.nunique(dropna=True))
    except TypeError:   # unhashable cells (lists, dicts)
        distinct = int(s.astype(str).nunique(dropna=True))
    kind = _kind(name, s, nonnull, distinct)
    col = {"name": str(name), "dtype": str(s.dtype), "kind": kind,
           "missing": rows - nonnull, "distinct": distinct}
    _stats(col, s, kind)
    if s.dtype == object:
        _text_hints(col, s)
    if kind == "categorical" and distinct <= 20:
        top = s.value_counts().head(10)
        col["top"] = [[cell(k), int(v)] for k, v in top.items()]
    if samples:
        col["samples"] = _samples(s)
    return col


def profile(frame, name, samples=True):
    """{name, rows, columns: [...]} for a DataFrame (duplicate column names
    are profiled one by one)."""
    rows = int(len(frame))
    cols = [_column(frame.columns[i], frame.iloc[:, i], rows, samples)
            for i in range(frame.shape[1])]
    return {"name": name, "rows": rows, "columns": cols}


# ---- Dask-backed datasets (outofcore.py) ----------------------------------
# Kinds, distinct counts, samples, hints and the daa_tools summary come from
# a sample of DASK_SAMPLE_ROWS rows taken from up to DASK_SAMPLE_PARTS
# partitions spread over the file; rows, missing values, min/max/mean and the
# top values of categorical columns are computed exactly, in one pass.
DASK_SAMPLE_ROWS = 10000
DASK_SAMPLE_PARTS = 8


def dask_sample(ddf):
    """(pandas sample, sentence saying how it was taken)."""
    import dask
    n = ddf.npartitions
    k = max(1, min(DASK_SAMPLE_PARTS, n))
    parts = sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)})
    per = max(1, DASK_SAMPLE_ROWS // len(parts))
    heads = dask.compute(*[ddf.get_partition(i).head(per, npartitions=1, compute=False)
                           for i in parts])
    sample = pd.concat(heads, ignore_index=True)
    how = ("a sample of %d rows (the first %d rows of %d of the %d partitions, spread over "
           "the file)" % (len(sample), per, len(parts), n))
    return sample, how


def _exact_tasks(ddf, prof):
    """The lazy exact counts: {key: dask object}."""
    tasks = {"rows": ddf.shape[0], "count": ddf.count()}
    for col in prof["columns"]:
        name, kind = col["name"], col["kind"]
        if name not in ddf.columns:
            continue
        s = ddf[name]
        if kind in ("numeric", "id") and pd.api.types.is_numeric_dtype(s.dtype) \
                and not pd.api.types.is_bool_dtype(s.dtype):
            tasks[("min", name)], tasks[("max", name)], tasks[("mean", name)] = s.min(), s.max(), s.mean()
        elif kind == "datetime":
            tasks[("min", name)], tasks[("max", name)] = s.min(), s.max()
        elif kind in ("categorical", "bool") and col.get("distinct", 99) <= 20:
            tasks[("top", name)] = s.value_counts()
    return tasks


def profile_dask(ddf, name, samples=True, reason=None):
    """The profile of a Dask DataFrame: the light profile of a sample, with
    the exact counts computed over the whole file put in its place."""
    import dask
    sample, how = dask_sample(ddf)
    prof = profile(sample, name, samples)
    tasks = _exact_tasks(ddf, prof)
    keys = list(tasks)
    got = dict(zip(keys, dask.compute(*[tasks[k] for k in keys])))
    rows = int(got["rows"])
    prof["rows"] = rows
    for col in prof["columns"]:
        n = col["name"]
        if n in got["count"].index:
            col["missing"] = rows - int(got["count"][n])
        for stat in ("min", "max", "mean"):
            if (stat, n) in got:
                col[stat] = cell(got[(stat, n)])
        if ("top", n) in got:
            vc = got[("top", n)]
            col["distinct"] = int(len(vc))
            col["top"] = [[cell(k), int(v)] for k, v in vc.head(10).items()]
        col["distinct_from_sample"] = ("top", n) not in got
    prof["backend"] = "dask"
    prof["partitions"] = int(ddf.npartitions)
    prof["sample_rows"] = int(len(sample))
    prof["exact"] = ["rows", "missing", "min", "max", "mean",
                     "top and distinct of categorical columns"]
    prof["notes"] = [("dataset %r is Dask-backed (%s): dfs[%r] is a Dask DataFrame; end "
                      "computations with .compute()" % (name, reason or "too large for memory", name)),
                     ("profile: rows, missing values, min/max/mean and the top values of "
                      "categorical columns are exact (one pass over the file); kinds, distinct "
                      "counts of other columns, samples and hints come from %s" % how)]
    return prof, sample
