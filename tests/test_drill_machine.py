"""The drill's state machine and measurements, driven with hand-built samples and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dnsops.drill.history import cadence_status
from dnsops.drill.machine import ChangeWindow, DrillMachine, Undo, rollback_plan, verdict
from dnsops.drill.measure import (
    Expectation,
    Sample,
    classify,
    convergence,
    outage_impact,
    percentile,
    settled_now,
)
from dnsops.drill.model import Scenario

OLD = frozenset({"192.0.2.20"})
NEW = frozenset({"198.51.100.20"})
EXP = Expectation(OLD, NEW)
PROBE = "api.example.test. A"


def scenario(**over: object) -> Scenario:
    data: dict[str, object] = {
        "name": "t",
        "hypothesis": "h",
        "steps": [
            {"kind": "provider-outage", "provider": "pdns", "duration": "10s"},
            {"kind": "record-failover", "zone": "example.test", "name": "api"},
            {"kind": "failback"},
        ],
        "abort": {"success_below": 0.9, "for": "3s", "margin": "2s"},
        "max_duration": "60s",
        "probing": {"streams": 1, "rate": 5},
    }
    data.update(over)
    return Scenario.model_validate(data)


def s(
    t: float,
    v: str = "iad",
    values: tuple[str, ...] = ("192.0.2.20",),
    rcode: str | None = "NOERROR",
    probe: str = PROBE,
    stream: int = 0,
    latency: float | None = 0.01,
) -> Sample:
    error = None if rcode else "timeout"
    return Sample(
        t, v, probe, stream, rcode, values if rcode else (), latency if rcode else None, error
    )


def test_classify() -> None:
    assert classify(s(0), EXP) == "old"
    assert classify(s(0, values=("198.51.100.20",)), EXP) == "new"
    assert classify(s(0, values=("203.0.113.1",)), EXP) == "wrong"
    assert classify(s(0, rcode="SERVFAIL"), EXP) == "fail"
    assert classify(s(0, rcode=None), EXP) == "fail"
    assert classify(s(0, rcode="NXDOMAIN", probe="nx:example.test."), None) == "ok"


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 95) == 4.0


def test_steps_in_order_then_none() -> None:
    m = DrillMachine(scenario(), ["iad"])
    assert m.next_step() == 0
    m.step_started(0, 1.0)
    with pytest.raises(RuntimeError):
        m.next_step()
    m.step_finished(2.0, True)
    assert m.next_step() == 1


def test_outage_step_finishes_after_its_duration() -> None:
    m = DrillMachine(scenario(), ["iad"])
    m.step_started(0, 2.0)
    good = [s(t / 5, probe="nx:example.test.", rcode="NXDOMAIN") for t in range(60)]
    assert m.decide(11.9, good).verb == "continue"
    assert m.decide(12.0, good).verb == "finish-step"


def test_resolution_guardrail_aborts_below_threshold_over_the_window() -> None:
    m = DrillMachine(scenario(), ["iad", "lhr"])
    m.step_started(0, 2.0)
    samples = [s(t / 5, "lhr") for t in range(50)]
    # iad: [7 s, 10 s] holds 16 samples of which 2 failed -> 87.5 % < 90 %
    samples += [s(t / 5, "iad", rcode=None if t in (45, 47) else "NOERROR") for t in range(51)]
    m.expectations[PROBE] = Expectation(OLD, OLD)
    d = m.decide(10.0, samples)
    assert (d.verb, d.cause) == ("abort", "resolution")
    assert d.reason == "resolution success below 90% for 3 s: iad 88%"
    # one failure in the window (14/15 = 93 %) is tolerated
    samples = [x for x in samples if not (x.vantage == "iad" and x.t == 9.4)]
    assert m.decide(10.0, samples).verb == "continue"


def test_max_duration_aborts() -> None:
    m = DrillMachine(scenario(), ["iad"])
    d = m.decide(60.5, [])
    assert (d.verb, d.cause, d.reason) == (
        "abort",
        "max-duration",
        "maximum duration 60 s exceeded",
    )


def _window(m: DrillMachine, change_at: float, ttl: int) -> ChangeWindow:
    return ChangeWindow(PROBE, EXP, ttl, 2.0, change_at, change_at + 0.1,
                        m.deadline(change_at, ttl, 2.0, None))  # fmt: skip


def test_failover_finishes_once_every_stream_settled() -> None:
    m = DrillMachine(scenario(), ["iad", "lhr"])
    m.step_started(1, 10.0)
    assert m.decide(10.1, []).verb == "continue"  # the change is being applied
    m.change_applied(_window(m, 10.0, 5))
    new = ("198.51.100.20",)
    samples = [s(10 + t / 5, v, values=new if t >= 15 else OLD_T) for v in ("iad", "lhr")
               for t in range(30)]  # fmt: skip
    assert settled_now(samples, PROBE, EXP, ["iad", "lhr"], 1, 14.0, 1.0) is True
    assert m.decide(13.5, samples).verb == "continue"  # lhr and iad still old at 12.8
    assert m.decide(14.0, samples).verb == "finish-step"


OLD_T = ("192.0.2.20",)


def test_convergence_deadline_is_ttl_plus_margin_or_the_drills_deadline() -> None:
    m = DrillMachine(scenario(), ["iad"])
    m.step_started(1, 10.0)
    m.change_applied(_window(m, 10.0, 3))
    old_only = [s(10 + t / 5) for t in range(30)]
    assert m.decide(14.9, old_only).verb == "continue"
    d = m.decide(15.0, old_only)
    assert (d.verb, d.cause) == ("abort", "convergence")
    assert d.reason == (
        "api.example.test. A: not converged at every vantage after 5.0 s "
        "(TTL 3 s + margin 2 s = 5 s)"
    )
    # a TTL far above the drill's deadline: the max duration ends the wait, and says so
    m2 = DrillMachine(scenario(), ["iad"])
    m2.step_started(1, 10.0)
    m2.change_applied(_window(m2, 10.0, 3600))
    assert m2.change is not None and m2.change.deadline == 60.0
    d2 = m2.decide(60.0, old_only)
    assert d2.cause == "convergence"
    assert "the drill's deadline (50 s) came before TTL 3600 s + margin 2 s" in d2.reason


def test_convergence_measures_per_vantage_and_stream() -> None:
    new = ("198.51.100.20",)
    samples = []
    for t in range(20):  # change at 10.0; samples every 0.5 s from 10.0
        at = 10 + t / 2
        samples.append(s(at, "iad", values=new if at >= 12.5 else OLD_T, stream=0))
        samples.append(s(at, "iad", values=new if at >= 13.5 else OLD_T, stream=1))
        # lhr flaps once after its first new answer
        samples.append(s(at, "lhr", values=new if at >= 11.0 and at != 12.0 else OLD_T))
    out = {c.vantage: c for c in convergence(samples, PROBE, EXP, 10.0, 20.0, bound=3.0)}
    iad, lhr = out["iad"], out["lhr"]
    assert (iad.first_correct, iad.streams, iad.p50, iad.max, iad.converged) == (
        2.5, [2.5, 3.5], 2.5, 3.5, False)  # fmt: skip
    assert iad.stale_fraction == 0.3  # 5 + 7 old of 40
    assert (lhr.first_correct, lhr.stable, lhr.max, lhr.converged) == (1.0, 2.5, 2.5, True)


def test_outage_impact_success_latency_and_detection() -> None:
    nx = "nx:example.test."
    samples = [s(t / 5, "iad", probe=nx, rcode="NXDOMAIN", latency=0.010) for t in range(10)]
    samples += [s(2 + t / 5, "iad", probe=nx, rcode="NXDOMAIN", latency=0.010) for t in range(9)]
    samples += [s(3.8, "iad", probe=nx, rcode="NXDOMAIN", latency=0.400)]
    samples += [s(4.0, "iad", probe=nx, rcode=None)]
    (x,) = outage_impact(samples, {}, (0.0, 2.0), (2.0, 4.0))
    assert (x.samples, x.success_fraction, x.timeout_fraction) == (11, round(10 / 11, 4), 0.0909)
    assert (x.baseline_p50_ms, x.latency_max_ms, x.added_p50_ms) == (10.0, 400.0, 0.0)
    assert x.time_to_detect == 1.8  # the 400 ms answer, clearly slower than the baseline
    assert x.failures == {"timeout": 1} and x.retried_fraction == 0.0


def test_rollback_plan_providers_first_each_zone_once() -> None:
    actions = [
        {"seq": 1, "kind": "change-record", "zone": "example.test.", "state": "done"},
        {"seq": 2, "kind": "stop-server", "server": "pdns", "state": "intended"},
        {"seq": 3, "kind": "restore-record", "zone": "example.test.", "state": "intended"},
        {"seq": 4, "kind": "drop-traffic", "table": "t1", "state": "done"},
        {"seq": 5, "kind": "stop-server", "server": "bind", "state": "undone"},
    ]
    assert rollback_plan(actions) == [
        Undo("start-server", "pdns", (2,)),
        Undo("delete-nft-table", "t1", (4,)),
        Undo("restore-zone", "example.test.", (1, 3)),
    ]
    with pytest.raises(ValueError, match="unknown kind 'reboot'"):
        rollback_plan([{"seq": 1, "kind": "reboot", "state": "done"}])


def test_verdict() -> None:
    sc = scenario()
    m = DrillMachine(sc, ["iad"])
    for i in range(3):
        m.step_started(i, float(i))
        m.step_finished(i + 0.5, True)
    assert verdict(sc, m.records, None, True).passed
    m.records[1].ok, m.records[1].detail["why"] = False, "slow"
    v = verdict(sc, m.records, m.abort("convergence", "too slow"), False)
    assert v.reasons == [
        "aborted (convergence): too slow",
        "rollback verification failed: the end state is not the state in git",
        "step 2 (record-failover): slow",
    ]


def test_cadence_overdue_without_a_recent_pass() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    sc = [scenario(name="a"), scenario(name="b", cadence="30d"), scenario(name="c")]
    runs = [
        {"scenario": "a", "run_id": "1", "verdict": "pass", "started_at": "2026-04-01T00:00:00Z",
         "report": "r1"},
        {"scenario": "b", "run_id": "2", "verdict": "pass", "started_at": "2026-04-01T00:00:00Z",
         "report": "r2"},
        {"scenario": "b", "run_id": "3", "verdict": "fail", "started_at": "2026-05-30T00:00:00Z",
         "report": "r3"},
    ]  # fmt: skip
    a, b, c = cadence_status(sc, runs, now)
    assert (a.overdue, a.due) == (False, "2026-07-02T00:00:00Z")
    assert (b.overdue, b.last_verdict, b.last_pass) == (True, "fail", "2026-04-01T00:00:00Z")
    assert (c.overdue, c.last_run, c.due) == (True, None, None)
