"""analyst/aggs.py — the summary statistics a request can name (sum, mean,
median, std, variance, min, max, count, skewness, kurtosis, mode, range,
interquartile range, coefficient of variation, percentiles "p90"): their
labels, the pandas expression of each, and the lines printing one value with
the assumption behind it when the number depends on a convention (sample or
population standard deviation, bias-corrected skewness, excess kurtosis).
"""
from analyst.codegen_stats import fs
from analyst.codegen_stats import lit as lit_text

LABEL = {"sum": "Total", "mean": "Average", "median": "Median", "min": "Minimum",
         "max": "Maximum", "std": "Standard deviation of", "var": "Variance of",
         "count": "Number of non-empty", "skew": "Skewness of", "kurt": "Kurtosis of",
         "mode": "Mode of", "range": "Range of", "iqr": "Interquartile range of",
         "cv": "Coefficient of variation of"}
SIMPLE = ("sum", "mean", "median", "min", "max", "std", "var", "count")
PRECISE = ("skew", "kurt", "cv")   # printed with 4 decimals: small numbers


def ordinal(p):
    """"90th", "1st", "97.5th"."""
    if "." in p:
        return p + "th"
    n = int(p)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def label(agg, c):
    """"Total revenue", "Skewness of unemp", "90th percentile of price"."""
    if agg.startswith("p") and agg[1:2].isdigit():
        return f"{ordinal(agg[1:])} percentile of {c.name}"
    return f"{LABEL.get(agg, 'Total')} {c.name}"


def short(agg):
    """The column header of an aggregation in a table: "mean", "p90"."""
    if agg.startswith("p") and agg[1:2].isdigit():
        return f"{ordinal(agg[1:])} percentile"
    return {"skew": "skewness", "kurt": "kurtosis", "cv": "coef. of variation"}.get(agg, agg)


def expr(agg, s):
    """The expression computing agg over the Series code s."""
    if agg in SIMPLE or agg in ("skew", "kurt"):
        return f"{s}.{agg}()"
    if agg.startswith("p") and agg[1:2].isdigit():
        return f"{s}.quantile({float(agg[1:]) / 100:g})"
    return {"range": f"({s}.max() - {s}.min())",
            "iqr": f"({s}.quantile(0.75) - {s}.quantile(0.25))",
            "cv": f"({s}.std() / {s}.mean())",
            "mode": f"{s}.mode().iloc[0]"}[agg]


def group_call(agg):
    """The call after .groupby(g)[m] computing agg per group."""
    if agg in SIMPLE:
        return f".{agg}()"
    return f".apply(lambda s: {expr(agg, 's')})"


def value_lines(agg, c, s, frame=None, where=()):
    """Lines printing agg of one column (Series code s) as "Label: value", with
    an "Assumption:" line when the number depends on a convention; a minimum
    or maximum also says where it is (the where columns of its row in frame:
    "Maximum unemp: 10.70 (year 1982, quarter 4)")."""
    name = label(agg, c)
    if agg in ("min", "max") and frame and where:
        return [f"value = {s}.{agg}()",
                f"at_rows = {frame}.loc[{s} == value, {list(where)!r}]",
                "ties = len(at_rows)",
                "at = at_rows.head(1).iloc[0]",
                "place = \", \".join(f\"{k} {str(v)[:10] if isinstance(v, pd.Timestamp) and v == v.normalize() else v}\" for k, v in at.items())",
                "place += f\"; the first of {ties} rows with this value\" if ties > 1 else \"\"",
                f"print(f\"{fs(name)}: {{value:,.2f}} ({{place}})\")"]
    if agg == "mode":
        return [f"modes = {s}.mode()",
                "if len(modes) == 1:",
                f"    print(f\"{fs(name)}: {{modes.iloc[0]}} ({{int(({s} == modes.iloc[0]).sum()):,}} rows)\")",
                "else:",
                f"    print(f\"{fs(name)}: {{len(modes)}} values tie as the most frequent: {{', '.join(map(str, modes[:20]))}}\")"]
    spec = ",.4f" if agg in PRECISE else ",.2f"
    if agg == "count":   # "how many X": the values present, not their total; said
        return [f"value = {expr(agg, s)}", f"print(f\"{fs(name)}: {{value:,}}\")",
                f"print({lit_text('Assumption: the number of rows with a value of ' + c.name + ', not its total; ask for the total ' + c.name + ' to add the values up.')})"]
    lines = [f"value = {expr(agg, s)}", f"print(f\"{fs(name)}: {{value:{spec}}}\")"]
    if agg in ("std", "var"):
        what = "standard deviation" if agg == "std" else "variance"
        lines += [f"population = {s}.{agg}(ddof=0)",
                  f"print(f\"Assumption: the sample {what} (divides by n - 1, pandas' default); "
                  f"the population {what} (divides by n) is {{population:,.4f}}.\")"]
    elif agg == "skew":
        lines += ["from scipy import stats",
                  f"biased = stats.skew({s}.dropna())",
                  "print(f\"Assumption: the sample skewness with the bias correction (pandas' skew); without it "
                  "(scipy.stats.skew's default) it is {biased:,.4f}.\")"]
    elif agg == "kurt":
        lines += ["from scipy import stats",
                  f"biased = stats.kurtosis({s}.dropna())",
                  "print(f\"Assumption: excess kurtosis (0 for a normal distribution) with the bias correction "
                  "(pandas' kurt); without it (scipy.stats.kurtosis's default) it is {biased:,.4f}; "
                  "add 3 for the non-excess (Pearson) kurtosis.\")"]
    elif agg.startswith("p") and agg[1:2].isdigit() or agg == "iqr":
        lines.append("print(\"Assumption: quantiles interpolate linearly between values (pandas' and numpy's default).\")")
    return lines
