"""The AXFR drivers (dnsops.probe.transfer): per-server limits and retries.

A small AXFR server (threads, one address of this test net) counts the transfers it
serves at once and, like BIND over its ``transfers-out`` quota, answers SERVFAIL to
those beyond its quota. Each test uses its own slot directory (no other test or
process shares its limits).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from dnsops.probe import Target
from dnsops.probe.transfer import (
    NO_RETRY,
    RETRY_SERVFAIL,
    Limits,
    Retry,
    Tries,
    axfr,
    transfer_sync,
)
from dnsops.probe.xfr import RRsetSink, TransferFailed
from tests.conftest import TEST_NET

ADDRESS = f"{TEST_NET}.9.6"
FAST = Retry(attempts=8, base=0.01, cap=0.05, deadline=10.0)


def rr(name: str, rdtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, 300, "IN", rdtype, *values)


class QuotaServer:
    """Serves any zone (SOA, NS, A, SOA) after ``hold`` seconds; beyond ``quota`` transfers
    at once it answers SERVFAIL right away (``rcode``: what it answers every time)."""

    def __init__(self, quota: int = 100, hold: float = 0.05, rcode: int = 0) -> None:
        self.quota, self.hold, self.rcode = quota, hold, rcode
        self.lock = threading.Lock()
        self.connected = self.serving = self.most = self.refused = self.served = 0
        self.sock = socket.socket()
        self.sock.bind((ADDRESS, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.target = Target(ADDRESS, self.port, "quota server")
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                size = struct.unpack("!H", _recv(conn, 2))[0]
                query = dns.message.from_wire(_recv(conn, size))
            except OSError:
                return
            with self.lock:
                self.connected += 1
                self.most = max(self.most, self.connected)
                over = self.rcode or (dns.rcode.SERVFAIL if self.serving >= self.quota else 0)
                if over:
                    self.refused += 1
                else:
                    self.serving += 1
            try:
                resp = dns.message.make_response(query)
                if over:
                    resp.set_rcode(over)
                else:
                    time.sleep(self.hold)
                    zone = query.question[0].name.to_text()
                    soa = rr(zone, "SOA", f"ns1.{zone} h.{zone} 1 3600 600 604800 60")
                    resp.answer += [soa, rr(zone, "NS", f"ns1.{zone}"), rr(zone, "A", "192.0.2.1")]
                    resp.answer.append(soa)
                wire = resp.to_wire()
            finally:
                # counted out before the reply leaves: the client holds its slot until
                # it has read the reply, so what is counted here ran inside that slot
                with self.lock:
                    self.connected -= 1
                    if not over:
                        self.serving -= 1
                        self.served += 1
            with contextlib.suppress(OSError):  # the client may have given up
                conn.sendall(struct.pack("!H", len(wire)) + wire)

    def close(self) -> None:
        self.sock.close()


def _recv(conn: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = conn.recv(size - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf


@pytest.fixture
def server() -> Iterator[QuotaServer]:
    srv = QuotaServer()
    yield srv
    srv.close()


def many(target: Target, n: int, limits: Limits, retry: Retry | None = FAST) -> list[object]:
    async def all_of() -> list[object]:
        jobs = [axfr(target, f"z{i}.test.", limits=limits, retry=retry) for i in range(n)]
        return list(await asyncio.gather(*jobs))

    return asyncio.run(all_of())


def test_at_most_the_limit_at_once_per_server(server: QuotaServer, tmp_path: Path) -> None:
    got = many(server.target, 20, Limits(per_server=3, lock_dir=tmp_path))
    assert all(t.transferred and t.attempts == 1 for t in got)  # type: ignore[attr-defined]
    assert server.served == 20 and server.most == 3


def test_servfail_over_the_quota_is_tried_again_with_fewer_at_once(tmp_path: Path) -> None:
    """The server takes 2 at once, we start with 4: every transfer ends complete, the
    refused ones after another try, and the limit for that server came down (to grow
    back by one after as many successes as the limit)."""
    srv = QuotaServer(quota=2)
    limits = Limits(per_server=4, lock_dir=tmp_path)
    try:
        got = many(srv.target, 24, limits)
    finally:
        srv.close()
    assert all(t.transferred for t in got)  # type: ignore[attr-defined]
    assert srv.served == 24 and srv.refused > 0
    assert max(t.attempts for t in got) > 1  # type: ignore[attr-defined]
    assert limits.server(srv.target).epoch > 0  # cut at least once


def test_retries_are_bounded_in_count_and_time(tmp_path: Path) -> None:
    srv = QuotaServer(rcode=dns.rcode.SERVFAIL)
    limits = Limits(per_server=2, lock_dir=tmp_path)
    try:
        [counted] = many(srv.target, 1, limits, Retry(attempts=4, base=0.01, cap=0.02))
        started = time.monotonic()
        [timed] = many(srv.target, 1, limits, Retry(attempts=100, base=0.05, deadline=0.3))
        took = time.monotonic() - started
    finally:
        srv.close()
    assert (counted.rcode, counted.attempts, counted.error) == (2, 4, "SERVFAIL")  # type: ignore[attr-defined]
    assert 2 < timed.attempts < 10 and took < 1.0  # type: ignore[attr-defined]
    assert limits.cap(srv.target) == 1


def test_a_refusal_that_is_the_answer_is_not_asked_again(tmp_path: Path) -> None:
    srv = QuotaServer(rcode=dns.rcode.REFUSED)
    limits = Limits(per_server=2, lock_dir=tmp_path)
    try:
        [anonymous] = many(srv.target, 1, limits, None)  # no key: RETRY_SERVFAIL
        [explicit] = many(srv.target, 1, limits, RETRY_SERVFAIL)
        [once] = many(srv.target, 1, limits, NO_RETRY)
    finally:
        srv.close()
    assert anonymous.refused and anonymous.attempts == 1  # type: ignore[attr-defined]
    assert explicit.refused and explicit.attempts == 1  # type: ignore[attr-defined]
    assert once.refused and once.attempts == 1  # type: ignore[attr-defined]
    assert limits.cap(srv.target) == 2  # the answer, not a busy server


def _child(port: int, lock_dir: str, n: int) -> None:
    target = Target(ADDRESS, port)
    got = many(target, n, Limits(per_server=3, lock_dir=Path(lock_dir)))
    os._exit(0 if all(t.transferred for t in got) else 1)  # type: ignore[attr-defined]


def test_the_limit_holds_across_forked_processes(server: QuotaServer, tmp_path: Path) -> None:
    """Two workers and this process, each with the same limit: 3 at once in all."""
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_child, args=(server.port, str(tmp_path), 8)) for _ in "ab"]
    for child in children:
        child.start()
    mine = many(server.target, 8, Limits(per_server=3, lock_dir=tmp_path))
    for child in children:
        child.join(30)
    assert [c.exitcode for c in children] == [0, 0]
    assert all(t.transferred for t in mine)  # type: ignore[attr-defined]
    assert server.served == 24 and server.most <= 3


def test_sync_and_async_transfers_share_the_limit(server: QuotaServer, tmp_path: Path) -> None:
    limits = Limits(per_server=2, lock_dir=tmp_path)
    tries = [Tries() for _ in range(4)]

    def blocking(i: int) -> None:
        transfer_sync(server.target, f"s{i}.test.", RRsetSink, limits=limits, tries=tries[i])

    threads = [threading.Thread(target=blocking, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    got = many(server.target, 6, limits)
    for t in threads:
        t.join(30)
    assert all(t.transferred for t in got)  # type: ignore[attr-defined]
    assert [t.attempts for t in tries] == [1, 1, 1, 1]
    assert server.served == 10 and server.most <= 2


def test_a_slot_held_at_a_fork_is_the_parents_alone(tmp_path: Path) -> None:
    """A forked child closes its copy of a held slot: the slot frees when the parent lets
    go, even while the child still runs."""
    limits = Limits(per_server=1, lock_dir=tmp_path)
    target = Target(ADDRESS, 1)
    ctx = multiprocessing.get_context("fork")
    with limits.hold_sync(target):
        child = ctx.Process(target=time.sleep, args=(2,))
        child.start()
    try:
        with limits.hold_sync(target):
            pass  # would wait for the child's exit if it kept the lock
        other = Limits(per_server=1, lock_dir=tmp_path)  # as another process would
        server = other.server(target)
        fd = other._try_file_slot(server)
        assert fd is not None and fd >= 0
        other._release(fd)
    finally:
        child.kill()
        child.join()


def test_the_sync_driver_raises_what_octodns_bind_expects(tmp_path: Path) -> None:
    srv = QuotaServer(rcode=dns.rcode.NOTAUTH)
    limits = Limits(per_server=2, lock_dir=tmp_path)
    try:
        with pytest.raises(TransferFailed, match="NOTAUTH"):
            transfer_sync(srv.target, "z.test.", RRsetSink, limits=limits, retry=FAST)
    finally:
        srv.close()
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        transfer_sync(Target(ADDRESS, port), "z.test.", RRsetSink, limits=limits)
    assert dns.rdatatype.AXFR  # (the server above answered AXFR queries only)
