#!/usr/bin/python3
"""tests/tools/test_profile_tools.py — daa_tools.profile without a daemon:
type inference on a table of known answers, warnings on a crafted table,
self-contained reports (HTML parsed, no external src/href) on edge tables."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from toolslib import TMP, check_html, daa_tools, np, pd, run_tests  # noqa: E402
from daa_tools import infer  # noqa: E402


def crafted():
    """A table with one column per warning, and known types."""
    n = 200
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "customer_id": ["C%05d" % i for i in range(n)],
        "constant": ["same"] * n,
        "signup": pd.date_range("2021-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "amount_text": ["{:,}".format(int(v)) for v in rng.integers(1000, 900000, n)],
        "mostly_missing": [1.0 if i % 10 == 0 else None for i in range(n)],
        "skewed": rng.lognormal(0, 2, n),
        "mixed": [str(i) if i % 2 else "x%d" % (i % 7) for i in range(n)],
        "flag": ["yes", "no"] * (n // 2),
        "region": ["North", "South", "East", "West"] * (n // 4),
        "when": pd.date_range("2020-01-01", periods=n, freq="H"),
        "comment": ["this is a longer free text comment number %d about things" % i for i in range(n)],
    })


def test_types():
    kinds = daa_tools.infer_types(crafted())
    want = {"customer_id": "identifier", "constant": "categorical", "signup": "datetime",
            "amount_text": "numeric", "mostly_missing": "numeric", "skewed": "numeric",
            "flag": "boolean", "region": "categorical", "when": "datetime", "comment": "text"}
    for c, k in want.items():
        assert kinds[c] == k, "%s: %s, expected %s" % (c, kinds[c], k)
    assert infer.infer_type(pd.Series([0, 1, 1, 0]), "b")[0] == "boolean"
    assert infer.infer_type(pd.Series([True, False]), "b")[0] == "boolean"
    assert infer.infer_type(pd.Series(range(100)), "row_id")[0] == "identifier"
    assert infer.infer_type(pd.Series([3, 1, 2] * 40), "rating")[0] == "numeric"
    assert infer.infer_type(pd.Series(["1.234,50", "2.000,00", "15,75"] * 5), "x")[0] == "numeric"
    v = infer.to_numeric_text(pd.Series(["1,234.50", "1.234,50", "€ 3,000", "12%", None, "1.234.567"]))
    assert v.iloc[0] == 1234.5 and v.iloc[1] == 1234.5 and v.iloc[2] == 3000 and v.iloc[3] == 12, v
    assert pd.isna(v.iloc[4]) and v.iloc[5] == 1234567, v
    print("ok - column types of the known-answer table")


def test_warnings():
    s = daa_tools.profile(crafted(), "crafted", out_dir=TMP)
    w = {c["name"]: " | ".join(c["warnings"]) for c in s["columns"]}
    assert "constant" in w["constant"], w
    assert "likely identifier" in w["customer_id"], w
    assert "date stored as text" in w["signup"], w
    assert "numbers stored as text with separators" in w["amount_text"], w
    assert "mostly missing" in w["mostly_missing"], w
    assert "skewed" in w["skewed"], w
    assert "mixed types" in w["mixed"], w
    assert w["region"] == "" and w["flag"] == "", w
    amount = [c for c in s["columns"] if c["name"] == "amount_text"][0]
    assert amount["min"] >= 1000 and amount["max"] < 900000, amount
    p = check_html(os.path.join(TMP, "crafted_profile.html"))
    assert p.imgs >= 11, p.imgs        # one chart per column + heatmaps
    assert "pearson" in s["correlations"] and "cramers_v" in s["correlations"], s["correlations"]
    assert "customer_id" in repr(s)
    print("ok - warnings on the crafted table; report self-contained with %d images" % p.imgs)


def test_edges():
    tables = {
        "empty": pd.DataFrame(),
        "no_rows": pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)}),
        "one_row": pd.DataFrame({"a": [1], "b": ["x"], "d": [pd.Timestamp("2024-01-01")]}),
        "all_missing": pd.DataFrame({"a": [None] * 5, "b": [np.nan] * 5}),
        "wide": pd.DataFrame(np.random.default_rng(0).normal(size=(30, 500)),
                             columns=["c%03d" % i for i in range(500)]),
        "unicode": pd.DataFrame({"prénom": ["Zoë", "Łukasz", "<b>&</b>"], "温度 °C": [1.5, 2.5, None],
                                 "emoji 😀": ["a", "b", "a"]}),
        "thousands": pd.DataFrame({"v": ["1,234", "12,345", "123,456", "1,000,000"]}),
        "dates3": pd.DataFrame({"iso": ["2024-01-31", "2024-02-29", "2024-03-15"] * 4,
                                "eu": ["31/01/2024", "29/02/2024", "15/03/2024"] * 4,
                                "us": ["01/31/2024", "02/29/2024", "03/15/2024"] * 4}),
        "objects": pd.DataFrame({"l": [[1], [2], [1]], "d": [{"a": 1}, None, {"b": 2}]}),
    }
    # what a kernel killed while writing a report leaves; removed by the next profile
    stale = [os.path.join(TMP, n) for n in (".killed_profile.html.tmp", ".killed_profile.json.tmp")]
    keep = [os.path.join(TMP, n) for n in ("notes.html.tmp", ".keep")]   # not temp names: left alone
    for p in stale + keep:
        with open(p, "w") as f:
            f.write("<html>half")
    for name, df in tables.items():
        s = daa_tools.profile(df, name, out_dir=TMP)
        check_html(s["report"])
        assert s["rows"] == len(df) and s["n_columns"] == df.shape[1], (name, s["rows"])
    types = {c["name"]: c["type"] for c in daa_tools.profile(tables["dates3"], "d3", out_dir=TMP)["columns"]}
    assert set(types.values()) == {"datetime"}, types
    with open(os.path.join(TMP, "unicode_profile.html"), encoding="utf-8") as f:
        t = f.read()
    assert "<b>&</b>" not in t and "&lt;b&gt;&amp;&lt;/b&gt;" in t and "温度 °C" in t
    assert not any(os.path.exists(p) for p in stale) and all(map(os.path.exists, keep)), os.listdir(TMP)
    assert not [n for n in os.listdir(TMP) if n.endswith(".tmp") and n != "notes.html.tmp"], os.listdir(TMP)
    print("ok - edge tables (%s): reports produced and parsed; a killed report's temp "
          "files removed" % ", ".join(tables))


def main():
    run_tests(test_types, test_warnings, test_edges)


if __name__ == "__main__":
    main()
