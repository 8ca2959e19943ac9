"""The steady-rate prober: every vantage, every probe, every stream, ``rate`` times a second.

It runs in a thread with its own asyncio loop, so the executor can block on
octoDNS or on a server restart while sampling goes on at a steady pace. Each
round is one batch for the probe engine (dnsops.probe), started on schedule
whether or not earlier rounds have finished, so a dead server delays no later
round. Samples only accumulate; the executor reads ``snapshot()``.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from dnsops.drill.measure import NX_PREFIX, Sample
from dnsops.probe import Engine, Query, Result, Target, wire
from dnsops.vantage.ssh import SshVantage


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
    error: str | None = None  # the probe engine's reason when there was no answer
    attempts: int = 1
    nsid: str | None = None  # NSID (RFC 5001): which instance of the resolver answered


def _answer(result: Result, timeout: float) -> Answer:
    """A probe-engine Result as a client saw it: latency counts the tries that timed out."""
    attempts = max(1, result.attempts)
    if result.rcode is None:
        return Answer(None, (), None, result.error or "timeout", attempts)
    _ttl, values = result.served()
    latency = (result.latency or 0.0) + (attempts - 1) * timeout
    return Answer(result.rcode_text, values, latency, None, attempts, wire.nsid_of(result.message))


def _query(vantage: Vantage, qname: str, rtype: str) -> Query:
    """A recursive query with NSID (RFC 5001): the reply says which instance answered."""
    target = Target(vantage.address, vantage.port, vantage.name)
    return Query.make(target, qname, rtype, rd=True, options=(wire.NSID_REQUEST,))


async def ask_all(
    asks: Sequence[tuple[Vantage, str, str]], timeout: float, attempts: int = 1
) -> list[Answer]:
    """Recursive queries through the probe engine, as a stub resolver asks them:
    up to ``attempts`` tries of ``timeout`` each. One Answer per ask, in order."""
    engine = Engine(timeout=timeout, retries=attempts - 1, concurrency=256)
    results = await engine.run([_query(v, q, t) for v, q, t in asks])
    return [_answer(r, timeout) for r in results]


class Sampler:
    """``vantages`` are asked from here; ``remote`` (SSH vantages) ask their own resolvers
    over one long-lived session each, which streams its answers back at the same rate
    (``until``: the sessions' deadline, seconds from the start; ``stop()`` ends them
    earlier, killing ssh)."""

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
        remote: Sequence[SshVantage] = (),
        until: float = 3600.0,
    ) -> None:
        self.remote = list(remote)
        self.until = until
        self.problems: dict[str, str] = {}  # remote vantage -> why its stream ended early
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
        # (vantage, probe key) pairs not asked for now: a held cache is left alone, so
        # the one priming query decides when it expires (replaced whole: thread-safe reads)
        self._held: frozenset[tuple[str, str]] = frozenset()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dnsops-drill-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout * self.attempts + 2)

    def hold(self, probe: str, vantages: Sequence[str]) -> None:
        """Stop asking ``probe`` through these vantages until each is released."""
        self._held = self._held | {(v, probe) for v in vantages}

    def release(self, probe: str, vantages: Sequence[str] | None = None) -> None:
        """Ask ``probe`` again through these vantages (None: all of them)."""
        self._held = frozenset(
            (v, p)
            for v, p in self._held
            if p != probe or (vantages is not None and v not in vantages)
        )

    def snapshot(self) -> list[Sample]:
        return list(self._samples)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        pending: set[asyncio.Task[None]] = set()
        remote = [asyncio.create_task(self._stream(v)) for v in self.remote]
        tick = time.monotonic()
        while not self._stop.is_set():
            task = asyncio.create_task(self._tick())
            pending.add(task)
            task.add_done_callback(pending.discard)
            tick += self.interval
            delay = tick - time.monotonic()
            if delay < 0:  # fell behind (a slow machine): skip ticks, keep the pace
                tick = time.monotonic()
                delay = 0
            await asyncio.sleep(delay)
        for task in remote:
            task.cancel()  # kills the ssh session (and with it the probe on the host)
        if remote:
            await asyncio.gather(*remote, return_exceptions=True)
        if pending:
            await asyncio.wait(pending, timeout=self.timeout * self.attempts + 1)

    async def _stream(self, v: SshVantage) -> None:
        probes = [(p.qname, p.rtype, p.key.startswith(NX_PREFIX)) for p in self.probes]

        def sink(t: float, p: int, k: int, result: Result) -> None:
            a = _answer(result, self.timeout)
            key = self.probes[p].key
            t_rel = round(t - self.t0, 4)
            self._samples.append(
                Sample(t_rel, v.name, key, k, a.rcode, a.values, a.latency, a.error, a.attempts)
            )

        left = max(1.0, self.until - self.now())
        problem = await v.stream(
            probes, rate=1.0 / self.interval, streams=self.streams, until=left, sink=sink
        )
        if problem is not None and not self._stop.is_set():
            self.problems[v.name] = problem

    async def _tick(self) -> None:
        """One round: every vantage x probe x stream, sent together through the engine."""
        held = self._held
        keys = [
            (v, p, k)
            for v in self.vantages
            for p in self.probes
            if (v.name, p.key) not in held
            for k in range(self.streams)
        ]
        asks = [(v, self._qname(p), p.rtype) for v, p, _k in keys]
        t = round(self.now(), 4)
        answers = await ask_all(asks, self.timeout, self.attempts)
        for (v, p, k), a in zip(keys, answers, strict=True):
            self._samples.append(
                Sample(
                    t, v.name, p.key, k, a.rcode, a.values, a.latency, a.error, a.attempts, a.nsid
                )
            )

    def _qname(self, p: Probe) -> str:
        if p.key.startswith(NX_PREFIX):
            return f"dnsops-drill-{self._tag}-{next(self._counter)}.{p.qname}"
        return p.qname


def prime(vantages: Sequence[Vantage], probe: Probe, timeout: float) -> dict[str, str | None]:
    """Ask every vantage once so its cache holds the current answer; vantage -> rcode."""
    results = asyncio.run(ask_all([(v, probe.qname, probe.rtype) for v in vantages], timeout))
    return {v.name: r.rcode for v, r in zip(vantages, results, strict=True)}
