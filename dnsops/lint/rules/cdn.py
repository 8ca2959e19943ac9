"""CDN cache headers (online): for records fronted by a CDN, the origin's response.

- ``Vary`` must not name user-specific headers (Cookie, Authorization, User-Agent,
  ``*``): the CDN would keep one copy per user, i.e. not cache at all.
- ``Cache-Control`` should carry ``s-maxage`` (how long the CDN keeps it) and
  ``stale-while-revalidate`` (serve stale while refreshing, so an origin or DNS
  hiccup does not reach users).

Pure: ``origins`` says which URLs to fetch, ``judge_*`` read the responses.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnsops.findings import Finding
from dnsops.lint.policy import CdnCacheControlRule, CdnOrigin, CdnVaryRule
from dnsops.lint.rules.base import finding
from dnsops.lint.rules.dangling import Outcome, unreachable
from dnsops.lint.view import RecordView, ZoneView


@dataclass(frozen=True)
class Origin:
    view: RecordView
    url: str


@dataclass(frozen=True)
class Response:
    """An HTTP response's status and headers, or the error that prevented one."""

    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def origins(cdn: tuple[CdnOrigin, ...], zone: ZoneView) -> list[Origin]:
    """CDN-fronted records: metadata ``cdn: URL`` first, then the policy's ``cdn`` list."""
    out: list[Origin] = []
    seen: set[tuple[str, str]] = set()
    for view in zone.records:
        if view.record.octodns:
            url = view.meta.get("cdn")
            if isinstance(url, str):
                out.append(Origin(view, url))
                seen.add((view.name, view.type))
    for entry in cdn:
        for view in entry.match.select(zone):
            if (view.name, view.type) in seen:
                continue
            seen.add((view.name, view.type))
            fqdn = view.fqdn.rstrip(".")
            out.append(Origin(view, entry.url.format(fqdn=fqdn, name=view.name, zone=zone.name)))
    return out


def _tokens(values: list[str]) -> list[str]:
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def judge_vary(
    rule: CdnVaryRule, zone: ZoneView, origin: Origin, response: Response
) -> list[Finding]:
    if response.error is not None:
        return [_unreachable(zone, origin, response)]
    vary = _tokens(response.header("Vary"))
    forbidden = {f.lower() for f in rule.forbidden}
    return [
        finding(
            rule,
            zone,
            origin.view,
            url=origin.url,
            header=h,
            vary=", ".join(vary),
            data={"url": origin.url, "vary": vary},
        )
        for h in vary
        if h.lower() in forbidden
    ]


def judge_cache_control(
    rule: CdnCacheControlRule, zone: ZoneView, origin: Origin, response: Response
) -> list[Finding]:
    if response.error is not None:
        return [_unreachable(zone, origin, response)]
    values = response.header("Cache-Control")
    directives = {t.split("=", 1)[0].strip().lower() for t in _tokens(values)}
    missing = [d for d in rule.required if d.lower() not in directives]
    if not missing:
        return []
    return [
        finding(
            rule,
            zone,
            origin.view,
            url=origin.url,
            missing=", ".join(missing),
            cache_control=", ".join(values) or "(none)",
            data={"url": origin.url, "cache_control": values, "missing": missing},
        )
    ]


def _unreachable(zone: ZoneView, origin: Origin, response: Response) -> Finding:
    return unreachable(zone, origin.view, origin.url, Outcome("ERROR", response.error or ""))
