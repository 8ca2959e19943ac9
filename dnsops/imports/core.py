"""What an import keeps, leaves out and finds different between two providers. No I/O.

octoDNS zones in (as the providers' populate returned them), models out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from octodns.record import Record
from octodns.zone import Zone

from dnsops.audit.convert import zone_view
from dnsops.audit.model import RRset

Key = tuple[str, str]  # (fqdn, type)


@dataclass(frozen=True)
class LeftOut:
    """A record the provider holds that the zone file does not get, and why."""

    name: str  # fqdn
    type: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "reason": self.reason}


@dataclass(frozen=True)
class Side:
    """One provider's RRset of a name and type (None: it has none)."""

    ttl: int
    values: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"ttl": self.ttl, "values": list(self.values)}

    def text(self) -> str:
        return f"TTL {self.ttl}: {', '.join(self.values) or '(no value)'}"


@dataclass(frozen=True)
class Difference:
    """A name and type the two providers do not hold alike."""

    name: str
    type: str
    kind: str  # only-on-<provider> | values | ttl
    sides: tuple[tuple[str, Side | None], ...]  # (provider, what it holds), in order

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "kind": self.kind,
            "providers": {p: s.to_json() if s else None for p, s in self.sides},
        }


@dataclass
class Kept:
    """The records a zone file can hold (each loads again strictly), and the others."""

    zone: Zone
    left_out: list[LeftOut] = field(default_factory=list)


def strict(read: Zone) -> Kept:
    """The records of a leniently populated zone that load again as ``dnsops validate``
    loads a zone file (``Record.new`` and ``Zone.add_record`` without leniency, then the
    zone validators enabled for the environment); each other one is left out, with the
    reasons octoDNS gives.
    """
    kept = Zone(read.name, [])
    out: list[LeftOut] = []
    for record in sorted(read.records):
        data = dict(record.data)
        data["type"] = record._type
        try:
            again = Record.new(kept, record.name, data, source=record.source, lenient=False)
            kept.add_record(again, lenient=False)
        except Exception as exc:  # octoDNS raises ValidationError and bare exceptions
            reasons = getattr(exc, "reasons", None) or [_first_line(exc)]
            out.append(LeftOut(record.fqdn, record._type, "; ".join(str(r) for r in reasons)))
    named: dict[Key, tuple[Any, list[str]]] = {}
    for reason in kept.validators.process_zone(kept):
        for record in reason.records or ():
            why = f"{str.__str__(reason)} (via {reason.validator_id})"
            named.setdefault((record.fqdn, record._type), (record, []))[1].append(why)
    for (fqdn, rtype), (record, whys) in named.items():
        kept.remove_record(record)
        out.append(LeftOut(fqdn, rtype, "; ".join(whys)))
    return Kept(kept, sorted(out, key=lambda x: (x.name, x.type)))


def differences(zones: Iterable[tuple[str, Zone]]) -> list[Difference]:
    """Every name and type two providers' zones do not hold alike, compared in canonical
    form (the audit's views: names lower case, TXT chunking ignored)."""
    (a, za), (b, zb) = list(zones)
    va, vb = zone_view(za), zone_view(zb)
    out = []
    for key in sorted(va.keys() | vb.keys()):
        x, y = va.get(key), vb.get(key)
        if x == y:
            continue
        name, rtype = key
        if x is None or y is None:
            kind = f"only-on-{a if y is None else b}"
        elif x.values != y.values:
            kind = "values"
        else:
            kind = "ttl"
        out.append(Difference(name, rtype, kind, ((a, _side(rtype, x)), (b, _side(rtype, y)))))
    return out


def _side(rtype: str, rrset: RRset | None) -> Side | None:
    return None if rrset is None else Side(rrset.ttl, tuple(rrset.texts(rtype)))


def keys(zone: Zone) -> set[Key]:
    return {(r.fqdn.lower(), r._type) for r in zone.records}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
