"""DNS wire helpers for the probe engine: pure functions, no I/O.

Speed is the point. Building a query with dnspython costs ~110 µs and parsing a
reply ~200 µs; the engine instead patches the message ID into a pre-rendered
query (:class:`Template`) and checks a reply against its :class:`Expected`
answer straight on the bytes (:func:`quick_match`). :func:`match_message` is the
reference check on a parsed message; ``quick_match`` vouches for a match only when
``match_message`` would agree, and says "parse it" whenever it cannot be sure.
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Iterable

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnsops.probe.model import Expected, Query

HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
_ID_FLAGS = struct.Struct("!HH")
QR, AA, TC, RD, RA = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080
RCODE_MASK = 0x000F

# rdata types with no domain name inside: their wire form is already canonical
_RAW = frozenset(
    int(t)
    for t in (
        dns.rdatatype.A,
        dns.rdatatype.AAAA,
        dns.rdatatype.TXT,
        dns.rdatatype.SPF,
        dns.rdatatype.CAA,
        dns.rdatatype.SSHFP,
        dns.rdatatype.TLSA,
        dns.rdatatype.DS,
        dns.rdatatype.URI,
    )
)
_IN = int(dns.rdataclass.IN)
SECTIONS = {"answer": 0, "authority": 1, "additional": 2}


def question(qname: dns.name.Name, rdtype: int) -> bytes:
    """The question section of a query (class IN), as sent and as echoed back."""
    name = qname.to_wire()
    assert name is not None  # to_wire without a file returns the bytes
    return name + struct.pack("!HH", rdtype, _IN)


class Template:
    """A rendered query with a blank ID: ``wire(qid)`` costs one struct.pack."""

    __slots__ = ("flags", "qlen", "tail")

    def __init__(self, query: Query, qwire: bytes | None = None) -> None:
        qwire = qwire if qwire is not None else question(query.qname, query.rdtype)
        opt = b""
        if query.edns is not None:
            # root owner, type OPT, class = payload, TTL = ext-rcode/version/flags, no rdata
            rdata = b"".join(struct.pack("!HH", c, len(d)) + d for c, d in query.options)
            opt = b"\x00" + struct.pack(
                "!HHBBHH", 41, query.payload, 0, query.edns, query.ednsflags, len(rdata)
            )
            opt += rdata
        self.flags = RD if query.rd else 0
        self.qlen = len(qwire)
        self.tail = struct.pack("!HHHH", 1, 0, 0, 1 if opt else 0) + qwire + opt

    def wire(self, qid: int) -> bytes:
        return _ID_FLAGS.pack(qid, self.flags) + self.tail

    def question_of(self) -> bytes:
        return self.tail[8 : 8 + self.qlen]


def expected(
    rdtype: int | str,
    ttl: int,
    values: Iterable[str],
    *,
    ttl_at_most: bool = False,
    section: str = "answer",
) -> Expected:
    """An Expected answer from presentation values (``"10 mx1.example.test."``).

    :raises dns.exception.SyntaxError: a value is not valid for the type.
    """
    t = int(dns.rdatatype.RdataType.make(rdtype))
    if section not in SECTIONS:
        raise ValueError(f"no section {section!r} (one of {', '.join(SECTIONS)})")
    rdatas = tuple(sorted({canonical_rdata(t, v) for v in values}))
    return Expected(t, ttl, rdatas, ttl_at_most, section)


_QUOTED = re.compile(r'\s*"([^"\\]{0,255})"')
_NAME_AT = {
    int(dns.rdatatype.CNAME): 0,
    int(dns.rdatatype.NS): 0,
    int(dns.rdatatype.PTR): 0,
    int(dns.rdatatype.DNAME): 0,
    int(dns.rdatatype.MX): 1,  # preference, then the name
    int(dns.rdatatype.SRV): 3,  # priority weight port, then the name
}


def canonical_rdata(rdtype: int, value: str) -> bytes:
    """``Rdata.to_digestable()`` of a presentation value, quickly.

    dnspython's ``rdata.from_text`` costs ~120 µs a value here, too much for
    zones of 10k records: the usual shapes (addresses, names, MX, SRV, plain
    quoted TXT) are encoded directly; anything else (escapes, other types)
    goes through dnspython. The unit tests compare both on every shape.
    """
    if rdtype == dns.rdatatype.A:
        return socket.inet_pton(socket.AF_INET, value)
    if rdtype == dns.rdatatype.AAAA:
        return socket.inet_pton(socket.AF_INET6, value)
    fast = _fast_canonical(rdtype, value)
    if fast is not None:
        return fast
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.RdataType(rdtype), value)
    return rdata.to_digestable()


def _fast_canonical(rdtype: int, value: str) -> bytes | None:
    if "\\" in value:
        return None
    if rdtype in (dns.rdatatype.TXT, dns.rdatatype.SPF):
        return _plain_txt(value)
    skip = _NAME_AT.get(rdtype)
    if skip is None:
        return None
    fields = value.split()
    if len(fields) != skip + 1 or not fields[-1].endswith("."):
        return None
    try:
        numbers = [int(f) for f in fields[:skip]]
    except ValueError:
        return None
    if any(not 0 <= n <= 0xFFFF for n in numbers):
        return None
    name = dns.name.from_text(fields[-1]).to_digestable()
    return struct.pack(f"!{skip}H", *numbers) + name


def _plain_txt(value: str) -> bytes | None:
    """Quoted strings separated by blanks, no escapes: length-prefixed chunks."""
    out = bytearray()
    rest = value.strip()
    while rest:
        m = _QUOTED.match(rest)
        if m is None:
            return None
        chunk = m.group(1).encode()
        if len(chunk) > 255:
            return None
        out.append(len(chunk))
        out += chunk
        rest = rest[m.end() :].lstrip()
    return bytes(out) if out else None


def ttl_ok(ttl: int, expect: Expected) -> bool:
    return ttl <= expect.ttl if expect.ttl_at_most else ttl == expect.ttl


def match_rrset(rrset: dns.rrset.RRset | None, expect: Expected) -> bool:
    """The reference comparison: same type, same canonical rdatas, TTL as required."""
    if rrset is None or int(rrset.rdtype) != expect.rdtype:
        return False
    got = tuple(sorted({r.to_digestable() for r in rrset}))
    return got == expect.rdatas and ttl_ok(rrset.ttl, expect)


def match_message(msg: dns.message.Message, qname: dns.name.Name, expect: Expected) -> bool:
    """NOERROR and the RRset of (qname, type) in ``expect.section`` is exactly ``expect``."""
    if msg.rcode() != dns.rcode.NOERROR:
        return False
    for rrset in getattr(msg, expect.section):
        if rrset.name == qname and rrset.rdtype == expect.rdtype and rrset.rdclass == _IN:
            return match_rrset(rrset, expect)
    return False


def header(wire: bytes) -> tuple[int, int, int, int, int, int]:
    """(id, flags, qdcount, ancount, nscount, arcount)."""
    return HEADER.unpack_from(wire)


def quick_match(wire: bytes, qlen: int, expect: Expected) -> int | None:
    """The answer's TTL when the raw reply certainly carries exactly ``expect``.

    None means "cannot tell on the bytes": a non-NOERROR rcode, an owner name
    that is not a pointer to the question, a count or a value that differs...
    The caller then parses the reply and asks :func:`match_message`, so None is
    never a verdict by itself.
    """
    if expect.section != "answer":
        return _quick_in_section(wire, qlen, expect)
    try:
        _, flags, qd, an, _, _ = HEADER.unpack_from(wire)
        if flags & (RCODE_MASK | TC) or qd != 1 or an != len(expect.rdatas) or an == 0:
            return None
        off = 12 + qlen
        got = []
        seen_ttl = -1
        for _ in range(an):
            # owner compressed to the question's name (offset 12): 0xC00C
            if wire[off] != 0xC0 or wire[off + 1] != 12:
                return None
            rtype, rclass, ttl, rdlen = _RR.unpack_from(wire, off + 2)
            off += 12
            if rtype != expect.rdtype or rclass != _IN or not ttl_ok(ttl, expect):
                return None
            if seen_ttl not in (-1, ttl):
                return None
            seen_ttl = ttl
            got.append(rdata_at(wire, off, rdlen, rtype))
            off += rdlen
    except (IndexError, struct.error, ValueError, dns.exception.DNSException):
        return None
    got.sort()
    return seen_ttl if tuple(got) == expect.rdatas else None


def _quick_in_section(wire: bytes, qlen: int, expect: Expected) -> int | None:
    """``quick_match`` for a referral's NS or its glue: owners decoded, others skipped."""
    try:
        _, flags, qd, an, ns, ar = HEADER.unpack_from(wire)
        if flags & (RCODE_MASK | TC) or qd != 1:
            return None
        qname = wire[12 : 12 + qlen - 4].lower()
        target = SECTIONS[expect.section]
        off = 12 + qlen
        got = []
        seen_ttl = -1
        for section, count in enumerate((an, ns, ar)[: target + 1]):
            for _ in range(count):
                owner, off = wire_name(wire, off)
                rtype, rclass, ttl, rdlen = _RR.unpack_from(wire, off)
                off += 10
                if section == target and rtype == expect.rdtype and owner == qname:
                    if rclass != _IN or not ttl_ok(ttl, expect) or seen_ttl not in (-1, ttl):
                        return None
                    seen_ttl = ttl
                    got.append(rdata_at(wire, off, rdlen, rtype))
                off += rdlen
    except (IndexError, struct.error, ValueError, dns.exception.DNSException):
        return None
    got.sort()
    return seen_ttl if got and tuple(got) == expect.rdatas else None


def rdata_at(wire: bytes, off: int, rdlen: int, rdtype: int) -> bytes:
    """The canonical form (``to_digestable``) of the rdata at ``off`` in a message.

    Types without names are their bytes; names are decompressed by
    :func:`wire_name`; other types go through dnspython.

    :raises ValueError, IndexError, dns.exception.DNSException: malformed rdata.
    """
    end = off + rdlen
    if end > len(wire):
        raise IndexError("rdata past the end of the message")
    if rdtype in _RAW:
        return wire[off:end]
    skip = _NAME_AT.get(rdtype)
    if skip is not None:
        name, after = wire_name(wire, off + 2 * skip)
        if after != end:
            raise ValueError("rdata length does not match its name")
        return wire[off : off + 2 * skip] + name
    rdata = dns.rdata.from_wire(
        dns.rdataclass.IN, dns.rdatatype.RdataType(rdtype), wire, off, rdlen
    )
    return rdata.to_digestable()


def to_text(rdtype: int, rdata: bytes) -> str:
    """Presentation form of a canonical rdata (for reports: slow, use sparingly)."""
    rd = dns.rdata.from_wire(
        dns.rdataclass.IN, dns.rdatatype.RdataType(rdtype), rdata, 0, len(rdata)
    )
    return rd.to_text()


def wire_name(wire: bytes, off: int, lower: bool = True) -> tuple[bytes, int]:
    """The name at ``off`` uncompressed (lower-cased unless ``lower=False``), and the
    offset after it.

    :raises ValueError: a pointer loop, an extended label type, a name too long.
    :raises IndexError: the name runs past the end of the message.
    """
    out = bytearray()
    after = -1
    hops = 0
    while True:
        n = wire[off]
        if n == 0:
            out.append(0)
            off += 1
            break
        if n >= 0xC0:
            if after < 0:
                after = off + 2
            off = ((n & 0x3F) << 8) | wire[off + 1]
            hops += 1
            if hops > 127:
                raise ValueError("compression loop")
            continue
        if n > 63:
            raise ValueError("unknown label type")
        if off + 1 + n > len(wire):
            raise IndexError("name past the end of the message")
        # the length byte (< 64) is no ASCII letter: lower() leaves it alone
        label = wire[off : off + 1 + n]
        out += label.lower() if lower else label
        off += 1 + n
        if len(out) > 254:
            raise ValueError("name too long")
    return bytes(out), after if after >= 0 else off


def name(text: str) -> dns.name.Name:
    """``dns.name.from_text`` for absolute names, about 5 times faster on plain ones.

    octoDNS hands out fqdns already IDNA-encoded: without escapes they are
    just labels between dots. Anything else goes through dnspython.
    """
    if "\\" in text or not text.endswith(".") or not text.isascii():
        return dns.name.from_text(text)
    if text == ".":
        return dns.name.root
    return dns.name.Name([label.encode() for label in text.split(".")])


# NSID (RFC 5001): ask with an empty option; the server answers with its instance's id
NSID = 3
NSID_REQUEST: tuple[int, bytes] = (NSID, b"")


def nsid_of(message: dns.message.Message | None) -> str | None:
    """The NSID a reply carries, as text (printable ASCII as is, else hex); None: none."""
    if message is None:
        return None
    for option in message.options:
        if int(option.otype) == NSID:
            data = bytes(option.to_wire() or b"")
            if not data:
                return None
            if all(0x20 <= b < 0x7F for b in data):
                return str(data.decode("ascii"))
            return str(data.hex())
    return None
