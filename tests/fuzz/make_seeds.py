#!/usr/bin/python3
"""tests/fuzz/make_seeds.py — write the seed inputs of the fuzz targets into
tests/fuzz/corpus/<target>/ (seed-*), made the way the real producers make
them: OpenAI streams and completions by tests/llm/fake_openai.py, kernel
frames by sandbox/python/daakernel/wire.py's packer, profiles by
daakernel.profiling, PNGs by matplotlib, configs from daemon/llm/LLM.md.
Run with /usr/bin/python3 (pandas, matplotlib, msgpack); then `make
fuzz-merge` folds them with what fuzzing found.  Existing files are kept."""
import hashlib
import io
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [os.path.join(ROOT, "tests", "llm"), os.path.join(ROOT, "sandbox", "python")]
import fake_openai  # noqa: E402

CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, data):
    """Write one seed (named by content) into tests/fuzz/corpus/<target>/."""
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


REPLIES = [
    {"content": "The mean revenue is 42.5 per order."},
    {"content": "Which column holds the date: `order_date` or `ship_date`?"},
    {"content": "", "tool_calls": [{"id": "call_1", "name": "run_python", "arguments":
        {"code": "df = load('sales.csv')\nprint(df.describe())", "purpose": "look at the data"}}]},
    {"content": "Let me plot it.", "tool_calls": [
        {"id": "call_a", "name": "run_python", "arguments": {"code": "df.plot()\n", "purpose": "plot"}},
        {"id": "call_b", "name": "remember_convention", "arguments":
            {"key": "date_column", "value": "order_date", "why": "the user said so"}}]},
    {"tool_calls": [{"id": "c9", "name": "ask_user", "arguments":
        {"question": "Which sheet?", "choices": ["2023", "2024"]}}]},
    {"tool_calls": [{"id": "c2", "name": "final_answer", "arguments": {"text": "Done: é ✓"}}]},
    {"content": "```python\nimport pandas as pd\nprint(pd.__version__)\n```"},
    {"content": "<tool_call>{\"name\": \"run_python\", \"arguments\": {\"code\": \"1+1\"}}</tool_call>"},
]


def sse_body(reply, n, interleave, usage):
    events = fake_openai.stream_chunks(reply, "gpt-4o-mini", n, interleave, usage)
    return "".join("data: " + json.dumps(e) + "\n\n" for e in events) + "data: [DONE]\n\n"


def llm_seeds():
    for i, r in enumerate(REPLIES):
        body = sse_body(r, 7 if i % 2 else 3, i % 3 == 0, i % 2 == 0)
        put("sse", bytes([i * 7 % 64]) + body.encode())
        put("llm_parse", json.dumps(fake_openai.completion(r, "qwen2.5:7b")))
        chunks = fake_openai.stream_chunks(r, "local", 5, i % 2 == 1, True)
        put("llm_parse", "\n".join(json.dumps(c) for c in chunks) + "\n[DONE]")
    put("sse", b"\x05: keep-alive\r\nevent: error\r\ndata: {\"error\":{\"message\":\"rate limited\","
        b"\"code\":\"rate_limit_exceeded\"}}\r\n\r\n")
    put("sse", b"\x00retry: 10\nid: 7\ndata\ndata:\ndata: {\"choices\":[]}\r\rdata: [DONE]\n\n")
    put("llm_parse", '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error",'
        '"code":"invalid_api_key"}}')
    put("llm_parse", '{"detail":[{"loc":["body","model"],"msg":"field required"}]}')
    put("llm_parse", "<html><body>502 Bad Gateway</body></html>")


def kernel_frames():
    import msgpack
    pk = msgpack.Packer(use_bin_type=True, unicode_errors="replace")
    frames = [
        {"hello": 1, "pid": 4242, "python": "3.11.2", "layers": ["pandas", "matplotlib"]},
        {"id": 1, "ok": True, "stdout": "   a  b\n0  1  2\n", "stderr": "", "truncated": False,
         "result": {"repr": "42", "type": "int"}, "tables": [], "figures":
         ["outputs/plots/003_plot-revenue_1.png"], "error": None, "duration_ms": 12.5},
        {"id": 2, "ok": False, "stdout": "", "stderr": "", "result": None, "figures": [],
         "error": {"type": "KeyError", "message": "'revenue'", "traceback": "File \"<003>\", line 1",
                   "hint": "no column 'revenue'; close matches: sales has 'Revenue'"}},
        {"id": 3, "ok": True, "tables": [{"kind": "DataFrame", "shape": [3, 2], "columns": ["x", "y"],
         "dtypes": ["int64", "float64"], "index": [0, 1, 2], "tail_index": [],
         "head": [[1, 0.5], [2, None], [3, float("inf")]], "tail": [], "columns_truncated": False}]},
        {"event": "progress", "id": 4, "bytes": b"\x00\x01\xff", "big": 2**64 - 1, "neg": -2**63,
         1: "int key", "f32": 1.5},
    ]
    data = [pk.pack(f) for f in frames]
    for i, d in enumerate(data):
        put("kern_wire", bytes([i * 13 % 64]) + d)
    put("kern_wire", b"\x3f" + b"".join(data))


def configs():
    text = open(os.path.join(ROOT, "daemon", "llm", "LLM.md")).read()
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        put("config", block)
    put("config", json.dumps({"socket": "/tmp/daa.sock", "data_dir": "/srv/daa", "python":
        "/usr/bin/python3", "log_level": "debug", "max_message": 1048576, "max_depth": 16,
        "max_clients": 8, "max_queued": 65536, "default_project": "sales",
        "llm": {"backend": "openai", "base_url": "http://localhost:8000/v1", "model": "m",
                "temperature": 0.2, "max_tokens": 2048, "stream": False, "max_retries": 2,
                "connect_timeout_ms": 5000, "total_timeout_ms": 60000, "api_key_env": "VLLM_KEY"},
        "sandbox": {"memory_mb": 2048, "network": False}, "kernel": {"timeout_s": 300,
        "spare": True}, "agent": {"max_steps": 12}}, indent=2))
    put("config", '{"llm": {"api_key": "sk-nope"}, "unknown": 1}')


def history():
    st = {"001_load": {"status": "ok", "stdout": "loaded 120 rows\n"},
          "002_plot": {"status": "failed", "error": "NameError: name 'df' is not defined"},
          "003_model": {"status": "stale", "outputs": ["outputs/plots/003_model_1.png"]},
          "004_edit": {"status": "edited"}}
    put("history", json.dumps(st, indent=1, sort_keys=True))
    put("history", "[]")


def profiles():
    import pandas as pd
    from daakernel import profiling
    df = pd.DataFrame({"order_date": ["2024-01-03", "2024-02-11", None], "revenue": [12.5, 7.0, 3.25],
                       "region": ["north", "south", "north"], "id": ["007", "008", "009"]})
    prof = json.loads(json.dumps(profiling.profile(df, "data.csv"), default=str))
    sha = "3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a"
    index = {"version": 2, "files": {"data.csv": {"bytes": 97, "mtime_ns": 1796472985024018560,
                                                  "sha256": sha}}}
    entry = {"version": 1, "sha256": sha, "load_key": "{}", "dataset": "data.csv", "file": "data.csv",
             "created": "2026-12-05T12:00:00Z", "bytes": 97, "profile": prof,
             "summary": {"rows": 3, "n_columns": 4, "warnings": ["missing dates"],
                         "report": "outputs/reports/data.csv.html"}}
    put("profile", json.dumps(index) + "\0" + json.dumps(entry))
    entry2 = dict(entry)
    del entry2["summary"]
    entry2["summary_error"] = "the kernel sent no summary"
    put("profile", json.dumps(index) + "\0" + json.dumps(entry2))


def pngs():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    for i, (w, h, dpi) in enumerate([(1.2, 0.9, 40), (0.8, 0.8, 30), (2, 1, 25)]):
        fig, ax = plt.subplots(figsize=(w, h), dpi=dpi)
        ax.plot([1, 3, 2, 4][: 2 + i])
        if i == 1:
            fig.patch.set_alpha(0.0)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, transparent=(i == 1))
        plt.close(fig)
        put("png", buf.getvalue())
    try:  # palette and grey PNGs, as other tools write them
        from PIL import Image
        for mode in ("P", "L", "LA", "RGB"):
            im = Image.new(mode, (9, 5))
            buf = io.BytesIO()
            im.save(buf, format="PNG")
            put("png", buf.getvalue())
    except ImportError:
        pass


if __name__ == "__main__":
    llm_seeds()
    kernel_frames()
    configs()
    history()
    profiles()
    pngs()
