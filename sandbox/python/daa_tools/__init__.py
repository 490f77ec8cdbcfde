"""daa_tools — profiling, modeling and plotting helpers available in every
daa kernel (as `daa_tools` in the namespace).

    daa_tools.profile(df, name)            -> summary; HTML report in outputs/reports/
    daa_tools.model(df, target, features=None, kind="auto", time=None)
                                           -> result; pipeline + card in outputs/models/
    daa_tools.predict(model_path, df)      -> predictions of a saved model
    daa_tools.infer_types(df)              -> {column: numeric|categorical|datetime|
                                               boolean|text|identifier}
    daa_tools.style(), line(), bar(), hist(), scatter(), fmt_thousands(ax)
                                           -> plots in one consistent style

Everything is deterministic (random_state=0) and bounded in time on large
tables: sampling is stated in the summary and the report where used.
"""

import os

from .infer import infer_type, infer_types

_OUTPUTS = None


def set_outputs(path):
    """Where reports and models go (the kernel sets the project's outputs/)."""
    global _OUTPUTS
    _OUTPUTS = os.path.abspath(path) if path else None


def outputs_dir(sub):
    """<outputs>/<sub>, created: the kernel's outputs, else ./outputs."""
    base = _OUTPUTS or os.path.join(os.getcwd(), "outputs")
    path = os.path.join(base, sub)
    os.makedirs(path, exist_ok=True)
    return path


def profile(df, name="data", out_dir=None, images=True):
    """Profile a DataFrame; write a self-contained HTML report; return the summary."""
    from .prof import profile as _p
    return _p(df, name, out_dir=out_dir, images=images)


def model(df, target, features=None, kind="auto", out_dir=None, name=None, time=None):
    """Fit and honestly evaluate a model of `target`; save it with a card.
    Time-ordered data (a date or year column; `time` names it, False: none)
    is cross-validated with time-ordered folds."""
    from .modeling import model as _m
    return _m(df, target, features=features, kind=kind, out_dir=out_dir, name=name, time=time)


def _plot_helper(name):
    """daa_tools.plots.<name>, imported at the first call: daa_tools is
    imported by every kernel, matplotlib only by one that plots
    (daakernel/lazyplot.py)."""
    def call(*args, **kwargs):
        from . import plots
        return getattr(plots, name)(*args, **kwargs)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = "daa_tools.plots.%s (see there); matplotlib is imported at the first call." % name
    return call


style, line, bar, hist, scatter, fmt_thousands = map(
    _plot_helper, ("style", "line", "bar", "hist", "scatter", "fmt_thousands"))


def predict(model_path, df):
    """Predictions of a model saved by model() for the rows of df."""
    from .modeling import predict as _pr
    return _pr(model_path, df)


__all__ = ["profile", "model", "predict", "infer_type", "infer_types", "style",
           "line", "bar", "hist", "scatter", "fmt_thousands", "set_outputs"]
