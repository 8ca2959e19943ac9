"""TTL rules: the band of each record's class, and a floor under every TTL.

Why bands: a failover-critical record (behind load balancers, moved by a drill)
can't fail over faster than its TTL; a static one (NS, CAA) gains nothing from a
short TTL but load on recursors. Why a floor: a TTL of a few seconds hammers
recursors and turns an authoritative outage into an outage for every user at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dnsops.findings import Finding, Severity
from dnsops.lint.policy import TtlBandRule, TtlFloorRule
from dnsops.lint.rules.base import LintContext, finding
from dnsops.lint.view import RecordView, ZoneView


def record_class(
    rule: TtlBandRule, view: RecordView, selectors: list[tuple[str, Callable[[RecordView], bool]]]
) -> str | None:
    """The record's class: its metadata, else the first matching selector, else the default."""
    if view.record.octodns:
        declared = view.meta.get("class")
        if declared is not None:
            return str(declared)
    for cls, test in selectors:
        if test(view):
            return cls
    return rule.default_class


def check_ttl_band(rule: TtlBandRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    selectors = [
        (s.class_, s.match.tester()) for s in rule.selectors if s.match.applies_to_zone(zone.name)
    ]
    out = []
    for view in zone.records:
        cls = record_class(rule, view, selectors)
        if cls is None:
            continue
        named: dict[str, Any] = {"class": cls}  # `class` is a keyword: pass it by dict
        band = rule.classes.get(cls)
        if band is None:
            known = ", ".join(rule.classes)
            out.append(
                finding(
                    rule,
                    zone,
                    view,
                    severity=Severity.ERROR,
                    message=f"record class {cls!r} is not defined by the policy ({known})",
                    hint=f"use one of: {known}",
                    **named,
                )
            )
            continue
        if band.min <= view.ttl <= band.max:
            continue
        out.append(
            finding(
                rule,
                zone,
                view,
                severity=band.severity,
                data={"class": cls, "ttl": view.ttl, "min": band.min, "max": band.max},
                min=band.min,
                max=band.max,
                target=band.ttl,
                **named,
            )
        )
    return out


def check_ttl_floor(rule: TtlFloorRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    return [
        finding(rule, zone, view, floor=rule.floor, data={"ttl": view.ttl, "floor": rule.floor})
        for view in rule.match.select(zone)
        if view.ttl < rule.floor
    ]
