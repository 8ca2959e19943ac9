"""Start-up: `dnsops --help` lists the commands without importing them, and every
command in the list loads when it is run or its help is asked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperCommand, TyperGroup
from typer.testing import CliRunner

from dnsops.cli import app as cli_app
from tests.conftest import run

HEAVY = ("ripe.atlas.cousteau", "ripe.atlas.sagan", "requests", "cryptography", "boto3")
# what `dnsops --help` must not import either: each costs tens of milliseconds
NOT_FOR_HELP = (*HEAVY, "octodns", "pydantic", "dns", "yaml", "dnsops.config", "dnsops.env")

LOADED = """
import json, sys
before = set(sys.modules)
from dnsops.cli.app import main
sys.argv = ["dnsops", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "modules": sorted(set(sys.modules) - before)}), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[int, list[str]]:
    """Run dnsops in a fresh interpreter: its exit code and the modules it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADED, json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    doc = json.loads(proc.stderr.strip().splitlines()[-1])
    return doc["code"], doc["modules"]


def offenders(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_help_imports_no_command_module_and_no_heavy_library() -> None:
    code, modules = loaded_by("--help")
    assert code == 0
    assert offenders(modules, NOT_FOR_HELP) == []
    assert [m for m in modules if m.startswith("dnsops.")] == ["dnsops.cli", "dnsops.cli.app"]


def test_a_command_imports_only_its_own_module() -> None:
    code, modules = loaded_by("env", "--help")
    assert code == 0
    commands = sorted(m for m in modules if m.startswith("dnsops.cli."))
    assert commands == ["dnsops.cli.app", "dnsops.cli.common", "dnsops.cli.env"]
    assert offenders(modules, HEAVY) == []


def test_lint_help_loads_no_atlas_client_and_no_cloud_sdk() -> None:
    code, modules = loaded_by("lint", "--help")
    assert code == 0
    assert offenders(modules, ("ripe.atlas.cousteau", "ripe.atlas.sagan", "boto3")) == []


def test_the_command_list_is_the_table() -> None:
    result = CliRunner().invoke(cli_app.app, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    assert listed == [f"  {name:<8}  {lazy.summary}" for name, lazy in cli_app.COMMANDS.items()]
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "<bool>" not in result.output


@pytest.mark.parametrize("name", list(cli_app.COMMANDS))
def test_every_command_in_the_table_loads(name: str) -> None:
    command = cli_app.load(name)
    assert command.name == name
    kind = TyperGroup if cli_app.COMMANDS[name].attribute == "app" else TyperCommand
    assert isinstance(command, kind)
    result = CliRunner().invoke(cli_app.app, [name, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: dnsops {name} ")
    assert "--install-completion" not in result.output


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli_app.app, ["nope"])
    assert result.exit_code == 64
    assert "No such command 'nope'" in result.output


def test_a_usage_error_is_not_the_changes_code(cli: CliRunner, project_dir: Path) -> None:
    """`plan --detailed-exitcode` exits 2 for "changes": a typo must not read as that."""
    result = run(cli, project_dir, "plan", "--bogus", "--detailed-exitcode")
    assert result.exit_code == 64
    assert "No such option: --bogus" in result.output


@pytest.mark.parametrize(
    ("args", "offered"),
    [
        (["validate"], "'text', 'json'"),
        (["plan"], "'text', 'json', 'markdown'"),
        (["lab", "status"], "'text', 'json'"),
        (["drill", "status"], "'text', 'json'"),
        (["env", "show"], "'text', 'json'"),
    ],
)
def test_each_command_offers_only_its_formats(
    cli: CliRunner, project_dir: Path, args: list[str], offered: str
) -> None:
    result = run(cli, project_dir, *args, "--format", "github")
    assert result.exit_code == 64
    assert f"'github' is not one of {offered}" in result.output


def test_quiet_keeps_the_result_and_the_errors(cli: CliRunner, project_dir: Path) -> None:
    loud = run(cli, project_dir, "lint")
    quiet = cli.invoke(
        cli_app.app, ["--config", str(project_dir / "dnsops.yaml"), "--quiet", "lint"]
    )
    assert loud.exit_code == quiet.exit_code == 0
    assert "no error-level finding" in loud.stderr or "finding" in loud.stderr
    assert quiet.stderr == ""
    assert quiet.stdout == loud.stdout
    broken = cli.invoke(
        cli_app.app, ["--config", str(project_dir / "nope.yaml"), "--quiet", "lint"]
    )
    assert broken.exit_code == 1
    assert broken.stderr.startswith("error: ")


def test_completion_is_offered() -> None:
    result = CliRunner().invoke(cli_app.app, ["--show-completion", "bash"])
    assert result.exit_code == 0
    assert "_DNSOPS_COMPLETE" in result.output


def test_formats_a_subcommand_cannot_print_are_refused(cli: CliRunner, project_dir: Path) -> None:
    listed = run(cli, project_dir, "vantage", "list", "--format", "markdown")
    assert listed.exit_code == 64
    assert "'markdown' is not one of 'text', 'json'" in listed.output
    history = run(cli, project_dir, "audit", "--history", "--format", "github")
    assert history.exit_code == 64
    assert "the history comes as text, json or markdown" in history.output
