"""The harness's result: one row per figure, printed as a markdown table and saved as JSON."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

NOT_AVAILABLE = "not available"


@dataclass
class Row:
    """One figure: dnsops's value, the anchor's, their ratio and the target.

    ``lower_is_better`` says which way the target points: a time ratio must stay
    at or below ``target``, a throughput ratio at or above it. ``limit`` (when
    set) is compared with ``value`` instead of the ratio (the drill's TTL + 1 s).
    ``ratio`` is the wall-time (or throughput) ratio; ``cpu_ratio`` the CPU seconds'
    ratio where both sides are processes; ``load`` the 1-minute load average when the
    row's group started (other work on the machine moves wall times).
    """

    figure: str
    dnsops: str
    anchor: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    cpu_ratio: float | None = None
    load: float | None = None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        for key in ("ratio", "cpu_ratio"):
            if doc[key] is not None and not math.isfinite(doc[key]):
                doc[key] = None
        return doc


def ratio_row(
    figure: str,
    ours: float,
    theirs: float,
    *,
    unit: str,
    target: float,
    lower_is_better: bool,
    note: str = "",
    data: dict[str, Any] | None = None,
    digits: int = 2,
) -> Row:
    """A row comparing two measured numbers (``ours / theirs`` against ``target``)."""
    ratio = ours / theirs if theirs else math.inf
    met = ratio <= target if lower_is_better else ratio >= target
    sign = "≤" if lower_is_better else "≥"
    return Row(
        figure=figure,
        dnsops=_fmt(ours, unit, digits),
        anchor=_fmt(theirs, unit, digits),
        ratio=ratio,
        target=f"{sign} {target:g}",
        met=met,
        note=note,
        data=data or {},
    )


def missing_row(figure: str, target: str, why: str, anchor: str = "-") -> Row:
    """A figure that could not be measured (command not on main yet, no drill report...)."""
    return Row(figure, NOT_AVAILABLE, anchor, None, target, None, note=why)


def _fmt(value: float, unit: str, digits: int) -> str:
    if unit == "q/s":
        return f"{value:,.0f} q/s"
    return f"{value:.{digits}f} {unit}".rstrip()


def _num(ratio: float | None) -> str:
    return "-" if ratio is None or not math.isfinite(ratio) else f"{ratio:.2f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[Row], title: str = "dnsops benchmarks") -> str:
    lines = [
        f"### {title}",
        "",
        "| figure | dnsops | anchor | ratio | CPU ratio | target | load | met? |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "n/a" if r.met is None else ("yes" if r.met else "**NO**")
        load = "-" if r.load is None else f"{r.load:.1f}"
        lines.append(
            f"| {_cell(r.figure)} | {_cell(r.dnsops)} | {_cell(r.anchor)} | {_num(r.ratio)} "
            f"| {_num(r.cpu_ratio)} | {_cell(r.target)} | {load} | {met} |"
        )
    notes = [f"- {r.figure}: {r.note}" for r in rows if r.note]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
