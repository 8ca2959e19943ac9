"""The production drill set in drills/: what each scenario rehearses, and that it can run
once the vantages it names are configured. Nothing here reaches production (dns-drill.yml
runs the set): the files are checked against dnsops.yaml and zones/, and the record
failover is dry-run against Route 53 on moto_server and the NS1 stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dnsops.config import load_project
from dnsops.drill.model import (
    CheckStep,
    Failback,
    RecordFailover,
    ResolutionCheck,
    Wait,
    load_scenarios,
)
from dnsops.errors import ConfigError
from dnsops.vantage import registry
from tests.conftest import REPO, make_project, reset_moto, run

EXAMPLE_VANTAGES = ["lhr-ssh", "nrt-ssh", "atlas-eu"]  # dnsops.yaml, commented out
PENDING = sorted((REPO / "drills").glob("*.yaml.example"))


def uncomment_example_vantages(root: Path) -> None:
    """dnsops.yaml's production vantages, uncommented as its comment tells the user to."""
    path = root / "dnsops.yaml"
    lines = path.read_text().splitlines()
    start = lines.index("    # vantages:")
    block = []
    for line in lines[start:]:
        if not line.startswith("    #"):
            break
        block.append(line)
    lines[start : start + len(block)] = ["    " + ln[len("    # ") :] for ln in block]
    path.write_text("\n".join(lines) + "\n")


def production_scenarios() -> dict[str, Any]:
    project = load_project(REPO / "dnsops.yaml")
    return {s.name: s for s in load_scenarios(project) if s.environment == "production"}


def test_the_production_set_is_one_loaded_scenario_and_two_pending() -> None:
    assert sorted(production_scenarios()) == ["production-api-failover"]
    assert [p.name for p in PENDING] == [
        "production-eu-west-loss.yaml.example",
        "production-ns1-blackhole.yaml.example",
    ]


def test_the_record_failover_moves_a_failover_critical_record_and_back() -> None:
    sc = production_scenarios()["production-api-failover"]
    project = load_project(REPO / "dnsops.yaml")
    _, env = project.environment("production")
    assert list(env.providers) == ["route53", "ns1"] and not env.lab
    failover, wait, failback, settle, check = sc.steps
    assert isinstance(failover, RecordFailover)
    assert (failover.zone, failover.name, failover.type) == ("example.test.", "api", "A")
    assert failover.values is None  # the record's own standby set
    assert isinstance(failback, Failback) and sc.failback_target(2) is failover
    assert isinstance(wait, Wait) and isinstance(settle, Wait)
    zone = yaml.safe_load((REPO / "zones" / "example.test.yaml").read_text())
    record = zone["api"]
    assert record["octodns"]["dnsops"]["class"] == "failover-critical"
    assert record["octodns"]["dnsops"]["standby"] == ["198.51.100.20", "198.51.100.21"]
    # the failback has settled at every cache (one TTL) before the last check
    assert settle.duration >= record["ttl"]
    # convergence is judged against the TTL plus the margin, and the drill has time for both
    assert failover.margin == failback.margin == sc.abort.margin == 15.0
    assert sc.max_duration >= 2 * (record["ttl"] + 15) + wait.duration + settle.duration
    # measured through the environment's public resolvers (the sampler asks every one)
    assert [(r.name, r.address) for r in env.resolvers] == [
        ("cloudflare", "1.1.1.1"),
        ("google", "8.8.8.8"),
        ("quad9", "9.9.9.9"),
    ]
    # ...and before and after through the SSH and RIPE Atlas vantages
    resolution = [c for c in sc.steady_state if isinstance(c, ResolutionCheck)]
    assert isinstance(check, CheckStep)
    resolution += [c for c in check.checks if isinstance(c, ResolutionCheck)]
    assert [(c.name, c.type, c.vantages) for c in resolution] == [
        ("api.example.test.", "A", EXAMPLE_VANTAGES),
        ("api.example.test.", "A", EXAMPLE_VANTAGES),
    ]


def test_the_named_vantages_are_dnsops_yamls_examples(tmp_path: Path) -> None:
    """As shipped, the vantages are commented out: the run stops before it changes
    anything, naming them. Uncommented (as dnsops.yaml says), each one exists."""
    root = make_project(tmp_path / "p")
    project = load_project(root / "dnsops.yaml")
    _, env = project.environment("production")
    with pytest.raises(ConfigError) as exc:
        registry.build(project, env, EXAMPLE_VANTAGES)
    assert exc.value.message == (
        "no vantage named lhr-ssh, nrt-ssh, atlas-eu (known: cloudflare, google, quad9)"
    )
    uncomment_example_vantages(root)
    project = load_project(root / "dnsops.yaml")
    _, env = project.environment("production")
    built = registry.build(project, env, EXAMPLE_VANTAGES)
    assert [(v.name, v.kind) for v in built] == [
        ("lhr-ssh", "ssh"),
        ("nrt-ssh", "ssh"),
        ("atlas-eu", "ripe-atlas"),
    ]
    # the whole set still loads with them
    names = [s.name for s in load_scenarios(project) if s.environment == "production"]
    assert names == ["production-api-failover"]


# the steps the pending files use, exactly as issue 15 gives their syntax
PENDING_STEPS = {
    "production-ns1-blackhole": {
        "kind": "provider-outage",
        "provider": "ns1",
        "method": "blackhole",
        "vantages": ["lhr-ssh", "nrt-ssh"],
        "duration": "60s",
    },
    "production-eu-west-loss": {
        "kind": "regional-loss",
        "region": "eu-west",
        "loss": 0.3,
        "providers": ["route53", "ns1"],
        "duration": "60s",
    },
}


@pytest.mark.parametrize("path", PENDING, ids=lambda p: p.name)
def test_a_pending_scenario_loads_once_the_example_vantages_are_enabled(
    path: Path, tmp_path: Path
) -> None:
    """Kept out of drills/*.yaml (and so out of `drill list` and the workflow) while the
    SSH vantages it cuts off are commented out in dnsops.yaml: refused as it stands (the
    vantages do not exist), loaded whole once they are uncommented as their comment says,
    with the blackhole / regional-loss step exactly as issue 15 gives it."""
    data = yaml.safe_load(path.read_text())
    name = path.name.removesuffix(".yaml.example")
    assert data["name"] == name and data["environment"] == "production"
    assert [s for s in data["steps"] if s == PENDING_STEPS[name]] == [PENDING_STEPS[name]]
    vantages = {v for c in data["steady_state"] if "vantages" in c for v in c["vantages"]}
    assert vantages <= set(EXAMPLE_VANTAGES)
    project = make_project(tmp_path / "p")
    (project / "drills" / f"{name}.yaml").write_text(path.read_text())
    with pytest.raises(ConfigError) as refused:
        load_scenarios(load_project(project / "dnsops.yaml"))
    assert f"{name}.yaml" in refused.value.message
    uncomment_example_vantages(project)
    loaded = {s.name: s for s in load_scenarios(load_project(project / "dnsops.yaml"))}
    scenario = loaded[name]
    assert scenario.environment == "production" and scenario.cadence == 92 * 86400
    kinds = [step.kind for step in scenario.steps]
    assert PENDING_STEPS[name]["kind"] in kinds


def test_the_eu_west_region_is_the_london_vantages(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    uncomment_example_vantages(root)
    _, env = load_project(root / "dnsops.yaml").environment("production")
    assert [v.name for v in env.vantages if v.region == "eu-west"] == ["lhr-ssh"]


@pytest.fixture
def production_root(
    tmp_path: Path, moto_server: str, ns1_standin: Any, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A project copy whose production is Route 53 on moto_server and the NS1 stand-in
    (tests/test_production_providers.py), synced from git."""
    from tests.test_production_providers import production_environ

    reset_moto(moto_server)
    ns1_standin.reset()
    root = make_project(tmp_path / "project")
    config = root / "config" / "production.yaml"
    data = yaml.safe_load(config.read_text())
    data["providers"]["ns1"]["client_config"] = ns1_standin.client_config()
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    for name, value in production_environ(moto_server).items():
        monkeypatch.setenv(name, value)
    return root


def test_the_production_failover_dry_run_names_both_providers_changes(
    cli: Any, production_root: Path
) -> None:
    synced = run(cli, production_root, "sync", "--env", "production", "--doit")
    assert synced.exit_code == 0, synced.output
    res = run(
        cli, production_root, "drill", "run", "production-api-failover", "--dry-run",
        "--format", "json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["steps"] == [
        {
            "index": 0,
            "kind": "record-failover",
            "would": ["route53: update api.example.test. A", "ns1: update api.example.test. A"],
        },
        {"index": 1, "kind": "wait", "would": ["wait 30 s"]},
        {
            "index": 2,
            "kind": "failback",
            "would": ["sync api.example.test. A back to git on both providers"],
        },
        {"index": 3, "kind": "wait", "would": ["wait 60 s"]},
        {"index": 4, "kind": "check", "would": ["check resolution", "check in-sync"]},
    ]
    # nothing was changed: both providers still equal git
    plan = run(cli, production_root, "plan", "--env", "production", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
