""".pre-commit-hooks.yaml: the hooks other repositories use. Structure (the fields pre-commit's
manifest requires, and what each hook must run on), and the entries run as written."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dnsops.cli.app import COMMANDS, app
from tests.conftest import REPO

# pre-commit's manifest: these are required; the rest are among its optional fields
REQUIRED = {"id", "name", "entry", "language"}
OPTIONAL = {
    "description",
    "pass_filenames",
    "require_serial",
    "files",
    "exclude",
    "types",
    "types_or",
    "stages",
    "args",
    "minimum_pre_commit_version",
    "always_run",
    "verbose",
}
WATCHED = {
    "dnsops-validate": ["dnsops.yaml", "zones/example.test.yaml", "config/production.yaml"],
    "dnsops-lint": [
        "dnsops.yaml",
        "zones/example.test.yaml",
        "zones/includes/common.yaml",
        "policies/default.yaml",
        "policies/health/policy.yaml",
        "config/lab.yaml",
    ],
}
IGNORED = ["README.md", "dnsops/config.py", "tests/fixtures/x.yaml", "drills/pdns-outage.yaml"]


def hooks() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(data, list)
    return {h["id"]: h for h in data}


def test_the_hooks_are_validate_and_lint() -> None:
    assert list(hooks()) == ["dnsops-validate", "dnsops-lint"]


@pytest.mark.parametrize("hook_id", ["dnsops-validate", "dnsops-lint"])
def test_each_hook_has_pre_commits_fields_and_checks_the_whole_repository(hook_id: str) -> None:
    hook = hooks()[hook_id]
    assert REQUIRED <= set(hook) <= REQUIRED | OPTIONAL
    assert hook["language"] == "python"  # pre-commit pip-installs this repository
    assert hook["pass_filenames"] is False  # a zone is judged with its policies and providers
    command = hook_id.removeprefix("dnsops-")
    assert shlex.split(hook["entry"]) == ["dnsops", command]
    assert command in COMMANDS
    files = re.compile(hook["files"])
    for path in WATCHED[hook_id]:
        assert files.search(path), f"{hook_id} does not run on {path}"
    for path in IGNORED:
        assert not files.search(path), f"{hook_id} runs on {path}"


def test_the_console_script_the_entries_name_exists() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'dnsops = "dnsops.cli.app:main"' in text


@pytest.mark.parametrize("hook_id", ["dnsops-validate", "dnsops-lint"])
def test_each_entry_passes_on_this_repository(hook_id: str) -> None:
    args = shlex.split(hooks()[hook_id]["entry"])[1:]
    result = CliRunner().invoke(app, ["--config", str(REPO / "dnsops.yaml"), *args])
    assert result.exit_code == 0, result.output
