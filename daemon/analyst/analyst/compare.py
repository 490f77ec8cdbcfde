"""analyst/compare.py — a later part that asks how the number of the part
before changed against another year, read as a change between two years
(change.py computes it):

  "What were total housing starts in 2009, and by what percentage did that
  fall compared with 2006?"  → the total from 2006 to 2009;
  "What was X in 1970 and in 2011, and by how many percentage points did it
  change?"  → X from 1970 to 2011.

The part is rewritten with the measure, the statistic and the two years,
so the change op answers it and says what it compared.
"""
import re

CHANGE_VERB = (r"(?:fall|fell|fallen|rise|rose|risen|drop|dropped|change|changed|increase|increased|decrease|"
               r"decreased|grow|grew|grown|decline|declined|go (?:up|down)|went (?:up|down))")
HOW_MUCH = r"(?:by )?(?:what percentage|what percent|how many (?:percentage )?points|how much|how many percent)"
COMPARED = re.compile(r"^(?:and )?" + HOW_MUCH + r" (?:did|has|had|does|is|was) (?:that|it|this|the (?:number|figure|"
                      r"value|total|average|mean))(?: (?:number|figure|value|total))? (" + CHANGE_VERB + r")"
                      r" (?:compared (?:with|to)|relative to|from|since|against|versus|vs\.?) ((?:1[5-9]|20)\d\d)$", re.I)
BETWEEN = re.compile(r"^(?:and )?" + HOW_MUCH + r" (?:did|has|had|does|is|was) (?:that|it|this|they)(?: (?:number|"
                     r"figure|value|share))? (" + CHANGE_VERB + r")$", re.I)
AGG_SAID = {"mean": "average", "median": "median", "sum": "total"}


def one_statistic(prev):
    """(statistic word, measure name) of a part that computed one statistic of one column, else None."""
    aggs = [a for a in prev.get("aggs") or [prev.get("agg")] if a]
    ms = prev.get("measures") or []
    g = prev.get("group")
    if g is not None and g.time_part() == "year" and years_of(prev):
        g = None   # "in 1970 and in 2011": the two years set side by side
    if prev["op"] != "agg" or len(ms) != 1 or g is not None or len(aggs) > 1 \
            or (aggs and aggs[0] not in AGG_SAID):
        return None
    return (AGG_SAID[aggs[0]] + " " if aggs else ""), ms[0].name


def years_of(prev):
    """The years the part before was filtered to (one "year" filter, or two years set side by side)."""
    one = [f["value"] for f in prev.get("filters") or [] if f["kind"] == "year"]
    two = [f["value"] for f in prev.get("filters") or [] if f["kind"] == "isin" and f["col"].time_part() == "year"]
    if len(two) == 1 and len(two[0]) == 2 and not one:
        return sorted(two[0])
    return one if len(one) == 1 and not two else []


def against_year(part, prev):
    """The part rewritten as a change between two years when it asks how the
    part before's number changed against another year, or between the two
    years the part before named; else the part unchanged."""
    text = part.strip(" ?.!,")
    stat = one_statistic(prev)
    years = years_of(prev)
    if stat is None or not years:
        return part
    word, name = stat
    m = COMPARED.fullmatch(text)
    if m and len(years) == 1 and int(m.group(2)) != years[0]:
        a, b = sorted((int(m.group(2)), years[0]))
        how = "by what percentage" if re.search(r"percent", text, re.I) else "how much"
        return f"{how} did the {word}{name} {m.group(1)} from {a} to {b}"
    m = BETWEEN.fullmatch(text)
    if m and len(years) == 2:
        return f"how much did the {word}{name} {m.group(1)} between {years[0]} and {years[1]}"
    return part
