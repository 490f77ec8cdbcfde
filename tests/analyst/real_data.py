"""tests/analyst/real_data.py — real public datasets the corpus also covers,
copied at test time from Debian packages (never committed), plus one messy
CSV generated to mimic a hand-kept sheet.  Each is written as a plain CSV;
the only changes are the ones a user would make to open the file at all
(stated per dataset below).

  macro      statsmodels macrodata.csv (python3-statsmodels): US quarterly
             macro series 1959-2009: year, quarter, realgdp, ..., cpi,
             tbilrate, unemp, pop, infl, realint.  Copied as is.
  co2        statsmodels co2.csv: weekly Mauna Loa CO2 (ppm) 1958-2001 with
             gaps; the yyyymmdd integer date written as YYYY-MM-DD (what
             statsmodels' own loader does).
  grunfeld   statsmodels grunfeld.csv: investment panel, 10 firms x 20 years
             (invest, value, capital, firm, year).  Copied as is.
  anes96     statsmodels anes96.csv: 1996 US election survey (tab separated,
             quoted header) written as CSV; vote is 0/1, educ and PID codes.
  statecrime statsmodels statecrime.csv: 51 US states.  Copied as is.
  nile       statsmodels nile.csv: yearly Nile volume 1871-1970.  As is.
  iris       scikit-learn's iris.csv (python3-sklearn): the count header
             replaced by column names, species 0/1/2 by their names.
  wine       scikit-learn's wine_data.csv: same treatment, class as class_0..2.
  fair       statsmodels fair.csv: 6,366 women surveyed on affairs (rate_marriage,
             age, yrs_married, children, religious 1-4, educ, ..., affairs).  As is.
  spector    statsmodels spector.csv (space separated, quoted header): GPA,
             TUCE, PSI (0/1), GRADE (0/1) of 32 students; written as CSV without
             the OBS counter.
  sunspots   statsmodels sunspots.csv: YEAR, SUNACTIVITY 1700-2008.  As is.
  interest_inflation statsmodels interest_inflation/E6.csv: year, quarter, Dp
             (inflation), R (interest rate), 1972-1998.  As is.
  cpunish    statsmodels cpunish.csv: executions in 17 US states; the STATE
             column left out (as statsmodels' own loader does), so no column
             names the states.
  lbw        statsmodels genmod/tests/results/stata_lbw_glm.csv: Hosmer &
             Lemeshow's 189 births (bwt in grams, lwt, race named).  As is.
  vaso       statsmodels stats/tests/results/binary_constrict.csv: Finney's
             39 vaso-constriction trials (rate, volumne, their logs); the
             constant column `const` left out.
  goog       python3-matplotlib's sample_data/goog.npz: Google daily prices
             2004-2008 (date, open, high, low, close, volume, adj_close),
             written as CSV with dates as YYYY-MM-DD.
  goog_yahoo the same records as a quote site writes them: dates like
             "19-Aug-04", newest first.
  danish     statsmodels danish_data/data.csv: Johansen & Juselius' Danish
             money demand, quarterly 1974-1987 (period "1974Q1", lrm, lry,
             lpy, ibo, ide); the byte-order mark of the header dropped.
  women_degrees python3-matplotlib's sample_data/percent_bachelors_degrees_women_usa.csv:
             percent of US bachelor's degrees earned by women, Year and 17
             fields as columns, 1970-2011.  As is.
  messy_dates generated: 232 rows of a hand-kept expense sheet whose dates are
             written day-first (31/12/2020) and month-first (12/31/2020)
             mixed, amounts in a text column.

available() says which source files exist; write_all(dir) writes those and
returns {name: path}.
"""
import csv
import os

SM = "/usr/lib/python3/dist-packages/statsmodels/datasets"
SMT = "/usr/lib/python3/dist-packages/statsmodels"
SK = "/usr/lib/python3/dist-packages/sklearn/datasets/data"
SOURCES = {
    "macro": SM + "/macrodata/macrodata.csv", "co2": SM + "/co2/co2.csv",
    "grunfeld": SM + "/grunfeld/grunfeld.csv", "anes96": SM + "/anes96/anes96.csv",
    "statecrime": SM + "/statecrime/statecrime.csv", "nile": SM + "/nile/nile.csv",
    "iris": SK + "/iris.csv", "wine": SK + "/wine_data.csv", "messy_dates": None,
    "fair": SM + "/fair/fair.csv", "spector": SM + "/spector/spector.csv", "sunspots": SM + "/sunspots/sunspots.csv",
    "interest_inflation": SM + "/interest_inflation/E6.csv", "cpunish": SM + "/cpunish/cpunish.csv",
    "lbw": SMT + "/genmod/tests/results/stata_lbw_glm.csv",
    "vaso": SMT + "/stats/tests/results/binary_constrict.csv",
    "danish": SM + "/danish_data/data.csv",
    "women_degrees": "/usr/share/matplotlib/mpl-data/sample_data/percent_bachelors_degrees_women_usa.csv",
    "goog": "/usr/share/matplotlib/mpl-data/sample_data/goog.npz",
    "goog_yahoo": "/usr/share/matplotlib/mpl-data/sample_data/goog.npz",
}
IRIS = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
WINE = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
        "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
        "od280_od315", "proline", "class"]


def available():
    """Names of the datasets whose source is on this machine."""
    return [n for n, p in SOURCES.items() if p is None or os.path.isfile(p)]


def _rows(path, delimiter=","):
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.reader(f, delimiter=delimiter) if r]


def _write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _co2(src, dst):
    rows = _rows(src)
    out = [[f"{d[:4]}-{d[4:6]}-{d[6:8]}", v] for d, v in rows[1:]]
    _write(dst, ["date", "co2"], out)


def _anes(src, dst):
    rows = _rows(src, "\t")
    _write(dst, [h.strip("'") for h in rows[0]], rows[1:])


def _sk(src, dst, header, names):
    rows = _rows(src)[1:]
    if not rows[0][0].replace(".", "").isdigit():   # boston-style second header
        rows = rows[1:]
    out = [r[:-1] + [names[int(r[-1])]] for r in rows]
    _write(dst, header, out)


def _spector(src, dst):
    with open(src, encoding="utf-8") as f:
        rows = [ln.split() for ln in f if ln.strip()]
    _write(dst, [h.strip("'") for h in rows[0][1:]], [r[1:] for r in rows[1:]])


def _drop_first(src, dst):
    rows = _rows(src)
    _write(dst, rows[0][1:], [r[1:] for r in rows[1:]])


def _goog(src, dst):
    """The price records of goog.npz as CSV rows (numpy: the test's python has it)."""
    import numpy as np
    a = np.load(src)["price_data"]
    names = list(a.dtype.names)
    rows = [[str(r[n])[:10] if n == "date" else repr(r[n].item()) for n in names] for r in a]
    _write(dst, names, rows)


def _goog_yahoo(src, dst):
    """goog.npz's records with dates as "19-Aug-04", newest first."""
    import datetime
    _goog(src, dst)
    rows = _rows(dst)
    body = [[datetime.date.fromisoformat(r[0]).strftime("%d-%b-%y")] + r[1:] for r in reversed(rows[1:])]
    _write(dst, rows[0], body)


def _drop_column(src, dst, col):
    rows = _rows(src)
    k = rows[0].index(col)
    _write(dst, rows[0][:k] + rows[0][k + 1:], [r[:k] + r[k + 1:] for r in rows[1:]])


def _messy(dst):
    """Day-first and month-first dates mixed (rows 0-209 day-first, some of them
    ambiguous; 22 rows month-first), amounts as text."""
    import datetime
    rows, day = [], datetime.date(2020, 1, 3)
    cats = ["food", "travel", "office", "rent"]
    for i in range(232):
        d = day + datetime.timedelta(days=3 * i)
        if i % 10 == 7 and i < 220:
            text = f"{d.month:02d}/{d.day:02d}/{d.year}"      # month-first
        else:
            text = f"{d.day:02d}/{d.month:02d}/{d.year}"      # day-first
        amount = round(10 + (i * 37) % 400 + (i % 7) * 0.25, 2)
        rows.append([text, cats[i % 4], f"{amount:,.2f}"])
    _write(dst, ["date", "category", "amount"], rows)


def write_all(folder):
    """{name: path} of the available datasets, written into folder."""
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name in available():
        src, dst = SOURCES[name], os.path.join(folder, name + ".csv")
        if name == "co2":
            _co2(src, dst)
        elif name == "anes96":
            _anes(src, dst)
        elif name == "iris":
            _sk(src, dst, IRIS, ["setosa", "versicolor", "virginica"])
        elif name == "wine":
            _sk(src, dst, WINE, ["class_0", "class_1", "class_2"])
        elif name == "messy_dates":
            _messy(dst)
        elif name == "spector":
            _spector(src, dst)
        elif name == "cpunish":
            _drop_first(src, dst)
        elif name == "danish":
            rows = _rows(src)
            _write(dst, [rows[0][0].lstrip("\ufeff")] + rows[0][1:], rows[1:])
        elif name == "goog":
            _goog(src, dst)
        elif name == "goog_yahoo":
            _goog_yahoo(src, dst)
        elif name == "vaso":
            _drop_column(src, dst, "const")
        else:
            with open(src, "rb") as f, open(dst, "wb") as g:
                g.write(f.read())
        out[name] = dst
    return out
