"""dnsops: DNS-as-code and dual-provider failover orchestration.

The commands are loaded lazily: ``dnsops --help`` lists them from the table below
without importing a single command module (and through them octoDNS, pydantic, the
RIPE Atlas client, requests, cryptography, boto3), and ``dnsops lint …`` imports lint's
module only. ``tests/test_cli_startup.py`` checks that each summary here is the first
line of the command's own help, and which modules a plain ``--help`` loads.
"""

from __future__ import annotations

import enum
import functools
import gc
import importlib
import logging
import os
import re
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
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
        command.name = name
    else:
        single = typer.Typer(rich_markup_mode=None, add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    plain_coercion(command)
    return command


# -- the options' values without pydantic ---------------------------------------------
# typer (>= 0.2x) converts every option's value through a pydantic TypeAdapter it builds
# for the option, each run: importing its adapters and building one per option costs more
# than the whole option parsing. The values dnsops's options take (text, a path, a number
# within bounds, one of an enum) are converted here as those adapters convert them; any
# other value, and every value they would refuse, still goes to typer's own adapter (built
# then), so each error message is typer's. A typer without that layer is left alone.
_INTEGER = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\Z")
_NOT_PLAIN = object()


def plain_coercion(command: Any) -> None:
    """Every typer parameter of ``command`` (and of its subcommands) converts its plain
    values without building a pydantic adapter; also those click adds when it parses
    (--help, the completion options)."""
    try:
        plain = _plain_class()
    except ImportError:  # a typer converting through click's own types
        return
    given = command.get_params

    def get_params(ctx: Any) -> Any:
        params = given(ctx)
        for param in params:
            if getattr(param, "_runtime_param", _NOT_PLAIN) is None:
                param._runtime_param = plain.of(param.type_descriptor)
        return params

    command.get_params = get_params
    for sub in getattr(command, "commands", {}).values():
        plain_coercion(sub)


@functools.cache
def _plain_class() -> Any:
    """A typer RuntimeParam: plain values converted here, the rest by typer's own."""
    from typer._coercion import RuntimeParam, build_runtime_param

    class Plain(RuntimeParam):
        descriptor: Any
        typers: list[Any]  # typer's own RuntimeParam, built on first need

        @classmethod
        def of(cls, descriptor: Any) -> Plain:
            made = cls(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation)
            object.__setattr__(made, "descriptor", descriptor)  # a frozen dataclass
            object.__setattr__(made, "typers", [])
            return made

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            multiple = param.multiple or param.nargs == -1
            if value is None:
                return () if multiple else None
            got = _plain_value(self.descriptor, value, multiple, param, ctx)
            if got is not _NOT_PLAIN:
                return got
            return self._typer().coerce(value, param=param, ctx=ctx)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            return self._typer()._coerce_value(value, param=param, ctx=ctx)

        def _typer(self) -> Any:
            if not self.typers:
                self.typers.append(build_runtime_param(self.descriptor))
            return self.typers[0]

    return Plain


def _plain_value(descriptor: Any, value: Any, multiple: bool, param: Any, ctx: Any) -> Any:
    """``value`` as typer's adapter for ``descriptor`` returns it, or _NOT_PLAIN."""
    from typer import _param_types

    info = descriptor.parameter_info
    kind = descriptor.annotation
    if info.parser is not None or descriptor.file_annotation is not None:
        return _NOT_PLAIN
    if multiple:  # list[str]: a tuple of texts from click
        plain_list = kind == list[str] and isinstance(value, tuple | list)
        if plain_list and all(type(v) is str for v in value):
            return list(value)
        return _NOT_PLAIN
    if kind is str or kind is bool:
        return value if type(value) is kind else _NOT_PLAIN
    if kind is int or kind is float:
        return _plain_number(kind, value, info)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return _param_types.coerce_cli_choice(
                value, choices=tuple(kind), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:
            return _NOT_PLAIN
    if isinstance(kind, type) and issubclass(kind, Path) and info.path_type in (None, kind):
        if type(value) is str and value and "\0" not in value:
            value = kind(value)
        if not isinstance(value, kind):
            return _NOT_PLAIN
        try:
            return _param_types.coerce_cli_path(value, info, path_type=kind, param=param, ctx=ctx)
        except Exception:  # said by typer's own conversion, with the value as given
            return _NOT_PLAIN
    return _NOT_PLAIN


def _plain_number(kind: type, value: Any, info: Any) -> Any:
    if info.clamp:
        return _NOT_PLAIN
    if type(value) is kind:
        number = value
    elif type(value) is str and (_INTEGER if kind is int else _DECIMAL).match(value):
        number = kind(value)
    else:
        return _NOT_PLAIN
    if info.min is not None and number < info.min:
        return _NOT_PLAIN
    if info.max is not None and number > info.max:
        return _NOT_PLAIN
    return number


class LazyGroup(TyperGroup):
    """A typer group whose commands are imported when one is run (or its help asked)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False
        plain_coercion(self)  # its own options (--config); the commands' when loaded

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
            if _whole_process:
                # what the imports built lives as long as the process: out of every
                # collection's walk from here on (see main)
                gc.freeze()
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


_whole_process = False  # main() runs: the process ends with the command


def main() -> None:
    """The ``dnsops`` command, as a process of its own.

    Two costs of the process, not of the command, are cut here (in-process callers of
    ``app``, the tests' CliRunner, keep Python's defaults):

    * pydantic's plugin discovery, at its first model, reads the entry points of every
      installed distribution (tens of milliseconds); dnsops uses no pydantic plugin, so
      it is off unless ``PYDANTIC_DISABLE_PLUGINS`` says otherwise;
    * at exit, Python's collector walks every object still alive, several times, only to
      free what the operating system frees anyway (0.1-0.2 s of CPU after a plan). What
      the imports built is frozen out of its sight once the command is loaded
      (``gc.freeze``); at the end the garbage the command made is collected (its
      finalizers run, as at any exit) and the rest frozen too. Python never promised to
      finalize objects still alive at exit.
    """
    global _whole_process
    _whole_process = True
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
    finally:
        gc.collect()
        gc.freeze()
