"""analyst/phrasing.py — the parts of a request that say how to present the
answer rather than what to compute: "round to two decimal places" (applies
to every number the code prints) and "sorted ascending" / "lowest first"
(the order of a table).  They are taken out of the request before it is
parsed, so their words neither pick columns nor count as not understood,
and are applied to the generated code.
"""
import re

NUMBER_WORDS = {"zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_N = r"(\d|zero|one|two|three|four|five|six)"
DECIMALS_RE = [
    re.compile(r"[,;]?\s*\(?\s*(?:and\s+)?(?:please\s+)?(?:round(?:ed|ing)?\s+(?:(?:off|all|the|your|final|answers?|results?|values?|numbers?|it|them|each|to)\s+){0,4}?)?"
               r"(?:to\s+|at\s+|with\s+)?" + _N + r"\s*(?:decimal\s+places?|decimal\s+points?|decimals?|d\.?p\.?|places|digits\s+after\s+the\s+(?:decimal\s+)?point)\b\s*\)?", re.I),
    re.compile(r"[,;]?\s*(?:and\s+)?round(?:ed|ing)?\s+(?:(?:off|all|the|your|answers?|results?|values?|numbers?|it|them)\s+){0,3}"
               r"to\s+(?:the\s+)?nearest\s+(?:integer|whole\s+number)\b", re.I),
]
SORT_RE = [  # (order, pattern)
    ("asc", r"(?:,\s*)?\b(?:(?:sort|sorted|order|ordered|list|listed|rank|ranked)\s+)?(?:in\s+|by\s+)?(?:ascending|increasing)(?:\s+order)?\b"),
    ("desc", r"(?:,\s*)?\b(?:(?:sort|sorted|order|ordered|list|listed|rank|ranked)\s+)?(?:in\s+|by\s+)?(?:descending|decreasing)(?:\s+order)?\b"),
    ("asc", r"(?:,\s*)?\b(?:(?:sorted|ordered|listed)\s+)?(?:from\s+)?(?:the\s+)?(?:lowest|smallest|least)\s+(?:first|to\s+(?:the\s+)?(?:highest|largest|most))\b"),
    ("desc", r"(?:,\s*)?\b(?:(?:sorted|ordered|listed)\s+)?(?:from\s+)?(?:the\s+)?(?:highest|largest|most)\s+(?:first|to\s+(?:the\s+)?(?:lowest|smallest|least))\b"),
]


def take_decimals(request):
    """(request without its rounding phrase, number of decimals or None)."""
    for k, pat in enumerate(DECIMALS_RE):
        m = pat.search(request)
        if m:
            n = 0 if k == 1 else m.group(1).casefold()
            n = NUMBER_WORDS.get(n, n)
            rest = (request[:m.start()] + " " + request[m.end():]).strip()
            rest = re.sub(r"([.?!;,])\s*[.?!;,]+", r"\1", re.sub(r"\s+([.?!;,])", r"\1", rest))
            return rest, min(int(n), 10)
    return request, None


def take_sort(request):
    """(request without its ordering phrase, "asc" / "desc" / None)."""
    for order, pat in SORT_RE:
        m = re.search(pat, request, re.I)
        if m:
            return (request[:m.start()] + " " + request[m.end():]).strip(), order
    return request, None


FORMAT_RE = re.compile(r"(\{[^{}\"]*?:,?)\.(\d+)([fg])(%?\})")
ROUND_RE = re.compile(r"\.round\((\d+)\)")


def apply_decimals(code, n):
    """The code with every number it prints formatted with n decimals (the
    "{x:,.2f}" specs, p-values' ".4g" and .round(k) calls)."""
    if n is None:
        return code
    code = FORMAT_RE.sub(lambda m: f"{m.group(1)}.{n}f{m.group(4)}", code)
    return ROUND_RE.sub(f".round({n})", code)


def small_decimals(it):
    """Decimals that keep the numbers of an intent readable when its columns
    hold only small values (an interest rate of 0.0875 printed with two
    decimals would read 0.09): 4 for values below 1, one more per further
    power of ten; likewise when a column's whole range is below 1 (a log
    series between 5.8 and 6.0 would read 5.92 for every period); None when
    two decimals are enough."""
    cols = list(it.get("measures") or []) + [c for c in (it.get("target"),) if c is not None] + \
        list(it.get("features") or [])
    scales = []
    for c in cols:
        try:
            lo, hi = float(c.min), float(c.max)
        except (TypeError, ValueError):
            return None
        size = max(abs(lo), abs(hi))
        scales.append(size if size < 1 else hi - lo)
    if not scales or not 0 < max(scales) < 1:
        return None
    import math
    return min(8, 4 + int(math.floor(-math.log10(max(scales)))))


WIDE_RE = re.compile(r"(\{[^{}\"]*?:),\.2f(\})")


def widen_decimals(code, n):
    """The code with its two-decimal number formats ("{x:,.2f}") given n decimals."""
    if n is None:
        return code
    return WIDE_RE.sub(lambda m: f"{m.group(1)},.{n}f{m.group(2)}", code)


YEAR_RANGE_RE = re.compile(r"\b(?:(?:over|for|in|during|from|between)\s+)?(?:the\s+(?:years?|period)\s+)?"
                           r"((?:1[5-9]|20)\d\d)\s*(?:-|\u2013|\u2014|to)\s*((?:1[5-9]|20)\d\d)\b(?![-/.]\d)")


def year_ranges(request):
    """"over 1974-1979", "for 2000–2007" written as "from 1974 to 1979" (a
    range of years, both ends included, which the filters read and say);
    a pair whose second year is not later is left alone."""
    def one(m):
        a, b = int(m.group(1)), int(m.group(2))
        return f"from {a} to {b}" if b > a else m.group(0)
    return YEAR_RANGE_RE.sub(one, request)


PHRASAL_RE = re.compile(r"\b(?:break(?:s|ing)? down|work(?:s|ing)? out|figure(?:s|ing)? out)\b", re.I)


def phrasal_verbs(request):
    """"Break down X by Y", "work out X", "figure out X" asked with the plain
    verb ("show", "compute"), so their particles are not left unread."""
    return PHRASAL_RE.sub(lambda m: "show" if m.group(0).lower().startswith("break") else "compute", request)
