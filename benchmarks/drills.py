"""Figure 5: how long the last lab drill's change took to reach each vantage, vs its TTL.

Reads the JSON reports ``dnsops drill run`` writes to drills/history/ (format
``dnsops-drill-report/1``): each record-failover or failback step holds the
record's ``ttl`` and, per vantage, ``max`` = seconds from the change until every
probe stream of that resolver answered the new values for good. The target is
max <= TTL + 1 s: a resolver serves the old answer at most for its cached TTL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.table import Row, missing_row

TARGET = "≤ TTL + 1 s"
SLACK = 1.0


def last_lab_report(history: Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest lab drill report with a measured convergence, or None."""
    found: list[tuple[str, Path, dict[str, Any]]] = []
    for path in sorted(history.glob("*.json")) if history.is_dir() else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or not str(doc.get("format", "")).startswith(
            "dnsops-drill-report/"
        ):
            continue
        if doc.get("lab") and any(s.get("convergence") for s in doc.get("steps", [])):
            found.append((str(doc.get("started_at", "")), path, doc))
    if not found:
        return None
    _, path, doc = max(found, key=lambda x: (x[0], x[1].name))
    return path, doc


def rows(history: Path) -> list[Row]:
    got = last_lab_report(history)
    if got is None:
        return [
            missing_row(
                "last lab drill: convergence per vantage",
                TARGET,
                f"no lab drill report with a convergence in {history} "
                "(run one: `dnsops drill run api-failover`, or the harness's --drill)",
            )
        ]
    path, doc = got
    # per vantage, the step where it came closest to (or went over) its bound
    worst: dict[str, tuple[float, float | None, int, dict[str, Any]]] = {}
    for step in doc["steps"]:
        ttl = step.get("ttl")
        if ttl is None:
            continue
        for conv in step.get("convergence", []):
            value = conv.get("max")
            over = float("inf") if value is None else value - ttl
            vantage = conv["vantage"]
            if vantage not in worst or over > worst[vantage][0]:
                worst[vantage] = (over, value, ttl, {"step": step.get("title"), **conv})
    out = []
    name = doc.get("scenario", {}).get("name", "?")
    for vantage in doc.get("vantages") or sorted(worst):
        if vantage not in worst:
            out.append(
                missing_row(
                    f"drill {name}: convergence at {vantage}",
                    TARGET,
                    "no convergence measured for this vantage",
                )
            )
            continue
        _, value, ttl, conv = worst[vantage]
        out.append(
            Row(
                figure=f"drill {name}: convergence at {vantage} (max over streams)",
                dnsops="never" if value is None else f"{value:.2f} s",
                anchor=f"TTL {ttl} s",
                ratio=None if value is None else value / ttl,
                target=TARGET,
                met=value is not None and value <= ttl + SLACK,
                note=f"{conv['step']}; run {doc.get('run_id')} ({doc.get('started_at')}), "
                f"{path.name}; first correct {conv.get('first_correct')} s",
                data={"report": str(path), "ttl": ttl, "convergence": conv},
            )
        )
    return out
