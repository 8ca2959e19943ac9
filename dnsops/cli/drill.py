"""dnsops drill list | run | rollback | status: failover rehearsals with guardrails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dnsops import outpath
from dnsops.cli.common import (
    EnvOption,
    TextJson,
    emit_json,
    err,
    errors,
    fail,
    handle_errors,
    out,
    project,
)
from dnsops.config import Project
from dnsops.drill.executor import Executor, Hooks, rollback_unfinished
from dnsops.drill.history import cadence_status, metrics, past_runs, write_reports
from dnsops.drill.journal import Journal
from dnsops.drill.model import Scenario, find_scenario, load_scenarios
from dnsops.drill.report import build
from dnsops.render.drill import fmt_added, fmt_value, population_rows, population_summary
from dnsops.render.prometheus import write_textfile

app = typer.Typer(
    rich_markup_mode=None,
    help="Failover rehearsals: provider outages and record failovers, measured, rolled back.",
    no_args_is_help=True,
)
FormatOption = Annotated[TextJson, typer.Option("--format", "-f", help="text or json.")]
PromOption = Annotated[
    Path | None,
    typer.Option(
        "--prom-file",
        metavar="FILE",
        help="Also write Prometheus textfile metrics here: each scenario's last run, "
        "verdict, convergence and whether it is overdue.",
    ),
]


class RichHooks(Hooks):
    """Progress of long steps as a rich bar on stderr; messages as lines above it."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: Any = None
        self._label = ""
        super().__init__(say=self._say, tick=self._tick, done_ticking=self._stop)

    def _say(self, message: str) -> None:
        style = "bold red" if message.startswith("[abort]") else "dim"
        text = message.replace("[abort]", "abort:")
        (self._progress.console if self._progress else err).print(f"[{style}]{text}[/]")

    def _tick(self, label: str, elapsed: float, total: float | None) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:.1f}/{task.total:.0f} s"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            self._progress.start()
        if label != self._label or self._task is None:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._task = self._progress.add_task(label, total=total or 1.0)
            self._label = label
        self._progress.update(self._task, completed=min(elapsed, total or elapsed))

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None
            self._label = ""


@app.command("list")
@handle_errors
def list_(env: EnvOption = None, fmt: FormatOption = TextJson.text) -> None:
    """The scenarios in drills/ (validated: errors name file and line)."""
    proj = project()
    scenarios = _of(proj, load_scenarios(proj), env)
    rows: list[dict[str, Any]] = [
        {
            "name": sc.name,
            "environment": sc.environment or proj.config.default_environment,
            "hypothesis": sc.hypothesis.strip(),
            "steps": [s.kind for s in sc.steps],
            "cadence_days": round(sc.cadence / 86400, 2),
            "max_duration_seconds": sc.max_duration,
            "file": sc.file,
        }
        for sc in scenarios
    ]
    if fmt == TextJson.json:
        emit_json(json.dumps({"scenarios": rows}, indent=2))
        return
    if not rows:
        err.print("no drill scenario" + (f" of environment {env}" if env else ""))
    lines = []
    for r in rows:  # a paragraph each: readable at 80 columns and piped
        lines.append(
            f"[bold]{escape(r['name'])}[/]  {escape(r['environment'])}, every "
            f"{r['cadence_days']:g} d: {escape(', '.join(r['steps']))}"
        )
        lines.append(f"    {escape(' '.join(r['hypothesis'].split()))}")
    out.print("\n".join(lines))


@app.command()
@handle_errors
def run(
    name: Annotated[str, typer.Argument(help="The scenario's name (see `dnsops drill list`).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print each step and what it would change.")
    ] = False,
    doit: Annotated[
        bool, typer.Option("--doit", help="Required to drill a non-lab environment.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    fmt: FormatOption = TextJson.text,
    prom_file: PromOption = None,
    env: EnvOption = None,
) -> None:
    """Run a drill: preflight, steps under guardrails, rollback, verification, report.

    Exit 0 when the hypothesis held, 1 when it did not (or the drill could not start).
    With --env, refuse a scenario of another environment.
    """
    proj = project()
    if prom_file is not None:
        outpath.check(prom_file, "--prom-file")
    scenario = find_scenario(proj, name)
    if env is not None and _env_of(proj, scenario) != env:
        fail(
            f"drill {name!r} is a scenario of environment {_env_of(proj, scenario)!r}, not {env!r}",
            hint="drop --env, or pick a scenario of that environment (`dnsops drill list --env`)",
        )
    hooks = RichHooks()
    executor = Executor(proj, scenario, hooks)
    if dry_run:
        steps = executor.describe()
        if fmt == TextJson.json:
            emit_json(json.dumps({"scenario": name, "dry_run": True, "steps": steps}, indent=2))
            return
        out.print(f"[bold]{name}[/] ({executor.env_name}): {scenario.hypothesis.strip()}")
        for s in steps:
            out.print(f"  {s['index'] + 1}. {s['kind']}")
            for line in s["would"]:
                out.print(f"       would: {line}")
        err.print("dry run: nothing was changed")
        return
    if not executor.env.lab:
        if not doit:
            fail(
                f"{executor.env_name!r} is not a lab: a drill there changes real DNS",
                hint="pass --doit (and confirm, or --yes) to run it",
            )
        if not yes and not typer.confirm(
            f"Run drill {name!r} against {executor.env_name!r} now?", err=True
        ):
            fail("not confirmed: nothing was changed")
    result = executor.run()
    doc = build(result)
    paths = write_reports(proj, doc)
    doc["reports"] = {k: str(p) for k, p in paths.items()}
    if prom_file is not None:
        _write_metrics(proj, prom_file)
    if fmt == TextJson.json:
        emit_json(json.dumps(doc, indent=2))
    else:
        _summary(doc)
    err.print(f"report: {paths['html']} (also .md, .json)")
    if doc["verdict"] != "pass":
        raise typer.Exit(1)


def _env_of(proj: Project, scenario: Scenario) -> str:
    return scenario.environment or proj.config.default_environment


def _of(proj: Project, scenarios: list[Scenario], env: str | None) -> list[Scenario]:
    """The scenarios of environment ``env`` (all when None; an unknown name is an error)."""
    if env is None:
        return scenarios
    proj.environment(env)  # raises ConfigError naming the known environments
    return [sc for sc in scenarios if _env_of(proj, sc) == env]


def _write_metrics(proj: Project, path: Path) -> None:
    runs = past_runs(proj)
    write_textfile(
        path, metrics(cadence_status(load_scenarios(proj), runs, datetime.now(UTC)), runs)
    )


def _summary(doc: dict[str, Any]) -> None:
    colour = "green" if doc["verdict"] == "pass" else "red"
    out.print(
        f"drill [bold]{doc['scenario']['name']}[/]: [bold {colour}]{doc['verdict'].upper()}[/] "
        f"({doc['duration_seconds']} s)"
    )
    for reason in doc["reasons"]:
        out.print(f"  [red]- {reason}[/]")
    for st in doc["steps"]:
        mark = {True: "[green]ok[/]", False: "[red]FAILED[/]", None: "-"}[st["ok"]]
        out.print(f"  {st['index'] + 1}. {st['title']}: {mark}")
        if st.get("note"):
            out.print(f"     [yellow]{st['note']}[/]")
        for x in st.get("impact", []):
            out.print(
                f"     {x['vantage']}: success {x['success_fraction']:.1%} "
                f"({x['retried_fraction']:.1%} only after the stub's retry), added latency "
                f"p50 {fmt_added(x['added_p50_ms'])} ms / p95 {fmt_added(x['added_p95_ms'])} ms, "
                f"max {fmt_value(x['latency_max_ms'])} ms"
            )
        for r in st.get("regions", []):
            if r["impact"] == "no samples":
                out.print(f"     region {r['region']}: no samples")
                continue
            out.print(
                f"     region {r['region']}{' (faulted)' if r['faulted'] else ''}: impact "
                f"{r['impact']}, success {r['success_fraction']:.1%}, slow "
                f"{r['slow_fraction']:.1%}, added latency p95 {r['added_p95_ms']} ms"
            )
        for c in [] if "population" in st else st.get("convergence", []):
            out.print(
                f"     {c['vantage']}: first correct {fmt_value(c['first_correct'], ' s')}, "
                f"converged max {fmt_value(c['max'], ' s')} (bound {c['bound']:g} s)"
            )
        if "population" in st:
            pop = st["population"]
            out.print(f"     convergence {escape(population_summary(pop))}")
            times = [
                f"{v} {'never' if t is None else f'{t:g} s'}" for v, _b, t in population_rows(pop)
            ]
            out.print("     " + ", ".join(times))
    rb = doc["rollback"]
    state = "[green]verified[/]" if rb["verified"] else "[red]NOT verified[/]"
    out.print(f"  end state equals git: {state}")


@app.command()
@handle_errors
def rollback(
    force: Annotated[
        bool, typer.Option("--force", help="Even if the drill's process seems to still run.")
    ] = False,
    fmt: FormatOption = TextJson.text,
) -> None:
    """Undo everything an unfinished drill journal records, then verify git state. Exit 1 if not."""
    proj = project()
    journal = Journal.load(proj)
    described = journal.describe() if journal else None
    if journal is not None:
        err.print(f"rolling back {described}")
    result = rollback_unfinished(proj, RichHooks(), force=force)
    if fmt == TextJson.json:
        emit_json(json.dumps({"journal": described, **result.to_json()}, indent=2))
    elif journal is None:
        out.print("nothing to roll back: no unfinished drill journal")
    else:
        for u in result.undone:
            out.print(f"undone: {u}")
        for p in result.problems:
            out.print(f"[red]problem: {p}[/]")
        out.print("[green]verified[/]" if result.verified else "[red]NOT verified[/]")
    if not result.verified:
        raise typer.Exit(1)


@app.command()
@handle_errors
def status(
    env: EnvOption = None, fmt: FormatOption = TextJson.text, prom_file: PromOption = None
) -> None:
    """Each scenario's last run, verdict and next due date. Exit 1 if one is overdue."""
    proj = project()
    if prom_file is not None:
        outpath.check(prom_file, "--prom-file")
    runs = past_runs(proj)
    rows = cadence_status(_of(proj, load_scenarios(proj), env), runs, datetime.now(UTC))
    if prom_file is not None:
        write_textfile(prom_file, metrics(rows, runs))
    journal = Journal.load(proj)
    unfinished = journal.describe() if journal else None
    if fmt == TextJson.json:
        emit_json(
            json.dumps(
                {"unfinished_journal": unfinished, "scenarios": [r.to_json() for r in rows]},
                indent=2,
            )
        )
    else:
        t = Table(title="drills", title_justify="left")
        for col in ("scenario", "last run", "verdict", "last pass", "due", ""):
            t.add_column(col)
        for r in rows:
            t.add_row(
                r.scenario,
                r.last_run or "never",
                r.last_verdict or "-",
                r.last_pass or "never",
                r.due or "now",
                "[red]OVERDUE[/]" if r.overdue else "[green]ok[/]",
            )
        out.print(t)
        if unfinished:
            errors.print(f"[red]unfinished drill journal:[/] {unfinished}")
    if any(r.overdue for r in rows) or unfinished:
        raise typer.Exit(1)
