"""tests/profiles/proflib.py — what the profile tests share: waiting for a
line of the daemon's log (the fake kernel, tests/lib/fake_kernel.py, logs
each request it gets there, so a test can wait for "the profile request is
in the kernel"), and the fake kernel's script of a profile held on a gate."""
import time


def wait_log(d, text, timeout=120, times=1):
    """Wait until the daemon's log holds text (at least `times` times) — a
    hang guard, not a timing check."""
    end = time.monotonic() + timeout
    while d.log_text().count(text) < times:
        if time.monotonic() > end:
            raise TimeoutError("no %r in the daemon log" % text)
        time.sleep(0.05)


GATE = "outputs/profile-go"


def gated_big_profile(rows):
    """The fake kernel's script: the profile of dataset "big" (rows rows, with
    its summary) is held until the project's GATE file appears."""
    return {"profile": [{"code": "big", "gate": GATE,
                         "reply": {"profile": {"name": "big", "rows": rows, "columns": []},
                                   "summary": {"dataset": "big", "rows": rows, "n_columns": 2,
                                               "columns": []}}}]}
