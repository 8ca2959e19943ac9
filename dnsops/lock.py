"""One lock per environment: sync, apply and drills never run twice at once.

The lock is ``<state dir>/locks/<environment>.lock``, held with ``flock`` for
as long as the operation runs and carrying its holder (PID, host, command,
start time) as JSON. The kernel releases an ``flock`` when its process dies,
so a dead holder can never block anyone: a lock file that still names a holder
but is not locked is *stale*. It is detected, reported through ``on_stale``
and **taken over** (the new holder overwrites it).

.. important::
   A lock file naming a holder on *another* host is never taken over: whether
   that process still runs can't be known from here (flock does not work across
   machines on every shared file system). The error names the file to delete.

The file is never deleted on release (deleting a locked file races with a
process that opened it just before), only emptied.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from dnsops.config import Project
from dnsops.errors import InputError, LockError
from dnsops.yamlfile import decode, json_line, parse_json, read_bytes


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock."""

    pid: int
    host: str
    command: str
    started: float  # unix time

    @property
    def since(self) -> str:
        return datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def describe(self) -> str:
        return f"pid {self.pid} on host {self.host} ({self.command}), since {self.since}"

    @classmethod
    def me(cls, command: str) -> Holder:
        return cls(os.getpid(), socket.gethostname(), command, time.time())


StaleReport = Callable[[Holder, "Path"], None]


def lock_path(project: Project, environment: str) -> Path:
    """The lock file of a configured environment.

    :raises ConfigError: ``environment`` is not one of dnsops.yaml's (checked before any
        path is built from it: a name from a plan file could be ``../../tmp/x``).
    """
    name, _ = project.environment(environment)
    return project.state_dir / "locks" / f"{name}.lock"


@contextlib.contextmanager
def environment_lock(
    project: Project,
    environment: str,
    command: str | None = None,
    on_stale: StaleReport | None = None,
) -> Iterator[Holder]:
    """Hold the environment's lock for the duration of the ``with`` block.

    :raises LockError: another process holds it (the message names its PID,
        host, command and start time), or a lock of another host is left over.
    """
    path = lock_path(project, environment)
    me = Holder.me(command or " ".join(["dnsops", *sys.argv[1:]]))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = path.open("a+", encoding="utf-8")
    except IsADirectoryError:
        raise LockError(
            f"{path}: is a directory, expected the lock file",
            hint=f"if no dnsops run uses it, remove the directory {path}",
        ) from None
    except OSError as exc:
        raise LockError(f"{path}: cannot open the lock file: {exc.strerror}") from None
    try:
        _acquire(fh, path, environment, me, on_stale)
        try:
            yield me
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        fh.close()


def _acquire(
    fh: IO[str], path: Path, environment: str, me: Holder, on_stale: StaleReport | None
) -> None:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = read_holder(path)
        except LockError:
            holder = None
        who = holder.describe() if holder else "another process (holder not recorded yet)"
        raise LockError(
            f"environment {environment!r} is locked by {who}",
            hint=f"wait until it finishes (lock file {path})",
        ) from None
    previous = read_holder(path)
    if previous is not None:
        if previous.host != me.host:
            fcntl.flock(fh, fcntl.LOCK_UN)
            raise LockError(
                f"environment {environment!r} has a lock left by {previous.describe()}; "
                f"whether it still runs can't be checked from host {me.host}",
                hint=f"if that run is over, delete {path}",
            )
        if on_stale is not None:
            on_stale(previous, path)
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps(asdict(me)))
    fh.flush()
    os.fsync(fh.fileno())


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file; None when it is free (missing or empty).

    :raises LockError: the file is not a lock file dnsops wrote (unreadable, not UTF-8,
        not JSON, or without a holder): named with its line, never taken over.
    """
    shown = str(path)
    hint = f"if no dnsops run is going on, delete {path}"
    try:
        text = decode(read_bytes(path, shown, "lock"), shown)
    except InputError as exc:
        if not os.path.lexists(path):
            return None
        raise LockError(exc.message, hint=hint) from None
    if not text.strip():
        return None
    try:
        data = parse_json(text, shown)
    except InputError as exc:
        raise LockError(exc.message, hint=hint) from None
    fields: dict[str, type | tuple[type, ...]] = {
        "pid": int,
        "host": str,
        "command": str,
        "started": (int, float),
    }
    if not isinstance(data, dict):
        raise LockError(f"{shown}:1: not a dnsops lock file (a JSON object)", hint=hint)
    for name, kind in fields.items():
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            line = json_line(text, (name,)) or 1
            raise LockError(f"{shown}:{line}: not a dnsops lock file: no valid {name!r}", hint=hint)
    return Holder(
        pid=data["pid"], host=data["host"], command=data["command"], started=float(data["started"])
    )
