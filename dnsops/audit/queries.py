"""Per-record queries for the data plane, through the shared probe engine (dnsops.probe)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dnsops.audit.model import Key, RRset, Served

if TYPE_CHECKING:
    from dnsops.audit.gather import Nameserver


@dataclass
class Answers:
    """What one nameserver answered: an RRset per key it serves, a reason per key it
    could not answer; a key in neither is not served (NXDOMAIN or no data)."""

    records: dict[Key, RRset] = field(default_factory=dict)
    failed: dict[Key, str] = field(default_factory=dict)
    error: str | None = None

    def merge(self, other: Answers) -> Answers:
        return Answers(
            {**self.records, **other.records},
            {**self.failed, **other.failed},
            self.error or other.error,
        )

    def served(self, label: str, asked: frozenset[Key]) -> Served:
        if self.error is None and asked and len(self.failed) == len(asked):
            reasons = sorted(set(self.failed.values()))
            self.error = f"no answer to any of {len(asked)} queries ({'; '.join(reasons[:3])})"
        if self.error is not None:
            return Served(label, "queries", asked=asked, error=self.error)
        return Served(label, "queries", self.records, asked=asked, failed=self.failed)


async def ask(nameservers: list[Nameserver], keys: Iterable[Key]) -> dict[str, Answers]:
    """Ask every nameserver for every key."""
    keys = list(keys)
    return {
        ns.label: Answers(error="per-record queries need the probe engine (dnsops.probe)")
        for ns in nameservers
    }
