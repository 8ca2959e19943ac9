"""A production-shaped internet in miniature, for discovery tests of production.

Route 53 (moto_server) and the NS1 stand-in name nameservers that serve no DNS here
(``ns-2048.awsdns-64.com.``, ``dns1.p01.nsone.net.``...). This builds the rest of the
world those names live in, on loopback, with one real BIND and one real unbound:

* a root server (zone ``.``): ``test.`` delegated to the parent, and the providers'
  nameserver names given addresses (the root holds them itself, as no TLD is needed);
* the parent (zone ``test.``): the zone delegated to both providers' names, as a
  registrar would publish it (``parent_ns`` lets a test break the delegation);
* the providers' nameservers: the zone with its apex NS naming both providers;
* a recursive resolver whose root hints name only this root.

One ``named`` serves all of it with views matched on the destination address, so each
address answers as its own server. Every address is added to ``lo`` and removed after;
processes are stopped by the PIDs started here.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query

ROOT_NAME = "a.root-servers.lab."
PARENT_NAME = "ns.test."


@dataclass
class MiniInternet:
    home: Path
    net: str  # "127.54": addresses are {net}.8.x
    zone: str
    providers: dict[str, list[str]]  # provider -> its nameserver names
    records: list[str] = field(default_factory=list)  # zone-file lines of the zone
    parent_ns: list[str] | None = None  # what the parent delegates to (default: all)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def root(self) -> str:
        return f"{self.net}.8.1"

    @property
    def parent(self) -> str:
        return f"{self.net}.8.2"

    @property
    def resolver(self) -> str:
        return f"{self.net}.8.53"

    def addresses(self) -> dict[str, str]:
        """Every provider nameserver name -> its address."""
        out = {}
        i = 11
        for names in self.providers.values():
            for name in names:
                out[name] = f"{self.net}.8.{i}"
                i += 1
        return out

    def _named_conf(self) -> str:
        hosts = self.addresses()
        all_ns = [n for names in self.providers.values() for n in names]
        delegated = self.parent_ns if self.parent_ns is not None else all_ns
        root_zone = [
            "$TTL 86400",
            f". SOA {ROOT_NAME} hostmaster.lab. 1 3600 600 604800 60",
            f". NS {ROOT_NAME}",
            f"{ROOT_NAME} A {self.root}",
            f"test. NS {PARENT_NAME}",
            f"{PARENT_NAME} A {self.parent}",
            *(f"{n} A {a}" for n, a in sorted(hosts.items()) if not n.endswith(".test.")),
        ]
        parent_zone = [
            "$TTL 86400",
            f"test. SOA {PARENT_NAME} hostmaster.test. 1 3600 600 604800 60",
            f"test. NS {PARENT_NAME}",
            f"{PARENT_NAME} A {self.parent}",
            *(f"{self.zone} 86400 NS {n}" for n in delegated),
        ]
        child_zone = [
            "$TTL 3600",
            f"{self.zone} SOA {all_ns[0]} hostmaster.{self.zone} 1 3600 600 604800 60",
            *(f"{self.zone} 3600 NS {n}" for n in all_ns),
            *self.records,
        ]
        (self.home / "root.zone").write_text("\n".join(root_zone) + "\n")
        (self.home / "parent.zone").write_text("\n".join(parent_zone) + "\n")
        (self.home / "child.zone").write_text("\n".join(child_zone) + "\n")
        listen = "; ".join([self.root, self.parent, *hosts.values()])
        provider_addrs = "; ".join(hosts.values())
        return f"""options {{
    directory "{self.home}";
    listen-on port 53 {{ {listen}; }};
    listen-on-v6 {{ none; }};
    pid-file none;
    session-keyfile none;
    managed-keys-directory "{self.home}";
    recursion no;
    allow-transfer {{ none; }};
    notify no;
    dnssec-validation no;
}};
controls {{ }};
view root {{
    match-destinations {{ {self.root}; }};
    zone "." {{ type primary; file "{self.home}/root.zone"; }};
}};
view parent {{
    match-destinations {{ {self.parent}; }};
    zone "test." {{ type primary; file "{self.home}/parent.zone"; }};
}};
view providers {{
    match-destinations {{ {provider_addrs}; }};
    zone "{self.zone}" {{ type primary; file "{self.home}/child.zone"; }};
}};
"""

    def _unbound_conf(self) -> str:
        (self.home / "root.hints").write_text(
            f". 3600000 NS {ROOT_NAME}\n{ROOT_NAME} 3600000 A {self.root}\n"
        )
        return f"""server:
    interface: {self.resolver}
    outgoing-interface: {self.resolver}
    access-control: 127.0.0.0/8 allow
    do-ip6: no
    do-not-query-localhost: no
    username: ""
    chroot: ""
    directory: "{self.home}"
    pidfile: ""
    use-syslog: no
    logfile: ""
    module-config: "iterator"
    root-hints: "{self.home}/root.hints"
    local-zone: "test." nodefault
remote-control:
    control-enable: no
"""

    def start(self) -> MiniInternet:
        self.home.mkdir(parents=True, exist_ok=True)
        addrs = [self.root, self.parent, self.resolver, *self.addresses().values()]
        present = subprocess.run(
            ["ip", "-o", "-4", "addr", "show", "dev", "lo"], capture_output=True, text=True
        ).stdout
        for addr in addrs:
            if f" {addr}/" in present:
                continue
            subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", "lo"], check=True)
            self.added.append(addr)
        (self.home / "named.conf").write_text(self._named_conf())
        (self.home / "unbound.conf").write_text(self._unbound_conf())
        named = shutil.which("named", path="/usr/sbin:/usr/bin") or "named"
        unbound = shutil.which("unbound", path="/usr/sbin:/usr/bin") or "unbound"
        for argv, log in (
            ([named, "-g", "-c", str(self.home / "named.conf")], "named.log"),
            ([unbound, "-d", "-c", str(self.home / "unbound.conf")], "unbound.log"),
        ):
            with (self.home / log).open("wb") as fh:
                self.procs.append(
                    subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=self.home)
                )
        self._wait()
        return self

    def _wait(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        for addr, name in ((self.root, "."), (self.parent, "test."), (self.resolver, "test.")):
            while True:
                try:
                    dns.query.udp(dns.message.make_query(name, "SOA"), addr, timeout=0.5)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        logs = [(self.home / f).read_text()[-1500:] for f in ("named.log",)]
                        raise RuntimeError(f"mini internet: {addr} silent; {logs}") from None
                    time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        for addr in self.added:
            subprocess.run(["ip", "addr", "del", f"{addr}/32", "dev", "lo"], capture_output=True)
        self.added.clear()
