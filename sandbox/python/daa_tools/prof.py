"""daa_tools.profile: the per-column and table profile of a DataFrame, its
warnings and correlations, returned as a compact summary and written as a
self-contained HTML report (images inlined as base64 PNG) to outputs/reports/."""

import base64
import datetime
import html
import io
import os
import re
import time
import warnings

import numpy as np
import pandas as pd

from . import infer
from .attrdict import AttrDict

SAMPLE_ROWS = 200_000      # heavier work (correlations, images) above this
MAX_IMAGES = 60            # per-column charts
MAX_CORR_COLS = 30


class ProfileSummary(AttrDict):
    """A dict (JSON-friendly) whose repr is one line per column; keys are
    attributes too (summary.columns, summary.report)."""

    def __repr__(self):
        lines = ["%s: %d rows x %d columns, %d duplicate rows%s — report: %s" % (
            self["name"], self["rows"], self["n_columns"], self["duplicate_rows"],
            " (sampled %d rows)" % self["sampled_rows"] if self.get("sampled_rows") else "",
            self.get("report"))]
        for c in self["columns"]:
            w = ("  ⚠ " + "; ".join(c["warnings"])) if c["warnings"] else ""
            lines.append("  %-24s %-11s missing %d, distinct %d%s" % (
                c["name"][:24], c["type"], c["missing"], c["distinct"], w))
        return "\n".join(lines)


def _png(fig):
    """A figure as a base64 PNG (closed afterwards)."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    with warnings.catch_warnings():      # missing glyphs (CJK names) are not worth a warning
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", dpi=72)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _num(v):
    """A JSON-friendly scalar."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, (pd.Timestamp, datetime.datetime, datetime.date)):
        return str(v)
    return v


def _stats(s, kind):
    """min/max/mean/quantiles for numeric and datetime columns (a numeric
    view of text numbers and dates when that is what they hold)."""
    if kind == "numeric":
        v = s if pd.api.types.is_numeric_dtype(s) else infer.to_numeric_text(s)
        v = pd.to_numeric(v, errors="coerce").dropna()
        if pd.api.types.is_bool_dtype(v):
            v = v.astype(int)
        if len(v) == 0:
            return {}, v
        q = v.quantile([0.05, 0.25, 0.5, 0.75, 0.95])
        return {"min": _num(v.min()), "max": _num(v.max()), "mean": _num(v.mean()),
                "std": _num(v.std()), "p5": _num(q.iloc[0]), "p25": _num(q.iloc[1]),
                "median": _num(q.iloc[2]), "p75": _num(q.iloc[3]), "p95": _num(q.iloc[4])}, v
    if kind == "datetime":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = s if pd.api.types.is_datetime64_any_dtype(s) else pd.to_datetime(s, errors="coerce")
        v = v.dropna()
        if len(v) == 0:
            return {}, v
        return {"min": str(v.min()), "max": str(v.max())}, v
    return {}, None


def _top(s, k=5):
    """The k most frequent values with their counts."""
    vc = s.value_counts(dropna=True).head(k)
    return [[str(i)[:60], int(n)] for i, n in vc.items()]


def _write_text(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _chart(name, kind, values, s):
    """A small histogram (numeric, datetime) or bar chart (others) as base64 PNG.
    A numeric histogram is one filled outline (ax.stairs) in fixed margins:
    30 bar patches and tight_layout's extra layout pass made it ~60 ms a
    chart, half of that (a report draws up to 60)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(3.6, 2.0))
    try:
        tight = True
        if kind == "numeric" and values is not None and len(values):
            counts, edges = np.histogram(values, bins=30)
            ax.stairs(counts, edges, fill=True, color="#2f6db5")
            fig.subplots_adjust(left=0.16, right=0.95, top=0.87, bottom=0.2)
            tight = False
        elif kind == "datetime" and values is not None and len(values):
            ax.hist(values, bins=30, color="#2f6db5", edgecolor="white")
            fig.autofmt_xdate()
        else:
            vc = s.astype(str).value_counts().head(8)[::-1]
            ax.barh([t[:18] for t in vc.index], vc.values, color="#2f6db5")
        ax.set_title(str(name)[:40], fontsize=9)
        ax.tick_params(labelsize=7)
        if tight:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fig.tight_layout()
    except Exception:              # an odd column never breaks the report
        ax.clear()
        ax.text(0.5, 0.5, "no chart", ha="center")
    return _png(fig)


def _column(df, c, rows, want_image):
    """The profile entry of one column."""
    s = df[c]
    nonnull = int(s.notna().sum())
    try:
        distinct = int(s.nunique(dropna=True))
    except TypeError:                      # unhashable values (lists, dicts)
        s = s.astype(str).where(s.notna())
        distinct = int(s.nunique(dropna=True))
    kind, notes = infer.infer_type(s, c)
    entry = {"name": str(c), "dtype": str(s.dtype), "type": kind, "missing": rows - nonnull,
             "missing_pct": round(100.0 * (rows - nonnull) / rows, 1) if rows else 0.0,
             "distinct": distinct, "top": _top(s)}
    stats, values = _stats(s, kind)
    entry.update(stats)
    entry["warnings"] = infer.column_warnings(s if values is None or kind != "numeric" else values,
                                              kind, notes, nonnull, distinct, rows)
    image = _chart(c, kind, values, s) if want_image and nonnull else None
    return entry, image, values


def _cramers_v(a, b):
    """Cramér's V between two categorical Series (bias-uncorrected)."""
    t = pd.crosstab(a, b)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return np.nan
    n = t.values.sum()
    expected = np.outer(t.sum(1), t.sum(0)) / n
    chi2 = ((t.values - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / n / (min(t.shape) - 1)))


def _correlations(numeric, cats):
    """Pearson and Spearman of numeric columns, Cramér's V of categoricals."""
    out = {}
    if numeric.shape[1] >= 2:
        out["pearson"] = numeric.corr(method="pearson")
        out["spearman"] = numeric.corr(method="spearman")
    if cats.shape[1] >= 2:
        cols = list(cats.columns)
        m = pd.DataFrame(np.eye(len(cols)), index=cols, columns=cols)
        for i, a in enumerate(cols):
            for b in cols[i + 1:]:
                m.loc[a, b] = m.loc[b, a] = _cramers_v(cats[a], cats[b])
        out["cramers_v"] = m
    return out


def _heatmap(m, title):
    """A correlation matrix as an annotated heatmap (base64 PNG)."""
    import matplotlib.pyplot as plt
    n = len(m)
    fig, ax = plt.subplots(figsize=(min(2 + 0.5 * n, 14), min(1.6 + 0.45 * n, 12)))
    im = ax.imshow(m.values.astype(float), vmin=-1, vmax=1, cmap="RdBu_r")
    labels = [str(c)[:16] for c in m.columns]
    ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                v = m.values[i, j]
                if np.isfinite(v):
                    ax.text(j, i, "%.2f" % v, ha="center", va="center", fontsize=6)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, shrink=0.8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()
    return _png(fig)


def _top_pairs(m, k=5):
    """The k strongest off-diagonal pairs of a correlation matrix."""
    pairs = []
    cols = list(m.columns)
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            v = m.loc[a, b]
            if np.isfinite(v):
                pairs.append([str(a), str(b), round(float(v), 3)])
    return sorted(pairs, key=lambda p: -abs(p[2]))[:k]


def _slug(name):
    """A file-name-safe version of a dataset name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name)).strip("-.") or "data"


def profile(df, name="data", out_dir=None, images=True):
    """Profile df (see the package doc); returns a ProfileSummary and writes
    <outputs>/reports/<name>_profile.html."""
    t0 = time.monotonic()
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    rows = len(df)
    work = df.sample(SAMPLE_ROWS, random_state=0) if rows > SAMPLE_ROWS else df
    try:
        dups = int(work.duplicated().sum())
    except TypeError:
        dups = int(work.astype(str).duplicated().sum())
    summary = ProfileSummary(
        name=str(name), rows=rows, n_columns=df.shape[1], duplicate_rows=dups,
        memory_bytes=int(df.memory_usage(deep=True).sum()),
        sampled_rows=len(work) if rows > SAMPLE_ROWS else 0, columns=[], notes=[])
    if summary["sampled_rows"]:
        summary["notes"].append("%d of %d rows (random sample, random_state=0) used for "
                                "duplicates, types, statistics, charts and correlations"
                                % (len(work), rows))
    images_left = MAX_IMAGES if images else 0
    charts, numeric, cats = {}, {}, {}
    for c in df.columns:
        entry, image, values = _column(work, c, len(work), images_left > 0)
        if rows > SAMPLE_ROWS:               # counts of the whole table
            entry["missing"] = int(df[c].isna().sum())
            entry["missing_pct"] = round(100.0 * entry["missing"] / rows, 1)
        summary["columns"].append(entry)
        if image:
            charts[entry["name"]] = image
            images_left -= 1
        if entry["type"] == "numeric" and values is not None and len(numeric) < MAX_CORR_COLS \
                and entry["distinct"] > 1:
            numeric[entry["name"]] = pd.to_numeric(values, errors="coerce").reindex(work.index)
        elif entry["type"] in ("categorical", "boolean") and 1 < entry["distinct"] <= 50 \
                and len(cats) < 20:
            cats[entry["name"]] = work[c].astype(str).where(work[c].notna())
    if images and df.shape[1] > MAX_IMAGES:
        summary["notes"].append("charts drawn for the first %d columns only" % MAX_IMAGES)
    corr = _correlations(pd.DataFrame(numeric), pd.DataFrame(cats))
    summary["correlations"] = {k: _top_pairs(m) for k, m in corr.items()}
    heatmaps = {k: _heatmap(m, k) for k, m in corr.items()} if images else {}
    summary["warnings"] = ["%s: %s" % (c["name"], w) for c in summary["columns"] for w in c["warnings"]]
    if dups:
        summary["warnings"].append("%d duplicate rows" % dups)
    summary["seconds"] = round(time.monotonic() - t0, 2)
    from . import outputs_dir
    folder = out_dir or outputs_dir("reports")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, _slug(name) + "_profile.html")
    from .report import render
    from . import files
    text = render(summary, charts, heatmaps)
    files.write_all([(path, lambda tmp: _write_text(tmp, text))])
    summary["report"] = os.path.relpath(path) if not out_dir else path
    return summary
