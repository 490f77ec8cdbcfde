#!/usr/bin/python3
"""Robustness of daad's server against bad peers: garbage, a peer that
hangs up mid-message or mid-reply, oversized and deeply nested messages, a
client that floods requests and never reads, the connection cap, and peers
of another uid.  In every case the other clients keep being served and the
daemon stays up (checked with ping from a well-behaved client)."""
import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.dirname(__file__) + "/../.."),
                                "tests/lib"))
import msgpack  # noqa: E402
from daad import Client, Daad, run_tests  # noqa: E402
# Daad(fake_kernel={}): this test is about the server, not Python; its kernels
# (the warm spare, and none other) are tests/lib/fake_kernel.py, ready in ms


D = None


def raw(timeout=20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(D.sock)
    return s


def read_until_eof(s):
    """Every message the daemon sends before closing (fails on a hang)."""
    u = msgpack.Unpacker(raw=False)
    msgs = []
    while True:
        try:
            data = s.recv(65536)
        except ConnectionResetError:  # closed with our bytes unread: same end
            data = b""
        if not data:
            return msgs
        u.feed(data)
        msgs.extend(u)


def alive(c):
    assert c.call("ping")["pong"] is True


def test_garbage_and_hangup_mid_message():
    with D.client() as good:
        alive(good)
        # half of a valid request, then hang up
        half = raw()
        msg = msgpack.packb([0, 1, "project.create", [{"name": "y" * 40}]])
        half.sendall(msg[: len(msg) // 2])
        alive(good)
        half.close()
        alive(good)
        # bytes that are not msgpack at all: the daemon closes that peer only
        bad = raw()
        bad.sendall(b"\xc1\xc1\xc1 this is not msgpack")
        assert read_until_eof(bad) == []
        bad.close()
        alive(good)
        # msgpack but not msgpack-rpc, with a readable msgid: an error
        # response, and the connection goes on
        odd = Client(D.sock)
        odd.send_raw(msgpack.packb([0, 5, 123, []]))  # method not a string
        r = odd.wait(5)
        assert r[2]["code"] == -32600, r
        odd.send_raw(msgpack.packb({"not": "rpc"}))
        alive(odd)
        odd.close()
        alive(good)


def test_hangup_mid_reply():
    # many requests whose replies are never read, then a hang-up
    for _ in range(5):
        s = raw()
        s.sendall(b"".join(msgpack.packb([0, i, "status", []]) for i in range(200)))
        s.close()
    with D.client() as good:
        alive(good)


def test_oversized_message():
    s = raw()
    try:
        s.sendall(msgpack.packb([0, 9, "project.create", [{"name": "z" * 300000}]]))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon stopped reading once the size passed the cap
    msgs = read_until_eof(s)
    assert len(msgs) == 1 and msgs[0][0] == 1 and msgs[0][1] == 9, msgs
    assert msgs[0][2]["code"] == -32001, msgs
    s.close()
    with D.client() as good:
        alive(good)


def test_deeply_nested_message():
    deep = "x"
    for _ in range(200):
        deep = [deep]
    s = raw()
    s.sendall(msgpack.packb([0, 7, "ping", [{"x": deep}]]))
    msgs = read_until_eof(s)
    assert len(msgs) == 1 and msgs[0][1] == 7 and msgs[0][2]["code"] == -32002, msgs
    s.close()
    with D.client() as good:
        alive(good)


def test_flooding_client_does_not_stall_others():
    flood = raw(timeout=60)
    dropped = threading.Event()
    payload = msgpack.packb([0, 1, "ping", []]) * 1000

    def flood_loop():
        try:
            for _ in range(400):  # 400k pings, replies never read
                flood.sendall(payload)
        except OSError:
            dropped.set()

    t = threading.Thread(target=flood_loop)
    t.start()
    with D.client() as good:
        for _ in range(50):
            alive(good)
    t.join(timeout=90)
    assert not t.is_alive(), "the flooding client was never dropped"
    flood.close()
    assert dropped.is_set() or "does not read its replies" in D.log_text(), \
        "the flooding client was not dropped"
    assert "does not read its replies" in D.log_text()
    with D.client() as good:
        alive(good)


def test_two_clients_interleaved():
    errors = []

    def worker(tag):
        try:
            with D.client() as c:
                ids = [c.send("conventions.set", {"project": "robust", "key": "%s%d" % (tag, i),
                                                  "value": i}) for i in range(40)]
                for i in ids:
                    r = c.wait(i)
                    assert r[2] is None, r
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    D.call("project.create", {"name": "robust"})
    ts = [threading.Thread(target=worker, args=(t,)) for t in ("a", "b")]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert not errors, errors
    conv = D.call("conventions.get", {"project": "robust"})["conventions"]
    assert len(conv) == 80 and conv["a7"]["value"] == 7 and conv["b39"]["value"] == 39


def client_in_a_slot(d):
    """A client that got one of the daemon's slots. A connection that just
    closed (the harness's readiness ping, a client this test let go) holds
    its slot until the daemon reads the hang-up; a slow daemon (valgrind)
    may refuse a new client before that, so a refusal is tried again."""
    for _ in range(100):
        c = d.client()
        try:
            alive(c)
            return c
        except ConnectionError:
            c.close()
    raise AssertionError("no slot free for a client")


def test_connection_cap():
    with Daad(fake_kernel={}, config={"max_clients": 2}) as d:
        a = client_in_a_slot(d)
        b = client_in_a_slot(d)
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(20)
        c.connect(d.sock)
        msgs = []
        u = msgpack.Unpacker(raw=False)
        while True:
            data = c.recv(4096)
            if not data:
                break
            u.feed(data)
            msgs.extend(u)
        assert msgs and msgs[0][0] == 2 and msgs[0][2][0]["code"] == -32008, msgs
        c.close()
        a.close()
        alive(b)
        # a slot is free again once the daemon has read a's hang-up
        client_in_a_slot(d).close()
        b.close()


def test_other_uid_refused():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("# skipped: needs root and setpriv to run a client as nobody")
        return
    nobody = pwd.getpwnam("nobody")
    run_daa = os.path.dirname(D.sock)
    # open the folder and the socket so that only SO_PEERCRED stands in the way
    os.chmod(D.run, 0o755)
    os.chmod(run_daa, 0o755)
    os.chmod(D.dir, 0o755)
    os.chmod(D.sock, 0o666)
    try:
        code = ("import socket,msgpack,sys\n"
                "s=socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])\n"
                "try:\n"
                "    s.sendall(msgpack.packb([0,1,'ping',[]]))\n"
                "    d=s.recv(4096)\n"
                "except (BrokenPipeError, ConnectionResetError):\n"
                "    d=b''\n"
                "print('GOT' if d else 'CLOSED')\n")
        out = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                              "--clear-groups", "/usr/bin/python3", "-c", code, D.sock],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "CLOSED", (out.stdout, out.stderr)
        assert "refused a client of uid %d" % nobody.pw_uid in D.log_text()
    finally:
        os.chmod(D.sock, 0o600)
        os.chmod(run_daa, 0o700)
        os.chmod(D.run, 0o700)
        os.chmod(D.dir, 0o700)
    with D.client() as good:
        alive(good)


def main():
    global D
    with Daad(fake_kernel={}, args=["--max-message", "65536"], config={"max_queued": 65536}) as d:
        D = d
        run_tests([test_garbage_and_hangup_mid_message, test_hangup_mid_reply,
                   test_oversized_message, test_deeply_nested_message,
                   test_flooding_client_does_not_stall_others, test_two_clients_interleaved,
                   test_connection_cap, test_other_uid_refused])


if __name__ == "__main__":
    main()
