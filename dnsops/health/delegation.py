"""The delegation checks: the parent's NS set against what each provider serves, and the
names of both sets. Pure judging (no I/O) but for :func:`queries`, the plan of the few
probes they need beyond the nameservers' own.

Where the facts come from (one source of truth each):

* the names, their addresses, CNAMEs and owners: discovery (``ZoneLayout.facts``, the
  environment model's :class:`dnsops.env.ZoneFacts`), the same for every command;
* what each provider serves as apex NS: its nameservers' ``ns`` probe;
* what the parent delegates to, and its glue: the parent's referral (``ParentObs``), and
  for its size the referral for a random name asked without EDNS (``ZoneObs.others``);
* whether a name on one side only answers for the zone: its nameserver's SOA probe
  when it is a provider's, else one SOA per address of a name no provider owns
  (``ZoneObs.others``). A healthy zone adds one query per parent server.

A fault of a name (it does not resolve, is a CNAME, shares an address) is the same
fault in every zone that lists it: :class:`DelegationChecks` reports it once, naming
the zones, so 1,000 zones on one broken NS set give one finding, not 1,000.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnsops.health.judge import Judge
from dnsops.health.model import Outcome, ParentObs, ServerObs, ZoneLayout, ZoneObs
from dnsops.health.observe import ns_names
from dnsops.probe import Query, Result, Target, wire

# the checks this module judges (the catalogue has their severities)
CHECKS = (
    "apex-ns-providers",
    "delegation-ns",
    "ns-resolves",
    "ns-not-cname",
    "ns-distinct-addresses",
    "delegation-lame",
    "referral-size",
)

PLAIN_UDP = 512  # octets a reply without EDNS may take (RFC 1035 §4.2.1)
MAX_NAME = 255  # octets of the longest domain name on the wire (RFC 1035 §3.1)


def queries(layout: ZoneLayout, nonce: str | None = None) -> list[Query]:
    """The probes of these checks beyond the nameservers' own (keys: (zone, "others", what)):

    * per parent server, the referral for a random name under the zone asked without
      EDNS (``referral ADDRESS``): the reply an old resolver gets, its size and TC flag;
    * the zone's SOA at each address of a name no provider owns (a stranger of the apex
      NS or the parent's set: ``NAME ADDRESS``), unless a provider's nameserver answers
      there already. A healthy zone adds one query per parent server, no more."""
    zone = layout.zone
    label = nonce or "dnsops-referral-" + secrets.token_hex(6)
    out = [
        Query(
            p,
            wire.name(f"{label}.{zone}"),
            dns.rdatatype.A,
            edns=None,
            key=(zone, "others", f"referral {p.address}"),
        )
        for p in layout.parents
    ]
    facts = layout.facts
    if facts is None:
        return out
    probed = {ns.address for ns in layout.nameservers}
    for name in facts.strangers:
        for address in facts.names[name].addresses:
            if address in probed:
                continue
            target = Target(address, 53, f"stranger {name}")
            key = (zone, "others", f"{name} {address}")
            out.append(Query.make(target, zone, "SOA", key=key))
    return out


def served_sets(zo: ZoneObs) -> dict[str, dict[frozenset[str], list[ServerObs]]]:
    """Each provider's apex NS sets, as its nameservers answer them, and by whom."""
    out: dict[str, dict[frozenset[str], list[ServerObs]]] = {}
    for so in zo.servers:
        names = ns_names(so.probes.get("ns"), "answer") if so.up else None
        if names is not None:
            out.setdefault(so.ns.provider, {}).setdefault(names, []).append(so)
    return out


def parent_set(po: ParentObs) -> frozenset[str] | None:
    """The NS set one parent server delegates the zone to (None: it gave none)."""
    return parent_set_of(po.referral)


def parent_set_of(r: Result | None) -> frozenset[str] | None:
    """The NS set of a referral (the zone's NS in the authority section, or the answer)."""
    if r is not None and r.answered and r.message is not None and not r.aa:
        zone = r.query.qname
        for rrset in r.message.authority:
            if rrset.rdtype == dns.rdatatype.NS and zone.is_subdomain(rrset.name):
                return frozenset(x.target.to_text().lower() for x in rrset)
    return ns_names(r, "authority") or ns_names(r, "answer")


def _list(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def _who(servers: list[ServerObs]) -> str:
    return ", ".join(f"{s.ns.provider} {s.ns}" for s in servers)


@dataclass
class _Folded:
    outcome: Outcome
    zones: list[str] = field(default_factory=list)


class DelegationChecks:
    """The delegation checks of every zone of one run; name faults folded across zones."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self._folded: dict[tuple[str, str], _Folded] = {}  # (check, message)

    # -- one zone ------------------------------------------------------------------

    def zone(self, zo: ZoneObs) -> None:
        served = served_sets(zo)
        self.apex_providers(zo, served)
        self.delegation_ns(zo, served)
        self.referral_size(zo)
        facts = zo.layout.facts
        if facts is None:
            for check in ("ns-resolves", "ns-not-cname", "ns-distinct-addresses"):
                self.judge.skipped(check)
        else:
            self.names(zo, served)
        self.lame(zo, served)

    def apex_providers(
        self, zo: ZoneObs, served: dict[str, dict[frozenset[str], list[ServerObs]]]
    ) -> None:
        """apex-ns-providers: every served apex NS set names a nameserver of each
        provider, and no name that belongs to none."""
        layout, zone = zo.layout, zo.layout.zone
        facts = layout.facts
        # of no provider: discovery's strangers, and a name discovery never heard of (an
        # API provider reports its delegation set, and serves an apex NS set of its own)
        owned = {n for p in facts.providers.values() for n in p.names} if facts else set()
        sets: dict[frozenset[str], list[ServerObs]] = defaultdict(list)
        for by_set in served.values():
            for names, servers in by_set.items():
                sets[names] += servers
        if not sets:
            self.judge.skipped("apex-ns-providers")
            return
        for names, servers in sorted(sets.items(), key=lambda kv: (-len(kv[1]), sorted(kv[0]))):
            missing = [
                p for p in layout.providers if not names & {ns.name.lower() for ns in layout.of(p)}
            ]
            odd = sorted(names - owned) if facts is not None else []
            problems = []
            if missing:
                problems.append(
                    f"names no nameserver of {', '.join(missing)}: an outage there would not "
                    "be covered"
                )
            if odd:
                problems.append(
                    f"names {_list(odd)}, which belong{'s' if len(odd) == 1 else ''} to neither "
                    f"provider ({', '.join(layout.providers)})"
                )
            message = (
                f"the apex NS set {{{_list(names)}}} served by {_who(servers)} "
                + "; it ".join(problems)
            )
            self.judge.verdict(
                not problems,
                Outcome(
                    "apex-ns-providers",
                    zone,
                    False,
                    message,
                    zone=zone,
                    data={"missing": missing, "strangers": odd, "ns": sorted(names)},
                ),
            )

    def delegation_ns(
        self, zo: ZoneObs, served: dict[str, dict[frozenset[str], list[ServerObs]]]
    ) -> None:
        """delegation-ns: the parent's NS set equals each provider's served apex NS set
        (one outcome per provider and parent server)."""
        zone = zo.layout.zone
        if not zo.parents:
            self.judge.skipped("delegation-ns")
            return
        for po in zo.parents:
            subject = f"{zone} at parent {po.parent.address}"
            delegated = parent_set(po)
            if delegated is None:
                r = po.referral
                why = (r.error or r.rcode_text) if r is not None else "not asked"
                message = (
                    f"the parent server {po.parent.address} gives no NS set for {zone} ({why})"
                )
                self.judge.failed(Outcome("delegation-ns", subject, False, message, zone=zone))
                continue
            for provider in zo.layout.providers:
                by_set = served.get(provider)
                if not by_set:
                    self.judge.skipped("delegation-ns")  # none of its servers answered
                    continue
                for names, servers in sorted(by_set.items(), key=lambda kv: sorted(kv[0])):
                    who = provider if len(by_set) == 1 else f"{provider} {_who(servers)}"
                    only_child, only_parent = sorted(names - delegated), sorted(delegated - names)
                    parts = []
                    if only_child:
                        parts.append(
                            f"{who} serve{'s' if len(by_set) == 1 else ''} {_list(only_child)}, "
                            "which the parent does not list"
                        )
                    if only_parent:
                        parts.append(
                            f"the parent lists {_list(only_parent)}, which {who} does not serve"
                        )
                    data = {
                        "parent": sorted(delegated),
                        "served": sorted(names),
                        "only_served": only_child,
                        "only_parent": only_parent,
                        "nameservers": [s.ns.name for s in servers],
                    }
                    self.judge.verdict(
                        not parts,
                        Outcome(
                            "delegation-ns",
                            subject,
                            False,
                            "; ".join(parts),
                            zone=zone,
                            provider=provider,
                            data=data,
                        ),
                    )

    def referral_size(self, zo: ZoneObs) -> None:
        """referral-size (Zonemaster DELEGATION03): the parent's referral for the longest
        name under the zone, without EDNS, fits 512 octets. Built from the real referral
        (the one asked without EDNS, else the NS probe's): its NS set, glue and TTL; a real
        reply that came truncated fails too."""
        zone = zo.layout.zone
        facts = zo.layout.facts
        if not zo.parents:
            self.judge.skipped("referral-size")
            return
        for po in zo.parents:
            plain = zo.others.get(f"referral {po.parent.address}")
            used = plain if plain is not None and parent_set_of(plain) else po.referral
            delegated = parent_set_of(used)
            msg = used.message if used is not None else None
            if delegated is None or msg is None or used is None:
                self.judge.skipped("referral-size")
                continue
            addresses: dict[str, set[str]] = defaultdict(set)
            for rrset in msg.additional:
                if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    addresses[rrset.name.to_text().lower()] |= {x.to_text() for x in rrset}
            if facts is not None:
                for n in delegated:
                    if n in facts.names:
                        addresses[n] |= set(facts.names[n].addresses)
            ttl = next(
                (r.ttl for r in [*msg.authority, *msg.answer] if r.rdtype == dns.rdatatype.NS),
                86400,
            )
            size = referral_octets(zone, zo.layout.parent_zone, sorted(delegated), addresses, ttl)
            truncated = used is plain and used.transport == "tcp"  # TC over UDP: asked again
            parts = []
            if size > PLAIN_UDP:
                parts.append(
                    f"the parent {po.parent.address}'s referral for the longest name under "
                    f"{zone} takes {size} octets without EDNS ({len(delegated)} NS names), over "
                    f"the {PLAIN_UDP} a plain UDP reply holds: old resolvers get it truncated "
                    "and must retry over TCP"
                )
            if truncated:
                parts.append(
                    f"the parent {po.parent.address} truncated its referral for a name under "
                    f"{zone} asked without EDNS (TC flag; {len(used.wire or b'')} octets over TCP)"
                )
            self.judge.verdict(
                not parts,
                Outcome(
                    "referral-size",
                    f"{zone} at parent {po.parent.address}",
                    False,
                    "; ".join(parts),
                    zone=zone,
                    data={
                        "octets": size,
                        "limit": PLAIN_UDP,
                        "ns": len(delegated),
                        "observed_octets": len(used.wire or b""),
                        "observed_plain": used is plain,
                        "truncated": truncated,
                    },
                ),
            )

    def names(self, zo: ZoneObs, served: dict[str, dict[frozenset[str], list[ServerObs]]]) -> None:
        """ns-resolves, ns-not-cname, ns-distinct-addresses over every name the parent
        lists or a provider serves (discovery's resolution of each)."""
        facts = zo.layout.facts
        assert facts is not None
        zone = zo.layout.zone
        listed: dict[str, set[str]] = defaultdict(set)
        for n in facts.delegation.ns:
            listed[n.lower()].add("the parent")
        for po in zo.parents:
            for n in parent_set(po) or ():
                listed[n].add("the parent")
        for provider, by_set in served.items():
            for names in by_set:
                for n in names:
                    listed[n].add(provider)
        order = ["the parent", *zo.layout.providers]

        def by(n: str) -> str:
            who = sorted(listed[n], key=lambda w: order.index(w) if w in order else len(order))
            return " and ".join(who)

        at: dict[str, set[str]] = defaultdict(set)  # address -> names
        for n in sorted(listed):
            nf = facts.names.get(n)
            if nf is None:  # served now, unknown to discovery (changed since): no facts
                self.judge.skipped("ns-resolves")
                self.judge.skipped("ns-not-cname")
                continue
            if nf.addresses:
                self.judge.passed("ns-resolves")
            else:
                self._fold(
                    Outcome(
                        "ns-resolves",
                        n,
                        False,
                        f"{n} (listed by {by(n)}) resolves to no address: {nf.problem}",
                        zone=zone,
                        data={"name": n, "listed_by": sorted(listed[n]), "problem": nf.problem},
                    )
                )
            if nf.alias is None:
                self.judge.passed("ns-not-cname")
            else:
                self._fold(
                    Outcome(
                        "ns-not-cname",
                        n,
                        False,
                        f"{n} (listed by {by(n)}) is an alias (CNAME) of {nf.alias}: an NS "
                        "record must name the host itself (RFC 2181 §10.3)",
                        zone=zone,
                        data={"name": n, "alias": nf.alias, "listed_by": sorted(listed[n])},
                    )
                )
            for a in nf.addresses:
                at[a].add(n)
            if "the parent" in listed[n]:
                for a in facts.delegation.glue.get(n, ()):
                    at[a].add(n)
        for address, sharing in sorted(at.items()):
            if len(sharing) < 2:
                self.judge.passed("ns-distinct-addresses")
                continue
            self._fold(
                Outcome(
                    "ns-distinct-addresses",
                    address,
                    False,
                    f"{' and '.join(sorted(sharing))} share the address {address}: one server "
                    "counted as two",
                    zone=zone,
                    data={"address": address, "sharing": sorted(sharing)},
                )
            )

    def lame(self, zo: ZoneObs, served: dict[str, dict[frozenset[str], list[ServerObs]]]) -> None:
        """delegation-lame (Zonemaster DELEGATION04): a name listed only at the parent or
        only in a served apex NS set answers the zone's SOA authoritatively."""
        zone = zo.layout.zone
        facts = zo.layout.facts
        parent: set[str] = set()
        for po in zo.parents:
            parent |= parent_set(po) or set()
        child: set[str] = set()
        for by_set in served.values():
            for names in by_set:
                child |= names
        if not zo.parents or not parent or not child:
            self.judge.skipped("delegation-lame")
            return
        sides = [(n, "the parent") for n in sorted(parent - child)]
        sides += [(n, "the zone's apex NS") for n in sorted(child - parent)]
        if not sides:
            self.judge.passed("delegation-lame")  # every name is listed on both sides
            return
        own = {so.ns.name.lower() for so in zo.servers}
        by_address = {so.ns.address: so.probes.get("soa-udp") for so in zo.servers}
        for name, side in sides:
            if name in own:  # a provider's nameserver: probed as such already
                replies = [
                    (so.ns.address, so.probes.get("soa-udp"))
                    for so in zo.servers
                    if so.ns.name.lower() == name
                ]
            else:
                addresses = facts.names[name].addresses if facts and name in facts.names else ()
                replies = [(a, zo.others.get(f"{name} {a}", by_address.get(a))) for a in addresses]
            if not replies:
                self.judge.skipped("delegation-lame")  # no address: ns-resolves says so
                continue
            failure = lame_verdict(zone, name, side, replies)
            if failure is None:
                self.judge.passed("delegation-lame")
            else:
                self.judge.failed(failure)

    # -- folding -----------------------------------------------------------------------

    def _fold(self, outcome: Outcome) -> None:
        key = (outcome.check, outcome.message)  # the same fault: a name's, not a zone's
        found = self._folded.setdefault(key, _Folded(outcome))
        if outcome.zone is not None:
            found.zones.append(outcome.zone)

    def finish(self) -> None:
        """Report each folded fault once, naming the zones it was seen in."""
        for found in self._folded.values():
            o, zones = found.outcome, found.zones
            if len(zones) <= 1:
                self.judge.failed(replace(o, data={**(o.data or {}), "zones": zones}))
                continue
            shown = ", ".join(zones[:3]) + (f" and {len(zones) - 3} more" if len(zones) > 3 else "")
            self.judge.failed(
                replace(
                    o,
                    zone=None,
                    message=f"{o.message} (in {len(zones)} zones: {shown})",
                    data={**(o.data or {}), "zones": zones},
                )
            )


def lame_verdict(
    zone: str, name: str, side: str, replies: list[tuple[str, Result | None]]
) -> Outcome | None:
    """The failure of a one-sided name (None: every address answered authoritatively).

    ``lame``: an address answers without the AA flag (a referral, REFUSED...);
    ``silent``: no address answers at all."""
    lame = [
        (a, r)
        for a, r in replies
        if r is not None and r.answered and not (r.aa and r.rcode == dns.rcode.NOERROR)
    ]
    silent = [(a, r) for a, r in replies if r is None or not r.answered]
    where = f"{name}, listed only at {side},"
    if lame:
        how = "; ".join(
            f"{a} answers without authority ({r.rcode_text}{', no AA flag' if not r.aa else ''})"
            for a, r in lame
            if r is not None
        )
        kind, message = "lame", f"{where} is lame for {zone}: {how}"
    elif silent:
        how = "; ".join(f"{a}: {(r.error if r else None) or 'no answer'}" for a, r in silent)
        kind, message = "silent", f"{where} is silent: nothing answers for {zone} ({how})"
    else:
        return None
    return Outcome(
        "delegation-lame",
        name,
        False,
        message,
        zone=zone,
        data={
            "name": name,
            "side": "parent" if side == "the parent" else "zone",
            "kind": kind,
            "addresses": [
                {
                    "address": a,
                    "rcode": r.rcode_text if r is not None else None,
                    "aa": bool(r and r.aa),
                    "error": r.error if r is not None else "not asked",
                }
                for a, r in replies
            ],
        },
    )


def referral_octets(
    zone: str,
    parent_zone: str,
    ns: list[str],
    addresses: dict[str, set[str]],
    ttl: int = 86400,
) -> int:
    """The size of the parent's referral as Zonemaster DELEGATION03 builds it: a reply
    without EDNS to a query for a 255-octet name under the zone, the NS set in the
    authority section (compressed), one A and one AAAA in the additional section when
    every name with such an address is in the parent's bailiwick (it must give glue).

    Memoised: the zone matters only through the suffix it shares with the NS names
    (what compression can point to), so 1,000 zones on one NS set build it once."""
    origin = dns.name.from_text(zone)
    names = [dns.name.from_text(n) for n in ns]
    shared = max((origin.fullcompare(n)[2] for n in names), default=1)  # labels, root too
    inside = any(n.is_subdomain(origin) for n in names)
    key = (
        zone if inside else origin.split(shared)[1].to_text(),
        tuple(ns),
        parent_zone,
        tuple(sorted((n, tuple(sorted(a))) for n, a in addresses.items() if n in ns)),
        ttl,
    )
    found = _SIZES.get(key)
    if found is None:
        if len(_SIZES) >= 10_000:
            _SIZES.clear()
        found = _SIZES[key] = _build_referral(origin, parent_zone, ns, addresses, ttl)
    return found


_SIZES: dict[tuple[object, ...], int] = {}


def _build_referral(
    origin: dns.name.Name,
    parent_zone: str,
    ns: list[str],
    addresses: dict[str, set[str]],
    ttl: int,
) -> int:
    query = dns.message.make_query(longest_name(origin), dns.rdatatype.A, use_edns=False)
    reply = dns.message.make_response(query)
    reply.authority.append(
        dns.rrset.from_text_list(origin, ttl, dns.rdataclass.IN, dns.rdatatype.NS, ns)
    )
    parent = dns.name.from_text(parent_zone)
    for rdtype, version in ((dns.rdatatype.A, 4), (dns.rdatatype.AAAA, 6)):
        having = {
            n: found
            for n in ns
            if (found := sorted(a for a in addresses.get(n, ()) if _version(a) == version))
        }
        if having and all(dns.name.from_text(n).is_subdomain(parent) for n in having):
            first = next(iter(having))
            value = having[first][0]
            reply.additional.append(
                dns.rrset.from_text(first, ttl, dns.rdataclass.IN, rdtype, value)
            )
    return len(reply.to_wire())


def longest_name(origin: dns.name.Name) -> dns.name.Name:
    """A name under ``origin`` of exactly 255 octets on the wire (labels of 63 at most)."""
    left = MAX_NAME - len(origin.to_digestable())
    labels: list[bytes] = []
    while left >= 2:
        n = min(63, left - 1)
        if left - (n + 1) == 1:  # a 1-octet rest cannot hold a label
            n -= 1
        labels.append(b"a" * n)
        left -= n + 1
    return dns.name.Name([*labels, *origin.labels])


def _version(address: str) -> int:
    return ipaddress.ip_address(address).version
