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
                }
            )
        except (InputError, KeyError, TypeError):
            continue
    return runs


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
