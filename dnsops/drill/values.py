"""Record values from git (octoDNS) and from the wire (dnspython) in one canonical text form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dns.rdata
import dns.rdataclass
import dns.rdatatype
from octodns.record import Record


def _value_text(rtype: str, value: Any) -> str:
    if rtype in ("TXT", "SPF"):
        text = str(value).replace("\\;", ";")
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    to_text = getattr(value, "to_rdata_text", None)
    return str(to_text()) if callable(to_text) else str(value)


def canonical(rtype: str, texts: Iterable[str]) -> frozenset[str]:
    """Parse each text as rdata of ``rtype`` and print it back (dnspython's canonical text)."""
    rdtype = dns.rdatatype.from_text(rtype)
    return frozenset(dns.rdata.from_text(dns.rdataclass.IN, rdtype, t).to_text() for t in texts)


def record_values(record: Record) -> frozenset[str]:
    """The values a nameserver should answer for ``record``, canonical."""
    rtype = record._type
    values = getattr(record, "values", None)
    if values is None:
        values = [record.value]
    return canonical(rtype, (_value_text(rtype, v) for v in values))


def find_record(zone: Any, name: str, rtype: str) -> Record:
    for record in zone.records:
        if record.name == name and record._type == rtype.upper():
            return record
    from dnsops.errors import ConfigError

    label = f"{name}.{zone.name}" if name else zone.name
    raise ConfigError(f"no {rtype.upper()} record {label} in the zones in git")
