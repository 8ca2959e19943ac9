"""The steady-rate prober: every vantage, every probe, every stream, ``rate`` times a second.

It runs in a thread with its own asyncio loop, so the executor can block on
octoDNS or on a server restart while sampling goes on at a steady pace. Each
query is its own task on its own socket (a shared socket can hand one query's
reply to another waiter), bounded by the timeout, so a dead server slows no
other probe. Samples only accumulate; the executor reads ``snapshot()``.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from dnsops.drill.measure import NX_PREFIX, Sample


@dataclass(frozen=True)
class Vantage:
    name: str
    address: str
    port: int = 53


@dataclass(frozen=True)
class Probe:
    """``key`` names it in samples; an ``nx:ZONE`` probe asks a fresh name each time."""

    key: str
    qname: str
    rtype: str

    @classmethod
    def record(cls, fqdn: str, rtype: str) -> Probe:
        return cls(f"{fqdn} {rtype.upper()}", fqdn, rtype.upper())

    @classmethod
    def cache_busting(cls, zone: str) -> Probe:
        return cls(NX_PREFIX + zone, zone, "A")


@dataclass(frozen=True)
class Answer:
    rcode: str | None  # None: no answer at all
    values: tuple[str, ...]
    latency: float | None
    error: str | None = None  # the exception's class name when there was no answer
    attempts: int = 1


async def ask(
    vantage: Vantage, qname: str, rtype: str, timeout: float, attempts: int = 1
) -> Answer:
    """One resolution as a stub resolver does it: up to ``attempts`` tries of ``timeout``.

    The latency is the client's: from the first try to the answer (retries included).
    """
    began = time.monotonic()
    error = "Timeout"
    for attempt in range(1, attempts + 1):
        q = dns.message.make_query(qname, rtype)
        try:
            r = await dns.asyncquery.udp(q, vantage.address, port=vantage.port, timeout=timeout)
        except (dns.exception.DNSException, OSError) as exc:
            error = type(exc).__name__
            continue
        latency = time.monotonic() - began
        rdtype = dns.rdatatype.from_text(rtype)
        values = tuple(sorted(v.to_text() for rr in r.answer if rr.rdtype == rdtype for v in rr))
        return Answer(dns.rcode.to_text(r.rcode()), values, latency, None, attempt)
    return Answer(None, (), None, error, attempts)


class Sampler:
    def __init__(
        self,
        vantages: Sequence[Vantage],
        probes: Sequence[Probe],
        *,
        rate: float,
        timeout: float,
        streams: int,
        t0: float,
        attempts: int = 1,
    ) -> None:
        self.vantages = list(vantages)
        self.probes = list(probes)
        self.interval = 1.0 / rate
        self.timeout = timeout
        self.attempts = attempts
        self.streams = streams
        self.t0 = t0  # time.monotonic() at the drill's start; samples are relative to it
        self._samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tag = secrets.token_hex(3)
        self._counter = itertools.count()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dnsops-drill-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout * self.attempts + 2)

    def snapshot(self) -> list[Sample]:
        return list(self._samples)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        pending: set[asyncio.Task[None]] = set()
        tick = time.monotonic()
        while not self._stop.is_set():
            for v in self.vantages:
                for p in self.probes:
                    for k in range(self.streams):
                        task = asyncio.create_task(self._one(v, p, k))
                        pending.add(task)
                        task.add_done_callback(pending.discard)
            tick += self.interval
            delay = tick - time.monotonic()
            if delay < 0:  # fell behind (a slow machine): skip ticks, keep the pace
                tick = time.monotonic()
                delay = 0
            await asyncio.sleep(delay)
        if pending:
            await asyncio.wait(pending, timeout=self.timeout * self.attempts + 1)

    async def _one(self, v: Vantage, p: Probe, stream: int) -> None:
        qname = p.qname
        if p.key.startswith(NX_PREFIX):
            qname = f"dnsops-drill-{self._tag}-{next(self._counter)}.{p.qname}"
        t = self.now()
        a = await ask(v, qname, p.rtype, self.timeout, self.attempts)
        self._samples.append(
            Sample(
                round(t, 4),
                v.name,
                p.key,
                stream,
                a.rcode,
                a.values,
                a.latency,
                a.error,
                a.attempts,
            )
        )


def prime(vantages: Sequence[Vantage], probe: Probe, timeout: float) -> dict[str, str | None]:
    """Ask every vantage once so its cache holds the current answer; vantage -> rcode."""

    async def all_of() -> list[Answer]:
        return list(
            await asyncio.gather(*(ask(v, probe.qname, probe.rtype, timeout) for v in vantages))
        )

    results = asyncio.run(all_of())
    return {v.name: r.rcode for v, r in zip(vantages, results, strict=True)}
