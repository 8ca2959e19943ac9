"""SOA consistency (soa-serial, soa-rname, soa-timers) and glue vs the zone's own addresses
(glue-matches-zone): the pure judging over hand-built observations, then real faults on the
lab's real servers (dnsops/health/consistency.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.rdataset
import dns.tsigkeyring
import dns.update
import dns.zone
import pytest

from dnsops.config import Project, load_project
from dnsops.health import plan
from dnsops.health.consistency import check_consistency, in_bailiwick
from dnsops.health.judge import Judge
from dnsops.health.model import Nameserver, ParentObs, ServerObs, ZoneObs
from dnsops.health.policy import HealthPolicy
from dnsops.health.report import report
from dnsops.lab.runner import LabRunner
from dnsops.probe import Target
from tests.conftest import SPARE_NET, TEST_NET, make_project, run, spare_lab
from tests.test_health_core import NS, ZONE, healthy, layout, result, rr
from tests.test_health_lab import _update, by_check, health
from tests.test_health_lab import synced as synced  # the module's fixture: the lab, synced
from tests.test_lab import sync_lab
from tests.testbind import extra_bind

MINE = ("soa-serial", "soa-rname", "soa-timers", "glue-matches-zone")
NS2 = Nameserver("bind", "ns2.bind.test.", "192.0.2.3")


def soa(so: ServerObs, text: str) -> None:
    """Make one server serve this SOA (over UDP and TCP)."""
    t = so.ns.target
    answer = [rr(ZONE, 3600, "SOA", text)]
    so.probes["soa-udp"] = result(t, ZONE, "SOA", answer=answer)
    so.probes["soa-tcp"] = result(t, ZONE, "SOA", answer=answer, tcp=True)


def three(**kw: object) -> ZoneObs:
    """pdns ns1 and bind ns1/ns2, each with the same SOA but for the serial (per provider)."""
    lay = layout(nameservers=(*NS["pdns"], *NS["bind"], NS2), **kw)
    zo = ZoneObs(lay, [healthy(ns) for ns in lay.nameservers])
    soa(zo.servers[0], "ns1.pdns.test. hostmaster.example.test. 7 3600 600 604800 60")
    for so in zo.servers[1:]:
        soa(so, "ns1.bind.test. hostmaster.example.test. 2026113001 3600 600 604800 60")
    return zo


def judged(zo: ZoneObs) -> Judge:
    judge = Judge()
    check_consistency(zo, judge)
    return judge


def tally(judge: Judge) -> dict[str, dict[str, int]]:
    return {k: dict(v) for k, v in judge.tally.items() if k in MINE}


def test_serials_differ_between_providers_by_design() -> None:
    judge = judged(three())
    assert judge.outcomes == []
    assert tally(judge) == {
        "soa-serial": {"passed": 2},  # one per provider
        "soa-rname": {"passed": 1},
        "soa-timers": {"passed": 1},
    }  # no nameserver named inside the zone: glue-matches-zone neither run nor skipped


def test_a_nameserver_behind_within_one_provider_is_named_with_its_serial() -> None:
    zo = three()
    soa(zo.servers[2], "ns1.bind.test. hostmaster.example.test. 2026113000 3600 600 604800 60")
    judge = judged(zo)
    [o] = judge.outcomes
    assert (o.check, o.subject, o.zone, o.provider) == (
        "soa-serial",
        "example.test. at bind",
        ZONE,
        "bind",
    )
    assert o.message == (
        "bind's nameservers serve different SOA serials: ns1.bind.test. (192.0.2.2) serves "
        "serial 2026113001; ns2.bind.test. (192.0.2.3) serves serial 2026113000"
    )
    assert o.data == {
        "serials": [
            {
                "serial": 2026113001,
                "servers": [
                    {"provider": "bind", "nameserver": "ns1.bind.test.", "address": "192.0.2.2"}
                ],
            },
            {
                "serial": 2026113000,
                "servers": [
                    {"provider": "bind", "nameserver": "ns2.bind.test.", "address": "192.0.2.3"}
                ],
            },
        ]
    }
    assert tally(judge)["soa-serial"] == {"passed": 1, "failed": 1}


def test_rname_compared_without_case_and_differences_named_per_provider() -> None:
    zo = three()
    soa(zo.servers[0], "ns1.pdns.test. HostMaster.Example.Test. 7 3600 600 604800 60")
    assert judged(zo).outcomes == []
    soa(zo.servers[0], "ns1.pdns.test. dns-admin.example.test. 7 3600 600 604800 60")
    judge = judged(zo)
    [o] = judge.outcomes
    assert (o.check, o.subject, o.provider) == ("soa-rname", "example.test. SOA", None)
    assert o.message == (
        "SOA RNAME (contact): pdns ns1.pdns.test. (192.0.2.1) serves dns-admin.example.test.; "
        "bind ns1.bind.test. (192.0.2.2), ns2.bind.test. (192.0.2.3) serve "
        "hostmaster.example.test."
    )
    assert [r["rname"] for r in o.data["rnames"]] == [
        "dns-admin.example.test.",
        "hostmaster.example.test.",
    ]


def test_timers_one_finding_naming_each_timer_that_differs() -> None:
    zo = three()
    soa(zo.servers[1], "ns1.bind.test. hostmaster.example.test. 2026113001 7200 600 604800 300")
    soa(zo.servers[2], "ns1.bind.test. hostmaster.example.test. 2026113001 7200 600 604800 300")
    judge = judged(zo)
    [o] = judge.outcomes
    assert (o.check, o.subject) == ("soa-timers", "example.test. SOA")
    assert o.message == (
        "refresh: pdns ns1.pdns.test. (192.0.2.1) serves 3600; bind ns1.bind.test. (192.0.2.2), "
        "ns2.bind.test. (192.0.2.3) serve 7200. minimum (negative-cache TTL): pdns "
        "ns1.pdns.test. (192.0.2.1) serves 60; bind ns1.bind.test. (192.0.2.2), ns2.bind.test. "
        "(192.0.2.3) serve 300"
    )
    assert sorted(o.data["differs"]) == ["minimum", "refresh"]
    assert [g["value"] for g in o.data["differs"]["minimum"]] == [60, 300]


def test_a_value_served_by_both_providers_names_them_together() -> None:
    zo = three()
    soa(zo.servers[2], "ns1.bind.test. hostmaster.example.test. 2026113001 3600 900 604800 60")
    [o] = judged(zo).outcomes
    assert o.message == (
        "retry: pdns ns1.pdns.test. (192.0.2.1) and bind ns1.bind.test. (192.0.2.2) serve 600; "
        "bind ns2.bind.test. (192.0.2.3) serves 900"
    )


def test_a_server_without_an_soa_does_not_count() -> None:
    zo = three()
    t = zo.servers[2].ns.target
    zo.servers[2].probes["soa-udp"] = result(t, ZONE, "SOA", rcode=dns.rcode.REFUSED, aa=False)
    zo.servers[2].probes["soa-tcp"] = result(t, ZONE, "SOA", rcode=dns.rcode.REFUSED, aa=False)
    judge = judged(zo)
    assert judge.outcomes == []
    assert tally(judge)["soa-serial"] == {"passed": 2}
    for so in zo.servers:
        so.probes = {}
    judge = judged(zo)
    assert tally(judge) == {
        "soa-serial": {"skipped": 2},
        "soa-rname": {"skipped": 1},
        "soa-timers": {"skipped": 1},
    }


def test_the_report_shows_each_nameservers_serial() -> None:
    rep = report("lab", [three()], HealthPolicy())
    assert [(r.name, r.serial) for r in rep.nameservers] == [
        ("ns1.pdns.test.", 7),
        ("ns1.bind.test.", 2026113001),
        ("ns2.bind.test.", 2026113001),
    ]
    assert rep.nameservers[0].to_json()["serial"] == 7


# -- glue-matches-zone ----------------------------------------------------------------

NS3 = "ns3.example.test."
PARENT = Target("192.0.2.100", 53, "parent ns.test.")


def vanity(glue: tuple[str, ...], served: dict[int, tuple[str, ...]]) -> ZoneObs:
    """example.test. with ns3.example.test. in its NS set; the parent's glue for it, and
    what each nameserver (by index) serves as its A records (no AAAA)."""
    zo = three(apex_ns=(*sorted(NS_NAMES), NS3), parents=(PARENT,))
    po = ParentObs(PARENT)
    po.referral = result(
        PARENT,
        ZONE,
        "NS",
        aa=False,
        authority=[rr(ZONE, 86400, "NS", *sorted(NS_NAMES), NS3)],
        additional=[rr(NS3, 86400, "A", *glue)] if glue else [],
    )
    zo.parents = [po]
    for i, so in enumerate(zo.servers):
        t = so.ns.target
        values = served.get(i, ())
        answer = [rr(NS3, 3600, "A", *values)] if values else []
        so.probes[f"address {NS3} A"] = result(t, NS3, "A", answer=answer)
        so.probes[f"address {NS3} AAAA"] = result(t, NS3, "AAAA")
    return zo


NS_NAMES = ("ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.")


def test_only_nameserver_names_inside_the_zone_are_asked_for() -> None:
    outside = layout()
    assert in_bailiwick(outside) == []
    assert [q.key[2] for q in plan.server_queries(outside, 0, "n")] == list(plan.SERVER_PROBES)
    inside = layout(apex_ns=("ns1.pdns.test.", "NS3.Example.Test."), delegation_ns=("ns.x.test.",))
    assert in_bailiwick(inside) == [NS3]
    keys = [q.key[2] for q in plan.server_queries(inside, 1, "n")]
    assert keys == [*plan.SERVER_PROBES, f"address {NS3} A", f"address {NS3} AAAA"]
    # a name only the parent delegates to counts too
    assert in_bailiwick(layout(delegation_ns=("a.example.test.",))) == ["a.example.test."]


def test_glue_equal_to_the_zones_own_addresses_passes() -> None:
    zo = vanity(("192.0.2.53",), {0: ("192.0.2.53",), 1: ("192.0.2.53",), 2: ("192.0.2.53",)})
    judge = judged(zo)
    assert judge.outcomes == []
    assert tally(judge)["glue-matches-zone"] == {"passed": 1}  # one name, one parent server


def test_glue_that_differs_names_the_parent_glue_and_each_providers_values() -> None:
    zo = vanity(("192.0.2.53",), {0: ("192.0.2.53",), 1: ("192.0.2.99",), 2: ("192.0.2.99",)})
    [o] = judged(zo).outcomes
    assert (o.check, o.subject, o.zone) == (
        "glue-matches-zone",
        f"{NS3} at parent 192.0.2.100",
        ZONE,
    )
    assert o.message == (
        f"{NS3}: the parent ns.test. (192.0.2.100) gives glue 192.0.2.53; pdns ns1.pdns.test. "
        "(192.0.2.1) serves 192.0.2.53; bind ns1.bind.test. (192.0.2.2), ns2.bind.test. "
        "(192.0.2.3) serve 192.0.2.99"
    )
    assert o.data is not None
    assert (o.data["name"], o.data["parent"]) == (NS3, ["192.0.2.53"])
    assert [z["addresses"] for z in o.data["zone"]] == [["192.0.2.53"], ["192.0.2.99"]]


def test_no_glue_or_no_address_in_the_zone_is_a_mismatch() -> None:
    [o] = judged(vanity((), {0: ("192.0.2.53",), 1: ("192.0.2.53",), 2: ("192.0.2.53",)})).outcomes
    assert o.message.startswith(f"{NS3}: the parent ns.test. (192.0.2.100) gives glue (none); ")
    [o] = judged(vanity(("192.0.2.53",), {})).outcomes
    assert o.message.endswith(
        "pdns ns1.pdns.test. (192.0.2.1) and bind ns1.bind.test. (192.0.2.2), ns2.bind.test. "
        "(192.0.2.3) serve no address"
    )


@pytest.mark.parametrize("how", ["silent", "not authoritative", "no referral"])
def test_what_cannot_be_compared_is_left_out(how: str) -> None:
    zo = vanity(("192.0.2.53",), {0: ("192.0.2.53",), 1: ("192.0.2.99",), 2: ("192.0.2.99",)})
    if how == "no referral":
        zo.parents[0].referral = None
        judge = judged(zo)
        assert judge.outcomes == [] and tally(judge)["glue-matches-zone"] == {"skipped": 1}
        return
    for so in zo.servers[1:]:  # the bind servers, which serve the other address
        t = so.ns.target
        if how == "silent":
            so.probes.pop(f"address {NS3} A")
        else:
            so.probes[f"address {NS3} A"] = result(t, NS3, "A", rcode=dns.rcode.REFUSED, aa=False)
    judge = judged(zo)
    assert judge.outcomes == [] and tally(judge)["glue-matches-zone"] == {"passed": 1}


# -- against the lab: real faults on real servers ----------------------------------------
# PowerDNS serves "ns1.pdns.test. hostmaster.example.test. <serial> 3600 600 604800 60"
# (dnsops/lab/render.py SOA_TIMERS); BIND the same with its own MNAME and serial. Each fault
# is a TSIG-signed dynamic update of BIND's SOA, with a serial above the one it serves (a
# serial only goes forward); the fixture puts the SOA back the same way.

# each provider's nameservers as the messages name them
PDNS_NS = f"pdns ns1.pdns.test. ({TEST_NET}.1.1), ns2.pdns.test. ({TEST_NET}.1.2)"
BIND_NS = f"bind ns1.bind.test. ({TEST_NET}.2.1), ns2.bind.test. ({TEST_NET}.2.2)"
BIND1 = f"{TEST_NET}.2.1"


def bind_soa() -> Any:
    reply = dns.query.udp(dns.message.make_query(ZONE, "SOA"), BIND1, timeout=5)
    return reply.answer[0][0]


def set_bind_soa(project: Project, rname: str, timers: str) -> None:
    """Replace BIND's SOA (the serial one above what it serves) by TSIG dynamic update."""
    old = bind_soa()
    text = f"{old.mname} {rname} {old.serial + 1} {timers}"
    _update(project, lambda u: u.replace("@", 3600, "SOA", text))
    new = bind_soa()
    assert (new.rname.to_text(), new.serial > old.serial) == (rname, True), new


@pytest.fixture
def bind_soa_changed(synced: Project) -> Iterator[Callable[[str, str], None]]:
    """Change BIND's SOA RNAME or timers (PowerDNS keeps its own); put back at the end."""
    before = bind_soa()
    timers = f"{before.refresh} {before.retry} {before.expire} {before.minimum}"
    assert (before.rname.to_text(), timers) == ("hostmaster.example.test.", "3600 600 604800 60")
    try:
        yield lambda rname, timers: set_bind_soa(synced, rname, timers)
    finally:
        set_bind_soa(synced, "hostmaster.example.test.", timers)


def soa_findings(doc: dict) -> list[tuple[str, str, str, str]]:
    return [
        (f["id"], f["severity"], f["subject"], f["message"])
        for f in doc["findings"]
        if f["id"] in MINE
    ]


@pytest.mark.lab
def test_a_different_rname_at_bind_is_a_notice(
    cli, lab_dir: Path, bind_soa_changed: Callable[[str, str], None]
) -> None:
    bind_soa_changed("dns-admin.example.test.", "3600 600 604800 60")
    code, doc = health(cli, lab_dir, "--vantage", "iad")
    assert code == 0 and doc["ok"] is True  # a notice: reported, not failing
    assert soa_findings(doc) == [
        (
            "soa-rname",
            "notice",
            "example.test. SOA",
            f"SOA RNAME (contact): {PDNS_NS} serve hostmaster.example.test.; {BIND_NS} serve "
            "dns-admin.example.test.",
        )
    ]
    assert [f["id"] for f in doc["findings"]] == ["soa-rname"]
    checks = by_check(doc)
    assert (checks["soa-rname"]["failed"], checks["soa-timers"]["passed"]) == (1, 1)
    assert checks["soa-serial"]["passed"] == 2  # BIND's serial moved: its own, both agree


@pytest.mark.lab
def test_different_refresh_retry_expire_at_bind(
    cli, lab_dir: Path, bind_soa_changed: Callable[[str, str], None]
) -> None:
    bind_soa_changed("hostmaster.example.test.", "7200 900 1209600 60")
    code, doc = health(cli, lab_dir, "--vantage", "iad")
    assert code == 0
    assert soa_findings(doc) == [
        (
            "soa-timers",
            "notice",
            "example.test. SOA",
            f"refresh: {PDNS_NS} serve 3600; {BIND_NS} serve 7200. "
            f"retry: {PDNS_NS} serve 600; {BIND_NS} serve 900. "
            f"expire: {PDNS_NS} serve 604800; {BIND_NS} serve 1209600",
        )
    ]
    [f] = [f for f in doc["findings"] if f["id"] == "soa-timers"]
    assert sorted(f["data"]["differs"]) == ["expire", "refresh", "retry"]


@pytest.mark.lab
def test_a_longer_negative_cache_ttl_at_bind(
    cli, lab_dir: Path, bind_soa_changed: Callable[[str, str], None]
) -> None:
    bind_soa_changed("hostmaster.example.test.", "3600 600 604800 300")
    code, doc = health(cli, lab_dir, "--vantage", "iad")
    assert code == 0 and [f["id"] for f in doc["findings"]] == ["soa-timers"]
    assert soa_findings(doc) == [
        (
            "soa-timers",
            "notice",
            "example.test. SOA",
            f"minimum (negative-cache TTL): {PDNS_NS} serve 60; {BIND_NS} serve 300",
        )
    ]
    # a stricter policy makes it fail the run
    strict = lab_dir / "strict-soa.yaml"
    strict.write_text("severity:\n  soa-timers: error\n")
    code, doc = health(cli, lab_dir, "--vantage", "iad", "--policy", str(strict))
    assert code == 1 and [(f["id"], f["severity"]) for f in doc["findings"]] == [
        ("soa-timers", "error")
    ]


STALE = f"{TEST_NET}.9.3"  # a third "bind" nameserver: a BIND of its own, one serial behind


@pytest.fixture
def stale_bind(tmp_path: Path, synced: Project) -> Iterator[int]:
    """A BIND on its own address serving a copy of the lab BIND's zone (read by a signed
    zone transfer) with the serial one lower: a nameserver that missed the last change.
    Yields the lab BIND's serial."""
    secrets = LabRunner(synced).secrets()
    keyring = dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret})
    zone = dns.zone.from_xfr(
        dns.query.xfr(BIND1, ZONE, keyring=keyring, keyalgorithm="hmac-sha256", lifetime=10)
    )
    current = zone.get_rdataset("@", "SOA")[0]
    home = tmp_path / "stale"
    with zone.writer() as txn:
        txn.replace("@", dns.rdataset.from_rdata(3600, current.replace(serial=current.serial - 1)))
    with extra_bind(home, STALE, ZONE, zone.to_text(relativize=False)):
        yield int(current.serial)


@pytest.mark.lab
def test_a_nameserver_behind_within_one_provider_is_a_warning(
    cli, tmp_path: Path, stale_bind: int, synced: Project
) -> None:
    """A copy of the project pinning bind's nameservers to the lab's two and the stale one."""
    root = make_project(tmp_path / "p")
    config = root / "dnsops.yaml"
    marker = "    lab: true\n"
    pin = f"    nameservers: {{bind: [ns1.bind.test., ns2.bind.test., {STALE}]}}\n"
    text = config.read_text().replace(marker, marker + pin)
    text = text.replace("  state: .dnsops", f"  state: {synced.state_dir}")  # its secrets
    config.write_text(text)
    result = run(cli, root, "health", "--format", "json", "--vantage", "iad")
    doc = json.loads(result.stdout)
    serial = stale_bind
    assert soa_findings(doc) == [
        (
            "soa-serial",
            "warning",
            "example.test. at bind",
            f"bind's nameservers serve different SOA serials: ns1.bind.test. ({TEST_NET}.2.1), "
            f"ns2.bind.test. ({TEST_NET}.2.2) serve serial {serial}; {STALE} serves serial "
            f"{serial - 1}",
        )
    ]
    [f] = [f for f in doc["findings"] if f["id"] == "soa-serial"]
    assert f["provider"] == "bind"
    assert [(s["serial"], [m["address"] for m in s["servers"]]) for s in f["data"]["serials"]] == [
        (serial, [f"{TEST_NET}.2.1", f"{TEST_NET}.2.2"]),
        (serial - 1, [STALE]),
    ]
    rows = {r["address"]: r["serial"] for r in doc["nameservers"] if r["provider"] == "bind"}
    assert rows == {f"{TEST_NET}.2.1": serial, f"{TEST_NET}.2.2": serial, STALE: serial - 1}
    checks = by_check(doc)
    assert (checks["soa-serial"]["passed"], checks["soa-serial"]["failed"]) == (1, 1)  # pdns ok
    assert [f["id"] for f in doc["findings"]] == ["soa-serial"]
    assert result.exit_code == 0, result.output  # a warning: reported, not failing


# -- glue-matches-zone: a nameserver named inside the zone ------------------------------
# A module-own lab on the spare net (the parent's glue comes from the lab config): BIND
# also answers as ns3.example.test. on an address of its own (ns-distinct-addresses stays
# quiet), the parent holds glue for it (dnsops/lab/render.py renders an A record for every
# provider nameserver under the parent zone), and the zone adds it to its apex NS with its
# own A record, synced to both providers.

VANITY = "ns3.example.test."
VANITY_ADDR = f"{SPARE_NET}.2.3"


def _add_vanity_nameserver(root: Path) -> None:
    config = root / "dnsops.yaml"
    text = config.read_text()
    bind = f"nameservers: {{ns1.bind.test.: {SPARE_NET}.2.1, ns2.bind.test.: {SPARE_NET}.2.2}}"
    assert bind in text
    config.write_text(text.replace(bind, bind[:-1] + f", {VANITY}: {VANITY_ADDR}}}"))
    zone = root / "zones" / "example.test.yaml"
    text = zone.read_text()
    apex = "      - ns2.pdns.test.\n"
    assert apex in text and "\nsip:\n" in text
    text = text.replace(apex, apex + f"      - {VANITY}\n")
    text = text.replace(
        "\nsip:\n", f"\nns3:\n  ttl: 3600\n  type: A\n  value: {VANITY_ADDR}\nsip:\n"
    )
    zone.write_text(text)


@pytest.fixture(scope="module")
def vanity_lab() -> Iterator[Path]:
    with spare_lab("dnsops-soa-", _add_vanity_nameserver) as root:
        project = load_project(root / "dnsops.yaml")
        assert not sync_lab(project).has_changes
        yield root


def _update_spare(root: Path, build: Callable[[Any], Any]) -> None:
    secrets = LabRunner(load_project(root / "dnsops.yaml")).secrets()
    keyring = dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret})
    update = dns.update.Update(ZONE, keyring=keyring, keyalgorithm="hmac-sha256")
    build(update)
    assert dns.query.tcp(update, f"{SPARE_NET}.2.1", timeout=5).rcode() == 0


@pytest.mark.lab
def test_glue_and_the_zones_own_address_for_an_in_zone_nameserver(cli, vanity_lab: Path) -> None:
    code, doc = health(cli, vanity_lab, "--vantage", "iad")
    assert code == 0 and doc["findings"] == [], doc["findings"]
    checks = by_check(doc)
    assert (checks["glue-matches-zone"]["passed"], checks["glue-matches-zone"]["failed"]) == (1, 0)
    assert checks["delegation-glue"]["passed"] == 5  # ns3 among them
    rows = {r["name"]: r for r in doc["nameservers"]}
    assert (rows[VANITY]["provider"], rows[VANITY]["address"]) == ("bind", VANITY_ADDR)
    # the zone's A for ns3 changed on BIND only: the glue no longer matches what bind serves
    _update_spare(vanity_lab, lambda u: u.replace("ns3", 3600, "A", f"{SPARE_NET}.2.9"))
    try:
        code, doc = health(cli, vanity_lab, "--vantage", "iad")
    finally:
        _update_spare(vanity_lab, lambda u: u.replace("ns3", 3600, "A", VANITY_ADDR))
    assert code == 1
    # discovery resolves nameserver names as a resolver does, so it now finds ns3 at the
    # zone's new address, where nothing answers: bind is its two other servers
    names = [(r["provider"], r["name"]) for r in doc["nameservers"]]
    assert names == [(p, f"ns{i}.{p}.test.") for p in ("pdns", "bind") for i in (1, 2)]
    [f] = [f for f in doc["findings"] if f["id"] == "glue-matches-zone"]
    n = SPARE_NET
    assert (f["severity"], f["subject"], f["zone"]) == (
        "error",
        f"{VANITY} at parent {n}.0.1",
        ZONE,
    )
    assert f["message"] == (
        f"{VANITY}: the parent ns.test. ({n}.0.1) gives glue {VANITY_ADDR}; pdns ns1.pdns.test. "
        f"({n}.1.1), ns2.pdns.test. ({n}.1.2) serve {VANITY_ADDR}; bind ns1.bind.test. "
        f"({n}.2.1), ns2.bind.test. ({n}.2.2) serve {n}.2.9"
    )
    assert (f["data"]["parent"], [z["addresses"] for z in f["data"]["zone"]]) == (
        [VANITY_ADDR],
        [[VANITY_ADDR], [f"{n}.2.9"]],
    )
    # the same change is also a record bind serves wrong: a different check's finding; and
    # ns3 now resolves to an address where nothing answers, so discovery cannot tell whose
    # it is (no SOA MNAME from it): apex-ns-providers names it as no provider's
    assert sorted((f["id"], f["subject"]) for f in doc["findings"]) == [
        ("apex-ns-providers", ZONE),
        ("glue-matches-zone", f"{VANITY} at parent {n}.0.1"),
        ("rrset-served", f"{VANITY} A"),
    ]
    code, doc = health(cli, vanity_lab, "--vantage", "iad")
    assert code == 0 and doc["findings"] == []


@pytest.mark.lab
def test_each_nameservers_serial_in_the_text_table(cli, lab_dir: Path, synced: Project) -> None:
    _, doc = health(cli, lab_dir, "--vantage", "iad")
    serials = {r["name"]: r["serial"] for r in doc["nameservers"]}
    assert serials["ns1.bind.test."] == bind_soa().serial
    text = run(cli, lab_dir, "health", "--vantage", "iad")
    assert text.exit_code == 0, text.output
    rows = {line.split()[0]: line for line in text.stdout.splitlines() if ".test. " in line[:20]}
    for name, serial in serials.items():
        assert f" {serial} " in rows[name], rows[name]
        assert "…" not in rows[name] and len(rows[name]) <= 80, rows[name]  # fits, uncut
