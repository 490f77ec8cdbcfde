"""The warm spare's heavy imports: done once at start so binding a project and
the first step are fast.  The matplotlib backend is chosen before pyplot is
imported (Agg: files only, no display).  A kernel started for a project
that waits for it (plots=False: daa_kernel.py --plots-on-demand) leaves
matplotlib to the first step that plots (lazyplot.py): about 0.3 s of CPU
sooner ready, paid again only by a kernel that plots.  The optional
libraries (sklearn, openpyxl, scipy) are not imported here: most kernels
never use them and importing them doubled the start's CPU; the step that
needs one imports it (after the seal, which leaves the Python library
folders readable).  Their versions come from the installed packages'
metadata instead, read beside the module (not through importlib.metadata,
whose import cost more than the lookups)."""

import functools
import importlib.util
import io
import os
import platform
import re


def warm_up(plots=True):
    """Import pandas, numpy and (plots) matplotlib (Agg); find (without
    importing) sklearn, openpyxl and scipy, and matplotlib when not plots;
    return {name: version or None} for the ready event.  ImportError for
    the required ones propagates (matplotlib not found, too)."""
    import numpy
    import pandas
    plt = None
    if plots:
        import matplotlib
        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
        plt.switch_backend("Agg")   # resolve the backend now, not at the first plot
        mpl_version = matplotlib.__version__
    else:
        os.environ["MPLBACKEND"] = "Agg"   # for the import at the first plot, as matplotlib.use would
        mpl_version = _installed("matplotlib", "matplotlib")
        if mpl_version is None:
            raise ImportError(_errors.pop())
    _first_use(pandas, plt)
    libs = {"pandas": pandas.__version__, "numpy": numpy.__version__,
            "matplotlib": mpl_version}
    for name, dist in _OPTIONAL:
        libs[name] = _installed(name, dist)   # nil in the ready event when absent
    return libs


def _first_use(pd, plt):
    """Pay the first-call costs now (fonts, the Agg renderer and PNG writer,
    the CSV parser, frame formatting) instead of in the user's first step
    (the plotting ones only with plt)."""
    frame = pd.read_csv(io.StringIO("d,v\n2024-01-01,1.5\n2024-01-02,2\n"), parse_dates=["d"])
    repr(frame)
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot(frame["d"], frame["v"])
    ax.set_title("warm")
    fig.savefig(io.BytesIO(), format="png", dpi=50,
                bbox_inches=fig.get_tightbbox(fig.canvas.get_renderer()))
    plt.close(fig)


_errors = []   # optional libraries that cannot be found
_OPTIONAL = (("sklearn", "scikit-learn"), ("openpyxl", "openpyxl"), ("scipy", "scipy"))


def _installed(name, dist):
    """The version of an optional library (module name, distribution name)
    when the module can be found, without importing it; else None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as e:
        _errors.append("%s: %s" % (name, e))
        return None
    if spec is None:
        _errors.append("%s: No module named '%s'" % (name, name))
        return None
    version = _version_beside(spec, dist)
    if version:
        return version
    from importlib import metadata   # not beside the module: the slow, general way
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"   # importable but not installed as a package (a source tree)


def _norm(name):
    """A distribution name as its metadata folder spells it (PEP 503-ish)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _version_beside(spec, dist):
    """The Version: field of dist's metadata in the folder that holds the
    module (<name>-<version>.dist-info/METADATA or .egg-info[/PKG-INFO],
    as Debian's dist-packages has them), or None: none there, or more than
    one (a stale copy beside the current one: which is which is not ours
    to guess).  importlib.metadata reads the same field, but importing it
    cost ~20 ms of CPU at every kernel start (email, csv...; ~45 ms on its
    own)."""
    where = spec.submodule_search_locations
    path = list(where)[0] if where else spec.origin
    if not path or not os.path.isabs(path):
        return None
    found = _metadata_files(os.path.dirname(path)).get(_norm(dist), [])
    return _header(found[0], "Version") if len(found) == 1 else None


@functools.lru_cache(maxsize=None)
def _metadata_files(folder):
    """{normalized distribution name: [its metadata files]} in folder, read
    once (the optional libraries usually share one folder)."""
    files = {}
    try:
        entries = os.listdir(folder)
    except OSError:
        return files
    for entry in entries:
        for suffix, meta in ((".dist-info", "METADATA"), (".egg-info", "PKG-INFO")):
            if entry.endswith(suffix):
                found = os.path.join(folder, entry)
                files.setdefault(_norm(entry[:-len(suffix)].partition("-")[0]), []).append(
                    os.path.join(found, meta) if os.path.isdir(found) else found)
    return files


def _header(path, key):
    """The value of header `key` in an RFC 822 style metadata file, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    return None   # the headers end at the first blank line
                k, sep, v = line.partition(":")
                if sep and k.strip().lower() == key.lower():
                    return v.strip() or None
    except OSError:
        pass
    return None


def ready_event(libs):
    """The unsolicited message announcing the kernel can be bound."""
    ev = {"ev": "ready", "pid": os.getpid(),
          "python": platform.python_version(), "libs": libs}
    if _errors:
        ev["libs_error"] = "; ".join(_errors)
    return ev
