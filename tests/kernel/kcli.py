"""tests/kernel/kcli.py — helpers for the kernel and sandbox-attack suites:
a private daad (tests/lib/daad.py) and the real `daa` CLI run against it.

    with Session(config={...}, extra_env={...}) as s:
        r = s.run_json("1 + 1")          # the `run` reply as JSON (daa --json)
        out = s.daa("-p", "demo", "doctor")

Every call has a timeout that only guards against hangs.
"""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from daad import Daad  # noqa: E402

BUILD = os.environ.get("DAA_BUILD") or os.path.join(ROOT, "build")
DAA = os.path.join(BUILD, "bin", "daa")


def skip_unless_built():
    """Exit 77 (skip) when daad or daa is missing."""
    for p in (os.path.join(BUILD, "bin", "daad"), DAA):
        if not os.access(p, os.X_OK):
            print("skip: %s not built" % p)
            sys.exit(77)


class Session:
    """A private daemon plus a project `demo` holding examples/sales.csv."""

    def __init__(self, config=None, extra_env=None, project="demo"):
        self.d = Daad(config=config, extra_env=extra_env)
        self.project = project
        self.path = None

    def __enter__(self):
        try:
            self.d.start()
            self.daa("project", "new", self.project)
            self.daa("-p", self.project, "add", os.path.join(ROOT, "examples", "sales.csv"))
            self.path = os.path.join(self.d.projects, self.project)
        except BaseException:
            self.d.show_log()
            self.d.cleanup()
            raise
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            self.d.show_log()
        self.d.stop()
        self.d.cleanup()
        return False

    def env(self):
        e = dict(self.d.env)
        e.pop("OPENAI_API_KEY", None)
        return e

    def daa(self, *args, check=True, timeout=120):
        """Run the CLI; returns CompletedProcess (text)."""
        p = subprocess.run([DAA, "--no-start"] + list(args), env=self.env(),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("daa %s -> %d\nstdout: %s\nstderr: %s"
                                 % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def popen(self, *args):
        return subprocess.Popen([DAA, "--no-start"] + list(args), env=self.env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")

    def run(self, code, *extra, check=False, timeout=120):
        return self.daa("-p", self.project, "run", code, *extra, check=check, timeout=timeout)

    def run_json(self, code, *extra, timeout=120):
        """(reply dict or None, CompletedProcess) of `daa --json run CODE`."""
        p = self.daa("--json", "-p", self.project, "run", code, *extra, check=False,
                     timeout=timeout)
        try:
            return json.loads(p.stdout), p
        except ValueError:
            return None, p

    def kernel_pid(self):
        """The host pid of the project's kernel as the daemon reports it
        (`status`), or None.  Never os.getpid() inside the kernel: that is
        the pid in the kernel's own pid namespace (1)."""
        ks = (self.d.call("status").get("kernels") or {}).get("kernels") or []
        want = os.path.realpath(self.path)
        for k in ks:
            if k.get("project") and os.path.realpath(k["project"]) == want:
                return k["pid"]
        return None

    def alive(self):
        """The daemon answers ping."""
        return self.d.call("ping").get("pong") is True


def data_digest(path):
    """{relative path: bytes} of a project's data/ (to prove it unchanged)."""
    out = {}
    base = os.path.join(path, "data")
    for dirpath, _, files in os.walk(base):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, base)] = fh.read()
    return out


def rmtree(p):
    shutil.rmtree(p, ignore_errors=True)
