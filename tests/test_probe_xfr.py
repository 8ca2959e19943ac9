"""The AXFR protocol processor (dnsops.probe.xfr.Inbound), no I/O: hand-built responses,
TSIG-signed like BIND signs them, fed message by message to both sinks."""

from __future__ import annotations

import base64
from typing import Any

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import pytest

from dnsops.probe import TsigKey
from dnsops.probe.xfr import Inbound, RRsetSink, TextSink, TransferFailed

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


def reader(query: dns.message.Message, key: dns.tsig.Key | None = KEY) -> Inbound[Any]:
    return Inbound(ORIGIN, RRsetSink(), qid=query.id, key=key, request_mac=query.mac or b"")


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
    assert r.process_message(wires[0]) is False
    assert r.process_message(wires[1]) is True
    got = {k: (v.ttl, v.rdatas) for k, v in r.result().items()}
    assert got == canonical([SOA, *ZONE])


def test_an_unsigned_transfer_reads_without_a_key() -> None:
    query, wires = transfer(signed=False, split=5)
    r = reader(query, key=None)
    assert [r.process_message(w) for w in wires] == [False, True]
    assert len(r.result()) == 5


def test_a_tampered_message_fails_the_tsig_check() -> None:
    query, wires = transfer(tamper=True)
    assert b"\xc0\x00\x02\x15" in wires[1], "the tamper hit the A record 192.0.2.20"
    r = reader(query)
    r.process_message(wires[0])
    with pytest.raises(TransferFailed, match="BadSignature") as info:
        r.process_message(wires[1])
    assert info.value.kind == "tsig"


def test_an_unsigned_response_to_a_signed_query_is_refused() -> None:
    query, _ = transfer()
    _, unsigned = transfer(signed=False)
    with pytest.raises(TransferFailed, match="not TSIG-signed"):
        reader(query).process_message(_with_id(unsigned[0], query.id))


def test_refusal_carries_the_rcode() -> None:
    query = dns.message.make_query(ORIGIN, dns.rdatatype.AXFR)
    resp = dns.message.make_response(query)
    resp.set_rcode(dns.rcode.REFUSED)
    with pytest.raises(TransferFailed) as info:
        reader(query, key=None).process_message(resp.to_wire())
    assert (info.value.reason, info.value.rcode, info.value.kind) == ("REFUSED", 5, "rcode")


def test_messages_of_another_transfer_or_without_soa_are_rejected() -> None:
    query, wires = transfer(signed=False)
    with pytest.raises(TransferFailed, match="not a reply"):
        reader(query, key=None).process_message(_with_id(wires[0], (query.id + 1) & 0xFFFF))
    resp = dns.message.make_response(query)
    resp.answer.extend(ZONE)
    with pytest.raises(TransferFailed, match="start with the zone's SOA"):
        reader(query, key=None).process_message(resp.to_wire())


def test_tsig_key_never_shows_its_secret() -> None:
    key = TsigKey("dnsops-lab", SECRET)
    assert SECRET not in repr(key) and SECRET not in str(key)
    assert key.key().secret == base64.b64decode(SECRET)


def _with_id(data: bytes, qid: int) -> bytes:
    return qid.to_bytes(2, "big") + data[2:]


# -- framing, TSIG and malformed messages ------------------------------------------------


def response(
    query: dns.message.Message, *parts: list[dns.rrset.RRset], question: bool = True
) -> list[bytes]:
    """Messages answering ``query``, one per part, signed (chained) when it was."""
    wires, ctx = [], None
    for part in parts:
        resp = dns.message.make_response(query)
        if wires or not question:
            resp.question = []
        resp.answer.extend(part)
        wires.append(resp.to_wire(multi=True, tsig_ctx=ctx))
        ctx = resp.tsig_ctx
    return wires


def signed_query(zone: str = "example.test.") -> dns.message.Message:
    query = dns.message.make_query(zone, dns.rdatatype.AXFR)
    query.use_tsig(KEY)
    query.to_wire()
    return query


def fails(r: Inbound[Any], wires: list[bytes], match: str) -> TransferFailed:
    with pytest.raises(TransferFailed, match=match) as info:
        for w in wires:
            r.process_message(w)
        r.result()
    return info.value


def test_a_response_without_its_closing_soa_is_incomplete() -> None:
    query = signed_query()
    wires = response(query, [SOA, *ZONE[:2]], ZONE[2:])
    r = reader(query)
    assert [r.process_message(w) for w in wires] == [False, False]
    with pytest.raises(TransferFailed, match="before its closing SOA") as info:
        r.result()
    assert info.value.kind == "incomplete"


def test_a_truncated_message_is_malformed() -> None:
    query, wires = transfer()
    r = reader(query)
    r.process_message(wires[0])
    for cut in (3, 40, len(wires[1]) - 5):
        again = reader(query)
        again.process_message(wires[0])
        err = fails(again, [wires[1][:cut]], "malformed")
        assert err.malformed


def test_trailing_bytes_after_the_last_record_are_malformed() -> None:
    query, wires = transfer(signed=False)
    assert fails(
        reader(query, key=None), [wires[0] + b"\x00\x00"], "after the last record"
    ).malformed


def test_the_answer_of_another_zone_is_rejected() -> None:
    other = signed_query("other.test.")
    other_soa = rr("other.test.", 3600, "SOA", "ns1.bind.test. h.other.test. 1 3600 600 604800 60")
    wires = response(other, [other_soa, other_soa])
    query = signed_query()
    # the other transfer's ID and question: not this transfer's
    fails(reader(query), [_with_id(wires[0], query.id)], "another question")
    # no question, but its first record is not this zone's SOA
    unasked = response(query, [other_soa, *ZONE, other_soa], question=False)
    fails(reader(query), unasked, "does not start with the zone's SOA")


def test_another_soa_of_the_zone_inside_the_transfer_is_an_error() -> None:
    """An IXFR-style answer (new SOA, old SOA, changes...) or a zone that changed meanwhile."""
    query = signed_query()
    old = rr(
        "example.test.", 3600, "SOA", "ns1.bind.test. hostmaster.example.test. 6 3600 600 604800 60"
    )
    wires = response(query, [SOA, old, *ZONE, SOA])
    assert fails(reader(query), wires, "another SOA of the zone").kind == "protocol"


def test_nothing_may_follow_the_closing_soa() -> None:
    query = signed_query()
    in_the_same_message = response(query, [SOA, *ZONE, SOA, ZONE[2]])
    fails(reader(query), in_the_same_message, "after the closing SOA")
    query2, wires = transfer()
    r = reader(query2)
    for w in wires:
        r.process_message(w)
    with pytest.raises(TransferFailed, match="after the end"):
        r.process_message(wires[1])


def test_the_last_message_must_be_signed_and_by_our_key() -> None:
    query, signed = transfer()
    _, unsigned = transfer(signed=False)
    r = reader(query)
    r.process_message(signed[0])
    assert fails(r, [_with_id(unsigned[1], query.id)], "not TSIG-signed").kind == "tsig"
    stranger = dns.tsig.Key("someone-else.", SECRET, "hmac-sha256")
    other = dns.message.make_query(ORIGIN, dns.rdatatype.AXFR)
    other.use_tsig(stranger)
    other.to_wire()
    wires = response(other, [SOA, *ZONE, SOA])
    assert fails(reader(query), [_with_id(wires[0], query.id)], "unknown key").kind == "tsig"


def test_the_text_sink_reads_what_dnspython_reads() -> None:
    """Owner case kept, names in rdatas as sent, the lowest TTL of an RRset, duplicates once."""
    extra = [
        rr("_sip._tcp.example.test.", 600, "SRV", "10 20 5060 Sip.Example.test."),
        rr("www.example.test.", 300, "CNAME", "api.example.test."),
        rr("txt.example.test.", 300, "TXT", '"a \\"quoted\\" one; with semicolons"'),
        rr("api.example.test.", 30, "A", "192.0.2.20", "192.0.2.21"),
    ]
    query = signed_query()
    wires = response(query, [SOA, *ZONE], [*extra, SOA])
    r = Inbound(ORIGIN, TextSink(), qid=query.id, key=KEY, request_mac=query.mac or b"")
    for w in wires:
        r.process_message(w)
    got = r.result()
    # dnspython's reading of the same messages (unsigned: the same bytes otherwise)
    plain = dns.message.make_query(ORIGIN, dns.rdatatype.AXFR)
    want: dict[tuple[str, str], tuple[int, list[str]]] = {}
    read = [
        rrset
        for w in response(plain, [SOA, *ZONE], [*extra, SOA])
        for rrset in dns.message.from_wire(w, one_rr_per_rrset=True).answer
    ]
    for rrset in read[:-1]:  # all but the closing SOA
        k = (rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype))
        ttl, texts = want.get(k, (rrset.ttl, []))
        texts += [t for t in (rd.to_text() for rd in rrset) if t not in texts]
        want[k] = (min(ttl, rrset.ttl), texts)
    assert {k: (ttl, sorted(v)) for k, (ttl, v) in got.items()} == {
        k: (ttl, sorted(v)) for k, (ttl, v) in want.items()
    }
    # the owner's suffix is compressed against the question ("example.test."): its case
    assert got[("Mail.example.test.", "MX")] == (3600, ["10 MX1.example.test."])
    assert got[("_sip._tcp.example.test.", "SRV")] == (600, ["10 20 5060 Sip.Example.test."])
    assert got[("api.example.test.", "A")] == (30, ["192.0.2.20", "192.0.2.21"])


def test_the_text_sink_wants_an_apex_ns() -> None:
    query = signed_query()
    wires = response(query, [SOA, ZONE[1], SOA])
    r = Inbound(ORIGIN, TextSink(), qid=query.id, key=KEY, request_mac=query.mac or b"")
    fails(r, wires, "no NS RRset at the zone's apex")
