#!/usr/bin/python3
"""tests/history/test_save_unlistable.py — a failure to save is never
reported as success, and an unlistable history/ is never renumbered from
001 (issue 14 item 2).  The daemon runs without CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH (setpriv), so history/ at mode 0300 can be written but
not listed, as for any user.

After step 1 is saved: `daa run` and `daa ask` (fake OpenAI server) with
history/ unlistable both run, reply that the step was NOT saved and why
(`step_error` / `history_error`, the answer says it too), exit with status
5, and step 001 is byte-identical with no other file in history/.  With
history/ listable again the next run is saved as step 2."""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import ROOT, run_with_fake, step_run  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402

WRAPPER = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
           "--inh-caps", "-dac_override,-dac_read_search", "--"]


def body(s, fake):
    r = step_run(s, "x = 1\nprint('first', x)")
    assert r["step"] == "history/001_run.py", r
    hist = os.path.join(s.path, "history")
    with open(os.path.join(hist, "001_run.py"), "rb") as f:
        first = f.read()
    os.chmod(hist, 0o300)
    try:
        p = s.daa("--json", "-p", "demo", "run", "x = 2\nprint('second', x)", check=False)
        r = json.loads(p.stdout)
        assert p.returncode == 5, (p.returncode, p.stdout, p.stderr)
        assert r["ok"] and "step" not in r and "cannot list" in r["step_error"], r
        p = s.daa("-p", "demo", "run", "x = 3", check=False)
        assert p.returncode == 5 and "NOT saved" in p.stderr and "cannot list" in p.stderr, \
            (p.returncode, p.stderr)
        print("ok - daa run: the reply and exit status 5 say the step was not saved, and why")

        fake.set_script({"responses": [
            reply(call("run_python", "c1", code="y = 4\nprint('turn', y)", purpose="y")),
            final("Done.")]})
        p = s.daa("--json", "-p", "demo", "ask", "--batch", "set y", check=False)
        res = json.loads(p.stdout)
        assert p.returncode == 5, (p.returncode, p.stderr)
        assert res["status"] == "done" and res["history"] is None, res
        assert "cannot be listed" in res["history_error"], res
        assert "NOT saved" in res["answer"], res["answer"]
        fake.set_script({"responses": [
            reply(call("run_python", "c2", code="y = 5", purpose="y")), final("Done.")]})
        p = s.daa("-p", "demo", "ask", "--batch", "set y again", check=False)
        assert p.returncode == 5 and "NOT saved" in p.stderr, (p.returncode, p.stderr)
        print("ok - daa ask: history_error, the answer and exit status 5 say it was not saved")
    finally:
        os.chmod(hist, 0o755)
    assert sorted(os.listdir(hist)) == ["001_run.py"], os.listdir(hist)
    with open(os.path.join(hist, "001_run.py"), "rb") as f:
        assert f.read() == first, "step 001 was overwritten"
    print("ok - step 001 untouched, nothing else written while history/ could not be listed")
    r = step_run(s, "print('third')")
    assert r["step"] == "history/002_run.py", r


def main():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("skip: needs root and setpriv (util-linux) to run daad without DAC capabilities")
        return 77
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    return run_with_fake("daa-save-unlistable.", body, wrapper=WRAPPER, fake_kernel={})


if __name__ == "__main__":
    sys.exit(main())
