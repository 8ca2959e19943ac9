"""Findings as a rich table, JSON, markdown or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.table import Table

from dnsops.findings import Finding, Severity

STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.ERROR: "red",
    Severity.WARNING: "yellow",
    Severity.NOTICE: "cyan",
    Severity.INFO: "dim",
}


def table(findings: Iterable[Finding], title: str) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for col in ("severity", "id", "subject", "where", "message"):
        t.add_column(col, overflow="fold")
    for f in findings:
        msg = f.message + (f"\n[dim]hint: {f.hint}[/dim]" if f.hint else "")
        t.add_row(f"[{STYLE[f.severity]}]{f.severity}[/]", f.id, f.subject, f.where or "", msg)
    return t


def to_json(findings: Iterable[Finding], **extra: Any) -> str:
    doc = {**extra, "findings": [f.to_json() for f in findings]}
    return json.dumps(doc, indent=2, sort_keys=False, default=str)


def _md_cell(text: str) -> str:
    """Safe in a markdown table cell: no pipes, no newlines, no HTML."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", "<br>")
    )


def markdown(findings: list[Finding], title: str) -> str:
    lines = [f"### {title}", ""]
    if not findings:
        return "\n".join([*lines, "No findings.", ""])
    lines += ["| severity | id | subject | where | message |", "|---|---|---|---|---|"]
    for f in findings:
        msg = f.message + (f" (hint: {f.hint})" if f.hint else "")
        cells = [str(f.severity), f.id, f.subject, f.where or "", msg]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join([*lines, ""])


_GH_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTICE: "notice",
    Severity.INFO: "notice",
}


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github(findings: Iterable[Finding]) -> str:
    """GitHub Actions workflow commands: ``::error file=F,line=L,title=T::message``."""
    out = []
    for f in findings:
        props = []
        if f.file:
            props.append(f"file={_gh_escape(f.file, True)}")
            if f.line:
                props.append(f"line={f.line}")
        props.append(f"title={_gh_escape(f.id + ': ' + f.subject, True)}")
        msg = f.message + (f" (hint: {f.hint})" if f.hint else "")
        out.append(f"::{_GH_LEVEL[f.severity]} {','.join(props)}::{_gh_escape(msg)}")
    return "\n".join(out) + ("\n" if out else "")
