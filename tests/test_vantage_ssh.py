"""SSH vantages against real OpenSSH servers on loopback, probing the lab's real servers.

Two sshd "hosts" (iad-ssh, lhr-ssh: two 127.x addresses, two region labels)
run the stdlib probe that dnsops sends over the session; a third alias points
where nothing listens, a fourth offers a key the servers do not accept.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dnsops.config import Project, load_project
from dnsops.env import Env
from dnsops.probe import Engine, Query, Target
from dnsops.vantage import check as checker
from dnsops.vantage import plan, registry
from dnsops.vantage.ssh import SshVantage
from dnsops.zones import load_zones
from tests.conftest import IN_CI, LAB_RESOLVERS, TEST_NET, free_port, make_project, run
from tests.sshd import SshLab, missing
from tests.test_lab import sync_lab

pytestmark = pytest.mark.lab

HOSTS = {"vantage-iad": f"{TEST_NET}.8.1", "vantage-lhr": f"{TEST_NET}.8.2"}
DEAD = {"vantage-dead": f"{TEST_NET}.8.3"}
SILENT = (f"{TEST_NET}.8.9", 5353)  # a UDP "server" that never answers


@pytest.fixture(scope="module")
def ssh_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLab]:
    reason = missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    lab = SshLab(tmp_path_factory.mktemp("sshlab"))
    try:
        lab.start(HOSTS, free_port(HOSTS["vantage-iad"]), dead=DEAD)
        yield lab
    finally:
        lab.stop()


def vantages_yaml(lab: SshLab) -> list[dict[str, object]]:
    common = {"kind": "ssh", "ssh_config": str(lab.ssh_config), "nameservers": True}
    return [
        {
            **common,
            "name": "iad-ssh",
            "region": "us-east",
            "host": "vantage-iad",
            "resolver": f"{TEST_NET}.3.1",
        },
        {
            **common,
            "name": "lhr-ssh",
            "region": "eu-west",
            "host": "vantage-lhr",
            "resolver": f"{TEST_NET}.3.2",
        },
        {**common, "name": "dead-ssh", "region": "nowhere", "host": "vantage-dead"},
        {
            **common,
            "name": "stranger-ssh",
            "region": "nowhere",
            "host": "vantage-stranger",
            "timeout": 30,
        },
    ]


@pytest.fixture(scope="module")
def project(
    lab_project: Project, ssh_lab: SshLab, tmp_path_factory: pytest.TempPathFactory
) -> Project:
    """A copy of the lab project (same servers) whose lab environment has SSH vantages."""
    sync_lab(lab_project)
    root = make_project(tmp_path_factory.mktemp("vantageproject"))
    doc = yaml.safe_load((root / "dnsops.yaml").read_text())
    doc["environments"]["lab"]["vantages"] = vantages_yaml(ssh_lab)
    # the running lab's state (its generated secrets): audit reads the providers' APIs
    doc["paths"]["state"] = str(lab_project.state_dir)
    (root / "dnsops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_project(root / "dnsops.yaml")


def records(project: Project) -> list[plan.Wanted]:
    _, env = project.lab_environment()
    return plan.wanted(load_zones(project, env), env.providers)


def test_two_hosts_see_exactly_what_is_asked_directly(project: Project) -> None:
    _, env = project.lab_environment()
    recs = records(project)
    assert len(recs) == 13  # every RRset of example.test. (no delegation): all resolvable
    vantages = registry.build(project, env, ["iad-ssh", "lhr-ssh"])
    nameservers = checker.nameservers_of(Env(project), ["example.test."])
    assert len(nameservers) == 4
    work = checker.work_for(vantages, recs, nameservers)
    runs = registry.gather(work)

    for vrun, (v, queries) in zip(runs, work.items(), strict=True):
        assert (vrun.vantage, vrun.kind, vrun.status, vrun.problem) == (v.name, "ssh", "ok", None)
        assert vrun.info["host"] == socket.gethostname()
        assert len(vrun.observations) == len(queries) == len(recs) * 5
        # the same questions asked from here, straight at the same servers
        direct_queries = [
            Query(
                Target(q.target.address, q.target.port),
                q.qname,
                q.rdtype,
                rd=q.rd,
                expect=q.expect,
                key=q.key,
            )
            for q in queries
        ]
        direct = asyncio.run(Engine().run(direct_queries))
        for i, (o, d) in enumerate(zip(vrun.observations, direct, strict=True)):
            r = o.result
            assert (o.vantage, o.kind) == (v.name, "ssh")
            assert r.query is queries[i]
            assert (r.rcode, r.matched, r.aa) == (d.rcode, d.matched, d.aa), r.query.key
            ttl, values = r.served() if r.wire else (r.ttl, ())
            dttl, dvalues = d.served() if d.wire else (d.ttl, ())
            assert values == dvalues
            if not r.query.rd:  # authoritative: the very same TTL
                assert ttl == dttl
            assert r.matched is True
            assert o.origin.server == r.query.target.address
    assert [r.region for r in runs] == ["us-east", "eu-west"]


def test_unreachable_and_refused_hosts_are_findings_not_crashes(project: Project) -> None:
    _, env = project.lab_environment()
    recs = records(project)[:3]
    vantages = registry.build(project, env, ["iad-ssh", "dead-ssh", "stranger-ssh"])
    runs = registry.gather(checker.work_for(vantages, recs, []))
    ok, dead, stranger = runs
    assert ok.status == "ok" and all(o.result.matched for o in ok.observations)
    assert dead.status == "unreachable"
    assert dead.problem is not None and dead.problem.startswith("connection refused: ")
    assert [o.result.error for o in dead.observations] == [dead.problem] * len(recs)
    # a key the server refuses and a server that offers passwords: BatchMode never waits
    # for one (the session's 30 s deadline would say "too slow" otherwise)
    assert stranger.status == "unreachable"
    assert stranger.problem is not None
    assert stranger.problem.startswith("authentication failed (permission denied): ")


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(SILENT)
    stop = threading.Event()

    def swallow() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                sock.recv(4096)
            except OSError:
                continue

    t = threading.Thread(target=swallow, daemon=True)
    t.start()
    try:
        yield SILENT
    finally:
        stop.set()
        t.join()
        sock.close()


def test_a_too_slow_host_is_cut_off(project: Project, silent_server: tuple[str, int]) -> None:
    _, env = project.lab_environment()
    cfg = next(v for v in env.vantages if v.name == "iad-ssh")
    slow = SshVantage(
        cfg.model_copy(update={"timeout": 1.5}),
        project.root,
        Engine(timeout=5.0, retries=0),
    )
    target = Target(*silent_server)
    queries = [
        Query.make(target, "api.example.test.", "A"),
        Query.make(target, "example.test.", "SOA"),
    ]
    slow_run = asyncio.run(slow.resolve_many(queries))
    assert slow_run.status == "timeout"
    assert slow_run.problem == "too slow: no end of the session after 1.5 s (0 of 2 answers)"
    assert [o.result.error for o in slow_run.observations] == [slow_run.problem] * 2


def test_vantage_check_command(project: Project, ssh_lab: SshLab) -> None:
    cli = CliRunner()
    root = project.root
    res = run(cli, root, "vantage", "check", "-V", "iad-ssh", "-V", "lhr-ssh", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [(v["name"], v["kind"], v["region"], v["status"]) for v in doc["vantages"]] == [
        ("iad-ssh", "ssh", "us-east", "ok"),
        ("lhr-ssh", "ssh", "eu-west", "ok"),
    ]
    for v in doc["vantages"]:
        s = v["summary"]
        assert (s["answers"], s["matched"], s["mismatched"], s["failed"]) == (65, 65, 0, 0)
        assert s["p50_ms"] is not None and s["p95_ms"] >= s["p50_ms"]
        assert {a["kind"] for a in v["answers"]} == {"ssh"}
    assert doc["findings"] == []

    args = ("vantage", "check", "-V", "dead-ssh", "-V", "stranger-ssh", "-r", "api.example.test.")
    res = run(cli, root, *args, "--format", "json")
    assert res.exit_code == 1
    found = json.loads(res.stdout)["findings"]
    assert [(f["id"], f["subject"], f["severity"]) for f in found] == [
        ("vantage-unreachable", "dead-ssh (ssh, nowhere)", "error"),
        ("vantage-unreachable", "stranger-ssh (ssh, nowhere)", "error"),
    ]
    assert found[0]["message"].startswith("connection refused: ")
    assert found[0]["data"] == {
        "vantage": "dead-ssh",
        "kind": "ssh",
        "region": "nowhere",
        "status": "unreachable",
    }
    _no_key_material(ssh_lab, res.output)
    res = run(cli, root, *args)
    assert res.exit_code == 1
    _no_key_material(ssh_lab, res.output)

    res = run(cli, root, "vantage", "list", "--format", "json")
    assert res.exit_code == 0
    listed = json.loads(res.stdout)["vantages"]
    assert [(v["name"], v["kind"], v["region"]) for v in listed] == [
        ("iad", "resolver", "us-east"),
        ("lhr", "resolver", "eu-west"),
        ("nrt", "resolver", "ap-northeast"),
        ("sfo", "resolver", "us-west"),
        ("fra", "resolver", "eu-central"),
        ("sin", "resolver", "ap-southeast"),
        ("gru", "resolver", "sa-east"),
        ("bom", "resolver", "ap-south"),
        ("iad-ssh", "ssh", "us-east"),
        ("lhr-ssh", "ssh", "eu-west"),
        ("dead-ssh", "ssh", "nowhere"),
        ("stranger-ssh", "ssh", "nowhere"),
    ]
    iad_ssh = listed[len(LAB_RESOLVERS)]
    assert iad_ssh["asks"] == ["resolver", "nameservers"]
    assert iad_ssh["where"] == "ssh vantage-iad"


def _no_key_material(lab: SshLab, text: str) -> None:
    for key in (lab.client_key, lab.root / "stranger_ed25519", lab.root / "host_ed25519"):
        body = [ln for ln in key.read_text().splitlines() if not ln.startswith("-----")]
        assert body and not any(ln in text for ln in body)


def test_unknown_vantage_is_a_usage_error(project: Project) -> None:
    res = run(CliRunner(), project.root, "vantage", "check", "-V", "nope")
    assert res.exit_code == 1
    assert f"no vantage named nope (known: {', '.join(LAB_RESOLVERS)}, iad-ssh" in res.output


def test_ssh_config_path_is_relative_to_the_project(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    doc = yaml.safe_load((root / "dnsops.yaml").read_text())
    doc["environments"]["lab"]["vantages"] = [
        {"kind": "ssh", "name": "x", "region": "r", "host": "h", "ssh_config": "ssh/config"}
    ]
    (root / "dnsops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    proj = load_project(root / "dnsops.yaml")
    [v] = registry.build(proj, proj.lab_environment()[1], ["x"])
    assert isinstance(v, SshVantage)
    assert v.command[v.command.index("-F") + 1] == str(root / "ssh" / "config")


def test_drill_resolution_check_through_ssh_vantages(project: Project) -> None:
    from dnsops.drill.actions import Actions
    from dnsops.drill.model import ResolutionCheck

    actions = Actions(Env(project, project.lab_environment()[0]))
    check = ResolutionCheck.model_validate(
        {"check": "resolution", "name": "api.example.test.", "vantages": ["iad-ssh", "lhr-ssh"]}
    )
    assert actions.check(check).to_json() == {
        "check": "resolution api.example.test. A",
        "ok": True,
        "detail": [],
    }
    dead = check.model_copy(update={"vantages": ["lhr-ssh", "dead-ssh"]})
    result = actions.check(dead)
    assert not result.ok
    [problem] = result.detail
    assert problem.startswith("dead-ssh (ssh, nowhere): connection refused: ")


def test_audit_reads_the_data_plane_from_an_ssh_vantage(project: Project) -> None:
    cli = CliRunner()
    res = run(cli, project.root, "audit", "--vantage", "lhr-ssh", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["vantages"] == [{"name": "lhr-ssh", "kind": "ssh", "region": "eu-west"}]
    assert doc["consistent"] is True
    served = [s for z in doc["zones"] for p in z["providers"] for s in p["served"]]
    assert len(served) == 4
    # every nameserver asked record by record from the host (no zone transfer from there)
    assert {(s["method"], s["error"]) for s in served} == {("queries", None)}
    assert all(s["nameserver"].endswith(" from lhr-ssh") for s in served)
    assert {s["records"] for s in served} == {13}

    both = run(cli, project.root, "audit", "-V", "iad-ssh", "-V", "lhr-ssh", "--format", "json")
    assert both.exit_code == 0, both.output
    doc = json.loads(both.stdout)
    assert [v["name"] for v in doc["vantages"]] == ["iad-ssh", "lhr-ssh"]
    served = [s for z in doc["zones"] for p in z["providers"] for s in p["served"]]
    assert len(served) == 8  # 4 nameservers asked from each host
    assert sorted({s["nameserver"].rsplit(" from ", 1)[1] for s in served}) == [
        "iad-ssh",
        "lhr-ssh",
    ]

    res = run(cli, project.root, "audit", "--vantage", "dead-ssh", "--format", "json")
    assert res.exit_code == 1
    served = [
        s for z in json.loads(res.stdout)["zones"] for p in z["providers"] for s in p["served"]
    ]
    assert {s["error"].split(": ssh:")[0] for s in served} == {"from dead-ssh: connection refused"}

    res = run(cli, project.root, "audit", "--vantage", "iad")
    assert res.exit_code == 1
    assert "audit --vantage iad: the data plane is read from an SSH vantage" in res.output


def test_health_looks_through_ssh_vantages(project: Project) -> None:
    cli = CliRunner()
    args = ("health", "--vantage", "iad", "--vantage", "iad-ssh", "--vantage", "lhr-ssh")
    res = run(cli, project.root, *args, "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    rows = [
        (v["name"], v["kind"], v["region"], v["address"], v["status"], v["resolved"], v["checked"])
        for v in doc["vantages"]
    ]
    assert rows == [
        ("iad", "resolver", "us-east", f"{TEST_NET}.3.1", "ok", 13, 13),
        ("iad-ssh", "ssh", "us-east", f"{TEST_NET}.3.1", "ok", 13, 13),
        ("lhr-ssh", "ssh", "eu-west", f"{TEST_NET}.3.2", "ok", 13, 13),
    ]
    # the same resolver asked from here and from the host: the same records, the same verdicts
    direct, via = doc["vantages"][0]["records"], doc["vantages"][1]["records"]
    assert [(r["name"], r["type"], r["ok"]) for r in via] == [
        (r["name"], r["type"], r["ok"]) for r in direct
    ]
    reach = next(c for c in doc["checks"] if c["id"] == "vantage-reachable")
    assert (reach["passed"], reach["failed"]) == (3, 0)

    res = run(cli, project.root, "health", "--vantage", "dead-ssh", "--format", "json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    [row] = doc["vantages"]
    assert (row["kind"], row["status"], row["success"]) == ("ssh", "unreachable", 0.0)
    assert row["problem"].startswith("connection refused: ")
    vantage_findings = [f for f in doc["findings"] if f["id"].startswith("vantage")]
    assert [(f["id"], f["subject"]) for f in vantage_findings] == [
        ("vantage-reachable", "dead-ssh (ssh, nowhere)")
    ]
    assert vantage_findings[0]["data"]["kind"] == "ssh"
