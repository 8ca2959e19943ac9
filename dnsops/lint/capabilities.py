"""What each provider of an environment can serve, read from its octoDNS class.

octoDNS providers declare their capabilities as class attributes (``SUPPORTS``,
``SUPPORTS_ROOT_NS``, ``SUPPORTS_DYNAMIC``, ...). dnsops reads them from the
class named in the environment's octoDNS config, *without instantiating it*: no
credentials are needed and nothing is contacted. An attribute a provider only
decides at run time (a property, e.g. PowerDNS's SUPPORTS_DYNAMIC, which probes
the server) is reported as unknown (None), never guessed.

``problems(caps, record)`` mirrors the cases of octoDNS's
``BaseProvider._process_desired_zone``: an unsupported type, dynamic, geo,
pool value status, subnet rules, multi-value PTR and the root NS.

What a provider is *known to reject or mangle* beyond its SUPPORTS (its limits) is no
class attribute anywhere: :data:`LIMITS` holds it, one entry per provider class, each
fact with where it is documented (Route 53, NS1) or how it was measured on the lab's
real servers (PowerDNS, BIND: tests/test_lint_lab.py). It is the one table of such
facts: ``ProviderCaps.limits`` carries a provider's, ``dnsops env show`` lists them,
and the ``provider-limits`` lint rule checks every record against them. A fact the
protocol rules (``hostname``, ``ttl-rfc2181``, ``wire-limits``) already refuse names
that rule in ``covered_by`` and is not reported twice.

Each provider also has **batch limits**: the most one change request to its API may carry
(:data:`DEFAULT_LIMITS`, from each provider's documentation, overridden field by field by
dnsops.yaml ``provider_api.<api>.batch``; ``ProviderCaps.batch``). dnsops.sync.batch splits
a larger plan into batches within them.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any

from octodns.record import Record

from dnsops.config import BatchLimits, Environment, Project
from dnsops.errors import ConfigError
from dnsops.yamlfile import line_of
from dnsops.zones import octodns_config

_FLAGS = (
    "SUPPORTS_ROOT_NS",
    "SUPPORTS_DYNAMIC",
    "SUPPORTS_GEO",
    "SUPPORTS_MULTIVALUE_PTR",
    "SUPPORTS_POOL_VALUE_STATUS",
    "SUPPORTS_DYNAMIC_SUBNETS",
)


# The most one change request may carry, per provider API (the key of dnsops.yaml's
# ``provider_api``), as each provider documents it:
#
# * route53: "A request cannot contain more than 1,000 ResourceRecord elements. When the
#   value of the Action element is UPSERT, each ResourceRecord element is counted twice."
#   and "The sum of the number of characters (including spaces) in all Value elements in
#   a request can't exceed 32,000 characters" (UPSERT: counted twice), Route 53 Developer
#   Guide, Quotas, "Maximums on API requests":
#   https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html
#   octodns-route53 1.3.x already splits its requests at ``max_changes`` (1,000)
#   ResourceRecords, but counts an UPSERT once and never counts characters.
# * powerdns: the HTTP API refuses a request body over ``webserver-max-bodysize`` (default
#   2 MB: ``pdns_server --config=default``) with 400, and octodns-powerdns sends a zone's
#   whole plan as one PATCH. Half of the default leaves room for a server configured
#   lower and for the estimate (dnsops.sync.batch.Cost).
# * rfc2136: a DNS message over TCP is at most 65,535 bytes (RFC 1035 4.2.2);
#   octodns-bind sends 1,000 changes per update message (``update_batch_size``).
# * ns1: one API call per record; its rate limit (``provider_api.ns1.rate`` and NS1's
#   own headers) bounds the work, not a batch size.
DEFAULT_LIMITS: dict[str, BatchLimits] = {
    "route53": BatchLimits(records=1000, value_chars=32000),
    "powerdns": BatchLimits(body_bytes=1_000_000),
    "rfc2136": BatchLimits(changes=1000, message_bytes=60_000),
    "ns1": BatchLimits(),
}
# the octoDNS provider package each API's classes come from
_API_OF_PACKAGE = {
    "octodns_route53": "route53",
    "octodns_powerdns": "powerdns",
    "octodns_bind": "rfc2136",
    "octodns_ns1": "ns1",
}


def api_of(klass: type) -> str | None:
    """Which provider API a provider class talks to (by the octoDNS package it is, or
    derives from); None: one dnsops knows no limits of."""
    for base in klass.__mro__:
        found = _API_OF_PACKAGE.get(base.__module__.split(".")[0])
        if found:
            return found
    return None


def limits_for(api: str | None, env: Environment) -> BatchLimits:
    """The documented limits of an API, with what dnsops.yaml sets for it instead."""
    if api is None:
        return BatchLimits()
    given = getattr(env.provider_api, api).batch
    return DEFAULT_LIMITS[api].model_copy(update=given.model_dump(exclude_unset=True))


@dataclass(frozen=True)
class Limit:
    """One thing a provider rejects or mangles.

    ``kind``: ``value-chars`` (one value's presentation text, in characters, over
    ``limit``), ``rrset-chars`` (all values of a record together), ``rrset-values``
    (number of values), ``wildcard`` (a ``*`` owner name, for ``types``), or
    ``note`` (a fact a protocol rule, ``covered_by``, already enforces)."""

    kind: str
    what: str  # the fact, as a sentence fragment for messages
    source: str  # the documentation URL, or the test that measured it
    limit: int = 0
    types: frozenset[str] | None = None  # None: every type
    covered_by: str | None = None  # the lint rule that already refuses it

    def applies(self, rtype: str) -> bool:
        return self.types is None or rtype in self.types


_R53_API = "https://docs.aws.amazon.com/Route53/latest/APIReference"
_R53_QUOTAS = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html"
_LAB_TEST = "measured on the lab's server: tests/test_lint_lab.py"
_TXT = frozenset(("TXT", "SPF"))

# Provider class (as octoDNS configs name it, or as its module defines it) -> its limits.
LIMITS: dict[str, tuple[Limit, ...]] = {
    "octodns_route53.provider.Route53Provider": (
        Limit(
            "value-chars",
            "a record value over 4,000 characters (ResourceRecord Value, max length 4000)",
            f"{_R53_API}/API_ResourceRecord.html",
            limit=4000,
        ),
        # one change carries the whole record set; octodns-route53 updates with UPSERT,
        # and "when the value of the Action element is UPSERT, each character in a Value
        # element is counted twice" against the request's 32,000 characters
        Limit(
            "rrset-chars",
            "a record whose values add up to more than 16,000 characters (32,000 per "
            "ChangeResourceRecordSets request, counted twice for an UPSERT)",
            _R53_QUOTAS,
            limit=16_000,
        ),
        Limit(
            "rrset-values",
            "a record with more than 500 values (1,000 ResourceRecord elements per "
            "request, counted twice for an UPSERT)",
            _R53_QUOTAS,
            limit=500,
        ),
        Limit(
            "wildcard",
            "a wildcard (*) NS record (\"You can't use the * wildcard for resource "
            'records sets that have a type of NS")',
            f"{_R53_API}/API_ResourceRecordSet.html",
            types=frozenset(("NS",)),
        ),
        Limit(
            "note",
            "TTL outside 0..2147483647 (ResourceRecordSet TTL, valid range)",
            f"{_R53_API}/API_ResourceRecordSet.html",
            covered_by="ttl-rfc2181",
        ),
        Limit(
            "note",
            "'*' other than as the whole leftmost label is a literal star, not a wildcard",
            f"{_R53_API}/API_ResourceRecordSet.html",
            covered_by="hostname",
        ),
    ),
    "octodns_ns1.Ns1Provider": (
        Limit(
            "note",
            "a wildcard other than one leading '*.' label (www.*.example.com, "
            "ex*mple.com and *.*.example.com are not permitted)",
            "https://help.ns1.com/hc/en-us/articles/360020052754-About-wildcard-records",
            covered_by="hostname",
        ),
    ),
    "octodns_powerdns.PowerDnsProvider": (
        Limit(
            "note",
            "names with characters such as '$', '(' or a non-leading '*' (HTTP 422, "
            "which fails the whole batch)",
            _LAB_TEST,
            covered_by="hostname",
        ),
        Limit(
            "note",
            "a TTL over 2147483647, stored but served as 0",
            _LAB_TEST,
            covered_by="ttl-rfc2181",
        ),
        Limit(
            "note",
            "a record set too large for one DNS message (a 70,000-octet TXT): stored, never served",
            _LAB_TEST,
            covered_by="wire-limits",
        ),
    ),
    "octodns_bind.Rfc2136Provider": (
        Limit(
            "note",
            "A, AAAA and MX owner names that are not host names ('-lead', 'a/b', '_x': "
            "REFUSED by `check-names primary fail`, BIND's default)",
            "https://bind9.readthedocs.io/en/v9.18.0/reference.html#namedconf-statement-check-names",
            covered_by="hostname",
        ),
        Limit(
            "note",
            "a TTL over 2147483647 (served as 0) or over 4294967295 (not encodable)",
            _LAB_TEST,
            covered_by="ttl-rfc2181",
        ),
        Limit(
            "note",
            "an update too large for one DNS message (FormError)",
            _LAB_TEST,
            covered_by="wire-limits",
        ),
    ),
}


def limits_of(class_path: str, klass: type) -> tuple[Limit, ...]:
    """The limits of a provider class: its own entry, else its nearest base class's."""
    names = [class_path] + [f"{k.__module__}.{k.__qualname__}" for k in inspect.getmro(klass)]
    return next((LIMITS[n] for n in names if n in LIMITS), ())


@dataclass(frozen=True)
class ProviderCaps:
    """A provider's declared capabilities; None where the class does not say statically.

    ``limits``: what it is known to reject or mangle (:data:`LIMITS`); ``batch``: the most
    one change request to it may carry (see :data:`DEFAULT_LIMITS`)."""

    name: str
    class_path: str
    supports: frozenset[str] | None
    flags: dict[str, bool | None]
    limits: tuple[Limit, ...] = ()
    batch: BatchLimits = field(default_factory=BatchLimits)

    def flag(self, name: str) -> bool | None:
        return self.flags.get(name)

    @classmethod
    def of(
        cls, name: str, class_path: str, klass: type, batch: BatchLimits | None = None
    ) -> ProviderCaps:
        supports = _static(klass, "SUPPORTS")
        types = (
            frozenset(str(t) for t in supports) if isinstance(supports, set | frozenset) else None
        )
        flags = {}
        for flag in _FLAGS:
            value = _static(klass, flag)
            flags[flag] = value if isinstance(value, bool) else None
        return cls(
            name, class_path, types, flags, limits_of(class_path, klass), batch or BatchLimits()
        )


def _static(klass: type, attr: str) -> Any:
    """A class attribute's declared value; None for a descriptor (decided per instance)."""
    try:
        value = inspect.getattr_static(klass, attr)
    except AttributeError:
        return None
    if isinstance(value, property | classmethod | staticmethod) or hasattr(value, "__get__"):
        return None
    return value


@dataclass(frozen=True)
class Problem:
    """Why a provider cannot serve a record as written; ``known`` False = can't tell.

    ``fallback``: octoDNS serves a simpler form instead of dropping the record (a dynamic
    record's default values, a multi-value PTR's first value); otherwise it omits it."""

    detail: str
    known: bool = True
    fallback: bool = False


def problems(caps: ProviderCaps, record: Record, root_ns: bool) -> list[Problem]:
    """What ``caps`` cannot do of ``record`` (empty: the provider serves it as is)."""
    rtype = record._type
    if caps.supports is None:
        return [Problem(f"{caps.name} does not declare SUPPORTS statically", known=False)]
    if rtype not in caps.supports:
        return [Problem(f"{caps.name} ({caps.class_path}) does not support {rtype} records")]
    out: list[Problem] = []
    if root_ns:
        out += _need(caps, "SUPPORTS_ROOT_NS", "a managed root (apex) NS record")
    dynamic = getattr(record, "dynamic", None)
    if dynamic:
        out += _need(caps, "SUPPORTS_DYNAMIC", "dynamic records", "serves its default values")
        if caps.flag("SUPPORTS_DYNAMIC") is not False:
            out += _dynamic_details(caps, dynamic)
    if getattr(record, "geo", None):
        out += _need(caps, "SUPPORTS_GEO", "geo records", "serves its default values")
    if rtype == "PTR" and len(getattr(record, "values", ()) or ()) > 1:
        out += _need(
            caps, "SUPPORTS_MULTIVALUE_PTR", "multi-value PTR records", "serves the first value"
        )
    return out


def _dynamic_details(caps: ProviderCaps, dynamic: Any) -> list[Problem]:
    out: list[Problem] = []
    pools = getattr(dynamic, "pools", {}) or {}
    statuses = [
        value.get("status", "obey")
        for pool in pools.values()
        for value in (getattr(pool, "data", {}) or {}).get("values", [])
    ]
    if any(s != "obey" for s in statuses):
        out += _need(
            caps,
            "SUPPORTS_POOL_VALUE_STATUS",
            "a pool value 'status' flag",
            "follows the health checks instead",
        )
    rules = getattr(dynamic, "rules", []) or []
    if any((getattr(r, "data", {}) or {}).get("subnets") for r in rules):
        out += _need(
            caps,
            "SUPPORTS_DYNAMIC_SUBNETS",
            "subnet rules in dynamic records",
            "skips those rules",
        )
    return out


def _need(caps: ProviderCaps, flag: str, what: str, fallback: str | None = None) -> list[Problem]:
    value = caps.flag(flag)
    if value is True:
        return []
    if value is None:
        return [
            Problem(
                f"{caps.name} decides {flag} at run time: cannot tell if it serves {what}",
                known=False,
            )
        ]
    detail = f"{caps.name} ({caps.class_path}) does not support {what} ({flag} = False)"
    if fallback:
        return [Problem(f"{detail}: octoDNS {fallback}", fallback=True)]
    return [Problem(detail)]


def read_capabilities(
    project: Project, env: Environment, parsed: dict[str, Any] | None = None
) -> tuple[ProviderCaps, ...]:
    """The capabilities of the environment's two providers, in dnsops.yaml order.

    :raises ConfigError: a provider has no ``class`` or the class cannot be imported.
    """
    path = project.octodns_config(env)
    providers = (parsed if parsed is not None else octodns_config(project, env))["providers"]
    out = []
    for name in env.providers:
        settings = providers[name]
        where = f"{path}:{line_of(settings) or 1}"
        class_path = settings.get("class") if isinstance(settings, dict) else None
        if not isinstance(class_path, str) or "." not in class_path:
            raise ConfigError(f"{where}: provider {name!r}: 'class' must be module.ClassName")
        klass = _import(class_path, where, name)
        limits = limits_for(api_of(klass), env)
        out.append(ProviderCaps.of(name, class_path, klass, limits))
    return tuple(out)


def _import(class_path: str, where: str, name: str) -> type:
    module_name, _, class_name = class_path.rpartition(".")
    try:
        klass = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"{where}: provider {name!r}: cannot import {class_path}: {exc}",
            hint="install the octoDNS provider package (see pyproject.toml)",
        ) from None
    if not isinstance(klass, type):
        raise ConfigError(f"{where}: provider {name!r}: {class_path} is not a class")
    return klass
