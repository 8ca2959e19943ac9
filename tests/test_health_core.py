"""The health checks' pure core, over hand-built observations (no network)."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from dnsops.findings import Severity
from dnsops.health.delegation import DelegationChecks, served_sets
from dnsops.health.judge import Judge
from dnsops.health.model import (
    DesiredRRset,
    Nameserver,
    ParentObs,
    Seen,
    ServerObs,
    Vantage,
    VantageObs,
    VantageRecord,
    ZoneLayout,
    ZoneObs,
)
from dnsops.health.observe import seen_of
from dnsops.health.policy import HealthPolicy
from dnsops.health.report import evaluate, report
from dnsops.health.server_checks import check_server
from dnsops.health.zone_checks import check_apex_ns, check_delegation, check_rrsets
from dnsops.probe import Query, Result, Target, wire

ZONE = "example.test."
NS = {
    "pdns": [Nameserver("pdns", "ns1.pdns.test.", "192.0.2.1")],
    "bind": [Nameserver("bind", "ns1.bind.test.", "192.0.2.2")],
}
APEX = ("ns1.bind.test.", "ns1.pdns.test.")


def rr(name: str, ttl: int, rdtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", rdtype, *values)


def result(
    target: Target,
    qname: str,
    rdtype: str,
    *,
    answer: list[dns.rrset.RRset] = (),  # type: ignore[assignment]
    authority: list[dns.rrset.RRset] = (),  # type: ignore[assignment]
    additional: list[dns.rrset.RRset] = (),  # type: ignore[assignment]
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
    aa: bool = True,
    ra: bool = False,
    edns: int = 0,
    latency: float = 0.002,
    **query: object,
) -> Result:
    q = Query.make(target, qname, rdtype, **query)
    msg = dns.message.make_query(qname, rdtype, use_edns=edns)
    r = dns.message.make_response(msg)
    r.flags = dns.flags.QR | (dns.flags.AA if aa else 0) | (dns.flags.RA if ra else 0)
    r.set_rcode(rcode)
    r.answer.extend(answer)
    r.authority.extend(authority)
    r.additional.extend(additional)
    data = r.to_wire()
    return Result(q, rcode=int(r.rcode()), flags=int(r.flags), latency=latency, wire=data)


SOA = rr(ZONE, 3600, "SOA", "ns1.pdns.test. hostmaster.example.test. 1 3600 600 604800 60")


def healthy(ns: Nameserver) -> ServerObs:
    t = ns.target
    so = ServerObs(ns)
    so.probes = {
        "soa-udp": result(t, ZONE, "SOA", answer=[SOA]),
        "soa-tcp": result(t, ZONE, "SOA", answer=[SOA], tcp=True),
        "ns": result(t, ZONE, "NS", answer=[rr(ZONE, 86400, "NS", *APEX)]),
        "open-resolver": result(t, "test.", "SOA", rcode=dns.rcode.REFUSED, aa=False, rd=True),
        "badvers": result(t, ZONE, "SOA", rcode=dns.rcode.BADVERS, aa=False, edns=0),
        "nxdomain": result(t, "nope." + ZONE, "A", rcode=dns.rcode.NXDOMAIN, authority=[SOA]),
    }
    so.latencies = [0.001, 0.002, 0.003]
    so.queries = 3
    return so


def judge_server(so: ServerObs, policy: HealthPolicy | None = None) -> Judge:
    judge = Judge()
    check_server(ZONE, so, policy or HealthPolicy(), judge)
    return judge


def failures(judge: Judge) -> dict[str, str]:
    return {o.check: o.message for o in judge.outcomes}


def test_a_healthy_server_passes_every_server_check() -> None:
    judge = judge_server(healthy(NS["pdns"][0]))
    assert failures(judge) == {}
    assert {k: dict(v) for k, v in judge.tally.items()} == {
        check: {"passed": 1}
        for check in (
            "ns-udp",
            "ns-tcp",
            "ns-aa",
            "ns-soa",
            "ns-latency",
            "ns-open-resolver",
            "ns-edns",
            "ns-edns-version",
            "ns-nxdomain",
        )
    } | {"ns-axfr-refused": {"skipped": 1}}


def test_a_silent_server_fails_udp_and_tcp_and_skips_the_rest() -> None:
    ns = NS["pdns"][0]
    so = ServerObs(ns)
    so.probes = {
        "soa-udp": Result(Query.make(ns.target, ZONE, "SOA"), error="timeout", attempts=3),
        "soa-tcp": Result(Query.make(ns.target, ZONE, "SOA", tcp=True), error="connection refused"),
    }
    judge = judge_server(so)
    assert failures(judge) == {
        "ns-udp": "no answer over UDP: timeout",
        "ns-tcp": "no answer over TCP: connection refused",
    }
    assert judge.tally["ns-aa"]["skipped"] == judge.tally["ns-nxdomain"]["skipped"] == 1
    [udp] = [o for o in judge.outcomes if o.check == "ns-udp"]
    assert (udp.subject, udp.provider, udp.data) == (
        "pdns ns1.pdns.test. (192.0.2.1)",
        "pdns",
        {"nameserver": "ns1.pdns.test.", "address": "192.0.2.1"},
    )


def test_lame_open_and_old_fashioned_servers_are_caught() -> None:
    ns = NS["bind"][0]
    t = ns.target
    so = healthy(ns)
    so.probes["soa-udp"] = result(t, ZONE, "SOA", rcode=dns.rcode.REFUSED, aa=False, edns=-1)
    so.probes["open-resolver"] = result(
        t, "test.", "SOA", answer=[rr("test.", 60, "SOA", "a. b. 1 2 3 4 5")], aa=False, ra=True
    )
    so.probes["badvers"] = result(t, ZONE, "SOA", answer=[SOA])
    so.probes["nxdomain"] = result(t, "nope." + ZONE, "A", rcode=dns.rcode.NXDOMAIN)
    so.latencies = [0.4, 0.5, 0.6]
    assert failures(judge_server(so, HealthPolicy(latency_ms=250))) == {
        "ns-aa": "answers the SOA of example.test. without the AA flag (REFUSED)",
        "ns-soa": "no SOA for example.test. in its answer (REFUSED)",
        "ns-latency": "median latency 500.0 ms over 3 probes, above the policy's 250 ms",
        "ns-open-resolver": "answered a recursive query for test. SOA (NOERROR, recursion "
        "available): it resolves names for anyone who asks",
        "ns-edns": "answered an EDNS0 query without an OPT record (REFUSED)",
        "ns-edns-version": "answered a query with EDNS version 1 with NOERROR, not BADVERS",
        "ns-nxdomain": "NXDOMAIN for nope.example.test. without the zone's SOA in the "
        "authority section",
    }


def test_nxdomain_must_be_nxdomain() -> None:
    so = healthy(NS["pdns"][0])
    so.probes["nxdomain"] = result(so.ns.target, "nope." + ZONE, "A", authority=[SOA])
    assert failures(judge_server(so)) == {
        "ns-nxdomain": "nope.example.test. does not exist, yet it answered NOERROR"
    }


def test_silence_to_a_recursive_query_is_not_an_open_resolver() -> None:
    so = healthy(NS["pdns"][0])
    so.probes["open-resolver"] = Result(so.probes["open-resolver"].query, error="timeout")
    judge = judge_server(so)
    assert failures(judge) == {} and judge.tally["ns-open-resolver"]["passed"] == 1


def desired(
    name: str, rdtype: str, ttl: int, *values: str, section: str = "answer"
) -> DesiredRRset:
    return DesiredRRset(
        zone=ZONE,
        name=name,
        rdtype=rdtype,
        ttl=ttl,
        values=values,
        expect=wire.expected(rdtype, ttl, values, section=section),
        providers=frozenset(NS),
        section=section,
        file="zones/example.test.yaml",
        line=7,
    )


API = desired("api.example.test.", "A", 60, "192.0.2.20", "192.0.2.21")


def layout(**kw: object) -> ZoneLayout:
    base: dict[str, object] = {
        "zone": ZONE,
        "providers": ("pdns", "bind"),
        "nameservers": tuple(NS["pdns"] + NS["bind"]),
        "desired": (API,),
        "parent_zone": "test.",
        "apex_ns": APEX,
    }
    return ZoneLayout(**(base | kw))  # type: ignore[arg-type]


def test_seen_of_tells_what_differs() -> None:
    t = NS["bind"][0].target
    same = result(t, API.name, "A", answer=[rr(API.name, 60, "A", "192.0.2.21", "192.0.2.20")])
    assert seen_of(API, same) is None
    other = result(t, API.name, "A", answer=[rr(API.name, 60, "A", "203.0.113.9")])
    assert seen_of(API, other) == Seen("differs", ttl=60, values=("203.0.113.9",))
    longer = result(t, API.name, "A", answer=[rr(API.name, 300, "A", "192.0.2.20", "192.0.2.21")])
    assert seen_of(API, longer) == Seen("differs", ttl=300, values=("192.0.2.20", "192.0.2.21"))
    assert seen_of(API, result(t, API.name, "A")) == Seen("missing", rcode="NOERROR")
    nx = result(t, API.name, "A", rcode=dns.rcode.NXDOMAIN)
    assert seen_of(API, nx) == Seen("nxdomain", rcode="NXDOMAIN")
    servfail = result(t, API.name, "A", rcode=dns.rcode.SERVFAIL)
    assert seen_of(API, servfail) == Seen("error", rcode="SERVFAIL", error="SERVFAIL")
    lost = Result(Query.make(t, API.name, "A"), error="timeout")
    assert seen_of(API, lost) == Seen("error", error="timeout")
    counted_down = result(
        t, API.name, "A", answer=[rr(API.name, 12, "A", "192.0.2.20", "192.0.2.21")]
    )
    assert seen_of(API, counted_down, ttl_at_most=True) is None
    assert seen_of(API, counted_down) == Seen(
        "differs", ttl=12, values=("192.0.2.20", "192.0.2.21")
    )


def test_delegations_and_glue_are_read_where_they_live() -> None:
    t = NS["pdns"][0].target
    cut = desired("sub.example.test.", "NS", 3600, "ns.sub.example.test.", section="authority")
    glue = desired("ns.sub.example.test.", "A", 3600, "192.0.2.53", section="additional")
    referral = result(
        t,
        "sub.example.test.",
        "NS",
        aa=False,
        authority=[rr("sub.example.test.", 3600, "NS", "ns.sub.example.test.")],
        additional=[rr("ns.sub.example.test.", 3600, "A", "192.0.2.53")],
    )
    assert seen_of(cut, referral) is None
    glue_reply = result(
        t,
        "ns.sub.example.test.",
        "A",
        aa=False,
        authority=[rr("sub.example.test.", 3600, "NS", "ns.sub.example.test.")],
        additional=[rr("ns.sub.example.test.", 3600, "A", "192.0.2.54")],
    )
    assert seen_of(glue, glue_reply) == Seen("differs", ttl=3600, values=("192.0.2.54",))


def zone_obs(**kw: object) -> ZoneObs:
    lay = layout(**kw)
    return ZoneObs(lay, [healthy(ns) for ns in lay.nameservers])


def test_rrset_differences_are_grouped_per_record_and_provider() -> None:
    zo = zone_obs(
        nameservers=(*NS["pdns"], *NS["bind"], Nameserver("bind", "ns2.bind.test.", "192.0.2.3"))
    )
    for so in zo.servers:
        so.checked = 1
    zo.servers[1].seen[0] = Seen("differs", ttl=60, values=("203.0.113.9",))
    zo.servers[2].seen[0] = Seen("error", error="timeout")
    judge = Judge()
    check_rrsets(zo, judge)
    [o] = judge.outcomes
    assert (o.check, o.subject, o.provider, o.file, o.line) == (
        "rrset-served",
        "api.example.test. A",
        "bind",
        "zones/example.test.yaml",
        7,
    )
    assert o.message == (
        "ns1.bind.test. (192.0.2.2) serve 203.0.113.9 (TTL 60); ns2.bind.test. (192.0.2.3) "
        "answer timeout; desired 192.0.2.20, 192.0.2.21 (TTL 60)"
    )
    assert judge.tally["rrset-served"] == {"passed": 1, "failed": 1}  # pdns passed


def test_apex_ns_sets_must_agree_and_name_both_providers() -> None:
    zo = zone_obs()
    pdns_only = rr(ZONE, 86400, "NS", "ns1.pdns.test.")
    zo.servers[0].probes["ns"] = result(zo.servers[0].ns.target, ZONE, "NS", answer=[pdns_only])
    judge = Judge()
    common = check_apex_ns(zo, judge)
    assert common is not None
    DelegationChecks(judge).apex_providers(zo, served_sets(zo))
    messages = failures(judge)
    assert messages["apex-ns-consistent"].count("serve {") == 2
    assert messages["apex-ns-providers"] == (
        "the apex NS set {ns1.pdns.test.} served by pdns ns1.pdns.test. (192.0.2.1) names no "
        "nameserver of bind: an outage there would not be covered"
    )


def test_delegation_and_glue_are_compared_with_the_zone() -> None:
    parent = Target("192.0.2.100", 53, "parent")
    zo = zone_obs(parents=(parent,))
    po = ParentObs(parent)
    po.referral = result(
        parent,
        ZONE,
        "NS",
        aa=False,
        authority=[rr(ZONE, 86400, "NS", "ns1.pdns.test.", "ns9.x.test.")],
    )
    po.addresses["ns1.pdns.test. A"] = result(
        parent, "ns1.pdns.test.", "A", answer=[rr("ns1.pdns.test.", 60, "A", "192.0.2.99")]
    )
    po.addresses["ns1.bind.test. A"] = result(
        parent, "ns1.bind.test.", "A", answer=[rr("ns1.bind.test.", 60, "A", "192.0.2.2")]
    )
    zo.parents = [po]
    judge = Judge()
    check_delegation(zo, check_apex_ns(zo, Judge()), judge)
    DelegationChecks(judge).delegation_ns(zo, served_sets(zo))
    assert [(o.check, o.provider, o.message) for o in judge.outcomes] == [
        (
            "delegation-glue",
            None,
            "the parent gives 192.0.2.99 for ns1.pdns.test.; it answers on 192.0.2.1",
        ),
        *(
            (
                "delegation-ns",
                p,
                f"{p} serves ns1.bind.test., which the parent does not list; the parent lists "
                f"ns9.x.test., which {p} does not serve",
            )
            for p in ("pdns", "bind")
        ),
    ]
    assert judge.tally["delegation-glue"] == {"passed": 1, "failed": 1}


def test_vantage_failures_and_a_covered_outage() -> None:
    vantages = (Vantage("iad", "us-east", "192.0.2.201"), Vantage("lhr", "eu-west", "192.0.2.202"))
    zo = zone_obs(vantages=vantages)
    zo.vantages = [
        VantageObs(
            vantages[0], [VantageRecord(0, False, None, 2.0, Seen("error", error="timeout"))]
        ),
        VantageObs(
            vantages[1],
            [VantageRecord(0, False, 30, 0.01, Seen("differs", ttl=30, values=("203.0.113.9",)))],
        ),
    ]
    judge = evaluate([zo], HealthPolicy())
    assert failures(judge) == {
        "vantage-answer": "iad (us-east): timeout; desired 192.0.2.20, 192.0.2.21 (TTL 60)",
        "vantage-values": "lhr (eu-west): 203.0.113.9 (TTL 30); desired 192.0.2.20, "
        "192.0.2.21 (TTL 60)",
    }
    # one lookup each: iad got no answer (values not applicable), lhr's resolved
    assert dict(judge.tally["vantage-answer"]) == {"failed": 1, "passed": 1}
    assert dict(judge.tally["vantage-values"]) == {"failed": 1, "skipped": 1}
    down = zone_obs(vantages=vantages)
    down.servers[0].probes = {}
    down.vantages = [VantageObs(v, [VantageRecord(0, True, 60, 0.01)]) for v in vantages]
    rep = report("lab", [down], HealthPolicy(severity={"provider-outage-covered": Severity.INFO}))
    covered = [f for f in rep.findings if f.id == "provider-outage-covered"]
    assert [(f.severity, f.message) for f in covered] == [
        (
            Severity.INFO,
            "every nameserver of pdns is unreachable, yet every resolver (iad (us-east), lhr "
            "(eu-west)) resolved all 1 records: bind carried the zone",
        )
    ]
    # one root cause: pdns's only server is down; its UDP and TCP failures fold under it
    [down_finding] = [f for f in rep.findings if f.severity >= Severity.ERROR]
    assert (down_finding.id, down_finding.subject, down_finding.severity) == (
        "provider-down",
        "pdns",
        Severity.ERROR,
    )
    assert down_finding.message.startswith("none of pdns's 1 nameserver address(es) answers")
    assert down_finding.message.endswith("the zone hangs on bind alone")
    assert [c.id for c in down_finding.children or []] == ["ns-udp", "ns-tcp"]
    assert down_finding.explains == "ns-udp, ns-tcp"


@pytest.mark.parametrize("method", ["queries", "axfr"])
def test_report_rows(method: str) -> None:
    zo = zone_obs()
    for so in zo.servers:
        so.method, so.checked = method, 1
    rep = report("lab", [zo], HealthPolicy(), seconds=1.23456, queries=42)
    assert rep.findings == [] and (rep.seconds, rep.queries) == (1.235, 42)
    row = rep.nameservers[0]
    assert (row.provider, row.name, row.udp, row.tcp, row.aa, row.method) == (
        "pdns",
        "ns1.pdns.test.",
        True,
        True,
        True,
        method,
    )
    assert (row.latency_ms, row.queries, row.checked, row.mismatches) == (2.0, 3, 1, 0)
    assert row.p95_ms is not None and 2.0 <= row.p95_ms <= 3.0
