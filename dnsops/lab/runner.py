"""Start, stop and inspect the lab's servers. Every process is tracked by PID.

``up`` is idempotent (servers already running keep running), waits until
every server answers DNS, and fails naming the server and the last lines of its
log. On servers already running it reconciles the zones: BIND servers (root,
parent, the bind provider) whose rendered files changed get them written and a
SIGHUP (named reloads its config and zones); PowerDNS gets zones added since the
last ``up`` created, and zones the lab created deleted, through its HTTP API.
``down`` stops only PIDs it recorded, after checking that the PID still runs the
command dnsops started (a recycled PID is never signalled).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as pysecrets
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import dns.rcode

from dnsops.config import LabProvider, Project
from dnsops.env import Env
from dnsops.errors import LabError
from dnsops.lab.environ import Secrets, lab_environ
from dnsops.lab.render import (
    PDNS_SCHEMA,
    ServerSpec,
    ZoneSeed,
    delegated,
    next_serial,
    soa_serial,
    specs,
    with_serial,
)
from dnsops.probe import Engine, Query, Result, Target, probe

INSTALL = (
    "apt-get install -y pdns-server pdns-backend-sqlite3 bind9 bind9-utils unbound dnsutils "
    "iproute2"
)
PACKAGES = {
    "pdns_server": "pdns-server",
    "named": "bind9",
    "unbound": "unbound",
    "ip": "iproute2",
}
CAP_NET_BIND_SERVICE = 10
CAP_NET_ADMIN = 12

Progress = Callable[[str], None]
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class ServerStatus:
    name: str
    role: str
    addresses: list[str]
    pid: int | None
    running: bool
    answers: bool
    rcode: str | None
    region: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Reloaded:
    """What a reloaded BIND server must answer before ``up`` returns."""

    server: str
    home: Path
    address: str
    zone: str
    present: bool  # False: the zone was removed and must no longer be served
    serial: int | None = None  # the SOA serial just written (root, parent)


class LabRunner:
    def __init__(
        self, project: Project, model: Env | None = None, bind_options: tuple[str, ...] = ()
    ) -> None:
        self.project = project
        # added to the BIND provider's options (render.specs): a test's lower quotas
        self.bind_options = bind_options
        self.lab = project.lab
        self.env_name, self.env = project.lab_environment()
        # the lab environment's model (the caller's when it has one): zones loaded once
        if model is not None and model.name != self.env_name:
            model = None
        self.model = model or Env(project, self.env_name)
        self.state = project.state_dir / "lab"
        # Popen objects of servers this process started: kept so they can be reaped
        # (and are not garbage-collected while the server runs on after us)
        self._children = _CHILDREN
        # what the lab could not do with the zones (e.g. a zone without apex NS): each
        # problem once, for the CLI to print as a warning; the rest of the lab works on
        self.problems: list[str] = []
        self._source_zones: set[str] = set()  # every zone of the source, seeded or not

    # -- state files -------------------------------------------------------

    @property
    def _procs_file(self) -> Path:
        return self.state / "processes.json"

    @property
    def _addrs_file(self) -> Path:
        return self.state / "addresses.json"

    @property
    def _zones_file(self) -> Path:
        """Per server, the zones it was last given (and ``pdns-created``: the zones the
        lab itself created on PowerDNS, the only ones it ever deletes there)."""
        return self.state / "zones.json"

    def _read(self, path: Path, default: Any) -> Any:
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return default

    def _write(self, path: Path, data: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(path)

    def secrets(self, create: bool = False) -> Secrets:
        """The lab's generated secrets (API key, TSIG key), created on first ``up``."""
        path = self.state / "secrets.json"
        data = self._read(path, None)
        if data is None:
            if not create:
                raise LabError(
                    f"the lab has no secrets yet ({path} is missing)", hint="run `dnsops lab up`"
                )
            data = asdict(
                Secrets(
                    pdns_api_key="pdns-" + pysecrets.token_hex(24),
                    tsig_name="dnsops-lab",
                    tsig_secret=b64encode(pysecrets.token_bytes(32)).decode(),
                )
            )
            self.state.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
        return Secrets(**data)

    def environ(self) -> dict[str, str]:
        """Variables config/lab.yaml reads (``env/...``): addresses and secrets."""
        return lab_environ(self.project)

    def seeds(self) -> list[ZoneSeed]:
        """The zones the lab seeds and delegates: every zone with an apex NS record.

        A zone without one is skipped (neither seeded nor delegated) and named once in
        ``problems``: the other zones keep working.
        """
        zones = self.model.zones()
        self._source_zones = set(self.model.zone_names)
        for why in self.model.excluded.values():
            self._problem(why)
        return [
            ZoneSeed(name=name, ns=tuple(sorted(zone.root_ns.values)), ns_ttl=zone.root_ns.ttl)
            for name, zone in zones.items()
            if zone.root_ns is not None
        ]

    def _problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def specs(self, create_secrets: bool = False) -> list[ServerSpec]:
        return specs(
            self.lab,
            self.env,
            self.seeds(),
            self.secrets(create=create_secrets),
            self.state,
            self.bind_options,
        )

    # -- preflight ----------------------------------------------------------

    @staticmethod
    def missing_binaries() -> list[str]:
        missing = [f"{b} (package {p})" for b, p in PACKAGES.items() if not _which(b)]
        if not PDNS_SCHEMA.exists():
            missing.append(f"{PDNS_SCHEMA} (package pdns-backend-sqlite3)")
        return missing

    @staticmethod
    def check_privileges() -> None:
        if os.geteuid() == 0:
            return
        caps = _effective_caps()
        lacking = [
            n
            for n, bit in (
                ("CAP_NET_BIND_SERVICE", CAP_NET_BIND_SERVICE),
                ("CAP_NET_ADMIN", CAP_NET_ADMIN),
            )
            if not caps >> bit & 1
        ]
        if lacking:
            raise LabError(
                "the lab binds port 53 on 127.x addresses and adds loopback addresses for BIND: "
                f"it needs root or {' and '.join(lacking)}",
                hint="run it as root (sudo), or grant the capabilities to the Python interpreter",
            )

    def preflight(self) -> None:
        missing = self.missing_binaries()
        if missing:
            raise LabError(
                "missing lab server binaries: " + ", ".join(missing),
                hint=f"install them: {INSTALL}",
            )
        self.check_privileges()

    # -- up / down / status -------------------------------------------------

    def up(
        self, only: Iterable[str] | None = None, progress: Progress | None = None
    ) -> list[ServerStatus]:
        """Start every server not already running, then wait until all answer."""
        self.preflight()
        say = progress or (lambda _msg: None)
        seeds = self.seeds()
        all_specs = specs(
            self.lab, self.env, seeds, self.secrets(create=True), self.state, self.bind_options
        )
        chosen = _select(all_specs, only)
        procs = self._read(self._procs_file, {})
        reloaded: list[_Reloaded] = []
        started: list[str] = []
        try:
            for spec in chosen:
                if self._alive(procs.get(spec.name)):
                    reloaded += self._reconcile(spec, int(procs[spec.name]["pid"]), seeds, say)
                    continue
                self._refuse_if_taken(spec)
                self._prepare(spec, seeds, say)
                if spec.needs_interface_address:
                    self._add_addresses(spec.addresses)
                pid = self._spawn(spec)
                procs[spec.name] = {"pid": pid, "argv": list(spec.argv), "started": time.time()}
                self._write(self._procs_file, procs)
                started.append(spec.name)
                say(f"{spec.name}: started (pid {pid}) on {', '.join(spec.addresses)}")
            self._wait_answering(chosen, procs, say)
        except BaseException:
            # a start that fails leaves nothing of its own running (a half-started lab
            # would hold its addresses and make the next start fail as "taken")
            if started:
                self.down(started)
            raise
        self._wait_reloaded(reloaded)
        for spec in chosen:
            if spec.binary == "pdns_server":
                self._pdns_zones(spec, seeds, say)
            elif spec.role == "provider":
                # only now that BIND no longer serves them
                self._remove_stale_seeds(spec)
        return self.status(only)

    # -- zones added or removed while the lab runs ---------------------------

    def _reconcile(
        self, spec: ServerSpec, pid: int, seeds: list[ZoneSeed], say: Progress
    ) -> list[_Reloaded]:
        """Bring a running server up to date with the zones; what to wait for after."""
        if spec.binary != "named":
            # PowerDNS takes zones through its API; unbound's config has no zones
            if self._stale(spec):
                say(
                    f"{spec.name}: running (pid {pid}) with an older config; restart it to "
                    f"apply the new one: `dnsops lab down {spec.name}`, `dnsops lab up {spec.name}`"
                )
            else:
                say(f"{spec.name}: already running (pid {pid})")
            return []
        old_zone_files = {rel: _read_text(spec.home / rel) for rel in spec.serial_files}
        gone = self._last_zones(spec.name) - {s.name for s in seeds}
        written = self._prepare(spec, seeds, say)
        if not written:
            say(f"{spec.name}: already running (pid {pid})")
            return []
        os.kill(pid, signal.SIGHUP)  # named reloads named.conf and every changed zone
        say(f"{spec.name}: reloaded (pid {pid})")
        waits = []
        origin = {"root": ".", "parent": self.lab.parent_zone}.get(spec.role)
        for rel in spec.serial_files:
            new = _read_text(spec.home / rel)
            if origin and new is not None and new != old_zone_files[rel]:
                serial = soa_serial(new)
                waits += [
                    _Reloaded(spec.name, spec.home, a, origin, True, serial) for a in spec.addresses
                ]
        if spec.role == "provider":
            seeded = {f"zones/{s.name}zone": s.name for s in seeds}
            waits += [
                _Reloaded(spec.name, spec.home, a, seeded[rel], True)
                for rel in written
                if rel in seeded
                for a in spec.addresses
            ]
            waits += [
                _Reloaded(spec.name, spec.home, a, zone, False)
                for zone in sorted(gone)
                for a in spec.addresses
            ]
        return waits

    def _stale(self, spec: ServerSpec) -> bool:
        """Do the server's files on disk differ from what the config renders now?"""
        for rel, content in spec.files.items():
            if rel.startswith("zones/"):
                continue
            old = _read_text(spec.home / rel)
            if old is None:
                return True
            if rel in spec.serial_files:
                serial = soa_serial(old)
                content = with_serial(content, serial) if serial is not None else content
            if old != content:
                return True
        return False

    def _last_zones(self, server: str) -> set[str]:
        return set(self._read(self._zones_file, {}).get(server, []))

    def _record_zones(self, server: str, zones: Iterable[str]) -> None:
        record = self._read(self._zones_file, {})
        record[server] = sorted(zones)
        self._write(self._zones_file, record)

    def _report_zones(self, spec: ServerSpec, seeds: list[ZoneSeed], say: Progress) -> None:
        """Say which zones a BIND server gained or lost since the last ``up``."""
        record = self._read(self._zones_file, {})
        if spec.role == "provider":
            now = {s.name for s in seeds}
            added, removed = "{server}: added zone {zone}", "{server}: removed zone {zone}"
        elif spec.role == "parent":
            now = delegated(spec.files["parent.zone"])
            added = "{server}: delegation of {zone} added"
            removed = "{server}: delegation of {zone} removed"
        else:
            return
        if spec.name in record:
            before = set(record[spec.name])
            for zone in sorted(now - before):
                say(added.format(server=spec.name, zone=zone))
            for zone in sorted(before - now):
                say(removed.format(server=spec.name, zone=zone))
        self._record_zones(spec.name, now)

    def _wait_reloaded(self, waits: list[_Reloaded], timeout: float = 15.0) -> None:
        """Until each reloaded zone answers as written (or no longer, once removed)."""
        deadline = time.monotonic() + timeout
        pending = list(waits)
        while pending:
            done = _reload_done(pending)
            pending = [w for w, ok in zip(pending, done, strict=True) if not ok]
            if pending and time.monotonic() > deadline:
                w = pending[0]
                want = (
                    f"serving {w.zone} (SOA serial {w.serial})"
                    if w.present and w.serial is not None
                    else f"serving {w.zone}"
                    if w.present
                    else f"no longer serving {w.zone}"
                )
                raise LabError(
                    f"{w.server}: not {want} on {w.address} {timeout:.0f} s after the reload; "
                    f"last lines of {w.home}/server.log:\n" + _tail(w.home / "server.log")
                )
            if pending:
                time.sleep(0.1)

    def _pdns_zones(self, spec: ServerSpec, seeds: list[ZoneSeed], say: Progress) -> None:
        """Create on PowerDNS the zones added since the last ``up``; delete the removed
        ones the lab created. A fresh lab creates none: the first sync does (octoDNS)."""
        record = self._read(self._zones_file, {})
        now = {s.name: s for s in seeds}
        if spec.name not in record:
            self._record_zones(spec.name, now)
            return
        before = set(record[spec.name])
        created = set(record.get(f"{spec.name}-created", []))
        added = sorted(set(now) - before)
        removed = sorted(before - set(now))
        if added or removed:
            api = _PdnsApi(self.lab.providers[spec.name], self.secrets().pdns_api_key, spec.name)
            have = api.zones()
            for name in added:
                if name not in have:
                    api.create(now[name])
                    created.add(name)
                    say(f"{spec.name}: added zone {name}")
            for name in removed:
                if name in self._source_zones:
                    # still in the source, only skipped (e.g. no apex NS): keep its data
                    continue
                if name in created and name in have:
                    api.delete(name)
                    say(f"{spec.name}: removed zone {name}")
                elif name in have:
                    say(
                        f"{spec.name}: kept zone {name}: its file is gone, but the lab did not "
                        "create it (octoDNS did); delete it through the PowerDNS API if unwanted"
                    )
                created.discard(name)
        record = self._read(self._zones_file, {})
        record[spec.name] = sorted(now)
        record[f"{spec.name}-created"] = sorted(created)
        self._write(self._zones_file, record)

    def _refuse_if_taken(self, spec: ServerSpec) -> None:
        """Never start a server where something else already answers DNS.

        BIND would share the port silently with another lab's BIND (SO_REUSEPORT) and
        half the updates would reach the wrong server: say so instead.
        """
        taken = _answering(spec.addresses, spec.probe)
        if taken:
            raise LabError(
                f"{spec.name}: {', '.join(f'{a}:53' for a in taken)} already answers DNS, "
                "but not from a server this lab started (another lab, or a system DNS service?)",
                hint="stop that server, or give this lab other addresses in dnsops.yaml",
            )

    def down(
        self, only: Iterable[str] | None = None, progress: Progress | None = None
    ) -> list[str]:
        """Stop the lab's own processes (by recorded PID). Returns the names stopped."""
        say = progress or (lambda _msg: None)
        procs = self._read(self._procs_file, {})
        names = [s for s in procs if only is None or s in set(only)]
        if only is not None:
            unknown = set(only) - {s.name for s in self._known_specs()}
            if unknown:
                raise LabError(f"no lab server named {', '.join(sorted(unknown))}")
        stopped = []
        for name in names:
            info = procs.pop(name)
            if self._alive(info):
                self._terminate(info["pid"])
                stopped.append(name)
                say(f"{name}: stopped (pid {info['pid']})")
            self._write(self._procs_file, procs)
        if not procs:
            self._remove_addresses()
        return stopped

    def status(self, only: Iterable[str] | None = None) -> list[ServerStatus]:
        procs = self._read(self._procs_file, {})
        chosen = _select(self._known_specs(), only)
        answers = _probe_all(chosen, timeout=1.0)
        out = []
        for spec in chosen:
            info = procs.get(spec.name)
            alive = self._alive(info)
            rcode = answers.get(spec.name)
            out.append(
                ServerStatus(
                    name=spec.name,
                    role=spec.role,
                    addresses=list(spec.addresses),
                    pid=info["pid"] if alive and info else None,
                    running=alive,
                    answers=rcode is not None,
                    rcode=rcode,
                    region=spec.region,
                )
            )
        return out

    def _known_specs(self) -> list[ServerSpec]:
        try:
            return self.specs()
        except LabError:  # no secrets yet: render with placeholders, nothing is written
            placeholder = Secrets("-", "dnsops-lab", "-")
            return specs(
                self.lab, self.env, self.seeds(), placeholder, self.state, self.bind_options
            )

    # -- processes ----------------------------------------------------------

    def _prepare(self, spec: ServerSpec, seeds: list[ZoneSeed], say: Progress) -> list[str]:
        """Write the server's files that changed; the relative paths written or removed."""
        spec.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        written = []
        for rel, content in spec.files.items():
            path = spec.home / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            old = _read_text(path)
            # a BIND zone file is only seeded: its journal holds later updates
            if rel.startswith("zones/") and old is not None:
                continue
            if rel in spec.serial_files:
                # the same zone keeps its serial; a changed one gets a higher serial
                serial = soa_serial(old) if old is not None else None
                if serial is not None and with_serial(content, serial) == old:
                    continue
                content = with_serial(content, next_serial(serial, time.time()))
            elif old == content:
                continue
            _write_private(path, content)
            written.append(rel)
        if spec.binary == "named":
            self._report_zones(spec, seeds, say)
        if spec.binary == "pdns_server":
            db = spec.home / "pdns.sqlite3"
            if not db.exists():
                with sqlite3.connect(db) as conn:
                    conn.executescript(PDNS_SCHEMA.read_text())
        return written

    def _remove_stale_seeds(self, spec: ServerSpec) -> None:
        """Delete a BIND provider's zone files (and journals) of zones whose file is gone
        from the source (a zone only skipped, e.g. without apex NS, keeps its data)."""
        for path in sorted((spec.home / "zones").glob("*.zone")):
            if (
                f"zones/{path.name}" in spec.files
                or path.name[: -len("zone")] in self._source_zones
            ):
                continue
            for stale in (path, path.with_name(path.name + ".jnl")):
                stale.unlink(missing_ok=True)

    def _spawn(self, spec: ServerSpec) -> int:
        log = (spec.home / "server.log").open("ab")
        binary = _which(spec.binary) or spec.binary
        proc = subprocess.Popen(
            [binary, *spec.argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=spec.home,
            start_new_session=True,
        )
        log.close()
        self._children[proc.pid] = proc
        return proc.pid

    def _alive(self, info: dict[str, Any] | None) -> bool:
        if not info:
            return False
        pid = int(info["pid"])
        child = self._children.get(pid)
        if child is not None:
            # our own child: its exit status is the truth (/proc/PID/cmdline of a process
            # that has only just started can be read before it shows the new program)
            return child.poll() is None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
        argv = [a.decode() for a in cmdline if a]
        # same program and same config arguments as recorded: not a recycled PID
        return (
            bool(argv)
            and Path(argv[0]).name == Path(info["argv"][0]).name
            and (argv[1:] == info["argv"][1:])
        )

    def _terminate(self, pid: int, timeout: float = 10.0) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._alive({"pid": pid, "argv": ["?"]}) and not Path(f"/proc/{pid}").exists():
                break
            if self._reap(pid):
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._reap(pid)

    def _reap(self, pid: int) -> bool:
        child = self._children.get(pid)
        if child is not None:
            if child.poll() is not None:
                self._children.pop(pid, None)
                return True
            return False
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        return stat.rsplit(")", 1)[-1].split()[0] == "Z"

    def _wait_answering(
        self, chosen: list[ServerSpec], procs: dict[str, Any], say: Progress, timeout: float = 30.0
    ) -> None:
        deadline = time.monotonic() + timeout
        pending = list(chosen)
        while pending:
            answers = _probe_all(pending, timeout=0.5)
            for spec in list(pending):
                if spec.name in answers:
                    pending.remove(spec)
                elif not self._alive(procs.get(spec.name)):
                    raise LabError(
                        f"{spec.name} exited at start-up; last lines of {spec.home}/server.log:\n"
                        + _tail(spec.home / "server.log")
                    )
            if pending and time.monotonic() > deadline:
                names = ", ".join(f"{s.name} ({', '.join(s.addresses)})" for s in pending)
                raise LabError(f"not answering DNS after {timeout:.0f} s: {names}")
            if pending:
                time.sleep(0.2)
        say("every server answers")

    # -- loopback addresses (BIND only binds addresses found on an interface) --

    def _add_addresses(self, addresses: Iterable[str]) -> None:
        added = set(self._read(self._addrs_file, []))
        present = _lo_addresses()
        for addr in addresses:
            if addr in present:
                continue
            res = subprocess.run(
                ["ip", "addr", "add", f"{addr}/32", "dev", "lo"], capture_output=True, text=True
            )
            if res.returncode != 0 and "File exists" not in res.stderr:
                raise LabError(f"cannot add {addr} to lo: {res.stderr.strip()}")
            added.add(addr)
        self._write(self._addrs_file, sorted(added))

    def _remove_addresses(self) -> None:
        for addr in self._read(self._addrs_file, []):
            subprocess.run(["ip", "addr", "del", f"{addr}/32", "dev", "lo"], capture_output=True)
        self._write(self._addrs_file, [])


def _reload_done(waits: list[_Reloaded]) -> list[bool]:
    """For each wait: does the server answer (or no longer answer) as expected?"""
    queries = [
        Query.make(Target(w.address, 53, w.server), w.zone, "SOA", key=i)
        for i, w in enumerate(waits)
    ]
    out = []
    for w, r in zip(waits, _ask(queries, timeout=0.5), strict=True):
        soa = r.rrset() if r.answered else None
        serves = r.rcode == dns.rcode.NOERROR and r.aa and soa is not None
        if not w.present:
            out.append(not serves)
        elif soa is None or not serves:
            out.append(False)
        else:
            out.append(
                w.serial is None or any(getattr(rd, "serial", None) == w.serial for rd in soa)
            )
    return out


def _ask(queries: list[Query], timeout: float) -> list[Result]:
    """One attempt of each query through the probe engine (every server at once)."""
    return probe(queries, engine=Engine(timeout=timeout, retries=0))


class _PdnsApi:
    """The few PowerDNS HTTP API calls the lab makes (zones: list, create, delete)."""

    def __init__(self, prov: LabProvider, api_key: str, server: str) -> None:
        self.base = f"http://{prov.addresses[0]}:{prov.api_port}/api/v1/servers/localhost"
        self.key = api_key
        self.server = server

    def _call(self, method: str, path: str, body: Any = None, tries: int = 50) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.base}/{path}",
            data=data,
            method=method,
            headers={"X-API-Key": self.key, "Content-Type": "application/json"},
        )
        for attempt in range(tries):
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    text = resp.read().decode()
                return json.loads(text) if text else None
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:300]
                raise LabError(
                    f"{self.server}: {method} {path} through the PowerDNS API failed: "
                    f"HTTP {exc.code} {detail}"
                ) from None
            except OSError as exc:  # the API may come up a moment after DNS
                if attempt == tries - 1:
                    raise LabError(f"{self.server}: PowerDNS API unreachable: {exc}") from None
                time.sleep(0.1)
        return None

    def zones(self) -> set[str]:
        return {str(z["name"]) for z in self._call("GET", "zones")}

    def create(self, zone: ZoneSeed) -> None:
        # the apex NS go in as an rrset rather than as ``nameservers``: that would give
        # them PowerDNS's default TTL, and octoDNS would then want a root NS change
        # (RootNsChange: --force) to set the zone file's TTL
        ns = {
            "name": zone.name,
            "type": "NS",
            "ttl": zone.ns_ttl,
            "changetype": "REPLACE",
            "records": [{"content": n, "disabled": False} for n in zone.ns],
        }
        self._call(
            "POST",
            "zones",
            {"name": zone.name, "kind": "Native", "nameservers": [], "rrsets": [ns]},
        )

    def delete(self, name: str) -> None:
        self._call("DELETE", f"zones/{urllib.parse.quote(name)}")


def _probe_all(chosen: list[ServerSpec], timeout: float) -> dict[str, str]:
    """name -> rcode text, for every server that answered on its first address."""
    queries = [
        Query.make(Target(s.addresses[0], 53, s.name), s.probe, "SOA", rd=True) for s in chosen
    ]
    return {
        s.name: r.rcode_text
        for s, r in zip(chosen, _ask(queries, timeout), strict=True)
        if r.answered
    }


def _answering(addresses: Iterable[str], name: str) -> list[str]:
    """The addresses where some server answers a DNS query at port 53."""
    queries = [Query.make(Target(a, 53), name, "SOA", rd=True) for a in addresses]
    return [r.query.target.address for r in _ask(queries, timeout=0.3) if r.answered]


def _select(all_specs: list[ServerSpec], only: Iterable[str] | None) -> list[ServerSpec]:
    if only is None:
        return all_specs
    wanted = list(only)
    known = {s.name for s in all_specs}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise LabError(
            f"no lab server named {', '.join(unknown)} (servers: {', '.join(sorted(known))})"
        )
    return [s for s in all_specs if s.name in wanted]


def _which(binary: str) -> str | None:
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return shutil.which(binary, path=path)


def _effective_caps() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def _lo_addresses() -> set[str]:
    res = subprocess.run(
        ["ip", "-o", "-4", "addr", "show", "dev", "lo"], capture_output=True, text=True
    )
    return {tok.split("/")[0] for line in res.stdout.splitlines() for tok in line.split()[3:4]}


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _write_private(path: Path, content: str) -> None:
    """Write atomically (a reloading server never reads half a file), mode 0600."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
    tmp.replace(path)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
