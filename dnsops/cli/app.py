"""dnsops: DNS-as-code and dual-provider failover orchestration."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from dnsops import __version__
from dnsops.cli import audit, drill, env, health, lab, lint, sync, validate, vantage
from dnsops.cli.common import State

app = typer.Typer(
    name="dnsops",
    help="DNS-as-code for two providers: validate, lint, plan/sync, health, audit, drills.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"dnsops {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Path of dnsops.yaml.", envvar="DNSOPS_CONFIG"),
    ] = Path("dnsops.yaml"),
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log octoDNS and dnsops at debug level.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    State.reset(config)  # also: secrets known, log records scrubbed (dnsops.scrub)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )


app.add_typer(lab.app, name="lab")
app.add_typer(drill.app, name="drill")
app.add_typer(vantage.app, name="vantage")
app.add_typer(env.app, name="env")
app.command("validate")(validate.validate)
app.command("lint")(lint.lint)
app.command("plan")(sync.plan)
app.command("sync")(sync.sync)
app.command("apply")(sync.apply)
app.command("health")(health.health)
app.command("audit")(audit.audit)


def main() -> None:
    app()
