"""The I/O-free core of a lint: rules over zone views, online plans and judgements,
suppressions, ordering. The driver feeds it; nothing here reads a file or a socket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dnsops.findings import Finding, Severity
from dnsops.lint import suppress
from dnsops.lint.policy import CdnCacheControlRule, CdnVaryRule, DanglingRule, Policy
from dnsops.lint.rules import OFFLINE, LintContext, cdn, dangling
from dnsops.lint.view import ZoneView

_PROBLEM = re.compile(r"^(?P<file>[^:\n]+?)(?::(?P<line>\d+))?: (?P<msg>.*)$", re.DOTALL)


def evaluate(policy: Policy, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    """Every offline rule of the policy over one zone. Linear in the zone's records."""
    out: list[Finding] = []
    for rule in policy.rules:
        check = OFFLINE.get(rule.kind)
        if check is not None:
            out += check(rule, zone, ctx)
    return out


def validation_findings(zone: str, problems: list[str]) -> list[Finding]:
    """octoDNS's complaints about a zone file (``file:line: message``) as findings."""
    out = []
    for text in problems:
        m = _PROBLEM.match(text)
        file, line, msg = (m["file"], m["line"], m["msg"]) if m else (None, None, text)
        out.append(
            Finding(
                id="octodns-validation",
                severity=Severity.ERROR,
                subject=zone,
                message=msg,
                zone=zone,
                file=file,
                line=int(line) if line else None,
                hint="fix the zone file; `dnsops validate` shows the same",
            )
        )
    return out


@dataclass
class OnlinePlan:
    """What the online rules of one zone need looked up, and how to judge it."""

    zone: ZoneView
    dangling: list[tuple[DanglingRule, list[dangling.Target]]] = field(default_factory=list)
    origins: list[cdn.Origin] = field(default_factory=list)
    vary: list[CdnVaryRule] = field(default_factory=list)
    cache_control: list[CdnCacheControlRule] = field(default_factory=list)

    @property
    def names(self) -> set[str]:
        return {t.name for _, found in self.dangling for t in found}

    @property
    def urls(self) -> set[str]:
        return {o.url for o in self.origins} if (self.vary or self.cache_control) else set()


def plan_online(policy: Policy, zone: ZoneView, ctx: LintContext) -> OnlinePlan:
    plan = OnlinePlan(zone)
    for rule in policy.rules:
        if isinstance(rule, DanglingRule):
            plan.dangling.append((rule, dangling.targets(rule, zone, ctx)))
        elif isinstance(rule, CdnVaryRule):
            plan.vary.append(rule)
        elif isinstance(rule, CdnCacheControlRule):
            plan.cache_control.append(rule)
    if plan.vary or plan.cache_control:
        plan.origins = cdn.origins(policy.cdn, zone)
    return plan


def judge_online(
    plan: OnlinePlan,
    outcomes: dict[str, dangling.Outcome],
    responses: dict[str, cdn.Response],
) -> list[Finding]:
    out: list[Finding] = []
    for rule, found in plan.dangling:
        out += dangling.judge(rule, plan.zone, found, outcomes)
    for origin in plan.origins:
        response = responses.get(origin.url)
        if response is None:
            continue
        for vary_rule in plan.vary:
            out += cdn.judge_vary(vary_rule, plan.zone, origin, response)
        for cc_rule in plan.cache_control:
            out += cdn.judge_cache_control(cc_rule, plan.zone, origin, response)
    return out


def finish(
    findings: list[Finding], zone: ZoneView, policy: Policy, ran: set[str]
) -> tuple[list[Finding], list[Finding]]:
    """Suppressions applied (and checked): the kept findings and the suppressed ones."""
    ignores, problems = suppress.collect(zone, policy.ids)
    kept, suppressed, stale = suppress.apply(findings, zone, ignores, ran)
    return kept + problems + stale, suppressed


def ordered(findings: list[Finding]) -> list[Finding]:
    """One finding per (rule, record, message), in zone and file order."""
    unique: dict[tuple[object, ...], Finding] = {}
    for f in findings:
        unique.setdefault((f.id, f.zone, f.subject, f.file, f.line, f.message), f)
    return sorted(
        unique.values(),
        key=lambda f: (f.zone or "", f.file or "", f.line or 0, f.id, f.subject, f.message),
    )
