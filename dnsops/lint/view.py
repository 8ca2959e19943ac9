"""Read-only views of octoDNS zones and records, shaped for rules.

A ``ZoneView`` is built once per lint in one pass over the zone's records and
indexes them by type and by name, so a rule that only looks at MX records never
touches the other 99,999. Everything a rule may not need (value texts, parsed
addresses, metadata, source location) is computed on first use and cached.
"""

from __future__ import annotations

import ipaddress
import socket
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from octodns.record import Record
from octodns.zone import Zone

from dnsops.lint import wire
from dnsops.lint.wire import Size
from dnsops.zones import Location, dnsops_meta, location

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
APEX = "@"
_IP_TYPES = frozenset(("A", "AAAA"))


class RecordView:
    """One octoDNS record: relative name ('@' at the apex), type, TTL, values."""

    __slots__ = (
        "_ip_ints",
        "_ips",
        "_meta",
        "_size",
        "_sized",
        "_values",
        "name",
        "record",
        "ttl",
        "type",
        "zone",
    )

    def __init__(self, zone: str, record: Record) -> None:
        self.zone = zone
        self.record = record
        self.name: str = record.name or APEX
        self.type: str = record._type
        self.ttl: int = record.ttl
        self._values: tuple[str, ...] | None = None
        self._ips: tuple[IPAddress, ...] | None = None
        self._ip_ints: tuple[tuple[int, int], ...] | None = None
        self._meta: dict[str, Any] | None = None
        self._size: Size | None = None
        self._sized = False

    @property
    def fqdn(self) -> str:
        return str(self.record.fqdn)

    @property
    def subject(self) -> str:
        return f"{self.fqdn} {self.type}"

    @property
    def raw_values(self) -> list[Any]:
        values = getattr(self.record, "values", None)
        if values is None:
            value = getattr(self.record, "value", None)
            return [] if value is None else [value]
        return list(values)

    @property
    def values(self) -> tuple[str, ...]:
        """Each value as zone-file text (TXT/SPF unescaped: ``v=DMARC1; p=reject``)."""
        if self._values is None:
            self._values = tuple(_text(self.type, v) for v in self.raw_values)
        return self._values

    @property
    def ips(self) -> tuple[IPAddress, ...]:
        """The addresses of an A/AAAA record; empty for every other type."""
        if self._ips is None:
            if self.type in _IP_TYPES:
                self._ips = tuple(ipaddress.ip_address(str(v)) for v in self.raw_values)
            else:
                self._ips = ()
        return self._ips

    @property
    def ip_ints(self) -> tuple[tuple[int, int], ...]:
        """:attr:`ips` as (IP version, integer) pairs, read without ipaddress objects
        (about 50x cheaper: selectors by CIDR test every A/AAAA record of a zone)."""
        if self._ip_ints is None:
            if self._ips is not None:
                self._ip_ints = tuple((ip.version, int(ip)) for ip in self._ips)
            elif self.type in _IP_TYPES:
                self._ip_ints = tuple(_ip_int(str(v)) for v in self.raw_values)
            else:
                self._ip_ints = ()
        return self._ip_ints

    @property
    def meta(self) -> dict[str, Any]:
        """The record's ``octodns: {dnsops: {...}}`` metadata."""
        if self._meta is None:
            self._meta = dnsops_meta(self.record) if self.record.octodns else {}
        return self._meta

    @property
    def size(self) -> Size | None:
        """The record's size on the wire (dnsops.lint.wire); None if it cannot be encoded."""
        if not self._sized:
            self._size = wire.size(self.record, self.values)
            self._sized = True
        return self._size

    @property
    def location(self) -> Location | None:
        return location(self.record)

    def context(self) -> dict[str, Any]:
        """Placeholders every rule message may use."""
        return {
            "zone": self.zone,
            "name": self.name,
            "fqdn": self.fqdn,
            "type": self.type,
            "ttl": self.ttl,
            "values": ", ".join(self.values),
        }


def _ip_int(text: str) -> tuple[int, int]:
    """(version, integer) of an address, as ``ipaddress.ip_address`` reads it."""
    try:
        if ":" in text:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        ip = ipaddress.ip_address(text)  # what inet_pton does not read (a scope: fe80::1%lo)
        return ip.version, int(ip)


def _text(rtype: str, value: Any) -> str:
    if rtype in ("TXT", "SPF"):
        return str(value).replace("\\;", ";")
    to_text = getattr(value, "to_rdata_text", None)
    return str(to_text()) if callable(to_text) else str(value)


@dataclass
class ZoneView:
    """A zone's records, indexed for rules; ``file`` is the zone file (relative)."""

    name: str
    file: str
    records: list[RecordView]
    by_type: dict[str, list[RecordView]] = field(default_factory=dict)
    by_name: dict[str, list[RecordView]] = field(default_factory=dict)

    @classmethod
    def build(cls, zone: Zone, file: str) -> ZoneView:
        # octoDNS keeps records in a set: sort, so every "first" and every order is stable
        records = sorted(
            (RecordView(zone.name, r) for r in zone.records), key=lambda v: (v.name, v.type)
        )
        by_type: defaultdict[str, list[RecordView]] = defaultdict(list)
        by_name: defaultdict[str, list[RecordView]] = defaultdict(list)
        for view in records:
            by_type[view.type].append(view)
            by_name[view.name].append(view)
        return cls(zone.name, file, records, dict(by_type), dict(by_name))

    @property
    def apex(self) -> list[RecordView]:
        return self.by_name.get(APEX, [])

    @property
    def apex_line(self) -> int:
        """Where zone-level findings point: the first apex record, else line 1."""
        lines = [loc.line for v in self.apex if (loc := v.location) is not None]
        return min(lines, default=1)

    def fqdn(self, name: str) -> str:
        return self.name if name == APEX else f"{name}.{self.name}"
