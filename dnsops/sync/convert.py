"""octoDNS objects (Zone, Record, Plan, Change) -> the plan models. No I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from octodns.provider.plan import Plan, RootNsChange, TooMuchChange
from octodns.record import Create, Delete, Record, Update
from octodns.zone import Zone

from dnsops.sync.model import Action, Change, RecordState, Snapshot
from dnsops.zones import location


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(data: Any) -> str:
    """The JSON text digests are computed over (sorted keys, octoDNS values as text)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def record_state(record: Record) -> RecordState:
    rrset = record.to_rrset()
    return RecordState(
        name=record.fqdn,
        type=record._type,
        ttl=int(record.ttl),
        values=sorted(str(v) for v in rrset.rdatas),
        digest=_sha256(canonical(record.data))[:32],
    )


def snapshot(records: Iterable[Record]) -> Snapshot:
    states = {s.key: s for s in (record_state(r) for r in records)}
    ordered = dict(sorted(states.items()))
    body = canonical({k: v.digest for k, v in ordered.items()})
    return Snapshot(digest=_sha256(body), records=ordered)


def zone_snapshot(zone: Zone) -> Snapshot:
    return snapshot(zone.records)


_ACTION: dict[type, Action] = {Create: "create", Update: "update", Delete: "delete"}


def change(octo_change: Any) -> Change:
    action = _ACTION[type(octo_change)]
    record = octo_change.record
    loc = location(octo_change.new) if octo_change.new is not None else None
    return Change(
        action=action,
        name=record.fqdn,
        type=record._type,
        old=record_state(octo_change.existing) if octo_change.existing is not None else None,
        new=record_state(octo_change.new) if octo_change.new is not None else None,
        source=str(loc) if loc else None,
    )


def plan_checksum(plans: Iterable[Plan | None]) -> str:
    """sha256 over the plans' data, as octoDNS's Manager computes it for enable_checksum."""
    return data_checksum(p.data if p is not None else None for p in plans)


def data_checksum(data: Iterable[dict[str, Any] | None]) -> str:
    """:func:`plan_checksum` from the plans' ``data`` (None: no plan)."""
    return _sha256(canonical([d for d in data if d is not None]))


def unsafe_reason(provider: str, plan: Plan | None) -> str | None:
    """Why octoDNS's guards refuse this plan without --force, in words; None if safe."""
    if plan is None:
        return None
    try:
        plan.raise_if_unsafe()
    except TooMuchChange:
        return _too_much(provider, plan)
    except RootNsChange:
        return _root_ns(provider, plan)
    return None


def _too_much(provider: str, plan: Plan) -> str:
    existing = len(plan.existing.records)
    updates, deletes = plan.change_counts["Update"], plan.change_counts["Delete"]
    if updates / existing > plan.update_pcent_threshold:
        what, n, threshold = "update", updates, plan.update_pcent_threshold
    else:
        what, n, threshold = "delete", deletes, plan.delete_pcent_threshold
    return (
        f"{provider} {plan.existing.decoded_name}: would {what} {n} of {existing} records "
        f"({100 * n / existing:.1f} %), over octoDNS's safety threshold of "
        f"{100 * threshold:.0f} % for zones with at least {plan.MIN_EXISTING_RECORDS} records"
    )


def _root_ns(provider: str, plan: Plan) -> str:
    ch = next(c for c in plan.changes if c.record._type == "NS" and c.record.name == "")
    old = ", ".join(record_state(ch.existing).values) if ch.existing else "none"
    new = ", ".join(record_state(ch.new).values) if ch.new else "none"
    return (
        f"{provider} {plan.existing.decoded_name}: would change the apex NS record "
        f"({old} -> {new}); octoDNS never changes a zone's delegation without --force"
    )
