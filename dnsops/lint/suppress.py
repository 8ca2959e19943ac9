"""Suppressions: ``octodns: {dnsops: {ignore: {rule-id: "why"}}}`` on a record.

A suppression needs a reason (an ``ignore`` without one is itself an error
finding), must name a rule the policy has (else a warning), and is listed in the
output with its reason. A suppression that silences nothing, for a rule that
ran, is a notice: it has gone stale. A finding about the zone rather than one
record (e.g. no CAA at the apex) can be suppressed on any apex record.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsops.findings import Finding, Severity
from dnsops.lint.policy import BUILTIN_IDS
from dnsops.lint.view import APEX, RecordView, ZoneView

UNSUPPRESSIBLE = frozenset(("octodns-validation", "suppression"))


@dataclass(frozen=True)
class Ignore:
    view: RecordView
    rule: str
    reason: str


def _finding(view: RecordView, severity: Severity, message: str, hint: str) -> Finding:
    loc = view.location
    return Finding(
        id="suppression",
        severity=severity,
        subject=view.subject,
        message=message,
        hint=hint,
        zone=view.zone,
        file=loc.file if loc else None,
        line=loc.line if loc else None,
        record=view.fqdn,
        rtype=view.type,
    )


def collect(zone: ZoneView, known_ids: set[str]) -> tuple[list[Ignore], list[Finding]]:
    """The zone's valid suppressions, and findings about the invalid ones."""
    ignores: list[Ignore] = []
    problems: list[Finding] = []
    for view in zone.records:
        if not view.record.octodns:
            continue
        raw = view.meta.get("ignore")
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(
                _finding(
                    view,
                    Severity.ERROR,
                    "`ignore` must map rule ids to reasons",
                    'write octodns: {dnsops: {ignore: {RULE-ID: "why it is fine here"}}}',
                )
            )
            continue
        for rule_id, reason in raw.items():
            rule_id = str(rule_id)
            if not isinstance(reason, str) or not reason.strip():
                problems.append(
                    _finding(
                        view,
                        Severity.ERROR,
                        f"suppression of {rule_id!r} has no reason",
                        f'write ignore: {{{rule_id}: "why it is fine here"}}',
                    )
                )
            elif rule_id in UNSUPPRESSIBLE or (
                rule_id not in known_ids and rule_id not in BUILTIN_IDS
            ):
                problems.append(
                    _finding(
                        view,
                        Severity.WARNING,
                        f"suppression of {rule_id!r}: no such rule (or not suppressible)",
                        "rule ids are listed in policies/*.yaml; remove or fix the id",
                    )
                )
            else:
                ignores.append(Ignore(view, rule_id, reason.strip()))
    return ignores, problems


def apply(
    findings: list[Finding], zone: ZoneView, ignores: list[Ignore], ran: set[str]
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """Split ``findings`` into (kept, suppressed) and report stale suppressions."""
    by_record: dict[tuple[str, str, str], Ignore] = {}
    at_apex: dict[str, Ignore] = {}
    for ig in ignores:
        by_record[(ig.view.fqdn, ig.view.type, ig.rule)] = ig
        if ig.view.name == APEX:
            at_apex.setdefault(ig.rule, ig)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[int] = set()
    for f in findings:
        found = by_record.get((f.record or "", f.rtype or "", f.id))
        if found is None and f.record == zone.name and f.id not in UNSUPPRESSIBLE:
            found = at_apex.get(f.id)
        if found is None:
            kept.append(f)
            continue
        used.add(id(found))
        suppressed.append(f.model_copy(update={"suppressed": found.reason}))
    stale = [
        _finding(
            ig.view,
            Severity.NOTICE,
            f"suppression of {ig.rule!r} silences nothing here",
            "remove the stale `ignore` entry",
        )
        for ig in ignores
        if id(ig) not in used and ig.rule in ran
    ]
    return kept, suppressed, stale
