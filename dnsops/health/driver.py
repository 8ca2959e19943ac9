"""The I/O of ``dnsops health``: build the layouts, probe, and hand observations over.

Two phases. Phase A (one event loop): the per-nameserver probes, anonymous zone
transfers, the parent's delegation, and signed transfers where a TSIG key is
known (lab BIND), as many at once per nameserver as its transfer limit lets
(:mod:`dnsops.probe.transfer`; a refused or failed transfer is tried again).
Phase B (``probe.bulk``, every core): each desired RRset at every nameserver
the transfers did not cover, and through every vantage.
Nameservers that did not answer phase A's SOA are not asked 10k more questions.
A nameserver's latency comes from a few SOA queries of its own, one in flight at a
time, before phase A: phase A (every zone's probes at once) and phase B (``concurrency``
queries in flight) would measure dnsops's own queueing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dns.rdatatype
from octodns.zone import Zone

from dnsops.env import Env
from dnsops.errors import ConfigError
from dnsops.health import behaviour, delegation, plan
from dnsops.health.model import (
    Nameserver,
    ParentObs,
    ServerObs,
    VantageObs,
    VantageRecord,
    ZoneLayout,
    ZoneObs,
)
from dnsops.health.observe import owner_key, owner_text, seen_in_transfer, seen_of, texts, type_text
from dnsops.probe import Engine, Query, Result, Target, TsigKey, axfr, bulk
from dnsops.probe.transfer import RETRY_SERVFAIL
from dnsops.vantage import registry
from dnsops.vantage.base import Origin, VantageRun
from dnsops.vantage.base import Vantage as RemoteVantage

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class Options:
    concurrency: int = 100
    qps: float | None = None
    timeout: float = 2.0
    retries: int = 2
    transfer: bool = True  # read zones by AXFR where a TSIG key is known
    vantages: tuple[str, ...] | None = None  # None: every resolver of the environment
    workers: int | None = None

    def engine(self) -> Engine:
        return Engine(
            concurrency=self.concurrency, qps=self.qps, timeout=self.timeout, retries=self.retries
        )


# -- layouts ---------------------------------------------------------------------------


def layouts(env: Env, zones: dict[str, Zone], options: Options) -> list[ZoneLayout]:
    """What to check for each zone: the nameservers and parents the environment
    model discovered (the same for every command), the desired RRsets."""
    try:
        vantages = plan.vantages(env.config.all_vantages, options.vantages)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    facts = env.facts(sorted(zones))
    origins = env.origins(
        sorted({s.address for f in facts.values() for p in f.providers.values() for s in p.servers})
    )
    out = []
    for name, zone in sorted(zones.items()):
        found = facts[name]
        manages = env.manages_root_ns(name)
        apex = tuple(sorted(zone.root_ns.values)) if zone.root_ns else ()
        servers = [
            Nameserver(p, s.name, s.address, s.port)
            for p in env.providers
            for s in found.servers(p)
        ]
        parent = found.delegation
        out.append(
            ZoneLayout(
                zone=name,
                providers=tuple(env.providers),
                nameservers=tuple(servers),
                desired=tuple(plan.desired(env.expectation(name), env.providers)),
                parent_zone=parent.parent_zone or plan.parent_of(name),
                parents=tuple(
                    Target(s.address, s.port, f"parent {s.name}") for s in parent.parents
                ),
                vantages=tuple(vantages),
                apex_ns=apex,
                manages_apex_ns=manages,
                delegation_ns=tuple(parent.ns),
                origins=origins,
                facts=found,
            )
        )
    return out


def transfer_keys(env: Env) -> dict[str, TsigKey]:
    """TSIG keys of the providers that sign zone transfers (octodns-bind's)."""
    return {p: key for p in env.providers if (key := env.tsig(p)) is not None}


# -- probing ---------------------------------------------------------------------------


def observe(
    layouts_: list[ZoneLayout],
    options: Options,
    keys: dict[str, TsigKey] | None = None,
    progress: Progress | None = None,
    remote: Mapping[str, RemoteVantage] | None = None,
) -> tuple[list[ZoneObs], int]:
    """Probe everything; returns the observations and the number of queries sent.

    ``remote``: the dnsops.vantage objects of the layouts' SSH and RIPE Atlas
    vantages, by name; their questions are asked there, after phase B.
    """
    say = progress or (lambda _phase, _done, _total: None)
    zones = [ZoneObs(lay, [ServerObs(ns) for ns in lay.nameservers]) for lay in layouts_]
    sent = asyncio.run(_phase_a(zones, options, keys or {}, say))
    sent += _phase_b(zones, options, say, remote or {})
    return zones, sent


async def _phase_a(
    zones: list[ZoneObs], options: Options, keys: dict[str, TsigKey], say: Progress
) -> int:
    queries: list[Query] = []
    for zo in zones:
        for i in range(len(zo.servers)):
            queries += plan.server_queries(zo.layout, i)
        queries += plan.parent_queries(zo.layout)
        queries += delegation.queries(zo.layout)
    queries += behaviour.server_queries(zones)  # once per nameserver address
    jobs = len(queries) + sum(len(zo.servers) for zo in zones)
    latencies = await _latencies(zones, options)
    results = await options.engine().run(queries, lambda d, _t: say("nameserver checks", d, jobs))
    by_zone = {zo.layout.zone: zo for zo in zones}
    for zo in zones:
        zo.parents = [ParentObs(p) for p in zo.layout.parents]
    for r in results:
        _file_probe(by_zone, r)
    sent = len(queries) + await _second_opinion(zones, options)
    behaviour.share(zones)
    for zo in zones:
        for so in zo.servers:
            so.latencies = list(latencies.get(so.ns.target, []))
    transfers = []
    for zo in zones:
        for so in zo.servers:
            transfers.append(_transfers(zo, so, keys if options.transfer else {}))
    done = len(queries)
    for task in asyncio.as_completed(transfers):
        await task
        done += 1
        say("nameserver checks", done, jobs)
    return sent


SECOND_OPINION = ("soa-udp", "soa-tcp")  # probes asked again, alone, before a failure counts
SECOND_OPINION_CONCURRENCY = 4


async def _second_opinion(zones: list[ZoneObs], options: Options) -> int:
    """Ask again, a few at a time, the connectivity probes a server failed for some zones
    while it answered the same probe for others.

    Phase A sends every zone's probes at once (1,000 zones: 4,000 TCP connections to
    four servers); a busy machine or server can lose a few of them, which would report a
    healthy server as unreachable over TCP for a few zones. A server that answers none
    (down, or TCP dropped) is not asked again: that is no load effect, and asking again
    would only wait out its timeouts. Returns the queries sent.
    """
    answered: set[tuple[str, int, str]] = set()
    failed: list[tuple[tuple[str, int, str], Query]] = []
    for zo in zones:
        for so in zo.servers:
            for probe in SECOND_OPINION:
                r = so.probes.get(probe)
                if r is None:
                    continue
                where = (so.ns.address, so.ns.port, probe)
                if r.answered:
                    answered.add(where)
                else:
                    failed.append((where, r.query))
    again = [q for where, q in failed if where in answered]
    if not again:
        return 0
    engine = Engine(
        concurrency=SECOND_OPINION_CONCURRENCY, timeout=options.timeout, retries=options.retries
    )
    by_zone = {zo.layout.zone: zo for zo in zones}
    for r in await engine.run(again):
        _file_probe(by_zone, r)
    return len(again)


LATENCY_PROBES = 5  # SOA queries per nameserver, one at a time, for its latency


async def _latencies(zones: list[ZoneObs], options: Options) -> dict[Target, list[float]]:
    """Each nameserver's latency, measured on its own: a few SOA queries, one in flight
    at a time. Phase A asks every zone's probes at once, so its replies would measure
    dnsops's own queue (1,000 zones: 24,000 probes) rather than the server."""
    first: dict[Target, str] = {}
    for zo in zones:
        for so in zo.servers:
            first.setdefault(so.ns.target, zo.layout.zone)
    queries = [
        Query.make(t, zone, "SOA", key=t)
        for t, zone in first.items()
        for _ in range(LATENCY_PROBES)
    ]
    engine = Engine(concurrency=1, timeout=options.timeout, retries=0)
    out: dict[Target, list[float]] = {}
    for r in await engine.run(queries):
        if r.latency is not None and r.transport == "udp" and r.answered:
            target: Any = r.query.key
            out.setdefault(target, []).append(r.latency)
    return out


def _file_probe(by_zone: dict[str, ZoneObs], r: Result) -> None:
    key: Any = r.query.key
    zone: str = key[0]
    who: Any = key[1]
    what: str = key[2]
    zo = by_zone[zone]
    if isinstance(who, int):
        so = zo.servers[who]
        so.probes[what] = r
        if r.latency is not None and r.transport == "udp":
            so.queries += 1  # latency: measured on its own (_latencies)
        return
    if who == "others":  # dnsops.health.delegation's own probes
        zo.others[what] = r
        return
    po = next(p for p in zo.parents if p.parent == who)
    if what == "referral":
        po.referral = r
    else:
        po.addresses[what] = r


async def _transfers(zo: ZoneObs, so: ServerObs, keys: dict[str, TsigKey]) -> None:
    """The anonymous transfer (must be refused) and, with a key, the whole zone."""
    if not so.up:
        so.method = "skipped"
        return
    target = so.ns.target
    # must be refused: a REFUSED is the answer, a SERVFAIL (a busy server) is tried again
    so.anonymous_axfr = await axfr(target, zo.layout.zone, timeout=5.0, retry=RETRY_SERVFAIL)
    key = keys.get(so.ns.provider)
    if key is None:
        return
    transfer = await axfr(target, zo.layout.zone, key=key, timeout=10.0)
    if not transfer.transferred or transfer.rrsets is None:
        return  # fall back to queries
    so.method = "axfr"
    rrsets = dict(transfer.rrsets)
    for j, d in enumerate(zo.layout.desired):
        k = d.owner or owner_key(d.name)
        if so.ns.provider not in d.providers:
            if so.ns.provider in d.held:
                rrsets.pop((k, d.expect.rdtype), None)  # held, not asked: not "extra"
            continue
        so.checked += 1
        seen = seen_in_transfer(d, rrsets, k)
        rrsets.pop((k, d.expect.rdtype), None)
        if seen is not None:
            so.seen[j] = seen
    so.extra = _extras(zo.layout, rrsets)


def _extras(
    layout: ZoneLayout, left: dict[tuple[bytes, int], Any]
) -> list[tuple[str, str, tuple[str, ...]]]:
    apex = owner_key(layout.zone)
    out = []
    for (owner, rdtype), served in sorted(left.items()):
        if owner == apex and rdtype in (dns.rdatatype.SOA, dns.rdatatype.NS):
            continue  # the SOA is the provider's; an unmanaged apex NS too
        if plan.is_dnssec(rdtype) or rdtype >= 65280:  # signatures, private types
            continue
        out.append((owner_text(owner), type_text(rdtype), texts(served)))
    return out


def _phase_b(
    zones: list[ZoneObs], options: Options, say: Progress, remote: Mapping[str, RemoteVantage]
) -> int:
    queries: list[Query] = []
    far: dict[str, list[Query]] = {}
    for zo in zones:
        asked = [i for i, so in enumerate(zo.servers) if so.up and so.method == "queries"]
        for so in zo.servers:
            if not so.up:
                so.method = "skipped"
        queries += plan.record_queries(zo.layout, asked)
        for q in plan.vantage_queries(zo.layout):
            key: Any = q.key
            v = zo.layout.vantages[key[2]]
            if v.remote:
                far.setdefault(v.name, []).append(q)
            else:
                queries.append(q)
        zo.vantages = [VantageObs(v) for v in zo.layout.vantages]
    results: list[tuple[Result, Origin | None]] = []
    if queries:
        done = bulk.run(
            queries,
            options.engine(),
            workers=options.workers,
            progress=lambda d, t: say("record checks", d, t),
        )
        results = [(r, None) for r in done]
    by_zone = {zo.layout.zone: zo for zo in zones}
    for run in _remote(far, remote, say):
        for zo in zones:
            for vo in zo.vantages:
                if vo.vantage.name == run.vantage:
                    vo.status, vo.problem = run.status, run.problem
        if run.problem is None or run.status == "timeout":
            results += [(o.result, o.origin) for o in run.observations]
    _file_records(by_zone, results)
    return len(queries) + sum(len(qs) for qs in far.values())


def _remote(
    far: dict[str, list[Query]], remote: Mapping[str, RemoteVantage], say: Progress
) -> list[VantageRun]:
    """Each SSH/Atlas vantage's questions, asked there (all vantages at once)."""
    if not far:
        return []
    work = {remote[name]: qs for name, qs in far.items()}
    return registry.gather(work, lambda name, d, t: say(f"through {name}", d, t))


def _file_records(by_zone: dict[str, ZoneObs], results: list[tuple[Result, Origin | None]]) -> None:
    for r, origin in results:
        key: Any = r.query.key
        zone: str = key[0]
        kind: str = key[1]
        who: int = key[2]
        j: int = key[3]
        zo = by_zone[zone]
        d = zo.layout.desired[j]
        if kind == "ns":
            so = zo.servers[who]
            so.checked += 1
            if r.latency is not None and r.transport == "udp":
                so.queries += 1  # latency not kept: many in flight measure our own queue
            seen = seen_of(d, r)
            if seen is not None:
                so.seen[j] = seen
        else:
            seen = seen_of(d, r, ttl_at_most=True)
            ttl = r.ttl if r.ttl is not None else (seen.ttl if seen is not None else None)
            rec = VantageRecord(j, seen is None, ttl, r.latency, seen, origin)
            zo.vantages[who].records.append(rec)


def run(
    env: Env,
    zones: dict[str, Zone],
    options: Options,
    progress: Progress | None = None,
    say: Callable[[str], None] | None = None,
) -> tuple[list[ZoneObs], int, float]:
    """Layouts, keys, probes: the observations, the queries sent and the seconds taken.

    ``say`` hears what remote vantages announce (a RIPE Atlas cost estimate).
    """
    start = time.perf_counter()
    lays = layouts(env, zones, options)
    keys = transfer_keys(env) if options.transfer else {}
    names = sorted({v.name for lay in lays for v in lay.vantages if v.remote})
    remote: dict[str, RemoteVantage] = {}
    if names:
        built = registry.build(env.project, env.config, names, engine=options.engine(), say=say)
        remote = {v.name: v for v in built}
    observed, sent = observe(lays, options, keys, progress, remote)
    return observed, sent, time.perf_counter() - start
