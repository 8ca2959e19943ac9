"""What DNS and the providers can carry: owner names, TTL ceilings, sizes, and each
provider's known limits. Pure checks over a ZoneView (dnsops.lint.wire does the
arithmetic; dnsops.lint.capabilities holds the providers' facts)."""

from __future__ import annotations

from dnsops.findings import Finding
from dnsops.lint.capabilities import Limit, ProviderCaps
from dnsops.lint.policy import (
    HostnameRule,
    ProviderLimitsRule,
    RrsetSizeRule,
    TtlCeilingRule,
    WireLimitsRule,
)
from dnsops.lint.rules.base import LintContext, finding
from dnsops.lint.view import APEX, RecordView, ZoneView
from dnsops.lint.wire import MAX_MESSAGE, MAX_RDATA, could_exceed, name_problems


def check_hostname(rule: HostnameRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    host_types = frozenset(rule.host_types)
    out = []
    for view in zone.records:
        name = "" if view.name == APEX else view.name
        problems = name_problems(name, view.fqdn, view.type, host_types)
        if problems:
            out.append(
                finding(rule, zone, view, detail="; ".join(problems), data={"problems": problems})
            )
    return out


def check_ttl_ceiling(rule: TtlCeilingRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    return [
        finding(
            rule, zone, view, ceiling=rule.ceiling, data={"ttl": view.ttl, "ceiling": rule.ceiling}
        )
        for view in rule.match.select(zone)
        if view.ttl > rule.ceiling
    ]


def check_wire_limits(rule: WireLimitsRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    out = []
    for view in zone.records:
        if not could_exceed(view.values, min(MAX_RDATA, MAX_MESSAGE)):
            continue
        detail = _over_the_wire(view)
        if detail is not None:
            out.append(finding(rule, zone, view, detail=detail[0], octets=detail[1]))
    return out


def _over_the_wire(view: RecordView) -> tuple[str, int] | None:
    size = view.size
    if size is None:
        return None
    if size.surely_over:
        longest = max(size.text)
        return (
            f"a value of {longest:,} characters: its RDATA is over the {MAX_RDATA:,} octets "
            "a record can hold (RFC 1035 §3.2.1)",
            longest,
        )
    biggest = max(size.rdata, default=0)
    if biggest > MAX_RDATA:
        return (
            f"a value's RDATA is {biggest:,} octets, over the {MAX_RDATA:,} a record can "
            "hold (RFC 1035 §3.2.1)",
            biggest,
        )
    if size.message > MAX_MESSAGE:
        return (
            f"an answer with this record set is {size.message:,} octets, over the "
            f"{MAX_MESSAGE:,} of the largest DNS message (RFC 1035 §4.2.2): no server "
            "can send it",
            size.message,
        )
    return None


def check_rrset_size(rule: RrsetSizeRule, zone: ZoneView, ctx: LintContext) -> list[Finding]:
    out = []
    for view in zone.records:
        if not could_exceed(view.values, rule.max):
            continue
        size = view.size
        if size is None:
            continue
        if size.surely_over:  # not encoded: too long to be anything but over
            octets, shown = None, f"more than {MAX_RDATA:,}"
        elif size.total > rule.max:
            octets, shown = size.total, f"{size.total:,}"
        else:
            continue
        out.append(
            finding(
                rule,
                zone,
                view,
                octets=shown,
                max=f"{rule.max:,}",
                data={"octets": octets, "max": rule.max},
            )
        )
    return out


def check_provider_limits(
    rule: ProviderLimitsRule, zone: ZoneView, ctx: LintContext
) -> list[Finding]:
    out = []
    for caps in ctx.providers:
        limits = [lim for lim in caps.limits if lim.covered_by is None]
        if not limits:
            continue
        for view in zone.records:
            for lim in limits:
                if lim.applies(view.type) and _breaks(lim, view):
                    detail = f"{caps.name} ({caps.class_path}) rejects {lim.what}"
                    out.append(
                        finding(
                            rule,
                            zone,
                            view,
                            detail=detail,
                            provider=caps.name,
                            provider_class=caps.class_path,
                            source=lim.source,
                            data=_data(caps, lim),
                        )
                    )
    return out


def _breaks(lim: Limit, view: RecordView) -> bool:
    """Whether the record is over the limit; sizes are computed only when they could be."""
    if lim.kind == "wildcard":
        return view.name == "*" or view.name.startswith("*.")
    if lim.kind == "rrset-values":
        return len(view.raw_values) > lim.limit
    if lim.kind in ("value-chars", "rrset-chars"):
        # a value's RDATA text is at most its lint text plus quotes and a space per
        # 255-character TXT string: (n + 3 * (n // 255 + 1))
        bound = [len(v) + 3 * (len(v) // 255 + 1) for v in view.values]
        if (max(bound, default=0) if lim.kind == "value-chars" else sum(bound)) <= lim.limit:
            return False
        size = view.size
        if size is None:
            return False
        chars = size.text
        return (max(chars, default=0) if lim.kind == "value-chars" else sum(chars)) > lim.limit
    return False


def _data(caps: ProviderCaps, lim: Limit) -> dict[str, object]:
    return {
        "provider": caps.name,
        "class": caps.class_path,
        "limit": lim.kind,
        "source": lim.source,
    }
