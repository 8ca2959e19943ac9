"""Plans as data: what each provider would change, and the state it was computed from.

These models hold no octoDNS object and do no I/O: renderers read them, saved
plans are them (JSON), and ``apply FILE`` compares a saved one with a fresh one.
A record is identified by its key ``"<fqdn> <type>"``; its state is its TTL,
its values as DNS presentation text (what a nameserver serves) and a digest of
the whole octoDNS record data (so that changes octoDNS sees but DNS text does
not show, e.g. routing rules, still count).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

PLAN_FORMAT: Final = "dnsops-plan/1"
Action = Literal["create", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# models of an apply's outcome: their validators are built when first used (a sync or an
# apply), not at import (every plan)
_APPLY_ONLY = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class RecordState(_Model):
    name: str  # fully qualified
    type: str
    ttl: int
    values: list[str]  # presentation format, sorted
    digest: str  # of the octoDNS record data

    @property
    def key(self) -> str:
        return f"{self.name} {self.type}"


class Change(_Model):
    action: Action
    name: str
    type: str
    old: RecordState | None = None
    new: RecordState | None = None
    source: str | None = None  # file:line of the desired record

    @property
    def key(self) -> str:
        return f"{self.name} {self.type}"

    def same_effect(self, other: Change) -> bool:
        """Both providers would end with the same record (old states may differ)."""
        mine = self.new.digest if self.new else None
        theirs = other.new.digest if other.new else None
        return self.action == other.action and self.key == other.key and mine == theirs


class Snapshot(_Model):
    """A zone's records as seen at plan time (desired: from git; existing: a provider)."""

    digest: str
    records: dict[str, RecordState] = Field(default_factory=dict)  # key -> state


class ZonePlan(_Model):
    """One provider, one zone."""

    provider: str
    zone: str
    exists: bool  # the zone already exists on the provider
    changes: list[Change] = Field(default_factory=list)
    existing: Snapshot
    checksum: str | None = None  # sha256 of octoDNS's plan data (None: no changes)
    unsafe: str | None = None  # why octoDNS's guards want --force, if they do

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)


class ProviderSummary(_Model):
    provider: str
    create: int
    update: int
    delete: int
    zones_changed: int
    zones: int

    @property
    def total(self) -> int:
        return self.create + self.update + self.delete

    def line(self) -> str:
        if not self.total:
            return f"{self.provider}: no changes ({self.zones} zone(s) in sync)"
        return (
            f"{self.provider}: {self.create} to create, {self.update} to update, "
            f"{self.delete} to delete in {self.zones_changed} of {self.zones} zone(s)"
        )


class Withheld(_Model):
    """A record of the zones one provider will not hold (dnsops.expect), and why."""

    provider: str
    zone: str
    name: str
    type: str
    reason: str
    acknowledged: str | None = None  # the zone file's reason for accepting it
    source: str | None = None  # file:line

    def line(self) -> str:
        ack = f" (acknowledged: {self.acknowledged})" if self.acknowledged else ""
        return f"{self.provider} will not hold {self.name} {self.type}: {self.reason}{ack}"


class PlanSet(_Model):
    """Every zone planned against both providers of an environment.

    This is also the saved-plan document (``plan --out``): it carries the
    desired and existing snapshots ``apply`` checks before applying.
    """

    format: Literal["dnsops-plan/1"] = "dnsops-plan/1"
    environment: str
    providers: list[str]
    created: datetime
    desired: dict[str, Snapshot]  # zone -> records from git
    plans: list[ZonePlan]
    checksum: str  # over every provider's octoDNS plan data, as Manager.enable_checksum
    failed: dict[str, str] = Field(default_factory=dict)  # provider -> why it could not plan
    withheld: list[Withheld] = Field(default_factory=list)  # records a provider will not hold

    @property
    def has_changes(self) -> bool:
        return any(p.changes for p in self.plans)

    def for_provider(self, provider: str) -> list[ZonePlan]:
        return [p for p in self.plans if p.provider == provider]

    def get(self, provider: str, zone: str) -> ZonePlan | None:
        return next((p for p in self.plans if p.provider == provider and p.zone == zone), None)

    def summaries(self) -> list[ProviderSummary]:
        out = []
        for name in self.providers:
            if name in self.failed:
                continue
            mine = self.for_provider(name)
            out.append(
                ProviderSummary(
                    provider=name,
                    create=sum(p.count("create") for p in mine),
                    update=sum(p.count("update") for p in mine),
                    delete=sum(p.count("delete") for p in mine),
                    zones_changed=sum(1 for p in mine if p.changes),
                    zones=len(mine),
                )
            )
        return out

    def unsafe(self) -> list[str]:
        return [p.unsafe for p in self.plans if p.unsafe]

    def differences(self) -> list[str]:
        """Where the two providers' plans disagree, one line each (empty: they agree)."""
        if len(self.providers) != 2 or self.failed:
            return []
        a, b = self.providers
        lines: list[str] = []
        withheld = {(w.provider, w.zone, f"{w.name} {w.type}") for w in self.withheld}
        # an index, not get() per zone: that is quadratic (1,000 zones, 2,000 plans)
        plans: dict[tuple[str, str], ZonePlan] = {}
        for p in self.plans:
            plans.setdefault((p.provider, p.zone), p)
        for zone in self.desired:
            pa, pb = plans.get((a, zone)), plans.get((b, zone))
            ca = {c.key: c for c in pa.changes} if pa else {}
            cb = {c.key: c for c in pb.changes} if pb else {}
            for key in sorted(set(ca) | set(cb)):
                if (a, zone, key) in withheld or (b, zone, key) in withheld:
                    continue  # listed as withheld, with the reason
                x, y = ca.get(key), cb.get(key)
                if x and y and x.same_effect(y):
                    continue
                if x and y:
                    lines.append(f"{key}: {a} would {x.action} it, {b} would {y.action} it")
                elif x:
                    lines.append(f"{key}: only {a} would {x.action} it ({b} is already in sync)")
                elif y:
                    lines.append(f"{key}: only {b} would {y.action} it ({a} is already in sync)")
        return lines


class Verification(_Model):
    """Whether a provider's nameservers serve every changed record (after apply)."""

    model_config = _APPLY_ONLY

    provider: str
    servers: list[str]  # "ns1.pdns.test. (127.53.1.1)"
    verified: int  # records every server serves as planned
    total: int  # records checked
    unchecked: list[str] = Field(default_factory=list)  # keys DNS can't show (e.g. ALIAS)
    pending: list[str] = Field(default_factory=list)  # "<key>: <server> serves <what>"
    skipped: str | None = None  # why nothing was checked (no nameservers known)

    @property
    def failed(self) -> bool:
        """Checked, and some record is not served as planned (skipped is not failed)."""
        return self.skipped is None and self.verified < self.total

    def line(self) -> str:
        if self.skipped:
            return f"not verified on {self.provider}: {self.skipped}"
        text = f"verified on {self.provider}: {self.verified}/{self.total}"
        if self.unchecked:
            text += f" ({len(self.unchecked)} not checkable by DNS: {', '.join(self.unchecked)})"
        return text


ProviderStatus = Literal["in-sync", "applied", "failed", "not-planned"]


class ProviderOutcome(_Model):
    """What a sync or apply left on one provider."""

    model_config = _APPLY_ONLY

    provider: str
    status: ProviderStatus
    applied: int = 0  # changes applied
    batches: int = 0  # requests they were sent in, where more than one per zone
    error: str | None = None
    failed_zone: str | None = None
    pending: int | None = None  # changes still needed after a failure (None: unknown)
    pending_changes: list[str] = Field(default_factory=list)
    verification: Verification | None = None

    def state(self) -> str:
        """One sentence: which state this provider is in now."""
        if self.status == "in-sync":
            return f"{self.provider}: already in sync, nothing applied"
        if self.status == "applied":
            sent = f" in {self.batches} batches" if self.batches > 1 else ""
            return f"{self.provider}: applied {self.applied} change(s){sent}"
        if self.status == "not-planned":
            return (
                f"{self.provider}: NOT synced: its current state could not be read "
                f"({self.error}); nothing was sent to it"
            )
        where = f" on {self.failed_zone}" if self.failed_zone else ""
        head = f"{self.provider}: FAILED{where} after {self.applied} change(s) ({self.error})"
        if self.pending is None:
            return f"{head}; its state now is unknown (it could not be read back)"
        if self.pending == 0:
            return f"{head}; read back: it matches the zones anyway"
        return f"{head}; read back: {self.pending} change(s) still needed"


class SyncResult(_Model):
    """The outcome of ``sync --doit`` or ``apply FILE``."""

    model_config = _APPLY_ONLY

    environment: str
    outcomes: list[ProviderOutcome]

    @property
    def ok(self) -> bool:
        return all(
            o.status in ("in-sync", "applied")
            and not (o.verification is not None and o.verification.failed)
            for o in self.outcomes
        )
