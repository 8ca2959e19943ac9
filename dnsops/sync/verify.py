"""After an apply: ask each provider's nameservers until they serve every change.

One question per (record, nameserver) through the probe engine, repeated until the
answer is what the zone's expectation (dnsops.expect) says it must be, or a deadline
passes:

* a created or updated record answered by the zone itself: an authoritative answer
  with exactly the planned values and TTL;
* a delegation (the NS of a sub-zone): a referral, i.e. that NS set in the authority
  section of a reply without AA;
* a deleted record: no record of that name and type (NXDOMAIN, or NODATA with AA);
* glue, a record below a delegation, a dynamic record served from pools, a type DNS
  cannot show (ALIAS): not checkable by one question, listed as such.

The judging is pure (:func:`judged`) and tested with hand-built messages.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dnsops.expect import ANSWER, REFERRAL
from dnsops.probe import Engine, Query, Result, Target, wire
from dnsops.probe.model import Expected
from dnsops.sync.model import Change, Verification


@dataclass(frozen=True)
class Server:
    label: str  # "ns1.pdns.test."
    address: str
    port: int = 53

    def __str__(self) -> str:
        return f"{self.label} ({self.address})" if self.label != self.address else self.address

    @property
    def target(self) -> Target:
        return Target(self.address, self.port, self.label)


@dataclass(frozen=True)
class Expect:
    """What a nameserver must serve for one changed record."""

    key: str
    name: dns.name.Name
    rdtype: int
    want: Expected | None  # None: the record must be absent
    kind: str = ANSWER  # answer | referral


def expectation(change: Change, kind: str = ANSWER) -> Expect | None:
    """The served state a change leads to; None when one question cannot show it.

    ``kind`` is how the zone serves the record (dnsops.expect): only ``answer`` and
    ``referral`` are checkable; a deletion is checked as absent either way.
    """
    try:
        rdtype = int(dns.rdatatype.from_text(change.type))
    except dns.rdatatype.UnknownRdatatype:
        return None
    name = dns.name.from_text(change.name)
    if change.new is None:
        return Expect(change.key, name, rdtype, None) if kind in (ANSWER, REFERRAL) else None
    if kind not in (ANSWER, REFERRAL):
        return None
    section = "authority" if kind == REFERRAL else "answer"
    try:
        want = wire.expected(rdtype, change.new.ttl, change.new.values, section=section)
    except (dns.exception.DNSException, ValueError):
        return None
    return Expect(change.key, name, rdtype, want, kind)


def judged(expect: Expect, result: Result) -> tuple[bool, str]:
    """Does this reply show the expected state? And what it showed, in words."""
    if not result.answered:
        return False, result.error or "no answer"
    rcode = result.rcode
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return False, result.rcode_text
    if expect.want is None:
        return _absent(expect, result)
    if expect.kind == REFERRAL:
        if result.aa:
            return False, "an authoritative answer, not a referral"
    elif not result.aa:
        return False, "a non-authoritative answer"
    if result.matched:
        return True, "as planned"
    section = expect.want.section
    rrset = result.rrset(section)
    if rrset is None:
        return False, "NXDOMAIN" if rcode == dns.rcode.NXDOMAIN else "no such record"
    return False, f"{rrset.ttl} {', '.join(sorted(r.to_text() for r in rrset))}"


def _absent(expect: Expect, result: Result) -> tuple[bool, str]:
    msg = result.message
    if msg is None:
        return False, result.error or "an unreadable reply"
    if not result.aa:
        return False, "a non-authoritative answer"
    rrset = next(
        (rr for rr in msg.answer if rr.name == expect.name and rr.rdtype == expect.rdtype), None
    )
    if rrset is None:
        return True, "NXDOMAIN" if result.rcode == dns.rcode.NXDOMAIN else "no such record"
    return False, f"still {rrset.ttl} {', '.join(sorted(r.to_text() for r in rrset))}"


async def until_served(
    provider: str,
    work: Sequence[tuple[Change, Sequence[Server], str]],
    timeout: float = 30.0,
    interval: float = 0.5,
    concurrency: int = 64,
) -> Verification:
    """Ask each change's servers (its zone's nameservers) about it, as its zone's
    expectation says it is served (``answer`` or ``referral``), until all match or
    ``timeout`` passes."""
    pending: set[tuple[Expect, Server]] = set()
    unchecked: list[str] = []
    total = 0
    labels: list[str] = []
    for change, servers, kind in work:
        exp = expectation(change, kind)
        if exp is None:
            unchecked.append(change.key)
            continue
        total += 1
        pending |= {(exp, s) for s in servers}
        labels += [str(s) for s in servers if str(s) not in labels]
    if not labels:
        return Verification(
            provider=provider,
            servers=[],
            verified=0,
            total=total,
            unchecked=unchecked,
            skipped="no nameserver known for this provider",
        )
    engine = Engine(
        concurrency=concurrency, timeout=min(2.0, max(0.2, timeout)), retries=0, qps=None
    )
    last: dict[tuple[Expect, Server], str] = {}
    deadline = time.monotonic() + timeout
    while pending:
        asked = sorted(pending, key=lambda p: (p[0].key, str(p[1])))
        queries = [Query(s.target, e.name, e.rdtype, expect=e.want) for e, s in asked]
        for pair, result in zip(asked, await engine.run(queries), strict=True):
            ok, what = judged(pair[0], result)
            last[pair] = what
            if ok:
                pending.discard(pair)
        if not pending or time.monotonic() + interval > deadline:
            break
        await _sleep(interval)
    bad = {e for e, _ in pending}
    return Verification(
        provider=provider,
        servers=labels,
        verified=total - len(bad),
        total=total,
        unchecked=unchecked,
        pending=sorted(
            f"{e.key}: {s} serves {last.get((e, s), 'nothing yet')}" for e, s in pending
        ),
    )


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
