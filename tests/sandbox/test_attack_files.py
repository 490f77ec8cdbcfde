#!/usr/bin/python3
"""Attack suite: files.  No reading a secret in $HOME/.ssh or /etc/shadow,
no writing outside outputs/ and the private tmp, data/ cannot be changed or
deleted (also through symlinks and hard links), another project is out of
reach, /proc of the daemon is closed, /proc/self/mem gives nothing more."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import SSH_SECRET, Attack, run_suite  # noqa: E402


def no_secret(s, ctx, r):
    return "the secret was read" if r and SSH_SECRET in r.get("stdout", "") else None


def nothing_at(*rel):
    def check(s, ctx, r):
        for p in rel:
            p = ctx.fill(p)
            if os.path.lexists(p):
                return "%s was created" % p
        return None
    return check


def data_mode_kept(s, ctx, r):
    p = os.path.join(s.path, "data", "sales.csv")
    mode = stat.S_IMODE(os.stat(p).st_mode)
    if mode & 0o400 == 0:
        os.chmod(p, 0o644)   # so the rest of the suite can go on
        return "data/sales.csv mode was changed to %o" % mode
    return None


ATTACKS = [
    Attack("read ~/.ssh secret", '''
probe("ssh", lambda: print(open("@HOME@/.ssh/id_rsa").read()))
probe("ssh-listdir", lambda: os.listdir("@HOME@/.ssh"))
''', "blocked", no_secret),
    Attack("read /etc/shadow", '''
probe("shadow", lambda: open("/etc/shadow").read()[:20])
probe("gshadow", lambda: open("/etc/gshadow").read()[:20])
''', "blocked"),
    Attack("write outside outputs/", '''
probe("home", lambda: open("@HOME@/pwned", "w").write("x"))
probe("tmp", lambda: open("/tmp/daa-pwned", "w").write("x"))
probe("history", lambda: open("history/999_evil.py", "w").write("x"))
probe("project-root", lambda: open("conventions.json", "a").write("x"))
probe("dotdaa", lambda: open(".daa/evil", "w").write("x"))
probe("parent", lambda: open("../pwned", "w").write("x"))
''', "blocked", nothing_at("@HOME@/pwned", "/tmp/daa-pwned", "@PROJECT@/history/999_evil.py",
                           "@PROJECT@/.daa/evil")),
    Attack("change or delete data/", '''
probe("append", lambda: open("data/sales.csv", "a").write("evil"))
probe("truncate", lambda: open("data/sales.csv", "w"))
probe("remove", lambda: os.remove("data/sales.csv"))
probe("rename", lambda: os.rename("data/sales.csv", "outputs/stolen.csv"))
probe("new-file", lambda: open("data/new.csv", "w").write("x"))
probe("rmdir", lambda: os.rmdir("data"))
''', "blocked", nothing_at("@PROJECT@/data/new.csv", "@PROJECT@/outputs/stolen.csv")),
    Attack("chmod data/", '''
probe("chmod", lambda: os.chmod("data/sales.csv", 0o000))
''', "contained", data_mode_kept, "sandbox: Landlock (ABI 7) has no right for file "
   "metadata, so chmod of data/ files is allowed; seccomp could refuse chmod/fchmod/"
   "fchmodat/chown* (or data/ files could be owned by another uid)"),
    Attack("symlink out of outputs/", '''
def f():
    os.symlink("@HOME@/.ssh/id_rsa", "outputs/link")
    return open("outputs/link").read()
probe("symlink-read", f)
def g():
    if not os.path.lexists("outputs/dlink"):
        os.symlink("@PROJECT@/data/sales.csv", "outputs/dlink")
    open("outputs/dlink", "a").write("evil")
probe("symlink-write-data", g)
''', "blocked", no_secret),
    Attack("hard links", '''
def f():
    os.link("data/sales.csv", "outputs/hl.csv")
    open("outputs/hl.csv", "a").write("evil")
probe("hardlink-data", f)
probe("hardlink-secret", lambda: os.link("@HOME@/.ssh/id_rsa", "outputs/key"))
''', "blocked", nothing_at("@PROJECT@/outputs/hl.csv", "@PROJECT@/outputs/key")),
    Attack("another project", '''
probe("other-read", lambda: open("@OTHER@/data/private.csv").read())
probe("other-write", lambda: open("@OTHER@/data/evil.csv", "w").write("x"))
probe("other-list", lambda: os.listdir("@OTHER@"))
''', "blocked", nothing_at("@OTHER@/data/evil.csv")),
    Attack("/proc of the daemon", '''
probe("environ", lambda: open("/proc/@DAEMON_PID@/environ").read())
probe("fd-target", lambda: os.readlink("/proc/@DAEMON_PID@/fd/0"))
probe("maps", lambda: open("/proc/@DAEMON_PID@/maps").read(10))
probe("cwd", lambda: os.listdir("/proc/@DAEMON_PID@/cwd"))
probe("fd3", lambda: open("/proc/@DAEMON_PID@/fd/3").read(10))
probe("mem", lambda: open("/proc/@DAEMON_PID@/mem", "rb"))
probe("pid1-environ", lambda: open("/proc/1/environ").read())
''', "blocked"),
    Attack("/proc/self/mem gives no new program", '''
def f():
    with open("/proc/self/mem", "r+b") as m:
        m.seek(id(f))
        m.read(8)
    return False
try:
    f()
except Exception as e:
    print("mem:", type(e).__name__)
probe("exec-after-mem", lambda: os.execv("/usr/bin/touch", ["touch", "outputs/pwned-mem"]))
''', "blocked", nothing_at("@PROJECT@/outputs/pwned-mem")),
    Attack("device files", '''
probe("mknod", lambda: os.mknod("outputs/dev", 0o600 | 0o020000, os.makedev(1, 3)))
probe("dev-mem", lambda: open("/dev/mem", "rb").read(1))
probe("block-dev", lambda: open("/dev/sda", "rb").read(1) if os.path.exists("/dev/sda") else False)
''', "blocked"),
]

if __name__ == "__main__":
    sys.exit(run_suite("files", ATTACKS))
