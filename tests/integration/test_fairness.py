#!/usr/bin/python3
"""Fairness of daad's server, through a real daemon, without timing:

- one client pipelines heavy calls (history.list, each followed by a
  conventions.set of its sequence number) and reads nothing; another asks
  conventions.get.  The daemon is stopped (SIGSTOP) while both send, so
  both requests are waiting when it resumes, the flood first: the number
  the second client reads is how many flood requests were served before
  it (the daemon is stopped while idle in epoll_wait, so the flood is the
  first ready connection).  With the per-connection budget it is a handful; with the budget
  turned off (DAA_FAIR_BUDGET=0, checked too, so the test can fail) it is
  all of them.  Every flood request is still answered, in order.
- history.list served from the in-memory index follows every change on
  disk at once: a step's text edited in place, a figure added, the statuses
  file rewritten in place, a step removed; so do the step counts of
  project.info and project.list.
- 200 clients connected at once are all served (default max_clients), and
  the refusal past the cap names the limit and its config key.
"""
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.dirname(__file__) + "/../.."),
                                "tests/lib"))
import msgpack  # noqa: E402
from daad import Daad, run_tests  # noqa: E402
# Daad(fake_kernel={}): this test is about the server, not Python; its kernels
# (the warm spare, and none other) are tests/lib/fake_kernel.py, ready in ms


FLOOD = 60


def raw(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(d.sock)  # blocking: waits for room in the listen queue
    s.settimeout(30)
    return s


def raw_in_a_slot(d):
    """A raw connection that got one of the daemon's slots (its ping was
    answered). The harness's readiness ping holds a slot until the daemon
    reads its hang-up; a slow daemon (valgrind) may refuse a new client
    before that, so a refused one is tried again."""
    for _ in range(100):
        s = raw(d)
        try:
            s.sendall(req(1, "ping"))
            responses(s, msgpack.Unpacker(raw=False), 1)
            return s
        except (OSError, AssertionError):  # refused: closed before the pong
            s.close()
    raise AssertionError("no slot free for a client")


def req(msgid, method, params=None):
    return msgpack.packb([0, msgid, method, [params] if params is not None else []])


def responses(s, u, n):
    """The next n responses on s (notifications skipped)."""
    out = []
    while len(out) < n:
        for m in u:
            if m[0] == 1:
                out.append(m)
        if len(out) < n:
            data = s.recv(1 << 20)
            assert data, "the daemon closed the connection"
            u.feed(data)
    return out


def make_steps(d, name, n):
    path = d.call("project.create", {"name": name})["path"]
    for i in range(1, n + 1):
        with open(os.path.join(path, "history", "%03d_s%d.py" % (i, i)), "w") as f:
            f.write("# daa turn\n# request: step %d\n\nx = %d\n" % (i, i))
    return path


def wait_idle(pid):
    """Until the daemon sleeps in epoll_wait: its ready list then holds no
    connection from the last round (epoll re-queues level-triggered ones,
    and one left there would come out before the flood)."""
    for _ in range(20000):  # a hang guard, not a timing condition
        with open("/proc/%d/wchan" % pid) as f:
            w = f.read()
        if "epoll" in w or w.startswith("ep_poll"):
            return
        time.sleep(0.001)
    raise AssertionError("daad never went idle in epoll_wait (wchan)")


def served_before(d):
    """How many flood requests the daemon served before the other client's."""
    make_steps(d, "fair", 200)
    flood, other = raw(d), raw(d)
    fu, ou = msgpack.Unpacker(raw=False), msgpack.Unpacker(raw=False)
    for s, u in ((flood, fu), (other, ou)):  # both accepted before the stop
        s.sendall(req(1, "ping"))
        responses(s, u, 1)
    batch = b"".join(req(2 + 2 * i, "history.list", {"project": "fair"}) +
                     req(3 + 2 * i, "conventions.set", {"project": "fair", "key": "seq",
                                                        "value": i + 1})
                     for i in range(FLOOD))
    wait_idle(d.proc.pid)
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        flood.sendall(batch)
        other.sendall(req(2, "conventions.get", {"project": "fair"}))
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)
    got = responses(other, ou, 1)[0]
    assert got[2] is None, got
    seq = got[3]["conventions"].get("seq", {}).get("value", 0)
    # the flood is still answered in full, in order (served over later turns)
    rs = responses(flood, fu, 2 * FLOOD)
    assert [r[1] for r in rs] == list(range(2, 2 + 2 * FLOOD)), [r[1] for r in rs][:10]
    assert all(r[2] is None for r in rs), [r[2] for r in rs if r[2]][:3]
    assert len(rs[0][3]["steps"]) == 200
    flood.close()
    other.close()
    return seq


def test_flood_does_not_hold_up_others():
    with Daad(fake_kernel={}) as d:
        seq = served_before(d)
    print("# with the budget: %d of %d flood pairs served first" % (seq, FLOOD))
    assert seq <= 8, "the other client waited for %d of %d flood pairs" % (seq, FLOOD)


def test_without_budget_the_flood_goes_first():
    """The check above can fail: without the budget the flood is served whole."""
    with Daad(fake_kernel={}, extra_env={"DAA_FAIR_BUDGET": "0"}) as d:
        seq = served_before(d)
    assert seq == FLOOD, seq


def listing(d):
    return d.call("history.list", {"project": "idx"})


def test_index_follows_changes():
    top = tempfile.mkdtemp(prefix="daa-test.")
    try:
        index_follows_changes(top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def index_follows_changes(top):
    with Daad(fake_kernel={}, keep_dir=top) as d:
        path = make_steps(d, "idx", 5)
        first = listing(d)
        assert [s["title"] for s in first["steps"]] == ["step %d" % i for i in range(1, 6)]
        assert listing(d) == first  # served from the index
        # a step's text edited in place (same file, no rename)
        with open(os.path.join(path, "history", "003_s3.py"), "r+") as f:
            f.write("# daa turn\n# request: EDITED\n")
        assert listing(d)["steps"][2]["title"] == "EDITED"
        # a figure appears
        with open(os.path.join(path, "outputs", "plots", "002_s2_1.png"), "wb") as f:
            f.write(b"\x89PNG")
        assert listing(d)["steps"][1]["outputs"] == ["outputs/plots/002_s2_1.png"]
        # the statuses file written in place, then replaced
        st = os.path.join(path, ".daa", "history.json")
        with open(st, "w") as f:
            json.dump({"004_s4": {"status": "failed", "error": "boom"}}, f)
        s4 = listing(d)["steps"][3]
        assert s4["status"] == "failed" and s4["error"] == "boom", s4
        with open(st + ".tmp", "w") as f:
            json.dump({"004_s4": {"status": "stale"}}, f)
        os.rename(st + ".tmp", st)
        assert listing(d)["steps"][3]["status"] == "stale"
        # something else in .daa/ does not matter; a removed step does
        with open(os.path.join(path, ".daa", "other.json"), "w") as f:
            f.write("{}")
        os.unlink(os.path.join(path, "history", "005_s5.py"))
        assert [s["n"] for s in listing(d)["steps"]] == [1, 2, 3, 4]
        # the step counts of project.info / project.list (kept by the index too)
        assert d.call("project.info", {"project": "idx"})["steps"] == 4
        with open(os.path.join(path, "history", "009_new.py"), "w") as f:
            f.write("# request: new\n")
        assert d.call("project.info", {"project": "idx"})["steps"] == 5
        rows = {r["name"]: r for r in d.call("project.list")["projects"]}
        assert rows["idx"]["steps"] == 5, rows
        os.unlink(os.path.join(path, "history", "009_new.py"))
        rows = {r["name"]: r for r in d.call("project.list")["projects"]}
        assert rows["idx"]["steps"] == 4, rows
        assert d.call("project.info", {"project": "idx"})["steps"] == 4
        # outputs/ put aside and made again: the new plots/ is the one read
        os.rename(os.path.join(path, "outputs"), os.path.join(path, "outputs.old"))
        os.makedirs(os.path.join(path, "outputs", "plots"))
        assert listing(d)["steps"][1]["outputs"] == []
        with open(os.path.join(path, "outputs", "plots", "001_s1_1.png"), "wb") as f:
            f.write(b"\x89PNG")
        assert listing(d)["steps"][0]["outputs"] == ["outputs/plots/001_s1_1.png"]
        # the same answers as a listing read from disk every time
        cached = listing(d)
    with Daad(fake_kernel={}, extra_env={"DAA_HISTORY_INDEX": "0"}, keep_dir=top) as d2:
        assert d2.call("history.list", {"project": "idx"}) == cached


def test_many_clients():
    with Daad(fake_kernel={}) as d:
        socks = [raw(d) for _ in range(200)]
        for i, s in enumerate(socks):
            s.sendall(req(i + 1, "ping"))
        for i, s in enumerate(socks):
            r = responses(s, msgpack.Unpacker(raw=False), 1)[0]
            assert r[1] == i + 1 and r[2] is None and r[3]["pong"], r
        assert d.call("status")["clients"] >= 200
        for s in socks:
            s.close()
    with Daad(fake_kernel={}, config={"max_clients": 3}) as d:
        keep = [raw_in_a_slot(d) for _ in range(3)]
        extra = raw(d)
        u, msgs = msgpack.Unpacker(raw=False), []
        while True:
            data = extra.recv(4096)
            if not data:
                break
            u.feed(data)
            msgs.extend(u)
        assert msgs and msgs[0][0] == 2 and msgs[0][2][0]["code"] == -32008, msgs
        text = msgs[0][2][0]["message"]
        assert "max_clients" in text and "3" in text, text
        for s in keep + [extra]:
            s.close()


if __name__ == "__main__":
    run_tests([test_flood_does_not_hold_up_others, test_without_budget_the_flood_goes_first,
               test_index_follows_changes, test_many_clients])
