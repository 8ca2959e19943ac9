"""Consistency across providers: apex NS, delegation and glue, every RRset. No I/O.

Multi-provider aware: SOA serials and MNAMEs legitimately differ between
providers, so the SOA is not compared here; everything git declares is. The SOA's
serial (within a provider), RNAME and timers are compared in dnsops.health.consistency.
"""

from __future__ import annotations

from collections import defaultdict

from dnsops.health.judge import Judge
from dnsops.health.model import DesiredRRset, Outcome, ParentObs, Seen, ServerObs, ZoneObs
from dnsops.health.observe import ns_names


def apex_ns_sets(zo: ZoneObs) -> dict[frozenset[str], list[ServerObs]]:
    """Each distinct apex NS set served, and by whom (servers that answered one)."""
    sets: dict[frozenset[str], list[ServerObs]] = defaultdict(list)
    for so in zo.servers:
        names = ns_names(so.probes.get("ns")) if so.up else None
        if names is not None:
            sets[names].append(so)
    return dict(sets)


def check_apex_ns(zo: ZoneObs, judge: Judge) -> frozenset[str] | None:
    """apex-ns-consistent; returns the apex NS set most servers serve (apex-ns-providers:
    dnsops.health.delegation)."""
    zone = zo.layout.zone
    sets = apex_ns_sets(zo)
    if not sets:
        judge.skipped("apex-ns-consistent")
        return None
    ranked = sorted(sets.items(), key=lambda kv: (-len(kv[1]), sorted(kv[0])))
    common = ranked[0][0]
    detail = [
        {"ns": sorted(names), "servers": [f"{s.ns.provider} {s.ns}" for s in servers]}
        for names, servers in ranked
    ]
    message = "; ".join(f"{', '.join(d['servers'])} serve {{{', '.join(d['ns'])}}}" for d in detail)
    judge.verdict(
        len(sets) == 1,
        Outcome("apex-ns-consistent", zone, False, message, zone=zone, data={"sets": detail}),
    )
    return common


def check_delegation(zo: ZoneObs, apex: frozenset[str] | None, judge: Judge) -> None:
    """delegation-glue (delegation-ns: dnsops.health.delegation)."""
    zone = zo.layout.zone
    if not zo.parents:
        judge.skipped("delegation-glue")
        return
    child = apex if apex is not None else frozenset(n.lower() for n in zo.layout.apex_ns)
    addresses = defaultdict(set)
    for ns in zo.layout.nameservers:
        addresses[ns.name.lower()].add(ns.address)
    for po in zo.parents:
        _glue(zone, po, child, addresses, judge)


def _glue(
    zone: str,
    po: ParentObs,
    child: frozenset[str],
    addresses: dict[str, set[str]],
    judge: Judge,
) -> None:
    """The parent's addresses for each nameserver: glue in the referral, else its own answer.

    BIND 9.18 leaves sibling glue out of a referral's additional section; the
    parent still holds the A records when the names live in its zone.
    """
    referral = po.referral.message if po.referral is not None else None
    for name in sorted(child):
        want = addresses.get(name)
        if not want:
            continue  # an address dnsops does not know: nothing to compare
        seen: set[str] = set()
        if referral is not None:
            for rrset in referral.additional:
                if rrset.name.to_text().lower() == name and rrset.rdtype in (1, 28):
                    seen |= {x.to_text() for x in rrset}
        if not seen:
            for rtype in ("A", "AAAA"):
                r = po.addresses.get(f"{name} {rtype}")
                answer = r.rrset() if r is not None and r.answered else None
                if answer is not None:
                    seen |= {x.to_text() for x in answer}
        if not seen and not any(k.startswith(name + " ") for k in po.addresses):
            judge.skipped("delegation-glue")  # outside the parent's zone: no glue
            continue
        subject = f"{name} at parent {po.parent.address}"
        message = (
            f"the parent gives {', '.join(sorted(seen)) or 'no address'} for {name}; "
            f"it answers on {', '.join(sorted(want))}"
        )
        judge.verdict(
            seen == want,
            Outcome(
                "delegation-glue",
                subject,
                False,
                message,
                zone=zone,
                data={"parent": sorted(seen), "expected": sorted(want)},
            ),
        )


def check_rrsets(zo: ZoneObs, judge: Judge) -> None:
    """rrset-served per desired RRset and provider; rrset-extra from zone transfers."""
    layout = zo.layout
    by_provider: dict[str, list[ServerObs]] = defaultdict(list)
    for so in zo.servers:
        if so.method != "skipped":
            by_provider[so.ns.provider].append(so)
    for j, d in enumerate(layout.desired):
        for provider in sorted(d.providers):
            servers = by_provider.get(provider)
            if not servers:
                judge.skipped("rrset-served")
                continue
            differing = [(so, so.seen[j]) for so in servers if j in so.seen]
            if not differing:
                judge.passed("rrset-served")
                continue
            judge.failed(_rrset_outcome(d, provider, differing))
    _extras(zo, by_provider, judge)


def _rrset_outcome(
    d: DesiredRRset, provider: str, differing: list[tuple[ServerObs, Seen]]
) -> Outcome:
    groups: dict[Seen, list[ServerObs]] = defaultdict(list)
    for so, seen in differing:
        groups[seen].append(so)
    parts = [
        f"{', '.join(str(so.ns) for so in servers)} {_verb(seen)} {seen.describe()}"
        for seen, servers in groups.items()
    ]
    message = "; ".join(parts) + f"; desired {', '.join(d.values)} (TTL {d.ttl})"
    served = [
        {
            "nameserver": so.ns.name,
            "address": so.ns.address,
            "status": seen.status,
            "ttl": seen.ttl,
            "values": list(seen.values),
            "rcode": seen.rcode,
            "error": seen.error,
        }
        for so, seen in differing
    ]
    return Outcome(
        "rrset-served",
        d.subject,
        False,
        message,
        zone=d.zone,
        provider=provider,
        file=d.file,
        line=d.line,
        hint="`dnsops sync --doit` puts the desired values back; find who changed it out of band",
        data={"desired": {"ttl": d.ttl, "values": list(d.values)}, "served": served},
    )


def _verb(seen: Seen) -> str:
    return "serve" if seen.status == "differs" else "answer"


def _extras(zo: ZoneObs, by_provider: dict[str, list[ServerObs]], judge: Judge) -> None:
    for provider, servers in sorted(by_provider.items()):
        transferred = [so for so in servers if so.method == "axfr"]
        if not transferred:
            judge.skipped("rrset-extra")
            continue
        found: dict[tuple[str, str, tuple[str, ...]], list[ServerObs]] = defaultdict(list)
        for so in transferred:
            for extra in so.extra:
                found[extra].append(so)
        if not found:
            judge.passed("rrset-extra")
        for (name, rtype, values), holders in sorted(found.items()):
            message = (
                f"{', '.join(str(s.ns) for s in holders)} serve {name} {rtype} "
                f"{', '.join(values)}, which is not in git"
            )
            judge.failed(
                Outcome(
                    "rrset-extra",
                    f"{name} {rtype}",
                    False,
                    message,
                    zone=zo.layout.zone,
                    provider=provider,
                    hint="add it to the zone file, or let `dnsops sync --doit` remove it",
                    data={"values": list(values), "nameservers": [s.ns.name for s in holders]},
                )
            )
