"""octoDNS zones and dnspython data into audit views. No I/O.

Every value becomes its canonical wire form (``Rdata.to_digestable()``: names lower
case and uncompressed), the form the probe engine compares answers in: octoDNS records
through octoDNS's own serialisation (``Record.to_rrset``, presentation RDATA), served
data straight from the wire. TXT-like strings are re-chunked from their joined bytes,
because chunking is not content (octoDNS joins the chunks too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
from octodns.zone import Zone

from dnsops.audit.core import on_wire
from dnsops.audit.model import Key, RRset, Value
from dnsops.probe.model import Expected
from dnsops.probe.wire import canonical_rdata
from dnsops.zones import location

_CHUNK = 255
_TXT_LIKE = frozenset({int(dns.rdatatype.TXT), int(dns.rdatatype.SPF)})


def key(name: str | dns.name.Name, rtype: str | int) -> Key:
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    if not isinstance(rtype, str):
        rtype = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rtype))
    return text.lower(), rtype


def canonical(rdtype: int, digest: bytes) -> bytes:
    """The canonical wire form, TXT-like strings re-chunked from their joined bytes."""
    if rdtype not in _TXT_LIKE:
        return digest
    joined, off = bytearray(), 0
    while off < len(digest):
        n = digest[off]
        joined += digest[off + 1 : off + 1 + n]
        off += 1 + n
    out = bytearray()
    for i in range(0, max(len(joined), 1), _CHUNK):
        chunk = joined[i : i + _CHUNK]
        out.append(len(chunk))
        out += chunk
    return bytes(out)


def rdata_value(rdata: dns.rdata.Rdata) -> bytes:
    return canonical(int(rdata.rdtype), rdata.to_digestable())


def text_value(rtype: str, text: str, origin: dns.name.Name) -> Value:
    """One presentation-format value (as octoDNS renders it) in canonical form."""
    if not on_wire(rtype):
        return text  # ALIAS, URLFWD: octoDNS-only, compared as octoDNS renders them
    rdtype = int(dns.rdatatype.from_text(rtype))
    try:
        return canonical(rdtype, canonical_rdata(rdtype, text))  # the probe's fast path
    except (dns.exception.DNSException, ValueError, OSError):
        pass  # a relative name, an escape it does not take: dnspython with the origin
    try:
        rd = dns.rdata.from_text(dns.rdataclass.IN, rtype, text, origin=origin, relativize=False)
    except (dns.exception.DNSException, ValueError):
        return text  # a value only a lenient octoDNS accepted: compare its text
    return rdata_value(rd)


def record_rrset(record: Any, origin: dns.name.Name) -> RRset:
    """One octoDNS record as an RRset (octoDNS's presentation text, canonicalised)."""
    rrset = record.to_rrset()
    return RRset(
        int(rrset.ttl), frozenset(text_value(rrset._type, t, origin) for t in rrset.rdatas)
    )


def zone_view(zone: Zone) -> dict[Key, RRset]:
    origin = dns.name.from_text(zone.name)
    return {key(r.fqdn, r._type): record_rrset(r, origin) for r in zone.records}


def skipped(zone: Zone, provider: str) -> frozenset[Key]:
    """Source records octoDNS's ``Zone.changes`` leaves alone for ``provider``:
    ``octodns: {ignored: true}``, ``excluded: [provider]``, ``included`` without it."""
    out = set()
    for r in zone.records:
        if r.ignored or provider in r.excluded or (r.included and provider not in r.included):
            out.add(key(r.fqdn, r._type))
    return frozenset(out)


def locations(zone: Zone, keys: Iterable[Key]) -> dict[Key, tuple[str, int]]:
    """file and line of the source records with these keys (only those: it costs)."""
    wanted = set(keys)
    out = {}
    for r in zone.records:
        k = key(r.fqdn, r._type)
        if k in wanted and (loc := location(r)) is not None:
            out[k] = (loc.file, loc.line)
    return out


def rdataset_rrset(rdataset: dns.rdataset.Rdataset) -> RRset:
    return RRset(int(rdataset.ttl), frozenset(rdata_value(rd) for rd in rdataset))


def transfer_view(rrsets: Mapping[tuple[bytes, int], Expected]) -> dict[Key, RRset]:
    """A zone transfer as the probe engine reads it (owner wire name and type -> type,
    TTL and canonical rdatas) as a view."""
    return {
        key(wire_name_text(owner), rdtype): RRset(
            got.ttl, frozenset(canonical(rdtype, rd) for rd in got.rdatas)
        )
        for (owner, rdtype), got in rrsets.items()
    }


_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_*")


def wire_name_text(wire: bytes) -> str:
    """An uncompressed wire name as text (dnspython's escaping when a label needs it)."""
    labels, off = [], 0
    while wire[off]:
        n = wire[off]
        labels.append(wire[off + 1 : off + 1 + n])
        off += 1 + n
    if all(set(label) <= _PLAIN for label in labels):
        return ".".join(label.decode() for label in labels) + "."
    return str(dns.name.Name([*labels, b""]).to_text())
