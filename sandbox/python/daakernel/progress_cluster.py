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
    `.compute()` too): before the real call it waits on the awaited futures
    in MIN_INTERVAL slices, and between slices asks the scheduler, over
    the client's own connection (no new process, no other port, no
    function sent), the state of those graphs' tasks.  Then the real call
    finds them finished;
  - `distributed.progress()`'s console bar (`TextProgressBar`, looked up
    by progress() at each call) first waits the same way.

done = tasks in memory, released after use, erred or forgotten (a key the
scheduler no longer knows once the graph arrived), total = the tasks of the
graphs of the awaited futures (a future whose graph is unknown counts as
one task).  A wait with a timeout, for the first of several futures, or
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
_state = {"rep": None, "patched": [], "sync": None, "to_futures": None}


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
    if name == "_wait" and args and kw.get("timeout") is None:
        return futures_of(args[0]) if kw.get("return_when", ALL_COMPLETED) == ALL_COMPLETED else None
    if name == "_gather" and args:
        return futures_of(args[0])
    return None


def _wait_reporting(client, futures, rep):
    """Wait until every future is done (finished, failed or cancelled),
    sending an event per MIN_INTERVAL at most.  True when any was sent."""
    from distributed.client import _wait
    pending = [f for f in futures if getattr(f, "client", None) is client and f.status == "pending"]
    if not pending:
        return False
    names = _task_names(client, [f.key for f in futures])
    total, sent, next_poll = len(names), False, 0.0
    while True:
        try:
            _state["sync"](client, _wait, pending, timeout=MIN_INTERVAL)
            return sent
        except (asyncio.TimeoutError, TimeoutError):
            pass
        except Exception:      # cancelled, lost connection: the real call says so
            return sent
        runner.raise_lost_interrupt()   # a SIGINT swallowed by a Future's __del__
        now = time.monotonic()
        if names is None or now < next_poll:
            continue
        try:
            done = _cluster_done(client, names)
        except KeyboardInterrupt:
            raise
        except Exception:   # an older scheduler, a lost connection: no progress
            names = None
            continue
        next_poll = now + 4 * (time.monotonic() - now)   # a big graph: ask less often
        if done is not None and rep.emit(min(done, total), total):
            sent = True


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
    rep = None if asynchronous or callback_timeout is not None else _watching(client)
    try:
        futures = _awaited(func, args, kw) if rep is not None else None
        sent = _wait_reporting(client, futures, rep) if futures else False
    except KeyboardInterrupt:
        raise
    except Exception:   # progress never breaks the wait: the real call does it
        futures, sent = None, False
    out = real(client, func, *args, asynchronous=asynchronous, callback_timeout=callback_timeout, **kw)
    if sent:
        _end_full(client, futures, rep)
    return out


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
    _state.update(rep=rep, sync=Client.sync, to_futures=Client._graph_to_futures)
    _patch(Client, "sync", _sync_hook)
    _patch(Client, "_graph_to_futures", _to_futures_hook)
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
