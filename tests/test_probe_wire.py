"""The probe engine's pure core, with hand-built messages (no network)."""

from __future__ import annotations

import dataclasses
import struct

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from dnsops.probe import Expected, Query, Target, wire

T = Target("192.0.2.53", 53, "ns")


def reference(rdtype: str, values: list[str]) -> tuple[bytes, ...]:
    return tuple(sorted({dns.rdata.from_text("IN", rdtype, v).to_digestable() for v in values}))


@pytest.mark.parametrize(
    ("rdtype", "values"),
    [
        ("A", ["192.0.2.10", "192.0.2.11"]),
        ("AAAA", ["2001:db8::10", "2001:0db8:0:0::0011"]),
        ("TXT", ['"v=spf1 mx ip4:192.0.2.0/24 -all"']),
        ("TXT", ['"first chunk" "second chunk"', '""']),
        ("TXT", ['"v=DMARC1\\; p=reject"', '"tab\\009here"', '"quote \\" inside"']),
        ("TXT", ['"caf\\195\\169"']),
        ("SPF", ['"v=spf1 -all"']),
        ("CNAME", ["Example.Test."]),
        ("NS", ["ns1.PDNS.test."]),
        ("PTR", ["host.example.test."]),
        ("MX", ["10 MX1.example.test.", "20 mx2.example.test."]),
        ("SRV", ["10 60 5060 Sip.Example.Test."]),
        ("CAA", ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@example.test"']),
        ("SSHFP", ["1 1 0123456789abcdef0123456789abcdef01234567"]),
        ("NAPTR", ['100 10 "U" "E2U+sip" "!^.*$!sip:info@example.test!" .']),
    ],
)
def test_expected_is_dnspython_canonical_form(rdtype: str, values: list[str]) -> None:
    exp = wire.expected(rdtype, 300, values)
    assert exp == Expected(int(dns.rdatatype.from_text(rdtype)), 300, reference(rdtype, values))


def test_expected_rejects_bad_values() -> None:
    with pytest.raises(dns.exception.SyntaxError):
        wire.expected("MX", 60, ["ten mx1.example.test."])
    with pytest.raises(OSError):
        wire.expected("A", 60, ["192.0.2.300"])


@pytest.mark.parametrize(
    "text", ["example.test.", "A.B.Example.TEST.", ".", "a\\.b.example.test.", "xn--caf-dma.test."]
)
def test_name_matches_dnspython(text: str) -> None:
    assert wire.name(text) == dns.name.from_text(text)
    assert wire.name(text).to_wire() == dns.name.from_text(text).to_wire()


def test_template_renders_the_query_dnspython_would() -> None:
    q = Query.make(T, "api.example.test.", "A", rd=True, edns=0, payload=1232)
    tpl = wire.Template(q)
    msg = dns.message.from_wire(tpl.wire(0xBEEF))
    assert msg.id == 0xBEEF
    assert msg.flags == dns.flags.RD
    assert msg.question[0].to_text() == "api.example.test. IN A"
    assert (msg.edns, msg.payload) == (0, 1232)
    assert tpl.question_of() == wire.question(q.qname, q.rdtype)
    plain = dns.message.from_wire(wire.Template(Query.make(T, "x.test.", "SOA", edns=None)).wire(7))
    assert (plain.id, plain.flags, plain.edns) == (7, 0, -1)
    badvers = dns.message.from_wire(wire.Template(Query.make(T, "x.test.", "SOA", edns=1)).wire(7))
    assert badvers.edns == 1


def reply(
    qname: str,
    rdtype: str,
    rrsets: list[dns.rrset.RRset],
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
) -> tuple[Query, bytes]:
    q = Query.make(T, qname, rdtype)
    msg = dns.message.make_query(qname, rdtype)
    r = dns.message.make_response(msg)
    r.set_rcode(rcode)
    r.answer.extend(rrsets)
    return q, r.to_wire()


def rr(name: str, ttl: int, rdtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text(name, ttl, "IN", rdtype, *values)


def check(q: Query, data: bytes, expect: Expected) -> tuple[int | None, bool]:
    """Both verdicts; the quick one must never vouch for what the reference rejects."""
    quick = wire.quick_match(data, len(wire.question(q.qname, q.rdtype)), expect)
    full = wire.match_message(dns.message.from_wire(data), q.qname, expect)
    assert quick is None or full, "quick_match vouched for a reply match_message rejects"
    return quick, full


MX = wire.expected("MX", 300, ["10 mx1.example.test.", "20 mx2.example.test."])


def test_quick_match_exact_answer_gives_its_ttl() -> None:
    q, data = reply(
        "www.example.test.",
        "MX",
        [rr("www.example.test.", 300, "MX", "10 mx1.example.test.", "20 mx2.example.test.")],
    )
    assert check(q, data, MX) == (300, True)


def test_quick_match_ignores_order_case_and_compression() -> None:
    served = rr("www.example.test.", 300, "MX", "20 MX2.Example.Test.", "10 mx1.EXAMPLE.test.")
    q, data = reply("www.example.test.", "MX", [served])
    assert b"\xc0" in data[40:], "dnspython compresses the exchange names"
    assert check(q, data, MX) == (300, True)


@pytest.mark.parametrize(
    "served",
    [
        [rr("www.example.test.", 300, "MX", "10 mx1.example.test.")],  # one value missing
        [rr("www.example.test.", 300, "MX", "10 mx1.example.test.", "30 mx2.example.test.")],
        [rr("www.example.test.", 60, "MX", "10 mx1.example.test.", "20 mx2.example.test.")],
        [
            rr("www.example.test.", 300, "CNAME", "web.example.test."),
            rr("web.example.test.", 300, "MX", "10 mx1.example.test.", "20 mx2.example.test."),
        ],
        [],
    ],
    ids=["missing-value", "other-value", "other-ttl", "cname-chain", "nodata"],
)
def test_quick_match_and_reference_reject_differences(served: list[dns.rrset.RRset]) -> None:
    q, data = reply("www.example.test.", "MX", served)
    assert check(q, data, MX) == (None, False)


def test_rcode_other_than_noerror_never_matches() -> None:
    q, data = reply("www.example.test.", "MX", [], rcode=dns.rcode.NXDOMAIN)
    assert check(q, data, MX) == (None, False)


def test_resolver_ttls_may_be_lower_but_not_higher() -> None:
    exp = wire.expected("A", 60, ["192.0.2.20"], ttl_at_most=True)
    q, lower = reply("api.example.test.", "A", [rr("api.example.test.", 42, "A", "192.0.2.20")])
    assert check(q, lower, exp) == (42, True)
    q, higher = reply("api.example.test.", "A", [rr("api.example.test.", 61, "A", "192.0.2.20")])
    assert check(q, higher, exp) == (None, False)


def test_uncompressed_owner_is_left_to_the_reference() -> None:
    """A server may write the owner name in full: not decided on the bytes, still a match."""
    q = Query.make(T, "a.test.", "A")
    qwire = wire.question(q.qname, q.rdtype)
    owner = dns.name.from_text("a.test.").to_wire()
    answer = owner + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, 1])
    data = struct.pack("!6H", 1, 0x8400, 1, 1, 0, 0) + qwire + answer
    assert check(q, data, wire.expected("A", 60, ["192.0.2.1"])) == (None, True)


@pytest.mark.parametrize("cut", [5, 12, 30, -3])
def test_truncated_garbage_is_never_a_match(cut: int) -> None:
    q, data = reply(
        "www.example.test.",
        "MX",
        [rr("www.example.test.", 300, "MX", "10 mx1.example.test.", "20 mx2.example.test.")],
    )
    assert wire.quick_match(data[:cut], len(wire.question(q.qname, q.rdtype)), MX) is None


def test_rdata_at_matches_to_digestable_inside_a_message() -> None:
    rrsets = [
        rr("x.example.test.", 60, "SRV", "10 60 5060 SIP.example.test."),
        rr("x.example.test.", 60, "CNAME", "Target.Example.Test."),
        rr("x.example.test.", 60, "CAA", '0 issue "ca.example"'),
        rr("x.example.test.", 60, "SOA", "ns1.example.test. host.example.test. 1 2 3 4 5"),
    ]
    for rrset in rrsets:
        msg = dns.message.make_response(dns.message.make_query("x.example.test.", rrset.rdtype))
        msg.answer.append(rrset)
        data = msg.to_wire()
        off = 12 + len(wire.question(dns.name.from_text("x.example.test."), rrset.rdtype))
        rdlen = struct.unpack_from("!H", data, off + 10)[0]
        got = wire.rdata_at(data, off + 12, rdlen, int(rrset.rdtype))
        assert got == rrset[0].to_digestable()
        assert wire.to_text(int(rrset.rdtype), got) == rrset[0].to_text().lower()


def test_wire_name_refuses_loops_and_overruns() -> None:
    loop = b"\x00" * 12 + b"\xc0\x0c"
    with pytest.raises(ValueError, match="compression loop"):
        wire.wire_name(loop, 12)
    with pytest.raises(IndexError):
        wire.wire_name(b"\x05ab", 0)
    with pytest.raises(ValueError, match="label type"):
        wire.wire_name(b"\x41abc", 0)
    assert wire.wire_name(b"\x03ABC\x00rest", 0) == (b"\x03abc\x00", 5)


def test_result_parses_lazily_and_reports_served_values() -> None:
    from dnsops.probe import Result

    q, data = reply(
        "www.example.test.",
        "MX",
        [rr("www.example.test.", 300, "MX", "20 mx2.example.test.", "10 mx1.example.test.")],
    )
    res = Result(q, rcode=0, flags=0x8400, wire=data)
    assert res._message is None
    assert res.served() == (300, ("10 mx1.example.test.", "20 mx2.example.test."))
    assert res.aa and res.answered and res.rcode_text == "NOERROR"
    assert Result(q).rcode_text == "no answer" and Result(q).served() == (None, ())


def referral(qname: str, rdtype: str, glue: str = "192.0.2.53") -> tuple[Query, bytes]:
    """What an authoritative server says for a name at or below a zone cut."""
    q = Query.make(T, qname, rdtype)
    r = dns.message.make_response(dns.message.make_query(qname, rdtype))
    r.flags &= ~dns.flags.AA
    r.authority.append(
        rr("sub.example.test.", 3600, "NS", "ns.sub.example.test.", "ns2.other.test.")
    )
    r.additional.append(rr("ns.sub.example.test.", 3600, "A", glue))
    return q, r.to_wire()


def test_a_delegation_is_matched_in_the_authority_section() -> None:
    cut = wire.expected(
        "NS", 3600, ["ns.sub.example.test.", "ns2.other.test."], section="authority"
    )
    q, data = referral("sub.example.test.", "NS")
    assert check(q, data, cut) == (3600, True)
    assert check(q, data, dataclasses.replace(cut, ttl=60)) == (None, False)
    answer_side = dataclasses.replace(cut, section="answer")
    assert check(q, data, answer_side) == (None, False)


def test_glue_is_matched_in_the_additional_section() -> None:
    glue = wire.expected("A", 3600, ["192.0.2.53"], section="additional")
    q, data = referral("ns.sub.example.test.", "A")
    assert check(q, data, glue) == (3600, True)
    q, data = referral("ns.sub.example.test.", "A", glue="192.0.2.54")
    assert check(q, data, glue) == (None, False)
    with pytest.raises(ValueError, match="no section 'extra'"):
        wire.expected("A", 60, ["192.0.2.1"], section="extra")
