"""The audit log: one JSON line per run, appended, so the trend can be shown.

Each line is a summary (counts per zone, provider and drift class), never record data
or anything from a provider's credentials.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dnsops.audit.core import counts
from dnsops.audit.model import Audit, Drift
from dnsops.errors import ConfigError, InputError
from dnsops.yamlfile import decode, parse_json, read_bytes

LOG_NAME = "audit.jsonl"


def summary(result: Audit) -> dict[str, Any]:
    """The log line of one run."""
    by_zone = counts(result.findings)
    classes = {str(c): 0 for c in Drift}
    for per_provider in by_zone.values():
        for per_class in per_provider.values():
            for cls, n in per_class.items():
                classes[cls] += n
    return {
        "time": datetime.fromtimestamp(result.started, UTC).isoformat(timespec="seconds"),
        "environment": result.environment,
        "providers": list(result.providers),
        "zones": [z.zone for z in result.zones],
        "records": result.records,
        "consistent": result.consistent,
        "drift": len(result.findings),
        "classes": classes,
        "by_zone": by_zone,
        "duration_s": result.duration,
    }


def append(path: Path, result: Audit) -> dict[str, Any]:
    """Append the run's summary line; the directory must exist (``--log`` is the user's
    path: no directory is made for it; the default, in the state directory, is made by
    the caller)."""
    line = summary(result)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, sort_keys=True) + "\n")
    return line


def read(path: Path, environment: str | None = None) -> list[dict[str, Any]]:
    """Every run in the log, oldest first (only ``environment``'s if given).

    :raises ConfigError: a line is not a JSON object (file and line named).
    """
    shown = str(path)
    try:
        text = decode(read_bytes(path, shown, "audit log"), shown)
    except InputError as exc:
        if not path.exists() and not path.is_symlink():
            return []
        raise ConfigError(exc.message) from None
    runs = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            run = parse_json(raw, shown, first_line=n)
        except InputError as exc:
            raise ConfigError(f"{path}:{n}: not a JSON line: {exc.problem}") from None
        if not isinstance(run, dict) or "time" not in run or "drift" not in run:
            raise ConfigError(f"{path}:{n}: not an audit log entry")
        if environment is None or run.get("environment") == environment:
            runs.append(run)
    return runs
