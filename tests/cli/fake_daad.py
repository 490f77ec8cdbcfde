#!/usr/bin/python3
"""tests/cli/fake_daad.py — a scripted stand-in for daad, so the CLI's
rendering and turn handling can be checked exactly (curl-style fake
upstream: it also records every request it receives).

usage: fake_daad.py SOCKET SCENARIO LOGFILE
Serves connections one after another; each request is appended to LOGFILE
as a JSON line [method, params]; the scenario decides the replies."""
import json
import math
import os
import socket
import sys

import msgpack

SOCK, SCENARIO, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
PROJECT_PATH = os.environ.get("FAKE_PROJECT_PATH", "/projects/demo")


class Conn:
    def __init__(self, s):
        self.s = s
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)

    def read(self):
        """Next request as (msgid, method, params); None at end of stream."""
        while True:
            for msg in self.unpacker:
                params = msg[3][0] if msg[3] else {}
                with open(LOG, "a") as f:
                    f.write(json.dumps([msg[2], params]) + "\n")
                return msg[1], msg[2], params
            data = self.s.recv(65536)
            if not data:
                return None
            self.unpacker.feed(data)

    def send(self, obj):
        self.s.sendall(msgpack.packb(obj, use_bin_type=True))

    def reply(self, msgid, result):
        self.send([1, msgid, None, result])

    def error(self, msgid, err):
        self.send([1, msgid, err, None])

    def event(self, turn, kind, **kw):
        kw.update(project="demo", project_path=PROJECT_PATH, turn=turn, kind=kind)
        self.send([2, "turn.event", [kw]])


PREVIEW = {
    "name": "sales", "kind": "DataFrame", "shape": [100, 3],
    "columns": ["region", "revenue", "note"], "dtypes": ["object", "float64", "object"],
    "index": [0, 1, 98, 99],
    "head": [["North", 1.5, "short"], ["Süd", 20.25, "a very long note that goes on and on"]],
    "tail": [["East", None, True], ["West", -3, "x"]],
}
SERIES = {"kind": "Series", "shape": [2], "columns": [], "index": ["a", "b"],
          "head": [[1], [2]], "tail": []}


def exec_reply():
    return {"ok": True, "stdout": "hello\n", "stderr": "a warning\n", "truncated": True,
            "result": {"repr": "ignored", "type": "DataFrame", "table": PREVIEW},
            "tables": [SERIES], "figures": ["outputs/plots/p_1.png"], "error": None,
            "duration_ms": 12, "step": "history/004_run.py", "project_path": PROJECT_PATH}


def odd_values():
    return {"nan": math.nan, "inf": math.inf, "half": 0.5, "tenth": 0.1, "big": 2**64 - 1,
            "neg": -2**63, "bad_utf8": b"caf\xc3\xa9 \xff!",
            "text": "tab\tquote\" back\\ nl\n ctl\x01 é ✓", 7: "int key", "nested": [[{}], []]}


def turn_result(status, **kw):
    r = {"turn": 7, "status": status, "answer": "", "question": None, "steps": [],
         "figures": [], "tables": [], "history": None, "project_path": PROJECT_PATH,
         "backend": "fake", "model": "fake"}
    r.update(kw)
    return r


def serve(c):
    while True:
        req = c.read()
        if req is None:
            return
        msgid, method, params = req
        if method == "ping":
            c.reply(msgid, {"pong": True, "version": "fake", "pid": os.getpid()})
        elif method == "run":
            c.reply(msgid, exec_reply())
        elif method == "status":  # bytes packed as msgpack str: invalid UTF-8 in a str
            c.s.sendall(msgpack.packb([1, msgid, None, odd_values()], use_bin_type=False))
        elif method == "conventions.get":
            c.error(msgid, "a bare string error")
        elif method == "doctor":
            c.error(msgid, {"code": -32601, "message": "no method 'doctor'"})
        elif method == "ask" and SCENARIO == "cancel":
            c.event(7, "queued", position=0)
            c.event(7, "started", request=params.get("request"))
            msgid2, m2, p2 = c.read()  # the cancel, on this connection
            c.reply(msgid2, {"cancelled": m2 == "cancel"})
            c.event(7, "done", status="cancelled", answer="")
            c.reply(msgid, turn_result("cancelled", answer="cancelled by the user"))
        elif method == "ask" and SCENARIO == "question":
            c.event(7, "started", request=params.get("request"))
            c.event(7, "question", text="Which region?", choices=["south", "north"])
            msgid2, m2, p2 = c.read()  # the answer from the terminal
            c.event(7, "answered", text=p2.get("text"))
            c.reply(msgid2, turn_result("done", answer="for " + str(p2.get("text"))))
            c.reply(msgid, turn_result("done", answer="Revenue of %s: 42" % p2.get("text"),
                                       steps=[{"code": "x = 1\n\ny = 2", "ok": True},
                                              {"code": "boom()", "ok": False}],
                                       history="history/007_r.py",
                                       figures=["outputs/plots/r.png"], tables=[SERIES]))
        elif method == "watch":
            c.reply(msgid, {"ok": True, "project_path": PROJECT_PATH})
            c.event(3, "code", code="df.head()", purpose="look at the data", attempt=1)
            c.event(3, "output", ok=False, error={"type": "KeyError", "message": "'x'"})
            c.send([2, "project.changed", [{"what": "data"}]])
            return  # close: the daemon went away
        else:
            c.error(msgid, {"code": -32601, "message": "unknown method %s" % method})


def main():
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # bound and listening under a temporary name, then renamed: the test
    # waits for SOCK to exist, and a socket file that exists before listen()
    # refuses connections (a race under load)
    ls.bind(SOCK + ".new")
    ls.listen(8)
    os.rename(SOCK + ".new", SOCK)
    while True:
        s, _ = ls.accept()
        try:
            serve(Conn(s))
        except (ConnectionError, TypeError):
            pass
        s.close()


if __name__ == "__main__":
    main()
