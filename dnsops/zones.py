"""Desired state: the zones in git, loaded and validated by octoDNS.

dnsops writes no YAML schema and no record parser of its own: records are built
by octoDNS's ``Record.new`` and zones checked by octoDNS's zone validators.
What dnsops adds is *completeness*: octoDNS stops at the first invalid record,
dnsops collects every problem of every zone, each with ``file:line``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml
from octodns.provider.yaml import YamlProvider
from octodns.record import Record
from octodns.yaml import ContextLoader
from octodns.yaml import _loaders as _octodns_loaders
from octodns.zone import Zone

from dnsops import scrub
from dnsops.config import Environment, Project
from dnsops.errors import ConfigError, InputError, ZoneError
from dnsops.yamlfile import (
    MAX_DEPTH,
    YamlFile,
    describe_yaml_error,
    gc_paused,
    load_yaml,
    parse_yaml,
    read_bytes,
    shown_path,
)
from dnsops.yamlfile import _c_loader as _c_loader  # re-exported (tests)

_CONTEXT = re.compile(r"^(?P<file>.*), line (?P<line>\d+), column \d+$")


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def location(obj: Any) -> Location | None:
    """file:line of a record (or of a ContextDict) loaded from YAML."""
    ctx = getattr(obj, "context", None)
    if not isinstance(ctx, str):
        return None
    m = _CONTEXT.match(ctx)
    if m is None:
        return None
    return Location(_relative(m.group("file")), int(m.group("line")))


def _relative(file: str) -> str:
    return shown_path(file)


def dnsops_meta(record: Record) -> dict[str, Any]:
    """The record's ``octodns: {dnsops: {...}}`` metadata (class, standby, ignore)."""
    meta = record.octodns.get("dnsops") if isinstance(record.octodns, dict) else None
    return dict(meta) if isinstance(meta, dict) else {}


def octodns_config(project: Project, env: Environment) -> dict[str, Any]:
    """The environment's octoDNS config file, parsed (with line context)."""
    path = project.octodns_config(env)
    if not path.exists():
        name = next((n for n, e in project.config.environments.items() if e is env), "?")
        raise ConfigError(
            f"{path}: octoDNS config file not found "
            f"(named by environments.{name}.octodns_config in {project.path.name})"
        )
    data = load_yaml(path, what="octoDNS config")
    if not isinstance(data, dict) or not isinstance(data.get("providers"), dict):
        raise ConfigError(f"{path}:1: an octoDNS config needs a 'providers' mapping")
    for name in (env.source, *env.providers):
        if name not in data["providers"]:
            raise ConfigError(
                f"{path}: no provider {name!r} (dnsops.yaml names it; "
                f"the config has {', '.join(sorted(data['providers']))})"
            )
    return data


def yaml_source(
    project: Project, env: Environment, parsed: dict[str, Any] | None = None
) -> YamlProvider:
    """Build the environment's YAML source provider exactly as octoDNS would."""
    path = project.octodns_config(env)
    config = parsed if parsed is not None else octodns_config(project, env)
    settings = dict(config["providers"][env.source])
    cls = settings.pop("class", None)
    if cls not in ("octodns.provider.yaml.YamlProvider", "YamlProvider"):
        raise ConfigError(
            f"{path}: provider {env.source!r} must be an octodns.provider.yaml.YamlProvider "
            f"(the zones in git), not {cls!r}"
        )
    directory = Path(str(settings.get("directory", "./config")))
    if not directory.is_absolute():
        # octoDNS reads it from the working directory; dnsops from the project root
        settings["directory"] = str(project.root / directory)
    try:
        return YamlProvider(env.source, **settings)
    except TypeError as exc:
        raise ConfigError(f"{path}: provider {env.source!r}: {exc}") from None


def zone_names(source: YamlProvider) -> list[str]:
    """The zones of the source (octoDNS's ``list_zones``).

    :raises ConfigError: the directory is missing or unreadable, or holds a ``*.yaml``
        that is not a regular file (octoDNS would pass over it: the zone left out).
    """
    directory = str(source.directory)
    shown = _relative(directory)
    try:
        names = sorted(source.list_zones())
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        raise ConfigError(f"zones directory {directory!r} does not exist") from None
    except NotADirectoryError:
        raise ConfigError(f"{shown}: is a file, expected the zones directory") from None
    except PermissionError:
        raise ConfigError(f"{shown}: cannot read the zones directory: permission denied") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the zones directory: {exc.strerror}") from None
    if getattr(source, "disable_zonefile", False):
        return names
    split = getattr(source, "split_extension", None)
    odd = []
    for entry in sorted(entries, key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.name.count(".") < 2:
            continue
        if entry.is_file() or (split and entry.name.endswith(split) and entry.is_dir()):
            continue
        kind = "a directory" if entry.is_dir() else "not a regular file (or a broken link)"
        odd.append(f"{_relative(entry.path)}: is {kind}, expected a zone file")
    if odd:
        raise ConfigError("\n".join(odd), hint="octoDNS would leave these zones out silently")
    return names


def load_zones(project: Project, env: Environment, only: str | None = None) -> dict[str, Zone]:
    """Every zone of the environment's source, validated; ``only`` picks one.

    :raises ZoneError: listing every problem found in every zone file.
    :raises ConfigError: the octoDNS config or the zone name is wrong.
    """
    source = yaml_source(project, env)
    enable_validators(validator_sets(octodns_config(project, env)))
    names = zone_names(source)
    if only is not None:
        wanted = only if only.endswith(".") else only + "."
        if wanted not in names:
            raise ConfigError(
                f"no zone {wanted!r} in {source.directory} (have: {', '.join(names)})"
            )
        names = [wanted]
    zones: dict[str, Zone] = {}
    problems: list[str] = []
    for name in names:
        zone, zone_problems = load_zone(source, name)
        zones[name] = zone
        problems += zone_problems
    if problems:
        raise ZoneError(problems, hint="fix the zone files, then run `dnsops validate`")
    return zones


def validator_sets(config: dict[str, Any]) -> list[str]:
    """``manager.validators.enabled`` of an octoDNS config (octoDNS's default: legacy)."""
    manager = config.get("manager") or {}
    enabled = (manager.get("validators") or {}).get("enabled", ["legacy"])
    return [enabled] if isinstance(enabled, str) else list(enabled)


def enable_validators(sets: list[str]) -> None:
    """Enable the octoDNS validator sets the config asks for, as its Manager would."""
    Record.enable_validators(sets)
    Zone.enable_zone_validators(sets)


def zone_file(source: YamlProvider, name: str) -> str:
    """The zone's file as messages show it (relative to the working directory)."""
    return _relative(str(Path(source.directory) / f"{name[:-1]}.yaml"))


def load_zone(source: YamlProvider, name: str) -> tuple[Zone, list[str]]:
    """One zone through octoDNS, collecting every problem instead of the first."""
    zone = Zone(name, [])
    path = Path(source.directory) / f"{name[:-1]}.yaml"
    shown = zone_file(source, name)
    try:
        data = read_zone_file(
            path, shown, source.directory, source.enforce_order, source.order_mode
        )
    except InputError as exc:
        return zone, [exc.message]
    except yaml.MarkedYAMLError as exc:
        if exc.problem_mark is None and exc.context_mark is None:
            return zone, [_order_problem(shown, exc)]  # octoDNS's key-order check: no mark
        return zone, [describe_yaml_error(shown, exc, str(path))]
    except yaml.YAMLError as exc:
        return zone, [f"{shown}: invalid YAML: {exc}"]
    if data is None:
        return zone, []
    if not isinstance(data, dict):
        return zone, [f"{shown}:1: a zone file is a mapping of record names"]
    problems: list[str] = []
    with gc_paused():
        # each name's data is dropped once its records are built (a 100k-record zone's
        # data need not stay in memory beside its records)
        for rname in list(data):
            rdata = data.pop(rname)
            for item in rdata if isinstance(rdata, list) else [rdata]:
                problem = _add_record(source, zone, str(rname), item, shown, path)
                if problem:
                    problems.append(problem)
            del rdata
    for reason in zone.validators.process_zone(zone):
        locs = sorted({loc for r in reason.records or () if (loc := location(r))}, key=str)
        where = str(locs[0]) if locs else shown
        also = f"; records at lines {', '.join(str(x.line) for x in locs)}" if len(locs) > 1 else ""
        # str.__str__: the bare reason, without octoDNS's appended absolute contexts
        problems.append(f"{where}: {str.__str__(reason)} (via {reason.validator_id}{also})")
    return zone, problems


def _add_record(
    source: YamlProvider, zone: Zone, name: str, data: Any, shown: str, path: Path
) -> str | None:
    label = name or "(apex)"
    if not isinstance(data, dict):
        line = _record_line(path, name)
        where = location(data) or (f"{shown}:{line}" if line else shown)
        return f"{where}: {label}: a record is a mapping with 'type' and 'value(s)'"
    data = _as_source_would(source, data)
    secret = _secret_in(data)
    if secret is not None:  # written escaped, so that the file's text does not show it
        rtype = data.get("type", "?")
        return f"{location(data) or shown}: {label} ({rtype}): {scrub.problem(secret)}"
    try:
        record = Record.new(zone, name, data, source=source)
        zone.add_record(record)
    except Exception as exc:  # octoDNS raises ValidationError and bare Exception
        where = location(data) or shown
        reasons = getattr(exc, "reasons", None) or [_strip_context(str(exc))]
        rtype = data.get("type", "?")
        return f"{where}: {label} ({rtype}): " + "; ".join(str(r) for r in reasons)
    return None


def _secret_in(data: Any) -> str | None:
    """The name of a known secret anywhere in a record's data (values, metadata), if any."""
    secrets = scrub.known()
    stack = [data] if secrets else []
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            for value, name in secrets.items():
                if value in item:
                    return name
        elif isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple):
            stack += item
    return None


def read_zone_file(
    path: Path,
    shown: str,
    root: str | Path,
    enforce_order: bool = True,
    order_mode: str = "natural",
) -> Any:
    """A zone file parsed exactly as octoDNS's ``safe_load`` does, but safely.

    The loader is octoDNS's own (ContextLoader or its sort-enforcing subclasses: the
    same constructors, ContextDict contexts, key-order checks and ``!include``, here
    confined to ``root``, the zones directory), on libyaml's C parser when present;
    the checks of :mod:`dnsops.yamlfile` (UTF-8, depth, aliases, duplicate keys) run
    on the composed nodes before anything is built.

    :raises InputError: unreadable, not UTF-8, too deep, an alias bomb, a duplicate
        key, a bad ``!include``, an unknown ``order_mode``.
    :raises yaml.YAMLError: a syntax error (worded as octoDNS words it), keys out of order.
    """
    base = _zone_loader(enforce_order, order_mode, shown)
    data = read_bytes(path, shown, "zone")
    doc = YamlFile(str(path), shown, os.path.realpath(root), (os.path.realpath(path),), MAX_DEPTH)
    return parse_yaml(data, doc, base)


def parse_zone_file(
    stream: IO[str], enforce_order: bool = True, order_mode: str = "natural"
) -> Any:
    """:func:`read_zone_file` on an open zone file (includes confined to its directory)."""
    name = str(getattr(stream, "name", "<zone>"))
    base = _zone_loader(enforce_order, order_mode, name)
    doc = YamlFile(
        name, name, os.path.dirname(os.path.realpath(name)), (os.path.realpath(name),), MAX_DEPTH
    )
    return parse_yaml(stream.read().encode("utf-8", "surrogateescape"), doc, base)


def _zone_loader(enforce_order: bool, order_mode: str, shown: str) -> Any:
    if not enforce_order:
        return ContextLoader
    base = _octodns_loaders.get(order_mode)
    if base is None:
        raise InputError(
            shown,
            None,
            f"the YAML source's order_mode {order_mode!r} is not one of "
            f"{', '.join(sorted(_octodns_loaders))}",
        )
    return base


def _as_source_would(source: YamlProvider, data: Any) -> Any:
    """Apply the YamlProvider's defaults (ttl, semicolon escaping) like its populate."""
    rtype = data.get("type")
    if not source.escaped_semicolons and rtype in ("SPF", "TXT"):
        if data.get("value") is not None:
            data["value"] = str(data["value"]).replace(";", "\\;")
        if isinstance(data.get("values"), list):
            data["values"] = [
                str(v).replace(";", "\\;") if v is not None else v for v in data["values"]
            ]
    if "ttl" not in data:
        data["ttl"] = source.default_ttl
    return data


_TOP_KEY = re.compile(r"""^(?:'((?:[^']|'')*)'|"([^"\\]*)"|([^\s#'"?:\-][^#]*?))\s*:(?:\s|$)""")


def _record_line(path: Path, name: str) -> int | None:
    """The line of record ``name``'s key in a zone file, read again (error paths only:
    a record that is not a mapping has no context of its own)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return None
    for n, line in enumerate(lines, start=1):
        m = _TOP_KEY.match(line)
        if m is None:
            continue
        quoted, double, plain = m.groups()
        key = quoted.replace("''", "'") if quoted is not None else double or plain or ""
        if key == name:
            return n
    return None


def _order_problem(shown: str, exc: Exception) -> str:
    text = str(exc).strip()
    m = re.search(r" at (.*), line (\d+), column \d+$", text)
    if m:
        text = text[: m.start()]
        file = _relative(m.group(1))  # the zone file, or a file it includes
        return f"{file}:{m.group(2)}: {text} (octoDNS enforce_order: sort the keys)"
    return f"{shown}: {text}"


def _strip_context(message: str) -> str:
    return re.sub(r", [^,]*, line \d+, column \d+", "", message)
