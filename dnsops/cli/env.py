"""dnsops env show: what dnsops knows about an environment, and where each fact came from."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from dnsops.cli.common import EnvOption, emit_json, environment, err, handle_errors, out, working

app = typer.Typer(
    rich_markup_mode=None, help="The environment model: providers, nameservers, parents."
)


class ShowFormat(StrEnum):
    text = "text"
    json = "json"


ZonesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--zone", "-z", metavar="ZONE", help="Only these zones (repeatable; default: every zone)."
    ),
]


@app.command("show")
@handle_errors
def show(
    env: EnvOption = None,
    zone: ZonesOption = None,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="text or json.")] = (
        ShowFormat.text
    ),
) -> None:
    """Print what every command knows of the environment, and where each fact came from.

    Each provider's class and capabilities; per zone, the nameservers each provider
    serves it from (asked of the provider: API or DNS, or pinned in dnsops.yaml) and the
    delegation at the parent (walked down from the root hints, or pinned). Exit 1 when
    something is missing."""
    model = environment(env)
    names = model.pick(zone)
    with working("asking the providers and walking down from the root…") as status:
        facts = model.facts(names, progress=status.update)
    doc = model.describe()
    doc["zones"] = [facts[z].to_json() for z in names]
    problems = [
        f"{z}: {p}: {why}"
        for z in names
        for p, found in facts[z].providers.items()
        for why in (*found.problems, *(() if found.servers else ("no nameserver known",)))
    ] + [
        f"{z}: delegation: {facts[z].delegation.problem}"
        for z in names
        if facts[z].delegation.problem
    ]
    doc["problems"] = problems
    if fmt is ShowFormat.json:
        emit_json(json.dumps(doc, indent=2))
    else:
        _text(doc)
    if problems:
        raise typer.Exit(1)


def _text(doc: dict[str, object]) -> None:
    lines = [f"environment {doc['environment']}" + (" (lab)" if doc["lab"] else "")]
    hints = doc["root_hints"]
    assert isinstance(hints, list)
    shown = ", ".join(f"{h['name']} {h['address']}" for h in hints[:4])
    more = f" (+{len(hints) - 4})" if len(hints) > 4 else ""
    lines.append(f"  root hints: {shown}{more}")
    providers = doc["providers"]
    assert isinstance(providers, dict)
    for name, p in providers.items():
        lines.append(f"  provider {name}: {p['class']}")
    zones = doc["zones"]
    assert isinstance(zones, list)
    for z in zones:
        lines.append(f"zone {z['zone']}")
        for name, p in z["providers"].items():
            lines.append(f"  {name} nameservers ({p['source']}):")
            by_name: dict[str, list[str]] = {}
            for s in p["servers"]:
                by_name.setdefault(s["name"], []).append(s["address"])
            for ns in p["names"]:
                lines.append(f"    {ns} {', '.join(by_name.get(ns, [])) or '(no address)'}")
            lines += [f"    problem: {why}" for why in p["problems"]]
        d = z["delegation"]
        parents = ", ".join(f"{s['name']} {s['address']}" for s in d["parents"]) or "none"
        lines.append(f"  delegation at {d['parent_zone']} ({d['source']}): parents {parents}")
        lines.append(f"    NS {', '.join(d['ns']) or '(none)'}")
        if d["problem"]:
            lines.append(f"    problem: {d['problem']}")
        for n, f in z.get("names", {}).items():  # names of no provider, NS names that alias
            if f["owner"] is None or f["alias"]:
                what = "of no provider" if f["owner"] is None else f"of {f['owner']}"
                alias = f", an alias of {f['alias']}" if f["alias"] else ""
                where = ", ".join(f["addresses"]) or "(no address)"
                lines.append(f"  name {n} {what}{alias}: {where}")
    out.print("\n".join(lines), markup=False)
    problems = doc["problems"]
    assert isinstance(problems, list)
    for p in problems:
        err.print(f"[yellow]warning:[/] {p}", markup=True)
