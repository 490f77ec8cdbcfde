"""bench/analyst/heldout/data.py — the held-out benchmark's datasets: real
public data shipped in Debian packages (python3-statsmodels' datasets,
python3-sklearn's bundled sets), written as plain CSV files the way a user
would have them (an index that carries meaning becomes a column, whole-number
float columns are written as integers, coded classes get their names).

Nothing here is committed data: `write_all(folder)` builds the CSV files at
run time, and `load(path)` reads one back with pandas exactly as written, so
the truths are computed from the same file the analyst is given.
"""
import os
import warnings

import pandas as pd


def _sm(name):
    """The DataFrame of statsmodels.datasets.<name>."""
    import importlib
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = importlib.import_module("statsmodels.datasets." + name)
        return mod.load_pandas().data.copy()


def _statecrime():
    d = _sm("statecrime")
    d.index.name = "state"
    return d.reset_index()


def _co2():
    d = _sm("co2")
    d.index.name = "date"
    d = d.reset_index()
    d["date"] = d["date"].dt.strftime("%Y-%m-%d")
    return d


def _modechoice():
    d = _sm("modechoice")
    d["mode"] = d["mode"].map({1: "air", 2: "train", 3: "bus", 4: "car"})
    return d


def _sk(loader, target, names=None, **kw):
    """A scikit-learn bundled set with its target as a named column."""
    import sklearn.datasets as skd
    b = getattr(skd, loader)(as_frame=True, **kw)
    d = b.frame.copy()
    tgt = d.pop("target")
    d[target] = [b.target_names[int(t)] for t in tgt] if names else tgt
    return d


def _iris():
    d = _sk("load_iris", "species", names=True)
    d.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    return d


def _wine():
    d = _sk("load_wine", "cultivar", names=True)
    return d.rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})


def _diabetes():
    return _sk("load_diabetes", "progression", scaled=False)


def _breast_cancer():
    return _sk("load_breast_cancer", "diagnosis", names=True)


def _linnerud():
    import sklearn.datasets as skd
    b = skd.load_linnerud(as_frame=True)
    return pd.concat([b.data, b.target], axis=1)


def _fertility():
    """World Bank fertility rates, one row per country and year (the wide
    file melted the way a user's tidy file looks; 2012-2013, empty in the
    shipped file, left out)."""
    d = _sm("fertility")
    d = d.rename(columns={"Country Name": "country", "Country Code": "code"})
    years = [c for c in d.columns if c.isdigit() and d[c].notna().any()]
    d = d.melt(id_vars=["country", "code"], value_vars=years,
               var_name="year", value_name="fertility_rate")
    d["year"] = d["year"].astype(int)
    return d


def _elec_equip():
    """Euro-area new orders for electrical equipment, monthly index."""
    import importlib
    d = importlib.import_module("statsmodels.datasets.elec_equip").load_pandas().data
    d = d.rename(columns={d.columns[0]: "new_orders_index"})
    d.index.name = "date"
    d = d.reset_index()
    d["date"] = d["date"].dt.strftime("%Y-%m-%d")
    return d


def _china_smoking():
    d = _sm("china_smoking")
    d.index.name = "city"
    return d.reset_index()


BUILDERS = {
    "macrodata": lambda: _sm("macrodata"),
    "grunfeld": lambda: _sm("grunfeld"),
    "fair": lambda: _sm("fair"),
    "anes96": lambda: _sm("anes96"),
    "sunspots": lambda: _sm("sunspots"),
    "nile": lambda: _sm("nile"),
    "co2": _co2,
    "longley": lambda: _sm("longley"),
    "engel": lambda: _sm("engel"),
    "copper": lambda: _sm("copper"),
    "statecrime": _statecrime,
    "modechoice": _modechoice,
    "randhie": lambda: _sm("randhie"),
    "stackloss": lambda: _sm("stackloss"),
    "spector": lambda: _sm("spector"),
    "scotland": lambda: _sm("scotland"),
    "heart": lambda: _sm("heart"),
    "strikes": lambda: _sm("strikes"),
    "cpunish": lambda: _sm("cpunish"),
    "ccard": lambda: _sm("ccard"),
    "committee": lambda: _sm("committee"),
    "star98": lambda: _sm("star98"),
    "elnino": lambda: _sm("elnino"),
    "iris": _iris,
    "wine": _wine,
    "diabetes": _diabetes,
    "breast_cancer": _breast_cancer,
    "linnerud": _linnerud,
    "fertility": _fertility,
    "elec_equip": _elec_equip,
    "china_smoking": _china_smoking,
    "interest_inflation": lambda: _sm("interest_inflation"),
    "cancer": lambda: _sm("cancer"),
}


def _whole_numbers_as_int(d):
    """Float columns holding only whole numbers are written as integers."""
    for c in d.columns:
        s = d[c]
        if s.dtype.kind == "f" and s.notna().any() and (s.dropna() % 1 == 0).all():
            d[c] = s.astype("Int64")
    return d


def write(name, folder):
    """Write dataset NAME as folder/NAME.csv (atomically); returns the path."""
    path = os.path.join(folder, name + ".csv")
    d = _whole_numbers_as_int(BUILDERS[name]())
    d.to_csv(path + ".tmp", index=False)
    os.replace(path + ".tmp", path)
    return path


def load(path):
    """The CSV read back as the truths see it (plain pandas defaults)."""
    return pd.read_csv(path)


# ---- datasets added with test3.json / test4.json (written blind to the
# analyst). Real data files that Debian's python3-statsmodels ships with its
# tests, and python3-matplotlib's sample data; each written as the user's
# file would look (the R/Stata row-number column dropped, the values as
# shipped). These BUILDERS entries are only added, never changed.
_SM_DIR = "/usr/lib/python3/dist-packages/statsmodels"
_MPL_DIR = "/usr/share/matplotlib/mpl-data/sample_data"


def _sm_file(rel, **kw):
    return pd.read_csv(os.path.join(_SM_DIR, rel), **kw)


def _birthweight():
    """Hosmer & Lemeshow's low birth weight study (189 births, Baystate
    Medical Center 1986): bwt in grams, lwt = mother's weight in pounds at
    her last menstrual period, low = bwt < 2500 g, race named."""
    return _sm_file("genmod/tests/results/stata_lbw_glm.csv")


def _housing_starts():
    """US new privately-owned housing units started, thousands, monthly,
    not seasonally adjusted (FRED HOUSTNSA), as FRED writes it."""
    return _sm_file("tsa/holtwinters/tests/results/housing-data.csv")


def _framing():
    """Brader, Valentino & Suhay (2008) immigration news framing experiment
    (R package mediation's `framing`)."""
    return _sm_file("stats/tests/results/framing.csv").drop(columns=["Unnamed: 0"])


def _epilepsy():
    """Thall & Vail (1990) epilepsy trial (R MASS `epil`): seizure counts
    y per two-week period, base = 8-week baseline count."""
    return _sm_file("genmod/tests/results/epil.csv").drop(columns=["Unnamed: 0"])


def _goog():
    """Google daily share prices 2004-2008 (matplotlib sample data)."""
    import numpy as np
    a = np.load(os.path.join(_MPL_DIR, "goog.npz"))["price_data"]
    d = pd.DataFrame(a)
    d["date"] = pd.to_datetime(d["date"]).dt.strftime("%Y-%m-%d")
    return d


def _women_degrees():
    """Percent of US bachelor's degrees awarded to women by major, 1970-2011
    (matplotlib sample data, as shipped)."""
    return pd.read_csv(os.path.join(_MPL_DIR, "percent_bachelors_degrees_women_usa.csv"))


def _danish_money():
    """Johansen & Juselius Danish money demand data, quarterly 1974-1987,
    with the period written as the shipped file does ("1974Q1")."""
    return _sm_file("datasets/danish_data/data.csv", encoding="utf-8-sig")


def _manufacturing():
    """US manufacturing: average weekly hours and capacity utilisation (%),
    monthly 1972-2008 (a Stata file shipped with statsmodels' tests)."""
    d = pd.read_stata(os.path.join(_SM_DIR, "tsa/statespace/tests/results/manufac.dta"))
    d["month"] = pd.to_datetime(d["month"]).dt.strftime("%Y-%m-%d")
    return d


def _vasoconstriction():
    """Finney (1947) vaso-constriction data: rate and volume of air inspired
    (the shipped column name keeps its misspelling `volumne`), and whether
    the finger's skin constricted; the constant column dropped."""
    return _sm_file("stats/tests/results/binary_constrict.csv").drop(columns=["const"])


def _doctor_visits():
    """Cameron & Trivedi's Medicare survey of people aged 65-90 (MEPS): doctor
    visits (docvis) and their insurance, health and income (income in
    $1000s). Only the columns of the survey file: the test file's derived
    ones (logs, squares, rescaled copies, physician = docvis) are left out."""
    d = _sm_file("sandbox/regression/tests/racd10data_with_transformed.csv")
    keep = ["offer", "ssiratio", "age", "educyr", "docvis", "nonphysician", "medicaid",
            "private", "female", "phylim", "actlim", "income", "totchr", "insured", "bh"]
    return d[keep]


def _stocks():
    """Monthly share prices 1990-2022 of eight companies and two indices
    (matplotlib's Stocks.csv, Yahoo Finance): the comment line, the empty
    dividend-date rows and the repeated last row dropped; ^GSPC and ^IXIC
    named SP500 and NASDAQ."""
    d = pd.read_csv(os.path.join(_MPL_DIR, "Stocks.csv"), comment="#")
    d = d.dropna(how="all", subset=[c for c in d.columns if c != "Date"])
    d = d[d["Date"] != "2022-06-28"]
    return d.rename(columns={"^GSPC": "SP500", "^IXIC": "NASDAQ"}).reset_index(drop=True)


def _msft():
    """Microsoft daily prices, Jul-Sep 2003, as Yahoo wrote them (dates like
    19-Sep-03, newest first, an "Adj. Close*" column)."""
    return pd.read_csv(os.path.join(_MPL_DIR, "msft.csv"))


def _medpar():
    """Arizona Medicare hospital stays (Hilbe's medpar): length of stay in
    days, admission type, codes."""
    return _sm_file("genmod/tests/results/stata_medpar1_glm.csv")


def _bone_marrow():
    """Bone marrow transplant patients (Klein & Moeschberger): disease group,
    time T in days, Status (1 = the event happened, 0 = censored)."""
    return _sm_file("duration/tests/results/bmt.csv")


def _west_germany():
    """Lütkepohl's West German investment, income and consumption
    (billions of DM), quarterly 1960-1982, with their logs and log
    differences as the shipped Stata file has them."""
    d = pd.read_stata(os.path.join(_SM_DIR, "tsa/tests/results/lutkepohl2.dta"))
    d["qtr"] = pd.to_datetime(d["qtr"]).dt.strftime("%Y-%m-%d")
    return d


def _us_macro():
    """US monthly/quarterly macro series 1985-2016 under their FRED codes
    (the FRBNY nowcast vintage of 2016-07-29), dates as m/d/yy."""
    return _sm_file("tsa/statespace/tests/results/frbny_nowcast/Nowcasting/data/US/2016-07-29.csv")


BUILDERS.update({
    "birthweight": _birthweight,
    "housing_starts": _housing_starts,
    "framing": _framing,
    "epilepsy": _epilepsy,
    "goog": _goog,
    "women_degrees": _women_degrees,
    "danish_money": _danish_money,
    "manufacturing": _manufacturing,
    "vasoconstriction": _vasoconstriction,
    "doctor_visits": _doctor_visits,
    "stocks": _stocks,
    "msft": _msft,
    "medpar": _medpar,
    "bone_marrow": _bone_marrow,
    "west_germany": _west_germany,
    "us_macro": _us_macro,
})


# ---- datasets added with test5.json (written blind to the analyst; appended,
# nothing above changed). More files python3-statsmodels ships with its tests
# (R's geepack, mgcv and UCLA example data, Lütkepohl's textbook series, a
# Stata file), scikit-learn's bundled Boston file and distro-info-data's
# release tables; each written as the user's file would look.
_LUTK_DIR = os.path.join(_SM_DIR, "tsa/vector_ar/tests/results")


def _autos():
    """1985 Ward's automotive yearbook imports (UCI "Automobile", as R mgcv
    ships it): make, body, engine, size, mpg and list price in US dollars;
    `loss` = normalized losses per insured vehicle year, `symbol` = the
    insurance risk rating (-2 safe .. 3 risky)."""
    return _sm_file("gam/tests/results/autos.csv")


def _dietox():
    """Growth of 72 slaughter pigs weighed weekly for 12 weeks (R geepack's
    dietox): Weight and cumulative Feed in kg, vitamin E and copper added to
    the feed (the R factor levels Evit000/Evit100/Evit200 in mg and
    Cu000/Cu035/Cu175 in mg/kg), the pig and its litter. The R row numbers
    left out."""
    d = _sm_file("regression/tests/results/dietox.csv", index_col=0).reset_index(drop=True)
    d["Evit"] = d["Evit"].map({1: "Evit000", 2: "Evit100", 3: "Evit200"})
    d["Cu"] = d["Cu"].map({1: "Cu000", 2: "Cu035", 3: "Cu175"})
    return d


def _griliches():
    """Griliches (1976) young men of the National Longitudinal Survey, 758
    men first surveyed 1966-73 (`year` as two digits) and again in 1980
    (the *80 columns): schooling s in years, IQ, KWW test score, experience
    and tenure in years, lw = log hourly wage, 0/1 rns (lives in the South),
    mrt (married), smsa (lives in a city); med = mother's schooling."""
    return pd.read_stata(os.path.join(_SM_DIR, "sandbox/regression/tests/griliches76.dta"))


def _boston():
    """Harrison & Rubinfeld's Boston house prices (506 census tracts, 1970),
    scikit-learn's bundled file: MEDV = median value of owner-occupied homes
    in $1000s, CRIM per-capita crime rate, RM rooms per dwelling, CHAS 1 =
    tract bounds the Charles River... The title line skipped; the B column
    (a transform of the share of Black residents) left out."""
    import sklearn.datasets
    path = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data", "boston_house_prices.csv")
    return pd.read_csv(path, skiprows=1).drop(columns=["B"])


def _distro(name):
    """distro-info-data's release table of Debian or Ubuntu, as shipped."""
    return pd.read_csv("/usr/share/distro-info/%s.csv" % name, dtype={"version": str})


def _lutkepohl(fname):
    """A quarterly or monthly series of Lütkepohl's "New Introduction to
    Multiple Time Series Analysis" (JMulTi format: a comment, the start
    period "<1954 Q1>", the column names, the values)."""
    import re
    with open(os.path.join(_LUTK_DIR, fname), encoding="latin-1") as f:
        text = f.read()
    body = text.split("*/", 1)[1]
    m = re.search(r"<(\d{4})\s*([QM])(\d+)>", body)
    year, kind, sub = int(m.group(1)), m.group(2), int(m.group(3))
    lines = [ln.split() for ln in body[m.end():].strip().splitlines() if ln.strip()]
    d = pd.DataFrame([[float(x) for x in r] for r in lines[1:]], columns=lines[0])
    freq = "QS" if kind == "Q" else "MS"
    start = pd.Timestamp(year=year, month=(sub - 1) * 3 + 1 if kind == "Q" else sub, day=1)
    return d, pd.date_range(start, periods=len(d), freq=freq)


def _us_money():
    """US real money M1 and GNP (billions of 1982 dollars), the 91-day
    T-bill discount rate rd and the long-term bond yield rb (as fractions:
    0.0108 = 1.08%), quarterly, seasonally adjusted, 1954Q1-1987Q4; a `date`
    column on the first day of each quarter (FRED style)."""
    d, dates = _lutkepohl("e3.dat")
    d.insert(0, "date", dates.strftime("%Y-%m-%d"))
    return d


def _german_rates():
    """West German interest rates in percent, monthly 1960-1987: 3-month
    money market loans (i_short), yield of fixed-interest bonds (i_long);
    the month written "1960-01"."""
    d, dates = _lutkepohl("e5.dat")
    d.insert(0, "month", dates.strftime("%Y-%m"))
    return d


def _german_income():
    """West German real per-capita disposable income (inc) and personal
    consumption (cons) in DM, quarterly, not seasonally adjusted,
    1960-1987; `year` and `quarter` (1-4) columns."""
    d, dates = _lutkepohl("e4.dat")
    d.insert(0, "quarter", dates.quarter)
    d.insert(0, "year", dates.year)
    return d


def _grad_school():
    """UCLA's ordinal logit example: 400 college juniors, how likely they
    are to apply to graduate school, whether a parent has a graduate
    degree (pared), whether their college is public, their GPA."""
    return _sm_file("miscmodels/tests/results/ologit_ucla.csv")


BUILDERS.update({
    "autos": _autos,
    "dietox": _dietox,
    "griliches": _griliches,
    "boston": _boston,
    "ubuntu_releases": lambda: _distro("ubuntu"),
    "debian_releases": lambda: _distro("debian"),
    "us_money": _us_money,
    "german_rates": _german_rates,
    "german_income": _german_income,
    "grad_school": _grad_school,
})


# ---- datasets added with test6.json (written blind to the analyst; appended,
# nothing above changed). The Vega project's example data as Debian's
# python3-vega-datasets ships it (tools/deps.sh installs it), each written as
# the user's file would look: as shipped but for a JSON file written as CSV.
_VEGA_DIR = "/usr/lib/python3/dist-packages/vega_datasets/_data"


def _vega(fname, **kw):
    """One of the Vega example files, read as shipped (JSON or CSV)."""
    path = os.path.join(_VEGA_DIR, fname)
    if fname.endswith(".json"):
        return pd.read_json(path, convert_dates=False, **kw)
    return pd.read_csv(path, **kw)


def _driving():
    """Miles driven per person per year in the US and the price of a gallon
    of gas in 2010 dollars, 1956-2010 (the New York Times' "Driving Shifts
    Into Reverse"); the chart's label-side column dropped."""
    return _vega("driving.json").drop(columns=["side"])


BUILDERS.update({
    # 1970-1982 cars of the StatLib auto-mpg file: Year written "1970-01-01"
    "cars": lambda: _vega("cars.json"),
    # Seattle daily weather 2012-2015: precipitation mm, temperatures deg C,
    # wind m/s, the day's weather word; dates "2012/01/01"
    "seattle_weather": lambda: _vega("seattle-weather.csv"),
    # Immer's Minnesota barley trial: yield in bushels per acre of 10
    # varieties at 6 sites in 1931 and 1932
    "barley": lambda: _vega("barley.json"),
    # US employment by industry (BLS, thousands of jobs, seasonally
    # adjusted), monthly 2006-2015; nonfarm_change = the month's change
    "us_employment": lambda: _vega("us-employment.csv"),
    # monthly share prices of 5 companies 2000-2010, long format, dates
    # written "Jan 1 2000"
    "stock_prices": lambda: _vega("stocks.csv"),
    # Iowa's net electricity generation (thousand MWh) by source 2001-2017,
    # the year written "2001-01-01"
    "iowa_electricity": lambda: _vega("iowa-electricity.csv"),
    # US airports (FAA): code, name, city, state, country, position
    "airports": lambda: _vega("airports.csv"),
    # Nightingale's Crimean War deaths by month and cause, Apr 1854-Mar 1856
    "crimea": lambda: _vega("crimea.json"),
    # Playfair's price of wheat (shillings per quarter) and weekly wages
    # (shillings), every 5 years 1565-1820 (wages end in 1810)
    "wheat": lambda: _vega("wheat.json"),
    "driving": _driving,
})
