"""Saved plans (``plan --out FILE``) and the check ``apply FILE`` makes before applying.

A saved plan is the :class:`~dnsops.sync.model.PlanSet` as JSON: the changes,
plus snapshots of the desired zones and of each provider's records as they were
when the plan was computed, plus octoDNS's plan checksum. ``apply`` plans again
and applies only if nothing moved; otherwise :func:`moved` names every record
that differs, and where (the zones, or which provider).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from pydantic import ValidationError

from dnsops.errors import DnsopsError, InputError
from dnsops.sync.model import PLAN_FORMAT, PlanSet, RecordState, Snapshot
from dnsops.yamlfile import decode, json_line, parse_json, read_bytes


class SavedPlanError(DnsopsError):
    """A saved plan can't be read, or no longer matches the zones or a provider."""


STALE = 3  # exit code: the saved plan no longer applies; nothing was applied


class StalePlanError(SavedPlanError):
    """The saved plan no longer matches the zones or a provider: nothing was applied.

    Its own exit code (3) lets a pipeline tell "plan again" from "apply failed"."""

    exit_code = STALE


def save(doc: PlanSet, path: Path) -> None:
    """Write the plan atomically (a reader never sees half a plan). No directory is
    created: the caller checked the path (:func:`dnsops.outpath.check`).

    :raises SavedPlanError: the file can't be written (the message says why).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(doc.model_dump_json(indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SavedPlanError(f"{path}: cannot write the plan: {exc.strerror}") from None


def load(path: Path, environments: Collection[str] | None = None) -> PlanSet:
    """The plan saved in ``path``; with ``environments``, its environment must be one of
    them (checked before anything else of the plan is used).

    :raises SavedPlanError: the file is missing, unreadable, not JSON (or hostile: see
        :mod:`dnsops.yamlfile`), not a dnsops plan, or for an unknown environment."""
    shown = str(path)
    hint = "save one with `dnsops plan --out FILE`"
    try:
        raw = read_bytes(path, shown, "plan")
    except InputError as exc:
        raise SavedPlanError(f"{shown}: cannot read the plan: {exc.problem}", hint=hint) from None
    try:
        text = decode(raw, shown)
        data = parse_json(text, shown)
    except InputError as exc:
        raise SavedPlanError(exc.message, hint=hint) from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise SavedPlanError(
            f'{path}: not a dnsops plan (expected "format": "{PLAN_FORMAT}")', hint=hint
        )
    if environments is not None:
        _known_environment(data.get("environment"), environments, text, path)
    try:
        return PlanSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc)
        line = (json_line(text, loc) or json_line(text, loc[:-1])) if loc else None
        raise SavedPlanError(
            f"{path}{f':{line}' if line else ''}: damaged plan: {where}: {first['msg']} "
            f"({exc.error_count()} problem(s))"
        ) from None


def _known_environment(name: object, known: Collection[str], text: str, path: Path) -> None:
    if isinstance(name, str) and name in known:
        return
    line = json_line(text, ("environment",))
    shown = repr(name) if isinstance(name, str) else "missing or not a string"
    raise SavedPlanError(
        f"{path}{f':{line}' if line else ''}: environment {shown} is not one of the "
        f"configured environments ({', '.join(sorted(known))})",
        hint="a plan applies only to an environment of this project's dnsops.yaml",
    )


def moved(saved: PlanSet, fresh: PlanSet) -> list[str]:
    """Everything that differs between the state a plan was computed from and now.

    Empty when the zones and every provider are exactly as they were.
    """
    lines: list[str] = []
    if saved.providers != fresh.providers:
        lines.append(
            f"providers: the plan is for {', '.join(saved.providers)}; environment "
            f"{fresh.environment!r} now has {', '.join(fresh.providers)}"
        )
    if set(saved.desired) != set(fresh.desired):
        lines.append(
            f"zones: the plan covers {', '.join(sorted(saved.desired))}; "
            f"now {', '.join(sorted(fresh.desired)) or 'none'}"
        )
    for zone in sorted(set(saved.desired) & set(fresh.desired)):
        lines += [
            f"zones: {line}" for line in _diff(saved.desired[zone], fresh.desired[zone], "in git")
        ]
    for provider in saved.providers:
        for old in saved.for_provider(provider):
            new = fresh.get(provider, old.zone)
            if new is None:  # named above: another provider pair or zone set
                continue
            if old.exists != new.exists:
                lines.append(
                    f"{provider}: zone {old.zone} "
                    + ("was created" if new.exists else "was deleted")
                    + " since the plan"
                )
            lines += [
                f"{provider}: {line}"
                for line in _diff(old.existing, new.existing, f"on {provider}")
            ]
    return lines


def _diff(old: Snapshot, new: Snapshot, where: str) -> list[str]:
    if old.digest == new.digest:
        return []
    lines = []
    for key in sorted(set(old.records) | set(new.records)):
        a, b = old.records.get(key), new.records.get(key)
        if a is not None and b is not None and a.digest == b.digest:
            continue
        if a is None and b is not None:
            lines.append(f"{key} appeared {where} since the plan (now {_show(b)})")
        elif b is None and a is not None:
            lines.append(f"{key} disappeared {where} since the plan (was {_show(a)})")
        elif a is not None and b is not None:
            detail = f"{_show(a)} -> {_show(b)}"
            if _show(a) == _show(b):
                detail += " (same TTL and values; other octoDNS record data differs)"
            lines.append(f"{key} changed {where} since the plan: {detail}")
    return lines


def _show(state: RecordState) -> str:
    return f"{state.ttl} {', '.join(state.values)}"
