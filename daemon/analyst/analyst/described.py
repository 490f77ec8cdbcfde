"""analyst/described.py — words of a request that describe rather than ask:
the rows ("patients", "flowers"), a column's measure noun ("murder rate"),
words of the dataset's name, words just before a column named in
parentheses.  They are accounted for without naming a column.
"""
import re

from analyst.schema import fold


ROW_NOUNS = set("""respondents respondent people persons person individuals individual participants participant
subjects subject patients patient students student customers clients users households household families
firms companies company countries country states cities flowers flower plants tumors tumours tumor tumour
samples observations records readings reading measurements measurement runs run trials trial cases
employees workers voters voter entries units items households wines wine experiments days""".split())
GENDER_NOUNS = {"women", "woman", "men", "man", "female", "females", "male", "males", "girls", "boys"}
MEASURE_NOUNS = {"rate", "rates", "level", "levels", "concentration", "content", "amount", "value", "values",
                 "score", "scores", "figure", "figures", "reading", "readings", "measurement", "measurements",
                 "time", "times", "variable", "column", "stock"}


def is_percent(c):
    """True when a column already holds a percentage ("poverty percentage" for
    PERPOVERTY is the column, not a share to compute): its name says so, or it
    is a level between 0 and 100."""
    if re.search(r"per|pct|percent|share|rate|prop", c.norm.replace(" ", "")):
        return True
    try:
        return c.measure_kind()[0] == "level" and 0 <= float(c.min) and float(c.max) <= 100
    except (TypeError, ValueError):
        return False


def described_tokens(request, tokens, ms, ds):
    """Positions of words that describe rather than ask: a column's measure
    noun ("murder rate", "co2 readings"), the rows ("patients", "flowers",
    women when no column says sex), words of the dataset's name ("sunspot"
    in sunspots), and the words just before a column named in parentheses
    ("doctor visits (mdvis)", "Clinton and Dole voters (vote)")."""
    out, paren = set(), set()
    cols = {c.norm for c in ds.columns}
    gendered = any(w in ("sex", "gender") or w in GENDER_NOUNS for c in ds.columns for w in c.words) or \
        any(str(v).casefold() in GENDER_NOUNS for c in ds.columns if c.is_category() for v in c.values)
    dsname = re.sub(r"[^a-z]", "", fold(ds.name))
    for t in tokens:
        w = t.f
        if (w in ROW_NOUNS or (w in GENDER_NOUNS and not gendered)) and w not in cols:
            out.add(t.i)
        elif len(w) >= 4 and w.isalpha() and (w in dsname or w.rstrip("s") in dsname):
            out.add(t.i)
    for m in ms:   # "murder rate", "violent crime rate" (crime: a word of statecrime)
        k = m.end + (1 if m.end in out else 0)
        if m.value is None and m.score >= 70 and k < len(tokens) and m.col0.is_numeric() and tokens[k].f not in cols \
                and (tokens[k].f in MEASURE_NOUNS or tokens[k].f in ("percentage", "percent") and is_percent(m.col0)):
            out.add(k)
    for par in re.finditer(r"\(([^()]*)\)", request):
        inside = [m for m in ms if par.start() < tokens[m.start].pos < par.end()]
        if not inside:
            continue
        before = [t for t in tokens if t.pos < par.start()][-5:]
        for t in reversed(before):
            if t.f in ("of", "for", "between", "and", "the", "in", "with", "is", "are", "by", "per", "across", "than") and t is not before[-1] and t.f != "and":
                break
            if any(m.start <= t.i < m.end and m.score >= 85 for m in ms):
                break
            paren.add(t.i)
    return out | paren, paren
