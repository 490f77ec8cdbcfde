"""Values made safe for msgpack and the daemon's JSON: cells (Timestamps to ISO
strings, NaN/NaT to nil, numpy scalars to Python, infinities and huge ints to
strings), DataFrame/Series previews (shape, columns, dtypes, first/last rows)
and capped reprs."""

import datetime
import math
import reprlib

import numpy as np
import pandas as pd

CELL_MAX = 200       # characters kept of one text cell
PREVIEW_ROWS = 5     # head and tail rows
PREVIEW_COLS = 50    # columns with cells in a preview
NAMES_MAX = 500      # column names / dtypes listed


def _cap(s, n=CELL_MAX):
    """Shorten a string to n characters with an ellipsis."""
    return s if len(s) <= n else s[:n - 1] + "\u2026"


def _number(v):
    """int/float (numpy or not) as something msgpack and JSON both accept."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        i = int(v)
        return i if -(1 << 63) <= i < (1 << 64) else str(i)
    f = float(v)
    if math.isnan(f):
        return None
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return f


def cell(v):
    """One value converted to str/int/float/bool/nil."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, str):
        return _cap(v)
    if isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)):
        return _number(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).isoformat()
    if isinstance(v, (bytes, bytearray)):
        return _cap(bytes(v).decode("utf-8", "replace"))
    try:
        if v is pd.NA or (np.ndim(v) == 0 and pd.isna(v) is True):
            return None
    except (TypeError, ValueError):
        pass
    try:
        return _cap(str(v))
    except Exception:
        return "<unprintable %s>" % type(v).__name__


def safe(obj, depth=0):
    """A nested structure of dicts/lists/scalars made msgpack-safe."""
    if depth > 20:
        return cell(obj)
    if isinstance(obj, dict):
        return {str(k): safe(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [safe(v, depth + 1) for v in obj]
    return cell(obj)


def _label(c):
    """A column or index name as a string (tuples from MultiIndex joined)."""
    if isinstance(c, tuple):
        return " | ".join(str(x) for x in c)
    return c if isinstance(c, str) else str(c)


def _rows(frame):
    """Rows of a (small) frame as lists of cells."""
    return [[cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def preview(obj, name=None):
    """A DataFrame or Series as the PREVIEW map of sandbox/KERNEL.md."""
    kind = "Series" if isinstance(obj, pd.Series) else "DataFrame"
    frame = obj.to_frame(name=_label(obj.name) if obj.name is not None else "")\
        if kind == "Series" else obj
    nrows, ncols = frame.shape
    part = frame.iloc[:, :PREVIEW_COLS]
    if nrows <= 2 * PREVIEW_ROWS:
        head, tail = part, part.iloc[0:0]
    else:
        head, tail = part.iloc[:PREVIEW_ROWS], part.iloc[-PREVIEW_ROWS:]
    p = {"kind": kind, "shape": [int(nrows), int(ncols)],
         "columns": [_label(c) for c in frame.columns[:NAMES_MAX]],
         "dtypes": [str(t) for t in frame.dtypes.iloc[:NAMES_MAX]],
         "index": [cell(_label(i) if isinstance(i, tuple) else i) for i in head.index],
         "tail_index": [cell(_label(i) if isinstance(i, tuple) else i) for i in tail.index],
         "head": _rows(head), "tail": _rows(tail),
         "columns_truncated": ncols > PREVIEW_COLS}
    if name:
        p["name"] = name
    return p


def is_table(obj):
    """True for the values shown as tables (DataFrame, Series)."""
    return isinstance(obj, (pd.DataFrame, pd.Series))


_SHORT = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = _SHORT.maxfrozenset = 1000
_SHORT.maxdict = 1000
_SHORT.maxstring = _SHORT.maxother = 100000
_SHORT.maxlevel = 20


def capped_repr(obj, limit):
    """repr(obj) cut to `limit` characters with a visible marker (long
    builtin containers are shortened first instead of built in full)."""
    try:
        big = isinstance(obj, (list, tuple, set, frozenset, dict)) and len(obj) > 1000
        r = _SHORT.repr(obj) if big else repr(obj)
    except Exception as e:
        return "<repr failed: %s: %s>" % (type(e).__name__, e)
    if len(r) > limit:
        r = r[:limit] + "\n... [truncated %d chars]" % (len(r) - limit)
    return r
