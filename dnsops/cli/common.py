"""What every command shares: the project, output consoles, formats, error mapping."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar, cast

import typer
from rich.console import Console

from dnsops import scrub
from dnsops.config import Project, load_project
from dnsops.errors import ConfigError, DnsopsError
from dnsops.yamlfile import check_secrets

if TYPE_CHECKING:
    from dnsops.env import Env


class _Scrubbed:
    """stdout or stderr as it is when written to, every known secret scrubbed."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr

    @property
    def _stream(self) -> IO[str]:
        return sys.stderr if self._stderr else sys.stdout

    def write(self, text: str) -> int:
        self._stream.write(scrub.scrub(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


# stdout carries the result (one JSON document with --format json); humans get stderr.
# No emoji codes: "zones/x.yaml:100: ..." must not print as "zones/x.yaml💯 ...".
# Whatever the CLI prints passes through the secret scrubber (dnsops.scrub).
out = Console(file=cast(IO[str], _Scrubbed(False)), soft_wrap=True, highlight=False, emoji=False)
err = Console(file=cast(IO[str], _Scrubbed(True)), soft_wrap=True, highlight=False, emoji=False)
# errors: never silenced (--quiet silences ``err``: progress, notes, warnings)
errors = Console(file=cast(IO[str], _Scrubbed(True)), soft_wrap=True, highlight=False, emoji=False)


class _NoStatus:
    """What :func:`working` gives off a terminal: the updates go nowhere."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> _NoStatus:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def working(message: str) -> Any:
    """A spinner with ``message`` on stderr while a phase runs, where it shows: a terminal.

    Elsewhere (a pipe, CI, a file) rich draws nothing of a status, a transient live
    display, yet it imports its spinners and runs a refresh thread 12.5 times a second
    for it: there the context does nothing. ``update(text)`` as rich's Status."""
    if err.is_terminal or err.is_jupyter:
        return err.status(message)
    return _NoStatus()


def write(text: str) -> None:
    """Text on stdout as it is (a markdown or JSON document), scrubbed."""
    sys.stdout.write(scrub.scrub(text))


P = ParamSpec("P")
R = TypeVar("R")


class Format(StrEnum):
    """Every output format; a command offers only those it has (the enums below).
    Members of these enums compare equal across enums (``fmt == Format.json``)."""

    text = "text"
    json = "json"
    markdown = "markdown"
    github = "github"


class TextJson(StrEnum):
    text = "text"
    json = "json"


class Report(StrEnum):
    """A plan: text, markdown (the PR comment) or json."""

    text = "text"
    json = "json"
    markdown = "markdown"


EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        metavar="ENV",
        help="Environment from dnsops.yaml (default: its default_environment).",
        envvar="DNSOPS_ENV",
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", metavar="SECONDS", min=0.05, help="Seconds to wait for each reply."),
]
RetriesOption = Annotated[
    int, typer.Option("--retries", metavar="N", min=0, help="Further tries after a timeout.")
]
ZoneOption = Annotated[
    list[str] | None,
    typer.Option(
        "--zone",
        "-z",
        metavar="ZONE",
        help="Only this zone (example.test.) or these (a glob: 'z0*.test.'); repeatable.",
    ),
]
ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        "-p",
        metavar="NAME",
        help="Only this provider of the environment (its name in the octoDNS config).",
    ),
]
ChangedSinceOption = Annotated[
    str | None,
    typer.Option(
        "--changed-since",
        metavar="REF",
        help="Only the zones whose files changed since this git ref (its merge base with "
        "HEAD; uncommitted edits count); every zone when dnsops.yaml, the octoDNS config or "
        "a policy changed.",
    ),
]


def zones_of(model: Env, zone: list[str] | None, changed_since: str | None) -> list[str] | None:
    """The zones a command works on: --zone's, narrowed by --changed-since (said on
    stderr). None: every zone."""
    if changed_since is None:
        return zone or None
    changed = model.changed_since(changed_since)
    err.print(f"[dim]{changed.describe()}[/]")
    if changed.everything is not None:
        return zone or None
    if not zone:
        return changed.zones
    asked = set(model.pick(zone))
    return [z for z in changed.zones if z in asked]


class State:
    config_path: Path = Path("dnsops.yaml")
    verbose: bool = False  # dnsops -v: debug logs, and the longer text outputs
    _project: Project | None = None
    _envs: dict[str, Env] = {}  # noqa: RUF012 (reset per command)

    @classmethod
    def project(cls) -> Project:
        if cls._project is None:
            proj = load_project(cls.config_path)
            # the lab's secrets are known from here on; dnsops.yaml was read before
            scrub.register_lab(proj.state_dir)
            try:
                check_secrets(proj.path.read_text(encoding="utf-8"), str(proj.path))
            except OSError as exc:
                raise ConfigError(f"{proj.path}: cannot read it again: {exc.strerror}") from None
            cls._project = proj
            # octoDNS resolves relative paths (zones directory) from the working directory
            os.chdir(cls._project.root)
        return cls._project

    @classmethod
    def environment(cls, name: str | None) -> Env:
        """The environment model: built once per command, shared by all it runs."""
        from dnsops.env import Env

        proj = cls.project()
        key = name or proj.config.default_environment
        if key not in cls._envs:
            cls._envs[key] = Env(proj, key)
        return cls._envs[key]

    @classmethod
    def reset(cls, config_path: Path, quiet: bool = False, verbose: bool = False) -> None:
        """A new command: its config, its output options, and the secrets its
        environment variables hold."""
        cls.config_path = config_path
        cls.verbose = verbose
        err.quiet = quiet
        cls._project = None
        cls._envs = {}
        scrub.reset()
        scrub.register_environ()
        scrub.install_logging()


def project() -> Project:
    return State.project()


def environment(name: str | None) -> Env:
    """The environment model of ``--env`` (or the default), built once per command."""
    return State.environment(name)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn DnsopsError into a message on stderr and exit 1: never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = fn(*args, **kwargs)
        except DnsopsError as exc:
            fail(exc.message, hint=exc.hint, code=exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except typer.Exit as done:
            if done.exit_code in (0, 2):  # success, or "changes": a left-out zone outranks
                _left_out()
            raise
        _left_out()
        return result

    return wrapper


def _left_out() -> None:
    """Zones the command left out (the environment model's ``excluded``): one error each,
    after everything else was done, and exit 1."""
    excluded = [why for env in State._envs.values() for why in env.excluded.values()]
    if excluded:
        for why in excluded:
            errors.print(f"[bold red]error:[/] {_escape(why)}")
        noun = "zone was" if len(excluded) == 1 else "zones were"
        fail(f"{len(excluded)} {noun} left out; every other zone was done")


def fail(message: str, *, hint: str | None = None, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {_escape(message)}")
    if hint:
        errors.print(f"[dim]hint: {_escape(hint)}[/]")
    raise typer.Exit(code=code)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@contextlib.contextmanager
def quiet_octodns(verbose: bool = False) -> Iterator[None]:
    """octoDNS logs to the root logger; keep its chatter off the user's terminal."""
    level = logging.DEBUG if verbose else logging.ERROR
    root = logging.getLogger()
    old = root.level
    root.setLevel(level)
    try:
        yield
    finally:
        root.setLevel(old)


def emit_json(text: str) -> None:
    """The one JSON document a --format json command prints on stdout."""
    write(text + "\n")


def dump(obj: Any) -> str:
    import json

    return json.dumps(obj, indent=2, default=str)
