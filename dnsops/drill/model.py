"""Drill scenarios: drills/*.yaml as pydantic models; every error names file and line.

A scenario states a hypothesis ("losing pdns costs no resolution"), the steady
state that must hold before it starts, the steps that inject a fault or make a
change, and the conditions under which it aborts (and rolls back).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from dnsops.config import Environment, Project, Resolver, SshVantage
from dnsops.errors import ConfigError
from dnsops.yamlfile import line_of, load_yaml, pydantic_problems

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
DEFAULT_CADENCE = 92 * 86400.0  # quarterly


def parse_duration(value: Any) -> float:
    """``15``, ``"15s"``, ``"2m"``, ``"92d"``, ``"500ms"`` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 15s, 2m or 92d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNITS[m.group(2) or "s"]
    raise ValueError(f"{value!r} is not a duration (examples: 15s, 500ms, 2m, 1h, 92d)")


# seconds, or text with a unit: what the JSON Schema accepts too
DurationText = Annotated[str, Field(pattern=_DURATION.pattern)]
Duration = Annotated[
    float,
    Field(ge=0),  # before the validator: a constraint on the float it returns
    BeforeValidator(
        parse_duration, json_schema_input_type=Annotated[float, Field(ge=0)] | DurationText
    ),
]
Fraction = Annotated[float, Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _fqdn(value: str) -> str:
    value = value.strip()
    if not value or " " in value:
        raise ValueError(f"{value!r} is not a DNS name")
    return value if value.endswith(".") else value + "."


# -- checks (steady state and the check step) --------------------------------


class ResolutionCheck(_Model):
    """Every vantage resolves NAME/TYPE to exactly the values in git.

    Every resolver of the environment is asked; ``vantages`` adds vantages of
    dnsops.yaml by name (SSH hosts, RIPE Atlas), asked through their resolvers.
    """

    check: Literal["resolution"]
    name: str
    type: str = "A"
    vantages: list[str] = Field(default_factory=list)

    _name = field_validator("name")(_fqdn)


class ServersCheck(_Model):
    """Lab: every lab server runs and answers. Elsewhere: skipped (nothing to run)."""

    check: Literal["servers"]


class ZoneCheck(_Model):
    """Every nameserver of both providers serves every record of the zone as in git."""

    check: Literal["zone"]
    zone: str

    _zone = field_validator("zone")(_fqdn)


class InSyncCheck(_Model):
    """No pending plan: both providers equal the zones in git."""

    check: Literal["in-sync"]


Check = Annotated[
    ResolutionCheck | ServersCheck | ZoneCheck | InSyncCheck, Field(discriminator="check")
]


# -- steps -------------------------------------------------------------------


class ProviderOutage(_Model):
    """Make one provider unreachable for ``duration``, then restore it.

    ``method``: ``stop`` (lab: stop its server), ``drop`` (lab: drop its DNS
    traffic with nftables), ``blackhole`` (any environment, client-side: nftables
    rules on the vantages' own resolvers drop their packets to the provider's
    nameservers; the provider itself is not touched), ``isolate`` (any
    environment: resolve every record only through the *other* provider's
    nameservers; nothing is changed). ``auto`` is ``stop`` in the lab and
    ``isolate`` elsewhere.
    """

    kind: Literal["provider-outage"]
    provider: str
    duration: Duration = 15.0
    method: Literal["auto", "stop", "drop", "blackhole", "isolate"] = "auto"
    vantages: list[str] | None = Field(
        default=None,
        description="blackhole: the vantages whose resolvers lose the provider (default: "
        "every vantage of the environment whose resolver can be blackholed)",
    )
    zones: list[str] | None = Field(
        default=None, description="zones to prove complete under isolation (default: all)"
    )
    nameservers: dict[str, str] | None = Field(
        default=None,
        description="isolate: the other provider's nameservers, name -> address "
        "(default in the lab: from dnsops.yaml)",
    )

    _zones = field_validator("zones")(lambda v: [_fqdn(z) for z in v] if v else v)


class RegionalLoss(_Model):
    """One region's resolvers lose a share of their packets to the providers.

    The vantages of ``region`` (dnsops.yaml ``region``) whose resolvers can be
    blackholed get an nftables rule dropping ``loss`` of their DNS packets to the
    nameservers of ``providers`` (default: every provider) for ``duration``;
    every other region is measured alongside, as the control.
    """

    kind: Literal["regional-loss"]
    region: str = Field(min_length=1)
    loss: Annotated[float, Field(gt=0, le=1)] = Field(
        description="fraction of packets dropped (0.3: nft numgen random mod 100 < 30)"
    )
    providers: list[str] | None = Field(default=None, min_length=1)
    duration: Duration = 15.0


PrimeMode = Literal["staggered", "together"]
PRIME_HELP = (
    "how the resolvers' caches are filled before the change, after one TTL without asking "
    "them: staggered (resolver i of N at i·TTL/N before it, so they expire spread over the "
    "TTL, as a real population does; adds about 2 x TTL) or together (all just before it: "
    "each needs the full TTL; adds about 1 x TTL)"
)


class RecordFailover(_Model):
    """Switch a record to its standby values on both providers (the octoDNS sync path)."""

    kind: Literal["record-failover"]
    zone: str
    name: str = Field(description="the record's name in the zone ('' for the apex)")
    type: str = "A"
    values: list[str] | None = Field(
        default=None, description="standby values (default: the record's dnsops.standby)"
    )
    margin: Duration | None = None
    timeout: Duration | None = Field(
        default=None, description="give up waiting for convergence after this (a deadline)"
    )
    prime: PrimeMode = Field(default="staggered", description=PRIME_HELP)

    _zone = field_validator("zone")(_fqdn)

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.zone}" if self.name else self.zone


class Failback(_Model):
    """Restore the state in git (a sync), measured like a failover.

    Without zone/name it restores the record of the last record-failover.
    """

    kind: Literal["failback"]
    zone: str | None = None
    name: str | None = None
    type: str | None = None
    margin: Duration | None = None
    timeout: Duration | None = None
    prime: PrimeMode = Field(default="staggered", description=PRIME_HELP)

    _zone = field_validator("zone")(lambda v: _fqdn(v) if v else v)


class CheckStep(_Model):
    kind: Literal["check"]
    checks: list[Check] = Field(min_length=1)


class Wait(_Model):
    kind: Literal["wait"]
    duration: Duration


Step = Annotated[
    ProviderOutage | RegionalLoss | RecordFailover | Failback | CheckStep | Wait,
    Field(discriminator="kind"),
]


# -- guardrails --------------------------------------------------------------


class Abort(_Model):
    """When to stop the drill and roll back, evaluated continuously from the probes."""

    success_below: Fraction = Field(
        default=0.9, description="abort if resolution success at any vantage falls below this…"
    )
    for_: Duration = Field(default=3.0, alias="for", description="…for this long")
    margin: Duration = Field(
        default=5.0, description="convergence must be reached by TTL + margin, else abort"
    )


class Probing(_Model):
    """How the steady-rate prober asks every vantage."""

    rate: Annotated[float, Field(gt=0, le=50)] = Field(
        default=5.0, description="queries per second per vantage and probe"
    )
    timeout: Duration = Field(
        default=5.0, description="how long one try waits (glibc's stub resolver: 5 s)"
    )
    attempts: Annotated[int, Field(ge=1, le=5)] = Field(
        default=2, description="tries per resolution, as a stub resolver makes (glibc: 2)"
    )
    streams: Annotated[int, Field(ge=1, le=8)] = Field(
        default=2,
        description="independent probe streams per vantage (anycast resolvers have many caches)",
    )
    vantages: list[str] | None = Field(
        default=None,
        description="SSH vantages sampled alongside the resolvers, each over one long-lived "
        "session (default: every SSH vantage of the environment that asks a resolver)",
    )


class Scenario(_Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    environment: str | None = None
    hypothesis: str = Field(min_length=1)
    cadence: Duration = DEFAULT_CADENCE
    steady_state: list[Check] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    abort: Abort = Field(default_factory=Abort)
    probing: Probing = Field(default_factory=Probing)
    expect_success: Fraction = Field(
        default=1.0, description="the hypothesis holds only if resolution success stays >= this"
    )
    max_duration: Duration = 300.0

    # set by the loader, not by the file
    file: SkipJsonSchema[str] = Field(default="", exclude=True)
    line: SkipJsonSchema[int] = Field(default=0, exclude=True)

    @model_validator(mode="after")
    def _failback_follows_a_failover(self) -> Scenario:
        switched: list[tuple[str, str, str]] = []
        for i, step in enumerate(self.steps):
            if isinstance(step, RecordFailover):
                switched.append((step.zone, step.name, step.type.upper()))
            if isinstance(step, Failback):
                if step.zone is None and step.name is None:
                    if not switched:
                        raise ValueError(f"steps.{i}: a failback needs a record-failover before it")
                    continue
                key = (step.zone or "", step.name or "", (step.type or "A").upper())
                if key not in switched:
                    raise ValueError(
                        f"steps.{i}: failback of {key[1] or '@'} {key[2]} in {key[0]}: no "
                        "record-failover of that record comes before it"
                    )
        return self

    def failback_target(self, index: int) -> RecordFailover:
        """The record-failover a failback step restores."""
        step = self.steps[index]
        assert isinstance(step, Failback)
        for prev in reversed(self.steps[:index]):
            if isinstance(prev, RecordFailover) and (
                step.zone is None
                or (prev.zone, prev.name, prev.type.upper())
                == (step.zone, step.name or "", (step.type or "A").upper())
            ):
                return prev
        raise ValueError(f"step {index}: no record-failover before this failback")


def load_scenario(path: Path) -> Scenario:
    """One drill file, validated.

    :raises ConfigError: naming file:line:key of every problem.
    """
    data = load_yaml(path, what="drill scenario")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: a drill scenario is a mapping (name, hypothesis, steps…)")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("\n".join(pydantic_problems(path, data, _Untagged(exc)))) from None
    return scenario.model_copy(update={"file": str(path), "line": line_of(data) or 1})


_TAGS = frozenset(
    {"provider-outage", "regional-loss", "record-failover", "failback", "check", "wait"}
    | {"resolution", "servers", "zone", "in-sync"}
)


class _Untagged:
    """pydantic puts a discriminated union's tag into ``loc`` (steps.0.wait.duration);
    drop it, so the path is the file's own (steps.0.duration) and its line is found."""

    def __init__(self, exc: ValidationError) -> None:
        self.exc = exc

    def errors(self) -> list[Any]:
        out = []
        for err in self.exc.errors():
            loc = list(err["loc"])
            loc = [
                p
                for i, p in enumerate(loc)
                if not (p in _TAGS and i and isinstance(loc[i - 1], int))
            ]
            out.append({**err, "loc": tuple(loc)})
        return out


def scenario_files(project: Project) -> list[Path]:
    directory = project.drills_dir
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_scenarios(project: Project) -> list[Scenario]:
    """Every scenario in drills/; all problems of all files reported at once.

    :raises ConfigError: any file is invalid, two scenarios share a name, or a
        scenario names an unknown environment or provider.
    """
    problems: list[str] = []
    scenarios: list[Scenario] = []
    for path in scenario_files(project):
        try:
            scenarios.append(load_scenario(path))
        except ConfigError as exc:
            problems.append(exc.message)
    names: dict[str, str] = {}
    for sc in scenarios:
        if sc.name in names:
            problems.append(
                f"{sc.file}:{sc.line}: name: {sc.name!r} is also used by {names[sc.name]}"
            )
        names[sc.name] = sc.file
        problems += _cross_check(project, sc)
    if problems:
        raise ConfigError("\n".join(problems))
    return scenarios


def _cross_check(project: Project, sc: Scenario) -> list[str]:
    """What the file alone cannot tell: environment and provider names exist."""
    where = f"{sc.file}:{sc.line}"
    envs = project.config.environments
    env_name = sc.environment or project.config.default_environment
    if env_name not in envs:
        known = ", ".join(sorted(envs))
        return [f"{where}: environment: no environment {env_name!r} (known: {known})"]
    env = envs[env_name]
    out = []
    sampled = [v.name for v in env.vantages if isinstance(v, SshVantage) and v.resolver]
    bad = [n for n in sc.probing.vantages or [] if n not in sampled]
    if bad:
        out.append(
            f"{where}: probing.vantages: {', '.join(bad)}: not an SSH vantage of {env_name!r} "
            f"that asks a resolver (those are: {', '.join(sampled) or 'none'})"
        )
    for i, step in enumerate(sc.steps):
        if isinstance(step, ProviderOutage):
            if step.provider not in env.providers:
                out.append(
                    f"{where}: steps.{i}.provider: {step.provider!r} is not a provider of "
                    f"environment {env_name!r} ({', '.join(env.providers)})"
                )
            if step.method in ("stop", "drop") and not env.lab:
                out.append(
                    f"{where}: steps.{i}.method: {step.method!r} only exists in the lab; "
                    f"{env_name!r} is not a lab (use isolate)"
                )
            if step.method in ("auto", "isolate") and not env.lab and step.nameservers is None:
                out.append(
                    f"{where}: steps.{i}.nameservers: {env_name!r} is not a lab: name the other "
                    "provider's nameservers (name: address) to isolate it"
                )
            if step.vantages is not None and step.method != "blackhole":
                out.append(f"{where}: steps.{i}.vantages: only a blackhole names vantages")
            if step.method == "blackhole":
                able = blackholable(env)
                names = able if step.vantages is None else step.vantages
                bad = [n for n in names if n not in able]
                if bad or not names:
                    out.append(
                        f"{where}: steps.{i}.vantages: "
                        + (f"{', '.join(bad)}: " if bad else "")
                        + f"no resolver to blackhole (can be: {', '.join(able) or 'none'}; "
                        "lab resolvers, and SSH vantages with a `blackhole:` section)"
                    )
        if isinstance(step, RegionalLoss):
            unknown = [p for p in step.providers or [] if p not in env.providers]
            if unknown:
                out.append(
                    f"{where}: steps.{i}.providers: {', '.join(unknown)} is not a provider of "
                    f"environment {env_name!r} ({', '.join(env.providers)})"
                )
            regions = sorted({regions_of(env)[n] for n in blackholable(env)})
            if step.region not in regions:
                out.append(
                    f"{where}: steps.{i}.region: no vantage of region {step.region!r} can be "
                    f"blackholed (regions that can: {', '.join(regions) or 'none'})"
                )
    return out


def blackholable(env: Environment) -> list[str]:
    """The vantages whose resolvers a drill can cut off a provider with nftables: the
    lab's resolvers (each sends from its own address) and SSH vantages with ``blackhole``."""
    out = []
    for v in env.all_vantages:
        local = isinstance(v, Resolver) and env.lab
        if local or (isinstance(v, SshVantage) and v.blackhole is not None):
            out.append(v.name)
    return out


def regions_of(env: Environment) -> dict[str, str]:
    return {v.name: v.region for v in env.all_vantages}


def find_scenario(project: Project, name: str) -> Scenario:
    scenarios = load_scenarios(project)
    for sc in scenarios:
        if sc.name == name:
            return sc
    known = ", ".join(s.name for s in scenarios) or "none"
    raise ConfigError(f"no drill scenario named {name!r} in {project.drills_dir} (have: {known})")
