"""The audit's data: views of a zone (source, api, served) and the drift classes.

Plain, immutable data without I/O: the driver (:mod:`dnsops.audit.gather`) fills it, the
core (:mod:`dnsops.audit.core`) compares it, tests build it by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import dns.rdata
import dns.rdataclass
import dns.rdatatype

# a value: the canonical wire form of an rdata (``Rdata.to_digestable()``: names lower
# case and uncompressed; TXT strings re-chunked from their joined bytes), or the text of
# an octoDNS-only type that has no wire form (ALIAS, URLFWD)
Value = bytes | str
# (owner name, lower case and fully qualified; record type), e.g. ("api.example.test.", "A")
Key = tuple[str, str]


def value_text(rtype: str, value: Value) -> str:
    """A value in presentation form (for reports only: parses the wire form)."""
    if isinstance(value, str):
        return value
    try:
        rdtype = dns.rdatatype.from_text(rtype)
        rdata = dns.rdata.from_wire(dns.rdataclass.IN, rdtype, value, 0, len(value))
    except Exception:  # dnspython raises several kinds for a malformed rdata
        return "\\# " + str(len(value)) + " " + value.hex()
    return str(rdata.to_text())


class Drift(StrEnum):
    """The classes of drift: the ``id`` of each audit finding."""

    MISSING = "missing"  # in the source, not in the provider's API
    EXTRA = "extra"  # in the provider's API, not in the source
    VALUES = "values-differ"  # same name and type, other values
    TTL = "ttl-differs"  # same values, other TTL
    SERVED = "served-differs-from-api"  # a nameserver serves other data than its API holds
    UNSUPPORTED = "unsupported-by-one-provider"  # the provider's octoDNS class can't hold it
    UNAVAILABLE = "view-unavailable"  # an API or a nameserver could not be read at all


if TYPE_CHECKING:
    from dnsops.expect import Refusal
    from dnsops.lint.capabilities import ProviderCaps


@dataclass(frozen=True)
class RRset:
    """One name and type as a view has it."""

    ttl: int
    values: frozenset[Value]

    def texts(self, rtype: str) -> list[str]:
        return sorted(value_text(rtype, v) for v in self.values)

    def to_json(self, rtype: str) -> dict[str, Any]:
        return {"ttl": self.ttl, "values": self.texts(rtype)}


View = Mapping[Key, RRset]


@dataclass(frozen=True)
class Capabilities:
    """What a provider's octoDNS class declares it can hold (read, never hard-coded)."""

    cls: str  # the octoDNS provider class, for messages
    supports: frozenset[str]
    root_ns: bool

    @classmethod
    def of(cls, caps: ProviderCaps) -> Capabilities:
        """From the environment model's capabilities (one reading for every command)."""
        return cls(
            cls=caps.class_path.rsplit(".", 1)[-1],
            supports=caps.supports or frozenset(),
            root_ns=caps.flag("SUPPORTS_ROOT_NS") is True,
        )


@dataclass(frozen=True)
class Served:
    """What one nameserver of a provider serves."""

    nameserver: str  # "ns1.bind.test. 127.53.2.1"
    method: str  # "axfr" or "queries"
    records: View = field(default_factory=dict)
    # the keys asked for (queries); None: the view is complete (a zone transfer)
    asked: frozenset[Key] | None = None
    # per key: why no answer could be had (timeout, SERVFAIL, no AA flag...)
    failed: Mapping[Key, str] = field(default_factory=dict)
    error: str | None = None  # the nameserver could not be read at all

    @property
    def complete(self) -> bool:
        return self.asked is None


@dataclass(frozen=True)
class ProviderViews:
    """One provider's view of one zone: its capabilities, its API, its nameservers."""

    name: str
    capabilities: Capabilities
    source: View  # the source as octoDNS deploys it to this provider (processors applied)
    api: View | None  # None: the API could not be read (see api_error)
    api_error: str | None = None
    api_exists: bool = True  # the provider knows the zone at all
    skip: frozenset[Key] = frozenset()  # keys octoDNS leaves alone for this provider
    served: tuple[Served, ...] = ()
    # from the zone's expectation (dnsops.expect): what this provider will not hold, and
    # the keys its nameservers are not asked about one by one (glue, records below a
    # delegation, dynamic records served from pools)
    refused: tuple[Refusal, ...] = ()
    unasked: frozenset[Key] = frozenset()

    @property
    def acknowledged(self) -> list[Refusal]:
        return [r for r in self.refused if r.acknowledged]


@dataclass(frozen=True)
class ZoneViews:
    zone: str
    source: View  # the zone in git, before any provider's rules
    providers: tuple[ProviderViews, ...]
    locations: Mapping[Key, tuple[str, int]] = field(default_factory=dict)  # file, line

    def provider(self, name: str) -> ProviderViews:
        return next(p for p in self.providers if p.name == name)


def keys_of(views: Iterable[View]) -> set[Key]:
    out: set[Key] = set()
    for view in views:
        out.update(view)
    return out


@dataclass
class Audit:
    """One audit run: the views read, the drift found, how long it took."""

    environment: str
    providers: tuple[str, ...]
    zones: list[ZoneViews]
    findings: list[Any]  # dnsops.findings.Finding, sorted by zone then provider
    started: float  # epoch seconds
    duration: float
    timings: dict[str, float] = field(default_factory=dict)
    # name, kind, region of each host the nameservers were asked from (none: from here)
    vantages: list[dict[str, str]] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.findings

    @property
    def records(self) -> int:
        """Records (name and type) in the source, all zones."""
        return sum(len(z.source) for z in self.zones)
