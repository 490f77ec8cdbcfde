#!/usr/bin/python3
"""Kernel runtime: the profile request — row count, per-column dtype, kind,
missing, distinct, min/max/mean, samples (omitted with samples=false), and
hints for a text date column (with the guessed format, and the candidates
when day/month order is ambiguous) and numbers stored as text with thousands
separators.
With `summary: true` the reply also carries daa_tools' compact summary —
the same dict `daa_tools.cli.profile` prints — after writing the HTML report
and the JSON next to it (paths relative to the project, whatever directory
earlier code left); when daa_tools fails on the frame the light profile is
still returned, with `summary_error`; without `summary` the reply is as
before."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402

rows = ["order_id,order_date,ambig,revenue,region,price,shipped,note"]
for i in range(30):
    rows.append('%d,2024-%02d-%02d,%02d/%02d/2024,"%d,%03d",%s,%s,%s,text number %d'
                % (1000 + i, i % 12 + 1, i % 28 + 1, i % 12 + 1, i % 12 + 1, i + 1, (i * 37) % 1000,
                   ["north", "south"][i % 2], "" if i == 3 else "%.2f" % (i * 1.5),
                   ["true", "false"][i % 2], i))
CSV = "\n".join(rows) + "\n"

k = kt.Kernel()
proj = kt.make_project({"orders.csv": CSV})
try:
    kt.check(k.req("bind", project=proj)["ok"], "bind")
    r = k.req("profile", dataset="orders", samples=True)
    p = r.get("profile") or {}
    kt.check(r["ok"] and p.get("name") == "orders" and p.get("rows") == 30, "profile rows and name", r)
    cols = {c["name"]: c for c in p.get("columns", [])}
    kt.check(list(cols) == ["order_id", "order_date", "ambig", "revenue", "region", "price", "shipped", "note"],
             "every column, in order", list(cols))
    for c in cols.values():
        kt.check(all(f in c for f in ("dtype", "kind", "missing", "distinct", "samples")), "fields of " + c["name"], c)
    oid = cols.get("order_id", {})
    kt.check(oid.get("kind") == "id" and oid.get("distinct") == 30, "integer id column", oid)
    od = cols.get("order_date", {})
    kt.check(od.get("kind") == "text" and "date_like" in od.get("hints", []) and od.get("date_format") == "%Y-%m-%d",
             "text date column hinted with its format", od)
    am = cols.get("ambig", {})
    kt.check("date_like" in am.get("hints", []) and {"%d/%m/%Y", "%m/%d/%Y"} <= set(am.get("date_formats", [])),
             "ambiguous day/month order lists both formats", am)
    rv = cols.get("revenue", {})
    kt.check("numeric_text" in rv.get("hints", []) and rv.get("numeric_text", {}).get("thousands") == ",",
             "numbers with thousands separators hinted", rv)
    kt.check(cols.get("region", {}).get("kind") == "categorical" and cols["region"].get("distinct") == 2,
             "categorical column", cols.get("region"))
    pr = cols.get("price", {})
    kt.check(pr.get("kind") == "numeric" and pr.get("missing") == 1 and pr.get("min") == 0.0
             and pr.get("max") == 43.5 and isinstance(pr.get("mean"), float), "numeric stats and missing", pr)
    kt.check(cols.get("shipped", {}).get("kind") == "bool", "bool column", cols.get("shipped"))
    kt.check(cols.get("note", {}).get("kind") == "text" and "hints" not in cols["note"], "free text, no hints", cols.get("note"))
    kt.check(len(od.get("samples", [])) == 5, "5 samples", od)

    r = k.req("profile", dataset="orders", samples=False)
    kt.check(r["ok"] and all("samples" not in c for c in r["profile"]["columns"]), "samples=false omits samples", r)
    r = k.run("conv = dfs['orders'].assign(order_date=pd.to_datetime(dfs['orders']['order_date']))")
    r = k.req("profile", dataset="conv")
    c = {c["name"]: c for c in r["profile"]["columns"]}.get("order_date", {}) if r["ok"] else {}
    kt.check(c.get("kind") == "datetime" and c.get("min") == "2024-01-01T00:00:00", "profile of a namespace DataFrame; date min", r)
    r = k.req("profile", dataset="missing")
    kt.check(not r["ok"] and "orders" in r["error"]["message"], "unknown dataset: error lists datasets", r)

    light = k.req("profile", dataset="orders", samples=True)
    kt.check(set(light) == {"id", "ok", "profile"}, "no summary asked: the reply is the light profile only", light)
    r = k.req("profile", dataset="orders", summary=False)
    kt.check(set(r) == {"id", "ok", "profile"}, "summary=false: light profile only", r)
    kt.check(k.run("import os\nos.chdir('outputs')")["ok"], "code leaves the working directory elsewhere")
    r = k.req("profile", dataset="orders", summary=True)
    s = r.get("summary") or {}
    kt.check(r["ok"] and r.get("profile") == light["profile"] and "summary_error" not in r,
             "summary=true: the light profile unchanged, plus a summary", r)
    kt.check({"dataset", "rows", "n_columns", "duplicate_rows", "memory_bytes", "columns", "warnings",
              "notes", "report", "correlations", "seconds"} <= set(s) and s.get("dataset") == "orders"
             and s.get("rows") == 30 and s.get("n_columns") == 8, "summary fields", s)
    scols = {c["name"]: c for c in s.get("columns", [])}
    kt.check(list(scols) == list(cols) and all({"name", "type", "dtype", "missing", "distinct", "warnings"}
                                               <= set(c) for c in scols.values()),
             "summary columns", s.get("columns"))
    kt.check(scols.get("price", {}).get("max") == 43.5 and scols["price"].get("missing") == 1,
             "summary numeric stats", scols.get("price"))
    kt.check(s.get("report") == "outputs/reports/orders_profile.html"
             and os.path.isfile(os.path.join(proj, s["report"])), "report relative to the project, written", s)
    jpath = os.path.join(proj, "outputs", "reports", "orders_profile.json")
    full = json.load(open(jpath, encoding="utf-8")) if os.path.isfile(jpath) else {}
    kt.check(full.get("rows") == 30 and [c["name"] for c in full.get("columns", [])] == list(cols)
             and "top" in full["columns"][0], "full JSON written next to the report", full)
    r2 = k.run("import daa_tools.cli\ndaa_tools.cli.profile(dfs, 'orders')")
    line = [ln for ln in r2.get("stdout", "").split("\n") if ln.startswith("\x1edaa-json ")]
    cli = json.loads(line[0][len("\x1edaa-json "):]) if line else {}
    kt.check(r2["ok"] and {k_: v for k_, v in cli.items() if k_ != "seconds"}
             == {k_: v for k_, v in s.items() if k_ != "seconds"},
             "the same summary as daa_tools.cli.profile prints", (cli, s))

    r = k.run("class NoSize:\n"
              "    def __sizeof__(self): raise RuntimeError('cannot size this')\n"
              "odd = pd.DataFrame({'thing': [NoSize(), NoSize(), NoSize()], 'n': [1, 2, 3]})")
    r = k.req("profile", dataset="odd", summary=True)
    kt.check(r["ok"] and r.get("profile", {}).get("rows") == 3 and "summary" not in r
             and r.get("summary_error") == "RuntimeError: cannot size this",
             "daa_tools fails: light profile kept, summary_error 'Type: message'", r)
    r = k.run("len(odd)")
    kt.check(r["ok"] and r["result"]["repr"] == "3", "kernel fine after a summary error", r)
finally:
    k.close()
kt.finish([proj])
