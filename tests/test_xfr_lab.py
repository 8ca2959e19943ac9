"""Zone transfers against a real BIND that refuses some: its transfers-out quota lowered.

A lab of its own on SPARE_NET with 60 small generated zones, synced by ``dnsops sync
--doit``, whose BIND allows only ``QUOTA`` outgoing transfers at once (the default is
10; 60 zones at two nameservers are 120 transfers, and the audit and health used to ask
for all of them at once). Over the quota BIND answers SERVFAIL and logs "AXFR request
denied: quota reached". The audit and health must still read every zone from both BIND
nameservers: at most a few transfers at once per server address, the refused ones
tried again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.zonegen import write_zone
from dnsops.config import load_project
from dnsops.lab.runner import LabRunner
from tests.conftest import IN_CI, SPARE_NET, lab_unavailable, make_project, run

pytestmark = pytest.mark.lab

ZONES = [f"z{i:02d}.test." for i in range(60)]
QUOTA = 2
QUOTA_REACHED = "AXFR request denied: quota reached"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabRunner]]:
    reason = lab_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    root = make_project(tmp_path_factory.mktemp("xfr") / "p", net=SPARE_NET)
    for name in ZONES:
        write_zone(root / "zones", name, 12)
    runner = LabRunner(
        load_project(root / "dnsops.yaml"), bind_options=(f"transfers-out {QUOTA};",)
    )
    runner.up()
    try:
        yield root, runner
    finally:
        runner.down()


@pytest.fixture(scope="module")
def synced(cli_module: Any, many: tuple[Path, LabRunner]) -> tuple[Path, LabRunner]:
    root, runner = many
    result = run(cli_module, root, "sync", "--doit")
    assert result.exit_code == 0, result.output
    return root, runner


@pytest.fixture(scope="module")
def cli_module() -> Any:
    from typer.testing import CliRunner

    return CliRunner()


def bind_log(runner: LabRunner) -> str:
    return (runner.state / "bind" / "server.log").read_text(errors="replace")


def test_bind_runs_with_the_lowered_quota(many: tuple[Path, LabRunner]) -> None:
    _, runner = many
    conf = (runner.state / "bind" / "named.conf").read_text()
    assert re.search(rf"^\s+transfers-out {QUOTA};$", conf, re.M)
    assert "transfers-out" not in (runner.state / "parent" / "named.conf").read_text()


def test_audit_reads_every_zone_from_both_bind_nameservers(
    cli_module: Any, synced: tuple[Path, LabRunner]
) -> None:
    root, runner = synced
    before = bind_log(runner).count(QUOTA_REACHED)
    result = run(cli_module, root, "audit", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["consistent"] is True and doc["findings"] == []
    bind = [
        s
        for zone in doc["zones"]
        for p in zone["providers"]
        if p["provider"] == "bind"
        for s in p["served"]
    ]
    assert len(bind) == 2 * (len(ZONES) + 1)  # and example.test.
    assert {(s["method"], s["error"]) for s in bind} == {("axfr", None)}
    # BIND did refuse some (up to 4 at once per address, 2 addresses, a quota of 2):
    # those were tried again, and every one ended complete
    assert bind_log(runner).count(QUOTA_REACHED) > before


def test_health_reads_every_zone_from_both_bind_nameservers(
    cli_module: Any, synced: tuple[Path, LabRunner]
) -> None:
    root, runner = synced
    before = bind_log(runner).count(QUOTA_REACHED)
    result = run(cli_module, root, "health", "--format", "json", "--vantage", "iad")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    # 240 nameservers' probes at once on a shared machine can be slow: latency aside,
    # nothing (a transfer that failed would show as rrset findings at BIND)
    assert {f["id"] for f in doc["findings"]} <= {"ns-latency"}
    rows = [r for r in doc["nameservers"] if r["provider"] == "bind"]
    assert len(rows) == 2 * (len(ZONES) + 1)
    assert {r["method"] for r in rows} == {"axfr"}
    assert bind_log(runner).count(QUOTA_REACHED) > before  # refused, tried again
