"""The delegation checks of ``dnsops health`` (dnsops.health.delegation).

The pure judging over hand-built observations first; then real faults in a lab of
this module's own (on the spare net, so the session lab stays as it is): the parent's
zone file edited and reloaded (SIGHUP to its ``named``), BIND's apex NS changed by a
TSIG-signed update. Each fault is put back before its test ends.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update
import pytest

from dnsops.config import Project, load_project
from dnsops.env import Env, NameFacts, ProviderServers, ZoneFacts
from dnsops.health.delegation import (
    CHECKS,
    PLAIN_UDP,
    DelegationChecks,
    lame_verdict,
    longest_name,
    referral_octets,
    served_sets,
)
from dnsops.health.judge import Judge
from dnsops.health.model import Nameserver, ParentObs, ServerObs, ZoneLayout, ZoneObs
from dnsops.lab.render import next_serial, soa_serial, with_serial
from dnsops.lab.runner import LabRunner
from dnsops.probe import Query, Result, Target
from dnsops.probe.walk import Delegation, Server
from tests.conftest import SPARE_NET, run, spare_lab
from tests.test_health_core import result, rr
from tests.test_lab import sync_lab

ZONE = "example.test."
NET = SPARE_NET
PDNS = {"ns1.pdns.test.": f"{NET}.1.1", "ns2.pdns.test.": f"{NET}.1.2"}
BIND = {"ns1.bind.test.": f"{NET}.2.1", "ns2.bind.test.": f"{NET}.2.2"}
NAMES = sorted([*PDNS, *BIND])
PARENT = f"{NET}.0.1"
ROOT = f"{NET}.0.2"  # the lab root: asked for example.test., it refers to test. (no AA)
UNUSED = f"{NET}.0.99"  # no server: nothing answers there (and nothing leaves loopback)
MINE = CHECKS  # the checks of dnsops.health.delegation


# -- the pure judging -------------------------------------------------------------------

P1 = Nameserver("pdns", "ns1.pdns.test.", "192.0.2.1")
B1 = Nameserver("bind", "ns1.bind.test.", "192.0.2.2")
PARENT_T = Target("192.0.2.100", 53, "parent")


def facts(zone: str, names: dict[str, NameFacts], ns: tuple[str, ...]) -> ZoneFacts:
    providers = {
        p: ProviderServers(p, tuple(n for n, f in names.items() if f.owner == p), (), "dns")
        for p in ("pdns", "bind")
    }
    delegation = Delegation(zone, "test.", (Server("ns.test.", "192.0.2.100"),), ns)
    return ZoneFacts(zone, providers, delegation, "walk", names)


def observed(
    zone: str,
    served: tuple[str, ...],
    parent: tuple[str, ...],
    names: dict[str, NameFacts],
    servers: tuple[Nameserver, ...] = (P1, B1),
) -> ZoneObs:
    layout = ZoneLayout(
        zone,
        ("pdns", "bind"),
        servers,
        (),
        "test.",
        parents=(PARENT_T,),
        facts=facts(zone, names, parent),
    )
    zo = ZoneObs(layout, [ServerObs(ns) for ns in servers])
    for so in zo.servers:
        t = so.ns.target
        soa = rr(zone, 3600, "SOA", "ns1.pdns.test. h.example.test. 1 3600 600 604800 60")
        so.probes["soa-udp"] = result(t, zone, "SOA", answer=[soa])
        so.probes["ns"] = result(t, zone, "NS", answer=[rr(zone, 86400, "NS", *served)])
    po = ParentObs(PARENT_T)
    po.referral = result(PARENT_T, zone, "NS", aa=False, authority=[rr(zone, 86400, "NS", *parent)])
    zo.parents = [po]
    return zo


def name(n: str, *addresses: str, owner: str | None = None, **kw: str) -> NameFacts:
    return NameFacts(n, addresses, owner=owner, **kw)  # type: ignore[arg-type]


GOOD = {
    "ns1.pdns.test.": name("ns1.pdns.test.", "192.0.2.1", owner="pdns"),
    "ns1.bind.test.": name("ns1.bind.test.", "192.0.2.2", owner="bind"),
}
APEX = ("ns1.bind.test.", "ns1.pdns.test.")


def renamed(zo: ZoneObs, zone: str) -> ZoneObs:
    """The same observations (the very replies) for another zone of the same NS sets."""
    assert zo.layout.facts is not None
    lay = dataclasses.replace(
        zo.layout, zone=zone, facts=dataclasses.replace(zo.layout.facts, zone=zone)
    )
    out = ZoneObs(lay, [dataclasses.replace(so) for so in zo.servers], parents=zo.parents)
    out.others = zo.others
    return out


def judged(*zones: ZoneObs) -> Judge:
    judge = Judge()
    checks = DelegationChecks(judge)
    for zo in zones:
        checks.zone(zo)
    checks.finish()
    return judge


def test_a_healthy_delegation_passes_each_check_once_per_subject() -> None:
    judge = judged(observed(ZONE, APEX, APEX, GOOD))
    assert judge.outcomes == []
    assert {k: dict(judge.tally[k]) for k in MINE} == {
        "apex-ns-providers": {"passed": 1},
        "delegation-ns": {"passed": 2},  # each provider against the one parent server
        "ns-resolves": {"passed": 2},
        "ns-not-cname": {"passed": 2},
        "ns-distinct-addresses": {"passed": 2},
        "delegation-lame": {"passed": 1},
        "referral-size": {"passed": 1},
    }


def test_a_name_fault_in_many_zones_is_one_finding_naming_them() -> None:
    names = GOOD | {
        "ns9.bind.test.": name(
            "ns9.bind.test.", owner="bind", problem="ns9.bind.test. does not exist (NXDOMAIN)"
        )
    }
    served = (*APEX, "ns9.bind.test.")
    first = observed("z0.test.", served, served, names)
    zones = [first, *(renamed(first, f"z{i}.test.") for i in range(1, 1000))]
    judge = judged(*zones)
    [o] = [o for o in judge.outcomes if o.check == "ns-resolves"]
    assert (o.subject, o.zone) == ("ns9.bind.test.", None)
    assert o.message == (
        "ns9.bind.test. (listed by the parent and pdns and bind) resolves to no address: "
        "ns9.bind.test. does not exist (NXDOMAIN) (in 1000 zones: z0.test., z1.test., z2.test. "
        "and 997 more)"
    )
    assert o.data is not None and o.data["zones"] == [f"z{i}.test." for i in range(1000)]
    assert dict(judge.tally["ns-resolves"]) == {"passed": 2000, "failed": 1}
    # the per-zone faults stay per zone: no delegation finding, each zone's checks passed
    assert [o.check for o in judge.outcomes] == ["ns-resolves"]
    assert dict(judge.tally["delegation-ns"]) == {"passed": 2000}
    # one zone: the finding is that zone's, the message as is
    [one] = [o for o in judged(zones[0]).outcomes if o.check == "ns-resolves"]
    assert one.zone == "z0.test." and one.message.endswith("(NXDOMAIN)")


def test_strangers_aliases_and_shared_addresses_are_named() -> None:
    names = GOOD | {
        "ns.elsewhere.test.": name("ns.elsewhere.test.", "192.0.2.9"),
        "nsx.test.": name("nsx.test.", "192.0.2.1", owner="pdns", alias="ns1.pdns.test."),
    }
    zo = observed(ZONE, (*APEX, "ns.elsewhere.test."), (*APEX, "nsx.test."), names)
    zo.others["ns.elsewhere.test. 192.0.2.9"] = result(
        Target("192.0.2.9"), ZONE, "SOA", rcode=dns.rcode.REFUSED, aa=False
    )
    judge = judged(zo)
    got = {(o.check, o.subject): o.message for o in judge.outcomes}
    served = "pdns ns1.pdns.test. (192.0.2.1), bind ns1.bind.test. (192.0.2.2)"
    assert got == {
        ("apex-ns-providers", ZONE): "the apex NS set {ns.elsewhere.test., ns1.bind.test., "
        f"ns1.pdns.test.}} served by {served} names ns.elsewhere.test., which belongs to "
        "neither provider (pdns, bind)",
        ("delegation-ns", f"{ZONE} at parent 192.0.2.100"): "bind serves ns.elsewhere.test., "
        "which the parent does not list; the parent lists nsx.test., which bind does not serve",
        ("ns-not-cname", "nsx.test."): "nsx.test. (listed by the parent) is an alias (CNAME) of "
        "ns1.pdns.test.: an NS record must name the host itself (RFC 2181 §10.3)",
        ("ns-distinct-addresses", "192.0.2.1"): "ns1.pdns.test. and nsx.test. share the address "
        "192.0.2.1: one server counted as two",
        ("delegation-lame", "ns.elsewhere.test."): "ns.elsewhere.test., listed only at the "
        f"zone's apex NS, is lame for {ZONE}: 192.0.2.9 answers without authority (REFUSED, "
        "no AA flag)",
    }
    assert [o.provider for o in judge.outcomes if o.check == "delegation-ns"] == ["pdns", "bind"]
    # nsx.test. answers on pdns's address, authoritatively (its SOA probe, not asked again)
    assert dict(judge.tally["delegation-lame"]) == {"passed": 1, "failed": 1}
    assert dict(judge.tally["ns-resolves"]) == {"passed": 4}


def test_lame_and_silent_are_told_apart() -> None:
    t = Target("192.0.2.7")
    lame = result(t, ZONE, "SOA", aa=False, authority=[rr("test.", 60, "NS", "ns.test.")])
    silent = Result(Query.make(t, ZONE, "SOA"), error="timeout")
    good = result(t, ZONE, "SOA")
    assert lame_verdict(ZONE, "a.test.", "the parent", [("192.0.2.7", good)]) is None
    o = lame_verdict(ZONE, "a.test.", "the parent", [("192.0.2.7", lame)])
    assert o is not None and o.data is not None
    assert (o.message, o.data["kind"], o.data["side"]) == (
        f"a.test., listed only at the parent, is lame for {ZONE}: 192.0.2.7 answers without "
        "authority (NOERROR, no AA flag)",
        "lame",
        "parent",
    )
    o = lame_verdict(ZONE, "a.test.", "the zone's apex NS", [("192.0.2.7", silent)])
    assert o is not None and o.data is not None
    assert (o.message, o.data["kind"], o.data["side"]) == (
        f"a.test., listed only at the zone's apex NS, is silent: nothing answers for {ZONE} "
        "(192.0.2.7: timeout)",
        "silent",
        "zone",
    )


def test_the_referral_is_sized_as_zonemaster_builds_it() -> None:
    assert len(longest_name(dns.name.from_text(ZONE)).to_wire()) == 255
    v4 = {n: {"192.0.2.1"} for n in NAMES}
    # header 12; question 255 + 4; per NS RR owner pointer 2 + 10, names compressed:
    # ns1.bind.test. 4 + 5 + 2, ns1.pdns.test. 4 + 5 + 2, ns2.bind.test. 4 + 2, ns2.pdns.test.
    # 4 + 2; one A glue record (every name is under test.): 2 + 10 + 4
    ns = 4 * 12 + 11 + 11 + 6 + 6
    assert referral_octets(ZONE, "test.", NAMES, v4) == 12 + 259 + ns + 16 == 369
    both = {n: {"192.0.2.1", "2001:db8::1"} for n in NAMES}
    assert referral_octets(ZONE, "test.", NAMES, both) == 369 + 2 + 10 + 16
    # names outside the parent's bailiwick: the parent owes no glue
    assert referral_octets(ZONE, "org.", NAMES, v4) == 369 - 16
    assert referral_octets(ZONE, "test.", NAMES, {}) == 369 - 16
    assert PLAIN_UDP == 512


# -- the lab ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[Project]:
    with spare_lab("dnsops-deleg-") as root:
        project = load_project(root / "dnsops.yaml")
        assert not sync_lab(project).has_changes
        yield project


def run_json(cli, project: Project, *args: str) -> tuple[int, dict]:
    result = run(cli, project.root, "health", "--format", "json", "--vantage", "iad", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def health(cli, project: Project) -> tuple[int, dict]:
    return run_json(cli, project)


def mine(doc: dict) -> list[tuple[str, str, str, str | None, str]]:
    """(check, subject, severity, provider, message) of this module's checks' findings."""
    return sorted(
        (f["id"], f["subject"], f["severity"], f.get("provider"), f["message"])
        for f in doc["findings"]
        if f["id"] in MINE
    )


def _parent_serial() -> int | None:
    q = dns.message.make_query("test.", "SOA")
    try:
        reply = dns.query.udp(q, PARENT, timeout=1)
    except Exception:
        return None
    return next(iter(reply.answer[0])).serial if reply.answer else None


@contextmanager
def parent_zone(project: Project, *lines: str) -> Iterator[None]:
    """The lab parent's zone file with ``lines`` added, reloaded; put back afterwards."""
    runner = LabRunner(project)
    path = runner.state / "parent" / "parent.zone"
    pid = int(json.loads((runner.state / "processes.json").read_text())["parent"]["pid"])
    original = path.read_text()

    def load(text: str) -> None:
        serial = next_serial(soa_serial(path.read_text()), time.time())
        path.write_text(with_serial(text, serial))
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 15
        while _parent_serial() != serial:
            assert time.monotonic() < deadline, f"the parent did not load serial {serial}"
            time.sleep(0.1)

    load(original + "".join(f"{line}\n" for line in lines))
    try:
        yield
    finally:
        load(original)


def bind_update(project: Project, build: Callable[[dns.update.UpdateMessage], object]) -> None:
    secrets = LabRunner(project).secrets()
    keyring = dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret})
    update = dns.update.UpdateMessage(ZONE, keyring=keyring, keyalgorithm="hmac-sha256")
    build(update)
    assert dns.query.tcp(update, BIND["ns1.bind.test."], timeout=5).rcode() == 0


@contextmanager
def bind_apex_ns(project: Project, extra: str) -> Iterator[None]:
    """BIND serving one more apex NS name (by TSIG update); removed afterwards."""
    bind_update(project, lambda u: u.add("@", 86400, "NS", extra))
    try:
        yield
    finally:
        bind_update(project, lambda u: u.delete("@", "NS", extra))


@pytest.mark.lab
def test_the_healthy_lab_passes_the_delegation_checks(cli, lab: Project) -> None:
    code, doc = health(cli, lab)
    assert code == 0 and mine(doc) == []
    checks = {c["id"]: c for c in doc["checks"]}
    assert {k: checks[k]["passed"] for k in MINE} == {
        "apex-ns-providers": 1,
        "delegation-ns": 2,
        "ns-resolves": 4,
        "ns-not-cname": 4,
        "ns-distinct-addresses": 4,
        "delegation-lame": 1,
        "referral-size": 1,
    }


def _on_parent(project: Project, *lines: str) -> Callable[[], AbstractContextManager[None]]:
    return lambda: parent_zone(project, *lines)


AT_PARENT = f"{ZONE} at parent {PARENT}"
LONG = f"{'a' * 63}.{'b' * 63}.{'c' * 40}.test."


def faults(project: Project) -> dict[str, Callable[[], AbstractContextManager[None]]]:
    return {
        "fifth": lambda: bind_apex_ns(project, "ns3.bind.test."),
        "stranger": lambda: bind_apex_ns(project, "ns.elsewhere.test."),
        "lame": _on_parent(
            project,
            f"{ZONE} 86400 IN NS ns-lame.test.",
            f"ns-lame.test. IN A {ROOT}",
            f"{ZONE} 86400 IN NS ns-silent.test.",
            f"ns-silent.test. IN A {UNUSED}",
        ),
        "cname": _on_parent(
            project, f"{ZONE} 86400 IN NS nsx.test.", "nsx.test. IN CNAME ns1.pdns.test."
        ),
        "shared": _on_parent(
            project, f"{ZONE} 86400 IN NS ns3.pdns.test.", f"ns3.pdns.test. IN A {NET}.1.1"
        ),
        "big": _on_parent(project, f"{ZONE} 86400 IN NS {LONG}"),
    }


def _both(message: str) -> list[tuple[str, str, str, str | None, str]]:
    """delegation-ns failing alike for each provider ({p}: the provider)."""
    return [("delegation-ns", AT_PARENT, "error", p, message.format(p=p)) for p in ("bind", "pdns")]


EXPECTED: dict[str, list[tuple[str, str, str, str | None, str]]] = {
    # BIND serves a fifth name the parent does not list, and that resolves nowhere
    "fifth": [
        (
            "delegation-ns",
            AT_PARENT,
            "error",
            "bind",
            "bind serves ns3.bind.test., which the parent does not list",
        ),
        (
            "ns-resolves",
            "ns3.bind.test.",
            "error",
            None,
            "ns3.bind.test. (listed by bind) resolves to no address: ns3.bind.test. does not "
            "exist in test. (NXDOMAIN)",
        ),
    ],
    # a name of no provider in BIND's apex NS set
    "stranger": [
        (
            "apex-ns-providers",
            ZONE,
            "error",
            None,
            "the apex NS set {ns.elsewhere.test., ns1.bind.test., ns1.pdns.test., "
            f"ns2.bind.test., ns2.pdns.test.}} served by bind ns1.bind.test. ({NET}.2.1), bind "
            f"ns2.bind.test. ({NET}.2.2) names ns.elsewhere.test., which belongs to neither "
            "provider (pdns, bind)",
        ),
        (
            "delegation-ns",
            AT_PARENT,
            "error",
            "bind",
            "bind serves ns.elsewhere.test., which the parent does not list",
        ),
        (
            "ns-resolves",
            "ns.elsewhere.test.",
            "error",
            None,
            "ns.elsewhere.test. (listed by bind) resolves to no address: elsewhere.test. does "
            "not exist in test. (NXDOMAIN)",
        ),
    ],
    # two names only at the parent: one answers without authority, one not at all
    "lame": [
        (
            "delegation-lame",
            "ns-lame.test.",
            "warning",
            None,
            f"ns-lame.test., listed only at the parent, is lame for {ZONE}: {ROOT} answers "
            "without authority (NOERROR, no AA flag)",
        ),
        (
            "delegation-lame",
            "ns-silent.test.",
            "warning",
            None,
            f"ns-silent.test., listed only at the parent, is silent: nothing answers for {ZONE} "
            f"({UNUSED}: connection refused)",
        ),
        *_both("the parent lists ns-lame.test., ns-silent.test., which {p} does not serve"),
    ],
    # an NS name that is an alias of pdns's first name (so on its address too)
    "cname": [
        *_both("the parent lists nsx.test., which {p} does not serve"),
        (
            "ns-distinct-addresses",
            f"{NET}.1.1",
            "error",
            None,
            f"ns1.pdns.test. and nsx.test. share the address {NET}.1.1: one server counted as two",
        ),
        (
            "ns-not-cname",
            "nsx.test.",
            "error",
            None,
            "nsx.test. (listed by the parent) is an alias (CNAME) of ns1.pdns.test.: an NS "
            "record must name the host itself (RFC 2181 §10.3)",
        ),
    ],
    # a second name for pdns's first server
    "shared": [
        *_both("the parent lists ns3.pdns.test., which {p} does not serve"),
        (
            "ns-distinct-addresses",
            f"{NET}.1.1",
            "error",
            None,
            f"ns1.pdns.test. and ns3.pdns.test. share the address {NET}.1.1: one server "
            "counted as two",
        ),
    ],
    # one very long name more at the parent: the referral outgrows 512 octets
    "big": [
        *_both(f"the parent lists {LONG}, which {{p}} does not serve"),
        (
            "ns-resolves",
            LONG,
            "error",
            None,
            f"{LONG} (listed by the parent) resolves to no address: {LONG[128:]} does not "
            "exist in test. (NXDOMAIN)",
        ),
        (
            "referral-size",
            AT_PARENT,
            "warning",
            None,
            f"the parent {PARENT}'s referral for the longest name under {ZONE} takes 552 "
            "octets without EDNS (5 NS names), over the 512 a plain UDP reply holds: old "
            "resolvers get it truncated and must retry over TCP",
        ),
    ],
}
# (passed, failed, skipped) of each check under each fault
TALLY = {
    "fifth": {"apex-ns-providers": (2, 0, 0), "delegation-ns": (1, 1, 0), "ns-resolves": (4, 1, 0),
              "ns-not-cname": (5, 0, 0), "ns-distinct-addresses": (4, 0, 0),
              "delegation-lame": (0, 0, 1), "referral-size": (1, 0, 0)},
    "stranger": {"apex-ns-providers": (1, 1, 0), "delegation-ns": (1, 1, 0),
                 "ns-resolves": (4, 1, 0), "ns-not-cname": (5, 0, 0),
                 "ns-distinct-addresses": (4, 0, 0), "delegation-lame": (0, 0, 1),
                 "referral-size": (1, 0, 0)},
    "lame": {"apex-ns-providers": (1, 0, 0), "delegation-ns": (0, 2, 0), "ns-resolves": (6, 0, 0),
             "ns-not-cname": (6, 0, 0), "ns-distinct-addresses": (6, 0, 0),
             "delegation-lame": (0, 2, 0), "referral-size": (1, 0, 0)},
    "cname": {"apex-ns-providers": (1, 0, 0), "delegation-ns": (0, 2, 0), "ns-resolves": (5, 0, 0),
              "ns-not-cname": (4, 1, 0), "ns-distinct-addresses": (3, 1, 0),
              "delegation-lame": (1, 0, 0), "referral-size": (1, 0, 0)},
    "shared": {"apex-ns-providers": (1, 0, 0), "delegation-ns": (0, 2, 0),
               "ns-resolves": (5, 0, 0), "ns-not-cname": (5, 0, 0),
               "ns-distinct-addresses": (3, 1, 0), "delegation-lame": (1, 0, 0),
               "referral-size": (1, 0, 0)},
    "big": {"apex-ns-providers": (1, 0, 0), "delegation-ns": (0, 2, 0), "ns-resolves": (4, 1, 0),
            "ns-not-cname": (5, 0, 0), "ns-distinct-addresses": (4, 0, 0),
            "delegation-lame": (0, 0, 1), "referral-size": (0, 1, 0)},
}  # fmt: skip
# BIND's changed apex NS also differs from git and from pdns's: other checks' findings
OTHERS = {"fifth": ["apex-ns-consistent", "rrset-served"]}
OTHERS["stranger"] = OTHERS["fifth"]


@pytest.mark.lab
@pytest.mark.parametrize("case", list(EXPECTED))
def test_a_delegation_fault_is_named(cli, lab: Project, case: str) -> None:
    with faults(lab)[case]():
        code, doc = health(cli, lab)
    assert code == 1  # each fault brings an error (delegation-ns at least)
    assert mine(doc) == sorted(EXPECTED[case])
    checks = {c["id"]: c for c in doc["checks"]}
    assert {k: (checks[k]["passed"], checks[k]["failed"], checks[k]["skipped"]) for k in MINE} == (
        TALLY[case]
    )
    assert sorted({f["id"] for f in doc["findings"] if f["id"] not in MINE}) == OTHERS.get(case, [])
    # put back: the lab is healthy again
    code, doc = health(cli, lab)
    assert code == 0 and mine(doc) == []


@pytest.mark.lab
def test_delegation_findings_carry_their_data_and_warnings_alone_exit_0(
    cli, lab: Project, tmp_path: Path
) -> None:
    lenient = tmp_path / "lenient.yaml"  # the delegation-ns errors made notices
    lenient.write_text("severity:\n  delegation-ns: notice\n")
    with faults(lab)["lame"]():
        code, doc = run_json(cli, lab, "--policy", str(lenient))
    assert code == 0  # warnings (delegation-lame) and notices only
    lame = {f["subject"]: f["data"] for f in doc["findings"] if f["id"] == "delegation-lame"}
    assert lame == {
        "ns-lame.test.": {
            "name": "ns-lame.test.",
            "side": "parent",
            "kind": "lame",
            "addresses": [{"address": ROOT, "rcode": "NOERROR", "aa": False, "error": None}],
        },
        "ns-silent.test.": {
            "name": "ns-silent.test.",
            "side": "parent",
            "kind": "silent",
            "addresses": [
                {
                    "address": UNUSED,
                    "rcode": "no answer",
                    "aa": False,
                    "error": "connection refused",
                }
            ],
        },
    }
    ns = [f["data"] for f in doc["findings"] if f["id"] == "delegation-ns"]
    assert [(d["only_parent"], d["only_served"]) for d in ns] == [
        (["ns-lame.test.", "ns-silent.test."], [])
    ] * 2
    with faults(lab)["big"]():
        code, doc = health(cli, lab)
    [size] = [f["data"] for f in doc["findings"] if f["id"] == "referral-size"]
    assert (size["octets"], size["limit"], size["ns"]) == (552, 512, 5)
    # the parent's real referral for a random name, asked without EDNS: it fits (a short
    # name), the 255-octet name of Zonemaster's would not
    assert (size["observed_plain"], size["truncated"]) == (True, False)
    # (BIND rotates the NS set, and how well it compresses depends on the order: 324 to
    # 336 octets here)
    assert 300 < size["observed_octets"] < PLAIN_UDP


@pytest.mark.lab
def test_discovery_keeps_strangers_and_aliases_as_facts(cli, lab: Project) -> None:
    with faults(lab)["stranger"]():
        found = Env(lab).zone_facts(ZONE)
        shown = run(cli, lab.root, "env", "show", "--zone", ZONE)
    assert found.strangers == ("ns.elsewhere.test.",)
    assert found.names["ns.elsewhere.test."] == NameFacts(
        "ns.elsewhere.test.",
        (),
        "elsewhere.test. does not exist in test. (NXDOMAIN)",
        None,
        None,
        ("bind",),
    )
    assert found.names["ns1.bind.test."] == NameFacts(
        "ns1.bind.test.", (BIND["ns1.bind.test."],), None, None, "bind", ("bind", "pdns")
    )
    assert "  name ns.elsewhere.test. of no provider: (no address)" in shown.stdout
    with faults(lab)["cname"]():
        found = Env(lab).zone_facts(ZONE)
        shown = run(cli, lab.root, "env", "show", "--zone", ZONE)
    # the walker met the CNAME, followed it as a resolver does, and says so
    assert found.names["nsx.test."] == NameFacts(
        "nsx.test.", (PDNS["ns1.pdns.test."],), None, "ns1.pdns.test.", "pdns", ()
    )
    assert found.strangers == ()
    assert f"  name nsx.test. of pdns, an alias of ns1.pdns.test.: {NET}.1.1" in shown.stdout


@pytest.mark.lab
def test_the_extra_queries_are_the_plain_referral_and_a_soa_per_stranger_address(
    lab: Project,
) -> None:
    """Cost per zone: one referral without EDNS per parent server; a name of no provider
    one SOA per address. Nothing else."""
    from dnsops.health.delegation import queries
    from dnsops.health.driver import Options, layouts

    def extra() -> list[tuple[str, str, int | None]]:
        env = Env(lab)
        [layout] = layouts(env, env.zones(ZONE), Options(vantages=("iad",)))
        return [(q.target.address, q.qname.to_text(), q.edns) for q in queries(layout, "n")]

    referral = (PARENT, f"n.{ZONE}", None)
    assert extra() == [referral]
    with faults(lab)["lame"]():
        assert extra() == [referral, (ROOT, ZONE, 0), (UNUSED, ZONE, 0)]
    with faults(lab)["shared"]():  # pdns's (by its SOA): probed as its nameserver, not again
        assert extra() == [referral]


def test_a_served_name_discovery_never_heard_of_is_a_stranger_with_no_facts() -> None:
    """An API provider reports its delegation set, yet serves an apex NS set of its own."""
    zo = observed(ZONE, (*APEX, "ns.old.example."), APEX, GOOD)
    judge = Judge()
    checks = DelegationChecks(judge)
    checks.apex_providers(zo, served_sets(zo))
    checks.names(zo, served_sets(zo))
    [o] = judge.outcomes
    assert o.data is not None and (o.check, o.data["strangers"]) == (
        "apex-ns-providers",
        ["ns.old.example."],
    )
    # nothing known of its resolution: not judged rather than guessed
    assert dict(judge.tally["ns-resolves"]) == {"passed": 2, "skipped": 1}


def test_a_referral_truncated_without_edns_fails_as_observed() -> None:
    zo = observed(ZONE, APEX, APEX, GOOD)
    plain = result(
        PARENT_T,
        "dnsops-referral-1.example.test.",
        "A",
        aa=False,
        edns=None,  # type: ignore[arg-type]
        authority=[rr(ZONE, 3600, "NS", *APEX)],
    )
    plain.transport = "tcp"  # the UDP reply came with TC: the engine asked again over TCP
    zo.others[f"referral {PARENT_T.address}"] = plain
    judge = Judge()
    DelegationChecks(judge).referral_size(zo)
    [o] = judge.outcomes
    assert (o.check, o.subject) == ("referral-size", f"{ZONE} at parent 192.0.2.100")
    assert o.message == (
        f"the parent 192.0.2.100 truncated its referral for a name under {ZONE} asked without "
        f"EDNS (TC flag; {len(plain.wire or b'')} octets over TCP)"
    )
    assert o.data is not None
    # Zonemaster's packet of the two names: 12 + 259 + 2 * 12 + 11 + 11 + one A glue 16
    assert (o.data["octets"], o.data["observed_plain"], o.data["truncated"]) == (333, True, True)
