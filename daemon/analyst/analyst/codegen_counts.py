"""analyst/codegen_counts.py — the code for counting: rows, the things each
row is ("how many states": the rows when each is one, else their distinct
values), and distinct values of a column (also per group when the rows
repeat the people or things they are about).
"""
import json

from analyst.codegen_stats import col, fs, lit


def assumption_line(text):
    """The code line printing an assumption (answer.py puts it near the top)."""
    return [f"print({lit('Assumption: ' + text + '.')})"] if text else []


def distinct_lines(it, v, c, g):
    """The number of distinct values of c (the people or things the rows are
    about, several rows each), overall or per group."""
    note = assumption_line(f"{c.name} repeats ({it['ds'].rows:,} rows for {c.distinct:,} values), so its distinct "
                           "values are counted, not its rows")
    if g is None:
        return note + [f"count = {col(v, c)}.nunique()", f"print(f\"Number of distinct {fs(c.name)}: {{count:,}}\")"], \
            f"count distinct {c.name}"
    title = f"Number of distinct {c.name} by {g.name}"
    return note + [f"result = {v}.groupby({lit(g.name)})[{lit(c.name)}].nunique()", f"print({lit(title + ':')})",
                   "print(result.to_string())"], title.lower()


def units_per_group(it, v):
    """"How many patients are in each treatment group" when the rows repeat
    the patients (4 visits each: Dataset.unit_column): the distinct patients
    per group, not the rows; None when the request counts no row noun."""
    import re
    from analyst.described import row_noun
    unit, g = it["ds"].unit_column(), it.get("group")
    if unit is None or g is None or g is unit:
        return None
    q = it.get("request") or ""
    if not any(row_noun(t.f) and re.search(r"\b(how many|number of|count)( the)? " + re.escape(t.f) + r"\b", q, re.I)
               for t in it.get("tokens") or []):
        return None
    return distinct_lines(it, v, unit, g)


def op_count_rows(it, v):
    """The number of rows (after filters); of the things counted ("how many
    states", "count the quarters") when each row is one of them, else their
    distinct values among the rows."""
    c = it.get("counted")
    if c is None:
        return [f"print(f\"Number of rows: {{len({v}):,}}\")"], "count the rows"
    what = it.get("counted_time") or [c.name]
    if it.get("counted_rows"):
        return ([f"print(f\"Number of rows: {{len({v}):,}}\")",
                 f"print({lit('Each row is one ' + ' and '.join(what) + ' value, so this counts them.')})"],
                f"count the {c.name} values (one row each)")
    return ([f"count = len({v}[{json.dumps(what, ensure_ascii=False)}].drop_duplicates())",
             f"print(f\"Number of distinct {fs(' and '.join(what))} values: {{count:,}} (in {{len({v}):,}} rows)\")"],
            f"count the distinct {' and '.join(what)} values")


def op_nunique(it, v):
    """How many distinct values a column has."""
    c = next(iter(it["others"] + it["measures"] + ([it["group"]] if it["group"] else [])), None)
    if c is None:
        return ([f"print({v}.nunique().to_string())"], "distinct values per column")
    return ([f"count = {col(v, c)}.nunique()",
             f"print(f\"Distinct {fs(c.name)}: {{count:,}}\")"], f"count distinct {fs(c.name)}")
