"""analyst/answer.py — the final_answer texts: the result of a step (its
printed numbers, tables and figures), an honest account of a failed step, and
the "not understood" help that lists what the analyst does understand and how
to configure a real LLM.
"""
import re

MAX_LINES = 80

EXAMPLES = [
    "describe the data / what columns are there / missing values",
    "show the first 10 rows / how many rows are there",
    "total revenue / average revenue by region / median units per category",
    "top 5 products by revenue / bottom 3 regions by units",
    "plot revenue over time by month / weekly units trend",
    "plot revenue by region (bars) / histogram of revenue / box plot of revenue by region",
    "scatter units vs revenue / correlation between units and revenue / correlation heatmap",
    "revenue in the West region in 2023 / orders where units > 10",
    "is revenue normally distributed / outliers in revenue",
    "compare revenue between North and South (t-test)",
    "predict churned from the other columns (baseline model)",
]

LLM_HOWTO = ("For free-form questions, configure an LLM in $XDG_CONFIG_HOME/daa/config.json "
             "(usually ~/.config/daa/config.json), for example\n"
             "  {\"llm\": {\"backend\": \"openai\", \"base_url\": \"https://api.openai.com/v1\", \"model\": \"gpt-4o-mini\"}}\n"
             "with the key in OPENAI_API_KEY in the daemon's environment (or in a file named by "
             "\"api_key_file\", mode 0600). Any OpenAI-compatible server works, e.g. a local Ollama: "
             "\"base_url\": \"http://localhost:11434/v1\", \"model\": \"llama3.1\" (no key needed). "
             "Then restart the daemon (daa shutdown; the next daa command starts it).")


def examples_text(ds=None):
    """The list of requests the builtin analyst understands, written with the
    dataset's own columns when there is one (else generic ones)."""
    ex = dataset_examples(ds) if ds is not None else None
    return "\n".join("  - " + e for e in (ex or EXAMPLES))


def dataset_examples(ds):
    """Example requests naming ds's real columns and values, or None when it has no measure."""
    nums = [c for c in ds.columns if c.is_numeric() and not c.is_id()]
    if not nums:
        return None
    m, m2 = nums[0], (nums[1] if len(nums) > 1 else None)
    cats = [c for c in ds.columns if c.is_category() and not c.is_id() and not c.is_date()]
    g = cats[0] if cats else None
    dates = ds.date_columns()
    out = ["describe the data / what columns are there / missing values",
           "show the first 10 rows / how many rows are there",
           f"average {m.name} / total {m.name}" + (f" by {g.name} / median {m.name} per {g.name}" if g else "")]
    if g is not None:
        out.append(f"top 5 {g.name} by {m.name} / plot {m.name} by {g.name} / box plot of {m.name} by {g.name}")
        val = next((v for v in g.values if isinstance(v, str)), None)
        if val:
            out.append(f"average {m.name} for {val}")
    if dates:
        year = str(dates[0].max or "")[:4]
        out.append(f"plot {m.name} over time / {m.name} per year" + (f" / average {m.name} in {year}" if year.isdigit() else ""))
    out.append(f"histogram of {m.name} / is {m.name} normally distributed / outliers in {m.name}")
    if m2 is not None:
        out.append(f"scatter {m.name} vs {m2.name} / correlation between {m.name} and {m2.name} / correlation heatmap")
    out.append(f"predict {m.name} from the other columns (baseline model)")
    return out


def help_text():
    """What the builtin analyst can do."""
    return ("I am daa's builtin offline analyst: I map common requests onto your data's real columns, "
            "write pandas/matplotlib/scikit-learn code, run it and report the numbers.\n\n"
            "Requests I understand, for example:\n" + examples_text() + "\n\n" + LLM_HOWTO)


def not_understood(request, reason=None, columns=None, ds=None):
    """An honest "I cannot do this" with examples (from ds's columns when
    given) and the LLM set-up."""
    head = reason or (f"I am daa's builtin offline analyst and I did not understand \u201c{request}\u201d. "
                      "I only know a fixed set of common analyses.")
    parts = [head]
    if columns:
        parts.append("Columns available: " + ", ".join(columns[:60]) + (" ..." if len(columns) > 60 else ""))
    teach = teach_text(reason, request, ds)
    if teach:
        parts.append(teach)
    parts.append("Requests I understand, for example:\n" + examples_text(ds))
    parts.append(LLM_HOWTO)
    return "\n\n".join(parts)


UNFOUND = re.compile(r"^I (?:could not find|did not understand) ((?:\u201c[^\u201d]+\u201d(?:, )?)+)"
                     r"(?= among the columns| in your request: it names no column|: it is not a column)")


NOT_NAMES = set("""before after onwards since until till during between both either neither each other
differ differs different change changes compare versus than then also again same more less most least
high low higher lower highest lowest much many often fall falls fell rise rises rose drop drops
shortest longest weakest strongest biggest smallest largest earliest latest""".split())   # words no column note would hold


def unfound_words(reason, request):
    """The words a refusal says it did not find or understand, as one phrase
    when they stand together in the request ("violent crime"), or None."""
    m = UNFOUND.match(reason or "")
    words = re.findall(r"\u201c([^\u201d]+)\u201d", m.group(1)) if m else []
    words = [w for w in words if re.fullmatch(r"[^\W\d_][\w' -]*", w) and len(w.split()) <= 4
             and w.casefold() not in NOT_NAMES and not re.search(r"(ly|ed)$", w)]
    if not words:
        return None
    phrase = " ".join(words)
    return phrase if phrase.casefold() in " ".join(request.casefold().split()) else words[0]


def example_column(ds):
    """A column to show a column note on: one whose name says least (digits, shortest)."""
    cols = [c for c in ds.columns if not c.is_date()] if ds is not None else []
    return min(cols, key=lambda c: (not any(ch.isdigit() for ch in c.name), len(c.name))) if cols else None


def teach_text(reason, request, ds):
    """How to tell the analyst once what a word it did not know means."""
    words, col = unfound_words(reason, request), example_column(ds)
    if not words or col is None:
        return None
    name = col.name if re.fullmatch(r"[\w.-]+", col.name) else f"'{col.name}'"
    return (f"If \u201c{words}\u201d is what one of these columns holds, tell me once and I will read those words as "
            f"that column in this project from then on, e.g. if it is {col.name}:\n"
            f"  daa conventions set {name}.means \"{words}\"\n"
            "(a column note; several descriptions separated by \";\").")


def sentence(line):
    """"Total revenue: 1,234.50" → "Total revenue is 1,234.50."; other lines unchanged."""
    m = re.match(r"^([A-Z][^:]{1,80}): ([-+]?[\d,]+(?:\.\d+)?)$", line.strip())
    if m:
        return f"{m.group(1)} is {m.group(2)}."
    return line.rstrip()


NOTE_LINE = re.compile(r"^(pandas warning|\d+ of \d+ values of .* could not be read|Assumption|Time|Groups|The chart shows|The chart overlays|\d+ of \d+ \S+ have no data|\(the table shows)")
KEY_LINE = re.compile(r"^(Chi-square test|Highest|Most common|Strongest correlation|Overall|Accuracy|R\^2|Welch t-test|One-way ANOVA):")


def figures_text(result):
    """"Chart saved: outputs/plots/x.png" lines for the step's figures."""
    figs = [f for f in (result.get("figures") or []) if isinstance(f, str)]
    if not figs:
        return ""
    label = "Chart saved" if len(figs) == 1 else "Charts saved"
    return f"{label}: " + ", ".join(figs)


def success(purpose, result):
    """The final text of a successful step: what was done, the printed numbers, the figures."""
    out = str(result.get("stdout") or "").strip("\n")
    lines = out.splitlines()
    body = []
    notes = list(dict.fromkeys(ln for ln in lines if NOTE_LINE.match(ln)))   # assumptions and caveats first, once
    if notes and len(lines) > 1:
        body.append("\n".join(notes))
        lines = [ln for ln in lines if not NOTE_LINE.match(ln)]
    if len(lines) == 1:
        body.append(sentence(lines[0]))
    elif lines:
        key = [ln for ln in lines if KEY_LINE.match(ln)]
        if len(lines) > 12 and key:
            body.append("\n".join(sentence(ln) for ln in key[:5]))
        shown = lines[:MAX_LINES]
        body.append("\n".join(sentence(ln) for ln in shown))
        if len(lines) > MAX_LINES:
            body.append(f"... ({len(lines) - MAX_LINES} more lines in the step's output)")
    elif isinstance(result.get("result"), dict) and result["result"].get("repr"):
        body.append(str(result["result"]["repr"])[:2000])
    if result.get("truncated"):
        body.append("(The output was truncated.)")
    figs = figures_text(result)
    if figs:
        body.append(figs)
    if not body:
        body.append("The code ran but printed nothing.")
    head = f"Done: {purpose}." if purpose else "Done."
    return head + "\n\n" + "\n\n".join(body)


ERROR_HINTS = {
    "KeyError": "a column or key the code used does not exist in the data as loaded",
    "ValueError": "a value in the data could not be used as the code expected (text in a numeric column, an empty group, ...)",
    "TypeError": "a column has a different type than expected (for example numbers stored as text)",
    "MemoryError": "the data is too large for the kernel's memory limit",
    "KeyboardInterrupt": "the step was interrupted",
    "TimeoutError": "the step ran longer than the time limit",
    "ModuleNotFoundError": "a Python library is not installed in the kernel",
    "FileNotFoundError": "the dataset file is missing from the project's data/ folder",
}


def failure(purpose, result):
    """The honest final text of a failed step: the error, a likely cause, what to try."""
    err = result.get("error") if isinstance(result.get("error"), dict) else {}
    etype = str(err.get("type") or "Error")
    msg = str(err.get("message") or "no message").strip()
    out = str(result.get("stdout") or "").strip()
    if etype == "AssertionError" and msg.startswith("no rows match"):
        return (f"No rows match: {msg[len('no rows match '):]}, so there is nothing to compute."
                + (f"\n\n{out}" if out else "") + "\n\nCheck the spelling of the values, or ask "
                "\u201cunique values of COLUMN\u201d to see what the data holds.")
    hint = ERROR_HINTS.get(etype)
    text = [f"I could not finish: the code for \u201c{purpose or 'this request'}\u201d failed with {etype}: {msg[:500]}"]
    if hint:
        text.append(f"Likely cause: {hint}.")
    if out:
        text.append("What the code printed before it failed:\n" + "\n".join(out.splitlines()[-10:]))
    tb = str(err.get("traceback") or "").strip().splitlines()
    if tb:
        text.append("Last lines of the traceback:\n" + "\n".join(tb[-4:]))
    text.append("I am the builtin offline analyst and do not repair code by myself: you can edit the step "
                "and rerun it (daa edit / daa rerun), rephrase the request, or configure an LLM, which can fix "
                "errors. " + LLM_HOWTO)
    return "\n\n".join(text)
