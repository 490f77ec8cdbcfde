#!/usr/bin/python3
"""systemd integration without systemd running: daad started through
`systemd-socket-activate -l SOCKET` adopts the passed socket (LISTEN_FDS)
and serves on it, and leaves it in place on SIGTERM (it is systemd's);
readiness goes to $NOTIFY_SOCKET as READY=1 then STOPPING=1, for a path
socket and for an abstract '@' address."""
import os
import shutil
import signal
import socket
import sys

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT", os.path.dirname(__file__) + "/../.."),
                                "tests/lib"))
from daad import Daad, run_tests  # noqa: E402
# Daad(fake_kernel={}): this test is about the server, not Python; its kernels
# (the warm spare, and none other) are tests/lib/fake_kernel.py, ready in ms



def activated(d, sock):
    wrapper = ["systemd-socket-activate", "-l", sock]
    for k in d.env:
        wrapper += ["-E", k]
    return wrapper


def test_socket_activation():
    if not shutil.which("systemd-socket-activate"):
        print("# skipped: systemd-socket-activate is missing")
        return
    d = Daad(fake_kernel={})
    try:
        sock = os.path.join(d.dir, "activated.sock")  # not the configured path
        d.wrapper = activated(d, sock)
        d.sock = sock
        d.start()  # the first connection makes systemd-socket-activate exec daad
        with d.client() as c:
            st = c.call("status")
            assert st["socket"] == sock, st
            assert c.call("ping")["pid"] == d.proc.pid
        assert "socket-activated" in d.log_text()
        configured = os.path.join(d.run, "daa", "daad.sock")
        assert not os.path.exists(configured), "bound its own socket too"
        d.signal(signal.SIGTERM)
        assert d.wait_exit() == 0
        assert os.path.exists(sock), "removed systemd's socket"
    finally:
        d.cleanup()


def notify_run(address, bind_to):
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(bind_to)
    ns.settimeout(30)
    d = Daad(fake_kernel={}, extra_env={"NOTIFY_SOCKET": address})
    try:
        d.start()
        msg = ns.recv(4096).decode()
        assert msg == "READY=1", msg
        assert d.call("ping")["pong"]
        d.signal(signal.SIGTERM)
        msg = ns.recv(4096).decode()
        assert msg == "STOPPING=1", msg
        assert d.wait_exit() == 0
    finally:
        ns.close()
        d.cleanup()


def test_notify_path_socket():
    tmp = __import__("tempfile").mkdtemp()
    try:
        path = os.path.join(tmp, "notify")
        notify_run(path, path)
    finally:
        shutil.rmtree(tmp)


def test_notify_abstract_socket():
    name = "daa-test-notify-%d" % os.getpid()
    notify_run("@" + name, "\0" + name)


def main():
    run_tests([test_socket_activation, test_notify_path_socket, test_notify_abstract_socket])


if __name__ == "__main__":
    main()
