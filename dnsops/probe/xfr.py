"""Zone transfers (AXFR): the whole zone in one TCP stream, read on the bytes.

Used two ways: without a key, to check that a nameserver refuses strangers;
with the provider's TSIG key, to read a whole zone from a server that allows
it (BIND) instead of asking 10k questions. dnspython's own transfer builds a
Zone and parses every record (~3 s for 10k records here, slower than querying
them); :class:`AxfrReader` keeps each RRset in canonical wire form
(:func:`dnsops.probe.wire.rdata_at`) and leaves only the TSIG arithmetic to
dnspython (``dns.tsig.validate``, every signed message checked in sequence).
A failed transfer is a value (``Transfer.refused``/``error``), never an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

from dnsops.probe import wire
from dnsops.probe.model import Expected, Target

REFUSALS = frozenset({int(dns.rcode.REFUSED), int(dns.rcode.NOTAUTH), int(dns.rcode.NOTIMP)})
_SOA, _TSIG = int(dns.rdatatype.SOA), int(dns.rdatatype.TSIG)
_RR = struct.Struct("!HHIH")
# owner (canonical wire) and type -> the RRset served, as (type, TTL, canonical rdatas)
RRsets = dict[tuple[bytes, int], Expected]


class TransferFailed(Exception):
    """The transfer ended without a complete zone."""

    def __init__(self, reason: str, rcode: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rcode = rcode


@dataclass(frozen=True)
class TsigKey:
    """A TSIG key. The secret never shows in a repr, a log or a report."""

    name: str
    secret: str = field(repr=False)
    algorithm: str = "hmac-sha256"

    def key(self) -> dns.tsig.Key:
        return dns.tsig.Key(self.name, self.secret, self.algorithm)


@dataclass
class Transfer:
    """The outcome of one AXFR: the zone's RRsets, or why there are none."""

    target: Target
    zone: str
    rrsets: RRsets | None = None
    rcode: int | None = None
    error: str | None = None
    latency: float | None = None

    @property
    def transferred(self) -> bool:
        return self.rrsets is not None

    @property
    def refused(self) -> bool:
        """The server said no: a refusing rcode, or it closed the connection."""
        if self.rrsets is not None:
            return False
        return self.rcode in REFUSALS or self.error == "connection closed"


class AxfrReader:
    """Consumes the messages of one AXFR response; no I/O.

    ``feed`` each message in order; it returns True once the closing SOA has
    arrived. ``rrsets`` then holds every RRset but the closing SOA.

    :raises TransferFailed: a refusing rcode, a message that does not belong to
        this transfer, a bad or missing TSIG, a malformed record.
    """

    def __init__(
        self, qid: int, origin: dns.name.Name, key: dns.tsig.Key | None, request_mac: bytes
    ) -> None:
        self.qid = qid
        self.origin = origin.canonicalize().to_wire() or b""
        self.key = key
        self.request_mac = request_mac
        self.tsig_ctx: Any = None
        self.first = True
        self.soas = 0
        self.done = False
        self.rrsets: RRsets = {}
        self._sets: dict[tuple[bytes, int], tuple[int, set[bytes]]] = {}

    def feed(self, msg: bytes) -> bool:
        if self.done:
            raise TransferFailed("data after the end of the transfer")
        try:
            self._feed(msg)
        except TransferFailed:
            raise
        except (IndexError, struct.error, ValueError) as exc:
            raise TransferFailed(f"malformed message: {exc}") from None
        except dns.exception.DNSException as exc:
            raise TransferFailed(f"{type(exc).__name__}: {exc}") from None
        if self.done:
            self.rrsets = {
                k: Expected(k[1], ttl, tuple(sorted(v))) for k, (ttl, v) in self._sets.items()
            }
        return self.done

    def _feed(self, msg: bytes) -> None:
        qid, flags, qd, an, ns, ar = wire.HEADER.unpack_from(msg)
        if qid != self.qid or not flags & wire.QR:
            raise TransferFailed("a message that is not a reply to this transfer")
        rcode = flags & wire.RCODE_MASK
        if rcode:
            raise TransferFailed(dns.rcode.to_text(dns.rcode.Rcode(rcode)), rcode)
        off = 12
        for _ in range(qd):
            _, off = wire.wire_name(msg, off)
            off += 4
        for _ in range(an):
            off = self._record(msg, off)
        for _ in range(ns):
            off = _skip_rr(msg, off)
        signed = False
        for k in range(ar):
            start = off
            owner, off = wire.wire_name(msg, off)
            rtype, _, _, rdlen = _RR.unpack_from(msg, off)
            off += 10
            if rtype == _TSIG and k == ar - 1:
                self._verify(msg, owner, start, off, rdlen)
                signed = True
            off += rdlen
        if self.key is not None and not signed:
            if self.first or self.done:
                raise TransferFailed("response is not TSIG-signed")
            # unsigned messages between signed ones are part of the next MAC
            self.tsig_ctx.update(msg)
        self.first = False

    def _record(self, msg: bytes, off: int) -> int:
        owner, off = wire.wire_name(msg, off)
        rtype, rclass, ttl, rdlen = _RR.unpack_from(msg, off)
        off += 10
        end: int = off + rdlen
        if self.done:
            raise TransferFailed("records after the closing SOA")
        if rtype == _SOA and owner == self.origin:
            self.soas += 1
            if self.soas == 2:
                self.done = True
                return end
        elif self.soas == 0:
            raise TransferFailed("the transfer does not start with the zone's SOA")
        if rclass == dns.rdataclass.IN:
            rdata = wire.rdata_at(msg, off, rdlen, rtype)
            seen = self._sets.get((owner, rtype))
            if seen is None:
                self._sets[(owner, rtype)] = (ttl, {rdata})
            else:
                seen[1].add(rdata)
                if ttl < seen[0]:
                    self._sets[(owner, rtype)] = (ttl, seen[1])
        return end

    def _verify(self, msg: bytes, owner: bytes, start: int, rdstart: int, rdlen: int) -> None:
        if self.key is None:
            return  # signed without our asking: nothing to check against
        name = dns.name.from_wire(owner, 0)[0]
        try:
            self.tsig_ctx = verify_tsig(
                msg, self.key, name, start, rdstart, rdlen, self.request_mac, self.tsig_ctx
            )
        except UnknownKey as exc:
            raise TransferFailed(str(exc)) from None


def _skip_rr(msg: bytes, off: int) -> int:
    _, off = wire.wire_name(msg, off)
    rdlen: int = _RR.unpack_from(msg, off)[3]
    return off + 10 + rdlen


async def axfr(
    target: Target, zone: str, *, key: TsigKey | None = None, timeout: float = 5.0
) -> Transfer:
    """Transfer ``zone`` from ``target`` (signed with ``key`` when given).

    ``timeout`` bounds the connection and each message.
    """
    origin = dns.name.from_text(zone)
    query = dns.message.make_query(origin, dns.rdatatype.AXFR)
    tsig = key.key() if key is not None else None
    if tsig is not None:
        query.use_tsig(tsig)
    qwire = query.to_wire()
    reader = AxfrReader(query.id, origin, tsig, (query.mac or b"") if tsig is not None else b"")
    out = Transfer(target, zone)
    start = time.perf_counter()
    try:
        await _transfer(target, qwire, reader, timeout)
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
        out.rrsets = reader.rrsets
    out.latency = time.perf_counter() - start
    return out


async def _transfer(target: Target, qwire: bytes, reader: AxfrReader, timeout: float) -> None:
    stream_r, stream_w = await asyncio.wait_for(
        asyncio.open_connection(target.address, target.port), timeout
    )
    try:
        stream_w.write(struct.pack("!H", len(qwire)) + qwire)
        await stream_w.drain()
        done = False
        while not done:
            (size,) = struct.unpack("!H", await asyncio.wait_for(stream_r.readexactly(2), timeout))
            done = reader.feed(await asyncio.wait_for(stream_r.readexactly(size), timeout))
    finally:
        stream_w.close()
        with contextlib.suppress(OSError):
            await stream_w.wait_closed()


class UnknownKey(ValueError):
    """A transfer message is signed with another key than the one we asked with."""


def verify_tsig(
    msg: bytes,
    key: dns.tsig.Key,
    owner: dns.name.Name,
    start: int,
    rdstart: int,
    rdlen: int,
    request_mac: bytes,
    ctx: Any,
) -> Any:
    """Check the TSIG record (at ``start``) of one message of a signed transfer.

    Returns the context the next message's MAC builds on.

    :raises UnknownKey: signed with another key.
    :raises dns.exception.DNSException: a bad signature or time (dnspython's check).
    """
    if owner != key.name:
        raise UnknownKey(f"signed with an unknown key {owner}")
    rd = dns.rdata.from_wire(dns.rdataclass.ANY, dns.rdatatype.TSIG, msg, rdstart, rdlen)
    return dns.tsig.validate(  # type: ignore[no-untyped-call]
        msg, key, owner, rd, int(time.time()), request_mac, start, ctx, True
    )
