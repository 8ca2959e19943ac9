"""Real OpenSSH servers on loopback for the SSH vantage tests.

Everything lives in one temporary directory: host keys and a client key made
with ssh-keygen for the test, one ``sshd -D -f <generated config>`` per "host"
(each on its own 127.x address), an ssh_config naming the hosts and a
known_hosts file. Nothing under /root/.ssh or /etc/ssh is read or written
(``-F`` and explicit files everywhere), and the servers are stopped by the PIDs
this helper started. OpenSSH's privilege separation needs /run/sshd to exist:
it is created (empty, root-owned, 0755) when missing, as Debian's service does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")


def missing() -> str | None:
    for exe in (SSHD, shutil.which("ssh"), shutil.which("ssh-keygen")):
        if exe is None or not os.access(exe, os.X_OK):
            return "OpenSSH server/client missing (Debian: openssh-server, openssh-client)"
    if os.geteuid() != 0:
        return "the test sshd runs as root (privilege separation, any user's login)"
    return None


def keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )


@dataclass
class Host:
    alias: str
    address: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None


@dataclass
class SshLab:
    """Two or more sshd "hosts" and the client side needed to reach them."""

    root: Path
    hosts: list[Host] = field(default_factory=list)

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh_config"

    @property
    def client_key(self) -> Path:
        return self.root / "client_ed25519"

    def start(
        self, hosts: dict[str, str], port: int, *, dead: dict[str, str] | None = None
    ) -> None:
        """``hosts``: alias -> address to serve; ``dead``: alias -> address where none listens."""
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        if not PRIVSEP_DIR.is_dir():
            PRIVSEP_DIR.mkdir(mode=0o755, parents=True)
        keygen(self.root / "host_ed25519", "dnsops-test-host")
        keygen(self.client_key, "dnsops-test-client")
        keygen(self.root / "stranger_ed25519", "dnsops-test-stranger")  # never authorised
        shutil.copy(self.root / "client_ed25519.pub", self.root / "authorized_keys")
        host_pub = (self.root / "host_ed25519.pub").read_text().split()[:2]
        known = []
        for alias, address in hosts.items():
            host = Host(alias, address, port)
            self._serve(host)
            self.hosts.append(host)
            known.append(f"[{address}]:{port} {' '.join(host_pub)}")
        (self.root / "known_hosts").write_text("\n".join(known) + "\n")
        entries = {a: (h.address, h.port, self.client_key) for a, h in self._by_alias().items()}
        for alias, address in (dead or {}).items():
            entries[alias] = (address, port, self.client_key)
        entries["vantage-stranger"] = (
            self.hosts[0].address,
            port,
            self.root / "stranger_ed25519",
        )
        self.ssh_config.write_text("".join(self._entry(a, *e) for a, e in entries.items()))
        for host in self.hosts:
            self._wait(host)

    def _by_alias(self) -> dict[str, Host]:
        return {h.alias: h for h in self.hosts}

    def _entry(self, alias: str, address: str, port: int, key: Path) -> str:
        return (
            f"Host {alias}\n"
            f"  HostName {address}\n"
            f"  Port {port}\n"
            "  User root\n"
            f"  IdentityFile {key}\n"
            "  IdentitiesOnly yes\n"
            "  IdentityAgent none\n"
            f"  UserKnownHostsFile {self.root / 'known_hosts'}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
            "  PasswordAuthentication yes\n"
            "  KbdInteractiveAuthentication yes\n"
        )

    def _serve(self, host: Host) -> None:
        conf = self.root / f"sshd_{host.alias}.conf"
        conf.write_text(
            f"ListenAddress {host.address}:{host.port}\n"
            f"HostKey {self.root / 'host_ed25519'}\n"
            f"PidFile {self.root / f'sshd_{host.alias}.pid'}\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            # a password is offered but can never be typed: BatchMode must not wait for one
            "PasswordAuthentication yes\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "PrintMotd no\n"
            "PrintLastLog no\n"
            "UseDNS no\n"
            "MaxStartups 50:30:100\n"
            "Subsystem sftp internal-sftp\n"
        )
        host.log = self.root / f"sshd_{host.alias}.log"
        with host.log.open("wb") as fh:
            host.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(conf)],
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def _wait(self, host: Host) -> None:
        deadline = time.monotonic() + 15
        while True:
            assert host.proc is not None
            if host.proc.poll() is not None:
                log = host.log.read_text() if host.log else ""
                raise RuntimeError(f"sshd {host.alias} exited with {host.proc.returncode}: {log}")
            try:
                with socket.create_connection((host.address, host.port), timeout=0.5) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sshd {host.alias} not answering on {host.address}:{host.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        for host in self.hosts:
            proc = host.proc
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
