#!/usr/bin/python3
"""Interop: an independent msgpack-rpc client (python3-msgpack, not our C
code) calls every core method of a private daad and checks every field of
every response, plus the protocol rules of protocol/PROTOCOL.md."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.dirname(__file__) + "/../.."),
                                "tests/lib"))
import msgpack  # noqa: E402
from daad import Daad, RpcError, run_tests  # noqa: E402
# Daad(fake_kernel={}): this test is about the server, not Python; its kernels
# (the warm spare, and none other) are tests/lib/fake_kernel.py, ready in ms


D = None


def expect_error(code, method, params=None, client=None):
    c = client or D.client()
    try:
        c.call(method, params)
    except RpcError as e:
        assert e.code == code, "%s: expected %s, got %s (%s)" % (method, code, e.code, e.message)
        assert isinstance(e.message, str) and e.message, e.message
        return e
    finally:
        if client is None:
            c.close()
    raise AssertionError("%s %r: expected error %s, got a result" % (method, params, code))


def test_ping():
    r = D.call("ping")
    assert set(r) == {"pong", "version", "pid"}, r
    assert r["pong"] is True and isinstance(r["version"], str) and r["pid"] == D.proc.pid


def test_status():
    with D.client() as c:
        r = c.call("status")
        for k in ("version", "pid", "uptime_s", "socket", "projects_open", "clients", "kernels", "llm"):
            assert k in r, (k, r)
        assert r["socket"] == D.sock and r["pid"] == D.proc.pid
        assert isinstance(r["uptime_s"], int) and r["uptime_s"] >= 0
        assert isinstance(r["projects_open"], list)
        assert r["clients"] >= 1
        assert isinstance(r["kernels"]["running"], int) and isinstance(r["kernels"]["spare"], int)
        assert isinstance(r["llm"]["backend"], str) and "model" in r["llm"]


def test_project_methods():
    r = D.call("project.create", {"name": "alpha"})
    assert r == {"name": "alpha", "path": os.path.join(D.projects, "alpha")}, r
    for sub in ("data", "history", "outputs/plots", "outputs/tables", "outputs/models", ".daa"):
        assert os.path.isdir(os.path.join(r["path"], sub)), sub
    with open(os.path.join(r["path"], "conventions.json")) as f:
        assert f.read().strip() == "{}"
    expect_error(-32005, "project.create", {"name": "alpha"})
    lst = D.call("project.list")
    assert set(lst) == {"projects"}
    row = [p for p in lst["projects"] if p["name"] == "alpha"][0]
    assert row == {"name": "alpha", "path": r["path"], "datasets": 0, "steps": 0}, row
    info = D.call("project.info", {"project": "alpha"})
    assert info == {"name": "alpha", "path": r["path"], "datasets": [], "steps": 0,
                    "conventions": {}}, info
    # by absolute path too
    assert D.call("project.info", {"project": r["path"]})["name"] == "alpha"
    st = D.call("status")
    assert "alpha" in st["projects_open"], st


def test_default_project_on_demand():
    info = D.call("project.info")
    assert info["name"] == "default" and info["path"] == os.path.join(D.projects, "default")
    assert os.path.isdir(os.path.join(info["path"], "data"))


def test_data_methods():
    src = os.path.join(D.dir, "sales.csv")
    with open(src, "w") as f:
        f.write("date,revenue\n2024-01-01,10\n2024-01-02,12\n")
    r = D.call("data.add", {"project": "alpha", "path": src})
    want_path = os.path.join(D.projects, "alpha", "data", "sales.csv")
    prof = r.pop("profile", None)   # the background profile (daemon/profiler/profiler.c)
    assert r == {"name": "sales", "file": "sales.csv", "bytes": os.path.getsize(src),
                 "format": "csv", "path": want_path}, r
    assert prof and prof["state"] in ("running", "failed", "ready", "none"), prof
    with open(want_path) as f, open(src) as g:
        assert f.read() == g.read()
    r2 = D.call("data.add", {"project": "alpha", "path": src, "name": "other"})
    assert r2["name"] == "other" and r2["file"] == "other.csv"
    lst = D.call("data.list", {"project": "alpha"})
    assert set(lst) == {"datasets", "project_path"}
    assert [d["name"] for d in lst["datasets"]] == ["other", "sales"]
    for d in lst["datasets"]:
        assert set(d) == {"name", "file", "path", "format", "bytes", "profile"}, d
        assert d["profile"]["state"] in ("running", "failed", "ready", "none"), d
        assert d["format"] == "csv" and d["bytes"] == os.path.getsize(src)
    info = D.call("project.info", {"project": "alpha"})
    assert len(info["datasets"]) == 2
    row = [p for p in D.call("project.list")["projects"] if p["name"] == "alpha"][0]
    assert row["datasets"] == 2


def test_conventions_methods():
    assert D.call("conventions.set", {"project": "alpha", "key": "date_column",
                                      "value": "date", "why": "the only date"}) == {"ok": True}
    assert D.call("conventions.set", {"project": "alpha", "key": "units",
                                      "value": {"revenue": "EUR", "n": [1, 2.5, None, True]},
                                      "source": "agent"}) == {"ok": True}
    g = D.call("conventions.get", {"project": "alpha"})
    assert set(g) == {"conventions", "project_path"}
    c = g["conventions"]
    assert set(c) == {"date_column", "units"}
    assert c["date_column"]["value"] == "date" and c["date_column"]["source"] == "user"
    assert c["date_column"]["why"] == "the only date"
    assert c["units"]["value"] == {"revenue": "EUR", "n": [1, 2.5, None, True]}
    assert c["units"]["source"] == "agent" and "why" not in c["units"]
    for v in c.values():
        assert isinstance(v["updated"], str) and v["updated"].endswith("Z")
    expect_error(-32006, "conventions.set", {"project": "alpha", "key": "k", "value": 1,
                                             "source": "robot"})
    assert D.call("conventions.rm", {"project": "alpha", "key": "units"}) == {"ok": True}
    expect_error(-32004, "conventions.rm", {"project": "alpha", "key": "units"})
    assert set(D.call("conventions.get", {"project": "alpha"})["conventions"]) == {"date_column"}
    assert D.call("project.info", {"project": "alpha"})["conventions"]["date_column"]["value"] == "date"


def test_project_delete():
    D.call("project.create", {"name": "gone"})
    path = os.path.join(D.projects, "gone")
    r = D.call("project.delete", {"project": "gone"})
    assert r == {"ok": True, "files_removed": True, "path": path}, r
    assert not os.path.exists(path)
    expect_error(-32004, "project.info", {"project": "gone"})
    expect_error(-32004, "project.delete", {"project": "gone"})
    assert "gone" not in [p["name"] for p in D.call("project.list")["projects"]]
    # created again under the same name: a fresh, empty project
    D.call("project.create", {"name": "gone"})
    assert D.call("project.info", {"project": "gone"})["datasets"] == []


def test_project_in_chosen_dir():
    parent = os.path.join(D.dir, "elsewhere")
    os.makedirs(parent)
    r = D.call("project.create", {"name": "outside", "dir": parent})
    assert r["path"] == os.path.join(parent, "outside")
    assert os.path.isdir(os.path.join(parent, "outside", "data"))
    names = [p["name"] for p in D.call("project.list")["projects"]]
    assert "outside" in names
    assert D.call("project.info", {"project": "outside"})["path"] == r["path"]
    expect_error(-32006, "project.create", {"name": "rel", "dir": "relative/dir"})
    d = D.call("project.delete", {"project": "outside"})
    assert d["files_removed"] is False and os.path.isdir(r["path"]), d
    assert "outside" not in [p["name"] for p in D.call("project.list")["projects"]]


def test_bad_names():
    for bad in ("", "../x", "a/b", ".hidden", "x" * 65, "tab\tname", "..", "new\nline"):
        expect_error(-32006, "project.create", {"name": bad})
    expect_error(-32006, "project.info", {"project": "../etc"})
    D.call("project.create", {"name": "x" * 64})  # exactly 64 bytes is fine


def test_protocol_errors():
    expect_error(-32601, "no.such.method")
    expect_error(-32602, "project.create", {})                       # missing name
    expect_error(-32602, "project.create", {"name": 5})              # wrong type
    expect_error(-32602, "project.create", {"name": "ok", "nme": 1})  # unknown key
    expect_error(-32602, "data.add", {"path": "/x", "overwrite": "yes"})
    expect_error(-32602, "ping", {"unexpected": 1})


def test_params_shapes_and_ids():
    with D.client() as c:
        # [] and [{}] both mean no arguments; msgids are echoed, up to 2^32-1
        c.send_raw(msgpack.packb([0, 4294967295, "ping", []]))
        r = c.wait(4294967295)
        assert r[0] == 1 and r[2] is None and r[3]["pong"] is True
        c.send_raw(msgpack.packb([0, 0, "ping", [{}]]))
        assert c.wait(0)[3]["pong"] is True
        # a notification from the client is ignored; the connection goes on
        c.send_raw(msgpack.packb([2, "ping", []]))
        # pipelined requests: every response, each with its own id
        ids = [c.send("ping") for _ in range(50)]
        for i in ids:
            assert c.wait(i)[3]["pong"] is True
        assert not c.notifications


def test_shutdown_method():
    # last test: the daemon stops on request and removes its socket
    with D.client() as c:
        assert c.call("shutdown") == {"ok": True}
    assert D.wait_exit() == 0
    assert not os.path.exists(D.sock), "socket left behind"


def main():
    global D
    with Daad(fake_kernel={}) as d:
        D = d
        run_tests([test_ping, test_status, test_project_methods, test_default_project_on_demand,
                   test_data_methods, test_conventions_methods, test_project_delete,
                   test_project_in_chosen_dir, test_bad_names, test_protocol_errors,
                   test_params_shapes_and_ids, test_shutdown_method])


if __name__ == "__main__":
    main()
