"""Kind ``ripe-atlas``: one-off DNS measurements from RIPE Atlas probes (ripe-atlas-cousteau).

The order never changes: estimate the cost, announce it, refuse it when it is
above the budget cap (nothing is sent to Atlas then), create the measurements,
wait for them with progress, fetch the results and the probes' country and
ASN, parse (sagan) and judge every answer. The API key comes from the
environment variable the config names; it travels only in the Authorization
header cousteau sends, never in a URL, a message or a report.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ripe.atlas.cousteau import (
    AtlasCreateRequest,
    AtlasResultsRequest,
    AtlasSource,
    Dns,
    Measurement,
    ProbeRequest,
)
from ripe.atlas.cousteau.exceptions import APIResponseError

from dnsops.config import AtlasVantage as AtlasConfig
from dnsops.probe import Query, Result, Target
from dnsops.vantage import atlas_plan as plan
from dnsops.vantage.base import HOST_RESOLVER, Observation, Progress, VantageRun, failed_run

Say = Callable[[str], None]


class AtlasError(Exception):
    """Atlas refused a request or could not be reached (the message is safe to show)."""


class AtlasVantage:
    kind = "ripe-atlas"

    def __init__(
        self,
        config: AtlasConfig,
        root: Path | None = None,
        say: Say | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = config.name
        self.region = config.region
        self.config = config
        self.say = say or (lambda _text: None)
        self.sleep = sleep
        bundle = config.ca_bundle
        if bundle and root is not None and not Path(bundle).is_absolute():
            bundle = str(root / bundle)
        self.verify: bool | str = bundle or True

    @property
    def resolver(self) -> Target | None:
        if self.config.ask != "resolver":
            return None
        return Target(HOST_RESOLVER, 53, f"{self.name} probe resolvers")

    @property
    def asks_nameservers(self) -> bool:
        return self.config.ask == "nameservers"

    def describe(self) -> str:
        picks = ", ".join(f"{p.requested} by {p.type} {p.value}" for p in self.config.probes)
        return f"RIPE Atlas at {self.config.server}: {picks}; cap {self.config.max_credits} credits"

    def estimate(self, queries: Sequence[Query]) -> plan.Estimate:
        return plan.estimate(self.config, queries)

    async def resolve_many(
        self, queries: Sequence[Query], progress: Progress | None = None
    ) -> VantageRun:
        if not queries:
            return VantageRun(self.name, self.kind, self.region)
        start = time.perf_counter()
        cost = self.estimate(queries)
        self.say(f"{self.name}: RIPE Atlas estimate {cost.describe()}")
        if not cost.within_budget:
            return failed_run(
                self,
                queries,
                "refused",
                f"refused: the estimate of {cost.credits} credits exceeds the budget cap of "
                f"{cost.cap} ({self.config.requested} probes x {len(queries)} measurements)",
                estimate=cost.to_json(),
            )
        key = os.environ.get(self.config.api_key_env, "")
        if not key:
            return failed_run(
                self,
                queries,
                "error",
                f"no RIPE Atlas API key: the environment variable {self.config.api_key_env} "
                "is not set",
                estimate=cost.to_json(),
            )
        try:
            run = await asyncio.to_thread(self._measure, key, queries, progress)
        except AtlasError as exc:
            run = failed_run(self, queries, "error", str(exc))
        run.info["estimate"] = cost.to_json()
        run.seconds = time.perf_counter() - start
        return run

    # -- the blocking part (cousteau uses requests), in a worker thread -----------------

    def _common(self) -> dict[str, Any]:
        return {"server": self.config.server, "verify": self.verify}

    def _measure(self, key: str, queries: Sequence[Query], progress: Progress | None) -> VantageRun:
        ids = self._create(key, queries)
        self.say(f"{self.name}: created Atlas measurements {', '.join(map(str, ids))}")
        raw, statuses, finished = self._wait(key, ids, progress)
        probe_ids = sorted({int(r["prb_id"]) for rs in raw.values() for r in rs if "prb_id" in r})
        probes = self._probes(probe_ids)
        run = VantageRun(self.name, self.kind, self.region)
        run.info.update(measurements=ids, probes=len(probe_ids))
        for msm, q in zip(ids, queries, strict=True):
            seen = plan.observations(raw.get(msm, []), q, probes, self.name, self.region)
            if not seen:  # no probe took part: the question went unanswered, say so
                why = f"no result from any probe (measurement {msm}: {statuses.get(msm)})"
                seen = [Observation(self.name, self.kind, self.region, Result(q, error=why))]
            run.observations += seen
        if not probe_ids and finished:
            run.status = "error"
            run.problem = "no probe took part: " + ", ".join(
                sorted({str(statuses.get(m)) for m in ids})
            )
        if not finished:
            waiting = sum(len(r) for r in raw.values())
            run.status = "timeout"
            run.problem = (
                f"too slow: measurements not finished after {self.config.wait:g} s "
                f"({waiting} results of {self.config.requested * len(ids)} expected)"
            )
        return run

    def _create(self, key: str, queries: Sequence[Query]) -> list[int]:
        definitions = [Dns(**plan.definition(self.config, q, self.name)) for q in queries]
        request = AtlasCreateRequest(
            key=key,
            measurements=definitions,
            sources=[AtlasSource(**s) for s in plan.sources(self.config)],
            is_oneoff=True,
            **self._common(),
        )
        ok, response = request.create()
        if not ok:
            raise AtlasError(f"Atlas refused the measurements: {plan.api_error(response)}")
        ids = response.get("measurements") if isinstance(response, dict) else None
        if not isinstance(ids, list) or len(ids) != len(queries):
            raise AtlasError(f"Atlas answered the creation with {str(response)[:200]}")
        return [int(i) for i in ids]

    def _wait(
        self, key: str, ids: list[int], progress: Progress | None
    ) -> tuple[dict[int, list[dict[str, Any]]], dict[int, str], bool]:
        """Poll until every measurement is finished (or ``wait`` runs out)."""
        deadline = time.monotonic() + self.config.wait
        # until Atlas says how many probes take part, assume every requested one
        expected = dict.fromkeys(ids, self.config.requested)
        raw: dict[int, list[dict[str, Any]]] = {}
        statuses: dict[int, str] = {}
        pending = list(ids)
        while True:
            for msm in list(pending):
                status, participants = self._status(key, msm)
                statuses[msm] = status
                if participants is not None:
                    expected[msm] = participants
                raw[msm] = self._results(key, msm)
                if status in plan.FINAL_STATUSES:
                    pending.remove(msm)
                    expected[msm] = len(raw[msm])
            if progress is not None:
                total = sum(expected.values())
                progress(min(total, sum(len(r) for r in raw.values())), total)
            if not pending:
                return raw, statuses, True
            if time.monotonic() + self.config.poll > deadline:
                return raw, statuses, False
            self.sleep(self.config.poll)

    def _status(self, key: str, msm: int) -> tuple[str, int | None]:
        """The measurement's status name and how many probes take part (when known)."""
        try:
            m = Measurement(id=msm, key=key, **self._common())
        except APIResponseError as exc:
            raise AtlasError(f"Atlas measurement {msm}: {plan.api_error(exc.args[0])}") from None
        meta = m.meta_data if isinstance(m.meta_data, dict) else {}
        count = meta.get("participant_count") or meta.get("probes_scheduled")
        return str(m.status or ""), int(count) if count else None

    def _results(self, key: str, msm: int) -> list[dict[str, Any]]:
        ok, response = AtlasResultsRequest(msm_id=msm, key=key, **self._common()).create()
        if not ok:
            raise AtlasError(f"Atlas results of {msm}: {plan.api_error(response)}")
        return [r for r in response if isinstance(r, dict)] if isinstance(response, list) else []

    def _probes(self, ids: list[int]) -> dict[int, plan.ProbeInfo]:
        if not ids:
            return {}
        try:
            metas = list(ProbeRequest(id__in=ids, **self._common()))
        except APIResponseError as exc:
            raise AtlasError(f"Atlas probes: {plan.api_error(exc.args[0])}") from None
        infos = [plan.probe_info(m, self.config.af) for m in metas if isinstance(m, dict)]
        return {p.id: p for p in infos}
