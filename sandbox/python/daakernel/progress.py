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
scheduler and these local callbacks never fire: while a step runs, the
client's get() (what .compute() and dask.compute() call) is wrapped
(_ClusterWatch) so that the main thread waits on the futures in short
slices and between them asks the scheduler, over the client's own
connection to it (no new process, no other port), the state of the
graph's tasks: done = those finished (in memory, released after use,
forgotten).  Futures the user keeps (client.compute, persist) are not
followed."""

import threading
import time

MIN_INTERVAL = 0.25   # seconds between two events (at most 4 per second)

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

    class ProgressCallback(Callback):
        def _start_state(self, dsk, state):
            try:
                rep.frames.append([time.monotonic(), _counts(state)[1], False])
            except Exception:
                pass

        def _posttask(self, key, result, dsk, state, worker_id):
            try:
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


_DONE_STATES = frozenset(("memory", "released", "erred", "forgotten"))


def _graph_keys(dsk):
    """The scheduler's names of all tasks of a graph (None if unknown);
    a HighLevelGraph lists them without being built."""
    try:
        from dask.utils import stringify
        keys = dsk.get_all_external_keys() if hasattr(dsk, "get_all_external_keys") else dsk.keys()
        return [stringify(k) for k in keys] or None
    except Exception:
        return None


def _cluster_done(client, keys):
    """How many of keys the scheduler has finished; None while it knows
    none of them yet (the graph not arrived).  A key it no longer knows
    once the graph arrived was finished and forgotten."""
    states = client.sync(client.scheduler.get_task_status, keys=keys)
    if all(v is None for v in states.values()):
        return None
    return sum(1 for v in states.values() if v is None or v in _DONE_STATES)


class _ClusterWatch:
    """Progress of the computations a distributed Client's get() runs
    during one request: installed as the client's `get` while the request
    runs, removed after."""

    def __init__(self, client, rep):
        self.client, self.rep = client, rep

    def install(self):
        self.client.get = self.get

    def uninstall(self):
        if self.client.__dict__.get("get") == self.get:
            del self.client.__dict__["get"]

    def get(self, dsk, keys, **kw):
        """Client.get with progress: the futures made without waiting,
        waited on here, then gathered and released as Client.get does."""
        orig = type(self.client).get
        if (not kw.get("sync", True) or kw.get("asynchronous") or self.rep.closed
                or threading.current_thread() is not threading.main_thread()):
            return orig(self.client, dsk, keys, **kw)
        names = _graph_keys(dsk)
        kw["sync"] = False
        packed = orig(self.client, dsk, keys, **kw)
        from distributed import futures_of
        futures = futures_of(packed)
        try:
            total = self._wait(futures, names)
            result = self.client.gather(packed, direct=kw.get("direct"))
            if total:   # a computation that reported ends full (not when it failed)
                self.rep.emit(total, total, force=True)
            return result
        finally:
            for f in futures:
                f.release()

    def _wait(self, futures, names):
        """Until all futures are done (finished or failed); an event per
        MIN_INTERVAL at most.  Returns the total when any was sent, else 0."""
        import asyncio
        from distributed import wait
        total, sent, next_poll = len(names or ()), False, 0.0
        while True:
            try:
                wait(futures, timeout=MIN_INTERVAL)
                break
            except (asyncio.TimeoutError, TimeoutError):
                pass
            now = time.monotonic()
            if not names or now < next_poll:
                continue
            try:
                done = _cluster_done(self.client, names)
            except KeyboardInterrupt:
                raise
            except Exception:   # an older scheduler, a lost connection: no progress
                names = None
                continue
            next_poll = now + 4 * (time.monotonic() - now)   # a big graph: ask less often
            if done is not None and self.rep.emit(min(done, total), total):
                sent = True
        return total if sent else 0


class reporting:
    """Context manager: Dask progress of request `rid` is reported inside."""

    def __init__(self, rid, has_dask=False):
        """has_dask: the session has Dask-backed datasets (dask is then
        imported here; otherwise only when user code already imported it)."""
        self.cb = self.watch = None
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
                from . import outofcore
                client = outofcore.ooc_client()
                if client is not None:
                    self.watch = _ClusterWatch(client, self.rep)
                    self.watch.install()
            except Exception:
                self.watch = None
        return self

    def __exit__(self, *exc):
        if self.cb is not None:
            self.rep.closed = True
            try:
                self.cb.unregister()
            except Exception:
                pass
        if self.watch is not None:
            self.watch.uninstall()
        return False
