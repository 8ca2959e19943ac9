"""Plan both providers concurrently from zones loaded once; apply with octoDNS's guards."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from octodns.provider.plan import Plan
from octodns.zone import Zone


@dataclass
class ProviderPlan:
    provider: str
    zone: str
    plan: Plan | None  # None: nothing to change

    @property
    def changes(self) -> list[Any]:
        return list(self.plan.changes) if self.plan else []


@dataclass
class PlanSet:
    plans: list[ProviderPlan] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(p.changes for p in self.plans)

    def for_provider(self, provider: str) -> list[ProviderPlan]:
        return [p for p in self.plans if p.provider == provider]


def plan(zones: dict[str, Zone], providers: dict[str, Any]) -> PlanSet:
    """Plan every zone against every provider; providers are planned concurrently."""

    def one(pname: str, zone: Zone) -> ProviderPlan:
        return ProviderPlan(pname, zone.name, providers[pname].plan(zone))

    jobs = [(p, z) for z in zones.values() for p in providers]
    with ThreadPoolExecutor(max_workers=max(1, len(providers))) as pool:
        results = list(pool.map(lambda job: one(*job), jobs))
    return PlanSet(results)


def apply(planset: PlanSet, providers: dict[str, Any], force: bool = False) -> dict[str, int]:
    """Apply each provider's plans (octoDNS guards first). Returns changes applied per provider."""
    for p in planset.plans:
        if p.plan is not None and not force:
            p.plan.raise_if_unsafe()
    applied: dict[str, int] = {}
    for p in planset.plans:
        if p.plan is not None:
            providers[p.provider].apply(p.plan)
        applied[p.provider] = applied.get(p.provider, 0) + len(p.changes)
    return applied
