"""One audit: load the source, read both providers' views, compare. The CLI's entry."""

from __future__ import annotations

import time

from dnsops import octo
from dnsops.audit.core import compare
from dnsops.audit.gather import Gatherer, Progress, _quiet
from dnsops.audit.model import Audit
from dnsops.config import Project
from dnsops.zones import load_zones


def audit(
    project: Project, env_name: str | None, zone: str | None = None, progress: Progress = _quiet
) -> Audit:
    """Audit the environment's zones (or one) on both of its providers.

    :raises ZoneError: the source does not load (nothing is compared then).
    :raises ConfigError: the octoDNS config or a secret is missing.
    """
    name, env = project.environment(env_name)
    started, clock = time.time(), time.monotonic()
    zones = load_zones(project, env, zone)
    progress(f"source: {len(zones)} zone(s), {sum(len(z.records) for z in zones.values())} records")
    targets = octo.targets(project, env)
    gatherer = Gatherer(project, env, targets, progress)
    views = gatherer.run(zones)
    findings = [f for zv in views for f in compare(zv)]
    return Audit(
        environment=name,
        providers=tuple(targets),
        zones=views,
        findings=findings,
        started=started,
        duration=round(time.monotonic() - clock, 3),
        timings=gatherer.timings.seconds,
    )
