"""Split one zone's planned changes into batches a provider accepts, in a safe order.

A provider API takes only so much in one request (dnsops.lint.capabilities.DEFAULT_LIMITS:
PowerDNS a request body of ``webserver-max-bodysize``, Route 53 1,000 ResourceRecords and
32,000 characters of values, an RFC 2136 message 65,535 bytes). :func:`split` cuts a plan's
changes into consecutive batches, each within the limits; :class:`dnsops.octo.Target`
applies them one after another, each as an octoDNS plan of its own, so every provider is
driven through its own octoDNS ``apply`` as before.

What must hold between two batches (the zone is served while they are applied):

* Changes that must land together stay in one batch (a *unit*): every change at one owner
  name (an A replaced by a CNAME is a Delete and a Create at the same name, and a server
  refuses the CNAME while the A is there), and the apex: its NS and SOA changes with the
  address records of every in-zone name the old or the new apex NS names (BIND refuses
  an apex NS whose in-zone target has no address; the provider's own apply orders them).
* The apex unit goes first: a zone a provider creates on the first batch (PowerDNS,
  NS1) is created with its nameservers; later batches find it there.
* The rest keeps octoDNS's order (deletes, creates, updates; by name).

A unit larger than one batch (a giant apex unit) is sent change by change in the order
the provider applies it in one request: deletes first (a name's old type goes before its
new one), except the address records of a name the old apex NS names, which go after the
apex NS; the apex NS after the other creates and updates. A single change larger than a
limit goes alone: the provider, not an estimate, has the last word on it.

Pure: octoDNS change objects in, lists of them out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dnsops.config import BatchLimits

#: Route 53 splits a TXT value into quoted strings of at most 255 characters
_CHUNK = 255


@dataclass(frozen=True)
class Cost:
    """What a change (or a batch) adds to a request, as the limits count it.

    ``records`` and ``value_chars`` count an update twice (Route 53 counts an UPSERT so;
    PowerDNS may send it as a delete and a replace; RFC 2136 as a delete and adds), and
    so do the two size estimates, each an upper bound: ``body_bytes`` of PowerDNS's JSON
    RRsets, ``message_bytes`` of the RRs in an RFC 2136 message (owner names counted
    uncompressed, each value as its text plus 16 bytes: an AAAA's 16 bytes of RDATA are
    longer than its text).
    """

    changes: int = 0
    records: int = 0
    value_chars: int = 0
    body_bytes: int = 0
    message_bytes: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.changes + other.changes,
            self.records + other.records,
            self.value_chars + other.value_chars,
            self.body_bytes + other.body_bytes,
            self.message_bytes + other.message_bytes,
        )

    def within(self, limits: BatchLimits) -> bool:
        return all(
            limit is None or used <= limit
            for used, limit in (
                (self.changes, limits.changes),
                (self.records, limits.records),
                (self.value_chars, limits.value_chars),
                (self.body_bytes, limits.body_bytes),
                (self.message_bytes, limits.message_bytes),
            )
        )


def rdatas(record: Any) -> list[str]:
    """The record's values as presentation text (octoDNS's ``to_rrset``); for a type
    that cannot render them (a provider-specific type), their ``str``."""
    try:
        return [str(v) for v in record.to_rrset().rdatas]
    except Exception:  # a provider's own record type (e.g. an alias) without rdata text
        values = getattr(record, "values", None)
        if values is None:
            values = [getattr(record, "value", "")]
        return [str(v) for v in values]


def cost(change: Any) -> Cost:
    """What one octoDNS change costs a request (see :class:`Cost`)."""
    record = change.new if change.new is not None else change.existing
    values = rdatas(record)
    times = 2 if change.existing is not None and change.new is not None else 1
    owner = len(record.fqdn) + 2
    chars = sum(len(v) + 3 * (len(v) // _CHUNK + 1) for v in values)
    # {"name": "", "type": "", "ttl": N, "changetype": "REPLACE", "records": [...]},
    body = owner + len(record._type) + 80 + sum(len(json.dumps(v)) + 40 for v in values)
    # per RR: owner, type, class, TTL, RDLENGTH (10 bytes), RDATA
    wire = sum(owner + 10 + len(v) + 16 for v in values)
    return Cost(1, len(values) * times, chars * times, body * times, wire * times)


def units(changes: Sequence[Any], zone: str) -> list[list[Any]]:
    """The changes grouped into units that must land together, in the order to apply
    them (see the module's docstring)."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    def join(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    for change in changes:
        record = change.new if change.new is not None else change.existing
        find(record.name)
        if record.name == "" and record._type == "NS":
            for side in (change.existing, change.new):
                for target in _values(side):
                    inside = _relative(target, zone)
                    if inside is not None:
                        join(inside, "")
    groups: dict[str, list[Any]] = {}
    for change in changes:
        record = change.new if change.new is not None else change.existing
        groups.setdefault(find(record.name), []).append(change)
    apex = find("") if "" in parent else None
    ordered = sorted(groups.items(), key=lambda item: item[0] != apex)  # stable: apex first
    return [group for _, group in ordered]


def split(changes: Sequence[Any], zone: str, limits: BatchLimits) -> list[list[Any]]:
    """``changes`` (one zone's, in octoDNS's order) cut into consecutive batches, each
    within ``limits`` (a unit or a change over a limit: as described above)."""
    if not changes:
        return []
    batches: list[list[Any]] = []
    current: list[Any] = []
    used = Cost()

    def add(items: list[Any], weight: Cost) -> None:
        nonlocal current, used
        if current and not (used + weight).within(limits):
            batches.append(current)
            current, used = [], Cost()
        current = current + items
        used = used + weight

    for unit in units(changes, zone):
        costs = [cost(c) for c in unit]
        total = _sum(costs)
        if total.within(limits) or len(unit) == 1:
            add(unit, total)
            continue
        weights = dict(zip(map(id, unit), costs, strict=True))
        for change in _one_by_one(unit, zone):
            add([change], weights[id(change)])
    batches.append(current)
    return batches


def _one_by_one(unit: list[Any], zone: str) -> list[Any]:
    """A unit's changes in an order each may be applied alone (see the module)."""
    named: set[str] = set()
    apex_ns = []
    for change in unit:
        if change.record.name == "" and change.record._type == "NS":
            apex_ns.append(change)
            named |= {_relative(t, zone) or "" for t in _values(change.existing)}
    named.discard("")

    def rank(change: Any) -> int:
        if any(change is c for c in apex_ns):
            return 2
        if change.new is None:  # a delete
            return 3 if change.record.name in named else 0
        return 1

    return sorted(unit, key=rank)


def _sum(costs: Iterable[Cost]) -> Cost:
    total = Cost()
    for c in costs:
        total = total + c
    return total


def _values(record: Any) -> list[str]:
    if record is None:
        return []
    values = getattr(record, "values", None)
    return [str(v) for v in (values if values is not None else [])]


def _relative(name: str, zone: str) -> str | None:
    """``name`` relative to ``zone`` ('' for the apex), or None outside it."""
    name, zone = name.lower(), zone.lower()
    if name == zone:
        return ""
    if name.endswith("." + zone):
        return name[: -len(zone) - 1]
    return None
