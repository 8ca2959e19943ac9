"""The sync driver: load an environment once, plan it, apply, read back, verify.

Composes the pure parts (models, saved-plan checks) with the I/O ones
(octoDNS providers, DNS queries). Prints nothing: progress goes through a
callback, results come back as models for the renderers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from octodns.zone import Zone

from dnsops import octo
from dnsops.config import Environment, Project
from dnsops.sync import core, saved
from dnsops.sync.model import Change, PlanSet, ProviderOutcome, SyncResult, Verification
from dnsops.sync.verify import Server, resolve_servers, until_served
from dnsops.zones import load_zones

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


@dataclass
class Target:
    """Everything one environment's plan needs, loaded once."""

    project: Project
    env_name: str
    env: Environment
    zones: dict[str, Zone]
    providers: dict[str, Any]
    redact: Callable[[str], str]

    def plan(self, progress: Progress = _quiet, for_apply: bool = True) -> core.Planned:
        """Both providers' plans (``for_apply=False``: to show or save, not to apply)."""
        return core.plan(
            self.zones,
            self.providers,
            environment=self.env_name,
            redact=self.redact,
            progress=progress,
            for_apply=for_apply,
        )


def load(project: Project, env_name: str | None, zone: str | None = None) -> Target:
    """Zones (once, validated) and the two octoDNS providers of the environment.

    :raises ZoneError, ConfigError: the zones or the octoDNS config are invalid.
    """
    name, env = project.environment(env_name)
    zones = load_zones(project, env, zone)
    providers = octo.targets(project, env)
    redact = octo.redactor(octo.secret_values(project, env))
    return Target(project, name, env, zones, providers, redact)


def check_saved(target: Target, plan_file: PlanSet, fresh: core.Planned) -> None:
    """Refuse to apply a saved plan when anything moved since it was computed.

    :raises saved.SavedPlanError: naming every record that moved and where.
    """
    if fresh.failed:
        raise saved.SavedPlanError(
            "cannot check the saved plan against the providers: "
            + "; ".join(f"{p}: {e}" for p, e in fresh.failed.items())
        )
    lines = saved.moved(plan_file, fresh.doc)
    if lines:
        raise saved.SavedPlanError(
            "the saved plan no longer matches what it was computed from:\n  " + "\n  ".join(lines),
            hint="compute and review a new plan: `dnsops plan --out FILE`",
        )
    if plan_file.checksum != fresh.doc.checksum:
        raise saved.SavedPlanError(
            f"the plan computed now differs from the saved one (octoDNS plan checksum "
            f"{fresh.doc.checksum[:12]} != {plan_file.checksum[:12]}) although no record moved",
            hint="compute and review a new plan: `dnsops plan --out FILE`",
        )


def execute(
    target: Target,
    planned: core.Planned,
    *,
    force: bool = False,
    verify_timeout: float = 30.0,
    progress: Progress = _quiet,
) -> SyncResult:
    """Apply (after octoDNS's guards), read back failed providers, verify the others.

    :raises core.UnsafePlanError: the guards refuse and ``force`` is False.
    """
    core.guard(planned, force)
    if planned.has_changes:
        progress("applying to " + ", ".join(n for n in target.providers if n not in planned.failed))
    applied = {a.provider: a for a in core.apply(planned, target.providers, True, target.redact)}
    outcomes: dict[str, ProviderOutcome] = {}
    for name in planned.doc.providers:
        if name in planned.failed:
            outcomes[name] = ProviderOutcome(
                provider=name, status="not-planned", error=planned.failed[name]
            )
            continue
        result = applied[name]
        if result.error is None:
            outcomes[name] = ProviderOutcome(
                provider=name,
                status="applied" if result.changes else "in-sync",
                applied=result.changes,
            )
            continue
        progress(f"{name}: apply failed, reading its state back")
        outcomes[name] = _read_back(target, name, result)
    changed = {
        name: [
            c
            for p in planned.doc.for_provider(name)
            if p.zone in applied[name].zones
            for c in p.changes
        ]
        for name in applied
    }
    changed = {n: c for n, c in changed.items() if c}
    if changed:
        progress(f"asking the nameservers of {', '.join(changed)} (up to {verify_timeout:.0f} s)")
        checks = asyncio.run(_verify_all(target, changed, verify_timeout))
        for name, verification in checks.items():
            outcomes[name] = outcomes[name].model_copy(update={"verification": verification})
    return SyncResult(
        environment=target.env_name, outcomes=[outcomes[n] for n in planned.doc.providers]
    )


def _read_back(target: Target, name: str, result: core.Applied) -> ProviderOutcome:
    """Plan the failed provider again: how far from the zones is it now?"""
    again = core.plan(
        target.zones,
        {name: target.providers[name]},
        environment=target.env_name,
        redact=target.redact,
    )
    pending: int | None = None
    listed: list[str] = []
    if not again.failed:
        changes = [c for p in again.doc.plans for c in p.changes]
        pending = len(changes)
        listed = [f"{c.action} {c.key}" for c in changes]
    return ProviderOutcome(
        provider=name,
        status="failed",
        applied=result.changes,
        error=result.error,
        failed_zone=result.failed_zone,
        pending=pending,
        pending_changes=listed,
    )


async def _verify_all(
    target: Target, changed: dict[str, list[Change]], timeout: float
) -> dict[str, Verification]:
    names = list(changed)
    found = await asyncio.gather(*(_servers(target, n) for n in names))
    servers = dict(zip(names, found, strict=True))
    results = await asyncio.gather(
        *(until_served(n, changed[n], servers[n][0], timeout=timeout) for n in names)
    )
    out = {}
    for name, verification in zip(names, results, strict=True):
        reason = servers[name][1]
        if verification.skipped and reason:
            verification = verification.model_copy(update={"skipped": reason})
        out[name] = verification
    return out


async def _servers(target: Target, provider: str) -> tuple[list[Server], str | None]:
    """A provider's nameservers: a lab's from dnsops.yaml's lab section, others from the
    environment's ``nameservers`` (addresses or host names). With none, why."""
    if target.env.lab and provider in target.project.lab.providers:
        lab = target.project.lab.providers[provider]
        return [Server(ns, addr) for ns, addr in lab.nameservers.items()], None
    configured = target.env.nameservers.get(provider, [])
    if not configured:
        return [], (
            f"no nameservers configured for it (dnsops.yaml: "
            f"environments.{target.env_name}.nameservers.{provider})"
        )
    servers, problems = await resolve_servers(configured)
    return servers, "; ".join(problems) or None
