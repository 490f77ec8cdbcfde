"""analyst/dateparts.py — grouping by a part of a date that is no period of
its own: the weekday ("average revenue by weekday", "which day of the week
has the most orders"), the month or quarter of the year across years
("average temp by month of the year") and the hour of the day.

take() finds and removes the phrase from the request (so "day" and "week"
do not read as a daily or weekly series); group_column() makes the derived
column the code adds to the frame before grouping, in calendar order.
"""
import re

from analyst.parse import Unknown
from analyst.schema import Column

PHRASES = [  # (part, pattern)
    ("weekday", r"\b(?:(?:by|per|for each|for every|each|across|on)\s+)?(?:the\s+|a\s+)?(?:day of (?:the )?week|days of (?:the )?week|"
                r"weekdays?|week ?days?|day-of-week|dow)\b"),
    ("month", r"\b(?:(?:by|per|for each|for every|each|across|in each)\s+)?(?:the\s+)?(?:month of (?:the )?year|months of (?:the )?year|"
              r"calendar months?|month names?)\b"),
    ("quarter", r"\b(?:(?:by|per|for each|for every|each|across|in each)\s+)?(?:the\s+)?(?:quarter of (?:the )?year|quarters of "
                r"(?:the )?year|calendar quarters?)\b"),
    ("hour", r"\b(?:(?:by|per|for each|for every|each|across|at)\s+)?(?:the\s+|an?\s+)?(?:hour of (?:the )?day|hours of (?:the )?day|"
             r"time of day|hour)\b"),
]
NAMES = {"weekday": "weekday", "month": "month_name", "hour": "hour", "quarter": "quarter_of_year", "year": "year"}
ORDER = {"weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
         "month": ["January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December"]}


POOLED = r"\b(?:over |across |with )?all (?:the )?years (?:together|combined|pooled|taken together)\b" \
         r"|\b(?:pooled|combined) (?:over|across) (?:all )?(?:the )?years\b"
FULL_RANGE = {"quarter": r"\bQ1\s*(?:to|-|\u2013|through)\s*Q4\b",
              "month": r"\bJan(?:uary)?\s*(?:to|-|\u2013|through)\s*Dec(?:ember)?\b"}


def take(request):
    """(request without the date-part phrase, "weekday" / "month" / "hour" or
    None); with a month or quarter of the year, words that only say the
    years are pooled ("all years together", "Q1 to Q4") go too."""
    for part, pat in PHRASES:
        m = re.search(pat, request, re.I)
        if m:
            rest = (request[:m.start()] + " " + request[m.end():]).strip()
            if part in FULL_RANGE:
                rest = re.sub(POOLED + "|" + FULL_RANGE[part], " ", rest, flags=re.I)
                rest = re.sub(r"\(\s*[,;]?\s*[,;]?\s*\)", " ", rest)
            return rest, part
    return request, None


def group_column(ds, d, part, fmt):
    """The derived Column (weekday / month_name / hour of date column d)."""
    if d is None:
        raise Unknown(f"You asked for a grouping by {part}, but {ds.name} has no date column.")
    if getattr(d, "virtual", None) and part == "quarter" and d.virtual[2] == "quarter":
        return d.virtual[1]   # year and quarter columns: the quarter column is the quarter of the year
    if getattr(d, "virtual", None):
        raise Unknown(f"You asked for a grouping by {part}, but the dates of {ds.name} are only "
                      f"{' and '.join(c.name for c in d.virtual[:2] if c is not None)}: there is no {part} in them.")
    names = {c.name for c in ds.columns}
    name = NAMES[part] if NAMES[part] not in names else f"{NAMES[part]}_of_{d.name}"
    c = Column({"name": name, "dtype": "int64" if part in ("hour", "year") else "category", "kind": "categorical",
                "distinct": len(ORDER.get(part, range(4 if part == "quarter" else 24)))})
    c.derived = (d, part, fmt)
    return c


def lines(v, c, col, lit):
    """The code adding derived column c to frame v (in calendar order)."""
    d, part, fmt = c.derived
    fa = f", format={lit(fmt)}" if fmt else ""
    when = f"pd.to_datetime({col(v, d)}{fa}, errors=\"coerce\")"
    if part == "quarter":   # written Q1..Q4, in calendar order
        out = [f"{col(v, c)} = pd.Categorical(\"Q\" + {when}.dt.quarter.astype(\"Int64\").astype(str), "
               f"categories=[\"Q1\", \"Q2\", \"Q3\", \"Q4\"], ordered=True)"]
    elif part == "year":   # the calendar year, to set years side by side
        out = [f"{col(v, c)} = {when}.dt.year"]
    elif part == "hour":
        out = [f"{col(v, c)} = {when}.dt.hour",
               f"if {col(v, c)}.nunique() <= 1:",
               f"    print({lit('Note: every time in ' + d.name + ' is at the same hour (dates without times?), so there is one hour group.')})"]
    else:
        call = "day_name()" if part == "weekday" else "month_name()"
        out = [f"{col(v, c)} = pd.Categorical({when}.dt.{call}, categories={ORDER[part]!r}, ordered=True)"]
    return out + [f"print({lit('Time: ' + c.name + ' taken from ' + d.name + '.')})"]
