"""An import's result as text paragraphs (readable at 80 columns and piped) or JSON."""

from __future__ import annotations

import json

from dnsops.imports.core import Difference
from dnsops.imports.run import ImportResult, ZoneImport


def to_json(result: ImportResult) -> str:
    return json.dumps(result.to_json(), indent=2)


def lines(result: ImportResult) -> list[str]:
    """One paragraph per zone: what was written, what was left out, what differs."""
    out: list[str] = []
    for z in result.zones:
        out += _zone(result, z)
    out += ["", summary(result)]
    return out


def _zone(result: ImportResult, z: ZoneImport) -> list[str]:
    source = result.written_from
    if z.written:
        head = f"{z.zone} wrote {z.file}: {z.records} record(s) from {source}"
    elif source in z.errors:
        head = f"{z.zone} not written: {source} could not be read: {z.errors[source]}"
    else:
        head = f"{z.zone} not written: {source} does not have this zone"
    out = [head]
    if z.apex_ns:
        out.append(
            "  apex NS: both providers' nameservers (each serves its own): " + ", ".join(z.apex_ns)
        )
    if z.left_out:
        out.append(f"  left out {len(z.left_out)} record(s) the zone file cannot hold as read:")
        out += [f"    {x.name} {x.type}: {x.reason}" for x in z.left_out]
    for p in z.unchecked:
        out.append(
            f"  note: {p}'s provider class gives no listing to check what octoDNS did not read"
        )
    for p, why in z.errors.items():
        if p != source:
            out.append(f"  {p} could not be read, nothing compared: {why}")
    for p in z.missing:
        if p != source or z.differences is not None:
            out.append(f"  {p} does not have {z.zone}")
    if z.differences:
        a, b = result.providers
        out.append(f"  {a} and {b} differ on {len(z.differences)} record(s):")
        for d in z.differences:
            out += _difference(d)
    elif z.identical:
        a, b = result.providers
        out.append(f"  {a} and {b} hold the same records")
    return out


def _difference(d: Difference) -> list[str]:
    what = {"values": "values differ", "ttl": "TTL differs"}.get(d.kind, d.kind.replace("-", " "))
    out = [f"    {d.name} {d.type} ({what})"]
    for p, side in d.sides:
        out.append(f"      {p}: {side.text() if side else '(none)'}")
    return out


def summary(result: ImportResult) -> str:
    written = sum(z.written for z in result.zones)
    left = sum(len(z.left_out) for z in result.zones)
    text = f"imported {written} of {len(result.zones)} zone(s) from {result.written_from}"
    if left:
        text += f"; {left} record(s) left out (listed above)"
    text += f" in {result.seconds:.1f} s"
    if result.compared:
        a, b = result.providers
        differing = result.differing
        if differing:
            n = sum(len(z.differences or ()) for z in differing)
            unread = sum(bool(z.errors) for z in differing)
            text += (
                f"; {a} and {b} differ on {n} record(s) in {len(differing)} zone(s)"
                + (f" ({unread} not compared: a provider could not be read)" if unread else "")
                + f": the files hold {a}'s records (written anyway)"
            )
        else:
            text += f"; {a} and {b} hold the same records"
    return text
