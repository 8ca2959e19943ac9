"""Dangling targets (online): a CNAME or NS delegation pointing outside the managed
zones at a name that does not resolve is a subdomain-takeover risk (whoever
registers the name, or claims the deleted hosted zone, serves your subdomain).

Pure: ``targets`` says what to look up, ``judge`` turns what the resolvers said into
findings; the driver does the lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsops.findings import Finding, Severity
from dnsops.lint.policy import DanglingRule, Rule
from dnsops.lint.rules.base import LintContext, finding
from dnsops.lint.view import RecordView, ZoneView

DANGLING_RCODES = frozenset(("NXDOMAIN", "SERVFAIL"))
UNREACHABLE = "online-unreachable"


@dataclass(frozen=True)
class Target:
    view: RecordView
    name: str  # the absolute target name, lower case, with the final dot


@dataclass(frozen=True)
class Outcome:
    """What a resolver said about a name: an rcode, or TIMEOUT / an error text."""

    rcode: str  # NOERROR, NXDOMAIN, SERVFAIL, REFUSED, TIMEOUT, ERROR
    detail: str = ""


def target_names(view: RecordView) -> list[str]:
    out = []
    for value in view.raw_values:
        name = getattr(value, "exchange", None) or getattr(value, "target", None) or value
        text = str(name).lower()
        if text and text != ".":
            out.append(text if text.endswith(".") else text + ".")
    return out


def managed(name: str, zones: frozenset[str]) -> bool:
    """Whether ``name`` is in (or under) one of the managed zones."""
    labels = name.split(".")
    return any(".".join(labels[i:]) in zones for i in range(len(labels) - 1))


def targets(rule: DanglingRule, zone: ZoneView, ctx: LintContext) -> list[Target]:
    out = []
    for rtype in rule.types:
        for view in zone.by_type.get(rtype, ()):
            out += [
                Target(view, t) for t in target_names(view) if not managed(t, ctx.managed_zones)
            ]
    return out


def judge(
    rule: DanglingRule, zone: ZoneView, found: list[Target], outcomes: dict[str, Outcome]
) -> list[Finding]:
    out = []
    unknown: set[str] = set()
    for target in found:
        outcome = outcomes.get(target.name)
        if outcome is None:
            continue
        if outcome.rcode in DANGLING_RCODES:
            out.append(
                finding(
                    rule,
                    zone,
                    target.view,
                    target=target.name,
                    rcode=outcome.rcode,
                    detail=outcome.detail,
                    data={"target": target.name, "rcode": outcome.rcode},
                )
            )
        elif outcome.rcode != "NOERROR" and target.name not in unknown:
            unknown.add(target.name)  # say it once per name: the resolvers, not the zone
            what = f"{target.name} ({outcome.rcode})"
            out.append(unreachable(zone, target.view, what, outcome, {"target": target.name}))
    return out


_UNREACHABLE_RULE = Rule(
    id=UNREACHABLE,
    severity=Severity.WARNING,
    message="{detail}",
    hint="check the resolvers in dnsops.yaml and the network, then run again",
)


def unreachable(
    zone: ZoneView,
    view: RecordView,
    what: str,
    outcome: Outcome,
    data: dict[str, str] | None = None,
) -> Finding:
    detail = f"could not check {what}" + (f": {outcome.detail}" if outcome.detail else "")
    return finding(_UNREACHABLE_RULE, zone, view, detail=detail, data=data)
