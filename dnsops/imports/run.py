"""The import driver: pick the zones, read them from the providers, write the files.

Prints nothing: progress goes through a callback, the result comes back as a model
(:class:`ImportResult`) for the CLI to render.
"""

from __future__ import annotations

import concurrent.futures
import fnmatch
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
from octodns.zone import Zone

from dnsops import octo
from dnsops.env import Env
from dnsops.errors import ConfigError
from dnsops.imports.core import Difference, LeftOut, differences, keys, strict
from dnsops.zones import enable_validators, validator_sets, zone_file

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


@dataclass
class Read:
    """One zone as one provider holds it (octoDNS's lenient populate)."""

    provider: str
    zone: Zone | None = None
    exists: bool = False
    unread: list[octo.Unread] | None = None  # None: the provider cannot say
    error: str | None = None
    seconds: float = 0.0


@dataclass
class ZoneImport:
    """What the import did with one zone."""

    zone: str
    file: str
    written: bool = False
    records: int = 0
    left_out: list[LeftOut] = field(default_factory=list)
    # providers whose listing could not say what octoDNS's populate passed over
    unchecked: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # providers without the zone
    differences: list[Difference] | None = None  # None: one provider read
    errors: dict[str, str] = field(default_factory=dict)  # provider -> why not read
    # the apex NS written: both providers' nameservers (when they serve different ones)
    apex_ns: list[str] | None = None

    compared: bool = False  # both providers were to be read

    @property
    def identical(self) -> bool | None:
        """Both providers hold the same (None: one provider read)."""
        if not self.compared:
            return None
        return not self.differences and not self.missing and not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "file": self.file,
            "written": self.written,
            "records": self.records,
            "left_out": [x.to_json() for x in self.left_out],
            "unchecked": self.unchecked,
            "missing": self.missing,
            "identical": self.identical,
            "differences": (
                [d.to_json() for d in self.differences] if self.differences is not None else None
            ),
            "errors": self.errors,
            "apex_ns": self.apex_ns,
        }


@dataclass
class ImportResult:
    environment: str
    providers: list[str]  # read, in order; the first is written
    zones: list[ZoneImport]
    listed: str | None = None  # how the zones were chosen, when listed
    seconds: float = 0.0

    @property
    def written_from(self) -> str:
        return self.providers[0]

    @property
    def compared(self) -> bool:
        return len(self.providers) == 2

    @property
    def failed(self) -> list[ZoneImport]:
        return [z for z in self.zones if not z.written]

    @property
    def differing(self) -> list[ZoneImport]:
        return [z for z in self.zones if z.identical is False]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.differing

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "providers": self.providers,
            "written_from": self.written_from,
            "listed": self.listed,
            "zones": [z.to_json() for z in self.zones],
            "written": sum(z.written for z in self.zones),
            "left_out": sum(len(z.left_out) for z in self.zones),
            "identical": (not self.differing) if self.compared else None,
            "differences": sum(len(z.differences or ()) for z in self.zones),
            "seconds": round(self.seconds, 3),
        }


def readers(env: Env, provider: str | None) -> list[str]:
    """The providers read: the one asked for, or both (the first is written).

    :raises ConfigError: the environment has no such provider.
    """
    if provider is None:
        return list(env.providers)
    if provider not in env.providers:
        raise ConfigError(
            f"--provider {provider!r}: environment {env.name} has {', '.join(env.providers)}"
        )
    return [provider]


def choose(
    env: Env, providers: Sequence[str], asked: Sequence[str] | None
) -> tuple[list[str], str | None]:
    """The zone names to import, and how they were found when listed.

    Names are taken as given (a zone not yet in the zones directory is the point);
    globs, and no ``--zone`` at all, match the providers' own zone lists (octoDNS's
    ``list_zones()``; RFC 2136 servers cannot list).

    :raises ConfigError: a name is no domain name, a glob matches nothing, or no
        provider read can list its zones where a list is needed.
    """
    plain = [a for a in asked or () if not any(c in a for c in "*?[")]
    globs = [a for a in asked or () if any(c in a for c in "*?[")]
    names = [_zone_name(a) for a in plain]
    listed: str | None = None
    if globs or not asked:
        found, lister = _listed(env, providers)
        listed = f"listed by {lister}: {len(found)} zone(s)"
        if not asked:
            names = found
        for pattern in globs:
            matched = fnmatch.filter(found, pattern) or fnmatch.filter(found, pattern + ".")
            if not matched:
                raise ConfigError(
                    f"--zone {pattern!r} matches none of the {len(found)} zone(s) {lister} "
                    f"list{'s' if ' and ' not in lister else ''}"
                )
            names += matched
    unique = list(dict.fromkeys(names))
    if not unique:
        raise ConfigError(f"{', '.join(providers)} list no zone: nothing to import")
    return unique, listed


def _zone_name(text: str) -> str:
    fq = text if text.endswith(".") else text + "."
    try:
        name = dns.name.from_text(fq)
    except dns.exception.DNSException as exc:
        raise ConfigError(f"--zone {text!r} is no domain name ({exc})") from None
    if name == dns.name.root:
        raise ConfigError("--zone '.': the root zone is not imported")
    return str(name.to_text()).lower()


def _listed(env: Env, providers: Sequence[str]) -> tuple[list[str], str]:
    """Every zone the providers that can list have (union), and which listed them."""
    found: set[str] = set()
    listers = []
    cannot = []
    for p in providers:
        try:
            found.update(octo.list_zones(env.targets[p]))
        except octo.Unsupported:
            cannot.append(p)
            continue
        except Exception as exc:  # the provider's API failed: say so, scrubbed
            raise ConfigError(
                env.redact(f"{p}: could not list its zones: {_first_line(exc)}")
            ) from None
        listers.append(p)
    if not listers:
        kinds = ", ".join(f"{p} ({octo.class_path(env.targets[p])})" for p in cannot)
        raise ConfigError(
            f"{kinds} cannot list {'its' if len(cannot) == 1 else 'their'} zones: "
            "name the zones with --zone"
        )
    return sorted(found), " and ".join(listers)


def destinations(env: Env, zone: str) -> list[Path]:
    """Where the YAML source keeps a zone (its file; its directory when split)."""
    source = env.source
    directory = Path(str(source.directory))
    out = []
    if not getattr(source, "disable_zonefile", False):
        out.append(directory / f"{zone[:-1]}.yaml")
    split = getattr(source, "split_extension", None)
    if split:
        out.append(directory / f"{zone[:-1]}{split}")
    return out


def refuse_overwrites(env: Env, names: Sequence[str]) -> None:
    """:raises ConfigError: naming every zone file already there (nothing written)."""
    there = [
        zone_file(env.source, z) if p.suffix == ".yaml" else str(p)
        for z in names
        for p in destinations(env, z)
        if p.exists() or p.is_symlink()
    ]
    if there:
        noun = "file exists" if len(there) == 1 else "files exist"
        raise ConfigError(
            f"{len(there)} zone {noun}, nothing written: {', '.join(there)}",
            hint="rerun with --force to overwrite (the zone as the provider holds it "
            "replaces the file, comments and dnsops metadata included)",
        )


def read_all(
    env: Env, providers: Sequence[str], names: Sequence[str], progress: Progress = _quiet
) -> dict[tuple[str, str], Read]:
    """Every zone from every provider: the providers concurrently, the zones of one
    provider one after another (each provider's calls are bounded by dnsops)."""
    targets = env.targets
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(providers)) as pool:
        jobs = {p: pool.submit(_read_zones, env, targets[p], p, names, progress) for p in providers}
        return {(p, z): r for p, job in jobs.items() for z, r in job.result().items()}


def _read_zones(
    env: Env, target: Any, provider: str, names: Sequence[str], progress: Progress
) -> dict[str, Read]:
    out = {}
    for name in names:
        started = time.monotonic()
        read = Read(provider)
        try:
            zone = Zone(name, [])
            read.exists = bool(target.populate(zone, target=True, lenient=True))
            read.zone = zone
            if read.exists:
                read.unread = octo.unread(target, name, keys(zone))
        except Exception as exc:  # providers raise anything: HTTP, DNS, auth
            read.error = env.redact(_first_line(exc))[:300]
        read.seconds = time.monotonic() - started
        count = len(read.zone.records) if read.zone is not None else 0
        said = read.error or (f"{count} records" if read.exists else "no zone")
        progress(f"{provider}: {name} {said} ({read.seconds:.1f} s)")
        out[name] = read
    return out


def import_zones(
    env: Env,
    provider: str | None = None,
    zones: Sequence[str] | None = None,
    *,
    force: bool = False,
    progress: Progress = _quiet,
) -> ImportResult:
    """Import the zones: read, keep what loads strictly, write, compare.

    :raises ConfigError: bad ``provider``/``zones``, or (without ``force``) a zone file
        already there: then nothing is read or written.
    """
    started = time.monotonic()
    providers = readers(env, provider)
    names, listed = choose(env, providers, zones)
    if not force:
        refuse_overwrites(env, names)
    enable_validators(validator_sets(env.octodns))
    if len(providers) == 2:
        progress(
            f"reading {len(names)} zone(s) from {' and '.join(providers)}; "
            f"the files get {providers[0]}'s records"
        )
    reads = read_all(env, providers, names, progress)
    done = [_finish(env, providers, name, reads) for name in names]
    return ImportResult(env.name, list(providers), done, listed, time.monotonic() - started)


def _finish(
    env: Env, providers: Sequence[str], name: str, reads: dict[tuple[str, str], Read]
) -> ZoneImport:
    out = ZoneImport(name, zone_file(env.source, name), compared=len(providers) == 2)
    mine = {p: reads[(p, name)] for p in providers}
    for p, r in mine.items():
        if r.error:
            out.errors[p] = r.error
        elif not r.exists:
            out.missing.append(p)
    first = mine[providers[0]]
    if len(providers) == 2 and not out.errors:
        out.differences = _compare(env, name, mine)
    if first.error or not first.exists or first.zone is None:
        return out
    zone = first.zone
    if len(providers) == 2 and not out.errors and not out.missing:
        zone, out.apex_ns = _both_apex_ns(first.zone, [r.zone for r in mine.values()])
    kept = strict(zone)
    out.left_out = kept.left_out
    if first.unread is None:
        out.unchecked.append(providers[0])
    else:
        out.left_out += [LeftOut(u.fqdn, u.type, u.reason) for u in first.unread]
    write(env, kept.zone)
    out.written = True
    out.records = len(kept.zone.records)
    return out


def _both_apex_ns(first: Zone, zones: list[Zone | None]) -> tuple[Zone, list[str] | None]:
    """The first provider's zone, its apex NS holding every provider's nameservers
    when they differ (a dual-provider zone delegates to both: lint's
    apex-ns-both-providers); otherwise the zone as read, and None."""
    from octodns.record import Record

    def apex_ns(zone: Zone | None) -> Any:
        return next(
            (r for r in (zone.records if zone else ()) if r.name == "" and r._type == "NS"), None
        )

    mine = apex_ns(first)
    names = {str(v) for z in zones if (r := apex_ns(z)) is not None for v in r.values}
    if mine is None or names <= {str(v) for v in mine.values}:
        return first, None
    merged = first.copy()
    record = Record.new(
        merged,
        "",
        {"type": "NS", "ttl": mine.ttl, "values": sorted(names)},
        source=mine.source,
        lenient=True,
    )
    merged.add_record(record, replace=True, lenient=True)
    return merged, sorted(names)


def _compare(env: Env, name: str, reads: dict[str, Read]) -> list[Difference]:
    """The providers' zones as octoDNS compares them: the config's processors applied
    (what they leave to the providers, such as the apex NS in production, is no
    difference)."""
    held = []
    for p, r in reads.items():
        zone = r.zone.copy() if r.zone is not None else Zone(name, [])
        held.append((p, env.targets[p].held(zone)))
    return differences(held)


def write(env: Env, zone: Zone) -> None:
    """The zone's file(s), written by the YAML source itself into a scratch directory
    beside them, then moved into place (a failed write leaves the old file whole)."""
    directory = Path(str(env.source.directory))
    directory.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".dnsops-import-", dir=directory)
    try:
        for entry in octo.write_zone(env.source, zone, scratch):
            dest = directory / entry
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            os.replace(Path(scratch) / entry, dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
