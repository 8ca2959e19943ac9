"""octoDNS objects (Zone, Record, Plan, Change) -> the plan models. No I/O."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from octodns.provider.plan import Plan, RootNsChange, TooMuchChange
from octodns.record import Create, Delete, Record, Update
from octodns.zone import Zone

from dnsops.sync.model import Action, Change, RecordState, Snapshot, ZonePlan
from dnsops.zones import location


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(data: Any) -> str:
    """The JSON text digests are computed over (sorted keys, octoDNS values as text)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def record_state(record: Record) -> RecordState:
    data = canonical(record.data)
    memo = _memo
    if memo is not None:
        known = memo.by_data.get((record.fqdn, record._type, data))
        if known is not None:
            return known
    rrset = record.to_rrset()
    # built from values of the right types: no validation (10k records per snapshot)
    state = RecordState.model_construct(
        name=record.fqdn,
        type=record._type,
        ttl=int(record.ttl),
        values=sorted(str(v) for v in rrset.rdatas),
        digest=_sha256(data)[:32],
    )
    if memo is not None:
        memo.add(state, data)
    return state


class StateMemo:
    """The record states of one plan, by what they are computed from.

    A record's state is a function of its name, type and data (TTL and values are part
    of the data; the digest is computed over it), so a record read back from a provider
    that has exactly the data of a desired record (every record of a zone in sync) has
    that record's state: computed once, shared by the snapshots of the desired zone and
    of both providers. States computed before a plan forks its workers
    (:mod:`dnsops.sync.parallel`) are also known to the parent: a worker sends such a
    state back as its name, type and digest only (:func:`pack`).
    """

    def __init__(self) -> None:
        self.by_data: dict[tuple[str, str, str], RecordState] = {}
        # what the parent knows: the states of the moment it sealed the memo (forked)
        self.sealed: dict[tuple[str, str, str], RecordState] = {}

    def add(self, state: RecordState, data: str) -> None:
        self.by_data[(state.name, state.type, data)] = state

    def seal(self) -> None:
        """Just before forking: the states a worker may send back by reference."""
        self.sealed = {(s.name, s.type, s.digest): s for s in self.by_data.values()}


_memo: StateMemo | None = None


@contextlib.contextmanager
def remembering() -> Iterator[StateMemo]:
    """Share record states (:class:`StateMemo`) within this block (one plan)."""
    global _memo
    outer = _memo
    _memo = outer if outer is not None else StateMemo()
    try:
        yield _memo
    finally:
        _memo = outer


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


# -- plans across processes (dnsops.sync.parallel) ---------------------------------------

PackedPlan = tuple[Any, ...]


def pack(doc: ZonePlan) -> PackedPlan:
    """A plan model as plain tuples: cheap to pickle, and :func:`unpack` skips validation
    (a provider's existing records are most of it: 10k records, 10k models). A state the
    parent already has (computed before the fork, :class:`StateMemo`) goes as its name,
    type and digest: :func:`unpack` must run within the same :func:`remembering` block."""
    shared = _memo.sealed if _memo is not None else {}
    rows = [
        (s.name, s.type, s.digest)
        if shared.get((s.name, s.type, s.digest)) is s
        else (s.name, s.type, s.ttl, s.values, s.digest)
        for s in doc.existing.records.values()
    ]
    changes = [c.model_dump() for c in doc.changes]
    return (
        doc.provider,
        doc.zone,
        doc.exists,
        changes,
        doc.existing.digest,
        rows,
        doc.checksum,
        doc.unsafe,
    )


def unpack(packed: PackedPlan) -> ZonePlan:
    """The plan model :func:`pack` was given (it came from a validated model)."""
    provider, zone, exists, changes, digest, rows, checksum, unsafe = packed
    shared = _memo.sealed if _memo is not None else {}
    states = (
        shared[row]
        if len(row) == 3
        else RecordState.model_construct(
            name=row[0], type=row[1], ttl=row[2], values=row[3], digest=row[4]
        )
        for row in rows
    )
    return ZonePlan.model_construct(
        provider=provider,
        zone=zone,
        exists=exists,
        changes=[Change.model_validate(c) for c in changes],
        existing=Snapshot.model_construct(digest=digest, records={s.key: s for s in states}),
        checksum=checksum,
        unsafe=unsafe,
    )
