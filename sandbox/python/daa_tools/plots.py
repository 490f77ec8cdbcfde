"""Plotting helpers with one consistent style: titles, labelled axes,
readable dates, thousands separators.  Each returns (fig, ax)."""

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd

PALETTE = ["#2f6db5", "#e07b39", "#3a9e5c", "#c4473a", "#7b5ea7", "#8c6d4f", "#d46fae", "#6f6f6f"]


def style():
    """Apply the daa style to matplotlib (idempotent)."""
    matplotlib.rcParams.update({
        "figure.figsize": (8, 4.5), "figure.dpi": 100, "axes.grid": True,
        "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
        "axes.titlesize": 13, "axes.titleweight": "bold", "axes.labelsize": 11,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE), "legend.frameon": False})


def fmt_thousands(ax, axis="y"):
    """Thousands separators (1,234,567) on an axis's tick labels."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(mticker.FuncFormatter(
        lambda v, _p: ("{:,.0f}" if abs(v) >= 100 or v == int(v) else "{:,.2f}").format(v)))
    return ax


def _finish(fig, ax, title, xlabel, ylabel, thousands=True, dates=False):
    """Title, axis labels, separators, readable dates, tight layout."""
    ax.set_title(title or "")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if thousands:
        fmt_thousands(ax, "y")
    if dates:
        loc = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    fig.tight_layout()
    return fig, ax


def line(x, y=None, title=None, xlabel=None, ylabel=None, ax=None, label=None):
    """Line chart (a Series with a date index works alone); dates readable."""
    style()
    if y is None and isinstance(x, pd.Series):
        x, y = x.index, x
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    ax.plot(x, y, marker="o" if len(y) <= 30 else None, label=label)
    if label:
        ax.legend()
    dates = pd.api.types.is_datetime64_any_dtype(pd.Index(x))
    return _finish(fig, ax, title, xlabel, ylabel if ylabel else getattr(y, "name", None), True, dates)


def bar(labels, values=None, title=None, xlabel=None, ylabel=None, horizontal=None, ax=None):
    """Bar chart (a Series alone works); horizontal when labels are long or many."""
    style()
    if values is None and isinstance(labels, pd.Series):
        labels, values = labels.index, labels
    labels = [str(v) for v in labels]
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    if horizontal is None:
        horizontal = len(labels) > 8 or max((len(v) for v in labels), default=0) > 10
    if horizontal:
        ax.barh(labels[::-1], list(values)[::-1], color=PALETTE[0])
        fmt_thousands(ax, "x")
        return _finish(fig, ax, title, ylabel, xlabel, thousands=False)
    ax.bar(labels, list(values), color=PALETTE[0])
    return _finish(fig, ax, title, xlabel, ylabel)


def hist(values, bins=30, title=None, xlabel=None, ylabel="count", ax=None):
    """Histogram of numeric values (missing values left out)."""
    style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    v = pd.Series(values).dropna()
    ax.hist(v, bins=bins, color=PALETTE[0], edgecolor="white")
    return _finish(fig, ax, title, xlabel if xlabel else getattr(values, "name", None), ylabel)


def scatter(x, y, title=None, xlabel=None, ylabel=None, ax=None):
    """Scatter plot with translucent points."""
    style()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    ax.scatter(x, y, s=12, alpha=0.6, color=PALETTE[0])
    return _finish(fig, ax, title, xlabel if xlabel else getattr(x, "name", None),
                   ylabel if ylabel else getattr(y, "name", None))
