"""analyst/described.py — words of a request that describe rather than ask:
the rows ("patients", "flowers"), a column's measure noun ("murder rate"),
words of the dataset's name, words just before a column named in
parentheses.  They are accounted for without naming a column.
"""
import re

from analyst.schema import STOP, fold


ROW_NOUNS = set("""respondents respondent people persons person individuals individual participants participant
subjects subject patients patient students student customers clients users households household families
firms companies company countries country states cities flowers flower plants tumors tumours tumor tumour
samples observations records readings reading measurements measurement runs run trials trial cases
employees workers voters voter entries units items households wines wine experiments days babies baby infants
newborns mothers births animals cars vehicles houses homes passengers travellers travelers visitors athletes players
teams games matches schools hospitals counties districts stores shops products trips flights""".split())
GENDER_NOUNS = {"women", "woman", "men", "man", "female", "females", "male", "males", "girls", "boys"}
MEASURE_NOUNS = {"rate", "rates", "level", "levels", "concentration", "content", "amount", "value", "values",
                 "score", "scores", "figure", "figures", "reading", "readings", "measurement", "measurements",
                 "time", "times", "variable", "column", "stock", "price", "prices"}


NOT_MODIFIERS = set("""high low higher lower large larger small smaller big bigger weak weaker strong stronger good
better bad worse early earlier late later recent young younger old older new same different other typical usual
overall normal mean average median total first last next previous current whole entire only both either all
annual monthly weekly daily yearly quarterly real nominal male female""".split())


def row_noun(w):
    """A noun for the rows, plural or singular ("mothers", "the mother's age")."""
    return w in ROW_NOUNS or w + "s" in ROW_NOUNS or w.endswith("y") and w[:-1] + "ies" in ROW_NOUNS


def modifiers(tokens, ms, taken, skip, passed=()):
    """[(positions, mention)] for words that name nothing but stand right
    before a column, as part of what it is called ("disease progression",
    "market value", "county population", "credit card expenditure"): up to
    two such words, each a plain word of its own (not a stop word, not an
    operation, direction, period or negation word: `skip`), not already
    read (`taken`; words already known to describe, `passed`, are stepped
    over). They describe the column; the caller says so in an Assumption
    line, since they might also have been meant as a condition."""
    out = []
    covered = {i for m in ms for i in range(m.start, m.end)} | set(taken)
    for m in ms:
        if m.value is not None or m.start == 0:
            continue
        k, run = m.start - 1, []
        while k >= 0 and len(run) < 3 and k not in covered and (k in passed or plain_word(tokens[k], skip)):
            run.insert(0, k)
            k -= 1
        while run and run[0] in passed:
            run.pop(0)
        if run and any(i not in passed for i in run):
            out.append((run, m))
    return out


def row_modifiers(tokens, ms, described, skip):
    """[(position, noun position)] for one plain word right before a noun for
    the rows that names nothing ("trading days", "survey respondents"): it
    says what the rows are; the caller says so in an Assumption line, since
    it might have been meant as a condition ("rainy days")."""
    covered = {i for m in ms for i in range(m.start, m.end)}
    out = []
    for i in sorted(described):
        k = i - 1
        if row_noun(tokens[i].f) and k >= 0 and k not in described and k not in covered \
                and plain_word(tokens[k], skip) and not row_noun(tokens[k].f):
            out.append((k, i))
    return out


def plain_word(t, skip):
    """A word that may be part of a column's description ("disease", "market")."""
    w = t.f
    return (t.kind == "w" and re.fullmatch(r"[a-z][a-z'-]*[a-z]", w) is not None and len(w) > 2 and w not in STOP
            and w not in skip and w not in NOT_MODIFIERS and w not in GENDER_NOUNS and not w.endswith(("est", "ly"))
            and not t.possessive)


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
    women when no column says sex), words of the dataset's name next to a
    column ("sunspot activity" in sunspots), and the words just before a
    column named in parentheses ("doctor visits (mdvis)") or by its exact
    code-like name ("the interest rate R")."""
    out = set()
    cols = {c.norm for c in ds.columns}
    gendered = any(w in ("sex", "gender") or w in GENDER_NOUNS for c in ds.columns for w in c.words) or \
        any(str(v).casefold() in GENDER_NOUNS for c in ds.columns if c.is_category() for v in c.values)
    rows_are = entity_column(ds)
    for t in tokens:
        w = t.f
        asked = t.i > 0 and tokens[t.i - 1].f in ("which", "what")   # "which state ...": an entity asked for
        if (row_noun(w) and rows_are is None and not asked or (w in GENDER_NOUNS and not gendered)) and w not in cols:
            out.add(t.i)
        elif dataset_word(t, tokens, ms, ds):
            out.add(t.i)
    for m in ms:   # "murder rate", "violent crime rate" (crime: a word of statecrime)
        k = m.end + (1 if m.end in out else 0)
        if m.value is None and k < len(tokens) and m.col0.is_numeric() and tokens[k].f not in cols \
                and (tokens[k].f in MEASURE_NOUNS or tokens[k].f in ("percentage", "percent") and is_percent(m.col0)):
            out.add(k)
    for m in ms:   # "each education level", "treatment group": the values of a category column
        k = m.end
        if m.value is None and k < len(tokens) and m.col0.is_category() and tokens[k].f in CATEGORY_NOUNS:
            out.add(k)
    paren = set()
    for par in re.finditer(r"\(([^()]*)\)", request):
        inside = [m for m in ms if par.start() < tokens[m.start].pos < par.end()]
        if inside:
            paren |= words_before(tokens, ms, [t for t in tokens if t.pos < par.start()][-5:])
    for m in ms:
        if m.value is None and m.score == 100 and code_like(m.col0.name) and not paren & set(range(m.start, m.end)):
            paren |= words_before(tokens, ms, tokens[max(0, m.start - 3):m.start], plain=True)
    return out | paren, paren


def words_before(tokens, ms, before, plain=False):
    """The words of `before` (the tokens just before a column named exactly)
    that describe it: back to a preposition or a column named by its name
    (plain: back to any word with a meaning of its own, "average", "by")."""
    out = set()
    for t in reversed(before):
        if plain and (t.f in STOP and t.f not in MEASURE_NOUNS or t.kind != "w"):
            break
        if t.f in ("of", "for", "between", "and", "the", "in", "with", "is", "are", "by", "per", "across", "than") \
                and t is not before[-1] and t.f != "and":
            break
        if any(m.start <= t.i < m.end and m.score >= 85 for m in ms):
            break
        out.add(t.i)
    return out


def code_like(name):
    """A column name that is a code rather than a word ("R", "Dp", "TOTEMP",
    "hs_grad"): one or two letters, or capitals, digits or underscores in it."""
    return len(name) <= 2 or bool(re.search(r"[A-Z0-9_]", name))


def entity_column(ds):
    """The text column naming each row once (state, city), or None: then the
    rows are those, and a row noun like "people" does not describe them."""
    if not ds.rows or ds.rows < 3:
        return None
    return next((c for c in ds.columns if c.distinct == ds.rows and not c.is_numeric() and not c.is_date()
                 and not c.is_id() and c.kind in ("text", "categorical")), None)


def dataset_word(t, tokens, ms, ds):
    """A word of the dataset's name that describes rather than asks: before
    "data", or next to a column ("sunspot activity", "violent crime"; the
    whole name may stand a few function words away: "volume of the Nile").
    Alone it may be the very measure asked about ("which year had the most
    sunspots", inflation in interest_inflation)."""
    w = t.f
    dsname = re.sub(r"[^a-z]", "", fold(ds.name))
    if len(w) < 4 or not w.isalpha() or not (w in dsname or w.rstrip("s") in dsname):
        return False
    nxt = tokens[t.i + 1].f if t.i + 1 < len(tokens) else ""
    if nxt in ("data", "dataset", "study", "file", "table", "series"):
        return True
    near = 3 if w.rstrip("s") == dsname.rstrip("s") else 1   # "volume of the Nile", "sunspot activity"
    for m in ms:
        if m.value is not None:
            continue
        gap = tokens[m.end:t.i] if m.end <= t.i else tokens[t.i + 1:m.start]
        if len(gap) < near and all(x.f in ("of", "the", "in", "for", "a") for x in gap):
            return True
    return False


CATEGORY_NOUNS = {"level", "levels", "group", "groups", "category", "categories", "class", "classes", "type", "types"}
SHARE_NOUNS = {"share", "shares", "percentage", "percentages", "percent", "proportion", "proportions", "fraction"}


def in_0_100(c):
    try:
        return 0 <= float(c.min) and float(c.max) <= 100
    except (TypeError, ValueError):
        return False


def percent_values(tokens, ds, described):
    """Positions of "percentage of women" / "women's share" on a table whose
    measures all hold percentages (women_degrees: each field's % of women):
    the share is what the values already are, not one to compute; the
    people named ("women") must be words that only describe and be in the
    dataset's name (a fair.csv of women is no table of shares of women)."""
    from analyst.matcher import measures
    cols = measures(ds)
    if not cols or not all(is_percent(c) or in_0_100(c) for c in cols):
        return set()
    dsname = re.sub(r"[^a-z]", "", fold(ds.name))
    named = {i for i in described if len(tokens[i].f) >= 3 and tokens[i].f in dsname}   # women in women_degrees
    out = set()
    for t in tokens:
        if t.f not in SHARE_NOUNS:
            continue
        k = t.i
        if k + 2 < len(tokens) and tokens[k + 1].f == "of" and k + 2 in named:
            out |= {k, k + 1, k + 2}
        elif k > 0 and k - 1 in named and tokens[k - 1].possessive:
            out |= {k - 1, k}
    return out


def measure_nouns(tokens, ms, described, paren):
    """Positions of described measure nouns that ask for no operation: "murder
    rate" (after its column), "poverty percentage (PERPOVERTY)" for a column
    already in percent, "the interest rate R" before a continuous column named
    by its code; "pass rate (GRADE = 1)" of a 0/1 column stays a rate."""
    out = set()
    for i in described:
        w = tokens[i].f
        if w not in MEASURE_NOUNS | {"percentage", "percent"}:
            continue
        for m in ms:
            if m.value is not None or not m.col0.is_numeric():
                continue
            if m.end in (i, i - 1):
                out.add(i)
            elif i in paren and i < m.start <= i + 4 and not (m.col0.is_binary01() or m.col0.is_flag() or m.col0.is_code()) \
                    and (w not in ("percentage", "percent") or is_percent(m.col0)):
                out.add(i)
    return out
