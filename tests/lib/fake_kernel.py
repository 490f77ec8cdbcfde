"""tests/lib/fake_kernel.py — a scripted stand-in for the Python kernel
runtime (sandbox/python/daa_kernel.py), for tests that are about the daemon
(agent, history, queue) and not about Python or pandas.

It speaks the real wire protocol of sandbox/KERNEL.md over fd 3 (msgpack maps
back to back): `ready` at start, then bind, exec, profile, vars, conventions,
cache and ping, one at a time, with the real SIGINT rules (armed work is
interrupted at once; a SIGINT that arrived before the work started interrupts
it as soon as it starts; a reply written forgets it).  It imports only
msgpack, so it is ready in a few milliseconds instead of the seconds pandas
takes.  bind seals the sandbox with the runtime's own seal.py (copied next to
this file as fake_seal.py by the harness), so the daemon sees the same layer
report as with the real runtime and the step code runs sealed.

The harness (tests/lib/daad.py, `Daad(fake_kernel=SCRIPT)`) installs this
file as `daa_kernel.py` in a private share folder, with SCRIPT as
`fake_kernel.json` beside it.  SCRIPT (every key optional):

  {"python": "3.11-fake", "libs": {...},      # the ready event's fields
   "never_ready": true,                        # never send `ready`
   "exec": [RULE...], "profile": [RULE...],    # first matching rule answers
   "python_exec": true}                        # unmatched code: see below

RULE: {"code": "exact code" | "match": "regex (re.search)" | neither: any,
       "stdout": str, "stderr": str, "result": "repr text",   # with "match",
                                # \\1 or \\g<name> are the regex's groups
       "error": {"type", "message", "traceback"}   # the step failed
       "figures": N,            # write N small PNGs outputs/plots/<step>_<i>.png
       "gate": "rel/path",      # hold the step until this file exists (the
                                # test creates it: an event, not a delay)
       "hold": true,            # hold until interrupted (SIGINT)
       "exit": STATUS,          # the kernel exits before replying
       "reply": {...}}          # extra/overriding fields of the reply

Unmatched exec code is run with exec() in a persistent namespace (stdout and
stderr captured, the value of a trailing expression returned, errors with a
traceback starting at the step), which is enough for plain-Python steps like
`x = 1` or `print(x)`; with "python_exec": false it gets an empty ok reply.
`plt` is a stand-in for pyplot (FakePyplot): plt.plot(...)/plt.bar(...) draw
a figure saved as a small PNG (show() or the step's end), so steps that only
need "a figure" run here too.  There is no pandas, numpy or dfs; the bind
request's `compute` map is `bind_compute` in that namespace.
Every request is written to stderr (the daemon logs it at debug level) as
`fake_kernel: request {...}` so a test can see what the daemon sent."""

import ast
import io
import json
import os
import re
import signal
import struct
import sys
import time
import traceback
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I drops it

import msgpack  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHANNEL_FD = 3
PENDING_MESSAGE = "interrupted before it started: SIGINT arrived while the request was on its way"
_STEP_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")

_armed = False
_pending = False


def _on_sigint(signum, frame):
    global _pending
    if _armed:
        raise KeyboardInterrupt
    _pending = True


def _arm():
    global _armed, _pending
    _armed = True
    if _pending:
        _pending = False
        raise KeyboardInterrupt(PENDING_MESSAGE)


def _disarm():
    global _armed
    _armed = False


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(text):
    """A valid 1x1 PNG whose tEXt chunk holds text (so two figures drawn
    differently have different bytes)."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)) +
            _chunk(b"tEXt", b"fake\0" + text.encode("utf-8", "replace")) +
            _chunk(b"IDAT", zlib.compress(b"\0\0\0\0\0")) + _chunk(b"IEND", b""))


class FakePyplot:
    """Stands in for matplotlib.pyplot as `plt` in the namespace: drawing
    calls open a figure and are remembered; plt.show() saves and closes the
    open figures at once; figures still open after a step are saved then,
    as outputs/plots/<step>_<n>.png written to a hidden .tmp and renamed,
    as the real runtime does (sandbox/KERNEL.md)."""

    def __init__(self, save):
        self._save = save
        self._open = []

    def figure(self, *args, **kw):
        self._open.append(["figure%r" % (args,)])

    def _draw(self, name, args, kw):
        if not self._open:
            self._open.append([])
        self._open[-1].append("%s%r%r" % (name, args, sorted(kw.items())))

    def __getattr__(self, name):   # plot, bar, hist, scatter, title, xlabel...
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kw: self._draw(name, args, kw)

    def show(self, *args, **kw):
        self._save()

    def close(self, *args, **kw):
        self._open.clear()

    def take(self):
        """The open figures (their calls), closing them."""
        out, self._open = self._open, []
        return out


def _err(kind, message, tb=""):
    return {"type": kind, "message": message, "traceback": tb}


def load_script():
    try:
        with open(os.path.join(HERE, "fake_kernel.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def find_rule(rules, key):
    """The first rule matching key, with the text fields of a "match" rule
    expanded (\\1, \\g<name> name the regex's groups)."""
    for r in rules or []:
        if "code" in r and r["code"] != key:
            continue
        if "match" in r:
            m = re.search(r["match"], key or "")
            if not m:
                continue
            r = dict(r)
            for k in ("stdout", "stderr", "result"):
                if isinstance(r.get(k), str):
                    r[k] = m.expand(r[k])
        return r
    return None


class Fake:
    """One fake kernel: the bound project and the namespace."""

    def __init__(self, script):
        self.script = script
        self.bound = False
        self.project = self.outputs = None
        self.datasets = []
        self.plt = FakePyplot(self.save_figures)
        self.ns = {"__name__": "__main__", "plt": self.plt}
        self.counter = 0
        self.step = None
        self.reply = None

    # -- requests -----------------------------------------------------------
    def bind(self, req):
        if self.bound:
            return {"ok": False, "error": _err("BindError", "bind: already bound")}
        project = req.get("project")
        if not isinstance(project, str) or not os.path.isdir(project):
            return {"ok": False, "error": _err("BindError", "bind: project %r is not a directory"
                                               % (project,))}
        self.project = os.path.realpath(project)
        self.outputs = req.get("outputs") or os.path.join(self.project, "outputs")
        tmp = req.get("tmp") or os.path.join(self.project, ".daa", "tmp")
        for d in (self.outputs, os.path.join(self.outputs, "plots"), tmp):
            os.makedirs(d, exist_ok=True)
        sandbox = req.get("sandbox") or {}
        import fake_seal
        ok, layers, why = fake_seal.seal(self.project, tmp, sandbox.get("landlock", True),
                                         sandbox.get("allow_missing", False))
        if not ok:
            return {"ok": False, "layers": layers, "error": _err("SandboxError", why)}
        os.chdir(self.project)
        self.datasets = [d.get("name") for d in req.get("datasets") or []
                         if isinstance(d, dict) and isinstance(d.get("name"), str)]
        self.bound = True
        self.ns["bind_compute"] = req.get("compute")
        return {"ok": True, "layers": layers, "datasets": self.datasets,
                "df": self.datasets[0] if len(self.datasets) == 1 else None}

    def step_name(self, req):
        self.counter += 1
        name = req.get("step")
        return _STEP_SAFE.sub("-", name) if isinstance(name, str) and name else \
            "exec_%d" % self.counter

    def exec(self, req):
        code = req.get("code") if isinstance(req.get("code"), str) else ""
        step = self.step_name(req)
        rule = find_rule(self.script.get("exec"), code)
        reply = {"ok": True, "stdout": "", "stderr": "", "truncated": False, "result": None,
                 "tables": [], "figures": [], "error": None}
        start = time.monotonic()
        os.chdir(self.project)
        self.step, self.reply, self.fig_n = step, reply, 0
        try:
            _arm()
            if rule is not None:
                self.scripted(rule, step, reply)
            elif self.script.get("python_exec", True):
                self.run_python(code, step, reply)
        except KeyboardInterrupt as e:
            reply["error"] = _err("KeyboardInterrupt", str(e) or "interrupted")
        finally:
            _disarm()
        self.save_figures()
        if rule is not None and isinstance(rule.get("reply"), dict):
            reply.update(rule["reply"])
        reply["ok"] = reply.get("error") is None
        reply["duration_ms"] = int((time.monotonic() - start) * 1000)
        return reply

    def scripted(self, rule, step, reply):
        if "gate" in rule:
            while not os.path.exists(os.path.join(self.project, rule["gate"])):
                time.sleep(0.01)   # the held step; SIGINT interrupts it
        if rule.get("hold"):
            while True:   # not signal.pause(): a SIGINT landing just before
                time.sleep(0.05)   # it would run its handler only at the next signal
        if "exit" in rule:
            os._exit(int(rule["exit"]))
        for i in range(int(rule.get("figures", 0))):
            self.plt.plot("scripted", i)
            self.save_figures()
        reply["stdout"] = rule.get("stdout", "")
        reply["stderr"] = rule.get("stderr", "")
        if "result" in rule:
            reply["result"] = {"repr": rule["result"], "type": "str"}
        if rule.get("error"):
            e = dict(rule["error"])
            e.setdefault("traceback", "")
            reply["error"] = e

    def save_figures(self):
        """Save the open figures of the step in progress (numbered on)."""
        for calls in self.plt.take():
            self.fig_n += 1
            name = "%s_%d.png" % (self.step, self.fig_n)
            path = os.path.join(self.outputs, "plots", name)
            tmp = os.path.join(os.path.dirname(path), "." + name + ".tmp")
            with open(tmp, "wb") as f:
                f.write(png("\n".join(calls)))
            os.rename(tmp, path)
            self.reply["figures"].append(os.path.relpath(path, self.project))

    def run_python(self, code, step, reply):
        out, err = io.StringIO(), io.StringIO()
        fname = "<%s>" % step
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            tree = ast.parse(code, fname)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr) and not code.rstrip().endswith(";"):
                last = ast.Expression(tree.body.pop().value)
            exec(compile(tree, fname, "exec"), self.ns)
            if last is not None:
                value = eval(compile(last, fname, "eval"), self.ns)
                if value is not None:
                    self.ns["_"] = value
                    reply["result"] = {"repr": repr(value), "type": type(value).__name__}
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: BLE001 — SystemExit too, like the real runtime
            frames = traceback.extract_tb(e.__traceback__)
            user = [f for f in frames if f.filename == fname]
            tb = "Traceback (most recent call last):\n" + "".join(
                traceback.format_list(user)) if user else ""
            tb += "".join(traceback.format_exception_only(type(e), e))
            reply["error"] = _err(type(e).__name__, str(e), tb)
        finally:
            sys.stdout, sys.stderr = saved
        reply["stdout"], reply["stderr"] = out.getvalue(), err.getvalue()

    def profile(self, req):
        name = req.get("dataset") or (self.datasets[0] if len(self.datasets) == 1 else None)
        rule = find_rule(self.script.get("profile"), name)
        try:
            _arm()
            if rule is not None and "gate" in rule:
                while not os.path.exists(os.path.join(self.project, rule["gate"])):
                    time.sleep(0.01)
        except KeyboardInterrupt as e:
            return {"ok": False, "error": _err("KeyboardInterrupt", str(e) or "interrupted")}
        finally:
            _disarm()
        if name not in self.datasets and rule is None:
            return {"ok": False, "error": _err("LookupError", "no dataset %r" % (name,))}
        reply = {"ok": True, "profile": {"name": name, "rows": 0, "columns": []}}
        if rule is not None and isinstance(rule.get("reply"), dict):
            reply.update(rule["reply"])
        return reply

    def vars(self, req):
        out = [{"name": k, "type": type(v).__name__, "repr": repr(v)[:200]}
               for k, v in self.ns.items()
               if not k.startswith("_") and not callable(v) and type(v).__name__ != "module"]
        return {"ok": True, "vars": out[:200]}

    def conventions(self, req):
        if isinstance(req.get("datasets"), list):
            self.datasets = [d.get("name") for d in req["datasets"] if isinstance(d, dict)]
        return {"ok": True, "reloaded": [], "datasets": self.datasets,
                "df": self.datasets[0] if len(self.datasets) == 1 else None}

    def cache(self, req):
        return {"ok": True, "written": {}, "rebuilt": [], "checked": [], "seconds": 0.0}

    # -- dispatch -----------------------------------------------------------
    def handle(self, msg):
        if not isinstance(msg, dict):
            return {"id": None, "ok": False, "error": _err("ProtocolError", "a request must be a map")}
        rid, op = msg.get("id"), msg.get("op")
        sys.stderr.write("fake_kernel: request %s\n" % json.dumps(msg, default=str)[:2000])
        sys.stderr.flush()
        if op == "ping":
            reply = {"ok": True, "bound": self.bound}
        elif op == "bind":
            reply = self.bind(msg)
        elif op in ("exec", "profile", "vars", "conventions", "cache"):
            reply = getattr(self, op)(msg) if self.bound else \
                {"ok": False, "error": _err("PermissionError", "kernel is not bound to a project")}
        else:
            reply = {"ok": False, "error": _err("ValueError", "unknown op %r" % (op,))}
        reply["id"] = rid
        return reply


def main():
    global _pending
    signal.signal(signal.SIGINT, _on_sigint)
    fd = os.dup(CHANNEL_FD)
    os.close(CHANNEL_FD)
    script = load_script()
    packer = msgpack.Packer(default=str, use_bin_type=True)

    def send(obj):
        view = memoryview(packer.pack(obj))
        while view:
            view = view[os.write(fd, view):]

    if not script.get("never_ready"):
        libs = script.get("libs") or {"pandas": "fake", "numpy": "fake", "matplotlib": "fake",
                                      "sklearn": None, "openpyxl": None, "scipy": None}
        send({"ev": "ready", "pid": os.getpid(), "python": script.get("python", "3-fake"),
              "libs": libs})
    fake = Fake(script)
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    try:
        while True:
            data = os.read(fd, 1 << 16)
            if not data:
                return 0
            unpacker.feed(data)
            for msg in unpacker:
                reply = fake.handle(msg)
                # the reply is ready: a SIGINT from now on is for the next
                # request (the runtime's reply_ready()).  Cleared after the
                # write, it lost a SIGINT the daemon sent for that request
                # once it had read the reply.
                _pending = False
                send(reply)
    except (ValueError, msgpack.UnpackException) as e:
        sys.stderr.write("fake_kernel: malformed message from the daemon: %s\n" % e)
        return 3
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
