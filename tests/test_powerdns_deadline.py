"""A PowerDNS API that trickles (headers at once, then a byte every 5 s) cannot hold a
command or the environment's lock: every request to it ends at its deadline
(``provider_api.powerdns.deadline``), the command fails naming the provider, and the
lock is free at once.

The session lab serves BIND; PowerDNS's API is replaced by the trickling stand-in
(tests/fakes/trickle.py) in the lab's octoDNS config. Commands run as processes, so
that "it did not hang" is the process ending before a generous timeout.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dnsops.config import load_project
from dnsops.lock import environment_lock
from tests.conftest import TEST_NET
from tests.fakes.trickle import TricklingApi

pytestmark = pytest.mark.lab

DEADLINE = "not done within its 2 s deadline"
# far longer than the commands need with the deadline, far shorter than the trickle
# (a 1 MB body at a byte every 5 s): reaching it means the command hung
HANG = 120


@pytest.fixture
def trickling(lab_dir: Path) -> Iterator[tuple[Path, TricklingApi]]:
    """The session lab with PowerDNS's API behind a trickling stand-in, and a 2 s
    deadline per PowerDNS request in dnsops.yaml; both files restored afterwards. The lab
    is synced before (the zone on both providers, whatever ran earlier) and after (so the
    next test finds it as git has it)."""
    from tests.test_lab import sync_lab

    sync_lab(load_project(lab_dir / "dnsops.yaml"))
    api = TricklingApi(f"{TEST_NET}.9.7", interval=5.0, lifetime=HANG + 60).start()
    config, settings = lab_dir / "config" / "lab.yaml", lab_dir / "dnsops.yaml"
    original_config, original_settings = config.read_text(), settings.read_text()
    text = re.sub(r"host: env/DNSOPS_LAB_PDNS_HOST/\S+", f"host: {api.address}", original_config)
    text = re.sub(r"port: env/DNSOPS_LAB_PDNS_PORT/\S+", f"port: {api.port}", text)
    assert text.count(api.address) == 1 and text.count(str(api.port)) == 1
    config.write_text(text)
    marker = "    providers: [pdns, bind]\n"
    assert original_settings.count(marker) == 1
    settings.write_text(
        original_settings.replace(
            marker, marker + "    provider_api:\n      powerdns: {deadline: 2}\n"
        )
    )
    try:
        yield lab_dir, api
    finally:
        config.write_text(original_config)
        settings.write_text(original_settings)
        api.stop()
        assert not sync_lab(load_project(lab_dir / "dnsops.yaml")).has_changes


def dnsops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    code = "from dnsops.cli.app import main; main()"
    argv = [sys.executable, "-c", code, "--config", str(root / "dnsops.yaml"), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=HANG, cwd=root)


def lock_is_free(root: Path) -> bool:
    with environment_lock(load_project(root / "dnsops.yaml"), "lab", command="test"):
        return True


def ended_at_the_deadline(done: subprocess.CompletedProcess[str], api: TricklingApi) -> str:
    text = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, text[-3000:]
    assert "Traceback" not in text
    assert f"pdns (PowerDNS API) GET zones/example.test.: {DEADLINE}" in text, text[-3000:]
    assert api.requests()  # it was asked, and gave up on the answer
    assert api.abandoned(wait=6) >= 1
    return text


def test_sync_doit_ends_at_the_deadline_and_frees_the_lock(
    trickling: tuple[Path, TricklingApi],
) -> None:
    root, api = trickling
    done = dnsops(root, "sync", "--doit")
    text = ended_at_the_deadline(done, api)
    assert "pdns: NOT synced: its current state could not be read" in text
    assert "nothing was sent to it" in text
    assert lock_is_free(root)


def test_plan_ends_at_the_deadline(trickling: tuple[Path, TricklingApi]) -> None:
    root, api = trickling
    ended_at_the_deadline(dnsops(root, "plan"), api)
    assert lock_is_free(root)


def test_audit_ends_at_the_deadline(trickling: tuple[Path, TricklingApi]) -> None:
    """The audit reports PowerDNS's API as unreadable (drift) and audits the rest."""
    root, api = trickling
    done = dnsops(root, "audit", "--format", "json")
    text = ended_at_the_deadline(done, api)
    assert "pdns's API could not be read: pdns (PowerDNS API)" in text
    assert lock_is_free(root)
