#!/usr/bin/python3
"""Kernel runtime: exec semantics — persistent namespace, the trailing
expression's value, DataFrame previews, capped output with a marker,
tracebacks pointing at the user's lines, SystemExit, invalid UTF-8, syntax
errors, show()/display(), input()."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402

k = kt.Kernel()
proj = kt.make_project({"sales.csv": "a,b\n1,x\n2,y\n"})
try:
    kt.check(k.ready.get("ev") == "ready" and k.ready["libs"].get("pandas"), "ready event with libs", k.ready)
    # versions read beside the modules (daakernel/warm.py), as importlib.metadata says
    import importlib.metadata as md
    for name, dist in (("sklearn", "scikit-learn"), ("openpyxl", "openpyxl"), ("scipy", "scipy"),
                       ("matplotlib", "matplotlib")):
        try:
            want = md.version(dist)
        except md.PackageNotFoundError:
            want = None
        kt.check(k.ready["libs"].get(name) == want, "ready: %s version %s" % (name, want), k.ready)
    r = k.req("bind", project=proj)
    kt.check(r["ok"], "bind (test mode)", r)
    r = k.run("import sys\n'importlib.metadata' in sys.modules")
    kt.check(r["ok"] and r["result"]["repr"] == "False", "importlib.metadata never imported at start", r)
    # daa_kernel.py: no cycle collection while importing, then on again with
    # the libraries' objects frozen; a kernel left with it off would keep
    # every cycle the user's code makes
    r = k.run("import gc\n(gc.isenabled(), gc.get_freeze_count() > 50000)")
    kt.check(r["ok"] and r["result"]["repr"] == "(True, True)", "cycle collection on, the libraries frozen", r)
    # only the start is frozen: a cycle one step made, another step collects
    r = k.run("import weakref\nclass Cyc: pass\nc = Cyc(); c.me = c; w = weakref.ref(c); del c")
    r = k.run("gc.collect()\nw() is None") if r["ok"] else r
    kt.check(r["ok"] and r["result"]["repr"] == "True", "a cycle made by an earlier step is collected", r)

    r = k.run("x = 40")
    kt.check(r["ok"] and r["result"] is None and r["error"] is None, "assignment has no value", r)
    r = k.run("y = x + 1\ny + 1")
    kt.check(r["ok"] and r["result"] == {"repr": "42", "type": "int"}, "namespace persists; last expression value", r)
    r = k.run("y + 1;")
    kt.check(r["ok"] and r["result"] is None, "trailing ';' hides the value", r)
    r = k.run("for i in range(3):\n    print(i)")
    kt.check(r["stdout"] == "0\n1\n2\n" and r["result"] is None, "stdout captured; loop has no value", r)

    code = ("frame = pd.DataFrame({'n': range(12), 'f': [0.5] * 11 + [float('nan')],\n"
            "    't': pd.date_range('2024-01-01', periods=12), 's': ['a'] * 12})\nframe")
    r = k.run(code)
    t = (r.get("result") or {}).get("table") or {}
    kt.check(r["ok"] and r["result"]["type"] == "DataFrame", "DataFrame value", r)
    kt.check(t.get("kind") == "DataFrame" and t.get("shape") == [12, 4], "preview shape", t)
    kt.check(t.get("columns") == ["n", "f", "t", "s"], "preview columns", t)
    kt.check(t.get("dtypes") == ["int64", "float64", "datetime64[ns]", "object"], "preview dtypes", t)
    kt.check(t.get("head", [None])[0] == [0, 0.5, "2024-01-01T00:00:00", "a"], "head cells msgpack-safe", t)
    kt.check(len(t.get("head", [])) == 5 and len(t.get("tail", [])) == 5, "5 head + 5 tail rows", t)
    kt.check(t.get("tail", [[None]])[-1][:2] == [11, None], "NaN becomes nil; last row in tail", t)
    kt.check(t.get("index") == [0, 1, 2, 3, 4] and t.get("tail_index") == [7, 8, 9, 10, 11], "index labels", t)
    kt.check(t.get("name") == "frame", "preview named after the variable", t)
    r = k.run("frame['n'].head(3)")
    t = (r.get("result") or {}).get("table") or {}
    kt.check(t.get("kind") == "Series" and t.get("shape") == [3, 1] and t.get("head") == [[0], [1], [2]], "Series preview", t)
    r = k.run("np.int64(7), np.float32(1.5)")
    kt.check(r["ok"] and r["result"]["type"] == "tuple", "numpy scalars in a tuple value", r)

    r = k.run("show(frame, name='F'); display(3)")
    kt.check(len(r["tables"]) == 1 and r["tables"][0].get("name") == "F" and r["stdout"] == "3\n", "show()/display()", r)

    r = k.run("print('z' * 100000)", max_output=1000)
    kt.check(r["truncated"] is True and len(r["stdout"]) < 1100, "stdout capped", len(r["stdout"]))
    kt.check("... [truncated 99001 bytes]" in r["stdout"], "truncation marker with byte count", r["stdout"][-80:])
    r = k.run("import sys\nsys.stderr.write('e' * 5000)", max_output=100)
    kt.check(r["truncated"] and "[truncated 4900 bytes]" in r["stderr"], "stderr capped too", r["stderr"][-60:])

    r = k.run("import sys\nsys.stdout.buffer.write(b'a\\xff\\xfeb\\n')\nprint('c\\udcffd')")
    kt.check(r["ok"] and r["stdout"] == "a\ufffd\ufffdb\nc\ufffdd\n", "invalid UTF-8 replaced", repr(r["stdout"]))

    r = k.run("def g(v):\n    return 1 / v\n\n\nz = g(0)", step="007_div")
    e = r["error"] or {}
    tb = e.get("traceback", "")
    kt.check(not r["ok"] and e.get("type") == "ZeroDivisionError", "error type", r)
    kt.check('File "<007_div>", line 5, in <module>' in tb and 'File "<007_div>", line 2, in g' in tb,
             "traceback points at the user's lines", tb)
    kt.check("return 1 / v" in tb, "traceback shows the source line", tb)
    kt.check("daakernel" not in tb and "daa_kernel" not in tb, "runtime frames removed", tb)
    r = k.run("g(0)", step="008_again")
    tb = (r["error"] or {}).get("traceback", "")
    kt.check('File "<007_div>", line 2, in g' in tb and "return 1 / v" in tb, "earlier step's function keeps its lines", tb)
    r = k.run("w = 1\nw = 2\nraise ValueError('bad')", step="007_div")
    tb = (r["error"] or {}).get("traceback", "")
    kt.check('"<007_div#2>", line 3' in tb, "repeated step name gets its own file name", tb)

    r = k.run("x = (1,\n  2 +", step="syn")
    e = r["error"] or {}
    kt.check(e.get("type") == "SyntaxError" and '"<syn>", line' in e.get("traceback", "")
             and "ast.py" not in e.get("traceback", ""), "syntax error reported cleanly", e)

    r = k.run("import sys\nsys.exit(3)")
    kt.check(r["error"] and r["error"]["type"] == "SystemExit", "SystemExit reported", r)
    r = k.run("exit()")
    kt.check(r["error"] and r["error"]["type"] == "SystemExit", "exit() reported", r)
    r = k.run("x")
    kt.check(r["ok"] and r["result"]["repr"] == "40", "kernel alive after SystemExit", r)

    r = k.run("def rec(n):\n    return rec(n + 1)\nrec(0)")
    e = r["error"] or {}
    kt.check(e.get("type") == "RecursionError" and len(e.get("traceback", "")) <= 17000, "RecursionError reported, traceback bounded", e)
    r = k.run("input('name? ')")
    kt.check((r["error"] or {}).get("type") == "EOFError" and "not available" in r["error"]["message"], "input() explains itself", r)
    r = k.run("import warnings\nwarnings.warn('careful')")
    kt.check(r["ok"] and "UserWarning: careful" in r["stderr"], "warnings captured on stderr", r)
    r = k.run("class Bad:\n    def __repr__(self):\n        raise RuntimeError('no repr')\nBad()")
    kt.check(r["ok"] and "repr failed: RuntimeError: no repr" in r["result"]["repr"],
             "failing __repr__ is reported in the value, not a crash", r)
    r = k.run("import os, stat\n"
              "def is_sock(fd):\n"
              "    try:\n"
              "        return stat.S_ISSOCK(os.fstat(fd).st_mode)\n"
              "    except OSError:\n"
              "        return False\n"
              "[fd for fd in map(int, os.listdir('/proc/self/fd')) if is_sock(fd)]")
    socks = eval(r["result"]["repr"]) if r["ok"] else None
    kt.check(socks and 3 not in socks and min(socks) >= 10, "daemon socket moved off fd 3 (user code closing low fds cannot cut it)", r)
    r = k.run("big = np.ones((10 ** 6, 10 ** 7))")
    e = r["error"] or {}
    kt.check("MemoryError" in e.get("type", "") and "big" not in k.run("dir()")["result"]["repr"],
             "MemoryError reported, kernel alive", e)
    r = k.run("import os\nos.chdir('/')")
    r = k.run("os.getcwd()")
    kt.check(r["ok"] and r["result"]["repr"] == repr(os.path.realpath(proj)), "each step starts in the project folder", r)
    r = k.run("list(range(10 ** 6))")
    kt.check(r["ok"] and len(r["result"]["repr"]) < 10000 and r["result"]["repr"].endswith("...]"),
             "long list shortened before repr", r["result"]["repr"][-40:])
    r = k.run("sales = pd.DataFrame({'Revenue': [1], 'region': ['n']})\nsales['revenue'].sum()")
    e = r["error"] or {}
    kt.check(e.get("type") == "KeyError" and "'Revenue'" in e.get("hint", "") and "sales" in e.get("hint", ""),
             "KeyError on a column: hint names the close column", e)
    r = k.run("{}['zzz']")
    kt.check("hint" not in (r["error"] or {}), "no hint when nothing is close", r["error"])
    r = k.req("vars")
    vs = {v["name"]: v for v in r.get("vars", [])}
    kt.check(r["ok"] and vs.get("frame", {}).get("shape") == [12, 4] and vs["frame"].get("columns") == ["n", "f", "t", "s"],
             "vars lists DataFrames with shape and columns", r)
    kt.check(vs.get("x", {}).get("repr") == "40" and "pd" not in vs and "dfs" not in vs and "g" in vs,
             "vars: user names only", sorted(vs))
    r = k.req("ping")
    kt.check(r["ok"], "ping", r)
finally:
    rc = k.close()
kt.check(rc == 0, "kernel exits 0 when the socket closes", "rc=%r %s" % (rc, k.log()))
kt.finish([proj])
