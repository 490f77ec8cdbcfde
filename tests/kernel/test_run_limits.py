#!/usr/bin/python3
"""tests/kernel/test_run_limits.py — a kernel's bad days through `daa` on a
real private daad: the step time limit (a step that ignores SIGINT is killed
and a fresh kernel bound; the next run works), kill -9 of the kernel mid-step,
`daa kernel interrupt` of `while True: pass`, `daa kernel restart`, the
CPU time limit.  The kernel's host pid is the one the daemon reports: inside
its own pid namespace it is pid 1.

What is tested is the daemon's side (limits, signals, replies, fresh kernels,
history replay), so the kernels are tests/lib/fake_kernel.py: it runs the
steps' plain Python with the runtime's SIGINT rules, sandboxed and limited
as the real runtime is, and starts in milliseconds instead of the 1.7 s of
CPU a real kernel's imports cost (six kernels here).  The real runtime's
interrupt is tested by tests/kernel_runtime/test_interrupt*.py, its time
limit through the daemon by tests/sandbox/test_attack_resources.py.  The
steps that outlive a time limit sleep in a loop (ENDLESS) rather than spin:
the daemon's side is the same (SIGINT, then SIGKILL after the grace) and
the burnt CPU was ~3 s of the test's 10; only the CPU-time limit spins."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kcli import Session, skip_unless_built, wait_for_marker  # noqa: E402

ENDLESS = "import time\nwhile True: time.sleep(0.02)"   # never ends by itself, uses no CPU

def main():
    skip_unless_built()
    cfg = {"kernel": {"step_timeout_s": 2, "kill_grace_ms": 1000}}
    with Session(config=cfg, fake_kernel={}) as s:
        s.run("y = 7", check=True)
        p = s.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + ENDLESS)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert "longer than 2 s" in p.stderr and "restarted" in p.stderr, p.stderr
        r, p = s.run_json("1 + 1")
        assert r and r["result"]["repr"] == "2", p.stdout
        r, p = s.run_json("y")
        assert r and r["ok"] and r["result"]["repr"] == "7", p.stdout  # restored from history
        print("ok - time limit: clear error, fresh kernel (history replayed), next run works")

        s.run("kept = 5", check=True)
        p = s.run(ENDLESS, "--timeout", "1")
        assert p.returncode == 1 and "longer than 1 s" in p.stderr, (p.stdout, p.stderr)
        assert "interrupted" in p.stderr and "kept" in p.stderr, p.stderr
        r, p = s.run_json("kept")
        assert r and r["result"]["repr"] == "5", p.stdout
        print("ok - run --timeout: a step that stops on SIGINT keeps the kernel")

        # the host pid comes from the daemon: inside its pid namespace the
        # kernel is pid 1
        r, p = s.run_json("import os; os.getpid()")
        assert r and r["result"]["repr"] == "1", p.stdout
        pid = s.kernel_pid()
        assert pid and pid > 1, pid
        marker = os.path.join(s.path, "outputs", "sleeping")
        proc = s.popen("-p", "demo", "run",
                       "import time; open('outputs/sleeping', 'w').close(); time.sleep(60)")
        wait_for_marker(marker, proc)
        os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1 and "killed" in err and "fresh kernel" in err, (out, err)
        r, p = s.run_json("2 + 2")
        assert r and r["result"]["repr"] == "4", p.stdout
        print("ok - kill -9 of the kernel: clear error, fresh kernel next time")

        marker = os.path.join(s.path, "outputs", "spinning")
        proc = s.popen("-p", "demo", "run",
                       "open('outputs/spinning', 'w').close()\nwhile True: pass")
        wait_for_marker(marker, proc)
        s.daa("-p", "demo", "kernel", "interrupt")
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1 and "KeyboardInterrupt" in out + err, (out, err)
        print("ok - kernel interrupt stops while True: pass")

        s.run("w = 1", check=True)
        before = s.kernel_pid()
        s.daa("-p", "demo", "kernel", "restart")
        r, p = s.run_json("'w' in dir()", "--scratch")
        assert r and r["result"]["repr"] == "True", p.stdout
        fresh = s.kernel_pid()
        assert before and fresh and fresh != before, (fresh, before)
        print("ok - kernel restart gives a fresh kernel with the history replayed")

        assert s.alive()

    # The CPU limit: as pid 1 of its pid namespace the kernel ignores the
    # soft limit's SIGXCPU and dies of the hard limit's SIGKILL; the daemon
    # still says it was the CPU limit (not "killed, most likely memory").
    # The limit counts from the kernel's start (a real kernel's imports
    # would take more than this 1 s; the fake's take milliseconds).
    with Session(config={"kernel": {"cpu_s": 1, "step_timeout_s": 120}}, fake_kernel={}) as s:
        p = s.run("while True: pass")
        assert p.returncode == 1 and "CPU time limit (1 s)" in p.stderr, (p.stdout, p.stderr)
        r, p = s.run_json("3 + 3")
        assert r and r["result"]["repr"] == "6", p.stdout
        print("ok - the CPU time limit is named as such; the next step gets a fresh kernel")
    return 0


if __name__ == "__main__":
    sys.exit(main())
