"""A counting HTTP proxy for tests: forwards every request to one upstream (moto_server)
and records when each arrived, so a test can see the request rate a server sees.

``stall``: hold every request without answering until released (a provider API that
hangs), to test timeouts and deadlines.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.arrivals.append((arrived, self.command, self.path))
        if self.server.stalled.is_set():
            self.server.released.wait(30)
            self.close_connection = True
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            upstream.request(self.command, self.path, body=body, headers=headers)
            resp = upstream.getresponse()
            data = resp.read()
        finally:
            upstream.close()
        self.send_response(resp.status)
        for key, value in resp.getheaders():
            if key.lower() not in ("connection", "transfer-encoding", "content-length", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], upstream: str) -> None:
        super().__init__(address, _Handler)
        self.upstream = upstream
        self.lock = threading.Lock()
        self.arrivals: list[tuple[float, str, str]] = []
        self.stalled = threading.Event()
        self.released = threading.Event()


class CountingProxy:
    """The proxy on ``address`` (any free port) in a thread, forwarding to ``upstream_url``."""

    def __init__(self, address: str, upstream_url: str) -> None:
        self.server = _Server((address, 0), urlsplit(upstream_url).netloc)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def arrivals(self) -> list[float]:
        with self.server.lock:
            return [t for t, _, _ in self.server.arrivals]

    def reset(self) -> None:
        with self.server.lock:
            self.server.arrivals.clear()

    def stall(self, on: bool = True) -> None:
        if on:
            self.server.released.clear()
            self.server.stalled.set()
        else:
            self.server.stalled.clear()
            self.server.released.set()

    def start(self) -> CountingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stall(False)
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def most_in_a_second(times: list[float], window: float = 1.0) -> int:
    """The most requests that arrived within any ``window`` seconds (half-open)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
