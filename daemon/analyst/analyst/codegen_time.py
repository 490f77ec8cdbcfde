"""analyst/codegen_time.py — the code for a measure over time: a series per
day / week / month / quarter / year (resampled) or half-year / decade
(binned), one line per measure or per group, the table with its highest and
lowest period; periods without data stay gaps, never 0.  Split out of
codegen.py, whose helpers it uses (codegen re-exports these names).
"""
import re

from analyst import aggs as aggs_mod
from analyst import codegen as cg
from analyst.codegen_stats import col, fs, lit


LABEL_CODE = {  # index → labels, per frequency
    "D": "table.index.strftime(\"%Y-%m-%d\")", "W": "table.index.strftime(\"%Y-%m-%d\")",
    "M": "table.index.strftime(\"%Y-%m\")", "Q": "table.index.to_period(\"Q\").astype(str)",
    "Y": "table.index.strftime(\"%Y\")"}
MAX_LINES = 12


def op_time(it, v):
    """A measure (or the row count) over time, per day / week / month /
    quarter / year (resampled) or half-year / decade (binned); a line, bars
    when asked.  Periods without data stay empty (never 0 on the line)."""
    d, m, g = it["date"], it["measure"], it["group"]
    if d is None:
        return ([f"print({lit('There is no date column in ' + it['ds'].name + ', so I cannot plot over time.')})"],
                "no date column")
    freq = it["freq"] or default_freq(d)
    unit = cg.FREQ_NAME[freq]
    it["per_text"] = unit
    why = None
    if it["agg"] is not None:
        agg = it["agg"]
    else:
        agg, why = cg.choose_agg(it, m, True)
    what = cg.agg_label(agg, m) if m is not None else "Number of rows"
    title = f"{what} per {unit}" + (f" by {g.name}" if g is not None else "")
    lines = cg.assumption_line(why) + [f"{v} = {v}.dropna(subset=[{lit(d.name)}])"]
    if not it["freq"] and not getattr(d, "virtual", None):   # the data's own step needs no word
        lines = cg.assumption_line(f"no period was named, so one value per {unit} (from the span of {d.name}); "
                                "ask e.g. \u201cper year\u201d for another") + lines
    call = "sum(min_count=1)" if agg == "sum" else aggs_mod.group_call(agg)[1:]
    how = f"[{lit(m.name)}].{call}" if m is not None else ".size()"
    binned = freq in ("H", "10Y")
    if len(it["measures"]) > 1 and g is None and not binned:
        return time_several(it, v, d, freq, unit)
    if binned:
        key = (f"{col(v, d)}.dt.year.astype(str) + \"H\" + ({col(v, d)}.dt.month > 6).map({{False: \"1\", True: \"2\"}})"
               if freq == "H" else f"({col(v, d)}.dt.year // 10 * 10).astype(str) + \"s\"")
        lines.append(f"period = {key}")
    if g is not None:
        grouper = "period" if binned else f"pd.Grouper(key={lit(d.name)}, freq={lit(freq)})"
        lines += [f"result = {v}.groupby([{grouper}, {lit(g.name)}]){how}.unstack({lit(g.name)})",
                  f"shown = result.sum().sort_values(ascending=False).index[:{MAX_LINES}]",
                  "fig, ax = plt.subplots(figsize=(10, 5))",
                  "for name in shown:",
                  "    ax.plot(result.index, result[name], label=str(name))",
                  f"ax.legend(title={lit(g.name)})",
                  f"if len(result.columns) > {MAX_LINES}:",
                  f"    print(f\"The chart shows the {MAX_LINES} largest of {{len(result.columns)}} {fs(g.name)} values (by their total); the table lists all.\")"]
    else:
        if binned:
            lines.append(f"result = {v}.groupby(period){how if m is not None else '.size()'}")
        elif m is None:
            lines.append(f"result = {v}.set_index({lit(d.name)}).resample({lit(freq)}).size()")
        else:
            lines.append(f"result = {v}.set_index({lit(d.name)})[{lit(m.name)}].resample({lit(freq)}).{call}")
        lines.append("fig, ax = plt.subplots(figsize=(10, 5))")
        if re.search(r"\bbars?\b|\bcolumn chart\b", it["request"], re.I) or binned:   # asked for bars, or bins
            labels = "result.index" if binned else LABEL_CODE[freq].replace("table.", "result.")
            lines.append(f"ax.bar({labels}, result.values)")
        else:
            lines.append("ax.plot(result.index, result.values, marker=\"o\" if len(result) <= 60 else None)")
        lines += ["empty = int(result.isna().sum())",
                  "if empty:",
                  f"    print(f\"{{empty}} of {{len(result)}} {unit}s have no data: left empty (gaps in the line), not 0.\")"]
    lines += [f"ax.set_title({lit(title + cg.filter_text(it))})",
              f"ax.set_xlabel({lit(unit.capitalize() + ' (' + d.name + ')')})",
              f"ax.set_ylabel({lit(what)})",
              "fig.autofmt_xdate()", "plt.tight_layout()",
              "table = result.copy()"]
    if not binned:
        lines.append(f"table.index = {LABEL_CODE[freq]}")
    lines.append(f"print(f\"{fs(title)}, {{len(table)}} {unit}s from {{table.index[0]}} to {{table.index[-1]}}:\")")
    if g is None:
        lines += cg.sort_lines(it, "table")
    lines += cg.print_series("table", 60) if g is None else ["print(table.to_string(float_format=\"{:,.2f}\".format, max_rows=60))"]
    if g is None:
        lines += ["print(f\"Highest: {table.idxmax()} ({table.max():,.2f}); lowest: {table.idxmin()} ({table.min():,.2f})\")"]
        if freq == "M" and not binned:   # "which month had ...": the month also by its name
            lines += ["print(f\"Highest month: {pd.Period(str(table.idxmax()), 'M').strftime('%B %Y')} ({table.max():,.2f}); "
                      "lowest month: {pd.Period(str(table.idxmin()), 'M').strftime('%B %Y')} ({table.min():,.2f})\")"]
    return lines, f"{title.lower()} over time"


def time_several(it, v, d, freq, unit):
    """Several measures over time: one line each (each with its own sum or
    mean, said), the table with one column each."""
    lines, parts = [f"{v} = {v}.dropna(subset=[{lit(d.name)}])", f"series = {v}.set_index({lit(d.name)})",
                    "lines = []"], []
    for m in it["measures"]:
        if it["agg"] is not None:
            agg, why = it["agg"], None
        else:
            agg, why = cg.choose_agg(it, m, True)
        call = "sum(min_count=1)" if agg == "sum" else aggs_mod.group_call(agg)[1:]
        lines += cg.assumption_line(why) + [f"lines.append(({lit(cg.agg_label(agg, m))}, series[{lit(m.name)}].resample({lit(freq)}).{call}))"]
        parts.append(cg.agg_label(agg, m))
    title = f"{' and '.join(parts)} per {unit}"
    lines += ["result = pd.concat(dict(lines), axis=1)",
              "fig, ax = plt.subplots(figsize=(10, 5))",
              "for name in result.columns:",
              "    ax.plot(result.index, result[name], label=name)",
              "ax.legend()",
              f"ax.set_title({lit(title + cg.filter_text(it))})",
              f"ax.set_xlabel({lit(unit.capitalize() + ' (' + d.name + ')')})",
              "ax.set_ylabel(\"Value\")", "fig.autofmt_xdate()", "plt.tight_layout()",
              "table = result.copy()", f"table.index = {LABEL_CODE[freq]}",
              f"print(f\"{fs(title)}, {{len(table)}} {unit}s from {{table.index[0]}} to {{table.index[-1]}}:\")",
              "print(table.to_string(float_format=\"{:,.2f}\".format, max_rows=60))",
              "for name in table.columns:",
              "    print(f\"{name}: highest {table[name].idxmax()} ({table[name].max():,.2f}); lowest {table[name].idxmin()} ({table[name].min():,.2f})\")"]
    return lines, f"{title.lower()} over time"


def default_agg(m):
    """sum for additive measures (revenue, units), mean for levels (temperature, price)."""
    return "sum" if m is None or m.is_additive() else "mean"


def default_freq(d):
    """Month, unless the profile's min/max show the dates span a few weeks (day)
    or decades (year)."""
    try:
        lo, hi = str(d.min)[:10], str(d.max)[:10]
        if d.is_quarter_text():
            return "Q"
        y0, m0, d0 = (int(x) for x in lo.split("-"))
        y1, m1, d1 = (int(x) for x in hi.split("-"))
    except (TypeError, ValueError):
        return "M"
    days = (y1 - y0) * 365 + (m1 - m0) * 30 + (d1 - d0)
    if getattr(d, "virtual", None):   # a date built from year (+ quarter/month): its own step
        return {"quarter": "Q", "month": "M"}.get(d.virtual[2], "Y")
    if d.is_quarter_text():
        return "Q"
    return "D" if days <= 62 else "Y" if days > 365 * 15 else "M"
