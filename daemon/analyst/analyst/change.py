"""analyst/change.py — change and growth of a measure over time.

  "How did TOTEMP change from 1947 to 1962?", "by what percentage did the
  fertility rate fall between 1960 and 2010", "how much did X grow from A to
  B": the value at each end (the row of that year, or the year's mean / total
  when a year holds several rows, said), the difference and the percent change;
  "Which quarter had the lowest real GDP growth?", "average monthly growth of
  X": the percent change from one period to the next (the data's own step, or
  the period named), said in an Assumption line, with its lowest / highest
  period or its mean.

plan() turns an intent built by intent.py into one of these ops when the
request says so; op_change() / op_growth() write the code.
"""
import re

from analyst.codegen_stats import col, fs, lit

CHANGE_RE = re.compile(r"\b(grow|grows|grew|grown|growth|increase[sd]?|decrease[sd]?|rise|rises|rose|risen|"
                       r"fall|falls|fell|fallen|decline[sd]?|drop|drops|dropped|change[sd]?|gain(?:ed)?|difference)\b", re.I)
GROWTH_RE = re.compile(r"\b(growth|grow|grew|grown|growth rates?)\b", re.I)
CHANGE_WORDS = set("""grow grows grew grown growth increase increases increased decrease decreases decreased rise
rises rose risen fall falls fell fallen decline declines declined drop drops dropped change changes changed gain gained
percent percentage much difference between from to rate rates period""".split())
UNIT = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
FREQ_OF_WORD = {"daily": "D", "day": "D", "weekly": "W", "week": "W", "monthly": "M", "month": "M",
                "quarterly": "Q", "quarter": "Q", "yearly": "Y", "annual": "Y", "year": "Y"}


def endpoints(it):
    """(first year, last year, the filters they came from) when the request
    names two years as the ends of a change ("from 1947 to 1962", "between
    1960 and 2010", "in 1960 and in 2010"), else None."""
    fs_ = it["filters"]
    dates = [f for f in fs_ if f["kind"] == "date" and isinstance(f.get("value"), str)]
    if len(dates) == 2 and dates[0].get("span") == dates[1].get("span") and dates[0]["op"] == ">=" \
            and dates[1]["op"] == "<" and dates[0]["value"].endswith("-01-01") and dates[1]["value"].endswith("-01-01"):
        a, b = int(dates[0]["value"][:4]), int(dates[1]["value"][:4]) - 1
        if b > a:
            return a, b, dates
    years = [f for f in fs_ if f["kind"] == "year"]
    if len(years) == 2 and years[0]["value"] != years[1]["value"]:
        a, b = years[0]["value"], years[1]["value"]
        return a, b, years
    return None


def plan(it, tokens, q):
    """Makes it a "change" (two years named) or "growth" (period to period)
    intent when the request asks how a measure changed; leaves it alone
    otherwise (a change over time without ends is a time series)."""
    if not CHANGE_RE.search(q) or it["op"] not in ("agg", "time", "top", "value_counts", "rate", "share", None) or len(it.get("measures") or []) != 1 \
            or not it["ds"].date_columns() or not it["measures"][0].is_numeric():
        return
    ends = endpoints(it)
    cats = [c for c in it.get("others") or [] if c.is_category() and not c.time_part()]
    if it.get("group") is None and len(cats) == 1 and re.search(r"\b(which|what|each|every|per|by)\b", q):
        it["group"] = cats[0]   # "which firm grew its invest the most between 1935 and 1954"
    if it.get("group") is not None and (ends is None or it["group"].time_part() or it.get("group2") is not None):
        return
    if it.get("group") is not None:
        it["pick"] = "min" if re.search(r"\b(least|lowest|smallest|fell|fall|declined?|dropped|drop)\b", q) else "max"
    if ends is not None:
        a, b, used = ends
        it["op"], it["points"] = "change", (a, b)
        it["filters"] = [f for f in it["filters"] if not any(f is u for u in used)]
        it["change_span"] = {i for f in used for i in f.get("span", ())} | {f.get("tok") for f in used}
        it["date"] = it.get("date") or it["ds"].date_columns()[0]
        return
    if not GROWTH_RE.search(q) or any(f["kind"] in ("date", "year") for f in it["filters"] if f.get("span") is None):
        return
    freq = it.get("freq") or next((FREQ_OF_WORD[t.f] for t in tokens if t.f in FREQ_OF_WORD), None) or it["ds"].step()
    if freq not in UNIT:
        return
    it["op"], it["freq"] = "growth", freq
    it["date"] = it.get("date") or it["ds"].date_columns()[0]
    low = re.search(r"\b(lowest|smallest|weakest|least|worst|minimum|min)\b", q)
    high = re.search(r"\b(highest|largest|strongest|most|best|biggest|maximum|max|fastest)\b", q)
    it["pick"] = "min" if low and not high else "max" if high and not low else None


def accepted(it):
    """The words a change / growth plan carries (for audit.py)."""
    return CHANGE_WORDS | {"highest", "lowest", "largest", "smallest", "weakest", "strongest", "fastest", "average",
                           "mean"}


def year_key(v, d):
    """Code for the calendar year of each row (a year column as it is)."""
    virt = getattr(d, "virtual", None)
    return col(v, virt[0]) if virt else f"{col(v, d)}.dt.year"


def op_change(it, v):
    """The measure at the two years named, the difference and the percent
    change; a year holding several rows gives its mean (levels) or total
    (flows), said, and the first and last reading as well."""
    from analyst.codegen import choose_agg
    m, d = it["measures"][0], it["date"]
    a, b = it["points"]
    agg, _ = choose_agg(it, m, True)
    asked = [x for x in it.get("aggs") or [] if x in ("mean", "sum", "median")]
    if "sum" in asked and re.search(r"\bhow much\b", it["request"], re.I) \
            and not re.search(r"\b(total|sum)\b", it["request"], re.I):
        asked.remove("sum")   # "how much did it change" asks for no total
    agg = asked[0] if asked else agg
    if it.get("group") is not None:
        return change_by_group(it, v, m, d, a, b, agg)
    call = "sum(min_count=1)" if agg == "sum" else f"{agg}()"
    word = {"sum": "total", "mean": "mean", "median": "median"}[agg]
    lines = [f"{v} = {v}.dropna(subset=[{lit(m.name)}]).sort_values({lit(d.name)})",
             f"year = {year_key(v, d)}",
             f"rows_per_year = {v}.groupby(year).size()",
             f"per_year = {v}.groupby(year)[{lit(m.name)}].{call}",
             f"missing = [y for y in ({a}, {b}) if y not in per_year.index]",
             f"assert not missing, f\"no {fs(m.name)} value in {{missing}}\"",
             f"first, last = per_year.loc[{a}], per_year.loc[{b}]",
             f"several = int(rows_per_year.loc[[{a}, {b}]].max()) > 1",
             "if several:",
             f"    print(f\"Assumption: {{int(rows_per_year.loc[{a}])}} and {{int(rows_per_year.loc[{b}])}} rows fall in "
             f"{a} and {b}, so each year's {word} of {fs(m.name)} is compared; the first reading of {a} and the last "
             f"of {b} follow.\")",
             f"label = {lit(m.name)} + (\" ({word} of the year)\" if several else \"\")",
             f"print(f\"{{label}} in {a}: {{first:,.4f}}\")",
             f"print(f\"{{label}} in {b}: {{last:,.4f}}\")",
             f"print(f\"Change from {a} to {b}: {{last - first:+,.4f}}\")",
             "if first != 0:",
             "    pct = (last - first) / abs(first) * 100",
             f"    print(f\"Percent change from {a} to {b}: {{pct:+.2f}}% (a {{'fall' if pct < 0 else 'rise'}} of {{abs(pct):.2f}}%)\")",
             f"if several and {col(v, d)}.is_unique:   # one series: its first and last readings too",
             f"    ends = {v}.loc[year == {a}, {lit(m.name)}].iloc[0], {v}.loc[year == {b}, {lit(m.name)}].iloc[-1]",
             f"    print(f\"First reading of {a}: {{ends[0]:,.4f}}; last reading of {b}: {{ends[1]:,.4f}}; change "
             f"{{ends[1] - ends[0]:+,.4f}}\" + (f\" ({{(ends[1] - ends[0]) / abs(ends[0]) * 100:+.2f}}%)\" if ends[0] else \"\"))"]
    return lines, f"change of {m.name} from {a} to {b}"


def change_by_group(it, v, m, d, a, b, agg):
    """The change of m from year a to year b for each value of the group,
    ranked by the change, the top by percent change said too."""
    g = it["group"]
    call = "sum(min_count=1)" if agg == "sum" else f"{agg}()"
    asc = it.get("pick") == "min"
    word = "smallest" if asc else "largest"
    return [f"{v} = {v}.dropna(subset=[{lit(m.name)}])",
            f"year = {year_key(v, d)}",
            f"table = {v}[year.isin([{a}, {b}])].groupby([{lit(g.name)}, year])[{lit(m.name)}].{call}.unstack()",
            f"table = table.reindex(columns=[{a}, {b}]).dropna()",
            f"table[\"change\"] = table[{b}] - table[{a}]",
            f"table[\"percent change\"] = table[\"change\"] / table[{a}].abs() * 100",
            f"table = table.sort_values(\"change\", ascending={asc})",
            f"print({lit(f'{m.name} in {a} and {b} per {g.name}, and its change (the {agg} when a year holds several rows):')})",
            "print(table.to_string(float_format=\"{:,.2f}\".format))",
            f"print(f\"{word.capitalize()} change: {{table.index[0]}} ({{table['change'].iloc[0]:+,.2f}}, "
            f"{{table['percent change'].iloc[0]:+.2f}}%)\")",
            f"pct = table[\"percent change\"].sort_values(ascending={asc})",
            f"print(f\"Assumption: ranked by the change in {fs(m.name)} itself; by percent change the {word} is "
            f"{{pct.index[0]}} ({{pct.iloc[0]:+.2f}}%).\")"], f"change of {m.name} from {a} to {b} by {g.name}"


def op_growth(it, v):
    """The percent change of the measure from one period to the next (rows
    summed or averaged per period when there are several), its lowest /
    highest period or its mean, said."""
    from analyst.codegen import LABEL_CODE, choose_agg
    m, d, freq = it["measures"][0], it["date"], it["freq"]
    unit = UNIT[freq]
    it["per_text"] = unit
    agg, why = choose_agg(it, m, True)
    call = "sum(min_count=1)" if agg == "sum" else f"{agg}()"
    virt = getattr(d, "virtual", None)
    own = it["ds"].step() == freq or freq == "D" and d.distinct == it["ds"].rows   # one row per period: the rows
    series = (f"series = {v}.sort_values({lit(d.name)}).set_index({lit(d.name)})[{lit(m.name)}]" if own else
              f"series = {v}.set_index({lit(d.name)})[{lit(m.name)}].resample({lit(freq)}).{call}")
    lines = [f"{v} = {v}.dropna(subset=[{lit(d.name)}])",
             series,
             "growth = series.pct_change(fill_method=None) * 100",
             "table = growth.dropna()",
             (f"table.index = {LABEL_CODE[freq]}" if not own or freq != "D" else "table.index = table.index.strftime(\"%Y-%m-%d\")"),
             f"print({lit(f'Assumption: growth read as the percent change of {m.name} from one {unit} to the next' + ('' if virt or own else f' (its {agg} per {unit})') + '.')})",
             f"print(f\"Growth of {fs(m.name)} per {unit} (%), {{len(table)}} {unit}s from {{table.index[0]}} to {{table.index[-1]}}:\")",
             "print(table.to_string(float_format=\"{:,.2f}\".format, max_rows=60))"]
    if it.get("pick") == "min":
        lines.append(f"print(f\"Lowest growth: {{table.idxmin()}} ({{table.min():+.2f}}%)\")")
    elif it.get("pick") == "max":
        lines.append(f"print(f\"Highest growth: {{table.idxmax()}} ({{table.max():+.2f}}%)\")")
    else:
        lines += [f"print(f\"Average growth per {unit}: {{table.mean():+.4f}}%\")",
                  f"print(f\"Highest: {{table.idxmax()}} ({{table.max():+.2f}}%); lowest: {{table.idxmin()}} ({{table.min():+.2f}}%)\")"]
    return lines, f"growth of {m.name} per {unit}"


EDGE_RE = re.compile(r"\b(latest|newest|final|last|earliest|first)\b(?: (?:recorded|reported|observed|available|known))?"
                     r"(?: (?:value|reading|figure|level) of)?(?: the)?(?: (\w+))?", re.I)


EDGE_FILL = {"recorded", "reported", "observed", "available", "known", "value", "reading", "figure", "level", "of",
             "the", "a", "an"}


def at_edge(it, tokens, q):
    """"What was the latest Close?", "the first recorded value of X": the
    measure at the latest (earliest) date, whatever the file's order."""
    if it["op"] not in ("agg", None) or len(it.get("measures") or []) != 1 or it.get("group") is not None \
            or not it["ds"].date_columns() or re.search(r"\b(first|last) \d+|\brows?\b", q):
        return
    m = next((x for x in it.get("mentions") or [] if x.value is None and it["measures"][0] in x.cols), None)
    hit = next((h for h in EDGE_RE.finditer(q)), None)
    if m is None or hit is None:
        return
    k = next((t.i for t in tokens if t.f == hit.group(1).lower()), None)
    if k is None or not 0 < m.start - k <= 5 or [a for a in it.get("aggs") or [] if a not in ("min", "max")] \
            or any(t.f not in EDGE_FILL for t in tokens[k + 1:m.start]):
        return   # "the first quartile of X", "the first year with X above 8" are other questions
    it["op"], it["edge"] = "edge", "first" if hit.group(1).lower() in ("earliest", "first") else "last"
    it["date"] = it.get("date") or it["ds"].date_columns()[0]
    it["agg"], it["aggs"] = None, []


def op_edge(it, v):
    """The measure on the latest (earliest) date; every row of that date
    when several share it (said)."""
    m, d = it["measures"][0], it["date"]
    first = it["edge"] == "first"
    word = "Earliest" if first else "Latest"
    when = "min" if first else "max"
    lines = [f"{v} = {v}.dropna(subset=[{lit(d.name)}, {lit(m.name)}])",
             f"at = {v}[{lit(d.name)}].{when}()",
             f"rows = {v}[{v}[{lit(d.name)}] == at]",
             "day = str(at)[:10] if isinstance(at, pd.Timestamp) and at == at.normalize() else str(at)",
             f"values = rows[{lit(m.name)}]",
             "if len(rows) == 1:",
             f"    print(f\"{word} {fs(m.name)} ({fs(d.name)} {{day}}): {{values.iloc[0]:,.4f}}\")",
             "else:",
             f"    print(f\"Assumption: {{len(rows)}} rows share the {word.lower()} date {{day}}; all are listed, and their mean is {{values.mean():,.4f}}.\")",
             "    print(rows.head(20).to_string())"]
    return lines, f"{word.lower()} {m.name}"
