"""tests/analyst/harness.py — plays the daemon's part for the builtin analyst:
keeps the turn state, calls daemon/analyst/daa_analyst.py once per model
call, runs its run_python code in ONE persistent kernel namespace, feeds the
results back, answers its questions from a script, stores its conventions,
until final_answer.

The kernel is the real runtime (sandbox/python/daakernel: Session.bind with
DAA_KERNEL_UNSANDBOXED=1, so no sandbox, but the same namespace — pd, np,
plt (Agg), dfs, show — the same exec replies and the same profiles the
daemon gets).  When that runtime cannot be imported, or DAA_ANALYST_MINI=1,
a minimal namespace stands in (MiniKernel below: pd, np, plt Agg, dfs loaded
with pd.read_csv, last-expression value, figures saved to outputs/plots/,
profiles with name/dtype/kind/missing/distinct/samples); the harness says
which one it used.
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

ROOT = os.environ.get("DAA_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = os.environ.get("DAA_PYTHON", "/usr/bin/python3")
ANALYST = os.path.join(ROOT, "daemon", "analyst", "daa_analyst.py")


def make_kernel(project, datasets):
    """The real runtime's session when importable, else MiniKernel."""
    os.makedirs(os.path.join(project, "data"), exist_ok=True)
    files = []
    for name, path in datasets.items():
        dst = os.path.join(project, "data", name + os.path.splitext(path)[1])
        shutil.copyfile(path, dst)
        files.append({"name": name, "path": os.path.relpath(dst, project), "format": "csv"})
    if os.environ.get("DAA_ANALYST_MINI") != "1":
        try:
            return RuntimeKernel(project, files)
        except ImportError:
            pass
    return MiniKernel(project, files)


class RuntimeKernel:
    """sandbox/python's Session, bound to the project without the C sandbox."""

    kind = "runtime (sandbox/python/daakernel, unsandboxed test mode)"

    def __init__(self, project, files):
        sys.path.insert(0, os.path.join(ROOT, "sandbox", "python"))
        os.environ["DAA_KERNEL_UNSANDBOXED"] = "1"
        os.environ.setdefault("MPLBACKEND", "Agg")
        from daakernel.session import Session
        self.sess = Session()
        self.sess.bind({"project": project, "outputs": os.path.join(project, "outputs"),
                        "tmp": os.path.join(project, ".tmp"), "datasets": files, "conventions": {},
                        "sandbox": {"landlock": False, "allow_missing": True}})
        self.project = project

    def profile(self, name):
        """The dataset's profile, as the daemon would get it."""
        return self.sess.profile({"dataset": name, "samples": True})["profile"]

    def execute(self, code, step):
        """The exec reply for code."""
        return self.sess.execute({"code": code, "step": step, "max_output": 65536})


class MiniKernel:
    """A minimal stand-in for the runtime (see the file comment)."""

    kind = "minimal harness namespace (pd, np, plt Agg, dfs, df)"

    def __init__(self, project, files):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
        import pandas as pd
        self.pd, self.plt, self.project = pd, plt, project
        dfs = {f["name"]: pd.read_csv(os.path.join(project, f["path"])) for f in files}
        self.ns = {"pd": pd, "np": np, "plt": plt, "dfs": dfs}
        if len(dfs) == 1:
            self.ns["df"] = next(iter(dfs.values()))
        os.makedirs(os.path.join(project, "outputs", "plots"), exist_ok=True)

    def profile(self, name):
        """name, rows, columns with dtype, kind, missing, distinct, samples."""
        pd = self.pd
        d = self.ns["dfs"][name]
        cols = []
        for c in d.columns:
            s = d[c]
            kind = "numeric" if pd.api.types.is_numeric_dtype(s) else (
                "categorical" if s.nunique() <= 20 else "text")
            cols.append({"name": str(c), "dtype": str(s.dtype), "kind": kind,
                         "missing": int(s.isna().sum()), "distinct": int(s.nunique()),
                         "samples": [v.item() if hasattr(v, "item") else v for v in s.dropna().unique()[:5]]})
        return {"name": name, "rows": len(d), "columns": cols}

    def execute(self, code, step):
        """Runs code; returns an exec-reply-shaped dict."""
        import ast
        out = io.StringIO()
        reply = {"ok": True, "stdout": "", "stderr": "", "result": None, "tables": [],
                 "figures": [], "error": None, "truncated": False}
        try:
            tree = ast.parse(code)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            with contextlib.redirect_stdout(out):
                exec(compile(tree, f"<{step}>", "exec"), self.ns)
                if last is not None:
                    val = eval(compile(ast.Expression(last.value), f"<{step}>", "eval"), self.ns)
                    reply["result"] = {"repr": repr(val)[:2000], "type": type(val).__name__}
        except Exception as e:
            reply["ok"] = False
            reply["error"] = {"type": type(e).__name__, "message": str(e),
                              "traceback": traceback.format_exc(limit=-3)}
        reply["stdout"] = out.getvalue()
        for i, num in enumerate(self.plt.get_fignums(), 1):
            rel = f"outputs/plots/{step}_{i}.png"
            self.plt.figure(num).savefig(os.path.join(self.project, rel), dpi=60)
            reply["figures"].append(rel)
        self.plt.close("all")
        return reply


class Analyst:
    """Calls daa_analyst.py: one process per call (its one-shot mode; daad keeps
    one --serve process instead) or in-process.  In-process, every Nth call
    (crosscheck_every) is also asked of the script, and the answers must be
    equal: the first such call of its one-shot mode, the others of one
    --serve process, as daad runs it."""

    def __init__(self, inprocess=False, crosscheck_every=0):
        self.inprocess = inprocess
        self.crosscheck_every = crosscheck_every  # in-process: also run the script every Nth call
        self.server = ScriptServer()
        self.calls = 0
        self.seconds = 0.0
        self.slowest = 0.0
        if inprocess:
            sys.path.insert(0, os.path.dirname(ANALYST))
            from analyst.plan import decide
            self.decide = decide

    def call(self, state):
        """The tool call for a state (a dict)."""
        t0 = time.perf_counter()
        if self.inprocess:
            out = json.loads(json.dumps(self.decide(json.loads(json.dumps(state)))))
            if self.crosscheck_every and self.calls % self.crosscheck_every == 0:
                other = run_script(state) if self.calls == 0 else self.server.call(state)
                if other != out:
                    raise RuntimeError(f"daa_analyst.py answered {other} but decide() {out}")
        else:
            out = run_script(state)
        dt = time.perf_counter() - t0
        self.calls += 1
        self.seconds += dt
        self.slowest = max(self.slowest, dt)
        return out

    def close(self):
        """Ends the --serve process, if one was started."""
        self.server.close()


class ScriptServer:
    """daa_analyst.py --serve, as daad runs it: one process, a state and an
    answer per line (started at the first call)."""

    def __init__(self):
        self.proc = None

    def call(self, state):
        """The tool call for a state (a dict)."""
        if self.proc is None:
            self.proc = subprocess.Popen([PYTHON, "-I", "-S", ANALYST, "--serve"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.proc.stdin.write(json.dumps(state, separators=(",", ":")).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"daa_analyst.py --serve ended (exit {self.proc.wait()})")
        return json.loads(line)

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


def run_script(state):
    """One call of daa_analyst.py in its one-shot mode (python -I -S, JSON in and out)."""
    p = subprocess.run([PYTHON, "-I", "-S", ANALYST], input=json.dumps(state).encode(),
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"daa_analyst.py exited {p.returncode}: {p.stderr.decode()[-2000:]}")
    return json.loads(p.stdout)


class Turn:
    """What happened in one turn: the tool calls, code, figures, questions, final text."""

    def __init__(self):
        self.calls, self.code, self.figures, self.asked, self.remembered = [], [], [], [], []
        self.final, self.status, self.results = None, None, []


def run_turn(kernel, analyst, request, profiles, conventions=None, answers=(), max_calls=10, step_base="step",
             digest=()):
    """Runs one turn to its end; answers questions from `answers` in order."""
    t = Turn()
    conv = {k: (v if isinstance(v, dict) else {"value": v, "source": "user"}) for k, v in (conventions or {}).items()}
    steps, answers = [], list(answers)
    for n in range(max_calls):
        state = {"request": request, "datasets": profiles, "conventions": conv, "steps": steps, "digest": list(digest)}
        out = analyst.call(state)
        name, args = out.get("tool"), out.get("args") or {}
        t.calls.append(name)
        if name == "run_python":
            reply = kernel.execute(args["code"], f"{step_base}_{n}")
            t.code.append(args["code"])
            t.results.append(reply)
            t.figures += reply.get("figures") or []
            steps.append({"tool": name, "args": args, "result": reply})
        elif name == "ask_user":
            t.asked.append(args)
            if not answers:
                t.status = "question"
                return t
            steps.append({"tool": name, "args": args, "answer": answers.pop(0)})
        elif name == "remember_convention":
            t.remembered.append(args)
            conv[args["key"]] = {"value": args["value"], "source": "agent", "why": args.get("why")}
            steps.append({"tool": name, "args": args, "result": {"ok": True}})
        elif name == "final_answer":
            t.final, t.status = args.get("text", ""), "done"
            return t
        else:
            t.status = f"bad tool {name!r}"
            return t
    t.status = "loop: no final_answer after %d calls" % max_calls
    return t
