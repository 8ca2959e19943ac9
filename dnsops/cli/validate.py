"""dnsops validate: every zone through octoDNS, every problem at once."""

from __future__ import annotations

from typing import Annotated

import typer

from dnsops.cli.common import EnvOption, Format, emit_json, err, handle_errors, project
from dnsops.errors import ZoneError
from dnsops.zones import load_zones, octodns_config


@handle_errors
def validate(
    env: EnvOption = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json.")] = Format.text,
) -> None:
    """Load the octoDNS config and every zone through octoDNS; exit 1 if anything is invalid."""
    proj = project()
    env_name, environment = proj.environment(env)
    octodns_config(proj, environment)
    try:
        zones = load_zones(proj, environment)
    except ZoneError as exc:
        if fmt is Format.json:
            emit_json(_doc(env_name, False, {}, exc.problems))
            raise typer.Exit(1) from None
        raise
    counts = {name: len(zone.records) for name, zone in zones.items()}
    if fmt is Format.json:
        emit_json(_doc(env_name, True, counts, []))
        return
    for name, n in counts.items():
        err.print(f"[green]valid[/] {name}: {n} records")


def _doc(env: str, valid: bool, counts: dict[str, int], problems: list[str]) -> str:
    import json

    return json.dumps(
        {"environment": env, "valid": valid, "zones": counts, "problems": problems}, indent=2
    )
