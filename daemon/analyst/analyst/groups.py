"""analyst/groups.py — groupings read from how a request sets rows side by
side: "X versus the others", "with PSI versus without", "across the states"
(no grouping), several values of one column ("for idp = 1 and for idp = 0",
"how many are malignant and how many are benign"), a condition against the
rest ("students who passed (GRADE = 1) and those who did not"), and a rate's
own condition ("share who voted for Dole (vote = 1)").
"""
import re

from analyst.parse import Unknown, detect_agg


def versus_rest(tokens, ms):
    """"executions in southern states versus the other states": a 0/1 or
    yes/no column set against "the others / the rest" (or "southern vs
    non-southern") groups the rows by it.  Returns the positions of "non-X"."""
    used = set()
    for m in ms:
        nxt = " ".join(t.f for t in tokens[m.end:m.end + 4])
        if m.role is None and m.value is None and (m.col0.is_binary01() or m.col0.is_flag()) \
                and re.match(r"(\w+ )?(versus|vs|compared to|against) (the )?(other|others|rest|remaining|non)\b", nxt):
            m.role = "group"
            used |= {t.i for t in tokens[m.end:m.end + 4] if t.f.startswith("non-") or t.f == "non"}
    return used


def regroup(tokens, ms, ds, q="", op=None):
    """Groupings read more carefully: "across the states" over a column with
    one row per value is no grouping (the average across states is the
    average); "with PSI versus without" and "with and without children"
    group by PSI / by children above 0.  Returns the positions of the words
    used."""
    used = set()
    for m in ms:
        prev = tokens[m.start - 1].f if m.start else ""
        prev2 = tokens[m.start - 2].f if m.start > 1 else ""
        across = prev in ("across", "over") or prev2 in ("across", "over") and prev in ("the", "all")
        if m.role == "group" and across and (ds.rows and m.col0.distinct == ds.rows or op in (None, "agg")
                                             and detect_agg(q) not in (None, "count", "min", "max")
                                             and not re.search(r"\b(by|per|each|every|compare\w*|differ\w*)\b", q)):
            m.role = None   # "the average X across the states / across countries": one value over them
            m.across = True
        nxt = " ".join(t.f for t in tokens[m.end:m.end + 2])
        if m.role is None and m.value is None and prev == "with" and re.match(r"(versus|vs|or|and) without$", nxt):
            m.role = "group"
            used |= {m.end, m.end + 1}
        if m.role is None and m.value is None and op in (None, "agg") and (m.col0.is_binary01() or m.col0.is_flag()) \
                and any(t.f in ("vs", "versus") for t in tokens[max(0, m.start - 4):m.start]) \
                and not any(n.start > m.end for n in ms) and not any(n is not m and n.cols == m.cols for n in ms):
            m.role = "group"   # "for home owners vs renters (OWNRENT)": the two groups of OWNRENT
            used |= {t.i for t in tokens[max(0, m.start - 4):m.start] if t.f in ("vs", "versus")}
        before = [t.f for t in tokens[max(0, m.start - 3):m.start]]
        if m.role is None and m.value is None and before in (["with", "and", "without"], ["with", "or", "without"]):
            m.role = "group"   # "women with and without children"
            m.with_without = True
            used |= {m.start - 3, m.start - 2, m.start - 1}
    return used


def has_group(c):
    """The grouping "with and without X" makes of a column that is no yes/no:
    a derived column X > 0 (True: with, False: without)."""
    from analyst.schema import Column
    g = Column({"name": f"has_{c.name}", "dtype": "bool", "kind": "bool", "distinct": 2})
    g.has_of = c
    return g


def rate_condition(it):
    """"What share of respondents voted for Dole (vote = 1)?", "pass rate
    (GRADE = 1) by PSI": a condition on the column whose rate is asked is what
    the rate counts, not a filter on the rows; "what share of total invest did
    General Motors make": the value whose share of the total is asked."""
    if it["op"] == "share" and it.get("group") is None:
        f = next((x for x in it["filters"] if x["kind"] == "value" and x.get("col") is not None), None)
        if f is not None:
            it["condition"] = f
            it["filters"] = [x for x in it["filters"] if x is not f]
        return
    if it["op"] != "rate":
        return
    for f in it["filters"]:
        if f["kind"] in ("compare", "value") and f.get("col") is not None and f["col"] is not it.get("group") \
                and (f["col"].is_binary01() or f["col"].is_flag() or f["col"].is_code() or f["col"].is_binary()):
            it["condition"] = f
            it["filters"] = [x for x in it["filters"] if x is not f]
            return
    if any(c.is_flag() or c.is_numeric() for c in it["others"] + it["measures"]):
        return   # the rate is that column's; the filters only select rows
    for f in it["filters"]:   # "what share of orders are in the West region", "... have had no affairs"
        if f["kind"] in ("value", "compare", "range", "stat") and f.get("col") is not None and f["col"] is not it.get("group"):
            it["condition"] = f
            it["filters"] = [x for x in it["filters"] if x is not f]
            return


def rate_population(it):
    """"What percentage of the smokers had a low-birth-weight baby?": a rate
    naming two 0/1 or yes/no columns counts the one named last among the
    rows of the one named after "of (the)" / "among" (kept where it is 1 or
    yes, said), not the first one's rate with the second left unused."""
    cols = list(dict.fromkeys((it.get("measures") or []) + (it.get("others") or [])))
    if it["op"] != "rate" or it.get("group") is not None or it.get("condition") is not None or len(cols) != 2 \
            or not all(c.is_binary01() or c.is_flag() for c in cols):
        return
    tokens = it["tokens"]
    ms = {}
    for m in sorted(it["mentions"], key=lambda m: m.start):   # each column's first mention ("ui" after its description)
        if m.value is None and len(m.cols) == 1 and m.cols[0] in cols and m.role is None:
            ms.setdefault(m.cols[0].name, m)
    if len(ms) != 2:
        return
    first, last = sorted(ms.values(), key=lambda m: m.start)
    before = [t.f for t in tokens[max(0, first.start - 2):first.start]]
    if not (before[-1:] in (["of"], ["among"]) or before in (["of", "the"], ["among", "the"], ["for", "the"])):
        return
    pop = first.cols[0]
    f = {"kind": "flag", "col": pop, "op": "==", "value": "yes"} if pop.is_flag() else \
        {"kind": "compare", "col": pop, "op": "==", "value": 1}
    f["assume"] = f"\u201c{first.term}\u201d read as the rows where {pop.name} = {f['value']}, and the share counts {last.cols[0].name}"
    f["span"] = set(range(first.start, first.end))
    it["filters"].append(f)
    it["measures"] = [c for c in it.get("measures") or [] if c is not pop]
    it["others"] = [c for c in it.get("others") or [] if c is not pop]


SEVERAL_OPS = {"agg", "count_rows", "value_counts", "ttest", "rate"}
REST_RE = (r"\b(and|or|vs\.?|versus|compared (to|with)|than) (of |for |to )?(those|the ones|people|ones|rows|the rest|"
           r"everyone|all the others|the others|others)\b(?! with\b| whose\b| where\b)"
           r"( (who|which|that) (did|do|does|are|were|is|was|have|had|has) (not|n't)\b| else\b|(?<=rest)|(?<=others)|$)")


def several_values(it, q):
    """Two or more values of one column asked for side by side ("mean mdvis
    for idp = 1 and for idp = 0", "how many are malignant and how many are
    benign") are groups, not filters that no row meets at once; a condition
    set against "those who did not" / "the rest" groups by its column when the
    column has two values (else refused, said why)."""
    years = list(dict.fromkeys(f["value"] for f in it["filters"] if f["kind"] == "year"))
    if len(years) > 1:   # "the total realinv in 2000 and in 2008": per year, not rows of both years at once
        ycol = next((c for c in it["ds"].columns if c.time_part() == "year"), None) or year_of_date(it)
        if ycol is None:
            raise Unknown(f"I read {' and '.join(map(str, years))} as years to set side by side, but "
                          f"{it['ds'].name} has no year column to group by, so I did not answer. Ask per year, "
                          "e.g. \u201caverage COLUMN per year\u201d.")
        for f in it["filters"]:
            if f["kind"] == "year":
                f.update(kind="compare", col=ycol, op="==")
    by_col = {}
    for f in it["filters"]:
        if f["kind"] in ("value", "compare") and f["op"] == "==" and f.get("col") is not None:
            by_col.setdefault(f["col"].name, []).append(f)
    for fl in by_col.values():
        vals = list(dict.fromkeys(_plain(f["value"]) for f in fl))
        if len(vals) < 2:
            continue
        c = fl[0]["col"]
        if it["op"] not in SEVERAL_OPS or it["group"] not in (None, c) or it["op"] == "ttest" and len(vals) != 2:
            raise Unknown(f"I read {' and '.join(f'{c.name} = {x}' for x in vals)} as groups to set side by side, "
                          "but not what to do with them here, so I did not answer. Ask e.g. \u201caverage COLUMN by "
                          f"{c.name}\u201d or \u201chow many rows per {c.name}\u201d.")
        _group_by(it, c, fl, vals)
        return
    rest = re.search(REST_RE, q)
    conds = [f for fl in by_col.values() for f in fl]
    if not rest or len(conds) != 1 or it["op"] not in SEVERAL_OPS:
        return
    c = conds[0]["col"]
    if not c.is_binary() or it["group"] not in (None, c):
        raise Unknown(f"I understood {c.name} = {_plain(conds[0]['value'])} set against the rest, but I can only "
                      "compare the rest when the column has two values, so I did not answer. Ask e.g. "
                      f"\u201caverage COLUMN by {c.name}\u201d.")
    it["rest_of"] = rest.group(0)
    _group_by(it, c, conds, None)


def year_of_date(it):
    """The calendar year of the dataset's one date column, as a derived
    column ("the average co2 for 1960 and for 2000" on weekly dates), or None."""
    from analyst import dateparts
    dates = [d for d in it["ds"].date_columns() if not getattr(d, "virtual", None)]
    if len(dates) != 1:
        return None
    d = dates[0]
    fmt = (it.get("formats") or {}).get(d.name) or (None if d.dtype.startswith("datetime") else d.date_format)
    return dateparts.group_column(it["ds"], d, "year", fmt)


def _group_by(it, c, used, vals):
    """Groups by c (only the values vals when given) instead of filtering on it."""
    it["filters"] = [f for f in it["filters"] if f not in used]
    it["used_values"] = [f["value"] for f in used]   # read: no number of the request is left unexplained
    it["used_toks"] = [f.get("tok") for f in used if f.get("tok") is not None]
    if vals is not None:
        it["filters"].append({"kind": "isin", "col": c, "op": "in", "value": vals})
    if it["op"] == "ttest":
        it["group"], it["values"] = c, (tuple(vals) if vals else None)
        return
    it["group"] = c
    if it["op"] == "count_rows":
        it["op"] = "value_counts"


def _plain(v):
    """A filter value as written: 1.0 becomes 1."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


CHOICE_VERBS = {"chose": "cho", "chosen": "cho", "choose": "cho", "chooses": "cho", "choosing": "cho",
                "selected": "select", "picked": "pick", "preferred": "prefer"}


def choice_verb(it, tokens, described):
    """"how many people chose car", "which mode was chosen most often" on data
    with a 0/1 or yes/no column named for the choice (choice, chosen,
    selected): the rows where it is 1 (said). Returns the verb's position."""
    for t in tokens:
        stem = CHOICE_VERBS.get(t.f)
        if stem is None or t.i in described:
            continue
        cols = [c for c in it["ds"].columns if (c.is_binary01() or c.is_flag()) and c.norm.replace(" ", "").startswith(stem)]
        if len(cols) != 1 or any(f.get("col") is cols[0] for f in it["filters"]):
            return None
        c = cols[0]
        f = {"kind": "flag", "col": c, "op": "==", "value": "yes"} if c.is_flag() else \
            {"kind": "compare", "col": c, "op": "==", "value": 1}
        f.update(span={t.i}, assume=f"\u201c{t.text}\u201d read as {c.name} = {f['value']}")
        it["filters"].append(f)
        return t.i
    return None
