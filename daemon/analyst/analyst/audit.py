"""analyst/audit.py — the accounting of a request's words: a plan is
answered only when every content word is carried by it (a column, a value,
an operation, a filter) or is known filler; otherwise the request is
refused with a sentence naming the words (never a narrower question
answered as if it were the one asked).
"""
import json
import re

from analyst import change
from analyst.parse import Unknown, names_dataset
from analyst.schema import STOP, fold, norm

FILLER = set("""can could would should want wanted like need see know look let us
give tell help okay ok hey hi please thanks thank now then also again just really
quick quickly overall dataset data file csv table sheet here there whole entire
everything something anything things thing kind sort way ones one two three four
five six seven eight nine ten values each value identify determine report perform conduct carry
apply obtain provide output return print state present analyze analyse examine check assess evaluate
investigate consider calculated calculating computed computing using based following given respectively
approximately result results answer answers variable variables feature features field fields observations
whether exist exists study survey whose name they them their among occur occurs occurred happen happens
happened reported reporting having surveyed recorded measured observed listed included sampled studied
interviewed asked often figure figures""".split())


def unmatched_words(tokens, ms, ds_names, described=()):
    """Content words that name nothing in the data (used to say so honestly);
    described: token positions known to describe a column or the rows; a
    dataset's name counts only where it reads as the data ("in sales",
    "the sunspots data"), not as a measure ("the most sunspots")."""
    used = set(described)
    for m in ms:
        used.update(range(m.start, m.end))
    names = {norm(n) for n in ds_names}
    return [t.text for t in tokens if t.kind == "w" and t.i not in used and len(t.f) > 2
            and t.f not in STOP and t.f not in FILLER and not (norm(t.text) in names and names_dataset(tokens, t.i))
            and not getattr(t, "owner", False)
            and not t.f.endswith("ly")]


GENERIC_WORDS = set("""what's whats year's sort sorted sorting descending desc t-test ttest test tests method
rule rules""".split())   # accepted whatever the plan: they ask nothing by themselves

# Words with a meaning of their own: accepted only when the plan carries it.
# A date word ("before", "since", "onwards") or a sign ("negative") must be
# read by a filter (its span); the words below only by the operations named.
OP_ACCEPT = {  # words an operation uses (its methods and the parts of its answer)
    "corr": """pearson spearman kendall coefficient coefficients p-value pvalue significance strength direction
               linear monotonic rank tau rho r strong weak positive negative correlated correlate correlates
               relationship related significant""",
    "heatmap": "pearson spearman kendall coefficient coefficients matrix correlated correlate correlates related",
    "outliers": """iqr interquartile inter-quartile range rule method z-score zscore z score scores threshold standard
                   deviations deviation times beyond outside quartile quartiles q1 q3 tukey fence fences detect
                   detected flag flagged sigma std identified""",
    "normality": """shapiro-wilk shapiro wilk normal normality statistic p-value pvalue w gaussian skewness skew kurtosis
                    distributed significant""",
    "linreg": """linear regression slope intercept r-squared r2 squared coefficient coefficients dependent independent
                 predictor predictors response outcome target explanatory fit fitted ols least squares model equation
                 line p-value pvalue simple predict predicts predicting regress regressing regressed affect affects
                 effect impact influence function significant positive negative""",
    "ttest": """welch t-test independent two-sample sample samples p-value pvalue statistic anova kruskal wallis
                chi-square differ differs different difference differences compared significant higher lower
                related relationship association associated independence independent""",
    "model": "drives driven prediction predicted classify",
    "sample": "random",
    "agg": """skewness skew skewed kurtosis mode modal range interquartile iqr percentile percentiles quartile
              quartiles coefficient variation q1 q3 th third upper lower typical usual""",
    "time": """change changed changes changing trend trends evolve evolved evolution develop developed development
               go went vary varies decade decades half halves semester""",
}
OP_ACCEPT = {op: set(words.split()) for op, words in OP_ACCEPT.items()}
OP_ACCEPT["change"] = OP_ACCEPT["growth"] = change.accepted(None)
OP_ACCEPT["edge"] = {"latest", "newest", "final", "earliest", "recorded", "reported", "observed", "available", "known",
                     "value", "reading", "figure", "level"}
OP_ACCEPT["time"] |= OP_ACCEPT["agg"]
OP_ACCEPT["top"] = OP_ACCEPT["agg"] | {"rank", "ranked", "ranking", "rankings"}
OP_ACCEPT["value_counts"] = {"mode", "modal", "common"}
OP_ACCEPT["scatter"] = {"positive", "negative", "relationship", "related"}


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
    used |= {i for f in it["filters"] for i in f.get("span", ())}
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
    accept = OP_ACCEPT.get(op, set()) | GENERIC_WORDS
    if {"skew", "kurt"} & set(it.get("aggs") or []):
        accept = accept | {"positive", "negative"}   # "is the skewness positive"
    if any(a.startswith("p") and a[1:2].isdigit() for a in it.get("aggs") or []):
        accept = accept | {w for w in map(fold, words) if re.fullmatch(r"\d+(st|nd|rd|th)", w)}
    dropped = [w for w in words if fold(w) not in accept and w not in searched]
    if dropped:   # never answer a narrower question as if it were the one asked
        what = ", ".join(f"\u201c{w}\u201d" for w in dropped)
        raise Unknown(f"I did not understand {what} in your request: it names no column or value of "
                      f"{it['ds'].name} and no operation I know, so I did not answer (without it I would have "
                      "answered a narrower question than the one you asked). Rephrase with the column names "
                      "below, or leave that part out if it does not matter.")


def unused_numbers(it, tokens, ms):
    """A number of the request that nothing used ("How many women rate their
    marriage as 5?") would be dropped silently: refuse, naming it."""
    kept = it["filters"] + ([it["condition"]] if it.get("condition") else [])
    used = {f.get("tok") for f in kept if "tok" in f} | set(it.get("used_toks", ())) | set(it.get("change_span", ()))
    used |= {i for f in kept for i in f.get("toks", ())}
    used |= {i for m in ms for i in range(m.start, m.end)}   # "S&P 500": a number inside a column's name
    vals = set()
    for f in it["filters"] + ([it["condition"]] if it.get("condition") else []) + \
            [{"kind": "compare", "value": x} for x in it.get("used_values", ())]:
        for v in (f["value"] if f["kind"] in ("isin", "range") else [f.get("value")]) + \
                (list(f["written"]) if isinstance(f.get("written"), list) else [f.get("written")] if "written" in f else []):
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
        if t.kind == "decade" and t.i not in used and int(t.text) % 100 == 0:
            y = int(t.text)
            raise Unknown(f"\u201c{t.text}s\u201d can mean the decade {y}-{y + 9} or the century {y}-{y + 99}, so I did not "
                          f"answer. Ask e.g. \u201cfrom {y} to {y + 99}\u201d or \u201cfrom {y} to {y + 9}\u201d.")
        if t.kind == "date" and t.i not in used:   # "the reading on 1990-01-06" read by nothing
            raise Unknown(f"I did not understand how the date \u201c{t.text}\u201d goes with your request, so I did not "
                          "answer. Ask e.g. \u201con " + t.text + "\u201d, \u201csince " + t.text + "\u201d or "
                          "\u201cbefore " + t.text + "\u201d.")
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


def account(it, tokens, q):
    """The last look before answering: words that carry a meaning the plan
    must show — an aggregation ("average"), a comparison ("above the mean"),
    a share ("what share of") — refuse the request, named, when the plan
    does not carry them (it would answer another question without saying so)."""
    used = set(it.get("described", ())) | set(it.get("inside", ()))
    used |= {i for f in it["filters"] + ([it["condition"]] if it.get("condition") else []) for i in f.get("span", ())}
    used |= {t.i for t in tokens if t.f in it.get("rest_of", "").split()}   # "and those who did not"
    used |= set(it.get("change_span", ()))   # "from 1947 to 1962": the ends of a change
    for check in (unused_operation, unused_aggregation, unused_comparison, unused_share, unused_negation, unused_period,
                  unnamed_entity):
        word = check(it, tokens, used, q)
        if word:
            raise Unknown(f"I did not understand how \u201c{word}\u201d goes with the rest of your request, so I did "
                          "not answer (without it I would have answered a different question). Rephrase it with "
                          "the column names below, e.g. \u201caverage COLUMN\u201d, \u201chow many rows have COLUMN "
                          "above 10\u201d or \u201cshare of rows where COLUMN = VALUE\u201d.")


AGG_SAID = {"sum": r"\b(total|sum|cumulative|combined)\b", "mean": r"\b(average|avg|mean)\b",
            "median": r"\bmedian\b", "std": r"\b(std|standard deviation|stdev|variability)\b",
            "var": r"\bvariance\b", "skew": r"\b(skew|skewness|skewed)\b", "kurt": r"\b(kurtosis|kurt)\b",
            "iqr": r"\b(interquartile range|inter-quartile range|iqr)\b", "range": r"\brange\b",
            "cv": r"\bcoefficient of variation\b"}
AGG_KEPT = {  # the aggregations each operation shows besides its own (what its answer prints)
    "rate": {"mean"}, "share": {"sum"}, "ttest": {"mean"},
    "outliers": {"mean", "std", "iqr"}, "normality": {"mean", "std", "skew", "kurt"},
    "hist": {"mean", "std", "median"}, "box": {"mean", "std", "median", "iqr"}, "overview": {"mean", "std", "median"},
    "count_rows": {"sum"}, "value_counts": {"sum"}, "nunique": {"sum"},
    "change": {"mean", "sum", "median"}, "growth": {"mean"}, "across": {"mean", "sum", "median", "std", "var"},
}


def unused_aggregation(it, tokens, used, q):
    """"Which month has the highest new orders on average?" answered with a
    count per month: the aggregation word asked for is not what is computed.
    Direction and counting words (highest, most, how many) are not checked
    here: they have too many idioms ("at most", "most strongly")."""
    op, aggs = it["op"], [a for a in it.get("aggs") or [] if a in AGG_SAID]
    has_measure = bool(it.get("measures")) or it.get("target") is not None
    qf = " ".join(t.f for t in tokens if t.i not in set(it.get("inside", ())) | stat_prefixed(it, tokens))
    for a in aggs:
        if op == "agg" and has_measure:
            continue
        if op in ("time", "top") and has_measure and a == (it.get("agg") or a):
            continue
        if a in AGG_KEPT.get(op, ()) and not (op in ("count_rows", "value_counts", "nunique")
                                                and not re.search(r"\b(how many|number of|count)\b", q)):
            continue   # "how many ... in total" is a count; "the smallest total" is not
        m = re.search(AGG_SAID[a], qf)
        if m:
            return m.group(0)
    return None


STAT_PREFIX_OF = {"average": ("avg", "mean"), "mean": ("mean", "avg"), "total": ("tot", "total"), "number": ("num",)}


def stat_prefixed(it, tokens):
    """Positions of a statistic's word right before a column whose name
    starts with it ("average expenditure" for AVGEXP): part of the name."""
    out, described = set(), set(it.get("described", ()))
    for m in it.get("mentions") or []:
        k = m.start - 1
        while k > 0 and k in described:   # "average credit card expenditure"
            k -= 1
        if m.value is None and k >= 0 and any(c.norm.startswith(STAT_PREFIX_OF.get(tokens[k].f, ("\0",)))
                                              for c in m.cols):
            out.add(k)
    return out


COMPARE_WORDS = {"above", "below", "exceeding", "exceeds", "exceed", "beyond"}
COMPARE_THAN = {"greater", "more", "less", "fewer", "higher", "lower", "bigger", "smaller", "larger"}


def unused_comparison(it, tokens, used, q):
    """"how many wines are above the mean", "above that value": a comparison
    with no number that no filter reads (a comparison with a number is the
    number's to explain, unused_numbers)."""
    if it["op"] in ("ttest", "outliers"):
        return None   # "do A have higher X than B", "values beyond Q3 + 1.5 IQR"
    for k, t in enumerate(tokens):
        nxt = tokens[k + 1].f if k + 1 < len(tokens) else ""
        if t.f in COMPARE_WORDS:
            end = k + 1
        elif t.f in COMPARE_THAN and nxt == "than" or t.f == "at" and nxt in ("least", "most"):
            end = k + 2
        else:
            continue
        if k in used:
            continue
        j = end
        while j < len(tokens) and tokens[j].f in ("the", "a", "an"):
            j += 1
        if j < len(tokens) and tokens[j].kind in ("num", "date", "decade", "odd"):
            continue
        return " ".join(x.text for x in tokens[k:min(j + 1, len(tokens))])
    return None


SHARE_WORDS = {"share", "shares", "percentage", "percentages", "percent", "proportion", "proportions",
               "fraction", "rate", "rates"}


def unused_share(it, tokens, used, q):
    """"What share of the tumours are malignant?" answered with a count: a
    share / percentage / rate asked for that the operation does not compute
    (a rate that names a column, "murder rate", is the column's)."""
    op = it["op"]
    if op in ("rate", "share", "value_counts", "heatmap", "overview", "dtypes", "missing", "change", "growth"):
        return None   # a change and a growth are printed in percent too
    if op == "ttest" and (it.get("measure") is None or it["measure"].is_binary01() or it["measure"].is_flag()):
        return None   # a chi-square test prints the shares per group
    for t in tokens:
        if t.f in SHARE_WORDS and t.i not in used:
            return t.text
    return None


def names_rows(m, ds):
    """A mention of the column naming each row once ("customers" for
    customer_id, "states" for state): it describes the rows."""
    c = m.cols[0]
    return m.value is None and len(m.cols) == 1 and (c.is_id() or ds.rows is not None and c.distinct == ds.rows
                                                      and not c.is_numeric())


WHOLE_FRAME_OPS = {"overview", "dtypes", "missing", "heatmap", "head", "tail", "sample", "help"}


def unused_columns(it, code):
    """A column the request names that the generated code never reads: the
    plan answers without it ("average X of setosa flowers by Y" must not lose
    Y), so refuse, naming it.  Not for operations over the whole table, nor
    for "across the states" (one row per state: no grouping), "any species"
    (no restriction), the column naming the rows ("customers"), or a word
    that only hinted at a column ("sells" when units is named)."""
    if it["op"] in WHOLE_FRAME_OPS or it["op"] == "model" and it.get("features") is None \
            or it["op"] == "outliers" and not it.get("measures"):
        return
    tokens = it.get("tokens") or []
    for m in it.get("mentions") or []:
        if getattr(m, "across", False) or m.start and tokens[m.start - 1].f in ("any", "all", "those", "these") \
                or it.get("counted") in m.cols and it.get("counted_rows") or names_rows(m, it["ds"]) \
                or m in it.get("hints", ()) or m.score < 70 and fold(m.term) in FILLER:
            continue
        if any(f"[{json.dumps(c.name, ensure_ascii=False)}]" in code or json.dumps(c.name, ensure_ascii=False) in code
               for c in m.cols):
            continue
        raise Unknown(f"I did not understand what \u201c{m.term}\u201d ({m.cols[0].name}) does in your request: "
                      "the analysis I could make does not use it, so I did not answer (without it I would have "
                      "answered a different question). Say how it should be used, e.g. \u201cby "
                      f"{m.cols[0].name}\u201d or \u201cfor {m.cols[0].name} = VALUE\u201d.")


HOW_READ = {70: "a word of its name", 60: "a synonym", 50: "a synonym of a word of its name",
            45: "the start of its name", 40: "a near spelling"}


def readings(it, code):
    """"Assumption:" lines for the columns the code uses that the request
    named only loosely (a synonym, a word of a longer name, a near spelling,
    an abbreviation): the reader sees which column was taken for which word.
    A word the user already tied to a column (a convention, an answer) or an
    exact name needs none."""
    out = []
    for m in it.get("mentions") or []:
        if m.value is not None or len(m.cols) != 1 or m.score >= 85 and not m.abbreviated:
            continue
        c = m.cols[0]
        if json.dumps(c.name, ensure_ascii=False) not in code or norm(m.term) == c.norm:
            continue
        how = getattr(m, "how", None) or ("run-together or abbreviated words of its name" if m.abbreviated
                                          else HOW_READ.get(m.score, "a loose match"))
        line = f"Assumption: \u201c{m.term}\u201d read as the column {c.name} ({how}); name the column if you meant another."
        if line not in out:
            out.append(line)
    return out


NEGATIONS = {"not", "no", "never", "without", "except", "excluding", "exclude", "excludes", "neither", "nor",
             "none", "non", "didn't", "don't", "doesn't", "isn't", "aren't", "wasn't", "weren't", "haven't", "hasn't"}


def unused_negation(it, tokens, used, q):
    """"mean age of women who are not religious", "how many years had no
    sunspots": a negation no filter reads would be dropped, turning the
    question into its opposite or a wider one."""
    g = it.get("group")
    if it["op"] == "ttest" and g is not None and (g.is_flag() or g.is_binary()):
        return None   # "compare tenure between churned and not churned customers": the two groups
    for k, t in enumerate(tokens):
        if (t.f in NEGATIONS or t.f.startswith("non-")) and k not in used:
            if t.f == "not" and k and tokens[k - 1].f == "or":
                continue   # "whether or not"
            return " ".join(x.text for x in tokens[k:k + 2])
    return None


PERIOD_WORDS = {"quarter", "quarters", "half", "month", "months", "week", "weeks", "year", "years", "decade"}


def unused_period(it, tokens, used, q):
    """"in the first quarter", "the last two years": an ordinal period no
    filter reads (a calendar quarter across years, a relative period) would
    be dropped."""
    for k, t in enumerate(tokens[:-1]):
        nxt = tokens[k + 1]
        if t.f in ("first", "second", "third", "fourth", "1st", "2nd", "3rd", "4th", "last", "final", "past",
                   "previous", "next", "recent") and nxt.f in PERIOD_WORDS and k not in used and k + 1 not in used:
            return f"{t.text} {nxt.text}"
    return None


ROW_WORDS = {"row", "rows", "record", "records", "observation", "observations", "entry", "entries", "one", "ones",
             "value", "values", "is", "are", "was", "were", "of", "the", "a", "an", "case", "cases", "item", "items"}


def unnamed_entity(it, tokens, used, q):
    """"Which state had the most executions?" on data with no column naming
    the states: the best row can be shown, but not which state it is; say so
    rather than answer with a row number."""
    named = any(not c.is_numeric() or c.is_id() for c in it.get("others") or []) or it.get("group") is not None
    if not named and any(t.f == "who" for t in tokens) and (it["op"] == "top" or it.get("agg") in ("max", "min")) \
            and not any(not c.is_numeric() and not c.is_date() for c in it["ds"].columns):
        return "who"   # "who did the most situps" with no column naming anyone
    if it["op"] != "top" or named:
        return None
    from analyst.described import ROW_NOUNS
    for k, t in enumerate(tokens[:-1]):
        nxt = tokens[k + 1]
        if t.f in ("which", "what") and nxt.kind == "w" and nxt.f not in ROW_WORDS and nxt.f not in ROW_NOUNS \
                and k + 1 not in used and nxt.f not in STOP:
            return f"{t.text} {nxt.text}"
        if t.f in ("which", "what") and nxt.f in STOP and nxt.f not in ROW_WORDS and nxt.f not in \
                ("highest", "lowest", "largest", "smallest", "most", "least", "top", "bottom", "biggest"):
            return None
    return None


OP_NAMED = [  # words that name an operation, and the operations that carry them
    (r"\bcorrelat\w*", {"corr", "heatmap", "scatter", "linreg"}),
    (r"\bhistograms?\b", {"hist"}),
    (r"\bscatter\w*", {"scatter"}),
    (r"\b(box ?plots?|boxplots?|whiskers?)\b", {"box"}),
    (r"\bheat ?maps?\b", {"heatmap"}),
    (r"\b(outliers?|anomal\w*)\b", {"outliers"}),
    (r"\b(normality|normally distributed|shapiro\w*|gaussian)\b", {"normality"}),
    (r"\b(regress\w*|slope|intercept|r-?squared)\b", {"linreg", "model"}),
    (r"\b(predict\w*|forecast\w*)\b", {"model", "linreg"}),
    (r"\b(t-?tests?|anova|chi-?square\w*|kruskal)\b", {"ttest"}),
    (r"\b(significan\w*|tests?|tested|testing|p-?values?)\b", {"ttest", "corr", "linreg", "normality", "outliers"}),
]


def unused_operation(it, tokens, used, q):
    """"Correlate urban with violent, and regress violent on poverty" read as
    one regression: an operation the request names that the plan does not
    run (two requests run together, one of them lost)."""
    qf = " ".join(t.f for t in tokens if t.i not in set(it.get("inside", ())))
    for pat, ops in OP_NAMED:
        m = re.search(pat, qf)
        if m and it["op"] not in ops:
            return m.group(0)
    return None


# Words that never describe a column's name (described.modifiers): they carry
# a meaning of their own (an operation, a comparison, a share, a negation, a period).
MODIFIER_SKIP = (set().union(*OP_ACCEPT.values()) | NEGATIONS | COMPARE_WORDS | COMPARE_THAN | PERIOD_WORDS
                 | SHARE_WORDS | GENERIC_WORDS | {"chose", "chosen", "choose", "picked", "selected", "per", "each",
                                                  "every", "zero", "none", "nothing"})
