"""analyst/codegen_stats.py — code for the statistical operations: scatter,
box plots, correlation (one pair or the heatmap), normality tests, outliers,
group comparisons (Welch t-test / one-way ANOVA) and a baseline scikit-learn
model.  Same habits as codegen.py: plain code, labelled plots, key numbers
printed as "Label: value" lines.
"""
import json


def lit(s):
    """A Python string literal for s."""
    return json.dumps(str(s), ensure_ascii=False)


def lit_value(x):
    """A Python literal for a category value: text quoted, numbers as numbers."""
    return lit(x) if isinstance(x, str) else repr(x)


def fs(s):
    """Text made safe inside a double-quoted f-string literal (quotes, backslashes, braces)."""
    return json.dumps(str(s), ensure_ascii=False)[1:-1].replace("{", "{{").replace("}", "}}")


def col(v, c):
    """The code for column c of the frame named v."""
    return f"{v}[{lit(c.name)}]"


def numeric_columns(it):
    """The measures named, else every numeric non-id column of the dataset."""
    if len(it["measures"]) >= 2:
        return it["measures"]
    return [c for c in it["ds"].columns if c.is_numeric() and not c.is_id() and not c.is_date()]


def xy(it):
    """(x, y) of a two-measure request: "Y vs X" puts Y up, otherwise in order."""
    a, b = it["measures"][0], it["measures"][1]
    if any(w in it["request"].casefold().split() for w in ("vs", "vs.", "versus", "against")):
        return b, a
    return a, b


def op_scatter(it, v):
    """Scatter plot of two measures (coloured by a group when one is named)."""
    x, y = xy(it)
    g = it["group"]
    title = f"{y.name} vs {x.name}"
    lines = ["fig, ax = plt.subplots(figsize=(8, 6))"]
    if g is not None:
        lines += [f"for name, part in list({v}.groupby({lit(g.name)}))[:10]:",
                  f"    ax.scatter(part[{lit(x.name)}], part[{lit(y.name)}], s=12, alpha=0.6, label=str(name))",
                  f"ax.legend(title={lit(g.name)})"]
    else:
        lines += [f"ax.scatter({col(v, x)}, {col(v, y)}, s=12, alpha=0.6)"]
    lines += [f"ax.set_title({lit(title)})", f"ax.set_xlabel({lit(x.name)})", f"ax.set_ylabel({lit(y.name)})",
              "plt.tight_layout()",
              f"r = {col(v, x)}.corr({col(v, y)})",
              f"print(f\"Pearson correlation between {fs(x.name)} and {fs(y.name)}: r = {{r:.3f}} over {{len({v}):,}} rows\")"]
    return lines, f"scatter plot of {y.name} against {x.name}"


def op_box(it, v):
    """Box plot of a measure, one box per group when a group is named."""
    m = it["measure"]
    g = it["group"] or next((c for c in it["others"] if c.is_category()), None)
    title = f"{m.name} by {g.name}" if g is not None else f"Box plot of {m.name}"
    lines = ["fig, ax = plt.subplots(figsize=(9, 5))"]
    if g is not None:
        lines += [f"groups = {{str(name): part[{lit(m.name)}].dropna() for name, part in {v}.groupby({lit(g.name)})}}",
                  "names = list(groups)[:20]",
                  "ax.boxplot([groups[n] for n in names], labels=names)",
                  f"ax.set_xlabel({lit(g.name)})",
                  "plt.setp(ax.get_xticklabels(), rotation=45, ha=\"right\")",
                  f"medians = {v}.groupby({lit(g.name)})[{lit(m.name)}].median().sort_values(ascending=False)",
                  f"print({lit('Median ' + m.name + ' by ' + g.name + ':')})",
                  "print(medians.to_string(float_format=\"{:,.2f}\".format))"]
    else:
        lines += [f"ax.boxplot({col(v, m)}.dropna(), labels=[{lit(m.name)}])",
                  f"print({col(v, m)}.describe().to_string(float_format=\"{{:,.2f}}\".format))"]
    lines += [f"ax.set_title({lit(title)})", f"ax.set_ylabel({lit(m.name)})", "plt.tight_layout()"]
    return lines, f"box plot of {title}"


CORR_FUNC = {"pearson": "pearsonr", "spearman": "spearmanr", "kendall": "kendalltau"}
CORR_NAME = {"pearson": ("Pearson correlation", "r"), "spearman": ("Spearman rank correlation", "rho"),
             "kendall": ("Kendall rank correlation", "tau")}


def op_corr(it, v):
    """The correlation between two measures with its p-value: the method asked
    for (Pearson, Spearman, Kendall), else Pearson (said) plus Spearman."""
    x, y = it["measures"][0], it["measures"][1]
    method = it.get("method")
    lines = ["from scipy import stats", "",
             f"pair = {v}[[{lit(x.name)}, {lit(y.name)}]].dropna()"]
    if method is None:
        lines.append("print(\"Assumption: Pearson (linear) correlation, as no method was named; the Spearman rank "
                     "correlation (monotonic, robust to outliers) follows.\")")
    for k, meth in enumerate([method or "pearson"] + ([] if method else ["spearman"])):
        label, sym = CORR_NAME[meth]
        lines += [f"coef, p = stats.{CORR_FUNC[meth]}(pair[{lit(x.name)}], pair[{lit(y.name)}])",
                  f"print(f\"{label} between {fs(x.name)} and {fs(y.name)}: {sym} = {{coef:.4f}}, "
                  f"p-value = {{p:.4g}} (n = {{len(pair):,}})\")"]
    lines += ["strength = \"strong\" if abs(coef) >= 0.7 else \"moderate\" if abs(coef) >= 0.4 else \"weak\" if abs(coef) >= 0.1 else \"very weak (close to none)\"",
              "direction = \"positive\" if coef > 0 else \"negative\"",
              "print(f\"That is a {strength} {direction} relationship; it is \" + (\"\" if p < 0.05 else \"not \") + "
              "\"statistically significant at the 5% level.\")"]
    return lines, f"correlation between {x.name} and {y.name}"


def op_linreg(it, v):
    """Ordinary least squares of the outcome on one predictor (scipy's
    linregress: slope, intercept, R-squared, p-value) or several (numpy
    least squares: coefficients and R-squared), fitted on every complete row."""
    t, feats = it["target"], it["features"]
    names = json.dumps([c.name for c in feats] + [t.name], ensure_ascii=False)
    lines = [f"rows = {v}[{names}].dropna()"]
    if it.get("linreg_assumed"):
        lines.append(f"print({lit('Assumption: ' + t.name + ' is the outcome (dependent variable) and ' + ', '.join(c.name for c in feats) + ' the predictor, as the last column named; ask for the regression of ' + feats[0].name + ' on ' + t.name + ' for the other way round.')})")
    lines.append("print(f\"Fitted by ordinary least squares on all {len(rows):,} complete rows (no train/test split).\")")
    if len(feats) == 1:
        x = feats[0]
        lines += ["from scipy import stats", "",
                  f"fit = stats.linregress(rows[{lit(x.name)}], rows[{lit(t.name)}])",
                  "print(f\"Slope: {fit.slope:.4f}\")",
                  "print(f\"Intercept: {fit.intercept:.4f}\")",
                  "print(f\"R-squared: {fit.rvalue ** 2:.4f}\")",
                  "print(f\"p-value of the slope: {fit.pvalue:.4g}; Pearson r = {fit.rvalue:.4f}\")",
                  f"print(f\"Model: {fs(t.name)} = {{fit.intercept:.4f}} + {{fit.slope:.4f}} * {fs(x.name)}\")"]
        if getattr(x, "per", None):   # a regression on time (trend.py): the slope is a change per year
            lines.append(f"print(f\"Trend: {{fit.slope:+.4f}} {fs(t.name)} per {x.per} "
                         f"({{'rising' if fit.slope > 0 else 'falling'}}, R-squared {{fit.rvalue ** 2:.4f}})\")")
        return lines, f"linear regression of {t.name} on {x.name}"
    xs = json.dumps([c.name for c in feats], ensure_ascii=False)
    lines += [f"X = np.column_stack([np.ones(len(rows))] + [rows[c].to_numpy(float) for c in {xs}])",
              f"y = rows[{lit(t.name)}].to_numpy(float)",
              "coef, *_ = np.linalg.lstsq(X, y, rcond=None)",
              "r2 = 1 - ((y - X @ coef) ** 2).sum() / ((y - y.mean()) ** 2).sum()",
              "print(f\"Intercept: {coef[0]:.4f}\")",
              f"for name, c in zip({xs}, coef[1:]):",
              "    print(f\"Coefficient of {name}: {c:.4f}\")",
              "print(f\"R-squared: {r2:.4f}\")"]
    return lines, f"linear regression of {t.name} on {', '.join(c.name for c in feats)}"


def op_heatmap(it, v):
    """Correlation matrix of the numeric columns drawn as an annotated heatmap."""
    cols = numeric_columns(it)[:20]
    if len(cols) < 2:
        return ([f"print({lit('Fewer than two numeric columns in ' + it['ds'].name + ': no correlation to show.')})"],
                "correlation heatmap")
    names = json.dumps([c.name for c in cols], ensure_ascii=False)
    lines = [f"corr = {v}[{names}].corr()",
             "fig, ax = plt.subplots(figsize=(8, 7))",
             "im = ax.imshow(corr.values, cmap=\"coolwarm\", vmin=-1, vmax=1)",
             "ax.set_xticks(range(len(corr.columns)))",
             "ax.set_xticklabels(corr.columns, rotation=45, ha=\"right\")",
             "ax.set_yticks(range(len(corr.columns)))",
             "ax.set_yticklabels(corr.columns)"]
    if len(cols) <= 12:
        lines += ["for i in range(len(corr)):",
                  "    for j in range(len(corr)):",
                  "        ax.text(j, i, f\"{corr.iloc[i, j]:.2f}\", ha=\"center\", va=\"center\", fontsize=8)"]
    lines += ["fig.colorbar(im, ax=ax, label=\"Pearson r\")",
              f"ax.set_title({lit('Correlation heatmap of ' + it['ds'].name)})",
              "ax.set_xlabel(\"column\")", "ax.set_ylabel(\"column\")", "plt.tight_layout()",
              "print(corr.round(3).to_string())",
              "pairs = corr.where(np.triu(np.ones(corr.shape, dtype=bool), k=1)).stack()",
              "a, b = pairs.abs().idxmax()",
              "print(f\"Strongest correlation: {a} and {b} (r = {pairs[(a, b)]:.3f})\")"]
    return lines, "correlation heatmap"


def op_normality(it, v):
    """Shapiro-Wilk test (on up to 5,000 values) plus skewness and kurtosis."""
    m = it["measure"]
    return (["from scipy import stats",
             "",
             f"values = {col(v, m)}.dropna()",
             "sample = values.sample(5000, random_state=0) if len(values) > 5000 else values",
             "stat, p = stats.shapiro(sample)",
             f"print(f\"Shapiro-Wilk test of {fs(m.name)} (n = {{len(sample):,}}): W = {{stat:.4f}}, p-value = {{p:.4g}}\")",
             "print(f\"Skewness: {values.skew():.3f}, excess kurtosis: {values.kurt():.3f}\")",
             "if p < 0.05:",
             f"    print({lit('At the 5% level, ' + m.name + ' is not normally distributed.')})",
             "else:",
             f"    print({lit('At the 5% level, ' + m.name + ' is consistent with a normal distribution.')})"],
            f"normality test of {m.name}")


def op_outliers(it, v):
    """Outliers by the IQR rule (beyond k x IQR from Q1/Q3, k = 1.5 unless
    asked) and by z-score (|z| > 3 unless asked): the rule asked for, else both
    (said), for one column or all numeric ones."""
    cols = it["measures"] or numeric_columns(it)
    meth = it.get("method") or {"rule": None, "k": 1.5, "z": 3.0}
    k, zt, rule = meth["k"], meth["z"], meth["rule"]
    if rule is None:
        note = [f"print({lit(f'Assumption: no rule was named, so both: the IQR rule (below Q1 - {k:g} x IQR or above Q3 + {k:g} x IQR) and the z-score rule (|z| > {zt:g}, z from the population standard deviation).')})"]
    else:
        note = []
    if len(cols) == 1:
        m = cols[0]
        lines = ["from scipy import stats", "", f"values = {col(v, m)}.dropna()"] + note
        if rule in ("iqr", None):
            lines += ["q1, q3 = values.quantile([0.25, 0.75])",
                      "iqr = q3 - q1",
                      f"low, high = q1 - {k:g} * iqr, q3 + {k:g} * iqr",
                      "iqr_outliers = values[(values < low) | (values > high)]",
                      f"print(f\"Q1 = {{q1:,.4f}}, Q3 = {{q3:,.4f}}, IQR = {{iqr:,.4f}}; the IQR rule flags values below {{low:,.4f}} or above {{high:,.4f}} (Q1 - {k:g} x IQR, Q3 + {k:g} x IQR)\")",
                      f"print(f\"IQR rule: {{len(iqr_outliers):,}} outliers in {fs(m.name)} of {{len(values):,}} values "
                      f"({{(values < low).sum():,}} low, {{(values > high).sum():,}} high)\")"]
        if rule in ("z", None):
            lines += ["z = np.abs(stats.zscore(values))",
                      f"z_outliers = values[z > {zt:g}]",
                      f"print(f\"z-score rule (|z| > {zt:g}, population standard deviation): {{len(z_outliers):,}} outliers in {fs(m.name)} of {{len(values):,}} values\")"]
        shown = "iqr_outliers" if rule in ("iqr", None) else "z_outliers"
        lines += [f"if len({shown}):",
                  "    print(\"Largest flagged values:\")",
                  f"    print({v}.loc[{shown}.abs().sort_values(ascending=False).index[:10]].to_string())"]
        return lines, f"outliers in {m.name}"
    names = json.dumps([c.name for c in cols[:40]], ensure_ascii=False)
    body = ["rows = {}",
            f"for name in {names}:",
            f"    values = {v}[name].dropna()",
            "    rows[name] = {}"]
    if rule in ("iqr", None):
        body += ["    q1, q3 = values.quantile([0.25, 0.75])",
                 "    iqr = q3 - q1",
                 f"    rows[name][\"iqr_outliers\"] = int(((values < q1 - {k:g} * iqr) | (values > q3 + {k:g} * iqr)).sum())"]
    if rule in ("z", None):
        body += [f"    rows[name][\"z_outliers\"] = int((np.abs(stats.zscore(values)) > {zt:g}).sum()) if values.std() > 0 else 0"]
    key = "iqr_outliers" if rule in ("iqr", None) else "z_outliers"
    what = {"iqr": f"IQR rule: outside Q1 - {k:g} x IQR .. Q3 + {k:g} x IQR", "z": f"z-score rule: |z| > {zt:g}",
            None: f"IQR rule: outside {k:g} x IQR; z-score rule: |z| > {zt:g}"}[rule]
    return (["from scipy import stats", ""] + note + body +
            [f"table = pd.DataFrame.from_dict(rows, orient=\"index\").sort_values({lit(key)}, ascending=False)",
             f"print({lit('Outliers per column (' + what + '):')})",
             "print(table.to_string())",
             "total = int(table.to_numpy()[:, 0].sum())   # the rule asked for (IQR when both)",
             "print(f\"Total: {total:,} outlier values over {len(table)} columns\")"],
            "outliers in the numeric columns")


def op_ttest(it, v):
    """Welch t-test between two groups, or one-way ANOVA across more."""
    m, g = it["measure"], it["group"]
    other = next((c for c in it["others"] if c is not g and (c.is_category() or c.is_flag())), None)
    if (it.get("method") or {}).get("chi2"):   # named: both columns must hold categories
        a = m or other
        if g is None or a is None or not (a.is_binary01() or a.is_code() or a.is_category() or a.is_flag()):
            from analyst.parse import Unknown
            raise Unknown("A chi-square test compares two columns of categories (or codes); I did not find two "
                          "such columns in your request, so I did not answer. Ask e.g. \u201cchi-square test of A by B\u201d.")
        return chi_square(v, a, g)
    if g is not None and not it["values"] and (m is None and other is not None or m is not None and m.is_binary01()):
        return chi_square(v, m or other, g)
    if m is None or g is None:
        return ([f"print({lit('I need a numeric column and a grouping column to compare groups.')})"], "compare groups")
    if it["values"]:
        a, b = it["values"]
        sel = (f"a = {v}.loc[{col(v, g)} == {lit(a)}, {lit(m.name)}].dropna()",
               f"b = {v}.loc[{col(v, g)} == {lit(b)}, {lit(m.name)}].dropna()")
        names = ("name_a", "name_b")
        head = [f"name_a, name_b = {lit_value(a)}, {lit_value(b)}"]
        sel = (sel[0].replace(lit(a), "name_a"), sel[1].replace(lit(b), "name_b"))
    else:
        head = [f"names = sorted({col(v, g)}.dropna().unique(), key=str)",
                "if len(names) != 2:",
                f"    groups = [part[{lit(m.name)}].dropna() for _, part in {v}.groupby({lit(g.name)})]",
                "    f_stat, p = stats.f_oneway(*groups)",
                f"    print({v}.groupby({lit(g.name)})[{lit(m.name)}].agg([\"mean\", \"count\"]).to_string(float_format=\"{{:,.2f}}\".format))",
                f"    print(f\"One-way ANOVA of {fs(m.name)} across {{len(names)}} {fs(g.name)} groups: F = {{f_stat:.3f}}, p-value = {{p:.4g}}\")",
                "    h_stat, p_kw = stats.kruskal(*groups)",
                "    print(f\"Kruskal-Wallis test (no normality assumed): H = {h_stat:.3f}, p-value = {p_kw:.4g}\")",
                "    print(\"A p-value below 0.05 means the groups' averages are unlikely to be equal by chance.\")",
                "else:"]
        sel = (f"a = {v}.loc[{col(v, g)} == names[0], {lit(m.name)}].dropna()",
               f"b = {v}.loc[{col(v, g)} == names[1], {lit(m.name)}].dropna()")
        names = ("names[0]", "names[1]")
    ind = "    " if not it["values"] else ""
    body = [ind + sel[0], ind + sel[1],
            ind + "t_stat, p = stats.ttest_ind(a, b, equal_var=False)",
            ind + f"print(f\"Mean {fs(m.name)}: {{{names[0]}}} = {{a.mean():,.2f}} (n = {{len(a):,}}), {{{names[1]}}} = {{b.mean():,.2f}} (n = {{len(b):,}})\")",
            ind + "print(f\"Welch t-test: t = {t_stat:.3f}, p-value = {p:.4g}\")"]
    tail = ["if p < 0.05:", "    print(\"The difference is statistically significant at the 5% level.\")",
            "else:", "    print(\"The difference is not statistically significant at the 5% level.\")"]
    return ["from scipy import stats", ""] + head + body + tail, f"compare {m.name} between {g.name} groups"


def chi_square(v, a, g):
    """Two categorical (or yes/no, 0/1) columns: crosstab with row shares and
    a chi-square test of independence, said in words."""
    return (["from scipy import stats", "",
             f"table = pd.crosstab({col(v, g)}, {col(v, a)})",
             f"print({lit(f'Rows by {g.name} and {a.name}:')})",
             "print(table.to_string())",
             f"print({lit(f'Share of each {a.name} value within each {g.name} (%):')})",
             "print((table.div(table.sum(axis=1), axis=0) * 100).to_string(float_format=\"{:.1f}\".format))",
             "chi2, p, dof, expected = stats.chi2_contingency(table)",
             "print(f\"Chi-square test of independence: chi2 = {chi2:.3f}, degrees of freedom = {dof}, p-value = {p:.4g}\")",
             "if p < 0.05:",
             f"    print({lit(f'{a.name} differs between the {g.name} groups (statistically significant at the 5% level).')})",
             "else:",
             f"    print({lit(f'No statistically significant difference in {a.name} between the {g.name} groups at the 5% level.')})"],
            f"chi-square test of {a.name} by {g.name}")


def model_features(it):
    """Feature columns: the ones named, else all but ids, dates, free text and the target."""
    t = it["target"]
    if it.get("features"):
        return [c for c in it["features"] if c is not t]
    out = []
    for c in it["ds"].columns:
        if c is t or c.is_id() or c.is_date():
            continue
        if c.is_numeric() or c.is_category() or c.kind == "bool":
            out.append(c)
    return out


def op_model(it, v):
    """daa_tools.model: a scikit-learn pipeline (classifier or regressor chosen
    from the target) cross-validated against a dummy baseline, saved with a card."""
    t = it["target"]
    feats = model_features(it)
    if t is None or not feats:
        return ([f"print({lit('I need a target column and at least one other column to build a model.')})"], "model")
    classify = not t.is_numeric() or t.is_binary() or (t.distinct is not None and t.distinct <= 10 and t.kind != "numeric")
    kind = "classification" if classify else "regression"
    names = json.dumps([c.name for c in feats], ensure_ascii=False)
    lines = [f"result = daa_tools.model({v}, {lit(t.name)}, features={names}, kind={lit(kind)}, name={lit(it['ds'].name)})",
             "best, base = result.scores[result.best], result.baseline",
             f"print(f\"{kind.capitalize()} of {fs(t.name)}: {{result.best}}, {{result.folds}}-fold {{result.cv}} cross-validation on {{result.rows:,}} rows\")",
             "for metric, value in best.items():",
             "    print(f\"{metric}: {value:,.3f} (dummy baseline: {base[metric]:,.3f})\")",
             "for column, why in result.dropped.items():",
             "    print(f\"dropped {column}: {why}\")",
             "print(\"Top features (permutation importance):\")",
             "print(pd.Series(result.importances).head(10).round(3).to_string())",
             "print(f\"Model saved to {result.model_path}, card {result.card_path}\")"]
    return lines, f"model predicting {t.name} (cross-validated against a baseline)"
