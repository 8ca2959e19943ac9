"""dnsops plan / sync / apply: octoDNS plans for both providers, applied with --doit."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated

import typer

from dnsops import outpath
from dnsops.cli.common import (
    ChangedSinceOption,
    EnvOption,
    ProviderOption,
    Report,
    State,
    ZoneOption,
    emit_json,
    environment,
    err,
    errors,
    fail,
    handle_errors,
    out,
    project,
    working,
    write,
    zones_of,
)
from dnsops.config import Project
from dnsops.env import Env
from dnsops.errors import DnsopsError
from dnsops.lock import Holder, environment_lock
from dnsops.render import plan as render
from dnsops.sync import core, run, saved
from dnsops.sync.model import PlanSet

FormatOption = Annotated[
    Report, typer.Option("--format", "-f", help="text, markdown (a PR comment) or json.")
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Apply even when octoDNS's safety guards refuse (over 30 % of a zone's records "
        "updated or deleted, apex NS change).",
    ),
]
DETAIL_LIMIT = 50  # sync --doit lists every record up to this many changes (more: with -v)
VerifyOption = Annotated[
    float,
    typer.Option(
        "--verify-timeout",
        metavar="SECONDS",
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


def _show(doc: PlanSet, fmt: Report) -> None:
    if fmt == Report.markdown:
        write(render.markdown(doc))
    elif fmt != Report.json:
        out.print("\n".join(render.text(doc)))  # one print: thousands of lines stay fast


def _plan(target: run.Target, for_apply: bool = True) -> core.Planned:
    with working(f"planning {len(target.zones)} zone(s) on {', '.join(target.model.providers)}…"):
        return target.plan(progress=_say, for_apply=for_apply)


@handle_errors
def plan(
    env: EnvOption = None,
    zone: ZoneOption = None,
    fmt: FormatOption = Report.text,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Save the plan here, for `dnsops apply FILE`."
        ),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 0 when nothing would change, 2 when something would."
        ),
    ] = False,
    changed_since: ChangedSinceOption = None,
    provider: ProviderOption = None,
) -> None:
    """Show what a sync would change on each provider (planned concurrently)."""
    model = environment(env)
    if out_file is not None:
        outpath.check(out_file, "--out")
    target = run.load(model, zones_of(model, zone, changed_since), provider)
    planned = _plan(target, for_apply=False)  # shown and saved, never applied from here
    if fmt == Report.json:
        emit_json(render.to_json(planned.doc, saved=str(out_file) if out_file else None))
    else:
        _show(planned.doc, fmt)
    if planned.failed:
        if out_file is not None:
            errors.print(
                f"[red]plan not saved to {out_file}: not every provider could be planned[/]"
            )
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
    fmt: FormatOption = Report.text,
    verify_timeout: VerifyOption = 30.0,
    provider: ProviderOption = None,
) -> None:
    """Plan and, with --doit, apply to both providers, then verify on their nameservers."""
    model = environment(env)
    lock = _locked(model.project, model.name) if doit else contextlib.nullcontext()
    with lock:
        target = run.load(model, zone, provider)
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
    fmt: FormatOption = Report.text,
    verify_timeout: VerifyOption = 30.0,
    env: EnvOption = None,
) -> None:
    """Apply exactly a saved plan; refuse if the zones or a provider moved since.

    The plan names its environment; with --env (or DNSOPS_ENV), a plan of another
    environment is refused."""
    plan_file = plan_file if plan_file.is_absolute() else Path.cwd() / plan_file
    # the plan's environment must be one of dnsops.yaml's before anything uses it
    wanted = saved.load(plan_file, project().config.environments)
    if env is not None and env != wanted.environment:
        fail(
            f"{plan_file} is a plan of environment {wanted.environment!r}, not {env!r}",
            hint="apply it without --env, or compute a plan for that environment",
        )
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
    from dnsops.sync import gate  # the policies' models: only sync and apply lint

    with working("linting…") as status:
        findings = gate.check(model, zone, progress=status.update)
    err.print(f"[dim]lint: no error-level finding ({len(findings)} finding(s) below error)[/]")


def _finish_plan_only(planned: core.Planned, fmt: Report) -> None:
    if fmt == Report.json:
        emit_json(render.to_json(planned.doc, applied=False))
    else:
        _show(planned.doc, fmt)
        if planned.has_changes:
            err.print("dry run: nothing applied; rerun with --doit to apply")
    if planned.failed:
        raise typer.Exit(1)


def _execute(
    target: run.Target, planned: core.Planned, fmt: Report, force: bool, verify_timeout: float
) -> None:
    changes = sum(s.total for s in planned.doc.summaries())
    if fmt == Report.text and changes > DETAIL_LIMIT and not State.verbose:
        # thousands of record lines help nobody watching a sync: the counts do
        out.print("\n".join(render.brief(planned.doc)))
        err.print(
            f"[dim]{changes} changes: a summary per provider; every record with "
            "`dnsops -v sync` or `dnsops plan`[/]"
        )
    elif fmt != Report.json:
        _show(planned.doc, fmt)
    if not planned.has_changes and not planned.failed:
        err.print("nothing to do: both providers match the zones")
    done: dict[str, str] = {}
    try:
        with working("applying…") as status:

            def counts(provider: str, zones: int, of: int, applied: int) -> None:
                done[provider] = f"{provider} {zones}/{of} zone(s), {applied} change(s)"
                status.update("applying: " + "; ".join(done[p] for p in sorted(done)))

            result = run.execute(
                target,
                planned,
                force=force,
                verify_timeout=verify_timeout,
                progress=_say,
                counts=counts,
            )
    except DnsopsError as exc:
        if fmt == Report.json:
            emit_json(render.to_json(planned.doc, error=exc.message))
        raise
    if fmt == Report.json:
        emit_json(render.to_json(planned.doc, result))
    else:
        out.print("\n".join(render.result_text(result)))
    if not result.ok:
        fail(
            "not every provider matches the zones now (see above)",
            hint="fix the cause, then run `dnsops sync --doit` again: it applies what is missing",
        )
