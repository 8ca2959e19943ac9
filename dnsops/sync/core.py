"""Plan both providers concurrently from zones loaded once; apply with octoDNS's guards.

Planning goes through each octoDNS provider's own ``plan()`` (populate, process,
diff, filter, extra changes — exactly what ``octodns-sync`` does per target).
While a provider populates, the records it returns are snapshotted, so the plan
records the state it was computed from even when there is nothing to change.

A provider that fails to plan or to apply does not stop the other one: its
error is recorded and the caller reports which provider is in which state.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from octodns.provider.plan import Plan
from octodns.zone import Zone

from dnsops import octo
from dnsops.errors import ProviderError
from dnsops.octo import BatchFailed
from dnsops.sync import axfr, convert, parallel
from dnsops.sync.model import PlanSet, Snapshot, Withheld, ZonePlan

Redact = Callable[[str], str]
Progress = Callable[[str], None]


def _same(text: str) -> str:
    return text


@dataclass
class Planned:
    """The plan models plus the octoDNS plans they were made from (for apply)."""

    doc: PlanSet
    octo: dict[tuple[str, str], Plan | None] = field(default_factory=dict)
    appliable: bool = True  # False: planned without keeping octoDNS's plans (for_apply=False)

    @property
    def failed(self) -> dict[str, str]:
        """provider -> why planning it failed"""
        return self.doc.failed

    @property
    def has_changes(self) -> bool:
        return self.doc.has_changes

    @property
    def plans(self) -> list[ZonePlan]:
        return self.doc.plans

    def for_provider(self, provider: str) -> list[ZonePlan]:
        return self.doc.for_provider(provider)


class UnsafePlanError(ProviderError):
    """octoDNS's guards refuse the plan without --force."""


def plan(
    zones: dict[str, Zone],
    providers: dict[str, Any],
    *,
    environment: str = "",
    redact: Redact = _same,
    progress: Progress | None = None,
    for_apply: bool = True,
    desired: Callable[[str, Zone], Zone] | None = None,
    withheld: list[Withheld] | None = None,
    deadline: Deadline | None = None,
) -> Planned:
    """Plan every zone against every provider, providers concurrently.

    With ``for_apply`` (the default) each provider plans in a thread and the
    octoDNS plans are kept for :func:`apply`. Without it, large plans fork one
    process per provider (:mod:`dnsops.sync.parallel`: two cores instead of one
    interpreter lock) and keep only the models: the result shows and saves like
    any other but cannot be applied.

    ``desired(provider, zone)``: the zone as that provider is to hold it (the
    environment model's expectation: what it cannot hold left out, octoDNS's fallbacks
    applied); by default every provider is given the zone as it is. ``withheld``: the
    records left out that way, shown with the plan. ``deadline``: the planning
    phase's; no zone starts planning after it (the provider is reported as failed).

    Never raises for a provider's failure: it is recorded in ``failed``.
    """
    give = desired or (lambda _name, zone: zone)
    say = progress or (lambda _m: None)

    def one(name: str, tell: Progress) -> _ProviderPlans:
        docs: list[ZonePlan] = []
        plans: dict[str, Plan | None] = {}
        try:
            for done, zone in enumerate(zones.values()):
                if deadline is not None:
                    deadline.check(f"{name}: planning", done, len(zones))
                doc, octo_plan = _plan_zone(name, providers[name], give(name, zone))
                docs.append(doc)
                plans[zone.name] = octo_plan
            tell(f"{name}: planned {len(zones)} zone(s)")
            return _ProviderPlans(docs, plans, None)
        except Exception as exc:  # any provider/library failure: reported, not raised
            return _ProviderPlans(docs, plans, redact(_describe(exc)))

    with convert.remembering() as memo:
        # the desired records' states first: a provider's records in sync have the same
        # states (convert.StateMemo), found instead of computed again, also by the workers
        start = _empty(environment, providers, zones)
        records = sum(len(s.records) for s in start.desired.values())
        if not for_apply and parallel.worthwhile(len(providers), records):

            def portable(name: str, tell: Progress) -> _Portable:
                return one(name, tell).portable()

            memo.seal()
            outcomes, _ = parallel.run_each(list(providers), portable, say, lambda: None)
            results = {
                name: o.value.unpacked()
                if o.value is not None
                else _ProviderPlans([], {}, redact(str(o.error)))
                for name, o in outcomes.items()
            }
            planned = Planned(doc=start, appliable=False)
        else:
            with ThreadPoolExecutor(max_workers=max(1, len(providers))) as pool:
                found = pool.map(lambda name: one(name, say), providers)
                results = dict(zip(providers, found, strict=True))
            planned = Planned(doc=start)
    all_docs: list[ZonePlan] = []
    failed: dict[str, str] = {}
    data: dict[tuple[str, str], dict[str, Any] | None] = {}
    for name in providers:
        result = results[name]
        if result.error is not None:
            failed[name] = result.error
            continue
        all_docs += result.docs
        data.update({(name, z): d for z, d in result.data.items()})
        if planned.appliable:
            planned.octo.update({(name, z): p for z, p in result.plans.items()})
    checksum = convert.data_checksum(data[k] for k in sorted(data))
    planned.doc = planned.doc.model_copy(
        update={
            "plans": all_docs,
            "checksum": checksum,
            "failed": failed,
            "withheld": list(withheld or []),
        }
    )
    return planned


@dataclass
class _ProviderPlans:
    """One provider's plans: models, octoDNS plans (not across processes), their data."""

    docs: list[ZonePlan]
    plans: dict[str, Plan | None]
    error: str | None
    data: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.data:
            self.data = {z: p.data if p is not None else None for z, p in self.plans.items()}

    def portable(self) -> _Portable:
        """The same without octoDNS objects, to send from a worker process."""
        return _Portable([convert.pack(d) for d in self.docs], self.error, self.data)


@dataclass
class _Portable:
    packed: list[convert.PackedPlan]
    error: str | None
    data: dict[str, dict[str, Any] | None]

    def unpacked(self) -> _ProviderPlans:
        return _ProviderPlans([convert.unpack(p) for p in self.packed], {}, self.error, self.data)


def _empty(environment: str, providers: dict[str, Any], zones: dict[str, Zone]) -> PlanSet:
    return PlanSet(
        environment=environment,
        providers=list(providers),
        created=datetime.now(UTC),
        desired={name: convert.zone_snapshot(z) for name, z in zones.items()},
        plans=[],
        checksum="",
    )


def _plan_zone(name: str, provider: Any, zone: Zone) -> tuple[ZonePlan, Plan | None]:
    seen: dict[str, tuple[Snapshot, bool]] = {}
    with _recording_populate(provider, seen):
        octo_plan = provider.plan(zone)
    existing, exists = seen.get(zone.name, (convert.snapshot([]), False))
    doc = ZonePlan(
        provider=name,
        zone=zone.name,
        exists=bool(octo_plan.exists) if octo_plan is not None else exists,
        changes=[convert.change(c) for c in octo_plan.changes] if octo_plan else [],
        existing=existing,
        checksum=convert.plan_checksum([octo_plan]) if octo_plan else None,
        unsafe=convert.unsafe_reason(name, octo_plan),
    )
    return doc, octo_plan


@contextlib.contextmanager
def _recording_populate(provider: Any, into: dict[str, tuple[Snapshot, bool]]) -> Iterator[None]:
    """Snapshot what the provider's populate returns (its current records).

    ``provider`` may be :class:`dnsops.octo.Target`, which wraps the octoDNS
    provider (its ``provider``) to add the config's processors: the wrapped
    provider's populate is the one its plan calls.
    """
    provider = getattr(provider, "provider", provider)
    axfr.install(provider)  # BIND: the same records from the AXFR, read ~6x faster
    original = provider.populate

    def populate(zone: Zone, target: bool = False, lenient: bool = False) -> Any:
        # the records read back are not validated again where that changes nothing
        with octo.read_back() if target and lenient else contextlib.nullcontext():
            exists = original(zone, target=target, lenient=lenient)
        if target:
            into[zone.name] = (convert.zone_snapshot(zone), bool(exists))
        return exists

    provider.populate = populate
    try:
        yield
    finally:
        del provider.populate  # the class's method again


def guard(planned: Planned, force: bool) -> None:
    """Refuse a plan octoDNS considers unsafe, unless forced.

    :raises UnsafePlanError: naming every zone and provider, the threshold and --force.
    """
    reasons = planned.doc.unsafe()
    if reasons and not force:
        raise UnsafePlanError(
            "octoDNS's safety guards refuse this plan:\n  " + "\n  ".join(reasons),
            hint="review the plan; if the change is intended, rerun with --force",
        )


@dataclass
class Applied:
    provider: str
    changes: int = 0  # changes applied
    batches: int = 0  # requests they went in (a zone's plan may be split: dnsops.sync.batch)
    zones: list[str] = field(default_factory=list)  # zones applied completely
    error: str | None = None  # the first failure (later zones were not tried)
    failed_zone: str | None = None


class PhaseDeadlineExceeded(ProviderError):
    """A phase (planning, applying) passed its overall deadline: no more work started."""


@dataclass(frozen=True)
class Deadline:
    """A phase's overall deadline (an absolute ``time.monotonic()``: the same clock in
    forked planning workers), and its length for messages."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def check(self, what: str, done: int, total: int, unit: str = "zone(s)") -> None:
        """:raises PhaseDeadlineExceeded: the deadline has passed."""
        if time.monotonic() > self.at:
            raise PhaseDeadlineExceeded(
                f"{what} passed its {self.seconds:g} s deadline after {done} of {total} {unit}; "
                "nothing more was started (dnsops.yaml provider_api.phases)"
            )


Counts = Callable[[str, int, int, int], None]  # provider, zones done, zones, changes done


def apply(
    planned: Planned,
    providers: dict[str, Any],
    force: bool = False,
    redact: Redact = _same,
    progress: Progress | None = None,
    counts: Counts | None = None,
    deadline: Deadline | None = None,
) -> list[Applied]:
    """Apply each provider's plans, providers concurrently, zones in order.

    A provider that can (:class:`dnsops.octo.Target`) applies a large plan in batches
    within its limits; a failed batch is reported with what was applied before it.
    Providers whose planning failed are not touched. Never raises for a
    provider's failure: it is recorded in the result. ``counts`` hears, after each
    zone, how far each provider is (from the providers' threads). ``deadline``: the
    apply phase's; no zone or batch starts after it (the rest is left for a rerun).

    :raises UnsafePlanError: octoDNS's guards refuse the plan and ``force`` is False
        (checked for every provider before anything is applied).
    """
    if not planned.appliable:
        raise ValueError("this plan was computed for display only (for_apply=False)")
    guard(planned, force)
    names = [n for n in planned.doc.providers if n not in planned.failed]

    def one(name: str) -> Applied:
        result = Applied(name)
        mine = [
            (zone, octo_plan)
            for (pname, zone), octo_plan in planned.octo.items()
            if pname == name and octo_plan is not None
        ]
        provider = providers[name]
        batched = getattr(provider, "apply_in_batches", None)
        for zone, octo_plan in mine:
            try:
                if deadline is not None:
                    deadline.check(f"{name}: applying", len(result.zones), len(mine))
                if batched is not None:
                    result.batches += batched(octo_plan, progress, deadline)[1]
                else:
                    provider.apply(octo_plan)
                    result.batches += 1
            except Exception as exc:  # reported per provider
                if isinstance(exc, BatchFailed):  # the batches before it are applied
                    result.changes += exc.applied
                    result.batches += exc.index - 1
                result.error, result.failed_zone = redact(_describe(exc)), zone
                break
            result.changes += len(octo_plan.changes)
            result.zones.append(zone)
            if counts is not None:
                counts(name, len(result.zones), len(mine), result.changes)
        return result

    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        return list(pool.map(one, names))


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, BatchFailed):  # its message names the cause's type itself
        return text
    return f"{type(exc).__name__}: {text}"
