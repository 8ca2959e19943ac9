"""The GitHub workflows run the commands the README promises, with secrets kept in steps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
WATCHED = ["zones/**", "policies/**", "config/**", "dnsops.yaml"]
SECRETS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "NS1_API_KEY"}


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return list(job["steps"])


def runs(workflow: dict[Any, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(workflow))


def test_plan_workflow_lints_plans_and_comments_once() -> None:
    wf = load("dns-plan.yml")
    assert wf["on"]["pull_request"]["paths"] == WATCHED
    assert wf["permissions"] == {"contents": "read", "pull-requests": "write"}
    text = runs(wf)
    assert "dnsops lint --format github" in text
    assert "dnsops plan --env production --format markdown --detailed-exitcode > plan.md" in text
    script = next(s for s in steps(wf) if s.get("uses", "").startswith("actions/github-script"))
    body = script["with"]["script"]
    assert "<!-- dnsops-plan -->" in body
    assert "updateComment" in body and "createComment" in body


def test_sync_workflow_syncs_production_in_one_concurrency_group() -> None:
    wf = load("dns-sync.yml")
    assert wf["on"]["push"] == {"branches": ["main"], "paths": WATCHED}
    assert wf["concurrency"] == {"group": "dns-sync-production", "cancel-in-progress": False}
    assert "dnsops sync --env production --doit" in runs(wf)


def test_secrets_only_reach_the_step_that_needs_them_and_are_never_echoed() -> None:
    for name, command in (("dns-plan.yml", "dnsops plan"), ("dns-sync.yml", "dnsops sync")):
        wf = load(name)
        (job,) = wf["jobs"].values()
        assert "env" not in wf and "env" not in job
        with_secrets = [s for s in steps(wf) if "secrets." in str(s)]
        assert len(with_secrets) == 1, name
        step = with_secrets[0]
        assert command in step["run"]
        assert step["env"] == {k: f"${{{{ secrets.{k} }}}}" for k in SECRETS}
        for s in steps(wf):
            run = s.get("run", "")
            assert not re.search(r"\b(echo|printf|cat)\b[^\n]*\$\{?(AWS_|NS1_)", run), name
            assert "set -x" not in run


def test_every_workflow_file_is_valid_yaml() -> None:
    for path in sorted(Path(WORKFLOWS).glob("*.yml")):
        assert isinstance(yaml.safe_load(path.read_text()), dict), path
