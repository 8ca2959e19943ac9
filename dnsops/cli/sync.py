"""dnsops plan / sync: octoDNS plans for both providers, applied with --doit."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from dnsops import octo
from dnsops.cli.common import (
    EnvOption,
    Format,
    ZoneOption,
    emit_json,
    err,
    handle_errors,
    out,
    project,
)
from dnsops.errors import ProviderError
from dnsops.sync import core
from dnsops.zones import load_zones

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text or json.")]


def _planset(env: str | None, zone: str | None) -> tuple[core.PlanSet, dict[str, Any]]:
    proj = project()
    _, environment = proj.environment(env)
    zones = load_zones(proj, environment, zone)
    providers = octo.targets(proj, environment)
    with err.status(f"planning {len(zones)} zone(s) on {', '.join(providers)}…"):
        try:
            return core.plan(zones, providers), providers
        except Exception as exc:
            raise ProviderError(f"planning failed: {exc}") from None


@handle_errors
def plan(env: EnvOption = None, zone: ZoneOption = None, fmt: FormatOption = Format.text) -> None:
    """Show what a sync would change on each provider."""
    planset, _ = _planset(env, zone)
    _show(planset, fmt)


@handle_errors
def sync(
    env: EnvOption = None,
    zone: ZoneOption = None,
    doit: Annotated[
        bool, typer.Option("--doit", help="Apply the plan (default: only plan).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Override octoDNS's safety guards.")
    ] = False,
    fmt: FormatOption = Format.text,
) -> None:
    """Plan and, with --doit, apply to both providers."""
    planset, providers = _planset(env, zone)
    _show(planset, fmt)
    if not doit or not planset.has_changes:
        return
    try:
        applied = core.apply(planset, providers, force=force)
    except Exception as exc:
        raise ProviderError(f"apply failed: {exc}") from None
    for name, n in applied.items():
        err.print(f"applied on {name}: {n} change(s)")


def _show(planset: core.PlanSet, fmt: Format) -> None:
    if fmt is Format.json:
        doc = [
            {
                "provider": p.provider,
                "zone": p.zone,
                "changes": [
                    {
                        "action": type(c).__name__.lower(),
                        "name": c.record.name,
                        "type": c.record._type,
                    }
                    for c in p.changes
                ],
            }
            for p in planset.plans
        ]
        emit_json(json.dumps({"plans": doc}, indent=2))
        return
    for p in planset.plans:
        out.print(f"[bold]{p.provider}[/] {p.zone}: {len(p.changes)} change(s)")
        for c in p.changes:
            out.print(f"  {type(c).__name__:6} {c.record.fqdn} {c.record._type}")
