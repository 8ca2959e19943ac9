"""Vantage runs in numbers and findings: success, mismatches, latency percentiles. No I/O.

Answers are grouped per vantage and, for RIPE Atlas, per country and per ASN,
so "wrong only in one network" stands out. A *mismatch* is an answer that
arrived but is not the desired RRset (other values, another TTL, NXDOMAIN,
SERVFAIL...); a *failure* is no answer at all.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dns.rdatatype

from dnsops.findings import Finding, Severity
from dnsops.probe import Expected, wire
from dnsops.vantage.base import Observation, VantageRun, probe_text

STATUS_CHECK = {
    "unreachable": "vantage-unreachable",
    "timeout": "vantage-timeout",
    "refused": "vantage-budget",
    "error": "vantage-error",
}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of unsorted values; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    by: str  # vantage | country | asn
    key: str
    vantage: str
    kind: str
    region: str
    answers: int
    matched: int
    mismatched: int
    failed: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None

    @property
    def success(self) -> float:
        return self.matched / self.answers if self.answers else 0.0

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["success"] = round(self.success, 4)
        return out


def _key(by: str) -> Callable[[Observation], str]:
    if by == "country":
        return lambda o: o.origin.country or "unknown"
    if by == "asn":
        return lambda o: f"AS{o.origin.asn}" if o.origin.asn is not None else "unknown"
    return lambda o: o.vantage


def summarise(observations: Iterable[Observation], by: str = "vantage") -> list[Summary]:
    """Per vantage and group: answers, matched, mismatched, failed, p50/p95/max latency."""
    key = _key(by)
    groups: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for o in observations:
        groups[(o.vantage, key(o))].append(o)
    out = []
    for (vantage, k), obs in sorted(groups.items()):
        ms = [o.result.latency * 1000 for o in obs if o.result.latency is not None]
        matched = sum(1 for o in obs if o.result.matched)
        failed = sum(1 for o in obs if not o.result.answered)
        first = obs[0]
        out.append(
            Summary(
                by=by,
                key=k,
                vantage=vantage,
                kind=first.kind,
                region=first.region,
                answers=len(obs),
                matched=matched,
                mismatched=len(obs) - matched - failed,
                failed=failed,
                p50_ms=_round(percentile(ms, 50)),
                p95_ms=_round(percentile(ms, 95)),
                max_ms=_round(max(ms) if ms else None),
            )
        )
    return out


def _round(v: float | None) -> float | None:
    return round(v, 3) if v is not None else None


def run_findings(runs: Iterable[VantageRun]) -> list[Finding]:
    """One finding per vantage that failed as a whole (unreachable, too slow, refused)."""
    out = []
    for run in runs:
        if run.problem is None:
            continue
        out.append(
            Finding(
                id=STATUS_CHECK.get(run.status, "vantage-error"),
                severity=Severity.ERROR,
                subject=f"{run.vantage} ({run.kind}, {run.region})",
                message=run.problem,
                hint=_hint(run),
                data={
                    "vantage": run.vantage,
                    "kind": run.kind,
                    "region": run.region,
                    "status": run.status,
                },
            )
        )
    return out


def _hint(run: VantageRun) -> str | None:
    if run.status == "refused":
        return "raise max_credits in dnsops.yaml, request fewer probes, or check fewer records"
    hint = run.info.get("hint")
    return str(hint) if hint else None


def answer_findings(runs: Iterable[VantageRun]) -> list[Finding]:
    """One finding per question and vantage whose answers were not the desired RRset.

    Runs that failed as a whole are left to :func:`run_findings`.
    """
    out = []
    for run in runs:
        if run.problem is not None and run.status != "timeout":
            continue
        bad: dict[tuple[str, int], list[Observation]] = defaultdict(list)
        asked: dict[tuple[str, int], int] = defaultdict(int)
        for o in run.observations:
            q = o.result.query
            k = (q.qname.to_text(), q.rdtype)
            asked[k] += 1
            if o.result.matched is False or (q.expect is not None and not o.result.answered):
                bad[k].append(o)
        for (name, rdtype), obs in sorted(bad.items()):
            out.append(_answer_finding(run, name, rdtype, obs, asked[(name, rdtype)]))
    return out


def _answer_finding(
    run: VantageRun, name: str, rdtype: int, obs: list[Observation], asked: int
) -> Finding:
    expect = obs[0].result.query.expect
    subject = f"{name} {dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))}"
    seen = [_seen(o) for o in obs]
    shown = "; ".join(f"{s['from']}: {s['got']}" for s in seen[:10])
    more = f" (and {len(seen) - 10} more)" if len(seen) > 10 else ""
    message = f"{len(obs)} of {asked} answers from {run.vantage} ({run.kind}, {run.region}) "
    message += f"differ: {shown}{more}"
    if expect is not None:
        message += f"; desired {desired_text(expect)}"
    return Finding(
        id="vantage-answer",
        severity=Severity.ERROR,
        subject=subject,
        message=message,
        data={
            "vantage": run.vantage,
            "kind": run.kind,
            "region": run.region,
            "desired": desired_json(expect) if expect is not None else None,
            "seen": seen,
        },
    )


def _seen(o: Observation) -> dict[str, Any]:
    r = o.result
    who = probe_text(o.origin) or o.origin.host or o.vantage
    if not r.answered:
        got = r.error or "no answer"
    elif r.rcode != 0:
        got = r.rcode_text
    else:
        ttl, values = r.served()
        got = f"{', '.join(values)} (TTL {ttl})" if values else "no such record (NOERROR, no data)"
    out: dict[str, Any] = {"from": who, "got": got}
    for k in ("host", "server", "probe", "country", "asn"):
        v = getattr(o.origin, k)
        if v is not None:
            out[k] = v
    return out


def desired_text(expect: Expected) -> str:
    values = sorted(wire.to_text(expect.rdtype, r) for r in expect.rdatas)
    bound = "at most " if expect.ttl_at_most else ""
    return f"{', '.join(values)} (TTL {bound}{expect.ttl})"


def desired_json(expect: Expected) -> dict[str, Any]:
    return {
        "ttl": expect.ttl,
        "ttl_at_most": expect.ttl_at_most,
        "values": sorted(wire.to_text(expect.rdtype, r) for r in expect.rdatas),
    }
