"""analyst/across.py — questions across the columns of a wide table, where
each numeric column is one series or category ("percent of degrees earned by
women", one column per field; prices, one column per company):

  "Which field had the highest average?"        the mean of every column, ranked
  "In 1990, which field had the lowest value?"  that row's values, ranked
  "Which column has the largest total?"         the sum of every column, ranked

plan() spots the wording (which/what + a noun that names no column, no value
and no period, then a superlative) when the request names no measure and the
data has two or more numeric columns; the noun is said in an Assumption line
as read as "the columns". op_across() writes the code.
"""
import re

from analyst.codegen_stats import lit
from analyst.schema import STOP

ACROSS_RE = re.compile(r"\b(?:which|what) ([a-z]+)(?: (?:has|had|have|is|was|were|shows?|showed|got|gets|saw|sees))?"
                       r"(?: the)? (highest|lowest|largest|smallest|biggest|greatest|most|least|best|worst|top)\b")
PERIOD_NOUNS = {"year", "years", "month", "months", "quarter", "quarters", "day", "days", "date", "dates", "week",
                "weeks", "decade", "decades", "time", "period", "periods", "row", "rows", "one", "value", "values"}
COLUMN_NOUNS = {"column", "variable", "field", "series", "measure", "feature", "indicator"}
AGG_OF = {"mean": "mean", "median": "median", "sum": "sum", "std": "std", "var": "var", "min": "min", "max": "max"}


def measures(ds):
    """The columns compared: numeric measures that are no time part, id or 0/1 flag."""
    return [c for c in ds.columns if c.is_numeric() and not c.is_id() and not c.time_part()
            and not c.is_binary01() and not c.is_date()]


def plan(it, tokens, ms, q):
    """Makes it an "across" intent when the request compares the columns
    themselves; returns the position of the noun read as "the columns"
    (described), else None."""
    m = ACROSS_RE.search(q)
    if not m or m.group(1) in PERIOD_NOUNS or m.group(1) in STOP and m.group(1) not in COLUMN_NOUNS or it["op"] not in ("top", "agg", "time", None):
        return None
    cols = measures(it["ds"])
    named = [x for x in ms if x.value is None and x.col0.is_numeric() and not x.col0.time_part() and x.role != "filter"]
    if len(cols) < 2 or named or any(x.value is not None or x.role == "group" for x in ms):
        return None
    noun = next((t for t in tokens if t.f == m.group(1)), None)
    if noun is None or any(x.start <= noun.i < x.end for x in ms):
        return None
    aggs = [a for a in it.get("aggs") or [] if a in AGG_OF and a not in ("min", "max")]
    it["op"], it["measures"], it["measure"] = "across", cols, cols[0]
    it["agg"] = aggs[0] if aggs else None
    it["ascending"] = m.group(2) in ("lowest", "smallest", "least", "worst")
    it["freq"] = None
    it["assume"].append(f"\u201c{noun.text}\u201d read as the columns of {it['ds'].name} compared with each other "
                        f"({', '.join(c.name for c in cols[:8])}{', ...' if len(cols) > 8 else ''})")
    return noun.i


def op_across(it, v):
    """Each column's statistic (or its value when one row is left), ranked."""
    cols = [c.name for c in it["measures"]]
    agg = it.get("agg")
    asc = bool(it.get("ascending"))
    word = "Lowest" if asc else "Highest"
    lines = [f"frame = {v}[{cols!r}]"]
    if agg:
        label = {"mean": "Mean", "median": "Median", "sum": "Total", "std": "Standard deviation", "var": "Variance"}[agg]
        lines += [f"result = frame.agg({lit(agg)})", f"what = {lit(label + ' of each column')}"]
    else:
        lines += ["if len(frame) == 1:",
                  "    result, what = frame.iloc[0], \"Value of each column\"",
                  "else:",
                  f"    print(f\"Assumption: {{len(frame):,}} rows, and no statistic was named, so each column's mean is compared.\")",
                  "    result, what = frame.mean(), \"Mean of each column\""]
    lines += [f"result = result.astype(float).sort_values(ascending={asc})",
              "print(what + \":\")",
              "print(result.to_string(float_format=\"{:,.4f}\".format))",
              f"print(f\"{word}: {{result.index[0]}} ({{result.iloc[0]:,.4f}})\")"]
    return lines, f"{'lowest' if asc else 'highest'} of the columns" + (f" by {agg}" if agg else "")
