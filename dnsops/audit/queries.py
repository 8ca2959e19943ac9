"""Per-record queries for the data plane, through the shared probe engine (dnsops.probe).

Each question carries what the provider's API holds as its expected answer, so the
engine checks most replies on the raw bytes and parses only the ones that differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import dns.name
import dns.rcode
import dns.rdatatype

from dnsops.audit import convert
from dnsops.audit.model import Key, RRset, Served, View
from dnsops.probe import bulk, wire
from dnsops.probe.engine import Engine
from dnsops.probe.model import Expected, Query, Target

if TYPE_CHECKING:  # the vantage modules cost 0.4 s to import: only for --vantage
    from dnsops.vantage.base import Vantage


@dataclass(frozen=True)
class Nameserver:
    name: str  # the NS name ("ns1.pdns.test.") or the address when no name is known
    address: str
    port: int = 53

    @property
    def label(self) -> str:
        return self.address if self.name == self.address else f"{self.name} {self.address}"


@dataclass
class Answers:
    """What one nameserver answered: an RRset per key it serves, a reason per key it
    could not answer; a key in neither is not served (NXDOMAIN or no data)."""

    records: dict[Key, RRset] = field(default_factory=dict)
    failed: dict[Key, str] = field(default_factory=dict)
    error: str | None = None

    def served(self, label: str, asked: frozenset[Key]) -> Served:
        error = self.error
        if error is None and asked and len(self.failed) == len(asked):
            reasons = sorted(set(self.failed.values()))
            error = f"no answer to any of {len(asked)} queries ({'; '.join(reasons[:3])})"
        if error is not None:
            return Served(label, "queries", asked=asked, error=error)
        return Served(label, "queries", dict(self.records), asked=asked, failed=dict(self.failed))


@dataclass(frozen=True)
class Ask:
    """Ask every nameserver of one provider for ``keys`` of one zone."""

    provider: str
    zone: str
    nameservers: tuple[Nameserver, ...]
    keys: frozenset[Key]
    expected: View  # what the API holds: the engine's expected answers


def ask(asks: list[Ask], vantage: Vantage | None = None) -> dict[tuple[str, str, str], Answers]:
    """(provider, zone, nameserver label) -> Answers, all asks in one batch of queries.

    With a ``vantage`` (an SSH host), the same queries are asked from there.
    """
    queries: list[Query] = []
    for a in asks:
        questions = [_question(k, a.expected.get(k)) for k in sorted(a.keys)]
        for ns in a.nameservers:
            target = Target(ns.address, ns.port, ns.label)
            for k, name, rdtype, expect in questions:
                key = (a.provider, a.zone, ns.label, k)
                queries.append(Query(target, name, rdtype, expect=expect, key=key))
    out: dict[tuple[str, str, str], Answers] = {}
    for a in asks:
        for ns in a.nameservers:
            out[(a.provider, a.zone, ns.label)] = Answers()
    expected = {(a.provider, a.zone): a.expected for a in asks}
    if vantage is None:
        results = bulk.run(queries, Engine())
    else:
        from dnsops.vantage import registry

        [run] = registry.gather({vantage: queries})
        if run.problem is not None and run.status != "timeout":
            for answers in out.values():
                answers.error = f"from {vantage.name}: {run.problem}"
            return out
        results = [o.result for o in run.observations]
    for result in results:
        provider, zone, label, k = cast(tuple[str, str, str, Key], result.query.key)
        _record(out[(provider, zone, label)], k, zone, result, expected[(provider, zone)])
    return out


def _question(k: Key, want: RRset | None) -> tuple[Key, dns.name.Name, int, Expected | None]:
    """One question, asked of every nameserver: what the API holds is the expected answer."""
    rdtype = int(dns.rdatatype.from_text(k[1]))
    expect = None
    if want is not None and all(isinstance(v, bytes) for v in want.values):
        expect = Expected(rdtype, want.ttl, tuple(sorted(cast(frozenset[bytes], want.values))))
    return k, wire.name(k[0]), rdtype, expect


def _record(
    answers: Answers, k: Key, zone: str, result: Any, expected: Mapping[Key, RRset]
) -> None:
    """File one result: served (the expected RRset or the parsed one), not served
    (NXDOMAIN, no data) or failed (no reply, an error rcode, not authoritative)."""
    if result.rcode is None:
        answers.failed[k] = result.error or "no answer"
        return
    if result.matched:
        want = expected[k]
        same = result.ttl is None or result.ttl == want.ttl
        answers.records[k] = want if same else RRset(result.ttl, want.values)
        return
    if result.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        answers.failed[k] = dns.rcode.to_text(dns.rcode.Rcode(result.rcode))  # REFUSED...
        return
    delegation = k[1] == "NS" and k[0] != zone  # a referral: NS in authority, no AA
    if not result.aa and not delegation:
        answers.failed[k] = "not authoritative (AA flag unset)"
        return
    if result.rcode == dns.rcode.NXDOMAIN:
        return
    rrset = result.rrset("authority" if delegation and not result.aa else "answer")
    if rrset is None or rrset.name != dns.name.from_text(k[0]):
        return  # no data: not served
    answers.records[k] = RRset(rrset.ttl, frozenset(convert.rdata_value(rd) for rd in rrset))
