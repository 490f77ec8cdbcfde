"""analyst/plan.py — the stateless decision: given the turn state (request,
dataset profiles, conventions, steps so far), what is the next tool call?

  no steps yet, clear request      → run_python (generated code)
  a word fits several columns      → ask_user (the candidates as choices)
  the user answered about the data → remember_convention (once per key)
  last run_python succeeded        → final_answer (its printed numbers, figures)
  last run_python failed           → final_answer explaining the error (no loop)
  not understood / no such column  → final_answer saying so, with examples
Every call re-derives the plan from scratch, so the same state always gives
the same answer.
"""
import json
import re

from analyst import answer, carry, codegen, compare, derived, notes, periods, trend, units
from analyst.audit import FILLER, readings, unused_columns
from analyst.intent import build_intent
from analyst.parse import NeedAsk, Unknown, dataset_score, detect_agg, detect_aggs, detect_freq, find_mentions, tokenize
from analyst.phrasing import apply_decimals, small_decimals, take_decimals, widen_decimals, year_ranges, phrasal_verbs
from analyst.resolve import Resolver, match_answer
from analyst.schema import Dataset, norm, score_column, singular


def tool(name, **args):
    """A tool call object."""
    return {"tool": name, "args": args}


def final(text):
    """A final_answer call."""
    return tool("final_answer", text=text)


def answered_asks(steps):
    """[(question, choices, answer)] of the ask_user steps that have an answer."""
    out = []
    for s in steps:
        if s.get("tool") == "ask_user" and s.get("answer") is not None:
            a = s.get("args") if isinstance(s.get("args"), dict) else {}
            out.append((str(a.get("question") or ""), a.get("choices") or [], str(s.get("answer"))))
    return out


def remembered(steps):
    """Convention keys already stored by remember_convention steps in this turn."""
    return {str((s.get("args") or {}).get("key")) for s in steps
            if s.get("tool") == "remember_convention" and isinstance(s.get("args"), dict)}


def choose_dataset(request, datasets, answers):
    """The dataset the request is about: the only one, the named one, the best fit, or ask."""
    if len(datasets) == 1:
        return datasets[0]
    names = [d.name for d in datasets]
    scores = [dataset_score(request, d, names) for d in datasets]
    best = max(scores)
    top = [d for d, s in zip(datasets, scores) if s == best]
    if len(top) == 1 and best > 0:
        return top[0]
    question = "Which dataset should I use?"
    choices = [d.name for d in (top if best > 0 else datasets)]
    for q, ch, ans in answers:
        if q == question or sorted(map(str, ch)) == sorted(choices):
            pick = match_answer(ans, choices)
            if pick is not None:
                return datasets[names.index(pick)]
    raise NeedAsk(question, choices)


FOLLOW_UP = re.compile(r"^\s*(now|and|also|then|same|same thing|again|but|only|just)\b[\s,]*", re.I)


FRAGMENT = re.compile(r"^\s*(by|per|split by|broken down by|grouped by|in (19|20)\d\d|for (19|20)\d\d)\b", re.I)


def previous_request(digest):
    """The request of the last earlier turn that ended with an answer, or None."""
    for e in reversed(digest if isinstance(digest, list) else []):
        if isinstance(e, dict) and isinstance(e.get("request"), str) and e.get("status", "done") == "done":
            return e["request"]
    return None


def names_data(request, ds, names):
    """True when a request names columns, values, dates or periods (a fragment
    such as "West only" or "monthly" that may continue the previous request)."""
    tokens = tokenize(request)
    return bool(find_mentions(tokens, ds, names) or detect_freq(request.casefold())
                or any(t.kind == "date" or re.fullmatch(r"(19|20)\d\d", t.text) for t in tokens))


TASK_VERBS = (r"calculate|compute|count|find|determine|identify|report|test|plot|draw|perform|check|"
              r"show|give|list|make|create|run|fit|use|conduct|what|which|how|is|are|does|do|when|where|who|"
              r"regress|correlate|estimate|compare|tell|get|provide|describe|summari[sz]e|display|return|print|"
              r"also|predict|visuali[sz]e|calculating|computing")
PART_SPLIT = re.compile(r"\s*(?:;|,?\s+and then\s+|\s+and\s+(?=(?:(?:in|on|at|during|for) )?(?:which|what) \w+(?: of \w+)? (?:was|were|did|do|does|is|are|had|has)\s+(?!it\b|this\b|that\b|they\b))|,\s*then\s+|,?\s+then\s+|,\s*and\s+(?=(?:in|for|during) (?:the )?(?:1[5-9]|20)\d\d(?:s|'s)?\s*[?.!]?\s*$)|,\s*and\s+(?=(?:the|its|their) (?:correlation|mean|average|median|standard deviation|variance|number|count|"
                        r"share|percentage|proportion|total|sum|minimum|maximum|p-value)\b)|,\s*and\s+(?=(?:(?:in|for|at|during|by|on|of|to) (?=how\b|what (?:percent|percentage|share|fraction|proportion|amount)\b))?(?:" + TASK_VERBS + r")\b)"
                        r"|(?<!vs)(?<!e\.g)(?<!i\.e)(?<!etc)(?<!\.[A-Za-z])[.?!]\s+(?=[A-Za-z]))\s*", re.I)   # not after "G.P.A."


def split_parts(request):
    """The parts of a multi-part request ("mean of X, then count its outliers";
    "...; histogram of X"; "Is X normal? Use the Shapiro-Wilk test."), or [request]."""
    parts = [p.strip(" ,.?!") for p in PART_SPLIT.split(request)]
    parts = [p for p in parts if p and not filler_only(p)]
    said = [p for p in parts if UNIT_STATEMENT.fullmatch(p)]   # "T is in days. ...": read by every part
    lead = UNIT_STATEMENT.match(parts[0]) if parts else None
    if lead and parts[0][lead.end():].lstrip().startswith(":"):   # "T is in days: ..., and ..."
        said.append(lead.group(0))
        parts[0] = parts[0][lead.end():].lstrip(" :")
    if said and len(said) < len(parts):
        parts = [": ".join(said) + ": " + p for p in parts if p not in said]
    return parts if len(parts) > 1 else [request]


UNIT_STATEMENT = re.compile(r"[\w ()-]+ (?:is|are|was|were) (?:measured |given |recorded |expressed )?in (?:"
                            + "|".join(sorted(units.UNITS, key=len, reverse=True)) + r")", re.I)


def filler_only(part):
    """True for a part that asks nothing by itself ("Report the values", "Thanks")."""
    toks = tokenize(part)
    if any(t.kind in ("num", "decade", "date") for t in toks):
        return False   # "and in the 1990s": a period
    words = [t.f for t in toks if t.kind == "w"]
    return all(w in FILLER or w in PRESENT_WORDS or w in GLUE for w in words)


GLUE = {"the", "a", "an", "it", "them", "all", "of", "to", "and", "with", "in", "your", "my", "as", "is", "are"}
PRESENT_WORDS = {"report", "state", "provide", "return", "output", "print", "present", "display",
                 "result", "results", "answer", "answers", "final", "respectively"}


def filter_key(it):
    """The filters of an intent, comparable across intents."""
    return tuple((f["kind"], getattr(f.get("col"), "name", None), f.get("op"), str(f.get("value")))
                 for f in it.get("filters") or [])


def same_question(a, b):
    """True when intent b asks what intent a asks (same operation on the same
    columns): "Identify outliers in X using the IQR method. How many outliers are there?"."""
    key = lambda it: (it["op"], tuple(c.name for c in it.get("measures") or []),
                      getattr(it.get("group"), "name", None), tuple(it.get("aggs") or []), filter_key(it))
    if filter_key(b) and filter_key(b) != filter_key(a):
        return False   # "the mean before 1900, then the mean for 1900 and later": two questions
    return key(a) == key(b) or (a["op"] == b["op"] and a["op"] in MERGE_OPS and b.get("borrowed"))


MERGE_OPS = {"outliers", "normality", "corr", "linreg", "ttest"}
MEASURE_OPS = {"agg", "top", "time", "hist", "box", "normality", "outliers", "ttest", "change", "growth"}


AGG_SAID = {"mean": "average", "median": "median", "sum": "total", "std": "standard deviation", "var": "variance",
            "min": "minimum", "max": "maximum"}


def borrow(part, prev):
    """The part with the columns of the part before appended ("..., then count
    the outliers" → "... of X"), and its group for a test ("..., then test
    whether the difference is significant"); None when it had none."""
    cols = [c.name for c in (prev.get("measures") or [])] or [c.name for c in prev.get("others") or []]
    if not cols:
        return None
    named = [a for a in detect_aggs(part.casefold()) if a not in ("min", "max", "count")]
    counting = re.search(r"\b(how many|number of|count)\b", part, re.I)
    agg = AGG_SAID.get(prev.get("agg")) if prev["op"] in ("agg", "top", "time") and not named and not counting else None
    part = part + " of " + (agg + " " if agg else "") + " and ".join(cols)   # "..., and which has the highest": of the median
    g = prev.get("group")
    if g is not None and not getattr(g, "derived", None) and re.search(r"\b(differ\w*|significan\w*|test\w*|compar\w*)\b", part, re.I):
        part += " by " + g.name
    return part


def read_part(part, k, out, digest, datasets, res, answers):
    """(plan, borrowed) of one part: alone, or with the columns of the part
    before when it names none, is not understood alone, or names no measure
    for an operation that needs one ("..., then which firm has the largest
    median")."""
    dig = digest if k == 0 else []
    alt = borrow(part, out[-1][0]) if out else None
    if alt and not find_mentions(tokenize(part), out[-1][1], [d.name for d in datasets]):
        return understand(alt, dig, datasets, res, answers), True
    try:
        plan = understand(part, dig, datasets, res, answers)
    except Unknown:
        if alt is None:
            raise
        try:
            return understand(alt, dig, datasets, res, answers), True
        except Unknown:
            pass
        raise
    if alt and not plan[0].get("measures") and (plan[0]["op"] in MEASURE_OPS
                                                 or detect_agg(part.casefold()) not in (None, "count")):
        try:
            return understand(alt, dig, datasets, res, answers), True
        except Unknown:
            pass
    return plan, False


PLOT_IT = re.compile(r"(?:and |then |also )*(?:please )?(?:plot|chart|graph|draw|visuali[sz]e|show)(?: me)? "
                     r"(?:it|them|this|that|these|the results?|the values)(?: (?:as|in|with) (?:a |an )?[\w ]+)?", re.I)
BACK_REF = re.compile(r"\b(their|those|these|they|them)\b", re.I)


def carry_rows(it, prev, part, borrowed=False):
    """"How many patients are older than 60, and what is their average bmi?":
    a later part that points back at the rows of the one before ("their",
    "those quarters"; "it" when the part names no column of its own) keeps
    that part's filters (said), except those on what it filters itself (a
    period of its own replaces the period before)."""
    ref = BACK_REF.search(part) or (re.search(r"\bit\b", part, re.I) if borrowed else None)
    if not ref or not prev.get("filters"):
        return
    own = {(f["kind"], getattr(f.get("col"), "name", None)) for f in it.get("filters") or []}
    timed = any(is_time(f) for f in it.get("filters") or []) or bool(it.get("points"))
    carry = [dict(f) for f in prev["filters"] if (f["kind"], getattr(f.get("col"), "name", None)) not in own
             and not (timed and is_time(f))]
    if not carry or it.get("filters") and not borrowed and not timed:
        return
    said = dict(prev, filters=carry)
    carry[0]["assume"] = f"\u201c{ref.group(0)}\u201d read as the rows of the part before{codegen.filter_text(said)}"
    it["filters"] = carry + list(it.get("filters") or [])


def is_time(f):
    """A filter on the time: a year or date bound, or a condition on a year / date column."""
    c = f.get("col")
    return f["kind"] in ("date", "year") or c is not None and (c.time_part() is not None or c.is_date())


def understand_parts(request, digest, datasets, res, answers):
    """[(intent, dataset)] for each part of a request (read_part); a part that
    restates the one before ("... How many outliers are there?", "Use the
    Shapiro-Wilk test.") is read together with it."""
    parts = split_parts(request)
    if len(parts) == 1:
        return [understand(request, digest, datasets, res, answers)]
    out, texts = [], []
    for k, part in enumerate(parts):
        if out:
            part = compare.against_year(same_period(part, out[-1][0]), out[-1][0])   # "... compared with 2006"
        if out and PLOT_IT.fullmatch(part.strip(" .,;!?")):   # "..., then plot it": the part before, drawn
            out[-1][0]["plot"] = True
            continue
        picked = pick_of_previous(part, out[-1][0]) if out else None
        if picked is not None:   # "... for each quarter of the year? Which quarter is the highest?"
            out.append((picked, out[-1][1]))
            texts.append(parts[k])
            continue
        if out and PERIOD_ONLY.fullmatch(part.strip(" ?.!")):   # "..., in the 1970s, and in the 1990s?"
            again = PERIOD_IN.sub(PERIOD_IN.search(part).group(0), texts[-1], count=1)
            if again != texts[-1]:
                part = parts[k] = again   # a later "and for ..." repeats this one
        part, ref = refer_value(part, out[-1][0], k) if out else (part, None)
        try:
            part, pick = carry.refer(part, out[-1][0], k) if out else (part, None)
            plan, borrowed = read_part(part, k, out, digest, datasets, res, answers)
            if ref is not None:
                take_value(plan[0], ref)
            if pick is not None and plan[1] is out[-1][1]:
                carry.take(plan[0], pick)
            elif pick is not None:
                raise Unknown(f"I did not understand \u201c{pick['phrase'].strip()}\u201d: the part before is about "
                              "another dataset.")
            if out:
                carry_rows(plan[0], out[-1][0], part, borrowed)
        except Unknown as e:
            plan = merged(out, texts, parts[k], digest, datasets, res, answers)
            if plan is None:
                why = e.args[0] if e.args and e.args[0] else "I do not know how to do it."
                done = "; ".join(f"\u201c{p}\u201d" for p in parts[:k])
                raise Unknown(f"Your request has {len(parts)} parts. I did not understand part {k + 1}, "
                              f"\u201c{parts[k]}\u201d: {why}"
                              + (f" I understood {done}, but I answer all parts or none." if done else "")) from None
            continue
        plan[0]["borrowed"] = borrowed
        if out and same_question(out[-1][0], plan[0]):
            merged(out, texts, parts[k], digest, datasets, res, answers)   # else it only restates it
            continue
        out.append(plan)
        texts.append(parts[k])
    return out


PICK_RE = re.compile(r"(?:and )?(?:(?:tell|show|give) me |(?:say|find|name) )?(?:which|what) ([a-z_]+(?: of the year)?) "
                     r"(?:is|was|has|had|shows|showed) the (highest|lowest|largest|smallest|biggest|greatest|most|least|"
                     r"strongest|weakest)(?: (?:one|value|average|mean|total))?", re.I)


def pick_of_previous(part, prev):
    """"Which quarter is the highest?" after a part that computed one
    statistic per group (per quarter of the year, per firm): the top group of
    that result, not a new question; None for any other part."""
    m = PICK_RE.fullmatch(part.strip(" ?.!,"))
    g = prev.get("group")
    if not m or g is None or prev["op"] != "agg" or len(prev.get("measures") or []) != 1 or prev.get("group2") \
            or len(prev.get("aggs") or [prev.get("agg")]) != 1:
        return None
    word = norm(m.group(1).replace(" of the year", ""))
    if not (word in g.norm or singular(word) in g.snorm.split() or score_column(word, g) >= 60):
        return None
    it = dict(prev, op="top", n=1, ascending=m.group(2).lower() in ("lowest", "smallest", "least", "weakest"), plot=False)
    it["agg"] = prev.get("agg") or (prev.get("aggs") or [None])[0]
    it["borrowed"] = True
    return it


_PERIOD = r"(?:(?:in|for|during|over) (?:the )?(?:1[5-9]|20)\d\d(?:s|'s)?|from (?:1[5-9]|20)\d\d to (?:1[5-9]|20)\d\d)"
_SAME = (r"(?:(?:the )?same(?: (?:two|three|four|\d))?(?: (?:figures|numbers|values|statistics|stats|things|"
         r"measures|results))? |(?:do )?(?:it|this|that) again |again )?")
PERIOD_ONLY = re.compile(r"(?:and |also |then )?(?:give |show |compute |calculate )?" + _SAME + _PERIOD + r"(?: again)?",
                         re.I)   # "in the 1990s", "then the same two figures from 2010 to 2017"
PERIOD_IN = re.compile(r"\b" + _PERIOD, re.I)
SENTINEL = "987654321.125"   # stands for the part before's value while the part is read
REF_RE = re.compile(r"\b(above|below|over|under|greater than|more than|less than|higher than|lower than|exceeding|"
                    r"at least|at most)\s+(?:that|this|it|the previous|the same)(?:\s+(?:value|number|mean|average|"
                    r"median|figure|amount|level|threshold|result|one))?\b", re.I)


def refer_value(part, prev, k):
    """"..., and how many flowers have a sepal width above that value": a
    comparison with the one number the part before computed (one statistic
    of one column); (part with a stand-in number, part number) or (part, None)."""
    m = REF_RE.search(part)
    aggs = [a for a in prev.get("aggs") or [prev.get("agg")] if a]
    if not m or prev["op"] != "agg" or len(prev.get("measures") or []) != 1 or prev.get("group") is not None \
            or len(aggs) != 1 or aggs[0] in ("count", "mode"):
        return part, None
    return part[:m.start()] + m.group(1) + " " + SENTINEL + part[m.end():], (k, prev["measures"][0], aggs[0])


def take_value(it, ref):
    """The filter that read the stand-in number compares with the part before's value."""
    k, c, agg = ref
    f = next((f for f in it["filters"] if str(f.get("value")) == SENTINEL or f.get("value") == float(SENTINEL)), None)
    if f is None:
        raise Unknown("I did not understand what \u201cthat value\u201d compares: name the column, e.g. "
                      "\u201cCOLUMN above that value\u201d.")
    f.update(kind="prev", value=f"part_value_{k}", written=float(SENTINEL),
             said=f"the {AGG_SAID.get(agg, agg)} of {c.name} from part {k}")


def same_period(part, prev):
    """"... that year" / "the same year" in a later part: the year the part
    before was filtered to ("For 1950, total invest, and which firm had the
    largest value that year")."""
    years = [f["value"] for f in prev.get("filters") or [] if f["kind"] == "year"]
    two = [f["value"] for f in prev.get("filters") or [] if f["kind"] == "isin" and f["col"].time_part() == "year"]
    if len(two) == 1 and len(two[0]) == 2:   # "in 1960 and in 2010, ... between them": those two years
        a, b = sorted(two[0])
        part = re.sub(r"\b(between|from) (them|the two|these two|those two|both)( years| periods| dates)?\b",
                      f"between {a} and {b}", part, flags=re.I)
    if len(years) != 1:
        return part
    return re.sub(r"\b(in |for |during )?(that|the same|this) (year|period)\b", f"in {years[0]}", part, flags=re.I)


def merged(out, texts, part, digest, datasets, res, answers):
    """The previous part read together with this one ("Is X normal? Use the
    Shapiro-Wilk test."), replacing it in out; None when that is not
    understood, or when it asks more than the previous part did (a new
    filter or measure: two questions, not one restated)."""
    if not out:
        return None
    text = texts[-1] + ", " + part
    try:
        plan = understand(text, digest if len(out) == 1 else [], datasets, res, answers)
    except Unknown:
        return None
    prev = out[-1][0]
    if plan[0]["op"] != prev["op"] or filter_key(plan[0]) != filter_key(prev) \
            or [c.name for c in plan[0].get("measures") or []] != [c.name for c in prev.get("measures") or []]:
        return None
    out[-1], texts[-1] = plan, text
    return plan


def understand(request, digest, datasets, res, answers):
    """(intent, dataset) for the request; a follow-up ("now for 2023", or a
    fragment not understood alone) is read together with the previous request."""
    carry.unread(request)   # "in that quarter" no part before singled out
    prev = previous_request(digest)
    m = FOLLOW_UP.match(request)
    names = [d.name for d in datasets]
    if prev and (m or FRAGMENT.match(request)):
        rest = request[m.end():] if m else request
        if re.match(r"\s*(by|per|split by|broken down by|grouped by)\b", rest, re.I):
            prev = re.sub(r"\b(by|per|for each)\s+[\w-]+", " ", prev)   # the new grouping replaces the old
        combined = prev + " " + rest
        ds = choose_dataset(combined, datasets, answers)
        return build_intent(combined, ds, res, names), ds
    ds = choose_dataset(request, datasets, answers)
    try:
        return build_intent(request, ds, res, names), ds
    except Unknown as e:
        if not prev or e.args[0] is not None or not names_data(request, ds, names):
            raise
        combined = prev + " " + request
        ds2 = choose_dataset(combined, datasets, answers)
        try:
            return build_intent(combined, ds2, res, names), ds2
        except Unknown:
            raise e from None


def generate_parts(plans, conventions):
    """One program answering every part in turn, each under a header line."""
    codes, purposes = [], []
    for k, (it, _) in enumerate(plans, 1):
        if it["op"] == "help":
            continue
        try:
            code, purpose = generate(it, conventions)
        except Unknown as e:
            raise Unknown(f"Your request has {len(plans)} parts. In part {k}: {e.args[0]}") from None
        if any(f["kind"] == "prev" and f["value"] == f"part_value_{k}" for p, _ in plans[k:] for f in p["filters"]):
            code += f"part_value_{k} = value\n"   # a later part compares with this part's number
        code += carry.code_after(plans, k)   # a later part keeps the period or group this part found
        codes.append(f"print({json.dumps('Part ' + str(k) + ': ' + purpose, ensure_ascii=False)})\n" + code)
        purposes.append(purpose)
    return "\n".join(codes), "; then ".join(purposes)


def generate(it, conventions):
    """(code, purpose) of one intent, its numbers printed with the decimals
    its columns need (small values get more than two), the columns named only
    loosely said ("Assumption: ..."); refused when a column the request names
    does not appear in the code (the plan dropped it)."""
    code, purpose = codegen.generate(it, conventions)
    unused_columns(it, code)
    said = "".join(f"print({json.dumps(line, ensure_ascii=False)})\n" for line in readings(it, code))
    return said + widen_decimals(code, small_decimals(it)), purpose


def guess_dataset(request, datasets):
    """The dataset a request not understood is most likely about, or None."""
    try:
        return choose_dataset(request, datasets, [])
    except (NeedAsk, Unknown):
        return None


def last_run(steps):
    """The last run_python step, or None."""
    for s in reversed(steps):
        if s.get("tool") == "run_python":
            return s
    return None


def decide(state):
    """The next tool call for a turn state (a dict parsed from the input JSON)."""
    request = str(state.get("request") or "").strip()
    steps = [s for s in (state.get("steps") or []) if isinstance(s, dict)]
    conventions = state.get("conventions") if isinstance(state.get("conventions"), dict) else {}
    datasets = [Dataset(p) for p in (state.get("datasets") or []) if isinstance(p, dict)]
    notes.attach(datasets, conventions)
    run = last_run(steps)
    if run is not None:
        result = run.get("result") if isinstance(run.get("result"), dict) else {}
        purpose = str((run.get("args") or {}).get("purpose") or "")
        if result.get("error") or result.get("ok") is False:
            return final(answer.failure(purpose, result))
    if not request:
        return final(answer.not_understood(request, "You did not ask anything."))
    if not datasets:
        return final("There is no dataset in this project yet. Add one with `daa add FILE.csv` "
                     "(CSV, TSV, XLSX, JSON or Parquet) and ask again.")
    answers = answered_asks(steps)
    res = Resolver(conventions, answers)
    res.several = len(datasets) > 1
    ds = None
    request, decimals = take_decimals(request)
    request = phrasal_verbs(year_ranges(request))
    try:
        request = derived.apply(request, datasets)   # "high minus low", "the daily return of close": new columns
        request = trend.apply(request, datasets)     # "regress X on the year", "the trend of X per year"
        request = periods.apply(request, datasets)   # "X before 1980 and from 1980 onwards": two groups
        plans = understand_parts(request, state.get("digest"), datasets, res, answers)
        it, ds = plans[0]
        if it["op"] != "help":
            code, purpose = generate_parts(plans, conventions) if len(plans) > 1 else generate(it, conventions)
    except NeedAsk as e:
        if e.key:  # the daemon stores the user's answer under this convention key
            return tool("ask_user", question=e.question, choices=e.choices, key=e.key)
        return tool("ask_user", question=e.question, choices=e.choices)
    except Unknown as e:
        ds = ds or guess_dataset(request, datasets)
        cols = [c.name for c in ds.columns] if ds else None
        return final(answer.not_understood(request, e.args[0] if e.args else None, cols, ds))
    if it["op"] == "help":
        return final(answer.help_text())
    done = remembered(steps)
    for key, value, why in res.learned:
        if key and key not in done and res.conv(key) != value:
            return tool("remember_convention", key=key, value=value, why=why)
    code = apply_decimals(derived.inject(code, datasets), decimals)
    if decimals is not None:
        purpose += f", rounded to {decimals} decimals"
    if run is not None:
        return final(answer.success(purpose, run.get("result") or {}))
    return tool("run_python", code=code, purpose=purpose)
