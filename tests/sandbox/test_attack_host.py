#!/usr/bin/python3
"""Attack suite: state the kernel shares with the host.  SysV IPC (each
call, aimed at a real segment, queue and semaphore set of the test process),
POSIX message queues, inotify/fanotify on ~/.ssh and /etc, /dev/shm (a host
file to read, files that would outlive the kernel), stat and utime of files
outside the project, /sys (only the THP settings shown, read-only), /proc
of the daemon, other projects' folders, the
kernel's temp dir after it dies, symlink and hard-link tricks into data/ and
history/, and writes to data/ history/ conventions.json .daa/ (.daa/cache
is the kernel's: writing there must work).

Every SysV/mq/inotify call must be refused by the sandbox itself (EPERM
from seccomp), not merely fail on bad arguments.  Stat and utime outside
the project are stopped by the mount namespace only (Landlock has no right
for stat or utime); the host's processes in /proc are hidden by the
kernel's pid namespace (more in test_attack_proc.py).  x86_64 syscall numbers."""
import ctypes
import os
import platform
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import SSH_SECRET, Attack, run_suite  # noqa: E402

libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
librt = ctypes.CDLL("librt.so.1", use_errno=True)
IPC_CREAT, IPC_RMID, GETVAL, SETVAL = 0o1000, 0, 12, 16
HOST_SHM = b"HOST-SHM-SECRET"
MARK = "daa-attack-" + uuid.uuid4().hex[:8]

# Helpers for the snippets: the call must be refused with EPERM by the sandbox.
EPERM_PRELUDE = '''
def addr(s):
    b = ctypes.create_string_buffer(s.encode() if isinstance(s, str) else s)
    _keep.append(b)
    return ctypes.addressof(b)
_keep = []
def eperm(nr, *a):
    r = sysc(nr, *a)
    e = ctypes.get_errno()
    if r is False and e == 1:
        return False
    return "reached the kernel: ret %s errno %s" % (r, e)
'''


class Host:
    """SysV objects, a POSIX queue and a /dev/shm file owned by the test."""

    def __init__(self, ctx):
        key = os.getpid() & 0x7fff0000 | 0x5a5a
        self.shm = libc.shmget(key, 4096, IPC_CREAT | 0o600)
        p = libc.shmat(self.shm, None, 0)
        ctypes.memmove(p, HOST_SHM, len(HOST_SHM))
        libc.shmdt(ctypes.c_void_p(p))
        self.msq = libc.msgget(key + 1, IPC_CREAT | 0o600)
        msg = ctypes.create_string_buffer(8 + 16)
        ctypes.c_long.from_buffer(msg).value = 1
        msg[8:15] = b"HOSTMSG"
        libc.msgsnd(self.msq, msg, 16, 0)
        self.sem = libc.semget(key + 2, 1, IPC_CREAT | 0o600)
        libc.semctl(self.sem, 0, SETVAL, 5)
        self.mq_name = "/" + MARK
        self.mq = librt.mq_open(self.mq_name.encode(), os.O_CREAT | os.O_RDWR, 0o600, None)
        librt.mq_send(self.mq, b"HOSTMQ", 6, 0)
        self.shm_file = "/dev/shm/" + MARK
        with open(self.shm_file, "w") as f:
            f.write(SSH_SECRET)
        if min(self.shm, self.msq, self.sem, self.mq) < 0:
            raise OSError(ctypes.get_errno(), "cannot create the host's IPC objects")
        self.ssh = os.path.join(ctx.s.d.home, ".ssh", "id_rsa")
        self.mtimes = {p: os.stat(p).st_mtime_ns for p in
                       (self.ssh, os.path.join(ctx.other, "data", "private.csv"),
                        os.path.join(ctx.s.path, "data", "sales.csv"))}
        ctx.vars.update({"@SHMID@": str(self.shm), "@MSQID@": str(self.msq),
                         "@SEMID@": str(self.sem), "@MQ@": self.mq_name,
                         "@SHMFILE@": self.shm_file, "@MARK@": MARK,
                         "@PROJECTS@": os.path.dirname(ctx.other)})
        ctx.host = self

    def sysv_intact(self):
        """None when the segment, queue and semaphore are as the test left them."""
        p = libc.shmat(self.shm, None, 0)
        if p in (None, ctypes.c_void_p(-1).value):
            return "the host's shm segment is gone"
        data = ctypes.string_at(p, len(HOST_SHM))
        libc.shmdt(ctypes.c_void_p(p))
        if data != HOST_SHM:
            return "the host's shm segment was overwritten: %r" % data
        for line in open("/proc/sysvipc/msg").read().splitlines()[1:]:
            f = line.split()
            if int(f[1]) == self.msq:
                if f[4] != "1":
                    return "the host's message queue holds %s messages" % f[4]
                break
        else:
            return "the host's message queue is gone"
        if libc.semctl(self.sem, 0, GETVAL) != 5:
            return "the host's semaphore changed"
        return None

    def others_intact(self):
        attr = (ctypes.c_long * 8)()
        if librt.mq_getattr(self.mq, attr) < 0 or attr[3] != 1:
            return "the host's POSIX queue changed"
        if open(self.shm_file).read() != SSH_SECRET:
            return "the host's /dev/shm file changed"
        left = [f for f in os.listdir("/dev/shm") if "evil" in f]
        return "left in /dev/shm: %s" % left if left else None

    def times_intact(self):
        """The utime attacks' own check (it puts the time stamps back, so
        that the next attacks are judged alone)."""
        for p, m in self.mtimes.items():
            if os.stat(p).st_mtime_ns != m:
                os.utime(p, ns=(m, m))
                return "the time stamps of %s changed" % p
        return None

    def close(self):
        libc.shmctl(self.shm, IPC_RMID, None)
        libc.msgctl(self.msq, IPC_RMID, None)
        libc.semctl(self.sem, 0, IPC_RMID)
        librt.mq_close(self.mq)
        librt.mq_unlink(self.mq_name.encode())
        for f in os.listdir("/dev/shm"):
            if MARK in f or "evil" in f:
                os.unlink(os.path.join("/dev/shm", f))


def setup(ctx):
    return Host(ctx).close


def host_intact(s, ctx, r):
    return ctx.host.sysv_intact() or ctx.host.others_intact()


def times_intact(s, ctx, r):
    return ctx.host.times_intact()


THP = "/sys/kernel/mm/transparent_hugepage"
THP_BEFORE = {n: open(os.path.join(THP, n)).read() for n in ("enabled", "defrag")
              if os.path.exists(os.path.join(THP, n))}


def thp_intact(s, ctx, r):
    """The host's THP settings are as they were, and no file was added."""
    now = {n: open(os.path.join(THP, n)).read() for n in THP_BEFORE}
    if now != THP_BEFORE:
        return "the host's THP settings changed: %r -> %r" % (THP_BEFORE, now)
    return "a file was made in %s" % THP if os.path.exists(os.path.join(THP, "x")) else None


def no_secret(s, ctx, r):
    out = (r or {}).get("stdout", "")
    return "a secret was read" if SSH_SECRET in out or "HOST-SHM" in out else host_intact(s, ctx, r)


def kernel_tmp_gone(tag):
    """The temp dir of the kernel that ran the attack (it left `tag` there)
    is gone once it has died and the next step has run."""
    def check(s, ctx, r):
        base = os.path.join(s.d.run, "daa", "kernels")
        s.run_json("1 + 1", timeout=120)
        for d in os.listdir(base):
            if os.path.lexists(os.path.join(base, d, tag)):
                return "the dead kernel's temp dir %s was left behind" % d
        return None
    return check


def nothing_at(*rel):
    def check(s, ctx, r):
        for p in rel:
            p = ctx.fill(p)
            if os.path.lexists(p):
                return "%s was created" % p
        return host_intact(s, ctx, r)
    return check


def sysv(name, code):
    return Attack("SysV " + name, EPERM_PRELUDE + code, "blocked", host_intact)


IPC_NOWAIT = 0o4000
ATTACKS = [
    # ---- SysV IPC, each call (x86_64: shmget 29 shmat 30 shmctl 31 shmdt 67
    # semget 64 semop 65 semctl 66 msgget 68 msgsnd 69 msgrcv 70 msgctl 71
    # semtimedop 220); ids are those of the test's own objects
    sysv("shmget", 'probe("shmget-create", lambda: eperm(29, 0, 4096, 0o1000 | 0o666))\n'
         'probe("shmget-host-key", lambda: eperm(29, %d, 0, 0))' % (os.getpid() & 0x7fff0000 | 0x5a5a)),
    sysv("shmat", 'probe("shmat-host", lambda: eperm(30, @SHMID@, 0, 0))'),
    sysv("shmdt", 'probe("shmdt", lambda: eperm(67, 0x10000))'),
    sysv("shmctl", 'buf = ctypes.create_string_buffer(256)\n'
         'probe("shmctl-stat", lambda: eperm(31, @SHMID@, 2, ctypes.addressof(buf)))\n'
         'probe("shmctl-rmid", lambda: eperm(31, @SHMID@, 0, 0))'),
    sysv("msgget", 'probe("msgget-create", lambda: eperm(68, 0, 0o1000 | 0o666))'),
    sysv("msgsnd", 'm = ctypes.create_string_buffer(b"\\x01" + b"\\0" * 7 + b"EVIL")\n'
         'probe("msgsnd-host", lambda: eperm(69, @MSQID@, ctypes.addressof(m), 4, %d))' % IPC_NOWAIT),
    sysv("msgrcv", 'm = ctypes.create_string_buffer(64)\n'
         'probe("msgrcv-host", lambda: eperm(70, @MSQID@, ctypes.addressof(m), 32, 0, %d))' % IPC_NOWAIT),
    sysv("msgctl", 'probe("msgctl-rmid", lambda: eperm(71, @MSQID@, 0, 0))'),
    sysv("semget", 'probe("semget-create", lambda: eperm(64, 0, 1, 0o1000 | 0o666))'),
    sysv("semop", 'op = ctypes.create_string_buffer(b"\\0\\0\\xfb\\xff\\0\\x08")  # sem 0, -5, IPC_NOWAIT\n'
         'probe("semop-host", lambda: eperm(65, @SEMID@, ctypes.addressof(op), 1))'),
    sysv("semtimedop", 'op = ctypes.create_string_buffer(b"\\0\\0\\xfb\\xff\\0\\x08")\n'
         'probe("semtimedop-host", lambda: eperm(220, @SEMID@, ctypes.addressof(op), 1, 0))'),
    sysv("semctl", 'probe("semctl-setval", lambda: eperm(66, @SEMID@, 0, 16, 0))\n'
         'probe("semctl-rmid", lambda: eperm(66, @SEMID@, 0, 0))'),
    # ---- POSIX message queues (mq_open 240 mq_unlink 241 mq_timedsend 242
    # mq_timedreceive 243 mq_notify 244 mq_getsetattr 245)
    Attack("POSIX mq_open (create and the host's)", EPERM_PRELUDE + '''
probe("mq_open-create", lambda: eperm(240, addr("daa-evil-q"), os.O_CREAT | os.O_RDWR, 0o666, 0))
probe("mq_open-host", lambda: eperm(240, addr("@MQ@"[1:]), os.O_RDWR, 0, 0))
''', "blocked", host_intact),
    Attack("POSIX mq_unlink of the host's queue", EPERM_PRELUDE + '''
probe("mq_unlink", lambda: eperm(241, addr("@MQ@"[1:])))
''', "blocked", host_intact),
    Attack("POSIX mq send/receive/notify/getsetattr", EPERM_PRELUDE + '''
buf = ctypes.create_string_buffer(8192)
probe("mq_timedsend", lambda: eperm(242, 3, ctypes.addressof(buf), 4, 0, 0))
probe("mq_timedreceive", lambda: eperm(243, 3, ctypes.addressof(buf), 8192, 0, 0))
probe("mq_notify", lambda: eperm(244, 3, 0))
probe("mq_getsetattr", lambda: eperm(245, 3, 0, ctypes.addressof(buf)))
''', "blocked", host_intact),
    # ---- file watches (inotify_init 253 inotify_add_watch 254
    # inotify_rm_watch 255 inotify_init1 294 fanotify_init 300 fanotify_mark 301)
    Attack("inotify on ~/.ssh", EPERM_PRELUDE + '''
probe("inotify_init1", lambda: eperm(294, 0))
probe("inotify_init", lambda: eperm(253))
probe("add_watch-ssh", lambda: eperm(254, 0, addr("@HOME@/.ssh"), 0xfff))
probe("rm_watch", lambda: eperm(255, 0, 1))
''', "blocked"),
    Attack("inotify on /etc and the other project", EPERM_PRELUDE + '''
probe("add_watch-etc", lambda: eperm(254, 0, addr("/etc"), 0xfff))
probe("add_watch-other", lambda: eperm(254, 0, addr("@OTHER@/data"), 0xfff))
''', "blocked"),
    Attack("fanotify on ~/.ssh", EPERM_PRELUDE + '''
probe("fanotify_init", lambda: eperm(300, 0, 0))
probe("fanotify_mark", lambda: eperm(301, 0, 1, 0x3f, -100, addr("@HOME@/.ssh")))
''', "blocked"),
    # ---- /dev/shm
    # /dev/shm is either closed (Landlock) or the kernel's own tmpfs (mount
    # namespace): what it writes there may succeed, but must not reach the
    # host's /dev/shm — the checks look there.
    Attack("read the host's /dev/shm file", '''
probe("shm-read", lambda: open("@SHMFILE@").read())
probe("shm-list", lambda: [f for f in os.listdir("/dev/shm") if "@MARK@" in f] or False)
def attempt(label, fn):
    try:
        fn()
        print("tried", label, "(the kernel's own /dev/shm)")
    except OSError as e:
        print("tried", label, e)
attempt("shm-write", lambda: open("@SHMFILE@", "w").write("x"))
attempt("shm-unlink", lambda: os.unlink("@SHMFILE@"))
''', "contained", no_secret),
    Attack("/dev/shm file that outlives the kernel", '''
for label, fn in [("shm-leave", lambda: open("/dev/shm/daa-evil-@MARK@", "w").write("x")),
                  ("shm-open", lambda: __import__("_posixshmem").shm_open("/daa-evil-@MARK@-2", os.O_CREAT | os.O_RDWR, 0o600))]:
    try:
        print("tried", label, fn())
    except OSError as e:
        print("tried", label, e)
''', "contained", host_intact),
    Attack("named semaphore left in /dev/shm", '''
pthread = ctypes.CDLL(None, use_errno=True)
pthread.sem_open.restype = ctypes.c_void_p
print("tried sem_open", pthread.sem_open(b"/daa-evil-sem-@MARK@", os.O_CREAT, 0o600, 1))
''', "contained", host_intact),
    # ---- stat and time stamps outside the project
    Attack("stat files in $HOME", '''
probe("stat-ssh", lambda: os.stat("@HOME@/.ssh/id_rsa").st_size)
probe("exists-ssh", lambda: os.path.exists("@HOME@/.ssh/id_rsa") or False)
probe("stat-ssh-dir", lambda: os.stat("@HOME@/.ssh").st_mode)
''', "blocked"),
    Attack("stat another project's data", '''
probe("stat-other", lambda: os.stat("@OTHER@/data/private.csv").st_size)
probe("exists-other", lambda: os.path.exists("@OTHER@/data/private.csv") or False)
''', "blocked"),
    Attack("os.utime of ~/.ssh/id_rsa", '''
probe("utime-ssh", lambda: os.utime("@HOME@/.ssh/id_rsa", (0, 0)) or True)
''', "blocked", times_intact),
    Attack("utimes() of another project's file", EPERM_PRELUDE + '''
tv = (ctypes.c_long * 4)(0, 0, 0, 0)
probe("utimes-other", lambda: sysc(235, addr("@OTHER@/data/private.csv"), ctypes.addressof(tv)))
''', "blocked", times_intact),
    Attack("futimesat() of a file in $HOME", EPERM_PRELUDE + '''
tv = (ctypes.c_long * 4)(0, 0, 0, 0)
probe("futimesat-ssh", lambda: sysc(261, -100, addr("@HOME@/.ssh/id_rsa"), ctypes.addressof(tv)))
probe("utime-legacy", lambda: sysc(132, addr("@HOME@/.ssh/id_rsa"), 0))
''', "blocked", times_intact),
    Attack("utimensat() of data/sales.csv", EPERM_PRELUDE + '''
ts = (ctypes.c_long * 4)(0, 0, 0, 0)
probe("utimensat-data", lambda: sysc(280, -100, addr("data/sales.csv"), ctypes.addressof(ts), 0))
probe("utime-data", lambda: os.utime("data/sales.csv", (0, 0)) or True)
''', "blocked", times_intact),
    # ---- /sys: only the THP settings are shown (glibc's malloc reads them), read-only
    Attack("write the host's THP settings, list the rest of /sys", '''
T = "/sys/kernel/mm/transparent_hugepage"
probe("thp-enabled-write", lambda: open(T + "/enabled", "w").write("never"))
probe("thp-defrag-write", lambda: open(T + "/defrag", "w").write("never"))
probe("thp-new-file", lambda: open(T + "/x", "w").write("x"))
probe("sys-kernel-mm-list", lambda: os.listdir("/sys/kernel/mm"))
probe("sys-kernel-list", lambda: os.listdir("/sys/kernel"))
''', "blocked", thp_intact),
    # ---- /proc of the daemon and of the host
    Attack("/proc/<daemon>/environ", '''
probe("daemon-environ", lambda: open("/proc/@DAEMON_PID@/environ", "rb").read())
probe("daemon-mem", lambda: open("/proc/@DAEMON_PID@/mem", "rb").read(1))
''', "blocked"),
    Attack("/proc/<daemon>/cmdline and the host's processes", '''
probe("daemon-cmdline", lambda: open("/proc/@DAEMON_PID@/cmdline", "rb").read())
probe("other-pids", lambda: [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()] or False)
probe("daemon-status", lambda: open("/proc/@DAEMON_PID@/status").read(40))
''', "blocked"),
    # ---- other projects
    Attack("list other projects' folders", '''
probe("list-projects", lambda: os.listdir("@PROJECTS@"))
probe("list-other", lambda: os.listdir("@OTHER@"))
probe("list-other-data", lambda: os.listdir("@OTHER@/data"))
probe("scandir-home", lambda: [e.name for e in os.scandir("@HOME@")])
''', "blocked"),
    # ---- the kernel's temp dir after it dies
    Attack("temp dir left after the kernel exits", '''
import sys
open(os.path.join(os.environ["TMPDIR"], "@MARK@-exit"), "w").write("x")
sys.stdout.flush()
os._exit(3)
''', "contained", kernel_tmp_gone(MARK + "-exit")),
    Attack("temp dir made hard to remove, then exit", '''
t = os.environ["TMPDIR"]
open(os.path.join(t, "@MARK@-kill"), "w").write("x")
for mode in (0o500, 0o600, 0o400):
    d = os.path.join(t, "locked-%o" % mode)
    os.makedirs(os.path.join(d, "deep"), exist_ok=True)
    open(os.path.join(d, "deep", "f"), "w").write("x")
    try:
        os.chmod(d, mode)
    except OSError as e:
        print("chmod", oct(mode), e)
os._exit(4)
''', "contained", kernel_tmp_gone(MARK + "-kill")),
    # ---- symlinks and hard links into data/ and history/
    Attack("symlink in outputs/ to history/, then write", '''
def f():
    if not os.path.lexists("outputs/h"):
        os.symlink("@PROJECT@/history", "outputs/h")
    open("outputs/h/999_evil.py", "w").write("x")
probe("symlink-history-write", f)
''', "blocked", nothing_at("@PROJECT@/history/999_evil.py")),
    Attack("symlink in the temp dir to data/, then append", '''
def f():
    p = os.path.join(os.environ["TMPDIR"], "d")
    if not os.path.lexists(p):
        os.symlink("@PROJECT@/data/sales.csv", p)
    open(p, "a").write("evil")
probe("symlink-tmp-data", f)
''', "blocked"),
    Attack("hard link of data/ into the temp dir", '''
def f():
    p = os.path.join(os.environ["TMPDIR"], "hl")
    os.link("data/sales.csv", p)
    open(p, "a").write("evil")
probe("hardlink-tmp-data", f)
''', "blocked"),
    Attack("hard link of a history/ file into outputs/", '''
def f():
    names = os.listdir("history")
    if not names:
        raise FileNotFoundError("history/ is empty")
    os.link(os.path.join("history", names[0]), "outputs/hl.py")
    open("outputs/hl.py", "a").write("evil")
probe("hardlink-history", f)
''', "blocked", nothing_at("@PROJECT@/outputs/hl.py")),
    Attack("rename outputs/ over data/", '''
probe("rename-dir", lambda: os.rename("outputs", "data"))
probe("replace-file", lambda: os.replace("outputs", "history"))
''', "blocked"),
    # ---- writes to the project's own files
    Attack("write into data/", '''
probe("data-new", lambda: open("data/@MARK@.csv", "w").write("x"))
probe("data-mkdir", lambda: os.mkdir("data/@MARK@"))
''', "blocked", nothing_at("@PROJECT@/data/@MARK@.csv", "@PROJECT@/data/@MARK@")),
    Attack("write into history/", '''
probe("history-new", lambda: open("history/@MARK@.py", "w").write("x"))
def append():
    names = os.listdir("history") or ["001.py"]
    open(os.path.join("history", names[0]), "a").write("evil")
probe("history-append", append)
''', "blocked", nothing_at("@PROJECT@/history/@MARK@.py")),
    Attack("write conventions.json", '''
probe("conventions-write", lambda: open("conventions.json", "w").write("{}"))
probe("conventions-new", lambda: open("@PROJECT@/conventions.json.tmp", "w").write("{}"))
''', "blocked", nothing_at("@PROJECT@/conventions.json.tmp")),
    Attack("write .daa/ (not the cache)", '''
probe("dotdaa-history", lambda: open(".daa/history.json", "w").write("{}"))
probe("dotdaa-turn", lambda: open(".daa/turn", "w").write("9"))
probe("dotdaa-new", lambda: open(".daa/@MARK@", "w").write("x"))
''', "blocked", nothing_at("@PROJECT@/.daa/@MARK@")),
    Attack(".daa/cache stays writable (control)", '''
p = ".daa/cache/@MARK@"
open(p, "w").write("x")
os.remove(p)
print("cache ok")
''', "ok"),
]

if __name__ == "__main__":
    if platform.machine() != "x86_64":
        print("skip: syscall numbers are x86_64")
        sys.exit(77)
    sys.exit(run_suite("host-shared state", ATTACKS, setup=setup))
