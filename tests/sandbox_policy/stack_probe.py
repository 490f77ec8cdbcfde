"""tests/sandbox_policy/stack_probe.py — run by test_python_stack under
daa-sandbox: a warm-spare-like start (heavy imports first), sbx_seal via
ctypes as the kernel runtime does, then a real analysis (pandas, sklearn
RandomForest with n_jobs=2, a matplotlib figure into outputs/) and escape
attempts that must fail.  Prints one "name: verdict" line per check."""
import ctypes
import errno
import os
import socket
import subprocess
import sys
import threading

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402

lib_path, project, tmp, secret = sys.argv[1:5]


def say(name, verdict):
    print("%s: %s" % (name, verdict), flush=True)


def attempt(name, fn):
    try:
        fn()
        say(name, "ok")
    except OSError as e:
        say(name, errno.errorcode.get(e.errno, str(e.errno)))
    except MemoryError:
        say(name, "MemoryError")


# A thread that exists before the seal and reads the secret after it.
early_go, early_result = threading.Event(), []


def early_reader():
    early_go.wait(60)
    try:
        open(secret).read()
        early_result.append("ok")
    except OSError as e:
        early_result.append(errno.errorcode.get(e.errno, str(e.errno)))


early = threading.Thread(target=early_reader)
early.start()

seal = ctypes.CDLL(lib_path).sbx_seal
seal.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
seal.restype = ctypes.c_int
buf = ctypes.create_string_buffer(4096)
rc = seal(project.encode(), tmp.encode(), buf, 4096)
say("seal", "ok" if rc == 0 else "failed")
for line in buf.value.decode().splitlines():
    print("#", line)

early_go.set()
early.join()
say("early_thread_secret", early_result[0] if early_result else "no result")
os.chdir(project)
df = pd.read_csv("data/sales.csv")
say("read_csv", "ok" if len(df) == 100 else "wrong rows %d" % len(df))
X = df[["a", "b"]].to_numpy()
y = (df["a"] > df["a"].median()).astype(int).to_numpy()
model = RandomForestClassifier(n_estimators=30, n_jobs=2, random_state=0).fit(X, y)
say("random_forest", "ok" if model.score(X, y) > 0.9 else "bad score")
fig, ax = plt.subplots()
ax.plot(df["a"], df["b"], ".")
fig.savefig("outputs/plots/stack.png")
say("savefig", "ok" if open("outputs/plots/stack.png", "rb").read(4) == b"\x89PNG" else "not a PNG")
attempt("to_csv_outputs", lambda: df.to_csv("outputs/tables/t.csv"))
attempt("to_csv_data", lambda: df.to_csv("data/copy.csv"))
t = threading.Thread(target=lambda: None)
t.start()
t.join()
say("thread", "ok")
attempt("secret", lambda: open(secret).read())
attempt("execv", lambda: os.execv("/bin/true", ["true"]))
attempt("subprocess", lambda: subprocess.run(["/bin/true"], check=True))
attempt("socket_inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
attempt("kill_parent", lambda: os.kill(os.getppid(), 0))
# the memory cap limits address space: an allocation under it succeeds, one
# over it fails at once (zeros: calloc'd, no page is touched; np.ones filled
# and summed 1 GiB, ~2 s of CPU in page faults, to prove nothing more)
attempt("alloc_1g", lambda: np.zeros(1 << 30, dtype=np.uint8).nbytes)
attempt("alloc_8g", lambda: np.zeros(8 << 30, dtype=np.uint8).nbytes)
