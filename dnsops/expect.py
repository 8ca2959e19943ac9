"""What each provider holds of a zone and what its nameservers must answer: computed once.

lint (provider support, occluded records), plan (what is handed to octoDNS, and the
notices of what a provider will not hold), the verification after a sync, health's
record checks and the audit's comparison all read this one expectation, so their
verdicts on one zone agree.

For each zone and provider:

* **holds** -- the desired records the provider is given: the zone file minus what it
  cannot hold (a type outside its octoDNS ``SUPPORTS``, an apex NS it does not manage),
  with octoDNS's own fallbacks applied where it has them (a dynamic record becomes its
  default values on a provider without dynamic support; a multi-value PTR its first
  value). The same decisions octoDNS's ``BaseProvider._process_desired_zone`` makes,
  made before octoDNS sees the zone, so ``strict_supports`` never stops a plan;
* **refused** -- each record the provider will not hold, why, and whether the zone file
  acknowledges it (``octodns: {dnsops: {ignore: {provider-support: "why"}}}``);
* **answers** -- for each held record, what the provider's nameservers must do when
  asked for its name and type: answer it authoritatively (``answer``), refer to the
  delegation (``referral``: the NS of a sub-delegation in the authority section, without
  AA), carry it as glue (``glue``: an address of a delegation's in-bailiwick nameserver),
  nothing at all (``occluded``: a record below a delegation, which no server will ever
  answer), or anything from the record's pools (``varies``: a dynamic record on a
  provider that serves it dynamically). Types with no DNS wire form (ALIAS, URLFWD) are
  ``not-on-wire``.

Pure: octoDNS zones and provider capabilities in, models out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dns.name
import dns.rdatatype
from octodns.record import Record
from octodns.zone import Zone

from dnsops.lint.capabilities import ProviderCaps, problems
from dnsops.zones import dnsops_meta, location

ACK_RULE = "provider-support"  # the suppression that acknowledges a refused record

ANSWER = "answer"
REFERRAL = "referral"
GLUE = "glue"
OCCLUDED = "occluded"
VARIES = "varies"
NOT_ON_WIRE = "not-on-wire"

Key = tuple[str, str]  # (fqdn, type)


@dataclass(frozen=True)
class Refusal:
    """A record one provider will not hold."""

    provider: str
    fqdn: str
    type: str
    reason: str
    acknowledged: str | None = None  # the zone file's reason, when it accepts this
    file: str | None = None
    line: int | None = None

    @property
    def key(self) -> Key:
        return (self.fqdn, self.type)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "name": self.fqdn,
            "type": self.type,
            "reason": self.reason,
            "acknowledged": self.acknowledged,
            "file": self.file,
            "line": self.line,
        }


@dataclass(frozen=True)
class Answer:
    """What a provider's nameservers must do for one held record."""

    fqdn: str
    type: str
    kind: str  # answer | referral | glue | occluded | varies | not-on-wire
    record: Record = field(compare=False)
    fallback: str | None = None  # octoDNS's fallback applied (dynamic -> default values)

    @property
    def key(self) -> Key:
        return (self.fqdn, self.type)

    @property
    def checkable(self) -> bool:
        """A nameserver can be asked and its reply judged against exact values."""
        return self.kind in (ANSWER, REFERRAL)


@dataclass
class ProviderExpectation:
    zone: str
    provider: str
    holds: Zone  # what dnsops hands octoDNS for this provider (before processors)
    refused: list[Refusal]
    answers: dict[Key, Answer]
    same: bool = True  # holds is the zone as written (nothing left out or replaced)

    @property
    def unasked(self) -> frozenset[Key]:
        """Held records a nameserver is not asked about one by one (glue, records below
        a delegation, dynamic records served from pools, types without a wire form)."""
        return frozenset(k for k, a in self.answers.items() if not a.checkable)

    def answer(self, fqdn: str, rtype: str) -> Answer | None:
        return self.answers.get((fqdn, rtype))


@dataclass
class ZoneExpectation:
    zone: str
    cuts: frozenset[str]  # the zone's delegations (sub-zone apexes)
    kinds: dict[Key, str]  # how a nameserver serves each record of the zone file
    providers: dict[str, ProviderExpectation]

    @property
    def occluded(self) -> list[Key]:
        return sorted(k for k, kind in self.kinds.items() if kind == OCCLUDED)

    def refusals(self) -> list[Refusal]:
        return [r for p in self.providers.values() for r in p.refused]


# -- how a name is served --------------------------------------------------------------


def _on_wire(rtype: str) -> bool:
    try:
        dns.rdatatype.from_text(rtype)
    except dns.rdatatype.UnknownRdatatype:
        return False
    return True


def kinds(zone: Zone) -> tuple[frozenset[str], dict[Key, str]]:
    """The zone's delegations and how a nameserver serves each record of it.

    A name at or below a delegation is answered by the child's servers, not by this
    zone's: the delegation's NS comes back as a referral, an address of one of the
    delegation's nameservers below it as glue, a DS at the cut authoritatively (it is
    the parent's), and anything else there as nothing at all (occluded).
    """
    records = list(zone.records)
    cuts = frozenset(r.fqdn for r in records if r._type == "NS" and r.name)
    targets: dict[str, set[str]] = {}
    for r in records:
        if r._type == "NS" and r.name:
            targets[r.fqdn] = {str(v).lower() for v in r.values}
    out: dict[Key, str] = {}
    for r in records:
        key = (r.fqdn, r._type)
        if not _on_wire(r._type):
            out[key] = NOT_ON_WIRE
            continue
        cut = enclosing_cut(r.fqdn, cuts)
        if cut is None:
            out[key] = ANSWER
        elif r.fqdn == cut and r._type == "NS":
            out[key] = REFERRAL
        elif r.fqdn == cut and r._type == "DS":
            out[key] = ANSWER
        elif r._type in ("A", "AAAA") and r.fqdn.lower() in targets.get(cut, set()):
            out[key] = GLUE
        else:
            out[key] = OCCLUDED
    return cuts, out


def enclosing_cut(fqdn: str, cuts: frozenset[str]) -> str | None:
    """The delegation at or above ``fqdn`` (the closest), if any.

    On the text of the name, one label off at a time (a 10k-record zone is walked in
    milliseconds): octoDNS's fqdns are presentation form, where a dot inside a label is
    escaped and never starts a parent's name.
    """
    if not cuts:
        return None
    name = fqdn
    while name and name != ".":
        if name in cuts:
            return name
        i = name.find(".")
        while i > 0 and name[i - 1] == "\\":
            i = name.find(".", i + 1)
        if i < 0:
            return None
        name = name[i + 1 :]
    return None


# -- what a provider holds ---------------------------------------------------------------


def build(
    zone: Zone,
    caps: Mapping[str, ProviderCaps],
    root_ns_left_to_providers: bool,
) -> ZoneExpectation:
    """The expectation of one zone for every provider in ``caps``.

    ``root_ns_left_to_providers``: the config's processors leave the apex NS to the
    providers (octoDNS's IgnoreRootNsFilter): no provider is given the zone file's.
    """
    cuts, how = kinds(zone)
    out = {}
    for provider, pc in caps.items():
        out[provider] = _provider(zone, provider, pc, how, root_ns_left_to_providers)
    return ZoneExpectation(zone.name, cuts, how, out)


def _provider(
    zone: Zone,
    provider: str,
    caps: ProviderCaps,
    how: Mapping[Key, str],
    root_ns_left: bool,
) -> ProviderExpectation:
    copy: Zone | None = None  # made on the first change: most zones are held as written
    refused: list[Refusal] = []
    answers: dict[Key, Answer] = {}

    def changed() -> Zone:
        nonlocal copy
        if copy is None:
            copy = zone.copy()
        return copy

    for record in sorted(zone.records, key=lambda r: (r.fqdn, r._type)):
        if record.ignored or provider in record.excluded:
            continue  # octoDNS leaves it alone for this provider (Zone.changes skips it)
        if record.included and provider not in record.included:
            continue
        root_ns = record._type == "NS" and not record.name
        if root_ns and root_ns_left:
            continue  # the provider's own apex NS: its processor drops it, not compared
        found = problems(caps, record, root_ns)
        omit = [p for p in found if p.known and not p.fallback]
        if omit:
            changed().remove_record(record)
            refused.append(_refusal(provider, record, omit[0].detail))
            continue
        kind = how[(record.fqdn, record._type)]
        fallback = None
        dynamic = getattr(record, "dynamic", None)
        if dynamic:
            if caps.flag("SUPPORTS_DYNAMIC") is False:
                record = record.copy()
                record.dynamic = None
                changed().add_record(record, replace=True)
                fallback = "dynamic record: its default values (no dynamic support)"
            elif kind == ANSWER:
                kind = VARIES
        elif (
            record._type == "PTR"
            and len(record.values) > 1
            and caps.flag("SUPPORTS_MULTIVALUE_PTR") is False
        ):
            record = record.copy()
            record.values = [record.value]
            changed().add_record(record, replace=True)
            fallback = "multi-value PTR: its first value"
        answers[(record.fqdn, record._type)] = Answer(
            record.fqdn, record._type, kind, record, fallback
        )
    same = copy is None
    return ProviderExpectation(
        zone.name, provider, zone if copy is None else copy, refused, answers, same
    )


def _refusal(provider: str, record: Record, reason: str) -> Refusal:
    ignore = dnsops_meta(record).get("ignore")
    ack = ignore.get(ACK_RULE) if isinstance(ignore, dict) else None
    loc = location(record)
    return Refusal(
        provider,
        record.fqdn,
        record._type,
        reason,
        str(ack) if isinstance(ack, str) and ack.strip() else None,
        loc.file if loc else None,
        loc.line if loc else None,
    )


def refusal_lines(refusals: Iterable[Refusal]) -> list[str]:
    """One line per refused record, for plans and reports."""
    out = []
    for r in refusals:
        ack = f" (acknowledged: {r.acknowledged})" if r.acknowledged else ""
        out.append(f"{r.provider} will not hold {r.fqdn} {r.type}: {r.reason}{ack}")
    return out
