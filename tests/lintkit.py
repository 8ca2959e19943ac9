"""Helpers for the lint tests: a project copy holding one small fixture zone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from dnsops.config import load_project
from dnsops.env import Env
from dnsops.lint import driver
from dnsops.lint.policy import Policy, load_policies

ZONE_FILE = "zones/lint.test.yaml"


def write_zone(project_dir: Path, text: str, zone: str = "lint.test.") -> Path:
    """Replace the project's zones with one zone file (YAML text, dedented)."""
    zones = project_dir / "zones"
    for old in zones.glob("*.yaml"):
        old.unlink()
    path = zones / f"{zone.rstrip('.')}.yaml"
    path.write_text(dedent(text).lstrip("\n"))
    return path


def legacy_validators(project_dir: Path) -> None:
    """Run the project's lab config with octoDNS's default validator set only (legacy)."""
    config = project_dir / "config" / "lab.yaml"
    text = config.read_text()
    block = "  validators:\n"
    assert block in text, "config/lab.yaml has no manager.validators block"
    lines = text.splitlines(keepends=True)
    start = lines.index(block)
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    config.write_text("".join(lines[:start] + lines[end:]))


def only(policy: Policy, *ids: str) -> Policy:
    """The shipped policy cut down to some rules, so a fixture meets only those."""
    missing = set(ids) - policy.ids
    assert not missing, f"no such rule(s) in the policy: {missing}"
    return replace(policy, rules=tuple(r for r in policy.rules if r.id in ids))


def lint(
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    *ids: str,
    env: str | None = None,
    online: bool = False,
) -> driver.LintReport:
    """Lint the project's zones with only the rules ``ids`` of its policies."""
    monkeypatch.chdir(project_dir)  # findings name files relative to the project
    project = load_project(project_dir / "dnsops.yaml")
    policy = only(load_policies(project.policies_dir), *ids)
    return driver.run(Env(project, env), online_checks=online, policy=policy)


def brief(report: driver.LintReport) -> list[tuple[str, str, str, int | None]]:
    """(rule id, severity, subject, line) of every finding, in order; all in ZONE_FILE."""
    invalid = [f"{f.line}: {f.message}" for f in report.findings if f.id == "octodns-validation"]
    assert not invalid, "the fixture zone is not valid octoDNS:\n" + "\n".join(invalid)
    files = {f.file for f in report.findings}
    assert files <= {ZONE_FILE}, files
    return [(f.id, str(f.severity), f.subject, f.line) for f in report.findings]
