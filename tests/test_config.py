"""dnsops.yaml: every error names the file, the line and the key; no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dnsops.config import load_project
from dnsops.errors import ConfigError
from tests.conftest import LAB_RESOLVERS, REPO, run

FIXTURES = REPO / "tests" / "fixtures" / "config"


def test_repo_config_loads() -> None:
    project = load_project(REPO / "dnsops.yaml")
    name, env = project.environment(None)
    assert name == "lab"
    assert env.providers == ("pdns", "bind")
    assert [r.name for r in env.resolvers] == LAB_RESOLVERS
    assert project.environment("production")[1].providers == ("route53", "ns1")
    assert project.lab.providers["pdns"].nameservers == {
        "ns1.pdns.test.": "127.53.1.1",
        "ns2.pdns.test.": "127.53.1.2",
    }


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("unknown-key.yaml", "dnsops.yaml:11: environments.production.regoin: unknown key"),
        (
            "same-provider-twice.yaml",
            "dnsops.yaml:5: environments.lab.providers: Value error, the two providers must be "
            "two different octoDNS targets",
        ),
        (
            "bad-resolver-address.yaml",
            "dnsops.yaml:7: environments.lab.resolvers.0.address: Value error, '127.53.3.999' "
            "does not appear to be an IPv4 or IPv6 address",
        ),
    ],
)
def test_bad_config(cli: CliRunner, project_dir: Path, fixture: str, message: str) -> None:
    shutil.copy(FIXTURES / fixture, project_dir / "dnsops.yaml")
    with pytest.raises(ConfigError) as exc:
        load_project(project_dir / "dnsops.yaml")
    assert exc.value.message == f"{project_dir}/{message}"
    result = run(cli, project_dir, "validate")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert message in " ".join(result.output.split())


def test_missing_octodns_config(cli: CliRunner, project_dir: Path) -> None:
    shutil.copy(FIXTURES / "missing-octodns-config.yaml", project_dir / "dnsops.yaml")
    result = run(cli, project_dir, "validate")
    assert result.exit_code == 1
    assert (
        f"{project_dir}/config/nowhere.yaml: octoDNS config file not found "
        "(named by environments.lab.octodns_config in dnsops.yaml)"
    ) in " ".join(result.output.split())


def test_missing_dnsops_yaml(cli: CliRunner, tmp_path: Path) -> None:
    result = run(cli, tmp_path, "validate")
    assert result.exit_code == 1
    assert f"{tmp_path}/dnsops.yaml: dnsops config file not found" in " ".join(
        result.output.split()
    )


def test_config_yaml_syntax_error(cli: CliRunner, project_dir: Path) -> None:
    (project_dir / "dnsops.yaml").write_text("default_environment: lab\nenvironments: [\n")
    result = run(cli, project_dir, "validate")
    assert result.exit_code == 1
    assert "dnsops.yaml:3: invalid YAML: expected the node content, but found '<stream end>'" in (
        " ".join(result.output.split())
    )


def test_version_and_help(cli: CliRunner) -> None:
    from dnsops import __version__
    from dnsops.cli.app import app

    assert cli.invoke(app, ["--version"]).stdout == f"dnsops {__version__}\n"
    for args in (["--help"], ["validate", "--help"], ["lab", "--help"], ["lab", "up", "--help"]):
        result = cli.invoke(app, args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.output
