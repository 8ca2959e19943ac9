"""A DNS proxy with faults, in front of a real lab server: a nameserver that misbehaves.

It listens on UDP and TCP at its own loopback address and forwards to one real server
(PowerDNS or BIND of the lab), breaking what its mode says:

``pass``                   nothing (a healthy server)
``drop-edns``              drops UDP queries carrying OPT, forwards plain ones (a firewall
                           that drops EDNS)
``strip-opt``              removes the OPT record from replies
``echo-option``            copies the query's EDNS options the reply lacks into the reply
``set-z``                  sets an unassigned EDNS flag bit (0x0002) in replies' OPT
``no-opt-when-truncated``  removes the OPT record from truncated (TC) replies
``upcase``                 upper-cases the question's name in replies
``upward``                 answers the NS of the root itself, with a referral to the root

Faults are made on the wire (the reply's bytes, not re-rendered), so everything else
in a reply is the real server's. Signed replies (TSIG: a zone transfer) pass untouched.
It runs in its own thread and event loop; every upstream exchange has a deadline, and
``stop`` (or leaving the ``with`` block) closes everything and joins the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

MODES = (
    "pass",
    "drop-edns",
    "strip-opt",
    "echo-option",
    "set-z",
    "no-opt-when-truncated",
    "upcase",
    "upward",
)
Z_BIT = 0x0002  # an unassigned EDNS flag bit
OPT, TSIG = 41, 250
TC = 0x0200
ROOT_SERVERS = ("a.root-servers.net.", "b.root-servers.net.")


# -- the wire ------------------------------------------------------------------------


def _name_end(data: bytes, off: int) -> int:
    while True:
        n = data[off]
        if n == 0:
            return off + 1
        if n >= 0xC0:
            return off + 2
        off += 1 + n


def records(data: bytes) -> tuple[int, list[tuple[int, int, int, int]]]:
    """(end of the question, [(start, type, rdata start, end)] of every record)."""
    qd, an, ns, ar = struct.unpack_from("!HHHH", data, 4)
    off = 12
    for _ in range(qd):
        off = _name_end(data, off) + 4
    question_end = off
    out = []
    for _ in range(an + ns + ar):
        start = off
        off = _name_end(data, off)
        rtype, _, _, rdlen = struct.unpack_from("!HHIH", data, off)
        rdata = off + 10
        off = rdata + rdlen
        out.append((start, rtype, rdata, off))
    return question_end, out


def _find(data: bytes, rtype: int) -> tuple[int, int, int] | None:
    _, rrs = records(data)
    for start, t, rdata, end in rrs:
        if t == rtype:
            return start, rdata, end
    return None


def has_opt(data: bytes) -> bool:
    return _find(data, OPT) is not None


def strip_opt(data: bytes) -> bytes:
    found = _find(data, OPT)
    if found is None:
        return data
    start, _, end = found
    (ar,) = struct.unpack_from("!H", data, 10)
    return data[:10] + struct.pack("!H", ar - 1) + data[12:start] + data[end:]


def set_z(data: bytes) -> bytes:
    found = _find(data, OPT)
    if found is None:
        return data
    _, rdata, _ = found
    at = rdata - 4  # the TTL's low 16 bits: the EDNS flags (then RDLENGTH)
    (flags,) = struct.unpack_from("!H", data, at)
    return data[:at] + struct.pack("!H", flags | Z_BIT) + data[at + 2 :]


def options(data: bytes) -> list[tuple[int, bytes]]:
    found = _find(data, OPT)
    if found is None:
        return []
    _, rdata, end = found
    out, off = [], rdata
    while off + 4 <= end:
        code, size = struct.unpack_from("!HH", data, off)
        out.append((code, data[off + 4 : off + 4 + size]))
        off += 4 + size
    return out


def echo_options(query: bytes, reply: bytes) -> bytes:
    found = _find(reply, OPT)
    if found is None:
        return reply
    have = {code for code, _ in options(reply)}
    extra = b"".join(struct.pack("!HH", c, len(d)) + d for c, d in options(query) if c not in have)
    if not extra:
        return reply
    _, rdata, end = found
    (rdlen,) = struct.unpack_from("!H", reply, rdata - 2)
    return (
        reply[: rdata - 2] + struct.pack("!H", rdlen + len(extra)) + reply[rdata:end] + extra
    ) + reply[end:]


def upcase(data: bytes) -> bytes:
    end = _name_end(data, 12)
    return data[:12] + data[12:end].upper() + data[end:]


def is_root_ns(query: bytes) -> bool:
    try:
        msg = dns.message.from_wire(query)
    except Exception:
        return False
    return bool(msg.question) and (
        msg.question[0].name == dns.name.root and msg.question[0].rdtype == dns.rdatatype.NS
    )


def upward_referral(query: bytes) -> bytes:
    """A referral to the root, as a server that does not serve the root gives it."""
    msg = dns.message.from_wire(query)
    reply = dns.message.make_response(msg)
    reply.flags &= ~(dns.flags.AA | dns.flags.RA)
    reply.authority.append(
        dns.rrset.from_text_list(dns.name.root, 518400, "IN", "NS", list(ROOT_SERVERS))
    )
    return reply.to_wire()


def signed(data: bytes) -> bool:
    try:
        return _find(data, TSIG) is not None
    except (IndexError, struct.error):
        return True  # cannot tell: leave it alone


# -- the proxy -----------------------------------------------------------------------


class EdnsProxy:
    """``with EdnsProxy("127.56.9.53", "127.56.2.2", "set-z") as proxy: ...``"""

    def __init__(
        self,
        listen: str,
        upstream: str,
        mode: str,
        *,
        port: int = 53,
        upstream_port: int = 53,
        timeout: float = 2.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"no mode {mode!r} (one of {', '.join(MODES)})")
        self.listen, self.port = listen, port
        self.upstream = (upstream, upstream_port)
        self.mode, self.timeout = mode, timeout
        self.seen: list[str] = []  # what it did: "udp query", "dropped", "rewrote"...
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._closers: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # lifecycle

    def __enter__(self) -> EdnsProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ednsproxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            self.stop()
            raise RuntimeError("the EDNS proxy did not start within 10 s")
        if self._failed is not None:
            self.stop()
            raise RuntimeError(f"the EDNS proxy failed to start: {self._failed!r}")

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(10)
            if thread.is_alive():
                raise RuntimeError("the EDNS proxy's thread did not stop within 10 s")
        self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:
                self._failed = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_forever()
        finally:
            for close in self._closers:
                with contextlib.suppress(Exception):
                    close()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.listen, self.port)
        )
        self._closers.append(transport.close)
        server = await asyncio.start_server(self._tcp_client, self.listen, self.port)
        self._closers.append(server.close)

    def _spawn(self, coro: object) -> None:
        assert self._loop is not None
        task = self._loop.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # the faults

    def drops(self, query: bytes, transport: str) -> bool:
        return self.mode == "drop-edns" and transport == "udp" and has_opt(query)

    def own_reply(self, query: bytes) -> bytes | None:
        if self.mode == "upward" and is_root_ns(query):
            return upward_referral(query)
        return None

    def rewrite(self, query: bytes | None, reply: bytes) -> bytes:
        if len(reply) < 12 or signed(reply):
            return reply
        before = reply
        if self.mode == "strip-opt":
            reply = strip_opt(reply)
        elif self.mode == "echo-option" and query is not None:
            reply = echo_options(query, reply)
        elif self.mode == "set-z":
            reply = set_z(reply)
        elif self.mode == "no-opt-when-truncated" and reply[2] << 8 & TC:
            reply = strip_opt(reply)
        elif self.mode == "upcase":
            reply = upcase(reply)
        if reply != before:
            self.seen.append("rewrote")
        return reply

    # UDP

    async def udp_query(self, query: bytes, client: tuple[str, int], reply_to: _Udp) -> None:
        if self.drops(query, "udp"):
            self.seen.append("dropped")
            return
        own = self.own_reply(query)
        if own is not None:
            self.seen.append("answered")
            reply_to.send(own, client)
            return
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.connect(self.upstream)
            await loop.sock_sendall(sock, query)
            try:
                reply = await asyncio.wait_for(loop.sock_recv(sock, 65535), self.timeout)
            except (TimeoutError, OSError):
                return
        reply_to.send(self.rewrite(query, reply), client)

    # TCP: every message both ways, framed, so a zone transfer streams through

    async def _tcp_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), self.timeout
            )
            last: list[bytes] = []
            back = asyncio.ensure_future(self._tcp_back(up_reader, writer, last))
            try:
                while True:
                    query = await _read_message(reader)
                    if query is None:
                        break
                    last[:] = [query]
                    own = self.own_reply(query)
                    if own is not None:
                        self.seen.append("answered")
                        writer.write(struct.pack("!H", len(own)) + own)
                        await writer.drain()
                        continue
                    if self.drops(query, "tcp"):
                        continue
                    up_writer.write(struct.pack("!H", len(query)) + query)
                    await up_writer.drain()
                if up_writer.can_write_eof():
                    up_writer.write_eof()  # the upstream closes when it is done
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(back), self.timeout)
            finally:
                back.cancel()
                with contextlib.suppress(BaseException):
                    await back
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.close()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(w.wait_closed(), 1)

    async def _tcp_back(
        self, up: asyncio.StreamReader, client: asyncio.StreamWriter, last: list[bytes]
    ) -> None:
        while True:
            reply = await _read_message(up)
            if reply is None:
                return
            reply = self.rewrite(last[0] if last else None, reply)
            client.write(struct.pack("!H", len(reply)) + reply)
            await client.drain()


async def _read_message(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readexactly(2)
        return await reader.readexactly(struct.unpack("!H", head)[0])
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, proxy: EdnsProxy) -> None:
        self.proxy = proxy
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 12:
            self.proxy._spawn(self.proxy.udp_query(data, addr, self))

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)
