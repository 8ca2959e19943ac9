"""Kind ``ssh``: DNS asked from another host, over the system's OpenSSH client.

One session per batch: ``ssh -T -o BatchMode=yes ... HOST python3 -`` gets the
self-contained probe (:mod:`dnsops.vantage.remote_probe`, standard library only)
on stdin with the job appended, and streams one JSON line per answer back.
The user's ssh config, keys, agent and jump hosts apply as they do for ``ssh``
itself; ``ssh_config`` (``-F``) can name another config file.

.. important:: no prompt can ever block a run: BatchMode forbids password and
   passphrase prompts and host-key questions, ssh runs in its own session
   (no controlling terminal to open) with ``SSH_ASKPASS_REQUIRE=never``, and
   the whole session has a deadline after which its process group is killed.
   A host that cannot be reached, refuses us or is too slow gives a run with a
   ``problem`` (a finding for that vantage), never an exception.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dns.exception
import dns.rdatatype

from dnsops.config import SshVantage as SshConfig
from dnsops.probe import Engine, Query, Result, Target, judge
from dnsops.vantage import remote_probe
from dnsops.vantage.base import (
    HOST_RESOLVER,
    Observation,
    Origin,
    Progress,
    VantageRun,
    failed_run,
)

SCRIPT = Path(remote_probe.__file__).read_text()
STDERR_KEEP = 4000  # bytes of ssh's stderr kept for the message


def ssh_command(
    cfg: SshConfig, root: Path | None = None, remote: Sequence[str] | None = None
) -> list[str]:
    """The ssh command line for a vantage (pure; no secret is ever on it).

    ``remote``: the command run on the host (default: ``python3 -``, the probe).
    """
    cmd = [
        "ssh",
        "-T",
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={max(1, round(cfg.connect_timeout))}",
        "-o",
        "ServerAliveInterval=5",
        "-o",
        "ServerAliveCountMax=3",
        "-o",
        "LogLevel=ERROR",
    ]
    if cfg.ssh_config:
        path = Path(cfg.ssh_config)
        if root is not None and not path.is_absolute():
            path = root / path
        cmd += ["-F", str(path)]
    if cfg.port is not None:
        cmd += ["-p", str(cfg.port)]
    if cfg.user is not None:
        cmd += ["-l", cfg.user]
    if cfg.jump is not None:
        cmd += ["-J", cfg.jump]
    return [*cmd, "--", cfg.host, *(remote or (cfg.python, "-"))]


def nft_command(cfg: SshConfig) -> list[str]:
    """What runs nftables on the host (``nft -f -``, through ``sudo -n`` if configured)."""
    bh = cfg.blackhole
    nft = bh.nft if bh is not None else "nft"
    return [*(["sudo", "-n"] if bh is not None and bh.sudo else []), nft]


def _ssh_env() -> dict[str, str]:
    env = {**os.environ, "SSH_ASKPASS_REQUIRE": "never"}
    env.pop("SSH_ASKPASS", None)
    return env


def run_remote(
    cfg: SshConfig, root: Path | None, remote: Sequence[str], stdin: str, timeout: float
) -> tuple[int, str, str]:
    """Run one command on the host, ``stdin`` fed to it; (exit status, stdout, stderr).

    Synchronous and bounded: past ``timeout`` seconds the ssh (its process group) is
    killed and the status is 255 with the reason on stderr. Never prompts.
    """
    import subprocess

    cmd = ssh_command(cfg, root, remote)
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=_ssh_env(),
            text=True,
        )
    except OSError as exc:
        return 255, "", f"cannot run ssh: {exc.strerror or exc}"
    try:
        out, errtext = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return 255, "", f"no end of the ssh session after {timeout:g} s"
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out, errtext


def program(queries: Sequence[Query], engine: Engine, concurrency: int) -> bytes:
    """The probe's source and the line that runs it on this job."""
    specs = [
        [
            i,
            q.target.address,
            q.target.port,
            base64.b64encode(q.qname.to_wire() or b"").decode(),
            q.rdtype,
            q.rd,
            q.edns,
            q.payload,
            q.tcp,
        ]
        for i, q in enumerate(queries)
    ]
    job = {
        "v": remote_probe.PROTOCOL,
        "timeout": engine.timeout,
        "retries": engine.retries,
        "concurrency": concurrency,
        "queries": specs,
    }
    blob = base64.b64encode(json.dumps(job, separators=(",", ":")).encode()).decode()
    return f'{SCRIPT}\nmain("{blob}")\n'.encode()


def classify(returncode: int | None, stderr: str, hello: bool) -> tuple[str, str]:
    """(status, problem) of an ssh session that did not finish its job."""
    text = " ".join(stderr.split())
    low = text.lower()
    if not hello:
        if returncode == 127 or "not found" in low or "no such file" in low:
            return "error", f"no Python on the host ({last_line(stderr) or 'exit 127'})"
        for needle, what in (
            ("connection refused", "connection refused"),
            ("timed out", "connection timed out"),
            ("no route to host", "no route to host"),
            ("could not resolve hostname", "host name not found"),
            ("name or service not known", "host name not found"),
            ("permission denied", "authentication failed (permission denied)"),
            ("host key verification failed", "host key verification failed"),
            ("too many authentication failures", "authentication failed"),
            ("connection closed", "connection closed by the host"),
        ):
            if needle in low:
                return "unreachable", f"{what}: {last_line(stderr)}"
        return "unreachable", f"ssh exited with {returncode}: {last_line(stderr) or 'no message'}"
    return "error", f"the session ended early (ssh exit {returncode}): {last_line(stderr)}"


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


class Slots:
    """At most ``n`` SSH sessions at once, shared by many vantages (per event loop)."""

    def __init__(self, n: int) -> None:
        self.n = max(1, n)
        self._by_loop: dict[int, asyncio.Semaphore] = {}

    def semaphore(self) -> asyncio.Semaphore:
        loop = id(asyncio.get_running_loop())
        if loop not in self._by_loop:
            self._by_loop = {loop: asyncio.Semaphore(self.n)}
        return self._by_loop[loop]


class SshVantage:
    kind = "ssh"

    def __init__(
        self,
        config: SshConfig,
        root: Path | None = None,
        engine: Engine | None = None,
        slots: Slots | None = None,
    ) -> None:
        self.name = config.name
        self.region = config.region
        self.config = config
        self.root = root
        self.engine = engine or Engine()
        self.slots = slots
        self.command = ssh_command(config, root)

    @property
    def resolver(self) -> Target | None:
        if self.config.resolver is None:
            return None
        where = HOST_RESOLVER if self.config.resolver == "system" else self.config.resolver
        return Target(where, 53, f"{self.name} resolver")

    @property
    def asks_nameservers(self) -> bool:
        return self.config.nameservers

    def describe(self) -> str:
        who = f"{self.config.user}@" if self.config.user else ""
        port = f":{self.config.port}" if self.config.port else ""
        via = f" via {self.config.jump}" if self.config.jump else ""
        return f"ssh {who}{self.config.host}{port}{via}"

    async def resolve_many(
        self, queries: Sequence[Query], progress: Progress | None = None
    ) -> VantageRun:
        if not queries:
            return VantageRun(self.name, self.kind, self.region)
        if self.slots is None:
            return await self._session(queries, progress)
        async with self.slots.semaphore():
            return await self._session(queries, progress)

    async def _session(self, queries: Sequence[Query], progress: Progress | None) -> VantageRun:
        start = time.perf_counter()
        env = _ssh_env()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                env=env,
                limit=1 << 20,
            )
        except OSError as exc:
            return failed_run(self, queries, "error", f"cannot run ssh: {exc.strerror or exc}")
        session = _Session(self, queries, progress)
        try:
            job = program(queries, self.engine, self.config.concurrency)
            await asyncio.wait_for(session.drive(proc, job), self.config.timeout)
        except TimeoutError:
            _kill(proc)
            session.status = "timeout"
            session.problem = (
                f"too slow: no end of the session after {self.config.timeout:g} s "
                f"({session.answered} of {len(queries)} answers)"
            )
        finally:
            _kill(proc)
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
        run = session.run(proc.returncode)
        run.seconds = time.perf_counter() - start
        if run.status == "unreachable":
            run.info["hint"] = f"try: {self.try_command()}"
        return run

    async def stream(
        self,
        probes: Sequence[tuple[str, str, bool]],
        *,
        rate: float,
        streams: int,
        until: float,
        sink: StreamSink,
    ) -> str | None:
        """Ask this host's resolver ``probes`` (name, type, fresh-name?) ``rate`` times a
        second, ``streams`` each, over one long-lived session, until ``until`` seconds
        have passed or the task is cancelled (the session is then killed). Every answer
        goes to ``sink(t, probe, stream, result)`` as it arrives, ``t`` the local
        ``time.monotonic()`` of the round that asked it.

        Returns None when the session ran to its end, else why it did not. Never raises
        for a host that cannot be reached; cancellation kills ssh (its process group).
        """
        target = self.resolver
        if target is None:
            return "the vantage asks no resolver"
        rounds = self.engine.timeout * (self.engine.retries + 1) * rate + 1  # in flight
        workers = min(256, max(self.config.concurrency, int(rounds * len(probes) * streams)))
        job = {
            "v": remote_probe.PROTOCOL,
            "timeout": self.engine.timeout,
            "retries": self.engine.retries,
            "concurrency": workers,
            "queries": [],
            "stream": {
                "rate": rate,
                "until": until,
                "server": target.address,
                "port": target.port,
                "streams": streams,
                "probes": [
                    [name, int(dns.rdatatype.RdataType.make(rtype)), nx]
                    for name, rtype, nx in probes
                ],
            },
        }
        blob = base64.b64encode(json.dumps(job, separators=(",", ":")).encode()).decode()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                env=_ssh_env(),
                limit=1 << 20,
            )
        except OSError as exc:
            return f"cannot run ssh: {exc.strerror or exc}"
        feed = _Stream(self, probes, sink)
        try:
            await asyncio.wait_for(
                feed.drive(proc, f'{SCRIPT}\nmain("{blob}")\n'.encode()),
                until + self.config.connect_timeout + self.engine.timeout * 3 + 5,
            )
        except TimeoutError:
            feed.problem = f"the streaming session outlived its deadline ({until:g} s)"
        finally:
            _kill(proc)
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
        if feed.problem is None and not feed.done:
            status, feed.problem = classify(
                proc.returncode, feed.stderr.decode(errors="replace"), feed.t0 is not None
            )
            feed.problem = f"{status}: {feed.problem}"
        return feed.problem

    def try_command(self) -> str:
        """What to run by hand to see the same failure (the same options, ``true``)."""
        opts = self.command[self.command.index("LogLevel=ERROR") + 1 : self.command.index("--")]
        return " ".join(["ssh", "-o", "BatchMode=yes", *opts, self.config.host, "true"])


class _Lines:
    """Drives one ``ssh … python3 -`` process: the program in on stdin, JSON lines out
    (a banner or motd on stdout is skipped), ssh's stderr kept for the message."""

    stderr = b""

    async def drive(self, proc: asyncio.subprocess.Process, job: bytes) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        errors = asyncio.ensure_future(self._drain(proc.stderr))
        try:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(job)
                await proc.stdin.drain()
                proc.stdin.close()
            while line := await proc.stdout.readline():
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue  # a login banner or motd on stdout: not ours
                if isinstance(msg, dict):
                    self.message(msg)
            await proc.wait()
            await errors
        finally:
            errors.cancel()

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.stderr = (self.stderr + chunk)[-STDERR_KEEP:]

    def message(self, msg: dict[str, Any]) -> None:
        raise NotImplementedError


class _Session(_Lines):
    """One ssh session's bookkeeping: the lines read and what they mean."""

    def __init__(self, v: SshVantage, queries: Sequence[Query], progress: Progress | None):
        self.v = v
        self.queries = queries
        self.progress = progress
        self.results: list[Result | None] = [None] * len(queries)
        self.servers: list[str | None] = [None] * len(queries)
        self.answered = 0
        self.hello: dict[str, Any] | None = None
        self.done = False
        self.stderr = b""
        self.status = "ok"
        self.problem: str | None = None

    def message(self, msg: dict[str, Any]) -> None:
        if "hello" in msg:
            self.hello = msg["hello"]
        elif "i" in msg:
            self._answer(msg)
        elif "done" in msg:
            self.done = True
        elif "fatal" in msg:
            self.status, self.problem = "error", f"the probe refused the job: {msg['fatal']}"

    def _answer(self, msg: dict[str, Any]) -> None:
        i = msg["i"]
        if not isinstance(i, int) or not 0 <= i < len(self.queries) or self.results[i] is not None:
            return
        q = self.queries[i]
        attempts = int(msg.get("attempts") or 0)
        data = base64.b64decode(msg["wire"]) if msg.get("wire") else None
        if data is None or len(data) < 12:
            res = Result(q, error=str(msg.get("error") or "no answer"), attempts=attempts)
        else:
            latency = msg.get("latency")
            seconds = float(latency) if latency is not None else None
            res = judge(q, data, seconds, str(msg.get("transport") or "udp"), attempts)
        self.results[i] = res
        self.servers[i] = msg.get("server")
        self.answered += 1
        if self.progress is not None:
            self.progress(self.answered, len(self.queries))

    def run(self, returncode: int | None) -> VantageRun:
        v = self.v
        stderr = self.stderr.decode(errors="replace")
        if self.problem is None and not self.done:
            self.status, self.problem = classify(returncode, stderr, self.hello is not None)
        if self.hello is None and self.answered == 0:
            return failed_run(v, self.queries, self.status, self.problem or "no answer")
        run = VantageRun(v.name, v.kind, v.region, status=self.status, problem=self.problem)
        host = str(self.hello.get("host")) if self.hello else None
        if self.hello:
            run.info.update(
                host=host,
                python=self.hello.get("python"),
                resolvers=self.hello.get("resolvers"),
            )
        lost = self.problem or "the session ended before an answer"
        for i, q in enumerate(self.queries):
            res = self.results[i] or Result(q, error=lost)
            where = Origin(host=host, server=self.servers[i])
            run.observations.append(Observation(v.name, v.kind, v.region, res, where))
        return run


StreamSink = Callable[[float, int, int, Result], None]


class _Stream(_Lines):
    """One streaming session: lines in, Results out to the sink, as they arrive."""

    def __init__(
        self, v: SshVantage, probes: Sequence[tuple[str, str, bool]], sink: StreamSink
    ) -> None:
        self.v = v
        self.probes = probes
        self.sink = sink
        self.t0: float | None = None  # local monotonic time of the remote's t = 0
        self.done = False
        self.problem: str | None = None
        self.stderr = b""

    def message(self, msg: dict[str, Any]) -> None:
        if "hello" in msg:
            self.t0 = time.monotonic()
        elif "done" in msg:
            self.done = True
        elif "fatal" in msg:
            self.problem = f"the probe refused the job: {msg['fatal']}"
        elif "p" in msg and self.t0 is not None:
            self._answer(msg)

    def _answer(self, msg: dict[str, Any]) -> None:
        p, k, t = msg.get("p"), msg.get("k"), msg.get("t")
        if not (isinstance(p, int) and 0 <= p < len(self.probes) and isinstance(k, int)):
            return
        if not isinstance(t, int | float) or self.t0 is None:
            return
        _name, rtype, _nx = self.probes[p]
        resolver = self.v.resolver
        assert resolver is not None
        try:
            q = Query.make(resolver, str(msg.get("q")), rtype, rd=True)
        except dns.exception.DNSException:
            return
        attempts = int(msg.get("attempts") or 0)
        data = base64.b64decode(msg["wire"]) if msg.get("wire") else None
        if data is None or len(data) < 12:
            res = Result(q, error=str(msg.get("error") or "no answer"), attempts=attempts)
        else:
            latency = msg.get("latency")
            seconds = float(latency) if latency is not None else None
            res = judge(q, data, seconds, str(msg.get("transport") or "udp"), attempts)
        self.sink(self.t0 + float(t), p, k, res)


def _kill(proc: asyncio.subprocess.Process) -> None:
    """End the ssh we started (its own process group: a ProxyJump ssh too)."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
