"""The profile's HTML report: one self-contained page (inline CSS, images as
data: URIs, no script, no external src/href) that opens offline."""

import datetime
import html

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:13px} table{border-collapse:collapse;font-size:13px}
td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;width:380px}
.card h3{margin:0 0 4px;font-size:15px;word-break:break-all} .type{color:#2f6db5;font-size:12px}
.warn{color:#a3400f;font-size:13px} .warn li{margin:2px 0} img{max-width:100%}
.kv td:first-child{color:#666}
"""


def _e(v):
    """HTML-escaped text of any value."""
    return html.escape("" if v is None else str(v), quote=True)


def _fmt(v):
    """Numbers with thousands separators and few decimals."""
    if isinstance(v, bool) or v is None:
        return _e(v)
    if isinstance(v, int):
        return "{:,}".format(v)
    if isinstance(v, float):
        return "{:,.4g}".format(v) if abs(v) < 1e4 else "{:,.1f}".format(v)
    return _e(v)


def _img(b64, alt):
    """An inline PNG."""
    return '<img alt="%s" src="data:image/png;base64,%s">' % (_e(alt), b64)


def _overview(s):
    """The table-level facts and the list of warnings."""
    rows = [("rows", _fmt(s["rows"])), ("columns", _fmt(s["n_columns"])),
            ("duplicate rows", _fmt(s["duplicate_rows"])),
            ("memory", "%.1f MB" % (s["memory_bytes"] / 1e6))]
    out = ['<table class="kv">'] + ["<tr><td>%s</td><td>%s</td></tr>" % r for r in rows]
    out.append("</table>")
    for n in s.get("notes", []):
        out.append('<p class="meta">Note: %s</p>' % _e(n))
    out.append("<h2>Warnings (%d)</h2>" % len(s["warnings"]))
    if s["warnings"]:
        out.append('<ul class="warn">' + "".join("<li>%s</li>" % _e(w) for w in s["warnings"]) + "</ul>")
    else:
        out.append("<p>None.</p>")
    return "\n".join(out)


def _card(c, chart):
    """One column's card: type, counts, statistics, top values, chart, warnings."""
    out = ['<div class="card"><h3>%s</h3><div class="type">%s · dtype %s</div>'
           % (_e(c["name"]), _e(c["type"]), _e(c["dtype"]))]
    kv = [("missing", "%s (%s%%)" % (_fmt(c["missing"]), c["missing_pct"])),
          ("distinct", _fmt(c["distinct"]))]
    for k in ("min", "p25", "median", "mean", "p75", "max", "std"):
        if k in c:
            kv.append((k, _fmt(c[k])))
    out.append('<table class="kv">' + "".join("<tr><td>%s</td><td>%s</td></tr>" % r for r in kv) + "</table>")
    if c["top"]:
        out.append("<table><tr><th>top value</th><th>count</th></tr>" + "".join(
            "<tr><td>%s</td><td>%s</td></tr>" % (_e(v), _fmt(n)) for v, n in c["top"]) + "</table>")
    if chart:
        out.append(_img(chart, "distribution of " + c["name"]))
    if c["warnings"]:
        out.append('<ul class="warn">' + "".join("<li>%s</li>" % _e(w) for w in c["warnings"]) + "</ul>")
    out.append("</div>")
    return "\n".join(out)


def render(s, charts, heatmaps):
    """The whole report as one HTML string."""
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Profile of %s</title><style>%s</style></head><body>" % (_e(s["name"]), _CSS),
             "<h1>Profile of %s</h1>" % _e(s["name"]),
             '<p class="meta">daa profile, %s · %s s</p>' % (_e(when), _e(s.get("seconds"))),
             "<h2>Overview</h2>", _overview(s), "<h2>Columns</h2>", '<div class="cards">']
    parts += [_card(c, charts.get(c["name"])) for c in s["columns"]]
    parts.append("</div><h2>Correlations</h2>")
    if not heatmaps:
        parts.append("<p>Fewer than two comparable columns.</p>")
    names = {"pearson": "Pearson (numeric)", "spearman": "Spearman (numeric)",
             "cramers_v": "Cramér's V (categorical)"}
    for k, b64 in heatmaps.items():
        parts.append("<h3>%s</h3>%s" % (_e(names.get(k, k)), _img(b64, names.get(k, k))))
        pairs = s["correlations"].get(k) or []
        if pairs:
            parts.append("<table><tr><th>column</th><th>column</th><th>value</th></tr>" + "".join(
                "<tr><td>%s</td><td>%s</td><td>%.3f</td></tr>" % (_e(a), _e(b), v) for a, b, v in pairs)
                + "</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
