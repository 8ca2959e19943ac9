"""Turn raw probe results into observations: what differs from the desired. No I/O."""

from __future__ import annotations

import dns.name
import dns.rcode
import dns.rdatatype

from dnsops.health.model import DesiredRRset, Seen
from dnsops.probe import Expected, Result, wire
from dnsops.probe.xfr import RRsets

_NOERROR, _NXDOMAIN = int(dns.rcode.NOERROR), int(dns.rcode.NXDOMAIN)


def seen_of(d: DesiredRRset, r: Result, *, ttl_at_most: bool = False) -> Seen | None:
    """None when ``r`` serves exactly ``d`` (in the section ``d`` lives in), else what it serves."""
    if r.matched:
        return None
    if not r.answered:
        return Seen("error", error=r.error or "no answer")
    if r.message is None:
        return Seen("error", rcode=r.rcode_text, error=r.error or "malformed reply")
    rrset = r.rrset(d.section, d.expect.rdtype)
    if rrset is not None and d.section != "answer" and rrset.name != r.query.qname:
        rrset = None
    expect = d.expect
    if ttl_at_most:
        expect = Expected(expect.rdtype, expect.ttl, expect.rdatas, ttl_at_most=True)
    if r.rcode == _NOERROR and rrset is not None and wire.match_rrset(rrset, expect):
        return None
    if r.rcode == _NXDOMAIN:
        return Seen("nxdomain", rcode="NXDOMAIN")
    if r.rcode != _NOERROR:
        return Seen("error", rcode=r.rcode_text, error=r.rcode_text)
    if rrset is None:
        return Seen("missing", rcode="NOERROR")
    return Seen("differs", ttl=rrset.ttl, values=tuple(sorted(x.to_text() for x in rrset)))


def owner_key(name: str) -> bytes:
    return wire.name(name).canonicalize().to_wire() or b""


def seen_in_transfer(d: DesiredRRset, rrsets: RRsets, key: bytes) -> Seen | None:
    """Compare a desired RRset with the zone transfer's (keyed by canonical owner)."""
    served = rrsets.get((key, d.expect.rdtype))
    if served is None:
        return Seen("missing", rcode="not in the zone transfer")
    if served.rdatas == d.expect.rdatas and served.ttl == d.expect.ttl:
        return None
    return Seen("differs", ttl=served.ttl, values=texts(served))


def texts(rrset: Expected) -> tuple[str, ...]:
    return tuple(sorted(wire.to_text(rrset.rdtype, r) for r in rrset.rdatas))


def owner_text(key: bytes) -> str:
    return dns.name.from_wire(key, 0)[0].to_text()


def type_text(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))


def ns_names(r: Result | None, section: str = "answer") -> frozenset[str] | None:
    """The NS targets (lower-cased) in one section of a reply; None: no answer, no NS."""
    if r is None or not r.answered:
        return None
    rrset = r.rrset(section, dns.rdatatype.NS)
    if rrset is None:
        return None
    return frozenset(x.target.to_text().lower() for x in rrset)
