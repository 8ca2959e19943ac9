"""dnsops audit: source vs provider APIs vs what their nameservers serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from dnsops import outpath
from dnsops.audit import log
from dnsops.audit.model import Audit
from dnsops.audit.run import audit as run_audit
from dnsops.cli.common import (
    EnvOption,
    Format,
    ZoneOption,
    emit_json,
    environment,
    err,
    handle_errors,
    out,
    project,
    quiet_octodns,
)
from dnsops.render import audit as render
from dnsops.render import findings as render_findings
from dnsops.render.prometheus import write_textfile

FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="text, json, markdown or github.")
]
PromOption = Annotated[
    Path | None,
    typer.Option(
        "--prom-file",
        metavar="FILE",
        help="Also write Prometheus textfile metrics here (drift per zone/provider/class).",
    ),
]
LogOption = Annotated[
    Path | None,
    typer.Option(
        "--log",
        metavar="FILE",
        help="The audit log (JSON lines). Default: audit.jsonl in the state directory.",
    ),
]
HistoryOption = Annotated[
    bool, typer.Option("--history", help="Print the trend from the audit log instead.")
]


@handle_errors
def audit(
    env: EnvOption = None,
    zone: ZoneOption = None,
    fmt: FormatOption = Format.text,
    prom_file: PromOption = None,
    log_path: LogOption = None,
    history: HistoryOption = False,
    vantage: Annotated[
        list[str] | None,
        typer.Option(
            "--vantage",
            "-V",
            metavar="NAME",
            help="Read the data plane from this SSH vantage of dnsops.yaml (its host asks "
            "every nameserver, record by record) instead of from here; repeat for several.",
        ),
    ] = None,
) -> None:
    """Prove both providers hold and serve the source: exit 0 consistent, 1 drift."""
    proj = project()
    path = log_path or proj.state_dir / log.LOG_NAME
    if history:
        _history(path, env, fmt)
        return
    for option, given in (("--log", log_path), ("--prom-file", prom_file)):
        if given is not None:
            outpath.check(given, option)
    if log_path is None:
        path.parent.mkdir(parents=True, exist_ok=True)  # the state directory: dnsops's own
    # progress as plain lines: the audit forks workers, and a live spinner's thread
    # must not be running when it does
    with quiet_octodns():
        result = run_audit(environment(env), zone, progress=_progress, vantage=vantage)
    log.append(path, result)
    if prom_file is not None:
        write_textfile(prom_file, render.metrics(result))
    _show(result, fmt)
    if not result.consistent:
        raise typer.Exit(1)


def _progress(message: str) -> None:
    err.print(f"  {message}", markup=False, highlight=False)


def _show(result: Audit, fmt: Format) -> None:
    if fmt == Format.json:
        emit_json(render.to_json(result))
    elif fmt == Format.markdown:
        out.print(render.markdown(result), markup=False, highlight=False)
    elif fmt == Format.github:
        out.print(render_findings.github(result.findings), end="", markup=False)
        err.print(render.verdict(result))
    else:
        out.print(render.table(result))
        for line in render.acknowledged_lines(result):
            out.print(f"[dim]{escape(line)}[/]")
        if result.findings:
            out.print("\n".join(render.findings_lines(result)))
        style = "green" if result.consistent else "red"
        out.print(f"[{style}]{render.verdict(result)}[/]")


def _history(path: Path, env: str | None, fmt: Format) -> None:
    if fmt == Format.github:
        raise typer.BadParameter(
            "the history comes as text, json or markdown (github annotates findings)",
            param_hint="--format",
        )
    runs = log.read(path, env)
    title = f"dnsops audit history ({path})"
    if fmt == Format.json:
        emit_json(json.dumps({"log": str(path), "runs": runs}, indent=2))
    elif fmt == Format.markdown:
        out.print(render.history_markdown(runs, title), markup=False)
    elif not runs:
        err.print(f"no audit has run yet ({path} is empty)")
    else:
        out.print(render.history_table(runs, title))
