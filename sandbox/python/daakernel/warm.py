"""The warm spare's heavy imports: done once at start so binding a project and
the first step are fast.  The matplotlib backend is chosen before pyplot is
imported (Agg: files only, no display)."""

import importlib
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
    libs = {"pandas": pandas.__version__, "numpy": numpy.__version__,
            "matplotlib": matplotlib.__version__}
    for name, subs in (("sklearn", _SKLEARN), ("openpyxl", ()), ("scipy", ())):
        libs[name] = _optional(name, subs)   # nil in the ready event when absent
    return libs


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
