"""analyst/trend.py — a column regressed on time: "regress X on the year",
"the linear trend of X", "the trend of X per year", "the slope of X per
year".  The time becomes a computed column in years (time_years: the year,
plus the quarter or month or day as a fraction of it), so the regression's
slope is X per year, printed as such ("Trend: +1.3 X per year") with an
"Assumption:" line saying how time was counted.  A "trend" with a plot word
stays a chart (intent's time series), and data without one date stays as it
was (refused later when nothing else reads the words).
"""
import json
import re

from analyst import derived

TIME = r"(?:the )?(?:years?|time|dates?)"
ON_TIME_RE = re.compile(r"\b(regress\w*\b.*?\b(?:on|against)) " + TIME + r"\b", re.I)
TREND_RE = re.compile(r"\b(?:the |a )?(linear )?(?:(?:yearly|annual) )?(trend|slope) (?:of|in) (?:the )?" + derived.COL,
                      re.I)
PER_YEAR_RE = re.compile(r"\s*(?:(?:per|a|each) year|over (?:the years|time))\b", re.I)
PLOT_RE = re.compile(r"\b(plot|chart|graph|draw|show me|visuali[sz]e|line)\b", re.I)


def time_column(ds):
    """The computed column of time in years for ds (added once), or None."""
    have = next((c for c in ds.columns if getattr(c, "per", None) == "year"), None)
    if have is not None:
        return have
    dates = ds.date_columns()
    if len(dates) != 1:
        return None
    d, lit = dates[0], json.dumps
    if d.virtual:
        y, sub, part = d.virtual
        code = f"@[{lit(y.name)}].astype(float)"
        how = f"the year ({y.name})"
        if sub is not None:
            n = 4 if part == "quarter" else 12
            code += f" + (@[{lit(sub.name)}].astype(float) - 1) / {n}"
            how = f"{y.name} + ({sub.name} \u2212 1) / {n}"
    else:
        fmt = f", format={lit(d.date_format)}" if d.date_format else ""
        code = (f"(lambda t: t.dt.year + (t.dt.dayofyear - 1) / 365.25)"
                f"(pd.to_datetime(@[{lit(d.name)}]{fmt}, errors=\"coerce\"))")
        how = f"the year of {d.name} + (its day of the year \u2212 1) / 365.25"
    name = derived.fresh(ds, "time_years")
    c = derived.add_column(ds, name, code, f"{name} = {how}, time in years, so the slope is per year", "level")
    c.per = "year"
    return c.name


def apply(request, datasets):
    """The request with a trend on time written as a regression on time_years."""
    if PLOT_RE.search(request):
        return request
    for ds in datasets:
        if ds.backend == "dask":
            continue
        m = ON_TIME_RE.search(request)
        if m:
            name = time_column(ds)
            if name:
                request = request[:m.end(1)] + " " + name + request[m.end():]
            continue
        for m in list(TREND_RE.finditer(request))[::-1]:
            hit = derived.prefix(m.group(3), ds)
            if hit is None:
                continue
            end = m.start(3) + hit[1]
            per = PER_YEAR_RE.match(request, end)
            if not (per or m.group(1) or m.group(2).lower() == "slope"):
                continue   # "the trend of X": a chart over time, not a slope
            if ds.step() is None:
                continue   # records or a panel: a trend of what (totals, means per year)? left unread
            name = time_column(ds)
            if name:
                request = (request[:m.start()] + f"the linear regression of {hit[0].name} on {name}"
                           + request[per.end() if per else end:])
    return request
