"""The crash-safety journal: every action is recorded *before* it is taken.

``<state dir>/drill/journal.json`` exists from the moment a drill starts
changing anything until its rollback (or its clean end) has been verified. It
lists each action with a state: ``intended`` (written, the action may or may
not have happened), ``done``, ``undone``. After the drill process dies in any
way — SIGKILL included — ``dnsops drill rollback`` reads it and undoes every
action not yet undone (see ``machine.rollback_plan``); ``dnsops drill run``
refuses to start while it exists.

.. important::
   Every write replaces the file atomically (write, fsync, rename, fsync the
   directory): after a crash the journal is either the previous version or the
   next one, never a torn file.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnsops.config import Project
from dnsops.errors import DnsopsError, InputError
from dnsops.yamlfile import decode, json_line, parse_json, read_bytes


class JournalError(DnsopsError):
    """An unfinished drill journal is in the way, or it cannot be read."""


# each action kind the executor journals, and the field naming what it acted on; a
# drop-traffic action may also say ``where`` its table is: ``local`` (this machine, the
# default) or the name of the SSH vantage whose host holds it
ACTIONS = {
    "stop-server": "server",
    "drop-traffic": "table",
    "change-record": "zone",
    "restore-record": "zone",
}
STATES = ("intended", "done", "undone")
LOCAL = "local"
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "run_id": str,
    "scenario": str,
    "environment": str,
    "pid": int,
    "status": str,
    "started": (int, float),
    "actions": list,
}


def _problem(data: Any) -> tuple[tuple[str | int, ...], str] | None:
    """Where and why ``data`` is not a journal dnsops wrote (None: it is one)."""

    def bad(value: Any, kind: type | tuple[type, ...]) -> bool:
        return not isinstance(value, kind) or isinstance(value, bool)

    if not isinstance(data, dict):
        return (), "not a JSON object"
    for name, kind in _FIELDS.items():
        if bad(data.get(name), kind):
            return (name,), "missing or of the wrong type"
    for i, action in enumerate(data["actions"]):
        if not isinstance(action, dict):
            return ("actions", i), "not a JSON object"
        if bad(action.get("seq"), int):
            return ("actions", i, "seq"), "missing or not an integer"
        act = action.get("kind")
        if act not in ACTIONS:
            known = ", ".join(sorted(ACTIONS))
            return ("actions", i, "kind"), f"unknown action kind {act!r} (known: {known})"
        if action.get("state") not in STATES:
            return ("actions", i, "state"), f"unknown state {action.get('state')!r}"
        target = ACTIONS[act]
        if bad(action.get(target), str):
            return ("actions", i, target), f"a {act} action names its {target}"
        if "where" in action and bad(action["where"], str):
            return ("actions", i, "where"), "where: 'local' or an SSH vantage's name"
    return None


def journal_dir(project: Project) -> Path:
    return project.state_dir / "drill"


def journal_path(project: Project) -> Path:
    return journal_dir(project) / "journal.json"


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


@dataclass
class Journal:
    path: Path
    data: dict[str, Any]

    @classmethod
    def start(cls, project: Project, *, run_id: str, scenario: str, environment: str) -> Journal:
        """A new journal; refuses while an unfinished one exists.

        :raises JournalError: an unfinished journal exists (names its drill and PID).
        """
        path = journal_path(project)
        existing = cls.load(project)
        if existing is not None:
            raise JournalError(
                f"an unfinished drill journal exists: {existing.describe()}",
                hint="run `dnsops drill rollback` first (it undoes what that drill changed)",
            )
        journal = cls(
            path,
            {
                "version": 1,
                "run_id": run_id,
                "scenario": scenario,
                "environment": environment,
                "pid": os.getpid(),
                "started": time.time(),
                "status": "running",
                "actions": [],
            },
        )
        journal.save()
        return journal

    @classmethod
    def load(cls, project: Project) -> Journal | None:
        """The unfinished journal, or None.

        :raises JournalError: it can't be read, is not UTF-8 or JSON (or is hostile: see
            :mod:`dnsops.yamlfile`), or is not a journal dnsops wrote (an action of an
            unknown kind...): named with file and line, before anything acts on it.
        """
        path = journal_path(project)
        shown = str(path)
        hint = "inspect it; the lab and providers may need `dnsops sync --doit`"
        try:
            text = decode(read_bytes(path, shown, "drill journal"), shown)
            data = parse_json(text, shown)
        except InputError as exc:
            if not os.path.lexists(path):
                return None
            raise JournalError(exc.message, hint=hint) from None
        problem = _problem(data)
        if problem is not None:
            loc, what = problem
            line = next((n for i in range(len(loc), -1, -1) if (n := json_line(text, loc[:i]))), 1)
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
            raise JournalError(
                f"{shown}:{line}: not a drill journal dnsops wrote: {where or 'top level'}: {what}",
                hint=hint,
            )
        return cls(path, data)

    # -- fields ---------------------------------------------------------------

    @property
    def actions(self) -> list[dict[str, Any]]:
        return list(self.data["actions"])

    @property
    def environment(self) -> str:
        return str(self.data["environment"])

    @property
    def scenario(self) -> str:
        return str(self.data["scenario"])

    @property
    def run_id(self) -> str:
        return str(self.data["run_id"])

    @property
    def pid(self) -> int:
        return int(self.data["pid"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    def describe(self) -> str:
        pending = sum(1 for a in self.actions if a["state"] != "undone")
        return (
            f"drill {self.scenario!r} (run {self.run_id}, pid {self.pid}, status {self.status}, "
            f"{pending} action(s) not undone) in {self.path}"
        )

    def owner_alive(self) -> bool:
        """Does the process that wrote the journal still run (and is it not us)?"""
        if self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return True
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"

    # -- writes (each one durable before it returns) ---------------------------

    def save(self) -> None:
        _write_atomic(self.path, self.data)

    def intend(self, kind: str, **params: Any) -> int:
        """Record an action about to be taken; returns its sequence number."""
        seq = len(self.data["actions"]) + 1
        self.data["actions"].append(
            {"seq": seq, "kind": kind, "state": "intended", "at": time.time(), **params}
        )
        self.save()
        return seq

    def mark(self, seqs: int | tuple[int, ...], state: str) -> None:
        wanted = {seqs} if isinstance(seqs, int) else set(seqs)
        for a in self.data["actions"]:
            if a["seq"] in wanted:
                a["state"] = state
        self.save()

    def set_status(self, status: str) -> None:
        self.data["status"] = status
        self.save()

    def close(self) -> Path:
        """Everything is undone and verified: archive the journal out of the way."""
        self.data["status"] = "closed"
        self.data["closed"] = time.time()
        archive = self.path.parent / "journals" / f"{self.run_id}.json"
        _write_atomic(archive, self.data)
        self.path.unlink(missing_ok=True)
        return archive
