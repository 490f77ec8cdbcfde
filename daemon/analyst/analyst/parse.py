"""analyst/parse.py — turns a request into an intent against one dataset.

The request is cut into tokens; runs of tokens are matched against the
dataset's columns (schema.py), its category values (from the profile's
samples) and the dataset names; then keywords pick the operation and the
mentions get their roles (measure, group, filter, date, target).  Columns are
resolved through a Resolver, which may raise NeedAsk when a word fits two or
more columns equally well: the caller turns that into an ask_user.
"""
import re

from analyst import notes
from analyst.matcher import describe
from analyst.schema import STOP, best_columns, fold, norm, singular

TOKEN_RE = re.compile(
    r'"([^"]+)"|\u201c([^\u201d]+)\u201d|`([^`]+)`'
    r"|(\d{4}-\d{1,2}-\d{1,2})|(>=|<=|!=|==|=|>|<)"
    r"|([-+]?\d(?:[\d,]*\d)?(?:\.\d+)?)(?![\w])"
    r"|([^\W\d][\w'\u2019-]*|\d+(?:st|nd|rd|th)\b)"
    r"|(1[5-9]\d0|20\d0)['\u2019]?s\b"          # a decade: "the 1980s"
    r"|(\d[\w.'\u2019-]*)")                     # anything else starting with a digit ("5k", "10am"): never skipped

GROUP_WORDS = {"by", "per", "across", "each", "every"}
SKIP = {"the", "a", "an", "each", "every", "different", "individual"}
AGG_WORDS = [
    ("sum", r"\b(total|sum|overall|combined|cumulative|how much)\b"),
    ("mean", r"\b(average|avg|mean|typical)\b"),
    ("median", r"\bmedian\b"),
    ("std", r"\b(std|standard deviation|stdev|spread|variability)\b"),
    ("var", r"\bvariance\b"),
    ("min", r"\b(min|minimum|lowest|smallest|(?<!\bat )least)\b"),   # "at least 3" is a comparison
    ("max", r"\b(max|maximum|highest|largest|biggest|greatest|(?<!\bat )most)\b"),
    ("count", r"\b(count|number of|how many|frequency|frequencies)\b"),
    ("skew", r"\b(skew|skewness|skewed)\b"),
    ("kurt", r"\b(kurtosis|kurt|tailedness)\b"),
    ("mode", r"\b(mode|modal value)\b"),
    ("iqr", r"\b(interquartile range|inter-quartile range|iqr)\b"),
    ("range", r"(?<!interquartile )(?<!inter-quartile )\brange\b(?! (?:from|between)\b)"),
    ("cv", r"\bcoefficient of variation\b"),
]
NOT_A_QUARTER = r"(?! (?:of |in )?(?:1[5-9]|20)\d\d)(?<!(?:1[5-9]|20)\d\d q[13])"   # "Q3 1980" is a quarter
QUANTILE_WORDS = [  # (pattern, quantiles in %): "90th percentile", "first quartile", "quartiles"
    (r"\b(\d{1,2}(?:\.\d+)?)(?:st|nd|rd|th)?[- ]percentiles?\b", None),
    (r"\b(\d{1,2})(?:st|nd|rd|th)\b(?=.*\bpercentiles\b)", None),
    (r"\bpercentiles? (\d{1,2}(?:\.\d+)?)\b", None),
    (r"\b(first|lower) quartile\b|\bq1\b" + NOT_A_QUARTER, [25]),
    (r"\b(third|upper) quartile\b|\bq3\b" + NOT_A_QUARTER, [75]),
    (r"\bquartiles\b", [25, 50, 75]),
]
FREQ_WORDS = [
    ("10Y", r"\b(decades?|by decade|per decade|each decade|decadal)\b"),
    ("H", r"\b(half[- ]?years?|half[- ]yearly|halves|by half|per half|semi[- ]?annual\w*|semesters?)\b"),
    ("D", r"\b(daily|per day|by day|each day|a day|by date|per date)\b"),
    ("W", r"\b(weekly|per week|by week|each week|a week)\b"),
    ("M", r"\b(monthly|per month|by month|each month|a month|over the months)\b"),
    ("Q", r"\b(quarterly|per quarter|by quarter|each quarter|a quarter)\b"),
    ("Y", r"\b(yearly|annual|annually|per year|by year|each year|a year|over the years)\b"),
]
COMPARATORS = [
    (">=", r"(>=|at least|no less than|or more)"), ("<=", r"(<=|at most|no more than|or less)"),
    ("!=", r"(!=|is not|not equal to|isn't|other than)"),
    (">", r"(>|over|above|more than|greater than|exceeds|exceeding|higher than|bigger than)"),
    ("<", r"(<|under|below|less than|fewer than|lower than|smaller than)"),
    ("==", r"(==|=|equals|equal to|is|of exactly|exactly)"),
]
PLOT_RE = r"\b(plot|chart|graph|draw|visuali[sz]e|bar|bars|(?<!was the )(?<!is the )figure|diagram|pie)\b"   # "what was the figure": a number


class NeedAsk(Exception):
    """The request cannot go on without the user's choice."""

    def __init__(self, question, choices, key=None, why=None):
        super().__init__(question)
        self.question, self.choices, self.key, self.why = question, choices, key, why


class Unknown(Exception):
    """The request names something the data does not have (said honestly)."""


class Token:
    """One token: raw text, folded text, kind (w, q, num, date, op, decade, odd), position."""

    def __init__(self, m, i):
        self.i = i
        self.possessive = False
        self.pos = m.start()
        groups = m.groups()
        if any(groups[0:3]):
            self.kind, self.text = "q", next(g for g in groups[0:3] if g)
        elif groups[3]:
            self.kind, self.text = "date", groups[3]
        elif groups[4]:
            self.kind, self.text = "op", groups[4]
        elif groups[5]:
            self.kind, self.text = "num", groups[5]
        elif groups[6]:   # "Japan's" is Japan
            self.kind, self.text = "w", re.sub(r"['\u2019]s$", "", groups[6]).rstrip("'\u2019")
            self.possessive = self.text != groups[6].rstrip("'\u2019")
        elif groups[7]:
            self.kind, self.text = "decade", groups[7]
        else:
            self.kind, self.text = "odd", groups[8]
        self.f = fold(self.text)

    def number(self):
        """The token as a float (thousands separators removed), or None."""
        try:
            return float(self.text.replace(",", ""))
        except ValueError:
            return None


class Mention:
    """A run of tokens naming a column (cols) or a category value (value of col)."""

    def __init__(self, start, end, term, score, cols, value=None):
        self.start, self.end, self.term, self.score = start, end, term, score
        self.cols, self.value = cols, value
        self.role = None
        self.abbreviated = False   # matched as run-together / abbreviated words ("food expenditure" → foodexp)
        self.how = None            # how a description was read as the column (matcher.describe), said

    @property
    def col0(self):
        """The first candidate column (for decisions that do not need the choice)."""
        return self.cols[0]


def tokenize(request):
    """Tokens of a request, in order."""
    return [Token(m, i) for i, m in enumerate(TOKEN_RE.finditer(request))]


def find_mentions(tokens, ds, dataset_names=()):
    """Column and category-value mentions, longest match first, left to right."""
    out, i = [], 0
    skip_names = {norm(n) for n in dataset_names}
    while i < len(tokens):
        found = None
        for n in (5, 4):   # a category value of several words ("bachelor's degree or higher")
            run = tokens[i:i + n]
            val = _value_match(norm(" ".join(t.text for t in run)), ds) \
                if len(run) == n and all(t.kind in ("w", "q") for t in run) else None
            if val:
                found = Mention(i, i + n, " ".join(t.text for t in run), 0, [val[0]], value=val[1])
                break
        for n in (3, 2, 1) if found is None else ():
            run = tokens[i:i + n]
            if len(run) < n or any(t.kind not in ("w", "q") for t in run):
                continue
            term = " ".join(t.text for t in run)
            score, cols = best_columns(term, ds)
            noted = notes.match(run, ds) if score < 85 else None
            if noted:   # the user's note on a column ("y means seizure count")
                found = Mention(i, i + n, term, 84, noted[0])
                found.how = noted[1]
                break
            if score and (n == 1 or score >= 85):
                if n == 1 and run[0].kind == "w" and norm(term) in skip_names and score < 85 and names_dataset(tokens, i):
                    continue
                found = Mention(i, i + n, term, score, cols)
                break
            abbr = abbreviated(run, ds) if not score or n > 1 else []
            if abbr:
                found = Mention(i, i + n, term, 86 if n > 1 else 70, abbr)
                found.abbreviated = True
                break
            desc = describe(run, ds) if not score and norm(term) not in STOP else None
            if desc:
                found = Mention(i, i + n, term, 70, desc[0])
                found.how = desc[1]
                break
            val = _value_match(norm(term), ds)
            if val and (n > 1 or (norm(term) not in STOP and len(norm(term)) > 1)):
                found = Mention(i, i + n, term, 0, [val[0]], value=val[1])
                break
        if found:
            out.append(found)
            i = found.end
        else:
            i += 1
    return out


NOT_ABBREV = {"average", "avg", "mean", "median", "sum", "max", "min", "the", "a", "an", "of", "in", "on", "at",
              "by", "for", "to", "and", "or", "with", "from", "vs", "per"}
ABBREV_STOP = {"total", "number", "count", "rate", "percent", "share", "time", "year", "month", "day", "new", "old"}


def _abbrev(piece, word, first=False):
    """Is piece an abbreviation of word: its prefix, or its letters in order
    starting with the same letter ("exp" of expenditure, "yrs" of years, "wt"
    of weight: first and last letter); with first, also its initial alone
    ("hs" + "grad" for high school graduation)."""
    if not piece or not word or piece[0] != word[0] or len(piece) > len(word):
        return False
    if word.startswith(piece) and (len(piece) >= 2 or first):
        return True
    it = iter(word)
    return (len(piece) >= 3 or len(piece) == 2 and piece[-1] == word[-1]) and all(ch in it for ch in piece)


def _splits(name, words):
    """Can name be cut into len(words) pieces, each abbreviating its word in
    order (a word before the last may give only its initial)?"""
    if len(words) == 1:
        return len(name) >= 2 and _abbrev(name, words[0])
    return any(_abbrev(name[:k], words[0], first=True) and _splits(name[k:], words[1:])
               for k in range(1, len(name) - len(words) + 2))


NAME_TAILS = {"index", "idx", "rate", "level", "count", "total", "value", "amount", "number", "num", "pct", "share"}
STAT_PREFIXES = ("avg", "mean", "tot", "total", "num", "pct", "log", "ln")


def _stem_match(a, b):
    """Two words with a common start of 3+ letters covering most of the
    shorter ("rating" ~ rate, "married" ~ marriage)."""
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return k >= 3 and k >= 0.6 * min(len(a), len(b))


def _same_words(words, col):
    """The run's words and a multi-word name's words pair off by their stems,
    in any order ("marriage rating", "rating of marriage" ~ rate_marriage)."""
    ws = [w for w in words if w != "of"]
    if len(col.words) < 2 or len(ws) != len(col.words):
        return False
    left = list(col.words)
    for w in ws:
        hit = next((c for c in left if _stem_match(w, c)), None)
        if hit is None:
            return False
        left.remove(hit)
    return True


def abbreviated(run, ds):
    """Columns whose name, written without separators, is the run's words run
    together or abbreviated ("food expenditure" -> foodexp, "total employment"
    -> TOTEMP, "years married" -> yrs_married, "copper price" -> COPPERPRICE,
    "high school graduation" -> hs_grad, "T-bill rate" -> tbilrate), or whose
    words are the run's in another order ("marriage rating" -> rate_marriage);
    for one word of 5+ letters, compact names starting or ending with it
    ("activity" -> SUNACTIVITY); for one word, a compact name that is a
    statistic's prefix and its abbreviation ("expenditure" -> AVGEXP)."""
    words = [fold(t.text) for t in run]
    if len(run) == 3 and words[1] in ("of", "their", "its", "his", "her") \
            and not any(w in NOT_ABBREV - {"of"} for w in (words[0], words[2])):
        words = [words[0], "of", words[2]]   # "rating of marriage", "rate their marriage": only the order-free match
        return [c for c in ds.columns if all(t.kind == "w" and w.isalpha() for t, w in zip(run, words))
                and best_columns(run[0].text, ds)[0] < 85 and _same_words(words, c)]
    if len(run) > 1 and all(t.kind == "w" and w.isalpha() and w not in NOT_ABBREV for t, w in zip(run, words)):
        lead = [c for c in ds.columns if len(c.words) == len(words) + 1 and c.words[-1] in NAME_TAILS
                and [singular(w) for w in c.words[:-1]] == [singular(w) for w in words]]
        if len(lead) == 1:
            return lead   # "new orders" → new_orders_index
    if any(t.kind != "w" or w in NOT_ABBREV or (w in STOP and (len(run) == 1 or w not in ABBREV_STOP))
           or not w.replace("-", "").isalpha() for t, w in zip(run, words)):
        return []
    if len(run) > 1 and any(best_columns(t.text, ds)[0] >= 85 for t in run):
        return []   # "Chins Situps": two columns, not one abbreviated
    pieces = [p for w in words for p in w.split("-") if p]   # "t-bill rate": t, bill, rate
    out = []
    for c in ds.columns:
        name = c.norm.replace(" ", "")
        if len(pieces) > 1:
            if len(name) >= 4 and _splits(name, pieces) or name == "".join(w[0] for w in pieces) \
                    or len(run) > 1 and _same_words(words, c):
                out.append(c)   # run together, abbreviated, or the initials ("blood pressure" -> bp)
        elif len(words[0]) >= 5 and len(name) >= len(words[0]) + 2 and " " not in c.norm \
                and (name.startswith(words[0]) or name.endswith(words[0])):
            out.append(c)
        elif len(words[0]) >= 5 and " " not in c.norm and any(
                name.startswith(p) and len(name) - len(p) >= 3 and words[0].startswith(name[len(p):])
                for p in STAT_PREFIXES):
            out.append(c)   # "expenditure" -> AVGEXP
    return out


def names_dataset(tokens, i):
    """True when the word at i reads as a dataset name ("in sales", "sales data")."""
    prev = tokens[i - 1].f if i > 0 else ""
    nxt = tokens[i + 1].f if i + 1 < len(tokens) else ""
    return prev in ("in", "from", "of", "for") or nxt in ("data", "dataset", "table", "file", "csv")


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


def _value_match(key, ds):
    """(column, value) when key is a known category value of exactly one column."""
    hits = [(c, c.sample_keys[key]) for c in ds.columns if c.is_category() and key in c.sample_keys]
    return hits[0] if len(hits) == 1 else None


def dataset_score(request, ds, names):
    """How well a request fits a dataset: its name, plus the columns it names."""
    tokens = tokenize(request)
    score = sum(m.score if m.value is None else 30 for m in find_mentions(tokens, ds, names))
    if any(t.f == fold(ds.name) or norm(t.text) == norm(ds.name) for t in tokens):
        score += 1000
    return score


def first_number(q, pattern, default):
    """The integer captured by pattern in q, or default."""
    m = re.search(pattern, q)
    if not m:
        return default
    try:
        return max(1, min(int(m.group(1).replace(",", "")), 1000))
    except ValueError:
        return default


def detect_agg(q):
    """The aggregation the request asks for, or None (the first of AGG_WORDS
    named; a percentile when it names only that)."""
    for agg, pat in AGG_WORDS:
        if re.search(pat, q):
            return agg
    aggs = detect_aggs(q)
    return aggs[0] if aggs else None


def detect_aggs(q):
    """Every aggregation the request names, in the order it names them ("mean
    and std", "skewness and kurtosis"); percentiles as "p90", quartiles as
    "p25", "p50", "p75"."""
    found = []
    for agg, pat in AGG_WORDS:
        m = re.search(pat, q)
        if m:
            found.append((m.start(), agg))
    for pat, qs in QUANTILE_WORDS:
        for m in re.finditer(pat, q):
            for k, p in enumerate(qs or [m.group(1)]):
                if 0 < float(p) < 100:
                    found.append((m.start() + k / 10, "p" + f"{float(p):g}"))
    return list(dict.fromkeys(agg for _, agg in sorted(found)))


def detect_freq(q):
    """Resampling frequency asked for (D W M Q Y), or None."""
    for freq, pat in FREQ_WORDS:
        if re.search(pat, q):
            return freq
    return None


def prev_words(tokens, m, k=3, skip=()):
    """Up to k folded words before a mention, nearest first, skipping articles
    (and the positions in skip)."""
    out, j = [], m.start - 1
    while j >= 0 and len(out) < k:
        if tokens[j].f not in SKIP and j not in skip:
            out.append(tokens[j].f)
        j -= 1
    return out


def mark_groups(tokens, ms, op, described=()):
    """Marks mentions introduced by by / per / across / for each as groups;
    described: positions of words that only describe the column named next
    ("by party identification (PID)")."""
    last = None
    for m in ms:
        if m.value is not None or m.role is not None:
            continue
        pw = prev_words(tokens, m, 2, described)
        if pw[:2] in (["of", "number"], ["of", "level"], ["of", "amount"]):   # "by number of children"
            pw = prev_words(tokens, m, 3, described)[2:]
        raw_prev = tokens[m.start - 1].f if m.start else ""
        if pw[:1] and pw[0] in GROUP_WORDS or raw_prev in ("each", "every") or pw[:2] == ["for", "each"]:
            if pw[:1] == ["by"] and op in ("top", "sort") and m.col0.is_numeric():
                continue
            m.role = "group"
            last = m
        elif last is not None and raw_prev == "and" and m.start == last.end + 1 and not m.col0.is_numeric():
            m.role = "group"   # "by category and region": a second grouping


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


STAT_CMP = {"above": ">", "over": ">", "exceeding": ">", "exceeds": ">", "below": "<", "under": "<",
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


def two_values(tokens, ms):
    """Two category values of one column named in the request (North and South)."""
    vals = [m for m in ms if m.value is not None]
    for a in range(len(vals)):
        for b in range(a + 1, len(vals)):
            if vals[a].col0 is vals[b].col0 and vals[a].value != vals[b].value:
                return vals[a], vals[b]
    return None
