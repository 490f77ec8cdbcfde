"""analyst/intent.py — decides what a request asks for (the operation) and
which real columns play which part in it.

build_intent() returns a plain dict (op, dataset, measure, group, agg, ...)
that codegen.py turns into code and answer.py into the final text.  Column
choices go through the Resolver (resolve.py); the roles of the columns are
in roles.py, the words that only describe in described.py, and the check
that every word of the request is carried by the plan in audit.py.
"""
import re

from analyst.filters import parse_filters, stat_phrases
from analyst.parse import (Unknown, PLOT_RE, FREQ_WORDS, AGG_WORDS, detect_agg, detect_aggs, detect_freq,
                           find_mentions, first_number, mark_groups, prev_words, tokenize, two_values)
from analyst import across, change, dateparts, units
from analyst.audit import FILLER, MODIFIER_SKIP, account, check_unmatched, unmatched_words, unused_numbers
from analyst.described import described_tokens, measure_nouns, modifiers, percent_values, row_modifiers
from analyst.groups import choice_verb, has_group, rate_condition, rate_population, regroup, several_values, versus_rest
from analyst.phrasing import take_sort
from analyst.resolve import date_format_for
from analyst.roles import counted, roles

OPS = [  # (op, pattern) checked in order; the first that fits the mentions wins
    ("help", r"^\s*(help|\?|what can you do|examples?)\b"),
    ("rate", r"\b(rate|percentage|percent|proportion|share|fraction|how often)\b"),
    ("linreg", r"\b(linear regression|linear model|simple regression|regress\w*|ols|least[- ]squares|line of best fit|"
               r"best[- ]fit line|regression line|slope|intercept|r-?squared|r2|coefficient of determination)\b"),
    ("model", r"\b(predict\w*|classif\w*|regression model|build a model|train a model|machine learning|baseline model|what drives|drivers of|model)\b"),
    ("normality", r"\b(normal(ly)? distributed|normality|shapiro|gaussian|bell[- ]shaped|normal distribution)\b"),
    ("outliers", r"\b(outliers?|anomal\w*|unusual values|extreme values)\b"),
    ("ttest", r"\b(t-?test|significant\w*|compare|comparison|differ\w*|chi-?squared?|chi2|contingency)\b"
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
            r"|\b\d+ (highest|lowest|largest|smallest|biggest|greatest)\b"
            r"|\b(the|which|what) ([a-z]\w* )?(with|that has|that had|having) the (highest|lowest|largest|smallest|most|least|"
            r"biggest|greatest|fewest)\b"
            r"|\bwhich\b.*\b(highest|lowest|largest|smallest|most|least|biggest|best|worst)\b"
            r"|\b(list|show|name|find|give|get|what are|the) (me )?(the )?\d+ ([a-z]\w* )?(with|that have|that had|having|by) "
            r"(the )?(highest|lowest|largest|smallest|most|least|biggest|greatest|fewest)\b"),
    ("nunique", r"\b(distinct|unique|different)\b"),
    ("unique_values", r"^\s*(please )?(list|enumerate|name) (all |the |every |each |different |distinct )*\w+\s*$"),
    ("value_counts", r"\b(value counts|frequenc\w*|breakdown|break down|how often|share of|proportion|percent(?!ile)\w*)\b"),
    ("time", r"\b(over time|trend\w*|time series|timeline|evolution|evolve\w*|over the (years|months)|seasonal\w*)\b"),
]




def pick_op(q, ms, filters, tokens=()):
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
        if op == "scatter" and len([m for m in nums if not (m.col0.is_binary01() or m.col0.is_code())]) < 2:
            continue   # "expenditure for owners vs renters (OWNRENT)": groups, not a scatter
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
                    or any(m.col0.is_numeric() and had_before(tokens, m) for m in free) \
                    or any(f.get("mention") is not None and (f["mention"].col0.is_binary01() or f["mention"].col0.is_flag())
                           for f in filters):
                return "rate"
            if any(f["kind"] == "value" for f in filters) and not any(m.col0.is_numeric() for m in free):
                return "rate"   # "what share of the tumours are malignant": the rows with that value
            if [m for m in free if m.col0.is_numeric()] and (any(m.role == "group" or m.col0.is_category() for m in ms)
                                                             or any(f["kind"] == "value" for f in filters)):
                return "share"   # "revenue share of each region", "what share of total invest did GM make"
            continue
        return op
    return None


def had_before(tokens, m):
    """"respondents (who) have children", "had any affairs": the column is what
    the rows have, so a share of them is a rate of the column above 0."""
    words = [w for w in prev_words(tokens, m, 2) if w != "any"]
    return bool(words) and words[0] in ("had", "have", "has", "with")


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



SUPERLATIVES = [  # words that name a measure and a direction at once
    (r"\b(hottest|warmest)\b", "highest temperature"), (r"\b(hotter|warmer)\b", "highest temperature"),
    (r"\b(coldest|coolest)\b", "lowest temperature"), (r"\b(colder|cooler)\b", "lowest temperature"),
    (r"\b(wettest|rainiest)\b", "highest rainfall"), (r"\b(wetter|rainier)\b", "highest rainfall"),
    (r"\b(driest)\b", "lowest rainfall"), (r"\b(windiest|windier)\b", "highest wind"),
    (r"\b(cheapest)\b", "lowest price"), (r"\bmost expensive\b", "highest price"),
    (r"\b(oldest)\b", "highest age"), (r"\b(youngest)\b", "lowest age"),
    (r"\b(longest)\b", "highest"), (r"\b(shortest)\b", "lowest"),   # "the longest petals": the largest length
]


SUPERLATIVE_HINT = ("hott", "warm", "cold", "cool", "wett", "raini", "drie", "windi", "cheap",
                    "expensive", "oldest", "youngest", "longest", "shortest")


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
    request = re.sub(r"\bmost recent(ly)?\b", "latest", request, flags=re.I)   # "most" asks for no maximum
    request = re.sub(r"\b(?:(?:is|are|was|were|lies?|falls?|lying) )?(?:more than|over|beyond|above) (\d+(?:\.\d+)?) "
                     r"(?:standard deviations?|sds?|sigmas?) (?:away )?from (?:the|its|their) mean\b",
                     r"an outlier by z-score \1", request, flags=re.I)   # "more than 2 SD from the mean": |z| > 2
    request, date_part = dateparts.take(request)
    request = re.sub(r"\b(over|during|for|across|in) (the )?(whole|entire|full|complete) (period|sample|time span|"
                     r"range|data ?set|data)\b", " ", request, flags=re.I)
    if any(c.norm == "age" for c in ds.columns):   # "patients older than 50", "aged 50 to 60"
        request = re.sub(r"\bolder than\b", "with age over", request, flags=re.I)
        request = re.sub(r"\byounger than\b", "with age under", request, flags=re.I)
        request = re.sub(r"\baged (?:between )?(\d+) (?:to|and|-) (\d+)\b", r"with age between \1 and \2", request, flags=re.I)
        request = re.sub(r"\baged (over|above|under|below|at least)\b", r"with age \1", request, flags=re.I)
    request = re.sub(r"(\d)\s*(?:percent|per cent|pct)\b", r"\1%", request, flags=re.I)   # "above 8 percent": a unit
    q = " ".join(request.casefold().split())
    tokens = tokenize(request)
    ms = find_mentions(tokens, ds, ds_names)
    ms = [m for m in ms if not (m.value is not None and tokens[m.start].f in ("no", "none") and m.end - m.start == 1
                                and any(n.start == m.end and n.value is None and n.col0.is_numeric() for n in ms))]
    # "with no support tickets": "no" negates the column after it, it is no yes/no value
    described, paren = described_tokens(request, tokens, ms, ds)
    for m in ms:   # "the number of bills in the 104th congress (BILLS104)": the exact name that follows decides
        exact = next((n for n in ms if n.score == 100 and n.value is None and len(n.cols) == 1 and n.cols[0] in m.cols
                      and 0 <= n.start - m.end <= 6), None) if len(m.cols) > 1 and m.value is None else None
        if exact is not None:
            m.cols = [exact.cols[0]]
    ms = [m for m in ms if m.score >= 85 or m.value is not None or not set(range(m.start, m.end)) <= paren]
    inside = {i for m in ms if (m.value is None and m.end - m.start > 1 or m.score >= 85)
              and not (m.value is None and m.col0.time_part()) for i in range(m.start, m.end)}
    inside |= measure_nouns(tokens, ms, described, paren)   # "murder rate" is no rate
    pct_said = percent_values(tokens, ds, described)       # "percentage of women" where the values are that
    inside |= pct_said
    inside |= {i for k, j, _, _ in stat_phrases(tokens) for i in range(k, j + 1)}   # "above the mean" asks no mean
    qf = " ".join(t.f for t in tokens if t.i not in inside)   # keywords outside column names
    if detect_freq(qf) or re.search(PERIOD_RE, qf):   # "by year" is a period, not the year column
        ms = [m for m in ms if m.value is not None or not m.col0.time_part()]
    it = {"ds": ds, "request": request, "plot": bool(re.search(PLOT_RE, qf)),
          "agg": detect_agg(qf), "freq": detect_freq(qf), "aggs": detect_aggs(qf), "sort": sort}
    if pct_said:
        said = " ".join(tokens[i].text for i in sorted(pct_said)[:3])
        it["assume_step"] = [f"\u201c{said}\u201d read as the values themselves (every measure of {ds.name} lies "
                             "between 0 and 100: a percentage already)"]
    own_step(it, tokens, ds, described)
    unit_rate(it, tokens, ds, described)
    filters = [f for f in parse_filters(tokens, ms, ds)   # "voted for Dole (vote = 1)": described, not searched
               if not (f["kind"] == "search" and set(f.get("toks", ())) <= described)]
    described |= versus_rest(tokens, ms)
    said_mods = describing_words(tokens, ms, described, filters)
    for k, i in row_modifiers(tokens, ms, described, MODIFIER_SKIP | FILLER):
        described.add(k)
        it.setdefault("assume_step", []).append(f"\u201c{tokens[k].text} {tokens[i].text}\u201d read as the "
                                                 f"{tokens[i].text} in the data (\u201c{tokens[k].text}\u201d taken "
                                                 "as what they are, not as a condition on the rows)")
    described |= {i for run, _ in said_mods for i in run}
    op = pick_op(qf, ms, filters, tokens)
    mark_groups(tokens, ms, op, paren)
    described |= regroup(tokens, ms, ds, qf, op)
    has_date = bool(ds.date_columns())
    op = op or default_op(qf, ms, it["freq"], has_date)
    if op is None and filters and re.search(r"\b(show|list|display|rows|records|entries|which|select|filter)\b", qf):
        op = "head"   # "rows where priority is B": the matching rows
    if date_part and op in (None, "time"):   # "average revenue by weekday": a grouping, not a series
        op, it["freq"] = "agg", None
    period = re.search(PERIOD_RE, qf) if not it.get("own_step") else None
    if period and it["agg"] in ("max", "min") and re.search(r"\b(which|what) \w+ (did|was|is|does) (it|this|that)\b"
                                                          r"|\band (in |at |on |during )?(which|what) \w+\b", qf + " " + q):
        period = None   # "the highest X, and in which year did it occur": the extreme value and where it is
    where = [m for m in ms if m.value is None and m.col0.is_date() and m.start and tokens[m.start - 1].f in ("which", "what")
             and m.start > 1 and tokens[m.start - 2].f in ("and", "on", "at", "in")]
    if where and it["agg"] in ("max", "min") and op == "time" and not it["freq"]:
        for m in where:   # "the highest X, and on which date?": where it is (printed with it), no series
            m.role = "where"
        op = "agg"
    if period and op in ("top", "agg", None) and not has_date and not any(
            m.value is None and (m.col0.is_category() or m.col0.is_id()) for m in ms):
        unit = period.group(1) or period.group(2)
        raise Unknown(f"I did not find a date or {unit} column in {ds.name}, so I cannot say which {unit} it was "
                      "(I would only have shown a row). Ask for the top rows instead, e.g. \u201ctop 5 rows by "
                      "COLUMN\u201d.")
    if period and op in ("top", "agg", None) and has_date:
        unit = period.group(1) or period.group(2)
        if unit in ("day", "date"):    # "the hottest day": the row with the highest value
            op, it["freq"], it["agg"] = "top", None, None
            it["row_top"] = True
        else:                                     # "which month had the highest revenue"
            op, it["freq"] = "time", {"week": "W", "month": "M", "quarter": "Q", "year": "Y", "decade": "10Y"}[unit]
            if it["agg"] in ("max", "min"):       # "highest" picks the period, it does not aggregate
                it["agg"] = None
    rowwise_period(it, op, tokens, qf, described)
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
    it["inside"] = inside
    it["tokens"], it["mentions"] = tokens, ms
    it["assume"] = [f"\u201cacross {m.term}\u201d read as one value over all the {m.cols[0].name} rows; ask \u201cby "
                    f"{m.cols[0].name}\u201d for one value each" for m in ms if getattr(m, "across", False)
                    and not (ds.rows and m.col0.distinct == ds.rows)]
    it["assume"] += it.pop("assume_step", [])
    it["assume"] += [f"\u201c{' '.join(tokens[i].text for i in run)} {m.term}\u201d read as "
                     + (f"the column {m.cols[0].name}" if len(m.cols) == 1 else f"\u201c{m.term}\u201d")
                     + f" (\u201c{' '.join(tokens[i].text for i in run)}\u201d taken as part of what it is called, "
                     "not as a condition on the rows)" for run, m in said_mods]
    it["filters"] = _resolve_filters(filters, ds, res)
    it["n"] = first_number(q, r"\b(?:top|bottom|first|last|head|tail|sample|best|worst|highest|lowest|largest|smallest|most|least|show)\s+(\d+)", 5)
    it["n"] = first_number(q, r"\b(\d+)\s+(?:rows|records|entries|lines|random|samples?)\b", it["n"])
    it["n"] = first_number(q, r"\b(?:which|what|the|list|show|name)\s+(\d+)\s+[a-z]", it["n"])
    if op == "top" and (re.search(r"\bwhich\b", qf) or it.get("row_top") or re.search(
            r"\bthe [a-z]\w* (with|that has|that had|having) the\b", q)) and not re.search(r"\d", qf):
        it["n"] = 1   # "which firm ...", "the firm with the smallest total": one
    if op == "top" and re.search(r"\b(rank|ranked|ranking|order|sort)\b", qf) and not re.search(r"\d", qf):
        it["n"] = 1000   # "rank the firms by ...": all of them, not the first 5
    it["ascending"] = bool(re.search(r"\b(bottom|worst|lowest|smallest|least|fewest)\b", q))
    roles(it, tokens, ms, res, q)
    it["described"] = set(it["described"]) | units.plan(it, tokens, ms, request)
    chosen = choice_verb(it, tokens, it["described"])
    if chosen is not None:
        it["described"] = set(it["described"]) | {chosen}
    change.at_edge(it, tokens, q)
    noun = across.plan(it, tokens, ms, q)
    if noun is not None:
        it["described"] = set(it["described"]) | {noun}
    where = [m for m in ms if m.role == "where"]
    if where and it.get("date") is None:
        it["date"] = res.column(where[0])   # read as dates, so the extreme's date is printed as one
    it["assume"] += [x for x in res.said if x not in it["assume"]]
    g = next((m for m in ms if m.role == "group" and getattr(m, "with_without", False)), None)
    if g is not None and it["group"] is not None and not (it["group"].is_binary01() or it["group"].is_flag()):
        it["group"] = has_group(it["group"])   # "with and without children": children > 0 or not
    if date_part:
        date_part_group(it, res, date_part)
        if it["op"] == "count_rows":   # "number of orders per weekday": counts per group
            it["op"] = "value_counts"
    orphan_filters(it)
    rate_condition(it)
    rate_population(it)
    change.plan(it, tokens, qf)
    for c in [it.get("date")]:   # a date column taken after roles() (a change, an edge, "on which date"): its format
        if c is not None and not c.dtype.startswith("datetime") and not getattr(c, "virtual", None) \
                and c.name not in it["formats"]:
            it["formats"][c.name] = date_format_for(res, c)
    it["assume"] += [x for x in res.said if x not in it["assume"]]
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
    if it["op"] == "value_counts" and not (it["group"] or it["others"] or it["measures"]):
        it["op"] = "count_rows"   # what op_value_counts does without a column: said as what it is
    counted(it, q)
    account(it, tokens, q)
    return it




STEP_ADJECTIVES = {"Y": ("annual", "yearly"), "Q": ("quarterly",), "M": ("monthly",), "W": ("weekly",), "D": ("daily",)}


def own_step(it, tokens, ds, described):
    """"the median annual flow" on data with one row per year: "annual" says
    what each row is, it asks for no yearly series (the statistic is taken
    over the rows, said)."""
    words = STEP_ADJECTIVES.get(it["freq"] or "", ())
    if not words or not it["agg"] or it["agg"] == "count" or ds.step() != it["freq"]:
        return
    said = [t for t in tokens if t.f in words]
    text = said[0].text if said else ""
    per = re.search(r"\b(per|by|each|every|a) (year|quarter|month|week|day)\b", it["request"], re.I)
    if not said and per and per.group(1).lower() in ("per", "a") and it["agg"] in ("mean", "median") \
            and not it["plot"] and not re.search(r"\b(show|list|table|chart|plot|over time|each|every|by)\b",
                                                 it["request"], re.I):
        said = [t for t in tokens if t.f == per.group(2).lower() and t.i and tokens[t.i - 1].f == per.group(1).lower()]
        if len(said) == 1:   # "the average per month" on monthly data: the mean of the monthly rows
            described.add(said[0].i - 1)
            per, text = None, per.group(0)
    if len(said) != 1 or per:
        return
    it["freq"] = None
    it["own_step"] = True   # no "which month ..." period either
    described.add(said[0].i)
    it.setdefault("assume_step", []).append(f"\u201c{text}\u201d read as what each row is ({ds.name} has one "
                                             f"row per {FREQ_UNIT[ds.step()]}): the statistic is over those rows")


def unit_rate(it, tokens, ds, described):
    """"days watching TV news per week" on data with no date: "per week" is
    the unit the measure is counted in, not a series per week (said)."""
    if not it["freq"] or ds.date_columns() or it["freq"] not in FREQ_UNIT:
        return
    unit = FREQ_UNIT[it["freq"]]
    k = next((t.i for t in tokens[1:] if t.f == unit and tokens[t.i - 1].f in ("per", "a", "each")), None)
    if k is None:
        return
    it["freq"] = None
    described |= {k - 1, k}
    it.setdefault("assume_step", []).append(f"\u201c{tokens[k - 1].text} {tokens[k].text}\u201d read as the unit the "
                                             f"measure is counted in ({ds.name} has no date column)")


FREQ_UNIT = {"Y": "year", "Q": "quarter", "M": "month", "W": "week", "D": "day"}
FREQ_ORDER = ["D", "W", "M", "Q", "Y", "10Y"]
ROW_WISE = {"corr", "scatter", "linreg"}


def rowwise_period(it, op, tokens, qf, described):
    """"the correlation between daily volume and ...", "weekly hours and
    capacity utilization" on monthly data, "over the years": an operation
    that pairs the rows takes them as they are, so a period no coarser than
    the data's own step (one row per day, month, year) only says what each
    value is (said); a coarser one ("monthly" on daily data) would need
    resampling and is still refused."""
    ds, freq = it["ds"], it["freq"]
    step = ds.step()
    if op not in ROW_WISE or freq not in FREQ_ORDER or step not in FREQ_ORDER \
            or FREQ_ORDER.index(freq) > FREQ_ORDER.index(step):
        return
    m = next((re.search(pat, qf) for f, pat in FREQ_WORDS if f == freq and re.search(pat, qf)), None)
    words = m.group(0).split() if m else []
    fs = [t.f for t in tokens]
    k = next((k for k in range(len(fs)) if fs[k:k + len(words)] == words), None) if words else None
    if k is None:
        return
    it["freq"] = None
    described |= set(range(k, k + len(words)))
    it.setdefault("assume_step", []).append(
        f"\u201c{m.group(0)}\u201d read as what each value is ({ds.name} has one row per {FREQ_UNIT[step]}): "
        "the rows are paired as they are, not resampled")


def describing_words(tokens, ms, described, filters):
    """Words right before a column that only say what it is ("disease
    progression", "market value"): [(positions, mention)] (described.modifiers)."""
    taken = {f["tok"] for f in filters if isinstance(f.get("tok"), int)}
    taken |= {i for f in filters for i in list(f.get("span", ())) + list(f.get("toks", ()))}
    taken |= {t.i for t in tokens if any(re.search(pat, t.f) for _, pat in OPS + AGG_WORDS + FREQ_WORDS)}
    return modifiers(tokens, ms, taken, MODIFIER_SKIP | FILLER, passed=described)


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
        f.update(kind="stat" if f.get("stat") else "compare", col=ms[0])
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
