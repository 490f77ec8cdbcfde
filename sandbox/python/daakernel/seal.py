"""The sandbox's last step, run by the kernel itself when it is bound: call
sbx_seal() from libdaasbx.so (path in $DAA_SBX_LIB) through ctypes, before any
user code.  A seal layer that is missing fails closed unless the bind request
allows it.  DAA_KERNEL_UNSANDBOXED=1 (tests and development only; the daemon
never sets it) skips the seal and says so in the layer report.

Before sealing, the kernel waits until its mount helper has ended
(sandbox/sbx_ns.c forks it as the kernel's one child, pid 2 of the
kernel's pid namespace): the helper replies to the daemon once it has
mounted the project, then exits, and that exit (tearing down a mount
namespace) can still be under way when the bind request arrives.  User
code must find itself alone in its /proc (tests/sandbox/test_attack_proc.py
saw pid 2 on a loaded machine)."""

import ctypes
import os
import time

REPORT_LEN = 4096
_BAD_WORDS = ("missing", "failed", "unavailable", "error", "disabled", "not ")  # as daemon/kernel/kern_req.c


def parse_report(text):
    """'landlock: active (ABI 3)\\nseccomp: active' -> {layer: state}."""
    layers = {}
    for line in text.splitlines():
        name, sep, state = line.partition(":")
        if sep and name.strip():
            layers[name.strip()] = state.strip()
    return layers


def _missing(layers):
    """Layers whose state is not active (by the words the report uses)."""
    return [k for k, v in layers.items() if v.lower().startswith(_BAD_WORDS)]


def _load(path):
    """Load libdaasbx.so and return its sbx_seal with a checked signature."""
    lib = ctypes.CDLL(path)
    fn = lib.sbx_seal
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def _library():
    """sbx_seal from $DAA_SBX_LIB, or (None, why it is unavailable)."""
    path = os.environ.get("DAA_SBX_LIB", "")
    if not path:
        return None, "DAA_SBX_LIB is not set (the daemon passes the path of libdaasbx.so)"
    if not os.path.isfile(path):
        return None, "%s not found (build it with `make`)" % path
    try:
        return _load(path), None
    except (OSError, AttributeError) as e:
        return None, "cannot load %s: %s" % (path, e)


_done = None   # (project, tmp, rc, report) of this process's one sbx_seal call


def _call(fn, project, tmp, landlock):
    """Call sbx_seal once per process (it cannot be undone or repeated);
    a later bind for the same folders gets the same outcome."""
    global _done
    if _done is None:
        buf = ctypes.create_string_buffer(REPORT_LEN)
        rc = fn(os.fsencode(project) if landlock else None, os.fsencode(tmp), buf, REPORT_LEN)
        _done = (project, tmp, rc, buf.value.decode("utf-8", "replace"))
    elif _done[:2] != (project, tmp):
        return -1, "seal: this kernel was already sealed to %s; start a fresh kernel" % _done[0]
    return _done[2], _done[3]


HELPER_WAIT_S = 20.0   # a hang guard: the helper's exit takes milliseconds


def helper_gone(limit_s=HELPER_WAIT_S):
    """True once this process has no child left, False if one is still
    there after limit_s.  SIGCHLD is ignored in a kernel with a helper
    (sbx_spawn.c), so the system reaps it and waitpid only tells whether
    one is left (0: yes; ChildProcessError: none)."""
    deadline = time.monotonic() + limit_s
    pause = 0.001
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid:
            continue   # reaped one (SIGCHLD not ignored): look again
        if time.monotonic() > deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def connect_port(compute):
    """The TCP port of compute.dask_scheduler ("tcp://HOST:PORT"), else None."""
    addr = (compute or {}).get("dask_scheduler") if isinstance(compute, dict) else None
    if not isinstance(addr, str) or not addr.startswith("tcp://"):
        return None
    port = addr.rsplit(":", 1)[-1]
    return int(port) if port.isdigit() and 0 < int(port) < 65536 else None


def seal(project, tmp, landlock=True, allow_missing=False, port=None):
    """Lock this process down to project (Landlock, when landlock is true;
    else it was applied at spawn) and forbid execve.
    Returns (ok, layers, message): ok false means the bind must be refused.
    allow_missing accepts layers this machine lacks (and a missing library),
    never a seal that failed."""
    if os.environ.get("DAA_KERNEL_UNSANDBOXED") == "1":
        return True, {"seal": "missing (test mode: DAA_KERNEL_UNSANDBOXED=1)"}, ""
    if not helper_gone():
        return False, {"mount helper": "failed: still running after %g s" % HELPER_WAIT_S}, \
            "sandbox seal failed: the kernel's mount helper had not ended after %g s" % HELPER_WAIT_S
    fn, why = _library()
    if fn is None:
        return allow_missing, {"seal": "missing: " + why}, "sandbox seal unavailable: " + why
    if allow_missing:   # the library then applies every layer it can, skipping the rest
        os.environ["DAA_SBX_ALLOW_MISSING"] = "1"
    # the Dask scheduler's port: sbx_seal's Landlock allows connect() to it
    # (the spawn policy must have allowed it too: rulesets only intersect)
    os.environ.pop("DAA_SBX_CONNECT_PORT", None)
    if port:
        os.environ["DAA_SBX_CONNECT_PORT"] = str(port)
    rc, report = _call(fn, project, tmp, landlock)
    layers = parse_report(report) or {"seal": report or "no report"}
    if rc != 0:
        return False, layers, "sandbox seal failed: " + (report.strip() or "no report")
    bad = _missing(layers)
    if bad and not allow_missing:
        return False, layers, "sandbox layer(s) missing: " + "; ".join(
            "%s: %s" % (k, layers[k]) for k in bad)
    return True, layers, ""
