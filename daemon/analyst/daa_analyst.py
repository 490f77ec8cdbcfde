#!/usr/bin/python3
"""daemon/analyst/daa_analyst.py — daa's builtin offline analyst, one model
call per process: reads ONE JSON turn state on stdin, writes ONE JSON tool
call on stdout ({"tool": ..., "args": {...}}) and exits 0.  See ANALYST.md.

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


def read_state():
    """The turn state from stdin, or (None, error message)."""
    raw = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(raw) > MAX_INPUT:
        return None, "the turn state is larger than 16 MiB"
    try:
        state = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError as e:
        return None, f"the turn state is not valid JSON ({e})"
    if not isinstance(state, dict):
        return None, "the turn state is not a JSON object"
    return state, None


def main():
    """Reads the state, decides, writes the tool call."""
    state, err = read_state()
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
    try:
        data = (json.dumps(out, ensure_ascii=False) + "\n").encode("utf-8", errors="replace")
        sys.stdout.buffer.write(data)   # lone surrogates from the input become "?"
        sys.stdout.flush()
    except OSError:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
