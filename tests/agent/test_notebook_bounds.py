#!/usr/bin/python3
"""tests/agent/test_notebook_bounds.py — export.notebook with outputs stays
bounded whatever the figures weigh (issue 13 item 7, notebook part).

Through a real daemon: four `run` steps draw four figures each; the test
then makes three of the sixteen PNG files 24 MiB and the others 1 MiB, and
gives one step a 1 MiB recorded stdout (.daa/history.json; the kernel
caps what it sends at 64 KiB, so this stands for a larger cap).  The notebook embeds figures up to 2 MiB
while the embedded outputs stay within 6 MiB; the others are linked with a
note naming the file; the big stdout is cut with a note.  The notebook text
stays under 8 MiB, the other client's call is answered, and the daemon's
peak RSS stays under RSS_MAX_MB.  The kernel is tests/lib/fake_kernel.py
(its `plt` saves each open figure as a small PNG at the step's end, as the
runtime does): what is tested is the daemon's export, not matplotlib."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import check, run_test  # noqa: E402

RSS_MAX_MB = 120
DRAW = ("for i in range(4):\n"
        "    plt.figure()\n"
        "    plt.plot([1, 2, 3], [i, i + 1, i * 2])\n"
        "print('step done')\n")


def vm_hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main(d):
    c = d.client(timeout=120)
    path = c.call("project.create", name="nb")["path"]
    figs = []
    for k in range(4):
        r = c.call("run", timeout=120, project="nb", code=DRAW)
        check(r["ok"] and len(r["figures"]) == 4, "run %d: %r" % (k, {x: r.get(x) for x in ("ok", "figures", "error")}))
        figs += r["figures"]
    big = set(figs[i] for i in (0, 5, 10))
    for rel in figs:
        with open(os.path.join(path, rel), "r+b") as f:  # a PNG header, then padding
            f.seek(0, 2)
            f.truncate((24 << 20) if rel in big else (1 << 20))
    state_file = os.path.join(path, ".daa", "history.json")
    with open(state_file) as f:
        state = json.load(f)
    stem = sorted(state)[1]
    state[stem]["stdout"] = "y" * (1 << 20)
    with open(state_file, "w") as f:
        json.dump(state, f)
    other = d.client(timeout=120)
    m = other.send("turns.list", project="nb")
    nb = c.call("export.notebook", timeout=120, project="nb", with_outputs=True)
    check(isinstance(other.wait(m, timeout=60).get("turns"), list), "the other client's call failed")
    text = nb["text"]
    print("notebook: %d bytes" % len(text))
    check(len(text) < (8 << 20), "the notebook is %d bytes" % len(text))
    cells = json.loads(text)["cells"]
    outs = [o for cell in cells if cell["cell_type"] == "code" for o in cell.get("outputs", [])]
    images = [o for o in outs if "image/png" in o.get("data", {})]
    notes = [o["data"]["text/markdown"] for o in outs if "text/markdown" in o.get("data", {})]
    print("%d figures embedded, %d notes" % (len(images), len(notes)))
    for rel in big:
        check(any(rel in n and "not embedded" in n for n in notes), "no note links %s" % rel)
    check(1 <= len(images) <= 6, "%d figures embedded" % len(images))
    check(len(images) + sum(1 for n in notes if "figure [" in n) == 16, "figures lost: %r" % notes)
    check(any("more bytes of this step's output were left out" in n for n in notes), "stdout not cut")
    rss = vm_hwm_mb(d.d.proc.pid)
    print("daemon peak RSS %.1f MB (bound %d)" % (rss, RSS_MAX_MB))
    check(rss < RSS_MAX_MB, "the daemon's peak RSS is %.1f MB" % rss)


if __name__ == "__main__":
    run_test(main, fake_kernel={})
    print("ok")
