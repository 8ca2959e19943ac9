"""Run a lint: load what the core needs, do the online I/O, hand back a LintReport."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dnsops.config import Environment
from dnsops.findings import Finding, Severity, failing
from dnsops.lint import core, online
from dnsops.lint.policy import Policy, load_policies
from dnsops.lint.rules import LintContext
from dnsops.lint.view import ZoneView
from dnsops.zones import zone_file

if TYPE_CHECKING:
    from dnsops.env import Env

Progress = Callable[[str], None]


@dataclass
class LintReport:
    environment: str
    zones: list[str]
    online: bool
    policy_files: list[str]
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Any error-level finding: ``dnsops lint`` exits 1."""
        return failing(self.findings)

    def counts(self) -> dict[str, int]:
        seen = Counter(str(f.severity) for f in self.findings)
        return {str(s): seen.get(str(s), 0) for s in sorted(Severity, reverse=True)}

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{n} {name}" for name, n in counts.items() if n]
        text = ", ".join(parts) if parts else "no findings"
        if self.suppressed:
            text += f"; {len(self.suppressed)} suppressed"
        return f"{len(self.zones)} zone(s): {text}"

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "zones": self.zones,
            "online": self.online,
            "policies": self.policy_files,
            "failed": self.failed,
            "counts": self.counts(),
            "findings": [f.to_json() for f in self.findings],
            "suppressed": [f.to_json() for f in self.suppressed],
        }


def context(env: Env, managed: set[str]) -> LintContext:
    return LintContext(
        environment=env.name,
        providers=tuple(env.capabilities[p] for p in env.providers),
        managed_zones=frozenset(managed),
        root_ns_ignored=frozenset(z for z in managed if env.root_ns_ignored(z)),
    )


def run(
    env: Env,
    zone: str | Sequence[str] | None = None,
    *,
    online_checks: bool = False,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> LintReport:
    """Lint the environment's zones (or one) against the project's policies.

    :raises ConfigError: a policy file, dnsops.yaml or the octoDNS config is wrong.
    """
    say = progress or (lambda _msg: None)
    policy = policy or load_policies(env.project.policies_dir)
    managed = env.zone_names
    names = env.pick(zone)
    ctx = context(env, set(managed))
    env_name = env.name
    report = LintReport(env_name, list(names), online_checks, list(policy.files))
    ran = {r.id for r in policy.rules if online_checks or not r.online}
    views: list[tuple[ZoneView, list[Finding]]] = []
    loaded = env.loaded(names, say)
    for name in names:
        zone_obj, problems = loaded[name]
        if problems:
            report.findings += core.validation_findings(name, problems)
            continue
        view = ZoneView.build(zone_obj, zone_file(env.source, name))
        say(f"linting {name} ({len(view.records)} records)…")  # zone.records copies a set
        views.append((view, core.evaluate(policy, view, ctx)))
    if online_checks and views:
        views = _online(policy, views, ctx, env.config, say)
    for view, found in views:
        kept, suppressed = core.finish(found, view, policy, ran)
        report.findings += kept
        report.suppressed += suppressed
    report.findings = core.ordered(report.findings)
    report.suppressed = core.ordered(report.suppressed)
    return report


def _online(
    policy: Policy,
    views: list[tuple[ZoneView, list[Finding]]],
    ctx: LintContext,
    env: Environment,
    say: Progress,
) -> list[tuple[ZoneView, list[Finding]]]:
    plans = [core.plan_online(policy, view, ctx) for view, _ in views]
    names = set().union(*(p.names for p in plans))
    urls = set().union(*(p.urls for p in plans))
    say(f"online: resolving {len(names)} target(s), fetching {len(urls)} origin(s)…")

    async def gather() -> tuple[dict[str, Any], dict[str, Any]]:
        resolver = online.make_resolver(env.resolvers)
        return await asyncio.gather(online.resolve_all(names, resolver), online.fetch_all(urls))

    outcomes, responses = asyncio.run(gather())
    return [
        (view, found + core.judge_online(plan, outcomes, responses))
        for (view, found), plan in zip(views, plans, strict=True)
    ]
