"""Are the two providers independent? provider-asn, provider-prefix, provider-one-prefix.

Pure functions, no I/O: the origin AS and announced prefix of each nameserver address
are an environment fact (:mod:`dnsops.independence`, looked up once per command) that
:func:`dnsops.health.driver.layouts` puts on each zone's layout. Zones whose providers
have the same nameserver addresses (1,000 zones on the same servers: the usual case)
are judged once, as one group, and a finding lists the zones it concerns in ``data``
(the first :data:`ZONES_LISTED`) with their count.

An address with no origin data, or whose lookup failed, is judged neither way: a check
that needs it is skipped (counted in ``skipped``), never passed and never failed on a
guess; the reason is in the report's ``independence`` section (text and JSON), per
address. What the known addresses prove is still said: two known addresses of both
providers in one AS fail provider-asn whatever the unknown ones are.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dnsops.health.judge import Judge
from dnsops.health.model import Outcome, ZoneObs
from dnsops.independence import AddressOrigin

ZONES_LISTED = 20  # zones named in a finding's data (the count is always there)


@dataclass(frozen=True)
class ProviderSet:
    """One distinct set of provider addresses and the zones served from it."""

    providers: tuple[str, ...]
    servers: Mapping[str, tuple[tuple[str, str], ...]]  # provider -> ((name, address), ...)
    origins: Mapping[str, AddressOrigin]
    zones: tuple[str, ...]

    def addresses(self, provider: str) -> list[str]:
        return [a for _, a in self.servers.get(provider, ())]

    def zone_data(self) -> dict[str, Any]:
        return {"zones": list(self.zones[:ZONES_LISTED]), "zone_count": len(self.zones)}

    def zones_text(self) -> str:
        """For the messages: the zone, or how many and the first few."""
        if len(self.zones) == 1:
            return self.zones[0]
        first = ", ".join(self.zones[:3])
        return f"{len(self.zones)} zones: {first}{', …' if len(self.zones) > 3 else ''}"

    def unknown(self) -> list[AddressOrigin]:
        out = []
        for p in self.providers:
            for a in self.addresses(p):
                o = self.origins.get(a) or AddressOrigin(a, problem="not looked up")
                if not o.known:
                    out.append(o)
        return out

    def describe(self, provider: str, addresses: Sequence[str]) -> str:
        names = dict((a, n) for n, a in self.servers.get(provider, ()))
        return ", ".join(a if names.get(a, a) == a else f"{names[a]} {a}" for a in addresses)


def groups(zones: Sequence[ZoneObs]) -> list[ProviderSet]:
    """The zones grouped by their providers' nameserver addresses, in zone order."""
    found: dict[tuple[Any, ...], tuple[ProviderSet, list[str]]] = {}
    for zo in zones:
        lay = zo.layout
        servers = {
            p: tuple(sorted({(ns.name, ns.address) for ns in lay.of(p)}, key=lambda s: s[1]))
            for p in lay.providers
        }
        key = (lay.providers, tuple(servers[p] for p in lay.providers))
        if key not in found:
            found[key] = (ProviderSet(lay.providers, servers, dict(lay.origins), ()), [])
        found[key][1].append(lay.zone)
    return [
        ProviderSet(s.providers, s.servers, s.origins, tuple(names)) for s, names in found.values()
    ]


def _why_skipped(group: ProviderSet) -> str:
    unknown = group.unknown()
    empty = [p for p in group.providers if not group.addresses(p)]
    parts = [f"{p} has no nameserver address" for p in empty]
    parts += [f"{o.address}: {o.problem or 'no origin data'}" for o in unknown[:4]]
    if len(unknown) > 4:
        parts.append(f"and {len(unknown) - 4} more address(es) without origin data")
    return "; ".join(parts)


def judge_group(group: ProviderSet) -> list[Outcome]:
    """The three checks for one set of provider addresses: one provider-asn and one
    provider-prefix outcome, one provider-one-prefix outcome per provider."""
    known = {a: o for a, o in group.origins.items() if o.known}
    complete = not group.unknown() and all(group.addresses(p) for p in group.providers)
    subject = " and ".join(group.providers)
    zones = group.zone_data()
    out: list[Outcome] = []

    # provider-asn: both providers announced from one AS
    shared_as: dict[int, dict[str, list[str]]] = {}
    for a, b in itertools.combinations(group.providers, 2):
        for pa, pb in ((a, b), (b, a)):
            other = {n for x in group.addresses(pb) if x in known for n in known[x].asns}
            for x in group.addresses(pa):
                for asn in known[x].asns if x in known else ():
                    if asn in other:
                        shared_as.setdefault(asn, {}).setdefault(pa, []).append(x)
    if shared_as:
        asn, where = min(shared_as.items())
        sides = "; ".join(
            f"{p}: {group.describe(p, sorted(set(addrs)))}" for p, addrs in sorted(where.items())
        )
        more = (
            f" (and AS{', AS'.join(str(n) for n in sorted(shared_as) if n != asn)})"
            if len(shared_as) > 1
            else ""
        )
        out.append(
            Outcome(
                "provider-asn",
                subject,
                False,
                f"{subject} are both announced from AS{asn}{more} ({sides}): one routing "
                f"incident in that AS takes both providers down at once ({group.zones_text()})",
                hint="move one provider's nameservers to a network of another AS, or choose a "
                "second provider that is not hosted in the first one's",
                data={
                    "asns": sorted(shared_as),
                    "providers": {
                        p: sorted({x for w in shared_as.values() for x in w.get(p, [])})
                        for p in group.providers
                    },
                    **zones,
                },
            )
        )
    else:
        ok = True if complete else None
        out.append(Outcome("provider-asn", subject, ok, "" if ok else _why_skipped(group)))

    # provider-prefix: addresses of both providers announced in the same prefix (routes
    # go by the most specific prefix: the same announced prefix is the same fate)
    by_net: dict[str, dict[str, set[str]]] = {}
    for p in group.providers:
        for x in group.addresses(p):
            if x in known:
                by_net.setdefault(str(known[x].network), {}).setdefault(p, set()).add(x)
    shared = {net: holders for net, holders in by_net.items() if len(holders) > 1}
    if shared:
        text = "; ".join(
            f"{net}: "
            + ", ".join(f"{p} {group.describe(p, sorted(addrs))}" for p, addrs in holders.items())
            for net, holders in sorted(shared.items())
        )
        out.append(
            Outcome(
                "provider-prefix",
                subject,
                False,
                f"{subject} have nameservers in the same announced prefix ({text}): one "
                f"withdrawal of that route takes both providers away ({group.zones_text()})",
                hint="the providers' nameservers should be in different networks (RFC 2182 §3.1)",
                data={
                    "prefixes": {
                        net: {p: sorted(a) for p, a in holders.items()}
                        for net, holders in sorted(shared.items())
                    },
                    **zones,
                },
            )
        )
    else:
        ok = True if complete else None
        out.append(Outcome("provider-prefix", subject, ok, "" if ok else _why_skipped(group)))

    # provider-one-prefix: all of one provider's addresses in one prefix
    for p in group.providers:
        addrs = group.addresses(p)
        origins = [known.get(a) for a in addrs]
        if not addrs or any(o is None for o in origins):
            out.append(Outcome("provider-one-prefix", p, None, _why_skipped(group), provider=p))
            continue
        one = _common([o for o in origins if o is not None])
        if one is None:
            out.append(Outcome("provider-one-prefix", p, True, provider=p))
            continue
        out.append(
            Outcome(
                "provider-one-prefix",
                p,
                False,
                f"every nameserver address of {p} ({group.describe(p, addrs)}) is in one "
                f"announced prefix, {one}: one withdrawal of that route takes the whole "
                f"provider away, the other one alone answers ({group.zones_text()})",
                provider=p,
                hint=f"ask {p} for nameservers in more than one network",
                data={"prefix": one, "addresses": addrs, **zones},
            )
        )
    return out


def _common(origins: Sequence[AddressOrigin]) -> str | None:
    """The announced prefix of every address, if they all have the same one."""
    nets = {str(o.network) for o in origins}
    return nets.pop() if len(nets) == 1 else None


def check_independence(zones: Sequence[ZoneObs], judge: Judge) -> None:
    """Judge every distinct set of provider addresses once."""
    for group in groups(zones):
        for outcome in judge_group(group):
            judge.verdict(outcome.ok, outcome)


def summary(zones: Sequence[ZoneObs]) -> list[dict[str, Any]]:
    """Each distinct set of provider addresses with every address's origin (the report's
    ``independence`` section): what the checks judged, and why any was skipped."""
    out = []
    for group in groups(zones):
        providers = {}
        for p in group.providers:
            rows = []
            for name, address in group.servers.get(p, ()):
                origin = group.origins.get(address) or AddressOrigin(
                    address, problem="not looked up"
                )
                rows.append({"name": name, **origin.to_json()})
            providers[p] = rows
        skipped = _why_skipped(group)
        out.append({"providers": providers, "skipped": skipped or None, **group.zone_data()})
    return out
