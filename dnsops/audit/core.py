"""The audit's comparison: views of a zone in, drift findings out. No I/O.

For each provider: the source (as octoDNS deploys it to that provider) against the
provider's API, then the API against what each of its nameservers serves. Every
difference is one :class:`~dnsops.findings.Finding` whose ``id`` is its drift class and
whose ``data`` holds the zone, provider, name, type, view and expected/actual RRsets.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import dns.rdatatype

from dnsops.audit.model import (
    Capabilities,
    Drift,
    Key,
    ProviderViews,
    RRset,
    Served,
    View,
    ZoneViews,
)
from dnsops.findings import Finding, Severity

ORDER = list(Drift)

HINTS = {
    Drift.MISSING: "`dnsops sync --doit` puts the source back on {provider}",
    Drift.EXTRA: "`dnsops sync --doit` deletes it from {provider}; or add it to the zone file "
    "(`dnsops import --provider {provider} --zone ZONE --force` rewrites the whole file as "
    "{provider} holds the zone)",
    Drift.VALUES: "`dnsops sync --doit` puts the source back on {provider}",
    Drift.TTL: "`dnsops sync --doit` puts the source back on {provider}",
    Drift.SERVED: "{provider}'s API and this nameserver disagree: a replica that did not "
    "update, or a change made outside the API; check the provider's status",
    Drift.UNSUPPORTED: "use a record type every provider of the pair supports",
    Drift.UNAVAILABLE: "check the credentials and that {provider} answers "
    "(`dnsops lab status` for the lab)",
}


def managed(key: Key, zone: str, caps: Capabilities, source: View) -> bool:
    """Whether octoDNS manages this name and type on a provider with ``caps``.

    Types outside the provider's ``SUPPORTS`` are not (SOA, DNSSEC and server internals
    are in no provider's ``SUPPORTS``: octoDNS has no record type for them). The apex NS
    is managed only where the provider declares ``SUPPORTS_ROOT_NS`` and the source has
    an apex NS; otherwise the provider's own apex NS entries are left to it.
    """
    name, rtype = key
    if rtype not in caps.supports:
        return False
    if name == zone and rtype == "NS":
        return caps.root_ns and (zone, "NS") in source
    return True


@functools.cache
def on_wire(rtype: str) -> bool:
    """A type a nameserver can serve (octoDNS-only types such as ALIAS cannot)."""
    try:
        dns.rdatatype.from_text(rtype)
    except dns.rdatatype.UnknownRdatatype:
        return False
    return True


def compare(zv: ZoneViews) -> list[Finding]:
    """Every drift of one zone, sorted by provider, class, name and type."""
    findings: list[Finding] = []
    for pv in zv.providers:
        findings += _unsupported(zv, pv)
        findings += _control_plane(zv, pv)
        findings += _data_plane(zv, pv)
    order = {p.name: i for i, p in enumerate(zv.providers)}
    return sorted(findings, key=lambda f: _sort_key(f, order))


def _sort_key(f: Finding, order: dict[str, int]) -> tuple[int, int, str, str, str]:
    data = f.data or {}
    return (
        order.get(f.provider or "", 0),
        ORDER.index(Drift(f.id)),
        str(data.get("name", "")),
        str(data.get("type", "")),
        str(data.get("nameserver", "")),
    )


def _unsupported(zv: ZoneViews, pv: ProviderViews) -> list[Finding]:
    """The records the zone's expectation says this provider will not hold, unless the
    zone file acknowledges them (those are listed, not drift)."""
    out = []
    for r in sorted(pv.refused, key=lambda r: (r.fqdn, r.type)):
        if r.acknowledged:
            continue
        key = (r.fqdn.lower(), r.type)
        able = [p.name for p in zv.providers if all(x.key != r.key for x in p.refused)]
        who = f"{', '.join(able)} can" if able else "no provider of the pair can"
        out.append(
            _finding(
                Drift.UNSUPPORTED,
                zv,
                pv,
                key,
                expected=zv.source.get(key),
                actual=None,
                message=f"{r.reason}; {who}: the zone is not dual for this record",
                extra={"supported_by": able, "provider_class": pv.capabilities.cls},
            )
        )
    return out


def _managed_view(zv: ZoneViews, pv: ProviderViews, view: View, wire: bool = False) -> View:
    types = {t for _, t in view}
    keep = {t for t in types if t in pv.capabilities.supports and (not wire or on_wire(t))}
    apex_ns = managed((zv.zone, "NS"), zv.zone, pv.capabilities, pv.source)
    return {
        k: v
        for k, v in view.items()
        if k[1] in keep and k not in pv.skip and (apex_ns or k[1] != "NS" or k[0] != zv.zone)
    }


def _control_plane(zv: ZoneViews, pv: ProviderViews) -> list[Finding]:
    if pv.api is None:
        return [_unavailable(zv, pv, "api", f"{pv.name}'s API could not be read: {pv.api_error}")]
    desired = _managed_view(zv, pv, pv.source)
    existing = _managed_view(zv, pv, pv.api)
    where = f"{pv.name} (API)" if pv.api_exists else f"{pv.name} (API, which has no such zone)"
    out = []
    for key in sorted(desired.keys() | existing.keys()):
        want, have = desired.get(key), existing.get(key)
        if have is None and want is not None:
            msg = f"in the source, not on {where}: {_show(want, key[1])}"
            out.append(_finding(Drift.MISSING, zv, pv, key, want, None, msg))
        elif want is None and have is not None:
            msg = f"on {where}, not in the source: {_show(have, key[1])}"
            out.append(_finding(Drift.EXTRA, zv, pv, key, None, have, msg))
        elif want is not None and have is not None:
            if want.values != have.values:
                held, says = _values(have, key[1]), _values(want, key[1])
                msg = f"{where} holds {held}; the source says {says}"
                out.append(_finding(Drift.VALUES, zv, pv, key, want, have, msg))
            if want.ttl != have.ttl:
                msg = f"{where} has TTL {have.ttl}; the source says {want.ttl}"
                out.append(_finding(Drift.TTL, zv, pv, key, want, have, msg))
    return out


def _data_plane(zv: ZoneViews, pv: ProviderViews) -> list[Finding]:
    if pv.api is None:
        return []  # nothing to hold the nameservers against; reported as view-unavailable
    reference = _managed_view(zv, pv, pv.api, wire=True)
    out = []
    for served in pv.served:
        if served.error is not None:
            msg = f"{served.nameserver} could not be read ({served.method}): {served.error}"
            if not served.method:  # no nameserver to read at all
                msg = f"{pv.name}'s nameservers could not be read: {served.error}"
            out.append(_unavailable(zv, pv, "served", msg, served.nameserver))
            continue
        got = _managed_view(zv, pv, served.records, wire=True)
        keys = set(reference) | (
            set(got) if served.complete else set(got) & set(served.asked or ())
        )
        for key in sorted(keys - pv.unasked):
            out += _served_one(zv, pv, served, key, reference.get(key), got.get(key))
    return out


def _served_one(
    zv: ZoneViews, pv: ProviderViews, served: Served, key: Key, api: RRset | None, got: RRset | None
) -> list[Finding]:
    ns = served.nameserver
    if not served.complete and key not in (served.asked or ()):
        reason, detail = "was not asked for it", "not-asked"
    elif key in served.failed:
        reason, detail = f"gave no answer ({served.failed[key]})", "no-answer"
    elif got is None:
        reason, detail = f"does not serve it; the API holds {_show(api, key[1])}", "not-served"
    elif api is None:
        reason, detail = f"serves {_show(got, key[1])}; the API does not hold it", "not-in-api"
    elif got.values != api.values:
        reason, detail = (
            f"serves {_values(got, key[1])}; the API holds {_values(api, key[1])}",
            "values",
        )
    elif got.ttl != api.ttl:
        reason, detail = f"serves TTL {got.ttl}; the API has TTL {api.ttl}", "ttl"
    else:
        return []
    return [
        _finding(
            Drift.SERVED,
            zv,
            pv,
            key,
            api,
            got,
            f"{ns} {reason}",
            view="served",
            against="api",
            extra={"nameserver": ns, "method": served.method, "detail": detail},
        )
    ]


def _unavailable(
    zv: ZoneViews, pv: ProviderViews, view: str, message: str, nameserver: str | None = None
) -> Finding:
    data: dict[str, object] = {"class": str(Drift.UNAVAILABLE), "zone": zv.zone, "view": view}
    if nameserver:
        data["nameserver"] = nameserver
    return Finding(
        id=str(Drift.UNAVAILABLE),
        severity=Severity.ERROR,
        subject=f"{zv.zone} {pv.name} {nameserver or 'API'}",
        message=message,
        zone=zv.zone,
        provider=pv.name,
        hint=HINTS[Drift.UNAVAILABLE].format(provider=pv.name),
        data=data,
    )


def _finding(
    cls: Drift,
    zv: ZoneViews,
    pv: ProviderViews,
    key: Key,
    expected: RRset | None,
    actual: RRset | None,
    message: str,
    *,
    view: str = "api",
    against: str = "source",
    extra: dict[str, object] | None = None,
) -> Finding:
    name, rtype = key
    where = zv.locations.get(key)
    return Finding(
        id=str(cls),
        severity=Severity.ERROR,
        subject=f"{name} {rtype}",
        message=message,
        zone=zv.zone,
        provider=pv.name,
        file=where[0] if where else None,
        line=where[1] if where else None,
        hint=HINTS[cls].format(provider=pv.name),
        data={
            "class": str(cls),
            "zone": zv.zone,
            "provider": pv.name,
            "name": name,
            "type": rtype,
            "view": view,
            "against": against,
            "expected": expected.to_json(rtype) if expected else None,
            "actual": actual.to_json(rtype) if actual else None,
            **(extra or {}),
        },
    )


def _values(rrset: RRset | None, rtype: str) -> str:
    return " ".join(rrset.texts(rtype)) if rrset else "nothing"


def _show(rrset: RRset | None, rtype: str) -> str:
    return f"{_values(rrset, rtype)} (TTL {rrset.ttl})" if rrset else "nothing"


def counts(findings: Iterable[Finding]) -> dict[str, dict[str, dict[str, int]]]:
    """zone -> provider -> drift class -> number of findings."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for f in findings:
        per = out.setdefault(f.zone or "", {}).setdefault(f.provider or "", {})
        per[f.id] = per.get(f.id, 0) + 1
    return out


def finding_key(f: Finding) -> Key | None:
    """The (name, type) a drift finding is about (None for an unavailable view)."""
    data = f.data or {}
    if "name" not in data or "type" not in data:
        return None
    return str(data["name"]), str(data["type"])


def locate(findings: Iterable[Finding], where: Mapping[Key, tuple[str, int]]) -> list[Finding]:
    """The findings with the source's file and line of their record, where it has one."""
    out = []
    for f in findings:
        k = finding_key(f)
        if f.file is None and k is not None and k in where:
            file, line = where[k]
            f = f.model_copy(update={"file": file, "line": line})
        out.append(f)
    return out
