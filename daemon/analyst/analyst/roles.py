"""analyst/roles.py — which real column plays which part in an operation:
measures, group, date, the yes/no qualifiers that filter rows, a model's
target and features, a linear regression's outcome and predictors, and the
statistical method a request names.
"""
import re

from analyst.parse import Unknown, two_values
from analyst.resolve import date_format_for
from analyst.schema import norm


def roles(it, tokens, ms, res, q):
    """Fills measure, measures, group, others, date, values, target for the op."""
    ds, op = it["ds"], it["op"]
    free = [m for m in ms if m.role is None]
    groups = [m for m in ms if m.role == "group"]
    dates = [m for m in free if m.col0.is_date()]
    nums = [m for m in free if m.col0.is_numeric() and not m.col0.is_id() and not m.col0.is_date()]
    if op in ("top", "agg", "time", "hist", "rate") and any(m.score >= 85 for m in nums):
        # "which region sells the most units": units is named, "sells" only hints at revenue; but a
        # 0/1 column named loosely stays a qualifier ("average executions in southern states")
        it["hints"] = [m for m in nums if m.score < 70 and m.value is None
                       and not (m.col0.is_binary01() or m.col0.is_flag())]
        nums = [m for m in nums if m not in it["hints"]]
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
    if op in ("agg", "top", "time"):
        qualifiers(it, tokens, nums, res)
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


QUALIFY_WORDS = {"who", "that", "which", "with", "having", "had", "have", "has", "took", "take", "taking",
                 "whose", "where", "in", "for", "among", "did", "do", "does", "are", "were", "is", "was"}


def qualifiers(it, tokens, nums, res):
    """Measures named after the first through a qualifying word (who, with,
    took, for, ...) rather than listed with it qualify the rows ("average GPA
    of students who took PSI"), as does a 0/1 column counted ("how many
    southern states"): a 0/1 or yes/no column is the condition = 1 (said); a
    count that is never negative after "with" / "have" is the condition > 0
    (said); any other column is refused, named (it would be averaged as a
    second measure)."""
    ms = [m for m in nums if m.value is None and m.role is None]
    only_count = it["op"] == "agg" and [a for a in it.get("aggs") or [it.get("agg")] if a] == ["count"]
    keep, prev = [], None
    for m in sorted(ms, key=lambda m: m.start):
        c = res.column(m)
        between = {t.f for t in tokens[prev.end:m.start]} if prev is not None else set()
        listed = prev is None or c in keep or not between & QUALIFY_WORDS
        words = compound(it, tokens, prev, m) if listed and c not in keep else None
        if words:   # "staff size": one of the two, asked
            keep[-1:] = [res.choose([keep[-1], c], f"Which column do you mean by \u201c{words}\u201d?",
                                    "alias." + norm(words), f"\u201c{words}\u201d means this column (answered by the user)")]
            prev = m
            continue
        if c is it.get("group"):
            continue   # "GPA for PSI vs non-PSI (PSI)": the grouping column named again, no condition
        if only_count and (c.is_binary01() or c.is_flag()) or not listed:
            same = next((f for f in it["filters"] if f.get("col") is c), None)
            if same is None:
                it["filters"].append(qualifier_filter(m, c, tokens))
            else:   # "students who improved their grade (GRADE = 1)": the condition is already there
                same["span"] = set(same.get("span", ())) | set(range(max(0, m.start - 3), m.end))
        else:
            keep.append(c)
            prev = m
    if len(keep) != len(it["measures"]):
        it["measures"] = [c for c in it["measures"] if c in keep]
        it["measure"] = it["measures"][0] if it["measures"] else None
        if only_count and not it["measures"]:
            it["op"] = "count_rows"


def compound(it, tokens, prev, m):
    """"staff size" (STAFF, SIZE): two columns named one right after the other
    with nothing between them (no "and", no comma) read as one thing; the
    words, or None when they are listed."""
    if prev is None or prev.end != m.start:
        return None
    a, b = tokens[prev.end - 1], tokens[m.start]
    if re.search(r"[,;/&]", it["request"][a.pos:b.pos]):
        return None
    return " ".join(t.text for t in tokens[prev.start:m.end])


def qualifier_filter(m, c, tokens):
    """The condition a qualifying column names: = 1 (yes) for 0/1 and yes/no
    columns, > 0 for a count after "with" / "have"; otherwise refused."""
    span = set(range(max(0, m.start - 3), m.end))
    lead = max(0, m.start - 1) if m.start and tokens[m.start - 1].f in QUALIFY_WORDS | {"took"} else m.start
    said = " ".join(t.text for t in tokens[lead:m.end])
    if c.is_flag():
        return {"kind": "flag", "col": c, "op": "==", "value": "yes", "span": span,
                "assume": f"\u201c{said}\u201d read as {c.name} = yes"}
    if c.is_binary01():
        return {"kind": "compare", "col": c, "op": "==", "value": 1, "span": span, "tok": m.start,
                "assume": f"\u201c{said}\u201d read as {c.name} = 1"}
    try:
        never_negative = float(c.min) >= 0
    except (TypeError, ValueError):
        never_negative = False
    if never_negative and tokens[m.start - 1].f in ("with", "have", "had", "has", "having"):
        return {"kind": "compare", "col": c, "op": ">", "value": 0, "span": span, "tok": m.start,
                "assume": f"\u201c{said}\u201d read as {c.name} > 0"}
    raise Unknown(f"I did not understand the condition \u201c{said}\u201d: {c.name} is not a yes/no column, so I do not "
                  f"know which of its values you mean, and I did not answer. Name one, e.g. \u201c{c.name} = 1\u201d or "
                  f"\u201c{c.name} above 2\u201d.")


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
        it["filters"].append({"kind": "flag", "col": c, "op": "!=" if neg else "==", "value": "yes",
                              "span": set(range(max(0, m.start - 2), m.end)) if neg else set()})
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
    described = set(it.get("described", ()))
    def words_before(m, k=3):   # the words before a column, past those that only describe it ("disease")
        return " ".join([t.f for t in tokens[:m.start] if t.i not in described][-k:])
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
    kendall), outlier rule {"rule": "iqr"/"z"/None, "k": 1.5, "z": 3}, a
    group comparison's {"chi2": True} when a chi-square test is named."""
    if op == "ttest":
        return {"chi2": bool(re.search(r"\b(chi-?squared?|chi2|contingency)\b", q))}
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


from analyst.described import ROW_NOUNS  # noqa: E402


def counted(it, q):
    """"How many states have ...", "count the quarters with ...", "how many
    countries were above 5": the thing counted is a column's entity.  When
    each row is one of them (a state column naming every row once, the
    quarters of quarterly data) the rows are counted; else its distinct
    values among the rows kept (it["counted"], it["counted_rows"])."""
    if it["op"] not in ("count_rows", "value_counts") or it.get("group") is not None \
            or not re.search(r"\b(how many|number of|count)\b", q):
        return
    ds = it["ds"]
    filtered = {id(f.get("col")) for f in it["filters"]}
    toks = it.get("tokens") or []
    unbounded = {id(c) for m in it.get("mentions") or [] if m.start and toks[m.start - 1].f in ("any", "all", "every")
                 for c in m.cols}   # "in any year": not what is counted
    cands = [c for c in it["others"] if id(c) not in filtered | unbounded and (not c.is_numeric() or c.time_part())]
    cands = list(dict.fromkeys(cands))
    unit = ds.unit_column()
    noun = next((t for t in toks if t.f in ROW_NOUNS and re.search(r"\b(how many|number of|count)( the)? " + t.f + r"\b", q)), None)
    if not cands and unit is not None and noun is not None and id(unit) not in filtered:
        it["counted"], it["counted_rows"], it["op"] = unit, False, "count_rows"   # 4 visits per patient: patients
        it["assume"].append(f"\u201c{noun.text}\u201d counted as distinct {unit.name} values: {unit.name} repeats "
                            f"({ds.rows:,} rows for {unit.distinct:,} {unit.name} values)")
        return
    if len(cands) != 1:
        return
    c = cands[0]
    if it["op"] == "value_counts" and not it["filters"] and not plural_of(it, c):
        return   # "how many per species" stays a count per value
    d = ds.virtual_date()
    finest = (d.virtual[1] or d.virtual[0]) if d is not None else None
    if c.time_part():
        rpt = ds.rows_per_time()
        if c is not finest and c.time_part() != "year":
            return
        it["counted_rows"] = c is finest and rpt is not None and rpt < 1.5
        it["counted_time"] = [x.name for x in (d.virtual[0], d.virtual[1] if c is finest else None) if x is not None]
    else:
        it["counted_rows"] = ds.rows is not None and c.distinct == ds.rows
    it["counted"] = c
    it["op"] = "count_rows"


def plural_of(it, c):
    """Was column c named in the plural ("countries" for country)?"""
    from analyst.schema import norm, singular
    for m in it.get("mentions") or []:
        if c in m.cols and m.value is None:
            t = norm(m.term)
            return t != c.norm and " ".join(singular(w) for w in t.split()) == c.snorm
    return False
