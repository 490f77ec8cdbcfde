"""tests/lib/daad.py — start a private daad for a test, and talk to it: the
one harness every suite uses (the agent suite's agentlib.Daemon and the
kernel suite's kcli.Session are re-exported from here).

- Daad: the daemon alone (below).
- Daemon: Daad for the agent-style tests (skip when not built, fail with the
  log, sanitizer reports checked at stop, EventClient clients).
- Session: Daad plus a project `demo` holding examples/sales.csv and the real
  `daa` CLI run against it.
- fake_kernel=SCRIPT (all three): the daemon's kernels are
  tests/lib/fake_kernel.py answering from SCRIPT, ready in milliseconds,
  for tests about the daemon rather than about Python or pandas.
- With the real runtime the daemon starts no warm spare kernel and draws
  no charts in background profiles' reports unless the test's config asks
  for them (kernel.warm_spare, kernel.report_images; without_warm_spare
  below): a spare costs 1.2 s of CPU and most tests never bind it, the
  charts about 1 s per dataset and most tests never look at them.  Their
  kernels get one BLAS/OpenMP thread (kernel.threads 1): tests run several
  at once, and a second thread spin-waiting for a busy core doubled
  tools/test_cli_tools' CPU (10.9 -> 23.4 s beside two busy loops).
  DAA_TEST_FAKE_KERNEL=1 in the test's environment gives every Daad the
  fake (a survey: which tests depend on the real runtime).

Every integration suite reuses this (import it with
``sys.path.insert(0, os.path.join(os.environ["DAA_ROOT"], "tests/lib"))``):

    with Daad() as d:                     # temp HOME/XDG dirs, own socket
        c = d.client()                    # an independent msgpack-rpc client
        assert c.call("ping")["pong"]

- The daemon runs under an ``env -i``-like clean environment holding only
  HOME, XDG_*, PATH, DAA_SOCKET, DAA_ROOT, DAA_PYTHON and what the test adds;
  XDG_CACHE_HOME is the runner's (tests/run_all.sh: one folder for the whole
  run, so the kernels' shared font list is built once), else in the temp HOME.
- DAA_VALGRIND=1 wraps it in valgrind (leaks are errors, exit code 99).
- Its log is printed when the test fails (the context manager sees the
  exception) or when the daemon exits with an error.
- Everything started is stopped and every temp dir removed on exit, even on
  failure.  Timeouts only guard against hangs; no result depends on timing.

The client is plain Python + python3-msgpack (not our C code), so it doubles
as an interoperability check of the wire protocol.
"""
import errno
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

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DAA_BUILD") or os.path.join(ROOT, "build")
DAAD = os.path.join(BUILD, "bin", "daad")
PYTHON = os.environ.get("DAA_PYTHON", "/usr/bin/python3")
HANG_TIMEOUT = float(os.environ.get("DAA_HANG_TIMEOUT", "30"))


def run_daad(env, *args, timeout=60):
    """Run daad to completion (daemon options, config errors...): (rc, stdout+stderr).
    Retries the exec while a parallel `make` relinks the binary."""
    for attempt in range(100):
        try:
            p = subprocess.run([DAAD] + list(args), env=env, capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
            return p.returncode, p.stdout + p.stderr
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.ETXTBSY, errno.ENOENT) or attempt == 99:
                raise
            time.sleep(0.1)


def use_fake_kernel(top, config, script):
    """Make daad's kernels tests/lib/fake_kernel.py answering from script
    (a dict, see that file): a private share folder (prompts and analyst
    linked to the tree's, the runtime the fake) named by "share_dir" in the
    returned config.  script True means the empty script."""
    share = os.path.join(top, "share")
    runtime = os.path.join(share, "runtime")
    os.makedirs(runtime, exist_ok=True)
    shutil.copyfile(os.path.join(ROOT, "tests", "lib", "fake_kernel.py"),
                    os.path.join(runtime, "daa_kernel.py"))
    shutil.copyfile(os.path.join(ROOT, "sandbox", "python", "daakernel", "seal.py"),
                    os.path.join(runtime, "fake_seal.py"))
    write_fake_script(top, script if isinstance(script, dict) else {})
    # the runtime's library is read by the daemon too (`daa export` embeds
    # daakernel/datasets.py); the fake kernel itself never imports it
    for name, target in (("prompts", "prompts"), ("analyst", "daemon/analyst"),
                         ("runtime/daakernel", "sandbox/python/daakernel"),
                         ("runtime/daa_tools", "sandbox/python/daa_tools")):
        if not os.path.lexists(os.path.join(share, name)):
            os.symlink(os.path.join(ROOT, target), os.path.join(share, name))
    cfg = json.loads(config) if isinstance(config, str) else dict(config or {})
    cfg["share_dir"] = share
    return cfg


# kernel settings a test daemon with the real runtime gets unless the test
# sets them (or the environment variable says 1): see without_warm_spare
TEST_KERNEL_DEFAULTS = (("warm_spare", "DAA_TEST_WARM_SPARE", False),
                        ("report_images", "DAA_TEST_REPORT_IMAGES", False),
                        ("threads", "DAA_TEST_KERNEL_THREADS", 1))


def without_warm_spare(config):
    """The config with kernel.warm_spare and kernel.report_images false
    and kernel.threads 1 unless the test set them (or DAA_TEST_WARM_SPARE=1,
    DAA_TEST_REPORT_IMAGES=1, DAA_TEST_KERNEL_THREADS=1).  A real kernel's start costs about 1.2 s of
    CPU (pandas, matplotlib), and the spare a daemon starts at once and
    again after each bind is never used by most tests.  The spare itself is
    tested by tests/kernel/test_kern_mgr, the fake-kernel daemons (their
    spare costs milliseconds) and the tests that ask for it (crash
    consistency, the analyst corpus through the daemon).  The charts of a
    background profile's report cost about 1 s of CPU per dataset; the tests
    about reports ask for them (tools/test_cli_tools.py,
    profiles/test_background.py, trust/test_report_view.py).  A config string
    that is not JSON (a config-error test) is left as it is."""
    try:
        cfg = json.loads(config) if isinstance(config, str) else dict(config or {})
    except ValueError:
        return config
    if not isinstance(cfg, dict) or not isinstance(cfg.get("kernel", {}), dict):
        return config
    kernel = dict(cfg.get("kernel") or {})
    for key, env, value in TEST_KERNEL_DEFAULTS:
        if key not in kernel and os.environ.get(env) != "1":
            kernel[key] = value
    if not kernel and "kernel" not in cfg:
        return config
    cfg["kernel"] = kernel
    return cfg


def write_fake_script(top, script):
    """Replace the fake kernel's script (kernels started later read it)."""
    path = os.path.join(top, "share", "runtime", "fake_kernel.json")
    with open(path + ".tmp", "w") as f:
        json.dump(script, f)
    os.rename(path + ".tmp", path)


class RpcError(Exception):
    """An error response: .code, .message, .data."""

    def __init__(self, err):
        self.err = err
        self.code = err.get("code") if isinstance(err, dict) else None
        self.message = err.get("message") if isinstance(err, dict) else str(err)
        self.data = err.get("data") if isinstance(err, dict) else None
        super().__init__("%s: %s" % (self.code, self.message))


class Client:
    """A blocking msgpack-rpc client over the Unix socket."""

    def __init__(self, path, timeout=HANG_TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.msgid = 0
        self.notifications = []
        self.responses = {}

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, params=None):
        """Send a request; return its msgid."""
        self.msgid += 1
        args = [params] if params is not None else []
        self.sock.sendall(msgpack.packb([0, self.msgid, method, args], use_bin_type=True))
        return self.msgid

    def read_message(self):
        """Next message from the daemon (None at end of stream)."""
        while True:
            for msg in self.unpacker:
                return msg
            data = self.sock.recv(1 << 16)
            if not data:
                return None
            self.unpacker.feed(data)

    def wait(self, msgid):
        """The response to msgid: the raw [1, id, error, result] list."""
        while msgid not in self.responses:
            msg = self.read_message()
            if msg is None:
                raise ConnectionError("the daemon closed the connection")
            if msg[0] == 1:
                self.responses[msg[1]] = msg
            elif msg[0] == 2:
                self.notifications.append(msg)
        return self.responses.pop(msgid)

    def call_raw(self, method, params=None):
        return self.wait(self.send(method, params))

    def call(self, method, params=None):
        """Result of a call; RpcError on an error response."""
        resp = self.call_raw(method, params)
        assert len(resp) == 4 and resp[0] == 1, resp
        if resp[2] is not None:
            raise RpcError(resp[2])
        return resp[3]


class Daad:
    """A private daemon with its own HOME, XDG dirs and socket."""

    def __init__(self, extra_env=None, args=(), config=None, keep_dir=None, wrapper=None,
                 fake_kernel=None):
        self.dir = keep_dir or tempfile.mkdtemp(prefix="daa-test.")
        self.own_dir = keep_dir is None
        self.home = os.path.join(self.dir, "home")
        self.run = os.path.join(self.dir, "run")
        self.sock = os.path.join(self.run, "daa", "daad.sock")
        self.data_home = os.path.join(self.home, ".local", "share")
        self.config_home = os.path.join(self.home, ".config")
        self.log_path = os.path.join(self.dir, "daad.log")
        self.projects = os.path.join(self.data_home, "daa", "projects")
        for d in (self.home, self.data_home, self.config_home):
            os.makedirs(d, exist_ok=True)
        os.makedirs(self.run, mode=0o700, exist_ok=True)
        os.chmod(self.run, 0o700)
        if fake_kernel is None and os.environ.get("DAA_TEST_FAKE_KERNEL") == "1":
            fake_kernel = {}   # survey: which tests pass without the real runtime
        if fake_kernel is not None:
            config = use_fake_kernel(self.dir, config, fake_kernel)
        else:
            config = without_warm_spare(config)
        if config is not None:
            os.makedirs(os.path.join(self.config_home, "daa"), exist_ok=True)
            with open(os.path.join(self.config_home, "daa", "config.json"), "w") as f:
                f.write(config if isinstance(config, str) else json.dumps(config))
        self.env = {
            "HOME": self.home,
            "PATH": "/usr/bin:/bin",
            "XDG_RUNTIME_DIR": self.run,
            "XDG_DATA_HOME": self.data_home,
            "XDG_CONFIG_HOME": self.config_home,
            "XDG_STATE_HOME": os.path.join(self.home, ".local", "state"),
            "DAA_SOCKET": self.sock,
            "DAA_ROOT": ROOT,
            "DAA_PYTHON": PYTHON,
            "LANG": "C.UTF-8",
        }
        # sanitizer builds; the cache folder tests/run_all.sh shares among
        # the tests' daemons (the kernels' font list: daemon/kernel/kern_fonts.c)
        for k in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "XDG_CACHE_HOME"):
            if k in os.environ:
                self.env[k] = os.environ[k]
        self.env.update(extra_env or {})
        self.args = list(args)
        self.wrapper = wrapper
        self.proc = None
        self.log = None

    # -- life cycle -------------------------------------------------------
    def command(self):
        cmd = [DAAD, "--foreground", "--log-level", "debug"] + self.args
        if self.wrapper:
            return list(self.wrapper) + cmd
        if os.environ.get("DAA_VALGRIND") == "1":
            return ["valgrind", "--quiet", "--leak-check=full",
                    "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                    "--trace-children=no"] + cmd
        return cmd

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        for attempt in range(100):
            try:
                self.proc = subprocess.Popen(self.command(), env=self.env,
                                             stdin=subprocess.DEVNULL, stdout=self.log,
                                             stderr=self.log, cwd=self.dir,
                                             start_new_session=True)
                break
            except OSError as e:
                # a parallel `make` may be relinking daad right now
                if e.errno not in (errno.EACCES, errno.ETXTBSY, errno.ENOENT) or attempt == 99:
                    raise
                time.sleep(0.1)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self):
        """Wait until ping answers (or the daemon dies)."""
        deadline = time.monotonic() + HANG_TIMEOUT * (4 if self.valgrind() else 1)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("daad exited with %s during start-up" % self.proc.returncode)
            try:
                with Client(self.sock, timeout=5) as c:
                    c.call("ping")
                return
            except (OSError, ConnectionError):
                time.sleep(0.05)
        raise RuntimeError("daad did not answer within the start-up timeout")

    def valgrind(self):
        return os.environ.get("DAA_VALGRIND") == "1" and not self.wrapper

    def set_fake_script(self, script):
        """New script for the fake kernel (Daad(fake_kernel=...)): kernels
        started from now on, the warm spare included, answer from it."""
        write_fake_script(self.dir, script)

    def client(self, timeout=HANG_TIMEOUT):
        return Client(self.sock, timeout=timeout)

    def call(self, method, params=None):
        with self.client() as c:
            return c.call(method, params)

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait_exit(self, timeout=None):
        """Exit code of the daemon (waits)."""
        return self.proc.wait(timeout=timeout or HANG_TIMEOUT * (4 if self.valgrind() else 1))

    def stop(self):
        """SIGTERM, wait; SIGKILL the group if it hangs.  Returns the exit code."""
        if not self.proc:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=HANG_TIMEOUT * (4 if self.valgrind() else 1))
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        rc = self.proc.returncode
        self.log.close()
        return rc

    def kill9(self):
        """SIGKILL the daemon and its process group, then wait until its
        socket lock is free: a child it forked that has not exec'd yet (a
        kernel being spawned, in its own session) holds the lock until it
        sees its parent gone, and a daemon started again at once would
        refuse to start ("another daad is running or starting")."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()
        self.wait_lock_free()

    def wait_lock_free(self):
        """Wait (hang-guarded) until no daad holds this socket's lock."""
        deadline = time.monotonic() + HANG_TIMEOUT
        while time.monotonic() < deadline and not self._lock_free():
            time.sleep(0.01)

    def _lock_free(self):
        """Can daad's socket lock (DAA_SOCKET.lock) be taken now?"""
        import fcntl
        try:
            fd = os.open(self.sock + ".lock", os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False
        finally:
            os.close(fd)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def show_log(self):
        sys.stderr.write("---- daad log (%s) ----\n%s---- end of log ----\n"
                         % (self.log_path, self.log_text()))

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.kill9()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.show_log()
            self.cleanup()
            raise

    def __exit__(self, etype, exc, tb):
        rc = None
        try:
            rc = self.stop()
        finally:
            clean_exit = etype is SystemExit and exc.code in (0, None)
            if (etype is not None and not clean_exit) or rc not in (0, None, -signal.SIGTERM):
                self.show_log()
                if etype is None or clean_exit:
                    self.cleanup()
                    raise AssertionError("daad exited with status %s" % rc)
            self.cleanup()
        return False


def children(pid):
    """Host pids of pid's children (every thread's list; [] once pid is gone)."""
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def run_tests(tests):
    """Run test functions in order; TAP output; exit 1 on a failure."""
    failed = 0
    for i, t in enumerate(tests, 1):
        start = time.monotonic()
        try:
            t()
            print("ok %d - %s  # %.1fs" % (i, t.__name__, time.monotonic() - start))
        except Exception:  # noqa: BLE001 — report every failure, then go on
            failed += 1
            import traceback
            print("not ok %d - %s" % (i, t.__name__))
            traceback.print_exc()
        sys.stdout.flush()
    print("1..%d" % len(tests))
    sys.exit(1 if failed else 0)


# -- the agent suite's flavour (was tests/agent/agentlib.py) ------------------
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


class EventClient(Client):
    """A client with keyword-argument calls that return the result (raising
    RpcError), notifications' params kept in .events."""

    def __init__(self, path, timeout=60):
        super().__init__(path, timeout)
        self.events = []

    def send(self, method, **params):
        self.msgid += 1
        self.sock.sendall(msgpack.packb([0, self.msgid, method, [params]], use_bin_type=True))
        return self.msgid

    def _pump(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("daemon closed the connection")
        self.unpacker.feed(data)
        for m in self.unpacker:
            if m[0] == 2:
                self.events.append(m[2][0] if isinstance(m[2], list) and m[2] else m[2])
            elif m[0] == 1:
                self.responses[m[1]] = (m[2], m[3])

    def _pump_until(self, done, timeout, what):
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise TimeoutError(what)
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                self._pump()
            except socket.timeout:
                pass

    def wait(self, msgid, timeout=60):
        self._pump_until(lambda: msgid in self.responses, timeout,
                         "no response to request %d" % msgid)
        err, res = self.responses.pop(msgid)
        if err is not None:
            raise RpcError(err)
        return res

    def call(self, method, timeout=60, **params):
        return self.wait(self.send(method, **params), timeout)

    def wait_event(self, kind, timeout=60, start=0):
        """The first event of this kind (from index start), pumping as needed."""
        found = []

        def seen():
            found[:] = [e for e in self.events[start:]
                        if isinstance(e, dict) and e.get("kind") == kind][:1]
            return bool(found)
        self._pump_until(seen, timeout, "no %s event" % kind)
        return found[0]

    def wait_turn_event(self, turn, kind, timeout=30):
        """Pump until an event (turn, kind) has arrived."""
        self._pump_until(lambda: any(isinstance(e, dict) and e.get("turn") == turn and
                                     e.get("kind") == kind for e in self.events),
                         timeout, "no %s event for turn %s" % (kind, turn))

    def kinds(self):
        return [e.get("kind") for e in self.events if isinstance(e, dict)]


MINE = ("daemon/agent/", "daemon/llm/llm_builtin", "daemon/rpc/m_turn", "daemon/profiler/profiler",
        "daemon/core/filehash", "daemon/rpc/m_profile", "daemon/rpc/m_data", "daemon/project/project_watch")


def check_sanitizers(text):
    """Fail on an ASan/UBSan error in daad's log, and on leaks allocated by
    the agent's files (leaks of other parts are shown, not failed on)."""
    if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
        i = text.find("ERROR: AddressSanitizer")
        i = i if i >= 0 else text.index("runtime error:")
        print(text[max(0, i - 1000):i + 5000])
        fail("the sanitizers reported an error in daad (log above)")
    for block in text.split("leak of ")[1:]:
        frames = [ln for ln in block.splitlines()[1:30] if ln.strip().startswith("#")]
        ours = [ln for ln in frames if " daemon/" in ln or " protocol/" in ln]
        if ours and any(m in ours[0] for m in MINE):  # the first project frame allocated it
            print("leak of " + block[:3000])
            fail("daad leaked memory allocated by the agent (above)")
    if "LeakSanitizer" in text:
        print("note: daad leaks memory in other parts (LeakSanitizer report in its log)")


class Daemon:
    """A private daad (Daad: temp HOME/XDG dirs, own socket, clean
    environment, valgrind under DAA_VALGRIND=1), started at once; stop()
    ends it, checks its exit and sanitizer reports, and removes the dir."""

    def __init__(self, config=None, env=None, fake_kernel=None):
        if not os.access(DAAD, os.X_OK):
            skip("daad is not built (%s)" % DAAD)
        self.d = Daad(extra_env=env, config=config or {}, fake_kernel=fake_kernel)
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
        return EventClient(self.socket, timeout)

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


def run_test(fn, config=None, env=None, fake_kernel=None):
    """Start a Daemon, run fn(daemon), always stop it; log shown on failure."""
    d = Daemon(config, env, fake_kernel)
    ok = False
    try:
        fn(d)
        ok = True
    finally:
        if not ok:
            d.dump_log()
        d.stop()


def run_test_in_dir(prefix, fn, config=None, env=None, fake_kernel=None):
    """run_test with a scratch folder for the test's own files: fn(d, work);
    the folder is removed afterwards."""
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        run_test(lambda d: fn(d, work), config, env, fake_kernel)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the kernel suite's flavour (was tests/kernel/kcli.py) --------------------
def skip_unless_built():
    """Exit 77 (skip) when daad or daa is missing."""
    for p in (DAAD, DAA):
        if not os.access(p, os.X_OK):
            print("skip: %s not built" % p)
            sys.exit(77)


def skip_if_valgrind():
    """Exit 77 (skip) under DAA_VALGRIND=1: a daad under valgrind starts no
    kernel, not even the fake one (the sandbox's Landlock, mount and rlimit
    calls fail under valgrind); the SAN=1 run of `make check` covers it."""
    if os.environ.get("DAA_VALGRIND") == "1":
        print("skip: kernels cannot start under valgrind (DAA_VALGRIND=1)")
        sys.exit(77)


class Session:
    """A private daemon plus a project `demo` holding examples/sales.csv, and
    the real `daa` CLI against it:

        with Session(config={...}, extra_env={...}) as s:
            r, p = s.run_json("1 + 1")      # the `run` reply as JSON (daa --json)
            out = s.daa("-p", "demo", "doctor")
    """

    def __init__(self, config=None, extra_env=None, project="demo", fake_kernel=None):
        self.d = Daad(config=config, extra_env=extra_env, fake_kernel=fake_kernel)
        self.project = project
        self.path = None

    def __enter__(self):
        try:
            self.d.start()
            self.daa("project", "new", self.project)
            self.daa("-p", self.project, "add", SALES)
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
