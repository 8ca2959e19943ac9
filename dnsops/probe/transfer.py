"""Zone transfers, the I/O: drivers around :class:`dnsops.probe.xfr.Inbound`, per-server
limits, retries.

Two drivers feed the same processor: :func:`transfer` (asyncio: health's phase A, the
audit's transfer worker) and :func:`transfer_sync` (blocking sockets: octoDNS's
populate of a BIND provider, :mod:`dnsops.sync.axfr`). Both go through the same
:class:`Limits` and :class:`Retry`.

Servers limit concurrent outgoing transfers: BIND's ``transfers-out`` is 10 by default,
and a transfer beyond it is answered SERVFAIL ("AXFR request denied: quota reached" in
its log); a 300-zone audit that asked for every zone at once got 225 false
``view-unavailable`` findings. So:

* at most ``per_server`` transfers (default 4, ``DNSOPS_XFR_PER_SERVER``) run at once per
  server address and port, shared by every transfer of the process, async or not;
* the same limit holds across processes: each running transfer holds an ``flock`` on
  one of ``per_server`` slot files of that server in a private directory
  (``$TMPDIR/dnsops-xfr-<uid>``, ``DNSOPS_XFR_LOCK_DIR``), so the audit's forked workers
  (the transfers and octoDNS's populate of the same BIND) and any other dnsops command
  running meanwhile share it;
* a transfer answered SERVFAIL or REFUSED is tried again (``Retry``: exponential backoff
  with jitter, a bounded number of attempts within an overall deadline), and the
  server's limit in this process halves (down to 1) for a while: when that failure is
  the server's quota, fewer transfers at once are what it can take. It grows back by one
  after as many successes as the limit.

.. important:: fork only while this process holds no slot (the audit forks its workers
   before any transfer): a child's copy of a held slot's descriptor is closed after the
   fork, so the slot frees when the parent lets it go.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import random
import socket
import stat
import struct
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import dns.exception
import dns.rcode

from dnsops.probe.model import Target
from dnsops.probe.xfr import Inbound, RRsetSink, Sink, Transfer, TransferFailed, TsigKey

if TYPE_CHECKING:  # asyncio is imported by the asyncio driver only (not by a plan's
    import asyncio  # blocking transfers)

log = logging.getLogger(__name__)
T = TypeVar("T")
_now = time.monotonic
SERVFAIL, REFUSED = int(dns.rcode.SERVFAIL), int(dns.rcode.REFUSED)


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


PER_SERVER = _env_int("DNSOPS_XFR_PER_SERVER", 4)


@dataclass(frozen=True)
class Retry:
    """When and how often a refused or failed transfer is tried again.

    ``rcodes``: the answers worth another try. Attempt ``n`` (from 1) that got one waits
    between half and all of ``min(cap, base * 2 ** (n - 1))`` seconds before the next;
    there are at most ``attempts`` in all, and none starts later than ``deadline``
    seconds after the first refusal.
    """

    attempts: int = 8
    base: float = 0.1
    cap: float = 3.0
    deadline: float = 30.0
    rcodes: frozenset[int] = frozenset({SERVFAIL, REFUSED})

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0.0, ceiling / 2)


RETRY = Retry()
# a transfer that should be refused (no key): a REFUSED is the answer, SERVFAIL is not
RETRY_SERVFAIL = Retry(rcodes=frozenset({SERVFAIL}))
NO_RETRY = Retry(attempts=1, rcodes=frozenset())


# -- per-server limits ------------------------------------------------------------------


class _Server:
    """One server's limit in this process: the adaptive cap and what holds it."""

    def __init__(self, key: str, limit: int) -> None:
        self.key = key
        self.limit = limit
        self.cap = limit
        self.held = 0
        self.epoch = 0  # bumped at every cut: only a failure under the current cap cuts
        self.streak = 0
        self.lock = threading.Lock()

    def take(self) -> int | None:
        """The current epoch if a transfer may start in this process now."""
        with self.lock:
            if self.held >= self.cap:
                return None
            self.held += 1
            return self.epoch

    def give(self) -> None:
        with self.lock:
            self.held -= 1

    def refused(self, epoch: int) -> None:
        with self.lock:
            if epoch == self.epoch and self.cap > 1:
                self.cap = max(1, self.cap // 2)
                log.debug("%s refused a transfer: %d at once from now", self.key, self.cap)
            if epoch == self.epoch:
                self.epoch += 1
                self.streak = 0

    def succeeded(self) -> None:
        with self.lock:
            self.streak += 1
            if self.streak >= self.cap and self.cap < self.limit:
                self.cap += 1
                self.streak = 0


class _Gate:
    """The tasks of one event loop waiting for one server, woken in order."""

    def __init__(self) -> None:
        self.waiters: deque[asyncio.Future[None]] = deque()

    def wake(self, n: int) -> None:
        while n > 0 and self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                n -= 1


class Limits:
    """At most ``per_server`` zone transfers at once per server (address, port).

    In this process a counter per server (with the adaptive cap); tasks waiting for it
    sleep until a release wakes them (the releasing loop's own, or through
    ``call_soon_threadsafe`` another thread's); blocking callers poll. Across
    processes, ``flock`` on slot files in ``lock_dir`` (None: the default private
    directory; ``False``: this process only).
    """

    def __init__(self, per_server: int = PER_SERVER, lock_dir: Path | bool | None = None):
        if per_server < 1:
            raise ValueError("per_server must be at least 1")
        self.per_server = per_server
        self._lock_dir = lock_dir
        self._servers: dict[str, _Server] = {}
        # server -> the waiting tasks of each event loop
        self._gates: dict[str, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Gate]] = {}
        self._lock = threading.Lock()
        self._held_fds: set[int] = set()
        _ALL.add(self)

    def server(self, target: Target) -> _Server:
        key = f"{target.address}#{target.port}"
        with self._lock:
            found = self._servers.get(key)
            if found is None:
                found = self._servers[key] = _Server(key, self.per_server)
                self._gates[key] = weakref.WeakKeyDictionary()
            return found

    def cap(self, target: Target) -> int:
        """How many transfers this process now lets run at once from ``target``."""
        return self.server(target).cap

    # -- holding a slot -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def hold(self, target: Target) -> AsyncIterator[int]:
        """A slot for one transfer from ``target`` (waits for it); yields the epoch."""
        import asyncio

        server = self.server(target)
        loop = asyncio.get_running_loop()
        with self._lock:
            gate = self._gates[server.key].setdefault(loop, _Gate())
        epoch = await self._take(server, gate, loop)
        fd: int | None = None
        try:
            fd = await self._file_slot(server)
            yield epoch
        finally:
            self._release(fd)
            server.give()
            self._wake(server)

    async def _take(self, server: _Server, gate: _Gate, loop: asyncio.AbstractEventLoop) -> int:
        import asyncio

        while (epoch := server.take()) is None:
            fut: asyncio.Future[None] = loop.create_future()
            gate.waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    gate.wake(1)  # pass on the wake-up this task will not use
                raise
        return epoch

    def _wake(self, server: _Server) -> None:
        """Wake as many waiting tasks as may start now, in every loop of the process."""
        n = max(1, server.cap - server.held)
        here: asyncio.AbstractEventLoop | None = None
        running = sys.modules.get("asyncio")  # not imported: surely no event loop runs
        if running is not None:
            with contextlib.suppress(RuntimeError):
                here = running.get_running_loop()
        with self._lock:
            gates = list(self._gates[server.key].items())
        for loop, gate in gates:
            if loop is here:
                gate.wake(n)
            elif not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # closed meanwhile
                    loop.call_soon_threadsafe(gate.wake, n)

    async def _file_slot(self, server: _Server) -> int | None:
        import asyncio

        pause = 0.005
        while True:
            got = self._try_file_slot(server)
            if got != -1:
                return got
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(0.1, pause * 1.5)

    @contextlib.contextmanager
    def hold_sync(self, target: Target) -> Iterator[int]:
        """:meth:`hold` for blocking code (threads); polls while the server is busy."""
        server = self.server(target)
        pause = 0.005
        while (epoch := server.take()) is None:
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(0.1, pause * 1.5)
        fd: int | None = None
        try:
            pause = 0.005
            while (got := self._try_file_slot(server)) == -1:
                time.sleep(pause * random.uniform(0.5, 1.5))
                pause = min(0.1, pause * 1.5)
            fd = got
            yield epoch
        finally:
            self._release(fd)
            server.give()
            self._wake(server)

    def _try_file_slot(self, server: _Server) -> int | None:
        """The descriptor of a free slot file, locked; None: no slot files here (the
        limit holds in this process only); -1: every slot is taken."""
        directory = self.lock_dir()
        if directory is None:
            return None
        for i in range(server.cap):
            path = directory / f"{server.key}.{i}"
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            except OSError as exc:
                log.debug("no transfer slot file %s (%s): this process's limit only", path, exc)
                return None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    continue
                return None
            with self._lock:
                self._held_fds.add(fd)
            return fd
        return -1

    def _release(self, fd: int | None) -> None:
        if fd is None:
            return
        with self._lock:
            self._held_fds.discard(fd)
        os.close(fd)  # the lock goes with the last descriptor of the open file

    def lock_dir(self) -> Path | None:
        if self._lock_dir is False:
            return None
        if isinstance(self._lock_dir, Path):
            return self._lock_dir
        found = _private_dir()
        self._lock_dir = found if found is not None else False
        return found

    def _after_fork(self) -> None:
        """In a forked child: nothing is held here; the parent's slots stay the parent's."""
        for fd in self._held_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held_fds = set()
        self._servers = {}
        self._gates = {}
        self._lock = threading.Lock()


def _private_dir() -> Path | None:
    """The directory of the slot files: this user's own, never another's or a link."""
    configured = os.environ.get("DNSOPS_XFR_LOCK_DIR")
    path = Path(configured or Path(tempfile.gettempdir()) / f"dnsops-xfr-{os.getuid()}")
    try:
        path.mkdir(mode=0o700, parents=bool(configured), exist_ok=True)
        st = path.lstat()
    except OSError as exc:
        log.debug("no transfer slot directory %s (%s)", path, exc)
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        log.debug("transfer slot directory %s is not this user's own: not used", path)
        return None
    return path


_ALL: weakref.WeakSet[Limits] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for limits in list(_ALL):
        limits._after_fork()


os.register_at_fork(after_in_child=_reset_after_fork)
LIMITS = Limits()


# -- the drivers ------------------------------------------------------------------------


@dataclass
class Tries:
    """What the driver did: attempts made, the last one's duration, the rcodes that
    made it try again."""

    attempts: int = 0
    latency: float | None = None
    retried: tuple[int, ...] = ()


class _Backoff:
    """The retry decisions of one transfer."""

    def __init__(self, retry: Retry, tries: Tries) -> None:
        self.retry = retry
        self.tries = tries
        self.first_refusal: float | None = None

    def again(self, exc: TransferFailed) -> float | None:
        """Seconds to wait before the next attempt, or None: give up."""
        n = self.tries.attempts
        if exc.rcode not in self.retry.rcodes or n >= self.retry.attempts:
            return None
        now = _now()
        if self.first_refusal is None:
            self.first_refusal = now
        delay = self.retry.delay(n)
        if now + delay - self.first_refusal > self.retry.deadline:
            return None
        self.tries.retried += (exc.rcode or 0,)
        return delay


async def transfer(
    target: Target,
    zone: str,
    sink: Callable[[], Sink[T]],
    *,
    key: TsigKey | None = None,
    timeout: float = 5.0,
    retry: Retry = RETRY,
    limits: Limits | None = None,
    tries: Tries | None = None,
) -> T:
    """Transfer ``zone`` from ``target`` into a new ``sink()`` (one per attempt).

    ``timeout`` bounds the connection and each message.

    :raises TransferFailed: refused (after the retries), bad TSIG, malformed...
    :raises TimeoutError, OSError, asyncio.IncompleteReadError: the connection failed.
    """
    import asyncio

    limits = limits or LIMITS
    tries = tries if tries is not None else Tries()
    backoff = _Backoff(retry, tries)
    while True:
        async with limits.hold(target) as epoch:
            tries.attempts += 1
            start = time.perf_counter()
            try:
                value = await _attempt(target, zone, sink(), key, timeout)
            except TransferFailed as exc:
                tries.latency = time.perf_counter() - start
                if exc.rcode in retry.rcodes:
                    limits.server(target).refused(epoch)
                failed = exc
            else:
                tries.latency = time.perf_counter() - start
                limits.server(target).succeeded()
                return value
        delay = backoff.again(failed)
        if delay is None:
            raise failed
        log.debug("%s: AXFR %s %s, again in %.2f s", target, zone, failed.reason, delay)
        await asyncio.sleep(delay)


async def _attempt(
    target: Target, zone: str, sink: Sink[T], key: TsigKey | None, timeout: float
) -> T:
    import asyncio

    xfr, qwire = Inbound.start(zone, sink, key)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(target.address, target.port), timeout
    )
    try:
        writer.write(struct.pack("!H", len(qwire)) + qwire)
        await writer.drain()
        done = False
        while not done:
            (size,) = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), timeout))
            done = xfr.process_message(await asyncio.wait_for(reader.readexactly(size), timeout))
        return xfr.result()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def axfr(
    target: Target,
    zone: str,
    *,
    key: TsigKey | None = None,
    timeout: float = 5.0,
    retry: Retry | None = None,
    limits: Limits | None = None,
) -> Transfer:
    """The zone's RRsets in canonical form (health, audit); a failure is a value.

    Signed with ``key`` when given; ``timeout`` bounds the connection and each message.
    ``retry`` defaults to :data:`RETRY` with a key and to :data:`RETRY_SERVFAIL`
    without one (a transfer without a key is mostly asked to see it refused).
    """
    import asyncio

    if retry is None:
        retry = RETRY if key is not None else RETRY_SERVFAIL
    out = Transfer(target, zone)
    tries = Tries()
    try:
        out.rrsets = await transfer(
            target, zone, RRsetSink, key=key, timeout=timeout, retry=retry, limits=limits,
            tries=tries,
        )  # fmt: skip
    except TransferFailed as exc:
        out.rcode, out.error = exc.rcode, exc.reason
    except TimeoutError:
        out.error = "timeout"
    except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
        out.error = "connection closed"
    except ConnectionRefusedError:
        out.error = "connection refused"
    except OSError as exc:
        out.error = (exc.strerror or str(exc)).lower()
    else:
        out.rcode = int(dns.rcode.NOERROR)
    out.attempts, out.latency = tries.attempts, tries.latency
    return out


def transfer_sync(
    target: Target,
    zone: str,
    sink: Callable[[], Sink[T]],
    *,
    key: TsigKey | None = None,
    timeout: float = 5.0,
    retry: Retry = RETRY,
    limits: Limits | None = None,
    tries: Tries | None = None,
) -> T:
    """:func:`transfer` with blocking sockets (octoDNS's populate runs in threads).

    ``timeout`` bounds each attempt as a whole (dnspython's ``lifetime``, as
    octodns-bind sets it).

    :raises TransferFailed: refused (after the retries), bad TSIG, malformed...
    :raises TimeoutError: an attempt took longer than ``timeout``.
    :raises OSError, EOFError: the connection failed or closed early (as from
        dnspython's transfer).
    """
    limits = limits or LIMITS
    tries = tries if tries is not None else Tries()
    backoff = _Backoff(retry, tries)
    while True:
        with limits.hold_sync(target) as epoch:
            tries.attempts += 1
            start = time.perf_counter()
            try:
                value = _attempt_sync(target, zone, sink(), key, timeout)
            except TransferFailed as exc:
                tries.latency = time.perf_counter() - start
                if exc.rcode in retry.rcodes:
                    limits.server(target).refused(epoch)
                failed = exc
            else:
                tries.latency = time.perf_counter() - start
                limits.server(target).succeeded()
                return value
        delay = backoff.again(failed)
        if delay is None:
            raise failed
        log.debug("%s: AXFR %s %s, again in %.2f s", target, zone, failed.reason, delay)
        time.sleep(delay)


def _attempt_sync(
    target: Target, zone: str, sink: Sink[T], key: TsigKey | None, timeout: float
) -> T:
    xfr, qwire = Inbound.start(zone, sink, key)
    deadline = _now() + timeout
    with socket.create_connection((target.address, target.port), timeout=timeout) as sock:
        sock.sendall(struct.pack("!H", len(qwire)) + qwire)
        done = False
        while not done:
            (size,) = struct.unpack("!H", _read(sock, 2, deadline))
            done = xfr.process_message(_read(sock, size, deadline))
    return xfr.result()


def _read(sock: socket.socket, size: int, deadline: float) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        left = deadline - _now()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise EOFError("EOF")  # what dnspython raises (octodns-bind lets it through)
        buf += chunk
    return bytes(buf)


def timeout_text(timeout: float) -> str:
    """dnspython's words for a transfer that timed out (octodns-bind reports them)."""
    return str(dns.exception.Timeout(timeout=timeout))  # type: ignore[no-untyped-call]
