"""A finished run as one JSON-able document: steps, measurements, verdict, timeline.

Pure: it reads a RunResult (data) and returns a dict. Renderers
(dnsops/render/drill.py) turn the dict into markdown and HTML; history.py
writes the files. The same dict is what ``drill run --format json`` prints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dnsops.drill import measure
from dnsops.drill.executor import RunResult
from dnsops.drill.machine import verdict
from dnsops.drill.measure import Expectation, Sample
from dnsops.drill.model import Failback, ProviderOutage, RecordFailover

FORMAT = "dnsops-drill-report/1"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _windows(result: RunResult) -> dict[str, list[tuple[float, Expectation]]]:
    """probe -> [(from t, expectation)], so each sample is judged by what held at its time."""
    out: dict[str, list[tuple[float, Expectation]]] = {}
    for key, exp in result.machine.expectations.items():
        out.setdefault(key, []).append((float("-inf"), exp))
    for _i, extra in sorted(result.step_extras.items()):
        if "change_at" in extra:
            key = extra["record"]
            old, new = frozenset(extra["old"]), frozenset(extra["new"])
            windows = out.setdefault(key, [])
            if len(windows) == 1 and windows[0][0] == float("-inf"):
                windows[0] = (float("-inf"), Expectation(old, frozenset()))
            windows.append((extra["change_at"], Expectation(old, new)))
    return out


def classify_all(result: RunResult) -> list[tuple[Sample, str]]:
    """Each sample judged by the expectation of its time. A record that never changes
    answers ``ok`` (not old/new); an answer that needed the stub's retry is ``retry``."""
    windows = _windows(result)
    out: list[tuple[Sample, str]] = []
    for s in result.samples:
        exp = None
        for start, e in windows.get(s.probe, []):
            if s.t >= start:
                exp = e
        outcome: str = measure.classify(s, exp)
        if outcome in ("old", "new") and len(windows.get(s.probe, [])) <= 1:
            outcome = "ok"
        if outcome in ("ok", "old", "new") and s.attempts > 1:
            outcome = "retry"
        out.append((s, outcome))
    return out


def _added_floored(impact: dict[str, Any]) -> dict[str, Any]:
    """Added latency is latency *above* the steady state's (p50 over p50, p95 over p95):
    an outage window that happened to answer faster added 0, not a negative number."""
    for key in ("added_p50_ms", "added_p95_ms"):
        if impact.get(key) is not None:
            impact[key] = max(0.0, impact[key])
    return impact


def _step_title(step: Any) -> str:
    if isinstance(step, ProviderOutage):
        return f"provider-outage {step.provider} ({step.method}, {step.duration:g} s)"
    if isinstance(step, RecordFailover):
        return f"record-failover {step.fqdn} {step.type}"
    if isinstance(step, Failback):
        return "failback" + (f" {step.name}.{step.zone}" if step.zone else "")
    return str(step.kind)


def build(result: RunResult) -> dict[str, Any]:
    sc = result.scenario
    m = result.machine
    samples = result.samples
    end_t = max((s.t for s in samples), default=0.0)
    expectations = m.expectations
    steps_doc = []
    for rec in m.records:
        step = sc.steps[rec.index]
        extra = dict(result.step_extras.get(rec.index, {}))
        doc: dict[str, Any] = {
            "index": rec.index,
            "kind": rec.kind,
            "title": _step_title(step),
            "started": round(rec.started, 3),
            "ended": None if rec.ended is None else round(rec.ended, 3),
            "started_at": _iso(result.started_wall + rec.started),
            "ok": rec.ok,
            "why": rec.detail.get("why", ""),
            **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in extra.items()},
        }
        if isinstance(step, ProviderOutage) and "fault_at" in extra:
            until = extra.get("restore_at", rec.ended or end_t)
            impact = measure.outage_impact(
                samples, expectations, (0.0, extra["fault_at"]), (extra["fault_at"], until)
            )
            doc["impact"] = [_added_floored(x.to_json()) for x in impact]
            low = [x for x in impact if x.success_fraction < sc.expect_success]
            if low and rec.ok:
                rec.ok = False
                rec.detail["why"] = "resolution success fell to " + ", ".join(
                    f"{x.vantage} {x.success_fraction:.1%}" for x in low
                )
        if isinstance(step, ProviderOutage) and extra.get("method") == "isolate":
            doc["note"] = (
                "This was an ISOLATION, not an outage: nothing was taken down. Every record "
                "was resolved only through the other provider's nameservers to prove it alone "
                "serves the complete, correct zone."
            )
        if isinstance(step, RecordFailover | Failback) and "change_at" in extra:
            until = rec.ended if rec.ended is not None else end_t
            conv = measure.convergence(
                samples,
                extra["record"],
                Expectation(frozenset(extra["old"]), frozenset(extra["new"])),
                extra["change_at"],
                until,
                extra["ttl"] + extra["margin"],
            )
            doc["bound"] = extra["ttl"] + extra["margin"]
            doc["apply_seconds"] = round(extra["applied_at"] - extra["change_at"], 3)
            doc["convergence"] = [c.to_json() for c in conv]
            pop = measure.population(conv, result.vantages, extra["ttl"], extra["margin"])
            doc["population"] = {
                **pop.to_json(),
                "prime": extra.get("prime"),
                "primed_before": extra.get("primed_before", {}),
            }
            if not pop.within_bound and rec.ok:
                rec.ok = False
                late = [v for v, t in pop.per_vantage.items() if t is None or t > pop.bound]
                rec.detail["why"] = (
                    f"not converged within TTL {extra['ttl']} s + margin {extra['margin']:g} s at "
                    + ", ".join(sorted(late))
                )
        doc["ok"], doc["why"] = rec.ok, rec.detail.get("why", "")
        steps_doc.append(doc)
    v = verdict(sc, m.records, m.aborted, result.rollback.verified)
    return {
        "format": FORMAT,
        "run_id": result.run_id,
        "scenario": {
            "name": sc.name,
            "file": sc.file,
            "hypothesis": sc.hypothesis.strip(),
            "cadence_days": round(sc.cadence / 86400, 2),
        },
        "environment": result.environment,
        "lab": result.lab,
        "started_at": _iso(result.started_wall),
        "ended_at": _iso(result.ended_wall),
        "duration_seconds": round(result.ended_wall - result.started_wall, 1),
        "verdict": v.word,
        "reasons": v.reasons,
        "aborted": None
        if m.aborted is None
        else {"cause": m.aborted.cause, "reason": m.aborted.reason},
        "preflight": [r.to_json() for r in result.preflight],
        "steps": steps_doc,
        "rollback": result.rollback.to_json(),
        "vantages": result.vantages,
        "instances": instances(result),
        "probing": sc.probing.model_dump(),
        "timeline": timeline(result),
    }


def instances(result: RunResult) -> dict[str, dict[str, int]]:
    """Per vantage, which instances of its resolver answered (NSID, RFC 5001) and how
    often: an anycast resolver's sites; empty for a vantage whose replies carry none."""
    out: dict[str, dict[str, int]] = {v: {} for v in result.vantages}
    for s in result.samples:
        if s.nsid is not None:
            seen = out.setdefault(s.vantage, {})
            seen[s.nsid] = seen.get(s.nsid, 0) + 1
    return {v: dict(sorted(n.items())) for v, n in out.items()}


def timeline(result: RunResult) -> dict[str, Any]:
    """Samples per vantage as [t, outcome, latency ms, probe, stream], plus marks."""
    per: dict[str, list[list[Any]]] = {v: [] for v in result.vantages}
    for s, outcome in classify_all(result):
        lat = None if s.latency is None else round(s.latency * 1000, 1)
        per.setdefault(s.vantage, []).append([s.t, outcome, lat, s.probe, s.stream])
    marks = []
    for rec in result.machine.records:
        extra = result.step_extras.get(rec.index, {})
        label = f"step {rec.index + 1} {rec.kind}"
        marks.append({"t": round(rec.started, 3), "label": label, "kind": "step"})
        if "fault_at" in extra:
            marks.append({"t": round(extra["fault_at"], 3), "label": "fault", "kind": "fault"})
        if "restored_at" in extra:
            marks.append(
                {"t": round(extra["restored_at"], 3), "label": "restored", "kind": "restore"}
            )
        if "change_at" in extra:
            c = extra["change_at"]
            marks.append({"t": round(c, 3), "label": "change", "kind": "change"})
            marks.append(
                {"t": round(c + extra["ttl"], 3), "label": f"TTL {extra['ttl']} s", "kind": "ttl"}
            )
            marks.append(
                {
                    "t": round(c + extra["ttl"] + extra["margin"], 3),
                    "label": f"TTL + margin {extra['margin']:g} s",
                    "kind": "bound",
                }
            )
    probes = sorted({s.probe for s in result.samples})
    end = max((s.t for s in result.samples), default=0.0)
    return {"end": round(end, 3), "probes": probes, "vantages": per, "marks": marks}
