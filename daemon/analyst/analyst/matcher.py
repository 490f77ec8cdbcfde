"""analyst/matcher.py — a column named by a description rather than its name.

Used by parse.find_mentions when a run of words fits no column by its name,
a synonym or an abbreviation.  Each reading is a rule a person would state,
carries how it was made (said in an "Assumption:" line by audit.readings)
and never guesses a coded name from its meaning alone (Dp for inflation):

- the dataset is named for its one measure: "housing starts" in a dataset
  housing_starts whose only numeric measure is HOUSTNSA;
- a short name whose letters abbreviate the words in order, first letter of
  each word first ("birth weight" -> bwt, "treatment" -> trt; 4+ letter
  names are abbrev.abbreviated's);
- another form of a one-word name: "closing" -> close, "traded" -> trade
  (an -ing / -ed / -s ending, a final e dropped before it).

A word that fits both a column and its log (volume vs log_volume) means the
column itself unless "log" is said (schema.drop_logs, in best_columns).
"""
import re

from analyst.schema import LOG_PREFIX, fold, singular

SUFFIXES = ("ing", "ed", "es", "s")


def measures(ds):
    """The numeric columns that can be a measure: not ids, dates, year /
    month / quarter parts, 0/1 flags or small codes."""
    out = []
    for c in ds.columns:
        try:
            if not c.is_numeric() or c.is_id() or c.is_date() or c.time_part() or c.is_binary01() or c.is_flag():
                continue
        except (TypeError, ValueError):
            continue
        out.append(c)
    return out


def _letters(s):
    return re.sub(r"[^a-z]", "", fold(s))


def named_by_dataset(words, ds):
    """The one measure of a dataset named by the words ("housing starts" in
    housing_starts, "sunspots" in sunspots with one measure), or None."""
    if not words or not ds.name:
        return None
    said = "".join(words)
    name = _letters(ds.name)
    if len(name) < 5 or said not in (name, name.rstrip("s"), singular(name)) and singular(said) != singular(name):
        return None
    ms = [c for c in measures(ds) if not LOG_PREFIX.match(c.norm) or not _is_log_of(c, ds)]
    return ms[0] if len(ms) == 1 else None


def _abbrev_word(piece, word, first):
    """Does piece abbreviate word: same first letter and the rest of its
    letters in order, the last piece also ending as the word ends
    ("wt" of weight)."""
    if not piece or piece[0] != word[0] or len(piece) > len(word):
        return False
    it = iter(word[1:])
    if not all(ch in it for ch in piece[1:]):
        return False
    if first:
        return True
    return len(piece) >= 2 and (word.startswith(piece) or piece[-1] == word[-1])


def _cuts(name, words):
    """Can name be cut into one piece per word, each abbreviating its word
    (a word before the last may give only its first letter)?"""
    if len(words) == 1:
        return _abbrev_word(name, words[0], False)
    return any(_abbrev_word(name[:k], words[0], True) and _cuts(name[k:], words[1:])
               for k in range(1, len(name) - len(words) + 2))


def skeleton(words, ds):
    """Columns with a 3-letter compact name abbreviating 2-3 words in order
    ("birth weight" -> bwt), or one word of 6+ letters by its first, inner
    and last letters ("treatment" -> trt); 4+ letter names are matched by
    abbrev.abbreviated."""
    if not 1 <= len(words) <= 3 or any(len(w) < 3 or not w.isalpha() for w in words) \
            or len(words) == 1 and len(words[0]) < 6:
        return []
    return [c for c in ds.columns if " " not in c.norm and len(c.norm) == 3 and c.norm.isalpha()
            and _cuts(c.norm, words)]


def word_forms(w):
    """The bare forms of a word: "closing" -> clos, close; "traded" -> trad, trade."""
    out = set()
    for s in SUFFIXES:
        if w.endswith(s) and len(w) - len(s) >= 3:
            base = w[:-len(s)]
            out |= {base, base + "e"}
            if len(base) >= 4 and base[-1] == base[-2]:
                out.add(base[:-1])   # "stopped" -> stop
    return out


def other_form(word, ds):
    """One-word columns whose name is another form of the word ("closing" -> close)."""
    forms = word_forms(word)
    if not forms:
        return []
    return [c for c in ds.columns if " " not in c.norm and c.norm in forms]


def describe(run, ds):
    """(columns, how) for a run of word tokens that names a column only by
    description, or None."""
    if any(t.kind != "w" for t in run):
        return None
    words = [fold(t.text) for t in run]
    if any(not w.replace("-", "").isalpha() for w in words):
        return None
    pieces = [p for w in words for p in w.split("-") if p]
    c = named_by_dataset(pieces, ds)
    if c is not None:
        return [c], "the dataset is named for it and it is its only measure"
    cols = skeleton(pieces, ds)
    if cols:
        return cols, "its name abbreviates the words"
    if len(pieces) == 1:
        cols = other_form(pieces[0], ds)
        if cols:
            return cols, "another form of its name"
    return None


def _is_log_of(c, ds):
    m = LOG_PREFIX.match(c.norm)
    return bool(m) and any(o is not c and o.norm == m.group(1) for o in ds.columns)
