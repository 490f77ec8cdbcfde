"""The warm spare's heavy imports: done once at start so binding a project and
the first step are fast.  The matplotlib backend is chosen before pyplot is
imported (Agg: files only, no display)."""

import importlib
import io
import os
import platform


def warm_up():
    """Import pandas, numpy, matplotlib (Agg) and, when installed, the common
    sklearn modules, openpyxl and scipy; return {name: version or None} for
    the ready event.  ImportError for the required ones propagates."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import numpy
    import pandas
    import matplotlib.pyplot
    matplotlib.pyplot.switch_backend("Agg")   # resolve the backend now, not at the first plot
    _first_use(pandas, matplotlib.pyplot)
    libs = {"pandas": pandas.__version__, "numpy": numpy.__version__,
            "matplotlib": matplotlib.__version__}
    for name, subs in (("sklearn", _SKLEARN), ("openpyxl", ()), ("scipy", ())):
        libs[name] = _optional(name, subs)   # nil in the ready event when absent
    return libs


def _first_use(pd, plt):
    """Pay the first-call costs now (fonts, the Agg renderer and PNG writer,
    the CSV parser, frame formatting) instead of in the user's first step."""
    frame = pd.read_csv(io.StringIO("d,v\n2024-01-01,1.5\n2024-01-02,2\n"), parse_dates=["d"])
    repr(frame)
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot(frame["d"], frame["v"])
    ax.set_title("warm")
    fig.savefig(io.BytesIO(), format="png", dpi=50,
                bbox_inches=fig.get_tightbbox(fig.canvas.get_renderer()))
    plt.close(fig)


_errors = []   # optional libraries that failed to import
_SKLEARN = ("model_selection", "ensemble", "linear_model", "metrics", "preprocessing")


def _optional(name, subs):
    """Import an optional library and its submodules; its version or None."""
    try:
        mod = importlib.import_module(name)
        for sub in subs:
            importlib.import_module(name + "." + sub)
    except ImportError as e:
        _errors.append("%s: %s" % (name, e))
        return None
    return getattr(mod, "__version__", "?")


def ready_event(libs):
    """The unsolicited message announcing the kernel can be bound."""
    ev = {"ev": "ready", "pid": os.getpid(),
          "python": platform.python_version(), "libs": libs}
    if _errors:
        ev["libs_error"] = "; ".join(_errors)
    return ev
