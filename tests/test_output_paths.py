"""Paths built from input: an environment name is checked against dnsops.yaml before a
path is built from it, and a user's output path gets no directory created for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dnsops.config import load_project
from dnsops.errors import ConfigError
from dnsops.lock import lock_path
from dnsops.render.prometheus import Metric, write_textfile
from dnsops.sync import saved
from tests.conftest import run
from tests.test_hostile_input import check, snapshot
from tests.test_sync_model import planset, update_api

TRAVERSAL = "../../../tmp/dnsops-outsafe-x"
HINT = "hint: dnsops creates no directory for an output file: create it first"


def test_a_plan_for_an_unknown_environment_is_refused_before_any_path(
    cli: CliRunner, project_dir: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    doc = json.loads(planset([update_api("pdns"), update_api("bind")]).model_dump_json(indent=1))
    doc["environment"] = TRAVERSAL
    plan.write_text(json.dumps(doc, indent=1))
    line = plan.read_text().split("\n").index(f' "environment": "{TRAVERSAL}",') + 1
    assert check(cli, project_dir, "apply", str(plan)) == [
        f"{plan}:{line}: environment '{TRAVERSAL}' is not one of the configured environments "
        "(lab, production)"
    ]
    assert not Path("/tmp/dnsops-outsafe-x.lock").exists()
    assert not (project_dir / ".dnsops").exists()


def test_a_plan_without_an_environment_is_refused(cli: CliRunner, project_dir: Path) -> None:
    plan = project_dir / "plan.json"
    plan.write_text('{\n  "format": "dnsops-plan/1",\n  "environment": 7\n}\n')
    assert check(cli, project_dir, "apply", str(plan)) == [
        f"{plan}:3: environment missing or not a string is not one of the configured "
        "environments (lab, production)"
    ]


def test_environment_names_in_dnsops_yaml_are_path_safe(cli: CliRunner, project_dir: Path) -> None:
    config = project_dir / "dnsops.yaml"
    text = config.read_text()
    config.write_text(text.replace("  production:\n", "  ../../tmp/y:\n", 1))
    line = config.read_text().split("\n").index("  ../../tmp/y:") + 1
    assert check(cli, project_dir, "validate") == [
        f"{config}:{line}: environments: '../../tmp/y' is not a valid environment "
        "name (letters, digits, '-' and '_', at most 64)"
    ]


def test_the_lock_path_takes_only_a_configured_environment(project_dir: Path) -> None:
    project = load_project(project_dir / "dnsops.yaml")
    assert lock_path(project, "lab") == project_dir / ".dnsops" / "locks" / "lab.lock"
    with pytest.raises(ConfigError, match=r"no environment '\.\./\.\./x' \(known: lab, production"):
        lock_path(project, "../../x")


# -- output paths ------------------------------------------------------------------------


def errors_and_hint(result: Any) -> list[str]:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line.startswith(("error:", "hint:"))]


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["plan", "--out"], "--out"),
        (["health", "--prom-file"], "--prom-file"),
        (["audit", "--prom-file"], "--prom-file"),
        (["audit", "--log"], "--log"),
    ],
)
def test_an_output_path_in_a_missing_directory_is_an_error(
    cli: CliRunner, project_dir: Path, tmp_path: Path, command: list[str], option: str
) -> None:
    target = tmp_path / "missing" / "deeper" / "out.file"
    before = snapshot(tmp_path)
    result = run(cli, project_dir, *command, str(target))
    assert errors_and_hint(result) == [
        f"error: {option} {target}: the directory {target.parent} does not exist",
        HINT,
    ]
    assert snapshot(tmp_path) == before  # nothing created: not missing/, not the state dir
    assert not (tmp_path / "missing").exists()


def test_an_output_path_that_is_a_directory(cli: CliRunner, project_dir: Path) -> None:
    result = run(cli, project_dir, "health", "--prom-file", "/")
    assert errors_and_hint(result) == ["error: --prom-file /: is a directory, expected a file name"]


def test_an_output_path_under_a_file(cli: CliRunner, project_dir: Path) -> None:
    target = project_dir / "dnsops.yaml" / "plan.json"
    result = run(cli, project_dir, "plan", "--out", str(target))
    assert errors_and_hint(result) == [f"error: --out {target}: {target.parent} is not a directory"]


def test_writers_create_no_directory(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x"
    with pytest.raises(ConfigError, match="cannot write the metrics file: No such file"):
        write_textfile(target, [Metric("m", "help").add(1)])
    with pytest.raises(saved.SavedPlanError, match="cannot write the plan: No such file"):
        saved.save(planset([update_api("pdns"), update_api("bind")]), target)
    assert list(tmp_path.iterdir()) == []
