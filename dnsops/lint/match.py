"""Record selectors: the ``match:`` blocks of policy rules.

A Match holds conditions on zone, name (glob or regex), type, values (CIDR
membership or regex) and TTL; a record matches when *all* the given conditions
hold. Patterns are compiled once, when the policy loads, so a bad regex or CIDR is
a policy error with file and line, never a crash in the middle of a lint.

Names are relative to the zone, ``@`` is the apex; globs are ``fnmatch`` globs
(``*`` also matches dots; ``[*]`` is a literal star, i.e. a wildcard record).
Regexes search (anchor them with ``^``/``$`` when needed) with RE2, in time linear
in the text (dnsops.lint.regex says why).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from octodns.record import Record
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator

from dnsops.lint.regex import compile_regex
from dnsops.lint.view import APEX, RecordView, ZoneView

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NAME_PLACEHOLDER = "{name}"


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str | int) else value


# one string or a list of them (the JSON Schema says so: editors accept both)
OneOrMany = Annotated[list[str], BeforeValidator(_listify, json_schema_input_type=str | list[str])]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TtlRange(_Model):
    """Inclusive TTL bounds, in seconds."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


def parse_cidr(text: str) -> Network:
    try:
        return ipaddress.ip_network(text)
    except ValueError as exc:
        raise ValueError(f"bad CIDR {text!r}: {exc}") from None


def known_types() -> set[str]:
    return set(Record.registered_types())


class Match(_Model):
    """Which records a rule is about. Every given condition must hold."""

    zone: OneOrMany | None = Field(default=None, description="globs on the zone name")
    name: OneOrMany | None = Field(
        default=None, description="globs on the relative name; '@' is the apex"
    )
    name_regex: str | None = None
    type: OneOrMany | None = None
    values_in: OneOrMany | None = Field(
        default=None, description="CIDRs: some A/AAAA value lies inside one of them"
    )
    value_regex: str | None = Field(default=None, description="some value matches")
    ttl: TtlRange | None = None

    _m: Matcher = PrivateAttr()
    _zone_re: re.Pattern[str] | None = PrivateAttr(default=None)
    _per_trigger: dict[tuple[str, ...], Match] = PrivateAttr(default_factory=dict)

    @field_validator("zone")
    @classmethod
    def _zones(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [z if z.endswith(".") or z.endswith("*") else z + "." for z in value]

    @field_validator("name_regex", "value_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            compile_regex(value)
        return value

    @field_validator("type")
    @classmethod
    def _types_known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        upper = [t.upper() for t in value]
        unknown = [t for t in upper if t not in known_types()]
        if unknown:
            raise ValueError(f"unknown record type(s): {', '.join(unknown)}")
        return upper

    @field_validator("values_in")
    @classmethod
    def _cidrs(cls, value: list[str] | None) -> list[str] | None:
        for cidr in value or []:
            parse_cidr(cidr)
        return value

    def model_post_init(self, context: Any, /) -> None:
        self._zone_re = glob_regex(self.zone) if self.zone is not None else None
        self._m = Matcher(self)

    # -- evaluation ------------------------------------------------------------

    def applies_to_zone(self, zone: str) -> bool:
        return self._zone_re is None or self._zone_re.match(zone) is not None

    def matches(self, view: RecordView) -> bool:
        """Whether ``view`` matches (the zone condition is checked by applies_to_zone)."""
        return self._m.test(view)

    def tester(self) -> Callable[[RecordView], bool]:
        """``matches`` as a plain function, for loops over many records."""
        return self._m.test

    def candidates(self, zone: ZoneView) -> Iterable[RecordView]:
        """The records worth testing: narrowed by literal names or by types."""
        names = self.literal_names()
        if names is not None:
            return [v for n in names for v in zone.by_name.get(n, ())]
        if self.type is not None:
            return [v for t in sorted(set(self.type)) for v in zone.by_type.get(t, ())]
        return zone.records

    def literal_names(self) -> list[str] | None:
        """The names, when every name pattern is a plain name (no glob magic)."""
        if self.name is None:
            return None
        out = []
        for pattern in self.name:
            plain = _unglob(pattern)
            if plain is None:
                return None
            if plain not in out:
                out.append(plain)
        return out

    def select(self, zone: ZoneView) -> list[RecordView]:
        if not self.applies_to_zone(zone.name):
            return []
        test = self._m.test
        return [v for v in self.candidates(zone) if test(v)]

    def for_trigger(self, trigger: RecordView) -> Match:
        """This match with ``{name}`` in its name patterns replaced by the trigger's name."""
        if self.name is None or not any(NAME_PLACEHOLDER in p for p in self.name):
            return self
        names = tuple(substitute_name(p, trigger.name) for p in self.name)
        resolved = self._per_trigger.get(names)
        if resolved is None:
            resolved = self.model_copy(update={"name": list(names)})
            resolved.model_post_init(None)
            self._per_trigger[names] = resolved
        return resolved


class Matcher:
    """A Match compiled to plain Python: the per-record test, no pydantic on the hot path."""

    __slots__ = ("name_re", "name_regex", "nets", "ttl_max", "ttl_min", "types", "value_re")

    def __init__(self, match: Match) -> None:
        self.types = frozenset(match.type) if match.type is not None else None
        self.ttl_min = match.ttl.min if match.ttl is not None else None
        self.ttl_max = match.ttl.max if match.ttl is not None else None
        self.name_re = glob_regex(match.name) if match.name is not None else None
        self.name_regex = compile_regex(match.name_regex) if match.name_regex else None
        nets = [parse_cidr(c) for c in match.values_in or []]
        # (version, first, last) as integers: RecordView.ip_ints, no ipaddress objects
        self.nets = tuple(
            (n.version, int(n.network_address), int(n.broadcast_address)) for n in nets
        )
        self.value_re = compile_regex(match.value_regex) if match.value_regex else None

    def test(self, view: RecordView) -> bool:
        if self.types is not None and view.type not in self.types:
            return False
        if self.ttl_min is not None and view.ttl < self.ttl_min:
            return False
        if self.ttl_max is not None and view.ttl > self.ttl_max:
            return False
        if self.name_re is not None and self.name_re.match(view.name) is None:
            return False
        if self.name_regex is not None and self.name_regex.search(view.name) is None:
            return False
        if self.nets:
            nets = self.nets
            if not any(
                v == version and lo <= ip <= hi
                for v, ip in view.ip_ints
                for version, lo, hi in nets
            ):
                return False
        value_re = self.value_re
        return value_re is None or any(value_re.search(v) for v in view.values)


def substitute_name(pattern: str, name: str) -> str:
    """``_dmarc.{name}`` with the trigger's name (glob-escaped); ``@`` joins away."""
    if name == APEX:
        out = pattern.replace("." + NAME_PLACEHOLDER, "").replace(NAME_PLACEHOLDER + ".", "")
        return out.replace(NAME_PLACEHOLDER, APEX) or APEX
    return pattern.replace(NAME_PLACEHOLDER, _glob_escape(name))


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _unglob(pattern: str) -> str | None:
    """The plain name a glob stands for, or None if it has real wildcards."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch in "*?":
            return None
        if ch == "[":
            m = re.match(r"\[([*?\[])\]", pattern[i:])
            if m is None:
                return None
            out.append(m.group(1))
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def glob_regex(patterns: list[str]) -> re.Pattern[str]:
    """One compiled regex for a list of globs (case-insensitive, as DNS names are).

    Python's ``re``, not RE2: ``fnmatch.translate`` (3.9+) emits atomic groups made of
    lookahead and backreference, which RE2 lacks, precisely so that globs with many
    ``*`` do not backtrack catastrophically."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.IGNORECASE)
