"""``dnsops vantage check``: the zones' records through chosen vantages, judged and summed up.

The I/O is the vantages' own (:func:`dnsops.vantage.registry.gather`); this
module decides what to ask and turns the runs into a :class:`CheckReport`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dnsops.findings import Finding
from dnsops.probe import Query
from dnsops.vantage import plan, summary
from dnsops.vantage.base import Vantage, VantageRun
from dnsops.vantage.registry import Progress, gather

if TYPE_CHECKING:
    from dnsops.env import Env


@dataclass
class CheckReport:
    env: str
    records: list[plan.Wanted]
    runs: list[VantageRun]
    findings: list[Finding]
    queries: int = 0
    seconds: float = 0.0
    estimates: dict[str, dict[str, int]] = field(default_factory=dict)

    def summaries(self, by: str = "vantage") -> list[summary.Summary]:
        return summary.summarise((o for r in self.runs for o in r.observations), by)

    def to_json(self) -> dict[str, Any]:
        per_vantage = {s.vantage: s for s in self.summaries()}
        vantages = []
        for run in self.runs:
            s = per_vantage.get(run.vantage)
            doc: dict[str, Any] = {
                "name": run.vantage,
                "kind": run.kind,
                "region": run.region,
                "status": run.status,
                "problem": run.problem,
                "seconds": round(run.seconds, 3),
                "info": run.info,
                "summary": s.to_json() if s is not None else None,
                "answers": [o.to_json() for o in run.observations],
            }
            if run.kind == "ripe-atlas":
                doc["by_country"] = [
                    x.to_json() for x in self.summaries("country") if x.vantage == run.vantage
                ]
                doc["by_asn"] = [
                    x.to_json() for x in self.summaries("asn") if x.vantage == run.vantage
                ]
            vantages.append(doc)
        return {
            "environment": self.env,
            "records": len(self.records),
            "queries": self.queries,
            "seconds": round(self.seconds, 3),
            "vantages": vantages,
            "findings": [f.to_json() for f in self.findings],
        }


def nameservers_of(env: Env, zones: Sequence[str]) -> list[Any]:
    """Both providers' nameservers for the zones, from the environment model."""
    facts = env.facts(list(zones))
    servers = {
        (p, s.name, s.address) for f in facts.values() for p in env.providers for s in f.servers(p)
    }
    return plan.nameserver_targets(sorted(servers))


def work_for(
    vantages: Sequence[Vantage], records: Sequence[plan.Wanted], nameservers: Sequence[Any]
) -> dict[Vantage, list[Query]]:
    return {v: plan.queries_for(v, records, nameservers) for v in vantages}


def check(
    env_name: str,
    work: dict[Vantage, list[Query]],
    records: list[plan.Wanted],
    progress: Progress | None = None,
) -> CheckReport:
    start = time.perf_counter()
    runs = gather(work, progress)
    findings = summary.run_findings(runs) + summary.answer_findings(runs)
    return CheckReport(
        env=env_name,
        records=records,
        runs=runs,
        findings=findings,
        queries=sum(len(q) for q in work.values()),
        seconds=time.perf_counter() - start,
    )
