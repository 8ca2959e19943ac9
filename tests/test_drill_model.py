"""Drill scenarios: the shipped ones load; every bad file is named with its line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dnsops.config import load_project
from dnsops.drill.model import (
    DEFAULT_CADENCE,
    Failback,
    ProviderOutage,
    RecordFailover,
    RegionalLoss,
    load_scenario,
    load_scenarios,
    parse_duration,
)
from dnsops.errors import ConfigError
from tests.conftest import run

FIXTURES = Path(__file__).parent / "fixtures" / "drills"


def test_shipped_scenarios_load(project_dir: Path) -> None:
    scenarios = {s.name: s for s in load_scenarios(load_project(project_dir / "dnsops.yaml"))}
    assert sorted(scenarios) == [
        "api-failover",
        "bind-outage",
        "pdns-outage",
        "production-api-failover",
    ]
    pdns = scenarios["pdns-outage"].steps[0]
    assert isinstance(pdns, ProviderOutage)
    assert (pdns.provider, pdns.method, pdns.duration) == ("pdns", "stop", 20.0)
    api = scenarios["api-failover"]
    assert isinstance(api.steps[0], RecordFailover) and api.steps[0].fqdn == "api.example.test."
    assert isinstance(api.steps[2], Failback)
    assert api.failback_target(2) is api.steps[0]
    assert api.cadence == DEFAULT_CADENCE == 92 * 86400
    # staggered priming (the default) adds about 2 x TTL to each change: 10 min, not 5
    assert api.abort.margin == 5.0 and api.max_duration == 600.0
    assert api.steps[0].prime == "staggered"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15s", 15.0), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0), ("92d", 7948800.0), (7, 7.0)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("unknown-key.yaml", "unknown-key.yaml:6: steps.0.duraton: unknown key"),
        (
            "bad-duration.yaml",
            "bad-duration.yaml:6: steps.0.duration: Value error, 'soon' is not a "
            "duration (examples: 15s, 500ms, 2m, 1h, 92d)",
        ),
        (
            "failback-first.yaml",
            "failback-first.yaml:1: (top level): Value error, steps.0: a failback needs a "
            "record-failover before it",
        ),
        ("not-yaml.yaml", "not-yaml.yaml:3: invalid YAML"),
    ],
)
def test_bad_file_names_file_and_line(fixture: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_scenario(FIXTURES / fixture)
    assert expected in exc.value.message


def test_unknown_provider_and_all_problems_at_once(project_dir: Path) -> None:
    for name in ("unknown-provider.yaml", "unknown-key.yaml"):
        shutil.copy(FIXTURES / name, project_dir / "drills" / name)
    with pytest.raises(ConfigError) as exc:
        load_scenarios(load_project(project_dir / "dnsops.yaml"))
    lines = exc.value.message.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("unknown-key.yaml:6: steps.0.duraton: unknown key")
    assert lines[1].endswith(
        "unknown-provider.yaml:1: steps.0.provider: 'route53' is not a provider of "
        "environment 'lab' (pdns, bind)"
    )


def test_cli_list_json_and_bad_file(cli, project_dir: Path) -> None:
    res = run(cli, project_dir, "drill", "list", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [s["name"] for s in doc["scenarios"]] == [
        "api-failover",
        "bind-outage",
        "pdns-outage",
        "production-api-failover",
    ]
    assert doc["scenarios"][0]["steps"] == ["record-failover", "wait", "failback"]
    shutil.copy(FIXTURES / "unknown-key.yaml", project_dir / "drills" / "typo.yaml")
    bad = run(cli, project_dir, "drill", "list")
    assert bad.exit_code == 1
    assert "typo.yaml:6: steps.0.duraton: unknown key" in bad.stderr
    assert "Traceback" not in bad.output


def test_cli_run_unknown_scenario(cli, project_dir: Path) -> None:
    res = run(cli, project_dir, "drill", "run", "nope")
    assert res.exit_code == 1
    assert "no drill scenario named 'nope'" in res.stderr
    assert "api-failover, bind-outage, pdns-outage" in res.stderr


def test_cli_non_lab_needs_doit(cli, project_dir: Path) -> None:
    (project_dir / "drills" / "prod.yaml").write_text(
        "name: prod-isolation\nenvironment: production\nhypothesis: ns1 alone serves it\n"
        "steps:\n  - kind: provider-outage\n    provider: route53\n    method: isolate\n"
        "    nameservers: {dns1.p01.nsone.net.: 198.51.100.1}\n"
    )
    res = run(cli, project_dir, "drill", "run", "prod-isolation")
    assert res.exit_code == 1
    assert "'production' is not a lab: a drill there changes real DNS" in res.stderr
    assert "--doit" in res.stderr
    no = cli.invoke(
        __import__("dnsops.cli.app", fromlist=["app"]).app,
        ["--config", str(project_dir / "dnsops.yaml"), "drill", "run", "prod-isolation", "--doit"],
        input="n\n",
    )
    assert no.exit_code == 1
    assert "not confirmed: nothing was changed" in no.stderr


def test_non_lab_stop_is_refused(project_dir: Path) -> None:
    (project_dir / "drills" / "prod.yaml").write_text(
        "name: prod-stop\nenvironment: production\nhypothesis: x\n"
        "steps:\n  - kind: provider-outage\n    provider: ns1\n    method: stop\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_scenarios(load_project(project_dir / "dnsops.yaml"))
    assert "prod.yaml:1: steps.0.method: 'stop' only exists in the lab" in exc.value.message
    # the nameservers are what an isolation needs: a stop is refused for what it is
    assert "steps.0.nameservers" not in exc.value.message


def test_blackhole_and_regional_loss_name_vantages_that_can_be_cut_off(
    project_dir: Path,
) -> None:
    """Outside the lab, only SSH vantages with a ``blackhole:`` section can be blackholed
    (production's resolvers are public ones); the errors say which can."""
    (project_dir / "drills" / "prod.yaml").write_text(
        "name: prod-bh\nenvironment: production\nhypothesis: x\nsteps:\n"
        "  - {kind: provider-outage, provider: ns1, method: blackhole, vantages: [google]}\n"
        "  - {kind: regional-loss, region: eu-west, loss: 0.3, providers: [ns1, dyn]}\n"
        "  - {kind: provider-outage, provider: ns1, method: isolate, vantages: [google],"
        " nameservers: {a.example.: 192.0.2.1}}\n"
        "probing: {vantages: [google]}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_scenarios(load_project(project_dir / "dnsops.yaml"))
    assert exc.value.message.splitlines() == [
        f"{project_dir / 'drills' / 'prod.yaml'}:1: probing.vantages: google: not an SSH "
        "vantage of 'production' that asks a resolver (those are: none)",
        f"{project_dir / 'drills' / 'prod.yaml'}:1: steps.0.vantages: google: no resolver to "
        "blackhole (can be: none; lab resolvers, and SSH vantages with a `blackhole:` section)",
        f"{project_dir / 'drills' / 'prod.yaml'}:1: steps.1.providers: dyn is not a provider "
        "of environment 'production' (route53, ns1)",
        f"{project_dir / 'drills' / 'prod.yaml'}:1: steps.1.region: no vantage of region "
        "'eu-west' can be blackholed (regions that can: none)",
        f"{project_dir / 'drills' / 'prod.yaml'}:1: steps.2.vantages: only a blackhole names "
        "vantages",
    ]
    lab = project_dir / "drills" / "lab-bh.yaml"
    (project_dir / "drills" / "prod.yaml").unlink()
    lab.write_text(
        "name: lab-bh\nhypothesis: x\nsteps:\n"
        "  - {kind: provider-outage, provider: pdns, method: blackhole}\n"
        "  - {kind: regional-loss, region: eu-west, loss: 0.3, duration: 1m}\n"
    )
    [sc] = [
        s for s in load_scenarios(load_project(project_dir / "dnsops.yaml")) if s.name == "lab-bh"
    ]
    outage, loss = sc.steps
    assert isinstance(outage, ProviderOutage) and outage.vantages is None
    assert isinstance(loss, RegionalLoss)
    assert (loss.region, loss.loss, loss.providers, loss.duration) == ("eu-west", 0.3, None, 60.0)


def test_drill_workflow_is_quarterly_serialised_and_uploads_reports() -> None:
    import yaml

    from tests.conftest import REPO

    wf = yaml.safe_load((REPO / ".github" / "workflows" / "dns-drill.yml").read_text())
    on = wf[True]  # YAML 1.1 reads the key `on` as true
    assert on["schedule"] == [{"cron": "17 6 1 1,4,7,10 *"}]
    assert "scenario" in on["workflow_dispatch"]["inputs"]
    assert wf["concurrency"] == {"group": "dns-drill", "cancel-in-progress": False}
    job = wf["jobs"]["drill"]
    steps = job["steps"]
    text = "\n".join(s.get("run", "") for s in steps)
    assert 'dnsops drill run "$name" --env production --doit --yes' in text
    rollback = next(s for s in steps if "drill rollback" in s.get("run", ""))
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert rollback["if"] == "always()" and upload["if"] == "always()"
    assert upload["with"]["path"] == "drills/history/"
    with_secrets = [s for s in steps if "secrets." in str(s)]
    assert [s["name"] for s in with_secrets] == ["Run the drills"]


def _report(scenario: str, run_id: str, started: str, verdict: str, maxes: list[float | None]):
    return {
        "format": "dnsops-drill-report/1",
        "run_id": run_id,
        "scenario": {"name": scenario},
        "verdict": verdict,
        "started_at": started,
        "steps": [
            {"title": "failover", "convergence": [{"vantage": "iad", "max": m} for m in maxes]},
            {"title": "wait"},
        ],
    }


def test_drill_metrics_per_scenario(cli, project_dir: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from tests import promtool

    history = project_dir / "drills" / "history"
    recent = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    stamp = recent.isoformat().replace("+00:00", "Z")
    reports = [
        _report("api-failover", "r1", "2026-01-01T00:00:00Z", "pass", [2.5]),
        _report("api-failover", "r2", stamp, "pass", [1.25, 3.5]),
        _report("pdns-outage", "r3", stamp, "fail", [None, 2.0]),
    ]
    for doc in reports:
        (history / f"{doc['run_id']}.json").write_text(json.dumps(doc))
    prom = project_dir / "drills.prom"
    result = run(cli, project_dir, "drill", "status", "--prom-file", str(prom))
    assert result.exit_code == 1  # bind-outage never ran, pdns-outage failed: overdue
    lines = prom.read_text().splitlines()
    api = 'environment="lab",scenario="api-failover"'
    pdns = 'environment="lab",scenario="pdns-outage"'
    bind = 'environment="lab",scenario="bind-outage"'
    assert f"dnsops_drill_last_run_timestamp_seconds{{{api}}} {int(recent.timestamp())}" in lines
    assert f"dnsops_drill_last_run_passed{{{api}}} 1" in lines
    assert f"dnsops_drill_last_run_passed{{{pdns}}} 0" in lines
    assert f"dnsops_drill_convergence_seconds{{{api}}} 3.5" in lines
    assert f"dnsops_drill_convergence_seconds{{{pdns}}} +Inf" in lines
    assert f"dnsops_drill_overdue{{{api}}} 0" in lines
    assert f"dnsops_drill_overdue{{{pdns}}} 1" in lines
    assert f"dnsops_drill_overdue{{{bind}}} 1" in lines
    assert not any(line.startswith("dnsops_drill_last_run_passed{" + bind) for line in lines)
    promtool.check(prom)


def test_drill_env_filters_and_guards(cli, project_dir: Path) -> None:
    listed = run(cli, project_dir, "drill", "list", "--env", "lab", "--format", "json")
    assert [s["name"] for s in json.loads(listed.stdout)["scenarios"]] == [
        "api-failover",
        "bind-outage",
        "pdns-outage",
    ]
    prod = run(cli, project_dir, "drill", "list", "--env", "production", "--format", "json")
    assert [s["name"] for s in json.loads(prod.stdout)["scenarios"]] == ["production-api-failover"]
    unknown = run(cli, project_dir, "drill", "status", "--env", "staging")
    assert unknown.exit_code == 1
    assert "no environment 'staging' (known: lab, production)" in unknown.output
    wrong = run(cli, project_dir, "drill", "run", "api-failover", "--env", "production")
    assert wrong.exit_code == 1
    assert "drill 'api-failover' is a scenario of environment 'lab', not 'production'" in (
        wrong.output
    )
