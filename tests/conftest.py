"""Shared fixtures. The lab is started once per session, in a copy of the repo.

The copy lives in a temporary directory with its own state dir, and its
addresses are moved from 127.53.x.x (the demo lab) to ``DNSOPS_TEST_NET``
(default 127.54), so the tests never touch a lab a developer has running.

Under CI=true a missing server binary or missing privileges fail the run;
elsewhere the lab tests are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dnsops.cli.app import app
from dnsops.config import Project, load_project
from dnsops.lab.runner import LabRunner
from tests.fakes.ns1 import Ns1StandIn

REPO = Path(__file__).resolve().parent.parent
TEST_NET = os.environ.get("DNSOPS_TEST_NET", "127.54")
# a second, short-lived lab for tests that take a lab up and down themselves
SPARE_NET = f"127.{int(TEST_NET.split('.')[1]) + 100}"
IN_CI = os.environ.get("CI", "").lower() == "true"
# the lab's resolvers (dnsops.yaml), one per region: the population a drill measures
LAB_RESOLVERS = ["iad", "lhr", "nrt", "sfo", "fra", "sin", "gru", "bom"]
COPIED = ("dnsops.yaml", "config", "zones", "policies", "drills")


def make_project(dest: Path, net: str = TEST_NET) -> Path:
    """A copy of the repo's dnsops files with lab addresses moved to ``net``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("history"))
        elif src.exists():
            shutil.copy(src, dest / name)
    for path in [dest / "dnsops.yaml", *sorted((dest / "config").glob("*.yaml"))]:
        path.write_text(path.read_text().replace("127.53.", f"{net}."))
    # production walks from the lab's root here, never from the real one
    config = dest / "dnsops.yaml"
    marker = "    providers: [route53, ns1]\n"
    text = config.read_text()
    assert marker in text, "dnsops.yaml: the production environment moved"
    hints = f"    root_hints: {{a.root-servers.lab.: {net}.0.2}}\n"
    config.write_text(text.replace(marker, marker + hints))
    (dest / "drills" / "history").mkdir(parents=True, exist_ok=True)
    return dest


def lab_unavailable() -> str | None:
    missing = LabRunner.missing_binaries()
    if missing:
        return "lab servers missing: " + ", ".join(missing)
    if os.geteuid() != 0:
        return "the lab needs root (port 53, loopback addresses)"
    return None


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """No test sends a DNS query off loopback: the probe engine refuses other targets."""
    from dnsops.probe.engine import Engine

    original = Engine.run

    async def run(self: Engine, queries: Any, progress: Any = None) -> Any:
        public = sorted({q.target.address for q in queries if not _loopback(q.target.address)})
        assert not public, f"a test asked a DNS server off loopback: {', '.join(public)}"
        return await original(self, queries, progress)

    Engine.run = run  # type: ignore[method-assign]
    try:
        yield
    finally:
        Engine.run = original  # type: ignore[method-assign]


def _loopback(address: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(address).is_loopback


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often a command parses an octoDNS config and loads each zone file, counted
    where it happens (dnsops's loaders and octoDNS's own Manager), whoever calls."""
    import octodns.manager

    import dnsops.zones

    counts: Counter[str] = Counter()
    load_yaml, load_zone = dnsops.zones.load_yaml, dnsops.zones.load_zone
    manager_load = octodns.manager.safe_load

    def counted_yaml(path: Path, *, what: str = "config") -> Any:
        counts[what] += 1
        return load_yaml(path, what=what)

    def counted_zone(source: Any, name: str) -> Any:
        counts[f"zone {name}"] += 1
        return load_zone(source, name)

    def counted_manager(*args: Any, **kwargs: Any) -> Any:
        counts["octoDNS config"] += 1
        return manager_load(*args, **kwargs)

    monkeypatch.setattr(dnsops.zones, "load_yaml", counted_yaml)
    monkeypatch.setattr(dnsops.zones, "load_zone", counted_zone)
    monkeypatch.setattr(octodns.manager, "safe_load", counted_manager)
    return counts


@pytest.fixture(autouse=True, scope="session")
def _transfer_slots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The zone transfers' per-server slot files (dnsops.probe.transfer) in the session's
    own directory, for this process and every command it starts."""
    old = os.environ.get("DNSOPS_XFR_LOCK_DIR")
    os.environ["DNSOPS_XFR_LOCK_DIR"] = str(tmp_path_factory.mktemp("xfr-slots"))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DNSOPS_XFR_LOCK_DIR", None)
        else:
            os.environ["DNSOPS_XFR_LOCK_DIR"] = old


@pytest.fixture(autouse=True)
def _keep_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands chdir to the project root; give every test its cwd back."""
    monkeypatch.chdir(os.getcwd())


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def run(cli: CliRunner, project_dir: Path, *args: str) -> object:
    """Run dnsops against the project in ``project_dir``."""
    return cli.invoke(app, ["--config", str(project_dir / "dnsops.yaml"), *args])


def require_lab() -> None:
    """Fail (CI=true) or skip when the lab cannot run here."""
    reason = lab_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


@contextlib.contextmanager
def spare_lab(prefix: str, edit: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """A project copy on SPARE_NET with its lab up for the duration (a module's own
    lab, beside the session's), stopped and removed afterwards. ``edit`` changes the
    copy (its root) before the lab starts."""
    require_lab()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = make_project(Path(tmp) / "p", net=SPARE_NET)
        if edit is not None:
            edit(root)
        runner = LabRunner(load_project(root / "dnsops.yaml"))
        try:
            runner.up()
            yield root
        finally:
            runner.down()


@pytest.fixture(scope="session")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project copy whose lab is up for the whole session (stopped at the end)."""
    reason = lab_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    root = make_project(tmp_path_factory.mktemp("labproject"))
    runner = LabRunner(load_project(root / "dnsops.yaml"))
    runner.up()
    try:
        yield root
    finally:
        runner.down()


@pytest.fixture(scope="session")
def lab_project(lab_dir: Path) -> Project:
    return load_project(lab_dir / "dnsops.yaml")


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """A fresh project copy without a lab, for tests that break files."""
    return make_project(tmp_path / "project")


# --- production providers: Route 53 on moto_server, NS1 on the local stand-in ----------

MOTO_ADDRESS = f"{TEST_NET}.9.1"
NS1_ADDRESS = f"{TEST_NET}.9.2"


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto_server (Route 53 API) on a 127.x port; yields its URL. Stopped by its PID."""
    exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which(
        "moto_server"
    )
    if exe is None:
        reason = "moto_server missing (pip install -e '.[test]')"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    port = free_port(MOTO_ADDRESS)
    url = f"http://{MOTO_ADDRESS}:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [exe, "-H", MOTO_ADDRESS, "-p", str(port)], stdout=fh, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server not answering on {url}: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def reset_moto(url: str) -> None:
    """Forget every hosted zone: a fresh AWS account for each test."""
    req = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=10):
        pass


NS1_TEST_KEY = "ns1-test-key-0d6c2f9e4b7a"  # what the stand-in accepts


@pytest.fixture(scope="session")
def ns1_standin() -> Iterator[Ns1StandIn]:
    """The NS1 API stand-in (tests/fakes/ns1.py) over TLS on a 127.x port."""
    standin = Ns1StandIn(NS1_ADDRESS, NS1_TEST_KEY).start()
    try:
        yield standin
    finally:
        standin.stop()
