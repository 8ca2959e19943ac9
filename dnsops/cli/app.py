"""dnsops: DNS-as-code and dual-provider failover orchestration.

The commands are loaded lazily: ``dnsops --help`` lists them from the table below
without importing a single command module (and through them octoDNS, pydantic, the
RIPE Atlas client, requests, cryptography, boto3), and ``dnsops lint …`` imports lint's
module only. ``tests/test_cli_startup.py`` checks that each summary here is the first
line of the command's own help, and which modules a plain ``--help`` loads.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from dnsops import __version__

USAGE = 64  # a usage error (an unknown option, a bad value): EX_USAGE of sysexits.h
# click's UsageError (typer's own copy of click, whichever it is) exits 2 by default, the
# code `plan --detailed-exitcode` gives "changes": a typo must not read as "changes".
_usage_error: Any = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_usage_error.exit_code = USAGE


class Lazy(NamedTuple):
    """Where a command lives, and its one-line summary for the command list."""

    module: str
    attribute: str
    summary: str


COMMANDS: dict[str, Lazy] = {
    "validate": Lazy(
        "dnsops.cli.validate", "validate", "Load the octoDNS config and every zone through octoDNS."
    ),
    "lint": Lazy(
        "dnsops.cli.lint",
        "lint",
        "Check the zones against the policies and both providers' limits.",
    ),
    "plan": Lazy("dnsops.cli.sync", "plan", "Show what a sync would change on each provider."),
    "sync": Lazy("dnsops.cli.sync", "sync", "Plan and, with --doit, apply to both providers."),
    "apply": Lazy("dnsops.cli.sync", "apply", "Apply exactly a saved plan."),
    "import": Lazy(
        "dnsops.cli.imports",
        "import_",
        "Write the zones a provider holds as zone files; compare both.",
    ),
    "health": Lazy(
        "dnsops.cli.health", "health", "Check every nameserver of both providers, every region."
    ),
    "audit": Lazy("dnsops.cli.audit", "audit", "Prove both providers hold and serve the source."),
    "lab": Lazy("dnsops.cli.lab", "app", "The local lab: root, parent, two providers, resolvers."),
    "drill": Lazy("dnsops.cli.drill", "app", "Failover rehearsals, measured and rolled back."),
    "vantage": Lazy("dnsops.cli.vantage", "app", "Vantage points and what they see."),
    "env": Lazy("dnsops.cli.env", "app", "The environment model: providers, nameservers, parents."),
}


# The click types are typer's own (typer >= 0.24 vendors click as typer._click), so
# they are only named through typer's classes here.


def load(name: str) -> Any:
    """The click command behind ``dnsops NAME`` (importing its module now)."""
    lazy = COMMANDS[name]
    target = getattr(importlib.import_module(lazy.module), lazy.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer(rich_markup_mode=None, add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """A typer group whose commands are imported when one is run (or its help asked)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:  # the command list of `dnsops --help`: the summary is enough
            summary = COMMANDS[cmd_name].summary
            return TyperCommand(cmd_name, help=summary, short_help=summary)
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=LazyGroup,
    rich_markup_mode=None,
    name="dnsops",
    help="DNS-as-code for two providers: validate, lint, plan/sync, health, audit, drills.",
    no_args_is_help=True,
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
        typer.Option(
            "--config", "-c", metavar="PATH", help="Path of dnsops.yaml.", envvar="DNSOPS_CONFIG"
        ),
    ] = Path("dnsops.yaml"),
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log octoDNS and dnsops at debug level.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Print only the result and errors: no progress, notes or warnings.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    from dnsops.cli.common import State

    # also: the secrets known, log records scrubbed (dnsops.scrub)
    State.reset(config, quiet=quiet, verbose=verbose)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    app()
