"""analyst/schema.py — the datasets as the analyst sees them (from the kernel's
profiles) and the matching of words in a request against real column names.

Matching levels, best first (a higher score wins; equal best scores on two or
more columns make the mention ambiguous and the analyst asks):
  100 exact name            90 same after normalising case, spaces, _ - .
   85 singular/plural       70 a word of a multi-word name ("price" → unit_price)
   60 synonym of the name   50 synonym of a word of the name
   45 the start of a one-word name ("real" → realgdp, realcons: asks)
   40 fuzzy (edit distance 1, or 2 for words of 7+ letters; also against one
      word of a multi-word name)
Normalising also folds accents and ß (Größe ~ grosse); umlauts written out
match too (groesse ~ Größe_cm).
"""
import functools
import re
import unicodedata

SYNONYMS = [
    {"revenue", "sales", "amount", "turnover", "income", "takings", "gmv", "value", "sell", "selling"},
    {"date", "day", "time", "when", "timestamp", "datetime"},
    {"units", "quantity", "qty", "volume", "items", "sold"},
    {"volume", "flow", "discharge"},
    {"expenditure", "expenditures", "spending", "spend", "expenses"},
    {"price", "cost", "fee", "charge"},
    {"customer", "client", "buyer", "user"},
    {"product", "item", "sku", "article"},
    {"category", "type", "segment", "group", "class", "kind"},
    {"region", "area", "territory", "zone"},
    {"temp", "temperature"},
    {"precipitation", "rain", "rainfall"},
    {"wind", "windspeed", "speed"},
    {"tickets", "complaints", "issues"},
    {"tenure", "seniority"},
    {"churned", "churn", "cancelled", "left"},
    {"age", "years"},
    {"discount", "rebate"},
    {"city", "town", "location", "place"},
    {"plan", "tier", "subscription"},
]

# Words that never name a column by synonym, word-of-name or fuzzy matching.
STOP = set("""a an the of in on at by per for to from with and or vs versus is are was
were be been it its this that these those there their what which who how many much
show me give tell list plot chart graph draw make create compute calculate find get
display visualize visualise please over time trend each every all any some total sum
average avg mean median min max minimum maximum highest lowest top bottom count number
most least largest smallest biggest std deviation standard variance distribution
histogram scatter box boxplot bar bars line lines heatmap correlation correlate
between against versus rows row records record entries data dataset table column
columns values unique distinct describe summary summarize summarise overview
statistics stats missing null nulls nan head first last sample samples predict model
forecast outlier outliers normal normally test ttest t compare comparison difference
significant group groups where when than more less greater above below under over
least most equal equals not do does did has have had i we you my our your as into
across grouped split broken down monthly weekly daily yearly annual quarterly month
months week weeks day days year years quarter quarters using use other others based
order orders only also just per cent percent percentage share rate by vs new old
frequency frequencies counts breakdown proportion type types dtypes info shape size
regression regress regressed regressing normality outliers""".split())

_SPLIT = re.compile(r"[\s_\-./]+")


def fold(s):
    """Lower-case, accent-free, ß → ss: the key names are compared under."""
    s = unicodedata.normalize("NFKD", str(s).casefold())
    return "".join(ch for ch in s if not unicodedata.combining(ch))


TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"})


def translit(s):
    """Normalised name with umlauts written out (Größe_cm → "groesse cm")."""
    return norm(str(s).casefold().translate(TRANSLIT))


def norm(s):
    """Normalised name: folded, separators collapsed to single spaces."""
    return " ".join(t for t in _SPLIT.split(fold(s)) if t)


def singular(w):
    """A rough singular of an English word (categories → category)."""
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ses", "xes", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def edit_distance(a, b, cap=3):
    """Levenshtein distance, stopping early once it exceeds cap."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


SYN_INDEX = {}
for _group in SYNONYMS:
    for _w in _group:
        SYN_INDEX.setdefault(_w, set()).update(_group)


def synonyms(word):
    """The synonym group of a (folded) word or its singular, without the word."""
    out = SYN_INDEX.get(word, set()) | SYN_INDEX.get(singular(word), set())
    return out - {word}


LEVEL_WORDS = {"temp", "temperature", "price", "age", "rate", "ratio", "pct", "percent", "percentage",
               "humidity", "score", "avg", "average", "mean", "median", "fee", "tenure", "speed", "wind",
               "kmh", "level", "index", "share", "discount", "lat", "lon", "latitude", "longitude",
               "rating", "grade", "c", "f", "year", "ppm", "ppb", "concentration", "cpi", "infl",
               "inflation", "unemp", "unemployment", "interest", "yield", "pressure", "density",
               "poverty", "rank", "bmi", "height", "weight", "size", "length", "width", "depth", "ph",
               "gewicht", "groesse", "grosse", "cm", "kg", "mm2", "per", "hue", "intensity"}
LEVEL_ENDS = ("rate", "pct", "ratio", "index", "idx", "percent", "price", "temp", "avg")
STOCK_WORDS = {"pop", "population", "balance", "capital", "inventory", "stock", "assets", "headcount",
               "employees", "residents", "reserves", "debt"}
FLOW_WORDS = {"revenue", "sales", "amount", "units", "unit", "quantity", "qty", "count", "visits", "orders",
              "invest", "investment", "spend", "spending", "expense", "expenses", "cost", "costs", "profit",
              "tickets", "precipitation", "rain", "rainfall", "snow", "sold", "total", "volume", "clicks",
              "births", "deaths", "cases", "trips", "calls", "hours", "minutes", "duration", "paid", "payment",
              "payments", "turnover", "gmv", "items", "number", "num", "n"}
FLOW_ENDS = ("sales", "revenue", "amount", "units", "count", "cost", "spend", "invest")
TIME_PARTS = {"year": "year", "yr": "year", "jahr": "year", "annee": "year", "years": "year",
              "quarter": "quarter", "qtr": "quarter", "quartal": "quarter",
              "month": "month", "mon": "month", "monat": "month"}
TIME_RANGE = {"year": (1000, 2200), "quarter": (1, 4), "month": (1, 12)}

UNIT_NAMES = {"id", "subject", "subjectid", "patient", "patientid", "person", "personid", "individual", "respondent",
              "participant", "pid", "case", "caseid", "household", "hhid", "student", "studentid", "customer",
              "customerid", "user", "userid", "client", "member", "firm", "company", "country", "state"}
DATE_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$"
                     r"|^(1[5-9]|20)\d\d ?-?[Qq][1-4]$")   # "1974Q1": a quarter
QUARTER_RE = re.compile(r"^(1[5-9]|20)\d\d ?-?[Qq][1-4]$")
NUMTEXT_RE = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")


class Column:
    """One column of a profile: name, kind and the facts the analyst uses."""

    def __init__(self, p):
        self.name = str(p.get("name", ""))
        self.dtype = str(p.get("dtype", ""))
        self.kind = str(p.get("kind", ""))
        self.distinct = p.get("distinct") if isinstance(p.get("distinct"), int) else None
        self.missing = p.get("missing") if isinstance(p.get("missing"), int) else 0
        self.samples = [s for s in (p.get("samples") or []) if s is not None][:20]
        self.hints = [str(h) for h in (p.get("hints") or [])]
        self.date_format = p.get("date_format") if isinstance(p.get("date_format"), str) else None
        self.date_formats = [f for f in (p.get("date_formats") or []) if isinstance(f, str)]
        self.min, self.max = p.get("min"), p.get("max")
        self.virtual = None
        self.norm = norm(self.name)
        self.words = self.norm.split()
        self.swords = [singular(w) for w in self.words]
        self.snorm = " ".join(self.swords)
        self.tnorm = translit(self.name)
        self.twords = self.tnorm.split()
        top = [t[0] for t in (p.get("top") or []) if isinstance(t, list) and t]
        self.values = list(dict.fromkeys(self.samples + top))
        self.sample_keys = {norm(s): s for s in self.values if isinstance(s, str) and norm(s)}
        for s in self.values:   # "bachelor's degree": the request's words lose the "'s"
            if isinstance(s, str) and re.search(r"['\u2019]s\b", s):
                self.sample_keys.setdefault(norm(re.sub(r"['\u2019]s\b", "", s)), s)

    @functools.cached_property
    def _is_date(self):
        """True for datetime columns and text that looks like dates."""
        if self.kind == "datetime" or "date_like" in self.hints or self.dtype.startswith("datetime"):
            return True
        strs = [s for s in self.samples if isinstance(s, str)]
        return bool(strs) and all(DATE_RE.match(s.strip()) for s in strs)

    @functools.cached_property
    def _is_numeric_text(self):
        """True for numbers stored as text with thousands separators."""
        if "numeric_text" in self.hints:
            return True
        strs = [s for s in self.samples if isinstance(s, str)]
        return self.kind in ("text", "categorical") and bool(strs) and all(NUMTEXT_RE.match(s.strip()) for s in strs)

    @functools.cached_property
    def _is_numeric(self):
        """True for measures: numbers (not ids, not bool flags) or numeric text."""
        if self.is_numeric_text():
            return True
        if self.time_part():
            return False
        return self.kind == "numeric" or (self.kind == "" and self.dtype.startswith(("int", "float")))

    def is_id(self):
        """True for identifier columns (order_id), which are counted, not summed."""
        return self.kind == "id" or self.words[-1:] == ["id"]

    def is_additive(self):
        """True when summing across groups makes sense (flows and stocks, and
        names that say neither); False for levels and rates."""
        return self.measure_kind()[0] != "level"

    def measure_kind(self):
        """(kind, why): "flow" (amounts that add up: revenue, units, rain),
        "stock" (add up across groups but not over time: population, balance),
        "level" (never add up: prices, rates, indices, temperatures, ppm) or
        None when the name says nothing; why names the word that decided."""
        if getattr(self, "derived_kind", None):   # a column the request computes (derived.py)
            return self.derived_kind, self.name
        words = set(self.words) | set(self.swords)
        for kind, vocab in (("level", LEVEL_WORDS), ("stock", STOCK_WORDS), ("flow", FLOW_WORDS)):
            hit = words & vocab
            if hit:
                return kind, sorted(hit)[0]
        joined = self.norm.replace(" ", "")
        for kind, ends in (("level", LEVEL_ENDS), ("stock", STOCK_WORDS), ("flow", FLOW_ENDS)):
            hit = next((e for e in ends if joined.endswith(e) and len(e) >= 3), None)
            if hit:
                return kind, hit
        return None, None

    def time_part(self):
        """"year", "quarter" or "month" for integer columns naming a calendar
        part (year 1000-2200, quarter 1-4, month 1-12), else None."""
        part = TIME_PARTS.get(self.norm)
        if part is None or not self.dtype.startswith(("int", "float")) and self.kind != "numeric":
            return None
        lo, hi = TIME_RANGE[part]
        try:
            ok = self.min is None or (lo <= float(self.min) and float(self.max) <= hi)
        except (TypeError, ValueError):
            ok = False
        return part if ok else None

    def is_flag(self):
        """True for yes/no columns (bool, or values like yes/no, true/false, y/n)."""
        vals = {str(v).strip().casefold() for v in self.values}
        return self.kind == "bool" or (bool(vals) and vals <= {"yes", "no", "true", "false", "y", "n", "t", "f"})

    def is_binary01(self):
        """True for numeric 0/1 columns (a yes/no coded as numbers: rates, not sums)."""
        try:
            return self.distinct == 2 and float(self.min) == 0 and float(self.max) == 1 and self.is_numeric()
        except (TypeError, ValueError):
            return False

    def is_code(self):
        """True for small integer codes (survey answers, classes: 1..7) that
        can group rows but are no amount to add up."""
        try:
            return (self.dtype.startswith("int") and self.distinct is not None and 2 <= self.distinct <= 12
                    and float(self.min) >= 0 and self.measure_kind()[0] is None and not self.is_id())
        except (TypeError, ValueError):
            return False

    def is_binary(self):
        """True for two-valued columns (yes/no, True/False, 0/1)."""
        return self.kind == "bool" or self.distinct == 2

    @functools.cached_property
    def _is_category(self):
        """True for columns worth grouping by."""
        if self.is_date() or self.is_numeric_text():
            return False
        if self.time_part() in ("quarter", "month"):
            return True
        if self.kind in ("categorical", "bool"):
            return True
        return self.distinct is not None and self.distinct <= 50 and self.kind != "numeric"


    def is_date(self):
        """True for datetime columns and text that looks like dates."""
        return self._is_date

    def guessed_formats(self):
        """The day/month orders a text date column's samples allow when the
        profile found no format reading every value (mixed orders, or no
        hint): ["%d/%m/%Y", "%m/%d/%Y"] for 03/01/2020; [] otherwise."""
        if self.date_format or self.date_formats or self.dtype.startswith("datetime") or not self.is_date():
            return []
        strs = [x.strip() for x in self.samples if isinstance(x, str)]
        m = [re.match(r"^(\d{1,2})([/.])(\d{1,2})\2(\d{2}|\d{4})$", x) for x in strs]
        if not strs or not all(m):
            return []
        sep, year = m[0].group(2), "%Y" if len(m[0].group(4)) == 4 else "%y"
        return [f"%d{sep}%m{sep}{year}", f"%m{sep}%d{sep}{year}"]

    def is_numeric_text(self):
        """True for numbers stored as text with thousands separators."""
        return self._is_numeric_text

    def is_quarter_text(self):
        """True for text periods written as quarters ("1974Q1", "1974-Q1")."""
        strs = [x.strip() for x in self.samples if isinstance(x, str)]
        return bool(strs) and all(QUARTER_RE.match(x) for x in strs)

    def first_of_month(self):
        """The format of day/month-ambiguous dates that are all the 1st of a
        month written month first ("1/1/85", "2/1/85", ...: a monthly series),
        else None."""
        strs = [x.strip() for x in self.samples if isinstance(x, str)]
        m = [re.match(r"^(\d{1,2})([/.])1\2(\d{2}|\d{4})$", x) for x in strs]
        if len(strs) < 3 or not all(m) or len({x.group(1) for x in m}) < 2 or (self.distinct or 0) <= 12:
            return None
        return f"%m{m[0].group(2)}%d{m[0].group(2)}{'%Y' if len(m[0].group(3)) == 4 else '%y'}"

    def is_numeric(self):
        """True for measures (numbers or numeric text, not ids)."""
        return self._is_numeric

    def is_category(self):
        """True for columns worth grouping by."""
        return self._is_category


class Dataset:
    """One dataset: name, row count, columns and the Python variable the code uses."""

    RESERVED = {"pd", "np", "plt", "dfs", "df", "stats", "data", "ax", "fig", "result", "model"}

    def __init__(self, p):
        self.name = str(p.get("name", "data"))
        self.rows = p.get("rows") if isinstance(p.get("rows"), int) else None
        self.backend = p.get("backend") if isinstance(p.get("backend"), str) else None   # "dask": larger than memory
        self.columns = [Column(c) for c in (p.get("columns") or []) if isinstance(c, dict)]
        var = re.sub(r"\W+", "_", norm(self.name)).strip("_")
        ok = var.isidentifier() and var.isascii() and var not in self.RESERVED
        import keyword
        self.var = var if ok and not keyword.iskeyword(var) else "data"

    def col(self, name):
        """The Column called exactly name, or None."""
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def date_columns(self):
        """Columns that hold dates; without any, the date built from a numeric
        year (+ quarter or month) column, when there is one."""
        real = [c for c in self.columns if c.is_date()]
        if real:
            return real
        v = self.virtual_date()
        return [v] if v is not None else []

    @functools.cached_property
    def _virtual(self):
        parts = {}
        for c in self.columns:
            p = c.time_part()
            if p and p not in parts:
                parts[p] = c
        if "year" not in parts:
            return None
        sub = parts.get("quarter") or parts.get("month")
        names = {c.name for c in self.columns}
        name = next(n for n in ("date", "period", "when", "date_") if n not in names)
        y = parts["year"]
        v = Column({"name": name, "dtype": "datetime64[ns]", "kind": "datetime",
                    "min": f"{int(float(y.min)) if y.min is not None else 1970}-01-01",
                    "max": f"{int(float(y.max)) if y.max is not None else 1970}-12-31"})
        v.virtual = (y, sub, sub.time_part() if sub is not None else None)
        return v

    def virtual_date(self):
        """A date Column made from year (+ quarter/month) columns, or None;
        its .virtual is (year column, sub column or None, "quarter"/"month"/None)."""
        return self._virtual

    def unit_column(self):
        """The column naming the people or things the rows are about when each
        has several rows (subject, patient_id: 4 visits per patient), or None."""
        for c in self.columns:
            named = c.is_id() or c.norm.replace(" ", "") in UNIT_NAMES or (c.words and c.words[-1] in UNIT_NAMES)
            if named and c.distinct and self.rows and 1 < c.distinct < self.rows and not c.is_date() \
                    and not c.is_binary() and not (c.is_numeric() and c.measure_kind()[0]):
                return c
        return None

    def step(self):
        """The data's own time step when it is one series ("Y", "Q", "M", "W",
        "D": one row per year, quarter, ...), else None."""
        cols = self.date_columns()
        rpt = self.rows_per_time()
        if len(cols) != 1 or rpt is None or not 0.9 <= rpt <= 1.1:
            return None
        d = cols[0]
        if getattr(d, "virtual", None):
            return {"quarter": "Q", "month": "M"}.get(d.virtual[2], "Y")
        if d.is_quarter_text():
            return "Q"
        if d.first_of_month():
            return "M"
        try:
            lo, hi = (tuple(int(x) for x in str(v)[:10].split("-")) for v in (d.min, d.max))
        except (TypeError, ValueError):
            return sample_step(d)
        days = (hi[0] - lo[0]) * 365.25 + (hi[1] - lo[1]) * 30.44 + (hi[2] - lo[2])
        return step_of_gap(days / max((d.distinct or 2) - 1, 1))

    def rows_per_time(self):
        """About how many rows share one time point (1: a single series; more:
        records or a panel), or None when unknown."""
        cols = self.date_columns()
        if not cols or not self.rows:
            return None
        d = cols[0]
        if getattr(d, "virtual", None):
            y, sub, _ = d.virtual
            n = (y.distinct or 0) * ((sub.distinct or 1) if sub is not None else 1)
        else:
            n = d.distinct or 0
        return self.rows / n if n else None


def step_of_gap(days):
    """The period ("D", "W", "M", "Q", "Y") of a gap in days between readings,
    or None; trading days (about 1.4 days apart: no weekends) are daily."""
    return next((f for f, a, b in (("D", 0.9, 1.6), ("W", 6.5, 7.5), ("M", 28, 31.5), ("Q", 88, 93),
                                     ("Y", 360, 370)) if a <= days <= b), None)


def sample_step(d):
    """The period of a text date column the profile gave no min/max for,
    read from the median gap between its first values when they are ISO
    dates ("1959-01-01", "1959-02-01", ...: monthly) or in the format the
    profile found for the column ("19-Sep-03", "18-Sep-03": daily), else None."""
    days = _sample_days(d)
    if days is None:
        return None
    gaps = sorted(abs((b - a).days) for a, b in zip(days, days[1:]))
    return step_of_gap(gaps[len(gaps) // 2]) if len(gaps) >= 2 else None


def _sample_days(d):
    """The column's sample values as dates: ISO, else in one of the formats the
    profile gave for it; None when they do not all read."""
    import datetime
    for fmt in [None] + [f for f in [d.date_format] + d.date_formats if f]:
        try:
            return [datetime.date.fromisoformat(str(x).strip()[:10]) if fmt is None
                    else datetime.datetime.strptime(str(x).strip(), fmt).date() for x in d.samples]
        except ValueError:
            continue
    return None


class Term:
    """A request term prepared once for matching against many columns."""

    def __init__(self, term):
        self.raw = term
        self.t = norm(term)
        self.ts = " ".join(singular(w) for w in self.t.split())
        self.stop = self.t in STOP or self.ts in STOP
        self.syn = synonyms(self.t) | synonyms(self.ts)
        self.one = " " not in self.t


def score_column(term, col):
    """How well a request term (raw text or Term) names a column: 0 (not) .. 100 (exact)."""
    tm = term if isinstance(term, Term) else Term(term)
    if not tm.t:
        return 0
    if tm.raw == col.name or tm.raw.strip() == col.name:
        return 100
    if tm.t == col.norm or tm.t == col.tnorm:
        return 90
    if tm.ts == col.snorm:
        return 85
    if tm.stop:
        return 0
    if "-" in tm.raw and " " not in tm.raw.strip() and not tm.one:   # one hyphenated word: "sit-ups", "chin-ups"
        pieces = tm.t.split()
        if "".join(pieces) == col.norm.replace(" ", ""):
            return 90
        if len(pieces[0]) >= 3 and (pieces[0] == col.norm or singular(pieces[0]) == col.snorm):
            return 70
    if tm.one and len(col.words) > 1 and (tm.t in col.words or tm.ts in col.swords or tm.t in col.twords):
        return 70 if len(tm.t) > 2 else 0
    if tm.syn and (col.norm in tm.syn or col.snorm in tm.syn):
        return 60
    if tm.syn and len(col.words) > 1 and any(w in tm.syn for w in col.words + col.swords):
        return 50
    if len(tm.ts) >= 4 and tm.one and abs(len(tm.ts) - len(col.snorm)) <= 2:
        limit = 2 if len(tm.ts) >= 7 else 1
        if edit_distance(tm.ts, col.snorm, limit) <= limit or edit_distance(tm.t, col.norm, limit) <= limit:
            return 40
    if len(tm.t) >= 3 and tm.one and len(col.words) == 1 and col.norm.startswith(tm.t) and len(col.norm) > len(tm.t) + 1:
        return 45
    if tm.one and len(col.words) == 1 and len(col.norm) >= 4 and tm.t.startswith(col.norm) and len(tm.t) > len(col.norm) + 1:
        return 45   # a short name written out: "unemployment" → unemp, "inflation" → infl   # the start of a name: "real" fits realgdp, realcons, ... (several: the analyst asks)
    if len(tm.ts) >= 5 and tm.one and len(col.words) > 1:   # a misspelt word of a multi-word name
        limit = 2 if len(tm.ts) >= 8 else 1
        if any(len(w) >= 5 and edit_distance(tm.ts, w, limit) <= limit for w in col.swords + col.twords):
            return 40
    return 0


def best_columns(term, ds):
    """(score, [columns with that best score]) for a term in a dataset."""
    best, cols = 0, []
    tm = Term(term)
    for c in ds.columns:
        s = score_column(tm, c)
        if s > best:
            best, cols = s, [c]
        elif s == best and s > 0:
            cols.append(c)
    return best, drop_logs(term, cols)


LOG_PREFIX = re.compile(r"^(?:log|ln|l)[ _]?(.+)$")


def drop_logs(term, cols):
    """Of several columns a term fits equally, leave out those that are the
    log of another of them (log_volume beside volume), unless the term says log."""
    if len(cols) < 2 or re.search(r"\b(log|ln|logarithm|logged)\b", norm(term)):
        return cols
    names = {c.norm for c in cols}
    keep = [c for c in cols if not (LOG_PREFIX.match(c.norm) and LOG_PREFIX.match(c.norm).group(1) in names)]
    return keep or cols

