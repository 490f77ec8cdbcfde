"""daa_tools.model / predict: a scikit-learn Pipeline (ColumnTransformer:
imputation, scaling, one-hot, date parts) chosen for the target, evaluated
with cross-validation against a dummy baseline, two or three estimators
compared, permutation importances, the fitted pipeline saved with joblib and a
Markdown model card in outputs/models/.  Deterministic (random_state=0)."""

import datetime
import os
import re
import time
import warnings

import numpy as np
import pandas as pd

from . import infer
from .attrdict import AttrDict

CV_ROWS = 20_000        # rows used for cross-validation and the final fit
LEAK_ROWS = 5_000
MAX_ONEHOT = 30         # categoricals with more distinct values are dropped


class DateParts:
    """Transformer: datetime (or date text) columns -> year, month, day of week, day of year."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        cols = []
        for c in X.columns:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = pd.to_datetime(X[c], errors="coerce")
            cols += [d.dt.year, d.dt.month, d.dt.dayofweek, d.dt.dayofyear]
        return np.column_stack([c.astype(float).to_numpy() for c in cols]) if cols else np.empty((len(X), 0))

    def get_params(self, deep=True):
        return {}

    def set_params(self, **p):
        return self


class ModelResult(AttrDict):
    """A dict (JSON-friendly) whose repr is a short metrics table; keys are
    attributes too (result.scores, result.best)."""

    def __repr__(self):
        lines = ["%s model of %r (%s), %d rows, features: %s" % (
            self["kind"], self["target"], self["best"], self["rows"], ", ".join(self["features"])),
            "  %d-fold %s cross-validation" % (self["folds"], self.get("cv", "shuffled"))]
        for name, m in self["scores"].items():
            lines.append("  %-22s %s" % (name, "  ".join("%s %.3f" % kv for kv in m.items())))
        for c, why in self["dropped"].items():
            lines.append("  dropped %s: %s" % (c, why))
        lines.append("  saved: %s, card: %s" % (self["model_path"], self["card_path"]))
        return "\n".join(lines)


def choose_kind(y):
    """classification for text/bool/category targets and integers with few values."""
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    v = y.dropna()
    if v.nunique() <= 10 and np.all(np.mod(v, 1) == 0):
        return "classification"
    return "regression"


def _leaks(X, y, kind, kinds):
    """Features that alone predict the target almost perfectly: {col: note}."""
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
    if len(X) > LEAK_ROWS:
        X, y = X.sample(LEAK_ROWS, random_state=0), y.loc[X.sample(LEAK_ROWS, random_state=0).index]
    out = {}
    if kind == "classification":
        base = y.value_counts(normalize=True).iloc[0]
        if base >= 0.97 or y.value_counts().min() < 3:
            return out
    for c in X.columns:
        col = X[c]
        if kinds[c] == "datetime":
            continue
        if pd.api.types.is_numeric_dtype(col):
            x = col.astype(float).fillna(col.astype(float).median() if col.notna().any() else 0)
        else:
            x = pd.Series(pd.factorize(col.astype(str))[0], index=col.index).astype(float)
        x = x.to_frame()
        if kind == "classification":
            est, scoring, bar = DecisionTreeClassifier(max_depth=4, random_state=0), "accuracy", 0.99
        else:
            est, scoring, bar = DecisionTreeRegressor(max_depth=6, random_state=0), "r2", 0.98
        try:
            score = cross_val_score(est, x, y, cv=3, scoring=scoring).mean()
        except ValueError:
            continue
        if score >= bar:
            out[c] = ("leaks the target: alone it predicts %r with %s %.3f (a copy or a "
                      "consequence of it?)" % (y.name, scoring, score))
    return out


def _select(df, target, features):
    """Features to use, their inferred types, and {dropped column: reason}."""
    cols = [c for c in (features or df.columns) if c != target]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError("unknown feature column(s): %s; columns: %s" % (
            ", ".join(map(str, missing)), ", ".join(map(str, df.columns))))
    kinds, dropped = {}, {}
    for c in cols:
        s = df[c]
        kind, _notes = infer.infer_type(s, c)
        distinct = s.nunique(dropna=True)
        if kind == "identifier":
            dropped[c] = "identifier (unique per row): no predictive meaning"
        elif distinct <= 1:
            dropped[c] = "constant"
        elif s.isna().mean() > 0.95:
            dropped[c] = "more than 95% missing"
        elif kind in ("categorical", "text") and distinct > MAX_ONEHOT:
            dropped[c] = "%s with %d distinct values (too many to one-hot encode)" % (kind, distinct)
        else:
            kinds[c] = kind
    return kinds, dropped


_YEAR_NAME = re.compile(r"(^|_)(year|yr|yyyy|jahr|annee|ano)($|_)", re.I)


def _time_column(df):
    """The column that orders the rows in time, or None: a datetime column
    (or date text), else an integer column named like a year whose values
    look like years.  Its presence makes the data time-ordered."""
    for c in df.columns:
        if infer.infer_type(df[c], c)[0] == "datetime":
            return c
    for c in df.columns:
        s = df[c]
        if not _YEAR_NAME.search(str(c)) or not pd.api.types.is_numeric_dtype(s) \
                or pd.api.types.is_bool_dtype(s):
            continue
        v = s.dropna()
        if len(v) and np.all(np.mod(v, 1) == 0) and v.between(1000, 2200).all() and v.nunique() > 2:
            return c
    return None


_SUBPERIOD_NAME = re.compile(r"^(quarter|qtr|month|week|day)$", re.I)


def _time_order(data, col):
    """data's index sorted by time column col (stable; dates parsed), then by
    a numeric quarter/month/week/day column when col is a year."""
    key = data[col]
    if not pd.api.types.is_numeric_dtype(key):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key = pd.to_datetime(key, errors="coerce")
        return key.sort_values(kind="stable", na_position="first").index
    keys = pd.DataFrame({"_t0": key})
    subs = [c for c in data.columns if _SUBPERIOD_NAME.match(str(c))
            and pd.api.types.is_numeric_dtype(data[c])]
    for i, c in enumerate(subs[:1]):
        keys["_t%d" % (i + 1)] = data[c]
    return keys.sort_values(list(keys.columns), kind="stable", na_position="first").index


def _prepare(X, kinds):
    """Text numbers to numbers, booleans to text categories (in a copy)."""
    X = X.copy()
    for c, k in kinds.items():
        if k == "numeric" and not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = infer.to_numeric_text(X[c])
        elif k in ("boolean", "categorical", "text"):
            X[c] = X[c].astype(str).where(X[c].notna(), np.nan)
    return X


def _preprocessor(kinds):
    """The ColumnTransformer for these feature types."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    num = [c for c, k in kinds.items() if k == "numeric"]
    cat = [c for c, k in kinds.items() if k in ("categorical", "boolean", "text")]
    dates = [c for c, k in kinds.items() if k == "datetime"]
    parts = []
    if num:
        parts.append(("numeric", Pipeline([("impute", SimpleImputer(strategy="median")),
                                           ("scale", StandardScaler())]), num))
    if cat:
        parts.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), cat))
    if dates:
        parts.append(("dates", Pipeline([("parts", DateParts()),
                                         ("impute", SimpleImputer(strategy="median")),
                                         ("scale", StandardScaler())]), dates))
    return ColumnTransformer(parts, remainder="drop")


def _estimators(kind):
    """The baseline and the candidates, all with random_state=0 and one job."""
    from sklearn import dummy, ensemble, linear_model
    if kind == "classification":
        return {"baseline (dummy)": dummy.DummyClassifier(strategy="prior"),
                "logistic regression": linear_model.LogisticRegression(max_iter=2000),
                "random forest": ensemble.RandomForestClassifier(
                    n_estimators=100, min_samples_leaf=2, random_state=0, n_jobs=1),
                "gradient boosting": ensemble.HistGradientBoostingClassifier(max_iter=100, random_state=0)}
    return {"baseline (dummy)": dummy.DummyRegressor(strategy="mean"),
            "ridge regression": linear_model.Ridge(alpha=1.0),
            "random forest": ensemble.RandomForestRegressor(
                n_estimators=100, min_samples_leaf=2, random_state=0, n_jobs=1),
            "gradient boosting": ensemble.HistGradientBoostingRegressor(max_iter=100, random_state=0)}


def _scoring(kind, y):
    """sklearn scorers for this kind, and the display name of each."""
    if kind == "regression":
        return {"MAE": "neg_mean_absolute_error", "RMSE": "neg_root_mean_squared_error", "R2": "r2"}, "R2"
    if y.nunique() == 2:
        return {"accuracy": "accuracy", "F1": "f1_macro", "ROC AUC": "roc_auc"}, "ROC AUC"
    return {"accuracy": "accuracy", "F1": "f1_macro", "ROC AUC": "roc_auc_ovr"}, "F1"


def _evaluate(pre, X, y, kind, order=None):
    """Cross-validated metrics of every estimator: {name: {metric: value}},
    primary metric, folds.  With `order` (row labels in time order) the folds
    are time-ordered (TimeSeriesSplit: each fold tests on rows later than
    all it trained on), else shuffled K-fold."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit, cross_validate
    from sklearn.pipeline import Pipeline
    scoring, primary = _scoring(kind, y)
    folds = 5 if len(X) <= 2000 else 3
    if order is not None:
        X, y = X.loc[order], y.loc[order]
        cv = TimeSeriesSplit(folds)
    elif kind == "classification":
        folds = max(2, min(folds, int(y.value_counts().min())))
        cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    else:
        cv = KFold(folds, shuffle=True, random_state=0)
    scores = {}
    for name, est in _estimators(kind).items():
        pipe = Pipeline([("prepare", clone(pre)), ("model", est)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = cross_validate(pipe, X, y, cv=cv, scoring=scoring, error_score=np.nan)
        scores[name] = {m: round(float(np.nanmean(r["test_" + m])) * (-1 if sc.startswith("neg_") else 1), 4)
                        for m, sc in scoring.items()}
    return scores, primary, folds


def _importances(pipe, X, y, kind):
    """Permutation importances of the original columns (on at most 2000 rows)."""
    from sklearn.inspection import permutation_importance
    if len(X) > 2000:
        X = X.sample(2000, random_state=0)
        y = y.loc[X.index]
    scoring = "r2" if kind == "regression" else "accuracy"
    r = permutation_importance(pipe, X, y, n_repeats=5, random_state=0, scoring=scoring, n_jobs=1)
    imp = {str(c): round(float(m), 4) for c, m in zip(X.columns, r.importances_mean)}
    return dict(sorted(imp.items(), key=lambda kv: -kv[1]))


def _card(res, notes):
    """The model card in Markdown."""
    m = ["# Model card: %s of `%s`" % (res["kind"], res["target"]), "",
         "Created %s by daa_tools.model (scikit-learn, random_state=0)." % res["created"], "",
         "## Data", "",
         "- dataset: %s, %d rows used (%d with a target)" % (res["name"], res["rows"], res["rows_with_target"]),
         "- target: `%s`%s" % (res["target"], (", classes: " + ", ".join(map(str, res["classes"])))
                               if res.get("classes") else ""), "",
         "## Features", ""]
    m += ["- `%s` (%s)" % (c, k) for c, k in res["feature_types"].items()]
    m += ["- dropped `%s`: %s" % (c, why) for c, why in res["dropped"].items()]
    m += ["", "## Metrics (%d-fold %s cross-validation)" % (res["folds"], res["cv"]), "",
          "| estimator | " + " | ".join(res["metrics"]) + " |",
          "|---" * (len(res["metrics"]) + 1) + "|"]
    m += ["| %s%s | " % (n, " (chosen)" if n == res["best"] else "") +
          " | ".join("%.3f" % v for v in s.values()) + " |" for n, s in res["scores"].items()]
    m += ["", "## Permutation importances (%s drop)" % res["importance_metric"], ""]
    m += ["- `%s`: %.4f" % kv for kv in list(res["importances"].items())[:15]]
    m += ["", "## Caveats", ""] + ["- " + n for n in notes]
    return "\n".join(m) + "\n"


def _slug(s):
    """File-name-safe text."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(s)).strip("-.") or "model"


def model(df, target, features=None, kind="auto", out_dir=None, name=None, time=None):
    """Model `target` from the other columns (or `features`); kind is auto,
    classification or regression; time is the column that orders rows in
    time (None: found from the data, False: none, shuffled folds).  Returns a ModelResult (metrics per
    estimator vs the dummy baseline, the chosen one, importances, what was
    dropped and why, paths of the saved pipeline and card)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):          # OpenMP/BLAS threads: no gain on small data, deterministic
        return _model(df, target, features, kind, out_dir, name, time)


def _model(df, target, features, kind, out_dir, name, time_col):
    """model() without the thread limit."""
    import joblib
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline
    t0 = time.monotonic()
    if target not in df.columns:
        raise KeyError("no column %r; columns: %s" % (target, ", ".join(map(str, df.columns))))
    if kind not in ("auto", "classification", "regression"):
        raise ValueError("kind must be auto, classification or regression, not %r" % (kind,))
    data = df[df[target].notna()]
    notes = []
    if len(data) < len(df):
        notes.append("%d rows without a target value were left out" % (len(df) - len(data)))
    if len(data) > CV_ROWS:
        data = data.sample(CV_ROWS, random_state=0)
        notes.append("a random sample of %d of %d rows was used (random_state=0)" % (CV_ROWS, len(df)))
    y = data[target]
    kind = choose_kind(y) if kind == "auto" else kind
    if kind == "regression":
        y = pd.to_numeric(y, errors="coerce") if pd.api.types.is_numeric_dtype(y) else infer.to_numeric_text(y)
        if y.isna().any():
            raise ValueError("target %r is not numeric enough for a regression" % target)
    else:
        y = y.astype(str) if not pd.api.types.is_numeric_dtype(y) else y
        if y.nunique() < 2:
            raise ValueError("target %r has a single value: nothing to predict" % target)
    if len(data) < 20:
        raise ValueError("only %d rows with a target: too few to evaluate a model" % len(data))
    kinds, dropped = _select(data, target, features)
    X = _prepare(data[list(kinds)], kinds)
    for c, why in _leaks(X, y, kind, kinds).items():
        dropped[c] = why
        del kinds[c]
    if not kinds:
        raise ValueError("no usable feature left (dropped: %s)" % "; ".join(
            "%s: %s" % kv for kv in dropped.items()))
    X = X[list(kinds)]
    pre = _preprocessor(kinds)
    tcol = _time_column(data) if time_col is None else (time_col or None)
    if tcol is not None and tcol not in data.columns:
        raise KeyError("no time column %r; columns: %s" % (tcol, ", ".join(map(str, df.columns))))
    scores, primary, folds = _evaluate(pre, X, y, kind, _time_order(data, tcol) if tcol else None)
    if tcol:
        cv = "time-ordered (by %s)" % tcol
        notes.append("the rows are ordered in time by `%s`: each fold was tested on rows later than "
                     "those it was trained on (TimeSeriesSplit), as shuffled folds would let the model "
                     "see the future and score too high; pass time=False to shuffle" % tcol)
    else:
        cv = "shuffled"
    cands = {n: s for n, s in scores.items() if not n.startswith("baseline")}
    sign = -1 if primary in ("MAE", "RMSE") else 1
    best = max(cands, key=lambda n: sign * (cands[n][primary] if np.isfinite(cands[n][primary]) else -1e300))
    pipe = Pipeline([("prepare", clone(pre)), ("model", _estimators(kind)[best])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
        importances = _importances(pipe, X, y, kind)
    base = scores["baseline (dummy)"][primary]
    if not cands[best][primary] > base:
        notes.append("the best estimator does not beat the dummy baseline on %s: the features "
                     "may not carry information about the target" % primary)
    notes.append("cross-validation estimates assume future rows resemble these; check the "
                 "importances for columns that would not be known at prediction time")
    name = name or getattr(df, "attrs", {}).get("name") or "data"
    folder = out_dir or _outputs()
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, "%s_%s" % (_slug(name), _slug(target)))
    res = ModelResult(
        name=str(name), target=str(target), kind=kind, rows=len(data), rows_with_target=int(len(y)),
        features=list(kinds), feature_types=dict(kinds), dropped=dropped, folds=folds, cv=cv,
        metrics=list(scores[best]), primary_metric=primary, scores=scores, best=best,
        baseline=scores["baseline (dummy)"], beats_baseline=bool(cands[best][primary] * sign > base * sign),
        importances=importances, importance_metric="R2" if kind == "regression" else "accuracy",
        classes=[str(c) for c in getattr(pipe, "classes_", [])] if kind == "classification" else [],
        notes=notes, created=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    bundle = {"pipeline": pipe, "target": str(target), "kind": kind, "features": list(kinds),
              "feature_types": dict(kinds), "created": res["created"], "daa_tools": 1}
    card = _card(res, notes)

    def write_card(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(card)
    # both written in full before either is renamed: a kernel stopped
    # mid-write leaves the previous model and card (a dump straight into
    # the .joblib truncated it, and a stop before the card paired the new
    # model with the card of an older fit)
    from . import files
    files.write_all([(stem + ".joblib", lambda tmp: joblib.dump(bundle, tmp)),
                     (stem + "_card.md", write_card)])
    rel = (lambda p: os.path.relpath(p)) if not out_dir else (lambda p: p)
    res["model_path"], res["card_path"] = rel(stem + ".joblib"), rel(stem + "_card.md")
    res["seconds"] = round(time.monotonic() - t0, 2)
    return res


def _outputs():
    """<outputs>/models."""
    from . import outputs_dir
    return outputs_dir("models")


def predict(model_path, df):
    """Predictions (a Series aligned on df's index) of a model saved by model()."""
    import joblib
    bundle = joblib.load(model_path)
    if not isinstance(bundle, dict) or "pipeline" not in bundle:
        raise ValueError("%s is not a model saved by daa_tools.model" % model_path)
    missing = [c for c in bundle["features"] if c not in df.columns]
    if missing:
        raise KeyError("the model needs column(s) %s, absent from the table" % ", ".join(missing))
    X = _prepare(df[bundle["features"]], bundle["feature_types"])
    return pd.Series(bundle["pipeline"].predict(X), index=df.index, name="predicted_" + bundle["target"])
