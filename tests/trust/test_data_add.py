#!/usr/bin/python3
"""tests/trust/test_data_add.py — data.add and project names against
hostile input, through a real daemon:
- a symlink named like a dataset that points into /proc (the daemon's own
  /proc/self/status), /sys or /dev is refused and nothing lands in data/;
  so is a symlink to a folder;
- a 0600 source stays 0600 in data/ (small copy on the loop, big copy in the
  child), a 0644 one stays 0644;
- project and dataset names holding bidi overrides, zero-width or C1
  control characters are refused; ordinary accented names are not;
- the copying child of a big file dies with the daemon (SIGKILL of the daemon
  only, not its group) and removes its temp file at once; a temp left
  anyway is removed when the daemon starts (a user's x.part-2.csv is not)."""
import os
import signal
import stat
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import RpcError, check, run_test_in_dir  # noqa: E402


def refused(c, method, **params):
    try:
        c.call(method, **params)
    except RpcError as e:
        return str(e)
    return None


def data_files(proj):
    return sorted(os.listdir(os.path.join(proj, "data")))


def symlinks(c, proj, work):
    targets = ["/proc/self/status", "/proc/version", "/dev/null", "/dev/zero"]
    for p in ("/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state"):
        if os.path.exists(p):
            targets.append(p)
    os.makedirs(os.path.join(work, "adir.csv"))
    targets.append(os.path.join(work, "adir.csv"))
    for i, t in enumerate(targets):
        link = os.path.join(work, "link%d.csv" % i)
        os.symlink(t, link)
        msg = refused(c, "data.add", project="p", path=link)
        check(msg is not None, "data.add of a symlink to %s was accepted" % t)
        print("ok - symlink to %s refused: %s" % (t, msg))
    check(data_files(proj) == [], "data/ holds %r after refused adds" % data_files(proj))


def modes(c, proj, work):
    for mode, size in ((0o600, 1000), (0o644, 1000), (0o600, 9 << 20), (0o640, 1000)):
        src = os.path.join(work, "m%o_%d.csv" % (mode, size))
        with open(src, "w") as f:
            f.write("a,b\n")
            line = "1,2\n"
            f.write(line * (size // len(line)))
        os.chmod(src, mode)
        r = c.call("data.add", project="p", path=src, timeout=120)
        got = stat.S_IMODE(os.stat(r["path"]).st_mode)
        check(got == mode, "a %o source (%d bytes) became %o in data/" % (mode, size, got))
        print("ok - a %o source of %d bytes is %o in data/" % (mode, size, got))


def names(c, work):
    bad = ["a\u202eb", "x\u2066y", "zero\u200bwidth", "c1\u0085x", "bom\ufeff", "tag\U000e0041",
           "ls\u2028x", "soft\u00adhyphen"]
    for n in bad:
        msg = refused(c, "project.create", name=n)
        check(msg is not None, "project name %r was accepted" % n)
        check(not os.path.exists(os.path.join(work, n)), "a folder was made for %r" % n)
    print("ok - %d project names with control/format characters refused" % len(bad))
    c.call("project.create", name="données-é")
    src = os.path.join(work, "ok.csv")
    with open(src, "w") as f:
        f.write("a\n1\n")
    for n in bad:
        msg = refused(c, "data.add", project="p", path=src, name=n)
        check(msg is not None, "dataset name %r was accepted" % n)
    print("ok - the same names refused as dataset names; an accented project name is fine")


def children_of(pid):
    kids = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            kids.append(int(e))
    return kids


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def copy_dies_with_daemon(d, work):
    """Stop the copying child mid-copy, SIGKILL the daemon alone, let the
    child go on: it must remove its temp file and exit."""
    big = os.path.join(work, "big.csv")
    with open(big, "w") as f:
        f.write("a,b\n")
        chunk = "12345,67890\n" * 100000
        for _ in range(160):                      # ~190 MB
            f.write(chunk)
    c = d.client(timeout=300)
    proj = c.call("project.create", name="q")["path"]
    data = os.path.join(proj, "data")
    dpid = d.d.proc.pid
    child = None
    for attempt in range(5):
        name = "big%d" % attempt
        msgid = c.send("data.add", project="q", path=big, name=name)
        end = time.monotonic() + 60
        while child is None and time.monotonic() < end:
            temps = [f for f in os.listdir(data) if ".part-" in f]
            kids = children_of(dpid) if temps else []
            for k in kids:
                try:
                    os.kill(k, signal.SIGSTOP)
                except ProcessLookupError:
                    continue
                with open("/proc/%d/cmdline" % k, "rb") as f:   # not a kernel: the copier
                    if b"daa_kernel" not in f.read() and alive(k):
                        child = k
                        break
                os.kill(k, signal.SIGCONT)
            if child is None and msgid in c.responses:
                break
            time.sleep(0.001)
        if child is not None:
            break
        c.wait(msgid, timeout=300)               # too quick this time: try again
    check(child is not None, "never caught the copying child mid-copy")
    temps = [f for f in os.listdir(data) if ".part-" in f]
    check(temps, "no temp file while the child copies")
    os.kill(dpid, signal.SIGKILL)                # the daemon alone, not its group
    d.d.proc.wait()
    os.kill(child, signal.SIGCONT)
    end = time.monotonic() + 30
    while (alive(child) or [f for f in os.listdir(data) if ".part-" in f]) and \
            time.monotonic() < end:
        time.sleep(0.02)
    check(not alive(child), "the copying child outlived the daemon")
    left = [f for f in os.listdir(data) if ".part-" in f]
    check(not left, "the copying child left its temp file: %r" % left)
    print("ok - the copying child died with the daemon and removed %s" % temps[0])
    d.d.log.close()
    stale = os.path.join(data, ".old.csv.part-1-1")      # left by a daemon killed at rename
    mine = os.path.join(data, "sales.part-2.csv")        # a user's file, not a temp
    for f in (stale, mine):
        with open(f, "w") as fh:
            fh.write("a\n1\n")
    d.d.start()
    check(not os.path.exists(stale), "a leftover copy temp survived the daemon's start")
    check(os.path.exists(mine), "a user's data/sales.part-2.csv was taken for a temp")
    print("ok - a leftover copy temp is removed at start; a user's x.part-2.csv is kept")


def body(d, work):
    c = d.client(timeout=120)
    proj = c.call("project.create", name="p")["path"]
    symlinks(c, proj, work)
    modes(c, proj, work)
    names(c, work)
    copy_dies_with_daemon(d, work)


def main():
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    run_test_in_dir("daa-trust.", body, fake_kernel={})


if __name__ == "__main__":
    main()
