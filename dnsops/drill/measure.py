"""From probe samples to measurements. Pure functions over data: no I/O, no clock.

A *sample* is one answer (or its absence) seen through one vantage at one time.
Samples are classified against an expectation: for a record that is being
changed, ``old`` / ``new`` / ``wrong`` / ``fail``; for a cache-busting probe
(a unique name that must not exist), ``ok`` / ``fail``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["old", "new", "ok", "wrong", "fail"]
SUCCESS: frozenset[str] = frozenset({"old", "new", "ok"})
NX_PREFIX = "nx:"


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the drill started
    vantage: str
    probe: str  # "api.example.test. A" or "nx:example.test."
    stream: int
    rcode: str | None  # None: no answer at all (timeout, unreachable)
    values: tuple[str, ...]
    latency: float | None  # seconds; None without an answer
    error: str | None = None  # why there was no answer (the probe engine's: "timeout", …)
    attempts: int = 1  # tries the stub needed (a retry after a timeout costs the client time)
    nsid: str | None = None  # NSID (RFC 5001): the resolver instance (anycast site) answering


@dataclass(frozen=True)
class Expectation:
    """What a record probe should answer: ``old`` before the change, ``new`` after."""

    old: frozenset[str]
    new: frozenset[str]


def probe_key(fqdn: str, rtype: str) -> str:
    return f"{fqdn} {rtype.upper()}"


def nx_probe(zone: str) -> str:
    return NX_PREFIX + zone


def classify(sample: Sample, expect: Expectation | None) -> Outcome:
    """``fail``: SERVFAIL, REFUSED or no answer; otherwise judged by the expectation."""
    if sample.rcode is None or sample.rcode not in ("NOERROR", "NXDOMAIN"):
        return "fail"
    if sample.probe.startswith(NX_PREFIX) or expect is None:
        return "ok"
    if sample.rcode != "NOERROR":
        return "wrong"
    got = frozenset(sample.values)
    if got == expect.new:
        return "new"
    if got == expect.old:
        return "old"
    return "wrong"


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 2)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def by_vantage(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for s in samples:
        out.setdefault(s.vantage, []).append(s)
    return out


# -- guardrail: resolution success in a sliding window -----------------------


def success_by_vantage(
    samples: Iterable[Sample],
    expectations: dict[str, Expectation],
    since: float,
    until: float,
) -> dict[str, tuple[int, int]]:
    """vantage -> (successes, samples) among samples with since <= t <= until."""
    out: dict[str, tuple[int, int]] = {}
    for s in samples:
        if not since <= s.t <= until:
            continue
        ok, n = out.get(s.vantage, (0, 0))
        good = classify(s, expectations.get(s.probe)) in SUCCESS
        out[s.vantage] = (ok + int(good), n + 1)
    return out


# -- convergence of a change (failover or failback) ---------------------------


@dataclass
class Convergence:
    """One vantage's view of a change; times are seconds since the change began."""

    vantage: str
    samples: int
    first_correct: float | None
    stable: float | None  # the last stream to settle (= max over streams)
    streams: list[float | None]  # per probe stream: when its answers became new for good
    p50: float | None
    p95: float | None
    max: float | None
    stale_fraction: float
    servfail_fraction: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    bound: float
    converged: bool  # every stream settled, and max <= bound

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def stream_settled(samples: Sequence[Sample], expect: Expectation, start: float) -> float | None:
    """When this stream's answers became ``new`` for good (the last non-new + next), or None."""
    settled: float | None = None
    for s in sorted(samples, key=lambda x: x.t):
        if classify(s, expect) == "new":
            if settled is None:
                settled = s.t - start
        else:
            settled = None
    return settled


def convergence(
    samples: Iterable[Sample],
    probe: str,
    expect: Expectation,
    change_at: float,
    until: float,
    bound: float,
) -> list[Convergence]:
    """Per vantage: first correct answer, settling time per stream (p50/p95/max), fractions."""
    relevant = [s for s in samples if s.probe == probe and change_at <= s.t <= until]
    out = []
    for vantage, vs in sorted(by_vantage(relevant).items()):
        outcomes = [classify(s, expect) for s in vs]
        news = [s.t - change_at for s, o in zip(vs, outcomes, strict=True) if o == "new"]
        streams: dict[int, list[Sample]] = {}
        for s in vs:
            streams.setdefault(s.stream, []).append(s)
        settled = [stream_settled(streams[k], expect, change_at) for k in sorted(streams)]
        done = [x for x in settled if x is not None]
        lat = [s.latency for s in vs if s.latency is not None]
        worst = max(done) if done and len(done) == len(settled) else None
        n = len(vs)
        out.append(
            Convergence(
                vantage=vantage,
                samples=n,
                first_correct=_r(min(news)) if news else None,
                stable=_r(worst),
                streams=[_r(x) for x in settled],
                p50=_r(percentile(done, 50)),
                p95=_r(percentile(done, 95)),
                max=_r(max(done)) if done else None,
                stale_fraction=round(outcomes.count("old") / n, 4),
                servfail_fraction=round(
                    sum(1 for s in vs if s.rcode is not None and s.rcode != "NOERROR") / n, 4
                ),
                latency_p50_ms=_ms(percentile(lat, 50)),
                latency_p95_ms=_ms(percentile(lat, 95)),
                bound=bound,
                converged=worst is not None and worst <= bound,
            )
        )
    return out


def settled_now(
    samples: Iterable[Sample],
    probe: str,
    expect: Expectation,
    vantages: Sequence[str],
    streams: int,
    now: float,
    settle: float,
) -> bool:
    """True when every stream of every vantage answered only ``new`` over [now - settle, now]."""
    window: dict[tuple[str, int], list[Outcome]] = {}
    for s in samples:
        if s.probe == probe and now - settle <= s.t <= now:
            window.setdefault((s.vantage, s.stream), []).append(classify(s, expect))
    for v in vantages:
        for k in range(streams):
            seen = window.get((v, k))
            if not seen or any(o != "new" for o in seen):
                return False
    return True


# -- an outage: success, added latency, time to detect -------------------------


@dataclass
class OutageImpact:
    vantage: str
    samples: int
    success_fraction: float
    servfail_fraction: float
    timeout_fraction: float
    baseline_p50_ms: float | None
    baseline_p95_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_max_ms: float | None
    added_p50_ms: float | None
    added_p95_ms: float | None
    time_to_detect: float | None  # first failed or clearly slower answer after the fault
    retried_fraction: float = 0.0  # answered only after the stub's retry
    failures: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def outage_impact(
    samples: Iterable[Sample],
    expectations: dict[str, Expectation],
    baseline: tuple[float, float],
    fault: tuple[float, float],
) -> list[OutageImpact]:
    """Per vantage: what the outage window looked like against the steady-state baseline."""
    all_samples = list(samples)
    out = []
    for vantage, vs in sorted(by_vantage(all_samples).items()):
        base = [s for s in vs if baseline[0] <= s.t < baseline[1]]
        during = sorted((s for s in vs if fault[0] <= s.t <= fault[1]), key=lambda s: s.t)
        if not during:
            continue
        outcomes = [classify(s, expectations.get(s.probe)) for s in during]
        base_lat = [s.latency for s in base if s.latency is not None]
        lat = [s.latency for s in during if s.latency is not None]
        b50, b95 = percentile(base_lat, 50), percentile(base_lat, 95)
        d50, d95 = percentile(lat, 50), percentile(lat, 95)
        slow = max(3 * b95, b95 + 0.05) if b95 is not None else None
        detect = None
        for s, o in zip(during, outcomes, strict=True):
            if o not in SUCCESS or (slow is not None and (s.latency or 0) > slow):
                detect = _r(s.t - fault[0])
                break
        failures: dict[str, int] = {}
        for s, o in zip(during, outcomes, strict=True):
            if o not in SUCCESS:
                key = s.rcode or s.error or "no answer"
                failures[key] = failures.get(key, 0) + 1
        n = len(during)
        out.append(
            OutageImpact(
                vantage=vantage,
                samples=n,
                success_fraction=round(sum(o in SUCCESS for o in outcomes) / n, 4),
                servfail_fraction=round(sum(s.rcode == "SERVFAIL" for s in during) / n, 4),
                timeout_fraction=round(sum(s.error == "timeout" for s in during) / n, 4),
                baseline_p50_ms=_ms(b50),
                baseline_p95_ms=_ms(b95),
                latency_p50_ms=_ms(d50),
                latency_p95_ms=_ms(d95),
                latency_max_ms=_ms(max(lat)) if lat else None,
                added_p50_ms=_ms(d50 - b50) if d50 is not None and b50 is not None else None,
                added_p95_ms=_ms(d95 - b95) if d95 is not None and b95 is not None else None,
                time_to_detect=detect,
                retried_fraction=round(sum(s.attempts > 1 for s in during) / n, 4),
                failures=failures,
            )
        )
    return out


# -- a change over a population of resolvers -----------------------------------

PrimeMode = Literal["staggered", "together"]
# unbound (and most caches) keep TTLs in whole seconds: an entry filled at t may live
# until t + TTL + (under) 1 s, so "every cache has dropped it" waits this much longer
CACHE_SLACK = 1.0


def prime_schedule(members: Sequence[str], ttl: float, mode: PrimeMode) -> dict[str, float]:
    """Seconds before the change at which to prime each member (in the given order).

    ``staggered``: member i of N at i·TTL/N before the change, so the caches expire
    TTL, (N-1)/N·TTL, …, TTL/N after it, evenly spread as in a real population whose
    caches were filled at random moments. ``together``: every member just before the
    change, so each needs the full TTL (the worst case, and what one stream sees).
    """
    n = len(members)
    if mode == "together" or n == 0:
        return {m: 0.0 for m in members}
    return {m: round(i * ttl / n, 3) for i, m in enumerate(members)}


def _rank(values: Sequence[float], p: float) -> float:
    """Nearest rank over values that may hold +inf (a member that never converged)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _finite(x: float) -> float | None:
    return None if math.isinf(x) else round(x, 3)


@dataclass
class Population:
    """One change seen over every vantage of the population: when each one first and
    stably served the new values (seconds since the change began), and the distribution.

    Percentiles are nearest-rank (the value of a member that was measured, never an
    interpolation between two resolvers); a member that never converged counts as
    +inf, so it pushes p95/max to None (never) rather than vanishing from the figures.
    With fewer than 20 members nearest-rank p95 is the max: n is reported beside it.
    """

    n: int
    converged: int
    p50: float | None
    p95: float | None
    max: float | None
    ttl: int
    margin: float
    bound: float
    within_bound: bool  # every member converged and max <= TTL + margin
    per_vantage: dict[str, float | None]
    unconverged: list[str]
    percentile: str = "nearest-rank"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def population(
    per_vantage: Sequence[Convergence], members: Sequence[str], ttl: int, margin: float
) -> Population:
    """The distribution of per-member convergence (each member's slowest stream)."""
    by_name = {c.vantage: c.stable for c in per_vantage}
    times = {m: by_name.get(m) for m in members}
    values = [math.inf if t is None else t for t in times.values()]
    bound = ttl + margin
    unconverged = sorted(m for m, t in times.items() if t is None)
    p50 = _finite(_rank(values, 50)) if values else None
    p95 = _finite(_rank(values, 95)) if values else None
    top = _finite(max(values)) if values else None
    return Population(
        n=len(members),
        converged=len(members) - len(unconverged),
        p50=p50,
        p95=p95,
        max=top,
        ttl=ttl,
        margin=margin,
        bound=bound,
        within_bound=bool(members) and top is not None and top <= bound,
        per_vantage={m: (None if t is None else round(t, 3)) for m, t in times.items()},
        unconverged=unconverged,
    )
