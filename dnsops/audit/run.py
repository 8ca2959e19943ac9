"""One audit: read both providers' views while the source loads, then compare."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from octodns.zone import Zone

from dnsops import octo
from dnsops.audit import convert
from dnsops.audit.core import compare, finding_key, locate
from dnsops.audit.gather import Gatherer, Progress, _quiet
from dnsops.audit.model import Audit
from dnsops.audit.workers import paused_gc
from dnsops.config import Environment, Project
from dnsops.errors import ConfigError
from dnsops.zones import load_zones, yaml_source, zone_names

if TYPE_CHECKING:  # the vantage modules cost 0.4 s to import: only for --vantage
    from dnsops.vantage.base import Vantage


def audit(
    project: Project,
    env_name: str | None,
    zone: str | None = None,
    progress: Progress = _quiet,
    vantage: str | None = None,
) -> Audit:
    """Audit the environment's zones (or one) on both of its providers.

    With ``vantage`` (an SSH vantage with ``nameservers: true``), the data plane is
    read from that host: every nameserver is asked there, record by record.

    :raises ZoneError: the source does not load (nothing is compared then).
    :raises ConfigError: the octoDNS config, a zone name, a secret or the vantage is wrong.
    """
    name, env = project.environment(env_name)
    started, clock = time.time(), time.monotonic()
    names = _names(project, name, zone)
    remote = _vantage(project, env, vantage) if vantage else None
    targets = octo.targets(project, env)
    gatherer = Gatherer(project, name, env, targets, progress, remote)

    def load() -> dict[str, Zone]:
        progress(f"source: loading {', '.join(names)}")
        return load_zones(project, env, zone)

    findings = []
    with paused_gc():
        zones, views = gatherer.run(names, load)
        for zv in views:
            found = compare(zv)
            keys = [k for f in found if (k := finding_key(f)) is not None]
            findings += locate(found, convert.locations(zones[zv.zone], keys))
    return Audit(
        environment=name,
        providers=tuple(targets),
        zones=views,
        findings=findings,
        started=started,
        duration=round(time.monotonic() - clock, 3),
        timings=gatherer.timings,
        vantage=(
            {"name": remote.name, "kind": remote.kind, "region": remote.region} if remote else None
        ),
    )


def _vantage(project: Project, env: Environment, name: str) -> Vantage:
    from dnsops.vantage import registry

    [v] = registry.build(project, env, [name])
    if v.kind != "ssh" or not v.asks_nameservers:
        raise ConfigError(
            f"audit --vantage {name}: the data plane is read from an SSH vantage that asks "
            f"the nameservers (kind ssh, nameservers: true); {name} is kind {v.kind}"
            + ("" if v.asks_nameservers else " and does not ask the nameservers")
        )
    return v


def _names(project: Project, env_name: str, only: str | None) -> list[str]:
    """The zones to audit, known before any of them is loaded."""
    _, env = project.environment(env_name)
    source = yaml_source(project, env)
    names = zone_names(source)
    if only is None:
        return names
    wanted = only if only.endswith(".") else only + "."
    if wanted not in names:
        raise ConfigError(f"no zone {wanted!r} in {source.directory} (have: {', '.join(names)})")
    return [wanted]
