"""daa's Python kernel runtime (sandbox/KERNEL.md is its wire protocol).

Started by daad as `/usr/bin/python3 daa_kernel.py` with fd 3 a socketpair to
the daemon.  It imports the heavy libraries first (the warm spare), says
`ready`, then serves requests one at a time: bind (seal the sandbox, then
set up the project's namespace), exec, profile, vars, conventions, ping.
Closing the socket stops it.  No user code runs before a successful bind.

The cycle collector is off while the libraries import and back on before
`ready`, with what they built frozen (gc.freeze): collecting during the
imports cost about a fifth of a start's CPU (0.49 -> 0.39 s) for ~5,000
unreachable objects (about a megabyte, kept), and the ~165,000 objects the
libraries hold for the kernel's life are then skipped by every later full
collection."""

import gc

gc.disable()   # main() enables it (see above)

import fcntl  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I drops it

from daakernel import warm  # noqa: E402  (stdlib only until warm_up() runs)

CHANNEL_FD = 3
_BOUND_OPS = {"exec": "execute", "profile": "profile", "vars": "variables",
              "conventions": "conventions", "cache": "cache"}   # Session methods; need a bound kernel


def _channel_fd():
    """Move the daemon's socket from fd 3 to a high, close-on-exec fd so
    user code that closes or reuses low fds cannot cut the kernel off."""
    for low in (200, 10):   # 10 when RLIMIT_NOFILE is tiny
        try:
            fd = fcntl.fcntl(CHANNEL_FD, fcntl.F_DUPFD_CLOEXEC, low)
            break
        except OSError as e:
            err = e
    else:
        sys.stderr.write("daa_kernel: fd %d is not usable (%s); it is started by daad "
                         "with its socket on fd 3\n" % (CHANNEL_FD, err))
        sys.exit(2)
    os.close(CHANNEL_FD)
    return fd


def _error(e, kind=None):
    """A request-level error map {type, message, traceback}."""
    return {"type": kind or type(e).__name__, "message": str(e), "traceback": ""}


def handle(sess, msg):
    """One request -> its reply map (never raises for bad input)."""
    from daakernel.session import BindError
    if not isinstance(msg, dict):
        return {"id": None, "ok": False,
                "error": _error(ValueError("a request must be a map"), "ProtocolError")}
    rid, op = msg.get("id"), msg.get("op")
    try:
        if op == "ping":
            return {"id": rid, "ok": True, "bound": sess.bound}
        if op == "bind":
            return dict(sess.bind(msg), id=rid, ok=True)
        if op in _BOUND_OPS:
            if not sess.bound:
                raise PermissionError("kernel is not bound to a project (send bind first)")
            reply = getattr(sess, _BOUND_OPS[op])(msg)
            reply.setdefault("ok", True)
            reply["id"] = rid
            return reply
        raise ValueError("unknown op %r (expected bind, exec, profile, vars, conventions, cache, ping)" % (op,))
    except BindError as e:
        layers = e.args[1] if len(e.args) > 1 else {}
        return {"id": rid, "ok": False, "layers": layers,   # layers: the seal refused
                "error": _error(Exception(e.args[0]), "SandboxError" if layers else "BindError")}
    except (Exception, KeyboardInterrupt, MemoryError, RecursionError) as e:
        return {"id": rid, "ok": False, "error": _error(e)}


def main():
    """Warm up, announce readiness, serve until the daemon closes the socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # nothing to interrupt while warming
    fd = _channel_fd()
    try:
        libs = warm.warm_up(plots="--plots-on-demand" not in sys.argv[1:])
        import msgpack
        from daakernel import progress, runner
        from daakernel.session import Session
        from daakernel.wire import Channel
    except ImportError as e:
        sys.stderr.write("daa_kernel: a required library is missing: %s (install the Debian "
                         "packages: make deps)\n" % e)
        return 2
    gc.freeze()
    gc.enable()
    signal.signal(signal.SIGINT, runner._on_sigint)   # pending until a step is armed
    chan, sess = Channel(fd), Session()
    chan.send(warm.ready_event(libs))
    progress.set_sender(chan.send)   # Dask progress events while a step runs
    try:
        for msg in chan.messages():
            reply = handle(sess, msg)
            runner.reply_ready()   # a SIGINT from here on is for the next request (runner.py)
            chan.send(reply)
    except (ValueError, msgpack.UnpackException) as e:   # a daemon bug: say so, stop
        sys.stderr.write("daa_kernel: malformed message from the daemon: %s\n" % e)
        return 3
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
