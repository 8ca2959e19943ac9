"""Plans and sync results as text (rich markup), markdown (a PR comment) and JSON.

Renderers read the plan models only. Record content is arbitrary (a TXT value
may hold markup, pipes, backticks or ``</details>``), so every record line is
escaped for its medium: rich markup is escaped in text; in markdown
(:mod:`dnsops.render.markdown`), record lines sit in a fenced ``diff`` block whose
fence is longer than any backtick run in it, each at most 2,000 characters, every
other piece of text is literal text, and the comment fits GitHub's limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.markup import escape

from dnsops.render import markdown as md
from dnsops.sync.model import Change, PlanSet, RecordState, SyncResult, ZonePlan

SIGN = {"create": "+", "update": "~", "delete": "-"}
STYLE = {"create": "green", "update": "yellow", "delete": "red"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
WHOLE = "`dnsops plan --format json` or `--format text`"


def _clean(text: str) -> str:
    """No control characters (a record value can't break a line or a terminal)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def record_lines(state: RecordState) -> list[str]:
    """A record set as zone-file lines: ``name ttl type value``, one per value."""
    return [_clean(f"{state.name} {state.ttl} {state.type} {v}") for v in state.values]


def change_lines(change: Change) -> list[tuple[str, str]]:
    """(sign, line) pairs: the old record set with '-', the new one with '+'."""
    out = [("-", line) for line in record_lines(change.old)] if change.old else []
    out += [("+", line) for line in record_lines(change.new)] if change.new else []
    return out


def _heading(change: Change) -> str:
    where = f"  ({change.source})" if change.source else ""
    return _clean(f"{change.action} {change.key}{where}")


# -- text -----------------------------------------------------------------------


def brief(doc: PlanSet) -> list[str]:
    """The plan in counts (rich markup): per provider, what it will create, update and
    delete; what is withheld and what failed to plan, as in :func:`text`."""
    lines = [f"[bold]plan[/] for environment [bold]{escape(doc.environment)}[/]"]
    lines += [f"[bold]{escape(s.line())}[/]" for s in doc.summaries()]
    held = [w for w in doc.withheld if not w.acknowledged]
    if held:
        lines.append(f"[yellow]not held: {len(held)} record(s) (see `dnsops plan`)[/]")
    for provider, error in doc.failed.items():
        lines.append(f"[bold red]{escape(provider)}: could not be planned:[/] {escape(error)}")
    return lines


def text(doc: PlanSet) -> list[str]:
    """Rich markup lines for a terminal."""
    lines = [f"[bold]plan[/] for environment [bold]{escape(doc.environment)}[/]"]
    for zp in doc.plans:
        if not zp.changes and not zp.unsafe:
            continue
        created = "" if zp.exists else " [dim](zone will be created)[/]"
        lines.append("")
        lines.append(f"[bold]{escape(zp.provider)}[/] · {escape(zp.zone)}{created}")
        for change in zp.changes:
            style = STYLE[change.action]
            lines.append(f"  [{style}]{SIGN[change.action]} {escape(_heading(change))}[/]")
            for sign, line in change_lines(change):
                color = "red" if sign == "-" else "green"
                lines.append(f"      [{color}]{sign} {escape(line)}[/]")
        if zp.unsafe:
            lines.append(f"  [bold red]needs --force:[/] {escape(zp.unsafe)}")
    lines.append("")
    lines += [f"[bold]{escape(s.line())}[/]" for s in doc.summaries()]
    if not doc.providers and not doc.failed:
        lines.append("no zone to plan: no provider was asked")
    for w in doc.withheld:
        style = "dim" if w.acknowledged else "yellow"
        lines.append(f"[{style}]not held: {escape(w.line())}[/]")
    for provider, error in doc.failed.items():
        lines.append(f"[bold red]{escape(provider)}: could not be planned:[/] {escape(error)}")
    diffs = doc.differences()
    if diffs:
        lines.append("[yellow]warning: the two providers' plans differ:[/]")
        lines += [f"  [yellow]{escape(_clean(d))}[/]" for d in diffs]
    return lines


def result_text(result: SyncResult) -> list[str]:
    lines = []
    for o in result.outcomes:
        ok = o.status in ("applied", "in-sync")
        lines.append(f"[{'green' if ok else 'bold red'}]{escape(_clean(o.state()))}[/]")
        lines += [f"    still needed: {escape(_clean(c))}" for c in o.pending_changes]
        v = o.verification
        if v is not None:
            style = "red" if v.failed else ("yellow" if v.skipped else "green")
            lines.append(f"  [{style}]{escape(_clean(v.line()))}[/]")
            lines += [f"    [red]{escape(_clean(p))}[/]" for p in v.pending]
    return lines


# -- markdown -------------------------------------------------------------------


def _provider_block(doc: PlanSet, provider: str, limit: int | None) -> list[str]:
    summary = next(s for s in doc.summaries() if s.provider == provider)
    body: list[str] = []
    for zp in doc.for_provider(provider):
        body += _zone_body(zp)
    shown = body if limit is None or len(body) <= limit else body[:limit]
    if len(shown) < len(body):
        shown.append(f"# … {len(body) - len(shown)} more line(s): run `dnsops plan` for all")
    out = [
        "<details>",
        f"<summary><b>{md.text(provider)}</b>: {md.text(summary.line().split(': ', 1)[1])}"
        "</summary>",
        "",
    ]
    if shown:
        fence = md.fence(shown)
        out += [f"{fence}diff", *shown, fence]
    else:
        out.append("No changes.")
    out += ["", "</details>", ""]
    return out


def _zone_body(zp: ZonePlan) -> list[str]:
    if not zp.changes and not zp.unsafe:
        return []
    lines = [f"# {_clean(zp.zone)}" + ("" if zp.exists else " (zone will be created)")]
    for change in zp.changes:
        lines.append(f"@@ {_heading(change)} @@")
        lines += [
            md.code_line(f"{sign} {line}", whole="the whole record: `dnsops plan --format json`")
            for sign, line in change_lines(change)
        ]
    if zp.unsafe:
        lines.append(f"! needs --force: {_clean(zp.unsafe)}")
    return lines


def markdown(doc: PlanSet, max_chars: int = 60000) -> str:
    """A PR comment: a summary table, warnings, one collapsible section per provider.

    Longer than ``max_chars``, the record lines of each section are cut and the cut
    is said; a record line is shown up to 2,000 characters; and whatever is still over
    GitHub's 65,536-character limit is cut (inside a line if need be) with a note.
    """
    limit: int | None = None
    while True:
        body = _markdown(doc, limit)
        total = sum(len(_zone_body(zp)) for zp in doc.plans)
        if len(body) <= max_chars or (limit is not None and limit <= 10):
            return md.fit(body, WHOLE)
        limit = max(10, (limit or total) // 2)


def _markdown(doc: PlanSet, limit: int | None) -> str:
    out = [f"### dnsops plan: environment **{md.text(doc.environment)}**", ""]
    out += ["| provider | create | update | delete | zones changed |", "|---|--:|--:|--:|--:|"]
    for s in doc.summaries():
        out.append(
            f"| {md.text(s.provider)} | {s.create} | {s.update} | {s.delete} "
            f"| {s.zones_changed} of {s.zones} |"
        )
    out.append("")
    if doc.failed:
        out += ["> [!CAUTION]", "> Some providers could not be planned:"]
        out += [f"> - **{md.text(p)}**: {md.text(e)}" for p, e in doc.failed.items()]
        out.append("")
    if doc.unsafe():
        out += ["> [!CAUTION]", "> octoDNS's safety guards require `--force` for:"]
        out += [f"> - {md.text(reason)}" for reason in doc.unsafe()]
        out.append("")
    if doc.withheld:
        out += ["> [!NOTE]", "> Records a provider will not hold:"]
        out += [f"> - {md.text(w.line())}" for w in doc.withheld]
        out.append("")
    diffs = doc.differences()
    if diffs:
        out += ["> [!WARNING]", "> The two providers' plans differ:"]
        out += [f"> - {md.text(d)}" for d in diffs]
        out.append("")
    if not doc.has_changes and not doc.failed:
        out += ["No changes: both providers match the zones.", ""]
    for provider in doc.providers:
        if provider not in doc.failed:
            out += _provider_block(doc, provider, limit)
    return "\n".join(out).rstrip() + "\n"


# -- JSON -----------------------------------------------------------------------


def _state(state: RecordState | None) -> dict[str, Any] | None:
    return None if state is None else {"ttl": state.ttl, "values": state.values}


def _relative(fqdn: str, zone: str) -> str:
    """octoDNS's record name: relative to the zone, '' for the apex."""
    return "" if fqdn == zone else fqdn.removesuffix("." + zone)


def _change_json(change: Change, zone: str) -> dict[str, Any]:
    return {
        "action": change.action,
        "name": _relative(change.name, zone),
        "fqdn": change.name,
        "type": change.type,
        "source": change.source,
        "old": _state(change.old),
        "new": _state(change.new),
    }


def plan_json(doc: PlanSet) -> dict[str, Any]:
    """The plan for machines: changes and summaries (saved plans carry more: snapshots)."""
    return {
        "environment": doc.environment,
        "providers": doc.providers,
        "created": doc.created.isoformat(),
        "has_changes": doc.has_changes,
        "checksum": doc.checksum,
        "summary": [s.model_dump() for s in doc.summaries()],
        "plans": [
            {
                "provider": zp.provider,
                "zone": zp.zone,
                "exists": zp.exists,
                "unsafe": zp.unsafe,
                "changes": [_change_json(c, zp.zone) for c in zp.changes],
            }
            for zp in doc.plans
        ],
        "differences": doc.differences(),
        "withheld": [w.model_dump() for w in doc.withheld],
        "unsafe": doc.unsafe(),
        "failed": doc.failed,
    }


def to_json(doc: PlanSet, result: SyncResult | None = None, **extra: Any) -> str:
    """One document: the plan's fields, then ``extra``, then the sync's ``result``."""
    body = {**plan_json(doc), **extra}
    if result is not None:
        body["result"] = {"ok": result.ok, **result.model_dump()}
    return json.dumps(body, indent=2, default=str)
