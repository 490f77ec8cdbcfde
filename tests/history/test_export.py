#!/usr/bin/python3
"""tests/history/test_export.py — a project with an agent step (the
builtin analyst) and two `daa run` steps, one plotting.  The agent's step
is history/001_<slug>.py with the request, date and backend/model in its
header.  `daa export --script` gives a script that runs with
/usr/bin/python3 outside daa (clean environment, another working
directory) and prints exactly what the steps printed, and draws the same
plot; `daa export --notebook --with-outputs` is valid nbformat 4 (Debian's
python3-nbformat validator) and, when python3-nbclient is installed,
executes with the same output."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import Session, skip_unless_built, step_run  # noqa: E402

PY = "/usr/bin/python3"
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def make_steps(s):
    """Three steps; their stdout, concatenated, in order."""
    p = s.daa("--json", "-p", "demo", "ask", "--batch", "total revenue by region")
    res = json.loads(p.stdout)
    assert res["status"] == "done" and res["history"].startswith("history/001_"), res
    with open(os.path.join(s.path, res["history"])) as f:
        head = f.read()
    assert "# request: total revenue by region" in head and "builtin-analyst" in head, head
    out = "".join(st["stdout"] for st in res["steps"] if st["ok"])
    assert "272,229.71" in out, out
    r = step_run(s, "print('mean units', round(dfs['sales']['units'].mean(), 4))")
    out += r["stdout"]
    r = step_run(s, "ax = result.plot(kind='bar')\nplt.show()\nprint('top', result.idxmax())")
    out += r["stdout"]
    assert len(r["figures"]) == 1, r
    return out, os.path.join(s.path, r["figures"][0])


def check_script(s, tmp, want, fig):
    dest = os.path.join(tmp, "share", "analysis.py")
    os.makedirs(os.path.dirname(dest))
    s.daa("-p", "demo", "export", "--script", dest)
    p = subprocess.run([PY, dest], cwd="/", env=CLEAN_ENV, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == want, (p.stdout, want)
    exported = os.path.join(s.path, "outputs", "plots", "exported", "003_run_1.png")
    assert os.path.isfile(exported), os.listdir(os.path.dirname(exported))
    import matplotlib.image as mpimg
    assert mpimg.imread(exported).shape == mpimg.imread(fig).shape
    with open(dest) as f:
        text = f.read()
    assert "os.path.dirname(os.path.abspath(__file__))" in text and s.path not in text
    print("ok - the exported script runs standalone and prints the same numbers, same plot")


def check_notebook(s, tmp, want):
    dest = os.path.join(tmp, "analysis.ipynb")
    s.daa("-p", "demo", "export", "--notebook", dest, "--with-outputs")
    import nbformat
    nb = nbformat.read(dest, as_version=4)
    nbformat.validate(nb)
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 4 and any("total revenue by region" in c.source for c in md), nb.cells
    assert any(o.get("output_type") == "display_data" for o in code[3].outputs), code[3].outputs
    assert any("272,229.71" in o.get("text", "") for o in code[1].outputs), code[1].outputs
    print("ok - the notebook is valid nbformat 4 with a request cell and outputs per step")
    try:
        import nbclient  # noqa: F401
    except ImportError:
        print("ok - # SKIP notebook execution: python3-nbclient not installed")
        return
    run = ("import nbformat, nbclient, sys\nnb = nbformat.read(sys.argv[1], as_version=4)\n"
           "nbclient.NotebookClient(nb, timeout=120, kernel_name='python3').execute()\n"
           "print(''.join(o.get('text', '') for c in nb.cells if c.cell_type == 'code'\n"
           "              for o in c.outputs if o.get('output_type') == 'stream'"
           " and o.get('name') == 'stdout'), end='')\n")
    env = dict(CLEAN_ENV, HOME=tmp, JUPYTER_RUNTIME_DIR=os.path.join(tmp, "jr"))
    p = subprocess.run([PY, "-c", run, dest], cwd=tmp, env=env, capture_output=True, text=True,
                       timeout=180)
    assert p.returncode == 0, p.stderr
    assert p.stdout == want, (p.stdout, want)
    print("ok - the notebook executes with nbclient and prints the same numbers")


def main():
    skip_unless_built()
    tmp = tempfile.mkdtemp(prefix="daa-hist-exp.")
    try:
        with Session() as s:
            want, fig = make_steps(s)
            check_script(s, tmp, want, fig)
            check_notebook(s, tmp, want)
            assert s.alive()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
