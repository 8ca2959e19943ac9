"""Vantage points and their check reports: rich tables, markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from dnsops.render import findings as render_findings
from dnsops.render import markdown as md
from dnsops.vantage.check import CheckReport
from dnsops.vantage.summary import Summary


def _ms(v: float | None) -> str:
    return f"{v:.1f}" if v is not None else "-"


def summary_table(rows: Sequence[Summary], title: str, by: str = "vantage") -> Table:
    t = Table(title=title, title_justify="left")
    head = ["vantage", "kind", "region"] if by == "vantage" else ["vantage", by]
    for col in [*head, "answers", "ok", "mismatch", "failed", "success", "p50 ms", "p95 ms"]:
        t.add_column(col, justify="right" if col not in head else "left")
    for s in rows:
        left = [s.vantage, s.kind, s.region] if by == "vantage" else [s.vantage, s.key]
        style = "green" if s.success == 1.0 else "red"
        t.add_row(
            *left,
            str(s.answers),
            str(s.matched),
            str(s.mismatched),
            str(s.failed),
            f"[{style}]{s.success:.1%}[/]",
            _ms(s.p50_ms),
            _ms(s.p95_ms),
        )
    return t


def text(rep: CheckReport) -> list[Any]:
    """Renderables for the terminal: per vantage, per country/ASN (Atlas), findings."""
    out: list[Any] = [
        summary_table(
            rep.summaries(),
            f"vantages of {rep.env}: {len(rep.records)} records, {rep.queries} queries, "
            f"{rep.seconds:.1f} s",
        )
    ]
    if any(r.kind == "ripe-atlas" for r in rep.runs):
        atlas = {r.vantage for r in rep.runs if r.kind == "ripe-atlas"}
        for by in ("country", "asn"):
            rows = [s for s in rep.summaries(by) if s.vantage in atlas]
            if rows:
                out.append(summary_table(rows, f"RIPE Atlas answers by {by}", by))
    if rep.findings:
        out.append("\n".join(render_findings.paragraphs(rep.findings, "findings")))
    else:
        out.append("[green]every vantage answered with the desired records[/]")
    return out


def markdown(rep: CheckReport) -> str:
    lines = [
        f"### dnsops vantage check ({md.text(rep.env)})",
        "",
        "| vantage | kind | region | answers | ok | mismatch | failed | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in rep.summaries():
        cells = [s.vantage, s.kind, s.region, str(s.answers), str(s.matched)]
        cells += [str(s.mismatched), str(s.failed), _ms(s.p50_ms), _ms(s.p95_ms)]
        lines.append(md.row(cells))
    lines.append("")
    body = "\n".join(lines) + render_findings.markdown(rep.findings, "findings")
    return md.fit(body, "`dnsops vantage check --format json`")


def to_json(rep: CheckReport) -> str:
    return json.dumps(rep.to_json(), indent=2, default=str)
