"""One finding per root cause. No I/O.

A server that does not answer, answers without authority, or breaks on EDNS makes
every later question to it fail as well: 13 records "not served", its TCP, its
NXDOMAIN. A provider none of whose servers answer, a zone no server answers. What
such a root cause explains is folded under it (``Outcome.children``; JSON keeps
them as children) instead of being reported beside it, each with a hint that
cannot help (``sync --doit`` does not fix a server that is down).

Roots, most general first: ``zone-reachable`` (the zone), ``provider-down`` (one
provider of the zone), then one server (``ns-udp``, ``ns-aa``, ``ns-edns-breaks``).
An outcome goes under the most general root that explains it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from dnsops.health.checks import CATALOGUE
from dnsops.health.model import Outcome

ZONE_ROOT = "zone-reachable"
PROVIDER_ROOT = "provider-down"
SERVER_ROOTS = ("ns-udp", "ns-aa", "ns-edns-breaks")
ROOTS = (ZONE_ROOT, PROVIDER_ROOT, *SERVER_ROOTS)
# what a zone nobody answers for explains: everything asked of its servers, and of the
# resolvers (which ask those servers); not what the parent says about the delegation
_UNDER_ZONE = frozenset({"nameserver", "record", "vantage"})


def _served_addresses(o: Outcome) -> set[str]:
    """The nameserver addresses a record outcome names (rrset-served's ``served``)."""
    served = (o.data or {}).get("served") or []
    return {s["address"] for s in served if isinstance(s, dict) and "address" in s}


def fold(outcomes: Iterable[Outcome]) -> list[Outcome]:
    """The outcomes with those a root cause explains folded under it, in their order."""
    items = list(outcomes)
    zone_roots: dict[str | None, int] = {}
    provider_roots: dict[tuple[str | None, str | None], int] = {}
    server_roots: dict[tuple[str | None, str], int] = {}
    for i, o in enumerate(items):
        if o.check == ZONE_ROOT:
            zone_roots.setdefault(o.zone, i)
        elif o.check == PROVIDER_ROOT:
            provider_roots.setdefault((o.zone, o.provider), i)
    for check in SERVER_ROOTS:  # in this order: a down server's ns-aa is not its root
        for i, o in enumerate(items):
            if o.check == check and o.address is not None:
                server_roots.setdefault((o.zone, o.address), i)
    if not (zone_roots or provider_roots or server_roots):
        return items

    def root_of(i: int, o: Outcome) -> int | None:
        scope = CATALOGUE[o.check].scope if o.check in CATALOGUE else ""
        z = zone_roots.get(o.zone)
        if z is not None and z != i and (scope in _UNDER_ZONE or o.check == PROVIDER_ROOT):
            return z
        p = provider_roots.get((o.zone, o.provider))
        if p is not None and p != i and (scope in ("nameserver", "record")):
            return p
        if scope == "nameserver" and o.address is not None:
            s = server_roots.get((o.zone, o.address))
            return s if s is not None and s != i else None
        if o.check == "rrset-served":
            addresses = _served_addresses(o)
            roots = [server_roots.get((o.zone, a)) for a in sorted(addresses)]
            if addresses and all(r is not None for r in roots):
                return min(r for r in roots if r is not None)
        return None

    parent: dict[int, int] = {}
    for i, o in enumerate(items):
        r = root_of(i, o)
        if r is not None:
            parent[i] = r

    # a root folded under a more general one takes its children along
    def top(i: int) -> int:
        seen = set()
        while i in parent and i not in seen:
            seen.add(i)
            i = parent[i]
        return i

    children: dict[int, list[Outcome]] = {}
    for i, o in enumerate(items):
        if i in parent:
            children.setdefault(top(i), []).append(o)
    return [
        dataclasses.replace(o, children=tuple(children[i])) if i in children else o
        for i, o in enumerate(items)
        if i not in parent
    ]
