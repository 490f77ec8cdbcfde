"""Column type inference beyond the dtype, and the per-column warnings of a
profile: numeric, categorical, datetime, boolean, text, identifier; dates and
numbers stored as text; mixed types."""

import re
import warnings

import numpy as np
import pandas as pd

_BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f", "0", "1"}
_ID_NAME = re.compile(r"(^|[_\s-])(id|key|uuid|guid|code|number|no|nr)$|^id[_\s-]|id$", re.I)
_NUM_SEP = re.compile(r"^\s*[-+]?[$€£]?\s*\d{1,3}([,.' \u00a0]\d{3})+([.,]\d+)?\s*%?\s*$")
_NUM_PLAIN = re.compile(r"^\s*[-+]?[$€£]?\s*\d+([.,]\d+)?\s*%?\s*$")
_DATE_LIKE = re.compile(r"^\s*(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?"
                        r"|\d{1,2} [A-Za-z]{3,9} \d{4}|[A-Za-z]{3,9} \d{1,2},? \d{4})\s*$")
SAMPLE = 5000


def _sample_text(s):
    """Up to SAMPLE non-null values of s as stripped strings (deterministic)."""
    s = s.dropna()
    if len(s) > SAMPLE:
        s = s.sample(SAMPLE, random_state=0)
    return s.astype(str).str.strip()


def _share(values, pattern):
    """Share of values matching a regex."""
    if len(values) == 0:
        return 0.0
    return float(values.str.match(pattern).mean())


def _looks_like_id(s, name, nonnull, distinct):
    """Unique (or nearly) values with an id-like name, or unique short tokens."""
    if nonnull < 10 or distinct < 0.95 * nonnull:
        return False
    if _ID_NAME.search(str(name).strip()):
        return True
    if pd.api.types.is_integer_dtype(s) and distinct == nonnull:
        vals = s.dropna()
        return bool(vals.is_monotonic_increasing and vals.diff().dropna().eq(1).mean() > 0.95)
    if s.dtype == object and distinct == nonnull:
        txt = _sample_text(s)
        return bool(txt.str.len().max() <= 40 and not txt.str.contains(" ").any()
                    and txt.str.contains(r"\d").mean() > 0.5)
    return False


def _text_kind(s, nonnull, distinct):
    """For object columns: datetime, numeric (with separators), boolean, text,
    categorical — and notes on what the text really holds."""
    txt = _sample_text(s)
    notes = []
    if len(txt) == 0:
        return "categorical", notes
    if set(txt.str.lower().unique()) <= _BOOL_WORDS and txt.nunique() <= 2:
        return "boolean", notes
    date_share = _share(txt, _DATE_LIKE)
    if date_share >= 0.9:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(txt, errors="coerce")
        if parsed.notna().mean() >= 0.9:
            notes.append("date stored as text")
            return "datetime", notes
    sep, plain = _share(txt, _NUM_SEP), _share(txt, _NUM_PLAIN)
    if sep > 0 and sep + plain >= 0.9:
        notes.append("numbers stored as text with separators")
        return "numeric", notes
    if plain >= 0.9:
        notes.append("numbers stored as text")
        return "numeric", notes
    if 0.1 <= sep + plain < 0.9:
        notes.append("mixed types: %d%% of the values are numbers" % round(100 * (sep + plain)))
    types = {type(v).__name__ for v in s.dropna().head(SAMPLE)}
    if len(types) > 1:
        notes.append("mixed types: " + ", ".join(sorted(types)))
    if txt.str.len().mean() > 30 or (txt.str.count(" ").mean() >= 3 and distinct > 0.5 * nonnull):
        return "text", notes
    return "categorical", notes


def infer_type(s, name=None):
    """(type, notes) of a Series: type among numeric, categorical, datetime,
    boolean, text, identifier; notes say what text columns really hold."""
    name = s.name if name is None else name
    nonnull = int(s.notna().sum())
    distinct = int(s.nunique(dropna=True))
    if pd.api.types.is_bool_dtype(s):
        return "boolean", []
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime", []
    if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
        kind, notes = _text_kind(s, nonnull, distinct)
        if kind in ("datetime", "boolean"):
            return kind, notes
        if kind == "numeric":        # digits as text: an id only when named like one
            unique = nonnull >= 10 and distinct >= 0.95 * nonnull
            return ("identifier", []) if unique and _ID_NAME.search(str(name)) else (kind, notes)
        if _looks_like_id(s, name, nonnull, distinct):
            return "identifier", []
        return kind, notes
    if _looks_like_id(s, name, nonnull, distinct):
        return "identifier", []
    if pd.api.types.is_numeric_dtype(s):
        vals = set(s.dropna().unique().tolist()) if distinct <= 2 else None
        if vals is not None and distinct == 2 and vals <= {0, 1}:
            return "boolean", []
        return "numeric", []
    return "categorical", []


def infer_types(df):
    """{column: type} for every column of df."""
    return {str(c): infer_type(df[c], c)[0] for c in df.columns}


def to_numeric_text(s):
    """Numbers written as text ('1,234.50', '€ 3.000', '12%') as floats."""
    txt = s.astype(str).str.strip().str.replace(r"[$€£%\s\u00a0']", "", regex=True)
    commas, dots = txt.str.count(","), txt.str.count(r"\.")
    # decimal comma when commas follow dots ('1.234,5') or a lone comma with 1-2 decimals
    dec_comma = (txt.str.rfind(",") > txt.str.rfind(".")) & (
        (dots > 0) | txt.str.match(r"^[-+]?\d+,\d{1,2}$"))
    dec_comma |= (commas == 0) & (dots >= 2)       # '1.234.567': dots group thousands
    out = txt.where(dec_comma, txt.str.replace(",", "", regex=False))
    out = out.where(~dec_comma, out.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    return pd.to_numeric(out, errors="coerce").where(s.notna())


def column_warnings(s, kind, notes, nonnull, distinct, rows):
    """The warnings of one column, as short phrases."""
    w = list(notes)
    if rows and nonnull == 0:
        w.append("all missing")
    elif rows and (rows - nonnull) / rows > 0.5:
        w.append("mostly missing (%d%%)" % round(100 * (rows - nonnull) / rows))
    if nonnull and distinct == 1:
        w.append("constant")
    if kind == "identifier":
        w.append("likely identifier")
    if kind == "categorical" and distinct > 50 and distinct > 0.5 * nonnull:
        w.append("high cardinality (%d distinct)" % distinct)
    if kind == "numeric" and pd.api.types.is_numeric_dtype(s) and nonnull > 10 and distinct > 2:
        with np.errstate(all="ignore"):
            sk = float(s.astype(float).skew())
        if np.isfinite(sk) and abs(sk) > 2:
            w.append("skewed (skewness %.1f)" % sk)
    return w
