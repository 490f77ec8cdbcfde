"""tests/agent/agentlib.py — what the agent tests share: a private daad
(own socket, temp HOME and XDG dirs, clean environment), a msgpack-rpc client
that collects notifications, and helpers to make a project with data.

Uses tests/lib/daad.py (the daemon-core helper) when it is there; otherwise
starts build/bin/daad itself the same way.  Every test calls skip() when a
part it needs is not built yet (exit 77)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import msgpack

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT") or
                                os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."),
                                "tests", "lib"))
import daad as daadlib  # noqa: E402  (tests/lib/daad.py, the daemon-core helper)

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DAA_BUILD") or os.path.join(ROOT, "build")
PYTHON = os.environ.get("DAA_PYTHON", "/usr/bin/python3")
DAAD = os.path.join(BUILD, "bin", "daad")
DAA = os.path.join(BUILD, "bin", "daa")
SALES = os.path.join(ROOT, "examples", "sales.csv")


def skip(why):
    print("skip:", why)
    sys.exit(77)


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def check(cond, why):
    if not cond:
        fail(why)


class RpcError(Exception):
    def __init__(self, err):
        super().__init__(err.get("message") if isinstance(err, dict) else str(err))
        self.code = err.get("code") if isinstance(err, dict) else None
        self.err = err


class Client:
    """A blocking msgpack-rpc client; notifications are kept in .events."""

    def __init__(self, path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.unp = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.msgid = 0
        self.events = []
        self.responses = {}

    def close(self):
        self.sock.close()

    def send(self, method, **params):
        self.msgid += 1
        self.sock.sendall(msgpack.packb([0, self.msgid, method, [params]], use_bin_type=True))
        return self.msgid

    def _pump(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("daemon closed the connection")
        self.unp.feed(data)
        for m in self.unp:
            if m[0] == 2:
                self.events.append(m[2][0] if isinstance(m[2], list) and m[2] else m[2])
            elif m[0] == 1:
                self.responses[m[1]] = (m[2], m[3])

    def wait(self, msgid, timeout=60):
        end = time.monotonic() + timeout
        while msgid not in self.responses:
            if time.monotonic() > end:
                raise TimeoutError("no response to request %d" % msgid)
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                self._pump()
            except socket.timeout:
                pass
        err, res = self.responses.pop(msgid)
        if err is not None:
            raise RpcError(err)
        return res

    def call(self, method, timeout=60, **params):
        return self.wait(self.send(method, **params), timeout)

    def wait_event(self, kind, timeout=60, start=0):
        """The first event of this kind (from index start), pumping as needed."""
        end = time.monotonic() + timeout
        while True:
            for e in self.events[start:]:
                if isinstance(e, dict) and e.get("kind") == kind:
                    return e
            if time.monotonic() > end:
                raise TimeoutError("no %s event" % kind)
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                self._pump()
            except socket.timeout:
                pass

    def wait_turn_event(self, turn, kind, timeout=30):
        """Pump until an event (turn, kind) has arrived."""
        end = time.monotonic() + timeout
        while not any(isinstance(e, dict) and e.get("turn") == turn and e.get("kind") == kind
                      for e in self.events):
            if time.monotonic() > end:
                raise TimeoutError("no %s event for turn %s" % (kind, turn))
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                self._pump()
            except socket.timeout:
                pass

    def kinds(self):
        return [e.get("kind") for e in self.events if isinstance(e, dict)]


MINE = ("daemon/agent", "daemon/llm_builtin", "daemon/m_turn", "daemon/profiler", "daemon/filehash",
        "daemon/m_profile", "daemon/m_data", "daemon/project_watch")


def check_sanitizers(text):
    """Fail on an ASan/UBSan error in daad's log, and on leaks allocated by
    the agent's files (leaks of other parts are shown, not failed on)."""
    if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
        i = text.find("ERROR: AddressSanitizer")
        i = i if i >= 0 else text.index("runtime error:")
        print(text[max(0, i - 1000):i + 5000])
        fail("the sanitizers reported an error in daad (log above)")
    for block in text.split("leak of ")[1:]:
        frames = [l for l in block.splitlines()[1:30] if l.strip().startswith("#")]
        ours = [l for l in frames if " daemon/" in l or " protocol/" in l]
        if ours and any(m in ours[0] for m in MINE):  # the first project frame allocated it
            print("leak of " + block[:3000])
            fail("daad leaked memory allocated by the agent (above)")
    if "LeakSanitizer" in text:
        print("note: daad leaks memory in other parts (LeakSanitizer report in its log)")


class Daemon:
    """A private daad (tests/lib/daad.py's Daad: temp HOME/XDG dirs, own
    socket, clean environment, valgrind under DAA_VALGRIND=1); stop() ends it,
    checks its exit and sanitizer reports, and removes the dir."""

    def __init__(self, config=None, env=None):
        if not os.access(DAAD, os.X_OK):
            skip("daad is not built (%s)" % DAAD)
        self.d = daadlib.Daad(extra_env=env, config=config or {})
        self.env = self.d.env
        self.dir = self.d.dir
        self.socket = self.d.sock
        self._start()

    def _start(self):
        try:
            self.d.start()
        except RuntimeError as e:
            self.dump_log()
            self.d.cleanup()
            fail("daad did not start: %s" % e)

    def client(self, timeout=60):
        return Client(self.socket, timeout)

    def log_text(self):
        return self.d.log_text()

    def dump_log(self, n=80):
        lines = self.log_text().splitlines()
        print("---- daad log (last %d lines) ----" % n)
        print("\n".join(lines[-n:]))

    def restart(self):
        """Stop the daemon (keeping its files) and start it again."""
        rc = self.d.stop()
        check(rc in (0, None, -signal.SIGTERM), "daad exited with status %s" % rc)
        self._start()

    def stop(self):
        rc = self.d.stop()
        text = self.log_text()
        self.d.cleanup()
        check_sanitizers(text)
        if rc not in (0, None, -signal.SIGTERM):
            print(text[-6000:])
            fail("daad exited with status %s (log above)" % rc)

    def cli(self, *args, input=None, timeout=120):
        """Run the real `daa` CLI against this daemon."""
        if not os.access(DAA, os.X_OK):
            skip("the daa CLI is not built (%s)" % DAA)
        return subprocess.run([DAA, "--no-start", *args], env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout)


def project_with_sales(c, name="p"):
    """Create project `name` holding examples/sales.csv; returns its path."""
    res = c.call("project.create", name=name)
    c.call("data.add", project=name, path=SALES)
    return res["path"]


def run_test(fn, config=None, env=None):
    """Start a daemon, run fn(daemon), always stop it; log shown on failure."""
    d = Daemon(config, env)
    ok = False
    try:
        fn(d)
        ok = True
    finally:
        if not ok:
            d.dump_log()
        d.stop()


def run_test_in_dir(prefix, fn, config=None, env=None):
    """run_test with a scratch folder for the test's own files: fn(d, work);
    the folder is removed afterwards."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        run_test(lambda d: fn(d, work), config, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


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


def run_openai_test(fn, script, llm_extra=None, agent=None):
    """A daemon configured for the fake server (key in OPENAI_API_KEY); fn(d, fake)."""
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
        run_test(lambda d: fn(d, fake), cfg, {"OPENAI_API_KEY": API_KEY})
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
