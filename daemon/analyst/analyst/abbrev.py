"""analyst/abbrev.py — a run of words that names a column by its
abbreviated or run-together name: "food expenditure" -> foodexp, "real
consumption" -> realcons, "unemployment rate" -> unemp_rate (parse.find_mentions
tries it after the plain name match; the mention is marked abbreviated and
said in an "Assumption:" line).
"""
from analyst.schema import STOP, best_columns, fold, singular

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
