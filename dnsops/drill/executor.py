"""The thin I/O driver of a drill: preflight, steps, guardrails, rollback, verification.

The state machine (``machine``) decides; this module acts and observes. The
order of every action is: write the journal entry, act, mark it done. Abort
(a guardrail), Ctrl-C and SIGTERM all end in the same place: undo whatever the
journal says is not undone, then verify the world is the state in git.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from dnsops.config import Project
from dnsops.config import SshVantage as SshConfig
from dnsops.drill import measure, nft
from dnsops.drill.actions import Actions, Blackholed, CheckResult
from dnsops.drill.journal import LOCAL, Journal, JournalError
from dnsops.drill.machine import ChangeWindow, Decision, DrillMachine, Undo, rollback_plan
from dnsops.drill.measure import Expectation
from dnsops.drill.model import (
    CheckStep,
    Failback,
    InSyncCheck,
    PrimeMode,
    ProviderOutage,
    RecordFailover,
    RegionalLoss,
    ResolutionCheck,
    Scenario,
    ServersCheck,
    Wait,
)
from dnsops.drill.regions import region_impact
from dnsops.drill.sampler import Probe, Sampler, Vantage, prime
from dnsops.drill.values import find_record, record_values
from dnsops.env import Env
from dnsops.errors import DnsopsError
from dnsops.lock import environment_lock
from dnsops.probe import Engine
from dnsops.vantage.ssh import SshVantage

TICK = 0.2


class PreflightError(DnsopsError):
    """The drill did not start: the steady state is not green, a plan is pending, or locked."""


class Interrupted(Exception):
    """SIGTERM (or SIGINT) arrived: stop, roll back, verify."""


class Aborted(Exception):
    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


@dataclass
class Hooks:
    """How the executor talks to a human (the CLI implements these with rich, on stderr)."""

    say: Callable[[str], None] = lambda _m: None
    # (label, elapsed, total or None) while a long step runs
    tick: Callable[[str, float, float | None], None] = lambda _l, _e, _t: None
    done_ticking: Callable[[], None] = lambda: None


@dataclass
class RollbackResult:
    undone: list[str] = field(default_factory=list)
    verified: bool = False
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"undone": self.undone, "verified": self.verified, "problems": self.problems}


@dataclass
class RunResult:
    """Everything a report needs; built by the executor, rendered elsewhere."""

    run_id: str
    scenario: Scenario
    environment: str
    lab: bool
    started_wall: float
    ended_wall: float
    machine: DrillMachine
    samples: list[measure.Sample]
    vantages: list[str]
    preflight: list[CheckResult]
    rollback: RollbackResult
    step_extras: dict[int, dict[str, Any]]
    error: str | None = None


ROLLBACK_ALLOWANCE = 120.0  # SSH sampling sessions outlive max_duration by this at most


def _by_where(targets: list[Blackholed]) -> dict[str, list[Blackholed]]:
    out: dict[str, list[Blackholed]] = {}
    for t in targets:
        out.setdefault(t.where, []).append(t)
    return out


def new_run_id(scenario: str) -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + scenario


@contextlib.contextmanager
def _lock(project: Project, env_name: str, what: str) -> Iterator[None]:
    """The environment's lock (shared with sync/apply), held for the whole drill."""
    with environment_lock(project, env_name, command=f"dnsops drill {what}"):
        yield


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM raises Interrupted in the main thread (SIGINT already raises KeyboardInterrupt)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def signals_deferred() -> Iterator[list[str]]:
    """While rolling back, SIGINT/SIGTERM are noted, not obeyed: the rollback must finish."""
    seen: list[str] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        seen.append(signal.Signals(signum).name)

    old_term = signal.signal(signal.SIGTERM, note)
    old_int = signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)


# -- rollback (shared by `drill run` and `drill rollback`) ----------------------


def execute_rollback(actions: Actions, journal: Journal, hooks: Hooks) -> RollbackResult:
    """Undo every journal action not yet undone, then verify servers and providers equal git."""
    result = RollbackResult()
    journal.set_status("rolling-back")
    plan: list[Undo] = rollback_plan(journal.actions)
    for undo in plan:
        hooks.say(f"rollback: {undo.describe()}")
        try:
            _undo(actions, undo)
        except DnsopsError as exc:
            result.problems.append(f"{undo.describe()}: {exc.message}")
            continue
        journal.mark(undo.because, "undone")
        result.undone.append(undo.describe())
    tables = sorted(
        {
            (str(a.get("where", LOCAL)), a["table"])
            for a in journal.actions
            if a["kind"] == "drop-traffic"
        }
    )
    result.problems += verify(actions, tables)
    result.verified = not result.problems
    if result.verified:
        journal.close()
        hooks.say("rollback verified: servers running, both providers equal git")
    else:
        journal.set_status("rollback-failed")
    return result


def _undo(actions: Actions, undo: Undo) -> None:
    if undo.kind == "start-server":
        actions.start_server(undo.target)
    elif undo.kind == "delete-nft-table" and undo.target.startswith(nft.TABLE_PREFIX):
        actions.nft_delete(undo.where, undo.target)  # a blackhole: here or on an SSH host
    elif undo.kind == "delete-nft-table":
        actions.delete_table(undo.target)  # the lab's drop method
    else:
        actions.restore_zone(undo.target)


def verify(actions: Actions, tables: list[tuple[str, str]]) -> list[str]:
    """What differs from the state in git: servers down, tables left (here or on SSH
    hosts), pending changes. ``tables``: (where, table) of every journaled nft table."""
    problems = []
    if actions.env.lab:
        problems += [f"lab server {s} is not answering" for s in actions.servers_down()]
    listed: dict[str, list[str]] = {}
    for where, table in tables:
        on = "" if where == LOCAL else f" on SSH vantage {where}"
        if not table.startswith(nft.TABLE_PREFIX):
            if actions.table_exists(table):
                problems.append(f"nftables table {table} still exists")
            continue
        try:
            if where not in listed:
                listed[where] = actions.nft_tables(where)
        except DnsopsError as exc:
            problems.append(f"nftables table {table}{on}: not verified: {exc.message}")
            continue
        if table in listed[where]:
            problems.append(f"nftables table {table} still exists{on}")
    try:
        problems += [f"pending change: {c}" for c in actions.pending()]
    except DnsopsError as exc:
        problems.append(exc.message)
    return problems


def rollback_unfinished(project: Project, hooks: Hooks, force: bool = False) -> RollbackResult:
    """``dnsops drill rollback``: finish what a dead (or aborted) drill left behind."""
    journal = Journal.load(project)
    if journal is None:
        return RollbackResult(verified=True)
    if journal.owner_alive() and not force:
        raise JournalError(
            f"the drill that wrote the journal still runs: {journal.describe()}",
            hint="stop it (it rolls back by itself on SIGTERM), or pass --force",
        )
    model = Env(project, journal.environment)
    actions = Actions(model)
    env_name = model.name
    with _lock(project, env_name, f"rollback {journal.scenario}"), signals_deferred():
        return execute_rollback(actions, journal, hooks)


# -- the run ---------------------------------------------------------------------


class Executor:
    def __init__(self, project: Project, scenario: Scenario, hooks: Hooks | None = None) -> None:
        self.project = project
        self.scenario = scenario
        self.hooks = hooks or Hooks()
        self.model = Env(project, scenario.environment)
        self.env_name, self.env = self.model.name, self.model.config
        self.actions = Actions(self.model)

    # -- dry run -----------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Each step and what it would change; nothing is changed (plans are read-only)."""
        out = []
        for i, step in enumerate(self.scenario.steps):
            out.append({"index": i, "kind": step.kind, "would": self._would(i)})
        return out

    def _would(self, index: int) -> list[str]:
        step = self.scenario.steps[index]
        if isinstance(step, ProviderOutage):
            method = self._method(step)
            if method == "stop":
                return [f"stop lab server {step.provider} for {step.duration:g} s, then start it"]
            if method == "drop":
                addrs = ", ".join(self.actions.provider_addresses(step.provider).values())
                return [f"drop DNS traffic to {addrs} with nftables for {step.duration:g} s"]
            if method == "blackhole":
                cut = list(self.actions.provider_addresses(step.provider).values())
                targets = self.actions.blackhole_targets(step.vantages)
                return self._would_rules(targets, cut, 1.0, step.duration)
            other = self._other(step.provider)
            return [
                f"isolation (no change): resolve every record only via {other}'s nameservers "
                f"and prove {other} alone serves the complete, correct zone"
            ]
        if isinstance(step, RegionalLoss):
            lossy = self._addresses(step.providers)
            targets = self.actions.blackhole_targets(region=step.region)
            return self._would_rules(targets, lossy, step.loss, step.duration)
        if isinstance(step, RecordFailover):
            new = self.actions.standby(step.zone, step.name, step.type, step.values)
            return self.actions.preview_record(step.zone, step.name, step.type, new) or [
                "nothing: the record already has its standby values"
            ]
        if isinstance(step, Failback):
            target = self.scenario.failback_target(index)
            return [f"sync {target.fqdn} {target.type} back to git on both providers"]
        if isinstance(step, CheckStep):
            return [f"check {c.check}" for c in step.checks]
        assert isinstance(step, Wait)
        return [f"wait {step.duration:g} s"]

    def _would_rules(
        self, targets: list[Blackholed], addrs: list[str], loss: float, duration: float
    ) -> list[str]:
        out = []
        for where, group in _by_where(targets).items():
            rules = [nft.Rule(t.source, tuple(addrs), loss) for t in group]
            lines = "; ".join(line for r in rules for line in nft.rule_lines(r))
            on = "this machine" if where == LOCAL else f"SSH vantage {where}"
            names = ", ".join(t.vantage for t in group)
            out.append(f"on {on} ({names}), for {duration:g} s, nftables input: {lines}")
        return out

    def _addresses(self, providers: list[str] | None) -> list[str]:
        addrs: list[str] = []
        for p in providers or self.env.providers:
            addrs += [a for a in self.actions.provider_addresses(p).values() if a not in addrs]
        return addrs

    def _method(self, step: ProviderOutage) -> str:
        if step.method == "auto":
            return "stop" if self.env.lab else "isolate"
        return step.method

    def _other(self, provider: str) -> str:
        return next(p for p in self.env.providers if p != provider)

    # -- preflight ---------------------------------------------------------------

    def preflight(self) -> list[CheckResult]:
        """No pending plan, steady state green (lab: every server answering). Else refuse."""
        results = []
        checks = list(self.scenario.steady_state)
        if self.env.lab and not any(isinstance(c, ServersCheck) for c in checks):
            checks.insert(0, ServersCheck(check="servers"))
        if not any(isinstance(c, InSyncCheck) for c in checks):
            checks.insert(0, InSyncCheck(check="in-sync"))
        for check in checks:
            self.hooks.say(f"preflight: {check.check}")
            results.append(self.actions.check(check))
        results += self._nft_reachable()
        failed = [r for r in results if not r.ok]
        if failed:
            lines = [f"{r.name}: {'; '.join(r.detail) or 'failed'}" for r in failed]
            hint = (
                "a plan is pending: sync (or revert) first, then drill"
                if any(r.name == "in-sync" for r in failed)
                else "the drill only starts from a green steady state"
            )
            raise PreflightError("preflight refused the drill:\n  " + "\n  ".join(lines), hint=hint)
        return results

    def _nft_reachable(self) -> list[CheckResult]:
        """Every machine a client-side fault will put rules on runs nft for us (an SSH
        host: reachable, nft there, sudo without a password if configured): else the
        step would fail half-way through the drill."""
        wheres: set[str] = set()
        for step in self.scenario.steps:
            if isinstance(step, ProviderOutage) and self._method(step) == "blackhole":
                wheres |= {t.where for t in self.actions.blackhole_targets(step.vantages)}
            elif isinstance(step, RegionalLoss):
                wheres |= {t.where for t in self.actions.blackhole_targets(region=step.region)}
        out = []
        for where in sorted(wheres):
            self.hooks.say(f"preflight: nft on {where}")
            try:
                self.actions.nft_tables(where)
            except DnsopsError as exc:
                out.append(CheckResult(f"nft on {where}", False, [exc.message]))
                continue
            out.append(CheckResult(f"nft on {where}", True))
        return out

    # -- the run ---------------------------------------------------------------------

    def run(self, *, baseline: float = 2.0) -> RunResult:
        """Preflight (locked), then every step under the guardrails, then rollback + verify.

        :raises PreflightError: the drill did not start (nothing was changed).
        :raises JournalError: an unfinished journal is in the way.
        :raises LockError: another dnsops run holds the environment.
        """
        existing = Journal.load(self.project)
        if existing is not None:
            raise JournalError(
                f"an unfinished drill journal exists: {existing.describe()}",
                hint="run `dnsops drill rollback` first (it undoes what that drill changed)",
            )
        run_id = new_run_id(self.scenario.name)
        with _lock(self.project, self.env_name, f"run {self.scenario.name}"):
            preflight = self.preflight()
            journal = Journal.start(
                self.project,
                run_id=run_id,
                scenario=self.scenario.name,
                environment=self.env_name,
            )
            return self._run(run_id, journal, preflight, baseline)

    def _run(
        self, run_id: str, journal: Journal, preflight: list[CheckResult], baseline: float
    ) -> RunResult:
        sc = self.scenario
        vantages = self.actions.vantages()
        remote = self._remote_vantages()
        names = [v.name for v in vantages] + [v.name for v in remote]
        t0 = time.monotonic()
        wall0 = time.time()
        machine = DrillMachine(sc, names, started=0.0, baseline=baseline)
        self._seed_expectations(machine)
        sampler = Sampler(
            vantages,
            self._probes(),
            rate=sc.probing.rate,
            timeout=sc.probing.timeout,
            streams=sc.probing.streams,
            t0=t0,
            attempts=sc.probing.attempts,
            remote=remote,
            until=sc.max_duration + ROLLBACK_ALLOWANCE,
        )
        self.machine, self.sampler, self.journal = machine, sampler, journal
        self.extras: dict[int, dict[str, Any]] = {}
        error = None
        sampler.start()
        try:
            with _signals_raise():
                self._wait("steady-state baseline", baseline)
                while (i := machine.next_step()) is not None:
                    self._step(i)
        except Aborted as exc:
            self.hooks.say(f"[abort] {exc.decision.reason}")
        except (KeyboardInterrupt, Interrupted) as exc:
            name = str(exc) or "SIGINT"
            machine.abort("interrupted", f"interrupted by {name}")
            self.hooks.say(f"[abort] interrupted by {name}: rolling back")
        except DnsopsError as exc:
            error = exc.message
            machine.abort("error", exc.message)
            self.hooks.say(f"[abort] {exc.message}")
        finally:
            self.hooks.done_ticking()
            if machine.current is not None:
                machine.step_finished(sampler.now(), False, why="interrupted by the abort")
            # keep sampling through the rollback: the report shows the recovery too
            with signals_deferred():
                rollback = execute_rollback(self.actions, journal, self.hooks)
            sampler.stop()
        return RunResult(
            run_id=run_id,
            scenario=sc,
            environment=self.env_name,
            lab=self.env.lab,
            started_wall=wall0,
            ended_wall=time.time(),
            machine=machine,
            samples=sampler.snapshot(),
            vantages=names,
            preflight=preflight,
            rollback=rollback,
            step_extras=self.extras,
            error=error,
        )

    def _remote_vantages(self) -> list[SshVantage]:
        """The SSH vantages sampled alongside the resolvers: those named in
        ``probing.vantages``, else every SSH vantage asking a resolver of its own."""
        wanted = self.scenario.probing.vantages
        engine = Engine(
            timeout=self.scenario.probing.timeout, retries=self.scenario.probing.attempts - 1
        )
        out = []
        for cfg in self.env.all_vantages:
            if not isinstance(cfg, SshConfig) or cfg.resolver is None:
                continue
            if wanted is not None and cfg.name not in wanted:
                continue
            out.append(SshVantage(cfg, self.project.root, engine))
        return out

    # -- probes and expectations -----------------------------------------------------

    def _zones_involved(self) -> list[str]:
        zones: list[str] = []
        for step in self.scenario.steps:
            if isinstance(step, RecordFailover):
                zones.append(step.zone)
            elif isinstance(step, ProviderOutage):
                zones += step.zones or []
        return sorted(set(zones)) or sorted(self.actions.git_zones())

    def _record_probes(self) -> list[tuple[str, str]]:
        out = [
            (s.fqdn, s.type.upper()) for s in self.scenario.steps if isinstance(s, RecordFailover)
        ]
        checks = list(self.scenario.steady_state)
        checks += [c for s in self.scenario.steps if isinstance(s, CheckStep) for c in s.checks]
        out += [(c.name, c.type.upper()) for c in checks if isinstance(c, ResolutionCheck)]
        return sorted(set(out))

    def _probes(self) -> list[Probe]:
        probes = [Probe.cache_busting(z) for z in self._zones_involved()]
        probes += [Probe.record(fqdn, rtype) for fqdn, rtype in self._record_probes()]
        return probes

    def _seed_expectations(self, machine: DrillMachine) -> None:
        zones = self.actions.git_zones()
        for fqdn, rtype in self._record_probes():
            zone = next((z for z in sorted(zones, key=len, reverse=True) if fqdn.endswith(z)), None)
            if zone is None:
                continue
            label = fqdn[: -len(zone)].rstrip(".")
            values = record_values(find_record(zones[zone], label, rtype))
            machine.expectations[measure.probe_key(fqdn, rtype)] = Expectation(values, values)

    # -- stepping ------------------------------------------------------------------

    def _wait(self, label: str, seconds: float) -> None:
        end = self.sampler.now() + seconds
        while (now := self.sampler.now()) < end:
            self._guard(now)
            self.hooks.tick(label, now - (end - seconds), seconds)
            time.sleep(TICK)

    def _guard(self, now: float) -> Decision:
        if self.sampler.problems:
            lost = "; ".join(f"{v}: {p}" for v, p in sorted(self.sampler.problems.items()))
            raise Aborted(self.machine.abort("error", f"sampling through SSH stopped: {lost}"))
        decision = self.machine.decide(now, self.sampler.snapshot())
        if decision.verb == "abort":
            assert decision.cause is not None
            raise Aborted(self.machine.abort(decision.cause, decision.reason))
        return decision

    def _until_finished(self, label: str, total: float | None) -> None:
        start = self.sampler.now()
        while True:
            now = self.sampler.now()
            if self._guard(now).verb == "finish-step":
                return
            self.hooks.tick(label, now - start, total)
            time.sleep(TICK)

    def _step(self, i: int) -> None:
        step = self.scenario.steps[i]
        now = self.sampler.now()
        self.machine.step_started(i, now)
        self.hooks.say(f"step {i + 1}/{len(self.scenario.steps)}: {step.kind}")
        extra = self.extras.setdefault(i, {})
        if isinstance(step, ProviderOutage) and self._method(step) == "blackhole":
            extra.update(method="blackhole", provider=step.provider)
            addrs = list(self.actions.provider_addresses(step.provider).values())
            targets = self.actions.blackhole_targets(step.vantages)
            ok, why = self._client_fault(
                f"{step.provider} blackhole", targets, addrs, 1.0, step.duration, extra
            )
        elif isinstance(step, ProviderOutage):
            ok, why = self._outage(step, extra)
        elif isinstance(step, RegionalLoss):
            providers = step.providers or list(self.env.providers)
            extra.update(region=step.region, loss=step.loss, providers=providers)
            targets = self.actions.blackhole_targets(region=step.region)
            addrs = self._addresses(providers)
            label = f"{step.region} loses {step.loss:.0%}"
            ok, why = self._client_fault(label, targets, addrs, step.loss, step.duration, extra)
        elif isinstance(step, RecordFailover):
            ok, why = self._failover(i, step, extra)
        elif isinstance(step, Failback):
            ok, why = self._failback(i, step, extra)
        elif isinstance(step, CheckStep):
            results = [self.actions.check(c) for c in step.checks]
            extra["checks"] = [r.to_json() for r in results]
            bad = [f"{r.name}: {'; '.join(r.detail)}" for r in results if not r.ok]
            ok, why = not bad, "; ".join(bad)
        else:
            self._until_finished(f"wait {step.duration:g} s", step.duration)
            ok, why = True, ""
        self.machine.step_finished(self.sampler.now(), ok, why=why)
        if not ok and isinstance(step, CheckStep):
            raise Aborted(self.machine.abort("check", f"step {i + 1} (check): {why}"))

    def _client_fault(
        self,
        label: str,
        targets: list[Blackholed],
        addrs: list[str],
        loss: float,
        duration: float,
        extra: dict[str, Any],
    ) -> tuple[bool, str]:
        """nftables rules on the vantages' own resolvers (a table per machine, journaled
        before it is added), for ``duration``; then removed and measured per region."""
        applied: list[tuple[int, str, str]] = []
        extra["blackholed"] = []
        extra["addresses"] = addrs
        groups = _by_where(targets)
        extra["fault_at"] = self.sampler.now()
        for where, group in groups.items():
            table = nft.new_table()
            rules = [
                nft.Rule(t.source, tuple(addrs), loss, f"dnsops drill {t.vantage}: {label}")
                for t in group
            ]
            script = nft.add_script(table, rules)
            seq = self.journal.intend(
                "drop-traffic",
                table=table,
                where=where,
                vantages=[t.vantage for t in group],
                addresses=addrs,
                loss=loss,
                rules=script,
            )
            applied.append((seq, where, table))
            self.actions.nft_add(where, script)
            self.journal.mark(seq, "done")
            on = "here" if where == LOCAL else f"on {where}"
            self.hooks.say(
                f"{label}: nftables {table} {on} ({', '.join(t.vantage for t in group)})"
            )
            extra["blackholed"] += [
                {"vantage": t.vantage, "region": t.region, "where": where, "table": table,
                 "source": t.source}
                for t in group
            ]  # fmt: skip
        extra["in_place_at"] = self.sampler.now()  # every table added (SSH takes a moment)
        self._until_finished(label, duration)
        extra["restore_at"] = self.sampler.now()
        self.hooks.say(f"{label}: removing the rules")
        for seq, where, table in applied:
            self.actions.nft_delete(where, table)
            self.journal.mark(seq, "undone")
        extra["restored_at"] = self.sampler.now()
        return self._judge_fault(targets, extra)

    def _judge_fault(self, targets: list[Blackholed], extra: dict[str, Any]) -> tuple[bool, str]:
        """Per vantage and per region, from the samples of the fault window."""
        samples = self.sampler.snapshot()
        window = (extra["fault_at"], extra["restore_at"])
        impact = measure.outage_impact(samples, self.machine.expectations, (0.0, window[0]), window)
        extra["impact"] = [x.to_json() for x in impact]
        regions = self._regions()
        # per region from the moment every rule is in place: adding them (a process
        # spawned, an SSH session) can stall this process's own probes for a moment
        extra["regions"] = region_impact(
            samples,
            self.machine.expectations,
            {v: r for v, r in regions.items() if v in self.machine.vantages},
            {t.region for t in targets},
            (0.0, window[0]),
            (extra.get("in_place_at", window[0]), window[1]),
        )
        low = [x for x in impact if x.success_fraction < self.scenario.expect_success]
        why = ", ".join(f"{x.vantage} {x.success_fraction:.1%}" for x in low)
        return not low, f"resolution success fell to {why}" if low else ""

    def _regions(self) -> dict[str, str]:
        return {v.name: v.region for v in self.env.all_vantages}

    def _outage(self, step: ProviderOutage, extra: dict[str, Any]) -> tuple[bool, str]:
        method = self._method(step)
        extra.update(method=method, provider=step.provider)
        if method == "isolate":
            other = self._other(step.provider)
            ns = step.nameservers or self.actions.provider_addresses(other)
            self.hooks.say(f"isolation of {step.provider}: asking only {other} ({', '.join(ns)})")
            iso = self.actions.isolation(other, ns, step.zones)
            extra["isolation"] = iso.to_json()
            return iso.ok, "; ".join(iso.problems[:5]) or (
                "" if iso.ok else "no record was checked"
            )
        if method == "stop":
            seq = self.journal.intend("stop-server", server=step.provider, provider=step.provider)
            extra["fault_at"] = self.sampler.now()
            self.actions.stop_server(step.provider)
            self.journal.mark(seq, "done")
            self.hooks.say(f"lab server {step.provider} stopped")
            undo: Callable[[], None] = lambda: self.actions.start_server(step.provider)  # noqa: E731
        else:
            table = self.actions.nft_table(step.provider)
            addrs = list(self.actions.provider_addresses(step.provider).values())
            seq = self.journal.intend("drop-traffic", table=table, addresses=addrs)
            extra["fault_at"] = self.sampler.now()
            self.actions.drop_traffic(table, addrs)
            self.journal.mark(seq, "done")
            self.hooks.say(f"dropping DNS traffic to {', '.join(addrs)} (nftables {table})")
            undo = lambda: self.actions.delete_table(table)  # noqa: E731
        self._until_finished(f"{step.provider} {method} outage", step.duration)
        extra["restore_at"] = self.sampler.now()
        self.hooks.say(f"restoring {step.provider}")
        undo()
        self.journal.mark(seq, "undone")
        extra["restored_at"] = self.sampler.now()
        return True, ""  # judged from the samples when the report is built

    def _change(
        self,
        i: int,
        label: str,
        zone: str,
        name: str,
        rtype: str,
        old: frozenset[str],
        new: frozenset[str],
        margin: float | None,
        timeout: float | None,
        mode: PrimeMode,
        act: Callable[[], list[str]],
        extra: dict[str, Any],
    ) -> tuple[bool, str]:
        fqdn = f"{name}.{zone}" if name else zone
        probe = Probe.record(fqdn, rtype)
        record = find_record(self.actions.git_zones(zone)[zone], name, rtype)
        ttl = int(record.ttl)
        margin = self.scenario.abort.margin if margin is None else margin
        held_from = self.sampler.now()
        prime_note = self._cannot_prime(ttl, margin, timeout, mode)
        if prime_note:
            # it cannot pass anyway: don't spend the drill's time waiting for the caches
            self.hooks.say(f"{fqdn} {rtype}: {prime_note}")
            primed_at = {v.name: self.sampler.now() for v in self.population()}
            primed = prime(self.population(), probe, self.scenario.probing.timeout)
        else:
            primed, primed_at = self._prime(label, probe, ttl, mode)
        change_at = self.sampler.now()
        extra.update(
            record=f"{fqdn} {rtype}",
            ttl=ttl,
            margin=margin,
            old=sorted(old),
            new=sorted(new),
            prime="none" if prime_note else mode,
            prime_note=prime_note,
            primed=primed,
            # from then on nothing asked the record until each member's priming query,
            # seconds before the change
            held_from=held_from,
            primed_before={v: round(change_at - t, 3) for v, t in primed_at.items()},
            change_at=change_at,
        )
        extra["changes"] = act()
        applied_at = self.sampler.now()
        extra["applied_at"] = applied_at
        window = ChangeWindow(
            probe=probe.key,
            expect=Expectation(old, new),
            ttl=ttl,
            margin=margin,
            change_at=change_at,
            applied_at=applied_at,
            deadline=self.machine.deadline(change_at, ttl, margin, timeout),
        )
        self.machine.change_applied(window)
        extra["deadline"] = window.deadline
        self._until_finished(f"{label} {fqdn}: converging", window.deadline - change_at)
        extra["converged_at"] = self.sampler.now()
        return True, ""

    def population(self) -> list[Vantage]:
        """The vantages whose caches are primed before a change: the resolvers the
        sampler asks from here (in the lab, one unbound per region).

        SSH vantages are sampled over their own streaming sessions and count in the
        population's distribution (RunResult.vantages, dnsops.drill.measure.population),
        but their streams ask without pause, so their caches are filled when the stream
        starts, not on this schedule. RIPE Atlas probes cannot be sampled at this rate
        and are not part of it.
        """
        return list(self.sampler.vantages)

    def _cannot_prime(self, ttl: int, margin: float, timeout: float | None, mode: PrimeMode) -> str:
        """Why the population cannot be primed for this change (empty: it can): the wait
        for the caches plus TTL + margin does not fit before the drill's deadline."""
        need = ttl + margin
        if timeout is not None and timeout < need:
            return (
                f"not primed: the step's timeout ({timeout:g} s) comes before TTL {ttl} s + "
                f"margin {margin:g} s; the caches are asked once, now"
            )
        schedule = measure.prime_schedule([v.name for v in self.population()], ttl, mode)
        wait = ttl + measure.CACHE_SLACK + max(schedule.values(), default=0.0)
        left = self.scenario.max_duration - self.sampler.now()
        if wait + need > left:
            return (
                f"not primed: waiting for the caches ({wait:g} s) and TTL + margin "
                f"({need:g} s) do not fit in the {left:.0f} s left of max_duration; the "
                "caches are asked once, now"
            )
        return ""

    def _prime(
        self, label: str, probe: Probe, ttl: int, mode: PrimeMode
    ) -> tuple[dict[str, str | None], dict[str, float]]:
        """Fill each member's cache at its scheduled moment before the change.

        First nothing asks the record through the population for TTL + CACHE_SLACK, so
        every cache has dropped it (whoever filled it last); then each member is asked
        once at its moment (``measure.prime_schedule``) and sampled again from there on:
        its cache now expires at a known offset from the change. Returns vantage ->
        rcode of its priming answer, and vantage -> when it was asked (sampler time).
        """
        members = self.population()
        schedule = measure.prime_schedule([v.name for v in members], ttl, mode)
        lead = max(schedule.values(), default=0.0)
        self.sampler.hold(probe.key, [v.name for v in members])
        rcodes: dict[str, str | None] = {}
        at: dict[str, float] = {}
        try:
            start = self.sampler.now()
            change_at = start + ttl + measure.CACHE_SLACK + lead
            self.hooks.say(
                f"priming {len(members)} caches with {probe.key} ({mode}, {ttl} s TTL): "
                f"the change begins in {change_at - start:.1f} s"
            )
            for offset in sorted(set(schedule.values()), reverse=True):
                group = [v for v in members if schedule[v.name] == offset]
                self._wait_until(f"{label}: priming caches", change_at - offset, start, change_at)
                asked = self.sampler.now()
                rcodes.update(prime(group, probe, self.scenario.probing.timeout))
                at.update({v.name: asked for v in group})
                self.sampler.release(probe.key, [v.name for v in group])
        finally:
            self.sampler.release(probe.key)
        return rcodes, at

    def _wait_until(self, label: str, until: float, start: float, end: float) -> None:
        while (now := self.sampler.now()) < until:
            self._guard(now)
            self.hooks.tick(label, now - start, end - start)
            time.sleep(min(TICK, max(0.0, until - now)))

    def _failover(self, i: int, step: RecordFailover, extra: dict[str, Any]) -> tuple[bool, str]:
        git = self.actions.git_zones(step.zone)[step.zone]
        old = record_values(find_record(git, step.name, step.type))
        new = self.actions.standby(step.zone, step.name, step.type, step.values)
        if new == old:
            raise DnsopsError(
                f"{step.fqdn} {step.type}: the standby values equal the values in git"
            )

        def act() -> list[str]:
            seq = self.journal.intend(
                "change-record",
                zone=step.zone,
                name=step.name,
                type=step.type.upper(),
                values=sorted(new),
            )
            changes = self.actions.change_record(step.zone, step.name, step.type, new)
            self.journal.mark(seq, "done")
            self.hooks.say(f"switched {step.fqdn} {step.type} to {', '.join(sorted(new))}")
            return changes

        return self._change(
            i, "failover", step.zone, step.name, step.type.upper(), old, new,
            step.margin, step.timeout, step.prime, act, extra,
        )  # fmt: skip

    def _failback(self, i: int, step: Failback, extra: dict[str, Any]) -> tuple[bool, str]:
        target = self.scenario.failback_target(i)
        git = self.actions.git_zones(target.zone)[target.zone]
        home = record_values(find_record(git, target.name, target.type))
        standby = self.actions.standby(target.zone, target.name, target.type, target.values)

        def act() -> list[str]:
            seq = self.journal.intend(
                "restore-record", zone=target.zone, name=target.name, type=target.type.upper()
            )
            changes = self.actions.restore_zone(target.zone)
            # the failover's change is undone too: git is what both providers serve now
            earlier = tuple(
                a["seq"]
                for a in self.journal.actions
                if a["kind"] == "change-record" and a["zone"] == target.zone
            )
            self.journal.mark((seq, *earlier), "undone")
            self.hooks.say(f"failed back {target.fqdn} {target.type} to git")
            return changes

        return self._change(
            i, "failback", target.zone, target.name, target.type.upper(), standby, home,
            step.margin, step.timeout, step.prime, act, extra,
        )  # fmt: skip
