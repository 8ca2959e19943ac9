"""The GitHub workflows run the commands the README promises, and hold their credentials
the way docs/workflows.md says: write credentials only in jobs of the `production`
environment, which no pull request reaches; read-only ones for the pull-request plan;
each credential in the one step that needs it. Structure tests: the YAML is parsed."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
NAMES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))
WATCHED = ["zones/**", "policies/**", "config/**", "dnsops.yaml"]
SECRETS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "NS1_API_KEY"}
# What each credential is called: write (the `production` environment's) and read-only.
WRITE_SECRETS = SECRETS
WRITE_VARS = {"AWS_ROLE_ARN"}
READONLY_SECRETS = {
    "AWS_READONLY_ACCESS_KEY_ID",
    "AWS_READONLY_SECRET_ACCESS_KEY",
    "NS1_READONLY_API_KEY",
}
READONLY_VARS = {"AWS_READONLY_ROLE_ARN"}
# What the production drills' vantages need (dnsops.yaml): RIPE Atlas, the SSH hosts' key.
VANTAGE_SECRETS = {"RIPE_ATLAS_API_KEY", "DRILL_SSH_KEY"}
# The one step of each workflow that gets credentials.
CREDENTIAL_STEPS = {
    "dns-plan.yml": "Plan production",
    "dns-sync.yml": "Sync production",
    "dns-audit.yml": "Audit",
    "dns-drill.yml": "Run the drills",  # the production scenarios
}
# Every action, pinned by the commit its release tag points at. Each pair was read from
# the action's own repository (tag -> commit, `git rev-parse TAG^{commit}` on a mirror)
# and matches what public workflows pinning the same release use.
PINS = {
    "actions/checkout": ("11d5960a326750d5838078e36cf38b85af677262", "v4.4.0"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "actions/cache": ("0057852bfaa89a56745cba8c7296529d2fc39830", "v4.3.0"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    "actions/github-script": ("f28e40c7f34bde8b3046d885e986cb6290c5673b", "v7.1.0"),
    "aws-actions/configure-aws-credentials": (
        "7474bc4690e29a8392af63c5b98e7449536d5c3a",
        "v4.3.1",
    ),
}
AWS_ACTION = "aws-actions/configure-aws-credentials@"
PR_EVENTS = {"pull_request", "pull_request_target", "workflow_run"}


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def jobs(workflow: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    return dict(workflow["jobs"])


def steps(workflow: dict[Any, Any], job: str | None = None) -> list[dict[str, Any]]:
    if job is None:
        (only,) = [j for name, j in jobs(workflow).items() if name != "history"]
        return list(only["steps"])
    return list(jobs(workflow)[job]["steps"])


def all_steps() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (name, job_name, step)
        for name in NAMES
        for job_name, job in jobs(load(name)).items()
        for step in job["steps"]
    ]


def runs(workflow: dict[Any, Any], job: str | None = None) -> str:
    return "\n".join(s.get("run", "") for s in steps(workflow, job))


def references(value: Any, context: str) -> set[str]:
    """The names a piece of workflow reads from `secrets.` or `vars.`."""
    return set(re.findall(rf"\b{context}\.([A-Za-z0-9_]+)", str(value)))


def events(workflow: dict[Any, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


# -- what the workflows do ------------------------------------------------------------


def test_plan_workflow_lints_plans_and_comments_once() -> None:
    wf = load("dns-plan.yml")
    assert wf["on"]["pull_request"]["paths"] == WATCHED
    text = runs(wf, "plan")
    assert "dnsops lint --env production --format github" in text
    assert (
        "dnsops plan --env production --format markdown --detailed-exitcode --out plan.json "
        "> plan.md" in text
    )
    upload = next(s for s in steps(wf, "plan") if s.get("id") == "upload")
    assert upload["with"]["name"] == "dns-plan-${{ github.event.pull_request.head.sha }}"
    assert upload["with"]["path"].split() == ["plan.md", "plan.json"]
    assert jobs(wf)["plan"]["outputs"]["planned"] == "${{ steps.upload.outcome == 'success' }}"
    comment = jobs(wf)["comment"]
    assert comment["needs"] == "plan"
    assert "needs.plan.outputs.planned == 'true'" in comment["if"]
    download = next(s for s in comment["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["name"] == upload["with"]["name"]
    script = next(s for s in comment["steps"] if "github-script" in s.get("uses", ""))
    body = script["with"]["script"]
    assert "<!-- dnsops-plan -->" in body and "readFileSync('plan.md'" in body
    assert "updateComment" in body and "createComment" in body


def test_sync_workflow_applies_the_reviewed_plan_in_one_concurrency_group() -> None:
    wf = load("dns-sync.yml")
    assert wf["on"]["push"] == {"branches": ["main"], "paths": WATCHED}
    assert wf["concurrency"] == {"group": "dns-sync-production", "cancel-in-progress": False}
    job = jobs(wf)["sync"]
    assert job["environment"] == "production"
    assert job["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "actions": "read",
        "pull-requests": "read",
    }
    by_name = {s.get("name"): s for s in steps(wf)}
    find = by_name["Find the reviewed plan"]["with"]["script"]
    assert "listPullRequestsAssociatedWithCommit" in find and "merge_commit_sha" in find
    assert "workflow_id: 'dns-plan.yml', head_sha: head, status: 'success'" in find
    assert "`dns-plan-${head}`" in find  # the name dns-plan uploads it under
    download = by_name["Download the reviewed plan"]
    assert download["with"] == {
        "name": "${{ steps.reviewed.outputs.artifact }}",
        "run-id": "${{ steps.reviewed.outputs.run-id }}",
        "github-token": "${{ github.token }}",
    }
    script = by_name["Sync production"]["run"]
    assert "dnsops apply plan.json --env production" in script
    assert "dnsops sync --env production --doit" in script


def _sync_script_with(tmp_path: Path, apply_code: int, plan: bool) -> tuple[int, list[str]]:
    """The sync step's script, run with a stand-in `dnsops` that records its arguments."""
    script = {s.get("name"): s for s in steps(load("dns-sync.yml"))}["Sync production"]["run"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dnsops"
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> "$CALLS"\ncase "$1" in apply) exit {apply_code};; esac\nexit 0\n'
    )
    fake.chmod(0o755)
    if plan:
        (tmp_path / "plan.json").write_text("{}")
    calls = tmp_path / "calls"
    got = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return got.returncode, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize(
    ("apply_code", "plan", "code", "calls"),
    [
        (0, True, 0, ["apply plan.json --env production"]),
        (
            3,
            True,
            0,
            ["apply plan.json --env production", "sync --env production --doit"],
        ),
        (1, True, 1, ["apply plan.json --env production"]),
        (0, False, 0, ["sync --env production --doit"]),
    ],
)
def test_the_merge_applies_the_saved_plan_and_replans_only_when_it_is_stale(
    tmp_path: Path, apply_code: int, plan: bool, code: int, calls: list[str]
) -> None:
    assert _sync_script_with(tmp_path, apply_code, plan) == (code, calls)


def test_the_pull_request_lint_fails_on_what_production_cannot_hold(tmp_path: Path) -> None:
    """The lint step exactly as dns-plan.yml runs it, on a zone with an SSHFP record:
    valid in the lab, impossible on Route 53 and NS1."""
    from tests.conftest import make_project

    lint = {s.get("name"): s for s in steps(load("dns-plan.yml"), "plan")}["Lint"]["run"]
    project = make_project(tmp_path / "p")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

    def run_lint() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", lint],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    shipped = run_lint()
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    zone = project / "zones" / "example.test.yaml"
    sshfp = (
        "ssh:\n  ttl: 3600\n  type: SSHFP\n  value:\n    algorithm: 4\n"
        f"    fingerprint: {'a' * 64}\n    fingerprint_type: 2\n"
    )
    zone.write_text(zone.read_text().replace("www:\n", sshfp + "www:\n", 1))
    in_lab = subprocess.run(
        [sys.executable, "-m", "dnsops", "lint", "--env", "lab"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert in_lab.returncode == 0, in_lab.stdout + in_lab.stderr  # the lab holds SSHFP
    got = run_lint()
    assert got.returncode == 1, got.stdout + got.stderr
    assert "::error file=zones/example.test.yaml,line=" in got.stdout
    assert "provider-support" in got.stdout and "SSHFP" in got.stdout


def test_every_workflow_file_is_valid_yaml() -> None:
    assert NAMES
    for path in sorted(Path(WORKFLOWS).glob("*.yml")):
        assert isinstance(yaml.safe_load(path.read_text()), dict), path


# -- least privilege ---------------------------------------------------------------------


def test_every_workflow_declares_permissions_and_grants_writes_per_job_only() -> None:
    for name in NAMES:
        wf = load(name)
        assert "permissions" in wf, f"{name}: no top-level permissions"
        top = wf["permissions"]
        assert isinstance(top, dict), f"{name}: permissions must be a mapping, not {top!r}"
        assert set(top.values()) <= {"read"}, f"{name}: a write granted to every job"
        for job_name, job in jobs(wf).items():
            granted = job.get("permissions", top)
            assert isinstance(granted, dict), f"{name}/{job_name}: {granted!r}"
            uses = [s.get("uses", "") for s in job["steps"]]
            oidc = any(u.startswith(AWS_ACTION) for u in uses)
            assert (granted.get("id-token") == "write") == oidc, f"{name}/{job_name}: id-token"
            writes = {k for k, v in granted.items() if v == "write"} - {"id-token"}
            allowed = {"pull-requests"}
            if (name, job_name) == ("dns-drill.yml", "history"):
                allowed = {"contents"}  # the drill-history branch, through the git data API
            assert writes <= allowed, f"{name}/{job_name}: {writes}"
            if writes:
                # the job that may write runs no code of the repository
                assert not any(u.startswith("actions/checkout@") for u in uses), job_name
                assert not any("run" in s for s in job["steps"]), job_name


def test_every_job_has_a_timeout() -> None:
    for name in NAMES:
        for job_name, job in jobs(load(name)).items():
            minutes = job.get("timeout-minutes")
            assert isinstance(minutes, int) and 1 <= minutes <= 120, f"{name}/{job_name}"


def test_every_checkout_leaves_no_credentials_behind() -> None:
    checkouts = [(n, j, s) for n, j, s in all_steps() if "actions/checkout@" in s.get("uses", "")]
    assert checkouts
    for name, job_name, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{name}/{job_name}"


def test_every_action_is_pinned_by_the_commit_of_its_release() -> None:
    seen = set()
    for name in NAMES:
        for line in (WORKFLOWS / name).read_text().splitlines():
            match = re.match(r"\s*(?:-\s+)?uses:\s*(\S+?)@(\S+)(?:\s+#\s*(\S+))?\s*$", line)
            if match is None:
                continue
            action, ref, comment = match.groups()
            repo = "/".join(action.split("/")[:2])
            assert repo in PINS, f"{name}: {action} has no verified pin"
            sha, version = PINS[repo]
            assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{name}: {action}@{ref} is not a commit"
            assert (ref, comment) == (sha, version), f"{name}: {action}@{ref} # {comment}"
            seen.add(repo)
    assert seen == set(PINS)


# -- credentials -----------------------------------------------------------------------


def test_secrets_only_reach_the_step_that_needs_them_and_are_never_echoed() -> None:
    for name in NAMES:
        wf = load(name)
        assert not references(wf.get("env"), "secrets"), name
        with_secrets = []
        for job_name, job in jobs(wf).items():
            assert not references(job.get("env"), "secrets"), f"{name}/{job_name}"
            for s in job["steps"]:
                run = s.get("run", "")
                assert not references(run, "secrets"), f"{name}: a secret in a script"
                assert not references(s.get("with"), "secrets"), f"{name}: a secret to an action"
                if references(s, "secrets") or "steps.aws.outputs" in str(s.get("env")):
                    with_secrets.append(s)
                assert not re.search(r"\b(echo|printf|cat)\b[^\n]*\$\{?(AWS_|NS1_)", run), name
                assert "set -x" not in run, name
        if name == "ci.yml":
            assert not with_secrets
            continue
        assert [s["name"] for s in with_secrets] == [CREDENTIAL_STEPS[name]], name
        allowed = SECRETS | {"AWS_SESSION_TOKEN", "SCENARIO"}
        if name == "dns-drill.yml":
            allowed |= VANTAGE_SECRETS | {"DRILL_SSH_KNOWN_HOSTS"}
        assert set(with_secrets[0]["env"]) <= allowed


def test_aws_roles_come_through_oidc_with_static_keys_as_the_fallback() -> None:
    for name in ("dns-plan.yml", "dns-sync.yml", "dns-drill.yml"):
        wf = load(name)
        assert AWS_ACTION in str(wf), f"{name}: no OIDC role"
        for job in jobs(wf).values():
            oidc = [s for s in job["steps"] if s.get("uses", "").startswith(AWS_ACTION)]
            if not oidc:
                continue
            (step,) = oidc
            (role_var,) = references(step["with"]["role-to-assume"], "vars")
            assert step["id"] == "aws"
            assert f"vars.{role_var} != ''" in step["if"]  # no role: the static keys
            # the credentials go to the step's outputs, not to every later step's env
            assert step["with"]["output-credentials"] is True
            assert step["with"]["output-env-credentials"] is False
            target = next(s for s in job["steps"] if s.get("name") == CREDENTIAL_STEPS[name])
            env = target["env"]
            prefix = "AWS_READONLY_" if role_var in READONLY_VARS else "AWS_"
            assert env["AWS_ACCESS_KEY_ID"] == (
                f"${{{{ steps.aws.outputs.aws-access-key-id || secrets.{prefix}ACCESS_KEY_ID }}}}"
            )
            assert env["AWS_SECRET_ACCESS_KEY"] == (
                "${{ steps.aws.outputs.aws-secret-access-key || "
                f"secrets.{prefix}SECRET_ACCESS_KEY }}}}"
            )
            assert env["AWS_SESSION_TOKEN"] == "${{ steps.aws.outputs.aws-session-token }}"
            users = [s for s in job["steps"] if "steps.aws.outputs" in str(s)]
            assert users == [target], name


def test_the_pull_request_plan_holds_no_write_credential() -> None:
    wf = load("dns-plan.yml")
    assert events(wf) == {"pull_request"}  # never pull_request_target: no base-repo trust
    plan = jobs(wf)["plan"]
    assert "environment" not in plan
    assert references(plan, "secrets") == READONLY_SECRETS
    assert references(plan, "vars") == READONLY_VARS
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    comment = jobs(wf)["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert not references(comment, "secrets") and not references(comment, "vars")


def test_write_credentials_live_only_in_production_jobs_no_pull_request_reaches() -> None:
    for name in NAMES:
        wf = load(name)
        for job_name, job in jobs(wf).items():
            writes = references(job, "secrets") & WRITE_SECRETS
            writes |= references(job, "vars") & WRITE_VARS
            if not writes:
                continue
            assert job.get("environment") == "production", f"{name}/{job_name}: {writes}"
            assert not events(wf) & PR_EVENTS, name
            assert not references(job, "secrets") & READONLY_SECRETS, f"{name}/{job_name}"
        if events(wf) & PR_EVENTS:
            assert all("environment" not in job for job in jobs(wf).values()), name


def test_drill_credentials_reach_production_scenarios_only() -> None:
    wf = load("dns-drill.yml")
    by_name = {s.get("name"): s for s in steps(wf)}
    listing = by_name["List the production drills"]["run"]
    assert "dnsops drill list --format json" in listing
    assert 'drill_names.py production "$SCENARIO"' in listing
    production = by_name["Run the drills"]
    assert '< "$RUNNER_TEMP/drills-production"' in production["run"]
    assert 'dnsops drill run "$name" --env production --doit --yes' in production["run"]
    assert references(production["env"], "secrets") == WRITE_SECRETS | VANTAGE_SECRETS
    assert references(production["env"], "vars") == {"DRILL_SSH_KNOWN_HOSTS"}


def _drill_list() -> dict[str, Any]:
    """`dnsops drill list --format json` of this repository, as the workflow reads it."""
    from typer.testing import CliRunner

    from dnsops.cli.app import app

    config = str(REPO / "dnsops.yaml")
    result = CliRunner().invoke(app, ["--config", config, "drill", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def _drill_step(tmp_path: Path, name: str, env: dict[str, str]) -> tuple[int, list[str], str]:
    """One step of dns-drill.yml's drill job, run by bash in a copy of the repository's
    .github/scripts, with a stand-in `dnsops` that prints the real `drill list` JSON and
    records every call. Returns (exit code, the stand-in's calls, stderr)."""
    script = {s.get("name"): s for s in steps(load("dns-drill.yml"))}[name]["run"]
    work = tmp_path / "work"
    (work / ".github").mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / ".github" / "scripts", work / ".github" / "scripts", dirs_exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "list.json").write_text(json.dumps(_drill_list()))
    fake = bin_dir / "dnsops"
    fake.write_text(
        '#!/bin/sh\necho "$*" >> "$CALLS"\n'
        f'case "$1 $2" in "drill list") cat "{tmp_path / "list.json"}";;\n'
        '  "drill run") [ -z "$AGENT_CHECK" ] || ssh-add -l >> "$CALLS" 2>&1;; esac\nexit 0\n'
    )
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    got = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=work,
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "CALLS": str(calls),
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(tmp_path / "output"),
            "HOME": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    calls.unlink(missing_ok=True)
    return got.returncode, lines, got.stderr


def test_the_quarterly_drill_runs_exactly_the_production_scenarios_and_starts_no_lab(
    tmp_path: Path,
) -> None:
    wf = load("dns-drill.yml")
    assert wf["on"]["schedule"] == [{"cron": "17 6 1 1,4,7,10 *"}]
    assert wf["concurrency"] == {"group": "dns-drill", "cancel-in-progress": False}
    job = jobs(wf)["drill"]
    assert job["environment"] == "production"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    # no lab on the runner: no lab, no servers, no root, no Debian packages
    text = runs(wf, "drill")
    for word in ("lab up", "lab down", "sync --doit", "make setup", "sudo", "apt-get", "systemctl"):
        assert word not in text, word
    assert "drills-lab" not in text and "Run the lab drills" not in str(job)
    # the scheduled run (no dispatch input) picks exactly the production scenarios
    production = [s["name"] for s in _drill_list()["scenarios"] if s["environment"] == "production"]
    assert production == ["production-api-failover"]
    code, calls, stderr = _drill_step(tmp_path, "List the production drills", {"SCENARIO": ""})
    assert code == 0, stderr
    assert calls == ["drill list --format json"]
    assert (tmp_path / "drills-production").read_text().splitlines() == production
    assert (tmp_path / "output").read_text() == f"production={len(production)}\n"
    # ...and runs each against production, one after the other
    code, calls, stderr = _drill_step(tmp_path, "Run the drills", {"DRILL_SSH_KEY": ""})
    assert code == 0, stderr
    assert calls == [f"drill run {n} --env production --doit --yes" for n in production]
    # the SSH vantages' key is in an agent while the drills run, and on no disk
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "drill-test", "-f", str(key)],
        check=True,
        timeout=30,
    )
    private = key.read_text()
    key.unlink()
    public = Path(f"{key}.pub").read_text().split()
    known = f"probe-lhr {public[0]} {public[1]}"
    ssh_env = {"DRILL_SSH_KEY": private, "DRILL_SSH_KNOWN_HOSTS": known, "AGENT_CHECK": "1"}
    code, calls, stderr = _drill_step(tmp_path, "Run the drills", ssh_env)
    assert code == 0, stderr
    assert calls[0] == f"drill run {production[0]} --env production --doit --yes"
    assert calls[1].endswith("drill-test (ED25519)")  # ssh-add -l, during the drill
    assert (tmp_path / ".ssh" / "known_hosts").read_text() == known + "\n"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "PRIVATE KEY" not in path.read_text(errors="replace"), path
    # a dispatch naming a lab scenario is refused: the test suite runs those
    code, calls, stderr = _drill_step(
        tmp_path, "List the production drills", {"SCENARIO": "pdns-outage"}
    )
    assert code == 1
    assert "'pdns-outage' is a scenario of environment 'lab': the test suite rehearses it" in stderr


def drill_names() -> Any:
    spec = importlib.util.spec_from_file_location(
        "drill_names", REPO / ".github" / "scripts" / "drill_names.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_drill_names_picks_the_production_scenarios() -> None:
    select = drill_names().select
    doc = {
        "scenarios": [
            {"name": "pdns-outage", "environment": "lab"},
            {"name": "ns1-blackhole", "environment": "production"},
            {"name": "api-failover", "environment": "lab"},
            {"name": "production-api-failover", "environment": "production"},
        ]
    }
    assert select(doc, "production") == ["ns1-blackhole", "production-api-failover"]
    assert select(doc, "production", "ns1-blackhole") == ["ns1-blackhole"]
    with pytest.raises(SystemExit, match="'api-failover' is a scenario of environment 'lab'"):
        select(doc, "production", "api-failover")
    with pytest.raises(SystemExit, match="no drill scenario named 'nope'"):
        select(doc, "production", "nope")
    with pytest.raises(SystemExit, match="runs the environment"):
        select(doc, "lab")  # the workflow never runs the lab
    doc["scenarios"].append({"name": "staging-failover", "environment": "staging"})
    with pytest.raises(SystemExit, match=r"staging-failover \(staging\)"):
        select(doc, "production")  # a scenario nobody runs fails the run


def test_every_scenario_in_drills_is_run_by_the_workflow_or_the_tests() -> None:
    doc = _drill_list()
    picked = drill_names().select(doc, "production")
    lab = [s["name"] for s in doc["scenarios"] if s["environment"] == "lab"]
    # (tests/test_drill_lab.py runs every lab scenario of drills/ in its lab)
    assert sorted(picked + lab) == sorted(s["name"] for s in doc["scenarios"])
    assert picked and lab


# -- the scripts --------------------------------------------------------------------------


def unquoted_expansions(script: str) -> list[str]:
    """`$name`/`${name}` outside double quotes (where the shell splits and globs them).

    A small scanner: single quotes, double quotes, `$(...)` (whose inside starts unquoted
    again), backslashes and comments. `$?`, `$#`, `$1` are not looked at, nor `${{ }}`."""
    found: list[str] = []
    stack = ["top"]  # top | dq | sub
    depth: list[int] = []  # open parentheses inside each $( ... )
    i, n = 0, len(script)
    while i < n:
        c, ctx = script[i], stack[-1]
        if c == "\\":
            i += 2
            continue
        if ctx == "dq":
            if c == '"':
                stack.pop()
            elif script.startswith("$(", i):
                stack.append("sub")
                depth.append(0)
                i += 1
            i += 1
            continue
        if c == "#" and (i == 0 or script[i - 1] in " \t\n;"):
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        if c == "'":
            i = script.index("'", i + 1) + 1
            continue
        if c == '"':
            stack.append("dq")
        elif script.startswith("${{", i):
            i = script.index("}}", i) + 2
            continue
        elif script.startswith("$(", i):
            stack.append("sub")
            depth.append(0)
            i += 1
        elif c == "$" and re.match(r"[A-Za-z_{]", script[i + 1 : i + 2]):
            found.append(re.match(r"\$(\{[^}]*\}|\w+)", script[i:]).group(0))  # type: ignore[union-attr]
        elif ctx == "sub" and c == "(":
            depth[-1] += 1
        elif ctx == "sub" and c == ")":
            if depth[-1]:
                depth[-1] -= 1
            else:
                stack.pop()
                depth.pop()
        i += 1
    return found


def test_the_quoting_check_finds_what_it_should() -> None:
    assert unquoted_expansions("for name in $names; do\n  exit $failed\ndone") == [
        "$names",
        "$failed",
    ]
    assert unquoted_expansions("x ${HOME}/y") == ["${HOME}"]
    assert unquoted_expansions('sudo -E env "PATH=$PATH" PY="$(command -v "$X")" make') == []
    assert unquoted_expansions("echo '$not' \"${a[@]}\" \\$b # $comment\ncode=$?") == []
    assert unquoted_expansions('n="$(wc -l < "$f")"; m=$(cat $g)') == ["$g"]


def test_run_scripts_quote_their_variables_and_interpolate_no_expressions() -> None:
    for name, job_name, step in all_steps():
        run = step.get("run", "")
        assert not unquoted_expansions(run), f"{name}/{job_name}/{step.get('name')}"
        # ${{ }} in a script is pasted in before the shell reads it: values go through env
        assert "${{" not in run, f"{name}/{job_name}/{step.get('name')}"


def test_run_scripts_pass_shellcheck() -> None:
    if shutil.which("shellcheck") is None:  # `make setup` installs it (Debian: shellcheck)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true: shellcheck is not installed (make setup installs it)")
        pytest.skip("shellcheck is not installed")
    for name, job_name, step in all_steps():
        if "run" not in step:
            continue
        script = "#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"]  # GitHub's bash -e
        result = subprocess.run(
            ["shellcheck", "--shell=bash", "-"], input=script, text=True, capture_output=True
        )
        assert result.returncode == 0, f"{name}/{job_name}/{step.get('name')}\n{result.stdout}"


def test_the_production_config_passes_the_oidc_session_token() -> None:
    config = yaml.safe_load((REPO / "config" / "production.yaml").read_text())
    assert config["providers"]["route53"].get("session_token") == "env/AWS_SESSION_TOKEN/"


def test_the_drill_history_is_restored_before_and_kept_after_on_its_branch() -> None:
    wf = load("dns-drill.yml")
    drill = {s.get("name"): s for s in steps(wf, "drill")}
    fetch = drill["Fetch the drill history"]
    assert fetch["continue-on-error"] is True
    assert fetch["with"] == {
        "ref": "drill-history",
        "path": ".drill-history",
        "persist-credentials": False,
    }
    assert "cp -t drills/history/" in drill["Restore the drill history"]["run"]
    names = [s.get("name") for s in steps(wf, "drill")]
    assert names.index("Restore the drill history") < names.index("Run the drills")
    assert "drill status --env production --prom-file" in drill["Drill status"]["run"]
    history = jobs(wf)["history"]
    assert history["needs"] == "drill" and history["permissions"] == {"contents": "write"}
    assert "secrets." not in str(history)
    script = next(s for s in history["steps"] if "github-script" in s.get("uses", ""))
    body = script["with"]["script"]
    assert "heads/drill-history" in body and "createCommit" in body
    assert ".json$/" in body  # only the JSON summaries
