"""analyst/audit.py — the accounting of a request's words: a plan is
answered only when every content word is carried by it (a column, a value,
an operation, a filter) or is known filler; otherwise the request is
refused with a sentence naming the words (never a narrower question
answered as if it were the one asked).
"""
import re

from analyst.parse import Unknown
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


OP_WORDS = set("""since before after until till during differ differs different difference differences
correlated correlate correlates change changed changes changing distributed normality normally matrix
random common t-test ttest what's whats anova significant significantly trend trends evolve evolved
evolution compared relationship related drives driven prediction predicted classify typical usual
decade decades half halves semester year's percentage chi-square kruskal wallis test tests sort sorted
sorting descending desc develop developed development grow grew growth go went vary varies
iqr rule rules z-score zscore method later onwards onward earlier higher lower negative positive zero nonzero""".split())

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
