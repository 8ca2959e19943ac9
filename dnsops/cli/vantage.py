"""dnsops vantage list | check: the vantage points of an environment, and what they see."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from dnsops.cli.common import (
    EnvOption,
    Format,
    RetriesOption,
    TextJson,
    TimeoutOption,
    ZoneOption,
    emit_json,
    err,
    handle_errors,
    out,
    working,
    write,
)
from dnsops.cli.common import environment as environment_model
from dnsops.cli.common import project as current_project
from dnsops.errors import ConfigError
from dnsops.findings import failing
from dnsops.probe import Engine
from dnsops.render import findings as render_findings
from dnsops.render import vantage as render
from dnsops.vantage import check as checker
from dnsops.vantage import plan, registry
from dnsops.vantage.atlas import AtlasVantage

app = typer.Typer(
    rich_markup_mode=None,
    help="Vantage points: resolvers, SSH probe hosts and RIPE Atlas, and what they see.",
    no_args_is_help=True,
)
VantageOption = Annotated[
    list[str] | None,
    typer.Option(
        "--vantage", "-V", metavar="NAME", help="Only this vantage (by name); repeat for several."
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="text, json, markdown or github.")
]


@app.command("list")
@handle_errors
def list_(
    env: EnvOption = None,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="text or json.")] = TextJson.text,
) -> None:
    """Every vantage of the environment: name, kind, region and how it is reached."""
    proj = current_project()
    env_name, environment = proj.environment(env)
    vantages = registry.build(proj, environment)
    rows: list[dict[str, Any]] = [
        {
            "name": v.name,
            "kind": v.kind,
            "region": v.region,
            "where": getattr(v, "describe", lambda: "")(),
            "asks": _asks(v),
        }
        for v in vantages
    ]
    if fmt == TextJson.json:
        emit_json(json.dumps({"environment": env_name, "vantages": rows}, indent=2))
        return
    t = Table(title=f"vantages of {env_name}", title_justify="left")
    for col in ("name", "kind", "region", "asks", "where"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["name"]), r["kind"], r["region"], ", ".join(r["asks"]), r["where"])
    out.print(t)


def _asks(v: Any) -> list[str]:
    return [x for x, yes in (("resolver", v.resolver), ("nameservers", v.asks_nameservers)) if yes]


@app.command("check")
@handle_errors
def check(
    env: EnvOption = None,
    zone: ZoneOption = None,
    vantage: VantageOption = None,
    record: Annotated[
        list[str] | None,
        typer.Option(
            "--record",
            "-r",
            metavar="NAME",
            help="Only this name (e.g. api.example.test.); repeat.",
        ),
    ] = None,
    fmt: FormatOption = Format.text,
    estimate: Annotated[
        bool,
        typer.Option(
            "--estimate", help="Show what RIPE Atlas would cost, then stop: nothing is spent."
        ),
    ] = False,
    timeout: TimeoutOption = 2.0,
    retries: RetriesOption = 2,
    ssh_parallel: Annotated[
        int, typer.Option("--ssh-parallel", metavar="N", min=1, help="SSH sessions at once.")
    ] = registry.SSH_PARALLEL,
) -> None:
    """Resolve the zones' records through each vantage and compare them with git.

    SSH hosts and RIPE Atlas probes look from elsewhere; an unreachable or too
    slow vantage is a finding, not a crash. RIPE Atlas costs are estimated and
    shown before anything is spent; a run above the vantage's max_credits is
    refused. Exit 1 when a finding of severity error remains.
    """
    proj = current_project()
    env_name, environment = proj.environment(env)
    engine = Engine(timeout=timeout, retries=retries)
    vantages = registry.build(
        proj,
        environment,
        vantage,
        engine=engine,
        ssh_parallel=ssh_parallel,
        say=lambda text: err.print(f"[cyan]{text}[/]"),
    )
    if not vantages:
        raise ConfigError(f"environment {env_name!r} has no vantages (resolvers or vantages)")
    model = environment_model(env)
    with working("loading zones…"):
        zones = model.zones(zone)
    records = plan.wanted(zones, environment.providers, record or ())
    if not records:
        raise ConfigError("no record to check (see --zone and --record)")
    # the providers' nameservers only when some vantage asks them (discovery asks APIs)
    asks = any(v.asks_nameservers for v in vantages)
    nameservers = checker.nameservers_of(model, sorted(zones)) if asks else []
    work = checker.work_for(vantages, records, nameservers)
    if estimate:
        _estimates(work, fmt)
        return
    with _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        rep = checker.check(env_name, work, records, progress)
    if fmt == Format.json:
        emit_json(render.to_json(rep))
    elif fmt == Format.markdown:
        write(render.markdown(rep) + "\n")
    elif fmt == Format.github:
        write(render_findings.github(rep.findings))
    else:
        for part in render.text(rep):
            out.print(part)
    if failing(rep.findings):
        raise typer.Exit(code=1)


def _estimates(work: dict[Any, Any], fmt: Format) -> None:
    docs = []
    for v, queries in work.items():
        if isinstance(v, AtlasVantage):
            cost = v.estimate(queries)
            docs.append({"vantage": v.name, **cost.to_json(), "within_budget": cost.within_budget})
            err.print(f"{v.name}: {cost.describe()}")
    if fmt == Format.json:
        emit_json(json.dumps({"estimates": docs}, indent=2))
    elif not docs:
        err.print("no RIPE Atlas vantage among those chosen: nothing costs credits")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    )
