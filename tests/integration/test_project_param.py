#!/usr/bin/python3
"""The `project` param is resolved once, by the dispatcher, for every method
that takes one (daemon/core/rpc.h RPC_METHOD_PROJECT): a name that is not a
project, a folder that is not one, and a param of the wrong type get the
same error from every such method, before the method runs (so nothing is
created or started); absent, it means the default project."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.dirname(__file__) + "/../.."),
                                "tests/lib"))
from daad import Daad, RpcError, run_tests  # noqa: E402

NOT_FOUND = -32004
PARAMS = -32602

# Every method taking a project, with the other params it requires.
METHODS = {
    "project.info": {}, "project.delete": {}, "conventions.get": {},
    "conventions.set": {"key": "k", "value": 1}, "conventions.rm": {"key": "k"},
    "data.add": {"path": "/etc/hostname"}, "data.list": {}, "history.list": {},
    "history.show": {"step": 1}, "history.edit": {"step": 1, "text": "x = 1\n"},
    "history.rerun": {}, "export.script": {}, "export.notebook": {}, "run": {"code": "1"},
    "kernel.interrupt": {}, "kernel.restart": {}, "log.tail": {}, "summary.get": {},
    "model.run": {"target": "y"}, "profile.run": {}, "ask": {"request": "hi"},
    "answer": {"text": "yes"}, "cancel": {}, "watch": {}, "turns.list": {}, "history.undo": {},
}
D = None


def error_of(c, method, params):
    try:
        c.call(method, params)
    except RpcError as e:
        return e.code, e.message
    return None, None


def test_missing_name():
    with D.client() as c:
        for m, extra in METHODS.items():
            code, msg = error_of(c, m, dict(extra, project="no-such-proj"))
            assert code == NOT_FOUND and "no project named 'no-such-proj'" in msg, (m, code, msg)
        names = [p["name"] for p in c.call("project.list")["projects"]]
        assert "no-such-proj" not in names, names


def test_folder_not_a_project():
    folder = tempfile.mkdtemp(prefix="daa-notproj.")
    try:
        with D.client() as c:
            for m, extra in METHODS.items():
                code, msg = error_of(c, m, dict(extra, project=folder))
                assert code == NOT_FOUND and "is not a daa project" in msg, (m, code, msg)
        assert os.listdir(folder) == [], os.listdir(folder)  # nothing made there
    finally:
        os.rmdir(folder)


def test_wrong_type():
    with D.client() as c:
        for m, extra in METHODS.items():
            code, msg = error_of(c, m, dict(extra, project=5))
            assert code == PARAMS and msg.startswith(m + ":"), (m, code, msg)


def test_default_project():
    with D.client() as c:
        w = c.call("watch")
        info = c.call("project.info")
        assert w["project_path"] == info["path"] and w["project"] == info["name"], (w, info)
        assert c.call("cancel", {}) == {"cancelled": False}
        assert c.call("data.list")["project_path"] == info["path"]


def main():
    global D
    with Daad() as d:
        D = d
        run_tests([test_missing_name, test_folder_not_a_project, test_wrong_type,
                   test_default_project])


if __name__ == "__main__":
    main()
