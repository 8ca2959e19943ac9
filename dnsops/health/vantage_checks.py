"""Through each resolver (a region's view): does every record resolve, to git's values? No I/O."""

from __future__ import annotations

from collections import defaultdict

from dnsops.health.judge import Judge
from dnsops.health.model import Outcome, Seen, Vantage, ZoneObs

ERRORS = frozenset({"error", "nxdomain", "missing"})


def check_vantages(zo: ZoneObs, judge: Judge) -> None:
    layout = zo.layout
    if not zo.vantages:
        judge.skipped("vantage-answer")
        judge.skipped("vantage-values")
        return
    failures: dict[int, list[tuple[Vantage, Seen, int | None]]] = defaultdict(list)
    for vo in zo.vantages:
        for rec in vo.records:
            if rec.ok:
                judge.passed("vantage-answer")
                judge.passed("vantage-values")
            elif rec.seen is not None:
                failures[rec.index].append((vo.vantage, rec.seen, rec.ttl))
    for j, fails in sorted(failures.items()):
        d = layout.desired[j]
        for check, kinds in (("vantage-answer", ERRORS), ("vantage-values", {"differs"})):
            mine = [(v, s) for v, s, _ in fails if s.status in kinds]
            if not mine:
                continue
            groups: dict[Seen, list[Vantage]] = defaultdict(list)
            for v, s in mine:
                groups[s].append(v)
            message = "; ".join(
                f"{', '.join(str(v) for v in vs)}: {s.describe()}" for s, vs in groups.items()
            )
            message += f"; desired {', '.join(d.values)} (TTL {d.ttl})"
            data = {
                "desired": {"ttl": d.ttl, "values": list(d.values)},
                "seen": [
                    {
                        "vantage": v.name,
                        "region": v.region,
                        "status": s.status,
                        "ttl": s.ttl,
                        "values": list(s.values),
                        "error": s.error,
                    }
                    for v, s in mine
                ],
            }
            judge.failed(
                Outcome(
                    check,
                    d.subject,
                    False,
                    message,
                    zone=d.zone,
                    file=d.file,
                    line=d.line,
                    data=data,
                )
            )
        # a lookup with other values did resolve; one without an answer has no values
        differs = sum(1 for _, s, _ in fails if s.status == "differs")
        judge.passed("vantage-answer", differs)
        judge.skipped("vantage-values", len(fails) - differs)


def check_outage_covered(zo: ZoneObs, judge: Judge) -> None:
    """A provider entirely down while every vantage resolved everything: say so."""
    layout = zo.layout
    down = [
        p
        for p in layout.providers
        if layout.of(p) and all(not so.up for so in zo.servers if so.ns.provider == p)
    ]
    if not down or not zo.vantages:
        judge.skipped("provider-outage-covered")
        return
    checked = sum(len(vo.records) for vo in zo.vantages)
    resolved = sum(1 for vo in zo.vantages for r in vo.records if r.ok)
    up = [p for p in layout.providers if p not in down]
    names = ", ".join(str(vo.vantage) for vo in zo.vantages)
    if resolved == checked and up:
        message = (
            f"every nameserver of {', '.join(down)} is unreachable, yet every resolver "
            f"({names}) resolved all {checked // len(zo.vantages)} records: "
            f"{', '.join(up)} carried the zone"
        )
    else:
        message = (
            f"every nameserver of {', '.join(down)} is unreachable and the resolvers resolved "
            f"only {resolved} of {checked} lookups: the other provider did not cover the outage"
        )
    judge.failed(
        Outcome(
            "provider-outage-covered",
            layout.zone,
            False,
            message,
            zone=layout.zone,
            provider=", ".join(down),
            data={"down": down, "carried_by": up, "resolved": resolved, "checked": checked},
        )
    )
