"""What ``dnsops vantage check`` asks each vantage: the zones' RRsets, as queries. No I/O.

Through a vantage's resolver: every RRset that resolves (answer data both
providers serve), recursion desired, TTL at most the zone's (caches count
down). Straight at the providers' nameservers (SSH hosts with
``nameservers: true``, Atlas with ``ask: nameservers``): each nameserver,
recursion off, the exact TTL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.rdatatype
from octodns.zone import Zone

from dnsops.probe import Query, Target, wire
from dnsops.vantage.base import Vantage


@dataclass(frozen=True)
class Wanted:
    """One RRset of a zone in git that a vantage can be asked for."""

    zone: str
    name: str
    rdtype: str
    ttl: int
    values: tuple[str, ...]


def wanted(
    zones: dict[str, Zone], providers: Sequence[str], only: Iterable[str] = ()
) -> list[Wanted]:
    """The answer-section RRsets served by every provider (``only``: these names).

    Left out: ignored and dynamic records, types DNS does not know, records
    only one provider serves, delegations (NS below the apex) and what lies
    below them.
    """
    names = {n if n.endswith(".") else n + "." for n in only}
    out = []
    for zname, zone in sorted(zones.items()):
        records = sorted(zone.records, key=lambda r: (r.fqdn, r._type))
        cuts = {r.fqdn for r in records if r._type == "NS" and r.name}
        for record in records:
            if record.ignored or getattr(record, "dynamic", None):
                continue
            if record._type == "NS" and record.name:
                continue
            if any(record.fqdn.endswith("." + cut) for cut in cuts):
                continue
            if record.included and not set(providers) <= set(record.included):
                continue
            if set(providers) & set(record.excluded):
                continue
            if names and record.fqdn.lower() not in {n.lower() for n in names}:
                continue
            try:
                dns.rdatatype.from_text(record._type)
            except dns.rdatatype.UnknownRdatatype:
                continue
            rrset = record.to_rrset()
            out.append(Wanted(zname, rrset.name, record._type, rrset.ttl, tuple(rrset.rdatas)))
    return out


def queries_for(
    vantage: Vantage, records: Sequence[Wanted], nameservers: Sequence[Target] = ()
) -> list[Query]:
    """A vantage's questions: through its resolver, and at each nameserver it can ask.

    Keys: ``(record index, "resolver")`` or ``(record index, nameserver label)``.
    """
    out = []
    resolver = vantage.resolver
    for j, rec in enumerate(records):
        name = wire.name(rec.name)
        exact = wire.expected(rec.rdtype, rec.ttl, rec.values)
        if resolver is not None:
            loose = wire.expected(rec.rdtype, rec.ttl, rec.values, ttl_at_most=True)
            key = (j, "resolver")
            out.append(Query(resolver, name, exact.rdtype, rd=True, expect=loose, key=key))
        if vantage.asks_nameservers:
            for ns in nameservers:
                out.append(Query(ns, name, exact.rdtype, expect=exact, key=(j, ns.label)))
    return out


def nameserver_targets(servers: Sequence[tuple[str, str, str]]) -> list[Target]:
    """(provider, name, address) -> probe targets: a remote vantage is given addresses,
    so that every vantage asks the very same servers."""
    return [Target(a, 53, f"{p} {n}") for p, n, a in servers]


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
