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


# under a root-cause finding (dnsops.health.rootcause): what it explains, by id
FOLDED = "caused by this, folded under it: "


def table(findings: Iterable[Finding], title: str) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False)
    for col in ("severity", "id"):
        t.add_column(col, no_wrap=True)  # short, and grep-able in narrow CI logs
    for col in ("subject", "where", "message"):
        t.add_column(col, overflow="fold")
    for f in findings:
        msg = f.message + (f"\n[dim]hint: {f.hint}[/dim]" if f.hint else "")
        if f.explains:
            msg += f"\n[dim]{FOLDED}{f.explains}[/dim]"
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
        if f.explains:
            msg += f" ({FOLDED}{f.explains})"
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


def paragraphs(findings: Iterable[Finding], title: str, width: int | None = None) -> list[str]:
    """Findings as short paragraphs, readable at 80 columns and in a CI log (rich markup).

    Per zone a heading, then per finding a line ``severity  where  id  subject`` and its
    message indented below; a rule's hint is shown the first time it reads that way,
    not under every finding. ``width``: wrap at it (a terminal's width); None: one line
    each, whatever its length (piped output stays grep-able)."""
    from textwrap import wrap

    from rich.markup import escape

    def lines(text: str, indent: str) -> list[str]:
        if width is None:
            return [indent + escape(text)]
        return [
            escape(x)
            for x in wrap(
                text,
                width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        ] or [indent]

    out: list[str] = []
    shown: set[tuple[str, str]] = set()
    for zone, group in by_zone(findings).items():
        out.append(f"[bold]{escape(f'{title} — {zone}' if zone else title)}[/]")
        for f in group:
            head = "  ".join(x for x in (f.where or "", f.id, f.subject) if x)
            first = lines(head, "")
            first[0] = f"[{STYLE[f.severity]}]{f.severity}[/]  " + first[0]
            out += first
            out += lines(f.message, "    ")
            if f.explains:
                out += [f"[dim]{x}[/]" for x in lines(FOLDED + f.explains, "    ")]
            if f.hint and (f.id, f.hint) not in shown:
                shown.add((f.id, f.hint))
                out += [f"[dim]{x}[/]" for x in lines("hint: " + f.hint, "    ")]
        out.append("")
    return out


def suppressed_lines(findings: Iterable[Finding], title: str = "suppressed") -> list[str]:
    """Suppressed findings, one line each with the reason given (rich markup)."""
    from rich.markup import escape

    rows = [
        "  ".join(x for x in (f.where or "", f.id, f.subject, f"— {f.suppressed or ''}") if x)
        for f in findings
    ]
    return [f"[bold]{escape(title)}[/]", *(f"[dim]{escape(r)}[/]" for r in rows)] if rows else []


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
