#!/usr/bin/python3
"""tests/llm/fake_openai.py - a scripted, recording OpenAI-compatible server.

Plays back scripted answers to POST .../chat/completions (any path not under
/_fake/) and records every request it receives, like curl's test servers.
Standard library only; threaded; run with /usr/bin/python3.

Usage:
  fake_openai.py [--script FILE] [--record FILE] [--port-file FILE] [--port N]

It prints its port on stdout (and writes it to --port-file atomically).
Each request is appended to --record as one JSON line:
  {"n": 1, "method": "POST", "path": "/v1/chat/completions",
   "headers": {"authorization": "...", ...}  (names lower-cased),
   "body": <parsed JSON, or the raw text when not JSON>}
Control endpoints: GET /_fake/requests (the records as a JSON list),
POST /_fake/script (replace the script and restart it; body = a script),
POST /_fake/reset (forget the records, and empty the --record file).

Script: a list of responses used in order, or {"responses": [...], "then": R}
where R answers every request after the list is used up (without "then", a
500 "script exhausted").  A response R:
  "status": 200            HTTP status (default 200)
  "headers": {...}         extra response headers (e.g. Retry-After); a value
                           "@date+N" becomes the HTTP date N seconds from now
  "delay_ms": N            wait before answering
  "reply": {"content": str|null, "tool_calls": [{"id"?, "name", "arguments":
            obj|str}], "usage": {...}, "model": str, "finish_reason": str}
           rendered as a completion, or as an SSE stream when the request asked
           for "stream": true: content and arguments split every
           "chunk_chars" (default 7) characters; "interleave": true mixes the
           argument pieces of several tool calls; usage in a last chunk when
           the request had stream_options.include_usage
  "body": obj|str          a literal body (JSON, or raw text with "content_type")
  "sse": [obj|str, ...]    literal SSE: objects become "data: <json>", strings
                           are written raw; "[DONE]" follows unless "done": false
  "chunk_delay_ms": N      pause between SSE events
  "drop_after": N          close the connection abruptly after N SSE events
                           (or after half the body)
  "hang_ms": N             send the headers, then nothing for N ms
  "flood": {"bytes": N|null, "piece": P, "text": s}
                           an answer whose content is N bytes ("x" repeated, or
                           s repeated); null: endless, until the client hangs
                           up.  Streamed as SSE content deltas of P bytes
                           (default 65536) when the request asked for a stream,
                           else as one chunked completion body
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, script, record):
        self.lock = threading.Lock()
        self.records = []
        self.record = record
        self.set_script(script)

    def set_script(self, script):
        if isinstance(script, list):
            script = {"responses": script}
        self.responses = list(script.get("responses", []))
        self.then = script.get("then")
        self.index = 0

    def next_response(self):
        with self.lock:
            if self.index < len(self.responses):
                r = self.responses[self.index]
                self.index += 1
                return r
            if self.then is not None:
                return self.then
        return {"status": 500, "body": {"error": {"message": "fake server: script exhausted",
                                                  "type": "server_error"}}}

    def add_record(self, rec):
        with self.lock:
            rec["n"] = len(self.records) + 1
            self.records.append(rec)
            if self.record:
                with open(self.record, "a", encoding="utf-8") as f:
                    f.write(json.dumps(rec) + "\n")
                    f.flush()


def pieces(s, n):
    """Split s into pieces of n characters (at least one piece)."""
    if not s:
        return [""]
    return [s[i:i + n] for i in range(0, len(s), n)]


def norm_calls(reply):
    """Tool calls of a scripted reply with ids and string arguments."""
    out = []
    for i, tc in enumerate(reply.get("tool_calls") or []):
        args = tc.get("arguments", {})
        if not isinstance(args, str):
            args = json.dumps(args)
        out.append({"id": tc.get("id", "call_%d" % (i + 1)), "name": tc["name"], "arguments": args})
    return out


def completion(reply, model):
    """A whole chat.completion object."""
    msg = {"role": "assistant", "content": reply.get("content")}
    calls = norm_calls(reply)
    if calls:
        msg["tool_calls"] = [{"id": c["id"], "type": "function",
                              "function": {"name": c["name"], "arguments": c["arguments"]}}
                             for c in calls]
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": reply.get("model", model),
            "choices": [{"index": 0, "message": msg,
                         "finish_reason": reply.get("finish_reason",
                                                    "tool_calls" if calls else "stop")}],
            "usage": reply.get("usage", {"prompt_tokens": 11, "completion_tokens": 7,
                                         "total_tokens": 18})}


def stream_chunks(reply, model, n, interleave, include_usage):
    """The chat.completion.chunk objects of a streamed reply."""
    model = reply.get("model", model)

    def chunk(delta, finish=None):
        return {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    out = [chunk({"role": "assistant", "content": ""})]
    if reply.get("content"):
        out += [chunk({"content": p}) for p in pieces(reply["content"], n)]
    calls = norm_calls(reply)
    per_call = []
    for i, c in enumerate(calls):
        first = chunk({"tool_calls": [{"index": i, "id": c["id"], "type": "function",
                                       "function": {"name": c["name"], "arguments": ""}}]})
        rest = [chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]})
                for p in pieces(c["arguments"], n)]
        per_call.append([first] + rest)
    if interleave:
        k = 0
        while any(per_call):
            for lst in per_call:
                if lst:
                    out.append(lst.pop(0))
            k += 1
    else:
        for lst in per_call:
            out += lst
    out.append(chunk({}, reply.get("finish_reason", "tool_calls" if calls else "stop")))
    if include_usage:
        u = reply.get("usage", {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})
        out.append({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                    "created": int(time.time()), "model": model, "choices": [], "usage": u})
    return out


def header_value(v):
    """A header value; "@date+N" is the HTTP date N seconds from now."""
    v = str(v)
    if v.startswith("@date+"):
        return formatdate(time.time() + float(v[6:]), usegmt=True)
    return v


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up (a cancelled call) is part of the tests.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1"
    # headers and body go out in separate writes: with Nagle's algorithm the
    # body waited for the client's delayed ACK, 40 ms per reply
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet
        pass

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, header_value(v))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.state
        if self.path == "/_fake/requests":
            with st.lock:
                self.send_json(200, st.records)
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        st = self.server.state
        raw = self.read_body()
        if self.path == "/_fake/script":
            st.set_script(json.loads(raw))
            return self.send_json(200, {"ok": True})
        if self.path == "/_fake/reset":
            with st.lock:
                st.records = []
                if st.record:
                    open(st.record, "w").close()
            return self.send_json(200, {"ok": True})
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        st.add_record({"method": "POST", "path": self.path,
                       "headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": body})
        self.respond(st.next_response(), body if isinstance(body, dict) else {})

    def respond(self, r, req):
        time.sleep(r.get("delay_ms", 0) / 1000.0)
        status = r.get("status", 200)
        extra = r.get("headers", {})
        if "flood" in r:
            return self.send_flood(r["flood"], bool(req.get("stream")), req.get("model", "fake"))
        if "reply" in r and req.get("stream"):
            inc = bool((req.get("stream_options") or {}).get("include_usage"))
            events = stream_chunks(r["reply"], req.get("model", "fake"),
                                   r.get("chunk_chars", 7), r.get("interleave"), inc)
            return self.send_sse(status, extra, events, r)
        if "reply" in r:
            return self.send_json(status, completion(r["reply"], req.get("model", "fake")), extra)
        if "sse" in r:
            return self.send_sse(status, extra, r["sse"], r)
        body = r.get("body", {})
        if isinstance(body, str):
            data = body.encode()
            ctype = r.get("content_type", "text/plain")
        else:
            data = json.dumps(body).encode()
            ctype = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, header_value(v))
        self.end_headers()
        if "drop_after" in r:
            self.wfile.write(data[:len(data) // 2])
            return self.drop()
        self.wfile.write(data)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def drop(self):
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def flood_pieces(self, f):
        """Content pieces of a "flood" answer (endless when bytes is null)."""
        piece, left = int(f.get("piece", 65536)), f.get("bytes")
        text = f.get("text", "x")
        unit = (text * (piece // len(text) + 1))[:piece]
        while left is None or left > 0:
            n = piece if left is None else min(piece, left)
            yield unit[:n]
            if left is not None:
                left -= n

    def send_flood(self, f, stream, model):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if stream else "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if stream:
                for p in self.flood_pieces(f):
                    ev = {"id": "c1", "object": "chat.completion.chunk", "model": model,
                          "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
                    self.chunk(b"data: " + json.dumps(ev).encode() + b"\n\n")
                end = {"id": "c1", "object": "chat.completion.chunk", "model": model,
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.chunk(b"data: " + json.dumps(end).encode() + b"\n\ndata: [DONE]\n\n")
            else:
                self.chunk(b'{"id": "c1", "object": "chat.completion", "model": "%s", "choices": '
                           b'[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", '
                           b'"content": "' % model.encode())
                for p in self.flood_pieces(f):
                    self.chunk(json.dumps(p)[1:-1].encode())
                self.chunk(b'"}}]}')
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            return

    def send_sse(self, status, extra, events, r):
        self.send_response(status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in extra.items():
            self.send_header(k, header_value(v))
        self.end_headers()
        self.wfile.flush()
        if r.get("hang_ms"):
            time.sleep(r["hang_ms"] / 1000.0)
            return self.drop()
        events = list(events)
        if r.get("done", True):
            events.append("data: [DONE]\n\n")
        delay = r.get("chunk_delay_ms", 0) / 1000.0
        for i, ev in enumerate(events):
            if "drop_after" in r and i >= r["drop_after"]:
                return self.drop()
            if isinstance(ev, str):
                data = ev.encode()
            else:
                data = b"data: " + json.dumps(ev).encode() + b"\n\n"
            try:
                self.chunk(data)
            except OSError:
                return
            if delay:
                time.sleep(delay)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--script")
    ap.add_argument("--record")
    ap.add_argument("--port-file")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    script = []
    if a.script:
        with open(a.script, encoding="utf-8") as f:
            script = json.load(f)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(script, a.record)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
