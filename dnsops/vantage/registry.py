"""From dnsops.yaml to vantage objects, and many vantages run at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from dnsops.config import AtlasVantage as AtlasConfig
from dnsops.config import Environment, Project, Resolver
from dnsops.config import SshVantage as SshConfig
from dnsops.errors import ConfigError
from dnsops.probe import Engine, Query
from dnsops.vantage.atlas import AtlasVantage, Say
from dnsops.vantage.base import Vantage, VantageRun
from dnsops.vantage.resolver import ResolverVantage
from dnsops.vantage.ssh import Slots, SshVantage

SSH_PARALLEL = 8  # SSH sessions at once, across hosts
Progress = Callable[[str, int, int], None]  # (vantage name, done, total)


def build(
    project: Project,
    env: Environment,
    only: Sequence[str] | None = None,
    *,
    kinds: Sequence[str] | None = None,
    engine: Engine | None = None,
    ssh_parallel: int = SSH_PARALLEL,
    say: Say | None = None,
) -> list[Vantage]:
    """The environment's vantages (resolvers first), optionally only some names or kinds.

    :raises ConfigError: a name in ``only`` is not a vantage of the environment.
    """
    configs = env.all_vantages
    if only:
        known = [v.name for v in configs]
        unknown = [n for n in only if n not in known]
        if unknown:
            raise ConfigError(
                f"no vantage named {', '.join(unknown)} (known: {', '.join(known) or 'none'})"
            )
        configs = [v for v in configs if v.name in only]
    if kinds is not None:
        configs = [v for v in configs if v.kind in kinds]
    engine = engine or Engine()
    slots = Slots(ssh_parallel)
    out: list[Vantage] = []
    for cfg in configs:
        if isinstance(cfg, Resolver):
            out.append(ResolverVantage(cfg, engine))
        elif isinstance(cfg, SshConfig):
            out.append(SshVantage(cfg, project.root, engine, slots))
        elif isinstance(cfg, AtlasConfig):
            out.append(AtlasVantage(cfg, project.root, say))
    return out


async def gather_async(
    work: Mapping[Vantage, Sequence[Query]], progress: Progress | None = None
) -> list[VantageRun]:
    """Every vantage's queries at once (SSH sessions bounded); runs in ``work``'s order."""

    def tell(name: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(name, done, total)

    return list(await asyncio.gather(*(v.resolve_many(qs, tell(v.name)) for v, qs in work.items())))


def gather(
    work: Mapping[Vantage, Sequence[Query]], progress: Progress | None = None
) -> list[VantageRun]:
    """:func:`gather_async` from synchronous code."""
    return asyncio.run(gather_async(work, progress))
