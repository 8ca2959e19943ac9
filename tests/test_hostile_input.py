"""Hostile and damaged input: every YAML and JSON file dnsops reads, through the CLI.

Each case gives ``file:line: what is wrong`` (line:column for bytes that are not UTF-8),
exit 1, no traceback, and writes nothing. The fixtures are in tests/fixtures/hostile/:
zones/ (whole zone files), files/ (fragments appended to dnsops's own YAML files) and
state/ (saved plans, lock files, drill journals, audit logs). A bounded fuzzer
(tests/fuzz.py) runs last, with a fixed seed.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests import fuzz
from tests.conftest import REPO, run

HOSTILE = REPO / "tests" / "fixtures" / "hostile"
ZONE = "zones/example.test.yaml"
BOMB = "refused, as a YAML alias bomb"
DUP = "YAML would silently keep only the last"
DEEP = "nested deeper than 64 levels (mappings and sequences)"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory below ``root``, with size and mtime: nothing written?"""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_size, st.st_mtime_ns)
    return out


def errors(result: Any) -> list[str]:
    """The lines of the error message (without the hint), checking it is a clean one."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    body = [line for line in lines[start:] if not line.startswith("hint: ")]
    body[0] = body[0].removeprefix("error: ")
    return body


def check(cli: CliRunner, project: Path, *args: str) -> list[str]:
    """Run dnsops ``args``; its error lines, after checking nothing was written."""
    before = snapshot(project)
    result = run(cli, project, *args)
    found = errors(result)
    assert snapshot(project) == before, "the command wrote something"
    return found


# -- zone files -----------------------------------------------------------------------

ZONE_CASES = [
    ("bad-utf8.yaml", f"{ZONE}:14:14: not UTF-8: byte 0xe9 (invalid continuation byte)"),
    ("control-character.yaml", f"{ZONE}:14:16: control character U+0007 is not allowed in YAML"),
    ("deep-nesting.yaml", f"{ZONE}:75: {DEEP}"),
    ("very-deep-nesting.yaml", f"{ZONE}:14: {DEEP}"),
    ("duplicate-record.yaml", f"{ZONE}:19: duplicate key 'mx2' (first at line 15): {DUP}"),
    ("duplicate-value.yaml", f"{ZONE}:15: duplicate key 'value' (first at line 14): {DUP}"),
    ("duplicate-nested.yaml", f"{ZONE}:17: duplicate key 'class' (first at line 14): {DUP}"),
    (
        "alias-bomb-txt.yaml",
        f"{ZONE}:20: aliases here expand to more than 100,000 nodes: {BOMB}",
    ),
    (
        "alias-bomb-metadata.yaml",
        f"{ZONE}:19: aliases here expand to more than 100,000 nodes: {BOMB}",
    ),
    (
        "alias-bomb-characters.yaml",
        f"{ZONE}:15: aliases here expand to more than 1,000,000 characters: {BOMB}",
    ),
    ("recursive-alias.yaml", f"{ZONE}:14: recursive alias: the anchor contains an alias of itself"),
    ("long-number.yaml", f"{ZONE}:12: invalid YAML: integer of 5000 characters is too long"),
    (
        "bad-timestamp.yaml",
        f"{ZONE}:14: invalid YAML: invalid timestamp '2024-13-45': month must be in 1..12",
    ),
    (
        "include-directory.yaml",
        f"{ZONE}:14: !include 'values': zones/values: is a directory, expected a YAML file",
    ),
    (
        "include-self.yaml",
        f"{ZONE}:14: !include 'example.test.yaml' is a cycle: {ZONE} -> {ZONE}",
    ),
    (
        "include-cycle.yaml",
        "zones/cycle-b.yaml:2: !include 'cycle-a.yaml' is a cycle: "
        "zones/cycle-a.yaml -> zones/cycle-b.yaml -> zones/cycle-a.yaml",
    ),
    (
        "include-missing.yaml",
        f"{ZONE}:14: !include 'nowhere.yaml': zones/nowhere.yaml: YAML file not found",
    ),
    (
        "include-unsorted.yaml",
        "zones/unsorted.yaml:2: keys out of order: expected key got value "
        "(octoDNS enforce_order: sort the keys)",
    ),
    (
        "include-outside.yaml",
        f"{ZONE}:14: !include '../dnsops.yaml' is outside zones: includes stay in that directory",
    ),
]


def with_zone(project: Path, fixture: str) -> Path:
    shutil.copy(HOSTILE / "zones" / fixture, project / ZONE)
    for name in ("cycle-a.yaml", "cycle-b.yaml", "addresses.yaml", "unsorted.yaml"):  # not zones
        shutil.copy(HOSTILE / "zones" / name, project / "zones" / name)
    (project / "zones" / "values").mkdir(exist_ok=True)
    return project


@pytest.mark.parametrize(("fixture", "problem"), ZONE_CASES, ids=[c[0] for c in ZONE_CASES])
def test_hostile_zone_file(cli: CliRunner, project_dir: Path, fixture: str, problem: str) -> None:
    start = time.monotonic()
    found = check(cli, with_zone(project_dir, fixture), "validate")
    assert found == ["1 zone problem:", problem]
    assert time.monotonic() - start < 10  # the bombs are refused, not expanded


def test_lint_and_plan_read_zones_the_same_way(cli: CliRunner, project_dir: Path) -> None:
    import json

    with_zone(project_dir, "duplicate-record.yaml")
    assert check(cli, project_dir, "plan") == [
        "1 zone problem:",
        f"{ZONE}:19: duplicate key 'mx2' (first at line 15): {DUP}",
    ]
    before = snapshot(project_dir)
    result: Any = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 1
    assert snapshot(project_dir) == before
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["file"], finding["line"], finding["severity"]) == (ZONE, 19, "error")
    assert finding["message"] == f"duplicate key 'mx2' (first at line 15): {DUP}"


def test_include_inside_the_zones_directory_still_works(cli: CliRunner, project_dir: Path) -> None:
    result: Any = run(cli, with_zone(project_dir, "include-ok.yaml"), "validate")
    assert result.exit_code == 0, result.output
    assert "valid example.test.: 2 records" in result.output


def test_zones_path_is_a_file(cli: CliRunner, project_dir: Path) -> None:
    shutil.rmtree(project_dir / "zones")
    (project_dir / "zones").write_text("not a directory\n")
    assert check(cli, project_dir, "validate") == ["zones: is a file, expected the zones directory"]


def test_zone_file_is_a_directory(cli: CliRunner, project_dir: Path) -> None:
    (project_dir / "zones" / "other.test.yaml").mkdir()
    assert check(cli, project_dir, "validate") == [
        "zones/other.test.yaml: is a directory, expected a zone file"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file of mode 000")
def test_unreadable_zone_file(cli: CliRunner, project_dir: Path) -> None:
    (project_dir / ZONE).chmod(0)
    assert check(cli, project_dir, "validate") == [
        "1 zone problem:",
        f"{ZONE}: cannot read zone file: permission denied",
    ]


def test_unreadable_zone_file_as_root_too(
    cli: CliRunner, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a non-root user sees (simulated: the kernel refuses the open)."""
    import dnsops.yamlfile

    real_open = os.open

    def refuse(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(ZONE):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(dnsops.yamlfile.os, "open", refuse)
    assert check(cli, project_dir, "validate") == [
        "1 zone problem:",
        f"{ZONE}: cannot read zone file: permission denied",
    ]


# -- dnsops's own YAML files ------------------------------------------------------------


def append(path: Path, fragment: str) -> int:
    """Append a fragment of files/; the line it starts at."""
    lines = path.read_bytes().count(b"\n")
    path.write_bytes(path.read_bytes() + (HOSTILE / "files" / fragment).read_bytes())
    return lines + 1


@pytest.mark.parametrize(
    ("target", "command", "what"),
    [
        ("dnsops.yaml", ["validate"], "dnsops config"),
        ("config/lab.yaml", ["validate"], "octoDNS config"),
        ("policies/default.yaml", ["lint"], "policy"),
        ("drills/bind-outage.yaml", ["drill", "list"], "drill scenario"),
    ],
)
def test_own_files_not_utf8(
    cli: CliRunner, project_dir: Path, target: str, command: list[str], what: str
) -> None:
    line = append(project_dir / target, "bad-utf8.yaml")
    found = check(cli, project_dir, *command)
    assert found == [
        f"{project_dir / target}:{line}:43: not UTF-8: byte 0xe9 (invalid continuation byte)"
    ], what


def test_duplicate_key_in_dnsops_yaml(cli: CliRunner, project_dir: Path) -> None:
    lines = (project_dir / "dnsops.yaml").read_text().splitlines()
    first = lines.index("default_environment: lab") + 1
    line = append(project_dir / "dnsops.yaml", "duplicate-default-environment.yaml")
    assert check(cli, project_dir, "validate") == [
        f"{project_dir / 'dnsops.yaml'}:{line}: duplicate key 'default_environment' "
        f"(first at line {first}): {DUP}"
    ]


def test_alias_bomb_in_octodns_config(cli: CliRunner, project_dir: Path) -> None:
    line = append(project_dir / "config" / "lab.yaml", "alias-bomb.yaml")
    start = time.monotonic()
    assert check(cli, project_dir, "validate") == [
        f"{project_dir / 'config' / 'lab.yaml'}:{line + 6}: aliases here expand to more than "
        f"100,000 nodes: {BOMB}"
    ]
    assert time.monotonic() - start < 10


def test_deep_nesting_in_a_policy(cli: CliRunner, project_dir: Path) -> None:
    line = append(project_dir / "policies" / "default.yaml", "deep-nesting.yaml")
    assert check(cli, project_dir, "lint") == [
        f"{project_dir / 'policies' / 'default.yaml'}:{line}: {DEEP}"
    ]


def test_dnsops_yaml_is_a_directory(cli: CliRunner, project_dir: Path) -> None:
    config = project_dir / "dnsops.yaml"
    config.unlink()
    config.mkdir()
    assert check(cli, project_dir, "validate") == [
        f"{config}: is a directory, expected a dnsops config file"
    ]


# -- JSON state files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ("plan-bad-utf8.json", "3:20: not UTF-8: byte 0xc3 (invalid continuation byte)"),
        ("plan-duplicate-key.json", "4: duplicate key 'environment' (first at line 3)"),
        ("plan-deep.json", "3: nested deeper than 64 levels (JSON)"),
        ("plan-very-deep.json", "3: nested deeper than 64 levels (JSON)"),
        ("plan-nan.json", "3: not JSON: NaN"),
    ],
)
def test_hostile_plan(cli: CliRunner, project_dir: Path, fixture: str, problem: str) -> None:
    plan = project_dir / "plan.json"
    shutil.copy(HOSTILE / "state" / fixture, plan)
    assert check(cli, project_dir, "apply", str(plan)) == [f"{plan}:{problem}"]


def test_plan_is_a_directory(cli: CliRunner, project_dir: Path) -> None:
    plan = project_dir / "plan.json"
    plan.mkdir()
    assert check(cli, project_dir, "apply", str(plan)) == [
        f"{plan}: cannot read the plan: is a directory, expected a plan file"
    ]


def locks(project: Path) -> Path:
    path = project / ".dnsops" / "locks"
    path.mkdir(parents=True, exist_ok=True)
    return path / "lab.lock"


def test_lock_path_is_a_directory(cli: CliRunner, project_dir: Path) -> None:
    lock = locks(project_dir)
    lock.mkdir()
    assert check(cli, project_dir, "sync", "--doit") == [
        f"{lock}: is a directory, expected the lock file"
    ]


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ("lock-bad-utf8.lock", "1:25: not UTF-8: byte 0xff (invalid start byte)"),
        ("lock-not-dnsops.lock", "1: not a dnsops lock file: no valid 'host'"),
    ],
)
def test_lock_file_dnsops_did_not_write(
    cli: CliRunner, project_dir: Path, fixture: str, problem: str
) -> None:
    lock = locks(project_dir)
    shutil.copy(HOSTILE / "state" / fixture, lock)
    assert check(cli, project_dir, "sync", "--doit") == [f"{lock}:{problem}"]


def journal(project: Path, fixture: str) -> Path:
    path = project / ".dnsops" / "drill" / "journal.json"
    path.parent.mkdir(parents=True)
    shutil.copy(HOSTILE / "state" / fixture, path)
    return path


@pytest.mark.parametrize("command", [["drill", "rollback"], ["drill", "status"]])
def test_journal_with_an_unknown_action(
    cli: CliRunner, project_dir: Path, command: list[str]
) -> None:
    path = journal(project_dir, "journal-unknown-kind.json")
    assert check(cli, project_dir, *command) == [
        f"{path}:4: not a drill journal dnsops wrote: actions[1].kind: unknown action kind "
        "'format-disk' (known: change-record, drop-traffic, restore-record, stop-server)"
    ]


def test_journal_not_utf8(cli: CliRunner, project_dir: Path) -> None:
    path = journal(project_dir, "journal-bad-utf8.json")
    assert check(cli, project_dir, "drill", "status") == [
        f"{path}:3:20: not UTF-8: byte 0xe2 (invalid continuation byte)"
    ]


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        ("audit-bad-utf8.jsonl", "2:31: not UTF-8: byte 0xff (invalid start byte)"),
        (
            "audit-duplicate-key.jsonl",
            "2: not a JSON line: duplicate key 'drift' (first at line 2)",
        ),
    ],
)
def test_hostile_audit_log(cli: CliRunner, project_dir: Path, fixture: str, problem: str) -> None:
    log = project_dir / "audit.jsonl"
    shutil.copy(HOSTILE / "state" / fixture, log)
    assert check(cli, project_dir, "audit", "--history", "--log", str(log)) == [f"{log}:{problem}"]


# -- the fuzzer, bounded ----------------------------------------------------------------------


def test_fuzzed_zone_files_fail_cleanly(project_dir: Path) -> None:
    """~300 mutations of zones/example.test.yaml, fixed seed: every one valid or a clean
    error with file:line; none over 20 s; no duplicate key accepted."""
    report = fuzz.fuzz(seed=20260101, count=300, project=project_dir)
    assert not report.failures, report.summary()
    assert max(o.seconds for o in report.outcomes) < fuzz.DEADLINE
    assert any(o.duplicate for o in report.outcomes)  # the oracle saw some
