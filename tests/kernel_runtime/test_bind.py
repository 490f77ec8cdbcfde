#!/usr/bin/python3
"""Kernel runtime: binding and the request protocol — no user code before a
bind; the seal fails closed when libdaasbx.so is not available (unless the
bind allows missing layers); a second bind and bad projects are refused;
unknown ops and non-map messages get error replies; the kernel exits when
the socket closes."""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402

proj = kt.make_project({"a.csv": "x\n1\n"})
ks = []
try:
    # Not in test mode, no DAA_SBX_LIB: refuse to bind (fail closed).
    k = kt.Kernel(unsandboxed=False)
    ks.append(k)
    kt.check(k.ready.get("ev") == "ready" and k.ready.get("pid") == k.proc.pid, "ready event carries the pid", k.ready)
    r = k.run("open('/tmp/should-not-run', 'w')")
    kt.check(not r["ok"] and "not bound" in r["error"]["message"], "exec before bind refused", r)
    r = k.req("profile", dataset="a")
    kt.check(not r["ok"], "profile before bind refused", r)
    r = k.req("bind", project=proj)
    kt.check(not r["ok"] and r["error"]["type"] == "SandboxError" and "DAA_SBX_LIB" in r["error"]["message"],
             "no seal library: bind refused", r)
    kt.check(r.get("layers", {}).get("seal", "").startswith("missing"), "layer report says missing", r)
    r = k.run("1")
    kt.check(not r["ok"] and "not bound" in r["error"]["message"], "still unbound after a refused bind", r)

    k = kt.Kernel(unsandboxed=False, env_extra={"DAA_SBX_LIB": "/nonexistent/libdaasbx.so"})
    ks.append(k)
    r = k.req("bind", project=proj)
    kt.check(not r["ok"] and "/nonexistent/libdaasbx.so" in r["error"]["message"], "missing library named", r)
    r = k.req("bind", project=proj, sandbox={"allow_missing": True})
    kt.check(r["ok"] and r["layers"]["seal"].startswith("missing"), "allow_missing binds, reporting the gap", r)
    r = k.run("import os\nos.getcwd()")
    kt.check(r["ok"] and r["result"]["repr"] == repr(os.path.realpath(proj)), "cwd is the project", r)
    r = k.run("import tempfile\ntempfile.gettempdir()")
    kt.check(r["ok"] and r["result"]["repr"] == repr(os.path.join(os.path.realpath(proj), ".daa", "tmp")),
             "temp dir is the private tmp", r)
    r = k.req("bind", project=proj, sandbox={"allow_missing": True})
    kt.check(not r["ok"] and "already bound" in r["error"]["message"], "second bind refused", r)

    k = kt.Kernel()
    ks.append(k)
    r = k.req("bind", project="relative/path")
    kt.check(not r["ok"] and "not a directory" in r["error"]["message"], "bad project refused", r)
    r = k.req("bind", project=proj, tmp="not/absolute")
    kt.check(not r["ok"] and "absolute" in r["error"]["message"], "relative tmp refused", r)
    r = k.req("frobnicate")
    kt.check(not r["ok"] and "unknown op" in r["error"]["message"], "unknown op", r)
    k.send([1, 2, 3])
    r = k.read()
    kt.check(r.get("ok") is False and r.get("id") is None, "non-map message gets an error reply", r)
    r = k.req("ping")
    kt.check(r["ok"] and r["bound"] is False, "ping (unbound)", r)
    kt.check(k.req("bind", project=proj)["ok"], "bind after refused attempts")
    r = k.req("exec", code=12)
    kt.check(not r["ok"] and "must be a string" in r["error"]["message"], "exec with a non-string code refused", r)
    r = k.req("exec", code="1", max_output="big")
    kt.check(r["ok"] and r["result"]["repr"] == "1", "bad max_output falls back to the default", r)

    # Odd field types and values (seeded, so reproducible): every request
    # gets a reply with its id, and the kernel stays up.
    rnd = random.Random(7)
    vals = [None, True, 0, -1, 2 ** 63, 1.5, "", "x", "../..", b"\xff", [], [1, "a"], {},
            {"value": 1}, {"a": {"b": [None]}}]
    keys = ["project", "code", "step", "max_output", "dataset", "samples", "conventions",
            "datasets", "sandbox", "outputs", "tmp"]
    bad = []
    for i in range(300):
        msg = {"op": rnd.choice(["bind", "exec", "profile", "vars", "conventions", "ping", None, 5]),
               "id": 1000 + i}
        for key in rnd.sample(keys, rnd.randint(0, 5)):
            msg[key] = rnd.choice(vals)
        if msg["op"] == "bind" and rnd.random() < 0.3:
            msg["project"] = proj
        k.send(msg)
        r = k.read()
        if r.get("id") != msg["id"] or not isinstance(r.get("ok"), bool):
            bad.append((msg, r))
    kt.check(not bad, "300 odd requests: each answered with its id", bad[:3])
    kt.check(k.req("ping")["ok"], "kernel alive after odd requests")
finally:
    for k in ks:
        rc = k.close()
        kt.check(rc == 0, "kernel exit status 0 after the socket closed", k.log())
kt.finish([proj])
