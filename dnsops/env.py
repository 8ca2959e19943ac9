"""The environment model: every fact about one environment, computed once per command.

Data flows one way: dnsops.yaml -> **this model** -> the capability a command runs
(lint, plan, sync, verify, health, audit, drill, lab) -> findings/plans -> render.
Each command builds one :class:`Env` and hands it on; nothing else parses the
octoDNS config, loads the zones, reads provider capabilities or TSIG keys, decides
who owns the apex NS, or discovers nameservers and parents.

What it holds, each computed lazily and memoised:

* the dnsops config of the environment, and its octoDNS config parsed once;
* the octoDNS providers (instantiated only when a command needs them: lint does not);
* each provider's capabilities, read from its octoDNS class;
* whether the apex NS of a zone is managed (octoDNS processors may leave it to the
  providers) and by which provider;
* the TSIG key per provider, where there is one;
* the desired zones, loaded and validated once;
* the discovered nameservers of each provider and the delegation at the parent.

Discovery is one code path for the lab and for production:

* each provider names its nameservers for a zone itself (Route 53: the hosted
  zone's delegation set; NS1: the zone's ``dns_servers``; PowerDNS: the apex NS
  through its API; an RFC 2136 server such as BIND: the apex NS it serves);
* names several providers report (self-hosted providers list each other's, as a
  dual-provider apex NS must) are attributed by asking each name's servers for
  the zone's SOA and matching its MNAME to the one the provider reports;
* the names' addresses, the parent's servers and the delegation they serve come
  from walking down from the environment's root hints (the lab's root in the lab,
  the IANA root elsewhere), as a resolver does;
* every name a provider reports or the parent lists is kept, resolved, with its owner
  (:class:`NameFacts`; the CNAME its address query met too); a name no provider owns is
  a stranger (:attr:`ZoneFacts.strangers`), not dropped;
* ``environments.<env>.nameservers`` and ``.parent`` in dnsops.yaml override.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import difflib
import fnmatch
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dns.rdatatype

from dnsops.config import Project
from dnsops.errors import ConfigError, ZoneError

if TYPE_CHECKING:
    from octodns.manager import Manager
    from octodns.provider.yaml import YamlProvider
    from octodns.zone import Zone

    from dnsops.changes import Changed
    from dnsops.expect import ZoneExpectation
    from dnsops.independence import AddressOrigin
    from dnsops.lint.capabilities import ProviderCaps
    from dnsops.octo import Target
    from dnsops.probe.walk import Delegation, Server
    from dnsops.probe.xfr import TsigKey

# How often each expensive step ran in this process: a test asserts "once per command".
COUNTS: Counter[str] = Counter()

# The IANA root servers (root-servers.org), IPv4 and IPv6. Only production uses them:
# a lab environment walks from its own root, and tests point every environment's
# ``root_hints`` at a lab.
IANA_ROOT = {
    "a.root-servers.net.": ("198.41.0.4", "2001:503:ba3e::2:30"),
    "b.root-servers.net.": ("170.247.170.2", "2801:1b8:10::b"),
    "c.root-servers.net.": ("192.33.4.12", "2001:500:2::c"),
    "d.root-servers.net.": ("199.7.91.13", "2001:500:2d::d"),
    "e.root-servers.net.": ("192.203.230.10", "2001:500:a8::e"),
    "f.root-servers.net.": ("192.5.5.241", "2001:500:2f::f"),
    "g.root-servers.net.": ("192.112.36.4", "2001:500:12::d0d"),
    "h.root-servers.net.": ("198.97.190.53", "2001:500:1::53"),
    "i.root-servers.net.": ("192.36.148.17", "2001:7fe::53"),
    "j.root-servers.net.": ("192.58.128.30", "2001:503:c27::2:30"),
    "k.root-servers.net.": ("193.0.14.129", "2001:7fd::1"),
    "l.root-servers.net.": ("199.7.83.42", "2001:500:9f::42"),
    "m.root-servers.net.": ("202.12.27.33", "2001:dc3::35"),
}
DISCOVERY_DEADLINE = 60.0  # seconds for all of one command's discovery, at most
API_CONCURRENCY = 4  # provider API calls in flight per provider


@dataclass(frozen=True)
class ProviderServers:
    """One provider's nameservers for one zone, and where the facts came from."""

    provider: str
    names: tuple[str, ...]
    servers: tuple[Server, ...]  # every address of every name
    source: str  # api | dns | override | elimination | none
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "names": list(self.names),
            "servers": [{"name": s.name, "address": s.address} for s in self.servers],
            "source": self.source,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class NameFacts:
    """One nameserver name of a zone (listed by a provider or the parent), resolved.

    ``owner`` is the provider it was attributed to (None: a stranger, no provider's);
    ``alias`` the CNAME target its address query met (an NS name must not be one);
    ``problem`` why it has no address.
    """

    name: str
    addresses: tuple[str, ...]
    problem: str | None = None
    alias: str | None = None
    owner: str | None = None
    listed_by: tuple[str, ...] = ()  # the providers that report it (the parent aside)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {
            "addresses": list(self.addresses),
            "listed_by": list(self.listed_by),
        }


@dataclass(frozen=True)
class ZoneFacts:
    """What discovery found for one zone."""

    zone: str
    providers: dict[str, ProviderServers]
    delegation: Delegation
    delegation_source: str  # walk | override
    # every name a provider reports or the parent lists, resolved, with its owner
    names: dict[str, NameFacts] = dataclasses.field(default_factory=dict)

    @property
    def strangers(self) -> tuple[str, ...]:
        """Names a provider reports or the parent lists that belong to no provider."""
        return tuple(n for n, f in sorted(self.names.items()) if f.owner is None)

    def servers(self, provider: str) -> tuple[Server, ...]:
        found = self.providers.get(provider)
        return found.servers if found else ()

    def to_json(self) -> dict[str, Any]:
        d = self.delegation
        return {
            "zone": self.zone,
            "providers": {p: v.to_json() for p, v in self.providers.items()},
            "delegation": {
                "source": self.delegation_source,
                "parent_zone": d.parent_zone,
                "parents": [{"name": s.name, "address": s.address} for s in d.parents],
                "ns": list(d.ns),
                "glue": {k: list(v) for k, v in sorted(d.glue.items())},
                "problem": d.problem,
            },
            "names": {n: f.to_json() for n, f in sorted(self.names.items())},
            "strangers": list(self.strangers),
        }


@dataclass
class _Reported:
    names: tuple[str, ...] = ()
    mname: str | None = None
    source: str = "api"
    error: str | None = None
    exists: bool = True


ROOT_NS_FILTERS = ("IgnoreRootNsFilter",)  # octoDNS processors that drop the apex NS


class Env:
    """One environment of a project, as every capability sees it."""

    def __init__(self, project: Project, name: str | None = None) -> None:
        self.project = project
        self.name, self.config = project.environment(name)
        self._facts: dict[str, ZoneFacts] = {}
        self._loaded: dict[str, tuple[Zone, list[str]]] = {}
        # zones no provider can be given as written, with why; every command that works
        # zone by zone leaves them out, says so, and exits 1 after doing the others
        self.excluded: dict[str, str] = {}
        self._expected: dict[str, ZoneExpectation] = {}
        self._origins: dict[str, AddressOrigin] = {}

    def __repr__(self) -> str:
        return f"Env({self.name})"

    @property
    def providers(self) -> tuple[str, str]:
        return self.config.providers

    @property
    def lab(self) -> bool:
        return self.config.lab

    # -- octoDNS ---------------------------------------------------------------

    @functools.cached_property
    def octodns(self) -> dict[str, Any]:
        """The octoDNS config, parsed once (with line context)."""
        from dnsops.zones import octodns_config

        COUNTS["octodns-config"] += 1
        return octodns_config(self.project, self.config)

    @functools.cached_property
    def manager(self) -> Manager:
        """octoDNS's Manager, built from the parsed config (providers instantiated)."""
        from dnsops import octo

        return octo.manager(self.project, self.config, parsed=self.octodns)

    @functools.cached_property
    def targets(self) -> dict[str, Target]:
        """The two providers as the config deploys them (with the zones' processors)."""
        from dnsops import octo

        limits = {name: caps.batch for name, caps in self.capabilities.items()}
        return octo.targets(self.project, self.config, self.manager, limits)

    @functools.cached_property
    def redact(self) -> Callable[[str], str]:
        """Scrubs every secret the config reads from a text (provider errors), and every
        secret the process knows (:mod:`dnsops.scrub`)."""
        from dnsops import octo, scrub

        values = octo.secret_values(self.project, self.config, self.octodns)
        for value in values:
            scrub.register(value, "a secret the octoDNS config reads")
        own = octo.redactor(values)
        return lambda text: scrub.scrub(own(text))

    @functools.cached_property
    def capabilities(self) -> dict[str, ProviderCaps]:
        """What each provider's octoDNS class declares it can hold (no instantiation)."""
        from dnsops.lint.capabilities import read_capabilities

        caps = read_capabilities(self.project, self.config, self.octodns)
        return {c.name: c for c in caps}

    def root_ns_ignored(self, zone: str) -> bool:
        """The zone's octoDNS processors leave the apex NS to the providers.

        Read from the config, not by instantiating anything: the manager's global
        processors plus the zone's own (its exact entry, else the ``'*'`` entry).
        """
        zones = self.octodns.get("zones") or {}
        zone_config = zones.get(zone) or zones.get("*") or {}
        manager = self.octodns.get("manager") or {}
        names = [*(manager.get("processors") or []), *(zone_config.get("processors") or [])]
        declared = self.octodns.get("processors") or {}
        classes = [str((declared.get(n) or {}).get("class", "")) for n in names]
        return any(c.rsplit(".", 1)[-1] in ROOT_NS_FILTERS for c in classes)

    def manages_root_ns(self, zone: str, provider: str | None = None) -> bool:
        """Whether octoDNS pushes the zone file's apex NS (to ``provider``, or to any)."""
        if self.root_ns_ignored(zone):
            return False
        names = [provider] if provider else list(self.providers)
        return any(self.capabilities[p].flag("SUPPORTS_ROOT_NS") is not False for p in names)

    def resolved_capabilities(self) -> dict[str, ProviderCaps]:
        """The capabilities, with what a class decides only at run time (PowerDNS's
        SUPPORTS_DYNAMIC) read from the provider once it is instantiated."""
        if "targets" not in self.__dict__:
            return self.capabilities
        out = {}
        for name, caps in self.capabilities.items():
            flags = dict(caps.flags)
            for flag, value in flags.items():
                if value is None:
                    try:  # PowerDNS's SUPPORTS_DYNAMIC asks its API: down means unknown
                        found = getattr(self.targets[name].provider, flag, None)
                    except Exception:
                        found = None
                    flags[flag] = found if isinstance(found, bool) else None
            out[name] = dataclasses.replace(caps, flags=flags)
        return out

    def expectation(self, zone: str) -> ZoneExpectation:
        """What each provider holds of the zone in git and its nameservers must answer
        (dnsops.expect), computed once per command."""
        if zone not in self._expected:
            self._expected[zone] = self.expectation_of(self.zones(zone)[zone])
        return self._expected[zone]

    def expectation_of(self, zone: Zone) -> ZoneExpectation:
        """The expectation of a zone object: git's (memoised), or a changed copy (a
        drill's failover), computed from it."""
        from dnsops.expect import build

        git = self._loaded.get(zone.name)
        is_git = git is not None and git[0] is zone
        memo = self._expected.get(zone.name)
        if memo is not None and is_git:
            return memo
        found = build(zone, self.resolved_capabilities(), self.root_ns_ignored(zone.name))
        if is_git:
            self._expected[zone.name] = found
        return found

    def tsig(self, provider: str) -> TsigKey | None:
        """The TSIG key the provider signs zone transfers with, where it has one."""
        from dnsops import octo
        from dnsops.probe.xfr import TsigKey

        found = octo.tsig_of(self.targets[provider])
        return TsigKey(*found) if found else None

    # -- desired zones -----------------------------------------------------------

    @functools.cached_property
    def source(self) -> YamlProvider:
        from dnsops.zones import yaml_source

        return yaml_source(self.project, self.config, self.octodns)

    @functools.cached_property
    def zone_names(self) -> list[str]:
        from dnsops.zones import zone_names

        return zone_names(self.source)

    def pick(self, only: str | Sequence[str] | None) -> list[str]:
        """The zone names a command works on: all, or those asked for, in the source's
        order. Each of ``only`` is a zone name (the final dot optional) or a glob
        (``'*.example.com.'``, ``'z0[0-4]*'``).

        :raises ConfigError: a name is no zone of the source, or a glob matches none.
        """
        if only is None:
            return list(self.zone_names)
        wanted = [only] if isinstance(only, str) else list(only)
        chosen: set[str] = set()
        for name in wanted:
            if any(c in name for c in "*?["):
                matched = fnmatch.filter(self.zone_names, name)
                if not matched and not name.endswith("."):
                    matched = fnmatch.filter(self.zone_names, name + ".")
                if not matched:
                    raise ConfigError(
                        f"--zone {name!r} matches no zone in {self.source.directory} "
                        f"({len(self.zone_names)} zones)"
                    )
                chosen.update(matched)
                continue
            fq = name if name.endswith(".") else name + "."
            if fq not in self.zone_names:
                near = difflib.get_close_matches(fq, self.zone_names, n=3)
                have = self.zone_names[:10]
                more = f" and {len(self.zone_names) - 10} more" if len(self.zone_names) > 10 else ""
                hint = (
                    f"did you mean {', '.join(near)}?" if near else f"have: {', '.join(have)}{more}"
                )
                raise ConfigError(f"no zone {fq!r} in {self.source.directory} ({hint})")
            chosen.add(fq)
        return [n for n in self.zone_names if n in chosen]

    def changed_since(self, ref: str) -> Changed:
        """The zones whose files changed since git ``ref`` (every zone when dnsops.yaml,
        the octoDNS config or a policy changed). See ``dnsops.changes``."""
        from dnsops.changes import select

        whole = [
            self.project.path,
            self.project.octodns_config(self.config),
            self.project.policies_dir,
        ]
        return select(
            self.project.root, ref, Path(str(self.source.directory)), self.zone_names, whole
        )

    def loaded(
        self,
        only: str | Sequence[str] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> dict[str, tuple[Zone, list[str]]]:
        """Each zone with its problems (validation collected, never raised); every
        zone file is read once per command, whoever asks first."""
        from dnsops.zones import enable_validators, load_zone, validator_sets

        names = self.pick(only)
        todo = [n for n in names if n not in self._loaded]
        if todo:
            enable_validators(validator_sets(self.octodns))
            for i, name in enumerate(todo, 1):
                if progress:
                    progress(f"loading {name} ({i}/{len(todo)}) through octoDNS…")
                COUNTS["zone-load"] += 1
                self._loaded[name] = load_zone(self.source, name)
        return {n: self._loaded[n] for n in names}

    def zones(
        self,
        only: str | Sequence[str] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> dict[str, Zone]:
        """The desired zones, validated, without the ones no provider can take as they are
        (see :attr:`excluded`).

        :raises ZoneError: listing every problem of every zone asked for.
        :raises ConfigError: the one zone asked for by name is excluded.
        """
        loaded = self.loaded(only, progress)
        problems = [p for _, found in loaded.values() for p in found]
        if problems:
            raise ZoneError(problems, hint="fix the zone files, then run `dnsops validate`")
        out = {}
        for name, (zone, _) in loaded.items():
            why = self._unservable(name, zone)
            if why is None:
                out[name] = zone
                continue
            self.excluded[name] = why
            if isinstance(only, str):
                raise ConfigError(why)
        return out

    def _unservable(self, name: str, zone: Zone) -> str | None:
        """Why no provider can be given the zone as written, if so: a zone whose apex NS
        octoDNS pushes (no processor leaves it to the providers) needs one."""
        from dnsops.zones import zone_file

        if zone.root_ns is not None or not self.manages_root_ns(name):
            return None
        takers = [p for p in self.providers if self.manages_root_ns(name, p)]
        return (
            f"{zone_file(self.source, name)}: no apex NS record: {' and '.join(takers)} take "
            f"{name}'s nameservers from the zone file, so it can be neither delegated nor "
            "served; add an NS record at '' (the apex)"
        )

    # -- discovery ---------------------------------------------------------------

    @property
    def root_hints(self) -> tuple[Server, ...]:
        """Where the delegation walk starts: the environment's root hints, a lab
        environment's lab root, or the IANA root servers."""
        from dnsops.probe.walk import Server

        hints = self.config.root_hints
        if hints is None and self.lab:
            hints = dict(self.project.lab.root)
        if hints is None:
            return tuple(Server(n, a) for n, addrs in IANA_ROOT.items() for a in addrs)
        return tuple(Server(n, a) for n, a in hints.items())

    def facts(
        self, zones: Sequence[str], progress: Callable[[str], None] | None = None
    ) -> dict[str, ZoneFacts]:
        """Nameservers and delegation of each zone, discovered once per command."""
        todo = [z for z in zones if z not in self._facts]
        if todo:
            if progress:
                progress(f"discovering the nameservers and parents of {len(todo)} zone(s)")
            COUNTS["discovery"] += 1
            import asyncio  # discovery only: a plan needs no event loop

            found = asyncio.run(self._discover(todo))
            self._facts.update(found)
        return {z: self._facts[z] for z in zones}

    def zone_facts(self, zone: str) -> ZoneFacts:
        return self.facts([zone])[zone]

    def origins(self, addresses: Sequence[str]) -> dict[str, AddressOrigin]:
        """The origin AS and announced prefix of each address (provider independence),
        looked up once per command: ``dnsops.independence``."""
        from dnsops import independence

        todo = sorted(set(addresses) - set(self._origins))
        if todo:
            COUNTS["origin-lookup"] += 1
            self._origins.update(independence.origins(self, todo))
        return {a: self._origins[a] for a in addresses}

    async def _discover(self, zones: list[str]) -> dict[str, ZoneFacts]:
        import asyncio

        from dnsops.errors import ProviderError

        try:
            return await asyncio.wait_for(self._discover_all(zones), DISCOVERY_DEADLINE)
        except TimeoutError:
            raise ProviderError(
                f"discovering the nameservers of {len(zones)} zone(s) took over "
                f"{DISCOVERY_DEADLINE:.0f} s (provider APIs or the delegation walk)",
                hint="pin them in dnsops.yaml (environments.<env>.nameservers and .parent)",
            ) from None

    async def _discover_all(self, zones: list[str]) -> dict[str, ZoneFacts]:
        import asyncio

        from dnsops.probe.walk import Walker

        walker = Walker(self.root_hints)
        reported = await self._reported(zones, walker)
        delegations = await asyncio.gather(*(self._delegation(z, walker) for z in zones))
        out = {}
        for zone, (delegation, how) in zip(zones, delegations, strict=True):
            providers, names = await self._attribute(zone, reported[zone], delegation, walker)
            out[zone] = ZoneFacts(zone, providers, delegation, how, names)
        return out

    async def _delegation(self, zone: str, walker: Any) -> tuple[Delegation, str]:
        from dnsops.probe.walk import Server

        if self.config.parent:
            servers = tuple(Server(a, a) for a in self.config.parent)
            return await walker.delegation_at(zone, servers), "override"
        return await walker.delegation(zone), "walk"

    async def _reported(self, zones: list[str], walker: Any) -> dict[str, dict[str, _Reported]]:
        """What each provider says its nameservers are, per zone."""
        import asyncio

        from dnsops import octo

        out: dict[str, dict[str, _Reported]] = {z: {} for z in zones}
        api: list[tuple[str, str]] = []
        for provider in self.providers:
            override = self.config.nameservers.get(provider)
            if override:
                for z in zones:
                    out[z][provider] = _Reported(tuple(override), source="override")
                continue
            try:
                target = self.targets[provider]
            except ConfigError as exc:
                for z in zones:
                    out[z][provider] = _Reported(source="none", error=exc.message)
                continue
            endpoint = octo.rfc2136_endpoint(target)
            if endpoint is not None:
                found = await _apex_over_dns(walker, endpoint, zones)
                for z in zones:
                    out[z][provider] = found[z]
                continue
            api += [(provider, z) for z in zones]
        if api:
            loop = asyncio.get_running_loop()
            width = API_CONCURRENCY * len({p for p, _ in api})
            with concurrent.futures.ThreadPoolExecutor(max_workers=width) as pool:
                results = await asyncio.gather(
                    *(loop.run_in_executor(pool, self._ask_api, p, z) for p, z in api)
                )
            for (provider, zone), rep in zip(api, results, strict=True):
                out[zone][provider] = rep
        return out

    def _ask_api(self, provider: str, zone: str) -> _Reported:
        from dnsops import octo

        try:
            found = octo.provider_zone(self.targets[provider], zone)
        except octo.Unsupported as exc:
            return _Reported(
                source="none",
                error=f"cannot ask {exc} for its nameservers: pin them in dnsops.yaml "
                f"(environments.{self.name}.nameservers.{provider})",
            )
        except Exception as exc:  # the provider's API failed: say so, scrubbed
            return _Reported(source="none", error=self.redact(f"its API failed: {exc}"[:300]))
        if not found.exists:
            return _Reported(source="api", exists=False, error=f"it does not have {zone} yet")
        return _Reported(found.names, found.soa_mname, "api")

    async def _attribute(
        self, zone: str, reported: dict[str, _Reported], delegation: Delegation, walker: Any
    ) -> tuple[dict[str, ProviderServers], dict[str, NameFacts]]:
        """Each provider's own names, from what the providers report, the SOA each name's
        server serves, and the delegation (see :func:`_owners`); and every name's facts
        (strangers too: a name no provider owns is kept, with its owner None)."""
        import asyncio

        from dnsops.probe.walk import Server

        claims: dict[str, set[str]] = {}
        for provider, rep in reported.items():
            for n in rep.names:
                claims.setdefault(n.lower(), set()).add(provider)
        for n in delegation.ns:
            claims.setdefault(n.lower(), set())
        names = sorted(claims)
        addrs = dict(
            zip(names, await asyncio.gather(*(walker.addresses(n) for n in names)), strict=True)
        )
        for n in names:  # an override may name addresses directly
            if _is_address(n):
                addrs[n] = ((n,), None)
        by_mname = {r.mname: p for p, r in reported.items() if r.mname}
        probed = {n: addrs[n][0] for n in names} if by_mname else {}
        owner = _owners(names, claims, reported, await _soa_mnames(walker, zone, probed))
        out = {}
        for provider in self.providers:
            rep = reported.get(provider, _Reported(source="none"))
            mine = [n for n in names if owner[n] == provider]
            problems = [rep.error] if rep.error else []
            servers: list[Server] = []
            for n in mine:
                found, why = addrs[n]
                if why:
                    problems.append(f"{n} does not resolve: {why}")
                servers += [Server(n, a) for a in found]
            source = rep.source if rep.names else ("elimination" if mine else "none")
            out[provider] = ProviderServers(
                provider, tuple(mine), tuple(servers), source, tuple(problems)
            )
        facts = {
            n: NameFacts(
                n,
                tuple(addrs[n][0]),
                addrs[n][1],
                walker.aliases.get(n),
                owner[n],
                tuple(sorted(claims[n])),
            )
            for n in names
        }
        return out, facts

    def describe(self) -> dict[str, Any]:
        """Everything known about the environment (for ``dnsops env show``)."""
        caps = self.capabilities

        def supports(p: str) -> list[str] | None:
            types = caps[p].supports
            return sorted(types) if types is not None else None

        return {
            "environment": self.name,
            "lab": self.lab,
            "octodns_config": str(self.config.octodns_config),
            "root_hints": [{"name": s.name, "address": s.address} for s in self.root_hints],
            "providers": {
                p: {
                    "class": caps[p].class_path,
                    "supports": supports(p),
                    "flags": dict(caps[p].flags),
                }
                for p in self.providers
            },
        }


def _owners(
    names: list[str],
    claims: dict[str, set[str]],
    reported: dict[str, _Reported],
    served_mname: dict[str, str],
) -> dict[str, str | None]:
    """Which provider each nameserver name belongs to, in order of evidence:

    1. its server serves the SOA whose MNAME a provider reports as its own;
    2. one provider alone lists it and reports no SOA of its own (Route 53's delegation
       set, NS1's dns_servers: names only that provider serves);
    3. it shares its domain (two labels or more) with the names one provider already has
       (``ns2.pdns.test.`` beside ``ns1.pdns.test.``), say while that server is down;
    4. what is left goes to the one provider that could not be asked (its API down).

    A name claimed by a provider that reports its own SOA but whose server does not serve
    it is not taken on its word: self-hosted providers list each other's names. A provider
    pinned in dnsops.yaml has exactly the names pinned.
    """
    by_mname = {r.mname: p for p, r in reported.items() if r.mname}
    pinned = {p for p, r in reported.items() if r.source == "override"}
    owner: dict[str, str | None] = {}
    for n in names:
        pins = claims[n] & pinned
        if pins:  # dnsops.yaml names it: nothing to discover
            owner[n] = sorted(pins)[0]
            continue
        proof = by_mname.get(served_mname.get(n, ""))
        only = next(iter(claims[n])) if len(claims[n]) == 1 else None
        if proof is not None:
            owner[n] = proof
        elif only is not None and not reported[only].mname:
            owner[n] = only
        else:
            owner[n] = None
    for n in [n for n in names if owner[n] is None]:
        kin = {
            p
            for m, p in owner.items()
            if p is not None and p not in pinned and _shared_labels(m, n) >= 2
        }
        if len(kin) == 1:
            owner[n] = kin.pop()
    failed = [p for p, r in reported.items() if not r.names and r.source != "override"]
    if len(failed) == 1:
        for n in names:
            if owner[n] is None:
                owner[n] = failed[0]
    return owner


def _shared_labels(a: str, b: str) -> int:
    """How many trailing labels two host names share, the root and the first label aside."""
    x, y = a.rstrip(".").split(".")[1:], b.rstrip(".").split(".")[1:]
    n = 0
    while n < min(len(x), len(y)) and x[-1 - n] == y[-1 - n]:
        n += 1
    return n


def _is_address(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text.rstrip("."))
    except ValueError:
        return False
    return True


async def _apex_over_dns(
    walker: Any, endpoint: tuple[str, int], zones: list[str]
) -> dict[str, _Reported]:
    """An RFC 2136 server's apex NS and SOA MNAME per zone, asked of the server itself."""
    from dnsops.probe import Engine, Query, Target

    target = Target(endpoint[0], endpoint[1], "rfc2136")
    queries = [Query.make(target, z, t, key=(z, t)) for z in zones for t in ("NS", "SOA")]
    results = await Engine(timeout=2.0, retries=1).run(queries)
    out: dict[str, _Reported] = {z: _Reported(source="dns") for z in zones}
    for r in results:
        key: Any = r.query.key
        zone: str = key[0]
        rtype: str = key[1]
        rep = out[zone]
        if not r.answered:
            rep.error = f"its server {endpoint[0]} did not answer ({r.error or 'timeout'})"
            continue
        if not r.aa:
            rep.error = f"its server {endpoint[0]} does not serve {zone} ({r.rcode_text})"
            rep.exists = False
            continue
        rrset = r.rrset()
        if rrset is None:
            continue
        if rtype == "NS":
            rep.names = tuple(sorted(rd.target.to_text().lower() for rd in rrset))
        else:
            rep.mname = next(iter(rrset)).mname.to_text().lower()
    return out


async def _soa_mnames(
    walker: Any, zone: str, addresses: dict[str, tuple[str, ...]]
) -> dict[str, str]:
    """The MNAME of the SOA each name's first answering address serves for the zone."""
    from dnsops.probe import Engine, Query, Target

    queries = [
        Query.make(Target(a, 53, n), zone, dns.rdatatype.SOA, key=n)
        for n, addrs in addresses.items()
        for a in addrs
    ]
    out: dict[str, str] = {}
    for r in await Engine(timeout=1.5, retries=1).run(queries):
        name = str(r.query.key)
        rrset = r.rrset() if r.aa else None
        if rrset is not None and name not in out:
            out[name] = next(iter(rrset)).mname.to_text().lower()
    return out
