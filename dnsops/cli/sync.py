"""dnsops plan / sync / apply: octoDNS plans for both providers, applied with --doit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import typer

from dnsops import outpath
from dnsops.cli.common import (
    EnvOption,
    Format,
    ZoneOption,
    emit_json,
    environment,
    err,
    fail,
    handle_errors,
    out,
    project,
    write,
)
from dnsops.config import Project
from dnsops.env import Env
from dnsops.errors import DnsopsError
from dnsops.lock import Holder, environment_lock
from dnsops.render import plan as render
from dnsops.sync import core, gate, run, saved
from dnsops.sync.model import PlanSet

FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="text, markdown (a PR comment) or json.")
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Apply even when octoDNS's safety guards refuse (over 30 % of a zone's records "
        "updated or deleted, apex NS change).",
    ),
]
VerifyOption = Annotated[
    float,
    typer.Option(
        "--verify-timeout",
        min=0,
        help="Seconds to wait for each provider's nameservers to serve every change.",
    ),
]


def _say(message: str) -> None:
    err.print(f"[dim]{message}[/]")


@contextlib.contextmanager
def _locked(proj: Project, environment: str) -> Iterator[Holder]:
    def stale(previous: Holder, path: Path) -> None:
        err.print(
            f"[yellow]warning:[/] stale lock of {previous.describe()}: that run ended without "
            f"releasing {path}; lock taken over"
        )

    with environment_lock(proj, environment, on_stale=stale) as me:
        yield me


def _check_format(fmt: Format) -> None:
    if fmt is Format.github:
        raise typer.BadParameter("plans come as text, markdown or json", param_hint="--format")


def _show(doc: PlanSet, fmt: Format) -> None:
    if fmt is Format.markdown:
        write(render.markdown(doc))
    elif fmt is not Format.json:
        out.print("\n".join(render.text(doc)))  # one print: thousands of lines stay fast


def _plan(target: run.Target, for_apply: bool = True) -> core.Planned:
    with err.status(f"planning {len(target.zones)} zone(s) on {', '.join(target.providers)}…"):
        return target.plan(progress=_say, for_apply=for_apply)


@handle_errors
def plan(
    env: EnvOption = None,
    zone: ZoneOption = None,
    fmt: FormatOption = Format.text,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Save the plan here, for `dnsops apply FILE`."),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 when nothing would change, 2 when something would."
        ),
    ] = False,
) -> None:
    """Show what a sync would change on each provider (planned concurrently)."""
    _check_format(fmt)
    model = environment(env)
    if out_file is not None:
        outpath.check(out_file, "--out")
    target = run.load(model, zone)
    planned = _plan(target, for_apply=False)  # shown and saved, never applied from here
    if fmt is Format.json:
        emit_json(render.to_json(planned.doc, saved=str(out_file) if out_file else None))
    else:
        _show(planned.doc, fmt)
    if planned.failed:
        if out_file is not None:
            err.print(f"[red]plan not saved to {out_file}: not every provider could be planned[/]")
        raise typer.Exit(1)
    if out_file is not None:
        saved.save(planned.doc, out_file)
        err.print(f"plan saved to {out_file} (apply it with `dnsops apply {out_file}`)")
    if detailed_exitcode and planned.has_changes:
        raise typer.Exit(2)


@handle_errors
def sync(
    env: EnvOption = None,
    zone: ZoneOption = None,
    doit: Annotated[
        bool, typer.Option("--doit", help="Apply the plan (default: only plan).")
    ] = False,
    force: ForceOption = False,
    fmt: FormatOption = Format.text,
    verify_timeout: VerifyOption = 30.0,
) -> None:
    """Plan and, with --doit, apply to both providers, then verify on their nameservers."""
    _check_format(fmt)
    model = environment(env)
    lock = _locked(model.project, model.name) if doit else contextlib.nullcontext()
    with lock:
        target = run.load(model, zone)
        _lint(model, sorted(target.zones))
        planned = _plan(target, for_apply=doit)
        if not doit:
            _finish_plan_only(planned, fmt)
            return
        _execute(target, planned, fmt, force, verify_timeout)


@handle_errors
def apply(
    plan_file: Annotated[Path, typer.Argument(metavar="FILE", help="A plan saved by --out.")],
    force: ForceOption = False,
    fmt: FormatOption = Format.text,
    verify_timeout: VerifyOption = 30.0,
) -> None:
    """Apply exactly a saved plan; refuse if the zones or a provider moved since."""
    _check_format(fmt)
    plan_file = plan_file if plan_file.is_absolute() else Path.cwd() / plan_file
    # the plan's environment must be one of dnsops.yaml's before anything uses it
    wanted = saved.load(plan_file, project().config.environments)
    model = environment(wanted.environment)
    with _locked(model.project, model.name):
        target = run.load(model)
        target.zones = {z: zone for z, zone in target.zones.items() if z in wanted.desired}
        _lint(model, sorted(target.zones))
        fresh = _plan(target)
        run.check_saved(target, wanted, fresh)
        err.print(f"the saved plan still matches the zones and both providers ({plan_file})")
        _execute(target, fresh, fmt, force, verify_timeout)


def _lint(model: Env, zone: Sequence[str]) -> None:
    with err.status("linting…") as status:
        findings = gate.check(model, zone, progress=status.update)
    err.print(f"[dim]lint: no error-level finding ({len(findings)} finding(s) below error)[/]")


def _finish_plan_only(planned: core.Planned, fmt: Format) -> None:
    if fmt is Format.json:
        emit_json(render.to_json(planned.doc, applied=False))
    else:
        _show(planned.doc, fmt)
        if planned.has_changes:
            err.print("dry run: nothing applied; rerun with --doit to apply")
    if planned.failed:
        raise typer.Exit(1)


def _execute(
    target: run.Target, planned: core.Planned, fmt: Format, force: bool, verify_timeout: float
) -> None:
    if fmt is not Format.json:
        _show(planned.doc, fmt)
    if not planned.has_changes and not planned.failed:
        err.print("nothing to do: both providers match the zones")
    try:
        with err.status("applying…"):
            result = run.execute(
                target, planned, force=force, verify_timeout=verify_timeout, progress=_say
            )
    except DnsopsError as exc:
        if fmt is Format.json:
            emit_json(render.to_json(planned.doc, error=exc.message))
        raise
    if fmt is Format.json:
        emit_json(render.to_json(planned.doc, result))
    else:
        out.print("\n".join(render.result_text(result)))
    if not result.ok:
        fail(
            "not every provider matches the zones now (see above)",
            hint="fix the cause, then run `dnsops sync --doit` again: it applies what is missing",
        )
