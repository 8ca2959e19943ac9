"""The bridge to octoDNS: build an environment's providers from its config.

For a lab environment the lab's addresses and generated secrets are exported
into this process's environment first, so that ``env/...`` values in
config/lab.yaml resolve. Secrets never leave the process: not printed, not
written outside the (git-ignored, mode 0600) lab state.

The providers come back as :class:`Target`: each plans exactly as octoDNS's
Manager would for the config, i.e. with the processors the config lists for the
zone (config/production.yaml uses one to leave the apex NS to the providers).

Route 53 and NS1 providers are built with bounds on their API calls: a rate
limit per account and a deadline per call (dnsops.yaml ``provider_api``; see
"bounds on provider API calls" below).

A :class:`Target` applies a large plan in batches each provider accepts
(dnsops.sync.batch; the limits live with the capabilities, ProviderCaps.batch).
"""

from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from octodns import __version__ as OCTODNS_VERSION
from octodns.manager import Manager
from octodns.provider.plan import Plan
from octodns.zone import Zone

from dnsops.config import BatchLimits, Environment, Project
from dnsops.errors import ConfigError
from dnsops.zones import octodns_config


def export_lab_environ(project: Project, env: Environment) -> None:
    if not env.lab:
        return
    from dnsops.lab.environ import lab_environ  # the lab is optional for other environments

    os.environ.update(lab_environ(project))


def manager(project: Project, env: Environment, parsed: dict[str, Any] | None = None) -> Manager:
    """octoDNS's Manager for the environment's config (providers instantiated).

    ``parsed``: the config as dnsops already parsed it (the environment model parses
    it once per command); octoDNS's Manager then builds from a copy of it instead of
    reading the file a second time. Route 53, NS1 and PowerDNS providers come out bounded
    by ``env.provider_api`` (rate, deadline, timeouts: see "bounds on provider API calls"
    and "a deadline per PowerDNS request").

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
    bounds = env.provider_api
    config = parsed if parsed is not None else octodns_config(project, env)
    bounded = bounded_ns1_config(config, bounds.ns1)
    if bounded is not config and not OCTODNS_VERSION.startswith("1."):
        _warn_once(f"octoDNS {OCTODNS_VERSION} (NS1's client_config)")
    try:
        with bounded_apis(bounds, bounded), _preparsed(bounded):
            mgr = Manager(str(path))
    except Exception as exc:  # octoDNS raises ManagerException, secrets errors, TypeError
        raise ConfigError(f"{path}: {_first_line(exc)}") from None
    for provider in mgr.providers.values():
        bound_powerdns(provider, bounds.powerdns)
    return mgr


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
    module.safe_load = lambda _fh, **_kw: _layers(parsed, 4)
    try:
        yield
    finally:
        module.safe_load = original


def _layers(value: Any, depth: int) -> Any:
    """A copy of the config's top ``depth`` levels of dicts and lists (deeper values shared).

    octoDNS's Manager pops keys out of each provider's, processor's, validator's, plan
    output's, secret handler's and zone's own mapping (``class``, ``glob``...), three
    levels down, and replaces ``zones``; nothing deeper is changed. A deep copy of a
    1,000-zone config cost more than parsing it.
    """
    if depth <= 0 or not isinstance(value, dict | list):
        return value
    # keeps octoDNS's ContextDict (and its line context); a mapping keeping its items
    # elsewhere (octoDNS's IdnaDict) is no dict and would be shared: never passed here
    out = copy.copy(value)
    for key in value.keys() if isinstance(value, dict) else range(len(value)):
        out[key] = _layers(value[key], depth - 1)
    return out


def targets(
    project: Project,
    env: Environment,
    mgr: Manager | None = None,
    limits: dict[str, BatchLimits] | None = None,
) -> dict[str, Any]:
    """The environment's two providers, by name, in dnsops.yaml order; ``limits``: the
    most one change request to each may carry (the environment model's capabilities)."""
    mgr = mgr or manager(project, env)
    processors = Processors(mgr, project.octodns_config(env))
    sources = [mgr.providers[env.source]] if env.source in mgr.providers else []
    out: dict[str, Any] = {}
    for name in env.providers:
        try:
            provider = mgr.providers[name]
        except KeyError:
            raise ConfigError(f"{project.octodns_config(env)}: no provider {name!r}") from None
        out[name] = Target(provider, processors, sources, (limits or {}).get(name))
    return out


class Processors:
    """The octoDNS processors the config applies to each zone (global + the zone's own)."""

    def __init__(self, mgr: Manager, path: Any) -> None:
        self._mgr = mgr
        self._path = path
        self._zones: dict[str, Any] | None = None
        self._lock = threading.Lock()  # the providers plan in threads: one expansion

    def _expanded(self) -> dict[str, Any]:
        """Every zone's entry: octoDNS's own expansion of '*' / glob / regex entries
        (a deep copy of the config, and the source's zones listed)."""
        with self._lock:
            if self._zones is None:
                zones = copy.deepcopy(self._mgr.config["zones"])
                self._zones = self._mgr._preprocess_zones(zones)
            return self._zones

    def __call__(self, zone_name: str) -> list[Any]:
        entries = self._mgr.config["zones"]
        if not zone_name.startswith("*") and zone_name in entries:
            # an entry of its own: octoDNS's expansion keeps it as it is (a '*' entry
            # never takes a zone that has one), so nothing needs expanding
            config = entries[zone_name]
        else:
            config = self._expanded().get(zone_name)
        if config is None:
            # a zone the source does not have yet (``dnsops import`` reading it): the
            # config's own entry for it, else the first dynamic entry ('*', a glob) that
            # would take it once its file exists
            config = _dynamic_entry(self._mgr.config["zones"], zone_name)
        if config is None:
            raise ConfigError(f"{self._path}: no zone entry matches {zone_name!r}")
        try:
            return list(self._mgr._get_processors(zone_name, config))
        except Exception as exc:  # ManagerException: unknown processor
            raise ConfigError(f"{self._path}: {_first_line(exc)}") from None


def _dynamic_entry(zones: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The zone config octoDNS 1.x would give ``name`` once the source lists it: its own
    entry, else the first dynamic one (a key starting with ``*``, narrowed by its
    ``glob`` or ``regex``), as ``Manager._preprocess_zones`` expands them."""
    import fnmatch

    if name in zones:
        return dict(zones[name])
    for key, config in zones.items():
        if not key.startswith("*") or not isinstance(config, dict):
            continue
        glob, regex = config.get("glob"), config.get("regex")
        if glob is not None and not fnmatch.fnmatch(name, str(glob)):
            continue
        if glob is None and regex is not None and not re.search(str(regex), name):
            continue
        return {k: v for k, v in config.items() if k not in ("glob", "regex")}
    return None


class Target:
    """A provider as the environment's octoDNS config deploys it.

    ``plan`` runs the zone's processors around the provider's own plan the way
    octoDNS's Manager does (``process_source_zone`` on a copy of the desired
    zone, the provider's plan with the processors, then ``process_plan``), so
    dnsops and ``octodns-sync`` agree on what a config changes. Everything else
    (``apply``, ``populate``, ``id``, ``SUPPORTS``...) is the provider's own.

    ``apply`` sends a plan larger than one request may carry (``limits``) as several
    plans of consecutive batches of its changes (dnsops.sync.batch), each through the
    provider's own ``apply``.

    .. important:: the desired zone passed in is never modified: both providers
       plan from the same zones concurrently.
    """

    def __init__(
        self,
        provider: Any,
        processors: Processors,
        sources: list[Any],
        limits: BatchLimits | None = None,
    ) -> None:
        from dnsops.sync import axfr

        # BIND (octodns-bind): its populate reads zones through dnsops's AXFR reader,
        # with the same per-server limit and retries as health's and the audit's
        axfr.install(provider)
        _remember_environment(provider)
        self.provider = provider
        self._processors = processors
        self._sources = sources
        self.limits = limits or BatchLimits()

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

    def batches(self, plan: Any) -> list[list[Any]]:
        """The plan's changes in the batches :meth:`apply` sends them in."""
        from dnsops.sync import batch

        return batch.split(plan.changes, plan.desired.name, self.limits)

    def apply(self, plan: Any) -> int:
        """octoDNS's ``apply``, in batches (see :meth:`apply_in_batches`): the changes."""
        return self.apply_in_batches(plan)[0]

    def apply_in_batches(
        self,
        plan: Any,
        progress: Callable[[str], None] | None = None,
        deadline: Any = None,
    ) -> tuple[int, int]:
        """Apply the plan in batches within the provider's limits, in order; returns
        (changes applied, batches sent). ``deadline`` (dnsops.sync.core.Deadline): no
        batch after the first starts once it has passed.

        :raises BatchFailed: a batch of several failed (the ones before it are applied;
            a new plan has the rest). A plan sent as one batch raises the provider's own
            error, as octoDNS's apply does.
        """
        parts = self.batches(plan)
        if len(parts) <= 1:
            return int(self.provider.apply(plan)), len(parts)
        total = len(plan.changes)
        done = 0
        for index, changes in enumerate(parts, 1):
            part = Plan(
                plan.existing,
                plan.desired,
                changes,
                plan.exists if index == 1 else True,
                plan.update_pcent_threshold,
                plan.delete_pcent_threshold,
                plan.meta,
            )
            try:
                if deadline is not None and index > 1:
                    deadline.check(
                        f"{self.provider.id}: applying {plan.desired.name}",
                        index - 1,
                        len(parts),
                        "batches",
                    )
                self.provider.apply(part)
            except Exception as exc:
                raise BatchFailed(plan.desired.name, index, len(parts), done, total, exc) from exc
            done += len(changes)
            if progress is not None:
                progress(
                    f"{self.provider.id}: {plan.desired.name} batch {index}/{len(parts)} "
                    f"applied ({done}/{total} changes)"
                )
        return done, len(parts)


class BatchFailed(Exception):
    """One batch of a zone's changes failed; the batches before it were applied."""

    def __init__(
        self, zone: str, index: int, count: int, applied: int, total: int, cause: BaseException
    ) -> None:
        self.zone, self.index, self.count = zone, index, count
        self.applied, self.total, self.cause = applied, total, cause
        why = " ".join(str(cause).split()) or type(cause).__name__
        super().__init__(
            f"{zone} batch {index}/{count} failed ({type(cause).__name__}: {why}); "
            f"batches 1-{index - 1} were applied ({applied} of {total} changes); "
            "`dnsops sync --doit` again applies the rest"
        )


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


# -- bounds on provider API calls (Route 53, NS1) -----------------------------------------
#
# Route 53 allows 5 requests per second per account; NS1 rate-limits each endpoint with a
# token bucket it describes in X-RateLimit-* headers. Every call octoDNS makes for dnsops
# goes through a Limiter (shared by the threads using one account) and has a deadline.
# Both hooks are set while octoDNS builds the providers (``manager``):
#
# * octodns-route53 1.x creates its boto3 client with ``octodns_route53.auth.Session``:
#   for the constructor only, that name is a Session whose route53 clients get
#   botocore's ``Config`` (adaptive retries, connect/read timeouts) and two botocore
#   event handlers (``before-call``: the call's deadline; ``before-send``: the deadline
#   and the limiter, before every HTTP attempt, retries included).
# * octodns-ns1 passes ``client_config`` to ns1-python: dnsops adds ``timeout`` and
#   ``transport: dnsops-bounded``, a transport in ns1-python's registry
#   (``TransportBase.REGISTRY``) that takes the limiter before every request, follows
#   NS1's rate-limit headers, waits out a 429 itself (within the deadline) and gives up
#   at the deadline. A user's own ``transport``/``timeout`` in client_config win.
#
# On other versions of octodns-route53 (2.x) or ns1-python (1.x) nothing is changed and
# the log says so once.


class ApiDeadlineExceeded(Exception):
    """A provider API call would run past its deadline (dnsops's bound)."""


class Limiter:
    """At most ``count`` requests in any ``window`` seconds (a sliding log), thread-safe.

    ``rate`` r per second becomes ``count`` = max(1, floor(r)) per ``count / r`` seconds,
    plus ``margin`` (10 %) so that jitter between here and the server cannot put one
    more request into a server's second. A token bucket would allow its burst on top of
    the rate within one second; this never does. ``hold`` stops every request until a
    time (a provider said its bucket is nearly empty).
    """

    MARGIN = 0.10

    def __init__(self, rate: float, clock: Callable[[], float] | None = None) -> None:
        self.rate = float(rate)
        self.count = max(1, int(self.rate))
        self.window = self.count / self.rate * (1 + self.MARGIN)
        self._clock = clock or time.monotonic
        self._sleep = time.sleep
        self._sent: collections.deque[float] = collections.deque(maxlen=self.count)
        self._held_until = 0.0
        self._lock = threading.Lock()

    def hold(self, until: float) -> None:
        with self._lock:
            self._held_until = max(self._held_until, until)

    def slot(self, deadline: float | None = None) -> float:
        """Reserve the next time a request may be sent (and return it).

        :raises ApiDeadlineExceeded: that time is after ``deadline`` (nothing reserved).
        """
        with self._lock:
            now = self._clock()
            at = max(now, self._held_until)
            if len(self._sent) == self.count:
                at = max(at, self._sent[0] + self.window)
            if deadline is not None and at > deadline:
                raise ApiDeadlineExceeded(f"the next request is allowed in {at - now:.1f} s")
            self._sent.append(at)
            return at

    def acquire(self, deadline: float | None = None) -> None:
        """Wait for a slot (see :meth:`slot`)."""
        wait = self.slot(deadline) - self._clock()
        if wait > 0:
            self._sleep(wait)


_LIMITERS: dict[tuple[str, str, float], Limiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter(api: str, account: str, rate: float) -> Limiter:
    """The limiter of one API and account (shared process-wide; ``account`` is hashed)."""
    key = (api, hashlib.sha256(account.encode()).hexdigest()[:16], float(rate))
    with _LIMITERS_LOCK:
        if key not in _LIMITERS:
            _LIMITERS[key] = Limiter(rate)
        return _LIMITERS[key]


def forget_limiters() -> None:
    """Start every limiter afresh (a long-lived process or a test after a provider said
    to hold back)."""
    with _LIMITERS_LOCK:
        _LIMITERS.clear()


_warned_versions: set[str] = set()


def _warn_once(what: str) -> None:
    if what not in _warned_versions:
        _warned_versions.add(what)
        logging.getLogger(__name__).warning("%s: API calls not bounded by dnsops", what)


@contextlib.contextmanager
def bounded_apis(bounds: Any, config: dict[str, Any] | None = None) -> Iterator[None]:
    """While octoDNS builds providers: Route 53 clients get dnsops's bounds (see above).

    ``bounds``: :class:`dnsops.config.ProviderApis`. ``config``: the octoDNS config;
    when none of its providers is Route 53's, nothing is imported (boto3 alone costs
    a third of a second of start-up).
    """
    if config is not None and not any(
        str(spec.get("class", "")).startswith("octodns_route53")
        for spec in (config.get("providers") or {}).values()
        if isinstance(spec, dict)
    ):
        yield
        return
    try:
        import octodns_route53
        import octodns_route53.auth as auth
    except ImportError:  # not installed: nothing to bound
        yield
        return
    version = str(getattr(octodns_route53, "__version__", ""))
    if not version.startswith("1.") or not hasattr(auth, "Session"):
        _warn_once(f"octodns-route53 {version}")
        yield
        return
    original = auth.Session
    auth.Session = _route53_session(original, bounds.route53)
    try:
        yield
    finally:
        auth.Session = original


def _route53_session(base: type, bounds: Any) -> type:
    from botocore.config import Config

    class BoundedSession(base):  # type: ignore[misc]
        """boto3's Session, whose route53 clients are bounded."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._dnsops_account = str(
                kwargs.get("aws_access_key_id") or kwargs.get("profile_name") or "default"
            )

        def client(self, *args: Any, **kwargs: Any) -> Any:
            service = kwargs.get("service_name", args[0] if args else None)
            if service != "route53":
                return super().client(*args, **kwargs)
            given = kwargs.get("config")
            attempts = ((given.retries or {}) if given is not None else {}).get("max_attempts")
            ours = Config(
                connect_timeout=bounds.connect_timeout,
                read_timeout=bounds.read_timeout,
                retries={"mode": "adaptive", "max_attempts": int(attempts or 5)},
            )
            kwargs["config"] = given.merge(ours) if given is not None else ours
            client = super().client(*args, **kwargs)
            bound_route53(client, limiter("route53", self._dnsops_account, bounds.rate), bounds)
            return client

    return BoundedSession


def bound_route53(client: Any, limit: Limiter, bounds: Any) -> None:
    """Register the deadline and the limiter on a botocore client's events."""

    def start(context: dict[str, Any], model: Any = None, **_: Any) -> None:
        context["dnsops_deadline"] = time.monotonic() + bounds.deadline
        context["dnsops_operation"] = getattr(model, "name", "?")

    def gate(request: Any, **_: Any) -> None:
        context = getattr(request, "context", None) or {}
        deadline = context.get("dnsops_deadline")
        what = f"route53 {context.get('dnsops_operation', 'call')}"
        if deadline is not None and time.monotonic() > deadline:
            raise ApiDeadlineExceeded(f"{what}: not done within its {bounds.deadline:g} s deadline")
        try:
            limit.acquire(deadline)
        except ApiDeadlineExceeded as exc:
            raise ApiDeadlineExceeded(
                f"{what}: would pass its {bounds.deadline:g} s deadline waiting for the "
                f"rate limit ({limit.rate:g}/s): {exc}"
            ) from None

    client.meta.events.register("before-call", start)
    client.meta.events.register("before-send", gate)


NS1_TRANSPORT = "dnsops-bounded"


def bounded_ns1_config(config: dict[str, Any], bounds: Any) -> dict[str, Any]:
    """The octoDNS config with every octodns-ns1 provider's ``client_config`` bounded
    (a copy when anything changes; ``config`` itself is never modified)."""
    providers = config.get("providers")
    if not isinstance(providers, dict):
        return config
    names = [
        n
        for n, p in providers.items()
        if isinstance(p, dict) and str(p.get("class", "")).startswith("octodns_ns1.")
    ]
    if not names or not _register_ns1_transport():
        return config
    from octodns.context import ContextDict

    # shallow copies keep octoDNS's ContextDict (and the file/line its errors name)
    out = copy.copy(config)
    out["providers"] = copy.copy(providers)
    for name in names:
        settings = copy.copy(providers[name])
        given = settings.get("client_config")
        client_config = (
            copy.copy(given)
            if isinstance(given, dict)
            else ContextDict(context=getattr(settings, "context", None))
        )
        client_config.setdefault("transport", NS1_TRANSPORT)
        client_config.setdefault("timeout", [bounds.connect_timeout, bounds.read_timeout])
        client_config["dnsops_bounds"] = {
            "rate": bounds.rate,
            "deadline": bounds.deadline,
        }
        settings["client_config"] = client_config
        out["providers"][name] = settings
    return out


def _register_ns1_transport() -> bool:
    """Put dnsops's transport into ns1-python's registry (ns1-python 0.x)."""
    try:
        import ns1
        from ns1.rest.transport.base import TransportBase
        from ns1.rest.transport.requests import RequestsTransport
    except ImportError:
        return False
    version = str(getattr(ns1, "version", ""))
    if not version.startswith("0.") or not hasattr(RequestsTransport, "_send"):
        _warn_once(f"ns1-python {version}")
        return False
    if NS1_TRANSPORT not in TransportBase.REGISTRY:
        TransportBase.REGISTRY[NS1_TRANSPORT] = _ns1_transport(RequestsTransport)
    return True


def _ns1_transport(base: type) -> type:
    from ns1.rest.errors import RateLimitException

    calls = threading.local()
    reserve = 2  # tokens left to the other thread(s) before following NS1's refill rate

    class BoundedTransport(base):  # type: ignore[misc]
        """ns1-python's requests transport, bounded (see the section comment)."""

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            settings = config.get("dnsops_bounds") or {}
            self._deadline_s = float(settings.get("deadline", 60.0))
            try:
                account = str(config.getAPIKey())
            except Exception:  # no key configured: ns1-python fails the call itself
                account = "default"
            self._limit = limiter("ns1", account, float(settings.get("rate", 10.0)))
            # ns1-python calls this with each response's rate-limit headers
            self._rate_limit_func = self._follow

        def _follow(self, rl: dict[str, Any]) -> None:
            """NS1 says how many requests its bucket has left and how fast it refills:
            with ``reserve`` or fewer left, wait until it has refilled past that."""
            limit, period, remaining = rl.get("limit"), rl.get("period"), rl.get("remaining")
            if not limit or not period or remaining is None or remaining > reserve:
                return
            per_token = float(period) / float(limit)
            self._limit.hold(time.monotonic() + (reserve + 1 - int(remaining)) * per_token)

        def send(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            outer = getattr(calls, "deadline", None)
            if outer is None:
                calls.deadline = time.monotonic() + self._deadline_s
                calls.what = f"ns1 {method} {url.split('/v1/', 1)[-1]}"
            try:
                return super().send(method, url, *args, **kwargs)
            finally:
                if outer is None:
                    calls.deadline = None

        def _send(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            deadline = getattr(calls, "deadline", None) or time.monotonic() + self._deadline_s
            what = getattr(calls, "what", "ns1 call")
            while True:
                try:
                    self._limit.acquire(deadline)
                except ApiDeadlineExceeded as exc:
                    raise ApiDeadlineExceeded(
                        f"{what}: would pass its {self._deadline_s:g} s deadline waiting "
                        f"for the rate limit: {exc}"
                    ) from None
                try:
                    return super()._send(method, url, *args, **kwargs)
                except RateLimitException as exc:  # 429: NS1's bucket is empty
                    self._follow(
                        {
                            "limit": getattr(exc, "limit", 10),
                            "period": getattr(exc, "period", 1),
                            "remaining": 0,
                        }
                    )

    return BoundedTransport


# -- import: a provider's zone list, what its populate did not read, writing a zone file --
#
# ``dnsops import`` (dnsops.imports) reads zones through octoDNS. What octoDNS offers for
# it publicly is ``list_zones()`` (where the provider class has it) and ``populate``;
# what a populate passes over (a type octoDNS has no record for, a Route 53 traffic
# policy) is read here from the provider's own listing, through the same internals as
# ``provider_zone`` above, each guarded the same way.


def list_zones(target: Any) -> list[str]:
    """The zones the provider has, by octoDNS's ``list_zones()``.

    :raises Unsupported: the provider class cannot list its zones (RFC 2136 servers).
    """
    inner = getattr(target, "provider", target)
    lister = getattr(inner, "list_zones", None)
    if not callable(lister):
        raise Unsupported(class_path(target))
    return sorted({str(z) if str(z).endswith(".") else f"{z}." for z in lister()})


@dataclasses.dataclass(frozen=True)
class Unread:
    """An RRset the provider holds that octoDNS's populate did not read, and why."""

    fqdn: str
    type: str
    reason: str


def unread(target: Any, zone: str, read: set[tuple[str, str]]) -> list[Unread] | None:
    """What the provider holds of ``zone`` beyond ``read`` (the (fqdn, type) keys its
    populate returned), SOA aside (no octoDNS record: the provider's own).

    * RFC 2136 (BIND): a zone transfer through dnsops's reader;
    * PowerDNS: the zone's RRsets through its HTTP API;
    * Route 53: the record sets octodns-route53 loaded for its populate (cached there);
    * NS1: the zone's records through its API.

    :returns: None when the provider class offers no listing (nothing can be said).
    """
    inner = getattr(target, "provider", target)
    kind = class_path(target)
    try:
        if rfc2136_endpoint(target) is not None:
            from dnsops.sync.axfr import transfer_text

            held = {(_fq(name), rtype): "" for name, rtype in transfer_text(inner, zone)}
        elif kind == "octodns_powerdns.PowerDnsProvider":
            data = inner._get(f"zones/{zone}").json()
            held = {(_fq(r["name"]), str(r["type"])): "" for r in data.get("rrsets") or []}
        elif kind == "octodns_route53.Route53Provider":
            held = _route53_sets(inner, zone)
        elif kind == "octodns_ns1.Ns1Provider":
            data = inner._client.zones_retrieve(zone[:-1])
            held = {(_fq(r["domain"]), str(r["type"])): "" for r in data.get("records") or []}
        else:
            return None
    except AttributeError:  # a provider version without the internals used here
        return None
    supports = set(getattr(inner, "SUPPORTS", ()) or ())
    out = []
    for (fqdn, rtype), why in sorted(held.items()):
        if rtype == "SOA" or (fqdn, rtype) in read:
            continue
        if not why:
            why = (
                f"octoDNS's {kind.split('.')[-1]} does not read {rtype} records"
                if rtype not in supports
                else "not read by octoDNS's populate"
            )
        out.append(Unread(fqdn, rtype, why))
    return out


def _route53_sets(provider: Any, zone: str) -> dict[tuple[str, str], str]:
    zone_id = provider._get_zone_id(zone)
    if not zone_id:
        return {}
    out: dict[tuple[str, str], str] = {}
    for rrset in provider._load_records(zone_id):  # cached by the populate before
        name, rtype = _fq(rrset["Name"].replace("\\052", "*")), str(rrset["Type"])
        if name.startswith("_octodns-"):
            continue  # a part of an octoDNS dynamic record
        if "TrafficPolicyInstanceId" in rrset:
            out[(name, rtype)] = "a traffic policy record (octoDNS does not read them)"
        elif "AliasTarget" in rrset:
            out[(name, "Route53Provider/ALIAS")] = ""
        else:
            out[(name, rtype)] = ""
    return out


def write_zone(source: Any, zone: Zone, directory: str | None = None) -> list[str]:
    """Have the YAML provider write ``zone`` as its zone file: octoDNS's own format for
    its settings (key order, default TTL left out, semicolons escaped or not, split
    files), by applying on it a plan from nothing to ``zone``.

    ``directory``: write there instead of the provider's own directory (a copy of the
    provider: the caller moves the files into place). Returns the entries written.

    octoDNS 1.x builds ``Plan(existing, desired, changes, exists)``; another major
    version is tried the same way and the log says so once.
    """
    from octodns.provider.plan import Plan
    from octodns.record import Create

    if not OCTODNS_VERSION.startswith("1."):
        _warn_once(f"octoDNS {OCTODNS_VERSION} (writing zone files through a plan)")
    writer = source
    if directory is not None:
        writer = source.copy()
        writer.directory = directory
    before = set(os.listdir(writer.directory)) if os.path.isdir(writer.directory) else set()
    plan = Plan(Zone(zone.name, []), zone, [Create(r) for r in zone.records], False)
    writer.apply(plan)
    return sorted(set(os.listdir(writer.directory)) - before)


# -- a deadline per PowerDNS request -------------------------------------------------------
#
# octodns-powerdns 1.x sends every request through a requests ``Session`` of its own
# (``_sess``) with its ``timeout``: a bound per socket read. A server that sends its
# headers and then a byte every few seconds holds such a request, the command and the
# environment's lock for ever. dnsops gives each PowerDNS provider a session of the same
# headers and TLS settings whose every request, from connecting to the last byte of the
# body, ends at ``provider_api.powerdns.deadline``: a timer shuts the request's socket down
# when the deadline passes, and the request raises ApiDeadlineExceeded naming the
# provider. Other versions of octodns-powerdns are left alone (the log says so once).

_WATCH = threading.local()


class _Watch:
    """The connections one request uses; :meth:`expire` shuts them down (a timer calls
    it at the deadline), and a connection attached after that is shut down at once."""

    def __init__(self) -> None:
        self.expired = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    def attach(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            if self.expired:
                _shut(conn)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for conn in self._conns:
                _shut(conn)


def _shut(conn: Any) -> None:
    import socket

    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type) -> type:
    """A urllib3 connection class whose connections report to the request's watch."""

    class Watched(base):  # type: ignore[misc]
        def connect(self) -> None:
            super().connect()
            self._dnsops_attach()

        def request(self, *args: Any, **kwargs: Any) -> Any:
            self._dnsops_attach()
            return super().request(*args, **kwargs)

        def _dnsops_attach(self) -> None:
            watch = getattr(_WATCH, "current", None)
            if watch is not None:
                watch.attach(self)

    return Watched


def deadline_session(label: str, deadline: float, like: Any = None) -> Any:
    """A requests Session whose every request ends within ``deadline`` seconds, with the
    headers, TLS verification and certificate of ``like`` (a Session)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Pool(HTTPConnectionPool):
        ConnectionCls = _watched(HTTPConnection)

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = _watched(HTTPSConnection)

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TlsPool}

    class DeadlineSession(requests.Session):
        def request(  # type: ignore[override]
            self, method: str, url: str, *args: Any, **kwargs: Any
        ) -> requests.Response:
            path = url.split("/api/v1/servers/", 1)[-1].split("/", 1)[-1]
            what = f"{label} {method} {path}"
            watch = _Watch()
            timer = threading.Timer(deadline, watch.expire)
            timer.daemon = True
            _WATCH.current = watch
            timer.start()
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.RequestException:
                if watch.expired:
                    raise ApiDeadlineExceeded(
                        f"{what}: not done within its {deadline:g} s deadline"
                    ) from None
                raise
            finally:
                timer.cancel()
                _WATCH.current = None
            if watch.expired:  # a body cut short by the shutdown can look complete
                raise ApiDeadlineExceeded(f"{what}: not done within its {deadline:g} s deadline")
            return response

    session = DeadlineSession()
    session.mount("http://", Adapter())
    session.mount("https://", Adapter())
    if like is not None:
        session.headers.update(like.headers)
        session.verify = like.verify
        session.cert = like.cert
    return session


def bound_powerdns(provider: Any, bounds: Any) -> bool:
    """Give an octodns-powerdns provider a session with dnsops's deadline (see above).

    ``bounds``: :class:`dnsops.config.PowerDnsApiBounds`. Returns whether it was bounded
    (False: not such a provider, or an octodns-powerdns version not checked here)."""
    try:
        import octodns_powerdns
        import requests
    except ImportError:
        return False
    if not isinstance(provider, octodns_powerdns.PowerDnsBaseProvider):
        return False
    version = str(getattr(octodns_powerdns, "__version__", ""))
    session = getattr(provider, "_sess", None)
    if not version.startswith("1.") or not isinstance(session, requests.Session):
        _warn_once(f"octodns-powerdns {version}")
        return False
    label = f"{provider.id} (PowerDNS API)"
    provider._sess = deadline_session(label, bounds.deadline, like=session)
    return True


# -- records read back from a provider, without octoDNS's re-validation ---------------------
#
# octoDNS's plan reads the provider's records with ``populate(..., lenient=True)``, and so
# does the audit. ``Record.new`` then validates every record (idna, the record class's and
# every value's validators: a third of the cost of populating a 10k-record zone) only to
# log the reasons as a WARNING: lenient never refuses a record, and validators never change
# the data (the record built afterwards is the same). While the ``Record`` logger would
# drop that warning anyway (dnsops logs errors only, unless --verbose), validating is pure
# waste: :func:`read_back` skips it, in the calling thread only, on octoDNS 1.x.


_reading_back = threading.local()
_new_installed = False


@contextlib.contextmanager
def read_back() -> Iterator[None]:
    """While this thread populates a zone from a provider leniently, ``Record.new``
    builds the records without validating them whenever octoDNS would only have logged
    the reasons as warnings nobody sees (the records are the same either way)."""
    if not _install_unvalidated_new():
        yield
        return
    outer = getattr(_reading_back, "active", False)
    _reading_back.active = True
    try:
        yield
    finally:
        _reading_back.active = outer


def _install_unvalidated_new() -> bool:
    """Wrap ``octodns.record.Record.new`` once (octoDNS 1.x; otherwise nothing changes)."""
    global _new_installed
    if _new_installed:
        return True
    from octodns.record import Record

    if not OCTODNS_VERSION.startswith("1.") or not hasattr(Record, "_CLASSES"):
        _warn_once(f"octoDNS {OCTODNS_VERSION} (records read back are validated)")
        return False
    original = Record.new  # bound to Record
    from octodns.idna import IdnaError, idna_encode

    log = Record.log

    def new(
        cls: Any, zone: Any, name: Any, data: Any, source: Any = None, lenient: bool = False
    ) -> Any:
        if (
            not lenient
            or not getattr(_reading_back, "active", False)
            or log.isEnabledFor(logging.WARNING)
        ):
            return original.__func__(cls, zone, name, data, source=source, lenient=lenient)
        try:
            encoded = idna_encode(str(name))
            record_class = cls._CLASSES[data["type"]]
        except (IdnaError, KeyError, TypeError):  # octoDNS's own handling and words
            return original.__func__(cls, zone, name, data, source=source, lenient=lenient)
        context = getattr(data, "context", None)
        return record_class(zone, encoded, data, source=source, context=context)

    Record.new = classmethod(new)
    _new_installed = True
    return True


# -- PowerDNS: requests' environment look-up, once per server -----------------------------
#
# octodns-powerdns sends every API call through one requests Session. For every request,
# requests looks for proxy settings in the environment (``merge_environment_settings``:
# every environment variable lowercased and compared, twice): a sixth of the CPU of
# reading 1,000 small zones from PowerDNS. Its answer depends only on the URL's scheme
# and host, the session's own settings and the environment, none of which changes while
# a command runs: it is remembered per scheme and host, for calls that pass no settings
# of their own (all of octodns-powerdns's). (PowerDNS 4.7 closes the connection after
# every response, "Connection: close": there is no connection to reuse.)


def _remember_environment(provider: Any) -> bool:
    """Remember the environment settings of an octodns-powerdns provider's session."""
    if class_path(provider) != "octodns_powerdns.PowerDnsProvider":
        return False
    import requests

    session = getattr(provider, "_sess", None)
    if not isinstance(session, requests.Session) or not requests.__version__.startswith("2."):
        return False
    if "merge_environment_settings" in vars(session):
        return False  # done already
    original: Callable[..., Any] = session.merge_environment_settings
    known: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merge(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        if proxies or stream is not None or verify is not None or cert is not None:
            return original(url, proxies, stream, verify, cert)
        scheme, _, rest = url.partition("://")
        key = (
            scheme,
            rest.split("/", 1)[0],
            session.trust_env,
            tuple(sorted(session.proxies.items())),
            session.stream,
            session.verify,
            session.cert,
        )
        if key not in known:
            known[key] = dict(original(url, {}, None, None, None))
        found = known[key]
        return {**found, "proxies": dict(found["proxies"])}

    session.merge_environment_settings = merge  # type: ignore[method-assign,assignment]
    return True
