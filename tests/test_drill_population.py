"""Convergence over a population of resolvers: the priming schedule and the distribution,
with hand-built samples and exact figures (no lab: tests/test_drill_lab.py runs it for real)."""

from __future__ import annotations

import pytest

from dnsops.drill.measure import (
    Expectation,
    Sample,
    convergence,
    population,
    prime_schedule,
)
from dnsops.render.drill import markdown, population_html, population_md, population_rows

OLD = ("192.0.2.20",)
NEW = ("198.51.100.20",)
EXP = Expectation(frozenset(OLD), frozenset(NEW))
PROBE = "api.example.test. A"
NAMES = ["iad", "lhr", "nrt", "sfo", "fra", "sin", "gru", "bom"]


def test_staggered_schedule_spreads_the_caches_over_the_ttl() -> None:
    assert prime_schedule(NAMES, 8, "staggered") == {
        "iad": 0.0, "lhr": 1.0, "nrt": 2.0, "sfo": 3.0,
        "fra": 4.0, "sin": 5.0, "gru": 6.0, "bom": 7.0,
    }  # fmt: skip
    # 60 s over 8: one every 7.5 s; the earliest primed 52.5 s before the change, so its
    # cache expires 7.5 s after it, the last one's (primed at the change) after 60 s
    sixty = prime_schedule(NAMES, 60, "staggered")
    assert list(sixty.values()) == [0.0, 7.5, 15.0, 22.5, 30.0, 37.5, 45.0, 52.5]
    expires_after_change = sorted(60 - before for before in sixty.values())
    assert expires_after_change == [7.5, 15.0, 22.5, 30.0, 37.5, 45.0, 52.5, 60.0]
    assert prime_schedule(["a", "b", "c"], 2, "staggered") == {"a": 0.0, "b": 0.667, "c": 1.333}


def test_together_primes_every_cache_at_the_change() -> None:
    assert prime_schedule(NAMES, 60, "together") == dict.fromkeys(NAMES, 0.0)
    assert prime_schedule([], 60, "staggered") == {}


def samples_converging_at(times: dict[str, float | None], change_at: float = 10.0) -> list[Sample]:
    """Every vantage sampled every 0.5 s for 12 s after the change (two streams); each
    answers old until its time (both streams), new from then on; None: old throughout."""
    out = []
    for v, at in times.items():
        for k in range(25):
            t = change_at + k / 2
            new = at is not None and t - change_at >= at
            for stream in (0, 1):
                out.append(Sample(t, v, PROBE, stream, "NOERROR", NEW if new else OLD, 0.001))
    return out


def pop_of(times: dict[str, float | None], ttl: int = 8, margin: float = 2.0):  # type: ignore[no-untyped-def]
    conv = convergence(samples_converging_at(times), PROBE, EXP, 10.0, 22.5, ttl + margin)
    return population(conv, list(times), ttl, margin)


def test_population_nearest_rank_over_eight() -> None:
    times: dict[str, float | None] = {
        "iad": 8.0, "lhr": 7.0, "nrt": 6.0, "sfo": 5.0,
        "fra": 4.0, "sin": 3.0, "gru": 2.0, "bom": 1.0,
    }  # fmt: skip
    pop = pop_of(times)
    # nearest rank: p50 is the 4th of 8 (ceil(0.5·8)), p95 the 8th (ceil(0.95·8) = 8),
    # so with fewer than 20 members p95 is the max; an interpolated p95 would be 7.65 s,
    # a time no resolver took
    assert (pop.n, pop.converged, pop.p50, pop.p95, pop.max) == (8, 8, 4.0, 8.0, 8.0)
    assert (pop.ttl, pop.margin, pop.bound, pop.within_bound) == (8, 2.0, 10.0, True)
    assert pop.per_vantage == times and pop.unconverged == []
    assert pop.percentile == "nearest-rank"
    assert pop.p50 is not None and pop.p95 is not None and pop.max is not None
    assert pop.p50 < pop.p95 <= pop.max <= pop.ttl + pop.margin


def test_population_of_twenty_separates_p95_from_max() -> None:
    times: dict[str, float | None] = {f"r{i:02d}": i / 2 for i in range(1, 21)}
    pop = pop_of(times, ttl=10)
    assert (pop.n, pop.p50, pop.p95, pop.max) == (20, 5.0, 9.5, 10.0)


def test_one_member_never_converging_fails_the_population() -> None:
    times: dict[str, float | None] = {"iad": 1.0, "lhr": 2.0, "nrt": None}
    pop = pop_of(times)
    assert (pop.n, pop.converged, pop.unconverged) == (3, 2, ["nrt"])
    # the member that never converged is +inf: it is the p95 and the max (never), not dropped
    assert (pop.p50, pop.p95, pop.max, pop.within_bound) == (2.0, None, None, False)
    assert pop.per_vantage == {"iad": 1.0, "lhr": 2.0, "nrt": None}


def test_a_member_without_samples_counts_as_never() -> None:
    pop = population([], ["iad"], 2, 1.0)
    assert (pop.n, pop.converged, pop.max, pop.within_bound) == (1, 0, None, False)


def test_above_the_bound_is_not_within() -> None:
    pop = pop_of({"iad": 1.0, "lhr": 11.0}, ttl=8, margin=2.0)
    assert (pop.p50, pop.max, pop.within_bound) == (1.0, 11.0, False)


def test_the_report_shows_the_distribution_fastest_first() -> None:
    pop = pop_of({"iad": 8.0, "lhr": 1.0, "nrt": None}).to_json()
    pop |= {"prime": "staggered", "primed_before": {"iad": 0.0, "lhr": 5.333, "nrt": 2.667}}
    assert population_rows(pop) == [("lhr", 5.333, 1.0), ("iad", 0.0, 8.0), ("nrt", 2.667, None)]
    md = population_md(pop)
    assert md[1] == (
        "Convergence over 3 vantages (2 converged, caches primed staggered): p50 8 s, "
        "p95 -, max - (nearest-rank), NOT within TTL 8 s + margin 2 s = 10 s."
    )
    assert md[3:] == [
        "| vantage | cache primed | converged |",
        "|---|---|---|",
        "| lhr | 5.333 s before | 1 s after the change |",
        "| iad | 0 s before | 8 s after the change |",
        "| nrt | 2.667 s before | never |",
    ]
    html = population_html(pop)
    assert html.startswith('<section class="population"><h4>Convergence over the population')
    assert "<tr><td>lhr</td><td>5.333 s before</td><td>1 s after the change</td></tr>" in html
    assert '<td>nrt</td><td>2.667 s before</td><td><span class="bad">never</span></td>' in html
    assert html.index("<td>lhr</td>") < html.index("<td>iad</td>") < html.index("<td>nrt</td>")


def test_markdown_report_has_the_population_section() -> None:
    pop = pop_of({"iad": 2.0, "lhr": 1.0}).to_json() | {"prime": "together", "primed_before": {}}
    step = {
        "index": 0, "kind": "record-failover", "title": "record-failover api", "ok": True,
        "started_at": "", "why": "", "started": 0.0, "ended": 5.0, "record": PROBE,
        "old": list(OLD),
        "new": list(NEW), "ttl": 8, "bound": 10.0, "apply_seconds": 0.5, "convergence": [],
        "population": pop,
    }  # fmt: skip
    doc = {
        "scenario": {"name": "x", "hypothesis": "h", "file": "", "cadence_days": 92},
        "run_id": "r", "environment": "lab", "lab": True, "verdict": "pass", "reasons": [],
        "started_at": "", "ended_at": "", "duration_seconds": 5.0, "aborted": None,
        "preflight": [], "steps": [step], "rollback": {"undone": [], "verified": True,
        "problems": []}, "vantages": ["iad", "lhr"], "probing": {},
    }  # fmt: skip
    md = markdown(doc)
    assert "Convergence over 2 vantages (2 converged, caches primed together): p50 1 s" in md
    assert "| lhr | - | 1 s after the change |" in md


def test_the_text_summary_gives_the_distribution_not_eight_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dnsops.cli.drill import _summary

    pop = pop_of({"iad": 8.0, "lhr": 1.0, "nrt": 4.0}).to_json() | {
        "prime": "staggered",
        "primed_before": {"iad": 0.0, "lhr": 5.333, "nrt": 2.667},
    }
    doc = {
        "scenario": {"name": "x"}, "verdict": "pass", "duration_seconds": 30.0, "reasons": [],
        "steps": [{"index": 0, "title": "record-failover api", "ok": True,
                   "convergence": [{"vantage": "iad"}], "population": pop}],
        "rollback": {"verified": True},
    }  # fmt: skip
    _summary(doc)
    lines = capsys.readouterr().out.splitlines()
    assert lines[2:4] == [
        "     convergence over 3 vantages (3 converged, caches primed staggered): p50 4 s, "
        "p95 8 s, max 8 s (nearest-rank), within TTL 8 s + margin 2 s = 10 s",
        "     lhr 1 s, nrt 4 s, iad 8 s",
    ]
