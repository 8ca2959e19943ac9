"""The sync driver: load an environment once, plan it, apply, read back, verify.

Composes the pure parts (models, saved-plan checks) with the I/O ones
(octoDNS providers, DNS queries). Prints nothing: progress goes through a
callback, results come back as models for the renderers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from octodns.zone import Zone

from dnsops.env import Env
from dnsops.errors import ConfigError
from dnsops.expect import ANSWER, OCCLUDED, ZoneExpectation, enclosing_cut
from dnsops.sync import core, saved
from dnsops.sync.model import (
    Change,
    PlanSet,
    ProviderOutcome,
    SyncResult,
    Verification,
    Withheld,
)

if TYPE_CHECKING:  # verifying (asyncio, the probe engine) is loaded by a sync only
    from dnsops.sync.verify import Server

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


@dataclass
class Target:
    """Everything one environment's plan needs, read from its environment model."""

    model: Env
    zones: dict[str, Zone]
    only: str | None = None  # --provider: this one of the environment's providers

    @property
    def env_name(self) -> str:
        return self.model.name

    @property
    def names(self) -> list[str]:
        """The providers this run works on (both, or the one of --provider)."""
        return [self.only] if self.only else list(self.model.providers)

    @property
    def providers(self) -> dict[str, Any]:
        targets = self.model.targets
        return {self.only: targets[self.only]} if self.only else targets

    @property
    def redact(self) -> Callable[[str], str]:
        return self.model.redact

    def plan(
        self, progress: Progress = _quiet, for_apply: bool = True, only: str | None = None
    ) -> core.Planned:
        """Both providers' plans (``for_apply=False``: to show or save, not to apply);
        ``only``: one provider's."""
        if not self.zones:
            providers: dict[str, Any] = {}
        else:
            providers = self.providers if only is None else {only: self.providers[only]}
        return plan(self.model, self.zones, providers, progress=progress, for_apply=for_apply)


def plan(
    model: Env,
    zones: dict[str, Zone],
    providers: dict[str, Any],
    *,
    progress: Progress = _quiet,
    for_apply: bool = True,
) -> core.Planned:
    """Plan ``zones`` on ``providers``, each given the zones as the environment model
    expects it to hold them (dnsops.expect); what a provider will not hold is listed
    with the plan. ``zones`` may be git's or a drill's changed copy."""
    expected = {name: model.expectation_of(zone) for name, zone in zones.items()}
    return core.plan(
        zones,
        providers,
        deadline=core.Deadline.after(model.config.provider_api.phases.plan),
        environment=model.name,
        # no provider asked (no zone): no secret read, none to hide
        redact=model.redact if providers else str,
        progress=progress,
        for_apply=for_apply,
        desired=lambda p, zone: expected[zone.name].providers[p].holds,
        withheld=[
            Withheld(
                provider=r.provider,
                zone=z,
                name=r.fqdn,
                type=r.type,
                reason=r.reason,
                acknowledged=r.acknowledged,
                source=f"{r.file}:{r.line}" if r.file else None,
            )
            for z, e in sorted(expected.items())
            for r in e.refusals()
            if r.provider in providers
        ],
    )


def load(env: Env, zone: str | Sequence[str] | None = None, provider: str | None = None) -> Target:
    """The environment's zones (validated) and its two octoDNS providers (or the one
    named by ``provider``).

    :raises ZoneError, ConfigError: the zones or the octoDNS config are invalid, or the
        environment has no such provider.
    """
    if provider is not None and provider not in env.providers:
        raise ConfigError(
            f"--provider {provider!r}: environment {env.name} has {', '.join(env.providers)}"
        )
    zones = env.zones(zone)
    if zones:  # no zone (--changed-since found none): nothing to ask, no credential needed
        env.targets  # noqa: B018 (instantiate the providers now: a config error stops here)
    return Target(env, zones, only=provider)


def check_saved(target: Target, plan_file: PlanSet, fresh: core.Planned) -> None:
    """Refuse to apply a saved plan when anything moved since it was computed.

    :raises saved.StalePlanError: naming every record that moved and where.
    """
    if fresh.failed:
        raise saved.SavedPlanError(
            "cannot check the saved plan against the providers: "
            + "; ".join(f"{p}: {e}" for p, e in fresh.failed.items())
        )
    lines = saved.moved(plan_file, fresh.doc)
    if lines:
        raise saved.StalePlanError(
            "the saved plan no longer matches what it was computed from:\n  " + "\n  ".join(lines),
            hint="compute and review a new plan: `dnsops plan --out FILE`",
        )
    if plan_file.checksum != fresh.doc.checksum:
        raise saved.StalePlanError(
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
    counts: core.Counts | None = None,
) -> SyncResult:
    """Apply (after octoDNS's guards), read back failed providers, verify the others.
    ``counts``: each provider's progress, zone by zone (``core.apply``).

    :raises core.UnsafePlanError: the guards refuse and ``force`` is False.
    """
    core.guard(planned, force)
    if planned.has_changes:
        progress("applying to " + ", ".join(n for n in target.providers if n not in planned.failed))
    applied = {
        a.provider: a
        for a in core.apply(
            planned,
            target.providers,
            True,
            target.redact,
            progress=progress,
            counts=counts,
            deadline=core.Deadline.after(target.model.config.provider_api.phases.apply),
        )
    }
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
                batches=result.batches if result.batches > len(result.zones) else 0,
            )
            continue
        progress(f"{name}: apply failed, reading its state back")
        outcomes[name] = _read_back(target, name, result)
    changed: dict[str, list[tuple[Change, list[Server], str]]] = {}
    unknown: dict[str, list[str]] = {}
    for name in applied:
        for p in planned.doc.for_provider(name):
            if p.zone not in applied[name].zones or not p.changes:
                continue
            servers, why = _servers(target, name, p.zone)
            if why:
                unknown.setdefault(name, []).append(why)
            served = target.model.expectation(p.zone)
            changed.setdefault(name, []).extend(
                (c, servers, served_as(served, name, c.name, c.type)) for c in p.changes
            )
    if changed:
        progress(f"asking the nameservers of {', '.join(changed)} (up to {verify_timeout:.0f} s)")
        import asyncio

        checks = asyncio.run(_verify_all(changed, verify_timeout))
        for name, verification in checks.items():
            if verification.skipped and unknown.get(name):
                verification = verification.model_copy(update={"skipped": "; ".join(unknown[name])})
            outcomes[name] = outcomes[name].model_copy(update={"verification": verification})
    return SyncResult(
        environment=target.env_name, outcomes=[outcomes[n] for n in planned.doc.providers]
    )


def _read_back(target: Target, name: str, result: core.Applied) -> ProviderOutcome:
    """Plan the failed provider again: how far from the zones is it now?"""
    again = target.plan(only=name)
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


def served_as(expected: ZoneExpectation, provider: str, name: str, rtype: str) -> str:
    """How the provider's nameservers serve a changed record (dnsops.expect); a deleted
    one by where it was: below a delegation that stays, nobody answers for it."""
    found = expected.providers[provider].answer(name, rtype)
    if found is not None:
        return found.kind
    cut = enclosing_cut(name, expected.cuts)
    return ANSWER if cut is None else OCCLUDED


async def _verify_all(
    changed: dict[str, list[tuple[Change, list[Server], str]]], timeout: float
) -> dict[str, Verification]:
    import asyncio

    from dnsops.sync.verify import until_served

    names = list(changed)
    results = await asyncio.gather(*(until_served(n, changed[n], timeout=timeout) for n in names))
    return dict(zip(names, results, strict=True))


def _servers(target: Target, provider: str, zone: str) -> tuple[list[Server], str | None]:
    """The provider's nameservers for the zone, from the environment model; with none,
    why (what discovery found wrong)."""
    from dnsops.sync.verify import Server

    found = target.model.zone_facts(zone).providers[provider]
    servers = [Server(s.name, s.address, s.port) for s in found.servers]
    if servers:
        return servers, None
    why = "; ".join(found.problems) or f"{provider} names none"
    return [], f"no nameserver known for {zone} ({why})"
