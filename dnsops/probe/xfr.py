"""Zone transfers (AXFR), the protocol: one processor read on the bytes, no I/O.

Modelled on dnspython's ``dns.xfr.Inbound``: one state machine, fed each message of
the response in order, and drivers that do the I/O around it
(:mod:`dnsops.probe.transfer`: asyncio for health and audit, blocking sockets for
octoDNS's populate). Unlike dnspython's it builds no Message, no Names and no Zone:
dnspython's own transfer costs ~2 s of CPU for 10k records here, more than asking the
10k questions. :class:`Inbound` walks the records on the wire and hands each one (its
raw owner name and where its rdata is) to a :class:`Sink`, which keeps what its
caller needs:

* :class:`RRsetSink`: RRsets in canonical wire form (owner lower-cased, rdatas as
  ``Rdata.to_digestable()``), what health and audit compare;
* :class:`TextSink`: owner, type, TTL and presentation text of every record, exactly
  as ``octodns_bind.AxfrPopulate.zone_records`` builds them from dnspython's Zone.

What the processor checks, as dnspython's does: each message answers this query (ID,
QR, question); a non-zero rcode ends the transfer (:class:`TransferFailed` carries
it); the first record is the zone's SOA and the transfer ends at an SOA equal to it;
another origin SOA in between is an IXFR-style (or changing) response and an error;
nothing may follow the closing SOA. With a TSIG key every signed message is verified
in sequence (``dns.tsig.validate``), the first and the last must be signed, unsigned
ones in between are covered by the next MAC (RFC 8945 5.3.1). In both sinks the TTL
of an RRset is the lowest of its records', a repeated record counts once, only class
IN is kept.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import dns.exception
import dns.ipv4
import dns.ipv6
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig

from dnsops.probe import wire
from dnsops.probe.model import Expected, Target

REFUSALS = frozenset({int(dns.rcode.REFUSED), int(dns.rcode.NOTAUTH), int(dns.rcode.NOTIMP)})
_SOA, _NS, _TSIG = int(dns.rdatatype.SOA), int(dns.rdatatype.NS), int(dns.rdatatype.TSIG)
_A, _AAAA, _AXFR = int(dns.rdatatype.A), int(dns.rdatatype.AAAA), int(dns.rdatatype.AXFR)
_IN = int(dns.rdataclass.IN)
_RR = struct.Struct("!HHIH")
_QTAIL = struct.Struct("!HH")
# owner (canonical wire) and type -> the RRset served, as (type, TTL, canonical rdatas)
RRsets = dict[tuple[bytes, int], Expected]
# owner and type as octoDNS names them -> (TTL, presentation texts)
TextRRsets = dict[tuple[str, str], tuple[int, list[str]]]
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class TransferFailed(Exception):
    """The transfer ended without a complete zone.

    ``kind``: ``rcode`` (the server answered with ``rcode``), ``tsig`` (a missing or
    bad signature), ``protocol`` (a message that breaks the transfer's framing),
    ``malformed`` (a message or record that cannot be read), ``incomplete`` (the
    response ended before its closing SOA).
    """

    def __init__(self, reason: str, rcode: int | None = None, kind: str = "protocol") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rcode = rcode
        self.kind = kind

    @property
    def malformed(self) -> bool:
        return self.kind == "malformed"


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
    """The outcome of one AXFR: the zone's RRsets, or why there are none.

    ``attempts`` counts the tries (more than one when the server refused or failed
    and the driver tried again); ``latency`` is the last attempt's duration.
    """

    target: Target
    zone: str
    rrsets: RRsets | None = None
    rcode: int | None = None
    error: str | None = None
    latency: float | None = None
    attempts: int = 0

    @property
    def transferred(self) -> bool:
        return self.rrsets is not None

    @property
    def refused(self) -> bool:
        """The server said no: a refusing rcode, or it closed the connection."""
        if self.rrsets is not None:
            return False
        return self.rcode in REFUSALS or self.error == "connection closed"


class Sink(Protocol[T_co]):
    """Where :class:`Inbound` puts each record of class IN (the closing SOA excepted).

    ``owner`` is the record's owner uncompressed, in the case the server sent; the
    rdata is ``msg[off:off + rdlen]`` (names in it may point into ``msg``).
    """

    def add(self, msg: bytes, owner: bytes, rdtype: int, ttl: int, off: int, rdlen: int) -> None:
        """Keep one record. May raise ValueError, IndexError, DNSException (malformed)."""

    def result(self, origin: bytes) -> T_co:
        """What was kept, once the transfer is complete (``origin``: canonical wire)."""


class Inbound(Generic[T]):
    """The state machine of one AXFR response; no I/O.

    Build it with :meth:`start` (which renders the query to send) or, for messages
    made elsewhere, with the query's ID and request MAC. ``process_message`` each
    message in order: True once the closing SOA has arrived; ``result()`` then gives
    the sink's result.

    :raises TransferFailed: from ``process_message`` and ``result``.
    """

    def __init__(
        self,
        origin: dns.name.Name,
        sink: Sink[T],
        *,
        qid: int,
        key: dns.tsig.Key | None = None,
        request_mac: bytes = b"",
    ) -> None:
        self.origin = origin.canonicalize().to_wire() or b""
        self.sink = sink
        self.qid = qid
        self.key = key
        self.request_mac = request_mac
        self.tsig_ctx: Any = None
        self.messages = 0
        self.soa: bytes | None = None  # the opening SOA's canonical rdata
        self.done = False

    @classmethod
    def start(
        cls, zone: str | dns.name.Name, sink: Sink[T], key: TsigKey | None = None
    ) -> tuple[Inbound[T], bytes]:
        """A processor for a new AXFR query of ``zone``, and that query's wire form."""
        origin = zone if isinstance(zone, dns.name.Name) else dns.name.from_text(zone)
        query = dns.message.make_query(origin, dns.rdatatype.AXFR)
        tsig = key.key() if key is not None else None
        if tsig is not None:
            query.use_tsig(tsig)
        qwire = query.to_wire()
        mac = (query.mac or b"") if tsig is not None else b""
        return cls(origin, sink, qid=query.id, key=tsig, request_mac=mac), qwire

    def process_message(self, msg: bytes) -> bool:
        """Read one message of the response; True once the transfer is complete."""
        if self.done:
            raise TransferFailed("data after the end of the transfer")
        try:
            self._message(msg)
        except TransferFailed:
            raise
        except (IndexError, struct.error, ValueError) as exc:
            raise TransferFailed(f"malformed message: {exc}", kind="malformed") from None
        except dns.exception.DNSException as exc:
            raise TransferFailed(f"{type(exc).__name__}: {exc}", kind="malformed") from None
        return self.done

    def result(self) -> T:
        """The sink's result. :raises TransferFailed: the closing SOA never came."""
        if not self.done:
            raise TransferFailed("the transfer ended before its closing SOA", kind="incomplete")
        return self.sink.result(self.origin)

    def _message(self, msg: bytes) -> None:
        if len(msg) < 12:
            raise IndexError("shorter than a DNS header")
        qid, flags, qd, an, ns, ar = wire.HEADER.unpack_from(msg)
        if qid != self.qid or not flags & wire.QR:
            raise TransferFailed("a message that is not a reply to this transfer")
        rcode = flags & wire.RCODE_MASK
        if rcode:
            raise TransferFailed(dns.rcode.to_text(dns.rcode.Rcode(rcode)), rcode, "rcode")
        first = self.messages == 0
        self.messages += 1
        off = 12
        if qd > 1:
            raise ValueError(f"{qd} questions")
        if qd:
            qname, off = wire.wire_name(msg, off)
            qtype, _ = _QTAIL.unpack_from(msg, off)
            off += 4
            if qname != self.origin or qtype != _AXFR:
                raise TransferFailed("a reply to another question than this transfer's")
        if first and not an:
            raise TransferFailed("the transfer does not start with the zone's SOA")
        for _ in range(an):
            off = self._record(msg, off)
        for _ in range(ns):
            _, off = wire.wire_name(msg, off)
            off += 10 + _RR.unpack_from(msg, off)[3]
        signed = False
        for k in range(ar):
            start = off
            owner, off = wire.wire_name(msg, off)
            rtype, _, _, rdlen = _RR.unpack_from(msg, off)
            off += 10
            if off + rdlen > len(msg):
                raise IndexError("record past the end of the message")
            if rtype == _TSIG and k == ar - 1:
                self._verify(msg, owner, start, off, rdlen)
                signed = True
            off += rdlen
        if off != len(msg):
            raise ValueError(f"{len(msg) - off} bytes after the last record")
        if self.key is not None and not signed:
            if first or self.done:
                raise TransferFailed("the response is not TSIG-signed", kind="tsig")
            # unsigned messages between signed ones are part of the next MAC
            self.tsig_ctx.update(msg)

    def _record(self, msg: bytes, off: int) -> int:
        if self.done:
            raise TransferFailed("records after the closing SOA")
        owner, off = wire.wire_name(msg, off, lower=False)
        rtype, rclass, ttl, rdlen = _RR.unpack_from(msg, off)
        off += 10
        end: int = off + rdlen
        if end > len(msg):
            raise IndexError("record past the end of the message")
        if rtype == _SOA and owner.lower() == self.origin:
            soa = wire.rdata_at(msg, off, rdlen, rtype)
            if self.soa is None:
                self.soa = soa
            elif soa == self.soa:
                self.done = True
                return end
            else:
                # dnspython: "unexpected origin SOA in AXFR" (an IXFR-style response)
                raise TransferFailed("another SOA of the zone inside the transfer")
        elif self.soa is None:
            raise TransferFailed("the transfer does not start with the zone's SOA")
        if rclass == _IN:
            self.sink.add(msg, owner, rtype, ttl, off, rdlen)
        return end

    def _verify(self, msg: bytes, owner: bytes, start: int, rdstart: int, rdlen: int) -> None:
        if self.key is None:
            return  # signed without our asking: nothing to check it against
        name = dns.name.from_wire(owner, 0)[0]
        try:
            self.tsig_ctx = verify_tsig(
                msg, self.key, name, start, rdstart, rdlen, self.request_mac, self.tsig_ctx
            )
        except UnknownKey as exc:
            raise TransferFailed(str(exc), kind="tsig") from None
        except dns.exception.DNSException as exc:
            raise TransferFailed(f"TSIG: {type(exc).__name__}: {exc}", kind="tsig") from None


class RRsetSink:
    """RRsets in canonical wire form: (owner, type) -> :class:`Expected` (health, audit)."""

    def __init__(self) -> None:
        self._sets: dict[tuple[bytes, int], tuple[int, set[bytes]]] = {}

    def add(self, msg: bytes, owner: bytes, rdtype: int, ttl: int, off: int, rdlen: int) -> None:
        rdata = wire.rdata_at(msg, off, rdlen, rdtype)
        key = (owner.lower(), rdtype)
        seen = self._sets.get(key)
        if seen is None:
            self._sets[key] = (ttl, {rdata})
        else:
            seen[1].add(rdata)
            if ttl < seen[0]:
                self._sets[key] = (ttl, seen[1])

    def result(self, origin: bytes) -> RRsets:
        return {k: Expected(k[1], ttl, tuple(sorted(v))) for k, (ttl, v) in self._sets.items()}


# bytes dnspython's Name.to_text writes as they are (it escapes the others)
_PLAIN = frozenset(set(range(0x21, 0x7F)) - set(b'"().;\\@$'))
# types whose rdata is numbers then one name: how many 16-bit numbers come first
_NAME_LAST = {
    int(dns.rdatatype.CNAME): 0,
    int(dns.rdatatype.NS): 0,
    int(dns.rdatatype.PTR): 0,
    int(dns.rdatatype.DNAME): 0,
    int(dns.rdatatype.MX): 1,
    int(dns.rdatatype.SRV): 3,
}


class TextSink:
    """Owner, type, TTL and presentation text of every record, as octodns-bind reads them.

    ``octodns_bind.AxfrPopulate.zone_records`` builds a dnspython Zone from the
    transfer, then for each rdata ``Rr(name.to_text(), type, ttl, rdata.to_text())``.
    This gives the same texts without the Zone: addresses and the usual name-bearing
    rdatas (CNAME, NS, PTR, DNAME, MX, SRV) are formatted here, every other rdata by
    dnspython's own ``from_wire`` and ``to_text``. As ``dns.zone.from_xfr`` wants,
    the zone must have an NS RRset at its apex.
    """

    def __init__(self) -> None:
        self._sets: dict[tuple[str, int], tuple[int, dict[str, None]]] = {}
        self._names: dict[bytes, str] = {}  # owners
        self._targets: dict[bytes, str] = {}  # names inside rdatas

    def add(self, msg: bytes, owner: bytes, rdtype: int, ttl: int, off: int, rdlen: int) -> None:
        text = self._names.get(owner)
        if text is None:
            text = self._names[owner] = name_text(owner)
        end = off + rdlen
        if rdtype == _A:
            value = dns.ipv4.inet_ntoa(msg[off:end])
        elif rdtype == _AAAA:
            value = dns.ipv6.inet_ntoa(msg[off:end])
        elif (skip := _NAME_LAST.get(rdtype)) is not None:
            value = self._name_rdata(msg, off, end, skip)
        else:
            rd = dns.rdata.from_wire(
                dns.rdataclass.IN, dns.rdatatype.RdataType(rdtype), msg, off, rdlen
            )
            value = rd.to_text()
        seen = self._sets.get((text, rdtype))
        if seen is None:
            self._sets[(text, rdtype)] = (ttl, {value: None})
        else:
            seen[1][value] = None
            if ttl < seen[0]:
                self._sets[(text, rdtype)] = (ttl, seen[1])

    def _name_rdata(self, msg: bytes, off: int, end: int, skip: int) -> str:
        raw, after = wire.wire_name(msg, off + 2 * skip, lower=False)
        if after != end:
            raise ValueError("rdata length does not match its name")
        target = self._targets.get(raw)
        if target is None:
            target = self._targets[raw] = name_text(raw)
        if not skip:
            return target
        numbers = struct.unpack_from(f"!{skip}H", msg, off)
        return " ".join([*map(str, numbers), target])

    def result(self, origin: bytes) -> TextRRsets:
        apex = [text for raw, text in self._names.items() if raw.lower() == origin]
        if not any((text, _NS) in self._sets for text in apex):
            name = dns.name.from_wire(origin, 0)[0].to_text()
            raise TransferFailed(f"no NS RRset at the zone's apex {name}")
        return {
            (owner, dns.rdatatype.to_text(dns.rdatatype.RdataType(rtype))): (ttl, list(texts))
            for (owner, rtype), (ttl, texts) in self._sets.items()
        }


def name_text(raw: bytes) -> str:
    """``dns.name.Name.to_text()`` of an uncompressed wire name (case kept)."""
    labels = []
    off = 0
    while raw[off]:
        label = raw[off + 1 : off + 1 + raw[off]]
        if not _PLAIN.issuperset(label):
            return str(dns.name.from_wire(raw, 0)[0].to_text())
        labels.append(label.decode("ascii"))
        off += 1 + raw[off]
    return ".".join(labels) + "." if labels else "."


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
