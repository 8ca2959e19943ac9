"""octoDNS zones and dnspython answers into audit views. No I/O.

octoDNS records become RRsets through octoDNS's own serialisation (``Record.to_rrset``,
presentation-format RDATA), parsed by dnspython; what nameservers serve is dnspython data
already. Both sides are then compared as dnspython rdatas, i.e. in DNS canonical form:
names case-insensitively, TXT strings by their bytes whatever their chunking (octoDNS
joins the chunks too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.txtbase
import dns.zone
from octodns.zone import Zone

from dnsops.audit.core import on_wire
from dnsops.audit.model import Key, RRset, Value
from dnsops.zones import location

_CHUNK = 255


def key(name: str | dns.name.Name, rtype: str | int) -> Key:
    text = name.to_text() if isinstance(name, dns.name.Name) else name
    if not isinstance(rtype, str):
        rtype = dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rtype))
    return text.lower(), rtype


def canonical(rdata: dns.rdata.Rdata) -> dns.rdata.Rdata:
    """TXT-like rdatas re-chunked from their joined bytes: chunking is not content."""
    if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):
        joined = b"".join(rdata.strings)
        chunks = [joined[i : i + _CHUNK] for i in range(0, len(joined), _CHUNK)] or [b""]
        if list(rdata.strings) != chunks:
            return type(rdata)(rdata.rdclass, rdata.rdtype, chunks)
    return rdata


def record_rrset(record: Any, origin: dns.name.Name) -> RRset:
    """One octoDNS record as an RRset (octoDNS's presentation text, parsed by dnspython)."""
    rrset = record.to_rrset()
    values: set[Value] = set()
    for text in rrset.rdatas:
        if not on_wire(rrset._type):
            values.add(text)  # ALIAS, URLFWD: octoDNS-only, compared as octoDNS renders them
            continue
        try:
            rd = dns.rdata.from_text(
                dns.rdataclass.IN, rrset._type, text, origin=origin, relativize=False
            )
        except (dns.exception.DNSException, ValueError):
            values.add(text)  # a value only a lenient octoDNS accepted: compare its text
            continue
        values.add(canonical(rd))
    return RRset(int(rrset.ttl), frozenset(values))


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


def locations(zone: Zone) -> dict[Key, tuple[str, int]]:
    out = {}
    for r in zone.records:
        loc = location(r)
        if loc is not None:
            out[key(r.fqdn, r._type)] = (loc.file, loc.line)
    return out


def rdataset_rrset(rdataset: dns.rdataset.Rdataset) -> RRset:
    return RRset(int(rdataset.ttl), frozenset(canonical(rd) for rd in rdataset))


def transfer_view(zone: dns.zone.Zone) -> dict[Key, RRset]:
    """A transferred zone (absolute names) as a view."""
    out: dict[Key, RRset] = {}
    for name, rdataset in zone.iterate_rdatasets():
        owner = name if name.is_absolute() else name.derelativize(zone.origin)  # type: ignore[arg-type]
        out[key(owner, rdataset.rdtype)] = rdataset_rrset(rdataset)
    return out


def answers_view(answers: Iterable[tuple[Key, dns.rdataset.Rdataset]]) -> dict[Key, RRset]:
    """Per-record answers (the RRset owned by the name asked, of the type asked)."""
    return {k: rdataset_rrset(rds) for k, rds in answers}
