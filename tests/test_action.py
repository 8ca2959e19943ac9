"""action.yml: the composite action other repositories `uses:` for lint and plan. Structure
in the style of tests/test_workflows.py (pinning, quoting, no expression in a script,
shellcheck), and the run script itself executed against a stand-in `dnsops`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.test_workflows import PINS, unquoted_expansions

ACTION = REPO / "action.yml"
INPUTS = {"command", "environment", "format", "working-directory", "python-version"}
# a stand-in for dnsops: prints each argument on its own line, exits $FAKE_EXIT
FAKE = '#!/usr/bin/env bash\nprintf "arg:%s\\n" "$@"\nexit "${FAKE_EXIT:-0}"\n'


def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


def steps() -> list[dict[str, Any]]:
    return list(action()["runs"]["steps"])


def run_step() -> dict[str, Any]:
    return next(s for s in steps() if s.get("id") == "run")


def test_a_composite_action_with_the_documented_inputs() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert set(data["inputs"]) == INPUTS
    for name, spec in data["inputs"].items():
        assert spec["description"], name
        assert spec["required"] is False and "default" in spec, name
    assert data["inputs"]["command"]["default"] == "lint"
    assert set(data["outputs"]) == {"report", "exit-code"}


def test_every_action_it_uses_is_pinned_by_the_commit_of_its_release() -> None:
    used = []
    for line in ACTION.read_text().splitlines():
        match = re.match(r"\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(?:\s+#\s*(\S+))?\s*$", line)
        if match is None:
            continue
        action_name, ref, comment = match.groups()
        assert action_name in PINS, action_name
        assert (ref, comment) == PINS[action_name], f"{action_name}@{ref} # {comment}"
        used.append(action_name)
    assert used == ["actions/setup-python"]


def test_run_steps_name_their_shell_quote_variables_and_paste_no_expression() -> None:
    scripts = [s for s in steps() if "run" in s]
    assert [s["name"] for s in scripts] == ["Install dnsops", "Run dnsops"]
    for step in scripts:
        assert step["shell"] == "bash", step["name"]  # composite steps must say
        assert not unquoted_expansions(step["run"]), step["name"]
        assert "${{" not in step["run"], step["name"]


def test_inputs_reach_the_script_only_through_the_environment() -> None:
    step = run_step()
    assert step["env"] == {
        "DNSOPS_ACTION_COMMAND": "${{ inputs.command }}",
        "DNSOPS_ACTION_ENVIRONMENT": "${{ inputs.environment }}",
        "DNSOPS_ACTION_FORMAT": "${{ inputs.format }}",
    }
    assert step["working-directory"] == "${{ inputs.working-directory }}"
    install = next(s for s in steps() if s.get("name") == "Install dnsops")
    assert install["run"] == 'python -m pip install --quiet "$GITHUB_ACTION_PATH"'
    setup = steps()[0]
    assert setup["with"] == {"python-version": "${{ inputs.python-version }}"}


def test_the_scripts_pass_shellcheck() -> None:
    if shutil.which("shellcheck") is None:  # `make setup` installs it (Debian: shellcheck)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: shellcheck is not installed (make setup installs it)")
        pytest.skip("shellcheck is not installed")
    for step in steps():
        if "run" not in step:
            continue
        script = "#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"]  # GitHub's bash -e
        result = subprocess.run(
            ["shellcheck", "--shell=bash", "-"], input=script, text=True, capture_output=True
        )
        assert result.returncode == 0, f"{step['name']}\n{result.stdout}"


def execute(tmp_path: Path, exit_code: int = 0, **inputs: str) -> tuple[int, list[str], Path]:
    """The run step's script under bash -e, as the runner runs it, with a fake dnsops."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "dnsops"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    outputs, summary = tmp_path / "outputs", tmp_path / "summary"
    outputs.write_text("")
    summary.write_text("")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "FAKE_EXIT": str(exit_code),
        "DNSOPS_ACTION_COMMAND": inputs.get("command", "lint"),
        "DNSOPS_ACTION_ENVIRONMENT": inputs.get("environment", ""),
        "DNSOPS_ACTION_FORMAT": inputs.get("format", ""),
    }
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run_step()["run"]],
        env=env,
        cwd=tmp_path,
        text=True,
        capture_output=True,
    )
    args = [line[4:] for line in result.stdout.splitlines() if line.startswith("arg:")]
    return result.returncode, args, tmp_path


def test_lint_defaults_to_github_annotations_and_the_default_environment(tmp_path: Path) -> None:
    code, args, out = execute(tmp_path)
    assert code == 0
    assert args == ["lint", "--format", "github"]
    assert (out / "outputs").read_text() == f"report={out}/dnsops-lint.out\nexit-code=0\n"
    assert (out / "summary").read_text() == ""


def test_plan_in_markdown_goes_to_the_job_summary_too(tmp_path: Path) -> None:
    code, args, out = execute(tmp_path, command="plan", environment="production")
    assert code == 0
    assert args == ["plan", "--format", "markdown", "--env", "production"]
    assert "arg:plan" in (out / "summary").read_text()


def test_dnsops_exit_code_is_the_steps_and_an_output(tmp_path: Path) -> None:
    code, _, out = execute(tmp_path, exit_code=1, format="json")
    assert code == 1
    assert (out / "outputs").read_text().endswith("exit-code=1\n")


def test_a_hostile_input_stays_one_argument(tmp_path: Path) -> None:
    hostile = '$(touch pwned); touch pwned2 "`touch pwned3`"'
    code, args, out = execute(tmp_path, environment=hostile, format="text")
    assert code == 0
    assert args == ["lint", "--format", "text", "--env", hostile]
    assert not list(out.glob("pwned*"))


def test_a_command_other_than_lint_or_plan_is_a_usage_error(tmp_path: Path) -> None:
    code, args, out = execute(tmp_path, command="sync")
    assert code == 64
    assert args == []
    assert (out / "outputs").read_text() == ""
