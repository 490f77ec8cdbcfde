"""analyst/periods.py — two spans of time set side by side as two groups:

  "X before 1980 and from 1980 onwards", "X before and after 1980",
  "does X differ before and since 1980"          -> before 1980 | 1980 on
  "X in the 1970s and (in) the 1990s", "between the 1970s and the 1990s",
  "the 1970s vs the 1990s"                       -> 1970s | 1990s (other rows left out)

The phrase becomes "by <a computed period column>" (derived.add_column), so
any grouped operation reads it: the mean of each, a count, or a t-test
("compare", "differ", "is the difference significant").  Each answer says
how the rows were split ("Assumption: period_1980 = ...").
"""
import json
import re

from analyst import derived

YEAR = r"((?:1[5-9]|20)\d\d)"
DECADE = r"(?:the )?((?:1[5-9]|20)\d0)['\u2019]?s"
SPLIT_RE = [
    re.compile(r"\bbefore " + YEAR + r" and (?:from|after|since) (?:then|that|\1)(?: on(?:wards?)?)?", re.I),
    re.compile(r"\bbefore and (?:after|since|from) " + YEAR + r"(?: on(?:wards?)?)?", re.I),
]
DECADES_RE = re.compile(r"\b(?:(?:in|between|during) )?" + DECADE + r" (?:and|vs\.?|versus|compared (?:with|to)) "
                        r"(?:(?:in|during) )?" + DECADE, re.I)

COMPARE_RE = re.compile(r"\b(compar\w*|differ\w*|t-?test|significan\w*|versus|vs)\b", re.I)


def year_code(ds):
    """Pandas code of each row's calendar year (frame written @) and what it is; or None."""
    dates = ds.date_columns()
    if len(dates) != 1:
        return None
    d, lit = dates[0], json.dumps
    if d.virtual:
        return f"@[{lit(d.virtual[0].name)}]", d.virtual[0].name
    fmt = f", format={lit(d.date_format)}" if d.date_format else ""
    return f"pd.to_datetime(@[{lit(d.name)}]{fmt}, errors=\"coerce\").dt.year", f"the year of {d.name}"


def _group(ds, name, code, said, labels):
    """Adds a two-valued computed column (labels) to ds; returns its name."""
    profile = {"dtype": "object", "kind": "categorical", "distinct": 2, "samples": list(labels)}
    return derived.add_column(ds, derived.fresh(ds, name), code, said, None, profile).name


def split_at(ds, y):
    """The column splitting the rows at year y: "before y" | "y on"."""
    yc = year_code(ds)
    if yc is None:
        return None
    a, b = f"before {y}", f"{y} on"
    code = f"pd.Series(np.where({yc[0]} < {y}, {a!r}, {b!r}), index=@.index).where({yc[0]}.notna())"
    return _group(ds, f"period_{y}", code, f"period_{y} = \u201c{a}\u201d when {yc[1]} < {y}, else \u201c{b}\u201d",
                  (a, b))


def two_decades(ds, d1, d2):
    """The column of the rows of two decades: "1970s" | "1990s" (other rows none)."""
    yc = year_code(ds)
    if yc is None or d1 == d2:
        return None
    a, b = f"{d1}s", f"{d2}s"
    code = (f"pd.Series(np.select([({yc[0]} // 10 * 10) == {d1}, ({yc[0]} // 10 * 10) == {d2}], [{a!r}, {b!r}], "
            f"None), index=@.index)")
    return _group(ds, f"decade_{d1}_{d2}", code,
                  f"decade_{d1}_{d2} = \u201c{a}\u201d for {yc[1]} {d1}-{d1 + 9}, \u201c{b}\u201d for {d2}-{d2 + 9}; "
                  "the other rows are left out", (a, b))


def apply(request, datasets):
    """The request with two spans of time written as "by <period column>"."""
    for ds in datasets:
        if ds.backend == "dask":
            continue
        for pat in SPLIT_RE:
            m = pat.search(request)
            name = split_at(ds, int(m.group(1))) if m else None
            if name:
                request = request[:m.start()] + f"by {name}" + request[m.end():]
        m = DECADES_RE.search(request)
        if m and m.group(0).lower().startswith("between") and not COMPARE_RE.search(request):
            m = None   # "the average between the 1970s and the 1990s": a span, read by the filters
        name = two_decades(ds, int(m.group(1)), int(m.group(2))) if m else None
        if name:
            request = request[:m.start()] + f"by {name}" + request[m.end():]
    return request
