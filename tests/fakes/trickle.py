"""A trickling HTTP API for tests: answers every request with its status line and
headers at once, then one byte of the body every ``interval`` seconds.

A client bounded only per socket read (requests' ``timeout``) never gives up on it:
each read gets its byte in time. It listens on one loopback address only, counts the
requests it got, and stops by itself after ``lifetime`` seconds (so a test that dies
half-way leaves nothing running).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _trickle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with self.server.lock:
            self.server.requests.append(f"{self.command} {self.path}")
        body = b'{"rrsets": []}' + b" " * 1_000_000
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        for byte in body:
            if self.server.stopping.wait(self.server.interval):
                break
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:  # the client gave up: what a bounded client must do
                with self.server.lock:
                    self.server.abandoned += 1
                break
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _trickle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], interval: float) -> None:
        super().__init__(address, _Handler)
        self.interval = interval
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.abandoned = 0
        self.stopping = threading.Event()


class TricklingApi:
    """The stand-in on ``address`` (loopback only; any free port) in a thread."""

    def __init__(self, address: str, interval: float = 5.0, lifetime: float = 120.0) -> None:
        if not ipaddress.ip_address(address).is_loopback:
            raise ValueError(f"{address}: the trickling stand-in listens on loopback only")
        self.server = _Server((address, 0), interval)
        self.lifetime = lifetime
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime, self.stop)
        self._timer.daemon = True

    @property
    def address(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def requests(self) -> list[str]:
        with self.server.lock:
            return list(self.server.requests)

    def abandoned(self, wait: float = 0.0) -> int:
        """How many responses the client gave up on (waiting up to ``wait`` seconds for
        the stand-in to notice: it does at its next byte)."""
        until = time.monotonic() + wait
        while True:
            with self.server.lock:
                found = self.server.abandoned
            if found or time.monotonic() >= until:
                return found
            time.sleep(0.1)

    def start(self) -> TricklingApi:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
