"""Kind ``resolver``: a recursive resolver asked from this machine, by the probe engine."""

from __future__ import annotations

import time
from collections.abc import Sequence

from dnsops.config import Resolver
from dnsops.probe import Engine, Query, Target
from dnsops.vantage.base import Observation, Progress, VantageRun


class ResolverVantage:
    kind = "resolver"
    asks_nameservers = False

    def __init__(self, config: Resolver, engine: Engine | None = None) -> None:
        self.name = config.name
        self.region = config.region
        self.config = config
        self.engine = engine or Engine()
        self._target = Target(config.address, config.port, f"resolver {config.name}")

    @property
    def resolver(self) -> Target:
        return self._target

    def describe(self) -> str:
        port = "" if self.config.port == 53 else f":{self.config.port}"
        return f"resolver {self.config.address}{port}"

    async def resolve_many(
        self, queries: Sequence[Query], progress: Progress | None = None
    ) -> VantageRun:
        start = time.perf_counter()
        results = await self.engine.run(queries, progress)
        run = VantageRun(self.name, self.kind, self.region)
        run.observations = [Observation(self.name, self.kind, self.region, r) for r in results]
        run.seconds = time.perf_counter() - start
        return run
