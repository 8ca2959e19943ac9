"""A BIND of a test's own, beside the lab: on its own loopback address, serving one zone.

The rogue server (recursion and transfers for anyone), a server one serial behind,
a zone with a DNSKEY RRset big enough to truncate: each test brings its zone file and
the options that make it what it is; the rest (listen only there, no control channel,
no pid file, stopped and its address removed at the end) is here.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import dns.flags
import dns.message
import dns.query

# an authoritative-only server: what every test BIND starts from
AUTHORITATIVE = ("recursion no;", "allow-transfer { none; };", "dnssec-validation no;")


@contextlib.contextmanager
def extra_bind(
    home: Path,
    address: str,
    zone: str,
    zone_text: str,
    options: Sequence[str] = AUTHORITATIVE,
    more: str = "",
) -> Iterator[str]:
    """``named`` on ``address`` serving ``zone`` from ``zone_text`` until the block ends.

    ``options`` go into the options block; ``more`` after the zone (another zone, say).
    Yields the address once the server answers the zone's SOA authoritatively.
    """
    home.mkdir(parents=True, exist_ok=True)
    (home / "zone").write_text(zone_text)
    lines = "".join(f"    {o}\n" for o in options)
    (home / "named.conf").write_text(
        f"""options {{
    directory "{home}";
    listen-on port 53 {{ {address}; }};
    listen-on-v6 {{ none; }};
    pid-file none;
    session-keyfile none;
    notify no;
{lines}}};
controls {{ }};
zone "{zone.rstrip(".")}" {{ type primary; file "{home}/zone"; }};
{more}"""
    )
    added = subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], capture_output=True)
    with (home / "named.log").open("wb") as log:
        proc = subprocess.Popen(
            ["named", "-g", "-c", str(home / "named.conf")], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_answering(address, zone, proc, home)
            yield address
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if added.returncode == 0:
                subprocess.run(
                    ["ip", "addr", "del", f"{address}/32", "dev", "lo"], capture_output=True
                )


def wait_answering(address: str, zone: str, proc: subprocess.Popen[bytes], home: Path) -> None:
    """Until ``address`` answers ``zone``'s SOA with AA (20 s at most); its log if it died."""
    query = dns.message.make_query(zone, "SOA")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, (home / "named.log").read_text()
        try:
            if dns.query.udp(query, address, timeout=0.2).flags & dns.flags.AA:
                return
        except Exception:
            time.sleep(0.1)
    raise AssertionError("the test's BIND never answered:\n" + (home / "named.log").read_text())
