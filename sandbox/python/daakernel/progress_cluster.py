"""Progress of Dask work on a dask.distributed cluster (sandbox/KERNEL.md,
"Progress on the cluster").  The local callbacks of progress.py never see
work that a scheduler runs, so while a request runs (progress.reporting)
the Client class is patched where all of its work goes through:

  - `_graph_to_futures`, which sends every graph (`.compute()`,
    `dask.compute`, `client.compute`, `client.persist`, `dask.persist`,
    `client.submit`/`map`): it remembers, for each future it returns, the
    names of its graph's tasks (and of the graphs of futures the graph
    uses: `dask.persist(x)` then `.compute()` counts the persisted work);
  - `sync`, through which the main thread blocks on the cluster
    (`Future.result()`, `distributed.wait`, `client.gather`, hence a
    `.compute()` too), also with a timeout: before the real call it waits
    on the awaited futures in MIN_INTERVAL slices (never past the
    caller's timeout), and between slices asks the scheduler, over the
    client's own connection (no new process, no other port, no function
    sent), the state of those graphs' tasks.  Then the real call finds
    them finished (or the timeout passed: it raises as it would have);
  - `distributed.progress()`'s console bar (`TextProgressBar`, looked up
    by progress() at each call) first waits the same way;
  - `as_completed.__next__` (a `for` over it, `next()`, `next_batch`,
    `batches`), which waits on a condition rather than through `sync`: it
    waits the same way; one as_completed is one computation, its total
    the tasks of every future it was given (`add` ones too).

done = tasks in memory, released after use, erred or forgotten (a key the
scheduler no longer knows once the graph arrived), total = the tasks of the
graphs of the awaited futures (a future whose graph is unknown counts as
one task).  A wait for the first of several futures (FIRST_COMPLETED) or
off the main thread is left alone.  SIGINT stops a slice at once (what
happens to the futures is the caller's: .compute() releases them, the
runtime cancels the ones an interrupted step made).  An error asking the
scheduler ends that wait's progress, never the wait."""

import asyncio
import threading
import time
import weakref

from . import runner
from .progress import MIN_INTERVAL

_DONE_STATES = frozenset(("memory", "released", "erred", "forgotten"))
_MISSING = object()
_graphs = weakref.WeakKeyDictionary()   # Client -> _Graphs
_followed = weakref.WeakKeyDictionary()   # as_completed -> _Series
_state = {"rep": None, "patched": [], "sync": None, "to_futures": None, "next": None}


class _Graphs:
    """A client's futures: {key: names of its graph's tasks}, and the table's
    size after the last clean-up."""

    def __init__(self):
        self.of, self.kept = {}, 64


def _graph_keys(dsk):
    """The keys of all tasks of a graph (a HighLevelGraph lists them without
    being built), or () when unknown."""
    try:
        keys = dsk.get_all_external_keys() if hasattr(dsk, "get_all_external_keys") else dsk.keys()
        return list(keys)
    except Exception:
        return ()


def _task_names(client, keys):
    """Scheduler names (stringified keys) of the tasks behind `keys`: each
    key, plus the recorded graph of a key that is a future's."""
    from dask.utils import stringify
    g = _graphs.get(client)
    known, names, seen = (g.of if g is not None else {}), set(), set()
    for k in keys:
        names.add(stringify(k))
        g = known.get(k)
        if g is not None and id(g) not in seen:
            seen.add(id(g))
            names.update(g)
    return frozenset(names)


def _record(client, dsk, futures):
    """Remember the graph's task names for each future made from it; keys
    of released futures are dropped when the table has doubled."""
    try:
        names = _task_names(client, _graph_keys(dsk))
        g = _graphs.setdefault(client, _Graphs())
        for key in futures:
            g.of[key] = names
        if len(g.of) > 2 * g.kept:
            live = client.futures
            for key in [k for k in g.of if k not in live]:
                del g.of[key]
            g.kept = max(64, len(g.of))
    except Exception:
        pass


def _cluster_done(client, names):
    """How many of names the scheduler has finished; None while it knows
    none of them (the graph not arrived)."""
    states = _state["sync"](client, client.scheduler.get_task_status, keys=list(names))
    if all(v is None for v in states.values()):
        return None
    return sum(1 for v in states.values() if v is None or v in _DONE_STATES)


def _awaited(func, args, kw):
    """The futures a blocking call waits on for all of them, else None."""
    from distributed.client import ALL_COMPLETED, Future, futures_of
    name = getattr(func, "__name__", "")
    if name == "_result":
        f = getattr(func, "__self__", None)
        return [f] if isinstance(f, Future) else None
    if name == "_wait" and args:
        return futures_of(args[0]) if kw.get("return_when", ALL_COMPLETED) == ALL_COMPLETED else None
    if name == "_gather" and args:
        return futures_of(args[0])
    return None


def _timeout(func, kw, callback_timeout):
    """The seconds the caller's wait may last (`wait(timeout=)`,
    `result(timeout=)`), or None."""
    from distributed.utils import parse_timedelta
    t = kw.get("timeout") if getattr(func, "__name__", "") == "_wait" else callback_timeout
    return None if t is None else parse_timedelta(t, "s")


def _wait_reporting(client, futures, rep, deadline=None):
    """Wait until every future is done (finished, failed or cancelled) or
    the deadline (time.monotonic()) passes, sending an event per
    MIN_INTERVAL at most.  True when any was sent."""
    pending = [f for f in futures if getattr(f, "client", None) is client and f.status == "pending"]
    if not pending:
        return False
    series = _Series(client, [f.key for f in futures])
    while True:
        left = MIN_INTERVAL if deadline is None else min(MIN_INTERVAL, deadline - time.monotonic())
        if left <= 0:
            return series.sent
        if _wait_slice(client, pending, left):
            return series.sent
        series.report(rep)


def _wait_slice(client, pending, seconds):
    """Wait up to `seconds` for all of pending; True when the wait is over
    (all done, or an error the real call will report), False on time out."""
    from distributed.client import _wait
    try:
        _state["sync"](client, _wait, pending, timeout=seconds)
        return True
    except (asyncio.TimeoutError, TimeoutError):
        pass
    except Exception:      # cancelled, lost connection: the real call says so
        return True
    runner.raise_lost_interrupt()   # a SIGINT swallowed by a Future's __del__
    return False


class _Series:
    """The progress of one wait: the task names of its futures' graphs,
    asked of the scheduler at most every MIN_INTERVAL (less often when the
    question takes long: a big graph)."""

    def __init__(self, client, keys):
        self.client, self.names = client, set(_task_names(client, keys))
        self.sent, self.failed, self.next_poll = False, False, 0.0

    def add(self, keys):
        if self.names is not None:
            self.names.update(_task_names(self.client, keys))

    def report(self, rep):
        now = time.monotonic()
        if self.names is None or now < self.next_poll:
            return
        try:
            done = _cluster_done(self.client, self.names)
        except KeyboardInterrupt:
            raise
        except Exception:   # an older scheduler, a lost connection: no progress
            self.names = None
            return
        self.next_poll = now + 4 * (time.monotonic() - now)
        total = len(self.names)
        if done is not None and rep.emit(min(done, total), total):
            self.sent = True


def _watching(client):
    """The reporter when this call may wait with progress, else None."""
    rep = _state["rep"]
    if (rep is None or rep.closed or getattr(client, "asynchronous", False)
            or threading.current_thread() is not threading.main_thread()):
        return None
    return rep


def _sync_hook(client, func, *args, asynchronous=None, callback_timeout=None, **kw):
    """Client.sync with progress for the waits of _awaited."""
    real = _state["sync"]
    rep = None if asynchronous else _watching(client)
    futures, sent, deadline = None, False, None
    try:
        futures = _awaited(func, args, kw) if rep is not None else None
        if futures:
            limit = _timeout(func, kw, callback_timeout)
            deadline = None if limit is None else time.monotonic() + limit
            sent = _wait_reporting(client, futures, rep, deadline)
    except KeyboardInterrupt:
        raise
    except Exception:   # progress never breaks the wait: the real call does it
        futures, sent, deadline = None, False, None
    if deadline is not None:
        callback_timeout, kw = _timeout_left(func, futures, deadline, callback_timeout, kw)
    out = real(client, func, *args, asynchronous=asynchronous, callback_timeout=callback_timeout, **kw)
    if sent:
        _end_full(client, futures, rep)
    return out


def _timeout_left(func, futures, deadline, callback_timeout, kw):
    """The real call's timeouts after a wait that had a deadline: what is
    left of the caller's.  `wait(timeout=)` with futures still pending gets
    what is left (0: it raises TimeoutError as it would have), without
    none (it returns at once); `result(timeout=)` past its deadline raises
    TimeoutError as distributed's sync does, else gets what is left (at
    least MIN_INTERVAL: the result still has to come back)."""
    left = deadline - time.monotonic()
    pending = any(f.status == "pending" for f in futures)
    if getattr(func, "__name__", "") == "_wait":
        return callback_timeout, dict(kw, timeout=max(left, 0) if pending else None)
    if pending and left <= 0:
        from distributed.utils import parse_timedelta
        raise asyncio.TimeoutError("timed out after %s s." % parse_timedelta(callback_timeout, "s"))
    return max(left, MIN_INTERVAL), kw


def _end_full(client, futures, rep):
    """The last event (done == total) of a wait that reported, only when
    every awaited future finished (not when one failed or was cancelled)."""
    try:
        if all(f.status == "finished" for f in futures):
            total = len(_task_names(client, [f.key for f in futures]))
            rep.emit(total, total, force=True)
    except KeyboardInterrupt:
        raise
    except Exception:
        pass


def _to_futures_hook(client, dsk, keys, *args, **kw):
    """Client._graph_to_futures, remembering the graph of its futures."""
    futures = _state["to_futures"](client, dsk, keys, *args, **kw)
    _record(client, dsk, futures)
    return futures


def _bar_class(real):
    """TextProgressBar that first waits with daa's progress events."""
    class WatchedTextProgressBar(real):
        def __init__(self, keys, *args, start=True, **kw):
            try:
                fs = [f for f in keys if hasattr(f, "client") and hasattr(f, "status")]
                client = fs[0].client if fs else None
                rep = _watching(client) if start and client is not None else None
                if rep is not None and _wait_reporting(client, fs, rep):
                    _end_full(client, fs, rep)
            except KeyboardInterrupt:
                raise
            except Exception:
                pass
            super().__init__(keys, *args, start=start, **kw)
    return WatchedTextProgressBar


def _next_hook(ac):
    """as_completed.__next__ that waits with daa's progress events first."""
    real = _state["next"]
    try:
        with ac.lock:   # those to come, and those ready but not taken yet
            futures = list(ac.futures) + [q[0] if isinstance(q, tuple) else q
                                          for q in list(ac.queue.queue)]
        client = futures[0].client if futures else None
        rep = _watching(client) if client is not None else None
        if rep is not None:
            _wait_next(ac, client, futures, rep)
    except KeyboardInterrupt:
        raise
    except Exception:
        pass
    try:
        got = real(ac)
    except StopIteration:
        raise
    except BaseException:   # a future's error (with_results), an interrupt
        series = _followed.get(ac)
        if series is not None:
            series.failed = True
        raise
    try:
        _after_next(ac, got)
    except Exception:
        pass
    return got


def _wait_next(ac, client, futures, rep):
    """Wait (as as_completed does: on its condition, a slice at a time)
    until one of ac's futures is ready, reporting the progress of all it
    was given."""
    series = _followed.get(ac)
    if series is None:
        series = _followed[ac] = _Series(client, [])
    series.add([f.key for f in futures if getattr(f, "client", None) is client])
    while ac.queue.empty() and not ac.is_empty():
        with ac.thread_condition:
            ac.thread_condition.wait(timeout=0.1)
        runner.raise_lost_interrupt()
        series.report(rep)


def _after_next(ac, got):
    """After a future came out of ac: the last event (done == total) when
    it was the last one and every one finished."""
    series = _followed.get(ac)
    if series is None:
        return
    f = got[0] if isinstance(got, tuple) else got
    if getattr(f, "status", "finished") != "finished":
        series.failed = True
    rep = _state["rep"]
    if rep is not None and ac.is_empty() and series.sent and not series.failed and series.names:
        rep.emit(len(series.names), len(series.names), force=True)


def _patch(owner, name, value):
    """Set owner.name (class or module), remembering what to put back."""
    _state["patched"].append((owner, name, owner.__dict__.get(name, _MISSING)))
    setattr(owner, name, value)


def install(rep):
    """Patch distributed (when imported) for the request of reporter rep."""
    import sys
    mod = sys.modules.get("distributed.client")
    if mod is None or _state["patched"]:
        return
    Client = mod.Client
    _state.update(rep=rep, sync=Client.sync, to_futures=Client._graph_to_futures,
                  next=mod.as_completed.__next__)
    _patch(Client, "sync", _sync_hook)
    _patch(Client, "_graph_to_futures", _to_futures_hook)
    _patch(mod.as_completed, "__next__", _next_hook)
    _patch(mod.as_completed, "next", _next_hook)
    bars = sys.modules.get("distributed.diagnostics.progressbar")
    if bars is not None:
        _patch(bars, "TextProgressBar", _bar_class(bars.TextProgressBar))


def uninstall():
    """Undo install (in reverse order)."""
    while _state["patched"]:
        owner, name, old = _state["patched"].pop()
        if old is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, old)
    _state["rep"] = None
