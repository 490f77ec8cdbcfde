"""tests/sandbox_policy/ns_probe.py — run by test_mount_ns inside the mount
namespace: one line per probe, `name: ok` or `name: ERRNO`, plus `list
NAME: a,b,c` lines for what a folder shows."""
import errno
import os
import sys

home, other, project = sys.argv[1], sys.argv[2], sys.argv[3]


def probe(name, fn):
    try:
        fn()
        print(name + ": ok")
    except OSError as e:
        print("%s: %s" % (name, errno.errorcode.get(e.errno, e.errno)))


def show(name, path):
    try:
        print("list %s: %s" % (name, ",".join(sorted(os.listdir(path)))))
    except OSError as e:
        print("list %s: %s" % (name, errno.errorcode.get(e.errno, e.errno)))


show("root", "/")
show("project", project)
show("dev", "/dev")
show("proc-pids", "/proc") if False else print(
    "list proc-pids: " + ",".join(sorted(p for p in os.listdir("/proc") if p.isdigit())))
probe("read_data", lambda: open(project + "/data/sales.csv").read())
probe("write_data", lambda: open(project + "/data/new.csv", "w"))
probe("utime_data", lambda: os.utime(project + "/data/sales.csv", (0, 0)))
probe("chmod_data", lambda: os.chmod(project + "/data/sales.csv", 0o600))
probe("write_history", lambda: open(project + "/history/new.py", "w"))
probe("write_outputs", lambda: open(project + "/outputs/out.txt", "w").write("x"))
probe("write_project_root", lambda: open(project + "/conventions.json", "w"))
probe("stat_home_secret", lambda: os.stat(home + "/.ssh/secret"))
probe("utime_home_secret", lambda: os.utime(home + "/.ssh/secret", (0, 0)))
probe("stat_other", lambda: os.stat(other))
probe("write_root", lambda: open("/evil", "w"))
probe("write_usr", lambda: open("/usr/evil", "w"))
probe("write_tmp", lambda: open("/tmp/private", "w").write("x"))
probe("write_dev_shm", lambda: open("/dev/shm/daa-ns-test", "w").write("x"))
probe("dev_null", lambda: open("/dev/null", "w").write("x"))
probe("urandom", lambda: open("/dev/urandom", "rb").read(4))
probe("proc_self", lambda: open("/proc/self/status").read())
probe("proc_1_is_self", lambda: None if os.getpid() == 1 else open("/nonexistent"))
probe("import_pandas", lambda: __import__("pandas"))


def root_noatime():
    """The root is mounted noatime: the mount helper's read-only toggle of
    it fails (EBUSY) while an atime update is under way (sbx_ns.c)."""
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        if fields[4] == "/" and "noatime" not in fields[5].split(","):
            raise OSError(errno.EINVAL, "root mounted without noatime: " + fields[5])


probe("root_noatime", root_noatime)
