"""dnsops health against a misbehaving nameserver: a real lab server behind a proxy that
breaks EDNS, the query name's case or referrals (tests/ednsproxy.py).

The project copy pins provider bind's nameservers to ns1.bind.test. and the proxy's own
loopback address; the proxy forwards to ns2.bind.test. (or, for truncation, to a BIND of
this module whose copy of the zone carries a DNSKEY RRset too big for 512 bytes: the
lab's zone truncates nowhere at 512 bytes). Each fault must give exactly its finding,
naming the proxy, at the catalogue's severity, and exit 1 exactly when that is an error.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.tsigkeyring
import dns.zone
import pytest

from dnsops.config import Project
from dnsops.findings import Severity
from dnsops.health.checks import CATALOGUE
from dnsops.lab.runner import LabRunner
from tests.conftest import TEST_NET, make_project, run
from tests.ednsproxy import EdnsProxy
from tests.test_health_lab import BIND, synced  # noqa: F401 (the module's synced lab)
from tests.testbind import extra_bind

pytestmark = pytest.mark.lab

PROXY = f"{TEST_NET}.9.53"
BIG_DNSKEY = f"{TEST_NET}.9.54"  # a BIND whose zone truncates at 512 bytes
ZONE = "example.test."
SUBJECT = f"bind {PROXY}"


@pytest.fixture(scope="module")
def addresses() -> Iterator[None]:
    """The proxy's and the truncating BIND's loopback addresses, removed afterwards."""
    added = []
    for addr in (PROXY, BIG_DNSKEY):
        done = subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", "lo"], capture_output=True)
        if done.returncode == 0:
            added.append(addr)
    try:
        yield
    finally:
        for addr in added:
            subprocess.run(["ip", "addr", "del", f"{addr}/32", "dev", "lo"], capture_output=True)


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory, synced: Project) -> Path:  # noqa: F811
    """A project copy whose bind nameservers are ns1.bind.test. and the proxy."""
    root = make_project(tmp_path_factory.mktemp("edns") / "p")
    config = root / "dnsops.yaml"
    marker = "    lab: true\n"
    pin = f"    nameservers: {{bind: [ns1.bind.test., ns2.bind.test., {PROXY}]}}\n"
    text = config.read_text().replace(marker, marker + pin)
    text = text.replace("  state: .dnsops", f"  state: {synced.state_dir}")
    config.write_text(text)
    return root


@pytest.fixture(scope="module")
def big_dnskey(
    tmp_path_factory: pytest.TempPathFactory,
    synced: Project,  # noqa: F811
    addresses: None,
) -> Iterator[str]:
    """A BIND serving the lab BIND's zone (its transfer: same serial, same records) plus a
    DNSKEY RRset of about 1 KB: a DNSKEY query with DO at 512 bytes gets TC."""
    home = tmp_path_factory.mktemp("bigdnskey")
    secrets = LabRunner(synced).secrets()
    keyring = dns.tsigkeyring.from_text({secrets.tsig_name: secrets.tsig_secret})
    xfr = dns.query.xfr(
        BIND["ns1.bind.test."], ZONE, keyring=keyring, keyalgorithm="hmac-sha256", lifetime=10
    )
    zone = dns.zone.from_xfr(xfr).to_text(relativize=False)
    keys = "".join(
        f"{ZONE} 3600 IN DNSKEY 256 3 8 "
        + base64.b64encode(
            bytes([3, 1, 0, 1]) + bytes((7 * i + j) % 251 for j in range(256))
        ).decode()
        + "\n"
        for i in range(4)
    )
    with extra_bind(home, BIG_DNSKEY, ZONE, f"$ORIGIN {ZONE}\n{zone}\n{keys}") as address:
        yield address


def health(cli, root: Path) -> tuple[int, dict]:
    result = run(cli, root, "health", "--format", "json", "--vantage", "iad")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


ASKED = f"a SOA query for {ZONE}"
FAULTS = {
    "drop-edns": [
        (
            "ns-edns-breaks",
            f"answers a plain SOA query for {ZONE} (NOERROR), but the same query with EDNS0 gets "
            "no answer (timeout): resolvers, which all send EDNS, time out and retry without it",
        )
    ],
    "strip-opt": [
        ("ns-edns", "answered an EDNS0 query without an OPT record (NOERROR)"),
        ("ns-edns-version", "answered a query with EDNS version 1 with NOERROR, not BADVERS"),
    ],
    "echo-option": [
        (
            "ns-edns-option",
            f"echoed the unknown EDNS option 137 back in its reply to {ASKED} with an unknown "
            "EDNS option (code 137)",
        )
    ],
    "set-z": [
        (
            "ns-edns-flags",
            f"answered {ASKED} with an unknown EDNS flag (0x0001) with unknown EDNS flags 0x0002 "
            "set in its reply: they must be cleared",
        )
    ],
    "no-opt-when-truncated": [
        (
            "ns-edns-truncated",
            f"answered a DNSKEY query for {ZONE} with DO at a 512-byte buffer truncated (TC, "
            "NOERROR) and without an OPT record: resolvers conclude it does not speak EDNS",
        )
    ],
    "upcase": [
        (
            "ns-qname-case",
            "echoed the query name eXaMpLe.TeSt. as EXAMPLE.TEST.: the case must be preserved",
        )
    ],
    "upward": [
        (
            "ns-upward-referral",
            "answered a query for the NS of the root (.) with an upward referral to . "
            "(a.root-servers.net., b.root-servers.net.) instead of refusing: it sends resolvers "
            "in circles",
        )
    ],
}


@pytest.mark.parametrize("mode", sorted(FAULTS))
def test_a_fault_is_named_once_at_its_severity(
    cli,
    pinned: Path,
    big_dnskey: str,
    mode: str,
) -> None:
    upstream = big_dnskey if mode == "no-opt-when-truncated" else BIND["ns2.bind.test."]
    with EdnsProxy(PROXY, upstream, mode) as proxy:
        code, doc = health(cli, pinned)
    assert proxy.seen, "the fault never happened"
    expected = [
        (check, str(CATALOGUE[check].severity), SUBJECT, message) for check, message in FAULTS[mode]
    ]
    got = [(f["id"], f["severity"], f["subject"], f["message"]) for f in doc["findings"]]
    assert got == expected
    for f in doc["findings"]:
        assert (f["data"]["nameserver"], f["data"]["address"], f["zone"]) == (PROXY, PROXY, ZONE)
    worst = max(CATALOGUE[check].severity for check, _ in FAULTS[mode])
    assert code == (1 if worst >= Severity.ERROR else 0)
    assert code == {"drop-edns": 1, "strip-opt": 1}.get(mode, 0)
    rows = {r["address"]: r for r in doc["nameservers"]}
    assert rows[PROXY]["udp"] is True  # even when it breaks on EDNS: up, and broken


def test_a_server_that_truncates_keeps_opt(cli, pinned: Path, big_dnskey: str) -> None:
    """The real BIND, behind a proxy that breaks nothing: truncated, with OPT."""
    with EdnsProxy(PROXY, big_dnskey, "pass"):
        code, doc = health(cli, pinned)
    assert (code, doc["findings"]) == (0, [])
    checks = {c["id"]: c for c in doc["checks"]}
    # the lab's PowerDNS and BIND never truncate this zone at 512 bytes: not applicable
    truncated = checks["ns-edns-truncated"]
    assert (truncated["passed"], truncated["failed"], truncated["skipped"]) == (1, 0, 4)
    for check in ("ns-edns-breaks", "ns-edns-option", "ns-edns-flags", "ns-qname-case"):
        assert (checks[check]["passed"], checks[check]["failed"]) == (5, 0), check
    assert checks["ns-upward-referral"]["passed"] == 5  # 2 pdns, 2 bind, the proxy


def test_the_proxy_stops_cleanly(addresses: None) -> None:
    """No thread and no socket left behind: the address and port are free again at once."""
    with EdnsProxy(PROXY, BIND["ns2.bind.test."], "pass", port=_free_port()) as proxy:
        assert proxy._thread is not None and proxy._thread.is_alive()
    assert not any(t.name == "ednsproxy" for t in threading.enumerate())
    with EdnsProxy(PROXY, BIND["ns2.bind.test."], "pass", port=proxy.port):
        pass  # bound again: the last one closed its UDP and TCP sockets
    with pytest.raises(ValueError, match="no mode 'drop-all'"):
        EdnsProxy(PROXY, BIND["ns2.bind.test."], "drop-all")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((PROXY, 0))
        return int(s.getsockname()[1])
