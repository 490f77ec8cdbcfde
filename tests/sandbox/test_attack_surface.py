#!/usr/bin/python3
"""Attack suite: the kernel surface.  ptrace, mount, unshare, setns, chroot,
keyctl/add_key, bpf, perf_event_open, userfaultfd, io_uring, personality,
kexec/module loading: every one refused (x86_64 syscall numbers)."""
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402

ATTACKS = [
    Attack("ptrace", '''
probe("traceme", lambda: sysc(101, 0, 0, 0, 0))
probe("attach-daemon", lambda: sysc(101, 16, @DAEMON_PID@, 0, 0))
probe("attach-parent", lambda: sysc(101, 16, os.getppid(), 0, 0))
''', "blocked"),
    Attack("mount and chroot", '''
probe("mount", lambda: sysc(165, ctypes.addressof(ctypes.create_string_buffer(b"none")), ctypes.addressof(ctypes.create_string_buffer(b"/tmp")), ctypes.addressof(ctypes.create_string_buffer(b"tmpfs")), 0, 0))
probe("chroot", lambda: sysc(161, ctypes.addressof(ctypes.create_string_buffer(b"/tmp"))))
probe("pivot_root", lambda: sysc(155, 0, 0))
probe("umount", lambda: sysc(166, ctypes.addressof(ctypes.create_string_buffer(b"/proc")), 0))
''', "blocked"),
    Attack("unshare and setns", '''
probe("unshare-user", lambda: sysc(272, 0x10000000))
probe("unshare-net", lambda: sysc(272, 0x40000000))
probe("setns", lambda: sysc(308, os.open("/proc/self/ns/net", os.O_RDONLY), 0))
''', "blocked"),
    Attack("keyctl", '''
probe("keyctl", lambda: sysc(250, 0, 0, 0, 0, 0))
probe("add_key", lambda: sysc(248, ctypes.addressof(ctypes.create_string_buffer(b"user")), ctypes.addressof(ctypes.create_string_buffer(b"k")), 0, 0, -4))
''', "blocked"),
    Attack("bpf", '''
attr = ctypes.create_string_buffer(128)
probe("bpf", lambda: sysc(321, 0, ctypes.addressof(attr), 128))
''', "blocked"),
    Attack("perf_event_open", '''
attr = ctypes.create_string_buffer(128)
ctypes.c_uint32.from_buffer(attr, 4).value = 128
probe("perf", lambda: sysc(298, ctypes.addressof(attr), 0, -1, -1, 0))
''', "blocked"),
    Attack("userfaultfd", '''
probe("userfaultfd", lambda: sysc(323, 0))
''', "blocked"),
    Attack("io_uring", '''
params = ctypes.create_string_buffer(120)
probe("io_uring_setup", lambda: sysc(425, 8, ctypes.addressof(params)))
''', "blocked"),
    Attack("personality", '''
probe("read-implies-exec", lambda: sysc(135, 0x0400000))
''', "blocked"),
    Attack("kexec and modules", '''
probe("kexec_load", lambda: sysc(246, 0, 0, 0, 0))
probe("init_module", lambda: sysc(175, 0, 0, 0))
probe("finit_module", lambda: sysc(313, 0, 0, 0))
probe("reboot", lambda: sysc(169, 0xfee1dead, 0x28121969, 0x4321fedc, 0))
''', "blocked"),
    Attack("capabilities and privileges", '''
probe("setuid", lambda: os.setuid(12345) or True)
probe("caps", lambda: [l for l in open("/proc/self/status") if l.startswith("CapEff") and l.split()[1] != "0000000000000000"] or False)
probe("no_new_privs", lambda: [l for l in open("/proc/self/status") if l.startswith("NoNewPrivs") and l.split()[1] != "1"] or False)
''', "blocked"),
]

if __name__ == "__main__":
    if platform.machine() != "x86_64":
        print("skip: syscall numbers are x86_64")
        sys.exit(77)
    sys.exit(run_suite("kernel surface", ATTACKS))
