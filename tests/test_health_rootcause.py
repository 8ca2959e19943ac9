"""One finding per root cause (dnsops.health.rootcause), over hand-built observations."""

from __future__ import annotations

import dns.rcode

from dnsops.findings import Severity
from dnsops.health.model import Nameserver, Outcome, Seen
from dnsops.health.policy import HealthPolicy
from dnsops.health.report import report
from dnsops.health.rootcause import fold
from tests.test_health_core import NS, ZONE, result, zone_obs

BIND2 = Nameserver("bind", "ns2.bind.test.", "192.0.2.3")


def lame(so) -> None:  # type: ignore[no-untyped-def]
    """The server answers, but REFUSES the zone: it does not serve it."""
    t = so.ns.target
    for probe in ("soa-udp", "soa-tcp", "ns", "nxdomain"):
        so.probes[probe] = result(
            t, ZONE, "SOA", rcode=dns.rcode.REFUSED, aa=False, tcp=probe == "soa-tcp"
        )
    for j in range(len(so.seen) or 1):
        so.seen[j] = Seen("error", rcode="REFUSED", error="REFUSED")
    so.checked = 1


def test_a_refusing_server_is_one_finding_with_its_records_folded_under_it() -> None:
    zo = zone_obs(nameservers=(*NS["pdns"], *NS["bind"], BIND2))
    for so in zo.servers:
        so.checked = 1
    lame(zo.servers[2])
    rep = report("lab", [zo], HealthPolicy())
    [root] = rep.findings
    assert (root.id, root.subject, root.severity) == (
        "ns-aa",
        "bind ns2.bind.test. (192.0.2.3)",
        Severity.WARNING,
    )
    assert root.message == "answers the SOA of example.test. without the AA flag (REFUSED)"
    assert sorted(c.id for c in root.children or []) == ["ns-nxdomain", "ns-soa", "rrset-served"]
    [served] = [c for c in root.children or [] if c.id == "rrset-served"]
    assert served.subject == "api.example.test. A" and served.severity == Severity.ERROR
    doc = root.to_json()
    assert [c["id"] for c in doc["children"]] == ["ns-soa", "ns-nxdomain", "rrset-served"]
    assert all(c["severity"] in ("error", "warning") for c in doc["children"])
    # a warning at the root: one lame server of three is not an outage
    assert not any(f.severity >= Severity.ERROR for f in rep.findings)


def test_a_record_wrong_on_a_healthy_server_too_is_not_folded() -> None:
    zo = zone_obs(nameservers=(*NS["pdns"], *NS["bind"], BIND2))
    for so in zo.servers:
        so.checked = 1
    lame(zo.servers[2])
    zo.servers[1].seen[0] = Seen("differs", ttl=60, values=("203.0.113.9",))  # a real drift
    rep = report("lab", [zo], HealthPolicy())
    assert [(f.id, f.subject) for f in rep.findings] == [
        ("rrset-served", "api.example.test. A"),
        ("ns-aa", "bind ns2.bind.test. (192.0.2.3)"),
    ]
    assert rep.findings[0].children is None


def test_a_zone_nobody_answers_is_one_critical_finding() -> None:
    zo = zone_obs()
    for so in zo.servers:
        so.probes = {}
    rep = report("lab", [zo], HealthPolicy())
    [root] = rep.findings
    assert (root.id, root.severity) == ("zone-reachable", Severity.CRITICAL)
    assert root.message == (
        "no nameserver of pdns or bind answers for example.test. (ns1.pdns.test. (192.0.2.1), "
        "ns1.bind.test. (192.0.2.2)): the zone cannot be resolved"
    )
    assert sorted(c.id for c in root.children or []) == [
        "ns-tcp",
        "ns-tcp",
        "ns-udp",
        "ns-udp",
        "provider-down",
        "provider-down",
    ]


def test_fold_keeps_order_and_unrelated_outcomes() -> None:
    a = Outcome("ns-udp", "pdns x", False, "down", zone=ZONE, data={"address": "192.0.2.1"})
    b = Outcome("ns-tcp", "pdns x", False, "down", zone=ZONE, data={"address": "192.0.2.1"})
    c = Outcome("ns-tcp", "bind y", False, "down", zone=ZONE, data={"address": "192.0.2.2"})
    d = Outcome("delegation-ns", ZONE, False, "parent differs", zone=ZONE)
    other = Outcome(
        "ns-tcp", "pdns x", False, "down", zone="other.test.", data={"address": "192.0.2.1"}
    )
    folded = fold([b, a, c, d, other])
    assert [o.check for o in folded] == ["ns-udp", "ns-tcp", "delegation-ns", "ns-tcp"]
    assert folded[0].children == (b,)
    assert fold([c, d]) == [c, d]


def test_text_shows_only_the_failed_checks_unless_verbose() -> None:
    """At 3 am the table of 40 checks would bury the one that failed: without -v only the
    failed checks are listed; with -v every one."""
    import io

    from rich.console import Console

    from dnsops.render.health import text

    zo = zone_obs()
    for so in zo.servers:
        so.probes = {}
    rep = report("lab", [zo], HealthPolicy())

    def render(verbose: bool) -> str:
        console = Console(width=80, record=True, file=io.StringIO())
        console.print(text(rep, verbose=verbose))
        return console.export_text()

    short = render(False)
    assert "failed checks (`dnsops -v health`: all of them)" in short
    rows = [line.split()[0] for line in short.splitlines() if line.startswith((" ns-", " zone-"))]
    assert "zone-reachable" in rows and "ns-udp" in rows and "ns-edns-version" not in rows
    full = render(True)
    assert "checks (`dnsops health --list-checks` explains each)" in full
    assert " ns-edns-version " in full
