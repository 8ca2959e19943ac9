"""`--zone` globs and `--changed-since REF`: which zones lint and plan work on."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dnsops.changes import select
from tests.conftest import run

ZONES = ["a1.test.", "a2.test.", "b1.test.", "example.test."]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(project_dir: Path) -> Path:
    """The project with four zones, committed on main, and a branch `pr` checked out."""
    example = project_dir / "zones" / "example.test.yaml"
    for zone in ZONES[:-1]:
        shutil.copy(example, project_dir / "zones" / f"{zone}yaml")
    git(project_dir, "init", "-q", "-b", "main")
    git(project_dir, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git(project_dir, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "zones")
    git(project_dir, "checkout", "-q", "-b", "pr")
    return project_dir


def linted(cli: CliRunner, root: Path, *args: str) -> list[str]:
    result = run(cli, root, "lint", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output  # type: ignore[attr-defined]
    return list(json.loads(result.stdout)["zones"])  # type: ignore[attr-defined]


def edit(path: Path) -> None:
    path.write_text(path.read_text().replace("ttl: 3600", "ttl: 3601", 1))


def test_zone_globs_and_names_repeat(cli: CliRunner, repo: Path) -> None:
    assert linted(cli, repo, "--zone", "a*") == ["a1.test.", "a2.test."]
    assert linted(cli, repo, "-z", "b1.test", "-z", "a2.test.") == ["a2.test.", "b1.test."]
    assert linted(cli, repo, "-z", "*.test.", "-z", "a1.test.") == ZONES


def test_an_unknown_zone_suggests_the_nearest(cli: CliRunner, repo: Path) -> None:
    result = run(cli, repo, "lint", "--zone", "a3.test.")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "no zone 'a3.test.'" in result.output  # type: ignore[attr-defined]
    assert "(did you mean a2.test., a1.test., b1.test.?)" in result.output  # type: ignore[attr-defined]
    nothing = run(cli, repo, "lint", "--zone", "c*")
    assert nothing.exit_code == 1  # type: ignore[attr-defined]
    assert "--zone 'c*' matches no zone" in nothing.output  # type: ignore[attr-defined]


def test_only_the_changed_zone_is_linted(cli: CliRunner, repo: Path) -> None:
    edit(repo / "zones" / "a2.test.yaml")  # uncommitted edits count
    assert linted(cli, repo, "--changed-since", "main") == ["a2.test."]
    git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "a2")
    assert linted(cli, repo, "--changed-since", "main") == ["a2.test."]
    assert linted(cli, repo, "--changed-since", "HEAD") == []
    result = run(cli, repo, "lint", "--changed-since", "main")
    assert "1 zone(s) changed since main: a2.test." in result.output  # type: ignore[attr-defined]


def test_changed_and_asked_for(cli: CliRunner, repo: Path) -> None:
    edit(repo / "zones" / "a2.test.yaml")
    edit(repo / "zones" / "b1.test.yaml")
    assert linted(cli, repo, "--changed-since", "main", "--zone", "a*") == ["a2.test."]


def test_the_merge_base_not_the_tip_of_main(cli: CliRunner, repo: Path) -> None:
    """main moved on after the branch was cut: its changes are not the PR's."""
    edit(repo / "zones" / "a1.test.yaml")
    git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "pr: a1")
    git(repo, "checkout", "-q", "main")
    edit(repo / "zones" / "b1.test.yaml")
    git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "main: b1")
    git(repo, "checkout", "-q", "pr")
    assert linted(cli, repo, "--changed-since", "main") == ["a1.test."]


@pytest.mark.parametrize(
    "path",
    ["dnsops.yaml", "config/lab.yaml", "policies/default.yaml", "zones/includes/common.yaml"],
)
def test_config_policy_or_fragment_changes_select_every_zone(
    cli: CliRunner, repo: Path, path: str
) -> None:
    target = repo / path
    target.parent.mkdir(exist_ok=True)
    with target.open("a") as fh:
        fh.write("# touched\n")
    result = run(cli, repo, "lint", "--format", "json", "--changed-since", "main")
    assert json.loads(result.stdout)["zones"] == ZONES  # type: ignore[attr-defined]
    assert f"{path} changed since main: every zone" in result.output  # type: ignore[attr-defined]


def test_a_deleted_zone_and_an_unrelated_file(repo: Path) -> None:
    (repo / "zones" / "b1.test.yaml").unlink()
    (repo / "README.txt").write_text("notes\n")
    found = select(
        repo, "main", repo / "zones", ["a1.test.", "a2.test.", "example.test."], [repo / "x"]
    )
    assert (found.zones, found.everything) == ([], None)
    assert found.files == ["README.txt", "zones/b1.test.yaml"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "--changed-since: 'nope' is no commit of"),
        ("--output=/tmp/x", "--changed-since: '--output=/tmp/x' is not a git revision"),
    ],
)
def test_bad_refs(cli: CliRunner, repo: Path, ref: str, message: str) -> None:
    result = run(cli, repo, "lint", f"--changed-since={ref}")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert message in result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_not_a_git_repository(cli: CliRunner, project_dir: Path) -> None:
    result = run(cli, project_dir, "lint", "--changed-since", "main")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "--changed-since: git rev-parse: fatal: not a git repository" in result.output  # type: ignore[attr-defined]


def test_plan_of_no_changed_zone_plans_nothing(cli: CliRunner, repo: Path) -> None:
    result = run(cli, repo, "plan", "--format", "json", "--changed-since", "HEAD")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    doc = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert (doc["providers"], doc["plans"], doc["has_changes"]) == ([], [], False)
    assert "no zone file changed since HEAD" in result.output  # type: ignore[attr-defined]
    text = run(cli, repo, "plan", "--changed-since", "HEAD", "--detailed-exitcode")
    assert text.exit_code == 0, text.output  # type: ignore[attr-defined]
    assert "no zone to plan: no provider was asked" in text.output  # type: ignore[attr-defined]
