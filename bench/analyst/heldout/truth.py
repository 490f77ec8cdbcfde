"""bench/analyst/heldout/truth.py — the held-out benchmark's truths and
checks, written without looking at the analyst's code.

A question's truth is a list of checks per part; every check holds a pandas
expression evaluated here, on the dataset read back from the same CSV the
analyst gets (`df`; also `pd`, `np`, `stats` and the helpers below). A check
passes when the answer TEXT (what `daa ask` prints as the answer) shows it:

  {"num": EXPR}            a number in the answer equals the value within the
                           tolerance: integers (counts, years) exactly, other
                           values within max(rel*|v|, abs) with rel 0.002 and
                           abs 0.0051 (a value rounded to 2 decimals passes);
                           "rel"/"abs" in the check override these
  {"pct": EXPR}            a share 0..1: shown as a fraction (abs 0.0051) or
                           as a percentage (abs 0.051, so 34.5% passes)
  {"p": EXPR}              a p-value: within 5% (or abs 0.0051); one below
                           0.001 passes as any number in [0, 0.001] or "< 0.001"
  {"text": EXPR}           the value's text appears (case-insensitive; a
                           whole-number float is written without ".0",
                           surrounding spaces are dropped)
  {"line": [CHECK, ...]}   all the checks pass on one line of the answer
  {"any": [CHECK, ...]}    at least one of them passes

Conventions of the truths (the usual analyst defaults, stated here once):
standard deviation and variance are the sample ones (ddof=1); quartiles are
pandas' linear interpolation; the IQR rule flags values below Q1-1.5*IQR or
above Q3+1.5*IQR; correlation is Pearson unless a question says otherwise;
"does X differ between two groups" is Welch's t-test; missing values are
skipped; a "year" of quarterly or weekly data is the calendar year of the row.
"""
import math
import re

import numpy as np
import pandas as pd
from scipy import stats


# ---- helpers the truth expressions use -----------------------------------
def iqr_bounds(s):
    s = pd.Series(s).dropna()
    q1, q3 = s.quantile(0.25), s.quantile(0.75)
    return q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)


def iqr_count(s):
    """Number of values outside Q1-1.5*IQR .. Q3+1.5*IQR."""
    s = pd.Series(s).dropna()
    lo, hi = iqr_bounds(s)
    return int(((s < lo) | (s > hi)).sum())


def z_count(s, k=3.0):
    """Number of values with |z| > k (population z, as scipy.stats.zscore)."""
    s = pd.Series(s).dropna()
    return int((np.abs(stats.zscore(s)) > k).sum())


def corr(a, b, method="pearson"):
    return float(pd.Series(a).corr(pd.Series(b), method=method))


def welch_p(df, y, g, a=None, b=None):
    """Welch t-test p-value of y between groups a and b of g (the two groups
    when g has exactly two)."""
    groups = sorted(df[g].dropna().unique()) if a is None else [a, b]
    x1 = df.loc[df[g] == groups[0], y].dropna()
    x2 = df.loc[df[g] == groups[1], y].dropna()
    return float(stats.ttest_ind(x1, x2, equal_var=False).pvalue)


def anova_p(df, y, g):
    parts = [v[y].dropna() for _, v in df.groupby(g)]
    return float(stats.f_oneway(*parts).pvalue)


def chi2_p(df, a, b):
    return float(stats.chi2_contingency(pd.crosstab(df[a], df[b]))[1])


def year_of_max(df, col, year="year"):
    return int(df.loc[df[col].idxmax(), year])


def year_of_min(df, col, year="year"):
    return int(df.loc[df[col].idxmin(), year])


def ols_slope(df, y, x):
    return float(stats.linregress(df[x], df[y]).slope)


# ---- helpers added with test2.json (written blind to the analyst) ---------
WB_AGGREGATES = ("CAA", "LCN", "OED", "OSS", "PSS")  # fertility rows that are regions, not countries


def countries_only(df):
    """The fertility rows of real countries (World Bank regional rows out)."""
    return df[~df["code"].isin(WB_AGGREGATES)]


def month_name_of(df, date, col, how="max"):
    """English name of the month of the year whose mean of col is highest
    (how="max") or lowest."""
    m = pd.to_datetime(df[date]).dt.month
    means = df[col].groupby(m).mean()
    import calendar
    return calendar.month_name[int(means.idxmax() if how == "max" else means.idxmin())]


def year_mean(df, date, col, year):
    """Mean of col over the rows dated in calendar year `year`."""
    return float(df.loc[pd.to_datetime(df[date]).dt.year == year, col].mean())


def annual_mean_extreme_year(df, col, year="year", how="max", date=None):
    """The year whose mean of col is highest (or lowest); year from a
    column, or from a date column when date is given."""
    y = pd.to_datetime(df[date]).dt.year if date else df[year]
    means = df[col].groupby(y).mean()
    return int(means.idxmax() if how == "max" else means.idxmin())


def decade_mean(df, col, decade, year="year"):
    d = df[(df[year] >= decade) & (df[year] < decade + 10)]
    return float(d[col].mean())


def shapiro_p(s):
    return float(stats.shapiro(pd.Series(s).dropna()).pvalue)


ENV = {"pd": pd, "np": np, "stats": stats, "math": math,
       "iqr_bounds": iqr_bounds, "iqr_count": iqr_count, "z_count": z_count,
       "corr": corr, "welch_p": welch_p, "anova_p": anova_p, "chi2_p": chi2_p,
       "year_of_max": year_of_max, "year_of_min": year_of_min, "ols_slope": ols_slope,
       "countries_only": countries_only, "month_name_of": month_name_of, "year_mean": year_mean,
       "annual_mean_extreme_year": annual_mean_extreme_year, "decade_mean": decade_mean,
       "shapiro_p": shapiro_p}


def evaluate(expr, df):
    """The value of one truth expression on df (a fresh namespace each time)."""
    ns = dict(ENV)
    ns["df"] = df
    v = eval(expr, ns)  # noqa: S307 — our own expressions from dev.json/test.json
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


# ---- reading numbers out of an answer -------------------------------------
_NUM = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|(?<![\w\d])[-−]?\.\d+")


def numbers(text):
    """Every number written in text ("1,287.30", "-0.12", "3e-05", "45%"),
    but for part labels ("Part 2")."""
    out = []
    text = re.sub(r"\b[Pp]art \d+", "", text)  # the analyst's "Part 2:" labels are no result
    for m in _NUM.finditer(text):
        s = m.group(0).replace(",", "").replace("−", "-")
        try:
            out.append(float(s))
        except ValueError:
            pass
    return out


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _num_ok(text, v, check):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    if _is_int(v) and "abs" not in check and "rel" not in check:
        return any(x == v for x in numbers(text))
    tol = max(check.get("rel", 0.002) * abs(v), check.get("abs", 0.0051))
    return any(abs(x - v) <= tol for x in numbers(text))


def _pct_ok(text, v):
    ns = numbers(text)
    return any(abs(x - v) <= 0.0051 or abs(x - 100 * v) <= 0.051 for x in ns)


def _p_ok(text, v):
    ns = numbers(text)
    if v < 0.001:
        return bool(re.search(r"<\s*0?\.001\b|<\s*1e-0?3", text)) or any(0 <= x <= 0.001 for x in ns)
    return any(abs(x - v) <= max(0.05 * v, 0.0051) for x in ns)


def _text_of(v):
    """The text a value is shown as: a whole float without ".0", names
    without the surrounding spaces some real files carry ("Kentucky ")."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def passes(check, text, df):
    """Whether the answer text shows this check's truth."""
    if "line" in check:
        return any(all(passes(c, ln, df) for c in check["line"]) for ln in text.splitlines())
    if "any" in check:
        return any(passes(c, text, df) for c in check["any"])
    if "num" in check:
        return _num_ok(text, evaluate(check["num"], df), check)
    if "pct" in check:
        return _pct_ok(text, evaluate(check["pct"], df))
    if "p" in check:
        return _p_ok(text, evaluate(check["p"], df))
    if "text" in check:
        return _text_of(evaluate(check["text"], df)).lower() in text.lower()
    raise ValueError("unknown check %r" % (check,))


def describe(check, df):
    """A short readable form of a check with its expected value (for -v)."""
    if "line" in check:
        return "one line with: " + "; ".join(describe(c, df) for c in check["line"])
    if "any" in check:
        return "any of: " + " | ".join(describe(c, df) for c in check["any"])
    for k in ("num", "pct", "p", "text"):
        if k in check:
            v = evaluate(check[k], df)
            shown = "%.6g" % v if isinstance(v, float) else repr(v)
            return "%s %s = %s" % (k, check[k], shown)
    return repr(check)


# ---- helpers added with test3.json / test4.json (written blind to the
# analyst; appended, the ones above are unchanged) --------------------------
def dates_of(df, date, fmt=None):
    """The date column parsed (fmt for files like "19-Sep-03" or "1/1/85")."""
    return pd.to_datetime(df[date], format=fmt)


def years_between(df, date, y0, y1, fmt=None):
    """The rows dated in calendar years y0..y1 (both included)."""
    y = dates_of(df, date, fmt).dt.year
    return df[(y >= y0) & (y <= y1)]


def day_of(df, date, col, how="max", out="%Y-%m-%d", fmt=None, rows=None):
    """The date of the row where col is highest (or lowest), written with
    strftime format `out` (several checks in an `any` give the usual forms:
    "%Y-%m-%d", "%B %-d, %Y", "%-d %B %Y"...). rows: a boolean mask first."""
    d = df if rows is None else df[rows]
    i = d[col].idxmax() if how == "max" else d[col].idxmin()
    return dates_of(d, date, fmt)[i].strftime(out)


def month_of_year_mean(df, date, col, year, how="max", fmt=None):
    """English name of the month of calendar year `year` whose mean of col is
    highest (or lowest)."""
    import calendar
    dt = dates_of(df, date, fmt)
    d = df[dt.dt.year == year]
    means = d[col].groupby(dt[dt.dt.year == year].dt.month).mean()
    return calendar.month_name[int(means.idxmax() if how == "max" else means.idxmin())]


def quarter_means(df, date, col, fmt=None):
    """Mean of col per quarter of the year (1..4) over all years."""
    return df[col].groupby(dates_of(df, date, fmt).dt.quarter).mean()


def year_sums(df, date, col, fmt=None):
    return df[col].groupby(dates_of(df, date, fmt).dt.year).sum()


def year_means(df, date, col, fmt=None):
    return df[col].groupby(dates_of(df, date, fmt).dt.year).mean()


def share(mask):
    """The share of True in a boolean Series (0..1)."""
    return float(pd.Series(mask).mean())


def welch_p_of(a, b):
    return float(stats.ttest_ind(pd.Series(a).dropna(), pd.Series(b).dropna(), equal_var=False).pvalue)


def student_p_of(a, b):
    return float(stats.ttest_ind(pd.Series(a).dropna(), pd.Series(b).dropna()).pvalue)


def linfit(x, y):
    """scipy's linregress of y on x (slope, intercept, rvalue, pvalue)."""
    return stats.linregress(pd.Series(x).astype(float), pd.Series(y).astype(float))


def pct_change(old, new):
    """Percentage change from old to new (negative for a fall)."""
    return 100.0 * (new - old) / old


def qtr_of_period(df, col="period"):
    """Quarter number 1..4 of "1974Q1"-style period strings."""
    return df[col].str[-1].astype(int)


def year_of_period(df, col="period"):
    """Year of "1974Q1"-style period strings."""
    return df[col].str[:4].astype(int)


ENV.update({"dates_of": dates_of, "years_between": years_between, "day_of": day_of,
            "month_of_year_mean": month_of_year_mean, "quarter_means": quarter_means,
            "year_sums": year_sums, "year_means": year_means, "share": share,
            "welch_p_of": welch_p_of, "student_p_of": student_p_of, "linfit": linfit,
            "pct_change": pct_change, "qtr_of_period": qtr_of_period,
            "year_of_period": year_of_period})


# ---- helpers added with test5.json (written blind to the analyst; appended,
# the ones above are unchanged) ---------------------------------------------
def days_between(df, start, end):
    """Days from date column `start` to date column `end`, row by row
    (missing where either is missing)."""
    return (pd.to_datetime(df[end]) - pd.to_datetime(df[start])).dt.days


def z_count_sample(s, k=3.0):
    """Number of values more than k sample standard deviations (ddof=1)
    from the mean (z_count above uses the population one)."""
    s = pd.Series(s).dropna()
    return int(((s - s.mean()).abs() > k * s.std()).sum())


def quarter_text(df, date, i, style="%YQ%q"):
    """The date of row i of a quarterly date column written as a quarter:
    %Y the year, %q the quarter number ("1978Q2", "Q2 1978", "1978-Q2")."""
    t = pd.to_datetime(df[date])[i]
    return style.replace("%Y", str(t.year)).replace("%q", str(t.quarter))


def top_group(df, g, y, how="max", stat="mean"):
    """The group of g whose statistic of y is highest (or lowest)."""
    s = df.groupby(g)[y].agg(stat)
    return s.idxmax() if how == "max" else s.idxmin()


ENV.update({"days_between": days_between, "z_count_sample": z_count_sample,
            "quarter_text": quarter_text, "top_group": top_group})
