"""Client-side faults: a provider blackholed at the vantages' own resolvers, regional loss,
and sampling through an SSH vantage during the drill. Real lab, real sshd, real nftables.

The module's lab runs on SPARE_NET. The SSH "host" (a real sshd on this machine) runs its
own unbound, started here, which sends its queries from its own address (SPARE_NET.5.2:
``outgoing-interface``); the vantage's ``blackhole.source`` names that address, so every
rule a drill adds matches only that resolver's packets (and the lab resolvers' rules only
theirs), never this machine's other traffic. Tables are ``dnsops_bh_<random>``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dnsops.config import SshVantage as SshConfig
from dnsops.config import load_project
from dnsops.drill import nft
from dnsops.drill.journal import Journal, JournalError
from dnsops.drill.machine import Undo, rollback_plan
from dnsops.drill.measure import Sample
from dnsops.drill.regions import region_impact
from dnsops.lab.render import _unbound
from dnsops.lab.runner import LabRunner
from dnsops.probe import Engine, Result
from dnsops.vantage.ssh import SshVantage, nft_command, ssh_command
from tests.conftest import (
    IN_CI,
    LAB_RESOLVERS,
    SPARE_NET,
    TEST_NET,
    free_port,
    make_project,
    require_lab,
    run,
)
from tests.sshd import SshLab, missing

SSH_HOST = {"vantage-lhr": f"{TEST_NET}.8.41"}
DEAD_HOST = {"vantage-dead": f"{TEST_NET}.8.43"}  # nothing listens there
HOST_RESOLVER = f"{SPARE_NET}.5.2"  # the unbound "on" the SSH host, its own source address

DEAD_PROBE = """name: dead-probe
hypothesis: a vantage that cannot be sampled stops the drill
steps:
  - {kind: wait, duration: 20s}
probing: {vantages: [dead-ssh]}
max_duration: 1m
"""  # valid only while dead-ssh is in dnsops.yaml: written by its test, then removed

SCENARIOS = {
    "bh-pdns": """name: bh-pdns
hypothesis: lhr-ssh's resolver losing pdns costs no resolution
steps:
  - {kind: provider-outage, provider: pdns, method: blackhole, vantages: [lhr-ssh], duration: 4s}
max_duration: 1m
""",
    "bh-bind": """name: bh-bind
hypothesis: lhr-ssh's resolver losing bind costs no resolution
steps:
  - {kind: provider-outage, provider: bind, method: blackhole, vantages: [lhr-ssh], duration: 4s}
max_duration: 1m
""",
    "kill-bh": """name: kill-bh
hypothesis: a long blackhole, here and on the SSH host, to be killed
steps:
  - kind: provider-outage
    provider: bind
    method: blackhole
    vantages: [lhr, lhr-ssh]
    duration: 60s
abort: {success_below: 0.0}
max_duration: 2m
""",
    "loss-eu": """name: loss-eu
hypothesis: eu-west losing 30 % of its packets to both providers costs no resolution
steps:
  - {kind: regional-loss, region: eu-west, loss: 0.3, duration: 8s}
abort: {success_below: 0.0}
max_duration: 1m
""",
}


# -- pure: the rule text, the journal, the rollback plan, the regions -------------------


def test_rule_text_matches_only_the_resolver_source_and_the_provider() -> None:
    rule = nft.Rule("127.9.3.2", ("127.9.1.2", "127.9.1.1", "2001:db8::53"), 1.0, "lhr: pdns")
    assert nft.rule_lines(rule) == [
        "ip saddr { 127.9.1.1, 127.9.1.2 } ip daddr 127.9.3.2 meta l4proto { udp, tcp } "
        'th sport 53 counter drop comment "lhr: pdns"'
    ]
    lossy = nft.Rule(None, ("127.9.1.1", "2001:db8::53"), 0.3)
    assert nft.rule_lines(lossy) == [
        "ip saddr { 127.9.1.1 } meta l4proto { udp, tcp } th sport 53 "
        "numgen random mod 100 < 30 counter drop",
        "ip6 saddr { 2001:db8::53 } meta l4proto { udp, tcp } th sport 53 "
        "numgen random mod 100 < 30 counter drop",
    ]
    assert nft.add_script("dnsops_bh_0123abcd", [rule]) == (
        "table inet dnsops_bh_0123abcd {\n"
        "  chain input {\n"
        "    type filter hook input priority -10; policy accept;\n"
        "    ip saddr { 127.9.1.1, 127.9.1.2 } ip daddr 127.9.3.2 meta l4proto { udp, tcp } "
        'th sport 53 counter drop comment "lhr: pdns"\n'
        "  }\n"
        "}\n"
    )
    assert nft.delete_script("dnsops_bh_0123abcd") == (
        "add table inet dnsops_bh_0123abcd\ndelete table inet dnsops_bh_0123abcd\n"
    )
    assert nft.percent(0.3) == 30 and nft.percent(0.001) == 1 and nft.percent(1.0) == 100
    with pytest.raises(ValueError, match="not a dnsops drill table name"):
        nft.add_script("filter; flush ruleset", [rule])
    with pytest.raises(ValueError, match="no rule"):
        nft.add_script("dnsops_bh_0123abcd", [nft.Rule("127.9.3.2", ("2001:db8::53",))])
    names = {nft.new_table() for _ in range(50)}
    assert len(names) == 50 and all(nft.check_table(n) for n in names)


def test_journal_records_where_each_table_is_and_rollback_undoes_each_once(
    project_dir: Path,
) -> None:
    project = load_project(project_dir / "dnsops.yaml")
    journal = Journal.start(project, run_id="r1", scenario="bh", environment="lab")
    script = nft.add_script("dnsops_bh_00000001", [nft.Rule("127.9.3.2", ("127.9.1.1",))])
    a = journal.intend(
        "drop-traffic", table="dnsops_bh_00000001", where="local", vantages=["lhr"],
        addresses=["127.9.1.1"], loss=1.0, rules=script,
    )  # fmt: skip
    b = journal.intend(
        "drop-traffic", table="dnsops_bh_00000002", where="lhr-ssh", vantages=["lhr-ssh"],
        addresses=["127.9.1.1"], loss=1.0, rules=script,
    )  # fmt: skip
    journal.mark(a, "done")
    on_disk = json.loads((project.state_dir / "drill" / "journal.json").read_text())
    assert [
        {k: x[k] for k in ("seq", "kind", "state", "table", "where", "vantages", "loss")}
        for x in on_disk["actions"]
    ] == [
        {"seq": 1, "kind": "drop-traffic", "state": "done", "table": "dnsops_bh_00000001",
         "where": "local", "vantages": ["lhr"], "loss": 1.0},
        {"seq": 2, "kind": "drop-traffic", "state": "intended", "table": "dnsops_bh_00000002",
         "where": "lhr-ssh", "vantages": ["lhr-ssh"], "loss": 1.0},
    ]  # fmt: skip
    assert on_disk["actions"][0]["rules"] == script
    loaded = Journal.load(project)
    assert loaded is not None
    plan = rollback_plan(loaded.actions)
    assert plan == [
        Undo("delete-nft-table", "dnsops_bh_00000001", (1,), where="local"),
        Undo("delete-nft-table", "dnsops_bh_00000002", (2,), where="lhr-ssh"),
    ]
    assert [u.describe() for u in plan] == [
        "remove nftables table dnsops_bh_00000001",
        "remove nftables table dnsops_bh_00000002 on SSH vantage lhr-ssh",
    ]
    journal.mark(b, "undone")
    assert len(rollback_plan(journal.actions)) == 1
    # an old journal without "where" means this machine
    assert rollback_plan(
        [{"seq": 1, "kind": "drop-traffic", "state": "done", "table": "dnsops_drill_x"}]
    ) == [Undo("delete-nft-table", "dnsops_drill_x", (1,), where="local")]
    data = json.loads(journal.path.read_text())
    data["actions"][1]["where"] = 7
    journal.path.write_text(json.dumps(data, indent=2))
    with pytest.raises(JournalError, match=r"actions\[1\]\.where: where: 'local' or an SSH"):
        Journal.load(project)


def _s(t: float, vantage: str, latency: float | None, rcode: str | None = "NXDOMAIN") -> Sample:
    return Sample(t, vantage, "nx:example.test.", 0, rcode, (), latency)


def test_region_impact_is_none_only_without_failures_retries_or_slow_answers() -> None:
    regions = {"iad": "us-east", "lhr": "eu-west", "lhr-ssh": "eu-west", "nrt": "ap"}
    samples = [_s(0.1 * i, v, 0.002) for i in range(10) for v in regions]
    # the fault: lhr loses 3 answers in 10 to a 60 ms retransmission, lhr-ssh one SERVFAIL
    samples += [_s(2 + 0.1 * i, "nrt", 0.002) for i in range(10)]
    # one stall of this machine in ten answers: within the noise allowed (10 %)
    samples += [_s(2 + 0.1 * i, "iad", 0.062 if i == 5 else 0.002) for i in range(10)]
    samples += [_s(2 + 0.1 * i, "lhr", 0.062 if i % 3 == 0 else 0.002) for i in range(10)]
    samples += [_s(2 + 0.1 * i, "lhr-ssh", 0.002) for i in range(9)]
    samples += [_s(2.95, "lhr-ssh", 0.004, "SERVFAIL")]
    out = region_impact(samples, {}, regions, {"eu-west"}, (0.0, 2.0), (2.0, 3.0))
    assert [(r["region"], r["vantages"], r["faulted"], r["impact"]) for r in out] == [
        ("ap", ["nrt"], False, "none"),
        ("eu-west", ["lhr", "lhr-ssh"], True, "failing"),
        ("us-east", ["iad"], False, "none"),
    ]
    eu = out[1]
    assert (eu["samples"], eu["success_fraction"], eu["servfail_fraction"]) == (20, 0.95, 0.05)
    assert eu["slow_fraction"] == 0.2 and eu["added_p95_ms"] == 60.0
    assert out[0]["added_p50_ms"] == 0.0 and out[0]["slow_fraction"] == 0.0
    assert (out[2]["slow_fraction"], out[2]["latency_max_ms"]) == (0.1, 62.0)
    only_slow = [s for s in samples if s.rcode != "SERVFAIL"]
    assert region_impact(only_slow, {}, regions, {"eu-west"}, (0, 2), (2, 3))[1]["impact"] == (
        "degraded"
    )


def test_nft_on_an_ssh_host_runs_through_sudo_n_when_configured() -> None:
    base = {"kind": "ssh", "name": "lhr-ssh", "region": "eu-west", "host": "probe-lhr"}
    cfg = SshConfig(**base, resolver="127.0.0.1", blackhole={"sudo": True, "source": "10.0.3.7"})
    cmd = ssh_command(cfg, None, [*nft_command(cfg), "-f", "-"])
    assert cmd[-7:] == ["--", "probe-lhr", "sudo", "-n", "nft", "-f", "-"]
    assert "BatchMode=yes" in cmd
    plain = SshConfig(**base, resolver="system", blackhole={"nft": "/usr/sbin/nft"})
    assert nft_command(plain) == ["/usr/sbin/nft"]
    assert ssh_command(plain)[-3:] == ["probe-lhr", "python3", "-"]
    with pytest.raises(ValueError, match="blackhole: the vantage asks no resolver"):
        SshConfig(**base, resolver=None, nameservers=True, blackhole={})
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        SshConfig(**base, blackhole={"source": "eth0"})


# -- the lab, the SSH host and its resolver ---------------------------------------------


def _ssh_processes(marker: str) -> list[int]:
    """PIDs of ssh clients whose command line names ``marker`` (our ssh_config)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"ssh") and marker.encode() in b" ".join(argv):
            out.append(int(entry.name))
    return out


def _tables() -> list[str]:
    res = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True)
    return [line.split()[2] for line in res.stdout.splitlines() if line.startswith("table inet")]


def _wait_answering(address: str) -> None:
    import dns.message
    import dns.query

    deadline = time.monotonic() + 20
    while True:
        try:
            q = dns.message.make_query("localhost.", "A")
            dns.query.udp(q, address, timeout=0.5)
            return
        except (OSError, dns.exception.DNSException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def bh_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SshLab]]:
    require_lab()
    reason = missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("blackhole")
    root = make_project(base / "p", net=SPARE_NET)
    ssh = SshLab(base / "ssh")
    unbound: subprocess.Popen[bytes] | None = None
    runner: LabRunner | None = None
    try:
        ssh.start(SSH_HOST, free_port(SSH_HOST["vantage-lhr"]), dead=DEAD_HOST)
        doc = yaml.safe_load((root / "dnsops.yaml").read_text())
        doc["environments"]["lab"]["vantages"] = [
            {
                "kind": "ssh",
                "name": "lhr-ssh",
                "region": "eu-west",
                "host": "vantage-lhr",
                "ssh_config": str(ssh.ssh_config),
                "resolver": HOST_RESOLVER,
                "blackhole": {"source": HOST_RESOLVER},
            }
        ]
        (root / "dnsops.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        for name, body in SCENARIOS.items():
            (root / "drills" / f"{name}.yaml").write_text(body)
        project = load_project(root / "dnsops.yaml")
        runner = LabRunner(project)
        runner.up()
        spec = _unbound("host-lhr", HOST_RESOLVER, 53, "eu-west", project.lab, base / "unbound")
        spec.home.mkdir(parents=True)
        for rel, text in spec.files.items():
            (spec.home / rel).write_text(text)
        with (base / "unbound.log").open("wb") as log:
            unbound = subprocess.Popen(list(spec.argv), stdout=log, stderr=subprocess.STDOUT)
        _wait_answering(HOST_RESOLVER)
        from typer.testing import CliRunner

        synced = run(CliRunner(), root, "sync", "--doit")
        assert synced.exit_code == 0, synced.output
        yield root, ssh
    finally:
        if unbound is not None:
            unbound.terminate()
            unbound.wait(timeout=10)
        if runner is not None:
            runner.down()
        ssh.stop()


def drill(root: Path, name: str) -> tuple[int, dict[str, Any], str]:
    from typer.testing import CliRunner

    res = run(CliRunner(), root, "drill", "run", name, "--format", "json")
    doc = json.loads(res.stdout) if res.stdout.strip() else {}
    return res.exit_code, doc, res.stderr


def assert_clean(root: Path, ssh: SshLab) -> None:
    """No drill table left, no ssh session left, both providers equal git."""
    from typer.testing import CliRunner

    left = _tables()
    assert [t for t in _journaled_tables(root) if t in left] == []
    deadline = time.monotonic() + 15
    while _ssh_processes(str(ssh.ssh_config)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ssh_processes(str(ssh.ssh_config)) == []
    while _remote_probes(SSH_HOST["vantage-lhr"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _remote_probes(SSH_HOST["vantage-lhr"]) == []  # nor the probe on the host
    assert not (root / ".dnsops" / "drill" / "journal.json").exists()
    plan = run(CliRunner(), root, "plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def _journaled_tables(root: Path) -> list[str]:
    tables = []
    for path in (root / ".dnsops" / "drill" / "journals").glob("*.json"):
        tables += [a["table"] for a in json.loads(path.read_text())["actions"]]
    return tables


@pytest.mark.lab
@pytest.mark.parametrize("provider", ["pdns", "bind"])
def test_blackhole_through_the_ssh_vantage_costs_no_resolution(
    bh_dir: tuple[Path, SshLab], provider: str
) -> None:
    root, ssh = bh_dir
    code, doc, stderr = drill(root, f"bh-{provider}")
    assert code == 0, stderr
    assert doc["verdict"] == "pass" and doc["reasons"] == []
    step = doc["steps"][0]
    assert (step["method"], step["provider"], step["ok"]) == ("blackhole", provider, True)
    [cut] = step["blackholed"]
    assert {k: cut[k] for k in ("vantage", "region", "where", "source")} == {
        "vantage": "lhr-ssh",
        "region": "eu-west",
        "where": "lhr-ssh",
        "source": HOST_RESOLVER,
    }
    assert cut["table"].startswith(nft.TABLE_PREFIX) and cut["table"] not in _tables()
    lab = load_project(root / "dnsops.yaml").lab
    assert step["addresses"] == list(lab.providers[provider].nameservers.values())
    impact = {x["vantage"]: x for x in step["impact"]}
    assert sorted(impact) == sorted([*LAB_RESOLVERS, "lhr-ssh"])
    remote = impact["lhr-ssh"]
    assert remote["success_fraction"] == 1.0
    assert remote["samples"] >= 4 * 5  # 4 s x 5/s, streamed over SSH
    assert remote["added_p50_ms"] is not None and remote["added_p95_ms"] is not None
    assert remote["latency_max_ms"] is not None
    print(f"blackhole {provider} at lhr-ssh:", json.dumps(remote))
    regions = {r["region"]: r for r in step["regions"]}
    assert regions["eu-west"]["faulted"] is True
    assert regions["eu-west"]["vantages"] == ["lhr", "lhr-ssh"]
    assert [n for n, r in regions.items() if r["faulted"]] == ["eu-west"]
    assert doc["rollback"] == {"undone": [], "verified": True, "problems": []}
    # the SSH vantage sampled the whole drill: baseline, fault and recovery
    ts = [p[0] for p in doc["timeline"]["vantages"]["lhr-ssh"]]
    assert min(ts) < step["fault_at"] < step["restored_at"] < max(ts)
    assert_clean(root, ssh)


def _spawn(root: Path, name: str, log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "dnsops"
    with log.open("wb") as fh:
        return subprocess.Popen(
            [str(exe), "--config", str(root / "dnsops.yaml"), "drill", "run", name],
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


@pytest.mark.lab
def test_sigkill_mid_blackhole_then_rollback_removes_the_rules_here_and_on_the_host(
    bh_dir: tuple[Path, SshLab], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    root, ssh = bh_dir
    log = tmp_path / "drill.log"
    proc = _spawn(root, "kill-bh", log)
    journal = root / ".dnsops" / "drill" / "journal.json"
    deadline = time.monotonic() + 60
    done: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            actions = json.loads(journal.read_text())["actions"]
        except (FileNotFoundError, ValueError):
            actions = []
        done = [a for a in actions if a["kind"] == "drop-traffic" and a["state"] == "done"]
        if len(done) == 2:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"the rules were not in the journal in time:\n{log.read_text()}")
    assert sorted((a["where"], a["vantages"][0]) for a in done) == [
        ("lhr-ssh", "lhr-ssh"),
        ("local", "lhr"),
    ]
    tables = [a["table"] for a in done]
    assert all(t in _tables() for t in tables)
    assert _ssh_processes(str(ssh.ssh_config)) != []  # the drill samples through SSH
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert all(t in _tables() for t in tables)  # nothing removed them: the process is dead
    rb = run(CliRunner(), root, "drill", "rollback", "--format", "json")
    assert rb.exit_code == 0, rb.output
    doc = json.loads(rb.stdout)
    assert doc["verified"] is True and doc["problems"] == []
    by_where = {a["where"]: a["table"] for a in done}
    assert sorted(doc["undone"]) == sorted(
        [
            f"remove nftables table {by_where['local']}",
            f"remove nftables table {by_where['lhr-ssh']} on SSH vantage lhr-ssh",
        ]
    )
    assert [t for t in tables if t in _tables()] == []
    assert_clean(root, ssh)


@pytest.mark.lab
def test_regional_loss_is_seen_in_that_region_only(bh_dir: tuple[Path, SshLab]) -> None:
    root, ssh = bh_dir
    code, doc, stderr = drill(root, "loss-eu")
    assert doc, stderr
    step = doc["steps"][0]
    assert (step["kind"], step["region"], step["loss"]) == ("regional-loss", "eu-west", 0.3)
    assert step["providers"] == ["pdns", "bind"]
    assert sorted((b["vantage"], b["where"]) for b in step["blackholed"]) == [
        ("lhr", "local"),
        ("lhr-ssh", "lhr-ssh"),
    ]
    regions = {r["region"]: r for r in step["regions"]}
    print("regional loss:", json.dumps(step["regions"]))
    lab_env = load_project(root / "dnsops.yaml").config.environments["lab"]
    assert sorted(regions) == sorted({r.region for r in lab_env.resolvers})
    eu = regions["eu-west"]
    assert eu["faulted"] is True and eu["vantages"] == ["lhr", "lhr-ssh"]
    for key in ("success_fraction", "retried_fraction", "added_p50_ms", "added_p95_ms"):
        assert eu[key] is not None
    assert eu["impact"] in ("degraded", "failing")
    for other in sorted(set(regions) - {"eu-west"}):
        assert regions[other]["faulted"] is False
        assert regions[other]["impact"] == "none", regions[other]
    assert (code == 0) == (doc["verdict"] == "pass") and doc["rollback"]["verified"] is True
    assert_clean(root, ssh)


def _remote_probes(address: str) -> list[int]:
    """PIDs of processes started by an SSH session to ``address`` (the probe on the host)."""
    out = []
    needle = b"SSH_CONNECTION="
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(needle) and f" {address} ".encode() in e for e in env):
            out.append(int(entry.name))
    return out


def _host_vantage(root: Path) -> SshVantage:
    [cfg] = [
        v
        for v in load_project(root / "dnsops.yaml").config.environments["lab"].vantages
        if v.name == "lhr-ssh"
    ]
    assert isinstance(cfg, SshConfig)
    return SshVantage(cfg, root, Engine(timeout=2.0, retries=1))


@pytest.mark.lab
def test_streaming_session_ends_at_its_deadline_with_every_round_complete(
    bh_dir: tuple[Path, SshLab],
) -> None:
    root, _ssh = bh_dir
    got: list[tuple[float, int, int, Result]] = []
    probes = [("example.test.", "SOA", False), ("example.test.", "A", True)]
    start = time.monotonic()
    problem = asyncio.run(
        _host_vantage(root).stream(
            probes, rate=5.0, streams=2, until=1.5, sink=lambda *a: got.append(a)
        )
    )
    assert problem is None
    assert got and len(got) % 4 == 0  # every round asked both probes on both streams
    rounds = sorted({t for t, _p, _k, _r in got})
    assert all(start <= t <= time.monotonic() for t in rounds)
    for t in rounds:
        assert sorted((p, k) for tt, p, k, _r in got if tt == t) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    soa = [r for _t, p, _k, r in got if p == 0]
    fresh = [r for _t, p, _k, r in got if p == 1]
    assert {(r.rcode_text, r.query.qname.to_text()) for r in soa} == {("NOERROR", "example.test.")}
    assert all(r.rcode_text == "NXDOMAIN" for r in fresh)
    names = [r.query.qname.to_text() for r in fresh]
    assert len(set(names)) == len(names)  # a fresh name each time: never cached
    assert all(n.startswith("dnsops-drill-") and n.endswith(".example.test.") for n in names)
    assert {r.query.target.address for r in soa + fresh} == {HOST_RESOLVER}


@pytest.mark.lab
def test_cancelled_streaming_session_leaves_no_process_here_or_on_the_host(
    bh_dir: tuple[Path, SshLab],
) -> None:
    root, ssh = bh_dir
    got: list[Any] = []

    async def main() -> str | None:
        task = asyncio.create_task(
            _host_vantage(root).stream(
                [("example.test.", "A", True)], rate=5.0, streams=1, until=60.0,
                sink=lambda *a: got.append(a),
            )
        )  # fmt: skip
        while not got:
            await asyncio.sleep(0.05)
        assert _ssh_processes(str(ssh.ssh_config)) != []
        assert _remote_probes(SSH_HOST["vantage-lhr"]) != []
        task.cancel()
        try:
            return await task
        except asyncio.CancelledError:
            return "cancelled"

    assert asyncio.run(main()) == "cancelled"
    assert _ssh_processes(str(ssh.ssh_config)) == []
    deadline = time.monotonic() + 10
    while _remote_probes(SSH_HOST["vantage-lhr"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _remote_probes(SSH_HOST["vantage-lhr"]) == []


@pytest.mark.lab
def test_a_vantage_that_cannot_be_sampled_stops_the_drill(bh_dir: tuple[Path, SshLab]) -> None:
    root, ssh = bh_dir
    config = root / "dnsops.yaml"
    original = config.read_text()
    doc = yaml.safe_load(original)
    doc["environments"]["lab"]["vantages"].append(
        {
            "kind": "ssh",
            "name": "dead-ssh",
            "region": "nowhere",
            "host": "vantage-dead",
            "ssh_config": str(ssh.ssh_config),
            "resolver": HOST_RESOLVER,
        }
    )
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    scenario = root / "drills" / "dead-probe.yaml"
    scenario.write_text(DEAD_PROBE)
    try:
        code, report, stderr = drill(root, "dead-probe")
    finally:
        config.write_text(original)
        scenario.unlink()
    assert code == 1, stderr
    assert report["vantages"] == [*LAB_RESOLVERS, "dead-ssh"]
    assert report["aborted"]["cause"] == "error"
    assert report["aborted"]["reason"].startswith(
        "sampling through SSH stopped: dead-ssh: unreachable: connection refused"
    ), report["aborted"]
    assert report["rollback"] == {"undone": [], "verified": True, "problems": []}
    assert_clean(root, ssh)


@pytest.mark.lab
def test_dry_run_names_each_machine_and_its_rules(bh_dir: tuple[Path, SshLab]) -> None:
    from typer.testing import CliRunner

    root, _ssh = bh_dir
    res = run(CliRunner(), root, "drill", "run", "loss-eu", "--dry-run", "--format", "json")
    assert res.exit_code == 0, res.output
    [step] = json.loads(res.stdout)["steps"]
    lab = load_project(root / "dnsops.yaml").lab
    addrs = ", ".join(
        sorted(
            [
                *lab.providers["pdns"].nameservers.values(),
                *lab.providers["bind"].nameservers.values(),
            ],
            key=lambda a: tuple(int(x) for x in a.split(".")),
        )
    )
    rule = "ip saddr {{ {} }} ip daddr {} meta l4proto {{ udp, tcp }} th sport 53 " + (
        "numgen random mod 100 < 30 counter drop"
    )
    assert step == {
        "index": 0,
        "kind": "regional-loss",
        "would": [
            "on this machine (lhr), for 8 s, nftables input: "
            + rule.format(addrs, lab_resolver(root, "lhr")),
            "on SSH vantage lhr-ssh (lhr-ssh), for 8 s, nftables input: "
            + rule.format(addrs, HOST_RESOLVER),
        ],
    }
    assert not (root / ".dnsops" / "drill" / "journal.json").exists()


def lab_resolver(root: Path, name: str) -> str:
    env = load_project(root / "dnsops.yaml").config.environments["lab"]
    return next(r.address for r in env.resolvers if r.name == name)


@pytest.mark.lab
def test_rollback_with_an_unreachable_host_is_not_verified_and_keeps_the_journal(
    bh_dir: tuple[Path, SshLab],
) -> None:
    """A table on a host that cannot be reached is neither removed nor verified: the
    rollback says so (exit 1) and keeps the journal for the next attempt."""
    from typer.testing import CliRunner

    root, ssh = bh_dir
    config = root / "dnsops.yaml"
    original = config.read_text()
    doc = yaml.safe_load(original)
    doc["environments"]["lab"]["vantages"].append(
        {
            "kind": "ssh",
            "name": "dead-ssh",
            "region": "nowhere",
            "host": "vantage-dead",
            "ssh_config": str(ssh.ssh_config),
            "resolver": HOST_RESOLVER,
            "blackhole": {"source": HOST_RESOLVER},
        }
    )
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    project = load_project(config)
    journal = Journal.start(project, run_id="r-dead", scenario="bh-dead", environment="lab")
    seq = journal.intend("drop-traffic", table="dnsops_bh_0000dead", where="dead-ssh")
    journal.mark(seq, "done")
    try:
        rb = run(CliRunner(), root, "drill", "rollback", "--format", "json")
        assert rb.exit_code == 1, rb.output
        out = json.loads(rb.stdout)
        assert out["verified"] is False and out["undone"] == []
        assert [p.split(":")[0] for p in out["problems"]] == [
            "remove nftables table dnsops_bh_0000dead on SSH vantage dead-ssh",
            "nftables table dnsops_bh_0000dead on SSH vantage dead-ssh",
        ]
        assert "connection refused" in out["problems"][0].lower()
        assert "not verified" in out["problems"][1]
        kept = Journal.load(project)
        assert kept is not None and kept.status == "rollback-failed"
        assert [a["state"] for a in kept.actions] == ["done"]
    finally:
        (root / ".dnsops" / "drill" / "journal.json").unlink(missing_ok=True)
        config.write_text(original)
    assert_clean(root, ssh)
