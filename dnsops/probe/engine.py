"""The async driver: many queries to many targets, fast and polite.

Per target, one UDP socket (8 MiB receive buffer, connected so the kernel
filters other sources and reports ICMP "port unreachable") carries every query
in flight; replies are matched to queries by message ID and echoed question
(``dns.asyncquery.udp`` cannot share a socket between concurrent queries).
Everything runs from two callbacks, no task per query: ``_pump`` sends while
the target has room (``concurrency`` in flight, ``qps`` tokens) and
``_readable`` drains every datagram waiting on the socket. A periodic sweep
expires attempts (``timeout``), which are retried (``retries``) before the
query fails. A truncated reply is asked again over TCP; queries marked ``tcp``
go over TCP from the start.

.. important:: results come back in query order, one per query, never an
   exception for a DNS failure: a query that got no answer has ``rcode=None``
   and ``error`` set ("timeout", "connection refused", ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Sequence

import dns.exception
import dns.message

from dnsops.errors import DnsopsError
from dnsops.probe import wire
from dnsops.probe.model import Query, Result, Target

Progress = Callable[[int, int], None]  # (done, total)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
_now = time.perf_counter


class ProbeError(DnsopsError):
    """The probe engine itself failed (not a DNS failure: those are results)."""


class Engine:
    """Bounded, rate-capped, retrying DNS querying over UDP (TCP when needed).

    :param concurrency: queries in flight per target at most.
    :param qps: queries per second per target at most (None: no cap).
    :param timeout: seconds to wait for each attempt's reply.
    :param retries: further attempts after a timeout or a refusal.
    :param tcp_fallback: ask again over TCP when a UDP reply is truncated.
    """

    def __init__(
        self,
        *,
        concurrency: int = 64,
        qps: float | None = None,
        timeout: float = 2.0,
        retries: int = 2,
        tcp_fallback: bool = True,
        rcvbuf: int = 8 << 20,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if qps is not None and qps <= 0:
            raise ValueError("qps must be positive (or None for no cap)")
        self.concurrency = concurrency
        self.qps = qps
        self.timeout = timeout
        self.retries = retries
        self.tcp_fallback = tcp_fallback
        self.rcvbuf = rcvbuf

    async def run(self, queries: Sequence[Query], progress: Progress | None = None) -> list[Result]:
        """Ask every query; one Result per query, in the same order."""
        if not queries:
            return []
        batch = _Batch(self, queries, progress)
        await batch.run()
        return batch.results()


class _Pacer:
    """A token bucket: ``qps`` per second, bursts of a twentieth of a second."""

    def __init__(self, qps: float) -> None:
        self.rate = qps
        self.capacity = max(1.0, qps / 20)
        self.tokens = self.capacity
        self.last = _now()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        now = _now()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class _Batch:
    """One ``Engine.run``: the queries, their templates, results and channels."""

    def __init__(self, engine: Engine, queries: Sequence[Query], progress: Progress | None):
        self.engine = engine
        self.queries = queries
        self.progress = progress
        self.loop = asyncio.get_running_loop()
        self.done_future: asyncio.Future[None] = self.loop.create_future()
        self._results: list[Result | None] = [None] * len(queries)
        self.attempts = [0] * len(queries)
        self.remaining = len(queries)
        self.reported = 0
        self.templates = self._templates()
        self.pacers: dict[Target, _Pacer] = {}
        self.tcp_tasks: set[asyncio.Task[None]] = set()
        self.tcp_slots = asyncio.Semaphore(min(engine.concurrency, 32))
        self._tick_handle: asyncio.TimerHandle | None = None

    def _templates(self) -> list[wire.Template]:
        # keyed by the name object's id (hashing a dns.name.Name costs more than
        # rendering); callers share one Name between the targets they ask
        cache: dict[tuple[object, ...], wire.Template] = {}
        qwires: dict[tuple[int, int], bytes] = {}
        out = []
        for q in self.queries:
            key = (id(q.qname), q.rdtype, q.rd, q.edns, q.payload, q.ednsflags, q.options)
            tpl = cache.get(key)
            if tpl is None:
                qw = qwires.get((id(q.qname), q.rdtype))
                if qw is None:
                    qw = qwires[(id(q.qname), q.rdtype)] = wire.question(q.qname, q.rdtype)
                tpl = cache[key] = wire.Template(q, qw)
            out.append(tpl)
        return out

    def pacer(self, target: Target) -> _Pacer | None:
        if self.engine.qps is None:
            return None
        if target not in self.pacers:
            self.pacers[target] = _Pacer(self.engine.qps)
        return self.pacers[target]

    async def run(self) -> None:
        by_target: dict[Target, deque[int]] = {}
        for i, q in enumerate(self.queries):
            if q.tcp:
                self.start_tcp(i)
            else:
                by_target.setdefault(q.target, deque()).append(i)
        channels = [_UdpChannel(self, t, pending) for t, pending in by_target.items()]
        try:
            for ch in channels:
                self.guarded(ch.start)()
            self._tick()
            await self.done_future
        finally:
            for ch in channels:
                ch.close()
            for task in list(self.tcp_tasks):
                task.cancel()
            if self._tick_handle is not None:
                self._tick_handle.cancel()
        self._report(force=True)

    def _tick(self) -> None:
        self._report()
        if not self.done_future.done():
            self._tick_handle = self.loop.call_later(0.1, self._tick)

    def _report(self, force: bool = False) -> None:
        done = len(self.queries) - self.remaining
        if self.progress is not None and (force or done != self.reported):
            self.reported = done
            self.progress(done, len(self.queries))

    # -- completing queries ---------------------------------------------------

    def crash(self, exc: BaseException) -> None:
        """A bug in a callback: end the run with it instead of waiting forever."""
        if not self.done_future.done():
            error = ProbeError(f"probe engine failed: {exc!r}")
            error.__cause__ = exc
            self.done_future.set_exception(error)

    def guarded(self, fn: Callable[[], None]) -> Callable[[], None]:
        def call() -> None:
            try:
                fn()
            except Exception as exc:
                self.crash(exc)

        return call

    def finish(self, i: int, result: Result) -> None:
        if self._results[i] is not None:
            return
        self._results[i] = result
        self.remaining -= 1
        if self.remaining == 0 and not self.done_future.done():
            self.done_future.set_result(None)

    def fail(self, i: int, error: str) -> None:
        self.finish(i, Result(self.queries[i], error=error, attempts=self.attempts[i]))

    def reply(self, i: int, data: bytes, latency: float, transport: str) -> None:
        """A reply for query ``i`` arrived (its ID and question already checked)."""
        flags = (data[2] << 8) | data[3]
        fallback = self.engine.tcp_fallback and self.queries[i].tcp_fallback
        if flags & wire.TC and transport == "udp" and fallback:
            self.start_tcp(i)
            return
        res = judge(
            self.queries[i], data, latency, transport, self.attempts[i], self.templates[i].qlen
        )
        self.finish(i, res)

    def results(self) -> list[Result]:
        return [r for r in self._results if r is not None]

    # -- TCP ------------------------------------------------------------------

    def start_tcp(self, i: int) -> None:
        task = self.loop.create_task(self._tcp(i))
        self.tcp_tasks.add(task)
        task.add_done_callback(self.tcp_tasks.discard)

    async def _tcp(self, i: int) -> None:
        try:
            await self._tcp_attempts(i)
        except Exception as exc:
            self.crash(exc)

    async def _tcp_attempts(self, i: int) -> None:
        q = self.queries[i]
        tpl = self.templates[i]
        error = "timeout"
        tries = 0
        async with self.tcp_slots:
            # a truncated UDP reply already used an attempt: TCP still gets one
            while tries == 0 or self.attempts[i] <= self.engine.retries:
                tries += 1
                pacer = self.pacer(q.target)
                while pacer is not None and (wait := pacer.take()) > 0:
                    await asyncio.sleep(wait)
                self.attempts[i] += 1
                qid = random.getrandbits(16)
                start = _now()
                try:
                    data = await asyncio.wait_for(
                        _tcp_exchange(q.target, tpl.wire(qid)), self.engine.timeout
                    )
                except TimeoutError:
                    error = "timeout"
                    continue
                except ConnectionRefusedError:
                    error = "connection refused"
                    continue
                except (OSError, asyncio.IncompleteReadError) as exc:
                    error = _os_error(exc)
                    continue
                if len(data) < 12 or int.from_bytes(data[:2]) != qid:
                    error = "reply with a wrong message ID"
                    continue
                self.reply(i, data, _now() - start, "tcp")
                return
        self.fail(i, error)


def judge(
    query: Query,
    data: bytes,
    latency: float | None,
    transport: str = "udp",
    attempts: int = 1,
    qlen: int | None = None,
) -> Result:
    """The Result of a reply to ``query`` (ID and question already checked). No I/O.

    Decides ``matched`` on the bytes when it can (:func:`wire.quick_match`) and
    parses the message otherwise. Shared by the engine and by every vantage that
    gets raw replies from elsewhere (an SSH host, RIPE Atlas), so a reply is
    judged the same way wherever it was asked.
    """
    flags = (data[2] << 8) | data[3] if len(data) >= 4 else 0
    res = Result(query, flags=flags, latency=latency, transport=transport, attempts=attempts)
    if query.expect is not None:
        if qlen is None:
            qlen = len(wire.question(query.qname, query.rdtype))
        ttl = wire.quick_match(data, qlen, query.expect)
        if ttl is not None:
            res.rcode, res.matched, res.ttl = 0, True, ttl
            return res
    res.wire = data
    try:
        msg = dns.message.from_wire(data, ignore_trailing=True)
    except dns.exception.DNSException as exc:
        res.rcode = flags & wire.RCODE_MASK
        res.error = f"malformed reply: {exc}"
        if query.expect is not None:
            res.matched = False
    else:
        res._message = msg
        res.rcode = msg.rcode()
        if query.expect is not None:
            res.matched = wire.match_message(msg, query.qname, query.expect)
            rrset = res.rrset(query.expect.section)
            res.ttl = rrset.ttl if rrset is not None else None
    return res


async def _tcp_exchange(target: Target, query: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(target.address, target.port)
    try:
        writer.write(struct.pack("!H", len(query)) + query)
        await writer.drain()
        (size,) = struct.unpack("!H", await reader.readexactly(2))
        return await reader.readexactly(size)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _os_error(exc: BaseException) -> str:
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection closed before a reply"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


class _Ids:
    """Message IDs: a random start and an odd random stride visit all 65,536
    before any repeats, so a late reply rarely meets a reused ID (and its
    question must match too)."""

    __slots__ = ("next", "stride")

    def __init__(self) -> None:
        self.next = random.getrandbits(16)
        self.stride = random.getrandbits(15) * 2 + 1

    def __call__(self) -> int:
        self.next = (self.next + self.stride) & 0xFFFF
        return self.next


class _UdpChannel:
    """One target's UDP socket and the queries in flight on it."""

    def __init__(self, batch: _Batch, target: Target, pending: deque[int]) -> None:
        self.batch = batch
        self.target = target
        self.pending = pending
        self.inflight: dict[int, tuple[int, float]] = {}  # message ID -> (query, sent at)
        self.deadlines: deque[tuple[float, int, int]] = deque()  # (deadline, ID, query)
        self.ids = _Ids()
        self.sock: socket.socket | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.wakeup: asyncio.TimerHandle | None = None
        self.pacer = batch.pacer(target)
        e = batch.engine
        self.limit, self.timeout, self.retries = e.concurrency, e.timeout, e.retries

    def start(self) -> None:
        try:
            self.sock = self._socket()
        except OSError as exc:
            for i in self.pending:
                self.batch.fail(i, _os_error(exc))
            self.pending.clear()
            return
        self.batch.loop.add_reader(self.sock.fileno(), self.batch.guarded(self._readable))
        self._pump()
        self._sweep_later()

    def _socket(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.target.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            rcvbuf = self.batch.engine.rcvbuf
            try:  # beyond net.core.rmem_max needs CAP_NET_ADMIN
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.connect((self.target.address, self.target.port))
        except OSError:
            sock.close()
            raise
        return sock

    def close(self) -> None:
        for handle in (self.timer, self.wakeup):
            if handle is not None:
                handle.cancel()
        if self.sock is not None:
            self.batch.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _pump(self) -> None:
        self.wakeup = None
        sock = self.sock
        if sock is None:
            return
        batch = self.batch
        templates, attempts = batch.templates, batch.attempts
        while self.pending and len(self.inflight) < self.limit:
            if self.pacer is not None:
                wait = self.pacer.take()
                if wait > 0:
                    self._wake_in(wait)
                    return
            i = self.pending.popleft()
            qid = self.ids()
            while qid in self.inflight:
                qid = self.ids()
            try:
                sock.send(templates[i].wire(qid))
            except (BlockingIOError, InterruptedError):
                self.pending.appendleft(i)
                self._wake_in(0.001)
                return
            except ConnectionRefusedError:  # an earlier query's ICMP error
                self.pending.appendleft(i)
                self._refused()
                continue
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    self.pending.appendleft(i)
                    self._wake_in(0.001)
                    return
                attempts[i] += 1
                batch.fail(i, _os_error(exc))
                continue
            attempts[i] += 1
            sent = _now()
            self.inflight[qid] = (i, sent)
            self.deadlines.append((sent + self.timeout, qid, i))

    def _wake_in(self, delay: float) -> None:
        if self.wakeup is None:
            self.wakeup = self.batch.loop.call_later(delay, self.batch.guarded(self._pump))

    def _readable(self) -> None:
        sock = self.sock
        if sock is None:
            return
        batch = self.batch
        templates = batch.templates
        for _ in range(1024):
            try:
                data = sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionRefusedError:
                self._refused()
                continue
            except OSError as exc:
                self._lost_all(_os_error(exc))
                continue
            if len(data) < 12:
                continue
            qid = (data[0] << 8) | data[1]
            slot = self.inflight.get(qid)
            if slot is None:
                continue  # a late reply to an attempt already given up
            i, sent = slot
            tpl = templates[i]
            echoed, asked = data[12 : 12 + tpl.qlen], tpl.tail[8 : 8 + tpl.qlen]
            if echoed != asked and echoed.lower() != asked.lower():
                continue  # same ID, another question: not ours
            del self.inflight[qid]
            batch.reply(i, data, _now() - sent, "udp")
        self._pump()

    def _refused(self) -> None:
        """ICMP port unreachable: nothing listens there, every attempt in flight is lost."""
        self._lost_all("connection refused")

    def _lost_all(self, error: str) -> None:
        lost = [i for i, _ in self.inflight.values()]
        self.inflight.clear()
        self.deadlines.clear()
        for i in lost:
            self._attempt_failed(i, error)

    def _attempt_failed(self, i: int, error: str) -> None:
        if self.batch.attempts[i] <= self.retries:
            self.pending.appendleft(i)
        else:
            self.batch.fail(i, error)

    def _sweep_later(self) -> None:
        delay = min(0.05, self.timeout / 4)
        self.timer = self.batch.loop.call_later(delay, self.batch.guarded(self._sweep))

    def _sweep(self) -> None:
        now = _now()
        while self.deadlines and self.deadlines[0][0] <= now:
            _, qid, i = self.deadlines.popleft()
            slot = self.inflight.get(qid)
            if slot is None or slot[0] != i:
                continue  # answered in time
            del self.inflight[qid]
            self._attempt_failed(i, "timeout")
        self._pump()
        if self.pending or self.inflight:
            self._sweep_later()
