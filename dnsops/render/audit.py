"""An audit as a rich table, markdown, JSON or Prometheus metrics; the audit log's trend."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from dnsops.audit.core import counts
from dnsops.audit.model import Audit, Drift, ProviderViews, ZoneViews
from dnsops.render import findings as render_findings
from dnsops.render import markdown as md
from dnsops.render.prometheus import Metric

VIEWS = ("source", "api", "served")
SHORT = {
    Drift.MISSING: "missing",
    Drift.EXTRA: "extra",
    Drift.VALUES: "values",
    Drift.TTL: "ttl",
    Drift.SERVED: "served≠api",
    Drift.UNSUPPORTED: "unsupported",
    Drift.UNAVAILABLE: "unavailable",
}


def verdict(result: Audit) -> str:
    zones = len(result.zones)
    if result.consistent:
        return (
            f"consistent: {result.records} records × {len(result.providers)} providers, "  # noqa: RUF001
            f"{len(VIEWS)} views ({zones} zone{'s' if zones != 1 else ''})"
        )
    n = len(result.findings)
    where = sorted({f.provider or "" for f in result.findings})
    return f"drift: {n} item{'s' if n != 1 else ''} on {', '.join(where)}"


def _served_text(pv: ProviderViews) -> str:
    methods = sorted({s.method for s in pv.served if s.method})
    if not methods:
        return "no nameservers"
    ok = sum(1 for s in pv.served if s.error is None)
    return f"{'/'.join(methods)} {ok}/{len(pv.served)}"


def _api_text(pv: ProviderViews) -> str:
    if pv.api is None:
        return "unreadable"
    return f"{len(pv.api)}" + ("" if pv.api_exists else " (no zone)")


def _rows(result: Audit) -> list[tuple[ZoneViews, ProviderViews, dict[str, int]]]:
    by = counts(result.findings)
    return [
        (zv, pv, {str(c): by.get(zv.zone, {}).get(pv.name, {}).get(str(c), 0) for c in Drift})
        for zv in result.zones
        for pv in zv.providers
    ]


def _present(rows: list[tuple[ZoneViews, ProviderViews, dict[str, int]]]) -> list[Drift]:
    """The drift classes seen at all: the only columns worth a terminal's width."""
    return [c for c in Drift if any(per[str(c)] for _, _, per in rows)]


def table(result: Audit) -> Table:
    rows = _rows(result)
    classes = _present(rows)
    t = Table(title=f"dnsops audit: {result.environment}", title_justify="left")
    for col in ("zone", "provider", "source", "api", "served", *(SHORT[c] for c in classes)):
        t.add_column(col, justify="left" if col in ("zone", "provider", "served") else "right")
    t.add_column("drift", justify="right")
    for zv, pv, per in rows:
        total = sum(per.values())
        t.add_row(
            zv.zone,
            pv.name,
            str(len(pv.source)),
            _api_text(pv),
            _served_text(pv),
            *(str(per[str(c)]) if per[str(c)] else "[dim]0[/]" for c in classes),
            f"[red]{total}[/]" if total else "[green]0[/]",
        )
    return t


def acknowledged_lines(result: Audit) -> list[str]:
    """The records a provider does not hold, as the zone files acknowledge (not drift)."""
    return [
        f"{r.provider} does not hold {r.fqdn} {r.type}, as acknowledged: {r.acknowledged}"
        for zv in result.zones
        for pv in zv.providers
        for r in pv.acknowledged
    ]


def findings_lines(result: Audit) -> list[str]:
    """The drift as paragraphs (rich markup): one heading per zone, two lines per item."""
    return render_findings.paragraphs(result.findings, "drift")


WHOLE = "`dnsops audit --format json`"


def markdown(result: Audit) -> str:
    """A PR or issue comment, cut to GitHub's comment limit."""
    head = "consistent" if result.consistent else f"{len(result.findings)} drift item(s)"
    lines = [f"## dnsops audit: {md.text(result.environment)}: {head}", ""]
    lines += [md.text(verdict(result)), ""]
    cols = ["zone", "provider", "source", "api", "served", *SHORT.values(), "drift"]
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for zv, pv, per in _rows(result):
        cells = [
            zv.zone,
            pv.name,
            str(len(pv.source)),
            _api_text(pv),
            _served_text(pv),
            *(str(per[str(c)]) for c in Drift),
            str(sum(per.values())),
        ]
        lines.append(md.row(cells))
    lines.append("")
    acknowledged = acknowledged_lines(result)
    if acknowledged:
        lines += ["Acknowledged in the zone files (not drift):", ""]
        lines += [f"- {md.cell(a)}" for a in acknowledged]
        lines.append("")
    if result.findings:
        lines.append(render_findings.markdown(result.findings, title="Drift"))
    return md.fit("\n".join(lines), WHOLE)


def to_json(result: Audit) -> str:
    rows = _rows(result)
    totals = {str(c): 0 for c in Drift}
    for _, _, per in rows:
        for cls, n in per.items():
            totals[cls] += n
    zones: list[dict[str, Any]] = []
    for zv in result.zones:
        providers = []
        for z2, pv, per in rows:
            if z2 is not zv:
                continue
            providers.append(
                {
                    "provider": pv.name,
                    "class": pv.capabilities.cls,
                    "source": {"records": len(pv.source)},
                    "api": (
                        {"records": len(pv.api), "exists": pv.api_exists}
                        if pv.api is not None
                        else {"error": pv.api_error}
                    ),
                    "served": [
                        {
                            "nameserver": s.nameserver,
                            "method": s.method,
                            "records": len(s.records),
                            "asked": None if s.asked is None else len(s.asked),
                            "error": s.error,
                        }
                        for s in pv.served
                    ],
                    "drift": per,
                    "acknowledged": [r.to_json() for r in pv.acknowledged],
                }
            )
        zones.append({"zone": zv.zone, "records": len(zv.source), "providers": providers})
    doc = {
        "environment": result.environment,
        "consistent": result.consistent,
        "verdict": verdict(result),
        "records": result.records,
        "providers": list(result.providers),
        "views": list(VIEWS),
        "drift": totals,
        "zones": zones,
        "findings": [f.to_json() for f in result.findings],
        "duration_s": result.duration,
        "timings_s": result.timings,
        "vantages": result.vantages,
    }
    return json.dumps(doc, indent=2, default=str)


def metrics(result: Audit) -> list[Metric]:
    env = result.environment
    drift = Metric(
        "dnsops_audit_drift",
        "Drift items the last dnsops audit found, per zone, provider and drift class.",
    )
    for zv, pv, per in _rows(result):
        for cls, n in per.items():
            drift.add(n, environment=env, zone=zv.zone, provider=pv.name, **{"class": cls})
    records = Metric("dnsops_audit_records", "Records (name and type) in the source, per zone.")
    for zv in result.zones:
        records.add(len(zv.source), environment=env, zone=zv.zone)
    return [
        drift,
        records,
        Metric("dnsops_audit_consistent", "1 if the last audit found no drift at all, else 0.").add(
            1 if result.consistent else 0, environment=env
        ),
        Metric(
            "dnsops_audit_last_run_timestamp_seconds", "When the last audit ran (Unix time)."
        ).add(round(result.started, 3), environment=env),
        Metric("dnsops_audit_duration_seconds", "How long the last audit took.").add(
            round(result.duration, 3), environment=env
        ),
    ]


# -- the trend (dnsops audit --history) ---------------------------------------------


def _classes_text(run: dict[str, Any]) -> str:
    classes = run.get("classes", {})
    return ", ".join(f"{SHORT[c]} {classes[str(c)]}" for c in Drift if classes.get(str(c)))


def history_table(runs: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    for col in ("time", "environment", "records", "result", "drift", "classes", "took"):
        t.add_column(col, justify="right" if col in ("records", "drift", "took") else "left")
    for run in runs:
        t.add_row(
            str(run["time"]).replace("T", " ")[:19],
            str(run.get("environment", "")),
            str(run.get("records", "")),
            "[green]consistent[/]" if run.get("consistent") else "[red]drift[/]",
            str(run["drift"]),
            _classes_text(run),
            f"{run.get('duration_s', 0):.1f} s",
        )
    return t


def history_markdown(runs: list[dict[str, Any]], title: str) -> str:
    cols = ["time", "environment", "records", "result", *SHORT.values(), "drift"]
    lines = [f"## {md.text(title)}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for run in runs:
        classes = run.get("classes", {})
        cells = [
            str(run["time"]),
            str(run.get("environment", "")),
            str(run.get("records", "")),
            "consistent" if run.get("consistent") else "drift",
            *(str(classes.get(str(c), 0)) for c in Drift),
            str(run["drift"]),
        ]
        lines.append(md.row(cells))
    return md.fit("\n".join([*lines, ""]), "`dnsops audit --history --format json`")
