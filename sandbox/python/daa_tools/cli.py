"""The entry points behind the daemon's profile.run / model.run methods: pick
the dataset from the kernel's `dfs`, run profile() / model(), and print one
line `\\x1edaa-json <compact JSON>` for the daemon to parse.  summarize() is
the one profile path: the kernel's `profile` request with `summary: true`
calls it too (sandbox/KERNEL.md)."""

import json
import os

MARK = "\x1edaa-json "


class ToolError(Exception):
    """A failure told to the user as a plain sentence: the daemon replies
    with the message alone (daemon/rpc/m_model.c), no type, no traceback."""


def _told(fn, what):
    """fn() with every ordinary exception turned into a ToolError sentence
    (KeyboardInterrupt passes: the daemon reports it as cancelled)."""
    try:
        return fn()
    except ToolError:
        raise
    except (LookupError, ValueError, TypeError) as e:
        msg = e.args[0] if len(e.args) == 1 and isinstance(e.args[0], str) else str(e)
        raise ToolError(msg) from None
    except Exception as e:      # noqa: BLE001 — scikit-learn/pandas internals
        raise ToolError("%s failed inside %s: %s" % (what, type(e).__module__.split(".")[0],
                                                      str(e).splitlines()[0] if str(e) else
                                                      type(e).__name__)) from None


def _pick(dfs, dataset, column=None):
    """(name, frame): the named dataset, else the only one, else the one with `column`."""
    names = sorted(dfs)
    if dataset:
        return str(dataset), dfs[dataset]
    if not names:
        raise LookupError("the project has no dataset: add one with `daa add FILE`")
    if len(names) == 1:
        return names[0], dfs[names[0]]
    if column is not None:
        having = [n for n in names if column in dfs[n].columns]
        if len(having) == 1:
            return having[0], dfs[having[0]]
    raise LookupError("the project has several datasets (%s): name one" % ", ".join(names))


def _emit(obj):
    """Print the marker line."""
    print(MARK + json.dumps(obj, default=str, ensure_ascii=False, allow_nan=False))


def _clean(v):
    """NaN/inf to None, recursively (strict JSON)."""
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def summarize(frame, name, images=True):
    """Run profile() on frame (HTML report in outputs/reports/, with charts
    unless images is false), write the
    full summary as JSON next to the report, return the compact summary
    (strict-JSON values; `report` relative to the working directory, the
    project in a kernel).  Used by profile() below and by the kernel's
    `profile` request with `summary: true`."""
    from . import profile as _profile
    s = _profile(frame, name, images=images)
    path = os.path.splitext(s["report"])[0] + ".json"

    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(_clean(dict(s)), f, default=str, ensure_ascii=False)
    from . import files
    files.write_all([(path, write)])
    cols = [{k: c.get(k) for k in ("name", "type", "dtype", "missing", "distinct", "warnings",
                                   "min", "max", "mean") if k in c} for c in s["columns"]]
    return _clean({"dataset": name, "rows": s["rows"], "columns": cols, "n_columns": s["n_columns"],
                   "duplicate_rows": s["duplicate_rows"], "memory_bytes": s["memory_bytes"],
                   "warnings": s["warnings"][:200], "notes": s["notes"], "report": s["report"],
                   "correlations": s["correlations"], "seconds": s["seconds"]})


def profile(dfs, dataset=None):
    """Profile a dataset of the project; emit the compact summary."""
    name, frame = _told(lambda: _pick(dfs, dataset), "the profile")
    _emit(_told(lambda: summarize(frame, name), "the profile"))


def model(dfs, target, dataset=None, features=None, kind="auto"):
    """Model a target of the project's dataset; emit the result."""
    from . import model as _model
    name, frame = _told(lambda: _pick(dfs, dataset, target), "the model")
    r = _told(lambda: _model(frame, target, features=features or None, kind=kind or "auto",
                             name=name), "the model")
    out = dict(r)
    out["dataset"] = name
    out["importances"] = dict(list(r["importances"].items())[:20])
    _emit(_clean(out))
