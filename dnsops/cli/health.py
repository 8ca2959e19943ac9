"""dnsops health: every nameserver of both providers, and answers through each region's resolver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from dnsops import outpath
from dnsops.cli.common import (
    EnvOption,
    Format,
    RetriesOption,
    State,
    TimeoutOption,
    ZoneOption,
    emit_json,
    environment,
    err,
    handle_errors,
    out,
    project,
    working,
    write,
)
from dnsops.findings import failing
from dnsops.health import driver
from dnsops.health.checks import CATALOGUE
from dnsops.health.policy import policy_for
from dnsops.health.report import report as make_report
from dnsops.render import findings as render_findings
from dnsops.render import health as render
from dnsops.render.prometheus import write_textfile

DEFAULT_QPS = 500.0  # per nameserver, outside a lab


@handle_errors
def health(
    env: EnvOption = None,
    zone: ZoneOption = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="text, json, markdown or github.")
    ] = Format.text,
    prom_file: Annotated[
        Path | None,
        typer.Option(
            "--prom-file",
            metavar="FILE",
            help="Also write Prometheus textfile-collector metrics to this file (atomically).",
        ),
    ] = None,
    vantage: Annotated[
        list[str] | None,
        typer.Option(
            "--vantage",
            metavar="NAME",
            help="Only this vantage (resolver, ssh or ripe-atlas, by name); repeat for several. "
            "Default: every resolver and SSH vantage (RIPE Atlas costs credits: only when named).",
        ),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", metavar="N", min=1, help="Queries in flight per server at most."
        ),
    ] = 100,
    qps: Annotated[
        float | None,
        typer.Option(
            "--qps",
            metavar="N",
            min=0.1,
            help=f"Queries per second per server at most (default: no cap in a lab, "
            f"{DEFAULT_QPS:g} elsewhere).",
        ),
    ] = None,
    timeout: TimeoutOption = 2.0,
    retries: RetriesOption = 2,
    transfer: Annotated[
        bool,
        typer.Option(
            "--transfer/--no-transfer",
            help="Read whole zones by AXFR where the provider's TSIG key is known (BIND).",
        ),
    ] = True,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            metavar="FILE",
            help="Health policy file (default: policies/health/policy.yaml if present).",
        ),
    ] = None,
    list_checks: Annotated[
        bool, typer.Option("--list-checks", help="List the checks and exit.")
    ] = False,
) -> None:
    """Check every nameserver of both providers and resolve every record in every region.

    Exit 1 when a finding of severity error or critical remains (after the policy).
    """
    proj = project()
    if prom_file is not None:
        outpath.check(prom_file, "--prom-file")
    if list_checks:
        _list_checks(fmt)
        return
    model = environment(env)
    env_name = model.name
    pol = policy_for(proj.policies_dir, policy)
    with working("loading zones…"):
        zones = model.zones(zone)
    with working("discovering nameservers and parents…"):
        model.facts(sorted(zones))
    options = driver.Options(
        concurrency=concurrency,
        qps=qps if qps is not None else (None if model.lab else DEFAULT_QPS),
        timeout=timeout,
        retries=retries,
        transfer=transfer,
        vantages=tuple(vantage) if vantage else None,
    )
    with _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        observed, sent, seconds = driver.run(
            model, zones, options, progress, say=lambda text: err.print(text)
        )
    rep = make_report(env_name, observed, pol, seconds, sent)
    if fmt == Format.json:
        emit_json(render.to_json(rep))
    elif fmt == Format.markdown:
        write(render.markdown(rep) + "\n")
    elif fmt == Format.github:
        write(render_findings.github(rep.findings))
        err.print(render.summary(rep))
    else:
        out.print(render.text(rep, verbose=State.verbose))
    if prom_file is not None:
        write_textfile(prom_file, render.metrics(rep))
        err.print(f"[dim]metrics written to {prom_file}[/]")
    if failing(rep.findings):
        raise typer.Exit(code=1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _list_checks(fmt: Format) -> None:
    if fmt == Format.json:
        doc = [
            {
                "id": c.id,
                "severity": str(c.severity),
                "scope": c.scope,
                "title": c.title,
                "explain": c.explain,
                "zonemaster": c.zonemaster or None,
                "basis": c.basis or None,
            }
            for c in CATALOGUE.values()
        ]
        emit_json(json.dumps({"checks": doc}, indent=2))
        return
    t = Table(title="dnsops health checks", title_justify="left")
    for col in ("check", "severity", "scope", "Zonemaster", "what it means"):
        t.add_column(col)
    for c in CATALOGUE.values():
        t.add_row(c.id, str(c.severity), c.scope, c.test_case or "", c.explain)
    out.print(t)
