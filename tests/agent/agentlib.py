"""tests/agent/agentlib.py — what the agent tests share: the private daad
(Daemon, run_test...: tests/lib/daad.py, the one harness, re-exported here),
a msgpack-rpc client that collects notifications (EventClient, as Client),
helpers to make a project with data, and the fake OpenAI server.  Every test
calls skip() when a part it needs is not built yet (exit 77)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT") or
                                os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."),
                                "tests", "lib"))
import daad as daadlib  # noqa: E402,F401  (tests/lib/daad.py, the daemon harness)
from daad import (BUILD, DAA, DAAD, MINE, PYTHON, ROOT, SALES, Daemon, RpcError,  # noqa: E402,F401
                  check, check_sanitizers, fail, run_test, run_test_in_dir, skip)
from daad import EventClient as Client  # noqa: E402,F401


def project_with_sales(c, name="p"):
    """Create project `name` holding examples/sales.csv; returns its path."""
    res = c.call("project.create", name=name)
    c.call("data.add", project=name, path=SALES)
    return res["path"]


FAKE = os.path.join(ROOT, "tests", "llm", "fake_openai.py")
API_KEY = "sk-test-secret"


class FakeLLM:
    """tests/llm/fake_openai.py in a subprocess: scripted answers, recorded requests."""

    def __init__(self, script, workdir):
        if not os.path.isfile(FAKE):
            skip("tests/llm/fake_openai.py is not there yet")
        self.dir = tempfile.mkdtemp(prefix="fake-llm.", dir=workdir)
        sfile = os.path.join(self.dir, "script.json")
        with open(sfile, "w") as f:
            json.dump(script, f)
        self.port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([PYTHON, FAKE, "--script", sfile, "--port-file", self.port_file],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        end = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.monotonic() > end:
                fail("the fake OpenAI server did not start")
            time.sleep(0.02)
        self.port = int(open(self.port_file).read().strip())
        self.base_url = "http://127.0.0.1:%d/v1" % self.port

    def _http(self, method, path, body=None):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return json.loads(data) if data else None

    def set_script(self, script):
        self._http("POST", "/_fake/reset", {})
        self._http("POST", "/_fake/script", script)

    def requests(self):
        """The recorded chat requests (bodies), in order."""
        return [r for r in self._http("GET", "/_fake/requests") or []
                if isinstance(r, dict) and r.get("method") == "POST"]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def call(name, tid=None, **args):
    """A scripted tool call for the fake server's "reply"."""
    c = {"name": name, "arguments": args}
    if tid:
        c["id"] = tid
    return c


def reply(*calls, content=None, usage=None, **extra):
    r = {"reply": {"content": content, "tool_calls": list(calls)}}
    if usage:
        r["reply"]["usage"] = usage
    r.update(extra)
    return r


def final(text, **extra):
    return reply(call("final_answer", text=text), **extra)


def run_openai_test(fn, script, llm_extra=None, agent=None, fake_kernel=None):
    """A daemon configured for the fake server (key in OPENAI_API_KEY); fn(d, fake).
    fake_kernel: a script for tests/lib/fake_kernel.py (see daad.Daad)."""
    work = tempfile.mkdtemp(prefix="daa-agent-fake.")
    fake = FakeLLM(script, work)
    llm = {"backend": "openai", "base_url": fake.base_url, "model": "fake-model",
           "max_retries": 2, "connect_timeout_ms": 5000, "idle_timeout_ms": 20000,
           "total_timeout_ms": 40000}
    llm.update(llm_extra or {})
    cfg = {"llm": llm}
    if agent:
        cfg["agent"] = agent
    try:
        run_test(lambda d: fn(d, fake), cfg, {"OPENAI_API_KEY": API_KEY}, fake_kernel)
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)


def assert_no_key(d, *texts):
    """The API key is in no project file, no log, no reply we got."""
    for t in texts:
        check(API_KEY not in json.dumps(t, default=str), "the API key leaked into a client reply")
    check(API_KEY not in d.log_text(), "the API key is in the daemon log")
    for root, _dirs, files in os.walk(d.dir):
        for f in files:
            p = os.path.join(root, f)
            if p.startswith(os.path.join(d.dir, "run")) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                check(API_KEY.encode() not in fh.read(), "the API key leaked into %s" % p)
