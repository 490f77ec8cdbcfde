"""analyst/parse.py — turns a request into an intent against one dataset.

The request is cut into tokens; runs of tokens are matched against the
dataset's columns (schema.py), its category values (from the profile's
samples) and the dataset names; then keywords pick the operation and the
mentions get their roles (measure, group, filter, date, target).  Columns are
resolved through a Resolver, which may raise NeedAsk when a word fits two or
more columns equally well: the caller turns that into an ask_user.
Abbreviated names are abbrev.py's; the conditions on the rows (comparisons,
values, dates) are filters.py's.
"""
import re

from analyst import notes
from analyst.abbrev import abbreviated
from analyst.matcher import describe
from analyst.schema import STOP, best_columns, fold, norm

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
        self.pos, self.end = m.start(), m.end()
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
        found = _spaced_name(tokens, i, ds)
        for n in (5, 4) if found is None else ():   # a category value of several words ("bachelor's degree or higher")
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


def _spaced_name(tokens, i, ds):
    """A column's name written with spaces or punctuation inside it ("S&P 500"
    or "S & P 500" for SP500, "CO 2" for CO2): 2-4 adjacent tokens, one a
    number or a single letter, whose letters and digits run together are the
    name's (case aside), for exactly one column."""
    for n in (4, 3, 2):
        run = tokens[i:i + n]
        if len(run) < n or any(t.kind not in ("w", "num") for t in run) \
                or any(b.pos - a.end > 3 for a, b in zip(run, run[1:])) \
                or not any(t.kind == "num" or len(t.text) == 1 for t in run):
            continue
        joined = re.sub(r"[\W_]", "", "".join(t.text for t in run)).casefold()
        cols = [c for c in ds.columns if re.sub(r"[\W_]", "", str(c.name)).casefold() == joined]
        if len(joined) >= 3 and len(cols) == 1:
            return Mention(i, i + n, " ".join(t.text for t in run), 95, cols)
    return None


def names_dataset(tokens, i):
    """True when the word at i reads as a dataset name ("in sales", "sales data")."""
    prev = tokens[i - 1].f if i > 0 else ""
    nxt = tokens[i + 1].f if i + 1 < len(tokens) else ""
    return prev in ("in", "from", "of", "for") or nxt in ("data", "dataset", "table", "file", "csv")


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


def two_values(tokens, ms):
    """Two category values of one column named in the request (North and South)."""
    vals = [m for m in ms if m.value is not None]
    for a in range(len(vals)):
        for b in range(a + 1, len(vals)):
            if vals[a].col0 is vals[b].col0 and vals[a].value != vals[b].value:
                return vals[a], vals[b]
    return None
