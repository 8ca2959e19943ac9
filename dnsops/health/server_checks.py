"""Checks of one nameserver address: reachable, authoritative, safe, modern. No I/O."""

from __future__ import annotations

import statistics

import dns.name
import dns.rcode
import dns.rdatatype

from dnsops.health import behaviour
from dnsops.health.judge import Judge
from dnsops.health.model import Outcome, ServerObs
from dnsops.health.policy import HealthPolicy
from dnsops.probe import Result, wire

NEEDS_UDP = (
    "ns-aa",
    "ns-soa",
    "ns-latency",
    "ns-open-resolver",
    "ns-edns",
    "ns-edns-version",
    "ns-nxdomain",
    "ns-axfr-refused",
)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def median_ms(latencies: list[float]) -> float | None:
    return ms(statistics.median(latencies)) if latencies else None


class ServerChecks:
    def __init__(self, zone: str, so: ServerObs, policy: HealthPolicy, judge: Judge) -> None:
        self.zone, self.so, self.policy, self.judge = zone, so, policy, judge
        self.subject = f"{so.ns.provider} {so.ns}"

    def fail(self, check: str, message: str, **data: object) -> Outcome:
        ns = self.so.ns
        return Outcome(
            check,
            self.subject,
            False,
            message,
            zone=self.zone,
            provider=ns.provider,
            data={"nameserver": ns.name, "address": ns.address, **data},
        )

    def probe(self, name: str) -> Result | None:
        return self.so.probes.get(name)

    def run(self) -> None:
        udp, tcp = self.probe("soa-udp"), self.probe("soa-tcp")
        self.judge.verdict(self.so.up, self.fail("ns-udp", f"no answer over UDP: {_why(udp)}"))
        tcp_ok = tcp is not None and tcp.answered
        self.judge.verdict(tcp_ok, self.fail("ns-tcp", f"no answer over TCP: {_why(tcp)}"))
        behaviour.check(self)  # once per nameserver address: EDNS, query-name case...
        if udp is None or not udp.answered:  # down, or broken on EDNS (ns-edns-breaks)
            for check in NEEDS_UDP:
                self.judge.skipped(check)
            return
        self.authority(udp)
        self.latency()
        self.open_resolver()
        self.edns(udp)
        self.nxdomain()
        self.axfr()

    def authority(self, udp: Result) -> None:
        aa = udp.aa and udp.rcode == dns.rcode.NOERROR
        message = f"answers the SOA of {self.zone} without the AA flag ({udp.rcode_text})"
        self.judge.verdict(aa, self.fail("ns-aa", message, rcode=udp.rcode_text))
        has_soa = udp.rrset("answer", dns.rdatatype.SOA) is not None
        message = f"no SOA for {self.zone} in its answer ({udp.rcode_text})"
        self.judge.verdict(has_soa, self.fail("ns-soa", message, rcode=udp.rcode_text))

    def latency(self) -> None:
        median = median_ms(self.so.latencies)
        if median is None:
            self.judge.skipped("ns-latency")
            return
        limit = self.policy.latency_ms
        message = (
            f"median latency {median:.1f} ms over {len(self.so.latencies)} probes, "
            f"above the policy's {limit:g} ms"
        )
        self.judge.verdict(median <= limit, self.fail("ns-latency", message, median_ms=median))

    def open_resolver(self) -> None:
        r = self.probe("open-resolver")
        if r is None or not r.answered:
            self.judge.passed("ns-open-resolver")  # silence is a refusal too
            return
        answered = r.message is not None and bool(r.message.answer) and not r.aa
        recursed = r.rcode != dns.rcode.REFUSED and (bool(r.flags & wire.RA) or answered)
        message = (
            f"answered a recursive query for {r.query.qname} SOA ({r.rcode_text}, recursion "
            "available): it resolves names for anyone who asks"
        )
        self.judge.verdict(not recursed, self.fail("ns-open-resolver", message))

    def edns(self, udp: Result) -> None:
        has_opt = udp.message is not None and udp.message.edns >= 0
        message = f"answered an EDNS0 query without an OPT record ({udp.rcode_text})"
        self.judge.verdict(has_opt, self.fail("ns-edns", message))
        bad = self.probe("badvers")
        rcode = bad.message.rcode() if bad is not None and bad.message is not None else None
        got = dns.rcode.to_text(rcode) if rcode is not None else _why(bad)
        message = f"answered a query with EDNS version 1 with {got}, not BADVERS"
        self.judge.verdict(rcode == dns.rcode.BADVERS, self.fail("ns-edns-version", message))

    def nxdomain(self) -> None:
        r = self.probe("nxdomain")
        if r is None or not r.answered:
            self.judge.failed(
                self.fail("ns-nxdomain", f"no answer for a name that does not exist: {_why(r)}")
            )
            return
        soa = r.rrset("authority", dns.rdatatype.SOA)
        name = r.query.qname.to_text()
        if r.rcode != dns.rcode.NXDOMAIN:
            message = f"{name} does not exist, yet it answered {r.rcode_text}"
            self.judge.failed(self.fail("ns-nxdomain", message))
        elif soa is None or soa.name != dns.name.from_text(self.zone):  # any case
            message = f"NXDOMAIN for {name} without the zone's SOA in the authority section"
            self.judge.failed(self.fail("ns-nxdomain", message))
        else:
            self.judge.passed("ns-nxdomain")

    def axfr(self) -> None:
        axfr = self.so.anonymous_axfr
        if axfr is None:
            self.judge.skipped("ns-axfr-refused")
            return
        n = len(axfr.rrsets or {})
        message = f"hands the whole zone ({n} RRsets) to anyone who asks for a transfer"
        # a refusal is an answer (an rcode, or the connection closed on the request);
        # a transfer that could not even connect proves nothing either way
        answered = axfr.transferred or axfr.refused or axfr.rcode is not None
        ok = None if not answered else not axfr.transferred
        self.judge.verdict(ok, self.fail("ns-axfr-refused", message, rrsets=n))


def _why(r: Result | None) -> str:
    if r is None:
        return "not asked"
    return r.error or r.rcode_text


def check_server(zone: str, so: ServerObs, policy: HealthPolicy, judge: Judge) -> None:
    ServerChecks(zone, so, policy, judge).run()
