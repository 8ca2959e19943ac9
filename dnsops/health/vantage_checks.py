"""Through each resolver (a region's view): does every record resolve, to git's values? No I/O."""

from __future__ import annotations

from collections import defaultdict

from dnsops.health.judge import Judge
from dnsops.health.model import Outcome, Seen, Vantage, VantageObs, ZoneObs
from dnsops.vantage.base import Origin, probe_text

ERRORS = frozenset({"error", "nxdomain", "missing"})


def check_reachable(zo: ZoneObs, judge: Judge) -> None:
    """Each vantage could be used at all (SSH host reached, Atlas run not refused)."""
    if not zo.vantages:
        judge.skipped("vantage-reachable")
        return
    for vo in zo.vantages:
        v = vo.vantage
        if vo.problem is None:
            judge.passed("vantage-reachable")
            continue
        judge.failed(
            Outcome(
                "vantage-reachable",
                f"{v.name} ({v.kind}, {v.region})",
                False,
                vo.problem,
                zone=zo.layout.zone,
                data={"vantage": v.name, "kind": v.kind, "region": v.region, "status": vo.status},
            )
        )


def usable(zo: ZoneObs) -> list[VantageObs]:
    """The vantages whose answers count: not those that failed as a whole (a partial,
    too-slow run still counts what it saw)."""
    return [vo for vo in zo.vantages if vo.problem is None or vo.status == "timeout"]


def check_vantages(zo: ZoneObs, judge: Judge) -> None:
    layout = zo.layout
    vantages = usable(zo)
    if not vantages:
        judge.skipped("vantage-answer")
        judge.skipped("vantage-values")
        return
    failures: dict[int, list[tuple[Vantage, Seen, Origin | None]]] = defaultdict(list)
    for vo in vantages:
        for rec in vo.records:
            if rec.ok:
                judge.passed("vantage-answer")
                judge.passed("vantage-values")
            elif rec.seen is not None:
                failures[rec.index].append((vo.vantage, rec.seen, rec.origin))
    for j, fails in sorted(failures.items()):
        d = layout.desired[j]
        for check, kinds in (("vantage-answer", ERRORS), ("vantage-values", {"differs"})):
            mine = [(v, s, o) for v, s, o in fails if s.status in kinds]
            if not mine:
                continue
            groups: dict[Seen, list[str]] = defaultdict(list)
            for v, s, o in mine:
                groups[s].append(_who(v, o))
            message = "; ".join(f"{', '.join(who)}: {s.describe()}" for s, who in groups.items())
            message += f"; desired {', '.join(d.values)} (TTL {d.ttl})"
            data = {
                "desired": {"ttl": d.ttl, "values": list(d.values)},
                "seen": [_seen_json(v, s, o) for v, s, o in mine],
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
    vantages = usable(zo)
    if not down or not vantages:
        judge.skipped("provider-outage-covered")
        return
    checked = sum(len(vo.records) for vo in vantages)
    resolved = sum(1 for vo in vantages for r in vo.records if r.ok)
    up = [p for p in layout.providers if p not in down]
    names = ", ".join(str(vo.vantage) for vo in vantages)
    if resolved == checked and up:
        message = (
            f"every nameserver of {', '.join(down)} is unreachable, yet every resolver "
            f"({names}) resolved all {checked // len(vantages)} records: "
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


def _who(v: Vantage, origin: Origin | None) -> str:
    probe = probe_text(origin) if origin is not None else None
    return f"{v} {probe}" if probe else str(v)


def _seen_json(v: Vantage, s: Seen, origin: Origin | None) -> dict[str, object]:
    out: dict[str, object] = {
        "vantage": v.name,
        "kind": v.kind,
        "region": v.region,
        "status": s.status,
        "ttl": s.ttl,
        "values": list(s.values),
        "error": s.error,
    }
    if origin is not None and origin.probe is not None:
        out.update(probe=origin.probe, country=origin.country, asn=origin.asn)
    return out
