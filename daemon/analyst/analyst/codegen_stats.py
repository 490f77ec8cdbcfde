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


def op_corr(it, v):
    """Pearson (and Spearman) correlation between two measures."""
    x, y = it["measures"][0], it["measures"][1]
    return ([f"pair = {v}[[{lit(x.name)}, {lit(y.name)}]].dropna()",
             f"r = pair[{lit(x.name)}].corr(pair[{lit(y.name)}])",
             f"rho = pair[{lit(x.name)}].corr(pair[{lit(y.name)}], method=\"spearman\")",
             f"print(f\"Pearson correlation between {fs(x.name)} and {fs(y.name)}: r = {{r:.3f}} (n = {{len(pair):,}})\")",
             "print(f\"Spearman rank correlation: rho = {rho:.3f}\")"],
            f"correlation between {x.name} and {y.name}")


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
    """Outliers by the IQR rule (1.5 x IQR) and by z-score (|z| > 3)."""
    cols = it["measures"] or numeric_columns(it)
    if len(cols) == 1:
        m = cols[0]
        return (["from scipy import stats", "",
                 f"values = {col(v, m)}.dropna()",
                 "q1, q3 = values.quantile([0.25, 0.75])",
                 "iqr = q3 - q1",
                 "low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr",
                 "iqr_outliers = values[(values < low) | (values > high)]",
                 "z = np.abs(stats.zscore(values))",
                 "z_outliers = values[z > 3]",
                 f"print(f\"IQR rule ({fs(m.name)} outside {{low:,.2f}} .. {{high:,.2f}}): {{len(iqr_outliers):,}} outliers of {{len(values):,}} values\")",
                 f"print(f\"z-score rule (|z| > 3): {{len(z_outliers):,}} outliers\")",
                 "print(\"Largest values flagged by the IQR rule:\")",
                 f"print({v}.loc[iqr_outliers.sort_values(ascending=False).index[:10]].to_string())"],
                f"outliers in {m.name}")
    names = json.dumps([c.name for c in cols[:40]], ensure_ascii=False)
    return (["from scipy import stats", "",
             "rows = {}",
             f"for name in {names}:",
             f"    values = {v}[name].dropna()",
             "    q1, q3 = values.quantile([0.25, 0.75])",
             "    iqr = q3 - q1",
             "    iqr_count = int(((values < q1 - 1.5 * iqr) | (values > q3 + 1.5 * iqr)).sum())",
             "    z_count = int((np.abs(stats.zscore(values)) > 3).sum()) if values.std() > 0 else 0",
             "    rows[name] = {\"iqr_outliers\": iqr_count, \"z_outliers\": z_count}",
             "table = pd.DataFrame.from_dict(rows, orient=\"index\").sort_values(\"iqr_outliers\", ascending=False)",
             "print(\"Outliers per column (IQR rule: outside 1.5 x IQR; z-score rule: |z| > 3):\")",
             "print(table.to_string())"], "outliers in the numeric columns")


def op_ttest(it, v):
    """Welch t-test between two groups, or one-way ANOVA across more."""
    m, g = it["measure"], it["group"]
    other = next((c for c in it["others"] if c is not g and (c.is_category() or c.is_flag())), None)
    if g is not None and not it["values"] and (m is None and other is not None or m is not None and m.is_binary01()):
        return chi_square(v, m or other, g)
    if m is None or g is None:
        return ([f"print({lit('I need a numeric column and a grouping column to compare groups.')})"], "compare groups")
    if it["values"]:
        a, b = it["values"]
        sel = (f"a = {v}.loc[{col(v, g)} == {lit(a)}, {lit(m.name)}].dropna()",
               f"b = {v}.loc[{col(v, g)} == {lit(b)}, {lit(m.name)}].dropna()")
        names = ("name_a", "name_b")
        head = [f"name_a, name_b = {lit(a)}, {lit(b)}"]
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
