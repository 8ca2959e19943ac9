"""Dual-provider rules: both providers can serve every record, and the apex NS set
names nameservers of both (else losing one provider still takes the zone down).
"""

from __future__ import annotations

from dnsops.expect import OCCLUDED, kinds
from dnsops.findings import Finding, Severity
from dnsops.lint.capabilities import ProviderCaps, problems
from dnsops.lint.match import glob_regex
from dnsops.lint.policy import ApexNsRule, OccludedRule, ProviderSupportRule
from dnsops.lint.rules.base import LintContext, finding
from dnsops.lint.view import APEX, ZoneView


def check_provider_support(
    rule: ProviderSupportRule, zone: ZoneView, ctx: LintContext
) -> list[Finding]:
    out = []
    unknown_reported: set[tuple[str, str]] = set()
    skip_root_ns = zone.name in ctx.root_ns_ignored
    for view in zone.records:
        root_ns = view.type == "NS" and view.name == APEX
        if root_ns and skip_root_ns:
            continue
        for caps in ctx.providers:
            for problem in problems(caps, view.record, root_ns):
                severity = None
                if not problem.known:
                    # say it once per provider and type, as a notice: not a violation
                    key = (caps.name, view.type if caps.supports is None else problem.detail)
                    if key in unknown_reported:
                        continue
                    unknown_reported.add(key)
                    severity = min(rule.severity, Severity.NOTICE)
                elif problem.fallback:
                    # octoDNS serves a simpler form: the providers may answer differently
                    severity = min(rule.severity, Severity.WARNING)
                out.append(
                    finding(
                        rule,
                        zone,
                        view,
                        severity=severity,
                        detail=problem.detail,
                        provider=caps.name,
                        provider_class=caps.class_path,
                        data={"provider": caps.name, "class": caps.class_path},
                    )
                )
    return out


def check_occluded(rule: OccludedRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    """Records no server will ever answer: below a delegation of the zone."""
    if not zone.records:
        return []
    octo_zone = zone.records[0].record.zone
    cuts, how = kinds(octo_zone)
    out = []
    for view in zone.records:
        if how.get((view.fqdn, view.type)) != OCCLUDED:
            continue
        cut = next(c for c in sorted(cuts, key=len, reverse=True) if _below(view.fqdn, c))
        out.append(
            finding(
                rule,
                zone,
                view,
                detail=f"{view.fqdn} {view.type} is at or below the delegation {cut}: "
                f"{cut}'s own servers answer there, so no server will ever answer this record",
                delegation=cut,
                data={"delegation": cut},
            )
        )
    return out


def _below(fqdn: str, cut: str) -> bool:
    return fqdn == cut or fqdn.endswith("." + cut)


def nameserver_patterns(rule: ApexNsRule, caps: ProviderCaps, ctx: LintContext) -> list[str]:
    """Globs of the nameserver names of one provider (by its name, else its class)."""
    return list(rule.nameservers.get(caps.name) or rule.nameservers.get(caps.class_path) or [])


def check_apex_ns(rule: ApexNsRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    """Nothing to check where a processor leaves the apex NS to the providers."""
    if zone.name in ctx.root_ns_ignored:
        return []
    apex_ns = [v for v in zone.apex if v.type == "NS"]
    if not apex_ns:
        names = " and ".join(c.name for c in ctx.providers)
        return [
            finding(
                rule,
                zone,
                None,
                rtype="NS",
                detail=f"the zone declares no apex NS record: list the nameservers of {names}",
            )
        ]
    view = apex_ns[0]
    values = [v.lower() for v in view.values]
    out = []
    owned: set[str] = set()
    for caps in ctx.providers:
        patterns = nameserver_patterns(rule, caps, ctx)
        if not patterns:
            out.append(
                finding(
                    rule,
                    zone,
                    view,
                    severity=min(rule.severity, Severity.WARNING),
                    detail=(
                        f"no nameserver names are known for provider {caps.name} "
                        f"({caps.class_path})"
                    ),
                    hint=(
                        f"declare them in rule {rule.id!r}: nameservers: "
                        f"{{{caps.name}: ['ns*.example.net.']}}"
                    ),
                    provider=caps.name,
                )
            )
            continue
        regex = glob_regex([p if p.endswith((".", "*")) else p + "." for p in patterns])
        mine = [ns for ns in values if regex.match(ns)]
        owned.update(mine)
        if not mine:
            out.append(
                finding(
                    rule,
                    zone,
                    view,
                    detail=f"the apex NS set names no nameserver of {caps.name}",
                    provider=caps.name,
                    data={"provider": caps.name, "patterns": patterns},
                )
            )
    if not rule.allow_others and all(nameserver_patterns(rule, c, ctx) for c in ctx.providers):
        for ns in values:
            if ns not in owned:
                out.append(
                    finding(
                        rule,
                        zone,
                        view,
                        detail=f"apex NS {ns} belongs to neither provider",
                        data={"nameserver": ns},
                    )
                )
    return out
