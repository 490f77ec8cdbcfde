"""analyst/carry.py — a later part of a multi-part request that uses what an
earlier part finds when the code runs: "Which year had the most housing
starts, and what was the average per month in that year?", "Which quarter of
2005 had the highest volume, and what was the average close in that
quarter?", "Which firm has the largest total invest, and what is that firm's
average value?".

The part before keeps what it found in a variable of the generated code
(`part_pick_K`: the period or the group at the top or bottom of its result);
the later part keeps only the rows of that period or group, and prints which
one it was, so each part has its own number and the carried value is named.
A part that points at "that quarter" when the part before found no single
quarter is refused (it would otherwise be answered for all the rows).
"""
import re

from analyst.codegen_stats import col, fs, lit
from analyst.parse import Unknown
from analyst.schema import norm, score_column, singular

PERIOD_FREQ = {"day": "D", "date": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
FREQ_WORD = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}
MAX_WORDS = {"highest", "most", "largest", "biggest", "greatest", "maximum", "max", "peak", "best", "strongest",
             "top", "busiest", "heaviest"}
MIN_WORDS = {"lowest", "least", "fewest", "smallest", "minimum", "min", "weakest", "worst", "bottom", "quietest",
             "lightest"}

REF_RE = re.compile(r"\b(?:(?:in|for|during|over|at|on|of|within|from|among|across) )?(?:that|this|the same) "
                    r"([a-z][a-z_-]*?)(?:'s|\u2019s)?(?=\W|$)", re.I)


def direction(it):
    """"max" / "min" from the words of the part that found the period or
    group ("which year had the most ..."), None when it says neither or both."""
    words = set(re.findall(r"[a-z]+", str(it.get("request") or "").casefold()))
    up, down = bool(words & MAX_WORDS), bool(words & MIN_WORDS)
    return "max" if up and not down else "min" if down and not up else None


def default_freq(d):
    """The period a series over time is resampled to when none was named (codegen's choice)."""
    from analyst.codegen import default_freq as choose
    return choose(d)


def found(prev):
    """What the part before finds, as a dict (kind "period" with its date
    column and frequency, or "group" with its column, and how it is picked
    from `result`), or None when it finds no single period or group."""
    op = prev["op"]
    ms = [m for m in prev.get("measures") or [] if m is not None]
    aggs = [a for a in prev.get("aggs") or [prev.get("agg")] if a]
    if op == "time" and prev.get("group") is None and prev.get("date") is not None and len(ms) <= 1:
        freq = prev.get("freq") or default_freq(prev["date"])
        how = direction(prev)
        if freq in FREQ_WORD and how:
            return {"kind": "period", "col": prev["date"], "freq": freq, "how": how, "word": FREQ_WORD[freq]}
        return None
    g = prev.get("group")
    if op == "agg" and g is None and len(ms) == 1 and aggs in (["min"], ["max"]):
        d = row_date(prev, ms[0])   # "when were X at their lowest": the date of that row
        return {"kind": "period", "col": d, "freq": None, "how": "row", "date_of": aggs[0]} if d is not None else None
    if op == "agg" and g is not None and not prev.get("group2") and len(ms) == 1 and len(aggs) <= 1:
        how = direction(prev)
        return {"kind": "group", "col": g, "how": how} if how else None
    if op == "top" and prev.get("n") == 1 and not prev.get("row_top"):
        ent = next((c for c in prev.get("others") or [] if not c.is_numeric() or c.is_id()), None) or g
        return {"kind": "group", "col": ent, "how": "first"} if ent is not None else None
    return None


def row_date(it, m):
    """The one real date column a minimum or maximum of m is printed with (codegen.where_columns), or None."""
    from analyst.codegen import where_columns
    where = where_columns(it["ds"], m)
    cols = [c for c in it["ds"].columns if c.name in where]
    if len(where) != 1 or len(cols) != 1 or not cols[0].is_date() or cols[0].time_part():
        return None
    return cols[0]


def names(word, what):
    """True when a noun ("year", "firm", "group") names what the part before found."""
    w = norm(word)
    if w in ("period", "one", "group", "category", "class"):
        return True
    if what["kind"] == "period":
        return PERIOD_FREQ.get(singular(w)) == what["freq"] or what["freq"] is None and singular(w) in PERIOD_FREQ
    c = what["col"]
    part = c.time_part() if hasattr(c, "time_part") else None
    return (part is not None and singular(w) == part) or w in c.norm.split() or singular(w) in c.snorm.split() \
        or score_column(w, c) >= 60


def refer(part, prev, k):
    """(part without "in that year" / "that firm's", the filter to add) when
    the part points at the period or group the part before found; (part,
    None) when it points at nothing; refused when it points at a period or
    group the part before does not single out."""
    what = found(prev)
    for m in REF_RE.finditer(part):
        word = m.group(1)
        if what is not None and names(word, what):
            rest = (part[:m.start()] + part[m.end():]).strip(" ,")
            if what["kind"] == "period" and what["freq"] is None:   # the row's date, taken at the period the part names ("that month")
                what = dict(what, freq=PERIOD_FREQ.get(singular(norm(word)), "D"), word=singular(norm(word)))
            return re.sub(r"\s{2,}", " ", rest), dict(what, k=k, phrase=m.group(0))
    unread(part, "the part before finds no single")
    return part, None


def unread(text, why="nothing before it says which"):
    """Refuses a request that still points at "that year" / "the same
    quarter" after every carried period was taken out: answered over all the
    rows, it would be a different question."""
    for m in REF_RE.finditer(text):
        word = m.group(1)
        if re.search(r"\bthis\b", m.group(0), re.I):
            continue   # "this year": a relative date, refused as one (intent.py)
        if singular(norm(word)) in PERIOD_FREQ or norm(word) == "period":
            raise Unknown(f"I did not understand which {word} \u201c{m.group(0).strip()}\u201d is: {why} {word} "
                          f"(ask e.g. \u201cwhich {word} had the highest COLUMN, and what was the average OTHER in "
                          f"that {word}?\u201d), so I did not answer.")


def take(it, what):
    """The plan of the later part keeps only the rows of what the part before found."""
    k, c = what["k"], what["col"]
    noun = what.get("word") or c.name
    f = {"kind": "picked", "col": c, "op": "==", "value": f"part_pick_{k}", "freq": what.get("freq"),
         "said": f"the {noun} part {k} found", "found": what}
    it["filters"] = [f] + list(it.get("filters") or [])


def pick_lines(what, k):
    """Lines after part k's code keeping what it found (from its `result`)."""
    how = what["how"]
    if how == "row":   # the date printed with the minimum / maximum (aggs.value_lines' `at`)
        fmt = what["col"].date_format
        return [f"part_pick_{k} = pd.to_datetime(at[{lit(what['col'].name)}]" + (f", format={lit(fmt)})" if fmt else ")")]
    expr = "result.index[0]" if how == "first" else f"result.idx{how}()"
    return [f"part_pick_{k} = {expr}"]


def label(f):
    """The code of the found period or group written for people (single
    quotes: it sits inside an f-string)."""
    v = f["value"]
    freq = f.get("freq")
    if freq == "Y":
        return f"{v}.year"
    if freq == "M":
        return f"pd.Period({v}, 'M').strftime('%B %Y')"
    if freq == "D":
        return f"{v}.strftime('%Y-%m-%d')"
    if freq in ("Q", "W"):
        return f"pd.Period({v}, '{freq}')"
    return v


def said_line(f):
    """The line printing the carried period or group (the answer names it)."""
    noun = f["found"].get("word") or f["col"].name
    how = {"max": "the highest", "min": "the lowest", "first": "the top one",
           "row": f"the {'lowest' if f['found'].get('date_of') == 'min' else 'highest'} value's"}[f["found"]["how"]]
    return f"print(f\"{fs(noun.capitalize())} found in part {f['found']['k']} ({how}): {{{label(f)}}}\")"


def filter_expr(v, f):
    """The rows of the carried period (same calendar period) or group."""
    if f.get("freq"):
        return f"{col(v, f['col'])}.dt.to_period({lit(f['freq'])}) == pd.Period({f['value']}, {lit(f['freq'])})"
    return f"{col(v, f['col'])} == {f['value']}"


def code_after(plans, k):
    """The pick lines part k's code needs when a later part carries what it found."""
    for it, _ in plans[k:]:
        for f in it.get("filters") or []:
            if f["kind"] == "picked" and f["value"] == f"part_pick_{k}":
                return "\n".join(pick_lines(f["found"], k)) + "\n"
    return ""
