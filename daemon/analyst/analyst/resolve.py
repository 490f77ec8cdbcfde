"""analyst/resolve.py — picks one column (or date format) when a word fits
several: the project's conventions first ("date_column", "alias.<word>",
"<column>.date_format"), then the user's earlier answers in this turn, else
NeedAsk (the caller turns it into an ask_user).
"""
from analyst.parse import NeedAsk, Unknown
from analyst.schema import norm


class Resolver:
    """Picks one column among candidates: convention, earlier answer, or NeedAsk."""

    def __init__(self, conventions, answers):
        self.conventions = conventions or {}
        self.answers = answers          # [(question, choices, answer text)]
        self.learned = []               # [(key, value, why)] from answers used
        self.several = False            # several datasets: date_column is per dataset
        self.said = []                  # readings to state as "Assumption:" lines

    def conv(self, key):
        """A convention's value as a string, or None."""
        v = self.conventions.get(key)
        if isinstance(v, dict):
            v = v.get("value")
        return v if isinstance(v, str) else None

    def choose(self, cols, question, key, why):
        """The column chosen for cols (two or more), or raises NeedAsk."""
        names = [c.name for c in cols]
        return cols[names.index(self.choose_value(names, question, key, why, self.conv(key)))]

    def choose_value(self, values, question, key, why, known=None):
        """One of several strings (column names, date formats): known (a
        convention's value) when it is one of them, else from an earlier
        answer to this question (remembered under key), else NeedAsk."""
        if known in values:
            return known
        for q, choices, answer in self.answers:
            if q == question or sorted(map(str, choices or [])) == sorted(values):
                pick = match_answer(answer, values)
                if pick is None:
                    raise Unknown(f"I asked \u201c{q}\u201d and the answer \u201c{answer}\u201d matches none of "
                                  f"{', '.join(values)}. Please ask again naming the one you mean.")
                self.learned.append((key, pick, why))
                return pick
        raise NeedAsk(question, list(values), key, why)

    def column(self, m):
        """The one column a mention names."""
        if len(m.cols) == 1:
            return m.cols[0]
        q = f"Which column do you mean by \u201c{m.term}\u201d?"
        return self.choose(m.cols, q, "alias." + norm(m.term),
                           f"\u201c{m.term}\u201d means this column (answered by the user)")

    def date_column(self, ds, mentioned=None):
        """The date column of ds (None when it has none)."""
        if mentioned is not None:
            return mentioned
        cols = ds.date_columns()
        if len(cols) <= 1:
            return cols[0] if cols else None
        for key in (ds.name + ".date_column", "date_column"):
            v = self.conventions.get(key)
            v = v.get("value") if isinstance(v, dict) else v
            for val in (v if isinstance(v, list) else [v]):
                if val in [c.name for c in cols]:
                    return ds.col(val)
        key = ds.name + ".date_column" if self.several else "date_column"
        return self.choose(cols, f"Which column is the date in {ds.name}?", key,
                           f"the date column of {ds.name} (answered by the user)")


def conv_format(res, col):
    """The date format conventions give for a column, or None."""
    for key in (col.name + ".date_format", "date_format"):
        v = res.conventions.get(key)
        v = v.get("value") if isinstance(v, dict) and "value" in v else v
        v = v.get(col.name) if isinstance(v, dict) else v
        if isinstance(v, str) and "%" in v:
            return v
    return None


def date_format_for(res, col):
    """The format of a text date column; asks when day/month order is ambiguous."""
    fmt = conv_format(res, col)
    formats = col.date_formats or col.guessed_formats()
    if fmt or len(formats) < 2:
        return fmt or col.date_format
    monthly = col.first_of_month()
    if monthly in formats:   # "1/1/85, 2/1/85, ...": the 1st of each month, month first
        res.said.append(f"the dates of {col.name} read as {monthly} (month first): every one is the 1st of a month "
                        "and the first number runs through the months, so this is a monthly series")
        return monthly
    sample = next((s for s in col.samples if isinstance(s, str)), "")
    mixed = "" if col.date_formats else (" No single format reads every value the profile looked at, so day-first "
                                         "and month-first dates may be mixed: the ones that do not fit your "
                                         "choice are counted and left out.")
    q = (f"How are the dates in {col.name} written (e.g. \u201c{sample}\u201d)? "
         "%d is the day, %m the month, %Y the year." + mixed)
    return res.choose_value(formats, q, col.name + ".date_format",
                            f"the date format of {col.name} (answered by the user)")


def match_answer(answer, names):
    """The choice an answer picks: exact, case-insensitive, its number, or unique prefix."""
    a = str(answer or "").strip()
    if a in names:
        return a
    if a.isdigit() and 1 <= int(a) <= len(names):
        return names[int(a) - 1]
    hits = [n for n in names if norm(n) == norm(a)]
    if len(hits) == 1:
        return hits[0]
    hits = [n for n in names if norm(a) and (norm(n).startswith(norm(a)) or norm(a) in norm(n))]
    return hits[0] if len(hits) == 1 else None
