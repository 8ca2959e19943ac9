"""AXFR read on the bytes: hand-built transfers, TSIG-signed like BIND signs them."""

from __future__ import annotations

import base64

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import pytest

from dnsops.probe import TsigKey
from dnsops.probe.xfr import AxfrReader, TransferFailed

ORIGIN = dns.name.from_text("example.test.")
SECRET = base64.b64encode(bytes(range(32))).decode()
KEY = dns.tsig.Key("dnsops-lab.", SECRET, "hmac-sha256")


def rr(name: str, ttl: int, rdtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", rdtype, *values)


SOA = rr(
    "example.test.", 3600, "SOA", "ns1.bind.test. hostmaster.example.test. 7 3600 600 604800 60"
)
ZONE = [
    rr("example.test.", 86400, "NS", "ns1.bind.test.", "ns1.pdns.test."),
    rr("example.test.", 3600, "A", "192.0.2.10", "192.0.2.11"),
    rr("api.example.test.", 60, "A", "192.0.2.20"),
    rr("Mail.Example.test.", 3600, "MX", "10 MX1.example.test."),
]


def transfer(
    signed: bool = True, split: int = 2, tamper: bool = False
) -> tuple[dns.message.Message, list[bytes]]:
    """An AXFR query and its response in two messages (SOA ... | ... SOA)."""
    query = dns.message.make_query(ORIGIN, dns.rdatatype.AXFR)
    if signed:
        query.use_tsig(KEY)
    query.to_wire()
    records = [SOA, *ZONE, SOA]
    wires, ctx = [], None
    for part in (records[:split], records[split:]):
        resp = dns.message.make_response(query)
        if wires:
            resp.question = []
        resp.answer.extend(part)
        data = resp.to_wire(multi=True, tsig_ctx=ctx)
        ctx = resp.tsig_ctx
        wires.append(data)
    if tamper:
        wires[1] = wires[1].replace(b"\xc0\x00\x02\x14", b"\xc0\x00\x02\x15")
    return query, wires


def reader(query: dns.message.Message, key: dns.tsig.Key | None = KEY) -> AxfrReader:
    return AxfrReader(query.id, ORIGIN, key, query.mac or b"")


def canonical(
    rrsets: list[dns.rrset.RRset],
) -> dict[tuple[bytes, int], tuple[int, tuple[bytes, ...]]]:
    return {
        (r.name.canonicalize().to_wire(), int(r.rdtype)): (
            r.ttl,
            tuple(sorted(x.to_digestable() for x in r)),
        )
        for r in rrsets
    }


def test_a_signed_two_message_transfer_yields_every_rrset() -> None:
    query, wires = transfer()
    r = reader(query)
    assert r.feed(wires[0]) is False
    assert r.feed(wires[1]) is True
    got = {k: (v.ttl, v.rdatas) for k, v in r.rrsets.items()}
    assert got == canonical([SOA, *ZONE])


def test_an_unsigned_transfer_reads_without_a_key() -> None:
    query, wires = transfer(signed=False, split=5)
    r = reader(query, key=None)
    assert [r.feed(w) for w in wires] == [False, True]
    assert len(r.rrsets) == 5


def test_a_tampered_message_fails_the_tsig_check() -> None:
    query, wires = transfer(tamper=True)
    assert b"\xc0\x00\x02\x15" in wires[1], "the tamper hit the A record 192.0.2.20"
    r = reader(query)
    r.feed(wires[0])
    with pytest.raises(TransferFailed, match="BadSignature"):
        r.feed(wires[1])


def test_an_unsigned_response_to_a_signed_query_is_refused() -> None:
    query, _ = transfer()
    _, unsigned = transfer(signed=False)
    with pytest.raises(TransferFailed, match="not TSIG-signed"):
        reader(query).feed(_with_id(unsigned[0], query.id))


def test_refusal_carries_the_rcode() -> None:
    query = dns.message.make_query(ORIGIN, dns.rdatatype.AXFR)
    resp = dns.message.make_response(query)
    resp.set_rcode(dns.rcode.REFUSED)
    with pytest.raises(TransferFailed) as info:
        reader(query, key=None).feed(resp.to_wire())
    assert (info.value.reason, info.value.rcode) == ("REFUSED", 5)


def test_messages_of_another_transfer_or_without_soa_are_rejected() -> None:
    query, wires = transfer(signed=False)
    with pytest.raises(TransferFailed, match="not a reply"):
        reader(query, key=None).feed(_with_id(wires[0], (query.id + 1) & 0xFFFF))
    resp = dns.message.make_response(query)
    resp.answer.extend(ZONE)
    with pytest.raises(TransferFailed, match="start with the zone's SOA"):
        reader(query, key=None).feed(resp.to_wire())


def test_tsig_key_never_shows_its_secret() -> None:
    key = TsigKey("dnsops-lab", SECRET)
    assert SECRET not in repr(key) and SECRET not in str(key)
    assert key.key().secret == base64.b64decode(SECRET)


def _with_id(data: bytes, qid: int) -> bytes:
    return qid.to_bytes(2, "big") + data[2:]
