"""One audit: read both providers' views while the source loads, then compare."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from octodns.zone import Zone

from dnsops.audit import convert
from dnsops.audit.core import compare, finding_key, locate
from dnsops.audit.gather import Gatherer, Progress, _quiet
from dnsops.audit.model import Audit
from dnsops.env import Env
from dnsops.errors import ConfigError
from dnsops.yamlfile import gc_paused

if TYPE_CHECKING:  # the vantage modules cost 0.4 s to import: only for --vantage
    from dnsops.vantage.base import Vantage


def audit(
    env: Env,
    zone: str | Sequence[str] | None = None,
    progress: Progress = _quiet,
    vantage: str | Sequence[str] | None = None,
) -> Audit:
    """Audit the environment's zones (or one) on both of its providers.

    With ``vantage`` (SSH vantages with ``nameservers: true``, by name), the data plane
    is read from each of those hosts: every nameserver is asked there, record by record.

    :raises ZoneError: the source does not load (nothing is compared then).
    :raises ConfigError: the octoDNS config, a zone name, a secret or the vantage is wrong.
    """
    started, clock = time.time(), time.monotonic()
    names = env.pick(zone)
    wanted = [vantage] if isinstance(vantage, str) else list(vantage or [])
    remotes = [_vantage(env, name) for name in dict.fromkeys(wanted)]
    gatherer = Gatherer(env, progress, remotes)

    def load() -> dict[str, Zone]:
        progress(f"source: loading {', '.join(names)}")
        return env.zones(names)

    findings = []
    with gc_paused():
        zones, views = gatherer.run(names, load)
        for zv in views:
            found = compare(zv)
            keys = [k for f in found if (k := finding_key(f)) is not None]
            findings += locate(found, convert.locations(zones[zv.zone], keys))
    return Audit(
        environment=env.name,
        providers=tuple(env.providers),
        zones=views,
        findings=findings,
        started=started,
        duration=round(time.monotonic() - clock, 3),
        timings=gatherer.timings,
        vantages=[{"name": v.name, "kind": v.kind, "region": v.region} for v in remotes],
    )


def _vantage(env: Env, name: str) -> Vantage:
    from dnsops.vantage import registry

    [v] = registry.build(env.project, env.config, [name])
    if v.kind != "ssh" or not v.asks_nameservers:
        raise ConfigError(
            f"audit --vantage {name}: the data plane is read from an SSH vantage that asks "
            f"the nameservers (kind ssh, nameservers: true); {name} is kind {v.kind}"
            + ("" if v.asks_nameservers else " and does not ask the nameservers")
        )
    return v
