"""The SOA across nameservers and providers, and the parent's glue against the zone's own
addresses for its nameservers (Zonemaster CONSISTENCY01/02/03/05). No I/O but planning.

* ``soa-serial``: within one provider every nameserver serves one serial. Between the
  two providers serials differ by design (each numbers its own changes): not compared,
  shown per nameserver in the report instead.
* ``soa-rname`` and ``soa-timers``: one RNAME (compared case-insensitively) and one
  refresh/retry/expire/minimum across every nameserver of both providers.
* ``glue-matches-zone``: for each nameserver name inside the zone (ns3.example.test.
  for example.test.), the glue each parent server gives equals the A/AAAA records the
  zone's own nameservers serve for it. Names outside the zone are delegation-glue's.

A nameserver that gave no SOA (silent, REFUSED, not authoritative) does not count: its
own checks (ns-udp, ns-soa, ns-aa) report it, and one silent server must not make a
consistent zone look inconsistent. Likewise, for glue-matches-zone, a server that did not
answer both address questions authoritatively (NOERROR or NXDOMAIN) is left out. A check
none of whose servers answered is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import dns.name
import dns.rcode
import dns.rdatatype

from dnsops.health.judge import Judge
from dnsops.health.model import Outcome, ParentObs, ServerObs, ZoneLayout, ZoneObs
from dnsops.probe import Query, Result

TIMERS = (
    ("refresh", "refresh"),
    ("retry", "retry"),
    ("expire", "expire"),
    ("minimum", "minimum (negative-cache TTL)"),
)
ADDRESS_TYPES = ("A", "AAAA")
_ANSWERED = (int(dns.rcode.NOERROR), int(dns.rcode.NXDOMAIN))

V = TypeVar("V", bound=Hashable)


# -- planning ---------------------------------------------------------------------------


def in_bailiwick(layout: ZoneLayout) -> list[str]:
    """The nameserver names inside the zone itself, from the zone's apex NS, the parent's
    delegation and the discovered nameservers (lower-case, sorted)."""
    zone = dns.name.from_text(layout.zone)
    names = {n.lower() for n in (*layout.apex_ns, *layout.delegation_ns)}
    names |= {ns.name.lower() for ns in layout.nameservers}
    return sorted(n for n in names if n.endswith(".") and dns.name.from_text(n).is_subdomain(zone))


def address_probe(name: str, rtype: str) -> str:
    return f"address {name} {rtype}"


def address_queries(layout: ZoneLayout, index: int) -> list[Query]:
    """A and AAAA of each in-bailiwick nameserver name at one nameserver (none at all
    for a zone whose nameservers are all named elsewhere)."""
    t = layout.nameservers[index].target
    return [
        Query.make(t, name, rtype, key=(layout.zone, index, address_probe(name, rtype)))
        for name in in_bailiwick(layout)
        for rtype in ADDRESS_TYPES
    ]


# -- observations -----------------------------------------------------------------------


def soa_of(zone: str, so: ServerObs) -> Any | None:
    """The SOA rdata a nameserver served for the zone (UDP, else TCP), or None."""
    for probe in ("soa-udp", "soa-tcp"):
        r = so.probes.get(probe)
        if r is None or not r.answered or r.rcode != dns.rcode.NOERROR:
            continue
        rrset = r.rrset("answer", dns.rdatatype.SOA)
        if rrset is not None and len(rrset) and rrset.name == dns.name.from_text(zone):
            return rrset[0]
    return None


def serial_of(zone: str, so: ServerObs) -> int | None:
    soa = soa_of(zone, so)
    return int(soa.serial) if soa is not None else None


def _addresses(r: Result | None, name: str) -> frozenset[str] | None:
    """The addresses an authoritative answer gives for ``name`` (CNAMEs not followed)."""
    if r is None or not r.answered or r.rcode not in _ANSWERED or not r.aa:
        return None
    msg = r.message
    if msg is None:
        return None
    owner = dns.name.from_text(name)
    return frozenset(
        x.to_text()
        for rrset in msg.answer
        if rrset.name == owner and rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
        for x in rrset
    )


def zone_addresses(so: ServerObs, name: str) -> frozenset[str] | None:
    """What one nameserver serves as ``name``'s A and AAAA; None unless both answered."""
    parts = [_addresses(so.probes.get(address_probe(name, t)), name) for t in ADDRESS_TYPES]
    if any(p is None for p in parts):
        return None
    return frozenset().union(*(p for p in parts if p is not None))


def parent_glue(po: ParentObs, name: str) -> frozenset[str] | None:
    """The addresses a parent server gives for ``name``: the glue in its referral, else
    in its replies to the name's A and AAAA. None when it did not answer the referral."""
    r = po.referral
    if r is None or not r.answered or r.message is None:
        return None
    owner = dns.name.from_text(name)

    def found(msg: Any) -> set[str]:
        return {
            x.to_text()
            for section in (msg.answer, msg.additional)
            for rrset in section
            if rrset.name == owner and rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
            for x in rrset
        }

    seen = found(r.message)
    if not seen:
        for rtype in ADDRESS_TYPES:
            a = po.addresses.get(f"{name} {rtype}")
            if a is not None and a.answered and a.message is not None:
                seen |= found(a.message)
    return frozenset(seen)


# -- wording ----------------------------------------------------------------------------


def _who(servers: list[ServerObs], providers: Iterable[str]) -> str:
    """'pdns ns1.pdns.test. (192.0.2.1), ns2... and bind ns1.bind.test. (192.0.2.2)'."""
    runs = []
    for p in providers:
        mine = [str(so.ns) for so in servers if so.ns.provider == p]
        if mine:
            runs.append(f"{p} {', '.join(mine)}")
    return " and ".join(runs)


def _serve(servers: list[ServerObs]) -> str:
    return "serves" if len(servers) == 1 else "serve"


def _group(
    servers: Iterable[ServerObs], value: Callable[[ServerObs], V | None]
) -> dict[V, list[ServerObs]]:
    """Servers by the value they serve, in the order first seen; None: left out."""
    out: dict[V, list[ServerObs]] = {}
    for so in servers:
        v = value(so)
        if v is not None:
            out.setdefault(v, []).append(so)
    return out


def _members(servers: list[ServerObs]) -> list[dict[str, str]]:
    return [
        {"provider": so.ns.provider, "nameserver": so.ns.name, "address": so.ns.address}
        for so in servers
    ]


# -- checks -----------------------------------------------------------------------------


def check_consistency(zo: ZoneObs, judge: Judge) -> None:
    check_serials(zo, judge)
    check_rname(zo, judge)
    check_timers(zo, judge)
    check_glue_matches_zone(zo, judge)


def check_serials(zo: ZoneObs, judge: Judge) -> None:
    """soa-serial: one outcome per provider with a nameserver that served the SOA."""
    zone = zo.layout.zone
    for provider in zo.layout.providers:
        mine = [so for so in zo.servers if so.ns.provider == provider]
        groups = _group(mine, lambda so: serial_of(zone, so))
        if not groups:
            judge.skipped("soa-serial")
            continue
        ranked = sorted(groups.items(), key=lambda kv: -kv[0])  # newest first
        message = f"{provider}'s nameservers serve different SOA serials: " + "; ".join(
            f"{', '.join(str(so.ns) for so in servers)} {_serve(servers)} serial {serial}"
            for serial, servers in ranked
        )
        data = {"serials": [{"serial": s, "servers": _members(v)} for s, v in ranked]}
        judge.verdict(
            len(groups) == 1,
            Outcome(
                "soa-serial",
                f"{zone} at {provider}",
                False,
                message,
                zone=zone,
                provider=provider,
                hint="a nameserver behind has not loaded the provider's latest zone: look at "
                "its replication or zone transfers from the provider's primary",
                data=data,
            ),
        )


def check_rname(zo: ZoneObs, judge: Judge) -> None:
    """soa-rname: one RNAME across every nameserver of both providers."""
    zone = zo.layout.zone
    shown: dict[str, str] = {}  # lower-case -> as first served
    rnames: dict[int, str] = {}
    for so in zo.servers:
        soa = soa_of(zone, so)
        if soa is not None:
            rnames[id(so)] = soa.rname.to_text().lower()
            shown.setdefault(rnames[id(so)], soa.rname.to_text())
    groups = _group(zo.servers, lambda so: rnames.get(id(so)))
    if not groups:
        judge.skipped("soa-rname")
        return
    providers = zo.layout.providers
    message = "SOA RNAME (contact): " + "; ".join(
        f"{_who(servers, providers)} {_serve(servers)} {shown[rname]}"
        for rname, servers in groups.items()
    )
    data = {"rnames": [{"rname": shown[r], "servers": _members(v)} for r, v in groups.items()]}
    judge.verdict(
        len(groups) == 1,
        Outcome(
            "soa-rname",
            f"{zone} SOA",
            False,
            message,
            zone=zone,
            hint="set the same contact at both providers (each provider's SOA settings)",
            data=data,
        ),
    )


def check_timers(zo: ZoneObs, judge: Judge) -> None:
    """soa-timers: refresh, retry, expire and minimum the same across every nameserver."""
    zone = zo.layout.zone
    soas = {id(so): soa_of(zone, so) for so in zo.servers}
    if all(v is None for v in soas.values()):
        judge.skipped("soa-timers")
        return
    providers = zo.layout.providers
    parts, data = [], {}
    for field, label in TIMERS:

        def timer(so: ServerObs, field: str = field) -> int | None:
            soa = soas[id(so)]
            return int(getattr(soa, field)) if soa is not None else None

        groups = _group(zo.servers, timer)
        if len(groups) < 2:
            continue
        parts.append(
            f"{label}: "
            + "; ".join(
                f"{_who(servers, providers)} {_serve(servers)} {value}"
                for value, servers in groups.items()
            )
        )
        data[field] = [{"value": v, "servers": _members(s)} for v, s in groups.items()]
    judge.verdict(
        not parts,
        Outcome(
            "soa-timers",
            f"{zone} SOA",
            False,
            ". ".join(parts),
            zone=zone,
            hint="set the same SOA timers at both providers (each provider's SOA settings)",
            data={"differs": data},
        ),
    )


def _parent_name(po: ParentObs) -> str:
    name = po.parent.label.removeprefix("parent ")
    address = po.parent.address
    return address if name in ("", address) else f"{name} ({address})"


def check_glue_matches_zone(zo: ZoneObs, judge: Judge) -> None:
    """glue-matches-zone: one outcome per in-bailiwick nameserver name and parent server."""
    zone = zo.layout.zone
    names = in_bailiwick(zo.layout)
    if not names:
        return  # every nameserver named outside the zone: nothing to compare, nothing asked
    providers = zo.layout.providers
    for name in names:

        def addresses(so: ServerObs, name: str = name) -> frozenset[str] | None:
            return zone_addresses(so, name)

        groups = _group(zo.servers, addresses)
        if not groups or not zo.parents:
            judge.skipped("glue-matches-zone")
            continue
        served = "; ".join(
            f"{_who(servers, providers)} {_serve(servers)} "
            + (", ".join(sorted(addresses)) or "no address")
            for addresses, servers in groups.items()
        )
        zone_data = [{"addresses": sorted(a), "servers": _members(s)} for a, s in groups.items()]
        for po in zo.parents:
            glue = parent_glue(po, name)
            if glue is None:
                judge.skipped("glue-matches-zone")  # no referral: delegation-ns says why
                continue
            message = (
                f"{name}: the parent {_parent_name(po)} gives glue "
                f"{', '.join(sorted(glue)) or '(none)'}; {served}"
            )
            judge.verdict(
                all(addresses == glue for addresses in groups),
                Outcome(
                    "glue-matches-zone",
                    f"{name} at parent {po.parent.address}",
                    False,
                    message,
                    zone=zone,
                    hint=f"make the parent's glue for {name} and the zone's own A/AAAA "
                    "records for it the same (at the registrar, or in the zone)",
                    data={"name": name, "parent": sorted(glue), "zone": zone_data},
                ),
            )
