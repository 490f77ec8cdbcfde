"""analyst/codegen_dask.py — the code for a Dask-backed dataset (its profile
says backend "dask": larger than the kernel's memory, dfs[NAME] is a
dask.dataframe DataFrame; sandbox/KERNEL.md).

The pandas code of codegen.py is the model: the same printed lines, charts
and answers.  What differs is where the work happens:
- group-by sums/means/counts/min/max/std, value counts, top N, distinct
  counts and filters run in Dask, block by block, and `.compute()` brings
  back only the small result, which the pandas lines then print and draw;
- a series over time is summed (and counted) per day in Dask, then
  resampled in pandas: exact for sums, counts, means, min and max;
- an exact median needs the values: that one column is computed (loaded);
- the overview uses Dask's describe (its percentiles are approximate, said).
Anything else (statistics tests, models, scatter plots, medians by group,
binned periods...) loads only the columns it needs into pandas first and
says so with an "Assumption:" line; codegen.py then writes the rest.
"""
import re

from analyst import codegen as cg
from analyst.codegen_stats import col, fs, lit

AGGS = ("sum", "mean", "count", "min", "max", "std", "var", "size", "nunique", "value_counts",
        "agg", "describe")
DASK_OPS = ("agg", "top", "value_counts", "count_rows", "nunique", "time", "overview", "dtypes",
            "missing", "head", "tail")


def is_dask(ds):
    """Is this dataset Dask-backed (from its profile)?"""
    return getattr(ds, "backend", None) == "dask"


def generate(it, conventions):
    """(code, purpose) for an intent on a Dask-backed dataset."""
    ds = it["ds"]
    body = None
    if it["op"] in DASK_OPS and dask_filters_ok(it) and not needs_conversion(it) and dask_aggs_ok(it):
        try:
            body, purpose = dask_body(it, ds.var)
        except Unsupported:
            body = None
    if body is None:
        return loaded_columns(it, conventions)
    lines = preamble(it, ds.var)
    code = "\n".join(lines + body).rstrip() + "\n"
    return code, purpose + cg.filter_text(it)


class Unsupported(Exception):
    """This code has no Dask form here: load the columns instead."""


def dask_aggs_ok(it):
    """Aggregations Dask computes block by block (not medians by group,
    percentiles, skewness, kurtosis, modes...)."""
    return all(a in DASK_AGGS for a in [it.get("agg")] + list(it.get("aggs") or []) if a is not None)


DASK_AGGS = ("sum", "mean", "count", "min", "max", "std", "var", "median")


def dask_filters_ok(it):
    """Filters Dask evaluates block by block (a value searched in every text
    column is not one of them)."""
    return all(f["kind"] != "search" for f in it["filters"])


def needs_conversion(it):
    """Does a column used need the text-to-number or text-to-date conversion
    that the loader did not do (no convention for it)?  Then load instead."""
    for c in cg.used_columns(it):
        if getattr(c, "virtual", None) or getattr(c, "derived", None) or c.is_numeric_text():
            return True
        if c.is_date() and not c.dtype.startswith("datetime"):
            return True
    return False


def preamble(it, v):
    """The Dask frame, only the columns used (when the op names them), the filters."""
    ds = it["ds"]
    lines = [f"{v} = dfs[{lit(ds.name)}]   # a Dask DataFrame: {fs(ds.name)} is larger than the kernel's memory"]
    if it["op"] in ("agg", "time", "value_counts", "nunique"):
        cols = list(dict.fromkeys(c.name for c in cg.used_columns(it) if c is not None))
        if cols and len(cols) < len(ds.columns):
            lines.append(f"{v} = {v}[{cols!r}]")
    for f in it["filters"]:
        lines.append(f"{v} = {v}[{cg.filter_expr(v, f)}]")
    if it["filters"]:
        lines += [f"rows = len({v})   # one pass over the file",
                  f"print(f\"Rows matching{fs(cg.filter_text(it))}: {{rows:,}}\")",
                  f"assert rows > 0, {lit('no rows match the filters' + cg.filter_text(it))}"]
    return lines


def dask_body(it, v):
    """The op's pandas lines with the heavy part moved into Dask."""
    if it["op"] == "overview" and not it["measures"]:
        return overview(it, v)
    if it["op"] == "overview" and it["group"] is not None:
        raise Unsupported("describe by group")
    if it["op"] in ("overview", "agg") and it["measures"] and it["group"] is None and \
            (it["op"] == "overview" or it["agg"] is None):
        return stats(it, v)
    if it["op"] == "time":
        return time_series(it, v)
    lines, purpose = cg.OPS[it["op"]](it, v)
    return [to_dask(ln, v) for ln in lines], purpose


_CALL = re.compile(r"\.(" + "|".join(AGGS) + r")\(")


def _close(s, i):
    """Index just after the parenthesis that closes the one at s[i-1]."""
    depth = 1
    while i < len(s) and depth:
        depth += {"(": 1, ")": -1}.get(s[i], 0)
        i += 1
    return i


def to_dask(line, v):
    """One pandas line as Dask code: .compute() after the first reduction of
    the Dask frame, so what follows works on the small pandas result."""
    if f"{v}.groupby(" in line and ".median(" in line or "pd.Grouper(" in line or \
            "pd.crosstab(" in line or "daa_tools.profile(" in line:
        raise Unsupported(line)
    m = re.match(rf"^(\s*\w+ = )({re.escape(v)}\[[^\]]+\])\.median\(\)(.*)$", line)
    if m:   # exact median: load this one column
        return f"{m.group(1)}{m.group(2)}.compute().median(){m.group(3)}   # exact: loads this column"
    m = re.match(rf"^(\s*\w+ = )({re.escape(v)}\.nlargest|{re.escape(v)}\.nsmallest)(\(.*\))$", line)
    if m:
        return line + ".compute()"
    hit = _CALL.search(line)
    if not hit:
        return line
    if not re.match(rf"^\s*\w+ = {re.escape(v)}[\[.]", line):
        if f"{v}." in line or f"{v}[" in line:
            raise Unsupported(line)   # a reduction of the frame inside an expression
        return line
    end = _close(line, hit.end())
    return line[:end] + ".compute()" + line[end:]


def stats(it, v):
    """Summary statistics of each measure: one Dask pass for count, total,
    mean, min, max and std; the exact median loads that column."""
    lines = ["import dask"]
    for m in it["measures"]:
        lines += [f"values = {col(v, m)}.dropna()",
                  "count, total, mean, low, high, std = dask.compute(values.count(), values.sum(), "
                  "values.mean(), values.min(), values.max(), values.std())",
                  "median = values.compute().median()   # exact: loads this column",
                  f"print(f\"{fs(m.name)}: count {{count:,}}, total {{total:,.2f}}, "
                  "mean {mean:,.2f}, median {median:,.2f}, min {low:,.2f}, max {high:,.2f}, std {std:,.2f}\")"]
    return lines, "summary statistics of " + ", ".join(m.name for m in it["measures"])


def overview(it, v):
    """Shape, types, missing values and describe(), in Dask."""
    name = it["ds"].name
    lines = [f"rows = len({v})   # one pass over the file",
             f"print(f\"{fs(name)}: {{rows:,}} rows x {{{v}.shape[1]}} columns (Dask-backed: larger than memory)\")",
             f"print(\"Column types:\", {v}.dtypes.astype(str).value_counts().to_dict())",
             f"missing = {v}.isna().sum().compute()",
             f"print(f\"Missing values: {{int(missing.sum()):,}} cells in {{int((missing > 0).sum())}} columns\")",
             f"summary = {v}.describe(include=\"all\").compute().T",
             "print(summary.to_string())",
             "print(\"(percentiles from Dask are approximate; the full profile: daa profile " + name.replace('"', "") + ")\")"]
    return lines, f"overview of {name}"


def time_series(it, v):
    """A measure per period: per-day sums and counts in Dask, resampled in pandas."""
    d, m, g = it["date"], it["measure"], it["group"]
    freq = it["freq"] or cg.default_freq(d) if d is not None else None
    if d is None or g is not None or len(it["measures"]) > 1 or freq in ("H", "10Y"):
        raise Unsupported("time")
    lines, purpose = cg.op_time(it, v)
    pat = re.compile(rf"^result = {re.escape(v)}\.set_index\({re.escape(lit(d.name))}\)(\[.*?\])?\.resample\((.*?)\)\.(\w+)\((.*)\)$")
    out = []
    for ln in lines:
        hit = pat.match(ln)
        if not hit:
            out.append(ln)
            continue
        sel, fr, agg = hit.group(1), hit.group(2), hit.group(3)
        day = f"{col(v, d)}.dt.floor(\"D\")"
        if sel is None:           # rows per period
            out += [f"per_day = {v}.groupby({day}).size().compute()   # in blocks: one number per day",
                    f"result = per_day.resample({fr}).sum()"]
        elif agg in ("sum", "count", "mean"):
            out += [f"per_day = {v}.groupby({day}){sel}.agg([\"sum\", \"count\"]).compute()   # in blocks",
                    {"sum": f"result = per_day[\"sum\"].resample({fr}).sum(min_count=1)",
                     "count": f"result = per_day[\"count\"].resample({fr}).sum()",
                     "mean": (f"result = per_day[\"sum\"].resample({fr}).sum(min_count=1) / "
                              f"per_day[\"count\"].resample({fr}).sum()")}[agg]]
        elif agg in ("min", "max"):
            out += [f"per_day = {v}.groupby({day}){sel}.{agg}().compute()   # in blocks",
                    f"result = per_day.resample({fr}).{agg}()"]
        else:
            raise Unsupported(agg)
    return out, purpose


def loaded_columns(it, conventions):
    """Other operations: the columns used are computed into pandas first
    (said), then the pandas code of codegen.py runs unchanged."""
    ds = it["ds"]
    cols = []
    for c in cg.used_columns(it):
        parts = list(c.virtual[:2]) if getattr(c, "virtual", None) else [c]
        cols += [p.name for p in parts if p is not None]
    cols = list(dict.fromkeys(cols))
    all_cols = not cols or len(cols) >= len(ds.columns)
    code, purpose = cg.generate(it, conventions, dask_ok=False)
    v = ds.var
    first = f"{v} = dfs[{lit(ds.name)}]"
    what = "all its columns" if all_cols else "the columns " + ", ".join(cols)
    load = ([f"print({lit('Assumption: ' + ds.name + ' is larger than memory (Dask-backed); this analysis has no block-by-block form here, so ' + what + ' are loaded into memory.')})",
             f"{v} = dfs[{lit(ds.name)}]" + ("" if all_cols else f"[{cols!r}]") + ".compute()   # into pandas"])
    lines = code.split("\n")
    for i, ln in enumerate(lines):
        if ln.startswith(first):
            rest = ln[len(first):]
            lines[i:i + 1] = load + ([f"{v} = {v}{rest}"] if rest.strip() else [])
            break
    return "\n".join(lines), purpose
