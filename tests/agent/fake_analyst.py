#!/usr/bin/python3
"""tests/agent/fake_analyst.py — a misbehaving stand-in for the builtin
analyst (config llm.analyst_cmd), chosen by the request text: "hang" sleeps,
"garbage" prints non-JSON, "crash" exits 3 with a message on stderr, "huge"
prints 5 MB, "env" answers with its environment, "pid" with its process id,
else a final_answer.  With --serve (llm.analyst_serve) it answers a state
per line, as daa_analyst.py --serve does, and also: "twolines" answers with
two lines, "stray" answers and then writes a line while idle."""
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


if sys.argv[1:] == ["--serve"]:
    for line in sys.stdin:
        answer(json.loads(line), sys.stdout)
else:
    answer(json.load(sys.stdin), sys.stdout)
