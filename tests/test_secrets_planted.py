"""Secrets planted wherever a user could put them never come out again.

The lab's secrets (its state directory's secrets.json) and production-style secrets in
the environment (AWS_SECRET_ACCESS_KEY, NS1_API_KEY) are planted in zone values (plain,
YAML-escaped, through ``!include``), record metadata, a policy message and hint, a
drill file, dnsops.yaml, the octoDNS config, a saved plan and an environment variable.
Each plant is refused with ``file:line`` and the secret's *name*; then validate, lint,
plan (text, json, markdown, --out), sync --doit, audit, health and drill run on the
real lab; and no secret appears in any output, log line, or file written anywhere in
the project or its state directory (secrets.json itself excepted).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dnsops import scrub
from dnsops.config import Project
from tests.conftest import REPO, make_project, run
from tests.test_lab import sync_lab

ZONE = "zones/example.test.yaml"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYplantedKEY1"
NS1_KEY = "ns1-planted-0123456789abcdef"
CAUGHT = (
    "a secret: secrets never go into a file dnsops reads (they would reach DNS, plans and "
    "reports); use the environment"
)
ANCHOR = "  value: 192.0.2.26\n"  # mx2's; 'planted' sorts after it, before 'sip'


@pytest.fixture
def planted(lab_dir: Path, lab_project: Project, tmp_path: Path, monkeypatch: Any) -> Iterator[Any]:
    """A copy of the lab project (same running lab, same secrets), production-style
    secrets in the environment, the lab synced before and after."""
    assert not sync_lab(lab_project).has_changes
    project = make_project(tmp_path / "project", net=_net(lab_dir))
    state = project / ".dnsops" / "lab"
    state.mkdir(parents=True)
    shutil.copy(lab_dir / ".dnsops" / "lab" / "secrets.json", state / "secrets.json")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("NS1_API_KEY", NS1_KEY)
    lab = json.loads((state / "secrets.json").read_text())
    secrets = {
        "the lab's pdns_api_key (lab/secrets.json)": lab["pdns_api_key"],
        "the lab's tsig_secret (lab/secrets.json)": lab["tsig_secret"],
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "NS1_API_KEY": NS1_KEY,
    }
    yield project, secrets
    assert not sync_lab(lab_project).has_changes, "a planted secret reached the lab"


def _net(lab_dir: Path) -> str:
    text = (lab_dir / "dnsops.yaml").read_text()
    return text.split("parent: {ns.test.: ")[1].split(".0.1}")[0]


class Outputs:
    """Every stdout and stderr of the commands run."""

    def __init__(self, cli: CliRunner, project: Path) -> None:
        self.cli, self.project, self.texts = cli, project, []

    def __call__(self, *args: str, code: int | None = 0) -> Any:
        result: Any = run(self.cli, self.project, *args)
        self.texts.append(result.output)
        assert "Traceback" not in result.output
        if code is not None:
            assert result.exit_code == code, (args, result.output)
        return result


def error_of(result: Any) -> str:
    assert result.exit_code == 1, result.output
    return next(line for line in result.output.splitlines() if line.startswith("error: "))


def plant(path: Path, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` in ``path``; the original text (to put back)."""
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))
    return text


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().split("\n"), 1) if needle in line)


def test_planted_secrets_are_refused_and_never_come_out(
    cli: CliRunner, planted: Any, monkeypatch: Any
) -> None:
    project, secrets = planted
    pdns_key = secrets["the lab's pdns_api_key (lab/secrets.json)"]
    tsig = secrets["the lab's tsig_secret (lab/secrets.json)"]
    zone = project / ZONE
    outs = Outputs(cli, project)

    # -- zone values, plain, escaped and included; record metadata ----------------------
    for secret_name, value in secrets.items():
        original = plant(
            zone, ANCHOR, ANCHOR + f"planted:\n  ttl: 60\n  type: TXT\n  value: 'k={value}'\n"
        )
        expected = f"{ZONE}:{line_of(zone, 'k=')}: holds the value of {secret_name}, {CAUGHT}"
        for command in (
            ["validate"],
            ["plan"],
            ["plan", "-f", "json"],
            ["plan", "-f", "markdown"],
            ["sync", "--doit"],
        ):
            assert expected in outs(*command, code=1).output, command
        [finding] = json.loads(outs("lint", "-f", "json", code=1).stdout)["findings"]
        assert f"{finding['file']}:{finding['line']}: {finding['message']}" == expected
        zone.write_text(original)
    escaped = "\\x" + f"{ord(pdns_key[0]):02x}" + pdns_key[1:]
    original = plant(
        zone, ANCHOR, ANCHOR + f'planted:\n  ttl: 60\n  type: TXT\n  value: "{escaped}"\n'
    )
    assert error_of(outs("validate", code=1)) == "error: 1 zone problem:"
    assert (
        outs("validate", code=1).output.count(
            f"{ZONE}:{line_of(zone, 'planted:') + 1}: planted (TXT): holds the value of the lab's "
            f"pdns_api_key (lab/secrets.json), {CAUGHT}"
        )
        == 1
    )
    zone.write_text(original)
    original = plant(
        zone,
        ANCHOR,
        ANCHOR + "planted:\n  ttl: 60\n  type: TXT\n"
        "  value: !include ../.dnsops/lab/secrets.json\n",
    )
    assert (
        f"{ZONE}:{line_of(zone, '!include')}: !include '../.dnsops/lab/secrets.json' is outside "
        "zones: includes stay in that directory"
    ) in outs("plan", "-f", "markdown", code=1).output
    zone.write_text(original)
    original = plant(
        zone,
        ANCHOR,
        ANCHOR + f"planted:\n  octodns:\n    dnsops:\n      note: {tsig}\n"
        "  ttl: 60\n  type: TXT\n  value: fine\n",
    )
    assert f"{ZONE}:{line_of(zone, 'note: ')}: holds the value of the lab's tsig_secret" in (
        outs("plan", code=1).output
    )
    zone.write_text(original)

    # -- policy, drill, dnsops.yaml, octoDNS config, saved plan ---------------------------
    policy = project / "policies" / "default.yaml"
    original = plant(
        policy, "    hint: 'internal addresses", f"    hint: '{NS1_KEY} internal addresses"
    )
    assert error_of(outs("lint", code=1)) == (
        f"error: {policy}:{line_of(policy, NS1_KEY)}: holds the value of NS1_API_KEY, {CAUGHT}"
    )
    policy.write_text(original)
    drill = project / "drills" / "api-failover.yaml"
    original = plant(drill, "hypothesis: >-\n", f"hypothesis: >-\n  {AWS_SECRET}\n")
    assert error_of(outs("drill", "list", code=1)) == (
        f"error: {drill}:{line_of(drill, AWS_SECRET)}: holds the value of AWS_SECRET_ACCESS_KEY, "
        f"{CAUGHT}"
    )
    drill.write_text(original)
    config = project / "dnsops.yaml"
    for name in [n for n in os.environ if n.startswith("DNSOPS_LAB_")]:
        monkeypatch.delenv(name)  # as in a new process: the lab's secrets only in its state
    original = plant(
        config, "default_environment: lab\n", f"default_environment: lab\n# {pdns_key}\n"
    )
    assert error_of(outs("validate", code=1)) == (
        f"error: {config}:{line_of(config, pdns_key)}: holds the value of the lab's pdns_api_key "
        f"(lab/secrets.json), {CAUGHT}"
    )
    config.write_text(original)
    octo = project / "config" / "lab.yaml"
    original = plant(
        octo, "    api_key: env/DNSOPS_LAB_PDNS_API_KEY\n", f"    api_key: {pdns_key}\n"
    )
    assert error_of(outs("plan", code=1)) == (
        f"error: {octo}:{line_of(octo, 'api_key:')}: holds the value of the lab's pdns_api_key "
        f"(lab/secrets.json), {CAUGHT}"
    )
    octo.write_text(original)
    plan = project / "plan.json"
    outs("plan", "--out", str(plan))
    text = plan.read_text()
    plan.write_text(text.replace('"environment": "lab"', f'"environment": "{tsig}"'))
    assert error_of(outs("apply", str(plan), code=1)) == (
        f"error: {plan}:3: holds the value of the lab's tsig_secret (lab/secrets.json), {CAUGHT}"
    )
    plan.write_text(text)
    os.environ["DNSOPS_ENV"] = NS1_KEY
    try:
        assert error_of(outs("validate", code=1)) == (
            f"error: {config}: no environment '***' (known: lab, production)"
        )
    finally:
        del os.environ["DNSOPS_ENV"]

    # -- the commands, clean, on the real lab: outputs and files ---------------------------
    prom = project / "health.prom"
    outs("validate")
    outs("lint")
    for fmt in ("text", "json", "markdown"):
        outs("plan", "-f", fmt)
    outs("plan", "--out", str(plan))
    outs("sync", "--doit")
    outs("apply", str(plan))
    outs("audit", code=None)
    outs("audit", "-f", "markdown", code=None)
    outs("health", "-f", "json", "--prom-file", str(prom), code=None)
    outs("drill", "list")
    outs("drill", "run", "api-failover", "--dry-run", code=None)
    outs("drill", "status", code=None)
    logged = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dnsops.cli.app import main; main()",
            "--config",
            str(project / "dnsops.yaml"),
            "-v",
            "plan",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
        check=False,
    )
    assert logged.returncode == 0, logged.stderr[-2000:]
    assert "DEBUG" in logged.stderr  # octoDNS's own log lines were there to scrub
    outs.texts += [logged.stdout, logged.stderr]

    written = [
        p
        for p in project.rglob("*")
        if p.is_file() and p.name != "secrets.json" and p.stat().st_size < 50_000_000
    ]
    assert any(p.name == "audit.jsonl" for p in written)
    for secret_name, value in secrets.items():
        for text in outs.texts:
            assert value not in text, secret_name
        for path in written:
            assert value.encode() not in path.read_bytes(), (secret_name, path)


def test_log_records_are_scrubbed_whoever_logs_them(caplog: Any) -> None:
    """octodns-powerdns's ``_apply: status=401, text=...`` and a traceback quoting a secret."""
    scrub.reset()
    scrub.register("pdns-0123456789abcdef", "DNSOPS_LAB_PDNS_API_KEY")
    scrub.install_logging()
    scrub.install_logging()  # once is enough: a second call changes nothing
    log = logging.getLogger("PowerDnsProvider[pdns]")
    with caplog.at_level(logging.DEBUG):
        log.warning("_apply: status=%d, text=%s", 401, "bad key pdns-0123456789abcdef")
        try:
            raise RuntimeError("refused X-API-Key: pdns-0123456789abcdef")
        except RuntimeError:
            log.exception("failed")
    assert caplog.records[0].getMessage() == "_apply: status=401, text=bad key ***"
    assert "pdns-0123456789abcdef" not in caplog.text
    assert "RuntimeError: refused X-API-Key: ***" in caplog.text
    scrub.reset()


def test_what_counts_as_a_secret() -> None:
    scrub.reset()
    scrub.register_environ(
        {
            "AWS_SECRET_ACCESS_KEY": "x" * 40,
            "DNSOPS_LAB_TSIG_KEY_NAME": "dnsops-lab-key-name",  # a name, not a secret
            "MY_TOKEN": "short",  # too short to tell apart from words
            "HOME": "/root/some/long/path",
        }
    )
    assert scrub.known() == {"x" * 40: "AWS_SECRET_ACCESS_KEY"}
    assert scrub.scrub(f"a {'x' * 40} b") == "a *** b"
    assert scrub.found_in(f"ab {'x' * 40}") == ("AWS_SECRET_ACCESS_KEY", 3)
    scrub.reset()
