"""Findings as a rich table, JSON, markdown or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.table import Table

from dnsops.findings import Finding, Severity
from dnsops.render import markdown as md

STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.ERROR: "red",
    Severity.WARNING: "yellow",
    Severity.NOTICE: "cyan",
    Severity.INFO: "dim",
}


def table(findings: Iterable[Finding], title: str) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for col in ("severity", "id"):
        t.add_column(col, no_wrap=True)  # short, and grep-able in narrow CI logs
    for col in ("subject", "where", "message"):
        t.add_column(col, overflow="fold")
    for f in findings:
        msg = f.message + (f"\n[dim]hint: {f.hint}[/dim]" if f.hint else "")
        t.add_row(f"[{STYLE[f.severity]}]{f.severity}[/]", f.id, f.subject, f.where or "", msg)
    return t


def to_json(findings: Iterable[Finding], **extra: Any) -> str:
    doc = {**extra, "findings": [f.to_json() for f in findings]}
    return json.dumps(doc, indent=2, sort_keys=False, default=str)


def markdown(findings: list[Finding], title: str) -> str:
    """A table of findings under ``### title`` (``title`` is markdown: escape data in it)."""
    lines = [f"### {title}", ""]
    if not findings:
        return "\n".join([*lines, "No findings.", ""])
    lines += ["| severity | id | subject | where | message |", "|---|---|---|---|---|"]
    for f in findings:
        msg = f.message + (f" (hint: {f.hint})" if f.hint else "")
        lines.append(md.row([str(f.severity), f.id, f.subject, f.where or "", msg]))
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


def by_zone(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """Findings grouped by zone, zones in order (findings without a zone under '')."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.zone or "", []).append(f)
    return dict(sorted(groups.items()))


def zone_tables(findings: Iterable[Finding], title: str) -> list[Table]:
    """One rich table per zone: ``title — zone``."""
    return [
        table(group, f"{title} — {zone}" if zone else title)
        for zone, group in by_zone(findings).items()
    ]


def suppressed_table(findings: Iterable[Finding], title: str = "suppressed") -> Table:
    t = Table(title=title, title_justify="left")
    for col in ("id", "subject", "where", "reason"):
        t.add_column(col, overflow="fold")
    for f in findings:
        t.add_row(f.id, f.subject, f.where or "", f.suppressed or "")
    return t


def markdown_by_zone(
    findings: list[Finding],
    title: str,
    suppressed: list[Finding] | None = None,
    summary: str = "",
    whole: str = "`dnsops lint --format json`",
) -> str:
    """A PR comment: a section per zone, then the suppressions with their reasons; cut
    to GitHub's comment limit (``whole`` says where to see everything)."""
    lines = [f"### {md.text(title)}", ""]
    if summary:
        lines += [md.text(summary), ""]
    if not findings:
        lines += ["No findings.", ""]
    for zone, group in by_zone(findings).items():
        body = markdown(group, md.text(zone) if zone else "other").split("\n")
        lines += ["#" + body[0], *body[1:]]
    if suppressed:
        lines += [f"#### Suppressed ({len(suppressed)})", ""]
        lines += ["| id | subject | where | reason |", "|---|---|---|---|"]
        for f in suppressed:
            lines.append(md.row([f.id, f.subject, f.where or "", f.suppressed or ""]))
        lines.append("")
    return md.fit("\n".join(lines), whole)


def github_suppressed(findings: Iterable[Finding]) -> str:
    """Suppressions as notice annotations, so a PR shows what is being waived."""
    notices = [
        f.model_copy(
            update={
                "severity": Severity.NOTICE,
                "message": f"suppressed ({f.suppressed}): {f.message}",
                "hint": None,
            }
        )
        for f in findings
    ]
    return github(notices)
