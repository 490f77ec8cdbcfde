"""tests/profiles/proflib.py — what the profile tests share: waiting for a
line of the daemon's log (the fake kernel, tests/lib/fake_kernel.py, logs
each request it gets there, so a test can wait for "the profile request is
in the kernel")."""
import time


def wait_log(d, text, timeout=120):
    """Wait until the daemon's log holds text (a hang guard, not a timing check)."""
    end = time.monotonic() + timeout
    while text not in d.log_text():
        if time.monotonic() > end:
            raise TimeoutError("no %r in the daemon log" % text)
        time.sleep(0.05)
