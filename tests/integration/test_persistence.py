#!/usr/bin/python3
"""Projects on disk: data.add checks and errors, conventions kept across a
daemon restart, a hand-edited or broken conventions.json, and atomicity —
a daemon killed with SIGKILL in the middle of rewriting conventions.json
leaves a complete, valid file."""
import json
import os
import shutil
import signal
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.dirname(__file__) + "/../.."),
                                "tests/lib"))
from daad import Daad, RpcError, run_tests  # noqa: E402
# Daad(fake_kernel={}): this test is about the server, not Python; its kernels
# (the warm spare, and none other) are tests/lib/fake_kernel.py, ready in ms


D = None


def err_of(method, params):
    try:
        D.call(method, params)
    except RpcError as e:
        return e
    raise AssertionError("%s %r succeeded; an error was expected" % (method, params))


def write(name, data, mode="w"):
    path = os.path.join(D.dir, name)
    with open(path, mode) as f:
        f.write(data)
    return path


def test_data_add_errors():
    D.call("project.create", {"name": "data"})
    p = {"project": "data"}
    e = err_of("data.add", dict(p, path="relative.csv"))
    assert e.code == -32006 and "absolute" in e.message, e
    e = err_of("data.add", dict(p, path=os.path.join(D.dir, "missing.csv")))
    assert e.code == -32006 and "No such file" in e.message, e
    os.makedirs(os.path.join(D.dir, "folder.csv"))
    e = err_of("data.add", dict(p, path=os.path.join(D.dir, "folder.csv")))
    assert e.code == -32006 and "regular file" in e.message, e
    fifo = os.path.join(D.dir, "pipe.csv")
    os.mkfifo(fifo)
    e = err_of("data.add", dict(p, path=fifo))  # must not block the daemon
    assert e.code == -32006 and "regular file" in e.message, e
    e = err_of("data.add", dict(p, path=write("notes.docx", "x")))
    assert e.code == -32006 and "unsupported" in e.message, e
    e = err_of("data.add", dict(p, path=write("bin.csv", b"a,b\n\x00\x01\x02", "wb")))
    assert e.code == -32006 and "binary" in e.message, e
    e = err_of("data.add", dict(p, path=write("fake.xlsx", "a,b\n1,2\n")))
    assert e.code == -32006 and "xlsx" in e.message, e
    e = err_of("data.add", dict(p, path=write("fake.json", "a,b\n")))
    assert e.code == -32006 and "JSON" in e.message, e
    e = err_of("data.add", dict(p, path=write("ok.csv", "a\n1\n"), name="../evil"))
    assert e.code == -32006, e
    if os.geteuid() != 0:
        locked = write("locked.csv", "a\n1\n")
        os.chmod(locked, 0)
        e = err_of("data.add", dict(p, path=locked))
        assert e.code == -32006 and "Permission denied" in e.message, e
    assert D.call("data.list", p)["datasets"] == []  # nothing half-added
    assert [f for f in os.listdir(os.path.join(D.projects, "data", "data"))] == []


def test_data_add_clash_and_overwrite():
    p = {"project": "data"}
    first = write("t.csv", "a\n1\n")
    assert D.call("data.add", dict(p, path=first))["bytes"] == 4
    second = write("t.tsv", "a\tb\n1\t2\n3\t4\n")
    e = err_of("data.add", dict(p, path=second))
    assert e.code == -32005 and "t.csv" in e.message, e
    with open(os.path.join(D.projects, "data", "data", "t.csv")) as f:
        assert f.read() == "a\n1\n"  # nothing overwritten
    r = D.call("data.add", dict(p, path=second, overwrite=True))
    assert r["file"] == "t.tsv" and r["format"] == "tsv"
    ds = D.call("data.list", p)["datasets"]
    assert [(d["name"], d["file"]) for d in ds] == [("t", "t.tsv")], ds
    # json and a big file (copied in the kernel)
    big = os.path.join(D.dir, "big.jsonl")
    with open(big, "w") as f:
        for i in range(200000):
            f.write('{"i": %d}\n' % i)
    r = D.call("data.add", dict(p, path=big))
    assert r["bytes"] == os.path.getsize(big) and r["format"] == "jsonl"
    with open(big, "rb") as a, open(r["path"], "rb") as b:
        assert a.read() == b.read()


def test_big_dataset_copied_in_a_child():
    big = os.path.join(D.dir, "huge.csv")
    with open(big, "w") as f:
        f.write("i,x\n")
        line = "".join("%d,%d\n" % (i, i * 7) for i in range(100000))
        while f.tell() < 20 * 1024 * 1024:
            f.write(line)
    with D.client() as c:
        # two adds of one name in one write: the second finds the first under way
        import msgpack
        c.send_raw(msgpack.packb([0, 1, "data.add", [{"project": "data", "path": big}]]) +
                   msgpack.packb([0, 2, "data.add", [{"project": "data", "path": big}]]) +
                   msgpack.packb([0, 3, "ping", []]))
        second = c.wait(2)
        assert second[2]["code"] == -32008, second
        assert c.wait(3)[3]["pong"] is True  # answered while the copy runs
        first = c.wait(1)
        assert first[2] is None, first
        r = first[3]
    assert r["bytes"] == os.path.getsize(big) and r["name"] == "huge", r
    with open(big, "rb") as a, open(r["path"], "rb") as b:
        while True:
            x, y = a.read(1 << 20), b.read(1 << 20)
            assert x == y
            if not x:
                break
    assert "in child" in D.log_text()
    hidden = [f for f in os.listdir(os.path.dirname(r["path"])) if f.startswith(".")]
    assert hidden == [], hidden


def test_conventions_survive_restart():
    D.call("project.create", {"name": "keep"})
    D.call("conventions.set", {"project": "keep", "key": "id", "value": ["customer_id"],
                               "why": "unique per row"})
    src = write("k.csv", "customer_id\n1\n")
    D.call("data.add", {"project": "keep", "path": src})
    assert D.stop() == 0
    D.start()
    c = D.call("conventions.get", {"project": "keep"})["conventions"]
    assert c["id"]["value"] == ["customer_id"] and c["id"]["why"] == "unique per row"
    assert [d["name"] for d in D.call("data.list", {"project": "keep"})["datasets"]] == ["k"]


def test_interrupted_delete_finished_at_start():
    # what a daemon killed in the middle of project.delete leaves behind
    half = os.path.join(D.projects, ".deleted-old-12345")
    os.makedirs(os.path.join(half, "data"))
    with open(os.path.join(half, "data", "x.csv"), "w") as f:
        f.write("a\n")
    assert ".deleted-old-12345" not in [p["name"] for p in D.call("project.list")["projects"]]
    assert D.stop() == 0
    D.start()
    assert not os.path.exists(half)


def test_conventions_hand_edited_and_broken():
    path = os.path.join(D.projects, "keep", "conventions.json")
    with open(path, "w") as f:
        json.dump({"currency": {"value": "EUR", "source": "user", "updated": "2026-01-01T00:00:00Z"}}, f)
    c = D.call("conventions.get", {"project": "keep"})["conventions"]
    assert set(c) == {"currency"}, c  # the edit is seen without a restart
    with open(path, "w") as f:
        f.write('{"currency": ')
    e = err_of("conventions.set", {"project": "keep", "key": "x", "value": 1})
    assert e.code == -32007 and "conventions.json" in e.message, e
    with open(path) as f:
        assert f.read() == '{"currency": '  # never overwritten
    assert D.call("conventions.get", {"project": "keep"})["conventions"] == {}
    with open(path, "w") as f:
        f.write("{}")
    assert D.call("conventions.set", {"project": "keep", "key": "x", "value": 1}) == {"ok": True}


def writer(stop, acks):
    """Rewrite conventions.json as fast as the daemon allows."""
    try:
        with D.client(timeout=20) as c:
            i = 0
            while not stop.is_set():
                c.call("conventions.set", {"project": "atomic", "key": "k%d" % (i % 20),
                                           "value": "v" * 4000 + str(i)})
                acks.append(i)
                i += 1
    except Exception:  # noqa: BLE001 — the daemon is killed under it
        pass


def test_kill9_leaves_valid_conventions():
    D.call("project.create", {"name": "atomic"})
    path = os.path.join(D.projects, "atomic", "conventions.json")
    rounds = 2 if os.environ.get("DAA_VALGRIND") == "1" else 4  # valgrind is slow
    for rnd in range(rounds):
        stop, acks = threading.Event(), []
        t = threading.Thread(target=writer, args=(stop, acks))
        t.start()
        while len(acks) < 10 + rnd * 15 and t.is_alive():
            __import__("time").sleep(0.001)
        D.kill9()  # in the middle of the stream of rewrites
        stop.set()
        t.join(timeout=30)
        with open(path) as f:
            conv = json.load(f)  # must parse: old or new content, never a mix
        assert isinstance(conv, dict) and conv, conv
        for k, v in conv.items():
            assert v["value"].startswith("v" * 4000) and v["source"] == "user", k
        # every acknowledged write is on disk (fsync before the reply)
        last = acks[-1]
        got = conv["k%d" % (last % 20)]["value"]
        assert got.endswith("v" + str(last)) or got.endswith("v" + str(last + 20)), (last, rnd)
        D.start()
        assert len(D.call("conventions.get", {"project": "atomic"})["conventions"]) == len(conv)
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if ".tmp." in f]
    assert leftovers == [], leftovers  # removed when the project is opened again


def main():
    global D
    with Daad(fake_kernel={}) as d:
        D = d
        run_tests([test_data_add_errors, test_data_add_clash_and_overwrite,
                   test_big_dataset_copied_in_a_child,
                   test_conventions_survive_restart, test_interrupted_delete_finished_at_start,
                   test_conventions_hand_edited_and_broken,
                   test_kill9_leaves_valid_conventions])


if __name__ == "__main__":
    main()
