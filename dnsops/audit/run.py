"""One audit: read both providers' views while the source loads, then compare."""

from __future__ import annotations

import time

from octodns.zone import Zone

from dnsops import octo
from dnsops.audit import convert
from dnsops.audit.core import compare, finding_key, locate
from dnsops.audit.gather import Gatherer, Progress, _quiet
from dnsops.audit.model import Audit
from dnsops.config import Project
from dnsops.errors import ConfigError
from dnsops.zones import load_zones, yaml_source, zone_names


def audit(
    project: Project, env_name: str | None, zone: str | None = None, progress: Progress = _quiet
) -> Audit:
    """Audit the environment's zones (or one) on both of its providers.

    :raises ZoneError: the source does not load (nothing is compared then).
    :raises ConfigError: the octoDNS config, a zone name or a secret is wrong.
    """
    name, env = project.environment(env_name)
    started, clock = time.time(), time.monotonic()
    names = _names(project, name, zone)
    targets = octo.targets(project, env)
    gatherer = Gatherer(project, name, env, targets, progress)

    def load() -> dict[str, Zone]:
        progress(f"source: loading {', '.join(names)}")
        return load_zones(project, env, zone)

    zones, views = gatherer.run(names, load)
    findings = []
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
    )


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
