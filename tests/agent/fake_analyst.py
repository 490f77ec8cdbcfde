#!/usr/bin/python3
"""tests/agent/fake_analyst.py — a misbehaving stand-in for the builtin
analyst (config llm.analyst_cmd), chosen by the request text: "hang" sleeps,
"garbage" prints non-JSON, "crash" exits 3 with a message on stderr, "huge"
prints 5 MB, "env" answers with its environment, else a final_answer."""
import json
import os
import sys
import time

state = json.load(sys.stdin)
req = state.get("request", "")
if "hang" in req:
    time.sleep(60)
elif "garbage" in req:
    print("this is not json")
elif "crash" in req:
    sys.stderr.write("analyst exploded: ZeroDivisionError\n")
    sys.exit(3)
elif "huge" in req:
    sys.stdout.write("x" * (5 << 20))
elif "env" in req:
    print(json.dumps({"tool": "final_answer", "args": {"text": json.dumps(dict(os.environ))}}))
else:
    print(json.dumps({"tool": "final_answer", "args": {"text": "fine: " + req}}))
