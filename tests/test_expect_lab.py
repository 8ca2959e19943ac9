"""One expectation per zone and provider: lint, plan, sync, audit and health agree on it.

The zone (tests/fixtures/mixed/mixed.test.yaml) has a sub-delegation with glue, one out
of bailiwick, a record below a delegation, SPF (PowerDNS cannot hold it), a DNAME
(neither lab provider can), a dynamic A record with default values, and NAPTR, SSHFP,
TLSA, CAA and SRV. The unsupported records and the occluded one are acknowledged in the
zone file with a reason. A lab of its own (SPARE_NET) holds it next to example.test.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import IN_CI, REPO, SPARE_NET, lab_unavailable, make_project, run

pytestmark = pytest.mark.lab

FIXTURE = REPO / "tests" / "fixtures" / "mixed" / "mixed.test.yaml"
ZONE = "mixed.test."
# what each provider of the lab will not hold, (provider, name, type)
WITHHELD = {
    ("pdns", "mixed.test.", "SPF"),
    ("pdns", "legacy.mixed.test.", "DNAME"),
    ("bind", "legacy.mixed.test.", "DNAME"),
}
OCCLUDED = ("www.child.mixed.test.", "A")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reason = lab_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    root = make_project(tmp_path_factory.mktemp("mixed") / "p", net=SPARE_NET)
    shutil.copy(FIXTURE, root / "zones" / "mixed.test.yaml")
    cli = CliRunner()
    up = run(cli, root, "lab", "up")
    assert up.exit_code == 0, up.output
    try:
        yield root
    finally:
        down = run(cli, root, "lab", "down")
        assert down.exit_code == 0, down.output


def cmd(root: Path, *args: str) -> tuple[int, Any]:
    result = run(CliRunner(), root, *args, "--format", "json")
    assert result.exit_code in (0, 1, 2), result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_validate_and_lint_name_the_occluded_and_the_unsupported(mixed: Path) -> None:
    code, doc = cmd(mixed, "validate")
    assert code == 0 and doc["valid"] is True
    assert f"{OCCLUDED[0]} A: below a delegation of {ZONE}: no server answers it" in doc["notices"]
    notices = " ".join(doc["notices"])
    for provider, name, rtype in WITHHELD:
        assert f"{provider} will not hold {name} {rtype}: " in notices

    code, doc = cmd(mixed, "lint", "--zone", ZONE)
    assert code == 0  # each one acknowledged in the zone file, with its reason
    suppressed = {
        (f["id"], f.get("data", {}).get("provider"), f["record"], f["rtype"])
        for f in doc["suppressed"]
    }
    assert ("occluded-record", None, *OCCLUDED) in suppressed
    assert {(p, n, t) for i, p, n, t in suppressed if i == "provider-support"} == WITHHELD


def test_acknowledged_zone_syncs_then_plan_audit_and_health_agree(mixed: Path) -> None:
    code, doc = cmd(mixed, "sync", "--doit")
    assert code == 0, doc
    outcomes = {o["provider"]: o for o in doc["result"]["outcomes"]}
    for provider in ("pdns", "bind"):
        verification = outcomes[provider]["verification"]
        assert verification["pending"] == [] and verification["skipped"] is None
        # glue and the occluded record are not answered by the zone's own servers
        assert sorted(verification["unchecked"]) == [
            "ns1.child.mixed.test. A",
            "ns2.child.mixed.test. A",
            "www.child.mixed.test. A",
        ]
    assert {(w["provider"], w["name"], w["type"]) for w in doc["withheld"]} == WITHHELD

    code, plan = cmd(mixed, "plan", "--detailed-exitcode")
    assert code == 0, plan
    withheld = {(w["provider"], w["name"], w["type"]) for w in plan["withheld"]}
    assert withheld == WITHHELD
    assert all(w["acknowledged"] for w in plan["withheld"])
    assert plan["differences"] == []
    markdown = run(CliRunner(), mixed, "plan", "--format", "markdown").stdout
    assert "> [!NOTE]\n> Records a provider will not hold:\n" in markdown
    # escaped as every PR-comment text is (no markdown, mention or link can form)
    assert (
        "> - pdns will not hold mixed.test. SPF: pdns (octodns&#95;powerdns.PowerDnsProvider)"
        " does not support SPF records (acknowledged: legacy SPF type kept for old "
        "receivers; TXT carries it too)"
    ) in markdown

    code, audit = cmd(mixed, "audit", "--zone", ZONE)
    assert code == 0, audit["findings"]
    [zone] = audit["zones"]
    acknowledged = {
        (p["provider"], a["name"], a["type"]) for p in zone["providers"] for a in p["acknowledged"]
    }
    assert acknowledged == WITHHELD
    text = run(CliRunner(), mixed, "audit", "--zone", ZONE).stdout
    assert (
        "pdns does not hold mixed.test. SPF, as acknowledged: legacy SPF type kept for old "
        "receivers; TXT carries it too"
    ) in " ".join(text.split())

    code, health = cmd(mixed, "health", "--zone", ZONE)
    assert code == 0 and health["findings"] == [], health["findings"]

    # the same verdicts, record by record: what lint acknowledges is what plan withholds
    # and what the audit lists; health asks no provider for a record it will not hold
    _, lint = cmd(mixed, "lint", "--zone", ZONE)
    linted = {
        (f.get("data", {}).get("provider"), f["record"], f["rtype"])
        for f in lint["suppressed"]
        if f["id"] == "provider-support"
    }
    assert linted == withheld == acknowledged
    checks = {c["id"]: c for c in health["checks"]}
    # the zone's 21 RRsets less glue (2) and the occluded record: 18 answered or referred
    # by a nameserver; pdns holds neither SPF nor DNAME (16), bind holds SPF (17)
    assert checks["rrset-served"]["passed"] == 16 + 17
    assert checks["rrset-served"]["failed"] == 0


def strip_acknowledgements(text: str) -> str:
    """The zone file without its records' ``octodns:`` blocks (the acknowledgements)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(- )?octodns:\s*$", lines[i])
        if m is None:
            out.append(lines[i])
            i += 1
            continue
        indent = len(m.group(1)) + (2 if m.group(2) else 0)
        j = i + 1
        while j < len(lines) and len(lines[j]) - len(lines[j].lstrip()) > indent:
            j += 1
        if m.group(2):  # the block opened the list item: the next key opens it now
            lines[j] = m.group(1) + "- " + lines[j].lstrip()
        i = j
    return "\n".join(out) + "\n"


def test_without_acknowledgement_the_audit_names_each_record(mixed: Path) -> None:
    zone_file = mixed / "zones" / "mixed.test.yaml"
    original = zone_file.read_text()
    bare = strip_acknowledgements(original)
    assert "provider-support" not in bare and "occluded-record" not in bare
    zone_file.write_text(bare)
    try:
        code, audit = cmd(mixed, "audit", "--zone", ZONE)
        assert code == 1
        unsupported = {
            (f["provider"], f["data"]["name"], f["data"]["type"])
            for f in audit["findings"]
            if f["id"] == "unsupported-by-one-provider"
        }
        assert unsupported == WITHHELD
        assert [f["id"] for f in audit["findings"]] == ["unsupported-by-one-provider"] * 3
        code, _ = cmd(mixed, "lint", "--zone", ZONE)
        assert code == 1
    finally:
        zone_file.write_text(original)
