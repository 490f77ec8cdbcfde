"""The `exec` request: run a step's code in the persistent namespace, IPython
style (the value of a trailing expression is returned), with stdout/stderr
captured and capped, figures saved, and errors reported with the user's own
line numbers; and the interrupt (SIGINT) rules shared by exec and profile.

Interrupts.  The daemon sends SIGINT only while a request is in flight
(kern_interrupt checks the kernel is busy; the time limit is per request),
so every SIGINT belongs to the request the daemon last sent.  The runtime
sees three moments of that request: it is read and dispatched, its
interruptible work runs ("armed": user code, a dataset load, a profile),
its reply is built and written.  Hence:
  - armed: the handler raises KeyboardInterrupt at once;
  - not armed: it only sets `_pending`.  When the request's interruptible
    work starts (arm()), a pending interrupt fires at once — a SIGINT that
    arrived while the request was read, or before the handler was armed, is
    not lost;
  - `_pending` is cleared when a reply is ready, just before it is written
    (reply_ready(), called by daa_kernel.py's loop): a SIGINT that lands
    after the work ended, while the reply is built, belongs to that
    finished request.  One that lands from then on is kept for the next
    request: the daemon may have read the reply, sent the next request and
    a SIGINT for it (a background profile giving way to a step) before
    this loop is back from the write — clearing after the write lost it.
  - a KeyboardInterrupt the handler raises while a __del__ or a weakref
    callback runs is swallowed by Python (printed as "Exception ignored");
    the loops that wait on Dask call raise_lost_interrupt(), which raises
    it again, so such work still stops.
Ordering: arm() sets `_running` before it tests `_pending`, so a SIGINT
lands either before the test (seen as pending) or after it (raised by the
handler); Python runs the handler between bytecodes of the main thread, so
the two never interleave.  A signal the daemon sent before it wrote a
request is delivered (to the main thread, which does not block it) at the
latest when the kernel's read() of that request returns, and Python runs
the handler at its next check, in the loop's own code before the request
is dispatched — so it is seen before that request's reply is written.
Not decidable here: a SIGINT the daemon sent while request N was in flight
that reaches the runtime only once N's reply is being written (the daemon
had not read it yet) looks exactly like an early SIGINT for request N+1,
and interrupts N+1 if N+1 is an exec or a profile.  The daemon rules it
out: after a reply to a request it sent SIGINT for, a `ping` goes before
the next exec/profile; that SIGINT was sent before the ping, so Python has
run its handler by the time the ping's reply is ready, which clears it."""

import ast
import linecache
import os
import re
import signal
import sys
import traceback
import types

from . import capture, preview

TRACEBACK_MAX = 16384
_STEP_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_LINES = re.compile(r"\r\n|\r|\n")   # line ends as the tokenizer sees them
RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_running = False   # True only while user-influenced code runs ("armed")
_pending = False   # a SIGINT arrived while not armed (see the module doc)
_raised = False    # the handler raised KeyboardInterrupt in this armed work
PENDING_MESSAGE = "interrupted before it started: SIGINT arrived while the request was on its way"


def _on_sigint(signum, frame):
    """SIGINT: interrupt the armed work now, else remember it for the next
    arm() of this request (forgotten when its reply is ready)."""
    global _pending, _raised
    if _running:
        _raised = True
        raise KeyboardInterrupt
    _pending = True


def raise_lost_interrupt():
    """Raise KeyboardInterrupt again when one the handler raised did not end
    the armed work: Python swallows an exception raised while a __del__ or
    a weakref callback runs (a dask.distributed Future collected during a
    wait on the cluster), and the work would go on as if never interrupted.
    Called by the loops that wait on Dask (progress.py, progress_cluster.py)."""
    global _raised
    if _running and _raised:
        _raised = False
        raise KeyboardInterrupt


def reply_ready():
    """A reply is about to be written: a SIGINT from now on is for the next
    request (kept until its arm())."""
    global _pending
    _pending = False


def arm():
    """Arm the interrupt for the request's interruptible work; a SIGINT that
    arrived earlier in this request raises KeyboardInterrupt here.  Call
    inside the try that handles KeyboardInterrupt; disarm() when done."""
    global _running, _pending, _raised
    _running, _raised = True, False   # first: a SIGINT from here on raises in the handler
    if _pending:
        _pending = False
        raise KeyboardInterrupt(PENDING_MESSAGE)


def disarm():
    """End of the interruptible work: SIGINT only sets the pending flag."""
    global _running, _raised
    _running = _raised = False


def run_armed(fn, *args):
    """fn(*args) with SIGINT armed (a pending interrupt fires before fn
    starts); KeyboardInterrupt propagates to the caller."""
    install_sigint()
    try:
        arm()
        return fn(*args)
    finally:
        if _raised:
            forget_half_imports()
        disarm()


def forget_half_imports():
    """Drop from sys.modules every module whose parent package is not there.
    An interrupt that lands while a package's __init__ runs removes that
    package, but the submodules it had already imported stay; importing the
    package again then finds them without binding them to it (a step after
    an interrupted profile failed with "module 'distributed' has no
    attribute 'utils'").  Parents first, so a dropped one takes its own."""
    for name in sorted((n for n in list(sys.modules) if "." in n), key=lambda n: n.count(".")):
        if name.rpartition(".")[0] not in sys.modules:
            sys.modules.pop(name, None)


def interrupt_error(e, what):
    """The error map of an interrupted non-exec request (KERNEL.md shape)."""
    msg = str(e) or "the %s was interrupted (SIGINT); the kernel and its variables are kept" % what
    return {"type": "KeyboardInterrupt", "message": msg, "traceback": ""}


def shielded(fn, *args):
    """fn(*args) with SIGINT held back (it only sets `_pending`), then the
    interrupt state restored: a SIGINT that came meanwhile raises
    KeyboardInterrupt on return when the work is armed.  For writing a
    progress event from inside user code: a frame is never cut in half."""
    global _running, _pending
    was = _running
    _running = False
    try:
        return fn(*args)
    finally:
        _running = was
        if was and _pending:
            _pending = False
            raise KeyboardInterrupt


def install_sigint():
    """(Re)install the interrupt handler (user code may have replaced it)."""
    signal.signal(signal.SIGINT, _on_sigint)


def step_name(step, counter):
    """A file-name-safe step name ('exec_<n>' when none was given)."""
    s = _STEP_SAFE.sub("-", str(step or "")).strip("-.")[:80]
    return s or "exec_%d" % counter


def _names(code):
    """Every name a code object (and the code nested in it) refers to."""
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return out


def _bare_name(stmt):
    """The name when the expression statement is a bare name (`df`), else "".
    Only that is used (as a table's name); ast.get_source_segment would
    give the same, but it is quadratic in the line's length (a 1.4 MB line
    took 90 s)."""
    v = stmt.value
    if isinstance(v, ast.Name) and (v.lineno, v.col_offset, v.end_lineno, v.end_col_offset) == \
            (stmt.lineno, stmt.col_offset, stmt.end_lineno, stmt.end_col_offset):
        return v.id
    return ""


def prepare(source, filename):
    """Parse and compile a step: (body code, trailing expression code or
    None, quiet (the expression ends with ';'), the expression's source).
    SyntaxError and the like propagate."""
    tree = ast.parse(source, filename, "exec")
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr):
        return compile(tree, filename, "exec"), None, False, ""
    line = _LINES.split(source)[last.end_lineno - 1].encode("utf-8", "surrogatepass")
    quiet = line[last.end_col_offset:].lstrip().startswith(b";")   # offsets count bytes
    expr_src = _bare_name(last)
    tree.body.pop()
    body = compile(tree, filename, "exec")
    expr = compile(ast.Expression(last.value), filename, "eval")
    return body, expr, quiet, expr_src


def _strip_runtime(te):
    """Remove the runtime's own frames from a TracebackException and its chain."""
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        te.stack = traceback.StackSummary.from_list(
            [f for f in te.stack if not f.filename.startswith(RUNTIME_DIR)])
        te = te.__cause__ or te.__context__


def format_error(e):
    """{type, message, traceback} with the runtime's frames removed."""
    try:
        te = traceback.TracebackException(type(e), e, e.__traceback__)
        _strip_runtime(te)
        if isinstance(e, SyntaxError) and str(e.filename).startswith("<"):
            te.stack = traceback.StackSummary()   # the compiler's frames say nothing
        text = "".join(te.format())
    except (Exception, MemoryError, RecursionError):
        text = "%s: (traceback unavailable)\n" % type(e).__name__
    if len(text) > TRACEBACK_MAX:
        half = TRACEBACK_MAX // 2
        text = text[:half] + "\n... [%d chars of traceback omitted] ...\n" % (
            len(text) - TRACEBACK_MAX) + text[-half:]
    try:
        msg = str(e)
    except Exception:
        msg = "<unprintable message>"
    if isinstance(e, SystemExit):
        msg = "exit(%s) was called; the kernel keeps running (SystemExit is not "\
              "fatal here)" % (e.code if e.code is not None else "")
    return {"type": type(e).__name__, "message": msg, "traceback": text}


def register_source(filename, source):
    """Put the step's source in linecache so tracebacks show its lines."""
    lines = [ln + "\n" for ln in _LINES.split(source)]   # numbered as the compiler does
    linecache.cache[filename] = (len(source), None, lines, filename)


class Step:
    """One exec request in progress: captured streams, result, tables, error."""

    def __init__(self, max_output):
        self.out = capture.CapStream(max_output)
        self.err = capture.CapStream(max_output)
        self.max_output = max_output
        self.result = None
        self.tables = []
        self.error = None
        self.exc = None

    def show(self, obj, name=None):
        """`show(x)` / `display(x)`: a table preview for DataFrames/Series,
        else the repr printed to the step's output."""
        if preview.is_table(obj):
            self.tables.append(preview.preview(obj, name))
        else:
            self.out.write(preview.capped_repr(obj, self.max_output) + "\n")

    def set_result(self, value, expr_src):
        """The trailing expression's value as {repr, type, table?}."""
        r = {"repr": preview.capped_repr(value, self.max_output),
             "type": type(value).__name__}
        if preview.is_table(value):
            r["table"] = preview.preview(value, expr_src if expr_src.isidentifier() else None)
        self.result = r


def _minimal_error(e):
    """An error map built without the traceback machinery (last resort)."""
    return {"type": type(e).__name__, "message": "interrupted while reporting the step",
            "traceback": ""}


def run_user(step, ns, code, before=None, after=None):
    """Run compiled code (body, expr, quiet, expr_src) with SIGINT armed and
    output captured; fills step.result / step.error.  `before(names)` runs
    first to prepare lazy names; `after()` (figure saving) runs even when
    the code failed."""
    global _running
    body, expr, quiet, expr_src = code
    old = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = step.out, step.err, capture.NoInput()
    try:
        try:
            arm()
            if before is not None:
                before(_names(body) | (_names(expr) if expr else set()))
            exec(body, ns)
            if expr is not None:
                value = eval(expr, ns)
                if value is not None and not quiet:
                    ns["_"] = value
                    step.set_result(value, expr_src)
        except BaseException as e:  # user code: even SystemExit is just a result
            _running = False
            step.error = format_error(e)
            step.exc = e if isinstance(e, KeyError) else None   # for a column hint
        if after is not None:
            _running = True
            after()
    except BaseException as e:  # an interrupt landing in the runtime's own lines
        _running = False
        if step.error is None:
            step.error = _minimal_error(e)
    finally:
        _running = False
        sys.stdout, sys.stderr, sys.stdin = old
        if _raised:
            forget_half_imports()
