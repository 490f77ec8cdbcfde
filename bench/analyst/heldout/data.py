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
