"""dnsops validate: every zone problem at once, with file and line; no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO, run

FIXTURES = REPO / "tests" / "fixtures" / "zones"
ZONE = "zones/example.test.yaml"


def with_zone(project_dir: Path, fixture: str) -> Path:
    shutil.copy(FIXTURES / fixture, project_dir / ZONE)
    return project_dir


def test_example_zone_is_valid(cli: CliRunner, project_dir: Path) -> None:
    result = run(cli, project_dir, "validate", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "environment": "lab",
        "valid": True,
        "zones": {"example.test.": 13},
        "problems": [],
        "notices": [],
    }


@pytest.mark.parametrize(
    ("fixture", "problems"),
    [
        (
            "yaml-error.yaml",
            [
                f"{ZONE}:7: invalid YAML: expected <block end>, but found "
                "'<block sequence start>' (while parsing a block mapping)"
            ],
        ),
        (
            "bad-ip.yaml",
            [
                f'{ZONE}:3: api (A): invalid IPv4 address "192.0.2.300", via: ip-value-rfc',
                f'{ZONE}:9: www (AAAA): invalid IPv6 address "not-an-address", via: ip-value-rfc',
            ],
        ),
        (
            "cname-beside-others.yaml",
            [
                f"{ZONE}:3: Invalid state, CNAME at www.example.test. cannot coexist with other "
                "records (via cname-coexistence; records at lines 3, 6)"
            ],
        ),
        (
            "keys-out-of-order.yaml",
            [
                f"{ZONE}:2: keys out of order: expected api got www "
                "(octoDNS enforce_order: sort the keys)"
            ],
        ),
        ("unknown-type.yaml", [f'{ZONE}:3: api (AA): Unknown record type: "AA"']),
        (
            "several-problems.yaml",
            [
                f'{ZONE}:3: api (A): invalid IPv4 address "192.0.2.999", via: ip-value-rfc',
                f"{ZONE}:7: mail (MX): invalid ttl, via: ttl-rfc; "
                "missing preference, via: mx-value",
                f'{ZONE}:12: www (CNAME): CNAME value "example.test" missing trailing ., '
                "via: target-value-best-practice",
            ],
        ),
    ],
)
def test_bad_zone_lists_every_problem(
    cli: CliRunner, project_dir: Path, fixture: str, problems: list[str]
) -> None:
    with_zone(project_dir, fixture)
    result = run(cli, project_dir, "validate", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "environment": "lab",
        "valid": False,
        "zones": {},
        "problems": problems,
        "notices": [],
    }
    text = run(cli, project_dir, "validate")
    assert text.exit_code == 1
    assert "Traceback" not in text.output
    for problem in problems:
        assert problem in " ".join(text.output.split()) or problem in text.output
    assert len(text.output.splitlines()) <= 24  # one screen


def test_validate_unknown_environment(cli: CliRunner, project_dir: Path) -> None:
    result = run(cli, project_dir, "validate", "--env", "staging")
    assert result.exit_code == 1
    assert "no environment 'staging' (known: lab, production)" in result.output


def test_validate_bad_flag_is_a_usage_error(cli: CliRunner, project_dir: Path) -> None:
    result = run(cli, project_dir, "validate", "--formatt", "json")
    assert result.exit_code == 64
    assert "No such option" in result.output
