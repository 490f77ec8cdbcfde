"""A kernel's state once bound to a project: the sealed sandbox, the working
directory, the persistent namespace (pd, np, plt, dfs, df, show/display) and
the handlers for exec, profile, vars and conventions.  An unbound kernel
runs no user code."""

import builtins
import difflib
import os
import sys
import tempfile
import time
import types

import numpy as np
import pandas as pd

from . import datasets, figures, lazyplot, outofcore, preview, profiling, progress, runner, seal

try:                                # profiling/modeling helpers (sandbox/python/daa_tools)
    import daa_tools
except ImportError:                 # pragma: no cover - a broken install still runs steps
    daa_tools = None

DEFAULT_MAX_OUTPUT = 65536
MAX_OUTPUT_CAP = 16 << 20


class BindError(Exception):
    """The bind request cannot be honoured; the message says why."""


def _abs_dir(req, key, default=None):
    """An absolute directory path from the request (created if missing)."""
    path = req.get(key) or default
    if not isinstance(path, str) or not os.path.isabs(path):
        raise BindError("bind: `%s` must be an absolute path (got %r)" % (key, path))
    os.makedirs(path, exist_ok=True)
    return os.path.realpath(path)


def _dataset_list(req, project):
    """The request's datasets (paths made absolute) or those found in data/."""
    listed = req.get("datasets")
    if not isinstance(listed, list):
        return datasets.scan(project)
    out = []
    for d in listed:
        if isinstance(d, dict) and isinstance(d.get("name"), str) and isinstance(d.get("path"), str):
            out.append({"name": d["name"], "path": os.path.join(project, d["path"]),
                        "format": d.get("format")})
    return out


class Session:
    """The bound kernel (one per process)."""

    def __init__(self):
        self.bound = False
        self.project = self.plots = self.tmp = None
        self.ns = {}
        self.dfs = None
        self.df_name = None
        self.df_state = "none"    # none | pending | loaded
        self._fig_begin, self._fig_save, self._fig_results = figures.make_saver()
        self._current = [None]   # the Step in progress (show/display reach only this)
        self.counter = 0
        self.filenames = set()
        self.step = None

    def bind(self, req):
        """Seal, chdir and build the namespace; returns the reply fields."""
        if self.bound:
            raise BindError("bind: this kernel is already bound to %s" % self.project)
        if not isinstance(req.get("project"), str) or not os.path.isdir(req["project"]):
            raise BindError("bind: project %r is not a directory" % (req.get("project"),))
        project = os.path.realpath(req["project"])
        outputs = _abs_dir(req, "outputs", os.path.join(project, "outputs"))
        plots = _abs_dir({"p": os.path.join(outputs, "plots")}, "p")
        tmp = _abs_dir(req, "tmp", os.path.join(project, ".daa", "tmp"))
        sb = req.get("sandbox") if isinstance(req.get("sandbox"), dict) else {}
        compute = req.get("compute") if isinstance(req.get("compute"), dict) else {}
        ok, layers, msg = seal.seal(project, tmp, bool(sb.get("landlock", True)),
                                    bool(sb.get("allow_missing", False)), seal.connect_port(compute))
        if not ok:
            raise BindError(msg + " (refusing to run user code unconfined; the config "
                            "setting sandbox.allow_missing_layers overrides)", layers)
        os.chdir(project)
        os.environ["TMPDIR"] = tmp
        tempfile.tempdir = tmp
        self.project, self.plots, self.tmp = project, plots, tmp
        if daa_tools is not None:
            daa_tools.set_outputs(outputs)
        self._namespace(_dataset_list(req, project), req.get("conventions"),
                        datasets.trusted_hashes(req.get("cache")), compute)
        self.bound = True
        return {"layers": layers, "datasets": sorted(self.dfs),
                "df": self.df_name, "dask": sorted(n for n in self.dfs if self.dfs.is_dask(n))}

    def _namespace(self, dsets, conventions, trusted=None, compute=None):
        """pd, np, plt, matplotlib, dfs, show/display, and df (lazily)."""
        self.dfs = datasets.DatasetMap(dsets, conventions if isinstance(conventions, dict) else {},
                                       trusted, compute)
        self.df_name = dsets[0]["name"] if len(dsets) == 1 else None
        self.df_state = "pending" if self.df_name else "none"
        self.ns = {"__name__": "__main__", "__builtins__": builtins,
                   "pd": pd, "np": np, "dfs": self.dfs, "show": None, "display": None}
        # the modules, or stand-ins importing them at first use (lazyplot.py)
        self.ns["plt"] = lazyplot.module_or_stand_in(lazyplot.PYPLOT, self.ns, "plt")
        self.ns["matplotlib"] = lazyplot.module_or_stand_in("matplotlib", self.ns, "matplotlib")
        self.ns["show"] = self.ns["display"] = _make_show(self._current)
        if daa_tools is not None:
            self.ns["daa_tools"] = daa_tools
        figures.install(self._fig_save)
        pd.set_option("display.max_rows", 20)
        pd.set_option("display.max_columns", 30)
        pd.set_option("display.width", 120)

    def _lazy_df(self, names):
        """Load `df` the first time a step mentions it (single-dataset projects)."""
        if "df" not in names:
            return
        if self.df_state == "pending" and "df" not in self.ns:
            try:
                self.ns["df"] = self.dfs[self.df_name]
                self.df_state = "loaded"
            except datasets.DatasetError as e:   # stays pending: retried next time
                print("note: `df` is not defined: %s" % e, file=self.step.err)
        elif self.df_state == "none" and "df" not in self.ns and len(self.dfs) > 1:
            print("note: `df` is defined only when the project has one dataset; use "
                  "dfs[NAME] (datasets: %s)" % ", ".join(sorted(self.dfs)), file=self.step.err)

    def _filename(self, step):
        """'<step>' for tracebacks; made unique when a step name repeats so
        functions defined by earlier steps keep their own source lines."""
        name, n = "<%s>" % step, 1
        while name in self.filenames:
            n += 1
            name = "<%s#%d>" % (step, n)
        self.filenames.add(name)
        return name

    def _has_dask(self):
        """Is dask in use, or does any dataset of the project load as a
        Dask DataFrame (a stat per dataset)?"""
        try:
            return "dask" in sys.modules or any(self.dfs.is_dask(n) for n in self.dfs)
        except Exception:
            return False

    def execute(self, req):
        """The exec request: reply fields {stdout, stderr, truncated, result,
        tables, figures, error, duration_ms}."""
        t0 = time.perf_counter()
        self.counter += 1
        code = req.get("code")
        if not isinstance(code, str):
            raise TypeError("exec: `code` must be a string")
        max_out = req.get("max_output")
        max_out = DEFAULT_MAX_OUTPUT if not isinstance(max_out, int) or max_out <= 0 \
            else min(max_out, MAX_OUTPUT_CAP)
        step = runner.step_name(req.get("step"), self.counter)
        try:
            os.chdir(self.project)   # steps assume the project folder, whatever earlier ones did
        except OSError:
            pass
        self.step = st = runner.Step(max_out)
        self._current[0] = st
        self._fig_begin(step, self.plots, self.project)
        filename = self._filename(step)
        runner.register_source(filename, code)
        runner.install_sigint()
        try:
            compiled = runner.prepare(code, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            st.error = runner.format_error(e)
        else:
            futures = outofcore.ooc_futures()
            with progress.reporting(req.get("id"), self._has_dask()):
                runner.run_user(st, self.ns, compiled, self._lazy_df, self._fig_save)
            if (st.error or {}).get("type") == "KeyboardInterrupt":
                n = outofcore.ooc_cancel_since(futures)
                if n:
                    st.err.write("note: interrupted: %d computation(s) this step started on the "
                                 "Dask cluster were cancelled\n" % n)
        if st.exc is not None:
            hint = _column_hint(st.exc, self.ns, self.dfs)
            if hint:
                st.error["hint"] = hint
            st.exc = None
        if _out_of_memory(st.error):
            _memory_hint(st.error)
        saved, fig_notes = self._fig_results()
        for note in self.dfs.take_notes() + fig_notes:
            st.err.write("note: %s\n" % note)
        self.step = self._current[0] = None
        return {"ok": st.error is None, "stdout": st.out.text(), "stderr": st.err.text(),
                "truncated": st.out.truncated or st.err.truncated,
                "result": st.result, "tables": st.tables, "figures": saved,
                "error": st.error,
                "duration_ms": round((time.perf_counter() - t0) * 1000, 3)}

    def profile(self, req):
        """The profile request: a dataset (or a DataFrame variable) described;
        with `summary: true` also daa_tools' report and compact summary.
        The Dask computations of a Dask-backed dataset's profile send
        `progress` events like a step's (progress.py).
        Interruptible like a step: SIGINT → a KeyboardInterrupt error reply,
        the namespace kept."""
        name = req.get("dataset")
        if not isinstance(name, str) and self.df_name:
            name = self.df_name
        if not isinstance(name, str):
            raise ValueError("profile: `dataset` (a name) is required; datasets: %s"
                             % ", ".join(sorted(self.dfs)))
        try:
            os.chdir(self.project)   # report paths are relative to the project
        except OSError:
            pass
        figs = figures.open_numbers()
        try:
            with progress.reporting(req.get("id"), self._has_dask()):   # a Dask dataset's passes
                return runner.run_armed(self._profile, name, req)
        except KeyboardInterrupt as e:
            return {"ok": False, "error": runner.interrupt_error(e, "profile")}
        finally:
            figures.close_new(figs)   # charts an interrupt left open

    def _profile(self, name, req):
        """The profile's work (runs armed): load, describe, summarize."""
        var = self.ns.get(name)
        if isinstance(var, pd.DataFrame) and name not in self.dfs:
            frame = var
        else:
            try:
                frame = self.dfs[name]
            except KeyError as e:
                raise LookupError(e.args[0]) from None
        want_samples = req.get("samples", True) is not False
        if outofcore.is_dask(frame):
            reason = self.dfs.dask_reason(name) if name in self.dfs else None
            prof, frame = profiling.profile_dask(frame, name, want_samples, reason)
        else:
            prof = profiling.profile(frame, name, want_samples)
        notes = prof.pop("notes", []) + self.dfs.take_notes()
        if notes:
            prof["notes"] = notes   # e.g. values a date format did not fit
        out = {"profile": prof}
        if req.get("summary") is True:
            out.update(_summary(frame, name, images=req.get("images") is not False))
            if prof.get("backend") == "dask" and isinstance(out.get("summary"), dict):
                out["summary"]["rows"], out["summary"]["sample_rows"] = prof["rows"], prof["sample_rows"]
                out["summary"].setdefault("notes", []).insert(0, (
                    "computed on a sample of %d rows of a Dask-backed dataset (%d rows in all)"
                    % (prof["sample_rows"], prof["rows"])))
        return out

    def cache(self, req):
        """The cache request (sent by the daemon right after bind, before any
        user code): verify or build the large datasets' cache entries
        (datasets.build_cache); interruptible like a profile."""
        if self.counter:
            raise PermissionError("cache: only before the first step (user code may have "
                                  "changed the cache since)")
        t0 = time.perf_counter()
        try:
            out = runner.run_armed(datasets.build_cache, self.dfs)
        except KeyboardInterrupt as e:
            return {"ok": False, "error": runner.interrupt_error(e, "cache")}
        out["seconds"] = round(time.perf_counter() - t0, 3)
        return out

    def variables(self, req):
        """The vars request: user-made names with type and, for tables, shape
        and columns — context for the agent about what earlier steps built."""
        out = []
        for name, v in list(self.ns.items()):
            if name.startswith("_") or name in _PRESET or isinstance(v, types.ModuleType):
                continue
            item = {"name": name, "type": type(v).__name__}
            if preview.is_table(v):
                item["shape"] = [int(x) for x in (v.shape if v.ndim == 2 else (len(v), 1))]
                cols = v.columns if v.ndim == 2 else [v.name]
                item["columns"] = [preview.cell(str(c)) for c in list(cols)[:preview.PREVIEW_COLS]]
            elif not callable(v) or isinstance(v, (np.ndarray,)):
                item["repr"] = preview.capped_repr(v, 200)
            out.append(item)
            if len(out) >= 200:
                break
        return {"vars": out}

    def conventions(self, req):
        """The conventions request: new conventions for later loads; loaded
        datasets are dropped so they load again (and `df`, if it was the
        loaded frame, is reloaded at its next use)."""
        conv = req.get("conventions")
        if not isinstance(conv, dict):
            raise TypeError("conventions: `conventions` must be a map")
        old_df = self.dfs.cached(self.df_name) if self.df_name else None
        dropped = self.dfs.set_conventions(conv)
        if old_df is not None and self.ns.get("df") is old_df:
            del self.ns["df"]
            self.df_state = "pending"
        if isinstance(req.get("datasets"), list):
            self._refresh_datasets(_dataset_list(req, self.project))
        return {"reloaded": dropped, "datasets": sorted(self.dfs), "df": self.df_name}

    def _refresh_datasets(self, dsets):
        """The project's datasets changed (`daa add`): new names become
        loadable; `df` follows the one-dataset rule unless user code set it."""
        self.dfs.set_files(dsets)
        name = dsets[0]["name"] if len(dsets) == 1 else None
        if name == self.df_name:
            return
        if self.df_state == "loaded" and self.ns.get("df") is not None:
            if self.ns.get("df") is self.dfs.cached(self.df_name):
                del self.ns["df"]
        self.df_name = name
        self.df_state = "pending" if name else "none"


def _make_show(current):
    """show(x, name=None) / display: a table preview (DataFrame/Series) added
    to the step in progress, else the repr printed.  A closure over the
    one-item list holding that step: the Session is not reachable from it."""
    def show(obj, name=None):
        """show(x, name=None): add a table preview (DataFrame/Series) to the step."""
        if current[0] is not None:
            current[0].show(obj, name)
        else:
            print(repr(obj))
    return show


def _column_hint(exc, ns, dfs):
    """For KeyError('Revnue'): the close column names of the DataFrames in
    the namespace (and loaded datasets), so the agent can fix the name."""
    key = exc.args[0] if exc.args else None
    if not isinstance(key, str):
        return None
    frames = [(n, v) for n, v in ns.items() if isinstance(v, pd.DataFrame) and not n.startswith("_")]
    frames += [("dfs[%r]" % n, dfs.cached(n)) for n in dfs if dfs.cached(n) is not None]
    hints, seen = [], set()
    for name, f in frames:
        cols = [c for c in f.columns if isinstance(c, str)]
        close = difflib.get_close_matches(key, cols, n=3, cutoff=0.6) or \
            [c for c in cols if c.strip().lower() == key.strip().lower()]
        if close and id(f) not in seen:
            seen.add(id(f))
            hints.append("%s has %s" % (name, ", ".join(repr(c) for c in close)))
    return ("no column %r; close matches: %s" % (key, "; ".join(hints[:3]))) if hints else None


RESTART_HOW = ("later steps may run out too; `daa kernel restart` frees it (variables are "
               "lost, the history is replayed)")


def _out_of_memory(error):
    """Did the step run out of memory?  MemoryError, or pandas' C parser
    saying so (ParserError "C error: out of memory")."""
    if not error:
        return False
    return error.get("type") == "MemoryError" or (
        error.get("type") == "ParserError" and "out of memory" in (error.get("message") or ""))


def _vmdata_mb():
    """What the kernel holds under RLIMIT_DATA (VmData), in MiB; None if unknown."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _memory_hint(error):
    """After running out of memory: when the kernel still holds at least half
    of its limit (the step's variables, or memory the allocator kept), say
    so and how to get it back — in the message too, which a failed turn's
    answer quotes.  The message's addition has no numbers (the agent
    compares messages to see the same error twice)."""
    import gc
    import resource
    gc.collect()   # the failed step's frames are gone: what is left is held
    try:
        limit = resource.getrlimit(resource.RLIMIT_DATA)[0]
    except (OSError, ValueError):
        return
    held = _vmdata_mb()
    if limit == resource.RLIM_INFINITY or limit <= 0 or held is None or held < (limit >> 20) // 2:
        return
    error["hint"] = "%d MiB of the kernel's %d MiB memory limit are still held: %s" % (
        held, limit >> 20, RESTART_HOW)
    error["message"] = "%s (the kernel still holds most of its memory limit: %s)" % (
        error.get("message") or "out of memory", RESTART_HOW)


def _summary(frame, name, images=True):
    """{summary} from daa_tools (HTML report, JSON next to it; images false:
    a report without charts), or {summary_error: "Type: message"} when
    daa_tools fails on this frame — the light profile is kept either way.
    An interrupt propagates."""
    if daa_tools is None:
        return {"summary_error": "ImportError: daa_tools is not installed next to the kernel runtime"}
    try:
        from daa_tools import cli
        return {"summary": cli.summarize(frame, name, images=images)}
    except (Exception, MemoryError, RecursionError) as e:
        try:
            msg = str(e)
        except Exception:
            msg = "<unprintable message>"
        return {"summary_error": ("%s: %s" % (type(e).__name__, msg))[:2000]}


_PRESET = {"pd", "np", "plt", "matplotlib", "dfs", "show", "display", "daa_tools"}
