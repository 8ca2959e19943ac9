"""The I/O of each drill action: servers, nftables, record changes through octoDNS, checks.

Each method does one thing to the world and returns what it saw; the
executor decides when, and the journal records it first. Record changes go
through the same octoDNS path as ``dnsops sync`` (desired zone -> plan ->
octoDNS's guards -> apply), only with a modified desired zone.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from octodns.zone import Zone

from dnsops.config import Resolver
from dnsops.config import SshVantage as SshConfig
from dnsops.drill import nft
from dnsops.drill.journal import LOCAL
from dnsops.drill.model import (
    Check,
    InSyncCheck,
    ResolutionCheck,
    ServersCheck,
    ZoneCheck,
    blackholable,
)
from dnsops.drill.sampler import Vantage, ask_all
from dnsops.drill.values import canonical, find_record, record_values
from dnsops.env import Env
from dnsops.errors import ConfigError, LabError, ProviderError
from dnsops.probe import Engine, Query, Target
from dnsops.sync import core
from dnsops.sync import run as sync_run
from dnsops.sync.model import Change
from dnsops.vantage import registry
from dnsops.vantage.ssh import nft_command, run_remote
from dnsops.zones import dnsops_meta

Progress = Callable[[str], None]


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Isolation:
    """Does one provider alone serve the complete, correct zone(s)?"""

    provider: str
    nameservers: dict[str, str]  # name -> address
    records: int = 0  # records checked per nameserver
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.records > 0 and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "nameservers": self.nameservers,
            "records_checked": self.records,
            "complete_and_correct": self.ok,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class Blackholed:
    """A vantage whose resolver a drill cuts off: where its rule goes, what it matches."""

    vantage: str
    region: str
    where: str  # "local" (this machine) or the SSH vantage whose host runs the resolver
    source: str | None  # the resolver's source address (None: any address of the host)


def _ssh_budget(cfg: SshConfig) -> float:
    return cfg.connect_timeout + 30.0


def _describe(provider: str, change: Change) -> str:
    return f"{provider}: {change.action} {change.name} {change.type}"


class Actions:
    def __init__(self, model: Env) -> None:
        self.model = model
        self.project = model.project
        self.env_name = model.name
        self.env = model.config
        self._lab: Any = None

    # -- the world as git wants it --------------------------------------------

    def git_zones(self, only: str | None = None) -> dict[str, Zone]:
        """The zones in git (loaded once per drill by the environment model)."""
        return self.model.zones(only)

    @property
    def providers(self) -> dict[str, Any]:
        return self.model.targets

    def redact(self, text: str) -> str:
        """Provider errors may quote a secret: never let one through."""
        return self.model.redact(text)

    def vantages(self) -> list[Vantage]:
        return [Vantage(r.name, r.address, r.port) for r in self.env.resolvers]

    def standby(self, zone: str, name: str, rtype: str, values: list[str] | None) -> frozenset[str]:
        """The values a failover switches to: the scenario's, else the record's dnsops.standby."""
        record = find_record(self.git_zones(zone)[zone], name, rtype)
        if values is None:
            meta = dnsops_meta(record).get("standby")
            if not meta:
                raise ConfigError(
                    f"{record.fqdn} {rtype}: no standby values (declare `values:` in the step or "
                    "`octodns: {dnsops: {standby: [...]}}` on the record)"
                )
            values = [str(v) for v in meta]
        return canonical(rtype, values)

    # -- plans ---------------------------------------------------------------

    def _plan(self, zones: dict[str, Zone]) -> core.Planned:
        """Both providers planned through the sync path (octoDNS per provider)."""
        planned = sync_run.plan(self.model, zones, self.providers)
        if planned.failed:
            raise ProviderError(
                "planning failed: " + "; ".join(f"{p}: {why}" for p, why in planned.failed.items())
            )
        return planned

    @staticmethod
    def _changes(planned: core.Planned) -> list[str]:
        return [_describe(p.provider, c) for p in planned.plans for c in p.changes]

    def pending(self) -> list[str]:
        """What a sync would change now (empty: both providers equal git)."""
        return self._changes(self._plan(self.git_zones()))

    def _apply(self, planned: core.Planned) -> None:
        """Apply with octoDNS's guards; any provider's failure is an error."""
        failed = [
            f"{a.provider}: {a.error}"
            for a in core.apply(planned, self.providers, redact=self.redact)
            if a.error is not None
        ]
        if failed:
            raise ProviderError("apply failed: " + "; ".join(failed))

    def _desired(self, zone: str, name: str, rtype: str, values: frozenset[str]) -> Zone:
        git = self.git_zones(zone)[zone]
        record = find_record(git, name, rtype)
        desired = git.copy()
        desired.add_record(record.copy(values=sorted(values), lenient=False), replace=True)
        return desired

    def preview_record(self, zone: str, name: str, rtype: str, values: frozenset[str]) -> list[str]:
        """Dry run: what switching the record would change on each provider."""
        return self._changes(self._plan({zone: self._desired(zone, name, rtype, values)}))

    def change_record(self, zone: str, name: str, rtype: str, values: frozenset[str]) -> list[str]:
        """Switch one record on both providers; refuses if anything else would change."""
        planned = self._plan({zone: self._desired(zone, name, rtype, values)})
        changes = self._changes(planned)
        fqdn = f"{name}.{zone}" if name else zone
        others = [c for c in changes if not c.endswith(f" {fqdn} {rtype}")]
        if others:
            raise ProviderError(
                "the failover plan would change more than the record: " + "; ".join(others),
                hint="the providers differ from git: run `dnsops plan` and sync first",
            )
        self._apply(planned)
        return changes

    def restore_zone(self, zone: str) -> list[str]:
        """Sync one zone from git to both providers (the failback and the rollback)."""
        planned = self._plan(self.git_zones(zone))
        changes = self._changes(planned)
        if changes:
            self._apply(planned)
        return changes

    # -- lab servers and traffic -----------------------------------------------

    def _runner(self) -> Any:
        if not self.env.lab:
            raise LabError(f"environment {self.env_name!r} is not a lab: no server to stop")
        from dnsops.lab.runner import LabRunner

        if self._lab is None:
            self._lab = LabRunner(self.project, self.model)
        return self._lab

    def stop_server(self, server: str) -> None:
        self._runner().down([server])

    def start_server(self, server: str) -> None:
        self._runner().up([server])

    def servers_down(self) -> list[str]:
        return [s.name for s in self._runner().status() if not (s.running and s.answers)]

    def provider_addresses(self, provider: str) -> dict[str, str]:
        """The provider's nameservers (name -> address) over every zone, as the
        environment model discovered them (the same in the lab and in production)."""
        facts = self.model.facts(self.model.zone_names)
        out = {s.name: s.address for f in facts.values() for s in f.servers(provider)}
        if not out:
            problems = sorted({p for f in facts.values() for p in f.providers[provider].problems})
            raise ConfigError(
                f"environment {self.env_name!r}: no nameserver of {provider} is known"
                + (f" ({'; '.join(problems)})" if problems else ""),
                hint=f"pin them: dnsops.yaml environments.{self.env_name}.nameservers.{provider}",
            )
        return dict(sorted(out.items()))

    def nft_table(self, provider: str) -> str:
        first = next(iter(self.provider_addresses(provider).values()))
        return "dnsops_drill_" + first.replace(".", "_")

    def drop_traffic(self, table: str, addresses: Sequence[str]) -> None:
        """Black-hole DNS to ``addresses`` (input hook: no ICMP, senders time out)."""
        self._runner()  # lab only
        script = (
            f"table inet {table} {{\n"
            "  chain input {\n    type filter hook input priority -10; policy accept;\n"
            f"    ip daddr {{ {', '.join(addresses)} }} meta l4proto {{ udp, tcp }} "
            "th dport 53 drop\n  }\n}\n"
        )
        res = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
        if res.returncode != 0:
            raise LabError(f"nft could not add table {table}: {res.stderr.strip()}")

    @staticmethod
    def delete_table(table: str) -> None:
        res = subprocess.run(
            ["nft", "delete", "table", "inet", table], capture_output=True, text=True
        )
        if res.returncode != 0 and "No such file" not in res.stderr:
            raise LabError(f"nft could not delete table {table}: {res.stderr.strip()}")

    @staticmethod
    def table_exists(table: str) -> bool:
        res = subprocess.run(["nft", "list", "table", "inet", table], capture_output=True)
        return res.returncode == 0

    # -- client-side faults: nftables on the vantages' own resolvers --------------

    def blackhole_targets(
        self, names: Sequence[str] | None = None, region: str | None = None
    ) -> list[Blackholed]:
        """The vantages whose resolvers a drill cuts off (all that can be, or ``names``,
        or those of ``region``), each with where its rule goes and what it matches."""
        able = set(blackholable(self.env))
        out = []
        for v in self.env.all_vantages:
            if v.name not in able or (names is not None and v.name not in names):
                continue
            if region is not None and v.region != region:
                continue
            if isinstance(v, Resolver):  # a lab resolver: sends from its own address
                out.append(Blackholed(v.name, v.region, LOCAL, v.address))
            elif isinstance(v, SshConfig) and v.blackhole is not None:
                out.append(Blackholed(v.name, v.region, v.name, v.blackhole.source))
        if not out:
            which = f"region {region}" if region else ", ".join(names or []) or "any vantage"
            raise ConfigError(f"{which}: no vantage whose resolver can be blackholed")
        return out

    def _ssh(self, where: str) -> SshConfig:
        for v in self.env.all_vantages:
            if v.name == where and isinstance(v, SshConfig):
                return v
        raise ConfigError(
            f"environment {self.env_name!r} has no SSH vantage {where!r} (the journal names it)",
            hint="restore it in dnsops.yaml, or remove the table on that host by hand",
        )

    def _nft(self, where: str, script: str, what: str) -> None:
        if where == LOCAL:
            res = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
            code, err = res.returncode, res.stderr
        else:
            cfg = self._ssh(where)
            cmd = [*nft_command(cfg), "-f", "-"]
            code, _out, err = run_remote(cfg, self.project.root, cmd, script, _ssh_budget(cfg))
        if code != 0:
            on = "" if where == LOCAL else f" on {where} (ssh {self._ssh(where).host})"
            raise LabError(f"nft could not {what}{on}: {' '.join(err.split())[-400:]}")

    def nft_add(self, where: str, script: str) -> None:
        """Create a table with its rules (``nft -f -``: all or nothing), here or on a host."""
        self._nft(where, script, "add the rules")

    def nft_delete(self, where: str, table: str) -> None:
        """Remove a drill table; removing one that is not there is fine (idempotent)."""
        self._nft(where, nft.delete_script(table), f"delete table {table}")

    def nft_tables(self, where: str) -> list[str]:
        """The inet tables on the machine (``nft list tables``).

        :raises LabError: nft (or the SSH session) failed: nothing could be verified.
        """
        if where == LOCAL:
            res = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True)
            code, out, err = res.returncode, res.stdout, res.stderr
        else:
            cfg = self._ssh(where)
            cmd = [*nft_command(cfg), "list", "tables"]
            code, out, err = run_remote(cfg, self.project.root, cmd, "", _ssh_budget(cfg))
        if code != 0:
            raise LabError(f"nft list tables failed on {where}: {' '.join(err.split())[-400:]}")
        return [f[2] for line in out.splitlines() if len(f := line.split()) == 3 and f[1] == "inet"]

    # -- isolation: the other provider alone ------------------------------------

    def isolation(
        self, remaining: str, nameservers: dict[str, str], zones: list[str] | None
    ) -> Isolation:
        """Ask every record of the zones of every nameserver of ``remaining`` (no recursion)."""
        git = self.git_zones()
        wanted = zones or sorted(git)
        result = Isolation(remaining, nameservers)
        jobs = []
        for zname in wanted:
            if zname not in git:
                result.problems.append(f"zone {zname} is not in git")
                continue
            for record in sorted(git[zname].records, key=lambda r: (r.name, r._type)):
                jobs.append(record)
        result.records = len(jobs)

        queries = [
            Query.make(Target(addr, 53, ns), rec.fqdn, rec._type, rd=False, key=i)
            for ns, addr in nameservers.items()
            for i, rec in enumerate(jobs)
        ]
        for r in asyncio.run(Engine(timeout=2.0, retries=1).run(queries)):
            rec = jobs[int(str(r.query.key))]
            where = f"{r.query.target}: {rec.fqdn} {rec._type}"
            if r.rcode is None:
                result.problems.append(f"{where}: no answer ({r.error})")
                continue
            _ttl, served = r.served()
            if r.rcode_text != "NOERROR" or frozenset(served) != record_values(rec):
                result.problems.append(f"{where}: served {', '.join(served) or r.rcode_text}")
        return result

    # -- checks ------------------------------------------------------------------

    def check(self, check: Check) -> CheckResult:
        if isinstance(check, ResolutionCheck):
            return self._resolution(check)
        if isinstance(check, ServersCheck):
            if not self.env.lab:
                return CheckResult("servers", True, ["not a lab: nothing to check"])
            down = self.servers_down()
            return CheckResult("servers", not down, [f"{s}: not answering" for s in down])
        if isinstance(check, ZoneCheck):
            return self._zone(check)
        assert isinstance(check, InSyncCheck)
        pending = self.pending()
        return CheckResult("in-sync", not pending, pending)

    def _resolution(self, check: ResolutionCheck) -> CheckResult:
        zones = self.git_zones()
        by_length = sorted(zones, key=len, reverse=True)
        zone = next((z for z in by_length if check.name.endswith(z)), None)
        if zone is None:
            raise ConfigError(f"check resolution: {check.name} is in no zone in git")
        label = check.name[: -len(zone)].rstrip(".")
        want = record_values(find_record(zones[zone], label, check.type))
        vantages = self.vantages()

        answers = asyncio.run(ask_all([(v, check.name, check.type) for v in vantages], 2.0, 2))
        problems = []
        for v, a in zip(vantages, answers, strict=True):
            if a.rcode != "NOERROR" or frozenset(a.values) != want:
                got = a.rcode or f"no answer ({a.error})"
                problems.append(f"{v.name}: {got} {' '.join(a.values)}".rstrip())
        if check.vantages:
            problems += self._remote_resolution(check, want)
        name = f"resolution {check.name} {check.type}"
        return CheckResult(name, not problems, problems)

    def _remote_resolution(self, check: ResolutionCheck, want: frozenset[str]) -> list[str]:
        """The same question through the named vantages of dnsops.yaml (SSH hosts, Atlas)."""
        chosen = registry.build(self.project, self.env, check.vantages)
        work = {
            v: [Query.make(v.resolver, check.name, check.type, rd=True)]
            for v in chosen
            if v.resolver is not None
        }
        problems = [f"{v.name}: asks no resolver" for v in chosen if v.resolver is None]
        for run in registry.gather(work):
            who = f"{run.vantage} ({run.kind}, {run.region})"
            if run.problem is not None:
                problems.append(f"{who}: {run.problem}")
                continue
            for o in run.observations:
                r = o.result
                _ttl, served = r.served()
                if r.rcode_text != "NOERROR" or frozenset(served) != want:
                    where = f" {o.origin.host}" if o.origin.host else ""
                    got = r.error or r.rcode_text
                    problems.append(f"{who}{where}: {got} {' '.join(served)}".rstrip())
        return problems

    def _zone(self, check: ZoneCheck) -> CheckResult:
        problems = []
        records = 0
        for provider in self.env.providers:
            iso = self.isolation(provider, self.provider_addresses(provider), [check.zone])
            problems += iso.problems
            records = iso.records
        return CheckResult(f"zone {check.zone} ({records} records)", not problems, problems)
