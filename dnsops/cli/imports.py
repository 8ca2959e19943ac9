"""dnsops import: zones a provider already serves, written in this repository's format."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from dnsops.cli.common import (
    EnvOption,
    ProviderOption,
    State,
    TextJson,
    ZoneOption,
    emit_json,
    environment,
    err,
    fail,
    handle_errors,
    out,
    quiet_octodns,
)
from dnsops.imports.run import import_zones
from dnsops.render import imports as render


@handle_errors
def import_(
    env: EnvOption = None,
    provider: ProviderOption = None,
    zone: ZoneOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite zone files that are already there.")
    ] = False,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="text or json.")] = TextJson.text,
) -> None:
    """Write the zones a provider holds as zone files; compare both.

    Without --zone, every zone the provider lists (RFC 2136 servers such as BIND cannot
    list: name the zones). Without --provider, both providers of the environment are read,
    the files get the first one's records, and every record the two hold differently is
    listed: exit 1 when they differ (the files are still written). Records a zone file
    cannot hold as read are left out and listed. An existing zone file is only
    overwritten with --force. Then `dnsops plan --provider P` shows no change."""
    model = environment(env)
    with quiet_octodns(State.verbose):
        result = import_zones(model, provider, zone, force=force, progress=_progress)
    if fmt == TextJson.json:
        emit_json(render.to_json(result))
    else:
        out.print("\n".join(escape(line) for line in render.lines(result)))
    failed = [z.zone for z in result.failed]
    if failed:
        fail(
            f"{len(failed)} zone(s) not written: {', '.join(failed)}",
            hint="see each zone's reason above; every other zone was written",
        )
    if not result.ok:
        raise typer.Exit(1)


def _progress(message: str) -> None:
    err.print(f"[dim]{escape(message)}[/]")
