"""dnsops validate: every zone through octoDNS, every problem at once."""

from __future__ import annotations

from typing import Annotated

import typer

from dnsops.cli.common import EnvOption, Format, emit_json, environment, err, handle_errors
from dnsops.errors import ZoneError


@handle_errors
def validate(
    env: EnvOption = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="text or json.")] = Format.text,
) -> None:
    """Load the octoDNS config and every zone through octoDNS; exit 1 if anything is invalid."""
    model = environment(env)
    env_name = model.name
    model.octodns  # noqa: B018 (a broken octoDNS config is reported before the zones)
    try:
        zones = model.zones()
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
