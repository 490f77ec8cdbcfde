#!/usr/bin/python3
"""Kernel runtime: the profile request — row count, per-column dtype, kind,
missing, distinct, min/max/mean, samples (omitted with samples=false), and
hints for a text date column (with the guessed format, and the candidates
when day/month order is ambiguous) and numbers stored as text with thousands
separators."""

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
finally:
    k.close()
kt.finish([proj])
