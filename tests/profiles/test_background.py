#!/usr/bin/python3
"""tests/profiles/test_background.py — adding a dataset profiles it in the
background (daemon/profiler/profiler.c), the profile is cached by the file's content
hash in .daa/, and the agent's context is built from it.

Through a real daad and the fake OpenAI server: data.add answers at once with
profile state "running"; a `data.event` "profiled" follows with the summary's
counts; .daa/profiles/<sha256 of the file>-<name>.json and the index exist
(the hash checked with hashlib); data.list shows "ready"; profile.run answers
from the cache (entry not rewritten), also after the file's mtime changed
with the same content; a loading convention makes it again in the
background (another convention does not); the model's first request holds the
daa_tools types and warnings and the report path; a file pandas cannot read
ends in "profile_failed" with the reason and the daemon keeps serving; with
privacy "schema" no sample value reaches the model."""
import hashlib
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, final, run_openai_test  # noqa: E402

ROWS = 300


def write_shop(path):
    """A table with known warnings: an id, a mostly-missing column, a constant."""
    with open(path, "w") as f:
        f.write("order_id,city,amount,coupon,channel,note\n")
        for i in range(ROWS):
            city = ["Lyon", "Zebulonville", "Porto"][i % 3]
            coupon = "C%d" % i if i % 10 == 0 else ""
            f.write("%d,%s,%.2f,%s,web,n%d\n" % (1000 + i, city, 10 + (i * 7) % 90, coupon, i))


def entry_path(proj, sha, name):
    return os.path.join(proj, ".daa", "profiles", "%s-%s.json" % (sha, name))


def sha_of(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def added_then_profiled(c, proj, csv):
    r = c.call("data.add", project="p", path=csv, name="shop")
    check(r["profile"]["state"] == "running", "data.add profile %r" % r.get("profile"))
    ev = c.wait_event("profiled", timeout=180)
    check(ev["dataset"] == "shop" and ev["file"] == "shop.csv", "event %r" % ev)
    check(ev["rows"] == ROWS and ev["n_columns"] == 6, "event counts %r" % ev)
    check(ev["warnings"] >= 2, "event warnings %r" % ev)
    check(ev["report"] == "outputs/reports/shop_profile.html", "report %r" % ev["report"])
    check(os.path.isfile(os.path.join(proj, ev["report"])), "no report file")
    # the harness's kernel.report_images false (tests/lib/daad.py): a report
    # without charts; tools/test_cli_tools.py checks them with it true
    with open(os.path.join(proj, ev["report"]), encoding="utf-8") as f:
        has_img = "<img" in f.read()
    check(has_img == (os.environ.get("DAA_TEST_REPORT_IMAGES") == "1"),
          "report charts %s with kernel.report_images %s" % (has_img, os.environ.get("DAA_TEST_REPORT_IMAGES") == "1"))
    sha = sha_of(csv)
    e = entry_path(proj, sha, "shop")
    check(os.path.isfile(e), "no cache entry %s" % e)
    entry = json.load(open(e))
    check(entry["sha256"] == sha and entry["dataset"] == "shop", "entry %r" % {k: entry.get(k) for k in ("sha256", "dataset")})
    types = {c["name"]: c["type"] for c in entry["summary"]["columns"]}
    check(types["order_id"] == "identifier" and types["amount"] == "numeric", "types %r" % types)
    index = json.load(open(os.path.join(proj, ".daa", "profiles.json")))
    check(index["files"]["shop.csv"]["sha256"] == sha, "index %r" % index)
    print("ok - data.add: profiled in the background, cached under the content hash")
    return e, entry


def cached_reads(c, proj, e, entry):
    ds = c.call("data.list", project="p")["datasets"]
    check(ds[0]["profile"]["state"] == "ready" and ds[0]["profile"]["rows"] == ROWS, "list %r" % ds)
    m0 = os.stat(e).st_mtime_ns
    r = c.call("profile.run", project="p", dataset="shop", timeout=60)
    check(r["created"] == entry["created"] and r["cached"] is True, "profile.run not cached: %r" % r.get("created"))
    check(os.stat(e).st_mtime_ns == m0, "the cached entry was rewritten")
    data = os.path.join(proj, "data", "shop.csv")
    os.utime(data, ns=(m0 + 10**9, m0 + 10**9))
    r = c.call("profile.run", project="p", dataset="SHOP.csv", timeout=60)
    check(r["created"] == entry["created"] and r["cached"] is True, "same content, new mtime: profiled again")
    index = json.load(open(os.path.join(proj, ".daa", "profiles.json")))
    check(index["files"]["shop.csv"]["mtime_ns"] == m0 + 10**9, "index mtime not updated")
    print("ok - profile.run answers from the cache, also after a touch (content hash)")


def remade_for_convention(c, e):
    n = len(c.events)
    c.call("conventions.set", project="p", key="na_values", value=["n1"], source="user")
    ev = c.wait_event("profiled", timeout=180, start=n)
    entry = json.load(open(e))
    check(ev["dataset"] == "shop" and '"na_values"' in entry["load_key"], "not made again: %r" % entry["load_key"])
    r = c.call("profile.run", project="p", dataset="shop", timeout=180)
    check(r["created"] == entry["created"] and r["cached"] is True, "profile.run after the remake: %r" % r)
    st = c.call("data.list", project="p")["datasets"][0]["profile"]
    check(st["state"] == "ready" and "outdated" not in st, "status %r" % st)
    n = len(c.events)
    c.call("conventions.set", project="p", key="favourite_colour", value="blue", source="user")
    c.call("conventions.rm", project="p", key="favourite_colour")
    check(c.call("data.list", project="p")["datasets"][0]["profile"]["state"] == "ready",
          "a convention that does not change loading started a profile")
    c.call("conventions.rm", project="p", key="na_values")
    c.wait_event("profiled", timeout=180, start=n)
    print("ok - a loading convention makes the profile again in the background; others do not")


def context_uses_profile(c, fake):
    r = c.call("ask", timeout=180, project="p", request="what is in the shop data?")
    check(r["status"] == "done", "turn %r" % r)
    msgs = fake.requests()[0]["body"]["messages"]
    user = "\n".join(m["content"] for m in msgs if m["role"] == "user" and isinstance(m.get("content"), str))
    for want in ('"type":"identifier"', "likely identifier", "mostly missing", "constant",
                 "profile report outputs/reports/shop_profile.html", "Zebulonville"):
        check(want in user, "the model's context lacks %r:\n%s" % (want, user[:3000]))
    print("ok - the model's context carries the daa_tools types, warnings and report")


def broken_file(c, work):
    bad = os.path.join(work, "broken.csv")
    with open(bad, "w") as f:
        f.write('a,b\n1,"unterminated\n2,3\n')
    c.call("data.add", project="p", path=bad)
    ev = c.wait_event("profile_failed", timeout=180)
    check(ev["dataset"] == "broken" and ev["error"], "failed event %r" % ev)
    st = [d for d in c.call("data.list", project="p")["datasets"] if d["name"] == "broken"][0]["profile"]
    check(st["state"] == "failed" and st["error"] == ev["error"], "status %r" % st)
    check(c.call("ping")["pong"] is True, "daemon not serving")
    print("ok - an unreadable dataset: profile_failed (%s), daemon serving" % ev["error"][:80])


def main():
    work = tempfile.mkdtemp(prefix="daa-prof.")
    csv = os.path.join(work, "shop.csv")
    write_shop(csv)

    def body(d, fake):
        c = d.client(timeout=200)
        proj = c.call("project.create", name="p")["path"]
        c.call("watch", project="p")
        e, entry = added_then_profiled(c, proj, csv)
        cached_reads(c, proj, e, entry)
        remade_for_convention(c, e)
        context_uses_profile(c, fake)
        broken_file(c, work)

    def schema_only(d, fake):
        c = d.client(timeout=200)
        c.call("project.create", name="p")
        c.call("watch", project="p")
        c.call("data.add", project="p", path=csv, name="shop")
        c.wait_event("profiled", timeout=180)
        r = c.call("ask", timeout=180, project="p", request="what is in the shop data?")
        check(r["status"] == "done", "turn %r" % r)
        body_text = json.dumps(fake.requests()[0]["body"])
        check("Zebulonville" not in body_text and "samples" not in body_text,
              "privacy schema: a sample value reached the model")
        check("likely identifier" in body_text, "privacy schema: the warnings are missing")
        print("ok - privacy \"schema\": the summary without sample values")

    try:
        run_openai_test(body, [final("It is a table of orders.")])
        run_openai_test(schema_only, [final("Orders.")], agent={"privacy": "schema"})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
