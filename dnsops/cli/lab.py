"""dnsops lab up | down | status: the local two-provider lab of real DNS servers."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from dnsops.cli.common import TextJson, emit_json, err, handle_errors, out, project, working
from dnsops.lab.runner import LabRunner

app = typer.Typer(
    rich_markup_mode=None,
    help="The local lab: a root, a parent, PowerDNS + BIND as two providers, unbound resolvers.",
    no_args_is_help=True,
)

Servers = Annotated[
    list[str] | None,
    typer.Argument(
        help="Only these servers (root, parent, pdns, bind, resolver-NAME). Default: all."
    ),
]
FormatOption = Annotated[TextJson, typer.Option("--format", "-f", help="text or json.")]


@app.command()
@handle_errors
def up(servers: Servers = None, fmt: FormatOption = TextJson.text) -> None:
    """Start the lab (idempotent) and wait until every server answers.

    On a running lab, zones added or removed since are served or dropped (BIND
    reloads, PowerDNS through its API) and delegated or no longer by the parent.
    """
    runner = LabRunner(project())
    try:
        with working("starting the lab…"):
            statuses = runner.up(servers or None, progress=lambda m: err.print(f"  {escape(m)}"))
    finally:
        _warn(runner)
    _show(statuses, fmt, runner.problems)


@app.command()
@handle_errors
def down(
    servers: Servers = None,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the lab's state: data, keys, logs.")
    ] = False,
) -> None:
    """Stop the lab's own processes (by PID) and remove the loopback addresses it added."""
    runner = LabRunner(project())
    try:
        stopped = runner.down(servers or None, progress=lambda m: err.print(f"  {escape(m)}"))
    finally:
        _warn(runner)
    if not stopped:
        err.print("nothing to stop: the lab was not running")
    if purge and not servers:
        import shutil

        shutil.rmtree(runner.state, ignore_errors=True)
        err.print(f"  removed {runner.state}")


@app.command()
@handle_errors
def status(fmt: FormatOption = TextJson.text) -> None:
    """Each server, its addresses, PID and whether it answers. Exit 1 if any is down."""
    runner = LabRunner(project())
    try:
        statuses = runner.status()
    finally:
        _warn(runner)
    _show(statuses, fmt, runner.problems)
    if not all(s.running and s.answers for s in statuses):
        raise typer.Exit(1)


@app.command()
@handle_errors
def query(
    name: Annotated[str, typer.Argument(help="The name to ask for, e.g. api.example.test.")],
    rtype: Annotated[str, typer.Argument(help="Record type.")] = "A",
    fmt: FormatOption = TextJson.text,
) -> None:
    """Ask every provider nameserver and every resolver; exit 1 unless all agree."""
    from dnsops.lab.query import query_everywhere

    seen = query_everywhere(project(), name, rtype.upper())
    agree = len({(s.rcode, s.values) for s in seen}) == 1 and seen[0].rcode is not None
    if fmt == TextJson.json:
        emit_json(
            json.dumps(
                {
                    "name": name,
                    "type": rtype.upper(),
                    "agree": agree,
                    "answers": [s.__dict__ for s in seen],
                },
                indent=2,
            )
        )
    else:
        t = Table(title=f"{name} {rtype.upper()}", title_justify="left")
        for col in ("server", "address", "rcode", "ttl", "answer"):
            t.add_column(col)
        for s in seen:
            t.add_row(
                s.server,
                s.address,
                s.rcode or "[red]no answer[/]",
                "" if s.ttl is None else str(s.ttl),
                " ".join(s.values),
            )
        out.print(t)
        err.print("[green]all agree[/]" if agree else "[red]answers differ[/]")
    if not agree:
        raise typer.Exit(1)


def _warn(runner: LabRunner) -> None:
    """What the lab could not do (e.g. a zone without apex NS): on stderr, once each."""
    for problem in runner.problems:
        err.print(f"[yellow]warning:[/] {escape(problem)}")


def _show(statuses: list, fmt: TextJson, problems: list[str]) -> None:  # type: ignore[type-arg]
    if fmt == TextJson.json:
        doc = {"servers": [s.to_json() for s in statuses], "problems": problems}
        emit_json(json.dumps(doc, indent=2))
        return
    t = Table(title="dnsops lab", title_justify="left")
    for col in ("server", "role", "region", "addresses", "pid", "state"):
        t.add_column(col)
    for s in statuses:
        state = (
            "[green]answering[/]"
            if s.running and s.answers
            else "[yellow]running, not answering[/]"
            if s.running
            else "[red]down[/]"
        )
        t.add_row(s.name, s.role, s.region or "", ", ".join(s.addresses), str(s.pid or "-"), state)
    out.print(t)
