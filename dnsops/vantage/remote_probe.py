"""The probe dnsops runs on an SSH vantage host: Python standard library only.

dnsops sends this file over the SSH session's stdin to ``python3 -`` with one
line appended, ``main("<base64 JSON job>")``; nothing is installed or written
on the host. The job lists the queries (server, port, name, type, flags); the
probe encodes each query itself, asks over UDP (TCP when the reply is
truncated or when asked to), checks the reply's ID and question, and streams
one JSON line per query back on stdout, the raw reply included (dnsops parses
and judges it, exactly as it judges its own probes)::

    {"hello": {"host": ..., "python": ..., "resolvers": [...]}}
    {"i": 0, "server": "10.0.0.2", "rcode": 0, "wire": "<base64>", "latency": 0.0012,
     "transport": "udp", "attempts": 1, "error": null}
    ...
    {"done": 2, "seconds": 0.05}

A job with ``stream`` asks the same questions over and over instead, at a steady
rate, until its ``until`` (seconds) or until dnsops goes away (the session's
stdout breaks: the probe exits at its next line). Each round asks every probe
``streams`` times; a probe with ``nx`` asks a fresh name under its zone each
time (``dnsops-drill-<tag>-<n>.<zone>``: never cached, so every ask reaches the
zone's servers). Each line says when its round started (``t``, seconds since
the hello) and which probe and stream it answers::

    {"hello": {...}}
    {"i": 7, "p": 0, "k": 1, "t": 1.4, "q": "dnsops-drill-ab12-7.example.test.",
     "server": ..., "rcode": 0, "wire": ..., "latency": ..., "attempts": 1, "error": null}
    {"done": 120, "seconds": 30.0}

A server named ``system`` is the host's own resolver: the first ``nameserver``
of /etc/resolv.conf. Queries run on a bounded thread pool (``concurrency``).

Keep it runnable on old interpreters (Python 3.7): no third-party module, no
syntax newer than 3.7 at run time. By hand: ``python3 remote_probe.py SERVER
NAME [TYPE]`` asks one question and prints its line.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import random
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PROTOCOL = 1  # bumped when the job or the lines change shape
TC = 0x0200
SYSTEM = "system"
_lock = threading.Lock()


def encode_name(name: str) -> bytes:
    """A domain name in wire format (uncompressed); ``.`` is the root."""
    out = b""
    for label in name.rstrip(".").split("."):
        if not label:
            if name.strip(".") == "":
                break
            raise ValueError(f"empty label in {name!r}")
        raw = label.encode("idna") if not label.isascii() else label.encode()
        if len(raw) > 63:
            raise ValueError(f"label too long in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def question(wire_name: bytes, qtype: int) -> bytes:
    """The question section: the name in wire format, the type, class IN."""
    return wire_name + struct.pack("!HH", qtype, 1)


def encode_query(qid: int, asked: bytes, rd: bool, edns: int | None, payload: int) -> bytes:
    """Header, the question and, with ``edns``, an OPT record (no options)."""
    flags = 0x0100 if rd else 0
    header = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1 if edns is not None else 0)
    opt = b""
    if edns is not None:
        opt = b"\x00" + struct.pack("!HHBBHH", 41, payload, 0, edns, 0, 0)
    return header + asked + opt


def decode_header(data: bytes) -> tuple[int, int, int]:
    """(ID, flags, rcode) of a reply; raises ValueError when it is too short."""
    if len(data) < 12:
        raise ValueError("reply shorter than a DNS header")
    qid, flags = struct.unpack("!HH", data[:4])
    return qid, flags, flags & 0x000F


def echoes(data: bytes, asked: bytes) -> bool:
    """The reply's question section is ours (names compared without case)."""
    echoed = data[12 : 12 + len(asked)]
    return echoed == asked or echoed.lower() == asked.lower()


def system_resolvers(path: str = "/etc/resolv.conf") -> list[str]:
    found = []
    try:
        with open(path) as fh:
            for line in fh:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    found.append(fields[1].split("%")[0])
    except OSError:
        pass
    return found


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def ask_udp(address: str, port: int, query: bytes, asked: bytes, timeout: float) -> bytes:
    qid = struct.unpack("!H", query[:2])[0]
    sock = socket.socket(_family(address), socket.SOCK_DGRAM)
    try:
        sock.connect((address, port))
        sock.send(query)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timeout")
            sock.settimeout(left)
            data = sock.recv(65535)
            if len(data) >= 12 and decode_header(data)[0] == qid and echoes(data, asked):
                return data
    finally:
        sock.close()


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("connection closed before a reply")
        buf += chunk
    return buf


def ask_tcp(address: str, port: int, query: bytes, asked: bytes, timeout: float) -> bytes:
    qid = struct.unpack("!H", query[:2])[0]
    sock = socket.socket(_family(address), socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
        sock.sendall(struct.pack("!H", len(query)) + query)
        size = struct.unpack("!H", _read_exactly(sock, 2))[0]
        data = _read_exactly(sock, size)
    finally:
        sock.close()
    if len(data) < 12 or decode_header(data)[0] != qid or not echoes(data, asked):
        raise ValueError("reply with a wrong message ID or question")
    return data


def _error_text(exc: BaseException) -> str:
    # before Python 3.10 socket.timeout is not TimeoutError: hosts may be older
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def ask(spec: list[Any], resolvers: list[str], timeout: float, retries: int) -> dict[str, Any]:
    """One query of the job: ``[i, server, port, name, type, rd, edns, payload, tcp]``.

    ``name`` is the question's name in wire format, base64-encoded (names with
    escapes travel unchanged).
    """
    i, server, port, name, qtype, rd, edns, payload, tcp = spec
    line: dict[str, Any] = {"i": i, "server": server, "attempts": 0, "error": None}
    if server == SYSTEM:
        if not resolvers:
            line["error"] = "no nameserver in /etc/resolv.conf"
            return line
        server = resolvers[0]
        line["server"] = server
    try:
        asked = question(base64.b64decode(name), qtype)
    except (ValueError, TypeError) as exc:
        line["error"] = f"bad name: {exc}"
        return line
    transport = "tcp" if tcp else "udp"
    error = "timeout"
    while line["attempts"] <= retries:
        line["attempts"] += 1
        query = encode_query(random.getrandbits(16), asked, rd, edns, payload)
        start = time.perf_counter()
        try:
            if transport == "udp":
                data = ask_udp(server, port, query, asked, timeout)
                if decode_header(data)[1] & TC:
                    transport = "tcp"  # truncated: the same question over TCP
                    data = ask_tcp(server, port, query, asked, timeout)
            else:
                data = ask_tcp(server, port, query, asked, timeout)
        except (OSError, ValueError) as exc:
            error = _error_text(exc)
            continue
        line.update(
            rcode=decode_header(data)[2],
            wire=base64.b64encode(data).decode(),
            latency=round(time.perf_counter() - start, 6),
            transport=transport,
        )
        return line
    line["error"] = error
    return line


def emit(obj: dict[str, Any]) -> None:
    text = json.dumps(obj, separators=(",", ":"))
    with _lock:
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, OSError):
            os._exit(0)  # nobody reads us any more: the session is gone, so are we


def stream(job: dict[str, Any], resolvers: list[str], started: float) -> int:
    """Ask the job's probes at its rate until ``until``; returns how many were asked."""
    spec = job["stream"]
    interval = 1.0 / float(spec["rate"])
    until = float(spec["until"])
    server, port, streams = spec["server"], int(spec["port"]), int(spec["streams"])
    timeout, retries = float(job["timeout"]), int(job["retries"])
    tag = f"{random.getrandbits(24):06x}"
    probes = spec["probes"]  # [[name, qtype, nx], ...]
    pool = ThreadPoolExecutor(max_workers=max(1, int(job["concurrency"])))
    seq = 0
    tick = time.monotonic()

    def one(i: int, p: int, k: int, t: float, name: str, qtype: int) -> None:
        try:
            wire_name = base64.b64encode(encode_name(name)).decode()
        except ValueError as exc:
            line: dict[str, Any] = {"i": i, "server": server, "attempts": 0, "error": str(exc)}
        else:
            line = ask(
                [i, server, port, wire_name, qtype, True, 0, 1232, False],
                resolvers,
                timeout,
                retries,
            )
        line.update(p=p, k=k, t=t, q=name)
        emit(line)

    while time.perf_counter() - started < until:
        t = round(time.perf_counter() - started, 4)
        for p, (name, qtype, nx) in enumerate(probes):
            for k in range(streams):
                asked = f"dnsops-drill-{tag}-{seq}.{name}" if nx else name
                pool.submit(one, seq, p, k, t, asked, int(qtype))
                seq += 1
        tick += interval
        delay = tick - time.monotonic()
        if delay < 0:  # fell behind: skip rounds, keep the pace
            tick, delay = time.monotonic(), 0.0
        time.sleep(delay)
    pool.shutdown(wait=True)
    return seq


def main(job_b64: str) -> None:
    job = json.loads(base64.b64decode(job_b64).decode())
    if job.get("v") != PROTOCOL:
        emit({"fatal": f"probe protocol {PROTOCOL}, job protocol {job.get('v')}"})
        return
    resolvers = system_resolvers()
    started = time.perf_counter()
    emit(
        {
            "hello": {
                "host": socket.gethostname(),
                "python": platform.python_version(),
                "resolvers": resolvers,
                "pid": os.getpid(),
            }
        }
    )
    if job.get("stream"):
        asked = stream(job, resolvers, started)
        emit({"done": asked, "seconds": round(time.perf_counter() - started, 3)})
        return
    timeout, retries = float(job["timeout"]), int(job["retries"])
    queries = job["queries"]

    def one(spec: list[Any]) -> None:
        emit(ask(spec, resolvers, timeout, retries))

    with ThreadPoolExecutor(max_workers=max(1, int(job["concurrency"]))) as pool:
        for _ in pool.map(one, queries):
            pass
    emit({"done": len(queries), "seconds": round(time.perf_counter() - started, 3)})


def _by_hand(argv: list[str]) -> None:
    server, name = argv[0], argv[1]
    qtype = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}.get(
        (argv[2] if len(argv) > 2 else "A").upper(), 1
    )
    wire_name = base64.b64encode(encode_name(name)).decode()
    spec = [0, server, 53, wire_name, qtype, True, 0, 1232, False]
    print(json.dumps(ask(spec, system_resolvers(), 2.0, 1)))


if __name__ == "__main__" and len(sys.argv) >= 3:
    _by_hand(sys.argv[1:])
