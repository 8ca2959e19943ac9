"""dnsops.yaml: environments, provider pairs, vantage points and the lab layout.

The file is loaded with line information; any error names the file, the line
and the key (``dnsops.yaml:12: environments.lab.providers: ...``).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dnsops.errors import ConfigError
from dnsops.yamlfile import load_yaml, pydantic_problems

DEFAULT_CONFIG = "dnsops.yaml"

Port = Annotated[int, Field(ge=1, le=65535)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ip(value: str) -> str:
    ipaddress.ip_address(value)
    return value


VantageName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
# an environment's name becomes part of paths (its lock file): no '/', no '..'
ENVIRONMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
Seconds = Annotated[float, Field(gt=0, le=86400)]


class Resolver(_Model):
    """A vantage point: a recursive resolver queried from here."""

    kind: Literal["resolver"] = "resolver"
    name: VantageName
    address: str
    port: Port = 53
    region: str

    _check_address = field_validator("address")(_ip)


class SshBlackhole(_Model):
    """How a drill's ``provider-outage`` (``method: blackhole``) and ``regional-loss``
    steps cut this host's own recursive resolver off a provider: nftables rules in the
    host's ``output`` hook dropping its DNS packets to the provider's nameservers.

    ``source``: the address the resolver sends its queries from (unbound's
    ``outgoing-interface``); the rules match only packets from it. Without it, the
    rules match every DNS packet the host sends to those nameservers (a dedicated
    vantage host). ``sudo``: run nft as ``sudo -n nft`` (never a password prompt).
    """

    sudo: bool = Field(default=False, description="run nft through `sudo -n`")
    source: str | None = Field(
        default=None,
        description="the resolver's source address on the host (default: any address)",
    )
    nft: str = Field(default="nft", pattern=r"^[A-Za-z0-9_./-]+$", description="nft on the host")

    _source = field_validator("source")(lambda v: v if v is None else _ip(v))


class SshVantage(_Model):
    """A host reached with the system's OpenSSH client, probing from where it stands.

    ``host`` is a Host of the user's ssh config or a host name; user, port and a
    jump host may be given here or there (OpenSSH's own config is respected).
    The host asks its own resolver (``resolver: system`` reads its
    /etc/resolv.conf; an address names one) and/or, with ``nameservers: true``,
    the providers' nameservers directly. Nothing is installed on the host.
    """

    kind: Literal["ssh"]
    name: VantageName
    region: str
    host: str = Field(min_length=1, pattern=r"^[^\s-][^\s]*$")
    user: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
    port: Port | None = None
    jump: str | None = Field(default=None, pattern=r"^[^\s-][^\s]*$", description="ProxyJump")
    ssh_config: str | None = Field(
        default=None, description="an ssh_config file (-F), relative to dnsops.yaml"
    )
    resolver: str | None = Field(
        default="system", description="'system' (the host's resolv.conf), an address, or null"
    )
    nameservers: bool = Field(default=False, description="also ask the providers' nameservers")
    python: str = Field(default="python3", pattern=r"^[A-Za-z0-9_./-]+$")
    connect_timeout: Seconds = 10.0
    timeout: Seconds = Field(default=300.0, description="seconds for the whole session")
    concurrency: int = Field(default=32, ge=1, le=256, description="queries in flight on the host")
    blackhole: SshBlackhole | None = Field(
        default=None,
        description="drills may cut this host's resolver off a provider with nftables "
        "(null: never)",
    )

    @field_validator("resolver")
    @classmethod
    def _resolver(cls, value: str | None) -> str | None:
        if value is not None and value != "system":
            _ip(value)
        return value

    @model_validator(mode="after")
    def _asks_something(self) -> SshVantage:
        if self.resolver is None and not self.nameservers:
            raise ValueError("an ssh vantage asks its resolver, the nameservers, or both")
        if self.blackhole is not None and self.resolver is None:
            raise ValueError("blackhole: the vantage asks no resolver of its own to cut off")
        return self


ATLAS_AREAS = ("WW", "West", "North-Central", "South-Central", "North-East", "South-East")


class AtlasProbes(_Model):
    """One probe selection of an Atlas measurement request (they add up)."""

    type: Literal["country", "asn", "area", "probes"]
    value: str | int
    requested: int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _value(self) -> AtlasProbes:
        v = str(self.value)
        if self.type == "country" and not re.fullmatch(r"[A-Z]{2}", v):
            raise ValueError(f"country {v!r}: an ISO 3166 two-letter code in capitals (DE, JP)")
        if self.type == "asn" and not re.fullmatch(r"(AS)?[0-9]{1,10}", v):
            raise ValueError(f"asn {v!r}: an AS number (3320)")
        if self.type == "area" and v not in ATLAS_AREAS:
            raise ValueError(f"area {v!r}: one of {', '.join(ATLAS_AREAS)}")
        if self.type == "probes" and not re.fullmatch(r"[0-9]+(,[0-9]+)*", v):
            raise ValueError(f"probes {v!r}: probe IDs separated by commas")
        return self


class AtlasVantage(_Model):
    """RIPE Atlas probes selected by country/ASN/area, under a credit budget cap.

    The API key is read from the environment variable ``api_key_env`` at run
    time; it never appears in dnsops.yaml or in any output. ``server`` (and
    ``ca_bundle`` for a private CA) let the endpoint be pointed elsewhere.
    """

    kind: Literal["ripe-atlas"]
    name: VantageName
    region: str
    probes: list[AtlasProbes] = Field(min_length=1)
    ask: Literal["resolver", "nameservers"] = Field(
        default="resolver", description="the probes' own resolvers, or the providers' nameservers"
    )
    max_credits: int = Field(ge=1, description="refuse a run estimated to cost more than this")
    api_key_env: str = Field(default="RIPE_ATLAS_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    server: str = Field(default="atlas.ripe.net", pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
    ca_bundle: str | None = Field(default=None, description="CA file for a private endpoint")
    af: Literal[4, 6] = 4
    protocol: Literal["UDP", "TCP"] = "UDP"
    wait: Seconds = Field(default=900.0, description="seconds to wait for results at most")
    poll: Seconds = Field(default=15.0, description="seconds between result polls")

    @property
    def requested(self) -> int:
        return sum(p.requested for p in self.probes)


Vantage = Annotated[Resolver | SshVantage | AtlasVantage, Field(discriminator="kind")]
VANTAGE_KINDS = ("resolver", "ssh", "ripe-atlas")


class Paths(_Model):
    zones: str = "zones"
    policies: str = "policies"
    drills: str = "drills"
    state: str = ".dnsops"


class BatchLimits(_Model):
    """The most one change request to a provider may carry; None: no limit of that kind.

    A large plan is applied as several requests (batches), each within these limits
    (dnsops.sync.batch). Unset fields take the provider's documented limits
    (dnsops.lint.capabilities.DEFAULT_LIMITS); set them lower to make batches smaller.
    """

    changes: int | None = Field(default=None, ge=1, description="octoDNS changes (RRsets)")
    records: int | None = Field(
        default=None, ge=1, description="resource records (an update counts twice)"
    )
    value_chars: int | None = Field(
        default=None, ge=1, description="characters of record values (an update counts twice)"
    )
    body_bytes: int | None = Field(
        default=None, ge=1, description="HTTP request body (a JSON estimate: PowerDNS)"
    )
    message_bytes: int | None = Field(
        default=None, ge=1, description="DNS message size (a wire estimate: RFC 2136)"
    )


class ApiBounds(_Model):
    """Bounds on every call dnsops makes (through octoDNS) to one provider API.

    ``rate``: at most this many requests in any second (retries included), shared by
    every thread using the same account. ``deadline``: no request of one API call (its
    retries, its waits for the rate limit) starts after this many seconds; each request
    also has ``connect_timeout`` and ``read_timeout``. ``batch``: the most one change
    request carries (see :class:`BatchLimits`).
    """

    rate: float = Field(default=5.0, gt=0, le=1000, description="requests per second at most")
    deadline: Seconds = Field(default=60.0, description="seconds per API call at most")
    connect_timeout: Seconds = 5.0
    read_timeout: Seconds = 30.0
    batch: BatchLimits = Field(default_factory=BatchLimits)


class PowerDnsApiBounds(_Model):
    """PowerDNS's HTTP API: ``deadline`` bounds each request as a whole (connecting,
    sending, the response's headers and body), whatever octoDNS's per-read ``timeout``."""

    deadline: Seconds = Field(default=60.0, description="seconds per API request at most")
    batch: BatchLimits = Field(default_factory=BatchLimits)


class Rfc2136Bounds(_Model):
    """RFC 2136 servers (BIND): each update message and zone transfer is bounded as a
    whole by the octoDNS provider's own ``timeout`` (dnspython's and dnsops's readers
    apply it to the whole exchange, not per read)."""

    batch: BatchLimits = Field(default_factory=BatchLimits)


class Ns1ApiBounds(ApiBounds):
    """NS1: a client-side cap (default 10/s, what ns1-python assumes without headers),
    below which NS1's own X-RateLimit-* headers are followed."""

    rate: float = Field(default=10.0, gt=0, le=1000, description="requests per second at most")


class PhaseDeadlines(_Model):
    """Overall deadlines of a command's phases against the providers, on top of each
    request's own: no zone (plan) or batch (apply) starts after them, so a phase ends
    within its deadline plus one request's. What was done is reported; a rerun goes on."""

    plan: Seconds = Field(default=900.0, description="seconds for planning every zone")
    apply: Seconds = Field(default=3600.0, description="seconds for applying every change")


class ProviderApis(_Model):
    """Bounds per provider API: Route 53 (5 requests per second per account), NS1,
    PowerDNS and RFC 2136 (BIND); and the phases' overall deadlines."""

    route53: ApiBounds = Field(default_factory=ApiBounds)
    ns1: Ns1ApiBounds = Field(default_factory=Ns1ApiBounds)
    powerdns: PowerDnsApiBounds = Field(default_factory=PowerDnsApiBounds)
    rfc2136: Rfc2136Bounds = Field(default_factory=Rfc2136Bounds)
    phases: PhaseDeadlines = Field(default_factory=PhaseDeadlines)


class AsnLookup(_Model):
    """Where the origin AS and announced prefix of each nameserver address come from
    (the provider-asn, provider-prefix and provider-one-prefix health checks).

    Online (the default): TXT lookups in an IP-to-AS origin zone in the style of Team
    Cymru's (``<reversed address>.origin.asn.cymru.com. TXT "15169 | 8.8.8.0/24 | US |
    arin | 1992-12-01"``; IPv6 nibble-reversed under ``origin6``), asked by walking down
    from the environment's root hints. Offline: ``prefix_file``, lines ``PREFIX ASN``
    (longest prefix wins), and no DNS at all.
    """

    origin: str = Field(
        default="origin.asn.cymru.com.", description="the IPv4 origin zone (reversed addresses)"
    )
    origin6: str = Field(
        default="origin6.asn.cymru.com.",
        description="the IPv6 origin zone (nibble-reversed addresses)",
    )
    prefix_file: str | None = Field(
        default=None,
        description="offline: a file of 'PREFIX ASN...' lines, relative to dnsops.yaml; "
        "when set, no DNS lookup is made",
    )
    deadline: Seconds = Field(default=20.0, description="seconds for every lookup of a run")
    concurrency: int = Field(default=16, ge=1, le=256, description="addresses asked at once")

    @field_validator("origin", "origin6")
    @classmethod
    def _fqdn(cls, value: str) -> str:
        if not value.endswith(".") or value == ".":
            raise ValueError(f"{value!r} must be a fully qualified zone name (end in '.')")
        return value


class Environment(_Model):
    """One octoDNS config and the two providers (targets) that serve the zones."""

    octodns_config: str
    source: str = Field(default="zones", description="octoDNS source provider of the zones")
    providers: tuple[str, str]
    lab: bool = False
    parent: list[str] = Field(
        default_factory=list,
        description="override: addresses of the parent zone's servers (default: discovered "
        "by walking down from the root hints)",
    )
    root_hints: dict[str, str] | None = Field(
        default=None,
        description="root servers the delegation walk starts from (name -> address); default: "
        "a lab environment's lab root, otherwise the IANA root servers",
    )
    resolvers: list[Resolver] = Field(default_factory=list)
    vantages: list[Vantage] = Field(
        default_factory=list,
        description="vantage points beyond the resolvers: kind resolver, ssh or ripe-atlas",
    )
    nameservers: dict[str, list[str]] = Field(
        default_factory=dict,
        description="per provider: its nameservers (addresses or host names), asked after "
        "a sync to verify the changes are served (a lab's come from the 'lab' section)",
    )
    provider_api: ProviderApis = Field(
        default_factory=ProviderApis,
        description="bounds on the provider API calls: rate, deadline, timeouts, batch limits",
    )
    asn_lookup: AsnLookup = Field(
        default_factory=AsnLookup,
        description="the origin AS and prefix of the nameservers' addresses (provider "
        "independence): an origin zone, or an offline prefix file",
    )

    @field_validator("providers")
    @classmethod
    def _two_different(cls, value: tuple[str, str]) -> tuple[str, str]:
        if value[0] == value[1]:
            raise ValueError("the two providers must be two different octoDNS targets")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Environment:
        names = [v.name for v in self.all_vantages]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate resolver/vantage name(s): {', '.join(dupes)}")
        for name, addr in (self.root_hints or {}).items():
            if not name.endswith("."):
                raise ValueError(f"root_hints: {name!r} must be fully qualified (end in '.')")
            _ip(addr)
        unknown = sorted(set(self.nameservers) - set(self.providers))
        if unknown:
            raise ValueError(
                f"nameservers: {', '.join(unknown)} is not one of the providers "
                f"({', '.join(self.providers)})"
            )
        return self

    @property
    def all_vantages(self) -> list[Resolver | SshVantage | AtlasVantage]:
        """The resolvers (kind resolver) and then the other vantages, in file order."""
        return [*self.resolvers, *self.vantages]


class LabProvider(_Model):
    """A lab server playing one provider: its nameservers (name -> address)."""

    kind: str = Field(pattern=r"^(powerdns|bind)$")
    nameservers: dict[str, str]
    api_port: Port = 8081
    asn: int | None = Field(
        default=None,
        ge=1,
        le=4294967295,
        description="the AS the lab's origin zone says announces its addresses (default: a "
        "documentation ASN of RFC 5398, 64496 for the first provider, 64497 for the second)",
    )
    prefix: str | None = Field(
        default=None,
        description="the prefix the lab's origin zone says announces its addresses (default: "
        "each address its own /32)",
    )

    @field_validator("nameservers")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one nameserver is required")
        for name, addr in value.items():
            if not name.endswith("."):
                raise ValueError(f"nameserver name {name!r} must be fully qualified (end in '.')")
            _ip(addr)
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_network(value, strict=False)
        return value

    @property
    def addresses(self) -> list[str]:
        return list(self.nameservers.values())


class Lab(_Model):
    """Where the lab's servers listen: every one at port 53 of its own 127.x address."""

    parent_zone: str = "test."
    root: dict[str, str] = Field(
        description="the lab's root server (zone '.'): name -> address; the lab's resolvers "
        "and the delegation walk start there, so nothing leaves loopback"
    )
    parent: dict[str, str] = Field(description="the parent server: name -> address")
    providers: dict[str, LabProvider]

    @model_validator(mode="after")
    def _layout(self) -> Lab:
        kinds = sorted(p.kind for p in self.providers.values())
        if kinds != ["bind", "powerdns"]:
            raise ValueError("the lab has exactly one 'powerdns' and one 'bind' provider")
        seen: dict[str, str] = {}
        for owner, addr in self._all_addresses():
            if ipaddress.ip_address(addr) not in ipaddress.ip_network("127.0.0.0/8"):
                raise ValueError(f"{owner}: {addr} is not a loopback (127.0.0.0/8) address")
            if addr in seen:
                raise ValueError(f"{owner} and {seen[addr]} share the address {addr}")
            seen[addr] = owner
        return self

    def _all_addresses(self) -> list[tuple[str, str]]:
        out = [(f"root {n}", a) for n, a in self.root.items()]
        out += [(f"parent {n}", a) for n, a in self.parent.items()]
        for pname, prov in self.providers.items():
            out += [(f"{pname} {n}", a) for n, a in prov.nameservers.items()]
        return out


class Config(_Model):
    default_environment: str
    paths: Paths = Field(default_factory=Paths)
    environments: dict[str, Environment]
    lab: Lab | None = None

    @field_validator("environments")
    @classmethod
    def _names(cls, value: dict[str, Environment]) -> dict[str, Environment]:
        for name in value:
            if not ENVIRONMENT_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a valid environment name (letters, digits, '-' and '_', "
                    "at most 64)"
                )  # load_project says it at the name's own line first
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if self.default_environment not in self.environments:
            raise ValueError(
                f"default_environment {self.default_environment!r} is not one of the "
                f"environments ({', '.join(sorted(self.environments))})"
            )
        for name, env in self.environments.items():
            if env.lab and self.lab is None:
                raise ValueError(f"environment {name!r} is a lab but there is no 'lab' section")
            if env.lab and self.lab is not None:
                missing = set(env.providers) - set(self.lab.providers)
                if missing:
                    raise ValueError(
                        f"environment {name!r}: provider(s) {', '.join(sorted(missing))} "
                        "have no server in the 'lab' section"
                    )
        return self


class Project:
    """dnsops.yaml resolved against its directory: the root of everything else."""

    def __init__(self, path: Path, config: Config) -> None:
        self.path = path
        self.root = path.parent
        self.config = config

    def environment(self, name: str | None) -> tuple[str, Environment]:
        name = name or self.config.default_environment
        try:
            return name, self.config.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.config.environments))
            raise ConfigError(f"{self.path}: no environment {name!r} (known: {known})") from None

    def octodns_config(self, env: Environment) -> Path:
        return self.root / env.octodns_config

    @property
    def zones_dir(self) -> Path:
        return self.root / self.config.paths.zones

    @property
    def policies_dir(self) -> Path:
        return self.root / self.config.paths.policies

    @property
    def drills_dir(self) -> Path:
        return self.root / self.config.paths.drills

    @property
    def state_dir(self) -> Path:
        return self.root / self.config.paths.state

    @property
    def lab(self) -> Lab:
        if self.config.lab is None:
            raise ConfigError(f"{self.path}: there is no 'lab' section")
        return self.config.lab

    def lab_environment(self) -> tuple[str, Environment]:
        for name, env in self.config.environments.items():
            if env.lab:
                return name, env
        raise ConfigError(f"{self.path}: no environment has 'lab: true'")


def load_project(path: Path | str = DEFAULT_CONFIG) -> Project:
    """Load and validate dnsops.yaml.

    :raises ConfigError: the file is missing, not YAML, or not a valid config;
        the message names the file, the line and the key of every problem.
    """
    path = Path(path).absolute()
    data = load_yaml(path, what="dnsops config")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected a mapping at the top level")
    _check_environment_names(path, data.get("environments"))
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(path, data, exc)
        raise ConfigError("\n".join(problems)) from None
    return Project(path, config)


def _check_environment_names(path: Path, environments: object) -> None:
    """Each environment name is path-safe (it names a lock file), said at its own line."""
    if not isinstance(environments, dict):
        return  # the model says what is wrong
    lines = getattr(environments, "key_lines", {})
    for name in environments:
        if not isinstance(name, str) or not ENVIRONMENT_NAME.match(name):
            line = lines.get(name)
            raise ConfigError(
                f"{path}{f':{line}' if line else ''}: environments: {name!r} is not a valid "
                "environment name (letters, digits, '-' and '_', at most 64)"
            )
