#!/usr/bin/python3
"""tests/tools/test_model_tools.py — daa_tools.model / predict without a
daemon: scikit-learn's bundled datasets against the dummy baseline, the
expected metric kinds, a target leak dropped, determinism, a saved model
reloaded."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from toolslib import TMP, daa_tools, np, run_tests  # noqa: E402


FIRST = {}   # the first fit of each dataset (test_models), reused by the later checks
KILLED = os.path.join(TMP, ".iris_target.joblib.tmp")   # a temp file a killed kernel left


def test_models():
    from sklearn import datasets
    cases = [("iris", datasets.load_iris(as_frame=True).frame, "target", "classification", "accuracy", 0.3),
             ("breast_cancer", datasets.load_breast_cancer(as_frame=True).frame, "target",
              "classification", "ROC AUC", 0.3),
             ("diabetes", datasets.load_diabetes(as_frame=True).frame, "target", "regression", "R2", 0.3)]
    for name, df, target, kind, metric, margin in cases:
        r = daa_tools.model(df, target, out_dir=TMP, name=name)
        assert r["kind"] == kind, (name, r["kind"])
        best, base = r["scores"][r["best"]], r["baseline"]
        assert best[metric] - base[metric] >= margin, (name, best, base)
        want = {"accuracy", "F1", "ROC AUC"} if kind == "classification" else {"MAE", "RMSE", "R2"}
        assert set(best) == want, (name, best)
        assert r["beats_baseline"] and os.path.isfile(r["model_path"]) and os.path.isfile(r["card_path"])
        FIRST[name] = r
        print("ok - %s: %s, %s %.3f vs baseline %.3f" % (name, kind, metric, best[metric], base[metric]))


def test_leak_and_reload():
    from sklearn import datasets
    df = datasets.load_iris(as_frame=True).frame
    df["diagnosis_copy"] = df["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    df["row_id"] = range(len(df))
    r = daa_tools.model(df, "target", out_dir=TMP, name="iris_leak")
    assert "diagnosis_copy" in r["dropped"] and "leak" in r["dropped"]["diagnosis_copy"], r["dropped"]
    assert "row_id" in r["dropped"] and "diagnosis_copy" not in r["features"], r["dropped"]
    with open(r["card_path"], encoding="utf-8") as f:
        card = f.read()
    assert "dropped `diagnosis_copy`: leaks the target" in card and "## Caveats" in card, card
    print("ok - a copy of the target is dropped as a leak, the id column too")
    iris = datasets.load_iris(as_frame=True).frame
    one, two = FIRST["iris"], daa_tools.model(iris, "target", out_dir=TMP, name="iris2")
    assert one["scores"] == two["scores"] and one["importances"] == two["importances"], "not deterministic"
    df2 = datasets.load_diabetes(as_frame=True).frame
    m = FIRST["diabetes"]   # test_models' fit of this frame, saved under TMP
    import joblib
    pipe = joblib.load(m["model_path"])["pipeline"]
    a = daa_tools.predict(m["model_path"], df2.drop(columns="target"))
    b = pipe.predict(df2[m["features"]])
    assert len(a) == len(df2) and np.allclose(a.to_numpy(), b), "reloaded predictions differ"
    try:
        daa_tools.predict(m["model_path"], df2.drop(columns=["bmi", "target"]))
        raise AssertionError("a missing feature was accepted")
    except KeyError as e:
        assert "bmi" in str(e)
    print("ok - same metrics on a second run; the saved model predicts after reload")


def test_interrupted_save():
    """daa_tools' writes (daa_tools/files.py, used for models, cards and
    reports): stopped mid-way (the kernel's SIGINT at a step's time limit),
    the previous model and card stay whole and no temp file is left; a
    temp file a killed kernel left is removed by the next write."""
    from daa_tools import files
    m = FIRST["iris"]
    before = [open(p, "rb").read() for p in (m["model_path"], m["card_path"])]

    def half_then_stop(tmp):
        with open(tmp, "wb") as f:
            f.write(b"half a model")
        raise KeyboardInterrupt

    def card(tmp):
        with open(tmp, "w") as f:
            f.write("a card of another fit")
    try:
        files.write_all([(m["model_path"], half_then_stop), (m["card_path"], card)])
        raise AssertionError("the interrupt was swallowed")
    except KeyboardInterrupt:
        pass
    after = [open(p, "rb").read() for p in (m["model_path"], m["card_path"])]
    assert after == before, "the previous model or card changed"
    assert not [n for n in os.listdir(TMP) if n.endswith(".tmp")], os.listdir(TMP)
    with open(KILLED, "wb") as f:   # test_time_ordered's first fit must remove it
        f.write(b"what a SIGKILL leaves")
    print("ok - a save stopped mid-way keeps the previous model and card, no temp file left")


def test_time_ordered():
    """Quarterly macro data (Debian's statsmodels, real public data): folds are
    time-ordered by year (then quarter) and the card says so; shuffled folds,
    asked for with time=False, score higher because they see the future."""
    try:
        import statsmodels.api as sm
    except ImportError:
        raise AssertionError("python3-statsmodels is missing (make deps)")
    macro = sm.datasets.macrodata.load_pandas().data
    t = daa_tools.model(macro, "realgdp", out_dir=TMP, name="macro_t")
    assert not os.path.exists(KILLED), "a model's save left a killed kernel's temp file"
    s = daa_tools.model(macro, "realgdp", out_dir=TMP, name="macro_s", time=False)
    assert t["cv"] == "time-ordered (by year)" and s["cv"] == "shuffled", (t["cv"], s["cv"])
    with open(t["card_path"], encoding="utf-8") as f:
        card = f.read()
    assert "5-fold time-ordered (by year) cross-validation" in card and "TimeSeriesSplit" in card, card
    rt, rs = t["scores"][t["best"]]["R2"], s["scores"][s["best"]]["R2"]
    assert rs > rt + 0.1, (rt, rs)
    iris = FIRST["iris"]   # no time column: shuffled folds
    assert iris["cv"] == "shuffled", iris["cv"]
    print("ok - macro data: time-ordered folds R2 %.3f (shuffled would claim %.3f); iris shuffled"
          % (rt, rs))


def main():
    run_tests(test_models, test_leak_and_reload, test_interrupted_save, test_time_ordered)


if __name__ == "__main__":
    main()
