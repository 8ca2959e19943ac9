"""Is the zone served at all, and by each provider? No I/O.

The roots of dnsops.health.rootcause: a zone no nameserver answers for
(Zonemaster BASIC02, NO_WORKING_NS) and a provider none of whose nameservers
answer (the redundancy of the two providers lost).
"""

from __future__ import annotations

from dnsops.health.judge import Judge
from dnsops.health.model import Outcome, ServerObs, ZoneObs


def answers(so: ServerObs) -> bool:
    """The server answered the zone's SOA over UDP or TCP (with any rcode)."""
    tcp = so.probes.get("soa-tcp")
    return so.up or (tcp is not None and tcp.answered)


def _names(servers: list[ServerObs]) -> str:
    return ", ".join(str(so.ns) for so in servers)


def check_providers(zo: ZoneObs, judge: Judge) -> None:
    layout = zo.layout
    zone = layout.zone
    if not zo.servers:
        judge.skipped("zone-reachable")
        judge.skipped("provider-down", len(layout.providers))
        return
    answering = [so for so in zo.servers if answers(so)]
    message = (
        f"no nameserver of {' or '.join(layout.providers)} answers for {zone} "
        f"({_names(zo.servers)}): the zone cannot be resolved"
    )
    judge.verdict(
        bool(answering),
        Outcome(
            "zone-reachable",
            zone,
            False,
            message,
            zone=zone,
            data={"nameservers": [{"name": so.ns.name, "address": so.ns.address}
                                  for so in zo.servers]},
        ),
    )  # fmt: skip
    for provider in layout.providers:
        mine = [so for so in zo.servers if so.ns.provider == provider]
        if not mine:
            judge.skipped("provider-down")  # none discovered: discovery says why
            continue
        others = [p for p in layout.providers if p != provider]
        message = (
            f"none of {provider}'s {len(mine)} nameserver address(es) answers for {zone} "
            f"({_names(mine)}): the zone hangs on {', '.join(others) or 'nothing'} alone"
        )
        judge.verdict(
            any(answers(so) for so in mine),
            Outcome(
                "provider-down",
                provider,
                False,
                message,
                zone=zone,
                provider=provider,
                data={"nameservers": [{"name": so.ns.name, "address": so.ns.address}
                                      for so in mine]},
            ),
        )  # fmt: skip
