"""The bridge to octoDNS: build an environment's providers from its config.

For a lab environment the lab's addresses and generated secrets are exported
into this process's environment first, so that ``env/...`` values in
config/lab.yaml resolve. Secrets never leave the process: not printed, not
written outside the (git-ignored, mode 0600) lab state.

The providers come back as :class:`Target`: each plans exactly as octoDNS's
Manager would for the config, i.e. with the processors the config lists for the
zone (config/production.yaml uses one to leave the apex NS to the providers).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from octodns import __version__ as OCTODNS_VERSION
from octodns.manager import Manager
from octodns.zone import Zone

from dnsops.config import Environment, Project
from dnsops.errors import ConfigError
from dnsops.zones import octodns_config


def export_lab_environ(project: Project, env: Environment) -> None:
    if not env.lab:
        return
    from dnsops.lab.runner import LabRunner  # the lab is optional for other environments

    os.environ.update(LabRunner(project).environ())


def manager(project: Project, env: Environment, parsed: dict[str, Any] | None = None) -> Manager:
    """octoDNS's Manager for the environment's config (providers instantiated).

    ``parsed``: the config as dnsops already parsed it (the environment model parses
    it once per command); octoDNS's Manager then builds from a copy of it instead of
    reading the file a second time.

    :raises ConfigError: the config is invalid or a secret is missing; the
        message names the variable, never a value.
    """
    export_lab_environ(project, env)
    path = project.octodns_config(env)
    logging.getLogger("Manager").setLevel(logging.WARNING)
    # octoDNS logs a traceback for a missing env/ variable, then raises the
    # message this function reports; keep the traceback off the terminal
    logging.getLogger("EnvironSecrets[env]").setLevel(logging.CRITICAL)
    _quiet_ns1_not_found()
    try:
        with _preparsed(parsed):
            return Manager(str(path))
    except Exception as exc:  # octoDNS raises ManagerException, secrets errors, TypeError
        raise ConfigError(f"{path}: {_first_line(exc)}") from None


@contextlib.contextmanager
def _preparsed(parsed: dict[str, Any] | None) -> Iterator[None]:
    """Have ``Manager.__init__`` take an already parsed config instead of reading its file.

    octoDNS 1.x reads the file with ``octodns.manager.safe_load`` in ``__init__`` and
    offers no way to pass a dict; this swaps that one name for the duration of the
    constructor (single-threaded), and only on the octoDNS major version checked here.
    """
    if parsed is None or not OCTODNS_VERSION.startswith("1."):
        yield
        return
    import octodns.manager as module

    original = module.safe_load
    module.safe_load = lambda _fh, **_kw: copy.deepcopy(parsed)
    try:
        yield
    finally:
        module.safe_load = original


def targets(project: Project, env: Environment, mgr: Manager | None = None) -> dict[str, Any]:
    """The environment's two providers, by name, in dnsops.yaml order."""
    mgr = mgr or manager(project, env)
    processors = Processors(mgr, project.octodns_config(env))
    sources = [mgr.providers[env.source]] if env.source in mgr.providers else []
    out: dict[str, Any] = {}
    for name in env.providers:
        try:
            out[name] = Target(mgr.providers[name], processors, sources)
        except KeyError:
            raise ConfigError(f"{project.octodns_config(env)}: no provider {name!r}") from None
    return out


class Processors:
    """The octoDNS processors the config applies to each zone (global + the zone's own)."""

    def __init__(self, mgr: Manager, path: Any) -> None:
        self._mgr = mgr
        self._path = path
        self._zones: dict[str, Any] | None = None

    def __call__(self, zone_name: str) -> list[Any]:
        if self._zones is None:
            # octoDNS's own expansion of '*' / glob / regex zone entries
            self._zones = self._mgr._preprocess_zones(copy.deepcopy(self._mgr.config["zones"]))
        config = self._zones.get(zone_name)
        if config is None:
            raise ConfigError(f"{self._path}: no zone entry matches {zone_name!r}")
        try:
            return list(self._mgr._get_processors(zone_name, config))
        except Exception as exc:  # ManagerException: unknown processor
            raise ConfigError(f"{self._path}: {_first_line(exc)}") from None


class Target:
    """A provider as the environment's octoDNS config deploys it.

    ``plan`` runs the zone's processors around the provider's own plan the way
    octoDNS's Manager does (``process_source_zone`` on a copy of the desired
    zone, the provider's plan with the processors, then ``process_plan``), so
    dnsops and ``octodns-sync`` agree on what a config changes. Everything else
    (``apply``, ``populate``, ``id``, ``SUPPORTS``...) is the provider's own.

    .. important:: the desired zone passed in is never modified: both providers
       plan from the same zones concurrently.
    """

    def __init__(self, provider: Any, processors: Processors, sources: list[Any]) -> None:
        from dnsops.sync import axfr

        # BIND (octodns-bind): its populate reads zones through dnsops's AXFR reader,
        # with the same per-server limit and retries as health's and the audit's
        axfr.install(provider)
        self.provider = provider
        self._processors = processors
        self._sources = sources

    def __getattr__(self, name: str) -> Any:
        return getattr(self.provider, name)

    def __repr__(self) -> str:
        return f"Target({self.provider.id})"

    def processors(self, zone_name: str) -> list[Any]:
        """The octoDNS processors the config applies to this zone."""
        return self._processors(zone_name)

    def deployed(self, desired: Zone, lenient: bool = False) -> Zone:
        """The zone as this target is asked to hold it: the processors'
        ``process_source_zone`` applied to a copy (``desired`` is never modified)."""
        zone = desired
        processors = self._processors(desired.name)
        if processors:
            zone = desired.copy()
            for processor in processors:
                zone = processor.process_source_zone(zone, sources=self._sources, lenient=lenient)
        return zone

    def held(self, existing: Zone, lenient: bool = True) -> Zone:
        """What the provider holds as octoDNS compares it: the processors'
        ``process_target_zone`` applied to a populated zone (modified in place)."""
        for processor in self._processors(existing.name):
            existing = processor.process_target_zone(
                existing, target=self.provider, lenient=lenient
            )
        return existing

    def plan(self, desired: Zone, lenient: bool = False) -> Any:
        processors = self._processors(desired.name)
        zone = self.deployed(desired, lenient=lenient)
        plan = self.provider.plan(zone, processors=processors, lenient=lenient)
        for processor in processors:
            plan = processor.process_plan(
                plan, sources=self._sources, target=self.provider, lenient=lenient
            )
        return plan


class _Ns1NotFound(logging.Filter):
    """Drop octodns-ns1's error log of an expected 404 ("zone not found").

    octodns-ns1 1.0 means to skip 404s in ``Ns1Client._try`` but tests
    ``not e.response``, and a requests Response with status 404 is falsy: every
    plan of a zone NS1 doesn't have yet would log an ERROR with a traceback.
    Other errors still log (and raise).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        response = args[2] if len(args) > 2 else None
        return getattr(response, "status_code", None) != 404


def _quiet_ns1_not_found() -> None:
    log = logging.getLogger("NS1Client")
    if not any(isinstance(f, _Ns1NotFound) for f in log.filters):
        log.addFilter(_Ns1NotFound())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL", re.IGNORECASE)


def secret_values(
    project: Project, env: Environment, parsed: dict[str, Any] | None = None
) -> list[str]:
    """The values of every secret the environment's octoDNS config reads (``env/NAME``
    with a secret-like NAME), as exported now. Used to scrub provider error messages."""
    export_lab_environ(project, env)
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value.startswith("env/"):
            name = value.split("/")[1]
            if _SECRET_NAME.search(name):
                names.add(name)

    config = parsed if parsed is not None else octodns_config(project, env)
    walk(config.get("providers", {}))
    values = {os.environ.get(n, "") for n in names}
    return sorted((v for v in values if len(v) >= 6), key=len, reverse=True)


def redactor(secrets: list[str]) -> Callable[[str], str]:
    """A function that replaces every secret in a text by ``***``."""

    def redact(text: str) -> str:
        for value in secrets:
            text = text.replace(value, "***")
        return text

    return redact


# -- what a provider itself says about a zone (octoDNS provider internals) --------------
#
# Every use of a provider's private attributes lives here. Each is guarded: a provider
# version without the attribute gives ``Unsupported``, which the environment model
# reports as "cannot ask <provider> for its nameservers" (an override then helps).


class Unsupported(Exception):
    """This provider class offers no way to ask it for a zone's nameservers."""


@dataclasses.dataclass(frozen=True)
class ProviderZone:
    """What a provider reports for one zone: the nameserver names it serves the zone
    from, and the MNAME of its own SOA (None when it does not say). ``exists`` False:
    the provider does not have the zone (yet)."""

    names: tuple[str, ...]
    soa_mname: str | None = None
    exists: bool = True


def class_path(target: Any) -> str:
    inner = getattr(target, "provider", target)
    return f"{type(inner).__module__.split('.')[0]}.{type(inner).__name__}"


def provider_zone(target: Any, zone: str) -> ProviderZone:
    """Ask the provider (its API) for the zone's nameservers.

    * Route 53: the hosted zone's delegation set (``GetHostedZone``);
    * NS1: the zone's ``dns_servers``;
    * PowerDNS: the apex NS and SOA of the zone through its HTTP API.

    RFC 2136 servers (BIND) have no API: the environment model asks them over DNS.

    :raises Unsupported: the provider class is none of these.
    """
    inner = getattr(target, "provider", target)
    kind = class_path(target)
    try:
        if kind == "octodns_route53.Route53Provider":
            return _route53(inner, zone)
        if kind == "octodns_ns1.Ns1Provider":
            return _ns1(inner, zone)
        if kind == "octodns_powerdns.PowerDnsProvider":
            return _powerdns(inner, zone)
    except AttributeError as exc:  # a provider version without the attribute used
        raise Unsupported(f"{kind}: {exc}") from None
    raise Unsupported(kind)


def rfc2136_endpoint(target: Any) -> tuple[str, int] | None:
    """The (address, port) an RFC 2136 provider (octodns-bind) updates and transfers from."""
    from octodns_bind import AxfrPopulate

    inner = getattr(target, "provider", target)
    if not isinstance(inner, AxfrPopulate):
        return None
    return str(inner.host), int(inner.port)


def tsig_of(target: Any) -> tuple[str, str, str] | None:
    """(name, secret, algorithm) of the TSIG key a provider signs transfers with, if any."""
    from octodns_bind import AxfrPopulate

    inner = getattr(target, "provider", target)
    if not isinstance(inner, AxfrPopulate) or inner.key_name is None:
        return None
    return str(inner.key_name), str(inner.key_secret), str(inner.key_algorithm or "hmac-sha256")


def _fq(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def _route53(provider: Any, zone: str) -> ProviderZone:
    zone_id = provider._get_zone_id(zone)
    if not zone_id:
        return ProviderZone((), exists=False)
    resp = provider._conn.get_hosted_zone(Id=zone_id)
    names = (resp.get("DelegationSet") or {}).get("NameServers") or []
    return ProviderZone(tuple(sorted(_fq(n) for n in names)))


def _ns1(provider: Any, zone: str) -> ProviderZone:
    from ns1.rest.errors import ResourceException

    try:
        data = provider._client.zones_retrieve(zone[:-1])
    except ResourceException as exc:
        if getattr(getattr(exc, "response", None), "status_code", None) == 404:
            return ProviderZone((), exists=False)
        raise
    names = data.get("dns_servers") or []
    mname = data.get("primary_master") if isinstance(data, dict) else None
    return ProviderZone(
        tuple(sorted(_fq(n) for n in names)), _fq(mname) if isinstance(mname, str) else None
    )


def _powerdns(provider: Any, zone: str) -> ProviderZone:
    import requests

    try:
        resp = provider._get(f"zones/{zone}")
    except requests.HTTPError as exc:
        if exc.response is not None and exc.response.status_code in (404, 422):
            return ProviderZone((), exists=False)
        raise
    names: list[str] = []
    mname = None
    for rrset in resp.json().get("rrsets") or []:
        if rrset.get("name", "").lower() != zone.lower():
            continue
        contents = [r["content"] for r in rrset.get("records") or [] if not r.get("disabled")]
        if rrset.get("type") == "NS":
            names += [_fq(c) for c in contents]
        elif rrset.get("type") == "SOA" and contents:
            mname = _fq(contents[0].split()[0])
    return ProviderZone(tuple(sorted(names)), mname)
