"""Lint policies: ``policies/*.yaml`` as pydantic models, loaded with file and line.

A policy file holds ``rules`` (each with an ``id``, a ``kind``, a ``severity``, a
``message`` template and a ``hint``) and optionally ``cdn`` (which records are
fronted by a CDN, and the URL of their origin). Every ``*.yaml`` file of the
policies directory is loaded; rule ids are unique across all of them.

Messages are ``str.format`` templates; the placeholders each kind offers are
listed in ``FIELDS`` (common to all: zone, name, fqdn, type, ttl, values, detail).

:raises ConfigError: from ``load_policies`` for every problem of every file at
    once, each as ``file:line: key: message``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dnsops.errors import ConfigError
from dnsops.findings import Severity, SeverityName
from dnsops.lint.match import Match, OneOrMany, known_types
from dnsops.yamlfile import line_of, load_yaml, pydantic_problems

# ids dnsops itself uses for findings that no policy rule produces
BUILTIN_IDS = {
    "octodns-validation": "a zone file that octoDNS does not accept",
    "suppression": "an `ignore:` without a reason, or naming an unknown rule",
    "online-unreachable": "an online check could not get an answer",
}
COMMON_FIELDS = frozenset(("zone", "name", "fqdn", "type", "ttl", "values", "detail"))


def _severity(value: Any) -> Any:
    if isinstance(value, str):
        return Severity.parse(value)
    return value


# written as its name (error, warning...): that is what the JSON Schema offers
SeverityField = Annotated[Severity, BeforeValidator(_severity, json_schema_input_type=SeverityName)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Rule(_Model):
    """What every rule has. ``online`` rules run only with ``dnsops lint --online``."""

    FIELDS: ClassVar[frozenset[str]] = frozenset()
    online: ClassVar[bool] = False

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    severity: SeverityField
    message: str
    hint: str | None = None

    @model_validator(mode="after")
    def _template(self) -> Rule:
        allowed = COMMON_FIELDS | self.FIELDS
        for text in (self.message, self.hint or ""):
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
            except ValueError as exc:
                raise ValueError(f"bad message template {text!r}: {exc}") from None
            unknown = sorted(f for f in fields if f not in allowed)
            if unknown:
                raise ValueError(
                    f"unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)} "
                    f"(this kind offers: {', '.join(sorted(allowed))})"
                )
        return self


# -- TTL --------------------------------------------------------------------------


class Band(_Model):
    """A record class's TTL: the target and the tolerated range (inclusive)."""

    ttl: int = Field(ge=0)
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    severity: SeverityField | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if not self.min <= self.ttl <= self.max:
            raise ValueError(f"need min <= ttl <= max, got {self.min} <= {self.ttl} <= {self.max}")
        return self


class Selector(_Model):
    """Records matching ``match`` belong to ``class`` (unless their metadata says otherwise)."""

    class_: str = Field(alias="class")
    match: Match


class TtlBandRule(Rule):
    """Each record's TTL within the band of its class.

    The class comes from the record's metadata (``octodns: {dnsops: {class: X}}``),
    else from the first selector that matches, else ``default_class`` (if set).
    """

    FIELDS: ClassVar[frozenset[str]] = frozenset(("class", "min", "max", "target"))
    kind: Literal["ttl-band"]
    classes: dict[str, Band]
    selectors: list[Selector] = Field(default_factory=list)
    default_class: str | None = None

    @model_validator(mode="after")
    def _known_classes(self) -> TtlBandRule:
        if not self.classes:
            raise ValueError("at least one class is required")
        named = [s.class_ for s in self.selectors]
        if self.default_class is not None:
            named.append(self.default_class)
        unknown = sorted({c for c in named if c not in self.classes})
        if unknown:
            raise ValueError(
                f"class(es) {', '.join(unknown)} not defined in classes ({', '.join(self.classes)})"
            )
        return self


class TtlFloorRule(Rule):
    """No TTL below ``floor`` (in the records ``match`` selects, default all)."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("floor",))
    kind: Literal["ttl-floor"]
    floor: int = Field(ge=0)
    match: Match = Field(default_factory=Match)


class TtlCeilingRule(Rule):
    """No TTL above ``ceiling``. With the ceiling at 2^31 - 1 it is RFC 2181 §8's limit
    (servers read a larger TTL as 0); lower, a policy's maximum."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("ceiling",))
    kind: Literal["ttl-ceiling"]
    ceiling: int = Field(ge=0, le=2**31 - 1)
    match: Match = Field(default_factory=Match)


# -- what DNS can carry (dnsops.lint.wire) -------------------------------------------


class HostnameRule(Rule):
    """Owner names per RFC 952/1123 (letters, digits, hyphens; labels of at most 63
    octets, names of at most 255), underscore labels except on ``host_types``, and ``*``
    only as the whole leftmost label."""

    kind: Literal["hostname"]
    host_types: OneOrMany = Field(default_factory=lambda: ["A", "AAAA", "MX"])

    @field_validator("host_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        upper = [t.upper() for t in value]
        unknown = [t for t in upper if t not in known_types()]
        if unknown:
            raise ValueError(f"unknown record type(s): {', '.join(unknown)}")
        return upper


class WireLimitsRule(Rule):
    """Each value's RDATA within 65,535 octets, and the whole record set within one DNS
    message (RFC 1035): what no server can hold or send."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("octets",))
    kind: Literal["wire-limits"]


class RrsetSizeRule(Rule):
    """No record set with more than ``max`` octets of RDATA."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("octets", "max"))
    kind: Literal["rrset-size"]
    max: int = Field(ge=1, le=65_535)


# -- forbid / require -------------------------------------------------------------


class ForbidRule(Rule):
    """Every record matching ``match`` (and not ``unless``) is a finding."""

    kind: Literal["forbid"]
    match: Match
    unless: Match | None = None


class RequireRule(Rule):
    """Records matching ``require`` must exist (with at least ``min_values`` values).

    Without ``when`` the requirement holds once per zone (zones chosen by
    ``require.zone``); with ``when`` it holds for every record matching ``when``,
    and ``{name}`` in ``require.name`` stands for that record's name
    (``_dmarc.{name}``).
    """

    FIELDS: ClassVar[frozenset[str]] = frozenset(("required", "min_values", "found"))
    kind: Literal["require"]
    when: Match | None = None
    require: Match
    min_values: int = Field(default=1, ge=1)


# -- providers ----------------------------------------------------------------------


class ProviderSupportRule(Rule):
    """Both providers of the environment's pair can serve every record (their SUPPORTS)."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("provider", "provider_class"))
    kind: Literal["provider-support"]


class ProviderLimitsRule(Rule):
    """Nothing either provider of the environment is known to reject or mangle
    (dnsops.lint.capabilities.LIMITS: documented or measured, with the source)."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("provider", "provider_class", "source"))
    kind: Literal["provider-limits"]


class OccludedRule(Rule):
    """No record below a delegation: the child's servers answer there, never this zone's
    (dnsops.expect decides, for lint and every other command alike)."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("delegation",))
    kind: Literal["occluded"]


class ApexNsRule(Rule):
    """The apex NS set names nameservers of both providers.

    ``nameservers`` maps an octoDNS provider name or provider class
    (``octodns_route53.Route53Provider``) to globs of its nameserver names. For a
    lab environment the names come from dnsops.yaml's lab section.
    """

    FIELDS: ClassVar[frozenset[str]] = frozenset(("provider",))
    kind: Literal["apex-ns-providers"]
    nameservers: dict[str, OneOrMany] = Field(default_factory=dict)
    allow_others: bool = Field(
        default=False, description="tolerate apex NS names that belong to neither provider"
    )


# -- online -------------------------------------------------------------------------


class DanglingRule(Rule):
    """Targets outside the managed zones must resolve (a dangling one invites takeover)."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("target", "rcode"))
    online: ClassVar[bool] = True
    kind: Literal["dangling-target"]
    types: OneOrMany = Field(default_factory=lambda: ["CNAME", "NS"])

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        upper = [t.upper() for t in value]
        allowed = {"CNAME", "NS", "ALIAS", "DNAME", "MX", "SRV"}
        bad = [t for t in upper if t not in allowed]
        if bad:
            raise ValueError(f"type(s) {', '.join(bad)} have no target (one of {sorted(allowed)})")
        return upper


class CdnVaryRule(Rule):
    """The origin of a CDN-fronted record must not Vary on user-specific headers."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("url", "header", "vary"))
    online: ClassVar[bool] = True
    kind: Literal["cdn-vary"]
    forbidden: OneOrMany = Field(
        default_factory=lambda: ["Cookie", "Authorization", "User-Agent", "*"]
    )


class CdnCacheControlRule(Rule):
    """The origin of a CDN-fronted record sends Cache-Control with these directives."""

    FIELDS: ClassVar[frozenset[str]] = frozenset(("url", "missing", "cache_control"))
    online: ClassVar[bool] = True
    kind: Literal["cdn-cache-control"]
    required: OneOrMany = Field(default_factory=lambda: ["s-maxage", "stale-while-revalidate"])


AnyRule = (
    TtlBandRule
    | TtlFloorRule
    | TtlCeilingRule
    | HostnameRule
    | WireLimitsRule
    | RrsetSizeRule
    | ProviderLimitsRule
    | ForbidRule
    | RequireRule
    | ProviderSupportRule
    | OccludedRule
    | ApexNsRule
    | DanglingRule
    | CdnVaryRule
    | CdnCacheControlRule
)
KINDS: dict[str, type[Rule]] = {
    "ttl-band": TtlBandRule,
    "ttl-floor": TtlFloorRule,
    "ttl-ceiling": TtlCeilingRule,
    "hostname": HostnameRule,
    "wire-limits": WireLimitsRule,
    "rrset-size": RrsetSizeRule,
    "forbid": ForbidRule,
    "require": RequireRule,
    "provider-support": ProviderSupportRule,
    "provider-limits": ProviderLimitsRule,
    "occluded": OccludedRule,
    "apex-ns-providers": ApexNsRule,
    "dangling-target": DanglingRule,
    "cdn-vary": CdnVaryRule,
    "cdn-cache-control": CdnCacheControlRule,
}


class CdnOrigin(_Model):
    """Records matching ``match`` are fronted by a CDN whose origin answers at ``url``.

    ``url`` may use {fqdn} (without the final dot), {name} and {zone}. A record can
    also say it itself: ``octodns: {dnsops: {cdn: URL}}``.
    """

    match: Match
    url: str = Field(pattern=r"^https?://")

    @field_validator("url")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            value.format(fqdn="x", name="x", zone="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"bad url template {value!r}: {exc}") from None
        return value


class PolicyFile(_Model):
    """The top level of a policy file. Rules are validated one by one, by their kind."""

    rules: list[dict[str, Any]] = Field(default_factory=list)
    cdn: list[CdnOrigin] = Field(default_factory=list)


@dataclass(frozen=True)
class Policy:
    """All policy files merged: the rules in file order, where each one came from."""

    rules: tuple[AnyRule, ...]
    cdn: tuple[CdnOrigin, ...]
    origins: dict[str, str]  # rule id -> "file:line"
    files: tuple[str, ...]

    def rule(self, rule_id: str) -> AnyRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def ids(self) -> set[str]:
        return {r.id for r in self.rules}


def load_policies(directory: Path) -> Policy:
    """Every ``*.yaml`` in ``directory``, validated and merged.

    :raises ConfigError: listing every problem in every file (file:line: key: message).
    """
    if not directory.is_dir():
        raise ConfigError(f"{_shown(directory)}: policies directory not found")
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    problems: list[str] = []
    rules: list[AnyRule] = []
    cdn: list[CdnOrigin] = []
    origins: dict[str, str] = {}
    for path in files:
        shown = _shown(path)
        data = load_yaml(path, what="policy")
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{shown}:1: a policy file is a mapping with 'rules' (and 'cdn')")
            continue
        try:
            parsed = PolicyFile.model_validate(data)
        except ValidationError as exc:
            problems += _problems(shown, data, exc.errors())
            continue
        for i, raw in enumerate(data.get("rules") or []):  # the loaded dicts: with lines
            rule, rule_problems = _rule(shown, data, i, raw)
            problems += rule_problems
            if rule is None:
                continue
            where = f"{shown}:{line_of(raw) or 1}"
            if rule.id in BUILTIN_IDS:
                problems.append(f"{where}: rules.{i}.id: {rule.id!r} is reserved by dnsops")
            elif rule.id in origins:
                problems.append(
                    f"{where}: rules.{i}.id: duplicate rule id {rule.id!r} "
                    f"(first defined at {origins[rule.id]})"
                )
            else:
                origins[rule.id] = where
                rules.append(rule)
        cdn += parsed.cdn
    if problems:
        raise ConfigError(
            f"{len(problems)} policy problem(s):\n" + "\n".join(problems),
            hint="fix the policy file(s); `dnsops lint --help` lists the rule kinds",
        )
    return Policy(tuple(rules), tuple(cdn), origins, tuple(_shown(f) for f in files))


def _rule(shown: str, data: Any, i: int, raw: dict[str, Any]) -> tuple[AnyRule | None, list[str]]:
    """One rule, validated by the model of its ``kind``."""
    kind = raw.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        line = getattr(raw, "key_lines", {}).get("kind") or line_of(raw) or 1
        what = "no 'kind'" if kind is None else f"unknown rule kind {kind!r}"
        return None, [f"{shown}:{line}: rules.{i}.kind: {what} (one of {', '.join(KINDS)})"]
    try:
        return cls.model_validate(raw), []  # type: ignore[return-value]
    except ValidationError as exc:
        errors = [{**e, "loc": ("rules", i, *e["loc"])} for e in exc.errors()]
        return None, _problems(shown, data, errors)


class _Errors:
    """pydantic errors with adjusted locations, for ``pydantic_problems``."""

    def __init__(self, errors: list[Any]) -> None:
        self._errors = errors

    def errors(self) -> list[Any]:
        return self._errors


def _problems(shown: str, data: Any, errors: list[Any]) -> list[str]:
    lines = pydantic_problems(Path(shown), data, _Errors(errors))
    return [line.replace(": Value error, ", ": ", 1) for line in lines]


def _shown(path: Path) -> str:
    """``policies/x.yaml`` when under the working directory, else the full path."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
