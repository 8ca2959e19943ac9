"""What every rule shares: the lint context and turning a match into a Finding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dnsops.findings import Finding, Severity
from dnsops.lint.capabilities import ProviderCaps
from dnsops.lint.policy import Rule
from dnsops.lint.view import APEX, RecordView, ZoneView


@dataclass(frozen=True)
class LintContext:
    """What rules know beyond the zone: the environment and its providers."""

    environment: str = "lab"
    providers: tuple[ProviderCaps, ...] = ()
    # provider name -> its nameserver names, for a lab environment (dnsops.yaml)
    managed_zones: frozenset[str] = frozenset()
    # zones whose apex NS the environment's octoDNS processors drop (IgnoreRootNsFilter):
    # each provider serves its own, so the zone file's apex NS says nothing there
    root_ns_ignored: frozenset[str] = frozenset()


class _Placeholders(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, values: dict[str, Any]) -> str:
    """A message template with its placeholders filled (unknown ones stay as written)."""
    try:
        return template.format_map(_Placeholders(values))
    except (ValueError, KeyError, IndexError, AttributeError):
        return template


def finding(
    rule: Rule,
    zone: ZoneView,
    view: RecordView | None,
    *,
    severity: Severity | None = None,
    message: str | None = None,
    hint: str | None = None,
    name: str | None = None,
    rtype: str | None = None,
    data: dict[str, Any] | None = None,
    **values: Any,
) -> Finding:
    """A finding of ``rule`` about ``view`` (or, with ``view`` None, about the zone).

    ``values`` fill the message template; ``message``/``hint`` (plain text, not
    templates) replace the rule's for findings its own message does not describe.
    """
    ctx: dict[str, Any]
    rt: str | None
    if view is not None:
        ctx = view.context()
        loc = view.location
        file, line = (loc.file, loc.line) if loc else (zone.file, None)
        record, rt = view.fqdn, view.type
    else:
        nm = name or APEX
        record, rt = zone.fqdn(nm), rtype
        ctx = {"zone": zone.name, "name": nm, "fqdn": record, "type": rt or "", "ttl": ""}
        ctx["values"] = ""
        file, line = zone.file, zone.apex_line
    ctx.update(values)
    if message is None:
        message = render(rule.message, ctx)
    if hint is None and rule.hint:
        hint = render(rule.hint, ctx)
    return Finding(
        id=rule.id,
        severity=severity if severity is not None else rule.severity,
        subject=f"{record} {rt}" if rt else record,
        message=message,
        hint=hint,
        zone=zone.name,
        file=file,
        line=line,
        record=record,
        rtype=rt,
        data=data,
    )
