"""The async driver: retries, timeouts, truncation, ID demultiplexing, limits.

Protocol corner cases (silence, truncation, stray replies) come from a scripted
DNS server on one of this run's own 127.x addresses; the lab's real servers
are in test_probe_lab.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from dnsops.probe import Engine, Query, Result, Target, wire
from dnsops.probe.engine import _Pacer
from tests.conftest import TEST_NET

HOST = f"{TEST_NET}.250.1"
Behaviour = Callable[[dns.message.Message, int], list[bytes]]


def answer(q: dns.message.Message, values: tuple[str, ...] = ("192.0.2.1",)) -> dns.message.Message:
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    r.answer.append(dns.rrset.from_text(q.question[0].name, 60, "IN", "A", *values))
    return r


@dataclass
class Scripted(asyncio.DatagramProtocol):
    """Answers each UDP query with whatever ``behaviour`` returns (maybe nothing)."""

    behaviour: Behaviour
    seen: int = 0
    transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.seen += 1
        q = dns.message.from_wire(data)
        for out in self.behaviour(q, self.seen):
            assert self.transport is not None
            self.transport.sendto(out, addr)


async def serve(
    behaviour: Behaviour, tcp_answer: Callable[[dns.message.Message], bytes] | None = None
) -> tuple[Scripted, Target, Callable[[], Awaitable[None]]]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: Scripted(behaviour), local_addr=(HOST, 0)
    )
    port = transport.get_extra_info("sockname")[1]
    server = None
    if tcp_answer is not None:

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            size = int.from_bytes(await reader.readexactly(2))
            reply = tcp_answer(dns.message.from_wire(await reader.readexactly(size)))
            writer.write(len(reply).to_bytes(2) + reply)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, HOST, port)

    async def stop() -> None:
        transport.close()
        if server is not None:
            server.close()
            await server.wait_closed()

    return proto, Target(HOST, port, "scripted"), stop


def run_against(
    behaviour: Behaviour,
    make: Callable[[Target], list[Query]],
    engine: Engine,
    tcp_answer: Callable[[dns.message.Message], bytes] | None = None,
) -> tuple[list[Result], Scripted]:
    async def main() -> tuple[list[Result], Scripted]:
        proto, target, stop = await serve(behaviour, tcp_answer)
        try:
            return await engine.run(make(target)), proto
        finally:
            await stop()

    return asyncio.run(main())


EXPECT = wire.expected("A", 60, ["192.0.2.1"])


def one(target: Target) -> list[Query]:
    return [Query.make(target, "a.example.test.", "A", expect=EXPECT)]


def test_a_plain_answer_matches_without_parsing() -> None:
    [res], proto = run_against(lambda q, n: [answer(q).to_wire()], one, Engine())
    assert (res.rcode, res.matched, res.ttl, res.attempts, res.transport) == (0, True, 60, 1, "udp")
    assert res.error is None and res.latency is not None and res.aa
    assert res._message is None  # decided on the bytes
    assert proto.seen == 1


def test_lost_replies_are_retried_then_answered() -> None:
    drop_two = lambda q, n: [] if n <= 2 else [answer(q).to_wire()]  # noqa: E731
    [res], proto = run_against(drop_two, one, Engine(timeout=0.2, retries=2))
    assert (res.matched, res.attempts, proto.seen) == (True, 3, 3)


def test_silence_ends_in_a_timeout_after_every_retry() -> None:
    [res], proto = run_against(lambda q, n: [], one, Engine(timeout=0.1, retries=2))
    assert (res.rcode, res.error, res.attempts, res.matched) == (None, "timeout", 3, None)
    assert proto.seen == 3
    assert res.rcode_text == "no answer"


def test_stray_replies_are_ignored_by_id_and_question() -> None:
    def stray_first(q: dns.message.Message, n: int) -> list[bytes]:
        other_id = answer(q)
        other_id.id = (q.id + 1) & 0xFFFF
        other_q = answer(dns.message.make_query("b.example.test.", "A"))
        other_q.id = q.id
        return [other_id.to_wire(), other_q.to_wire(), b"\x00\x01", answer(q).to_wire()]

    [res], _ = run_against(stray_first, one, Engine())
    assert (res.matched, res.attempts) == (True, 1)


def test_a_wrong_answer_is_parsed_and_reported() -> None:
    [res], _ = run_against(lambda q, n: [answer(q, ("192.0.2.99",)).to_wire()], one, Engine())
    assert (res.rcode, res.matched) == (0, False)
    assert res.served() == (60, ("192.0.2.99",))


def test_truncated_udp_falls_back_to_tcp() -> None:
    def truncated(q: dns.message.Message, n: int) -> list[bytes]:
        r = dns.message.make_response(q)
        r.flags |= dns.flags.TC
        return [r.to_wire()]

    [res], proto = run_against(truncated, one, Engine(), tcp_answer=lambda q: answer(q).to_wire())
    assert (res.transport, res.matched, res.attempts, proto.seen) == ("tcp", True, 2, 1)


def test_tcp_queries_skip_udp() -> None:
    def tcp_only(t: Target) -> list[Query]:
        return [Query.make(t, "a.example.test.", "A", tcp=True, expect=EXPECT)]

    [res], proto = run_against(
        lambda q, n: [], tcp_only, Engine(), tcp_answer=lambda q: answer(q).to_wire()
    )
    assert (res.transport, res.matched, proto.seen) == ("tcp", True, 0)


def test_concurrency_bounds_queries_in_flight() -> None:
    """The server holds every query until 3 are waiting: with a limit of 3 it never sees 4."""
    waiting: list[dns.message.Message] = []
    most = [0]

    def batches_of_three(q: dns.message.Message, n: int) -> list[bytes]:
        waiting.append(q)
        most[0] = max(most[0], len(waiting))
        if len(waiting) < 3:
            return []
        out = [answer(w).to_wire() for w in waiting]
        waiting.clear()
        return out

    def many(t: Target) -> list[Query]:
        return [Query.make(t, f"n{i}.example.test.", "A", key=i) for i in range(30)]

    results, proto = run_against(batches_of_three, many, Engine(concurrency=3, timeout=5))
    assert most[0] == 3 and proto.seen == 30
    assert [r.query.key for r in results] == list(range(30))
    assert all(r.rcode == 0 and r.attempts == 1 for r in results)


def test_a_port_without_server_is_refused_fast() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    target = Target(HOST, port, "nobody")
    [res] = asyncio.run(Engine(timeout=5, retries=1).run(one(target)))
    assert (res.rcode, res.error, res.attempts) == (None, "connection refused", 2)
    [tcp] = asyncio.run(
        Engine(timeout=5, retries=0).run([Query.make(target, "a.test.", "A", tcp=True)])
    )
    assert (tcp.error, tcp.transport) == ("connection refused", "udp")


def test_pacer_caps_queries_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("dnsops.probe.engine._now", lambda: clock[0])
    pacer = _Pacer(50)
    taken = 0
    for _ in range(1000):  # one simulated second in 1 ms steps, asking 4 times a step
        for _ in range(4):
            if pacer.take() == 0:
                taken += 1
        clock[0] += 0.001
    assert 50 <= taken <= 50 + pacer.capacity
    assert pacer.take() > 0 or pacer.tokens >= 0


def test_bad_engine_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Engine(concurrency=0)
    with pytest.raises(ValueError, match="qps"):
        Engine(qps=0)


def test_no_queries_no_work() -> None:
    assert asyncio.run(Engine().run([])) == []


def test_rcode_of_a_refusal_is_kept() -> None:
    def refuse(q: dns.message.Message, n: int) -> list[bytes]:
        r = dns.message.make_response(q)
        r.set_rcode(dns.rcode.REFUSED)
        return [r.to_wire()]

    [res], _ = run_against(refuse, one, Engine())
    assert (res.rcode_text, res.matched, res.error) == ("REFUSED", False, None)


def test_truncation_gets_a_tcp_try_even_without_retries() -> None:
    def truncated(q: dns.message.Message, n: int) -> list[bytes]:
        r = dns.message.make_response(q)
        r.flags |= dns.flags.TC
        return [r.to_wire()]

    [res], _ = run_against(
        truncated, one, Engine(retries=0), tcp_answer=lambda q: answer(q).to_wire()
    )
    assert (res.transport, res.matched, res.attempts) == ("tcp", True, 2)


def test_a_question_echoed_in_another_case_is_still_ours() -> None:
    def shouting(q: dns.message.Message, n: int) -> list[bytes]:
        data = bytearray(answer(q).to_wire())
        data[13:14] = data[13:14].upper()  # first letter of the echoed question
        return [bytes(data)]

    [res], _ = run_against(shouting, one, Engine(timeout=0.2, retries=0))
    assert (res.rcode, res.attempts) == (0, 1)


def test_a_bug_in_a_callback_ends_the_run_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dnsops.probe import ProbeError

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(wire, "quick_match", broken)
    with pytest.raises(ProbeError, match="probe engine failed: RuntimeError\\('boom'\\)"):
        run_against(lambda q, n: [answer(q).to_wire()], one, Engine(timeout=5))
