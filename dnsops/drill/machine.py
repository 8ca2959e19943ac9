"""The drill's state machine: pure decisions over observations. No I/O, no clock.

Modelled on dnspython's ``resolver._Resolution``: the executor (the I/O driver)
asks ``next_step()`` what to do, tells the machine what happened
(``step_started``, ``change_applied``, ``step_finished``) and, while a step is
in progress, asks ``decide(now, samples)`` whether to keep going, finish the
step or abort. ``rollback_plan(actions)`` turns a journal into the undo list.
Everything here can be tested with hand-built samples and times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dnsops.drill.measure import Expectation, Sample, settled_now, success_by_vantage
from dnsops.drill.model import (
    CheckStep,
    Failback,
    ProviderOutage,
    RecordFailover,
    RegionalLoss,
    Scenario,
    Wait,
)

Verb = Literal["continue", "finish-step", "abort"]
AbortCause = Literal["resolution", "convergence", "max-duration", "check", "interrupted", "error"]
MIN_WINDOW_SAMPLES = 3


@dataclass(frozen=True)
class Decision:
    verb: Verb
    cause: AbortCause | None = None
    reason: str = ""


CONTINUE = Decision("continue")
FINISH = Decision("finish-step")


@dataclass(frozen=True)
class ChangeWindow:
    """A record change being watched: from ``change_at`` until every vantage settles."""

    probe: str
    expect: Expectation
    ttl: int
    margin: float
    change_at: float
    applied_at: float
    deadline: float  # when waiting stops: min(TTL + margin, step timeout, max duration)

    @property
    def bound(self) -> float:
        """The physical bound: caches primed just before the change expire within TTL."""
        return self.ttl + self.margin


@dataclass
class StepRecord:
    index: int
    kind: str
    started: float
    ended: float | None = None
    ok: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class DrillMachine:
    """Which step next, whether to abort, when a step is over; all from the caller's data."""

    def __init__(
        self,
        scenario: Scenario,
        vantages: Sequence[str],
        *,
        started: float = 0.0,
        baseline: float = 2.0,
    ) -> None:
        self.scenario = scenario
        self.vantages = list(vantages)
        self.started = started
        self.baseline = baseline
        self.expectations: dict[str, Expectation] = {}
        self.records: list[StepRecord] = []
        self.change: ChangeWindow | None = None
        self.aborted: Decision | None = None

    # -- what next ------------------------------------------------------------

    def next_step(self) -> int | None:
        """The index of the step to run next, or None when all ran (or the drill aborted)."""
        if self.aborted is not None:
            return None
        if self.records and self.records[-1].ended is None:
            raise RuntimeError(f"step {self.records[-1].index} has not finished")
        i = len(self.records)
        return i if i < len(self.scenario.steps) else None

    @property
    def current(self) -> StepRecord | None:
        return self.records[-1] if self.records and self.records[-1].ended is None else None

    # -- what happened --------------------------------------------------------

    def step_started(self, index: int, now: float) -> None:
        kind = self.scenario.steps[index].kind
        self.records.append(StepRecord(index, kind, now))
        self.change = None

    def change_applied(self, window: ChangeWindow) -> None:
        self.change = window
        self.expectations[window.probe] = window.expect

    def step_finished(self, now: float, ok: bool, **detail: Any) -> StepRecord:
        rec = self.records[-1]
        rec.ended, rec.ok = now, ok
        rec.detail.update(detail)
        return rec

    def abort(self, cause: AbortCause, reason: str) -> Decision:
        self.aborted = Decision("abort", cause, reason)
        return self.aborted

    # -- while a step runs ----------------------------------------------------

    def guardrails(self, now: float, samples: Sequence[Sample]) -> Decision | None:
        """Abort conditions that hold at any time: maximum duration, resolution success."""
        sc = self.scenario
        if now - self.started > sc.max_duration:
            return Decision(
                "abort", "max-duration", f"maximum duration {sc.max_duration:g} s exceeded"
            )
        window = sc.abort.for_
        if now - self.started < window:
            return None
        low = []
        for vantage, (ok, n) in sorted(
            success_by_vantage(samples, self.expectations, now - window, now).items()
        ):
            if n >= MIN_WINDOW_SAMPLES and ok / n < sc.abort.success_below:
                low.append(f"{vantage} {ok / n:.0%}")
        if low:
            return Decision(
                "abort",
                "resolution",
                f"resolution success below {sc.abort.success_below:.0%} for {window:g} s: "
                + ", ".join(low),
            )
        return None

    def decide(self, now: float, samples: Sequence[Sample]) -> Decision:
        """Keep going, finish the current step, or abort (and roll back)."""
        if self.aborted is not None:
            return self.aborted
        stop = self.guardrails(now, samples)
        if stop is not None:
            return stop
        rec = self.current
        if rec is None:
            return CONTINUE
        step = self.scenario.steps[rec.index]
        if isinstance(step, ProviderOutage | RegionalLoss | Wait):
            return FINISH if now - rec.started >= step.duration else CONTINUE
        if isinstance(step, RecordFailover | Failback):
            return self._convergence(now, samples)
        assert isinstance(step, CheckStep)
        return CONTINUE  # checks run synchronously; the executor finishes them

    def settle(self) -> float:
        """How long every stream must answer only ``new`` to count as settled."""
        return max(1.0, 3.0 / self.scenario.probing.rate)

    def _convergence(self, now: float, samples: Sequence[Sample]) -> Decision:
        ch = self.change
        if ch is None:
            return CONTINUE  # the change is being applied
        if now >= ch.applied_at and settled_now(
            samples,
            ch.probe,
            ch.expect,
            self.vantages,
            self.scenario.probing.streams,
            now,
            self.settle(),
        ):
            return FINISH
        if now >= ch.deadline:
            why = (
                f"TTL {ch.ttl} s + margin {ch.margin:g} s = {ch.bound:g} s"
                if ch.deadline >= ch.change_at + ch.bound
                else f"the drill's deadline ({ch.deadline - ch.change_at:g} s) came before "
                f"TTL {ch.ttl} s + margin {ch.margin:g} s"
            )
            return Decision(
                "abort",
                "convergence",
                f"{ch.probe}: not converged at every vantage after "
                f"{now - ch.change_at:.1f} s ({why})",
            )
        return CONTINUE

    def deadline(self, change_at: float, ttl: int, margin: float, timeout: float | None) -> float:
        """Waiting for convergence ends at the first of: TTL + margin, timeout, max duration."""
        ends = [change_at + ttl + margin, self.started + self.scenario.max_duration]
        if timeout is not None:
            ends.append(change_at + timeout)
        return min(ends)


# -- rollback -----------------------------------------------------------------

UndoKind = Literal["start-server", "delete-nft-table", "restore-zone"]


@dataclass(frozen=True)
class Undo:
    kind: UndoKind
    target: str  # server name, nft table, or zone name
    because: tuple[int, ...]  # journal action seqs this undoes
    where: str = "local"  # nft tables: this machine, or the SSH vantage whose host has it

    def describe(self) -> str:
        if self.kind == "start-server":
            return f"start lab server {self.target}"
        if self.kind == "delete-nft-table":
            on = "" if self.where == "local" else f" on SSH vantage {self.where}"
            return f"remove nftables table {self.target}{on}"
        return f"sync zone {self.target} from git on both providers"


def rollback_plan(actions: Sequence[dict[str, Any]]) -> list[Undo]:
    """Undo every journal action not yet undone (intended ones too: they may have happened).

    Providers come back first (servers started, traffic let through), so the
    zone restores that follow can reach both; each zone is restored once.
    Every undo is idempotent: running the plan twice is harmless.
    """
    servers: dict[str, list[int]] = {}
    tables: dict[tuple[str, str], list[int]] = {}
    zones: dict[str, list[int]] = {}
    for a in actions:
        if a.get("state") == "undone":
            continue
        seq = int(a["seq"])
        kind = a["kind"]
        if kind == "stop-server":
            servers.setdefault(a["server"], []).append(seq)
        elif kind == "drop-traffic":
            tables.setdefault((str(a.get("where", "local")), a["table"]), []).append(seq)
        elif kind in ("change-record", "restore-record"):
            zones.setdefault(a["zone"], []).append(seq)
        else:
            raise ValueError(f"journal action {seq} has an unknown kind {kind!r}")
    plan = [Undo("start-server", s, tuple(q)) for s, q in servers.items()]
    plan += [Undo("delete-nft-table", t, tuple(q), where=w) for (w, t), q in tables.items()]
    plan += [Undo("restore-zone", z, tuple(q)) for z, q in zones.items()]
    return plan


# -- verdict -----------------------------------------------------------------


@dataclass
class Verdict:
    passed: bool
    reasons: list[str]

    @property
    def word(self) -> str:
        return "pass" if self.passed else "fail"


def verdict(
    scenario: Scenario,
    steps: Sequence[StepRecord],
    aborted: Decision | None,
    rollback_ok: bool | None,
) -> Verdict:
    """The hypothesis holds only if nothing aborted, every step held and the end state is git."""
    reasons = []
    if aborted is not None:
        reasons.append(f"aborted ({aborted.cause}): {aborted.reason}")
    if rollback_ok is False:
        reasons.append("rollback verification failed: the end state is not the state in git")
    for rec in steps:
        if rec.ok is False:
            reasons.append(f"step {rec.index + 1} ({rec.kind}): {rec.detail.get('why', 'failed')}")
    if len(steps) < len(scenario.steps) and aborted is None:
        reasons.append(f"only {len(steps)} of {len(scenario.steps)} steps ran")
    return Verdict(not reasons, reasons)
