#!/usr/bin/python3
"""tests/dask/test_memory_limit.py — the kernel's memory limit (kernel.mem_mb,
RLIMIT_DATA) and the out-of-core rule, through a real daad:
- the default memory budget is half of what the runtime leaves of the limit,
  (mem_mb − 160) / 2 (at least mem_mb / 8): 128 MiB at 416, 432 at 1024,
  25 at 200; what the kernel got in its bind (`dfs.compute`) is that, and a
  configured compute.memory_budget_mb is kept as it is (416: the real
  runtime's `dfs.compute`; the other limits: the bind request's `compute`
  as tests/lib/fake_kernel.py received it, and its RLIMIT_DATA — a real
  kernel start each would cost seconds of CPU for the same number);
- a step that runs out of memory while the kernel holds little gets the
  plain MemoryError; one that runs out while the kernel still holds most of
  its limit (here: a variable of the step before) gets error.hint "N MiB of
  the kernel's 416 MiB memory limit are still held: ... `daa kernel
  restart` frees it" and that advice in its message; `daa run` shows it, and
  a turn (the fake OpenAI server scripts the same step twice) that fails on
  it ends with that advice in its error."""
# daa-test-timeout: 600
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402

sys.path.insert(0, os.path.join(dasklib.ROOT, "tests", "agent"))
from agentlib import API_KEY, FakeLLM, call, reply  # noqa: E402

BUDGET = "dfs.compute['memory_budget_mb']"
TOO_BIG = "big = bytearray(600 << 20)"   # over any of these limits at once
HOLD = "keep = [bytearray(1000) for _ in range(250000)]\nlen(keep)"   # ~250 MiB in small blocks
TURN = [reply(call("run_python", "c%d" % i, code=TOO_BIG, purpose="a big buffer")) for i in (1, 2)]


def budget(s):
    r, p = s.run_json(BUDGET)
    assert r and r["ok"], (r, p.stderr)
    return int(r["result"]["repr"])


BIND = "import resource\n(bind_compute['memory_budget_mb'], resource.getrlimit(resource.RLIMIT_DATA)[0] >> 20)"


def check_budgets():
    """The budget daad sends in bind for other limits, and a configured one
    (fake kernels: the number is daad's; the real runtime's is check_hint's)."""
    for cfg, want in (({"kernel": {"mem_mb": 1024}}, 432), ({"kernel": {"mem_mb": 200}}, 25),
                      ({"kernel": {"mem_mb": 416}, "compute": {"memory_budget_mb": 300}}, 300)):
        with Session(config=cfg, fake_kernel={}) as s:
            r, p = s.run_json(BIND)
            assert r and r["ok"], (r, p.stderr)
            got, limit = eval(r["result"]["repr"])
            assert (got, limit) == (want, cfg["kernel"]["mem_mb"]), (cfg, got, limit, want)
            print("ok - kernel.mem_mb %d%s: the bind's memory budget %d MiB (RLIMIT_DATA %d MiB)"
                  % (limit, ", compute.memory_budget_mb 300 configured" if "compute" in cfg else "",
                     got, limit))


def check_hint(cfg):
    with Session(config=cfg, extra_env={"OPENAI_API_KEY": API_KEY}) as s:
        got = budget(s)
        assert got == 128, got
        print("ok - kernel.mem_mb 416: memory budget %d MiB in the real runtime's dfs.compute" % got)
        r, p = s.run_json(TOO_BIG)
        e = (r or {}).get("error") or {}
        assert r and not r["ok"] and e.get("type") == "MemoryError", (r, p.stderr)
        assert "hint" not in e and "restart" not in e.get("message", ""), e
        print("ok - out of memory with little held: a plain MemoryError")
        r, p = s.run_json(HOLD, timeout=300)
        assert r and r["ok"] and r["result"]["repr"] == "250000", (r, p.stderr)
        r, p = s.run_json(TOO_BIG)
        e = (r or {}).get("error") or {}
        assert r and not r["ok"] and e.get("type") == "MemoryError", (r, p.stderr)
        assert "of the kernel's 416 MiB memory limit are still held" in e.get("hint", ""), e
        assert "`daa kernel restart` frees it" in e["hint"], e
        assert "still holds most of its memory limit" in e["message"], e
        print("ok - out of memory while holding most of the limit: hint %r" % e["hint"])
        p = s.daa("-p", s.project, "run", TOO_BIG, check=False)
        assert p.returncode != 0 and "daa kernel restart" in p.stdout + p.stderr, p
        print("ok - daa run shows the advice")
        with s.d.client(timeout=300) as c:
            r = c.call("ask", {"project": s.project, "request": "make a big buffer"})
        assert r["status"] == "failed" and "`daa kernel restart` frees it" in r["error"], r
        print("ok - a turn that fails on it: %r" % r["error"][:120])
        assert s.alive()


def main():
    skip_unless_built()
    check_budgets()
    work = tempfile.mkdtemp(prefix="daa-memlimit-llm.")
    fake = FakeLLM({"responses": TURN}, work)
    cfg = {"kernel": {"mem_mb": 416},
           "llm": {"backend": "openai", "base_url": fake.base_url, "model": "fake-model",
                   "max_retries": 0, "total_timeout_ms": 40000}}
    try:
        check_hint(cfg)
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
