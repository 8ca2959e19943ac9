"""Start, stop and inspect the lab's servers. Every process is tracked by PID.

``up`` is idempotent (servers already running are left alone), waits until
every server answers DNS, and fails naming the server and the last lines of its
log. ``down`` stops only PIDs it recorded, after checking that the PID still
runs the command dnsops started (a recycled PID is never signalled).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets as pysecrets
import shutil
import signal
import sqlite3
import subprocess
import time
from base64 import b64encode
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode

from dnsops.config import Project
from dnsops.errors import LabError
from dnsops.lab.render import PDNS_SCHEMA, Secrets, ServerSpec, ZoneSeed, specs
from dnsops.zones import load_zones

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


class LabRunner:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.lab = project.lab
        self.env_name, self.env = project.lab_environment()
        self.state = project.state_dir / "lab"
        # Popen objects of servers this process started: kept so they can be reaped
        # (and are not garbage-collected while the server runs on after us)
        self._children = _CHILDREN

    # -- state files -------------------------------------------------------

    @property
    def _procs_file(self) -> Path:
        return self.state / "processes.json"

    @property
    def _addrs_file(self) -> Path:
        return self.state / "addresses.json"

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
        sec = self.secrets()
        out = {
            "DNSOPS_LAB_TSIG_KEY_NAME": sec.tsig_name,
            "DNSOPS_LAB_TSIG_SECRET": sec.tsig_secret,
            "DNSOPS_LAB_PDNS_API_KEY": sec.pdns_api_key,
        }
        for prov in self.lab.providers.values():
            if prov.kind == "powerdns":
                out["DNSOPS_LAB_PDNS_HOST"] = prov.addresses[0]
                out["DNSOPS_LAB_PDNS_PORT"] = str(prov.api_port)
            else:
                out["DNSOPS_LAB_BIND_HOST"] = prov.addresses[0]
        return out

    def seeds(self) -> list[ZoneSeed]:
        zones = load_zones(self.project, self.env)
        out = []
        for name, zone in zones.items():
            ns = zone.root_ns
            if ns is None:
                raise LabError(f"zone {name} has no apex NS record: the lab cannot delegate it")
            out.append(ZoneSeed(name=name, ns=tuple(sorted(ns.values)), ns_ttl=ns.ttl))
        return out

    def specs(self, create_secrets: bool = False) -> list[ServerSpec]:
        return specs(
            self.lab, self.env, self.seeds(), self.secrets(create=create_secrets), self.state
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
        all_specs = self.specs(create_secrets=True)
        chosen = _select(all_specs, only)
        procs = self._read(self._procs_file, {})
        for spec in chosen:
            if self._alive(procs.get(spec.name)):
                say(f"{spec.name}: already running (pid {procs[spec.name]['pid']})")
                continue
            self._refuse_if_taken(spec)
            self._prepare(spec)
            if spec.needs_interface_address:
                self._add_addresses(spec.addresses)
            pid = self._spawn(spec)
            procs[spec.name] = {"pid": pid, "argv": list(spec.argv), "started": time.time()}
            self._write(self._procs_file, procs)
            say(f"{spec.name}: started (pid {pid}) on {', '.join(spec.addresses)}")
        self._wait_answering(chosen, procs, say)
        return self.status(only)

    def _refuse_if_taken(self, spec: ServerSpec) -> None:
        """Never start a server where something else already answers DNS.

        BIND would share the port silently with another lab's BIND (SO_REUSEPORT) and
        half the updates would reach the wrong server: say so instead.
        """
        taken = asyncio.run(_answering(spec.addresses, spec.probe))
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
        answers = asyncio.run(_probe_all(chosen, timeout=1.0))
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
            return specs(self.lab, self.env, self.seeds(), placeholder, self.state)

    # -- processes ----------------------------------------------------------

    def _prepare(self, spec: ServerSpec) -> None:
        spec.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        for rel, content in spec.files.items():
            path = spec.home / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            # a BIND zone file is only seeded: its journal holds later updates
            if rel.startswith("zones/") and path.exists():
                continue
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(content)
        if spec.binary == "pdns_server":
            db = spec.home / "pdns.sqlite3"
            if not db.exists():
                with sqlite3.connect(db) as conn:
                    conn.executescript(PDNS_SCHEMA.read_text())

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
        if child is not None and child.poll() is not None:
            return False
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
            answers = asyncio.run(_probe_all(pending, timeout=0.5))
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


async def _probe_all(chosen: list[ServerSpec], timeout: float) -> dict[str, str]:
    """name -> rcode text, for every server that answered on its first address."""

    async def one(spec: ServerSpec) -> tuple[str, str | None]:
        q = dns.message.make_query(spec.probe, "SOA")
        try:
            r = await dns.asyncquery.udp(q, spec.addresses[0], timeout=timeout)
        except (dns.exception.DNSException, OSError):
            return spec.name, None
        return spec.name, dns.rcode.to_text(r.rcode())

    results = await asyncio.gather(*(one(s) for s in chosen))
    return {n: r for n, r in results if r is not None}


async def _answering(addresses: Iterable[str], probe: str) -> list[str]:
    """The addresses where some server answers a DNS query at port 53."""

    async def one(addr: str) -> str | None:
        q = dns.message.make_query(probe, "SOA")
        try:
            await dns.asyncquery.udp(q, addr, timeout=0.3)
        except (dns.exception.DNSException, OSError):
            return None
        return addr

    found = await asyncio.gather(*(one(a) for a in addresses))
    return [a for a in found if a is not None]


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


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
