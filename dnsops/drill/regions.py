"""A fault's impact per region: pure functions over samples, no I/O, no clock.

Every vantage has a region (dnsops.yaml ``region``). A client-side fault
(``regional-loss``, a ``blackhole`` of some vantages) hits some regions; the
others are the control. For each region the samples of its vantages during the
fault are set against their own steady-state baseline:

- ``failing``: some resolutions failed (SERVFAIL, no answer, a wrong answer);
- ``degraded``: every resolution succeeded, but some only after the stub's
  retry, or more than ``SLOW_SHARE`` of them were slower than the baseline's
  p95 + ``SLOW_MARGIN`` (a lost packet costs a resolver at least its
  retransmission timeout: unbound's minimum is 50 ms);
- ``none``: neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dnsops.drill.measure import SUCCESS, Expectation, Sample, classify, percentile

SLOW_MARGIN = 0.03  # seconds above the baseline p95 that make an answer "slow"
SLOW_SHARE = 0.10  # more slow answers than this (fraction) is an impact


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 2)


def region_impact(
    samples: Iterable[Sample],
    expectations: Mapping[str, Expectation],
    regions: Mapping[str, str],
    faulted: Iterable[str],
    baseline: tuple[float, float],
    fault: tuple[float, float],
) -> list[dict[str, Any]]:
    """One entry per region of ``regions`` (vantage -> region), sorted by region."""
    hit = set(faulted)
    by_region: dict[str, tuple[list[Sample], list[Sample]]] = {
        r: ([], []) for r in regions.values()
    }
    for s in samples:
        region = regions.get(s.vantage)
        if region is None:
            continue
        base, during = by_region[region]
        if baseline[0] <= s.t < baseline[1]:
            base.append(s)
        elif fault[0] <= s.t <= fault[1]:
            during.append(s)
    out = []
    for region in sorted(by_region):
        base, during = by_region[region]
        entry: dict[str, Any] = {
            "region": region,
            "vantages": sorted(v for v, r in regions.items() if r == region),
            "faulted": region in hit,
            "samples": len(during),
        }
        n = len(during)
        if not n:
            out.append({**entry, "impact": "no samples"})
            continue
        ok = [classify(s, expectations.get(s.probe)) in SUCCESS for s in during]
        base_lat = [s.latency for s in base if s.latency is not None]
        lat = [s.latency for s in during if s.latency is not None]
        b50, b95 = percentile(base_lat, 50), percentile(base_lat, 95)
        d50, d95 = percentile(lat, 50), percentile(lat, 95)
        slow_at = (b95 or 0.0) + SLOW_MARGIN
        success = sum(ok) / n
        retried = sum(s.attempts > 1 for s in during) / n
        slow = sum(x > slow_at for x in lat) / n
        if success < 1:
            impact = "failing"
        elif retried > 0 or slow > SLOW_SHARE:
            impact = "degraded"
        else:
            impact = "none"
        out.append(
            {
                **entry,
                "impact": impact,
                "success_fraction": round(success, 4),
                "retried_fraction": round(retried, 4),
                "servfail_fraction": round(sum(s.rcode == "SERVFAIL" for s in during) / n, 4),
                "timeout_fraction": round(sum(s.error == "timeout" for s in during) / n, 4),
                "slow_fraction": round(slow, 4),
                "baseline_p50_ms": _ms(b50),
                "baseline_p95_ms": _ms(b95),
                "latency_p50_ms": _ms(d50),
                "latency_p95_ms": _ms(d95),
                "latency_max_ms": _ms(max(lat)) if lat else None,
                "added_p50_ms": _ms(d50 - b50) if d50 is not None and b50 is not None else None,
                "added_p95_ms": _ms(d95 - b95) if d95 is not None and b95 is not None else None,
            }
        )
    return out
