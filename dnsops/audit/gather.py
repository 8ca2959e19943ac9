"""The audit's driver: read the three views of every zone, all providers at once.

Order of work (the source is the slow part: octoDNS builds 10k records in Python):

1. forked workers start at once: one per provider, populating its API through octoDNS
   (control plane), and one per provider whose nameservers allow a zone transfer,
   transferring every zone from every one of its nameservers (data plane);
2. meanwhile the main process loads the source;
3. then the nameservers of the providers that allow no transfer are asked, in one batch
   through the probe engine, for every name and type the source or the API holds, with
   what the API holds as the expected answer: the engine then checks almost every reply
   on its bytes and parses only the ones that differ (asking before the API view is in
   would mean parsing all 20k replies of a 10k-record zone);
4. the remaining workers are collected.

So both providers' APIs are read concurrently, the transfers concurrently with both
populates, and the queries while the other provider's populate and transfers go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from octodns.zone import Zone

from dnsops.audit import convert
from dnsops.audit.core import managed, on_wire
from dnsops.audit.model import Capabilities, Key, ProviderViews, Served, View, ZoneViews
from dnsops.audit.queries import Ask, Nameserver, ask
from dnsops.audit.workers import Job, JobFailed
from dnsops.octo import Target, read_back
from dnsops.probe.model import Target as ProbeTarget
from dnsops.probe.transfer import axfr
from dnsops.probe.xfr import TsigKey

if TYPE_CHECKING:  # the vantage modules cost 0.4 s to import: only for --vantage
    from dnsops.env import Env
    from dnsops.vantage.base import Vantage

Progress = Callable[[str], None]
XFR_TIMEOUT = 30.0


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class DataPlane:
    """How one provider's nameservers are read: per zone, the nameservers the
    environment model discovered (a zone with none has an error instead)."""

    zones: dict[str, tuple[Nameserver, ...]]
    transfer: TsigKey | None  # how to sign a zone transfer; None: per-record queries
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    def of(self, zone: str) -> tuple[Nameserver, ...]:
        return self.zones.get(zone, ())


def data_plane(env: Env, provider: str, names: list[str]) -> DataPlane:
    """The provider's nameservers for each zone, and its TSIG key if it has one."""
    facts = env.facts(names)
    zones: dict[str, tuple[Nameserver, ...]] = {}
    errors: dict[str, str] = {}
    for z in names:
        found = facts[z].providers[provider]
        zones[z] = tuple(Nameserver(s.name, s.address, s.port) for s in found.servers)
        if not zones[z]:
            errors[z] = "no nameserver known: " + (
                "; ".join(found.problems) or f"{provider} reports none for {z}"
            )
    return DataPlane(zones, env.tsig(provider), errors)


@dataclass(frozen=True)
class ApiView:
    """One zone as a provider's API holds it (octoDNS populate, then the processors)."""

    view: View | None
    error: str | None = None
    exists: bool = True
    removed: frozenset[Key] = frozenset()  # what the config's processors drop
    seconds: float = 0.0


class Gatherer:
    """Reads every view of every zone for one environment's pair of providers."""

    def __init__(
        self,
        env: Env,
        progress: Progress = _quiet,
        vantages: Sequence[Vantage] = (),
    ) -> None:
        self.env = env
        # ask the nameservers from each of these (queries only, no transfer); none: here
        self.vantages = list(vantages)
        self.targets = env.targets
        self.progress = progress
        self.caps = {name: Capabilities.of(env.capabilities[name]) for name in env.providers}
        self.timings: dict[str, float] = {}
        # provider errors are shown as they come: scrub any secret they might echo
        self.redact = env.redact

    def run(
        self, names: list[str], load_source: Callable[[], dict[str, Zone]]
    ) -> tuple[dict[str, Zone], list[ZoneViews]]:
        """Read every view of the zones ``names``; ``load_source`` loads them meanwhile."""
        self.env.facts(names, self.progress)
        planes = {p: data_plane(self.env, p, names) for p in self.targets}
        if self.vantages:
            planes = {p: replace(plane, transfer=None) for p, plane in planes.items()}
        budget = self.env.config.provider_api.phases.plan  # reading them all, as a plan does
        deadline = time.monotonic() + budget
        apis = {
            p: Job(f"{p} API", _populate_all, t, names, deadline, budget)
            for p, t in self.targets.items()
        }
        transfers = {
            p: Job(f"{p} AXFR", _transfer_all, plane, names)
            for p, plane in planes.items()
            if plane.transfer is not None
        }
        jobs = [*apis.values(), *transfers.values()]
        try:
            started = time.monotonic()
            zones = load_source()
            names = [z for z in names if z in zones]  # the model may leave some out
            self.timings["source"] = round(time.monotonic() - started, 3)
            sources = {z: convert.zone_view(zone) for z, zone in zones.items()}
            deployed = {
                (z, p): self._deployed(p, zones[z], sources[z]) for z in names for p in self.targets
            }
            api = {p: self._api(apis[p], jobs) for p in self.targets}
            served = self._queries(planes, api, deployed, names)
            for p, job in transfers.items():
                per_zone = job.result(self.progress, jobs)
                for z in names:
                    if z not in planes[p].errors:
                        served[(p, z)] = _transferred(per_zone, z, planes[p])
        finally:
            for job in jobs:
                job.cancel()
        for p, plane in planes.items():
            for z, error in plane.errors.items():
                served[(p, z)] = [Served(p, "", error=error)]
        views = [self._zone_views(z, zones[z], sources[z], deployed, api, served) for z in names]
        return zones, views

    def _api(self, job: Job, meanwhile: list[Job]) -> dict[str, ApiView]:
        result = job.result(self.progress, meanwhile)
        if isinstance(result, JobFailed):
            return _FailedZones(result.error)
        for z, a in result.items():
            self.timings[f"{job.name} {z}"] = a.seconds
        return dict(result)

    def _deployed(self, provider: str, zone: Zone, source: View) -> tuple[View, frozenset[Key]]:
        """The source as the provider is to hold it (the zone's expectation: what it
        cannot hold left out, octoDNS's fallbacks applied, then the config's processors),
        and the keys left out (those are not the provider's to compare)."""
        expected = self.env.expectation_of(zone).providers[provider]
        holds = expected.holds
        target = self.targets[provider]
        deployed = target.deployed(holds, lenient=True) if isinstance(target, Target) else holds
        if deployed is holds and expected.same:
            return source, frozenset()
        view = convert.zone_view(deployed)
        return view, frozenset(source.keys() - view.keys())

    def _queries(
        self,
        planes: dict[str, DataPlane],
        api: dict[str, dict[str, ApiView]],
        deployed: dict[tuple[str, str], tuple[View, frozenset[Key]]],
        names: list[str],
    ) -> dict[tuple[str, str], list[Served]]:
        """Ask the nameservers of every provider that allows no zone transfer."""
        asks = []
        for p, plane in planes.items():
            if plane.transfer is not None:
                continue
            for z in names:
                if z in plane.errors:
                    continue
                held = api[p][z].view or {}
                source = deployed[(z, p)][0]
                keys = self._askable(p, z, held, source) | self._askable(p, z, source, source)
                keys -= self._unasked(p, z)
                asks.append(Ask(p, z, plane.of(z), frozenset(keys), held))
        out: dict[tuple[str, str], list[Served]] = {}
        if not asks:
            return out
        started = time.monotonic()
        n = sum(len(a.keys) * len(a.nameservers) for a in asks)
        self.progress(f"asking {n} questions of {', '.join(sorted({a.provider for a in asks}))}")
        here: list[Vantage | None] = [None]
        for vantage in self.vantages or here:  # each vantage asks every nameserver
            answers = ask(asks, vantage)
            for a in asks:
                out.setdefault((a.provider, a.zone), []).extend(
                    answers[(a.provider, a.zone, ns.label)].served(
                        ns.label if vantage is None else f"{ns.label} from {vantage.name}", a.keys
                    )
                    for ns in a.nameservers
                )
        took = round(time.monotonic() - started, 3)
        self.timings["queries"] = took
        self.progress(f"{n * max(1, len(self.vantages))} answers in {took:.1f} s")
        return out

    def _unasked(self, provider: str, zone: str) -> frozenset[Key]:
        unasked = self.env.expectation(zone).providers[provider].unasked
        return frozenset((name.lower(), rtype) for name, rtype in unasked)

    def _askable(self, provider: str, zone: str, view: View, source: View) -> set[Key]:
        caps = self.caps[provider]
        return {k for k in view if on_wire(k[1]) and managed(k, zone, caps, source)}

    def _zone_views(
        self,
        name: str,
        zone: Zone,
        source: View,
        deployed: dict[tuple[str, str], tuple[View, frozenset[Key]]],
        api: dict[str, dict[str, ApiView]],
        served: dict[tuple[str, str], list[Served]],
    ) -> ZoneViews:
        providers = []
        for p in self.targets:
            view, removed = deployed[(name, p)]
            held = api[p][name]
            providers.append(
                ProviderViews(
                    name=p,
                    capabilities=self.caps[p],
                    source=view,
                    api=held.view,
                    api_error=self.redact(held.error) if held.error else None,
                    api_exists=held.exists,
                    skip=convert.skipped(zone, p) | removed | held.removed,
                    served=tuple(self._scrubbed(s) for s in served.get((p, name), ())),
                    refused=tuple(self.env.expectation(name).providers[p].refused),
                    unasked=self._unasked(p, name),
                )
            )
        return ZoneViews(name, source, tuple(providers))

    def _scrubbed(self, served: Served) -> Served:
        if served.error is None and not served.failed:
            return served
        return dataclasses.replace(
            served,
            error=self.redact(served.error) if served.error else None,
            failed={k: self.redact(v) for k, v in served.failed.items()},
        )


class _FailedZones(dict[str, ApiView]):
    """Every zone unreadable for one reason (the worker itself failed)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error

    def __missing__(self, zone: str) -> ApiView:
        return ApiView(None, self.error)


# -- in the forked workers ------------------------------------------------------------


def _populate_all(
    progress: Progress,
    target: Any,
    names: list[str],
    deadline: float | None = None,
    budget: float = 0.0,
) -> dict[str, ApiView]:
    """octoDNS's populate of one target for every zone, as its plan does it; no zone is
    read once ``deadline`` (a ``time.monotonic()``) has passed: those are errors."""
    out = {}
    for i, name in enumerate(names):
        if deadline is not None and time.monotonic() > deadline:
            late = (
                f"not read: reading {target.id}'s API passed its {budget:g} s deadline after "
                f"{i} of {len(names)} zone(s) (dnsops.yaml provider_api.phases.plan)"
            )
            for rest in names[i:]:
                out[rest] = ApiView(None, late)
            progress(f"{target.id} API: {late}")
            break
        started = time.monotonic()
        try:
            out[name] = _populate(target, name)
        except Exception as exc:  # octoDNS providers raise anything: HTTP, DNS, auth
            out[name] = ApiView(None, _first_line(exc))
            progress(f"{target.id} API: {name} could not be read")
            continue
        took = round(time.monotonic() - started, 3)
        out[name] = ApiView(out[name].view, None, out[name].exists, out[name].removed, took)
        progress(f"{target.id} API: {name} {len(out[name].view or ())} records ({took:.1f} s)")
    return out


def _populate(target: Any, name: str) -> ApiView:
    existing = Zone(name, [])
    with read_back():  # as a plan reads them: not validated again where that changes nothing
        exists = bool(target.populate(existing, target=True, lenient=True))
    raw = convert.zone_view(existing)
    if not isinstance(target, Target) or not target.processors(name):
        return ApiView(raw, exists=exists)
    view = convert.zone_view(target.held(existing))
    return ApiView(view, exists=exists, removed=frozenset(raw.keys() - view.keys()))


def _transfer_all(
    progress: Progress, plane: DataPlane, names: list[str]
) -> dict[str, list[Served]]:
    """A zone transfer of every zone from every nameserver of the provider, concurrently
    (the probe engine's AXFR: read on the bytes, every signed message TSIG-verified), as
    many at once per nameserver as its limit lets (:mod:`dnsops.probe.transfer`, shared
    with the populate worker reading the same BIND), refused ones tried again."""
    assert plane.transfer is not None
    key = plane.transfer
    # a line per transfer is news for a few zones, a flood for a thousand (and the pipe
    # to the parent holds ~64 KiB): beyond a few, at most a few lines a second
    say = progress if len(names) <= 20 else _Throttled(progress, 0.5)

    async def all_of() -> list[Served]:
        jobs = [_transfer(say, ns, name, key) for name in names for ns in plane.of(name)]
        return list(await asyncio.gather(*jobs))

    done = iter(asyncio.run(all_of()))
    return {name: [next(done) for _ in plane.of(name)] for name in names}


class _Throttled:
    """Progress lines at most every ``seconds`` (failures always), with a count."""

    def __init__(self, say: Progress, seconds: float) -> None:
        self.say = say
        self.seconds = seconds
        self.last = 0.0
        self.count = 0

    def __call__(self, line: str, always: bool = False) -> None:
        self.count += 1
        now = time.monotonic()
        if always or now - self.last >= self.seconds:
            self.last = now
            self.say(f"{line} [{self.count} transfers done]")


async def _transfer(
    progress: Progress | _Throttled, ns: Nameserver, zone: str, key: TsigKey
) -> Served:
    target = ProbeTarget(ns.address, ns.port, ns.label)
    got = await axfr(target, zone, key=key, timeout=XFR_TIMEOUT)
    tries = f", {got.attempts} attempts" if got.attempts > 1 else ""
    if got.rrsets is None:
        line = f"{ns.label}: zone transfer of {zone} failed{tries}"
        if isinstance(progress, _Throttled):
            progress(line, always=True)
        else:
            progress(line)
        return Served(ns.label, "axfr", error=f"zone transfer failed: {got.error}")
    view = convert.transfer_view(got.rrsets)
    progress(f"{ns.label}: AXFR {zone} {len(view)} rrsets ({got.latency or 0:.1f} s{tries})")
    return Served(ns.label, "axfr", records=view)


def _transferred(result: Any, zone: str, plane: DataPlane) -> list[Served]:
    if isinstance(result, JobFailed):
        return [Served(ns.label, "axfr", error=result.error) for ns in plane.of(zone)]
    served: list[Served] = result[zone]
    return served


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
