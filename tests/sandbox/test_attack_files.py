#!/usr/bin/python3
"""Attack suite: files.  No reading a secret in $HOME/.ssh or /etc/shadow,
no writing outside outputs/ and the private tmp, data/ cannot be changed or
deleted (also through symlinks and hard links), nor its modes (chmod,
fchmod, fchmodat2, ACLs, chown), no setuid file can be made, another project is out of
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


def no_special_outputs(s, ctx, r):
    """No setuid/setgid file in outputs/; outputs/tool not made world-writable."""
    for dirpath, dirs, files in os.walk(os.path.join(s.path, "outputs")):
        for f in dirs + files:
            p = os.path.join(dirpath, f)
            m = stat.S_IMODE(os.lstat(p).st_mode)
            if m & (stat.S_ISUID | stat.S_ISGID) or (f == "tool" and m & 0o022):
                return "%s has mode %o" % (os.path.relpath(p, s.path), m)
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
    # Landlock has no right for metadata and the kernel runs as the files'
    # owner: seccomp refuses chmod to harmful modes by every route.  The
    # runner compares the modes of data/ and its files after each attack.
    Attack("chmod data/ file 000, 0666, 04755", '''
for m in (0o000, 0o666, 0o4755, 0o2644, 0o1644, 0o200, 0o646):
    probe("chmod-%o" % m, lambda: os.chmod("data/sales.csv", m))
probe("chmod-abs-000", lambda: os.chmod("@PROJECT@/data/sales.csv", 0))
probe("chmod-dir-000", lambda: os.chmod("data", 0))
probe("chmod-dir-0777", lambda: os.chmod("data", 0o777))
probe("chmod-history-000", lambda: os.chmod("history", 0))
import pathlib
probe("pathlib-000", lambda: pathlib.Path("data/sales.csv").chmod(0))
''', "blocked"),
    Attack("fchmod on a read-only fd", '''
fd = os.open("data/sales.csv", os.O_RDONLY)
for m in (0o000, 0o666, 0o4755):
    probe("fchmod-%o" % m, lambda: os.fchmod(fd, m))
with open("data/sales.csv", "rb") as f:
    probe("fchmod-fileobj-000", lambda: os.fchmod(f.fileno(), 0))
os.close(fd)
fd = os.open("data/sales.csv", os.O_PATH)
probe("fchmod-opath-000", lambda: os.fchmod(fd, 0))
probe("chmod-proc-fd-000", lambda: os.chmod("/proc/self/fd/%d" % fd, 0))
os.close(fd)
''', "blocked"),
    Attack("chmod with dir_fd / follow_symlinks=False", '''
dfd = os.open("data", os.O_RDONLY | os.O_DIRECTORY)
for m in (0o000, 0o666, 0o4755):
    probe("dirfd-%o" % m, lambda: os.chmod("sales.csv", m, dir_fd=dfd))
    probe("nofollow-%o" % m, lambda: os.chmod("data/sales.csv", m, follow_symlinks=False))
os.close(dfd)
''', "blocked"),
    Attack("raw chmod syscalls (ctypes)", '''
buf = ctypes.create_string_buffer(b"data/sales.csv")
empty = ctypes.create_string_buffer(b"")
P, E = ctypes.addressof(buf), ctypes.addressof(empty)
AT_FDCWD, AT_EMPTY_PATH = -100, 0x1000
for m in (0o000, 0o666, 0o4755):
    probe("fchmodat2-%o" % m, lambda: sysc(452, AT_FDCWD, P, m, 0))        # x86_64 numbers
    probe("fchmodat-%o" % m, lambda: sysc(268, AT_FDCWD, P, m))
    probe("chmod-%o" % m, lambda: sysc(90, P, m))
    # the kernel reads a 16-bit mode: garbage above it must not hide the bits
    probe("chmod-hi-%o" % m, lambda: sysc(90, P, m | (0x7ead << 48)))
fd = os.open("data/sales.csv", os.O_PATH)
probe("fchmodat2-empty-path-000", lambda: sysc(452, fd, E, 0, AT_EMPTY_PATH))
os.close(fd)
''', "blocked"),
    Attack("ACL, chown, xattr on data/", '''
acl = bytes([2, 0, 0, 0, 1, 0, 0, 0, 255, 255, 255, 255, 4, 0, 4, 0, 255, 255, 255, 255,
             0x20, 0, 6, 0, 255, 255, 255, 255])          # user::--- group::r-- other::rw-
probe("setacl", lambda: os.setxattr("data/sales.csv", "system.posix_acl_access", acl))
probe("setxattr-user", lambda: os.setxattr("data/sales.csv", "user.evil", b"1"))
probe("removexattr", lambda: os.removexattr("data/sales.csv", "user.evil"))
probe("chown", lambda: os.chown("data/sales.csv", os.getuid(), os.getgid()))
probe("chgrp-dir", lambda: os.chown("data", -1, os.getgid()))
''', "blocked"),
    Attack("setuid files in outputs/", '''
import shutil
probe("open-4755", lambda: os.close(os.open("outputs/suid", os.O_CREAT | os.O_WRONLY, 0o4755)))
probe("open-2755", lambda: os.close(os.open("outputs/sgid", os.O_CREAT | os.O_WRONLY, 0o2755)))
probe("mknod-4755", lambda: os.mknod("outputs/suid2", 0o104755))
def chmod_own():
    with open("outputs/tool", "wb") as f:
        f.write(open("/usr/bin/true", "rb").read())
    os.chmod("outputs/tool", 0o4755)
probe("chmod-own-4755", chmod_own)
probe("chmod-own-0777", lambda: os.chmod("outputs/tool", 0o777))
''', "blocked", no_special_outputs),
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
# in its own pid namespace the kernel is pid 1 itself: nothing to steal
probe("pid1-environ", lambda: os.getpid() != 1 and open("/proc/1/environ").read())
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
