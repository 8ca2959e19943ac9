"""dnsops.sync.axfr: the same records as octodns-bind's own AXFR populate, read faster.

A small AXFR server (a thread, one address of this test net) answers from a
zone built here, TSIG-signed over several messages the way BIND signs them;
octodns-bind's ``zone_records`` and dnsops's are asked the same zone and must
return exactly the same records.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import pytest
from octodns.zone import Zone
from octodns_bind import AxfrSourceZoneTransferFailed, Rfc2136Provider

from dnsops.probe.transfer import Retry
from dnsops.sync import axfr
from tests.conftest import TEST_NET

ADDRESS = f"{TEST_NET}.9.5"
KEY_NAME = "dnsops-lab"
SECRET = base64.b64encode(bytes(range(32))).decode()
ORIGIN = "example.test."


def rr(name: str, ttl: int, rdtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", rdtype, *values)


SOA = rr(ORIGIN, 3600, "SOA", "ns1.bind.test. hostmaster.example.test. 7 3600 600 604800 60")
ZONE = [
    rr(ORIGIN, 86400, "NS", "ns1.bind.test.", "ns1.pdns.test."),
    rr(ORIGIN, 3600, "A", "192.0.2.10", "192.0.2.11"),
    rr(ORIGIN, 3600, "MX", "10 mx1.example.test.", "20 MX2.Example.Test."),
    rr(ORIGIN, 3600, "TXT", '"v=spf1 mx -all"', '"a \\"quoted\\" one; with semicolons"'),
    rr(ORIGIN, 86400, "CAA", '0 issue "letsencrypt.org"', '0 issuewild ";"'),
    rr("Api.Example.test.", 60, "A", "192.0.2.20", "192.0.2.21"),
    rr("v6.example.test.", 300, "AAAA", "2001:db8::1", "2001:db8:0:0:1:0:0:1"),
    rr("www.example.test.", 300, "CNAME", "Api.example.test."),
    rr("_sip._tcp.example.test.", 600, "SRV", "10 20 5060 sip.example.test."),
    rr("sub.example.test.", 86400, "NS", "ns1.elsewhere.example.", "ns2.elsewhere.example."),
    rr("*.wild.example.test.", 300, "A", "192.0.2.30"),
    rr("odd\\.dot.example.test.", 300, "TXT", '"escaped owner"'),
    rr("at\\@sign.example.test.", 300, "A", "192.0.2.31"),
    rr("10.2.0.192.in-addr.example.test.", 300, "PTR", "host.example.test."),
    rr("ssh.example.test.", 300, "SSHFP", "1 2 " + "cd" * 32),
    rr("_443._tcp.example.test.", 300, "TLSA", "3 1 1 " + "ab" * 32),
    rr("loc.example.test.", 300, "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
    rr("naptr.example.test.", 300, "NAPTR", '100 10 "S" "SIP+D2U" "" _sip._udp.example.test.'),
    # the same RRset again with a lower TTL (BIND never does, dnspython takes the lowest)
    rr("dup.example.test.", 600, "A", "192.0.2.40", "192.0.2.41"),
]
LATE = [rr("dup.example.test.", 60, "A", "192.0.2.41", "192.0.2.42")]


class AxfrServer:
    """Answers every AXFR query on one TCP socket with ``respond(query_wire)``."""

    def __init__(self, respond: Callable[[bytes], list[bytes]]) -> None:
        self.respond = respond
        self.sock = socket.socket()
        self.sock.bind((ADDRESS, 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # the client may hang up first
                size = struct.unpack("!H", _recv(conn, 2))[0]
                for wire in self.respond(_recv(conn, size)):
                    conn.sendall(struct.pack("!H", len(wire)) + wire)

    def close(self) -> None:
        self.sock.close()


def _recv(conn: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = conn.recv(size - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf


def signed_transfer(sign_with: str | None = None, rcode: int = 0) -> Callable[[bytes], list[bytes]]:
    """A response in four messages (SOA ... | ... | ... | ... SOA), TSIG-signed like BIND:
    every message signed, each MAC chained to the previous one (``sign_with``: signed
    with another secret under the same key name)."""
    keyring = dns.tsigkeyring.from_text({KEY_NAME: SECRET})
    other = dns.tsigkeyring.from_text({KEY_NAME: sign_with}) if sign_with else None

    def respond(qwire: bytes) -> list[bytes]:
        query = dns.message.from_wire(qwire, keyring=keyring)
        records = [SOA, *ZONE, *LATE, SOA]
        parts = [records[:3], records[3:11], records[11:17], records[17:]]
        if rcode:
            resp = dns.message.make_response(query)
            resp.set_rcode(rcode)
            return [resp.to_wire()]
        wires, ctx = [], None
        for part in parts:
            resp = dns.message.make_response(query)
            if other is not None:
                resp.use_tsig(other, keyname=KEY_NAME)
            if wires:
                resp.question = []
            resp.answer.extend(part)
            wires.append(resp.to_wire(multi=True, tsig_ctx=ctx))
            ctx = resp.tsig_ctx
        return wires

    return respond


@pytest.fixture
def server() -> Iterator[AxfrServer]:
    srv = AxfrServer(signed_transfer())
    yield srv
    srv.close()


def provider(port: int, secret: str = SECRET) -> Rfc2136Provider:
    return Rfc2136Provider(
        "bind", ADDRESS, port=port, key_name=KEY_NAME, key_secret=secret, timeout=5
    )


def records(rrs: list[Any]) -> list[tuple[str, str, int, str]]:
    return sorted((r.name, r._type, r.ttl, r.rdata) for r in rrs)


def test_the_same_records_as_octodns_bind(server: AxfrServer) -> None:
    bind = provider(server.port)
    theirs = records(bind.zone_records(Zone(ORIGIN, []), target=True))
    ours = records(
        axfr.zone_records(bind, Zone(ORIGIN, []), fallback=lambda: pytest.fail("fell back"))
    )
    assert ours == theirs
    found = {(name, rtype) for name, rtype, _, _ in ours}
    # case kept as served (the suffix compressed against the question's "example.test.")
    assert ("Api.example.test.", "A") in found
    assert ("odd\\.dot.example.test.", "TXT") in found and ("at\\@sign.example.test.", "A") in found
    assert {t for n, t, _, _ in ours if n == "dup.example.test."} == {"A"}
    dup = [(ttl, v) for n, _, ttl, v in ours if n == "dup.example.test."]
    assert dup == [(60, "192.0.2.40"), (60, "192.0.2.41"), (60, "192.0.2.42")]
    assert all(rtype != "SOA" for _, rtype, _, _ in ours)  # not in octodns-bind's SUPPORTS


def test_populate_through_the_installed_reader(server: AxfrServer) -> None:
    bind = provider(server.port)
    assert axfr.install(bind) is True
    assert axfr.install(bind) is False  # once
    ours = Zone(ORIGIN, [])
    bind.populate(ours, target=True)
    reference = provider(server.port)
    theirs = Zone(ORIGIN, [])
    reference.populate(theirs, target=True)
    assert sorted((r.fqdn, r._type, r.ttl, repr(r.data)) for r in ours.records) == sorted(
        (r.fqdn, r._type, r.ttl, repr(r.data)) for r in theirs.records
    )
    assert len(ours.records) == len(ZONE)  # every RRset (dup.example.test. once)


def test_other_providers_are_left_alone() -> None:
    class Other:
        def zone_records(self) -> str:
            return "theirs"

    other = Other()
    assert axfr.install(other) is False
    assert other.zone_records() == "theirs"


OTHER_SECRET = base64.b64encode(b"another key entirely, 32 bytes!!").decode()


@pytest.mark.parametrize(
    ("respond", "says"),
    [
        (signed_transfer(rcode=dns.rcode.REFUSED), "REFUSED"),
        (signed_transfer(rcode=dns.rcode.NOTAUTH), "NOTAUTH"),
        (signed_transfer(sign_with=OTHER_SECRET), "TSIG: BadSignature"),
    ],
)
def test_failures_are_octodns_binds_exception(respond: Any, says: str) -> None:
    srv = AxfrServer(respond)
    try:
        with pytest.raises(AxfrSourceZoneTransferFailed) as theirs:
            provider(srv.port).zone_records(Zone(ORIGIN, []), target=True)
        with pytest.raises(AxfrSourceZoneTransferFailed) as ours:
            axfr.zone_records(
                provider(srv.port),
                Zone(ORIGIN, []),
                fallback=lambda: pytest.fail("fell back"),
                retry=Retry(attempts=2, base=0.01),  # a REFUSED is tried again, once here
            )
    finally:
        srv.close()
    assert type(ours.value) is type(theirs.value)
    assert says in str(ours.value)
    assert SECRET not in str(ours.value) and OTHER_SECRET not in str(ours.value)


def test_nothing_listening_fails_like_octodns_bind() -> None:
    """Connection errors come through unwrapped, as from octodns-bind (callers name them)."""
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        port = sock.getsockname()[1]  # nobody listens here once the socket is closed
    with pytest.raises(ConnectionRefusedError):
        provider(port).zone_records(Zone(ORIGIN, []), target=True)
    with pytest.raises(ConnectionRefusedError):
        axfr.zone_records(provider(port), Zone(ORIGIN, []), fallback=lambda: pytest.fail("fell"))


def test_an_unreadable_record_hands_over_to_octodns_bind() -> None:
    """A malformed rdata (a CAA without its tag): octodns-bind's own transfer decides."""
    broken = dns.rrset.RRset(dns.name.from_text(ORIGIN), dns.rdataclass.IN, dns.rdatatype.CAA)
    broken.add(dns.rdata.GenericRdata(dns.rdataclass.IN, dns.rdatatype.CAA, b"\x00\x05"), 60)

    def respond(qwire: bytes) -> list[bytes]:
        query = dns.message.from_wire(qwire, keyring=dns.tsigkeyring.from_text({KEY_NAME: SECRET}))
        resp = dns.message.make_response(query)
        resp.answer.extend([SOA, rr(ORIGIN, 60, "NS", "ns1.bind.test."), broken, SOA])
        return [resp.to_wire(multi=True)]

    srv = AxfrServer(respond)
    try:
        got = axfr.zone_records(provider(srv.port), Zone(ORIGIN, []), fallback=lambda: ["theirs"])
    finally:
        srv.close()
    assert got == ["theirs"]
