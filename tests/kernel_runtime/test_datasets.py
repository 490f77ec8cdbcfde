#!/usr/bin/python3
"""Kernel runtime: datasets by name through `dfs` (lazy, cached), `df` for a
single-dataset project, and the conventions applied on load: a date column
with its format (dtype datetime64), thousands separators, decimal comma with
a ';' separator, id columns kept as text, extra NA markers, and the formats
csv/tsv/json/jsonl/xlsx (parquet: a clear error when no engine exists)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402

SALES = ('order_date,amount,zip,status\n'
         '05/01/2024,"1,234.50",00123,ok\n'
         '17/02/2024,"12,000",04567,n/a\n'
         '01/03/2024,300,99999,late\n')
EURO = "day;price\n2024-01-01;1.234,5\n2024-01-02;2,25\n"

conv = {"date_column": {"value": "order_date", "source": "user"},
        "date_format": {"value": "%d/%m/%Y", "source": "user"},
        "thousands_separator": {"value": ",", "source": "agent"},
        "id_columns": {"value": ["zip"]},
        "na_values": {"value": ["n/a"]}}

k = kt.Kernel()
proj = kt.make_project({"sales.csv": SALES})
k2 = None
proj2 = kt.make_project({"euro.csv": EURO, "t.tsv": "a\tb\n1\t2\n",
                         "recs.json": '[{"a": 1, "b": {"c": 2}}, {"a": 3, "b": {"c": 4}}]',
                         "lines.jsonl": '{"a": 1}\n{"a": 2}\n',
                         "cols.json": '{"x": {"0": 1, "1": 2}}',
                         "p.parquet": b"PAR1 not really"})
try:
    r = k.req("bind", project=proj, conventions=conv,
              datasets=[{"name": "sales", "path": "data/sales.csv", "format": "csv"}])
    kt.check(r["ok"] and r.get("df") == "sales" and r.get("datasets") == ["sales"], "bind lists datasets", r)
    r = k.run("repr(dfs)")
    kt.check("not loaded yet" in r["result"]["repr"], "dfs is lazy (nothing read at bind)", r)
    r = k.run("str(df['order_date'].dtype), df['order_date'].dt.month.tolist()")
    kt.check(r["ok"] and r["result"]["repr"] == "('datetime64[ns]', [1, 2, 3])",
             "df loaded on mention; date convention with day-first format", r)
    r = k.run("str(df['amount'].dtype), df['amount'].tolist()")
    kt.check(r["ok"] and r["result"]["repr"] == "('float64', [1234.5, 12000.0, 300.0])",
             "thousands separator convention", r)
    r = k.run("df['zip'].tolist(), df['status'].isna().tolist()")
    kt.check(r["ok"] and r["result"]["repr"] == "(['00123', '04567', '99999'], [False, True, False])",
             "id column kept as text; na_values", r)
    r = k.run("dfs['sales'] is df, dfs['SALES.csv'] is df")
    kt.check(r["ok"] and r["result"]["repr"] == "(True, True)", "dfs caches; name with extension / case", r)
    r = k.run("dfs['nope']")
    kt.check((r["error"] or {}).get("type") == "KeyError" and "sales" in r["error"]["message"],
             "unknown dataset lists the known ones", r)

    r = k.req("conventions", conventions={"date_column": {"value": "order_date"},
                                          "date_format": {"value": "%m/%d/%Y"}})
    kt.check(r["ok"] and r.get("reloaded") == ["sales"], "conventions update drops loaded datasets", r)
    r = k.run("df['order_date'].isna().tolist()")
    kt.check(r["ok"] and r["result"]["repr"] == "[False, True, False]" and "do not match" in r["stderr"],
             "df reloaded with the new format; mismatches become NaT with a warning", r)
    r = k.req("conventions", conventions={"numeric_columns": {"value": ["status"]}})
    r = k.req("profile", dataset="sales")
    kt.check(r["ok"] and any("'status'" in n and "became NaN" in n for n in r["profile"].get("notes", [])),
             "profile carries load notes (numeric_columns lost values)", r.get("profile", {}).get("notes"))
    # data.add: same conventions plus a new dataset list; loaded frames stay,
    # `df` follows the one-dataset rule (two datasets now: no df).
    r = k.run("before = dfs['sales']")
    same = {"numeric_columns": {"value": ["status"]}}
    with open(os.path.join(proj, "data", "more.csv"), "w") as f:
        f.write("m\n5\n")
    r = k.req("conventions", conventions=same, datasets=[
        {"name": "sales", "path": "data/sales.csv", "format": "csv"},
        {"name": "more", "path": os.path.join(proj, "data", "more.csv"), "format": "csv"}])
    kt.check(r["ok"] and r.get("reloaded") == [] and r.get("datasets") == ["more", "sales"] and r.get("df") is None,
             "dataset list refreshed; unchanged conventions reload nothing", r)
    r = k.run("dfs['sales'] is before, int(dfs['more']['m'].sum())")
    kt.check(r["ok"] and r["result"]["repr"] == "(True, 5)", "loaded frame kept; new dataset loadable", r)
    # A loaded dataset whose file is deleted is not served from memory: the
    # step fails the same way whether or not the kernel had read it before.
    os.unlink(os.path.join(proj, "data", "more.csv"))
    r = k.run("dfs['more']")
    e = r["error"] or {}
    kt.check(e.get("type") == "DatasetError" and "not found" in e.get("message", ""),
             "a loaded dataset whose file is gone: DatasetError, not the old frame", r)
    r = k.req("conventions", conventions=[1])
    kt.check(not r["ok"], "conventions must be a map", r)

    k2 = kt.Kernel()
    r = k2.req("bind", project=proj2, conventions={
        "csv_separator": {"value": ";"}, "decimal_separator": {"value": ","},
        "thousands_separator": {"value": "."}, "date_column": {"value": "day"}})
    kt.check(r["ok"] and r.get("df") is None and len(r.get("datasets", [])) == 6, "datasets found in data/", r)
    r = k2.run("e = dfs['euro']\nstr(e['day'].dtype), e['price'].tolist()")
    kt.check(r["ok"] and r["result"]["repr"] == "('datetime64[ns]', [1234.5, 2.25])",
             "';' separator, decimal comma, date without format", r)
    r = k2.run("dfs['t'].to_dict('list')")
    kt.check(r["ok"] and r["result"]["repr"] == "{'a': [1], 'b': [2]}", "tsv", r)
    r = k2.run("dfs['recs'].columns.tolist(), dfs['lines']['a'].tolist(), dfs['cols']['x'].tolist()")
    kt.check(r["ok"] and r["result"]["repr"] == "(['a', 'b'], [1, 2], [1, 2])", "json / jsonl", r)
    r = k2.run("pd.DataFrame({'q': [1, 2]}).to_excel('outputs/book.xlsx', index=False)\n"
               "dfs._files['book'] = {'name': 'book', 'path': 'outputs/book.xlsx', 'format': 'xlsx'}\n"
               "dfs['book']['q'].tolist()")
    kt.check(r["ok"] and r["result"]["repr"] == "[1, 2]", "xlsx (openpyxl)", r)
    r = k2.run("dfs['p']")
    e = r["error"] or {}
    kt.check(e.get("type") == "DatasetError" and "p.parquet" in e.get("message", ""),
             "unreadable parquet: a DatasetError naming the file", e)
    r = k2.run("df")
    kt.check((r["error"] or {}).get("type") == "NameError" and "dfs[NAME]" in r["stderr"],
             "no `df` with several datasets; the note says why", r)
finally:
    k.close()
    if k2:
        k2.close()
kt.finish([proj, proj2])
