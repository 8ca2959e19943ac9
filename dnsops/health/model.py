"""What health looks at and what it saw: plain data shared by plan, evaluate and render.

``ZoneLayout`` is the input (nameservers per provider, the parent, the vantage
points, the desired RRsets); ``ServerObs``/``VantageObs``/``ParentObs`` are the
observations the driver collects; ``HealthReport`` is the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dnsops.findings import Finding
from dnsops.independence import AddressOrigin
from dnsops.probe import Expected, Result, Target, Transfer
from dnsops.vantage.base import Origin

if TYPE_CHECKING:
    from dnsops.env import ZoneFacts


@dataclass(frozen=True)
class Nameserver:
    provider: str
    name: str  # ns1.pdns.test.
    address: str
    port: int = 53

    @property
    def target(self) -> Target:
        return Target(self.address, self.port, f"{self.provider} {self.name}")

    def __str__(self) -> str:
        return self.address if self.name == self.address else f"{self.name} ({self.address})"


@dataclass(frozen=True)
class Vantage:
    """A resolver that users of one region would use, and where it is asked from.

    ``kind`` is the vantage's (dnsops.yaml): ``resolver`` is asked from here by
    the probe engine; ``ssh`` and ``ripe-atlas`` through dnsops.vantage, from the
    host or the probes (``address`` is then ``system`` for their own resolver).
    """

    name: str
    region: str
    address: str
    port: int = 53
    kind: str = "resolver"

    @property
    def target(self) -> Target:
        return Target(self.address, self.port, f"resolver {self.name}")

    @property
    def remote(self) -> bool:
        return self.kind != "resolver"

    def __str__(self) -> str:
        return f"{self.name} ({self.region})"


@dataclass(frozen=True)
class DesiredRRset:
    """One RRset the zone in git declares, and where it is declared.

    ``section`` says where an authoritative server puts it: ``answer`` for data
    of the zone, ``authority`` for a delegation's NS (a referral), ``additional``
    for glue below a delegation, ``occluded`` for a record no server answers. Only
    ``answer`` data resolves at a vantage. ``providers`` must serve it so; ``held``
    hold it (dnsops.expect).
    """

    zone: str
    name: str
    rdtype: str
    ttl: int
    values: tuple[str, ...]
    expect: Expected
    providers: frozenset[str]
    section: str = "answer"
    file: str | None = None
    line: int | None = None
    owner: bytes = b""  # the name in canonical wire form (lower-cased), for zone transfers
    # providers that hold it at all (their zone transfers carry it), checked or not
    held: frozenset[str] = frozenset()

    @property
    def subject(self) -> str:
        return f"{self.name} {self.rdtype}"


@dataclass(frozen=True)
class ZoneLayout:
    zone: str
    providers: tuple[str, ...]
    nameservers: tuple[Nameserver, ...]
    desired: tuple[DesiredRRset, ...]
    parent_zone: str  # the zone's parent domain (test. for example.test.)
    parents: tuple[Target, ...] = ()  # the parent's servers, when known
    vantages: tuple[Vantage, ...] = ()
    apex_ns: tuple[str, ...] = ()  # the apex NS names the zone declares
    manages_apex_ns: bool = True  # False when octoDNS leaves the apex NS to the providers
    delegation_ns: tuple[str, ...] = ()  # the NS names the parent delegates to (env model)
    # the origin AS and prefix of each nameserver address (an environment fact, shared)
    origins: Mapping[str, AddressOrigin] = field(default_factory=dict, compare=False, hash=False)
    facts: ZoneFacts | None = None  # discovery's: the names, their addresses, the parent's

    def of(self, provider: str) -> list[Nameserver]:
        return [ns for ns in self.nameservers if ns.provider == provider]


@dataclass(frozen=True)
class Seen:
    """What one server returned for one desired RRset, when it is not the desired."""

    status: str  # differs | missing | nxdomain | error | refused
    ttl: int | None = None
    values: tuple[str, ...] = ()
    rcode: str | None = None
    error: str | None = None

    def describe(self) -> str:
        if self.status == "differs":
            return f"{', '.join(self.values)} (TTL {self.ttl})"
        if self.status == "missing":
            return f"no such record ({self.rcode}, no data)"
        if self.status == "nxdomain":
            return "NXDOMAIN"
        return self.error or self.rcode or self.status


@dataclass
class ServerObs:
    ns: Nameserver
    probes: dict[str, Result] = field(default_factory=dict)  # soa-udp, soa-tcp, ns, ...
    anonymous_axfr: Transfer | None = None
    method: str = "queries"  # queries | axfr | skipped (down)
    seen: dict[int, Seen] = field(default_factory=dict)  # desired index -> what differs
    checked: int = 0  # desired RRsets compared
    extra: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # axfr only
    latencies: list[float] = field(default_factory=list)  # of the probes (phase A)
    queries: int = 0  # answered over UDP, probes and record checks

    @property
    def up(self) -> bool:
        """It answers the zone's SOA over UDP, with EDNS or at least without
        (dnsops.health.behaviour: a server that breaks on EDNS is up, and broken)."""
        soa, plain = self.probes.get("soa-udp"), self.probes.get("soa-plain")
        return (soa is not None and soa.answered) or (plain is not None and plain.answered)


@dataclass
class VantageRecord:
    index: int  # into ZoneLayout.desired
    ok: bool
    ttl: int | None
    latency: float | None
    seen: Seen | None = None
    origin: Origin | None = None  # where a remote vantage saw it (an Atlas probe...)


@dataclass
class VantageObs:
    vantage: Vantage
    records: list[VantageRecord] = field(default_factory=list)
    status: str = "ok"  # ok | unreachable | timeout | refused | error (dnsops.vantage)
    problem: str | None = None  # why the vantage itself could not be used


@dataclass
class ParentObs:
    parent: Target
    referral: Result | None = None
    addresses: dict[str, Result] = field(default_factory=dict)  # "name A" -> answer


@dataclass
class ZoneObs:
    layout: ZoneLayout
    servers: list[ServerObs] = field(default_factory=list)
    vantages: list[VantageObs] = field(default_factory=list)
    parents: list[ParentObs] = field(default_factory=list)
    # dnsops.health.delegation's probes: "referral ADDRESS" (the parent's, without EDNS),
    # "NAME ADDRESS" (the SOA at each address of a name no provider owns)
    others: dict[str, Result] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """One check on one subject: passed (True), failed (False) or not applicable (None)."""

    check: str
    subject: str
    ok: bool | None
    message: str = ""
    zone: str | None = None
    provider: str | None = None
    file: str | None = None
    line: int | None = None
    hint: str | None = None
    data: dict[str, Any] | None = None
    children: tuple[Outcome, ...] = ()  # same root cause, folded under this one

    @property
    def address(self) -> str | None:
        """The nameserver address the outcome is about, if it is about one."""
        value = (self.data or {}).get("address")
        return value if isinstance(value, str) else None


@dataclass
class NameserverRow:
    zone: str
    provider: str
    name: str
    address: str
    udp: bool
    tcp: bool
    aa: bool
    method: str
    checked: int
    mismatches: int
    latency_ms: float | None  # median of the probes' UDP latencies
    p95_ms: float | None
    queries: int  # UDP queries it answered
    serial: int | None = None  # the SOA serial it serves (providers' serials differ)
    # NSID (RFC 5001): the server instance that answered (an anycast site), when it says
    nsid: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class VantageRow:
    zone: str
    name: str
    region: str
    address: str
    checked: int
    resolved: int
    failed: int
    latency_ms: float | None
    p95_ms: float | None
    records: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "resolver"
    status: str = "ok"
    problem: str | None = None

    @property
    def success(self) -> float:
        if self.problem is not None and self.status != "timeout":
            return 0.0
        return self.resolved / self.checked if self.checked else 1.0

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["success"] = round(self.success, 4)
        return out


@dataclass
class CheckRow:
    id: str
    severity: str
    title: str
    explain: str
    passed: int
    failed: int
    skipped: int


@dataclass
class HealthReport:
    env: str
    zones: list[str]
    findings: list[Finding]
    nameservers: list[NameserverRow]
    vantages: list[VantageRow]
    checks: list[CheckRow]
    seconds: float = 0.0
    queries: int = 0
    policy: str | None = None
    # each distinct set of provider addresses, with their origin AS and prefix
    independence: list[dict[str, Any]] = field(default_factory=list)
