"""dnsops health against the lab's real PowerDNS, BIND and unbound.

The session lab is synced once for the module; each scenario that breaks it
(an out-of-band change on BIND, PowerDNS stopped) puts it back before it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.tsigkeyring
import dns.update
import pytest

from dnsops.config import Project
from dnsops.health import delegation
from dnsops.health.checks import CATALOGUE
from dnsops.lab.runner import LabRunner
from tests import promtool
from tests.conftest import LAB_RESOLVERS, TEST_NET, make_project, run
from tests.test_lab import sync_lab
from tests.testbind import extra_bind

pytestmark = pytest.mark.lab

PDNS = {"ns1.pdns.test.": f"{TEST_NET}.1.1", "ns2.pdns.test.": f"{TEST_NET}.1.2"}
BIND = {"ns1.bind.test.": f"{TEST_NET}.2.1", "ns2.bind.test.": f"{TEST_NET}.2.2"}
RESOLVERS = [f"resolver-{r}" for r in LAB_RESOLVERS]
API_LINE = 60  # zones/example.test.yaml: the api record
DELEGATION = delegation.CHECKS  # dnsops.health.delegation's checks


@pytest.fixture(scope="module")
def synced(lab_project: Project) -> Project:
    assert not sync_lab(lab_project).has_changes
    return lab_project


def health(cli, lab_dir: Path, *args: str) -> tuple[int, dict]:
    result = run(cli, lab_dir, "health", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def by_check(doc: dict) -> dict[str, dict]:
    return {c["id"]: c for c in doc["checks"]}


def test_a_healthy_lab_passes_every_check(cli, lab_dir: Path, synced: Project) -> None:
    code, doc = health(cli, lab_dir)
    assert code == 0 and doc["ok"] is True
    assert doc["findings"] == []
    checks = by_check(doc)
    assert set(checks) == set(CATALOGUE)
    assert {k: c["failed"] for k, c in checks.items() if c["failed"]} == {}
    passed = {k: c["passed"] for k, c in checks.items()}
    for per_server in ("ns-udp", "ns-tcp", "ns-aa", "ns-soa", "ns-latency", "ns-open-resolver"):
        assert passed[per_server] == 4, per_server
    for per_server in ("ns-axfr-refused", "ns-edns", "ns-edns-version", "ns-nxdomain"):
        assert passed[per_server] == 4, per_server
    # -- nameserver behaviour (dnsops.health.behaviour): once per nameserver address --
    for per_address in (
        "ns-edns-breaks",
        "ns-edns-option",
        "ns-edns-flags",
        "ns-qname-case",
        "ns-upward-referral",
    ):
        assert passed[per_address] == 4, per_address
    # the lab's zone never truncates at 512 bytes (tests/test_health_edns.py makes one that does)
    assert (passed["ns-edns-truncated"], checks["ns-edns-truncated"]["skipped"]) == (0, 4)
    # -- end of nameserver behaviour --
    assert passed["apex-ns-consistent"] == passed["apex-ns-providers"] == 1
    # the roots of one-finding-per-cause: the zone answers, through each provider
    assert passed["zone-reachable"] == 1 and passed["provider-down"] == 2
    assert passed["delegation-glue"] == 4
    # -- the delegation checks (dnsops.health.delegation) -----------------------------
    # delegation-ns: each provider's served apex NS set against the one parent server;
    # the four NS names resolve, none is a CNAME, four addresses of one name each; every
    # name is on both sides (nothing lame); the referral: 4 NS names and one A glue
    assert {k: passed[k] for k in DELEGATION} == {
        "apex-ns-providers": 1,
        "delegation-ns": 2,
        "ns-resolves": 4,
        "ns-not-cname": 4,
        "ns-distinct-addresses": 4,
        "delegation-lame": 1,
        "referral-size": 1,
    }
    assert {k: checks[k]["skipped"] for k in DELEGATION} == dict.fromkeys(DELEGATION, 0)
    # -- end of the delegation checks ---------------------------------------------------
    assert passed["rrset-served"] == 13 * 2  # every desired RRset at each provider
    assert passed["rrset-extra"] == 1  # BIND's zone transfer holds nothing more
    assert passed["vantage-answer"] == passed["vantage-values"] == 13 * len(LAB_RESOLVERS)
    # -- SOA consistency and glue vs the zone (dnsops/health/consistency.py) --
    assert passed["soa-serial"] == 2  # one per provider: its nameservers agree
    assert passed["soa-rname"] == passed["soa-timers"] == 1  # one per zone, both providers
    # no nameserver named inside example.test.: nothing to compare, nothing asked
    assert (passed["glue-matches-zone"], checks["glue-matches-zone"]["skipped"]) == (0, 0)
    serials = {r["provider"]: r["serial"] for r in doc["nameservers"]}
    assert all(isinstance(s, int) for s in serials.values()), serials
    # -- end SOA consistency --
    # -- provider independence (tests/test_health_independence.py): the lab's origin zone
    # gives each provider its own documentation AS and each address its own /32
    independence = ("provider-asn", "provider-prefix", "provider-one-prefix")
    assert {k: passed[k] for k in independence} == {
        "provider-asn": 1,
        "provider-prefix": 1,
        "provider-one-prefix": 2,
    }
    assert [checks[k]["skipped"] for k in independence] == [0, 0, 0]
    [group] = doc["independence"]
    assert group["skipped"] is None and group["zone_count"] == 1
    assert {
        p: sorted({n for r in rows for n in r["asns"]}) for p, rows in group["providers"].items()
    } == {"pdns": [64496], "bind": [64497]}
    # -- end of provider independence
    rows = {r["name"]: r for r in doc["nameservers"]}
    assert {n: r["address"] for n, r in rows.items()} == PDNS | BIND
    # NSID (RFC 5001): which instance answered (the lab's server-id / nsid settings)
    assert {n: r["nsid"] for n, r in rows.items()} == {
        **dict.fromkeys(PDNS, "pdns.lab"),
        **dict.fromkeys(BIND, "bind.lab"),
    }
    for name, r in rows.items():
        assert (r["udp"], r["tcp"], r["aa"], r["checked"], r["mismatches"]) == (
            True,
            True,
            True,
            13,
            0,
        ), name
        assert r["latency_ms"] > 0 and r["p95_ms"] >= r["latency_ms"]
        assert r["method"] == ("axfr" if name in BIND else "queries")
    # UDP probes (5, and 6 of nameserver behaviour) + one per RRset
    assert rows["ns1.pdns.test."]["queries"] == 5 + 6 + 13
    vantages = {v["name"]: v for v in doc["vantages"]}
    assert sorted(vantages) == sorted(LAB_RESOLVERS)
    for v in vantages.values():
        assert (v["resolved"], v["failed"], v["success"]) == (13, 0, 1.0)
        assert v["latency_ms"] > 0
        ttls = {(r["name"], r["type"]): r["ttl"] for r in v["records"]}
        assert 0 <= ttls[("api.example.test.", "A")] <= 60
        assert 0 < ttls[("example.test.", "NS")] <= 86400


def test_text_markdown_and_prometheus(cli, lab_dir: Path, synced: Project, tmp_path: Path) -> None:
    prom = tmp_path / "textfile" / "dnsops_health.prom"
    prom.parent.mkdir()  # the collector's directory: dnsops creates none for --prom-file
    text = run(cli, lab_dir, "health", "--prom-file", str(prom))
    assert text.exit_code == 0, text.output
    for piece in (
        "example.test. at provider pdns",
        "example.test. at provider bind",
        "through each vantage point",
        "ns1.pdns.test.",
        f"{TEST_NET}.2.2",
        "ap-northeast",
        "health ok: 0 finding(s)",
    ):
        assert piece in text.stdout, piece
    # each nameserver row ends with the instance that answered (NSID), within 80 columns
    rows = [x for x in text.stdout.splitlines() if x.strip().startswith("ns") and "udp" in x]
    assert [x.split()[-1] for x in rows] == ["pdns.lab"] * 2 + ["bind.lab"] * 2
    assert max(len(x.rstrip()) for x in rows) <= 80
    lines = prom.read_text().splitlines()
    labels = (
        'environment="lab",zone="example.test.",provider="pdns",nameserver="ns1.pdns.test.",'
        f'address="{TEST_NET}.1.1"'
    )
    assert f"dnsops_health_nameserver_up{{{labels}}} 1" in lines
    assert f"dnsops_health_nameserver_mismatches{{{labels}}} 0" in lines
    vantage = (
        'environment="lab",zone="example.test.",vantage="lhr",kind="resolver",region="eu-west"'
    )
    assert f"dnsops_health_vantage_success_ratio{{{vantage}}} 1" in lines
    assert 'dnsops_health_ok{environment="lab"} 1' in lines
    assert "# TYPE dnsops_health_nameserver_latency_median_seconds gauge" in lines
    promtool.check(prom)
    md = run(cli, lab_dir, "health", "--format", "markdown")
    assert md.exit_code == 0
    assert "| pdns | example.test. | ns1.pdns.test. |" in md.stdout
    assert "No findings." in md.stdout


def _update(project: Project, build) -> None:
    secrets = LabRunner(project).secrets()
    keyring = dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret})
    update = dns.update.Update("example.test.", keyring=keyring, keyalgorithm="hmac-sha256")
    build(update)
    assert dns.query.tcp(update, BIND["ns1.bind.test."], timeout=5).rcode() == 0


@pytest.fixture
def changed_on_bind(synced: Project) -> Iterator[Project]:
    """api.example.test. A changed, and a TXT added, on BIND only, by TSIG update."""
    _update(
        synced,
        lambda u: (
            u.replace("api", 60, "A", "203.0.113.9"),
            u.add("handmade", 300, "TXT", '"added by hand"'),
        ),
    )
    try:
        yield synced
    finally:
        _update(
            synced,
            lambda u: (
                u.replace("api", 60, "A", "192.0.2.20", "192.0.2.21"),
                u.delete("handmade"),
            ),
        )


@pytest.mark.parametrize("method", ["--transfer", "--no-transfer"])
def test_an_out_of_band_change_on_bind_is_named(
    cli, lab_dir: Path, changed_on_bind: Project, method: str
) -> None:
    code, doc = health(cli, lab_dir, method, "--vantage", "iad")
    assert code == 1 and doc["ok"] is False
    served = [f for f in doc["findings"] if f["id"] == "rrset-served"]
    assert len(served) == 1
    f = served[0]
    assert (f["severity"], f["subject"], f["provider"], f["zone"]) == (
        "error",
        "api.example.test. A",
        "bind",
        "example.test.",
    )
    assert (f["file"], f["line"]) == ("zones/example.test.yaml", API_LINE)
    assert f["message"] == (
        f"ns1.bind.test. ({BIND['ns1.bind.test.']}), ns2.bind.test. ({BIND['ns2.bind.test.']}) "
        "serve 203.0.113.9 (TTL 60); desired 192.0.2.20, 192.0.2.21 (TTL 60)"
    )
    assert f["data"]["desired"] == {"ttl": 60, "values": ["192.0.2.20", "192.0.2.21"]}
    assert [(s["nameserver"], s["status"], s["values"], s["ttl"]) for s in f["data"]["served"]] == [
        ("ns1.bind.test.", "differs", ["203.0.113.9"], 60),
        ("ns2.bind.test.", "differs", ["203.0.113.9"], 60),
    ]
    rows = {r["name"]: r["mismatches"] for r in doc["nameservers"]}
    assert rows == {
        "ns1.pdns.test.": 0,
        "ns2.pdns.test.": 0,
        "ns1.bind.test.": 1,
        "ns2.bind.test.": 1,
    }
    extra = [f for f in doc["findings"] if f["id"] == "rrset-extra"]
    if method == "--transfer":  # only a zone transfer can see what git does not declare
        assert [(e["subject"], e["severity"], e["provider"]) for e in extra] == [
            ("handmade.example.test. TXT", "warning", "bind")
        ]
    else:
        assert extra == []


def test_remapping_a_severity_changes_the_exit_code(
    cli, lab_dir: Path, changed_on_bind: Project, tmp_path: Path
) -> None:
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("severity:\n  rrset-served: notice\n  rrset-extra: info\n")
    code, doc = health(cli, lab_dir, "--policy", str(lenient), "--vantage", "iad")
    assert code == 0 and doc["ok"] is True
    assert {f["id"]: f["severity"] for f in doc["findings"]} == {
        "rrset-served": "notice",
        "rrset-extra": "info",
    }
    assert doc["policy"] == str(lenient)


def test_latency_policy_and_a_stricter_severity(
    cli, lab_dir: Path, synced: Project, tmp_path: Path
) -> None:
    slow = tmp_path / "slow.yaml"
    slow.write_text("latency_ms: 0.001\n")
    code, doc = health(cli, lab_dir, "--policy", str(slow), "--vantage", "nrt")
    assert code == 0
    assert (
        sorted((f["id"], f["severity"]) for f in doc["findings"]) == [("ns-latency", "warning")] * 4
    )
    strict = tmp_path / "strict.yaml"
    strict.write_text("latency_ms: 0.001\nseverity:\n  ns-latency: error\n")
    code, doc = health(cli, lab_dir, "--policy", str(strict), "--vantage", "nrt")
    assert code == 1
    assert {(f["id"], f["severity"]) for f in doc["findings"]} == {("ns-latency", "error")}


def test_with_powerdns_down_bind_carries_the_zone(cli, lab_dir: Path, synced: Project) -> None:
    runner = LabRunner(synced)
    runner.down(["pdns"])
    # fresh resolvers: nothing cached, every answer has to come from a live provider
    runner.down(RESOLVERS)
    try:
        runner.up(RESOLVERS)
        code, doc = health(cli, lab_dir)
    finally:
        runner.up(["pdns"])
    assert code == 1
    # one root cause: pdns is down. Its servers' UDP and TCP failures are folded under it
    [down] = [f for f in doc["findings"] if f["severity"] in ("critical", "error")]
    assert (down["id"], down["subject"], down["severity"]) == ("provider-down", "pdns", "error")
    assert down["message"] == (
        "none of pdns's 2 nameserver address(es) answers for example.test. ("
        + ", ".join(f"{n} ({a})" for n, a in PDNS.items())
        + "): the zone hangs on bind alone"
    )
    assert sorted((c["id"], c["subject"], c["severity"]) for c in down["children"]) == sorted(
        (check, f"pdns {name} ({addr})", "warning")
        for check in ("ns-udp", "ns-tcp")
        for name, addr in PDNS.items()
    )
    assert all("connection refused" in c["message"] for c in down["children"])
    rows = {r["name"]: r for r in doc["nameservers"]}
    assert [(rows[n]["udp"], rows[n]["tcp"], rows[n]["method"]) for n in PDNS] == [
        (False, False, "skipped")
    ] * 2
    assert [rows[n]["udp"] for n in BIND] == [True, True]
    assert [(v["resolved"], v["checked"]) for v in doc["vantages"]] == [(13, 13)] * len(
        LAB_RESOLVERS
    )
    [covered] = [f for f in doc["findings"] if f["id"] == "provider-outage-covered"]
    assert covered["severity"] == "notice"
    assert covered["message"].startswith(
        "every nameserver of pdns is unreachable, yet every resolver"
    )
    assert covered["message"].endswith("resolved all 13 records: bind carried the zone")
    assert sorted(f["id"] for f in doc["findings"]) == ["provider-down", "provider-outage-covered"]
    # and it is healthy again
    code, _ = health(cli, lab_dir, "--vantage", "iad")
    assert code == 0


ROGUE = f"{TEST_NET}.9.1"


@pytest.fixture
def rogue_bind(tmp_path: Path, synced: Project) -> Iterator[str]:
    """A BIND that recurses for anyone and hands out zone transfers, on its own address."""
    parent = next(iter(synced.lab.parent.values()))
    zone = (
        "$ORIGIN example.test.\n$TTL 3600\n"
        "@ IN SOA ns2.bind.test. hostmaster.example.test. 1 3600 600 604800 60\n"
        + "".join(f"@ 86400 IN NS {ns}\n" for ns in sorted(PDNS | BIND))
        + "api 60 IN A 192.0.2.20\napi 60 IN A 192.0.2.21\n"
    )
    rogue = (
        "recursion yes;",
        "allow-recursion { any; };",
        "allow-query-cache { any; };",
        "allow-transfer { any; };",
        "dnssec-validation no;",
    )
    stub = f'zone "test" {{ type static-stub; server-addresses {{ {parent}; }}; }};\n'
    with extra_bind(tmp_path / "rogue", ROGUE, "example.test.", zone, rogue, stub) as address:
        yield address


def test_an_open_resolver_with_open_transfers_is_flagged(
    cli, tmp_path: Path, rogue_bind: str, synced: Project
) -> None:
    """A copy of the project whose BIND nameservers are pinned: both of BIND's and the rogue
    server (dnsops.yaml's override of what discovery would find)."""
    root = _pinned_project(tmp_path, synced, ["ns1.bind.test.", "ns2.bind.test.", rogue_bind])
    result = run(cli, root, "health", "--format", "json", "--vantage", "iad")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    rogue = f"bind {rogue_bind}"
    flagged = {(f["id"], f["severity"]) for f in doc["findings"] if f["subject"] == rogue}
    assert ("ns-open-resolver", "error") in flagged
    assert ("ns-axfr-refused", "notice") in flagged  # Zonemaster's AXFR_AVAILABLE
    others = {
        f["id"] for f in doc["findings"] if f["subject"] != rogue and f["id"].startswith("ns-")
    }
    assert others == set()
    [open_res] = [f for f in doc["findings"] if f["id"] == "ns-open-resolver"]
    assert open_res["message"].startswith("answered a recursive query for test. SOA (NOERROR")
    [axfr] = [f for f in doc["findings"] if f["id"] == "ns-axfr-refused"]
    assert axfr["message"] == "hands the whole zone (3 RRsets) to anyone who asks for a transfer"


def test_vantage_filter_and_unknown_vantage(cli, lab_dir: Path, synced: Project) -> None:
    code, doc = health(cli, lab_dir, "--vantage", "lhr", "--vantage", "nrt")
    assert code == 0
    assert [v["name"] for v in doc["vantages"]] == ["lhr", "nrt"]
    bad = run(cli, lab_dir, "health", "--vantage", "cdg")
    assert bad.exit_code == 1
    assert f"no vantage named cdg (known: {', '.join(sorted(LAB_RESOLVERS))})" in bad.output
    assert "Traceback" not in bad.output


def test_secrets_never_appear(cli, lab_dir: Path, synced: Project, tmp_path: Path) -> None:
    secrets = LabRunner(synced).secrets()
    prom = tmp_path / "m.prom"
    outputs = [
        run(cli, lab_dir, "health", *args).output
        for args in (("--prom-file", str(prom)), ("-f", "json"), ("-f", "markdown"), ("-v",))
    ]
    outputs.append(prom.read_text())
    for text in outputs:
        assert secrets.tsig_secret not in text
        assert secrets.pdns_api_key not in text


def _pinned_project(tmp_path: Path, synced: Project, bind: list[str]) -> Path:
    """A copy of the project whose bind nameservers are pinned (dnsops.yaml's override of
    what discovery finds), sharing the running lab's state (its secrets)."""
    root = make_project(tmp_path / "p")
    config = root / "dnsops.yaml"
    marker = "    lab: true\n"
    pin = f"    nameservers: {{bind: [{', '.join(bind)}]}}\n"
    text = config.read_text().replace(marker, marker + pin)
    text = text.replace("  state: .dnsops", f"  state: {synced.state_dir}")
    config.write_text(text)
    return root


def test_a_lame_server_is_one_finding_with_its_records_folded_under_it(
    cli, tmp_path: Path, synced: Project
) -> None:
    """The parent's server listed as a bind nameserver: it answers for example.test. with
    a referral, not authoritatively (lame). One finding, its 13 records folded under it."""
    parent = next(iter(synced.lab.parent.values()))
    root = _pinned_project(tmp_path, synced, ["ns1.bind.test.", "ns2.bind.test.", parent])
    result = run(cli, root, "health", "--format", "json", "--vantage", "iad")
    doc = json.loads(result.stdout)
    lame = f"bind {parent}"
    mine = [f for f in doc["findings"] if f["subject"] == lame]
    assert [(f["id"], f["severity"]) for f in mine] == [("ns-aa", "warning")]
    [root_cause] = mine
    assert root_cause["message"] == (
        "answers the SOA of example.test. without the AA flag (NOERROR)"
    )
    folded = [c["id"] for c in root_cause["children"]]
    assert folded.count("rrset-served") == 13
    # what a lame server fails besides: no SOA, no NXDOMAIN, and the EDNS flag probe (its
    # reply holds no SOA either): all the same cause
    assert sorted(set(folded)) == ["ns-edns-flags", "ns-nxdomain", "ns-soa", "rrset-served"]
    assert all(
        [s["address"] for s in c["data"]["served"]] == [parent]
        for c in root_cause["children"]
        if c["id"] == "rrset-served"
    )
    # nothing about the lame server is reported beside its root cause
    assert [f for f in doc["findings"] if parent in json.dumps(f) and f is not root_cause] == []
    text = run(cli, root, "health", "--vantage", "iad")
    assert (
        "caused by this, folded under it: ns-soa, ns-nxdomain, 13 rrset-served, ns-edns-flags"
        in " ".join(text.stdout.split())
    )
    assert text.exit_code == result.exit_code == 0  # one lame server of five: a warning


@contextlib.contextmanager
def _tcp_dropped(address: str) -> Iterator[None]:
    """nft: TCP to ``address`` port 53 dropped on the way out (loopback only), removed after."""
    table = f"dnsops_test_{os.getpid()}"
    rules = (
        f"table inet {table} {{\n chain out {{\n  type filter hook output priority 0;\n"
        f"  ip daddr {address} tcp dport 53 drop\n }}\n}}\n"
    )
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    try:
        yield
    finally:
        subprocess.run(["nft", "delete", "table", "inet", table], check=True)


def test_a_server_unreachable_over_tcp_is_a_warning_and_its_transfer_check_is_not_passed(
    cli, lab_dir: Path, synced: Project
) -> None:
    """nft drops TCP to ns2.bind.test.: ns-tcp fails; the anonymous transfer could not
    connect, which proves nothing (skipped, not passed); records are still checked."""
    address = BIND["ns2.bind.test."]
    with _tcp_dropped(address):
        code, doc = health(cli, lab_dir, "--vantage", "iad")
    assert code == 0  # a warning
    assert [(f["id"], f["subject"], f["severity"]) for f in doc["findings"]] == [
        ("ns-tcp", f"bind ns2.bind.test. ({address})", "warning")
    ]
    assert doc["findings"][0]["message"].startswith("no answer over TCP: ")
    checks = by_check(doc)
    assert (checks["ns-axfr-refused"]["passed"], checks["ns-axfr-refused"]["skipped"]) == (3, 1)
    rows = {r["name"]: r for r in doc["nameservers"]}
    assert (rows["ns2.bind.test."]["tcp"], rows["ns2.bind.test."]["method"]) == (False, "queries")
    assert rows["ns2.bind.test."]["checked"] == 13 and rows["ns2.bind.test."]["mismatches"] == 0


def test_a_probe_lost_under_load_is_asked_again_before_it_counts(synced: Project) -> None:
    """A server that answered TCP for one zone but not for another in the same run (a
    connection lost while 4,000 were in flight) is asked again, alone; one that answered
    for no zone is not (a server that drops TCP would only cost its timeouts again)."""
    import asyncio

    from dnsops.health import driver
    from dnsops.health.model import Nameserver, ServerObs, ZoneLayout, ZoneObs
    from dnsops.probe import Query, Result

    ns = Nameserver("bind", "ns1.bind.test.", BIND["ns1.bind.test."])
    other = Nameserver("bind", "ns9.bind.test.", f"{TEST_NET}.9.99")  # nothing there

    def zone(name: str, answered: bool) -> ZoneObs:
        lay = ZoneLayout(name, ("pdns", "bind"), (ns, other), (), "test.")
        obs = []
        for i, server in enumerate(lay.nameservers):
            q = Query.make(
                server.target, "example.test.", "SOA", tcp=True, key=(name, i, "soa-tcp")
            )
            so = ServerObs(server)
            ok = answered and server is ns
            so.probes["soa-tcp"] = Result(q, rcode=0 if ok else None, error=None if ok else "lost")
            obs.append(so)
        return ZoneObs(lay, obs)

    zones = [zone("a.test.", True), zone("example.test.", False)]
    sent = asyncio.run(driver._second_opinion(zones, driver.Options(timeout=1.0, retries=0)))
    assert sent == 1  # example.test. at ns1.bind.test.; never the silent address
    again = zones[1].servers[0].probes["soa-tcp"]
    assert (again.answered, again.transport, again.rcode_text) == (True, "tcp", "NOERROR")
    assert zones[1].servers[1].probes["soa-tcp"].error == "lost"
