"""The lab: real PowerDNS, BIND and unbound; synced through octoDNS; exact answers."""

from __future__ import annotations

import json
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import pytest

from dnsops import octo
from dnsops.config import Project
from dnsops.lab.runner import LabRunner
from dnsops.sync import core
from dnsops.zones import load_zones
from tests.conftest import LAB_RESOLVERS, run

pytestmark = pytest.mark.lab

# name, type -> (ttl, sorted values as dig prints them) from zones/example.test.yaml
EXPECTED = {
    ("example.test.", "A"): (3600, ["192.0.2.10", "192.0.2.11"]),
    ("example.test.", "AAAA"): (3600, ["2001:db8::10", "2001:db8::11"]),
    ("example.test.", "MX"): (3600, ["10 mx1.example.test.", "20 mx2.example.test."]),
    ("example.test.", "CAA"): (
        86400,
        ['0 iodef "mailto:security@example.test"', '0 issue "letsencrypt.org"', '0 issuewild ";"'],
    ),
    ("example.test.", "NS"): (
        86400,
        ["ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."],
    ),
    ("example.test.", "TXT"): (3600, ['"v=spf1 mx ip4:192.0.2.0/24 -all"']),
    ("_dmarc.example.test.", "TXT"): (
        3600,
        ['"v=DMARC1; p=reject; rua=mailto:dmarc@example.test"'],
    ),
    ("_sip._tcp.example.test.", "SRV"): (3600, ["10 60 5060 sip.example.test."]),
    ("api.example.test.", "A"): (60, ["192.0.2.20", "192.0.2.21"]),
    ("www.example.test.", "CNAME"): (3600, ["example.test."]),
}


def ask(addr: str, name: str, rtype: str, rd: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, rtype)
    if not rd:
        q.flags &= ~dns.flags.RD
    return dns.query.udp(q, addr, timeout=3)


def answer(resp: dns.message.Message, name: str, rtype: str) -> tuple[int, list[str]]:
    rrset = resp.find_rrset(
        resp.answer, dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.from_text(rtype)
    )
    return rrset.ttl, sorted(r.to_text() for r in rrset)


def sync_lab(project: Project) -> core.PlanSet:
    _, env = project.lab_environment()
    zones = load_zones(project, env)
    providers = octo.targets(project, env)
    planset = core.plan(zones, providers)
    core.apply(planset, providers)
    return core.plan(zones, providers)


@pytest.fixture(scope="module")
def synced(lab_project: Project) -> Project:
    again = sync_lab(lab_project)
    assert not again.has_changes, "a second plan right after sync must be empty"
    return lab_project


def provider_addresses(project: Project) -> dict[str, list[str]]:
    return {name: prov.addresses for name, prov in project.lab.providers.items()}


def test_both_providers_serve_exact_answers(synced: Project) -> None:
    for pname, addrs in provider_addresses(synced).items():
        for addr in addrs:
            for (name, rtype), expected in EXPECTED.items():
                resp = ask(addr, name, rtype)
                assert resp.flags & dns.flags.AA, f"{pname} {addr} not authoritative for {name}"
                assert answer(resp, name, rtype) == expected, (pname, addr, name, rtype)


def test_every_resolver_follows_the_delegation(synced: Project) -> None:
    _, env = synced.lab_environment()
    assert len(env.resolvers) >= 3
    for res in env.resolvers:
        for (name, rtype), (ttl, values) in EXPECTED.items():
            resp = ask(res.address, name, rtype, rd=True)
            got_ttl, got = answer(resp, name, rtype)
            assert got == values, (res.name, name, rtype)
            assert 0 < got_ttl <= ttl, (res.name, name, rtype, got_ttl)


def test_parent_delegates_to_both_providers_with_glue(synced: Project) -> None:
    parent = next(iter(synced.lab.parent.values()))
    resp = ask(parent, "api.example.test.", "A")
    assert not resp.answer
    ns = sorted(
        r.target.to_text() for rr in resp.authority for r in rr if rr.rdtype == dns.rdatatype.NS
    )
    assert ns == ["ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."]
    # the nameservers' addresses live in the parent zone (sibling glue); BIND 9.18
    # does not copy them into a referral's additional section, resolvers ask for them
    expected = {
        n: [a] for prov in synced.lab.providers.values() for n, a in prov.nameservers.items()
    }
    glue = {}
    for name in expected:
        r = ask(parent, name, "A")
        assert r.flags & dns.flags.AA
        glue[name] = [a.address for a in r.answer[0]]
    assert glue == expected


def test_second_sync_plans_nothing(synced: Project) -> None:
    _, env = synced.lab_environment()
    planset = core.plan(load_zones(synced, env), octo.targets(synced, env))
    assert [(p.provider, len(p.changes)) for p in planset.plans] == [("pdns", 0), ("bind", 0)]


def test_up_twice_is_idempotent(cli, lab_dir: Path, synced: Project) -> None:
    before = {s.name: s.pid for s in LabRunner(synced).status()}
    result = run(cli, lab_dir, "lab", "up", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {s["name"]: s["pid"] for s in doc["servers"]} == before
    assert all(s["answers"] and s["running"] for s in doc["servers"])


def test_lab_query_asks_every_server_through_the_probe_engine(
    cli, lab_dir: Path, synced: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dnsops.probe import Engine

    asked: list[str] = []
    original = Engine.run

    async def counted(self: Engine, queries, progress=None):  # type: ignore[no-untyped-def]
        asked.extend(str(q.target) for q in queries)
        return await original(self, queries, progress)

    monkeypatch.setattr(Engine, "run", counted)
    result = run(cli, lab_dir, "lab", "query", "api.example.test.", "A", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["agree"] is True
    ttl, values = EXPECTED[("api.example.test.", "A")]
    answers = {a["server"]: a for a in doc["answers"]}
    n = len(LAB_RESOLVERS)
    assert len(answers) == 4 + n and len(asked) == 4 + n  # one batch: nameservers, resolvers
    for server, a in answers.items():
        assert (a["rcode"], list(a["values"])) == ("NOERROR", values), server
        assert 0 < a["ttl"] <= ttl
    assert answers["pdns ns1.pdns.test."]["ttl"] == ttl


def test_status_json_lists_every_server(cli, lab_dir: Path) -> None:
    result = run(cli, lab_dir, "lab", "status", "--format", "json")
    assert result.exit_code == 0, result.output
    names = [s["name"] for s in json.loads(result.stdout)["servers"]]
    assert names == [
        "root",
        "parent",
        "pdns",
        "bind",
        *(f"resolver-{r}" for r in LAB_RESOLVERS),
    ]


def test_lab_secrets_never_printed(cli, lab_dir: Path, synced: Project) -> None:
    secrets = LabRunner(synced).secrets()
    outputs = [
        run(cli, lab_dir, *args)
        for args in (
            ("lab", "status"),
            ("lab", "status", "-f", "json"),
            ("lab", "up"),
            ("plan",),
            ("plan", "-f", "json"),
            ("validate",),
        )
    ]
    for res in outputs:
        assert res.exit_code == 0, res.output
        for secret in (secrets.pdns_api_key, secrets.tsig_secret):
            assert secret not in res.output
    state = LabRunner(synced).state / "secrets.json"
    assert state.stat().st_mode & 0o777 == 0o600


def test_down_twice_and_status_when_down(cli, tmp_path: Path) -> None:
    """A second, separate lab on its own addresses: up, down, down, status."""
    from tests.conftest import IN_CI, SPARE_NET, lab_unavailable, make_project

    reason = lab_unavailable()
    if reason:
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    root = make_project(tmp_path / "p", net=SPARE_NET)
    up = run(cli, root, "lab", "up", "resolver-iad", "parent")
    assert up.exit_code == 0, up.output
    first = run(cli, root, "lab", "down")
    assert first.exit_code == 0, first.output
    assert "resolver-iad: stopped" in first.output and "parent: stopped" in first.output
    second = run(cli, root, "lab", "down")
    assert second.exit_code == 0
    assert "nothing to stop" in second.output
    status = run(cli, root, "lab", "status", "-f", "json")
    assert status.exit_code == 1
    doc = json.loads(status.stdout)
    assert all(not s["running"] and not s["answers"] and s["pid"] is None for s in doc["servers"])
    # the loopback addresses BIND needed are gone again
    import subprocess

    lo = subprocess.run(
        ["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True
    ).stdout
    assert f"{SPARE_NET}.0.1/32" not in lo


def test_missing_binaries_one_message_with_install_command(
    cli, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dnsops.lab.runner as runner

    monkeypatch.setattr(runner, "PACKAGES", {**runner.PACKAGES, "named-x": "bind9-x"})
    result = run(cli, project_dir, "lab", "up")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "error: missing lab server binaries: named-x (package bind9-x)" in text
    assert f"hint: install them: {runner.INSTALL}" in text
    assert not (project_dir / ".dnsops" / "lab" / "processes.json").exists()


def test_without_root_the_lab_says_what_it_needs(
    cli, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dnsops.lab.runner as runner

    monkeypatch.setattr(runner.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(runner, "_effective_caps", lambda: 1 << runner.CAP_NET_ADMIN)
    result = run(cli, project_dir, "lab", "up")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "it needs root or CAP_NET_BIND_SERVICE" in text
    assert "Traceback" not in result.output


def test_bind_axfr_and_updates_need_the_tsig_key(synced: Project) -> None:
    import dns.query
    import dns.rcode
    import dns.tsigkeyring
    import dns.update
    import dns.xfr
    import dns.zone

    secrets = LabRunner(synced).secrets()
    keyring = dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret})
    bind = synced.lab.providers["bind"].addresses[0]

    with pytest.raises(dns.xfr.TransferError):
        dns.zone.from_xfr(dns.query.xfr(bind, "example.test."))
    zone = dns.zone.from_xfr(
        dns.query.xfr(bind, "example.test.", keyring=keyring, keyalgorithm="hmac-sha256")
    )
    assert sorted(str(n) for n in zone.nodes) == [
        "@", "_dmarc", "_sip._tcp", "api", "mx1", "mx2", "sip", "www",
    ]  # fmt: skip

    unsigned = dns.update.UpdateMessage("example.test.")
    unsigned.add("rogue", 60, "A", "192.0.2.66")
    assert dns.query.tcp(unsigned, bind, timeout=3).rcode() == dns.rcode.REFUSED
    assert ask(bind, "rogue.example.test.", "A").rcode() == dns.rcode.NXDOMAIN


def test_pdns_refuses_axfr(synced: Project) -> None:
    import dns.query
    import dns.xfr
    import dns.zone

    pdns = synced.lab.providers["pdns"].addresses[0]
    with pytest.raises((dns.xfr.TransferError, EOFError, ConnectionError)):
        dns.zone.from_xfr(dns.query.xfr(pdns, "example.test.", lifetime=5))


def test_up_refuses_addresses_another_server_answers_on(
    cli, tmp_path: Path, lab_project: Project
) -> None:
    """A second lab configured on the session lab's addresses must not start beside it."""
    import shutil

    other = tmp_path / "other"
    shutil.copytree(lab_project.root, other, ignore=shutil.ignore_patterns(".dnsops"))
    result = run(cli, other, "lab", "up", "resolver-iad")
    assert result.exit_code == 1
    iad = next(r for r in lab_project.lab_environment()[1].resolvers if r.name == "iad")
    assert (
        f"resolver-iad: {iad.address}:53 already answers DNS, but not from a server this lab "
        "started (another lab, or a system DNS service?)"
    ) in " ".join(result.output.split())
    assert "Traceback" not in result.output
    procs = other / ".dnsops" / "lab" / "processes.json"
    assert not procs.exists() or json.loads(procs.read_text()) == {}


def test_a_start_that_fails_leaves_nothing_of_its_own_running(cli, tmp_path: Path) -> None:
    """Something else answers at resolver-iad's address: `lab up parent resolver-iad`
    starts the parent, refuses the resolver, and stops the parent again, so a half-started
    lab never holds addresses that make the next start fail as "taken"."""
    import socket
    import subprocess
    import threading

    import dns.message

    from tests.conftest import IN_CI, SPARE_NET, lab_unavailable, make_project

    reason = lab_unavailable()
    if reason:
        pytest.fail(reason) if IN_CI else pytest.skip(reason)
    root = make_project(tmp_path / "p", net=SPARE_NET)
    squatter = f"{SPARE_NET}.3.1"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((squatter, 53))
    sock.settimeout(0.2)
    stop = threading.Event()

    def answer() -> None:  # REFUSED to everything: a DNS server that is not ours
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            reply = dns.message.make_response(dns.message.from_wire(data))
            reply.set_rcode(dns.rcode.REFUSED)
            sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        up = run(cli, root, "lab", "up", "parent", "resolver-iad")
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
    assert up.exit_code == 1
    assert "parent: started (pid" in up.output
    assert f"resolver-iad: {squatter}:53 already answers DNS" in up.output
    status = run(cli, root, "lab", "status", "-f", "json")
    doc = json.loads(status.stdout)
    assert [s["name"] for s in doc["servers"] if s["running"] or s["pid"]] == []
    lo = subprocess.run(
        ["ip", "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True
    ).stdout
    assert f"{SPARE_NET}.0.1/32" not in lo
