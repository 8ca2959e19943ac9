"""The lab as the internet in miniature: its root, resolvers that never leave
loopback, and zones added or removed while the lab runs. Real servers, exact answers."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from dnsops.config import Project, load_project
from tests.conftest import IN_CI, SPARE_NET, lab_unavailable, make_project, run

pytestmark = pytest.mark.lab

PROVIDER_NS = ["ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."]


def ask(addr: str, name: str, rtype: str, rd: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, rtype)
    if not rd:
        q.flags &= ~dns.flags.RD
    return dns.query.udp(q, addr, timeout=5)


def rrset_texts(section: list[Any], rtype: str) -> list[str]:
    rdtype = dns.rdatatype.from_text(rtype)
    return sorted(r.to_text() for rr in section if rr.rdtype == rdtype for r in rr)


def referral(resp: dns.message.Message, zone: str) -> list[str]:
    """The NS names of a referral to ``zone`` (no answer, not authoritative)."""
    assert resp.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(resp.rcode())
    assert not resp.answer and not resp.flags & dns.flags.AA
    assert {rr.name.to_text() for rr in resp.authority} == {zone}
    return rrset_texts(resp.authority, "NS")


def resolver_addresses(project: Project) -> list[str]:
    return [r.address for r in project.lab_environment()[1].resolvers]


# --- the root ----------------------------------------------------------------------------


def test_root_is_authoritative_for_the_root_zone(lab_project: Project) -> None:
    ((root_name, root_addr),) = lab_project.lab.root.items()
    resp = ask(root_addr, ".", "SOA")
    assert resp.rcode() == dns.rcode.NOERROR and resp.flags & dns.flags.AA
    (soa,) = resp.answer
    assert soa.name == dns.name.root
    assert soa[0].mname.to_text() == root_name == "a.root-servers.lab."
    assert soa[0].rname.to_text() == f"hostmaster.{root_name}"
    assert rrset_texts(ask(root_addr, ".", "NS").answer, "NS") == [root_name]
    assert rrset_texts(ask(root_addr, root_name, "A").answer, "A") == [root_addr]


def test_root_refers_test_to_the_parent_with_glue(lab_project: Project) -> None:
    lab = lab_project.lab
    root_addr = next(iter(lab.root.values()))
    ((parent_name, parent_addr),) = lab.parent.items()
    for qname in ("test.", "api.example.test."):
        resp = ask(root_addr, qname, "NS" if qname == "test." else "A")
        assert referral(resp, "test.") == [parent_name] == ["ns.test."]
        glue = {
            rr.name.to_text(): rrset_texts([rr], "A")
            for rr in resp.additional
            if rr.rdtype == dns.rdatatype.A
        }
        assert glue == {parent_name: [parent_addr]}


def test_resolvers_get_nxdomain_for_the_internet_from_the_lab_root(lab_project: Project) -> None:
    root_name = next(iter(lab_project.lab.root))
    for addr in resolver_addresses(lab_project):
        for qname in ("example.com.", f"dnsops-{secrets.token_hex(4)}.org."):
            resp = ask(addr, qname, "A", rd=True)
            assert resp.rcode() == dns.rcode.NXDOMAIN, (addr, qname, resp)
            assert resp.flags & dns.flags.RA
            (soa,) = resp.authority
            assert soa.rdtype == dns.rdatatype.SOA and soa.name == dns.name.root, (addr, resp)
            assert soa[0].mname.to_text() == root_name


def test_resolvers_follow_root_parent_providers(lab_project: Project) -> None:
    """No stub zone: the way to ns1.pdns.test. and example.test. starts at the lab root."""
    pdns_ns = lab_project.lab.providers["pdns"].nameservers
    for addr in resolver_addresses(lab_project):
        resp = ask(addr, "ns1.pdns.test.", "A", rd=True)
        assert rrset_texts(resp.answer, "A") == [pdns_ns["ns1.pdns.test."]]
        resp = ask(addr, "example.test.", "NS", rd=True)
        assert rrset_texts(resp.answer, "NS") == PROVIDER_NS


# --- nothing leaves loopback ---------------------------------------------------------------


def nft(*args: str) -> str:
    return subprocess.run(["nft", *args], capture_output=True, text=True, check=True).stdout


def counters(table: str) -> dict[str, int]:
    """comment -> packets of every counter rule of our own table."""
    doc = json.loads(nft("-j", "list", "table", "inet", table))
    out = {}
    for item in doc["nftables"]:
        rule = item.get("rule")
        if not rule:
            continue
        for expr in rule["expr"]:
            if "counter" in expr:
                out[rule.get("comment", "?")] = int(expr["counter"]["packets"])
    return out


@pytest.fixture
def dns_counter() -> Iterator[str]:
    """An nftables table of our own counting DNS packets this machine sends; those
    bound off loopback are also dropped, so even a failing test sends none out."""
    if shutil.which("nft") is None:
        reason = "nft missing (apt-get install nftables)"
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    table = f"dnsops_test_{os.getpid()}"
    dns53 = "meta l4proto { udp, tcp } th dport 53"
    ruleset = f"""
table inet {table} {{
    chain out {{
        type filter hook output priority 0; policy accept;
        ip daddr != 127.0.0.0/8 {dns53} counter drop comment "off-v4"
        ip6 daddr != ::1 {dns53} counter drop comment "off-v6"
        ip daddr 127.0.0.0/8 {dns53} counter comment "loopback"
    }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=ruleset, text=True, check=True)
    try:
        yield table
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], capture_output=True)


def test_no_query_leaves_loopback(lab_project: Project, dns_counter: str) -> None:
    names = [
        ("example.com.", "A"),
        ("com.", "NS"),
        (".", "NS"),
        ("a.root-servers.net.", "AAAA"),
        (f"dnsops-{secrets.token_hex(6)}.net.", "A"),
        (f"www.dnsops-{secrets.token_hex(6)}.example.", "MX"),
        ("1.1.1.1.in-addr.arpa.", "PTR"),
        ("ns1.bind.test.", "A"),
    ]
    rcodes = {}
    for addr in resolver_addresses(lab_project):
        for qname, rtype in names:
            rcodes[addr, qname] = dns.rcode.to_text(ask(addr, qname, rtype, rd=True).rcode())
    seen = counters(dns_counter)
    assert seen["off-v4"] == 0 and seen["off-v6"] == 0, seen
    # the hook saw the lab's own DNS traffic: the rule set was really in the path
    assert seen["loopback"] > 0, seen
    for addr in resolver_addresses(lab_project):
        assert rcodes[addr, "example.com."] == "NXDOMAIN"
        assert rcodes[addr, "1.1.1.1.in-addr.arpa."] == "NXDOMAIN"
        assert rcodes[addr, "ns1.bind.test."] == "NOERROR"


# --- a lab of our own, changed while it runs -------------------------------------------------


@pytest.fixture
def spare_lab(cli: Any, tmp_path: Path) -> Iterator[Path]:
    """A second lab on SPARE_NET, up for one test and down at its end."""
    reason = lab_unavailable()
    if reason:
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    root = make_project(tmp_path / "p", net=SPARE_NET)
    try:
        yield root
    finally:
        down = run(cli, root, "lab", "down")
        assert down.exit_code == 0, down.output


def pids(cli: Any, root: Path) -> dict[str, int]:
    status = run(cli, root, "lab", "status", "-f", "json")
    assert status.exit_code == 0, status.output
    return {s["name"]: s["pid"] for s in json.loads(status.stdout)["servers"]}


def parent_serial(parent: str) -> int:
    (soa,) = ask(parent, "test.", "SOA").answer
    return int(soa[0].serial)


def test_zone_added_and_removed_while_the_lab_runs(cli: Any, spare_lab: Path) -> None:
    root = spare_lab
    up = run(cli, root, "lab", "up")
    assert up.exit_code == 0, up.output
    first = run(cli, root, "sync", "--doit")
    assert first.exit_code == 0, first.output
    before = pids(cli, root)
    project = load_project(root / "dnsops.yaml")
    lab = project.lab
    parent = next(iter(lab.parent.values()))
    bind_addrs = lab.providers["bind"].addresses
    pdns_addrs = lab.providers["pdns"].addresses
    serials = [parent_serial(parent)]

    text = (root / "zones" / "example.test.yaml").read_text()
    (root / "zones" / "new.test.yaml").write_text(text.replace("example.test", "new.test"))
    added = run(cli, root, "lab", "up")
    assert added.exit_code == 0, added.output
    for line in (
        "parent: delegation of new.test. added",
        "parent: reloaded",
        "bind: added zone new.test.",
        "bind: reloaded",
        "pdns: added zone new.test.",
    ):
        assert line in added.output
    assert "root: already running" in added.output
    assert pids(cli, root) == before, "no server restarted"
    serials.append(parent_serial(parent))
    # served and delegated as soon as `lab up` returns
    assert referral(ask(parent, "new.test.", "NS"), "new.test.") == PROVIDER_NS
    for addr in bind_addrs + pdns_addrs:
        resp = ask(addr, "new.test.", "SOA")
        assert resp.rcode() == dns.rcode.NOERROR and resp.flags & dns.flags.AA, addr

    plan = run(cli, root, "plan")
    assert plan.exit_code == 0, plan.output
    assert "pdns: 12 to create, 0 to update, 0 to delete in 1 of 2 zone(s)" in plan.output
    assert "bind: 12 to create, 0 to update, 0 to delete in 1 of 2 zone(s)" in plan.output
    synced = run(cli, root, "sync", "--doit")
    assert synced.exit_code == 0, synced.output
    assert "verified on pdns: 12/12" in synced.output
    assert "verified on bind: 12/12" in synced.output
    for addr in resolver_addresses(project):
        resp = ask(addr, "api.new.test.", "A", rd=True)
        assert rrset_texts(resp.answer, "A") == ["192.0.2.20", "192.0.2.21"], addr

    (root / "zones" / "new.test.yaml").unlink()
    removed = run(cli, root, "lab", "up")
    assert removed.exit_code == 0, removed.output
    for line in (
        "parent: delegation of new.test. removed",
        "bind: removed zone new.test.",
        "pdns: removed zone new.test.",
    ):
        assert line in removed.output
    assert pids(cli, root) == before
    serials.append(parent_serial(parent))
    assert serials == sorted(set(serials)), f"the parent's serial must grow: {serials}"
    gone = ask(parent, "new.test.", "NS")
    assert gone.rcode() == dns.rcode.NXDOMAIN and gone.flags & dns.flags.AA
    for addr in bind_addrs + pdns_addrs:
        assert ask(addr, "new.test.", "SOA").rcode() == dns.rcode.REFUSED, addr
    assert not (root / ".dnsops" / "lab" / "bind" / "zones" / "new.test.zone").exists()
    # the other zone is untouched
    assert referral(ask(parent, "example.test.", "NS"), "example.test.") == PROVIDER_NS
    again = run(cli, root, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


NONS = """---
'':
  - ttl: 3600
    type: A
    value: 192.0.2.99
"""
NONS_WHY = (
    "zones/nons.test.yaml: no apex NS record: pdns and bind take nons.test.'s nameservers "
    "from the zone file, so it can be neither delegated nor served; add an NS record at '' "
    "(the apex)"
)
NONS_PROBLEM = f"warning: {NONS_WHY}"


def test_zone_without_apex_ns_is_skipped_with_one_warning(cli: Any, spare_lab: Path) -> None:
    root = spare_lab
    (root / "zones" / "nons.test.yaml").write_text(NONS)
    for args in (("lab", "up"), ("lab", "status"), ("lab", "up"), ("lab", "down", "resolver-iad")):
        result = run(cli, root, *args)
        assert result.exit_code == 0, (args, result.output)
        assert result.output.count("zones/nons.test.yaml") == 1, (args, result.output)
        assert NONS_PROBLEM in result.output, (args, result.output)
    status = run(cli, root, "lab", "status", "-f", "json")
    assert status.exit_code == 1  # resolver-iad is down now
    problems = json.loads(status.stdout)["problems"]
    assert problems == [NONS_PROBLEM.removeprefix("warning: ")]

    lab = load_project(root / "dnsops.yaml").lab
    parent = next(iter(lab.parent.values()))
    bind = lab.providers["bind"].addresses[0]
    assert referral(ask(parent, "example.test.", "NS"), "example.test.") == PROVIDER_NS
    assert ask(parent, "nons.test.", "NS").rcode() == dns.rcode.NXDOMAIN
    served = ask(bind, "example.test.", "SOA")
    assert served.rcode() == dns.rcode.NOERROR and served.flags & dns.flags.AA
    assert ask(bind, "nons.test.", "SOA").rcode() == dns.rcode.REFUSED

    # every other zone is planned, synced and checked; the left-out one is one error, exit 1
    assert run(cli, root, "lab", "up").exit_code == 0
    for args in (
        ("plan", "--format", "json"),
        ("sync", "--doit", "--format", "json"),
        ("health", "--format", "json"),
        ("audit", "--format", "json"),
    ):
        result = run(cli, root, *args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.count("zones/nons.test.yaml") == 1, (args, result.stderr)
        assert f"error: {NONS_WHY}" in " ".join(result.stderr.split()), (args, result.stderr)
        assert "1 zone was left out; every other zone was done" in result.stderr
        doc = json.loads(result.stdout)
        zones = {z if isinstance(z, str) else z["zone"] for z in doc.get("zones", [])} | {
            p["zone"] for p in doc.get("plans", [])
        }
        assert zones == {"example.test."}, (args, zones)
    synced = json.loads(run(cli, root, "sync", "--doit", "--format", "json").stdout)
    assert [o["status"] for o in synced["result"]["outcomes"]] == ["in-sync", "in-sync"]
