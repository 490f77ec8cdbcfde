"""tests/history/histlib.py — shared helpers for the history suite: the
kernel suite's Session (a private daad, project `demo` holding
examples/sales.csv, the real `daa` CLI) plus small readers, and the gate
file that lets a test hold a kernel step until it says so (no timing)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "kernel"))
from kcli import Session, skip_unless_built  # noqa: E402,F401


def history(s):
    """`daa --json history` as a dict."""
    p = s.daa("--json", "-p", s.project, "history")
    return json.loads(p.stdout)


def statuses(s):
    """{n: status} of every step."""
    return {st["n"]: st["status"] for st in history(s)["steps"]}


def step_run(s, code):
    """`daa run CODE` that must succeed and become a step; the reply."""
    r, p = s.run_json(code)
    assert r and r["ok"] and r.get("step", "").startswith("history/"), (p.stdout, p.stderr)
    return r


GATE = "outputs/go"
WAIT_GATE = ("import os, time\n"
             "while not os.path.exists(%r):\n"
             "    time.sleep(0.02)\n" % GATE)


def kind(m):
    p = m[2][0] if isinstance(m[2], list) and m[2] else {}
    return p.get("kind") if isinstance(p, dict) else None


def params(m):
    return m[2][0]


def next_note(c, want):
    """Read messages until a notification matches want(msg); the ones read
    are returned (responses are kept).  Hang-guarded by the socket timeout."""
    seen = []
    while True:
        for i, m in enumerate(c.notifications):
            if want(m):
                seen.extend(c.notifications[:i + 1])
                del c.notifications[:i + 1]
                return seen
        msg = c.read_message()
        assert msg is not None, "daemon closed the connection"
        if msg[0] == 2:
            c.notifications.append(msg)
        else:
            c.responses[msg[1]] = msg


def hist_note(c, k, msgid=None):
    """The next history.event of kind k (for msgid when given)."""
    m = next_note(c, lambda m: m[1] == "history.event" and kind(m) == k and
                  (msgid is None or params(m).get("msgid") == msgid))[-1]
    return params(m)


def open_gate(s, text="go"):
    """Create the gate file atomically (the kernel polls for it)."""
    tmp = os.path.join(s.path, "outputs", ".go.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(s.path, GATE))


def result(c, mid):
    """The result of request mid (AssertionError on an error response)."""
    out = c.wait(mid)
    assert out[2] is None, out
    return out[3]


def run_with_fake(prefix, body, responses=None, wrapper=None, fake_kernel=None):
    """A Session (project demo) whose LLM is the fake OpenAI server
    (tests/llm/fake_openai.py) with `responses` scripted; body(s, fake); the
    daemon must be alive afterwards.  wrapper: a command daad runs under;
    fake_kernel: a script for tests/lib/fake_kernel.py (see daad.Daad).
    Returns 0 (the test's exit status)."""
    import shutil
    import tempfile
    sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
    from agentlib import API_KEY, FakeLLM
    skip_unless_built()
    work = tempfile.mkdtemp(prefix=prefix)
    fake = FakeLLM({"responses": responses or []}, work)
    try:
        cfg = {"llm": {"backend": "openai", "base_url": fake.base_url, "model": "fake-model",
                       "max_retries": 0, "total_timeout_ms": 60000}}
        sess = Session(config=cfg, extra_env={"OPENAI_API_KEY": API_KEY}, fake_kernel=fake_kernel)
        sess.d.wrapper = wrapper
        with sess as s:
            body(s, fake)
            assert s.alive()
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0
