"""analyst/filters.py — the conditions a request puts on the rows: numeric
comparisons after a column ("units > 10", "a poverty rate above 15"), a
category value or code, a sign ("negative infl"), a statistic ("above the
mean"), capitalised words searched in the text columns ("revenue for
Laptop"), years, date bounds and periods of a year ("the first quarter of
2009").  parse_filters() is called by intent.build_intent with the mentions
parse.find_mentions found.
"""
import re

from analyst.schema import STOP, fold, norm

COMPARATORS = [
    (">=", r"(>=|at least|no less than|or more)"), ("<=", r"(<=|at most|no more than|or less)"),
    ("!=", r"(!=|is not|not equal to|isn't|other than)"),
    (">", r"(>|over|above|more than|greater than|exceeds|exceeding|exceeded|exceed|higher than|bigger than|"
          r"(?:rise|rises|rose|go|goes|went|climb|climbs|climbed|get|gets|got) (?:above|over))"),
    ("<", r"(<|under|below|less than|fewer than|lower than|smaller than|"
          r"(?:fall|falls|fell|drop|drops|dropped|go|goes|went|sink|sinks|sank) (?:below|under))"),
    ("==", r"(==|=|equals|equal to|is|of exactly|exactly)"),
]


def owns_data(t, ds):
    """True for a possessive word the data's name is (the start of) when the
    data has no text column it could be a value of: "Google's highest
    close" in goog, "the Nile's flow" in nile say whose data it is (marked
    on the token for the audit)."""
    if not t.possessive or t.kind != "w" or any(c.kind in ("text", "categorical") and not c.is_date() for c in ds.columns):
        return False
    w, n = (re.sub(r"[^a-z]", "", fold(x)) for x in (t.text, ds.name))
    t.owner = len(n) >= 4 and w.startswith(n)
    return t.owner


def parse_filters(tokens, ms, ds):
    """Filters: numeric comparisons after a column, category values, years, date bounds."""
    filters = []
    for k, m in enumerate(ms):
        if getattr(m, "consumed", False):
            continue
        if m.value is not None:
            m.role = "filter"
            filters.append({"kind": "value", "mention": m, "value": m.value, "op": "=="})
            for near in ms[max(0, k - 1):k] + ms[k + 1:k + 2]:   # "the West region": region qualifies West
                if near.value is None and near.cols == m.cols and abs(near.start - m.end) <= 1 + (near.start < m.start):
                    near.role = "filter"
            continue
        if m.role == "filter":
            continue
        f = _comparison_after(tokens, m) or _code_after(tokens, m)
        if f:
            m.role = "filter"
            whole = next((v for v in ms if v.value is not None and v.start == f.get("tok") and v.cols == m.cols), None)
            if f["kind"] == "value" and whole is not None:   # "firms other than General Motors": the whole value
                f["value"] = whole.value
                f["span"] = set(f.get("span", ())) | set(range(whole.start, whole.end))
                whole.consumed, whole.role = True, "filter"
            filters.append(f)
    filters += _sign_filters(tokens, ms, filters)
    filters += _stat_filters(tokens, ms)
    filters += _date_filters(tokens)
    filters += _orphan_filters(tokens, ms, filters)
    filters += _search_filters(tokens, ms, filters, ds)
    return filters


METHOD_WORDS = {"r", "p", "iqr", "anova", "z-score", "zscore", "shapiro", "welch", "pearson", "spearman", "kruskal",
                "kendall", "tukey", "ols", "student", "chi", "kolmogorov", "levene", "mann", "wilcoxon", "fisher"}
SEARCH_AFTER = {"in", "for", "from", "of", "at", "with", "only", "where", "about"}


def _search_filters(tokens, ms, filters, ds):
    """Capitalised or quoted words that name no column nor known value, after
    in / for / from ... ("revenue for Laptop"): searched in the text columns."""
    used = {i for m in ms for i in range(m.start, m.end)} | {f["tok"] for f in filters if "tok" in f}
    names = {norm(ds.name)}
    out, k = [], 0
    while k < len(tokens):
        t = tokens[k]
        cap = t.kind == "q" or (t.kind == "w" and t.text[:1].isupper())
        if owns_data(t, ds) or k in used or not cap or t.f in STOP or t.f.split("-")[0].split("'")[0] in METHOD_WORDS \
                or norm(t.text) in names \
                or tokens[k - 1].f not in SEARCH_AFTER | {"the"} and not t.possessive:   # "Japan's fertility rate"
            k += 1
            continue
        j = k + 1
        while j < len(tokens) and j not in used and tokens[j].kind == "w" and tokens[j].text[:1].isupper():
            j += 1
        out.append({"kind": "search", "value": " ".join(x.text for x in tokens[k:j]), "op": "==", "toks": list(range(k, j))})
        k = j
    return out


MEASURE_AFTER = {"rate", "rates", "level", "levels", "percentage", "score", "scores", "value", "values",
                 "amount", "reading", "readings", "figure", "figures", "content", "concentration", "measurement",
                 "measurements"}   # "alcohol content above 14"
NUMBER_FIRST = [(">=", r"(?:or|and) (?:more|higher|above|greater|over|up|later|after)"),
                ("<=", r"(?:or|and) (?:less|lower|below|fewer|under|earlier|before)")]


def _comparison_after(tokens, m):
    """`units > 10`, `discount of at least 0.1`, `region is West`, `educ of 6
    or higher` after a mention."""
    skip = 1 if m.end < len(tokens) and tokens[m.end].f in MEASURE_AFTER else 0   # "poverty rate above 15"
    rest = tokens[m.end + skip:m.end + skip + 6]
    text = " ".join(t.f for t in rest)
    lead = re.match(r"^(of |with |that |which )", text)
    text = text[lead.end():] if lead else text
    start = m.end + skip + (1 if lead else 0)
    mm = re.match(r"(?:is |are |was |were |of )?(?:between|from) (\S+) (?:and|to) (\S+)", text)
    if mm:   # "alcohol between 13 and 14": both ends kept, said
        lo = next((t for t in rest if t.f == mm.group(1) and t.kind == "num"), None)
        hi = next((t for t in rest if t.f == mm.group(2) and t.kind == "num" and lo is not None and t.i > lo.i), None)
        if lo is not None and hi is not None and not _years(lo, hi, m):
            return {"kind": "range", "mention": m, "op": "between", "value": [lo.number(), hi.number()], "tok": lo.i,
                    "toks": [lo.i, hi.i], "span": set(range(m.end, hi.i + 1)),
                    "assume": f"\u201c{re.sub(r'^(is|are|was|were|of) ', '', mm.group(0))}\u201d read as "
                              f"{lo.text} \u2264 {m.col0.name} \u2264 {hi.text} (both ends included)"}
    mm = re.match(r"as (\S+)", text)
    if mm and m.col0.is_numeric():   # "rate their marriage as 5"
        tok = next((t for t in rest if t.f == mm.group(1) and t.kind == "num"), None)
        if tok is not None and tok.number() is not None:
            return {"kind": "compare", "mention": m, "op": "==", "value": tok.number(), "tok": tok.i,
                    "span": set(range(m.end, tok.i + 1))}
    for op, pat in NUMBER_FIRST:
        mm = re.match(r"(?:is |are |was |of )?(\S+) " + pat + r"\b", text)
        if mm:
            tok = next((t for t in rest if t.f == mm.group(1)), None)
            if tok is not None and tok.kind == "num" and tok.number() is not None:
                return {"kind": "compare", "mention": m, "op": op, "value": tok.number(), "tok": tok.i,
                        "span": set(range(m.end, start + len(mm.group(0).split())))}
    for op, pat in COMPARATORS:
        mm = re.match(r"(is |are |was )?" + pat + r" (\S+)", text + " ")
        if not mm:
            continue
        words = mm.group(0).split()
        tok = next((t for t in rest if t.f == words[-1]), None)
        if tok is None:
            return None
        span = set(range(m.end, tok.i + 1))
        num = tok.number()
        if num is not None and tok.kind == "num":
            return {"kind": "compare", "mention": m, "op": op, "value": num, "span": span}
        if op in ("==", "!=") and tok.kind in ("w", "q") and (tok.f not in STOP or _is_code_word(tok, m.col0)):
            if m.col0.is_numeric() or m.col0.is_date():
                return None
            value = m.col0.sample_keys.get(norm(tok.text), tok.text)
            return {"kind": "value", "mention": m, "op": op, "value": value, "tok": tok.i, "span": span}
        return None
    return None


def _years(lo, hi, m):
    """"between 1960 and 2000" after a measure is a period, not a range of it."""
    return all(re.fullmatch(r"(1[5-9]|20)\d\d", t.text) for t in (lo, hi)) and not m.col0.time_part()


def _is_code_word(tok, c):
    """A short code written right after its column ("class A", "grade B"):
    a known value of c, a quoted word, or 1-3 capital letters."""
    return (norm(tok.text) in c.sample_keys or tok.kind == "q"
            or (tok.text.isupper() and tok.text.isalpha() and len(tok.text) <= 3))


def _code_after(tokens, m):
    """`for class A`, `where grade B`, `in group "x1"`: a category column
    followed by one of its values (even a single letter the mention finder
    skips) filters on it."""
    if m.end >= len(tokens) or len(m.cols) != 1 or m.value is not None:
        return None
    c, tok = m.col0, tokens[m.end]
    if tok.kind not in ("w", "q") or not c.is_category() or c.is_date():
        return None
    prev = tokens[m.start - 1].f if m.start else ""
    if prev not in ("for", "in", "where", "with", "of", "among", "only", "from", "when", "whose", "at", "and", "but") \
            or not _is_code_word(tok, c):
        return None
    nxt = tokens[m.end + 1].f if m.end + 1 < len(tokens) else ""
    if nxt in ("and", "or", "vs", "versus") and not tok.text.isupper():
        return None
    value = c.sample_keys.get(norm(tok.text), tok.text)
    return {"kind": "value", "mention": m, "op": "==", "value": value, "tok": tok.i, "span": {tok.i}}


def _sign_filters(tokens, ms, filters):
    """"negative inflation", "positive growth", "zero visits": a sign before a
    numeric column; "with no children", "without affairs": a count or amount
    that never goes below 0 is 0."""
    out = []
    for m in ms:
        prev = tokens[m.start - 1].f if m.start else ""
        op = {"negative": "<", "positive": ">", "zero": "==", "nonzero": "!=", "non-zero": "!="}.get(prev)
        if prev in ("no", "without") and _never_negative(m.col0) and not m.col0.is_flag() and len(m.cols) == 1:
            op = "=="
        if prev == "without" and m.start >= 3 and [t.f for t in tokens[m.start - 3:m.start - 1]] in (["with", "and"], ["with", "or"]):
            op = None   # "with and without children": two groups (groups.regroup)
        if op and m.value is None and m.role is None and m.col0.is_numeric():
            m.role = "filter"
            out.append({"kind": "compare", "mention": m, "op": op, "value": 0, "tok": m.start - 1, "span": {m.start - 1}})
    return out


STAT_CMP = {"above": ">", "over": ">", "exceeding": ">", "exceeds": ">", "exceed": ">", "exceeded": ">",
            "below": "<", "under": "<",
            "greater than": ">", "more than": ">", "higher than": ">", "larger than": ">", "bigger than": ">",
            "less than": "<", "lower than": "<", "smaller than": "<", "fewer than": "<"}
STAT_WORDS = {"mean": "mean", "average": "mean", "avg": "mean", "median": "median"}


def stat_phrases(tokens):
    """[(start, stat position, op, stat)] for "above the mean", "below its
    median", "greater than the average": a comparison with a statistic of
    the column rather than a number."""
    out = []
    for k, t in enumerate(tokens):
        two = " ".join(x.f for x in tokens[k:k + 2])
        phrase = two if two in STAT_CMP else t.f if t.f in STAT_CMP else None
        if phrase is None:
            continue
        j = k + len(phrase.split())
        while j < len(tokens) and tokens[j].f in ("the", "its", "their", "overall", "a"):
            j += 1
        if j < len(tokens) and tokens[j].f in STAT_WORDS:
            out.append((k, j, STAT_CMP[phrase], STAT_WORDS[tokens[j].f]))
    return out


def _stat_filters(tokens, ms):
    """"magnesium above the mean", "petal length greater than the average
    petal length", "how many are above the median": the column named before
    the comparison, else the one named right after the statistic, else the
    one measure in play (an orphan, placed by orphan_filters)."""
    out = []
    for k, j, op, stat in stat_phrases(tokens):
        span = set(range(k, j + 1))
        before = next((m for m in ms if m.value is None and m.col0.is_numeric() and 0 <= k - m.end <= 2), None)
        after = next((m for m in ms if m.value is None and m.col0.is_numeric() and m.start - j - 1 in (0, 1)
                      and all(x.f in ("of", "for") for x in tokens[j + 1:m.start])), None)
        m = before or after
        if after is not None:
            span |= set(range(j + 1, after.end))
            if after is not before:
                after.role = "filter"
        if m is not None:
            m.role = "filter"
            out.append({"kind": "stat", "mention": m, "op": op, "value": stat, "span": span})
        else:
            out.append({"kind": "orphan", "stat": True, "op": op, "value": stat, "span": span,
                        "text": " ".join(x.text for x in tokens[k:j + 1])})
    return out


def _never_negative(c):
    """True for a numeric column whose smallest value is 0 or more."""
    try:
        return c.is_numeric() and float(c.min) >= 0
    except (TypeError, ValueError):
        return False


ORPHAN_RE = re.compile(r"(?:is |are |was |were )?(above|below|over|under|more than|less than|greater than|"
                       r"higher than|lower than|at least|at most|exceeding)$")


def _orphan_filters(tokens, ms, filters):
    """Comparisons with a number that follow no column ("readings above 350")."""
    used = {f.get("tok") for f in filters} | {i for m in ms for i in range(m.start, m.end)}
    out = []
    for k, t in enumerate(tokens):
        if t.kind != "num" or k in used or k < 1 or re.fullmatch(r"(19|20)\d\d", t.text):
            continue
        before = " ".join(x.f for x in tokens[max(0, k - 3):k])
        hit = ORPHAN_RE.search(before)
        if not hit:
            continue
        near = [m for m in ms if m.value is None and 0 <= k - m.end <= 4 and m.col0.is_numeric()]
        if near:
            continue   # "volume below 800" is read by the column's own comparison
        after = next((m for m in ms if m.start == k + 1 and m.value is None and m.role is None
                      and m.col0.is_numeric() and len(m.cols) == 1), None)
        op = {"above": ">", "over": ">", "more than": ">", "greater than": ">", "higher than": ">",
              "exceeding": ">", "below": "<", "under": "<", "less than": "<", "lower than": "<",
              "at least": ">=", "at most": "<="}[hit.group(1)]
        span = set(range(k - len(hit.group(0).split()), k + 1))
        if after is not None:   # "more than 10 Chins": the column named after the number
            after.role = "filter"
            out.append({"kind": "compare", "mention": after, "op": op, "value": t.number(), "tok": k, "span": span})
            continue
        out.append({"kind": "orphan", "op": op, "value": t.number(), "tok": k, "text": f"{hit.group(1)} {t.text}",
                    "span": span})
    return out


def _date_filters(tokens):
    """Year and date bounds: in 2023, since 2023-06-01, before 2024 (each with
    the positions of the words it reads, its span)."""
    out, done = [], set()
    for k, t in enumerate(tokens):
        if k in done:
            continue
        prev = tokens[k - 1].f if k else ""
        nxt = " ".join(x.f for x in tokens[k + 1:k + 3])
        year = t.kind == "num" and re.fullmatch(r"(1[5-9]|20)\d\d", t.text)
        span = _year_range(tokens, k) or _period_of_year(tokens, k)
        if span:
            lo, hi, used = span
            said = " ".join(tokens[i].text for i in sorted(used))
            assume = (f"\u201c{said}\u201d read as {lo[:4]} to {int(hi[:4]) - 1}, both years included"
                      if tokens[min(used)].f in ("between", "from") else None)
            out += [{"kind": "date", "op": ">=", "value": lo, "span": used, "tok": k, "assume": assume},
                    {"kind": "date", "op": "<", "value": hi, "span": used, "tok": max(used)}]
            done |= used
        elif year and re.match(r"(and|or) (later|after|onwards?)\b|onwards?\b", nxt):
            out.append({"kind": "date", "op": ">=", "value": t.text + "-01-01",
                        "span": {k - 1, k, k + 1, k + 2} if prev == "from" else {k, k + 1, k + 2}})
        elif year and re.match(r"(and|or) (earlier|before)\b", nxt):
            out.append({"kind": "date", "op": "<", "value": str(int(t.text) + 1) + "-01-01", "span": {k, k + 1, k + 2}})
        elif t.kind == "num" and re.fullmatch(r"(19|20)\d\d", t.text):
            if prev in ("since", "after", "from"):
                out.append({"kind": "date", "op": ">=", "value": t.text + "-01-01", "span": {k - 1, k}})
            elif prev in ("before", "until", "till"):
                out.append({"kind": "date", "op": "<", "value": t.text + "-01-01", "span": {k - 1, k}})
            elif prev in ("in", "during", "for", "of") or (k + 1 < len(tokens) and tokens[k + 1].f == "only") \
                    or prev in ("and", "or") and out and out[-1]["kind"] == "year" and k - 2 in out[-1]["span"]:
                out.append({"kind": "year", "value": int(t.text), "span": {k - 1, k, k + 1}})   # "in 1940 and 1950"
        elif t.kind == "decade" and int(t.text) % 100:   # "in the 1980s": 1980 to 1989 ("the 1700s" may be a century)
            span = {k} | ({k - 1} if prev in ("in", "during", "for", "over", "through", "throughout") else set()) \
                | ({k - 2} if prev == "the" and k > 1 and tokens[k - 2].f in ("in", "during", "for", "over", "through") else set())
            out.append({"kind": "date", "op": ">=", "value": t.text + "-01-01", "tok": k, "span": span})
            out.append({"kind": "date", "op": "<", "value": str(int(t.text) + 10) + "-01-01", "tok": k, "span": span})
        elif t.kind == "date":
            op = {"since": ">=", "after": ">", "from": ">=", "before": "<", "until": "<=", "till": "<=",
                  "on": "==", "at": "==", "for": "==", "of": "=="}.get(prev)
            if op:
                out.append({"kind": "date", "op": op, "value": t.text, "span": {k - 1, k}, "tok": k})
    return out


MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": 0}


def _is_year(t):
    return t is not None and t.kind == "num" and re.fullmatch(r"(1[5-9]|20)\d\d", t.text)


def _year_range(tokens, k):
    """"between 1960 and 2000", "from 1960 to 2000" (both years in full):
    (first day, day after the last year, positions read), or None."""
    prev = tokens[k - 1].f if k else ""
    if not _is_year(tokens[k]) or prev not in ("between", "from") or k + 2 >= len(tokens):
        return None
    if tokens[k + 1].f not in ("and", "to", "until", "through", "till", "-") or not _is_year(tokens[k + 2]):
        return None
    a, b = int(tokens[k].text), int(tokens[k + 2].text)
    if b < a:
        return None
    return f"{a}-01-01", f"{b + 1}-01-01", {k - 1, k, k + 1, k + 2}


def _period_of_year(tokens, k):
    """"the first quarter of 2009", "Q1 2009", "the second half of 2005",
    "December 2008": (first day, first day after, positions read), or None."""
    t = tokens[k]
    j = k + 1 + (1 if k + 1 < len(tokens) and tokens[k + 1].f in ("of", "in") else 0)
    y = tokens[j] if j < len(tokens) else None
    if not _is_year(y):
        return None
    year = int(y.text)
    if t.f in MONTHS:
        m = MONTHS.index(t.f) + 1
        end = f"{year + 1}-01-01" if m == 12 else f"{year}-{m + 1:02d}-01"
        return f"{year}-{m:02d}-01", end, set(range(k, j + 1))
    if re.fullmatch(r"q[1-4]", t.f):
        n, size, first = int(t.f[1]), 3, k
    elif t.f in ("quarter", "half") and k and tokens[k - 1].f in ORDINALS and ORDINALS[tokens[k - 1].f]:
        n, size, first = ORDINALS[tokens[k - 1].f], 3 if t.f == "quarter" else 6, k - 1
        if n > 12 // size:
            return None
    else:
        return None
    m0 = (n - 1) * size + 1
    m1 = m0 + size
    end = f"{year + 1}-01-01" if m1 > 12 else f"{year}-{m1:02d}-01"
    return f"{year}-{m0:02d}-01", end, set(range(first, j + 1))
