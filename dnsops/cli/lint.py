"""dnsops lint: the zones against the policies in policies/ (exit 1 on any error)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dnsops.cli.common import (
    ChangedSinceOption,
    EnvOption,
    Format,
    ZoneOption,
    emit_json,
    environment,
    err,
    handle_errors,
    out,
    working,
    write,
    zones_of,
)
from dnsops.lint import driver
from dnsops.render import findings as render

FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help="text (tables by zone), json, markdown (PR comment) or github."
    ),
]
OnlineOption = Annotated[
    bool,
    typer.Option(
        "--online",
        help="Also run the online rules: dangling CNAME/NS targets (DNS through the "
        "environment's resolvers) and CDN cache headers (HTTP GET of the origins).",
    ),
]


@handle_errors
def lint(
    env: EnvOption = None,
    zone: ZoneOption = None,
    fmt: FormatOption = Format.text,
    online: OnlineOption = False,
    changed_since: ChangedSinceOption = None,
) -> None:
    """Check the zones against intent: TTL bands by record class, forbid/require rules,
    what both providers can serve, apex NS of both providers; with --online, dangling
    targets and CDN cache headers. Runs octoDNS's validation first.

    Policies are policies/*.yaml; rule kinds: ttl-band, ttl-floor, forbid, require,
    provider-support, apex-ns-providers, dangling-target, cdn-vary, cdn-cache-control.
    A record suppresses a rule with a reason: octodns: {dnsops: {ignore: {RULE: "why"}}}.

    Exit 1 when any error-level finding remains, else 0.
    """
    model = environment(env)
    only = zones_of(model, zone, changed_since)
    with working("linting…") as status:
        report = driver.run(model, only, online_checks=online, progress=status.update)
    _show(report, fmt)
    if report.failed:
        raise typer.Exit(1)


def _show(report: driver.LintReport, fmt: Format) -> None:
    title = f"dnsops lint ({report.environment})"
    if fmt == Format.json:
        emit_json(json.dumps(report.to_json(), indent=2, default=str))
        return
    if fmt == Format.markdown:
        write(render.markdown_by_zone(report.findings, title, report.suppressed, report.summary()))
        return
    if fmt == Format.github:
        text = render.github(report.findings) + render.github_suppressed(report.suppressed)
        write(text)
        err.print(report.summary())
        return
    width = out.width if out.is_terminal else None
    lines = render.paragraphs(report.findings, title, width)
    lines += render.suppressed_lines(report.suppressed, "suppressed (with their reasons)")
    if lines:
        out.print("\n".join(lines))
    style = "red" if report.failed else "green"
    err.print(f"[{style}]{report.summary()}[/]")
