#!/usr/bin/python3
"""daemon/analyst/daa_analyst.py — daa's builtin offline analyst: reads ONE
JSON turn state on stdin, writes ONE JSON tool call on stdout ({"tool": ...,
"args": {...}}) and exits 0.  With --serve it answers many calls, one per
line: a state on one line in, a tool call on one line out, until stdin
ends (the daemon keeps one such process: no interpreter start-up and
imports per call).  See ANALYST.md.

It never imports pandas (a call must take well under 100 ms) and never
fails without an answer: bad input or an internal error still gives a
final_answer that says what went wrong.  Exit 2 only when stdout itself
cannot be written.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MAX_INPUT = 16 * 1024 * 1024


def read_state(raw):
    """The turn state from raw (at most MAX_INPUT + 1 bytes read), or
    (None, error message)."""
    if len(raw) > MAX_INPUT:
        return None, "the turn state is larger than 16 MiB"
    try:
        state = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError as e:
        return None, f"the turn state is not valid JSON ({e})"
    if not isinstance(state, dict):
        return None, "the turn state is not a JSON object"
    return state, None


def answer(raw):
    """The tool call for one raw turn state."""
    state, err = read_state(raw)
    if err:
        out = {"tool": "final_answer", "args": {"text": f"The builtin analyst could not read its input: {err}."}}
    else:
        try:
            from analyst.plan import decide
            out = decide(state)
        except Exception as e:  # never leave the daemon without an answer
            import traceback
            where = traceback.extract_tb(e.__traceback__)[-1]
            out = {"tool": "final_answer", "args": {"text": (
                f"The builtin analyst hit an internal error ({type(e).__name__}: {e} at "
                f"{os.path.basename(where.filename)}:{where.lineno}). This is a bug in daa; "
                "please rephrase the request or configure an LLM.")}}
    return out


def write(out):
    """One line of JSON on stdout (no raw newline inside: json escapes them).
    False when stdout cannot be written."""
    try:
        data = (json.dumps(out, ensure_ascii=False) + "\n").encode("utf-8", errors="replace")
        sys.stdout.buffer.write(data)   # lone surrogates from the input become "?"
        sys.stdout.flush()
    except OSError:
        return False
    return True


def serve():
    """--serve: one state per line, one answer per line, until stdin ends.
    A line over the limit is answered with the error, then the process
    ends (the rest of that line must not be read as a next state)."""
    while True:
        line = sys.stdin.buffer.readline(MAX_INPUT + 1)
        if not line:
            return 0
        if not write(answer(line)):
            return 2
        if len(line) > MAX_INPUT:
            return 0


def main():
    """Reads the state, decides, writes the tool call."""
    if sys.argv[1:] == ["--serve"]:
        return serve()
    return 0 if write(answer(sys.stdin.buffer.read(MAX_INPUT + 1))) else 2


if __name__ == "__main__":
    sys.exit(main())
