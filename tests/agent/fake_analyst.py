#!/usr/bin/python3
"""tests/agent/fake_analyst.py — a misbehaving stand-in for the builtin
analyst (config llm.analyst_cmd), chosen by the request text: "hang" sleeps,
"garbage" prints non-JSON, "crash" exits 3 with a message on stderr, "huge"
prints 5 MB, "env" answers with its environment, "pid" with its process id,
else a final_answer.  With --serve (llm.analyst_serve) it answers a state
per line, as daa_analyst.py --serve does, and also: "twolines" answers with
two lines, "stray" answers and then writes a line while idle, "early"
answers (with its pid) before it has read the whole state, and drops the
rest of that line when it comes."""
import json
import os
import sys
import time


def final(text):
    return json.dumps({"tool": "final_answer", "args": {"text": text}}) + "\n"


def answer(state, out):
    """Write the answer to one state on out (a text stream)."""
    req = state.get("request", "")
    if "hang" in req:
        time.sleep(60)
    elif "garbage" in req:
        out.write("this is not json\n")
    elif "crash" in req:
        sys.stderr.write("analyst exploded: ZeroDivisionError\n")
        sys.exit(3)
    elif "huge" in req:
        out.write("x" * (5 << 20))
    elif "env" in req:
        out.write(final(json.dumps(dict(os.environ))))
    elif "pid" in req:
        out.write(final(str(os.getpid())))
    elif "twolines" in req:
        out.write(final("one") + final("two"))
    elif "stray" in req:
        out.write(final("stray answered"))
        out.flush()
        time.sleep(0.2)
        out.write(final("unasked"))
    else:
        out.write(final("fine: " + req))
    out.flush()


def serve():
    """A state per line; "early" is answered from the line's first bytes."""
    buf, answered_early = b"", False
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            return
        buf += chunk
        if not answered_early and b"\n" not in buf and b'"early' in buf:
            sys.stdout.write(final("early %d" % os.getpid()))
            sys.stdout.flush()
            answered_early = True
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if answered_early:
                answered_early = False
                continue
            answer(json.loads(line), sys.stdout)


if sys.argv[1:] == ["--serve"]:
    serve()
else:
    answer(json.load(sys.stdin), sys.stdout)
