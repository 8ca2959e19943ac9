"""dnsops validate: every zone through octoDNS, every problem at once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from dnsops.cli.common import (
    EnvOption,
    TextJson,
    emit_json,
    environment,
    err,
    handle_errors,
)
from dnsops.env import Env
from dnsops.errors import ZoneError
from dnsops.expect import refusal_lines


@handle_errors
def validate(
    env: EnvOption = None,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="text or json.")] = TextJson.text,
) -> None:
    """Load the octoDNS config and every zone through octoDNS; exit 1 if anything is invalid."""
    model = environment(env)
    env_name = model.name
    model.octodns  # noqa: B018 (a broken octoDNS config is reported before the zones)
    try:
        zones = model.zones()
    except ZoneError as exc:
        if fmt == TextJson.json:
            emit_json(_doc(env_name, False, {}, exc.problems, []))
            raise typer.Exit(1) from None
        raise
    counts = {name: len(zone.records) for name, zone in zones.items()}
    notices = _notices(model, sorted(zones))
    if fmt == TextJson.json:
        emit_json(_doc(env_name, True, counts, [], notices))
        return
    for name, n in counts.items():
        err.print(f"[green]valid[/] {name}: {n} records")
    for notice in notices:
        err.print(f"[yellow]notice:[/] {escape(notice)}")


def _notices(model: Env, zones: list[str]) -> list[str]:
    """Valid, but not served as written (the zones' expectation): a record below a
    delegation, a record a provider of the environment will not hold."""
    out = []
    for name in zones:
        expected = model.expectation(name)
        for fqdn, rtype in expected.occluded:
            out.append(f"{fqdn} {rtype}: below a delegation of {name}: no server answers it")
        out += refusal_lines(expected.refusals())
    return out


def _doc(
    env: str, valid: bool, counts: dict[str, int], problems: list[str], notices: list[str]
) -> str:
    import json

    doc = {
        "environment": env,
        "valid": valid,
        "zones": counts,
        "problems": problems,
        "notices": notices,
    }
    return json.dumps(doc, indent=2)
