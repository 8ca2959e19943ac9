"""What to ask whom: layouts from the config and zones, queries from layouts. No I/O.

Nameservers and parents come from the environment model (dnsops.env), the same
for every command and every environment: discovered from the providers and by
walking down from the root hints.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import dns.name
import dns.rdatatype

from dnsops.expect import ANSWER, GLUE, NOT_ON_WIRE, REFERRAL, VARIES, ZoneExpectation
from dnsops.health import consistency
from dnsops.health.model import DesiredRRset, Vantage, ZoneLayout
from dnsops.probe import Expected, Query, wire
from dnsops.zones import location

SERVER_PROBES = ("soa-udp", "soa-tcp", "ns", "open-resolver", "badvers", "nxdomain")
_DNSSEC = frozenset(
    int(t)
    for t in (
        dns.rdatatype.RRSIG,
        dns.rdatatype.NSEC,
        dns.rdatatype.NSEC3,
        dns.rdatatype.NSEC3PARAM,
        dns.rdatatype.DNSKEY,
        dns.rdatatype.CDS,
        dns.rdatatype.CDNSKEY,
    )
)


SECTION = {ANSWER: "answer", REFERRAL: "authority", GLUE: "additional", VARIES: "answer"}


def desired(expected: ZoneExpectation, providers: Sequence[str]) -> list[DesiredRRset]:
    """Every RRset of the zone a nameserver can be asked about, in a stable order, from
    the zone's expectation (dnsops.expect): the same one plan, sync, lint and audit read.

    ``providers`` of each RRset: those whose nameservers must answer it as its
    ``section`` says (authoritatively, or as a referral); ``held``: those that hold it
    at all (a zone transfer carries it: glue, a record below a delegation, a dynamic
    record served from its pools). What a provider will not hold is in neither, and
    types DNS does not know (ALIAS...) are left out.
    """
    keys = sorted({k for p in providers for k in expected.providers[p].answers})
    out = []
    for key in keys:
        found = {
            p: a for p in providers if (a := expected.providers[p].answers.get(key)) is not None
        }
        kinds = {a.kind for a in found.values()}
        if NOT_ON_WIRE in kinds:
            continue
        checked = frozenset(p for p, a in found.items() if a.kind in (ANSWER, REFERRAL))
        first = next((a for p, a in found.items() if p in checked), next(iter(found.values())))
        rrset = first.record.to_rrset()
        rdtype = dns.rdatatype.from_text(first.type)
        where = location(first.record)
        section = SECTION.get(first.kind, "occluded")
        expect = wire.expected(
            rdtype, rrset.ttl, rrset.rdatas, section="answer" if section == "occluded" else section
        )
        out.append(
            DesiredRRset(
                zone=expected.zone,
                name=rrset.name,
                rdtype=first.type,
                ttl=rrset.ttl,
                values=tuple(rrset.rdatas),
                expect=expect,
                providers=checked,
                section=section,
                file=where.file if where else None,
                line=where.line if where else None,
                owner=wire.name(rrset.name).to_digestable(),
                held=frozenset(found),
            )
        )
    return out


def parent_of(zone: str) -> str:
    return dns.name.from_text(zone).parent().to_text()


def vantages(configs: Iterable[Any], only: Sequence[str] | None) -> list[Vantage]:
    """The vantages to look through: dnsops.yaml's resolvers and ``vantages``.

    By default every resolver and SSH vantage; RIPE Atlas costs credits, so only
    when named. A vantage that asks no resolver (an SSH host with ``resolver:
    null``) cannot resolve for users and is left out (an error when named).
    """
    configs = list(configs)
    known = [c.name for c in configs]
    if only:
        unknown = [n for n in only if n not in known]
        if unknown:
            raise ValueError(
                f"no vantage named {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        mute = [c.name for c in configs if c.name in only and _resolver_of(c) is None]
        if mute:
            raise ValueError(
                f"vantage {', '.join(mute)} asks no resolver (resolver: null): health resolves "
                "through each vantage's resolver"
            )
        configs = [c for c in configs if c.name in only]
    else:
        configs = [c for c in configs if _kind(c) != "ripe-atlas" and _resolver_of(c) is not None]
    out = []
    for c in configs:
        address, port = _resolver_of(c) or ("", 53)
        out.append(Vantage(c.name, c.region, address, port, _kind(c)))
    return out


def _kind(cfg: Any) -> str:
    return str(getattr(cfg, "kind", "resolver"))


def _resolver_of(cfg: Any) -> tuple[str, int] | None:
    """(address, port) a vantage's resolver is asked at; ``system``: the host's/probes' own."""
    kind = _kind(cfg)
    if kind == "resolver":
        return cfg.address, cfg.port
    if kind == "ssh":
        return (cfg.resolver, 53) if cfg.resolver is not None else None
    return ("system", 53) if cfg.ask == "resolver" else None


# -- queries ----------------------------------------------------------------------


def server_queries(layout: ZoneLayout, index: int, nonce: str | None = None) -> list[Query]:
    """The per-nameserver probes (keys: (zone, server index, probe name))."""
    ns = layout.nameservers[index]
    t = ns.target
    zone = wire.name(layout.zone)
    missing = wire.name(f"{nonce or _nonce()}.{layout.zone}")
    parent = wire.name(layout.parent_zone)

    def key(probe: str) -> tuple[str, int, str]:
        return (layout.zone, index, probe)

    return [
        # with NSID (RFC 5001): which instance of the server (anycast site) answered
        Query(t, zone, dns.rdatatype.SOA, options=(wire.NSID_REQUEST,), key=key("soa-udp")),
        Query(t, zone, dns.rdatatype.SOA, tcp=True, key=key("soa-tcp")),
        Query(t, zone, dns.rdatatype.NS, key=key("ns")),
        # recursion for a name outside the zone: the parent's SOA (resolvable anywhere)
        Query(t, parent, dns.rdatatype.SOA, rd=True, key=key("open-resolver")),
        Query(t, zone, dns.rdatatype.SOA, edns=1, key=key("badvers")),
        Query(t, missing, dns.rdatatype.A, key=key("nxdomain")),
        *consistency.address_queries(layout, index),  # glue-matches-zone: in-zone NS names
    ]


def _nonce() -> str:
    return "dnsops-health-" + secrets.token_hex(6)


def parent_queries(layout: ZoneLayout) -> list[Query]:
    """The delegation at each parent server, and its addresses for the nameservers."""
    zone = wire.name(layout.zone)
    parent_zone = dns.name.from_text(layout.parent_zone)
    names = sorted({ns.name for ns in layout.nameservers} | set(layout.apex_ns))
    out = []
    for p in layout.parents:
        out.append(Query(p, zone, dns.rdatatype.NS, key=(layout.zone, p, "referral")))
        for name in names:
            if not dns.name.from_text(name).is_subdomain(parent_zone):
                continue  # out of the parent's bailiwick: no glue there
            for rtype in ("A", "AAAA"):
                out.append(Query.make(p, name, rtype, key=(layout.zone, p, f"{name} {rtype}")))
    return out


def record_queries(layout: ZoneLayout, servers: Iterable[int]) -> list[Query]:
    """Each desired RRset at each chosen nameserver of a provider that must serve it.

    Keys: (zone, "ns", server index, desired index).
    """
    names = [wire.name(d.name) for d in layout.desired]
    out = []
    for i in servers:
        ns = layout.nameservers[i]
        t = ns.target
        for j, d in enumerate(layout.desired):
            if ns.provider in d.providers:
                out.append(
                    Query(
                        t, names[j], d.expect.rdtype, expect=d.expect, key=(layout.zone, "ns", i, j)
                    )
                )
    return out


def vantage_queries(layout: ZoneLayout) -> list[Query]:
    """Each resolvable desired RRset through each vantage (TTLs may have counted down).

    Only records every provider serves: one served by a single provider would
    legitimately differ depending on which the resolver asks.
    """
    everyone = frozenset(layout.providers)
    chosen = [
        (j, d)
        for j, d in enumerate(layout.desired)
        if d.section == "answer" and d.providers >= everyone
    ]
    names = {j: wire.name(d.name) for j, d in chosen}
    expects = {
        j: Expected(d.expect.rdtype, d.expect.ttl, d.expect.rdatas, ttl_at_most=True)
        for j, d in chosen
    }
    return [
        Query(
            v.target,
            names[j],
            d.expect.rdtype,
            rd=True,
            expect=expects[j],
            key=(layout.zone, "vantage", k, j),
        )
        for k, v in enumerate(layout.vantages)
        for j, d in chosen
    ]


def is_dnssec(rdtype: int) -> bool:
    return rdtype in _DNSSEC
