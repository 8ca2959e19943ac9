"""From observations to the report: every check run, findings, tables. No I/O."""

from __future__ import annotations

import statistics

from dnsops.health.consistency import check_consistency, serial_of
from dnsops.health.delegation import DelegationChecks
from dnsops.health.independence_checks import check_independence
from dnsops.health.independence_checks import summary as independence_summary
from dnsops.health.judge import Judge
from dnsops.health.model import HealthReport, NameserverRow, VantageRow, ZoneObs
from dnsops.health.policy import HealthPolicy
from dnsops.health.provider_checks import check_providers
from dnsops.health.server_checks import check_server, median_ms, ms
from dnsops.health.vantage_checks import check_outage_covered, check_reachable, check_vantages
from dnsops.health.zone_checks import check_apex_ns, check_delegation, check_rrsets
from dnsops.probe import wire


def evaluate(zones: list[ZoneObs], policy: HealthPolicy) -> Judge:
    judge = Judge()
    delegation = DelegationChecks(judge)
    for zo in zones:
        check_providers(zo, judge)
        for so in zo.servers:
            check_server(zo.layout.zone, so, policy, judge)
        apex = check_apex_ns(zo, judge)
        check_delegation(zo, apex, judge)
        delegation.zone(zo)
        check_rrsets(zo, judge)
        check_consistency(zo, judge)
        check_reachable(zo, judge)
        check_vantages(zo, judge)
        check_outage_covered(zo, judge)
    check_independence(zones, judge)
    delegation.finish()
    return judge


def report(
    env: str, zones: list[ZoneObs], policy: HealthPolicy, seconds: float = 0.0, queries: int = 0
) -> HealthReport:
    judge = evaluate(zones, policy)
    return HealthReport(
        env=env,
        zones=[zo.layout.zone for zo in zones],
        findings=judge.findings(policy),
        nameservers=[row for zo in zones for row in nameserver_rows(zo)],
        vantages=[row for zo in zones for row in vantage_rows(zo)],
        checks=judge.rows(policy),
        seconds=round(seconds, 3),
        queries=queries,
        policy=policy.source,
        independence=independence_summary(zones),
    )


def _p95(latencies: list[float]) -> float | None:
    if len(latencies) < 2:
        return ms(latencies[0]) if latencies else None
    return ms(statistics.quantiles(latencies, n=20, method="inclusive")[-1])


def nameserver_rows(zo: ZoneObs) -> list[NameserverRow]:
    out = []
    for so in zo.servers:
        udp, tcp = so.probes.get("soa-udp"), so.probes.get("soa-tcp")
        out.append(
            NameserverRow(
                zone=zo.layout.zone,
                provider=so.ns.provider,
                name=so.ns.name,
                address=so.ns.address,
                udp=so.up,
                tcp=tcp is not None and tcp.answered,
                aa=udp is not None and udp.aa,
                method=so.method,
                checked=so.checked,
                mismatches=len(so.seen),
                latency_ms=median_ms(so.latencies),
                p95_ms=_p95(so.latencies),
                queries=so.queries,
                serial=serial_of(zo.layout.zone, so),
                nsid=wire.nsid_of(udp.message) if udp is not None else None,
            )
        )
    return out


def vantage_rows(zo: ZoneObs) -> list[VantageRow]:
    out = []
    for vo in zo.vantages:
        latencies = [r.latency for r in vo.records if r.latency is not None]
        resolved = sum(1 for r in vo.records if r.ok)
        records = []
        for r in vo.records:
            d = zo.layout.desired[r.index]
            entry: dict[str, object] = {
                "name": d.name,
                "type": d.rdtype,
                "ok": r.ok,
                "ttl": r.ttl,
                "latency_ms": ms(r.latency) if r.latency is not None else None,
            }
            if r.seen is not None:
                entry["status"] = r.seen.status
            records.append(entry)
        out.append(
            VantageRow(
                zone=zo.layout.zone,
                name=vo.vantage.name,
                region=vo.vantage.region,
                address=vo.vantage.address,
                checked=len(vo.records),
                resolved=resolved,
                failed=len(vo.records) - resolved,
                latency_ms=median_ms(latencies),
                p95_ms=_p95(latencies),
                records=records,
                kind=vo.vantage.kind,
                status=vo.status,
                problem=vo.problem,
            )
        )
    return out
