"""The warm spare's heavy imports: done once at start so binding a project and
the first step are fast.  The matplotlib backend is chosen before pyplot is
imported (Agg: files only, no display)."""

import os
import platform


def warm_up():
    """Import pandas, numpy, matplotlib (Agg) and the common sklearn modules;
    return {name: version} for the ready event."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import numpy
    import pandas
    import matplotlib.pyplot
    matplotlib.pyplot.switch_backend("Agg")   # resolve the backend now, not at the first plot
    import sklearn
    import sklearn.model_selection  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    try:
        import openpyxl  # noqa: F401  (xlsx datasets; optional)
    except ImportError:
        pass
    return {"pandas": pandas.__version__, "numpy": numpy.__version__,
            "matplotlib": matplotlib.__version__, "sklearn": sklearn.__version__}


def ready_event(libs):
    """The unsolicited message announcing the kernel can be bound."""
    return {"ev": "ready", "pid": os.getpid(),
            "python": platform.python_version(), "libs": libs}
