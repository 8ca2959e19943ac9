"""drills/history/: each run's JSON, markdown and HTML report; cadence and overdue status."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dnsops.config import Project
from dnsops.drill.model import Scenario
from dnsops.errors import InputError
from dnsops.render.drill import html, markdown
from dnsops.render.prometheus import Metric
from dnsops.yamlfile import load_json


def history_dir(project: Project) -> Path:
    return project.drills_dir / "history"


def write_reports(project: Project, doc: dict[str, Any]) -> dict[str, Path]:
    """<run_id>.json / .md / .html in drills/history/; returns the paths by format."""
    out = history_dir(project)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / f"{doc['run_id']}.json",
        "markdown": out / f"{doc['run_id']}.md",
        "html": out / f"{doc['run_id']}.html",
    }
    paths["json"].write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown(doc), encoding="utf-8")
    paths["html"].write_text(html(doc), encoding="utf-8")
    return paths


def past_runs(project: Project) -> list[dict[str, Any]]:
    """Summaries of every JSON report in history (unreadable files are skipped)."""
    runs = []
    for path in sorted(history_dir(project).glob("*.json")):
        try:
            doc = load_json(path, what="drill report")
            runs.append(
                {
                    "scenario": doc["scenario"]["name"],
                    "run_id": doc["run_id"],
                    "verdict": doc["verdict"],
                    "started_at": doc["started_at"],
                    "report": str(path),
                    "convergence": slowest_convergence(doc),
                }
            )
        except (InputError, KeyError, TypeError):
            continue
    return runs


def slowest_convergence(doc: dict[str, Any]) -> float | None:
    """The slowest stream's convergence in a drill report (seconds); +inf when a stream
    never converged; None when the drill measured none."""
    found: list[float] = []
    for step in doc.get("steps") or []:
        for conv in step.get("convergence") or []:
            value = conv.get("max")
            found.append(float("inf") if value is None else float(value))
    return max(found) if found else None


def metrics(rows: list[Cadence], runs: list[dict[str, Any]]) -> list[Metric]:
    """Prometheus textfile metrics per scenario: its last run, verdict, convergence and
    whether it is overdue."""
    last = Metric("dnsops_drill_last_run_timestamp_seconds", "when the scenario last ran")
    passed = Metric("dnsops_drill_last_run_passed", "1 if the last run's hypothesis held")
    good = Metric("dnsops_drill_last_pass_timestamp_seconds", "when the scenario last passed")
    conv = Metric(
        "dnsops_drill_convergence_seconds",
        "the last run's slowest stream convergence (+Inf: a stream never converged)",
    )
    overdue = Metric("dnsops_drill_overdue", "1 if no passing run is within the cadence")
    by_report = {r["report"]: r for r in runs}
    for row in rows:
        labels = {"environment": row.environment or "", "scenario": row.scenario}
        overdue.add(1 if row.overdue else 0, **labels)
        if row.last_run is not None:
            last.add(round(_parse(row.last_run).timestamp(), 3), **labels)
            passed.add(1 if row.last_verdict == "pass" else 0, **labels)
        if row.last_pass is not None:
            good.add(round(_parse(row.last_pass).timestamp(), 3), **labels)
        measured = by_report.get(row.report or "", {}).get("convergence")
        if measured is not None:
            conv.add(measured, **labels)
    return [last, passed, good, conv, overdue]


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


@dataclass
class Cadence:
    scenario: str
    environment: str | None
    cadence_days: float
    last_run: str | None
    last_verdict: str | None
    last_pass: str | None
    due: str | None  # when the next passing run is due (None: never passed = due now)
    overdue: bool
    report: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def cadence_status(
    scenarios: list[Scenario], runs: list[dict[str, Any]], now: datetime
) -> list[Cadence]:
    """A scenario is overdue when no *passing* run is within its cadence (a fail proves nothing)."""
    out = []
    for sc in scenarios:
        mine = sorted((r for r in runs if r["scenario"] == sc.name), key=lambda r: r["started_at"])
        last = mine[-1] if mine else None
        passes = [r for r in mine if r["verdict"] == "pass"]
        last_pass = passes[-1]["started_at"] if passes else None
        due_at = (
            datetime.fromtimestamp(_parse(last_pass).timestamp() + sc.cadence, UTC)
            if last_pass
            else None
        )
        out.append(
            Cadence(
                scenario=sc.name,
                environment=sc.environment,
                cadence_days=round(sc.cadence / 86400, 2),
                last_run=last["started_at"] if last else None,
                last_verdict=last["verdict"] if last else None,
                last_pass=last_pass,
                due=due_at.isoformat(timespec="seconds").replace("+00:00", "Z") if due_at else None,
                overdue=due_at is None or due_at < now,
                report=last["report"] if last else None,
            )
        )
    return out
