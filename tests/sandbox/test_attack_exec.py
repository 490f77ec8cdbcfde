#!/usr/bin/python3
"""Attack suite: new programs and new processes.  No os.system, subprocess,
os.exec*, posix_spawn, pty.spawn, execve through ctypes; no fork,
multiprocessing, fork bomb or raw clone."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402


def no_file(name):
    def check(s, ctx, r):
        p = os.path.join(s.path, "outputs", name)
        return "%s was created by a new program" % p if os.path.exists(p) else None
    return check


ATTACKS = [
    Attack("os.system", '''
probe("system", lambda: os.system("touch outputs/pwned-system") == 0 or False)
''', "blocked", no_file("pwned-system")),
    Attack("subprocess.run", '''
import subprocess
probe("subprocess", lambda: subprocess.run(["/usr/bin/touch", "outputs/pwned-sub"]))
probe("check_output", lambda: subprocess.check_output(["/bin/echo", "hi"]))
''', "blocked", no_file("pwned-sub")),
    Attack("os.execv", '''
probe("execv", lambda: os.execv("/usr/bin/touch", ["touch", "outputs/pwned-exec"]))
probe("execve", lambda: os.execve("/bin/sh", ["sh", "-c", "touch outputs/pwned-exec"], {}))
''', "blocked", no_file("pwned-exec")),
    Attack("os.posix_spawn", '''
probe("posix_spawn", lambda: os.posix_spawn("/usr/bin/touch", ["touch", "outputs/pwned-spawn"], {}))
''', "blocked", no_file("pwned-spawn")),
    Attack("pty.spawn", '''
import pty
probe("pty", lambda: pty.spawn(["/usr/bin/touch", "outputs/pwned-pty"]))
''', "blocked", no_file("pwned-pty")),
    Attack("execve through ctypes", '''
argv = (ctypes.c_char_p * 3)(b"/usr/bin/touch", b"outputs/pwned-ctypes", None)
envp = (ctypes.c_char_p * 1)(None)
probe("ctypes-execve", lambda: False if _libc.execve(b"/usr/bin/touch", argv, envp) == -1 else True)
probe("execveat", lambda: sysc(322, -100, ctypes.addressof(ctypes.create_string_buffer(b"/usr/bin/true")), 0, 0, 0))
''', "blocked", no_file("pwned-ctypes")),
    Attack("os.fork", '''
def f():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid
probe("fork", f)
''', "blocked"),
    Attack("multiprocessing", '''
import multiprocessing
def f():
    p = multiprocessing.Process(target=print, args=("child",))
    p.start()
    p.join()
    return p.exitcode
probe("multiprocessing", f)
''', "blocked"),
    Attack("fork bomb", '''
def bomb():
    n = 0
    while n < 100000:
        if os.fork() == 0:
            os._exit(0)
        n += 1
    return n
probe("forkbomb", bomb)
''', "blocked"),
    Attack("raw clone and vfork", '''
probe("clone", lambda: sysc(56, 17, 0, 0, 0, 0))
probe("vfork", lambda: sysc(58))
''', "blocked"),
    Attack("clone3 without CLONE_THREAD", '''
buf = (ctypes.c_uint64 * 11)(0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0)
probe("clone3", lambda: sysc(435, ctypes.addressof(buf), 88))
''', "blocked"),
]

if __name__ == "__main__":
    sys.exit(run_suite("new programs and processes", ATTACKS))
