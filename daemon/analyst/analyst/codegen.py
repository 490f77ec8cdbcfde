"""analyst/codegen.py — writes the pandas/matplotlib code for an intent.

The code is meant to be read and kept (it becomes a history/ script): plain
pandas, one idea per line, titles and axis labels on every plot, and the key
numbers printed as "Label: value" lines, which answer.py turns into the final
text.  Figures are left open: the kernel saves them to outputs/plots/.
The statistics and modelling operations live in codegen_stats.py, the series
over time in codegen_time.py.
"""
import json

from analyst import aggs as aggs_mod
from analyst import across, carry, change, dateparts, units
from analyst.codegen_counts import distinct_lines, op_count_rows, op_nunique, units_per_group
from analyst import codegen_stats as st
from analyst.codegen_stats import col, fs, lit

FREQ_NAME = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year", "H": "half-year", "10Y": "decade"}
FREQ_FMT = {"D": "%Y-%m-%d", "W": "%Y-%m-%d", "M": "%Y-%m", "Q": "%Y-%m", "Y": "%Y"}


def generate(it, conventions, dask_ok=True):
    """(code, purpose) for an intent (Dask code for a Dask-backed dataset:
    codegen_dask.py, which calls back here with dask_ok=False)."""
    if dask_ok and getattr(it["ds"], "backend", None) == "dask":
        from analyst import codegen_dask
        return codegen_dask.generate(it, conventions)
    lines, var = preamble(it, conventions)
    body, purpose = OPS[it["op"]](it, var)
    code = "\n".join(lines + body).rstrip() + "\n"
    return code, purpose + filter_text(it)


def used_columns(it):
    """Columns the operation reads (their text numbers get converted)."""
    ds = it["ds"]
    if it["op"] == "linreg":
        return [it["target"]] + list(it["features"]) + [f["col"] for f in it["filters"] if f["col"] is not None]
    if it["op"] in ("heatmap", "model", "overview", "outliers") and not it.get("measures"):
        return list(ds.columns)
    cols = list(it.get("measures") or []) + list(it.get("others") or [])
    for k in ("measure", "group", "date", "target"):
        if it.get(k) is not None:
            cols.append(it[k])
    cols += [f["col"] for f in it["filters"] if f["col"] is not None]
    cols += list(it.get("features") or [])
    if it["op"] == "agg" and it.get("group") is None and {"min", "max"} & set([it.get("agg")] + list(it.get("aggs") or [])):
        for m in it.get("measures") or []:   # the columns saying where the min / max is
            cols += [c for c in ds.columns if c.name in where_columns(ds, m)]
    if it["op"] == "model" and it.get("features") is None:
        cols += ds.columns
    return cols


def date_format(c, conventions):
    """The strftime format of a text date column, from conventions or the profile."""
    for key in (c.name + ".date_format", "date_format"):
        v = conventions.get(key)
        v = v.get("value") if isinstance(v, dict) and "value" in v else v
        v = v.get(c.name) if isinstance(v, dict) else v
        if isinstance(v, str) and "%" in v:
            return v
    return c.date_format


def preamble(it, conventions):
    """Loads the dataset, converts text dates/numbers it needs, applies filters."""
    ds = it["ds"]
    v = ds.var
    conv, seen = [], set()
    for c in used_columns(it):
        if c.name in seen:
            continue
        seen.add(c.name)
        if getattr(c, "virtual", None):
            conv += virtual_date_lines(v, c)
        elif getattr(c, "derived", None):
            conv += dateparts.lines(v, c, col, lit)
        elif getattr(c, "has_of", None) is not None:   # "with and without X": X above 0 or not
            conv += [f"{col(v, c)} = {col(v, c.has_of)} > 0",
                     f"print({lit('Groups: ' + c.name + ' is True where ' + c.has_of.name + ' > 0 (with), False where it is 0 or less (without).')})"]
        elif c.is_numeric_text():
            conv.append(f"{col(v, c)} = pd.to_numeric({col(v, c)}.astype(str).str.replace(\",\", \"\", regex=False), errors=\"coerce\")")
        elif c.is_date() and (c is it.get("date") or c in [f["col"] for f in it["filters"]]):
            fmt = it.get("formats", {}).get(c.name) or date_format(c, conventions)
            fa = f", format={lit(fmt)}" if fmt else ""
            if c.dtype.startswith("datetime"):
                conv.append(f"{col(v, c)} = pd.to_datetime({col(v, c)}{fa}, errors=\"coerce\")")
                continue
            how = f"as {fmt}" if fmt else "as dates"
            conv += [f"raw = {col(v, c)}",
                     "with warnings.catch_warnings(record=True) as caught:",
                     "    warnings.simplefilter(\"always\")",
                     f"    {col(v, c)} = pd.to_datetime(raw{fa}, errors=\"coerce\")",
                     "for w in caught:",
                     "    print(f\"pandas warning while reading the dates: {w.message}\")",
                     f"unread = raw.notna() & {col(v, c)}.isna()",
                     "if unread.any():",
                     f"    print(f\"{{int(unread.sum())}} of {{int(raw.notna().sum())}} values of {fs(c.name)} could not be read {fs(how)} "
                     f"(e.g. {{raw[unread].iloc[0]}}): those rows are left out"
                     + (f"; values that fit both day/month orders were read {fs(how)}" if fmt and "%d" in fmt and "%m" in fmt else "")
                     + ".\")"]
    if it.get("convert"):   # "in kilograms": the column in the unit asked for, before anything else
        conv += units.lines(it, v, col, lit)
    if any(ln.startswith("with warnings") for ln in conv):
        conv.insert(0, "import warnings")
    lines = [f"{v} = dfs[{lit(ds.name)}]" + (".copy()" if conv else "")] + conv
    lines += [f"print({lit('Assumption: ' + f['assume'] + '.')})" for f in it["filters"] if f.get("assume")]
    lines += [f"print({lit('Assumption: ' + text + '.')})" for text in it.get("assume") or []]
    for k, f in enumerate(it["filters"]):
        if f["kind"] == "search":
            lines += search_lines(v, f)
            continue
        if f["kind"] == "stat":
            lines += stat_lines(v, f, k)
        if f["kind"] == "prev":
            lines.append(f"print(f\"Threshold, {fs(f['said'])}: {{{f['value']}:,.4f}}\")")
        if f["kind"] == "picked":   # "in that year": the period or group a part before found
            lines.append(carry.said_line(f))
        lines.append(f"{v} = {v}[{filter_expr(v, f)}]")
    if it["filters"]:
        lines.append(f"print(f\"Rows matching{fs(filter_text(it))}: {{len({v}):,}}\")")
        lines.append(f"assert len({v}) > 0, {lit('no rows match the filters' + filter_text(it))}")
    return lines, v


def stat_lines(v, f, k):
    """Prints the statistic a condition compares with ("above the mean"), and
    over which rows it was taken when other conditions came first."""
    c = f["col"]
    over = "all rows" if k == 0 else "the rows kept by the conditions before it"
    return [f"threshold = {col(v, c)}.{f['value']}()",
            f"print(f\"{fs(f['value'].capitalize())} of {fs(c.name)} (the threshold, over {{len({v}):,}} rows): {{threshold:,.2f}}\")"] + \
        ([f"print({lit('Assumption: the ' + f['value'] + ' of ' + c.name + ' is taken over ' + over + '.')})"] if k else [])


def virtual_date_lines(v, d):
    """Builds a date column from year (+ quarter or month) columns."""
    y, sub, part = d.virtual
    if part == "quarter":
        month, how = f"({col(v, sub)} - 1) * 3 + 1", f"{y.name} and {sub.name} (each quarter dated by its first month)"
    elif part == "month":
        month, how = col(v, sub), f"{y.name} and {sub.name}"
    else:
        month, how = "1", f"{y.name} (each year dated 1 January)"
    return [f"{col(v, d)} = pd.to_datetime(pd.DataFrame({{\"year\": {col(v, y)}, \"month\": {month}, \"day\": 1}}), errors=\"coerce\")",
            f"print({lit('Time: built from ' + how + '.')})"]


def choose_agg(it, m, over_time):
    """(aggregation, assumption text or None) when the request named none:
    flows are summed, levels averaged, stocks summed across groups but
    averaged over time; a name that says neither is averaged per group, and
    over time averaged when the data is one series (about one row per date),
    summed when many rows share a date.  The choice is said in the answer."""
    if m is None:
        return "sum", None
    kind, word = m.measure_kind()
    if m.is_binary01():
        return "mean", f"{m.name} holds only 0 and 1, so I used its mean per {it.get('per_text') or 'group'} (the share of 1s), not the sum"
    if m.is_code() and not over_time:
        return "mean", (f"{m.name} looks like a code ({m.distinct} small whole numbers), so I used its mean per "
                        f"{it.get('per_text') or 'group'}, not the sum; ask for counts per {m.name} to see how often each code occurs")
    per = it.get("per_text") or "group"
    if kind == "flow":
        return "sum", (f"{m.name} reads as an amount that adds up (\u201c{word}\u201d), so I summed it per {per}; "
                       f"ask for the average {m.name} to get the mean")
    if kind == "level" or (kind == "stock" and over_time):
        what = "a level or rate" if kind == "level" else "a level (a stock)"
        return "mean", (f"{m.name} reads as {what} (\u201c{word}\u201d), so I used the mean per {per}, not the sum; "
                        f"ask for the total {m.name} to add it up")
    if kind == "stock":
        return "sum", f"{m.name} reads as a stock (\u201c{word}\u201d), so I summed it per {per}"
    if over_time:
        rpt = it["ds"].rows_per_time()
        if rpt is None or rpt < 1.5:
            return "mean", (f"{m.name} has about one value per date (a series of readings), so I used the mean per {per}, "
                            f"not the sum; ask for the total {m.name} to add it up")
        return "sum", (f"{m.name} has about {rpt:.0f} rows per date, so I summed them per {per}; "
                       f"ask for the average {m.name} to get the mean")
    return "mean", (f"I did not know whether {m.name} adds up, so I used its mean per {per}; "
                    f"ask for the total {m.name} to add it up")


def assumption_line(text):
    """The code line printing an assumption (answer.py puts it near the top)."""
    return [f"print({lit('Assumption: ' + text + '.')})"] if text else []


def search_lines(v, f):
    """Looks for a value the profile did not show in the text columns, keeps those rows."""
    cols = json.dumps([c.name for c in f["cols"]], ensure_ascii=False)
    val = lit(str(f["value"]).casefold())
    return [f"found = [c for c in {cols} if ({v}[c].astype(str).str.casefold() == {val}).any()]",
            f"print(f\"{fs(f['value'])} appears in: {{', '.join(found) or 'no column'}}\")",
            f"{v} = {v}[{v}[found[0]].astype(str).str.casefold() == {val}] if found else {v}.iloc[:0]"]


def filter_expr(v, f):
    """The boolean mask code of one filter."""
    c = f["col"]
    if f["kind"] == "flag":
        neg = "~" if f["op"] == "!=" else ""
        return f"{neg}{col(v, c)}.astype(str).str.casefold().isin({POSITIVE!r})"
    if f["kind"] == "year":
        return f"{col(v, c)}.dt.year == {f['value']}"
    if f["kind"] == "date":
        return f"{col(v, c)} {f['op']} {lit(f['value'])}"
    if f["kind"] == "isin":   # several values of one column, set side by side
        vals = f["value"]
        if c.is_numeric() or all(x in c.values for x in vals):
            return f"{col(v, c)}.isin({vals!r})"
        return f"{col(v, c)}.astype(str).str.casefold().isin({[str(x).casefold() for x in vals]!r})"
    if f["kind"] == "picked":
        return carry.filter_expr(v, f)
    if f["kind"] == "prev":   # "above that value": the number a part before computed
        return f"{col(v, c)} {f['op']} {f['value']}"
    if f["kind"] == "stat":   # "above the mean": the statistic of the rows kept so far
        return f"{col(v, c)} {f['op']} {col(v, c)}.{f['value']}()"
    if f["kind"] == "range":
        lo, hi = (int(x) if float(x).is_integer() else x for x in f["value"])
        return f"{col(v, c)}.between({lo!r}, {hi!r})"
    if f["kind"] == "compare":
        val = f["value"]
        val = int(val) if float(val).is_integer() else val
        return f"{col(v, c)} {f['op']} {val!r}"
    if f["value"] in c.values:
        return f"{col(v, c)} {f['op']} {lit(f['value'])}"
    return f"{col(v, c)}.astype(str).str.casefold() {f['op']} {lit(str(f['value']).casefold())}"


def filter_text(it):
    """The filters in words, for titles and messages: " (region = West, 2023)"."""
    parts = []
    for f in it["filters"]:
        if f["kind"] == "year":
            parts.append(f"in {f['value']}")
        elif f["kind"] == "search":
            parts.append(str(f["value"]))
        elif f["kind"] == "flag":
            parts.append(f"{f['col'].name} is {'not ' if f['op'] == '!=' else ''}yes/true")
        elif f["kind"] == "date":
            parts.append(f"{f['col'].name} {f['op']} {f['value']}")
        elif f["kind"] == "isin":
            parts.append(f"{f['col'].name} is {' or '.join(str(x) for x in f['value'])}")
        elif f["kind"] == "stat":
            parts.append(f"{f['col'].name} {f['op']} its {f['value']}")
        elif f["kind"] == "prev":
            parts.append(f"{f['col'].name} {f['op']} {f['said']}")
        elif f["kind"] == "picked":
            parts.append(f"in {f['said']}")
        elif f["kind"] == "range":
            lo, hi = (int(x) if float(x).is_integer() else x for x in f["value"])
            parts.append(f"{lo} <= {f['col'].name} <= {hi}")
        else:
            val = f["value"]
            if isinstance(val, float) and val.is_integer():
                val = int(val)
            parts.append(f"{f['col'].name} {f['op'].replace('==', '=')} {val}")
    return f" ({', '.join(parts)})" if parts else ""


def print_series(name, limit=30):
    """The line printing a Series (head and tail only when it is long)."""
    return [f"print({name}.to_string(float_format=\"{{:,.2f}}\".format, max_rows={limit}))"]


MAX_BARS = 60   # more categories than this: the largest 30 and "other"


def chart_series(result, gname, additive):
    """Lines making `top`, the Series a bar chart shows: every category up to
    MAX_BARS, else the 30 largest plus one "other" bar (the rest summed, for
    sums and counts) or without it (for means); the answer says which."""
    return [f"top = {result}",
            f"if len(top) > {MAX_BARS}:",
            "    rest = top.sort_values(ascending=False).iloc[30:]",
            "    top = top.sort_values(ascending=False).head(30)",
            ("    top = pd.concat([top, pd.Series({\"other\": rest.sum()})])\n"
             f"    print(f\"The chart shows the 30 largest of {{len({result})}} {fs(gname)} values and one bar "
             f"\u201cother\u201d for the {{len(rest)}} others together ({{rest.sum():,.2f}}); the table lists all.\")")
            if additive else
            (f"    print(f\"The chart shows the 30 largest of {{len({result})}} {fs(gname)} values "
             f"(the {{len(rest)}} others are left out of the chart: they cannot be added up); the table lists all.\")"),
            "else:",
            f"    print(f\"The chart shows all {{len(top)}} {fs(gname)} values.\")"]


def bar_lines(result, title, xlabel, ylabel, horizontal=False):
    """A labelled bar chart of a Series (horizontal=None: horizontal when it
    has more than 20 bars, the figure as tall as they need)."""
    if horizontal is None:
        return ([f"horizontal = len({result}) > 20",
                 f"fig, ax = plt.subplots(figsize=(9, max(5, 0.25 * len({result}))) if horizontal else (9, 5))",
                 "if horizontal:",
                 f"    ax.barh({result}.index.astype(str), {result}.values)",
                 "    ax.invert_yaxis()",
                 f"    ax.set_xlabel({lit(ylabel)})",
                 f"    ax.set_ylabel({lit(xlabel)})",
                 "else:",
                 f"    ax.bar({result}.index.astype(str), {result}.values)",
                 f"    ax.set_xlabel({lit(xlabel)})",
                 f"    ax.set_ylabel({lit(ylabel)})",
                 "    plt.setp(ax.get_xticklabels(), rotation=45, ha=\"right\")",
                 f"ax.set_title({lit(title)})", "plt.tight_layout()"])
    plot = (f"ax.barh({result}.index.astype(str), {result}.values)" if horizontal
            else f"ax.bar({result}.index.astype(str), {result}.values)")
    lines = ["fig, ax = plt.subplots(figsize=(9, 5))", plot,
             f"ax.set_title({lit(title)})",
             f"ax.set_xlabel({lit(ylabel if horizontal else xlabel)})",
             f"ax.set_ylabel({lit(xlabel if horizontal else ylabel)})"]
    if horizontal:
        lines.append("ax.invert_yaxis()")
    else:
        lines.append("plt.setp(ax.get_xticklabels(), rotation=45, ha=\"right\")")
    return lines + ["plt.tight_layout()"]


def agg_label(agg, c):
    """"Total revenue", "Average unit_price", "90th percentile of price"."""
    return aggs_mod.label(agg, c)


def op_agg(it, v):
    """Aggregate one or more measures, optionally by a group; bars when a plot is asked."""
    ms, g = it["measures"], it["group"]
    if not ms and g is not None:
        return op_value_counts(it, v)
    agg, why = it["agg"], None
    if agg is None and g is not None:
        it["per_text"] = g.name
        agg, why = choose_agg(it, ms[0], g.time_part() is not None)
    if agg is None:
        return op_stats(it, v)
    aggs = [a for a in it.get("aggs") or [] if a != "count"] or [agg]
    unit = it["ds"].unit_column()
    if agg == "count" and len(ms) == 1 and ms[0] is unit:   # "how many subjects (per group)": distinct, not rows
        return distinct_lines(it, v, unit, g)
    if g is None:
        lines, labels = [], []
        for m in ms:
            for a in aggs:   # "mean and std of unemp": both, none dropped, in the order asked
                lines += aggs_mod.value_lines(a, m, col(v, m), v, where_columns(it["ds"], m))
                labels.append(agg_label(a, m))
        return lines, ", ".join(labels).lower()
    if len(aggs) > 1:
        m = ms[0]
        named = ", ".join(f"{json.dumps(aggs_mod.short(a))}: " + (lit(a) if a in aggs_mod.SIMPLE else f"lambda s: {aggs_mod.expr(a, 's')}")
                          for a in aggs)
        title = f"{', '.join(aggs_mod.short(a) for a in aggs)} of {m.name} by {g.name}"
        return ([f"result = {v}.groupby({lit(g.name)})[{lit(m.name)}].agg(**{{{named}}})"]
                + sort_lines(it, "result", by=aggs_mod.short(aggs[0])) +
                [f"print({lit(title + ':')})",
                 "print(result.to_string(float_format=\"{:,.4f}\".format, max_rows=60))"], title.lower())
    m = ms[0]
    g2 = it.get("group2")
    if g2 is not None:
        title = f"{agg_label(agg, m)} by {g.name} and {g2.name}"
        return ([f"result = {v}.groupby([{lit(g.name)}, {lit(g2.name)}])[{lit(m.name)}]{aggs_mod.group_call(agg)}.unstack({lit(g2.name)})",
                 f"print({lit(title + ':')})",
                 "print(result.to_string(float_format=\"{:,.2f}\".format, max_rows=40))"], title.lower())
    order = ".sort_index()" if g.is_numeric() or g.time_part() or getattr(g, "derived", None) else ".sort_values(ascending=False)"
    order = {"asc": ".sort_values()", "desc": ".sort_values(ascending=False)"}.get(it.get("sort"), order)
    title = f"{agg_label(agg, m)} by {g.name}"
    if getattr(g, "derived", None) and agg in ("mean", "median") and why is None:
        why = (f"the {agg} of {m.name} over the rows of each {g.name}, not of the per-day totals; ask for the "
               f"total {m.name} per day first for that")
    lines = assumption_line(why) + [
        f"result = {v}.groupby({lit(g.name)})[{lit(m.name)}]{aggs_mod.group_call(agg)}{order}",
        f"print({lit(title + ':')})"] + print_series("result", 60)
    lines.append("print(f\"Highest: {result.idxmax()} ({result.max():,.2f}); lowest: {result.idxmin()} ({result.min():,.2f})\")")
    if it["plot"]:
        lines += chart_series("result", g.name, agg == "sum") + bar_lines("top", title, g.name, agg_label(agg, m),
                                                                          horizontal=None)
    return lines, title.lower()


def where_columns(ds, m):
    """Columns that say where a row is (its date or year/quarter/month, else
    a name such as state or firm), for "the highest X, and when/where"."""
    cols = [c.name for c in ds.columns if (c.time_part() or c.is_date()) and c is not m]
    if not cols:
        cols = [c.name for c in ds.columns if not c.is_numeric() and not c.is_date()
                and (c.is_id() or (c.distinct or 0) >= 2)][:2]
    return cols[:3]


def sort_lines(it, name, by=None):
    """Sorts a result table by its values when the request asked for an order."""
    if it.get("sort") not in ("asc", "desc"):
        return []
    key = f"by={lit(by)}, " if by else ""
    return [f"{name} = {name}.sort_values({key}ascending={it['sort'] == 'asc'})"]


def op_stats(it, v):
    """Summary statistics of the named measures."""
    lines = []
    for m in it["measures"]:
        c = col(v, m)
        lines += [f"values = {c}.dropna()",
                  f"print(f\"{fs(m.name)}: count {{values.count():,}}, total {{values.sum():,.2f}}, "
                  f"mean {{values.mean():,.2f}}, median {{values.median():,.2f}}, "
                  f"min {{values.min():,.2f}}, max {{values.max():,.2f}}, std {{values.std():,.2f}}\")"]
    return lines, "summary statistics of " + ", ".join(m.name for m in it["measures"])



def op_top(it, v):
    """Top/bottom N groups by a measure, or the N rows with the largest values."""
    n, asc = it["n"], it["ascending"]
    m = it["measure"]
    ent = next((c for c in it["others"] if not c.is_numeric() or c.is_id()), None) or it["group"]
    pick = "nsmallest" if asc else "nlargest"
    word = "Bottom" if asc else "Top"
    if m is None and ent is not None:
        lines = assumption_line(f"no measure was named, so the {ent.name} values are ranked by their number of rows") + [
                 f"result = {col(v, ent)}.value_counts(ascending={asc}).head({n})",
                 f"print({lit(f'{word} {n} {ent.name} by number of rows:')})", "print(result.to_string())"]
        if it["plot"]:
            lines += bar_lines("result", f"{word} {n} {ent.name} by number of rows", ent.name, "Number of rows", True)
        return lines, f"{word.lower()} {n} {ent.name} by count"
    if m is None:
        return op_head(it, v)
    if ent is None or it.get("row_top"):
        first = [c for c in it["ds"].columns if c.time_part() or c.is_date()] + [m]
        cols = list(dict.fromkeys([c.name for c in first] + [c.name for c in it["ds"].columns]))[:12]
        lines = [f"result = {v}.{pick}({n}, {lit(m.name)})",
                 f"print({lit(f'{word} {n} rows by {fs(m.name)}:')})",
                 f"print(result[{json.dumps(cols, ensure_ascii=False)}].to_string())"]
        return lines, f"{word.lower()} {n} rows by {m.name}"
    why = None
    if it["agg"] is not None and it["agg"] not in ("min", "max"):
        agg = it["agg"]
    else:
        it["per_text"] = ent.name
        agg, why = choose_agg(it, m, ent.time_part() is not None)
    title = f"{word} {n} {ent.name} by {agg_label(agg, m).lower()}"
    lines = assumption_line(why) + [f"result = {v}.groupby({lit(ent.name)})[{lit(m.name)}]{aggs_mod.group_call(agg)}.{pick}({n})",
             f"print({lit(title + ':')})",
             "print(result.to_string(float_format=\"{:,.2f}\".format))"]
    if it["plot"]:
        lines += bar_lines("result", title, ent.name, agg_label(agg, m), True)
    return lines, title.lower()


def op_value_counts(it, v):
    """How many rows per value of a column, with shares; bars when a plot is asked."""
    c = it["group"] or next((x for x in it["others"] if x.is_category() and not x.is_id()), None) or \
        next((x for x in it["others"] if not x.is_numeric()), None) or \
        next(iter(it["others"] + it["measures"]), None)
    if c is None:
        return op_count_rows(it, v)
    per_unit = units_per_group(it, v)
    if per_unit is not None:
        return per_unit
    if c.is_numeric() and not (c.is_code() or c.is_binary01() or c.time_part()) and (c.distinct or 0) > 20:
        from analyst.parse import Unknown   # counting each value of a measure answers nothing asked
        raise Unknown(f"I did not understand what to count or share in {c.name}: it holds measurements, not "
                      f"categories. Ask e.g. \u201chow many rows have {c.name} above 10\u201d or \u201cshare of total "
                      f"{c.name} by COLUMN\u201d.")
    g2 = it.get("group2")
    if g2 is not None and g2 is not c:
        title = f"Number of rows by {c.name} and {g2.name}"
        return ([f"table = pd.crosstab({col(v, c)}, {col(v, g2)}, margins=True, margins_name=\"Total\")",
                 f"print({lit(title + ':')})", "print(table.to_string(max_rows=40))"], title.lower())
    title = f"Number of rows by {c.name}"
    lines = [f"counts = {col(v, c)}.value_counts(dropna=False)",
             "shares = (counts / counts.sum() * 100).round(1)",
             f"print({lit(title + ':')})",
             "print(pd.DataFrame({\"rows\": counts, \"percent\": shares}).head(60).to_string())",
             "if len(counts) > 60:",
             "    print(f\"(the table shows the 60 most common of {len(counts)} values)\")",
             f"print(f\"Most common: {{counts.index[0]}} ({{counts.iloc[0]:,}} rows); {{len(counts)}} different values\")"]
    if it["plot"] or it["op"] == "hist":
        lines += chart_series("counts", c.name, True) + bar_lines("top", title, c.name, "Number of rows", horizontal=None)
    return lines, title.lower()


POSITIVE = ["yes", "true", "1", "y", "t"]


def op_rate(it, v):
    """Share of rows where a flag is set (yes/true) or a number is above 0, by group."""
    cands = it["others"] + it["measures"]
    c = next((x for x in cands if x.is_flag()), None) or next((x for x in cands if x.is_numeric()), None)
    cond_f = it.get("condition")
    if c is None and cond_f is None:
        from analyst.parse import Unknown
        raise Unknown("I understood that you want a share or rate, but not of which rows: name a condition, e.g. "
                      "\u201cshare of rows where COLUMN = VALUE\u201d or \u201cCOLUMN above 10\u201d.")
    if cond_f is not None:   # "share of respondents who voted for Dole (vote = 1)": the rows meeting it
        c = cond_f["col"]
        cond = filter_text({"filters": [cond_f]}).strip(" ()")
        lines = [f"flag = {filter_expr(v, cond_f)}"]
    elif c.is_numeric():   # "respondents who have children": a count above 0, said
        cond, lines = f"{c.name} > 0", [f"flag = {col(v, c)} > 0"] + assumption_line(
            f"a row counts when {c.name} is above 0 (it has some); name a condition such as "
            f"\u201c{c.name} > 2\u201d for another")
    else:
        cond = f"{c.name} is yes/true"
        lines = [f"flag = {col(v, c)}.astype(str).str.casefold().isin({POSITIVE!r})"]
    g = it["group"] or next((x for x in it["others"] if x is not c and x.is_category()), None)
    if g is None:
        lines.append(f"print(f\"Rows where {fs(cond)}: {{flag.mean() * 100:.2f}}% ({{int(flag.sum()):,}} of {{len(flag):,}})\")")
        return lines, f"share of rows where {cond}"
    title = f"Rows where {cond}, % by {g.name}"
    lines += [f"result = (flag.groupby({col(v, g)}).mean() * 100).sort_values(ascending=False)",
              f"print({lit(title + ':')})",
              "print(result.to_string(float_format=\"{:.2f}%\".format, max_rows=60))",
              f"print(f\"Overall: {{flag.mean() * 100:.2f}}%\")"]
    if it["plot"]:
        lines += bar_lines("result", title, g.name, "% of rows")
    return lines, title.lower()


def op_share(it, v):
    """Each group's share of a measure's total; one value's share ("what share
    of total invest did General Motors make")."""
    m = it["measure"]
    cond = it.get("condition")
    if m is not None and cond is not None:
        said = filter_text({"filters": [cond]}).strip(" ()")
        return ([f"total = {col(v, m)}.sum()",
                 f"part = {v}.loc[{filter_expr(v, cond)}, {lit(m.name)}].sum()",
                 f"print(f\"Total {fs(m.name)}: {{total:,.2f}}\")",
                 f"print(f\"{fs(m.name)} where {fs(said)}: {{part:,.2f}}\")",
                 f"print(f\"Share of total {fs(m.name)} where {fs(said)}: {{part / total * 100:.2f}}%\")"],
                f"share of total {m.name} where {said}")
    g = it["group"] or next((x for x in it["others"] if x.is_category()), None)
    if m is None or g is None:
        return op_value_counts(it, v)
    title = f"Share of total {m.name} by {g.name}"
    lines = [f"result = {v}.groupby({lit(g.name)})[{lit(m.name)}].sum().sort_values(ascending=False)",
             "share = result / result.sum() * 100",
             f"print({lit(title + ':')})",
             "print(pd.DataFrame({\"total\": result, \"percent\": share}).to_string(float_format=\"{:,.2f}\".format, max_rows=60))"]
    if it["plot"]:
        lines += bar_lines("share", title, g.name, f"% of total {m.name}")
    return lines, title.lower()


def op_unique_values(it, v):
    """The distinct values of a column (first 50)."""
    c = next(iter(it["others"] + [x for x in [it["group"]] if x] + it["measures"]), None)
    if c is None:
        return op_nunique(it, v)
    return ([f"values = sorted({col(v, c)}.dropna().astype(str).unique())",
             f"print(f\"{fs(c.name)} has {{len(values):,}} distinct values:\")",
             "print(\", \".join(values[:50]) + (\" ...\" if len(values) > 50 else \"\"))"],
            f"list the values of {c.name}")


def op_hist(it, v):
    """Histogram of a measure (overlaid per group when grouped); counts for categories."""
    m, g = it["measure"], it["group"]
    if m is None:
        return op_value_counts(it, v)
    title = f"Distribution of {m.name}" + (f" by {g.name}" if g is not None else "") + filter_text(it)
    lines = ["fig, ax = plt.subplots(figsize=(9, 5))"]
    if g is not None:
        lines += [f"groups = list({v}.groupby({lit(g.name)}))",
                  "if len(groups) > 8:",
                  f"    print(f\"The chart overlays the first 8 of {{len(groups)}} {fs(g.name)} values.\")",
                  "for name, part in groups[:8]:",
                  f"    ax.hist(part[{lit(m.name)}].dropna(), bins=30, alpha=0.5, label=str(name))",
                  f"ax.legend(title={lit(g.name)})"]
    else:
        lines += [f"ax.hist({col(v, m)}.dropna(), bins=30, edgecolor=\"white\")"]
    lines += [f"ax.set_title({lit(title)})", f"ax.set_xlabel({lit(m.name)})",
              "ax.set_ylabel(\"Number of rows\")", "plt.tight_layout()",
              f"print({col(v, m)}.describe().to_string(float_format=\"{{:,.2f}}\".format))"]
    return lines, f"histogram of {m.name}"


def op_head(it, v, how="head"):
    """The first / last / a random sample of N rows."""
    n = it["n"]
    call = f"sample({n}, random_state=0)" if how == "sample" else f"{how}({n})"
    what = {"head": "First", "tail": "Last", "sample": "Random sample of"}[how]
    return ([f"rows = {v}.{call}" if how != "sample" else f"rows = {v}.sample(min({n}, len({v})), random_state=0)",
             f"print(f\"{fs(what)} {{len(rows)}} of {{len({v}):,}} rows:\")",
             "print(rows.to_string(max_cols=20))", "rows"], f"{what.lower()} {n} rows")


def op_overview(it, v):
    """Shape, column types, missing values and summary statistics."""
    wide = len(it["ds"].columns) > 40
    lines = [f"print(f\"{fs(it['ds'].name)}: {{len({v}):,}} rows x {{{v}.shape[1]}} columns\")",
             f"print(\"Column types:\", {v}.dtypes.astype(str).value_counts().to_dict())",
             f"missing = {v}.isna().sum()",
             f"print(f\"Missing values: {{int(missing.sum()):,}} cells in {{int((missing > 0).sum())}} columns\")"]
    if wide:
        lines += [f"print({v}.iloc[:, :20].describe(include=\"all\").T.to_string())",
                  "print(\"(first 20 columns shown)\")"]
    else:
        lines += [f"print({v}.describe(include=\"all\").T.to_string())",
                  f"profile = daa_tools.profile({v}, {json.dumps(str(it['ds'].name), ensure_ascii=False)})",
                  "for warning in profile.warnings[:12]:",
                  "    print(\"warning:\", warning)",
                  "print(f\"Full profile report: {profile.report}\")"]
    if it["measures"] and it["group"] is not None:
        m, g = it["measures"][0], it["group"]
        return ([f"summary = {v}.groupby({lit(g.name)})[{lit(m.name)}].describe()",
                 f"print({lit('Summary of ' + m.name + ' by ' + g.name + ':')})",
                 "print(summary.to_string(float_format=\"{:,.2f}\".format))"],
                f"summary of {m.name} by {g.name}")
    if it["measures"]:
        return op_stats(it, v)
    return lines, f"overview of {it['ds'].name}"


def op_dtypes(it, v):
    """The columns and their types."""
    return ([f"print(f\"{fs(it['ds'].name)} has {{{v}.shape[1]}} columns:\")",
             f"print({v}.dtypes.astype(str).to_string())"], "list the columns and their types")


def op_missing(it, v):
    """Missing values per column, with percentages."""
    return ([f"missing = {v}.isna().sum()",
             "missing = missing[missing > 0].sort_values(ascending=False)",
             f"print(f\"Missing values: {{int(missing.sum()):,}} cells in {{len(missing)}} of {{{v}.shape[1]}} columns\")",
             "if len(missing):",
             f"    table = pd.DataFrame({{\"missing\": missing, \"percent\": (missing / len({v}) * 100).round(1)}})",
             "    print(table.to_string())"], "count missing values")


OPS = {
    "agg": op_agg, "top": op_top, "value_counts": op_value_counts,
    "count_rows": op_count_rows, "rate": op_rate, "share": op_share, "nunique": op_nunique, "unique_values": op_unique_values,
    "hist": op_hist, "head": op_head, "tail": lambda it, v: op_head(it, v, "tail"),
    "sample": lambda it, v: op_head(it, v, "sample"), "overview": op_overview,
    "dtypes": op_dtypes, "missing": op_missing, "scatter": st.op_scatter, "box": st.op_box,
    "corr": st.op_corr, "heatmap": st.op_heatmap, "normality": st.op_normality,
    "outliers": st.op_outliers, "ttest": st.op_ttest, "model": st.op_model, "linreg": st.op_linreg,
    "across": lambda it, v: across.op_across(it, v), "change": lambda it, v: change.op_change(it, v), "edge": lambda it, v: change.op_edge(it, v), "growth": lambda it, v: change.op_growth(it, v),
}


from analyst.codegen_time import LABEL_CODE, default_agg, default_freq, op_time  # noqa: E402 (it calls back here)
OPS["time"] = op_time
