"""What every vantage point is and returns: plain data and one small protocol.

A vantage point answers ``await vantage.resolve_many(queries)`` with a
:class:`VantageRun`: one :class:`Observation` per answer it saw, each holding
the probe engine's own :class:`~dnsops.probe.Result` (the query object the
caller built, its key untouched, ``matched`` decided the engine's way) plus
where it was seen from: the vantage's name, kind and region, and for RIPE
Atlas the probe, its country and its ASN.

- kind ``resolver``: one observation per query, asked from here;
- kind ``ssh``: one per query, asked from the host;
- kind ``ripe-atlas``: one per probe (and per probe resolver) per query.

.. important:: ``resolve_many`` never raises for a vantage that cannot be
   reached, is too slow or would cost too much: it returns a run whose
   ``problem`` says so (a finding for that vantage) and whose observations
   carry the error, so one bad vantage never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from dnsops.probe import Query, Result, Target

Progress = Callable[[int, int], None]  # (done, total) answers of one vantage

# A query sent to this target is asked of the vantage's own resolver (the SSH
# host's /etc/resolv.conf, each Atlas probe's resolvers): callers build it with
# ``vantage.resolver`` and need not know the address.
HOST_RESOLVER = "system"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where one answer was seen from, beyond the vantage itself."""

    host: str | None = None  # the SSH host's name, "probe 6012" for Atlas
    server: str | None = None  # the address actually asked (a host's resolver...)
    probe: int | None = None  # RIPE Atlas probe ID
    country: str | None = None  # ISO 3166 code of the probe
    asn: int | None = None  # the probe's AS number


def probe_text(origin: Origin) -> str | None:
    """``probe 6031 (FR, AS3215)`` for an Atlas probe; None when the vantage says it all."""
    if origin.probe is None:
        return None
    asn = f"AS{origin.asn}" if origin.asn is not None else None
    tags = [t for t in (origin.country, asn) if t]
    return f"probe {origin.probe}" + (f" ({', '.join(tags)})" if tags else "")


@dataclass(slots=True)
class Observation:
    """One answer (or failure) seen from one vantage point."""

    vantage: str
    kind: str
    region: str
    result: Result
    origin: Origin = field(default_factory=Origin)

    @property
    def ok(self) -> bool:
        return bool(self.result.matched)

    def to_json(self) -> dict[str, Any]:
        r = self.result
        ttl, values = r.served() if r.wire is not None else (r.ttl, ())
        out: dict[str, Any] = {
            "vantage": self.vantage,
            "kind": self.kind,
            "region": self.region,
            "qname": r.query.qname.to_text(),
            "rdtype": _type_text(r.query.rdtype),
            "server": self.origin.server or r.query.target.address,
            "rcode": r.rcode_text if r.answered else None,
            "matched": r.matched,
            "ttl": ttl,
            "values": list(values),
            "latency_ms": round(r.latency * 1000, 3) if r.latency is not None else None,
            "transport": r.transport,
            "error": r.error,
        }
        for key in ("host", "probe", "country", "asn"):
            value = getattr(self.origin, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(slots=True)
class VantageRun:
    """What one vantage saw for a batch of queries, and what went wrong with it.

    ``problem`` is None when the vantage worked (each answer may still be
    wrong: see the observations); otherwise it says why the vantage itself
    failed, and ``status`` is one of ``unreachable``, ``timeout``, ``refused``
    (the budget cap), ``error``.
    """

    vantage: str
    kind: str
    region: str
    observations: list[Observation] = field(default_factory=list)
    problem: str | None = None
    status: str = "ok"
    info: dict[str, Any] = field(default_factory=dict)  # host, python, credits, msm IDs...
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem is None


@runtime_checkable
class Vantage(Protocol):
    """A place DNS is looked at from. See the module docstring for the contract."""

    name: str
    kind: str
    region: str

    @property
    def resolver(self) -> Target | None:
        """The target that means "this vantage's resolver" (None: it has none)."""
        ...

    @property
    def asks_nameservers(self) -> bool:
        """Whether it can ask the providers' nameservers directly."""
        ...

    async def resolve_many(
        self, queries: Sequence[Query], progress: Progress | None = None
    ) -> VantageRun: ...


def failed_run(
    vantage: Vantage, queries: Sequence[Query], status: str, problem: str, **info: Any
) -> VantageRun:
    """A run in which nothing was asked: every query carries the vantage's problem."""
    run = VantageRun(vantage.name, vantage.kind, vantage.region, status=status, problem=problem)
    run.info.update(info)
    run.observations = [
        Observation(vantage.name, vantage.kind, vantage.region, Result(q, error=problem))
        for q in queries
    ]
    return run


def _type_text(rdtype: int) -> str:
    import dns.rdatatype

    return dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))
