"""A tiny threaded HTTP server for stand-ins, and a client for talking to anfu."""

import http.client
import http.server
import json
import threading
import time
import urllib.parse


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        parts = urllib.parse.urlsplit(target)
        self.path = parts.path
        self.raw_query = parts.query
        self.query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.time = time.time()

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def reply(status, payload=None, content_type="application/json; charset=utf-8", headers=None):
    if payload is None:
        body = b""
    elif isinstance(payload, (bytes, str)):
        body = payload.encode() if isinstance(payload, str) else payload
    else:
        body = json.dumps(payload, ensure_ascii=False).encode()
    return status, body, content_type, headers or {}


class StandIn:
    """Base class: subclasses implement handle(req) -> reply(...)."""

    name = "stand-in"

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.problems = []
        self.unexpected = []
        self.server = None

    def problem(self, text):
        with self.lock:
            if len(self.problems) < 40:
                self.problems.append(f"{self.name}: {text}")

    def not_found(self, req):
        with self.lock:
            if len(self.unexpected) < 40:
                self.unexpected.append(f"{self.name}: {req.method} {req.path}")
        return reply(404, {"error": "not found"})

    def start(self):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _read_body(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _serve(self):
                req = Request(self.command, self.path, self.headers, self._read_body())
                with standin.lock:
                    standin.requests.append(req)
                try:
                    status, body, ctype, extra = standin.handle(req)
                except Exception as exc:  # a stand-in bug must show, not hang anfu
                    standin.problem(f"stand-in error on {req.method} {req.path}: {exc!r}")
                    status, body, ctype, extra = reply(500, {"error": "stand-in error"})
                self.send_response(status)
                if body:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                if body:
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def handle(self, req):
        return self.not_found(req)


class Answer:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def text(self):
        return self.body.decode("utf-8", "replace")


def call(port, method, path, body=b"", headers=None, timeout=10):
    """One request to 127.0.0.1:port; returns an Answer (status 0 on a transport error)."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data,
                      time.monotonic() - start)
    except OSError as exc:
        return Answer(0, {}, repr(exc).encode(), time.monotonic() - start)
    finally:
        conn.close()
