"""Prometheus textfile-collector output (node_exporter's ``--collector.textfile``).

The file is written to a temporary name in the same directory and renamed over the
target, so the collector never reads half a file.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dnsops.errors import ConfigError


@dataclass
class Metric:
    name: str
    help: str
    type: str = "gauge"
    samples: list[tuple[Mapping[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> Metric:
        self.samples.append((labels, value))
        return self


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    # six decimals: microseconds for durations, no float noise (0.30000000000000004)
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else repr(value)


def render(metrics: Iterable[Metric]) -> str:
    lines: list[str] = []
    for m in metrics:
        lines.append(f"# HELP {m.name} {m.help}")
        lines.append(f"# TYPE {m.name} {m.type}")
        for labels, value in m.samples:
            inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
            lines.append(
                f"{m.name}{{{inner}}} {_number(value)}" if inner else f"{m.name} {_number(value)}"
            )
    return "\n".join(lines) + "\n"


def write_textfile(path: Path, metrics: Iterable[Metric]) -> None:
    """Write the metrics atomically (temporary file in the same directory, then rename).
    No directory is created (see :func:`dnsops.outpath.check`).

    :raises ConfigError: the file can't be written there (the message says why).
    """
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the metrics file: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render(metrics))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
