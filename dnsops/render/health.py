"""A health report as rich tables, markdown, one JSON document, or Prometheus metrics."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dnsops.findings import Severity, failing
from dnsops.health.checks import CATALOGUE, Check
from dnsops.health.model import HealthReport, NameserverRow, VantageRow
from dnsops.render import findings as render_findings
from dnsops.render import markdown as md
from dnsops.render.prometheus import Metric

MAX_TEXT_FINDINGS = 200  # text and markdown list this many; JSON has every one


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def summary(report: HealthReport) -> str:
    counts = Counter(f.severity for f in report.findings)
    parts = [f"{counts[s]} {s}" for s in sorted(counts, reverse=True)]
    verdict = "FAIL" if failing(report.findings) else "ok"
    return (
        f"health {verdict}: {len(report.findings)} finding(s)"
        + (f" ({', '.join(parts)})" if parts else "")
        + f"; {report.queries} queries in {report.seconds:.1f} s"
    )


def _flags(r: NameserverRow) -> str:
    def one(ok: bool, label: str) -> str:
        return f"[green]{label}[/]" if ok else f"[bold red]{label.upper()}![/]"

    aa = one(r.aa, "aa") if r.udp else "[dim]aa?[/]"
    return f"{one(r.udp, 'udp')} {one(r.tcp, 'tcp')} {aa}"


def nameserver_table(title: str, rows: list[NameserverRow]) -> Table:
    # one space between columns (the box's): with the serial, lab rows fit 80 columns
    t = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0)
    )
    t.add_column("nameserver", no_wrap=True)
    t.add_column("address", no_wrap=True)
    t.add_column("answers", no_wrap=True)
    t.add_column("serial", justify="right", no_wrap=True)  # providers' serials differ
    # short headers: with the serial the table still fits 80 columns (latencies in ms)
    for col in ("p50", "p95", "diff"):  # diff: RRsets that differ / RRsets checked
        t.add_column(col, justify="right")
    t.add_column("via", no_wrap=True)
    nsid = any(r.nsid for r in rows)
    if nsid:  # which instance answered (NSID, RFC 5001): an anycast site's name
        t.add_column("nsid", no_wrap=True, overflow="ellipsis", max_width=16)
    for r in rows:
        t.add_row(
            r.name,
            r.address,
            _flags(r),
            "-" if r.serial is None else str(r.serial),
            _num(r.latency_ms),
            _num(r.p95_ms),
            (f"[red]{r.mismatches}[/]" if r.mismatches else "0") + f"/{r.checked}",
            {"axfr": "AXFR", "queries": "query", "skipped": "-"}[r.method],
            *([r.nsid or "-"] if nsid else []),
        )
    return t


def vantage_table(title: str, rows: list[VantageRow]) -> Table:
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("vantage", "kind", "region", "address"):
        t.add_column(col, no_wrap=True)
    # short headers: the table fits 80 columns without an ellipsis
    for col in ("ok", "fail", "p50 ms", "p95 ms"):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(
            r.name,
            r.kind,
            r.region,
            r.address,
            f"{r.resolved}/{r.checked}" if r.problem is None else f"[red]{r.status}[/]",
            f"[red]{r.failed}[/]" if r.failed else "0",
            _num(r.latency_ms),
            _num(r.p95_ms),
        )
    return t


def checks_table(report: HealthReport, failed_only: bool = False) -> Table:
    """Every check's tally; ``failed_only``: those that failed (40 rows at 3 am hide them)."""
    title = "checks (`dnsops health --list-checks` explains each)"
    if failed_only:
        title = "failed checks (`dnsops -v health`: all of them)"
    t = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for col in ("check", "severity", "passed", "failed", "skipped", "title"):
        right = col in ("passed", "failed", "skipped")
        t.add_column(col, justify="right" if right else "left", no_wrap=col == "check")
    for c in report.checks:
        if failed_only and not c.failed:
            continue
        sev = render_findings.STYLE[Severity.parse(c.severity)]
        t.add_row(
            c.id,
            f"[{sev}]{c.severity}[/]",
            str(c.passed),
            f"[red]{c.failed}[/]" if c.failed else "0",
            str(c.skipped),
            c.title,
        )
    return t


def text(report: HealthReport, verbose: bool = False) -> RenderableType:
    """The tables and the findings; every check's tally with ``verbose`` (dnsops -v),
    else the failed checks' only, when one failed."""
    parts: list[RenderableType] = []
    for zone in report.zones:
        rows = [r for r in report.nameservers if r.zone == zone]
        for p in dict.fromkeys(r.provider for r in rows):
            mine = [r for r in rows if r.provider == p]
            parts.append(nameserver_table(f"{zone} at provider {p}", mine))
        vrows = [r for r in report.vantages if r.zone == zone]
        if vrows:
            parts.append(vantage_table(f"{zone} through each vantage point", vrows))
    parts += [Text(line) for line in independence_lines(report)]
    if verbose or any(c.failed for c in report.checks):
        parts.append(checks_table(report, failed_only=not verbose))
    shown = report.findings[:MAX_TEXT_FINDINGS]
    if shown:
        title = f"findings ({len(report.findings)})"
        if len(shown) < len(report.findings):
            title += f", the first {len(shown)} (all of them with --format json)"
        parts.append(Text.from_markup("\n".join(render_findings.paragraphs(shown, title))))
    parts.append(Text(summary(report), style="bold red" if failing(report.findings) else "bold"))
    return Group(*parts)


def independence_lines(report: HealthReport) -> list[str]:
    """One short line per distinct set of provider addresses: each provider's origin ASes
    and prefixes (provider-asn, provider-prefix), and why a check was skipped."""
    out = []
    for group in report.independence[:5]:
        parts = []
        for provider, rows in group["providers"].items():
            asns = sorted({f"AS{n}" for r in rows for n in r["asns"]})
            nets = sorted({r["prefix"] for r in rows if r["prefix"]})
            unknown = sum(1 for r in rows if r["problem"])
            what = " ".join(asns) or "AS unknown"
            if nets:
                what += f" ({', '.join(nets)})"
            if unknown:
                what += f", {unknown} address(es) without origin data"
            parts.append(f"{provider} {what}")
        where = f" [{group['zone_count']} zones]" if len(report.independence) > 1 else ""
        line = f"independence{where}: {'; '.join(parts)}"
        if group["skipped"]:
            line += f" (checks skipped: {group['skipped']})"
        out.append(line)
    return out


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += [md.row(row) for row in rows]
    return [*out, ""]


def markdown(report: HealthReport) -> str:
    """A PR or issue comment, cut to GitHub's comment limit."""
    yes = {True: "yes", False: "**NO**"}
    title = md.text(f"{report.env} ({', '.join(report.zones)})")
    lines = [f"## dnsops health: {title}", "", md.text(summary(report)), ""]
    lines += [*(md.text(line) + "  " for line in independence_lines(report)), ""]
    lines += ["### nameservers", ""]
    lines += _md_table(
        [
            "provider",
            "zone",
            "nameserver",
            "address",
            "UDP",
            "TCP",
            "AA",
            "SOA serial",
            "median ms",
            "p95 ms",
            "checked",
            "mismatches",
            "NSID",
        ],
        [
            [
                r.provider,
                r.zone,
                r.name,
                r.address,
                yes[r.udp],
                yes[r.tcp],
                yes[r.aa],
                "-" if r.serial is None else str(r.serial),
                _num(r.latency_ms),
                _num(r.p95_ms),
                str(r.checked),
                str(r.mismatches),
                r.nsid or "-",
            ]
            for r in report.nameservers
        ],
    )
    if report.vantages:
        lines += ["### vantage points", ""]
        lines += _md_table(
            ["vantage", "kind", "region", "zone", "resolved", "success", "median ms", "p95 ms"],
            [
                [
                    r.name,
                    r.kind,
                    r.region,
                    r.zone,
                    f"{r.resolved}/{r.checked}",
                    f"{100 * r.success:.1f} %",
                    _num(r.latency_ms),
                    _num(r.p95_ms),
                ]
                for r in report.vantages
            ],
        )
    lines.append(render_findings.markdown(report.findings[:MAX_TEXT_FINDINGS], "findings"))
    return md.fit("\n".join(lines), "`dnsops health --format json`")


def to_json(report: HealthReport) -> str:
    doc: dict[str, Any] = {
        "environment": report.env,
        "zones": report.zones,
        "ok": not failing(report.findings),
        "seconds": report.seconds,
        "queries": report.queries,
        "policy": report.policy,
        "nameservers": [r.to_json() for r in report.nameservers],
        "vantages": [r.to_json() for r in report.vantages],
        "checks": [c.__dict__ for c in report.checks],
        "findings": [f.to_json() for f in report.findings],
        "independence": report.independence,
    }
    return json.dumps(doc, indent=2, default=str)


def metrics(report: HealthReport, now: float | None = None) -> list[Metric]:
    """Prometheus textfile-collector metrics: per nameserver, per vantage, per check."""
    env = report.env
    up = Metric("dnsops_health_nameserver_up", "1 if the nameserver answered over UDP")
    tcp = Metric("dnsops_health_nameserver_tcp_up", "1 if the nameserver answered over TCP")
    lat = Metric(
        "dnsops_health_nameserver_latency_median_seconds", "median query latency at the nameserver"
    )
    lat95 = Metric(
        "dnsops_health_nameserver_latency_p95_seconds",
        "95th percentile of the query latency at the nameserver",
    )
    mism = Metric(
        "dnsops_health_nameserver_mismatches", "desired RRsets the nameserver serves differently"
    )
    checked = Metric("dnsops_health_nameserver_rrsets_checked", "desired RRsets compared")
    serial = Metric(
        "dnsops_health_nameserver_soa_serial",
        "the SOA serial the nameserver serves (compare within one provider only)",
    )
    for r in report.nameservers:
        labels = {
            "environment": env,
            "zone": r.zone,
            "provider": r.provider,
            "nameserver": r.name,
            "address": r.address,
        }
        up.add(1 if r.udp else 0, **labels)
        tcp.add(1 if r.tcp else 0, **labels)
        for metric, value in ((lat, r.latency_ms), (lat95, r.p95_ms)):
            if value is not None:
                metric.add(round(value / 1000, 6), **labels)
        mism.add(r.mismatches, **labels)
        checked.add(r.checked, **labels)
        if r.serial is not None:
            serial.add(r.serial, **labels)
    success = Metric("dnsops_health_vantage_success_ratio", "share of records resolved as desired")
    vlat = Metric(
        "dnsops_health_vantage_latency_median_seconds", "median lookup latency through the vantage"
    )
    vlat95 = Metric(
        "dnsops_health_vantage_latency_p95_seconds",
        "95th percentile of the lookup latency through the vantage",
    )
    for v in report.vantages:
        labels = {
            "environment": env,
            "zone": v.zone,
            "vantage": v.name,
            "kind": v.kind,
            "region": v.region,
        }
        success.add(round(v.success, 6), **labels)
        for metric, value in ((vlat, v.latency_ms), (vlat95, v.p95_ms)):
            if value is not None:
                metric.add(round(value / 1000, 6), **labels)
    fails = Metric("dnsops_health_check_failures", "failed outcomes per check")
    for c in report.checks:
        fails.add(c.failed, environment=env, check=c.id, severity=c.severity)
    counts = Counter(str(f.severity) for f in report.findings)
    found = Metric("dnsops_health_findings", "findings per severity")
    for sev in Severity:
        found.add(counts.get(str(sev), 0), environment=env, severity=str(sev))
    ok = Metric("dnsops_health_ok", "1 if no finding of severity error or worse")
    ok.add(0 if failing(report.findings) else 1, environment=env)
    last = Metric("dnsops_health_last_run_timestamp_seconds", "when this report was made")
    last.add(round(now if now is not None else time.time(), 3), environment=env)
    took = Metric("dnsops_health_duration_seconds", "how long the health run took")
    took.add(round(report.seconds, 3), environment=env)
    per_server = [up, tcp, lat, lat95, mism, checked, serial]
    return [*per_server, success, vlat, vlat95, fails, found, ok, last, took]


def catalogue_markdown(catalogue: dict[str, Check] | None = None) -> str:
    """The check catalogue as one markdown table (docs/health-checks.md holds it)."""
    checks = CATALOGUE if catalogue is None else catalogue

    def cell(text: str) -> str:
        return md.cell(text, max_chars=100_000)

    lines = [
        "| check | default severity | scope | Zonemaster | checks that it... | why it matters |"
    ]
    lines.append("|---|---|---|---|---|---|")
    for c in checks.values():
        zm = c.test_case or "—"
        row = [f"`{c.id}`", str(c.severity), c.scope, cell(zm), cell(c.title), cell(c.explain)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def severity_markdown(catalogue: dict[str, Check] | None = None) -> str:
    """Check → Zonemaster tag → level, and why where dnsops departs (docs/health-checks.md)."""
    checks = CATALOGUE if catalogue is None else catalogue
    lines = [
        "| check | Zonemaster test case | tag | dnsops level | basis |",
        "|---|---|---|---|---|",
    ]
    for c in checks.values():
        case, _, tag = c.zonemaster.partition(" ")
        basis = c.basis or "Zonemaster's level for the tag"
        row = [
            f"`{c.id}`",
            case or "—",
            tag or "—",
            str(c.severity),
            md.cell(basis, max_chars=100_000),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
