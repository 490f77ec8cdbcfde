"""Progress of Dask computations while a step runs (sandbox/KERNEL.md
`progress`): a dask.callbacks.Callback, active only while user code of an
exec runs or a `profile` request works (the passes over a Dask-backed
dataset), sends `{ev: "progress", req, done, total}` over the kernel's
channel.

Cheap and quiet: a computation that ends within MIN_INTERVAL sends nothing;
after that at most one event per MIN_INTERVAL, and the computation that sent
one also sends its last (done == total) when it finishes, so a client's bar
ends full.  The callbacks run in the thread that called .compute() (the
local scheduler's loop), i.e. the kernel's main thread; an event is written
with the interrupt held back (runner.shielded) so a SIGINT never cuts a
frame in half.  Any error in here is swallowed: progress never breaks a
computation.

On a dask.distributed cluster (compute.dask_scheduler) the work runs on the
scheduler and these local callbacks never fire: progress_cluster.py
follows it (every wait of the main thread on the cluster's futures:
.compute(), Future.result(), wait, gather, progress, as_completed, also
with a timeout), with the same reporter, so the same events and rate
limit."""

import os
import threading
import time


def _interval():
    """Seconds between two events: config kernel.progress_interval_ms, which
    daad passes as DAA_PROGRESS_INTERVAL_MS (0 to 60000); else 0.25."""
    try:
        ms = int(os.environ.get("DAA_PROGRESS_INTERVAL_MS", "250"))
    except ValueError:
        ms = 250
    return min(max(ms, 0), 60000) / 1000.0


MIN_INTERVAL = _interval()   # at most 4 events per second by default

_send = None          # Channel.send, set by daa_kernel.py


def set_sender(fn):
    """Where events go (the daemon's channel)."""
    global _send
    _send = fn


class _Reporter:
    """State of one exec: its request id and the time of the last event."""

    def __init__(self, rid):
        self.rid = rid
        self.last_sent = 0.0
        self.frames = []   # one [start, total, sent?] per nested compute
        self.closed = False

    def emit(self, done, total, force=False):
        """Send one event (False when too soon, closed, or off the main
        thread: only the main thread writes to the channel)."""
        if self.closed or threading.current_thread() is not threading.main_thread():
            return False
        now = time.monotonic()
        if not force and now - self.last_sent < MIN_INTERVAL:
            return False
        self.last_sent = now
        from . import runner
        runner.shielded(_send, {"ev": "progress", "req": self.rid,
                                "done": int(done), "total": int(total)})
        return True


def _counts(state):
    """(done, total) from the local scheduler's state dict."""
    done = len(state.get("finished", ()))
    total = done + sum(len(state.get(k, ())) for k in ("ready", "waiting", "running"))
    return done, total


def _make_callback(rep):
    """A dask Callback bound to one reporter (None when dask is absent)."""
    try:
        from dask.callbacks import Callback
    except Exception:
        return None
    from . import runner

    class ProgressCallback(Callback):
        def _start_state(self, dsk, state):
            try:
                rep.frames.append([time.monotonic(), _counts(state)[1], False])
            except Exception:
                pass

        def _posttask(self, key, result, dsk, state, worker_id):
            try:
                runner.raise_lost_interrupt()   # one swallowed by a __del__ (runner.py)
                fr = rep.frames[-1] if rep.frames else None
                if fr is None or time.monotonic() - fr[0] < MIN_INTERVAL:
                    return
                done, total = _counts(state)
                if total > 0 and rep.emit(done, total):
                    fr[2] = True
            except KeyboardInterrupt:
                raise
            except Exception:
                pass

        def _finish(self, dsk, state, errored):
            try:
                fr = rep.frames.pop() if rep.frames else None
                if fr is not None and fr[2] and not errored and fr[1] > 0:
                    rep.emit(fr[1], fr[1], force=True)
            except KeyboardInterrupt:
                raise
            except Exception:
                pass

    return ProgressCallback()


class reporting:
    """Context manager: Dask progress of request `rid` is reported inside."""

    def __init__(self, rid, has_dask=False):
        """has_dask: the session has Dask-backed datasets (dask is then
        imported here; otherwise only when user code already imported it)."""
        self.cb = None
        if _send is not None and isinstance(rid, int) and not isinstance(rid, bool):
            try:
                import sys
                if has_dask or "dask" in sys.modules:
                    self.rep = _Reporter(rid)
                    self.cb = _make_callback(self.rep)
            except Exception:
                self.cb = None

    def __enter__(self):
        if self.cb is not None:
            try:
                self.cb.register()
            except Exception:
                self.cb = None
        if self.cb is not None:
            try:
                from . import progress_cluster
                progress_cluster.install(self.rep)
            except Exception:
                pass
        return self

    def __exit__(self, *exc):
        if self.cb is not None:
            self.rep.closed = True
            try:
                self.cb.unregister()
            except Exception:
                pass
            try:
                from . import progress_cluster
                progress_cluster.uninstall()
            except Exception:
                pass
        return False
