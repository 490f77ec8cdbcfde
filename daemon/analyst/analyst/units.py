"""analyst/units.py — answers in the unit asked for: "the average birth
weight in kilograms" when the request (or the column's name) says the column
is in grams ("bwt is in grams", "weight (in grams)", weight_g), "T is in
days: what is the median T in years?".

plan() finds the unit asked for ("in kilograms") and the unit the column is
in; the code converts the column before anything else (said on a "Units:"
line), and a number compared with the column is read in the column's own
unit unless a unit follows it ("below 2.5 kg"). Asked for a unit while the
column's own unit is unknown, or a unit of another kind, it refuses (named):
a number in the wrong unit would be silently wrong.
"""
from analyst.parse import Unknown
from analyst.schema import fold

UNITS = {  # word: (dimension, size in the dimension's base unit)
    "mg": ("mass", 0.001), "milligrams": ("mass", 0.001), "g": ("mass", 1.0), "gram": ("mass", 1.0),
    "grams": ("mass", 1.0), "kg": ("mass", 1000.0), "kgs": ("mass", 1000.0), "kilogram": ("mass", 1000.0),
    "kilograms": ("mass", 1000.0), "kilos": ("mass", 1000.0), "lb": ("mass", 453.59237), "lbs": ("mass", 453.59237),
    "pound": ("mass", 453.59237), "pounds": ("mass", 453.59237), "ounces": ("mass", 28.349523125),
    "oz": ("mass", 28.349523125),
    "seconds": ("time", 1 / 86400), "minutes": ("time", 1 / 1440), "hours": ("time", 1 / 24), "days": ("time", 1.0),
    "weeks": ("time", 7.0), "months": ("time", 30.4375), "years": ("time", 365.25), "yrs": ("time", 365.25),
    "hrs": ("time", 1 / 24), "mins": ("time", 1 / 1440), "secs": ("time", 1 / 86400),
    "mm": ("length", 0.1), "millimeters": ("length", 0.1), "millimetres": ("length", 0.1), "cm": ("length", 1.0),
    "centimeters": ("length", 1.0), "centimetres": ("length", 1.0), "meters": ("length", 100.0),
    "metres": ("length", 100.0), "km": ("length", 100000.0), "kilometers": ("length", 100000.0),
    "kilometres": ("length", 100000.0), "inches": ("length", 2.54), "inch": ("length", 2.54),
    "feet": ("length", 30.48), "foot": ("length", 30.48), "miles": ("length", 160934.4),
}
NAME_UNITS = {"g", "kg", "lb", "lbs", "cm", "mm", "km", "days", "hours", "minutes", "years", "weeks", "months",
              "grams", "kilograms", "pounds", "seconds", "yrs", "hrs", "mins", "secs"}   # a unit written in a column's name (weight_kg)
SAYS = {"is", "are", "was", "were", "measured", "given", "recorded", "expressed", "reported", "stated", "shown"}


def name_unit(c):
    """The unit a column's name states (weight_kg, time_days), or None."""
    return next((w for w in (c.words if len(c.words) > 1 else []) if w in NAME_UNITS), None)


def plan(it, tokens, ms, request):
    """Sets it["convert"] = (column, factor, from, to) when a unit is asked
    for; returns the positions of the unit phrases read (described)."""
    used, source, target = set(), {}, None
    for k, t in enumerate(tokens):
        if t.f != "in" or k + 1 >= len(tokens) or fold(tokens[k + 1].text) not in UNITS:
            continue
        unit = fold(tokens[k + 1].text)
        before = [x.f for x in tokens[max(0, k - 2):k]]
        m = next((x for x in reversed(ms) if x.value is None and x.end <= k and x.col0.is_numeric()), None)
        said = bool(set(before) & SAYS) or request[:t.pos].rstrip().endswith("(")
        if said and m is not None:   # "bwt is in grams", "weight (in grams)": the column's own unit
            source[m.cols[0].name] = unit
        else:
            target = (unit, m)
        used |= {k, k + 1} | ({k - 1} if before[-1:] and before[-1] in SAYS else set())
    used |= threshold_units(it, tokens, source)
    if target is None:
        return used
    unit, m = target
    cols = [m.cols[0]] if m is not None and len(m.cols) == 1 else list(it.get("measures") or [])
    if len(cols) != 1:
        raise Unknown(f"I did not understand which column \u201cin {unit}\u201d is about: name it right before, "
                      f"e.g. \u201caverage COLUMN in {unit}\u201d.")
    c = cols[0]
    have = source.get(c.name) or name_unit(c)
    if have is None and UNITS[unit][0] == "time":
        return set()   # "in years" may name a period, not a unit: left to the rest of the request
    if source.get(c.name) and name_unit(c) and UNITS[source[c.name]] != UNITS[name_unit(c)]:
        raise Unknown(f"You said {c.name} is in {source[c.name]}, but its name says {name_unit(c)}, so I did not "
                      "answer: name the column you mean.")
    if have is None:
        raise Unknown(f"You asked for {c.name} in {unit}, but I do not know the unit {c.name} is in, so I did not "
                      f"convert it (a wrong guess would give a wrong number). Say it, e.g. \u201c{c.name} is in "
                      f"grams: what is its average in {unit}?\u201d.")
    if UNITS[have][0] != UNITS[unit][0]:
        raise Unknown(f"You asked for {c.name} in {unit}, but it is in {have}: I cannot convert one to the other.")
    if have != unit:
        factor = UNITS[have][1] / UNITS[unit][1]
        it["convert"] = (c, factor, have, unit)
        for f in it["filters"]:   # a number compared with the column: now in the unit asked for
            if f.get("col") is c and f["kind"] in ("compare", "range"):
                f.setdefault("written", f["value"])
                scale(f, factor)
    return used


def scale(f, k):
    """A compare or range filter's number(s) times k (into another unit)."""
    f["value"] = [x * k for x in f["value"]] if f["kind"] == "range" else f["value"] * k


def threshold_units(it, tokens, source):
    """"bwt below 2.5 kg": a number compared with a column and followed by a
    unit is turned into the column's own unit (known from the request or its
    name); refused when that is unknown. Returns the unit words' positions."""
    used = set()
    for f in it["filters"]:
        c = f.get("col")
        places = [i for i in list(f.get("span") or ()) + list(f.get("toks") or ()) + [f.get("tok")] if isinstance(i, int)]
        if c is None or f["kind"] not in ("compare", "range") or not places:
            continue
        last = max(places)
        after = fold(tokens[last + 1].text) if last + 1 < len(tokens) else ""
        if after not in UNITS:
            continue
        have = source.get(c.name) or name_unit(c)
        if have is None and UNITS[after][0] == "time":   # "married more than 10 years": the column's own unit
            used.add(last + 1)
            continue
        if have is None:
            raise Unknown(f"You compared {c.name} with a number in {after}, but I do not know the unit {c.name} is "
                          f"in, so I did not answer. Say it, e.g. \u201c{c.name} is in grams\u201d, or give the number "
                          f"in {c.name}'s own unit.")
        if UNITS[have][0] != UNITS[after][0]:
            raise Unknown(f"{c.name} is in {have}; I cannot compare it with a number in {after}.")
        k = UNITS[after][1] / UNITS[have][1]
        f["written"] = f["value"]
        scale(f, k)
        f["assume"] = f"the number compared with {c.name} converted from {after} to {have} (its unit)"
        used.add(last + 1)
    return used


def lines(it, v, col, lit):
    """The conversion code (before the filters), said on a "Units:" line."""
    c, factor, have, unit = it["convert"]
    return [f"{col(v, c)} = {col(v, c)} * {factor!r}",
            f"print({lit(f'Units: {c.name} converted from {have} to {unit} (x {factor:g}).')})"]
