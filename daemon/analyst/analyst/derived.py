"""analyst/derived.py — columns a request computes from the data's own:

  "high minus low", "the difference / spread / gap between high and low"  A - B
  "open plus close"                                                       A + B
  "the ratio of A to B", "A divided by B"                                 A / B
  "A as a percentage of B"                                                100 * A / B
  "the daily return of close", "close returns", "daily percent change",
  "the percent change in close from the previous day"                     100 * (x / x before - 1)
  "the daily change in close", "the change in close from the previous day"  x - x before

apply() rewrites the phrase into the new column's name and adds the column
to the dataset (so every operation can use it: averages, filters, groups,
correlations); inject() puts the line that computes it right after the
generated code loads the dataset, with an "Assumption:" line saying what
was computed.  A return is taken from one row to the next in date order,
only when the period said ("daily") is the data's own step (trading days
count as daily); a phrase whose columns are not both plain numeric columns
is left alone (and refused later if nothing else reads it).
"""
import json
import re

from analyst.parse import Unknown, find_mentions, tokenize
from analyst.schema import Column

PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y",
           "daily": "D", "day-to-day": "D", "day-over-day": "D", "weekly": "W", "monthly": "M",
           "quarterly": "Q", "yearly": "Y", "annual": "Y", "year-over-year": "Y"}
STEP_WORD = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
FILLER = {"price", "prices", "value", "values", "level", "levels", "series", "figure", "figures"}
COL = r"((?:[\w'-]+ ){0,2}[\w'-]+)"
PAIR_RE = [
    ("-", re.compile(r"\b(?:the )?(?:difference|spread|gap) between (?:the )?" + COL + r" and (?:the )?" + COL, re.I)),
    ("-", re.compile(r"\b" + COL + r" minus (?:the )?" + COL, re.I)),
    ("+", re.compile(r"\b" + COL + r" plus (?:the )?" + COL, re.I)),
    ("/", re.compile(r"\b(?:the )?ratio (?:of|between) (?:the )?" + COL + r" (?:to|and) (?:the )?" + COL, re.I)),
    ("/", re.compile(r"\b" + COL + r" divided by (?:the )?" + COL, re.I)),
    ("%", re.compile(r"\b" + COL + r" as an? (?:percentage|percent|share) of (?:the )?" + COL, re.I)),
]
PERIOD = r"(daily|day-to-day|day-over-day|weekly|monthly|quarterly|yearly|annual|year-over-year)"
RETURN_RE = [   # (pattern, group of the period word, group of the column or None)
    (re.compile(r"\b(?:the )?(?:" + PERIOD + r" )?(?:percent(?:age)? )?returns?(?: (?:of|from|on|in|for) (?:the )?"
                + COL + r")?", re.I), 1, 2),
    (re.compile(r"\b(?:the )?" + COL + r"(?:'s)? (?:" + PERIOD + r" )?(?:percent(?:age)? )?returns?\b", re.I), 2, 1),
    (re.compile(r"\b(?:the )?" + PERIOD + r" (?:percent(?:age)?|%) changes?(?: (?:of|in) (?:the )?" + COL + r")?", re.I),
     1, 2),
]
CHANGE_RE = [   # (pattern, group of the period word, group of the column, group of "percent"): a change row to row
    (re.compile(r"\b(?:the )?(percent(?:age)? |% )?changes? (?:in|of) (?:the )?" + COL + r" (?:from|over|versus|vs\.?|"
                r"compared (?:with|to)) (?:the )?(?:previous|prior|preceding|last) (day|week|month|quarter|year)\b",
                re.I), 3, 2, 1),
    (re.compile(r"\b(?:the )?" + PERIOD + r" changes? (?:in|of) (?:the )?" + COL, re.I), 1, 2, None),
]
MOVE_RE = re.compile(r"\b(?:(?:the )?(?:stock|shares?|price|index|market)|it) (lost|fell|dropped|declined|gained|rose|"
                     r"climbed|jumped) (?:by )?(more than|over|at least|less than) (\d+(?:\.\d+)?) ?(?:%|percent\b)", re.I)
DOWN = {"lost", "fell", "dropped", "declined"}
TEST_RE = re.compile(r"\b(significan\w*|t-?test|test|is there|are there)\b", re.I)


def column(text, ds):
    """The one plain numeric column a short phrase names ("the closing
    prices" -> close), or None."""
    if not text:
        return None
    toks = tokenize(text)
    ms = find_mentions(toks, ds)
    if len(ms) != 1 or ms[0].value is not None or len(ms[0].cols) != 1 or ms[0].start != 0:
        return None
    if any(t.f not in FILLER for t in toks[ms[0].end:]):
        return None
    c = ms[0].cols[0]
    ok = "@" not in c.name and c.is_numeric() and not (c.is_id() or c.is_date() or c.is_numeric_text() or c.time_part() or c.virtual)
    return c if ok else None


def fresh(ds, name):
    names = {c.name for c in ds.columns}
    while name in names:
        name += "_"
    return name


def add_column(ds, name, code, said, kind, profile=None):
    """Adds a computed column to ds (code: pandas over the frame written @;
    profile: its profile when it is no number); returns it."""
    c = Column(dict(profile or {"dtype": "float64", "kind": "numeric"}, name=name))
    c.derived_kind = kind
    c.computed = (code, said)
    ds.columns.append(c)
    return c


def _pair(op, a, b, ds):
    """The column for A op B."""
    lit = json.dumps
    if op in "+-":
        word = "minus" if op == "-" else "plus"
        name = fresh(ds, f"{a.name}_{word}_{b.name}")
        code = f"@[{lit(a.name)}] {op} @[{lit(b.name)}]"
        said = f"{name} = {a.name} {word} {b.name}, row by row"
        kind = a.measure_kind()[0] if a.measure_kind()[0] == b.measure_kind()[0] else None
        return add_column(ds, name, code, said, kind).name
    pct = op == "%"
    name = fresh(ds, f"{a.name}_pct_of_{b.name}" if pct else f"{a.name}_to_{b.name}_ratio")
    code = f"(@[{lit(a.name)}] / @[{lit(b.name)}]).replace([np.inf, -np.inf], np.nan)" + (" * 100" if pct else "")
    said = (f"{name} = " + ("100 \u00d7 " if pct else "") + f"{a.name} / {b.name}, row by row "
            f"(rows where {b.name} is 0 have none)")
    return add_column(ds, name, code, said, "level").name


def _order(ds):
    """Python code of the row labels of d in date order, and the date's name; or None."""
    dates = ds.date_columns()
    if len(dates) != 1:
        return None
    d = dates[0]
    lit = json.dumps
    if d.virtual:
        y, sub, _ = d.virtual
        by = [y.name] + ([sub.name] if sub is not None else [])
        return f"@.sort_values({by!r}, kind=\"stable\").index", " and ".join(by)
    fmt = f", format={lit(d.date_format)}" if d.date_format else ""
    return (f"pd.to_datetime(@[{lit(d.name)}]{fmt}, errors=\"coerce\").sort_values(kind=\"stable\").index",
            d.name)


def _return(c, period, ds, pct=True):
    """The column of c's return (pct) or change from one row to the next, or
    None when the data has no single date column or its step is not the
    period said."""
    step, order = ds.step(), _order(ds)
    if order is None or step is None or period and PERIODS[period.lower()] != step:
        return None
    unit = STEP_WORD[step]
    if not pct:
        name = fresh(ds, f"{c.name}_change")
        code = f"@[{json.dumps(c.name)}].reindex({order[0]}).diff()"
        said = (f"{name} = {c.name} minus {c.name} of the {unit} before, rows in {order[1]} order "
                f"(one row per {unit}: the {unit} before is the row before; the first row has none)")
        return add_column(ds, name, code, said, "level").name
    name = fresh(ds, f"{c.name}_return_pct" if any(x.name == "return_pct" for x in ds.columns) else "return_pct")
    code = f"@[{json.dumps(c.name)}].reindex({order[0]}).pct_change(fill_method=None) * 100"
    said = (f"{name} = the {'daily' if unit == 'day' else unit + 'ly'} return of {c.name} in percent, "
            f"100 \u00d7 ({c.name} / {c.name} of the {unit} before \u2212 1), rows in {order[1]} order "
            f"(one row per {unit}: the {unit} before is the row before; the first row has none)")
    return add_column(ds, name, code, said, "level").name


def prefix(text, ds):
    """(column, length) for the longest start of text naming one column
    ("low in 2007" -> low, 3), or None."""
    words = list(re.finditer(r"[\w'-]+", text or ""))
    for k in range(len(words), 0, -1):
        c = column(text[:words[k - 1].end()], ds)
        if c is not None:
            return c, words[k - 1].end()
    return None


def _suffix(text, ds):
    """(column, offset) for the longest end of text naming one column
    ("the average high" -> high, 12), or None."""
    for w in re.finditer(r"[\w'-]+", text or ""):
        c = column(text[w.start():], ds)
        if c is not None:
            return c, w.start()
    return None


def _pairs(request, ds):
    """A minus / plus / divided by B, the difference / ratio between A and B."""
    for op, pat in PAIR_RE:
        for m in list(pat.finditer(request))[::-1]:
            lead = request[m.start():m.start(1)].strip() != ""   # "the difference between": A is all of group 1
            if lead and op == "-" and TEST_RE.search(request):
                continue   # "is the difference between A and B significant": a test, not a column
            a = (column(m.group(1), ds), 0) if lead else _suffix(m.group(1), ds)
            b = prefix(m.group(2), ds)
            if not a or a[0] is None or b is None or a[0] is b[0]:
                continue
            start, end = (m.start() if lead else m.start(1) + a[1]), m.start(2) + b[1]
            start, end = _named_before(request, start, end)
            request = request[:start] + _pair(op, a[0], b[0], ds) + request[end:]
    return request


NAMED_BEFORE = re.compile(r"(?:\b(?:the|a|an|its|their)\s+)?(?:[\w'\u2019]+\s+){0,2}"
                          r"(?:range|spread|gap|difference|margin|ratio)\s*\(\s*$", re.I)


def _named_before(request, start, end):
    """(start, end) widened over a name the phrase explains in parentheses:
    "the day's price range (high minus low)" is all one column."""
    m = NAMED_BEFORE.search(request[:start])
    after = re.match(r"\s*\)", request[end:])
    if m and after:
        return m.start(), end + after.end()
    return start, end


def _returns(request, ds):
    """"the daily return of close", "close returns", "daily percent change"."""
    for pat, gp, gc in RETURN_RE:
        for m in list(pat.finditer(request))[::-1]:
            period, text = m.group(gp), m.group(gc)
            if gc == 1:   # "close returns": the column is the words just before
                hit = _suffix(text, ds)
                c, start, end = (hit[0], m.start(gc) + hit[1], m.end()) if hit else (None, 0, 0)
            elif text and prefix(text, ds):
                c, n = prefix(text, ds)
                start, end = m.start(), m.start(gc) + n
            elif period:   # "the daily return": of the price, when the data has one
                c, start, end = _only_price(ds), m.start(), (m.start(gc) if text else m.end())
            else:
                continue
            name = _return(c, period, ds) if c is not None else None
            if name is not None:
                request = request[:start] + name + request[end:]
    return request


def _changes(request, ds):
    """"the percent change in close from the previous day", "the daily change in close"."""
    for pat, gp, gc, gpct in CHANGE_RE:
        for m in list(pat.finditer(request))[::-1]:
            hit = prefix(m.group(gc), ds)
            if hit is None or gp == 3 and hit[1] != len(m.group(gc)):
                continue
            name = _return(hit[0], m.group(gp), ds, pct=bool(gpct and m.group(gpct)))
            if name is not None:
                end = m.end() if gp == 3 else m.start(gc) + hit[1]
                request = request[:m.start()] + name + request[end:]
    return request


def _only_price(ds):
    """The column a return without a column is of: close (or a one-measure series), or None."""
    from analyst.matcher import measures
    ms = measures(ds)
    closes = [c for c in ms if c.norm in ("close", "adj close", "closing price", "price")]
    return closes[0] if len(closes) == 1 else (ms[0] if len(ms) == 1 else None)


def _moves(request, ds):
    """"the stock lost more than 5%" after a return column was computed:
    a condition on that return."""
    rets = [c for c in ds.columns if getattr(c, "computed", None) and "return" in c.name]
    if len(rets) != 1:
        return request
    for m in list(MOVE_RE.finditer(request))[::-1]:
        down = m.group(1).lower() in DOWN
        n = m.group(3)
        cmp = {("more than", True): "below", ("over", True): "below", ("at least", True): "at most",
               ("less than", True): "above", ("more than", False): "above", ("over", False): "above",
               ("at least", False): "at least", ("less than", False): "below"}[(m.group(2).lower(), down)]
        request = request[:m.start()] + f"{rets[0].name} was {cmp} {'-' if down else ''}{n}" + request[m.end():]
    return request


LEFT_RETURN = re.compile(r"\b(?:(?:the|its|their|average|mean|total|cumulative|percent(?:age)?|" + PERIOD[1:-1]
                         + r")\s+returns?\b|\breturns?\s+(?:of|on|from|for)\b|" + PERIOD
                         + r" (?:percent(?:age)? )?changes?(?= (?:in|of)\b)|\bchanges? (?:in|of) (?:the )?" + COL
                         + r" (?:from|over) (?:the )?(?:previous|prior|preceding|last) (?:day|week|month|quarter|year))",
                         re.I)


def apply(request, datasets):
    """The request with its computed-column phrases replaced by the new
    columns' names (added to their dataset); Unknown for a return it cannot
    compute (a return is never left for the words around it to answer)."""
    for ds in datasets:
        if ds.backend == "dask":
            continue
        request = _returns(_changes(_pairs(request, ds), ds), ds)
        request = _moves(request, ds)
    left = LEFT_RETURN.search(request)
    if left:
        steps = [f"{ds.name} has one row per {STEP_WORD[ds.step()]}" for ds in datasets if ds.step()]
        raise Unknown(f"I did not understand \u201c{left.group(0)}\u201d: I compute a return (the percent change of "
                      "a column from one row to the next, in date order; a change likewise) only on a single "
                      "series, for the period "
                      "of its rows, e.g. \u201cthe daily return of close\u201d on one row per day"
                      + (f" ({'; '.join(steps)})" if steps else " (this data has no single series over time)") + ".")
    return request


def inject(code, datasets):
    """The code with each computed column made right after its dataset is loaded."""
    for ds in datasets:
        made = [c for c in ds.columns if getattr(c, "computed", None) and f'"{c.name}"' in code]
        if not made:
            continue
        pat = re.compile(r"^( *)(\w+) = dfs\[" + re.escape(json.dumps(ds.name)) + r"\](\.copy\(\))?$", re.M)

        def add(m):
            ind, v = m.group(1), m.group(2)
            lines = [m.group(0) if m.group(3) else m.group(0) + ".copy()"]   # never the kernel's own frame
            lines += [f"{ind}{v}[{json.dumps(c.name)}] = {c.computed[0].replace('@', v)}" for c in made]
            return "\n".join(lines)
        code = pat.sub(add, code)
        said = "".join(f"print({json.dumps('Assumption: ' + c.computed[1] + '.', ensure_ascii=False)})\n"
                       for c in made)
        code = said + code
    return code
