"""Declarative rules: what must never be in a zone (forbid) and what must (require)."""

from __future__ import annotations

from dnsops.findings import Finding
from dnsops.lint.match import Match
from dnsops.lint.policy import ForbidRule, RequireRule
from dnsops.lint.rules.base import LintContext, finding
from dnsops.lint.view import ZoneView


def check_forbid(rule: ForbidRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    unless = rule.unless
    if unless is not None and unless.applies_to_zone(zone.name):
        excluded = unless.tester()
        return [finding(rule, zone, v) for v in rule.match.select(zone) if not excluded(v)]
    return [finding(rule, zone, v) for v in rule.match.select(zone)]


def check_require(rule: RequireRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    require = rule.require
    if not require.applies_to_zone(zone.name):
        return []
    if rule.when is None:
        found = _count(require, zone)
        if found >= rule.min_values:
            return []
        names = require.literal_names()
        name = names[0] if names and len(names) == 1 else None
        rtype = require.type[0] if require.type and len(require.type) == 1 else None
        return [
            finding(
                rule,
                zone,
                None,
                name=name,
                rtype=rtype,
                required=describe(require),
                min_values=rule.min_values,
                found=found,
                data={"found": found, "min_values": rule.min_values},
            )
        ]
    out = []
    counts: dict[tuple[str, ...], int] = {}
    for trigger in rule.when.select(zone):
        wanted = require.for_trigger(trigger)
        key = tuple(wanted.name or ())
        if key not in counts:
            counts[key] = _count(wanted, zone)
        if counts[key] < rule.min_values:
            out.append(
                finding(
                    rule,
                    zone,
                    trigger,
                    required=describe(wanted),
                    min_values=rule.min_values,
                    found=counts[key],
                    data={"found": counts[key], "min_values": rule.min_values},
                )
            )
    return out


def _count(match: Match, zone: ZoneView) -> int:
    """How many values the records matching ``match`` hold together."""
    return sum(len(v.raw_values) for v in match.select(zone))


def describe(match: Match) -> str:
    """``TXT at _dmarc matching ^v=DMARC1`` — a requirement in words."""
    parts = ["/".join(match.type) if match.type else "a record"]
    if match.name is not None:
        parts.append("at " + " or ".join(match.name))
    if match.name_regex is not None:
        parts.append(f"with a name matching {match.name_regex}")
    if match.value_regex is not None:
        parts.append(f"matching {match.value_regex}")
    if match.values_in is not None:
        parts.append("inside " + ", ".join(match.values_in))
    if match.ttl is not None:
        parts.append(f"with TTL in [{match.ttl.min or 0}, {match.ttl.max or '∞'}]")
    return " ".join(parts)
