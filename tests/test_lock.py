"""The environment lock: one sync/apply/drill at a time; a dead holder's lock is taken over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dnsops.config import load_project
from dnsops.errors import LockError
from dnsops.lock import Holder, environment_lock, lock_path, read_holder
from tests.conftest import run

HOLD = textwrap.dedent(
    """
    import sys, time
    from dnsops.config import load_project
    from dnsops.lock import environment_lock
    with environment_lock(load_project(sys.argv[1]), "lab", command="dnsops drill run x"):
        print("held", flush=True)
        time.sleep(120)
    """
)


@pytest.fixture
def holder_process(project_dir: Path):  # type: ignore[no-untyped-def]
    """Another process holding the lab's lock; killed (SIGKILL, by its PID) at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(project_dir / "dnsops.yaml")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    yield proc
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def test_lock_is_released_and_emptied(project_dir: Path) -> None:
    project = load_project(project_dir / "dnsops.yaml")
    with environment_lock(project, "lab", command="dnsops sync --doit") as me:
        assert read_holder(lock_path(project, "lab")) == me
        assert me.pid == os.getpid() and me.command == "dnsops sync --doit"
    assert read_holder(lock_path(project, "lab")) is None
    with environment_lock(project, "lab"):  # free again
        pass


def test_second_holder_is_refused_naming_the_first(project_dir: Path) -> None:
    project = load_project(project_dir / "dnsops.yaml")
    with environment_lock(project, "lab", command="dnsops sync --doit") as me:
        with pytest.raises(LockError) as info, environment_lock(project, "lab"):
            pass
        assert info.value.message == (
            f"environment 'lab' is locked by pid {me.pid} on host {socket.gethostname()} "
            f"(dnsops sync --doit), since {me.since}"
        )
        # other environments have their own lock
        with environment_lock(project, "production"):
            pass


def test_cli_sync_refused_while_another_process_holds_the_lock(
    cli, project_dir: Path, holder_process: subprocess.Popen[str]
) -> None:
    result = run(cli, project_dir, "sync", "--doit")
    assert result.exit_code == 1
    assert (
        f"environment 'lab' is locked by pid {holder_process.pid} on host "
        f"{socket.gethostname()} (dnsops drill run x), since " in result.output
    )
    assert "Traceback" not in result.output
    # a dry sync only plans and takes no lock (here it stops later: this copy has no lab)
    dry = run(cli, project_dir, "sync")
    assert "locked" not in dry.output and "the lab has no secrets yet" in dry.output


def test_lock_of_a_killed_process_is_reported_stale_and_taken_over(
    project_dir: Path, holder_process: subprocess.Popen[str]
) -> None:
    project = load_project(project_dir / "dnsops.yaml")
    os.kill(holder_process.pid, signal.SIGKILL)
    holder_process.wait()
    seen: list[Holder] = []
    with environment_lock(project, "lab", on_stale=lambda h, _p: seen.append(h)) as me:
        assert [(h.pid, h.command) for h in seen] == [(holder_process.pid, "dnsops drill run x")]
        assert read_holder(lock_path(project, "lab")) == me


def test_cli_reports_the_stale_lock_it_takes_over(
    cli, project_dir: Path, holder_process: subprocess.Popen[str]
) -> None:
    os.kill(holder_process.pid, signal.SIGKILL)
    holder_process.wait()
    # the lab has never been up in this copy: after taking the lock, sync fails on that
    result = run(cli, project_dir, "sync", "--doit")
    assert f"stale lock of pid {holder_process.pid} on host {socket.gethostname()}" in (
        result.output
    )
    assert "lock taken over" in result.output
    project = load_project(project_dir / "dnsops.yaml")
    assert read_holder(lock_path(project, "lab")) is None  # released again


def test_lock_left_by_another_host_is_not_taken_over(project_dir: Path) -> None:
    project = load_project(project_dir / "dnsops.yaml")
    path = lock_path(project, "lab")
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"pid": 4242, "host": "ci-runner-7", "command": "dnsops sync", "started": 0})
    )
    with pytest.raises(LockError) as info, environment_lock(project, "lab"):
        pass
    assert info.value.message == (
        "environment 'lab' has a lock left by pid 4242 on host ci-runner-7 (dnsops sync), "
        "since 1970-01-01 00:00:00 UTC; whether it still runs can't be checked from host "
        f"{socket.gethostname()}"
    )
    assert info.value.hint == f"if that run is over, delete {path}"
