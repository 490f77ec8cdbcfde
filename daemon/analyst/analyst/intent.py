"""analyst/intent.py — decides what a request asks for (the operation) and
which real columns play which part in it.

build_intent() returns a plain dict (op, dataset, measure, group, agg, ...)
that codegen.py turns into code and answer.py into the final text.  Column
choices go through the Resolver: conventions first ("date_column",
"alias.<word>"), then the user's earlier answers in this turn, else NeedAsk.
"""
import re

from analyst.parse import (NeedAsk, Unknown, PLOT_RE, FREQ_WORDS, detect_agg, detect_aggs, detect_freq,
                           find_mentions, first_number, mark_groups, parse_filters,
                           tokenize, two_values)
from analyst import dateparts
from analyst.groups import rate_condition, regroup, several_values, versus_rest
from analyst.phrasing import take_sort
from analyst.schema import STOP, fold, norm

FILLER = set("""can could would should want wanted like need see know look let us
give tell help okay ok hey hi please thanks thank now then also again just really
quick quickly overall dataset data file csv table sheet here there whole entire
everything something anything things thing kind sort way ones one two three four
five six seven eight nine ten values each value identify determine report perform conduct carry
apply obtain provide output return print state present analyze analyse examine check assess evaluate
investigate consider calculated calculating computed computing using based following given respectively
approximately result results answer answers variable variables feature features field fields observations
whether exist exists study survey whose name""".split())

OPS = [  # (op, pattern) checked in order; the first that fits the mentions wins
    ("help", r"^\s*(help|\?|what can you do|examples?)\b"),
    ("rate", r"\b(rate|percentage|percent|proportion|share|fraction|how often)\b"),
    ("linreg", r"\b(linear regression|linear model|simple regression|regress\w*|ols|least[- ]squares|line of best fit|"
               r"best[- ]fit line|regression line|slope|intercept|r-?squared|r2|coefficient of determination)\b"),
    ("model", r"\b(predict\w*|classif\w*|regression model|build a model|train a model|machine learning|baseline model|what drives|drivers of|model)\b"),
    ("normality", r"\b(normal(ly)? distributed|normality|shapiro|gaussian|bell[- ]shaped|normal distribution)\b"),
    ("outliers", r"\b(outliers?|anomal\w*|unusual values|extreme values)\b"),
    ("ttest", r"\b(t-?test|significant\w*|compare|comparison|differ\w*)\b"
              r"|^\s*(do|does|did|are|is)\b.*\b(more|less|higher|lower|longer|shorter|bigger|smaller)\b"),
    ("heatmap", r"\b(heat ?map|correlation matrix|correlations|correlation table|correlate everything)\b"),
    ("corr", r"\b(correlat\w*|relationship|related|association|pearson|spearman|kendall)\b"),
    ("scatter", r"\b(scatter\w*|vs\.?|versus|against)\b"),
    ("box", r"\b(box ?plots?|boxplots?|whiskers?|box and whisker)\b"),
    ("hist", r"\b(histogram|distribution|distributed|spread of)\b"),
    ("missing", r"\b(missing|null|nulls|nan|nans|empty|blank|incomplete)\b"),
    ("dtypes", r"\b(dtypes?|data ?types?|column types|types of (the )?columns|schema|what columns|which columns|list (the |all )?columns|column names)\b"),
    ("overview", r"\b(overview|describe|description|summary|summari[sz]e|statistics|stats|tell me about|what is in|what's in|explore|look like|info)\b"),
    ("tail", r"\b(tail|last \d+|last (few )?rows)\b"),
    ("sample", r"\b(random|sample)\b"),
    ("head", r"\b(head|first \d+|first (few )?rows|preview|peek|show (me )?(some |a few )?(rows|records|entries|lines)|show (me )?the data)\b"),
    ("top", r"\b(top|bottom|best|worst|rank\w*|leading)\b|(?<!\bat )\b(highest|lowest|largest|smallest|most|least) \d+"
            r"|\bwhich\b.*\b(highest|lowest|largest|smallest|most|least|biggest|best|worst)\b"
            r"|\b(list|show|name|find|give|get|what are|the) (me )?(the )?\d+ ([a-z]\w* )?(with|that have|that had|having|by) "
            r"(the )?(highest|lowest|largest|smallest|most|least|biggest|greatest|fewest)\b"),
    ("nunique", r"\b(distinct|unique|different)\b"),
    ("unique_values", r"^\s*(please )?(list|enumerate|name) (all |the |every |each |different |distinct )*\w+\s*$"),
    ("value_counts", r"\b(value counts|frequenc\w*|breakdown|break down|how often|share of|proportion|percent(?!ile)\w*)\b"),
    ("time", r"\b(over time|trend\w*|time series|timeline|evolution|evolve\w*|over the (years|months)|seasonal\w*)\b"),
]


class Resolver:
    """Picks one column among candidates: convention, earlier answer, or NeedAsk."""

    def __init__(self, conventions, answers):
        self.conventions = conventions or {}
        self.answers = answers          # [(question, choices, answer text)]
        self.learned = []               # [(key, value, why)] from answers used
        self.several = False            # several datasets: date_column is per dataset

    def conv(self, key):
        """A convention's value as a string, or None."""
        v = self.conventions.get(key)
        if isinstance(v, dict):
            v = v.get("value")
        return v if isinstance(v, str) else None

    def choose(self, cols, question, key, why):
        """The column chosen for cols (two or more), or raises NeedAsk."""
        names = [c.name for c in cols]
        val = self.conv(key)
        if val in names:
            return cols[names.index(val)]
        for q, choices, answer in self.answers:
            if q == question or sorted(map(str, choices or [])) == sorted(names):
                pick = match_answer(answer, names)
                if pick is None:
                    raise Unknown(f"I asked \u201c{q}\u201d and the answer \u201c{answer}\u201d matches none of "
                                  f"{', '.join(names)}. Please ask again naming the column.")
                self.learned.append((key, pick, why))
                return cols[names.index(pick)]
        raise NeedAsk(question, names, key, why)

    def choose_value(self, values, question, key, why):
        """One of several strings (not columns): from an earlier answer, or NeedAsk."""
        for q, choices, answer in self.answers:
            if q == question or sorted(map(str, choices or [])) == sorted(values):
                pick = match_answer(answer, values)
                if pick is None:
                    raise Unknown(f"I asked \u201c{q}\u201d and the answer \u201c{answer}\u201d matches none of "
                                  f"{', '.join(values)}.")
                self.learned.append((key, pick, why))
                return pick
        raise NeedAsk(question, list(values), key, why)

    def column(self, m):
        """The one column a mention names."""
        if len(m.cols) == 1:
            return m.cols[0]
        q = f"Which column do you mean by \u201c{m.term}\u201d?"
        return self.choose(m.cols, q, "alias." + norm(m.term),
                           f"\u201c{m.term}\u201d means this column (answered by the user)")

    def date_column(self, ds, mentioned=None):
        """The date column of ds (None when it has none)."""
        if mentioned is not None:
            return mentioned
        cols = ds.date_columns()
        if len(cols) <= 1:
            return cols[0] if cols else None
        for key in (ds.name + ".date_column", "date_column"):
            v = self.conventions.get(key)
            v = v.get("value") if isinstance(v, dict) else v
            for val in (v if isinstance(v, list) else [v]):
                if val in [c.name for c in cols]:
                    return ds.col(val)
        key = ds.name + ".date_column" if self.several else "date_column"
        return self.choose(cols, f"Which column is the date in {ds.name}?", key,
                           f"the date column of {ds.name} (answered by the user)")


def conv_format(res, col):
    """The date format conventions give for a column, or None."""
    for key in (col.name + ".date_format", "date_format"):
        v = res.conventions.get(key)
        v = v.get("value") if isinstance(v, dict) and "value" in v else v
        v = v.get(col.name) if isinstance(v, dict) else v
        if isinstance(v, str) and "%" in v:
            return v
    return None


def date_format_for(res, col):
    """The format of a text date column; asks when day/month order is ambiguous."""
    fmt = conv_format(res, col)
    formats = col.date_formats or col.guessed_formats()
    if fmt or len(formats) < 2:
        return fmt or col.date_format
    sample = next((s for s in col.samples if isinstance(s, str)), "")
    mixed = "" if col.date_formats else (" No single format reads every value the profile looked at, so day-first "
                                         "and month-first dates may be mixed: the ones that do not fit your "
                                         "choice are counted and left out.")
    q = (f"How are the dates in {col.name} written (e.g. \u201c{sample}\u201d)? "
         "%d is the day, %m the month, %Y the year." + mixed)
    return res.choose_value(formats, q, col.name + ".date_format",
                            f"the date format of {col.name} (answered by the user)")


def match_answer(answer, names):
    """The choice an answer picks: exact, case-insensitive, its number, or unique prefix."""
    a = str(answer or "").strip()
    if a in names:
        return a
    if a.isdigit() and 1 <= int(a) <= len(names):
        return names[int(a) - 1]
    hits = [n for n in names if norm(n) == norm(a)]
    if len(hits) == 1:
        return hits[0]
    hits = [n for n in names if norm(a) and (norm(n).startswith(norm(a)) or norm(a) in norm(n))]
    return hits[0] if len(hits) == 1 else None


def pick_op(q, ms, filters):
    """The operation: the first keyword pattern that fits the mentions."""
    free = [m for m in ms if m.role is None]
    nums = list({m.col0.name: m for m in free if m.col0.is_numeric() and not m.col0.is_id()}.values())
    for op, pat in OPS:
        if not re.search(pat, q):
            continue
        if op == "ttest" and not (two_values(None, ms) or any(m.col0.is_category() or m.col0.is_binary01() or m.col0.is_code()
                                                              for m in ms if m.value is None)):
            continue
        if op == "ttest" and re.search(r"\b(vs\.?|versus|against)\b", q) and len(nums) >= 2:
            continue
        if op in ("corr", "scatter") and len(nums) < 2:
            if op == "corr":
                return "heatmap"
            continue
        if op == "nunique" and not re.search(r"\b(how many|number of|count)\b", q):
            return "unique_values"
        if op == "unique_values" and not [m for m in free if not m.col0.is_numeric()]:
            continue
        if op == "rate":
            if any(m.col0.is_flag() or m.col0.is_binary01() for m in free) or re.search(r"\b(had|have|has|with) (a |an |any )?\w+", q) \
                    or any(f.get("mention") is not None and (f["mention"].col0.is_binary01() or f["mention"].col0.is_flag())
                           for f in filters):
                return "rate"
            if [m for m in free if m.col0.is_numeric()] and any(m.role == "group" or m.col0.is_category() for m in ms):
                return "share"
            continue
        return op
    return None


def default_op(q, ms, freq, has_date):
    """The operation when no keyword decided it, from the mentions' kinds."""
    free = [m for m in ms if m.role is None]
    nums = [m for m in free if m.col0.is_numeric() and not m.col0.is_id()]
    groups = [m for m in ms if m.role == "group"]
    plot = bool(re.search(PLOT_RE, q))
    if freq or (has_date and any(m.col0.is_date() for m in free)):
        return "time"
    if re.search(r"\b(how many|number of|count)\b", q) and not nums:
        cats = [m for m in free if m.col0.is_category() and not m.col0.time_part()]   # "count the quarters with ...": rows
        return "value_counts" if groups or cats else "count_rows"
    if nums or groups:
        if plot and not groups and has_date and not detect_agg(q):
            return "time"
        if plot and not groups:
            return "hist"
        return "agg"
    cats = [m for m in free if m.col0.is_category() or m.col0.is_id()]
    if cats:
        return "value_counts"
    if re.search(r"\b(how many|number of|count)\b.*\b(rows|records|entries|lines|observations)\b|\bhow (big|large)\b", q):
        return "count_rows"
    return None


def unmatched_words(tokens, ms, ds_names, described=()):
    """Content words that name nothing in the data (used to say so honestly);
    described: token positions known to describe a column or the rows."""
    used = set(described)
    for m in ms:
        used.update(range(m.start, m.end))
    names = {norm(n) for n in ds_names}
    return [t.text for t in tokens if t.kind == "w" and t.i not in used and len(t.f) > 2
            and t.f not in STOP and t.f not in FILLER and norm(t.text) not in names
            and not t.f.endswith("ly")]


ROW_NOUNS = set("""respondents respondent people persons person individuals individual participants participant
subjects subject patients patient students student customers clients users households household families
firms companies company countries country states cities flowers flower plants tumors tumours tumor tumour
samples observations records readings reading measurements measurement runs run trials trial cases
employees workers voters voter entries units items households wines wine experiments days""".split())
GENDER_NOUNS = {"women", "woman", "men", "man", "female", "females", "male", "males", "girls", "boys"}
MEASURE_NOUNS = {"rate", "rates", "level", "levels", "concentration", "content", "amount", "value", "values",
                 "score", "scores", "figure", "figures", "reading", "readings", "measurement", "measurements",
                 "time", "times", "variable", "column", "stock"}


def is_percent(c):
    """True when a column already holds a percentage ("poverty percentage" for
    PERPOVERTY is the column, not a share to compute): its name says so, or it
    is a level between 0 and 100."""
    if re.search(r"per|pct|percent|share|rate|prop", c.norm.replace(" ", "")):
        return True
    try:
        return c.measure_kind()[0] == "level" and 0 <= float(c.min) and float(c.max) <= 100
    except (TypeError, ValueError):
        return False


def described_tokens(request, tokens, ms, ds):
    """Positions of words that describe rather than ask: a column's measure
    noun ("murder rate", "co2 readings"), the rows ("patients", "flowers",
    women when no column says sex), words of the dataset's name ("sunspot"
    in sunspots), and the words just before a column named in parentheses
    ("doctor visits (mdvis)", "Clinton and Dole voters (vote)")."""
    out, paren = set(), set()
    cols = {c.norm for c in ds.columns}
    gendered = any(w in ("sex", "gender") or w in GENDER_NOUNS for c in ds.columns for w in c.words) or \
        any(str(v).casefold() in GENDER_NOUNS for c in ds.columns if c.is_category() for v in c.values)
    dsname = re.sub(r"[^a-z]", "", fold(ds.name))
    for t in tokens:
        w = t.f
        if (w in ROW_NOUNS or (w in GENDER_NOUNS and not gendered)) and w not in cols:
            out.add(t.i)
        elif len(w) >= 4 and w.isalpha() and (w in dsname or w.rstrip("s") in dsname):
            out.add(t.i)
    for m in ms:   # "murder rate", "violent crime rate" (crime: a word of statecrime)
        k = m.end + (1 if m.end in out else 0)
        if m.value is None and m.score >= 70 and k < len(tokens) and m.col0.is_numeric() and tokens[k].f not in cols \
                and (tokens[k].f in MEASURE_NOUNS or tokens[k].f in ("percentage", "percent") and is_percent(m.col0)):
            out.add(k)
    for par in re.finditer(r"\(([^()]*)\)", request):
        inside = [m for m in ms if par.start() < tokens[m.start].pos < par.end()]
        if not inside:
            continue
        before = [t for t in tokens if t.pos < par.start()][-5:]
        for t in reversed(before):
            if t.f in ("of", "for", "between", "and", "the", "in", "with", "is", "are", "by", "per", "across", "than") and t is not before[-1] and t.f != "and":
                break
            if any(m.start <= t.i < m.end and m.score >= 85 for m in ms):
                break
            paren.add(t.i)
    return out | paren, paren


OP_WORDS = set("""since before after until till during differ differs different difference differences
correlated correlate correlates change changed changes changing distributed normality normally matrix
random common t-test ttest what's whats anova significant significantly trend trends evolve evolved
evolution compared relationship related drives driven prediction predicted classify typical usual
decade decades half halves semester year's percentage chi-square kruskal wallis test tests sort sorted
sorting descending desc develop developed development grow grew growth go went vary varies
iqr rule rules z-score zscore method later onwards onward earlier higher lower negative positive zero nonzero""".split())

SUPERLATIVES = [  # words that name a measure and a direction at once
    (r"\b(hottest|warmest)\b", "highest temperature"), (r"\b(hotter|warmer)\b", "highest temperature"),
    (r"\b(coldest|coolest)\b", "lowest temperature"), (r"\b(colder|cooler)\b", "lowest temperature"),
    (r"\b(wettest|rainiest)\b", "highest rainfall"), (r"\b(wetter|rainier)\b", "highest rainfall"),
    (r"\b(driest)\b", "lowest rainfall"), (r"\b(windiest|windier)\b", "highest wind"),
    (r"\b(cheapest)\b", "lowest price"), (r"\bmost expensive\b", "highest price"),
    (r"\b(oldest)\b", "highest age"), (r"\b(youngest)\b", "lowest age"),
]


SUPERLATIVE_HINT = ("hott", "warm", "cold", "cool", "wett", "raini", "drie", "windi", "cheap",
                    "expensive", "oldest", "youngest")


def rewrite(request):
    """The request with superlatives spelled out ("hottest" → "highest temperature")."""
    low = request.casefold()
    if not any(h in low for h in SUPERLATIVE_HINT):   # spares compiling a dozen patterns per call
        return request
    for pat, repl in SUPERLATIVES:
        request = re.sub(pat, repl, request, flags=re.I)
    return request


PERIOD_RE = (r"\b(?:which|what)\b(?: \w+){0,4}? (day|date|week|month|quarter|year|decade)\b"
             r"|\b(?:find|the|in) (day|date|week|month|quarter|year|decade) (?=(?:with|that had|which had|when|having)\b)")


def build_intent(request, ds, res, ds_names=()):
    """The intent dict for a request on dataset ds (may raise NeedAsk / Unknown)."""
    request, sort = take_sort(rewrite(request))
    request, date_part = dateparts.take(request)
    request = re.sub(r"\b(over|during|for|across|in) (the )?(whole|entire|full|complete) (period|sample|time span|"
                     r"range|data ?set|data)\b", " ", request, flags=re.I)
    if any(c.norm == "age" for c in ds.columns):   # "patients older than 50"
        request = re.sub(r"\bolder than\b", "with age over", request, flags=re.I)
        request = re.sub(r"\byounger than\b", "with age under", request, flags=re.I)
    q = " ".join(request.casefold().split())
    tokens = tokenize(request)
    ms = find_mentions(tokens, ds, ds_names)
    ms = [m for m in ms if not (m.value is not None and tokens[m.start].f in ("no", "none") and m.end - m.start == 1
                                and any(n.start == m.end and n.value is None and n.col0.is_numeric() for n in ms))]
    # "with no support tickets": "no" negates the column after it, it is no yes/no value
    described, paren = described_tokens(request, tokens, ms, ds)
    ms = [m for m in ms if m.score >= 85 or m.value is not None or not set(range(m.start, m.end)) <= paren]
    inside = {i for m in ms if (m.value is None and m.end - m.start > 1 or m.score >= 85)
              and not (m.value is None and m.col0.time_part()) for i in range(m.start, m.end)}
    inside |= {i for i in described if tokens[i].f in MEASURE_NOUNS | {"percentage", "percent"}   # "murder rate" is no rate
               and any(m.value is None and m.col0.is_numeric() and (m.score >= 70 and m.end in (i, i - 1)
                                                                   or i in paren and m.start == i + 1 and tokens[i].f in ("percentage", "percent")
                                                                   and is_percent(m.col0)) for m in ms)}
    qf = " ".join(t.f for t in tokens if t.i not in inside)   # keywords outside column names
    if detect_freq(qf) or re.search(PERIOD_RE, qf):   # "by year" is a period, not the year column
        ms = [m for m in ms if m.value is not None or not m.col0.time_part()]
    it = {"ds": ds, "request": request, "plot": bool(re.search(PLOT_RE, qf)),
          "agg": detect_agg(qf), "freq": detect_freq(qf), "aggs": detect_aggs(qf), "sort": sort}
    filters = [f for f in parse_filters(tokens, ms, ds)   # "voted for Dole (vote = 1)": described, not searched
               if not (f["kind"] == "search" and set(f.get("toks", ())) <= described)]
    described |= versus_rest(tokens, ms)
    op = pick_op(qf, ms, filters)
    mark_groups(tokens, ms, op, paren)
    described |= regroup(tokens, ms, ds)
    has_date = bool(ds.date_columns())
    op = op or default_op(qf, ms, it["freq"], has_date)
    if op is None and filters and re.search(r"\b(show|list|display|rows|records|entries|which|select|filter)\b", qf):
        op = "head"   # "rows where priority is B": the matching rows
    if date_part and op in (None, "time"):   # "average revenue by weekday": a grouping, not a series
        op, it["freq"] = "agg", None
    period = re.search(PERIOD_RE, qf)
    if period and op in ("top", "agg", None) and has_date:
        unit = period.group(1) or period.group(2)
        if unit in ("day", "date"):    # "the hottest day": the row with the highest value
            op, it["freq"], it["agg"] = "top", None, None
            it["row_top"] = True
        else:                                     # "which month had the highest revenue"
            op, it["freq"] = "time", {"week": "W", "month": "M", "quarter": "Q", "year": "Y", "decade": "10Y"}[unit]
            if it["agg"] in ("max", "min"):       # "highest" picks the period, it does not aggregate
                it["agg"] = None
    if it["freq"] and op not in ("time", None):   # "by decade" that the operation would drop
        said = next(m.group(0) for f, pat in FREQ_WORDS if f == it["freq"] for m in [re.search(pat, qf)] if m)
        raise Unknown(f"I did not understand how \u201c{said}\u201d goes with the rest of your request, so I did "
                      "not answer (without it I would have answered a different question). For values per period "
                      "ask e.g. \u201caverage COLUMN per year\u201d or \u201cwhich year had the highest COLUMN\u201d.")
    if re.search(r"\b(fiscal|financial) (year|quarter|period)s?\b|\bfy\b", qf):
        raise Unknown("I did not understand \u201cfiscal year\u201d: I do not know in which month your fiscal "
                      "year starts. Ask per calendar year, quarter or month instead (e.g. \u201c... per quarter\u201d), "
                      "or configure an LLM for custom periods.")
    if re.search(r"\b(last|this|previous|past|next) (year|month|week|quarter|day)\b|\b(yesterday|today|ytd|year to date)\b", qf):
        raise Unknown("I cannot resolve relative dates such as \u201clast year\u201d: the data's own calendar "
                      "may not match today's. Name the period instead, e.g. \u201cin 2024\u201d or "
                      "\u201csince 2024-06-01\u201d.")
    if op is None:
        words = unmatched_words(tokens, ms, ds_names, described)
        if words and (it["agg"] or it["plot"] or it["freq"]):
            raise Unknown(f"I could not find {', '.join(chr(8220) + w + chr(8221) for w in words)} "
                          f"among the columns of {ds.name}.")
        raise Unknown(None)
    it["op"] = op
    it["described"] = described
    it["filters"] = _resolve_filters(filters, ds, res)
    it["n"] = first_number(q, r"\b(?:top|bottom|first|last|head|tail|sample|best|worst|highest|lowest|largest|smallest|most|least|show)\s+(\d+)", 5)
    it["n"] = first_number(q, r"\b(\d+)\s+(?:rows|records|entries|lines|random|samples?)\b", it["n"])
    it["n"] = first_number(q, r"\b(?:which|what|the|list|show|name)\s+(\d+)\s+[a-z]", it["n"])
    if op == "top" and (re.search(r"\bwhich\b", qf) or it.get("row_top")) and not re.search(r"\d", qf):
        it["n"] = 1
    it["ascending"] = bool(re.search(r"\b(bottom|worst|lowest|smallest|least|fewest)\b", q))
    roles(it, tokens, ms, res, q)
    if date_part:
        date_part_group(it, res, date_part)
        if it["op"] == "count_rows":   # "number of orders per weekday": counts per group
            it["op"] = "value_counts"
    orphan_filters(it)
    rate_condition(it)
    several_values(it, q)
    check_unmatched(it, tokens, ms, ds_names)
    unused_numbers(it, tokens, ms)
    if op == "agg" and not it["agg"] and it["group"] is not None and it["measure"] is not None \
            and it["measure"].is_binary01() and len(it["measures"]) == 1:
        it["op"] = op = "rate"   # "vote by PID" with vote 0/1: the share of 1s per group, not their sum
    if op == "top":   # "top 5 quarters by tbilrate" on quarterly data: the rows, not the quarter numbers
        d = ds.virtual_date()
        finest = d.virtual[1] or d.virtual[0] if d is not None else None
        if finest is not None and finest in it["others"]:
            it["row_top"] = True
    return it


def unused_numbers(it, tokens, ms):
    """A number of the request that nothing used ("How many women rate their
    marriage as 5?") would be dropped silently: refuse, naming it."""
    used = {f.get("tok") for f in it["filters"] if "tok" in f} | set(it.get("used_toks", ()))
    vals = set()
    for f in it["filters"] + ([it["condition"]] if it.get("condition") else []) + \
            [{"kind": "compare", "value": x} for x in it.get("used_values", ())]:
        for v in (f["value"] if f["kind"] == "isin" else [f.get("value")]):
            vals.add(str(v)[:4] if f["kind"] in ("year", "date") else str(v))
            try:
                vals.add(float(v))
            except (TypeError, ValueError):
                pass
    meth = it.get("method") if isinstance(it.get("method"), dict) else {}
    vals |= {float(meth.get("k", 1.5)), float(meth.get("z", 3))}
    if it["op"] in ("top", "head", "tail", "sample"):
        vals.add(float(it.get("n") or 0))
    for t in tokens:
        if t.kind in ("odd", "decade") and t.i not in used:   # "5k", "1980s" read by nothing
            raise Unknown(f"I did not understand \u201c{t.text}\u201d in your request, so I did not answer "
                          "(without it I would have answered a different question). Write numbers in full "
                          "(e.g. 5000) and periods as years (e.g. \u201cfrom 1980 to 1989\u201d).")
        if t.f == "no" and t.i not in used and any(m.start == t.i + 1 for m in ms):   # "no children" read by nothing
            raise Unknown(f"I did not understand \u201cno {tokens[t.i + 1].text}\u201d in your request, so I did not "
                          "answer (without it I would have answered a different question). Say it with the column, "
                          "e.g. \u201cCOLUMN = 0\u201d.")
        if t.kind != "num" or t.i in used:
            continue
        num = t.number()
        if num in vals or t.text in vals or t.text[:4] in vals:
            continue
        raise Unknown(f"I did not understand what \u201c{t.text}\u201d refers to in your request, so I did not "
                      "answer (without it I would have answered a different question). Name the column it belongs "
                      "to, e.g. \u201cCOLUMN = " + t.text + "\u201d or \u201cCOLUMN above " + t.text + "\u201d.")


def orphan_filters(it):
    """A comparison naming no column ("count how many readings are above 350")
    applies to the one measure in play; with none or several it is refused."""
    orphans = [f for f in it["filters"] if f["kind"] == "orphan"]
    if not orphans:
        return
    ms = [c for c in it["measures"] if c.is_numeric()]
    if len(ms) != 1:
        raise Unknown(f"I did not understand which column \u201c{orphans[0]['text']}\u201d is about: "
                      "name it, e.g. \u201cCOLUMN above 100\u201d.")
    for f in orphans:
        f.update(kind="compare", col=ms[0])
    if it["op"] == "agg" and it["agg"] in (None, "count") and re.search(r"\b(how many|count|number of)\b", it["request"], re.I):
        it["op"] = "count_rows"


def date_part_group(it, res, part):
    """Groups by the weekday / month of the year / hour of the date column."""
    ds = it["ds"]
    d = it.get("date") or res.date_column(ds)
    fmt = None
    if d is not None and not getattr(d, "virtual", None) and not d.dtype.startswith("datetime"):
        fmt = it["formats"].get(d.name) or date_format_for(res, d)
    g = dateparts.group_column(ds, d, part, fmt)
    if it["group"] is not None:
        it["group2"] = it["group"]
    it["group"] = g
    it["others"] = [c for c in it["others"] if c is not d]


def _resolve_filters(filters, ds, res):
    """Filters with their mentions resolved to columns (date filters get the date column)."""
    out, seen = [], set()
    for f in filters:
        f = dict(f)
        if "mention" in f:
            f["col"] = res.column(f.pop("mention"))
        elif f["kind"] == "orphan":
            f["col"] = None
            out.append(f)
            continue
        elif f["kind"] == "search":
            f["cols"] = [c for c in ds.columns if not c.is_numeric() and not c.is_date()
                         and not c.dtype.startswith(("int", "float"))]
            f["col"] = None
            if not f["cols"]:
                raise Unknown(f"I could not find \u201c{f['value']}\u201d: it is not a column of "
                              f"{ds.name}, and {ds.name} has no text columns to look for it in.")
        else:
            f["col"] = res.date_column(ds)
            if f["col"] is None:
                raise Unknown(f"You asked for a date filter, but {ds.name} has no date column.")
        key = (f["kind"], f["col"].name if f["col"] is not None else None, f.get("op"), str(f["value"]))
        if key not in seen:   # "region is West" may be read twice
            seen.add(key)
            out.append(f)
    return out


def roles(it, tokens, ms, res, q):
    """Fills measure, measures, group, others, date, values, target for the op."""
    ds, op = it["ds"], it["op"]
    free = [m for m in ms if m.role is None]
    groups = [m for m in ms if m.role == "group"]
    dates = [m for m in free if m.col0.is_date()]
    nums = [m for m in free if m.col0.is_numeric() and not m.col0.is_id() and not m.col0.is_date()]
    if op in ("top", "agg", "time", "hist", "rate") and any(m.score >= 85 for m in nums):
        # "which region sells the most units": units is named, "sells" only hints at revenue
        nums = [m for m in nums if m.score >= 70 or m.value is not None]
    others = [m for m in free if m not in nums and m not in dates]
    it["measures"] = list(dict.fromkeys(res.column(m) for m in nums))   # "wind speed": one column, named twice
    it["measure"] = it["measures"][0] if it["measures"] else None
    it["group"] = res.column(groups[0]) if groups else None
    it["group2"] = res.column(groups[1]) if len(groups) > 1 else None
    it["others"] = [res.column(m) for m in others]
    it["values"] = None
    if op in ("time",) or any(f["kind"] in ("year", "date") for f in it["filters"]):
        it["date"] = res.date_column(ds, res.column(dates[0]) if dates else None)
        if it["date"] is None:
            raise Unknown(f"{ds.name} has no date column, so I cannot show anything over time. "
                          "A histogram, a bar chart by a category or a summary works without dates.")
    else:
        it["date"] = res.column(dates[0]) if dates else None
    it["formats"] = {}
    for c in [it["date"]] + [f["col"] for f in it["filters"] if f["kind"] in ("year", "date")]:
        if c is not None and not c.dtype.startswith("datetime"):
            it["formats"][c.name] = date_format_for(res, c)
    flag_filters(it, tokens, others, res)
    if op == "ttest":
        pair = two_values(None, ms)
        if pair:
            it["group"] = res.column(pair[0])
            it["values"] = (pair[0].value, pair[1].value)
            it["filters"] = [f for f in it["filters"] if f.get("col") is not it["group"]]
        elif it["group"] is None:
            cats = [c for c in it["others"] if c.is_category()] or \
                [c for c in it["others"] + it["measures"][1:] if c.is_binary01() or c.is_flag() or c.is_code()]
            it["group"] = cats[0] if cats else None
            if it["group"] in it["measures"]:
                it["measures"] = [c for c in it["measures"] if c is not it["group"]]
                it["measure"] = it["measures"][0] if it["measures"] else None
    if op == "model":
        model_roles(it, tokens, ms, res, q)
    if op == "linreg":
        linreg_roles(it, tokens, nums, res, q)
    it["method"] = stats_method(q, op)


FLAG_OPS = {"agg", "hist", "time", "top", "count_rows", "nunique", "normality", "outliers", "scatter",
            "corr", "box", "head", "sample", "tail", "overview"}


def flag_filters(it, tokens, others, res):
    """A yes/no column named as a qualifier ("churned customers", "not churned")
    filters the rows where it is yes/true (or not), when the operation has no
    other use for it."""
    if it["op"] not in FLAG_OPS:
        return
    for m in others:
        c = res.column(m)
        if not c.is_flag() or c is it["group"]:
            continue
        before = " ".join(t.f for t in tokens[max(0, m.start - 2):m.start])
        neg = bool(re.search(r"\b(not|non|never|didn't|did not|haven't|no|without)$", before))
        it["filters"].append({"kind": "flag", "col": c, "op": "!=" if neg else "==", "value": "yes"})
        it["others"] = [x for x in it["others"] if x is not c]


def model_roles(it, tokens, ms, res, q):
    """Target = the column after predict/model/forecast; features = the rest or those named."""
    target_m = None
    for m in ms:
        before = " ".join(t.f for t in tokens[max(0, m.start - 3):m.start])
        if re.search(r"(predict\w*|forecast\w*|model\w*|classify|explain|drives|drivers of|for)\s*(the\s*)?(whether\s*)?$", before):
            target_m = m
            break
    if target_m is None:
        target_m = ms[0] if ms else None
    it["target"] = res.column(target_m) if target_m else None
    named = [res.column(m) for m in ms if m is not target_m and m.start > target_m.start] if target_m else []
    use_named = bool(named) and not re.search(r"\b(all|other|others|rest|remaining|everything)\b", q)
    it["features"] = named if use_named else None
    it["filters"] = [f for f in it["filters"] if f.get("col") is not it["target"]]


def linreg_roles(it, tokens, nums, res, q):
    """Outcome (target) and predictors (features) of a linear regression:
    "regress Y on X", "regression of Y on X", "predict Y from X", "effect of X
    on Y", "Y as the dependent variable"; otherwise the last column named is
    the outcome (it["linreg_assumed"] says so)."""
    cols = [res.column(m) for m in nums]
    cols = list(dict.fromkeys(cols))
    it["linreg_assumed"] = False
    if len(cols) < 2:
        it["target"], it["features"] = (cols[0] if cols else None), []
        return
    def words_before(m, k=3):
        return " ".join(t.f for t in tokens[max(0, m.start - k):m.start])
    target = None
    for m in nums:
        before = words_before(m)
        if re.search(r"\b(predict\w*|explain\w*|model\w*|regress\w*|of)\s*(the\s*)?$", before) and \
                re.search(r"\b(regress\w*|regression|predict\w*|explain\w*|model\w*)\b", before + " " + words_before(m, 6)):
            after = " ".join(t.f for t in tokens[m.end:m.end + 3])
            if re.match(r"(on|from|using|with|by|based on|against|in terms of|as a function of)\b", after):
                target = res.column(m)
                break
        if re.search(r"\b(on|affects?|influences?|impacts?)\s*(the\s*)?$", before) and \
                re.search(r"\b(effect|impact|influence|affect\w*)\b", q):
            target = res.column(m)
            break
        after = " ".join(t.f for t in tokens[m.end:m.end + 5])
        if re.match(r"(as|is)\s+(the\s+)?(dependent|response|outcome|target)\b", after):
            target = res.column(m)
            break
        if re.search(r"\b(predict\w*)\s*(the\s*)?$", before):
            target = res.column(m)
            break
    if target is None:
        for m in nums:
            after = " ".join(t.f for t in tokens[m.end:m.end + 5])
            if re.match(r"(as|is)\s+(the\s+|an?\s+)?(independent|predictor|explanatory|feature|input)\b", after):
                rest = [c for c in cols if c is not res.column(m)]
                target = rest[-1] if len(rest) == 1 else None
                break
    if target is None:
        target = cols[-1]
        it["linreg_assumed"] = True
    it["target"], it["features"] = target, [c for c in cols if c is not target]


def stats_method(q, op):
    """The method a statistical request names: correlation (pearson / spearman /
    kendall), outlier rule {"rule": "iqr"/"z"/None, "k": 1.5, "z": 3}."""
    if op in ("corr", "heatmap"):
        m = re.search(r"\b(pearson|spearman|kendall)", q)
        return m.group(1) if m else None
    if op == "outliers":
        iqr = re.search(r"\b(iqr|interquartile|inter-quartile|tukey|quartiles?)\b", q)
        z = re.search(r"\bz[- ]?scores?\b|\|z\||\bstandard deviations?\b|\bsigma\b|\bstd\b", q)
        k = re.search(r"(\d+(?:\.\d+)?)\s*(?:x|times|\*|\u00d7)?\s*(?:the\s+)?(?:iqr|interquartile)", q)
        t = re.search(r"(?:z[- ]?scores?|\|z\|)\s*(?:of\s+|is\s+)?(?:greater than|above|more than|over|exceeding|beyond|larger than|>=?|"
                      r"outside|(?:less|lower|below) than -?)?\s*(?:\+/-|\u00b1|-)?\s*(\d+(?:\.\d+)?)"
                      r"|(\d+(?:\.\d+)?)\s*(?:standard deviations?|std|sigma)", q)
        return {"rule": "iqr" if iqr and not z else "z" if z and not iqr else None,
                "k": float(k.group(1)) if k else 1.5,
                "z": float(t.group(1) or t.group(2)) if t else 3.0}
    return None


OP_ACCEPT = {  # words an operation uses (its methods and the parts of its answer)
    "corr": """pearson spearman kendall coefficient coefficients p-value pvalue significance strength direction
               linear monotonic rank tau rho r strong weak positive negative""",
    "heatmap": "pearson spearman kendall coefficient coefficients",
    "outliers": """iqr interquartile inter-quartile range rule method z-score zscore z score scores threshold standard
                   deviations deviation times beyond outside quartile quartiles q1 q3 tukey fence fences detect
                   detected flag flagged sigma std identified""",
    "normality": "shapiro-wilk shapiro wilk normal normality statistic p-value pvalue w gaussian skewness skew kurtosis",
    "linreg": """linear regression slope intercept r-squared r2 squared coefficient coefficients dependent independent
                 predictor predictors response outcome target explanatory fit fitted ols least squares model equation
                 line p-value pvalue simple predict predicts predicting regress regressing regressed affect affects
                 effect impact influence function""",
    "ttest": "welch t-test independent two-sample sample samples p-value pvalue statistic anova kruskal",
    "agg": """skewness skew skewed kurtosis mode modal range interquartile iqr percentile percentiles quartile
              quartiles coefficient variation q1 q3 th""",
}
OP_ACCEPT = {op: set(words.split()) for op, words in OP_ACCEPT.items()}
OP_ACCEPT["time"] = OP_ACCEPT["top"] = OP_ACCEPT["agg"]
OP_ACCEPT["value_counts"] = {"mode", "modal"}


def check_unmatched(it, tokens, ms, ds_names):
    """Says so when the request's measure names no column (never invents one)."""
    op = it["op"]
    needs = {"agg": "measure", "hist": "measure", "normality": "measure", "box": "measure",
             "ttest": "measure", "model": "target"}
    if op == "ttest" and it["measure"] is not None and it["group"] is None:
        raise Unknown(f"I understood that you want to compare {it['measure'].name} between groups, but not which "
                      f"column makes the groups. Name it, e.g. \u201cdoes {it['measure'].name} differ by COLUMN\u201d.")
    used = set(it.get("described", ())) | {f["tok"] for f in it["filters"] if isinstance(f.get("tok"), int)}
    used |= {t.i for t in tokens if t.f in it.get("rest_of", "").split()}   # "and the rest"
    words = unmatched_words(tokens, ms, ds_names, used)
    missing = needs.get(op) and it.get(needs[op]) is None and not (op == "agg" and it["group"] is not None)
    if op == "ttest" and it["group"] is not None and any(c is not it["group"] and (c.is_category() or c.is_flag())
                                                         for c in it["others"]):
        missing = False   # two categorical columns: a chi-square test
    if op == "time" and it["measure"] is None and words:
        missing = True
    if op == "top" and it["measure"] is None and words:
        missing = True
    if op == "linreg" and (it.get("target") is None or not it.get("features")):
        raise Unknown("A linear regression needs two numeric columns: the outcome and at least one predictor "
                      "(e.g. \u201clinear regression of Y on X\u201d). "
                      + (f"I found only {it['target'].name}." if it.get("target") is not None else "I found none.")
                      + (f" I did not understand {', '.join(chr(8220) + w + chr(8221) for w in words)}." if words else ""))
    if missing:
        what = ", ".join(f"\u201c{w}\u201d" for w in words) if words else "the column to use"
        raise Unknown(f"I could not find {what} among the columns of {it['ds'].name}.")
    searched = {w for f in it["filters"] if f["kind"] in ("search", "value") for w in str(f["value"]).split()}
    accept = OP_ACCEPT.get(op, set())
    if any(a.startswith("p") and a[1:2].isdigit() for a in it.get("aggs") or []):
        accept = accept | {w for w in map(fold, words) if re.fullmatch(r"\d+(st|nd|rd|th)", w)}
    dropped = [w for w in words if fold(w) not in OP_WORDS and fold(w) not in accept and w not in searched]
    if dropped:   # never answer a narrower question as if it were the one asked
        what = ", ".join(f"\u201c{w}\u201d" for w in dropped)
        raise Unknown(f"I did not understand {what} in your request: it names no column or value of "
                      f"{it['ds'].name} and no operation I know, so I did not answer (without it I would have "
                      "answered a narrower question than the one you asked). Rephrase with the column names "
                      "below, or leave that part out if it does not matter.")
