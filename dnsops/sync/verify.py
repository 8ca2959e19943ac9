"""After an apply: ask each provider's nameservers until they serve every change.

Small on purpose: one question per (record, nameserver), repeated until the
answer matches the plan or a deadline passes. The comparison is pure
(``expectation`` and ``seen``) and tested with hand-built messages; the loop
``until_served`` does the I/O with async dnspython and bounded concurrency.

A created or updated record matches when the server answers authoritatively
with exactly the planned values and TTL; a deleted one when the server has no
record of that name and type (NXDOMAIN or NODATA).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from dnsops.sync.model import Change, Verification


@dataclass(frozen=True)
class Server:
    label: str  # "ns1.pdns.test."
    address: str
    port: int = 53

    def __str__(self) -> str:
        return f"{self.label} ({self.address})" if self.label != self.address else self.address


@dataclass(frozen=True)
class Expect:
    """What a nameserver must serve for one changed record."""

    key: str
    name: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    ttl: int | None  # None: the record must be absent
    rdatas: frozenset[dns.rdata.Rdata]


def expectation(change: Change) -> Expect | None:
    """The served state a change leads to; None if DNS can't show it (e.g. ALIAS)."""
    try:
        rdtype = dns.rdatatype.from_text(change.type)
    except dns.rdatatype.UnknownRdatatype:
        return None
    name = dns.name.from_text(change.name)
    if change.new is None:
        return Expect(change.key, name, rdtype, None, frozenset())
    try:
        rdatas = frozenset(
            dns.rdata.from_text(
                dns.rdataclass.IN, rdtype, v, origin=dns.name.root, relativize=False
            )
            for v in change.new.values
        )
    except (dns.exception.DNSException, ValueError):
        return None
    return Expect(change.key, name, rdtype, change.new.ttl, rdatas)


def seen(expect: Expect, response: dns.message.Message | None) -> tuple[bool, str]:
    """Does this answer match the expectation? And what it showed, in words."""
    if response is None:
        return False, "no answer"
    rcode = response.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return False, dns.rcode.to_text(rcode)
    if not response.flags & dns.flags.AA:
        return False, "a non-authoritative answer"
    rrset = next(
        (rr for rr in response.answer if rr.name == expect.name and rr.rdtype == expect.rdtype),
        None,
    )
    if rrset is None:
        shown = "NXDOMAIN" if rcode == dns.rcode.NXDOMAIN else "no such record"
        return expect.ttl is None, shown
    shown = f"{rrset.ttl} {', '.join(sorted(r.to_text() for r in rrset))}"
    if expect.ttl is None:
        return False, f"still {shown}"
    return rrset.ttl == expect.ttl and frozenset(rrset) == expect.rdatas, shown


async def _ask(server: Server, expect: Expect, timeout: float) -> dns.message.Message | None:
    query = dns.message.make_query(expect.name, expect.rdtype)
    query.flags &= ~dns.flags.RD
    try:
        response, _ = await dns.asyncquery.udp_with_fallback(
            query, server.address, port=server.port, timeout=timeout
        )
    except (dns.exception.DNSException, OSError):
        return None
    return response


async def until_served(
    provider: str,
    work: Sequence[tuple[Change, Sequence[Server]]],
    timeout: float = 30.0,
    interval: float = 0.5,
    concurrency: int = 64,
) -> Verification:
    """Ask each change's servers (its zone's nameservers) about it until all match
    or ``timeout`` passes."""
    pending: set[tuple[Expect, Server]] = set()
    unchecked: list[str] = []
    total = 0
    labels: list[str] = []
    for change, servers in work:
        exp = expectation(change)
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
    last: dict[tuple[Expect, Server], str] = {}
    limit = asyncio.Semaphore(concurrency)

    async def check(pair: tuple[Expect, Server]) -> None:
        async with limit:
            response = await _ask(pair[1], pair[0], timeout=min(2.0, max(0.2, timeout)))
        ok, what = seen(pair[0], response)
        last[pair] = what
        if ok:
            pending.discard(pair)

    deadline = time.monotonic() + timeout
    while pending:
        await asyncio.gather(*(check(pair) for pair in list(pending)))
        if not pending or time.monotonic() + interval > deadline:
            break
        await asyncio.sleep(interval)
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
