"""The audit's driver: read the three views of every zone, all providers at once.

Both providers' APIs are populated by octoDNS in threads while their nameservers are
read on the event loop: zone transfers, or per-record queries through the probe engine
for the names and types the source holds. When an API holds names the source does not,
those are asked for as soon as the API view is in, so nothing waits for what it does not
need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dns.asyncquery
import dns.exception
import dns.name
import dns.tsig
import dns.tsigkeyring
import dns.xfr
import dns.zone
from octodns.zone import Zone

from dnsops.audit import convert
from dnsops.audit.core import managed, on_wire
from dnsops.audit.model import Capabilities, Key, ProviderViews, Served, View, ZoneViews
from dnsops.audit.queries import ask
from dnsops.config import Environment, Project
from dnsops.octo import Target

Progress = Callable[[str], None]
XFR_TIMEOUT = 30.0


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Nameserver:
    name: str  # the NS name ("ns1.bind.test.") or the address when no name is known
    address: str
    port: int = 53

    @property
    def label(self) -> str:
        return self.address if self.name == self.address else f"{self.name} {self.address}"


@dataclass(frozen=True)
class Transfer:
    """Credentials for a zone transfer: the TSIG key the provider's octoDNS class holds."""

    keyname: str | None = None
    secret: str | None = None
    algorithm: str = "hmac-sha256"

    def query(self, zone: dns.zone.Zone) -> Any:
        if self.keyname is None or self.secret is None:
            return dns.xfr.make_query(zone, serial=None)[0]
        ring = dns.tsigkeyring.from_text({self.keyname: self.secret})
        name = dns.name.from_text(self.keyname)
        return dns.xfr.make_query(
            zone, serial=None, keyring=ring, keyname=name, keyalgorithm=self.algorithm
        )[0]


@dataclass(frozen=True)
class DataPlane:
    """How one provider's nameservers are read."""

    nameservers: tuple[Nameserver, ...]
    transfer: Transfer | None  # None: per-record queries
    error: str | None = None  # no nameserver known


def transfer_of(target: Any) -> Transfer | None:
    """A provider whose octoDNS class itself populates by zone transfer (octodns-bind's
    AXFR-based classes) transfers with its own key; any other is asked record by record."""
    from octodns_bind import AxfrPopulate

    inner = getattr(target, "provider", target)
    if not isinstance(inner, AxfrPopulate):
        return None
    return Transfer(inner.key_name, inner.key_secret, inner.key_algorithm or "hmac-sha256")


def data_plane(project: Project, env: Environment, provider: str, target: Any) -> DataPlane:
    """The provider's nameservers (the lab's from dnsops.yaml's ``lab`` section)."""
    if env.lab and provider in project.lab.providers:
        servers = project.lab.providers[provider].nameservers
        ns = tuple(Nameserver(name, addr) for name, addr in servers.items())
        return DataPlane(ns, transfer_of(target))
    return DataPlane(
        (),
        None,
        error=f"no nameservers are known for {provider}: the data plane cannot be read",
    )


@dataclass
class Timings:
    """Wall-clock seconds per view read, for the report and the benchmark."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, what: str, started: float) -> float:
        took = time.monotonic() - started
        self.seconds[what] = round(took, 4)
        return took


@dataclass(frozen=True)
class _Api:
    view: View | None
    error: str | None = None
    exists: bool = True
    removed: frozenset[Key] = frozenset()  # what the config's processors drop


class Gatherer:
    """Reads every view of every zone for one environment's pair of providers."""

    def __init__(
        self,
        project: Project,
        env: Environment,
        targets: dict[str, Any],
        progress: Progress = _quiet,
    ) -> None:
        self.targets = targets
        self.progress = progress
        self.caps = {name: Capabilities.of(t) for name, t in targets.items()}
        self.planes = {name: data_plane(project, env, name, t) for name, t in targets.items()}
        self.timings = Timings()

    def run(self, zones: dict[str, Zone]) -> list[ZoneViews]:
        return asyncio.run(self.gather(zones))

    async def gather(self, zones: dict[str, Zone]) -> list[ZoneViews]:
        jobs = [self._zone(zone) for zone in zones.values()]
        return list(await asyncio.gather(*jobs))

    async def _zone(self, zone: Zone) -> ZoneViews:
        source = convert.zone_view(zone)
        names = list(self.targets)
        deployed = {p: self._deployed(p, zone, source) for p in names}
        apis = {p: asyncio.create_task(self._api(p, zone)) for p in names}
        served = {
            p: asyncio.create_task(self._served(p, zone, deployed[p][0], apis[p])) for p in names
        }
        providers = []
        for p in names:
            api = await apis[p]
            view, removed = deployed[p]
            providers.append(
                ProviderViews(
                    name=p,
                    capabilities=self.caps[p],
                    source=view,
                    api=api.view,
                    api_error=api.error,
                    api_exists=api.exists,
                    skip=convert.skipped(zone, p) | removed | api.removed,
                    served=tuple(await served[p]),
                )
            )
        return ZoneViews(zone.name, source, tuple(providers), convert.locations(zone))

    def _deployed(self, provider: str, zone: Zone, source: View) -> tuple[View, frozenset[Key]]:
        """The source as the config's processors deploy it to the provider, and the keys
        they removed (those are not the provider's to compare)."""
        target = self.targets[provider]
        if not isinstance(target, Target):
            return source, frozenset()
        deployed = target.deployed(zone, lenient=True)
        if deployed is zone:
            return source, frozenset()
        view = convert.zone_view(deployed)
        return view, frozenset(source.keys() - view.keys())

    # -- control plane -----------------------------------------------------------

    async def _api(self, provider: str, zone: Zone) -> _Api:
        started = time.monotonic()
        try:
            api = await asyncio.to_thread(self._populate, provider, zone)
        except Exception as exc:  # octoDNS providers raise anything: HTTP, DNS, auth
            self.progress(f"{provider} API: {zone.name} could not be read")
            return _Api(None, _first_line(exc))
        took = self.timings.add(f"{provider} api {zone.name}", started)
        n = len(api.view or ())
        self.progress(f"{provider} API: {zone.name} {n} records ({took:.1f} s)")
        return api

    def _populate(self, provider: str, zone: Zone) -> _Api:
        """octoDNS's populate of the target, as its plan does it; then the processors."""
        target = self.targets[provider]
        existing = Zone(zone.name, zone.sub_zones)
        exists = target.populate(existing, target=True, lenient=True)
        raw = convert.zone_view(existing)
        if not isinstance(target, Target) or not target.processors(zone.name):
            return _Api(raw, exists=bool(exists))
        view = convert.zone_view(target.held(existing))
        return _Api(view, exists=bool(exists), removed=frozenset(raw.keys() - view.keys()))

    # -- data plane --------------------------------------------------------------

    async def _served(
        self, provider: str, zone: Zone, source: View, api: asyncio.Task[_Api]
    ) -> list[Served]:
        plane = self.planes[provider]
        if plane.error:
            return [Served(nameserver=provider, method="none", error=plane.error)]
        if plane.transfer is not None:
            jobs = [self._transfer(provider, zone, ns, plane.transfer) for ns in plane.nameservers]
            return list(await asyncio.gather(*jobs))
        return await self._queries(provider, zone, source, api, plane.nameservers)

    async def _transfer(
        self, provider: str, zone: Zone, ns: Nameserver, transfer: Transfer
    ) -> Served:
        started = time.monotonic()
        txn = dns.zone.Zone(zone.name, relativize=False)
        try:
            await dns.asyncquery.inbound_xfr(
                ns.address,
                txn,
                query=transfer.query(txn),
                port=ns.port,
                timeout=XFR_TIMEOUT,
                lifetime=XFR_TIMEOUT,
            )
        except (dns.exception.DNSException, OSError) as exc:
            self.progress(f"{provider} {ns.label}: zone transfer of {zone.name} failed")
            return Served(ns.label, "axfr", error=f"zone transfer failed: {_first_line(exc)}")
        view = convert.transfer_view(txn)
        took = self.timings.add(f"{provider} axfr {ns.label} {zone.name}", started)
        self.progress(f"{provider} {ns.label}: AXFR {zone.name} {len(view)} rrsets ({took:.1f} s)")
        return Served(ns.label, "axfr", records=view)

    async def _queries(
        self,
        provider: str,
        zone: Zone,
        source: View,
        api: asyncio.Task[_Api],
        nameservers: Iterable[Nameserver],
    ) -> list[Served]:
        servers = list(nameservers)
        started = time.monotonic()
        first = self._askable(provider, zone.name, source, source)
        results = await ask(servers, first)
        more = set()
        done = await api
        if done.view is not None:
            more = self._askable(provider, zone.name, done.view, source) - first
        if more:
            extra = await ask(servers, more)
            for label, res in extra.items():
                results[label] = results[label].merge(res)
        asked = frozenset(first | more)
        took = self.timings.add(f"{provider} queries {zone.name}", started)
        self.progress(
            f"{provider}: {len(asked)} names asked on {len(servers)} nameservers ({took:.1f} s)"
        )
        return [results[ns.label].served(ns.label, asked) for ns in servers]

    def _askable(self, provider: str, zone: str, view: View, source: View) -> set[Key]:
        caps = self.caps[provider]
        return {k for k in view if on_wire(k[1]) and managed(k, zone, caps, source)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
