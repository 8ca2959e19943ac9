"""dnsops audit without a lab: bad input, the log and its history, the workflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, run


def test_without_a_lab_the_audit_says_what_is_missing(cli: Any, project_dir: Path) -> None:
    result = run(cli, project_dir, "audit")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "error: the lab has no secrets yet" in text
    assert "hint: run `dnsops lab up`" in text
    assert "Traceback" not in result.output
    assert not (project_dir / ".dnsops" / "audit.jsonl").exists()


def test_an_unknown_zone_is_named(cli: Any, project_dir: Path) -> None:
    result = run(cli, project_dir, "audit", "--zone", "nope.test")
    assert result.exit_code == 1
    assert "no zone 'nope.test.'" in result.output
    assert "(did you mean example.test.?)" in " ".join(result.output.split())


def test_an_invalid_source_is_reported_not_audited(cli: Any, project_dir: Path) -> None:
    zone = project_dir / "zones" / "example.test.yaml"
    zone.write_text(zone.read_text().replace("value: 192.0.2.25", "value: 192.0.2.300"))
    (project_dir / ".dnsops" / "lab").mkdir(parents=True)
    (project_dir / ".dnsops" / "lab" / "secrets.json").write_text(
        json.dumps({"pdns_api_key": "k", "tsig_name": "t", "tsig_secret": "c2VjcmV0"})
    )
    result = run(cli, project_dir, "audit")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "zones/example.test.yaml:" in text and "invalid IPv4 address" in text
    assert not (project_dir / ".dnsops" / "audit.jsonl").exists()


def test_bad_flags_are_usage_errors(cli: Any, project_dir: Path) -> None:
    assert run(cli, project_dir, "audit", "--format", "xml").exit_code == 64
    assert run(cli, project_dir, "audit", "--bogus").exit_code == 64


def test_history_of_an_empty_log(cli: Any, project_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "none.jsonl"
    result = run(cli, project_dir, "audit", "--history", "--log", str(log))
    assert result.exit_code == 0
    assert "no audit has run yet" in result.output
    as_json = run(cli, project_dir, "audit", "--history", "--log", str(log), "-f", "json")
    assert json.loads(as_json.stdout) == {"log": str(log), "runs": []}


def test_history_filters_by_environment_and_names_a_bad_line(
    cli: Any, project_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "audit.jsonl"
    lines = [
        {"time": "2026-01-01T05:23:00+00:00", "environment": "production", "drift": 0},
        {"time": "2026-01-02T05:23:00+00:00", "environment": "lab", "drift": 2},
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = run(cli, project_dir, "audit", "--history", "--log", str(log), "-f", "json")
    assert [r["environment"] for r in json.loads(result.stdout)["runs"]] == ["production", "lab"]
    only = run(
        cli, project_dir, "audit", "--history", "--env", "lab", "--log", str(log), "-f", "json"
    )
    assert [r["drift"] for r in json.loads(only.stdout)["runs"]] == [2]

    log.write_text(log.read_text() + "{not json\n")
    broken = run(cli, project_dir, "audit", "--history", "--log", str(log))
    assert broken.exit_code == 1
    assert f"{log}:3: not a JSON line" in " ".join(broken.output.split())


def test_audit_workflow_runs_daily_and_on_demand_and_uploads_the_report_on_drift() -> None:
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "dns-audit.yml").read_text())
    on = wf.pop(True)  # YAML 1.1 reads the key `on` as true
    assert on["schedule"] == [{"cron": "23 5 * * *"}]
    assert "workflow_dispatch" in on
    (job,) = wf["jobs"].values()
    steps = {s.get("name", s.get("uses")): s for s in job["steps"]}
    audit = steps["Audit"]
    assert 'dnsops audit --env "$DNSOPS_ENV" --format markdown' in audit["run"]
    assert "> audit-report.md" in audit["run"]
    # the credentials reach this step only
    secrets = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "NS1_API_KEY"}
    assert audit["env"] == {k: f"${{{{ secrets.{k} }}}}" for k in secrets}
    assert [s for s in job["steps"] if "secrets." in str(s)] == [audit]
    upload = steps["Upload the report"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "steps.audit.outputs.exit != '0'"
    assert "audit-report.md" in upload["with"]["path"]
    fail = steps["Fail on drift"]
    assert fail["if"] == "steps.audit.outputs.exit != '0'" and "exit 1" in fail["run"]


def test_a_provider_error_never_shows_a_secret(
    cli: Any, project_dir: Path, monkeypatch: Any
) -> None:
    """An API error that echoes the key (as some providers' do) is shown scrubbed."""
    from octodns_powerdns import PowerDnsProvider

    key = "pdns-key-that-must-never-show-0123456789"
    (project_dir / ".dnsops" / "lab").mkdir(parents=True)
    (project_dir / ".dnsops" / "lab" / "secrets.json").write_text(
        json.dumps({"pdns_api_key": key, "tsig_name": "t", "tsig_secret": "c2VjcmV0LXRzaWc="})
    )

    def leaky(self: Any, zone: Any, target: bool = False, lenient: bool = False) -> bool:
        raise RuntimeError(f"401 Unauthorized: X-API-Key {self._sess.headers['X-API-Key']}")

    monkeypatch.setattr(PowerDnsProvider, "populate", leaky)
    result = run(cli, project_dir, "audit", "--format", "json", "--log", str(project_dir / "l"))
    assert result.exit_code == 1
    assert key not in result.output
    doc = json.loads(result.stdout)
    api = next(f for f in doc["findings"] if f["provider"] == "pdns" and f["data"]["view"] == "api")
    assert api["message"] == "pdns's API could not be read: 401 Unauthorized: X-API-Key ***"
