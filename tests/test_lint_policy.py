"""Policy files: the shipped one loads; each malformed one (a fixture file per case)
gives one clear error with file, line and key, exit 1 and no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dnsops.lint.policy import load_policies
from tests.conftest import REPO, run

FIXTURES = Path(__file__).parent / "fixtures" / "policies"


def test_shipped_policy_loads() -> None:
    policy = load_policies(REPO / "policies")
    assert [r.id for r in policy.rules] == [
        "ttl-band",
        "ttl-floor",
        "ttl-rfc2181",
        "ttl-max",
        "hostname",
        "wire-limits",
        "rrset-size",
        "no-private-addresses",
        "no-apex-wildcard",
        "caa-at-apex",
        "mx-requires-spf",
        "mx-requires-dmarc",
        "two-mx",
        "provider-support",
        "provider-limits",
        "occluded-record",
        "apex-ns-both-providers",
        "dangling-target",
        "cdn-vary",
        "cdn-cache-control",
    ]
    assert {r.id for r in policy.rules if r.online} == {
        "dangling-target",
        "cdn-vary",
        "cdn-cache-control",
    }


def _only_policy(project_dir: Path, *fixtures: str, keep_default: bool = False) -> None:
    policies = project_dir / "policies"
    if not keep_default:
        shutil.rmtree(policies)
        policies.mkdir()
    for name in fixtures:
        shutil.copy(FIXTURES / name, policies / name)


@pytest.mark.parametrize(
    ("fixture", "problem"),
    [
        (
            "unknown-kind.yaml",
            "policies/unknown-kind.yaml:9: rules.1.kind: unknown rule kind 'forbidden' "
            "(one of ttl-band, ttl-floor, ttl-ceiling, hostname, wire-limits, rrset-size, "
            "forbid, require, provider-support, provider-limits, occluded, apex-ns-providers, "
            "dangling-target, cdn-vary, cdn-cache-control)",
        ),
        (
            "bad-regex.yaml",
            "policies/bad-regex.yaml:9: rules.0.match.value_regex: "
            "bad regex '^v=spf1 (+all': nothing to repeat at position 9",
        ),
        (
            "unsupported-regex.yaml",
            "policies/unsupported-regex.yaml:8: rules.0.match.name_regex: "
            "regex '^([a-z]+)\\\\.\\\\1$' is not supported: invalid escape sequence: \\1 "
            "(policy regexes run with RE2, in linear time: no backreferences, "
            "no lookahead or lookbehind)",
        ),
        (
            "bad-cidr.yaml",
            "policies/bad-cidr.yaml:9: rules.0.match.values_in: "
            "bad CIDR '10.1.2.3/8': 10.1.2.3/8 has host bits set",
        ),
        (
            "unknown-severity.yaml",
            "policies/unknown-severity.yaml:5: rules.0.severity: "
            "unknown severity 'fatal' (one of info, notice, warning, error, critical)",
        ),
        (
            "duplicate-id.yaml",
            "policies/duplicate-id.yaml:10: rules.1.id: duplicate rule id 'two-mx' "
            "(first defined at policies/duplicate-id.yaml:3)",
        ),
        (
            "unknown-placeholder.yaml",
            "policies/unknown-placeholder.yaml:3: rules.0: unknown placeholder(s) {tll} "
            "(this kind offers: detail, floor, fqdn, name, ttl, type, values, zone)",
        ),
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_malformed_policy(
    cli: CliRunner, project_dir: Path, fixture: str, problem: str, fmt: str
) -> None:
    _only_policy(project_dir, fixture)
    result = run(cli, project_dir, "lint", "--format", fmt)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == ["error: 1 policy problem(s):", problem]
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_duplicate_id_across_files(cli: CliRunner, project_dir: Path) -> None:
    _only_policy(project_dir, "duplicate-across-files.yaml", keep_default=True)
    result = run(cli, project_dir, "lint")
    assert result.exit_code == 1
    # default.yaml sorts first, so the fixture's rule is the duplicate
    assert result.stderr.splitlines()[1] == (
        "policies/duplicate-across-files.yaml:3: rules.0.id: duplicate rule id 'ttl-floor' "
        "(first defined at policies/default.yaml:33)"
    )


def test_every_problem_at_once(cli: CliRunner, project_dir: Path) -> None:
    _only_policy(project_dir, "bad-cidr.yaml", "bad-regex.yaml", "unknown-severity.yaml")
    result = run(cli, project_dir, "lint")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "error: 3 policy problem(s):"
    assert [line.split(":", 2)[0] for line in lines[1:4]] == [
        "policies/bad-cidr.yaml",
        "policies/bad-regex.yaml",
        "policies/unknown-severity.yaml",
    ]


def test_policy_yaml_syntax_error(cli: CliRunner, project_dir: Path) -> None:
    _only_policy(project_dir)
    (project_dir / "policies" / "broken.yaml").write_text("rules:\n  - id: x\n   kind: forbid\n")
    result = run(cli, project_dir, "lint", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "policies/broken.yaml:3: invalid YAML" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_key_in_rule(cli: CliRunner, project_dir: Path) -> None:
    _only_policy(project_dir)
    (project_dir / "policies" / "extra.yaml").write_text(
        "rules:\n"
        "  - id: caa\n"
        "    kind: require\n"
        "    severity: warning\n"
        "    message: no CAA\n"
        "    require: {name: '@', type: CAA, flavour: strict}\n"
    )
    result = run(cli, project_dir, "lint")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1] == (
        "policies/extra.yaml:6: rules.0.require.flavour: unknown key"
    )
