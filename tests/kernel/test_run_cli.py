#!/usr/bin/python3
"""tests/kernel/test_run_cli.py — `daa run` against a real private daad: a
table, persistent variables, a plot file, `daa doctor` listing the layers,
and an API key held by the daemon that never reaches the kernel.
(Time limits, kill -9, interrupt, restart: test_run_limits.py.)"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kcli import Session, skip_unless_built  # noqa: E402

SECRET = "sk-test-secret"


def main():
    skip_unless_built()
    cfg = {"kernel": {"step_timeout_s": 3, "kill_grace_ms": 1000}}
    with Session(config=cfg, extra_env={"OPENAI_API_KEY": SECRET}) as s:
        p = s.run("df.describe()", check=True)
        assert "count" in p.stdout and "mean" in p.stdout and "revenue" in p.stdout, p.stdout
        print("ok - df.describe() prints a table")

        s.run("y = 7", check=True)
        r, p = s.run_json("y * 6")
        assert r and r["ok"] and r["result"]["repr"] == "42", p.stdout
        assert r["project_path"] == s.path and r["sandbox"]["degraded"] == [], r
        assert r.get("step", "").startswith("history/"), r
        print("ok - variables persist across runs")

        r, p = s.run_json("plt.plot([1, 3, 2]); plt.title('t')")
        assert r and r["ok"] and len(r["figures"]) == 1, p.stdout
        fig = os.path.join(r["project_path"], r["figures"][0])
        assert os.path.isfile(fig) and os.path.getsize(fig) > 0, fig
        print("ok - a plot is saved at", r["figures"][0])

        r, p = s.run_json("import os; str(dict(os.environ))")
        assert r and r["ok"], p.stdout
        assert SECRET not in p.stdout and "OPENAI_API_KEY" not in p.stdout, p.stdout
        print("ok - the API key is not in the kernel's environment")

        p = s.daa("doctor", check=False, timeout=120)
        for want in ("python", "pandas", "sklearn", "sandbox: landlock", "sandbox: seccomp",
                     "kernel"):
            assert want in p.stdout, (want, p.stdout, p.stderr)
        assert p.returncode == 0, (p.stdout, p.stderr)
        st = s.d.call("status")
        assert "doctor-" not in str(st.get("projects_open")), st
        print("ok - doctor lists python, libraries and every layer")
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
