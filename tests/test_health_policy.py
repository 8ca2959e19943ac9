"""Health policies, layouts and renderers: pure parts, and bad input at the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from octodns.zone import Zone

from dnsops.config import load_project
from dnsops.env import Env
from dnsops.errors import ConfigError
from dnsops.expect import ZoneExpectation, build
from dnsops.findings import Finding, Severity
from dnsops.health import plan
from dnsops.health.checks import CATALOGUE
from dnsops.health.model import HealthReport, NameserverRow, VantageRow
from dnsops.health.policy import HealthPolicy, load_policy, policy_for
from dnsops.lint.capabilities import ProviderCaps
from dnsops.render import health as render
from dnsops.render.prometheus import render as prom
from tests import promtool
from tests.conftest import run


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_a_policy_remaps_severities_and_the_latency_limit(tmp_path: Path) -> None:
    pol = load_policy(write(tmp_path, "severity:\n  ns-axfr-refused: error\nlatency_ms: 80\n"))
    assert pol.severity_of("ns-axfr-refused") is Severity.ERROR
    assert pol.severity_of("ns-udp") is Severity.WARNING  # the catalogue's (Zonemaster CN01)
    assert pol.latency_ms == 80


def test_every_problem_of_a_policy_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "severity:\n  ns-aa: loud\n  ns-nope: error\nlatency_ms: -1\ncolour: red\n",
    )
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    lines = info.value.message.splitlines()
    assert f"{path}:3: severity.ns-nope: unknown check id" in lines
    assert any(
        line.startswith(f"{path}:2: severity.ns-aa: ") and "unknown severity 'loud'" in line
        for line in lines
    )
    assert any(line.startswith(f"{path}:4: latency_ms: ") for line in lines)
    assert f"{path}:5: colour: unknown key" in lines


def test_no_policy_file_means_the_catalogue(tmp_path: Path) -> None:
    assert policy_for(tmp_path, None) == HealthPolicy()
    (tmp_path / "health").mkdir()
    (tmp_path / "health" / "policy.yaml").write_text("")
    assert policy_for(tmp_path, None).severity == {}
    with pytest.raises(ConfigError, match="health policy file not found"):
        policy_for(tmp_path, tmp_path / "missing.yaml")


def test_bad_policy_at_the_cli_is_a_message_not_a_traceback(cli, project_dir: Path) -> None:
    bad = project_dir / "bad.yaml"
    bad.write_text("severity:\n  rrset-served: maybe\n")
    result = run(cli, project_dir, "health", "--policy", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2: severity.rrset-served:" in result.output
    assert "Traceback" not in result.output


def test_list_checks(cli, project_dir: Path) -> None:
    result = run(cli, project_dir, "health", "--list-checks", "--format", "json")
    assert result.exit_code == 0
    checks = json.loads(result.stdout)["checks"]
    assert [c["id"] for c in checks] == list(CATALOGUE)
    assert all(
        c["explain"].endswith(".") and c["severity"] in {str(s) for s in Severity} for c in checks
    )


def test_bad_flags_are_usage_errors(cli, project_dir: Path) -> None:
    assert run(cli, project_dir, "health", "--concurrency", "0").exit_code == 64
    assert run(cli, project_dir, "health", "--qps", "0").exit_code == 64
    assert run(cli, project_dir, "health", "--format", "xml").exit_code == 64


def expected(zone: Zone, root_ns_left: bool = False) -> ZoneExpectation:
    """The zone's expectation for the lab's pair, from the classes' capabilities."""
    from octodns_bind import Rfc2136Provider
    from octodns_powerdns import PowerDnsProvider

    caps = {
        "pdns": ProviderCaps.of("pdns", "octodns_powerdns.PowerDnsProvider", PowerDnsProvider),
        "bind": ProviderCaps.of("bind", "octodns_bind.Rfc2136Provider", Rfc2136Provider),
    }
    return build(zone, caps, root_ns_left)


def test_desired_rrsets_of_the_example_zone(project_dir: Path) -> None:
    project = load_project(project_dir / "dnsops.yaml")
    zone = Env(project).zones()["example.test."]
    rrsets = plan.desired(expected(zone), ("pdns", "bind"))
    assert len(rrsets) == 13
    api = next(d for d in rrsets if d.subject == "api.example.test. A")
    assert (api.ttl, api.values, api.section, api.providers) == (
        60,
        ("192.0.2.20", "192.0.2.21"),
        "answer",
        frozenset({"pdns", "bind"}),
    )
    assert api.file == str(Path("zones/example.test.yaml")) or api.file.endswith(
        "example.test.yaml"
    )
    unmanaged = plan.desired(expected(zone, root_ns_left=True), ("pdns", "bind"))
    assert [d.subject for d in rrsets if d not in unmanaged] == ["example.test. NS"]


def test_vantage_selection() -> None:
    class R:
        def __init__(self, name: str) -> None:
            self.name, self.region, self.address, self.port = name, "x", "192.0.2.1", 53

    resolvers = [R("iad"), R("lhr")]
    assert [v.name for v in plan.vantages(resolvers, ["lhr"])] == ["lhr"]
    assert [v.name for v in plan.vantages(resolvers, None)] == ["iad", "lhr"]
    with pytest.raises(ValueError, match="no vantage named sfo"):
        plan.vantages(resolvers, ["sfo"])


def test_vantage_selection_of_ssh_and_atlas() -> None:
    from dnsops.config import AtlasVantage, Resolver, SshVantage

    configs = [
        Resolver(name="iad", address="192.0.2.53", region="us-east"),
        SshVantage(kind="ssh", name="lhr-ssh", region="eu-west", host="h"),
        SshVantage(
            kind="ssh", name="ns-ssh", region="eu", host="h", resolver=None, nameservers=True
        ),
        SshVantage(kind="ssh", name="nrt-ssh", region="ap", host="h", resolver="10.0.0.53"),
        AtlasVantage.model_validate(
            {
                "kind": "ripe-atlas",
                "name": "atlas",
                "region": "eu",
                "probes": [{"type": "area", "value": "WW", "requested": 5}],
                "max_credits": 100,
            }
        ),
    ]
    # default: resolvers and SSH hosts that have a resolver; Atlas (credits) only by name
    assert [(v.name, v.kind, v.address) for v in plan.vantages(configs, None)] == [
        ("iad", "resolver", "192.0.2.53"),
        ("lhr-ssh", "ssh", "system"),
        ("nrt-ssh", "ssh", "10.0.0.53"),
    ]
    [atlas] = plan.vantages(configs, ["atlas"])
    assert (atlas.kind, atlas.address, atlas.remote) == ("ripe-atlas", "system", True)
    with pytest.raises(ValueError, match="vantage ns-ssh asks no resolver"):
        plan.vantages(configs, ["ns-ssh"])


def sample_report() -> HealthReport:
    return HealthReport(
        env="lab",
        zones=["example.test."],
        findings=[
            Finding(
                id="ns-udp",
                severity=Severity.CRITICAL,
                subject="pdns ns1 | x",
                message="down\nhard",
            )
        ],
        nameservers=[
            NameserverRow(
                "example.test.",
                "pdns",
                "ns1.pdns.test.",
                "192.0.2.1",
                False,
                False,
                False,
                "skipped",
                0,
                0,
                None,
                None,
                0,
            ),
            NameserverRow(
                "example.test.",
                "bind",
                "ns1.bind.test.",
                "192.0.2.2",
                True,
                True,
                True,
                "axfr",
                13,
                0,
                1.5,
                2.5,
                5,
                serial=1764500000,
            ),
        ],
        vantages=[VantageRow("example.test.", "iad", "us-east", "192.0.2.9", 13, 12, 1, 3.0, 9.0)],
        checks=[],
        seconds=1.5,
        queries=99,
    )


def test_prometheus_metrics_of_a_report(tmp_path: Path) -> None:
    text = prom(render.metrics(sample_report(), now=1700000000))
    (tmp_path / "health.prom").write_text(text)
    promtool.check(tmp_path / "health.prom")
    lines = text.splitlines()
    ns = (
        'environment="lab",zone="example.test.",provider="pdns",nameserver="ns1.pdns.test.",'
        'address="192.0.2.1"'
    )
    assert f"dnsops_health_nameserver_up{{{ns}}} 0" in lines
    bind = ns.replace("pdns", "bind").replace("192.0.2.1", "192.0.2.2")
    assert f"dnsops_health_nameserver_latency_median_seconds{{{bind}}} 0.0015" in lines
    assert f"dnsops_health_nameserver_latency_p95_seconds{{{bind}}} 0.0025" in lines
    assert "quantile=" not in text
    assert f"dnsops_health_nameserver_soa_serial{{{bind}}} 1764500000" in lines
    assert f"dnsops_health_nameserver_soa_serial{{{ns}}}" not in text  # no SOA: no serial
    iad = 'environment="lab",zone="example.test.",vantage="iad",kind="resolver",region="us-east"'
    assert f"dnsops_health_vantage_success_ratio{{{iad}}} 0.923077" in lines
    assert 'dnsops_health_findings{environment="lab",severity="critical"} 1' in lines
    assert 'dnsops_health_ok{environment="lab"} 0' in lines
    assert 'dnsops_health_last_run_timestamp_seconds{environment="lab"} 1700000000' in lines
    assert 'env="' not in text


def test_json_and_markdown_of_a_report() -> None:
    rep = sample_report()
    doc = json.loads(render.to_json(rep))
    assert (doc["ok"], doc["queries"], doc["findings"][0]["severity"]) == (False, 99, "critical")
    assert doc["vantages"][0]["success"] == round(12 / 13, 4)
    md = render.markdown(rep)
    row = "| bind | example.test. | ns1.bind.test. | 192.0.2.2 | yes | yes | yes | 1764500000 |"
    assert row + " 1.5 | 2.5 | 13 | 0 |" in md
    assert "| 192.0.2.1 | &#42;&#42;NO&#42;&#42; |" in md
    assert "&#42;&#42;NO&#42;&#42; | - | - | - | 0 | 0 |" in md  # no SOA: no serial
    assert "pdns ns1 &#124; x" in md and "down<br>hard" in md  # escaped for a table cell
    assert render.summary(rep) == "health FAIL: 1 finding(s) (1 critical); 99 queries in 1.5 s"


def test_delegations_glue_and_provider_restrictions() -> None:
    from octodns.record import Record
    from octodns.zone import Zone

    zone = Zone("example.test.", [])
    for name, data in (
        ("sub", {"type": "NS", "ttl": 3600, "values": ["ns.sub.example.test."]}),
        ("ns.sub", {"type": "A", "ttl": 3600, "value": "192.0.2.53"}),
        ("www", {"type": "A", "ttl": 60, "value": "192.0.2.80"}),
        (
            "only-pdns",
            {"type": "A", "ttl": 60, "value": "192.0.2.81", "octodns": {"excluded": ["bind"]}},
        ),
        ("skipped", {"type": "A", "ttl": 60, "value": "192.0.2.82", "octodns": {"ignored": True}}),
    ):
        zone.add_record(Record.new(zone, name, data))
    rrsets = {d.subject: d for d in plan.desired(expected(zone), ("pdns", "bind"))}
    held = {
        s: (d.section, d.expect.section, sorted(d.providers), sorted(d.held))
        for s, d in rrsets.items()
    }
    assert held == {
        "sub.example.test. NS": ("authority", "authority", ["bind", "pdns"], ["bind", "pdns"]),
        # glue: held (a zone transfer carries it), never asked by itself
        "ns.sub.example.test. A": ("additional", "additional", [], ["bind", "pdns"]),
        "www.example.test. A": ("answer", "answer", ["bind", "pdns"], ["bind", "pdns"]),
        "only-pdns.example.test. A": ("answer", "answer", ["pdns"], ["pdns"]),
    }
    assert rrsets["www.example.test. A"].owner == b"\x03www\x07example\x04test\x00"
