"""Large changes converge in one ``dnsops sync --doit``, in batches each provider takes.

Real PowerDNS and BIND (their own lab, SPARE_NET: these tests add and remove thousands
of records). PowerDNS refuses a request body over ``webserver-max-bodysize`` (2 MB) with
400: octodns-powerdns alone sends 20,000 creates in one PATCH and fails the same way on
every run. dnsops sends them in batches within each provider's limits
(dnsops.lint.capabilities.DEFAULT_LIMITS; ``provider_api.<api>.batch`` in dnsops.yaml).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dnsops.config import load_project
from dnsops.env import Env
from dnsops.lab.runner import LabRunner
from dnsops.sync import run as sync_run
from tests.conftest import run as cli_run
from tests.conftest import spare_lab

pytestmark = pytest.mark.lab

ZONE_FILE = "zones/example.test.yaml"
MARKER = "    providers: [pdns, bind]\n"


@pytest.fixture(scope="module")
def lab() -> Iterator[Path]:
    with spare_lab("dnsops-batch-") as root:
        yield root


@pytest.fixture
def project(lab: Path, cli: Any) -> Iterator[Path]:
    """The lab project, synced; its zone file, dnsops.yaml and both providers restored."""
    zone, config = lab / ZONE_FILE, lab / "dnsops.yaml"
    original, settings = zone.read_text(), config.read_text()
    first = cli_run(cli, lab, "sync", "--doit", "--force")
    assert first.exit_code == 0, first.output
    yield lab
    zone.write_text(original)
    config.write_text(settings)
    LabRunner(load_project(config)).up()  # in case a test left BIND down
    again = cli_run(cli, lab, "sync", "--doit", "--force")
    assert again.exit_code == 0, again.output


def small_batches(root: Path, changes: int) -> None:
    """At most ``changes`` changes per request to either provider (dnsops.yaml)."""
    path = root / "dnsops.yaml"
    text = path.read_text()
    assert text.count(MARKER) == 1
    bounds = (
        "    provider_api:\n"
        f"      powerdns: {{batch: {{changes: {changes}}}}}\n"
        f"      rfc2136: {{batch: {{changes: {changes}}}}}\n"
    )
    path.write_text(text.replace(MARKER, MARKER + bounds))


def bulk(root: Path, count: int) -> None:
    """``count`` A records zz-bulk-00000... added at the end of the zone file (their
    names sort after every other one, as enforce_order wants); 0 removes them."""
    path = root / ZONE_FILE
    text = path.read_text().split("# -- bulk --\n")[0]
    if count:
        text += "# -- bulk --\n" + "".join(
            f"zz-bulk-{i:05d}:\n  ttl: 3600\n  type: A\n  value: 198.51.100.{i % 250}\n"
            for i in range(count)
        )
    path.write_text(text)


def converged(cli: Any, root: Path) -> None:
    result = cli_run(cli, root, "plan", "--format", "json", "--detailed-exitcode")
    doc = json.loads(result.stdout)
    assert (result.exit_code, doc["has_changes"]) == (0, False), result.output[-2000:]


def applied(output: str, count: int, batches: int) -> None:
    for provider in ("pdns", "bind"):
        assert f"{provider}: applied {count} change(s) in {batches} batches" in output, output[
            -3000:
        ]
        assert f"verified on {provider}: {count}/{count}" in output


def test_fifty_creates_then_deletes_in_batches_of_twenty(cli: Any, project: Path) -> None:
    small_batches(project, 20)
    bulk(project, 50)
    created = cli_run(cli, project, "sync", "--doit")
    assert created.exit_code == 0, created.output[-3000:]
    applied(created.output, 50, 3)
    for provider in ("pdns", "bind"):
        assert f"{provider}: example.test. batch 3/3 applied (50/50 changes)" in created.output
    converged(cli, project)
    bulk(project, 0)
    deleted = cli_run(cli, project, "sync", "--doit", "--force")  # 50 of 62: over 30 %
    assert deleted.exit_code == 0, deleted.output[-3000:]
    applied(deleted.output, 50, 3)
    converged(cli, project)


def test_a_failed_batch_is_reported_and_a_rerun_applies_the_rest(cli: Any, project: Path) -> None:
    """BIND stops after the first of three batches: the result says which batch failed
    and what was applied; the next sync applies the other 30 changes."""
    small_batches(project, 20)
    bulk(project, 50)
    target = sync_run.load(Env(load_project(project / "dnsops.yaml")))
    planned = target.plan()
    runner = LabRunner(load_project(project / "dnsops.yaml"))

    def stop_bind(message: str) -> None:
        if message.startswith("bind: example.test. batch 1/3 applied"):
            runner.down(["bind"])

    try:
        result = sync_run.execute(target, planned, progress=stop_bind, verify_timeout=5)
    finally:
        runner.up(["bind"])
    outcomes = {o.provider: o for o in result.outcomes}
    assert (outcomes["pdns"].status, outcomes["pdns"].applied) == ("applied", 50)
    bind = outcomes["bind"]
    assert (bind.status, bind.applied, bind.batches, bind.failed_zone) == (
        "failed",
        20,
        0,
        "example.test.",
    )
    assert bind.error is not None
    assert bind.error.startswith("example.test. batch 2/3 failed (")
    assert bind.error.endswith(
        "batches 1-1 were applied (20 of 50 changes); `dnsops sync --doit` again applies the rest"
    )
    again = cli_run(cli, project, "sync", "--doit")
    assert again.exit_code == 0, again.output[-3000:]
    assert "pdns: already in sync, nothing applied" in again.output
    assert "bind: applied 30 change(s) in 2 batches" in again.output
    assert "verified on bind: 30/30" in again.output
    converged(cli, project)


def test_twenty_thousand_records_created_then_deleted_in_one_sync_each(
    cli: Any, project: Path
) -> None:
    """The documented limits: PowerDNS's 2 MB body (4 requests), RFC 2136's 64 KB
    message (23). Each direction converges in one sync: verification passes, the plan
    afterwards is empty. (Asking 2 x 20,000 questions per provider takes longer than the
    default 30 s of verification: the first round alone can, on a loaded machine.)"""
    bulk(project, 20_000)
    created = cli_run(cli, project, "sync", "--doit", "--verify-timeout", "180")
    assert created.exit_code == 0, created.output[-3000:]
    assert "pdns: applied 20000 change(s) in 4 batches" in created.output
    assert "bind: applied 20000 change(s) in 23 batches" in created.output
    for provider in ("pdns", "bind"):
        assert f"verified on {provider}: 20000/20000" in created.output
    converged(cli, project)
    bulk(project, 0)
    deleted = cli_run(cli, project, "sync", "--doit", "--force", "--verify-timeout", "180")
    assert deleted.exit_code == 0, deleted.output[-3000:]
    assert "pdns: applied 20000 change(s) in 4 batches" in deleted.output
    assert "bind: applied 20000 change(s) in 23 batches" in deleted.output
    for provider in ("pdns", "bind"):
        assert f"verified on {provider}: 20000/20000" in deleted.output
    converged(cli, project)
