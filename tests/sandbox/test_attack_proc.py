#!/usr/bin/python3
"""Attack suite: /proc.  A kernel has a pid namespace of its own with a
/proc of its own (hidepid=2): it is pid 1 there and no process of the host
has a pid it can name.  Aimed at the daemon and at a victim process of the
same user started by this test (its environment holds a secret): their
/proc entries by pid (environ, cmdline, status, stat, fd, maps, cwd, root,
exe, task, ns), the same through /proc/self/.. and /proc/thread-self/..,
guessing pids instead of listing /proc, what /proc/1 and /proc/self say,
/proc/sys/kernel/ns_last_pid (read: whose counter; write: refused), the
peer credentials of the kernel's channel (the daemon's pid), pidfd_open
of a host pid.  x86_64 syscall numbers."""
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402

VICTIM_SECRET = "victim-secret-proc-attack"

# @PIDS@: the host pids aimed at (the daemon's and the victim's).
PIDS = "(@DAEMON_PID@, @VICTIM@)"


def setup(ctx):
    """A same-user host process whose environment holds a secret."""
    env = dict(os.environ, VICTIM_TOKEN=VICTIM_SECRET)
    victim = subprocess.Popen(["/bin/sleep", "3600"], env=env, stdin=subprocess.DEVNULL)
    ctx.vars["@VICTIM@"] = str(victim.pid)
    ctx.victim = victim

    def teardown():
        victim.kill()
        victim.wait()
    return teardown


def no_victim_secret(s, ctx, r):
    out = (r or {}).get("stdout", "")
    return "the victim's secret reached the output" if VICTIM_SECRET in out else None


ATTACKS = [
    Attack("/proc/<host pid>/environ, cmdline, status, stat", '''
for pid in @PIDS@:
    for what in ("environ", "cmdline", "status", "stat", "io", "limits", "mountinfo"):
        probe("%d-%s" % (pid, what), lambda: open("/proc/%d/%s" % (pid, what), "rb").read(200))
'''.replace("@PIDS@", PIDS), "blocked", no_victim_secret),
    Attack("/proc/<host pid>/fd, maps, cwd, root, exe, task, ns", '''
for pid in @PIDS@:
    b = "/proc/%d/" % pid
    probe("%d-fd-list" % pid, lambda: os.listdir(b + "fd"))
    probe("%d-fd0" % pid, lambda: os.readlink(b + "fd/0"))
    probe("%d-fdinfo" % pid, lambda: os.listdir(b + "fdinfo"))
    probe("%d-maps" % pid, lambda: open(b + "maps").read(100))
    probe("%d-smaps" % pid, lambda: open(b + "smaps_rollup").read(100))
    probe("%d-cwd" % pid, lambda: os.listdir(b + "cwd"))
    probe("%d-root" % pid, lambda: os.listdir(b + "root"))
    probe("%d-exe" % pid, lambda: os.readlink(b + "exe"))
    probe("%d-task" % pid, lambda: os.listdir(b + "task"))
    probe("%d-task-environ" % pid, lambda: open(b + "task/%d/environ" % pid, "rb").read(200))
    probe("%d-ns-user" % pid, lambda: os.readlink(b + "ns/user"))
    probe("%d-exists" % pid, lambda: os.path.exists(b) or False)
'''.replace("@PIDS@", PIDS), "blocked", no_victim_secret),
    Attack("/proc/self/../<host pid> and /proc/thread-self/..", '''
for pid in @PIDS@:
    probe("%d-self-dotdot" % pid, lambda: open("/proc/self/../%d/cmdline" % pid, "rb").read())
    probe("%d-thread-self" % pid,
          lambda: open("/proc/thread-self/../../%d/environ" % pid, "rb").read())
    probe("%d-fd-dotdot" % pid,
          lambda: open("/proc/self/fd/../../%d/status" % pid).read(40))
    fd = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
    try:
        probe("%d-openat" % pid, lambda: os.open("%d/cmdline" % pid, os.O_RDONLY, dir_fd=fd))
    finally:
        os.close(fd)
'''.replace("@PIDS@", PIDS), "blocked", no_victim_secret),
    Attack("list /proc (and /proc/self/task) for other processes", '''
me = os.getpid()
probe("proc-list", lambda: [p for p in os.listdir("/proc") if p.isdigit() and int(p) != me] or False)
probe("proc-scandir", lambda: [e.name for e in os.scandir("/proc") if e.name.isdigit() and
                               int(e.name) != me] or False)
def foreign_tasks():
    bad = []
    for t in os.listdir("/proc/self/task"):
        st = open("/proc/self/task/%s/status" % t).read()
        tgid = [l.split()[1] for l in st.splitlines() if l.startswith("Tgid:")]
        if tgid != [str(me)]:
            bad.append(t)
    return bad or False
probe("task-list", foreign_tasks)
''', "blocked"),
    Attack("guess pids instead of listing /proc", '''
me = os.getpid()
def tgid(n):
    try:
        for l in open("/proc/%d/status" % n):
            if l.startswith("Tgid:"):
                return int(l.split()[1])
    except OSError:
        return None
def found(pids):
    # the kernel's own threads have pids here too (their Tgid is its own)
    return [n for n in pids if os.path.exists("/proc/%d" % n) and tgid(n) not in (me, None)] or False
probe("guess-low", lambda: found(range(1, 1 << 16)))
probe("guess-near-daemon", lambda: found(range(max(1, @DAEMON_PID@ - 300), @DAEMON_PID@ + 300)))
probe("guess-victim", lambda: found([@VICTIM@]))
''', "blocked"),
    Attack("what /proc/1 and /proc/self say", '''
probe("pid1-not-self", lambda: os.readlink("/proc/self") != "1" and os.readlink("/proc/self"))
probe("pid1-cmdline", lambda: b"daa_kernel" not in open("/proc/1/cmdline", "rb").read() and
      open("/proc/1/cmdline", "rb").read())
def nspid():
    st = open("/proc/self/status").read()
    f = [l.split()[1:] for l in st.splitlines() if l.startswith("NSpid:")]
    return f[0] if f and f[0] != ["1"] else False
probe("own-host-pid", nspid)
probe("ppid", lambda: os.getppid() != 0 and os.getppid())
def stat_ids():
    f = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
    ppid, pgrp, sid = int(f[1]), int(f[2]), int(f[3])
    return (ppid, pgrp, sid) if ppid or pgrp > 1 or sid > 1 else False
probe("stat-ids", stat_ids)
probe("getsid", lambda: os.getsid(0) > 1 and os.getsid(0))
''', "blocked"),
    Attack("/proc/sys/kernel/ns_last_pid", '''
def last_pid():
    n = int(open("/proc/sys/kernel/ns_last_pid").read())
    return n if n > 64 else False   # the host's counter, not its own namespace's
probe("ns_last_pid-read", last_pid)
def write_it():
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write("30000")
    return True
probe("ns_last_pid-write", write_it)
probe("pid_max-write", lambda: open("/proc/sys/kernel/pid_max", "w").write("4096"))
''', "blocked"),
    Attack("the daemon's pid from the kernel's channel, pidfd_open", '''
import socket, struct
def peer_pids():
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink("/proc/self/fd/" + fd).startswith("socket:"):
                continue
            s = socket.socket(fileno=os.dup(int(fd)))
        except OSError:
            continue
        try:
            pid, uid, gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            out.append(pid)
        except OSError:
            pass
        finally:
            os.close(s.detach())
    return [p for p in out if p not in (0, os.getpid())] or False
probe("peercred", peer_pids)
for pid in (@DAEMON_PID@, @VICTIM@):
    probe("pidfd-%d" % pid, lambda: sysc(434, pid, 0))
''', "blocked"),
]

if __name__ == "__main__":
    if platform.machine() != "x86_64":
        print("skip: syscall numbers are x86_64")
        sys.exit(77)
    sys.exit(run_suite("/proc and host pids", ATTACKS, setup=setup))
