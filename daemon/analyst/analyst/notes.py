"""analyst/notes.py — column notes the user keeps as project conventions.

A column's name often does not say what it holds (y = seizure count, ibo =
the bond rate).  The user writes it once:

    daa conventions set y.means "seizure count"
    daa conventions set macro.ibo.means "bond rate; interbank rate"

(`<column>.means` for every dataset with that column, `<dataset>.<column>.means`
for one; several descriptions separated by ";").  An `alias.<words>` convention
(the column a word means, also stored when the user answered which column a
word meant) is a note on that column too.  parse.find_mentions then reads a
run of words that a note holds as that column, and the answer says so in an
"Assumption:" line (the note is quoted).
"""
import re

from analyst.schema import STOP, fold, norm, singular

MEANS = ".means"
NUMBER_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve",
                "hundred", "thousand", "million", "billion", "half", "quarter", "dozen"}


def _value(v):
    """A convention's value as a string, or None."""
    v = v.get("value") if isinstance(v, dict) else v
    return v if isinstance(v, str) else None


def _descriptions(text):
    """The normalised descriptions in a note ("seizure count; seizures")."""
    return [norm(p) for p in re.split(r"[;\n]", text) if norm(p)]


def attach(datasets, conventions):
    """Give each column the notes conventions hold for it (column.notes)."""
    for ds in datasets:
        for c in ds.columns:
            c.notes = []
        for key, v in (conventions or {}).items():
            text = _value(v)
            if not text or not isinstance(key, str):
                continue
            for c in ds.columns:
                if key in (c.name + MEANS, f"{ds.name}.{c.name}{MEANS}"):
                    c.notes += [(d, f"the project's note: {c.name} means \u201c{text.strip()}\u201d")
                                for d in _descriptions(text)]
                elif key.startswith("alias.") and text == c.name and norm(key[6:]):
                    c.notes.append((norm(key[6:]), f"the project's convention alias.{key[6:]} = {c.name}"))


def _fits(words, note):
    """Do the run's words name the note: every word is a word of the note
    (or its singular), the first and last are no stop words unless the run
    is the whole note, and one word at least is a content word."""
    nwords = note.split()
    nset = set(nwords) | {singular(w) for w in nwords}
    if any(w not in nset and singular(w) not in nset for w in words):
        return False
    if [singular(w) for w in words] == [singular(w) for w in nwords]:
        return True
    content = [w for w in words if w not in STOP and len(w) >= 4 and w.isalpha() and w not in NUMBER_WORDS]
    return bool(content) and words[0] not in STOP and words[-1] not in STOP


def match(run, ds):
    """(columns, how) for a run of word tokens a column note holds, or None."""
    if any(t.kind not in ("w", "q") for t in run):
        return None
    words = norm(" ".join(fold(t.text) for t in run)).split()
    if not words:
        return None
    hits = {}
    for c in ds.columns:
        for note, how in getattr(c, "notes", ()):
            if _fits(words, note):
                hits.setdefault(c.name, (c, how))
    if not hits:
        return None
    cols = [c for c, _ in hits.values()]
    return cols, (next(iter(hits.values()))[1] if len(cols) == 1 else "the project's notes")
