"""The nameserver behaviour checks' pure core (dnsops.health.behaviour): replies built
by hand, judged as the engine judges them (no network)."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset
import pytest

from dnsops.health import behaviour
from dnsops.health.behaviour import (
    judge_breaks,
    judge_case,
    judge_flags,
    judge_option,
    judge_truncated,
    judge_upward,
)
from dnsops.health.judge import Judge
from dnsops.health.model import Nameserver, ServerObs, ZoneLayout, ZoneObs
from dnsops.health.policy import HealthPolicy
from dnsops.health.server_checks import check_server
from dnsops.probe import Query, Result, Target, judge, wire

ZONE = "example.test."
T = Target("192.0.2.1", 53, "pdns ns1.pdns.test.")
SOA = dns.rrset.from_text(
    ZONE, 3600, "IN", "SOA", "ns1.pdns.test. hostmaster.example.test. 1 3600 600 604800 60"
)
ASKED = f"a SOA query for {ZONE}"


def probe(name: str) -> Query:
    """The query behaviour asks for ``name`` (one of its PROBES)."""
    lay = ZoneLayout(
        ZONE, ("pdns",), (Nameserver("pdns", "ns1.pdns.test.", T.address),), (), "test."
    )
    [q] = [q for q in behaviour.queries_for(lay, 0) if q.key == (ZONE, 0, name)]
    return q


def soa_query(**kw: object) -> Query:
    return Query(T, wire.name(ZONE), dns.rdatatype.SOA, key=(ZONE, 0, "soa-udp"), **kw)  # type: ignore[arg-type]


def reply(
    q: Query,
    *,
    answer: tuple[dns.rrset.RRset, ...] = (SOA,),
    authority: tuple[dns.rrset.RRset, ...] = (),
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR,
    aa: bool = True,
    tc: bool = False,
    edns: int | None = 0,
    ednsflags: int = 0,
    options: tuple[dns.edns.Option, ...] = (),
    qname: str | None = None,
) -> Result:
    """The Result the engine makes of a reply to ``q`` with these properties."""
    msg = dns.message.make_query(qname or q.qname, q.rdtype, use_edns=False)
    r = dns.message.make_response(msg)
    r.flags = dns.flags.QR | (dns.flags.AA if aa else 0) | (dns.flags.TC if tc else 0)
    r.set_rcode(rcode)
    if edns is not None:
        r.use_edns(edns, ednsflags, 1232, options=list(options))
    r.answer.extend(answer)
    r.authority.extend(authority)
    return judge(q, r.to_wire(), 0.001)


def silence(q: Query, error: str = "timeout") -> Result:
    return Result(q, error=error, attempts=3)


def test_probes_are_asked_once_per_address() -> None:
    a = Nameserver("pdns", "ns1.pdns.test.", "192.0.2.1")
    b = Nameserver("bind", "ns1.bind.test.", "192.0.2.2")
    one = ZoneLayout("one.test.", ("pdns", "bind"), (a, b), (), "test.")
    two = ZoneLayout("two.test.", ("pdns", "bind"), (b, a), (), "test.")
    zones = [ZoneObs(one, [ServerObs(a), ServerObs(b)]), ZoneObs(two, [ServerObs(b), ServerObs(a)])]
    qs = behaviour.server_queries(zones)
    assert len(qs) == 2 * len(behaviour.PROBES)
    assert sorted({q.key[:2] for q in qs}) == [("one.test.", 0), ("one.test.", 1)]  # type: ignore[index]
    by = {q.key[2]: q for q in qs if q.key[1] == 0}  # type: ignore[index]
    assert (by["soa-plain"].edns, by["qname-case"].edns, by["upward"].edns) == (None, None, None)
    assert by["qname-case"].qname.to_text() == "oNe.TeSt."
    assert by["upward"].qname == dns.name.root and not by["upward"].rd
    assert by["edns-option"].options == ((137, b""),)
    assert by["edns-flags"].ednsflags == 0x0001
    t = by["edns-truncated"]
    assert (t.rdtype, t.payload, t.ednsflags, t.tcp_fallback) == (
        dns.rdatatype.DNSKEY,
        512,
        0x8000,
        False,
    )
    # EDNS answered: the plain SOA stays with its zone (another zone's silence is its own)
    plain = Result(by["soa-plain"], rcode=0)
    zones[0].servers[0].probes["soa-plain"] = plain
    zones[0].servers[0].probes["soa-udp"] = Result(soa_query(), rcode=0)
    behaviour.share(zones)
    assert "soa-plain" not in zones[1].servers[1].probes
    assert not zones[1].servers[1].up
    # broken on EDNS: shared with the other zone's ServerObs of the same address
    zones[0].servers[0].probes["soa-udp"] = silence(soa_query())
    behaviour.share(zones)
    assert zones[1].servers[1].probes["soa-plain"] is plain
    assert "soa-plain" not in zones[1].servers[0].probes
    assert zones[1].servers[1].up  # up without EDNS: it answers plain queries


def test_the_query_template_carries_flags_and_options() -> None:
    q = Query(T, wire.name(ZONE), 6, ednsflags=0x8001, payload=512, options=((137, b"ab"),))
    msg = dns.message.from_wire(wire.Template(q).wire(7))
    assert (msg.edns, msg.ednsflags, msg.payload) == (0, 0x8001, 512)
    assert [(o.otype, o.to_wire()) for o in msg.options] == [(137, b"ab")]
    plain = dns.message.from_wire(wire.Template(probe("soa-plain")).wire(7))
    assert plain.edns == -1


def test_opt_of_reads_a_truncated_reply() -> None:
    r = reply(probe("edns-truncated"), answer=(), tc=True, ednsflags=0x8000)
    assert behaviour.opt_of(r.wire) == behaviour.Opt(0, 0x8000, ())
    assert behaviour.opt_of(r.wire[:-3]) is None  # cut inside the OPT record
    assert behaviour.opt_of(reply(probe("soa-plain"), edns=None).wire) is None


# -- ns-edns-breaks -----------------------------------------------------------------


def test_breaks_on_edns() -> None:
    edns, plain = soa_query(), probe("soa-plain")
    ok = reply(plain, edns=None)
    assert judge_breaks(reply(edns), ok, ZONE) == behaviour.PASS
    assert judge_breaks(silence(edns), silence(plain), ZONE) == behaviour.NOT_APPLICABLE
    # same refusal with and without EDNS: not EDNS's fault
    refused = reply(plain, edns=None, rcode=dns.rcode.REFUSED, answer=())
    assert judge_breaks(reply(edns, rcode=dns.rcode.REFUSED, answer=()), refused, ZONE)[0]
    start = f"answers a plain SOA query for {ZONE} (NOERROR), but the same query with EDNS0 gets "
    end = ": resolvers, which all send EDNS, time out and retry without it"
    cases = [
        (silence(edns), "no answer (timeout)", None),
        (reply(edns, rcode=dns.rcode.FORMERR, answer=(), edns=None), "FORMERR", "FORMERR"),
        (reply(edns, rcode=dns.rcode.SERVFAIL, answer=()), "SERVFAIL", "SERVFAIL"),
    ]
    for got, what, rcode in cases:
        ok_, message, data = judge_breaks(got, ok, ZONE)
        assert (ok_, message) == (False, start + what + end)
        assert (data["plain_rcode"], data["edns_rcode"]) == ("NOERROR", rcode)
    broken = Result(edns, rcode=0, error="malformed reply: bad label", wire=b"\x00" * 12)
    assert judge_breaks(broken, ok, ZONE)[1] == (
        start + "a malformed reply (NOERROR: malformed reply: bad label)" + end
    )


# -- ns-edns-option -----------------------------------------------------------------


def test_unknown_option() -> None:
    q, base = probe("edns-option"), reply(soa_query())
    assert judge_option(reply(q), base, ZONE) == behaviour.PASS
    # the baseline EDNS SOA is not clean: other checks say why
    assert judge_option(reply(q), reply(soa_query(), edns=None), ZONE) == behaviour.NOT_APPLICABLE
    assert judge_option(reply(q), reply(soa_query(), aa=False), ZONE) == behaviour.NOT_APPLICABLE
    asked = f"{ASKED} with an unknown EDNS option (code 137)"
    echo = (dns.edns.GenericOption(137, b""),)
    other = dns.rrset.from_text(ZONE, 60, "IN", "A", "192.0.2.1")
    cases = [
        (silence(q), f"no answer to {asked}: no answer (timeout)", "no-response"),
        (reply(q, rcode=dns.rcode.FORMERR, answer=()), f"answered {asked} with FORMERR", "rcode"),
        (reply(q, edns=None), f"answered {asked} without an OPT record", "no-edns"),
        (
            reply(q, answer=(other,)),
            f"answered {asked} with another answer section than without the option",
            "answer",
        ),
        (reply(q, aa=False), f"answered {asked} without the AA flag", "aa"),
        (
            reply(q, options=echo),
            f"echoed the unknown EDNS option 137 back in its reply to {asked}",
            "echoed",
        ),
    ]
    for got, message, problem in cases:
        ok, text, data = judge_option(got, base, ZONE)
        assert (ok, text, data["problem"]) == (False, message, problem)


# -- ns-edns-flags ------------------------------------------------------------------


def test_unknown_flag() -> None:
    q, base = probe("edns-flags"), reply(soa_query())
    assert judge_flags(reply(q), base, ZONE) == behaviour.PASS
    assert judge_flags(reply(q, ednsflags=0x8000), base, ZONE) == behaviour.PASS  # DO is known
    assert judge_flags(reply(q), silence(soa_query()), ZONE) == behaviour.NOT_APPLICABLE
    asked = f"{ASKED} with an unknown EDNS flag (0x0001)"
    cases = [
        (silence(q), f"no answer to {asked}: no answer (timeout)", "no-response"),
        (
            reply(q, rcode=dns.rcode.FORMERR, answer=(), edns=None),
            f"answered {asked} with FORMERR",
            "rcode",
        ),
        (
            reply(q, ednsflags=0x0003),
            f"answered {asked} with unknown EDNS flags 0x0003 set in its "
            "reply: they must be cleared",
            "z-set",
        ),
        (reply(q, edns=None), f"answered {asked} with NOERROR without an OPT record", "error"),
        (reply(q, answer=()), f"answered {asked} with NOERROR, no SOA in the answer", "error"),
        (reply(q, rcode=dns.rcode.SERVFAIL, answer=()), f"answered {asked} with SERVFAIL", "error"),
    ]
    for got, message, problem in cases:
        ok, text, data = judge_flags(got, base, ZONE)
        assert (ok, text, data["problem"]) == (False, message, problem)


# -- ns-edns-truncated --------------------------------------------------------------


def test_opt_in_truncated_replies() -> None:
    q = probe("edns-truncated")
    assert judge_truncated(reply(q, answer=(), tc=True, ednsflags=0x8000)) == behaviour.PASS
    assert judge_truncated(reply(q, answer=())) == behaviour.NOT_APPLICABLE  # not truncated
    assert judge_truncated(silence(q)) == behaviour.NOT_APPLICABLE
    ok, message, data = judge_truncated(reply(q, answer=(), tc=True, edns=None))
    assert (ok, data) == (False, {"rcode": "NOERROR"})
    assert message == (
        f"answered a DNSKEY query for {ZONE} with DO at a 512-byte buffer truncated (TC, "
        "NOERROR) and without an OPT record: resolvers conclude it does not speak EDNS"
    )


# -- ns-qname-case ------------------------------------------------------------------


def test_query_name_case() -> None:
    q, plain = probe("qname-case"), reply(probe("soa-plain"), edns=None)
    assert q.qname.to_text() == "eXaMpLe.TeSt."
    assert judge_case(reply(q, edns=None), plain) == behaviour.PASS
    assert judge_case(reply(q, edns=None), silence(plain.query)) == behaviour.NOT_APPLICABLE
    cases = [
        (
            reply(q, edns=None, qname="EXAMPLE.TEST."),
            "echoed the query name eXaMpLe.TeSt. as EXAMPLE.TEST.: the case must be preserved",
            "case",
        ),
        (
            reply(q, edns=None, qname=ZONE),
            "echoed the query name eXaMpLe.TeSt. as example.test.: the case must be preserved",
            "case",
        ),
        (
            reply(q, edns=None, rcode=dns.rcode.REFUSED, answer=()),
            "answered eXaMpLe.TeSt. SOA with REFUSED, but example.test. SOA with NOERROR",
            "rcode",
        ),
        (
            reply(q, edns=None, answer=()),
            "answered eXaMpLe.TeSt. SOA with another answer section than example.test. SOA",
            "answer",
        ),
        (
            silence(q),
            "no answer to the SOA query for eXaMpLe.TeSt. (no answer (timeout)), "
            "though example.test. is answered",
            "no-response",
        ),
    ]
    for got, message, problem in cases:
        ok, text, data = judge_case(got, plain)
        assert (ok, text, data["problem"]) == (False, message, problem)
    assert behaviour.mixed_case("1.2.in-addr.arpa.") == "1.2.iN-aDdR.aRpA."
    assert behaviour.mixed_case("0.1.") == "0.1."  # nothing to mix: not applicable
    digits = ZoneLayout("0.1.", ("p",), (Nameserver("p", "a.", "192.0.2.1"),), (), ".")
    by = {q.key[2]: q for q in behaviour.queries_for(digits, 0)}  # type: ignore[index]
    assert judge_case(reply(by["qname-case"], edns=None), reply(by["soa-plain"], edns=None)) == (
        behaviour.NOT_APPLICABLE
    )


# -- ns-upward-referral -------------------------------------------------------------


def test_upward_referral() -> None:
    q = probe("upward")
    root_ns = dns.rrset.from_text(
        ".", 518400, "IN", "NS", "a.root-servers.net.", "b.root-servers.net."
    )
    refused = reply(q, edns=None, rcode=dns.rcode.REFUSED, answer=(), aa=False)
    assert judge_upward(refused, ZONE) == behaviour.PASS
    assert judge_upward(silence(q), ZONE) == behaviour.PASS  # silence refers nowhere
    # a server authoritative for the root answers it: not a referral
    assert judge_upward(reply(q, edns=None, answer=(root_ns,)), ZONE) == behaviour.PASS
    ok, message, data = judge_upward(
        reply(q, edns=None, answer=(), authority=(root_ns,), aa=False), ZONE
    )
    assert (ok, data["referral"]) == (False, ".")
    assert message == (
        "answered a query for the NS of the root (.) with an upward referral to . "
        "(a.root-servers.net., b.root-servers.net.) instead of refusing: it sends resolvers in "
        "circles"
    )
    parent = dns.rrset.from_text("test.", 3600, "IN", "NS", "ns.test.")
    assert (
        judge_upward(reply(q, edns=None, answer=(), authority=(parent,), aa=False), ZONE)[0]
        is False
    )
    below = dns.rrset.from_text("sub.example.test.", 3600, "IN", "NS", "ns.test.")
    assert judge_upward(reply(q, edns=None, answer=(), authority=(below,), aa=False), ZONE)[0]


# -- in ServerChecks: once, and folded ---------------------------------------------


def observed(**probes: Result) -> ServerObs:
    so = ServerObs(Nameserver("pdns", "ns1.pdns.test.", T.address))
    edns = soa_query()
    so.probes = {
        "soa-udp": reply(edns),
        "soa-tcp": reply(soa_query(tcp=True)),
        "soa-plain": reply(probe("soa-plain"), edns=None),
        "edns-option": reply(probe("edns-option")),
        "edns-flags": reply(probe("edns-flags")),
        "edns-truncated": reply(probe("edns-truncated"), answer=()),
        "qname-case": reply(probe("qname-case"), edns=None),
        "upward": reply(probe("upward"), edns=None, rcode=dns.rcode.REFUSED, answer=(), aa=False),
        **probes,
    }
    return so


def tallies(so: ServerObs) -> tuple[Judge, dict[str, dict[str, int]]]:
    j = Judge()
    check_server(ZONE, so, HealthPolicy(), j)
    return j, {c: dict(j.tally[c]) for c in behaviour.CHECKS if j.tally[c]}


def test_a_healthy_server_passes_and_other_zones_judge_nothing() -> None:
    _, t = tallies(observed())
    assert t == {c: {"passed": 1} for c in behaviour.CHECKS if c != "ns-edns-truncated"} | {
        "ns-edns-truncated": {"skipped": 1}
    }
    other = observed()
    for name in behaviour.PROBES[1:]:
        del other.probes[name]  # another zone of the same address: only soa-plain shared
    _, t = tallies(other)
    assert t == {}


def test_a_server_breaking_on_edns_is_up_with_one_finding() -> None:
    edns = soa_query()
    so = observed(
        **{
            "soa-udp": silence(edns),
            "edns-option": silence(probe("edns-option")),
            "edns-flags": silence(probe("edns-flags")),
            "edns-truncated": silence(probe("edns-truncated")),
        }
    )
    assert so.up
    j, t = tallies(so)
    assert [(o.check, o.subject, o.data) for o in j.outcomes] == [
        (
            "ns-edns-breaks",
            f"pdns ns1.pdns.test. ({T.address})",
            {
                "nameserver": "ns1.pdns.test.",
                "address": T.address,
                "plain_rcode": "NOERROR",
                "edns_rcode": None,
                "edns_error": "timeout",
            },
        )
    ]
    assert dict(j.tally["ns-udp"]) == {"passed": 1}
    for check in ("ns-edns-option", "ns-edns-flags", "ns-edns-truncated", "ns-edns", "ns-aa"):
        assert dict(j.tally[check]) == {"skipped": 1}, check
    assert t["ns-qname-case"] == t["ns-upward-referral"] == {"passed": 1}


def test_a_down_server_judges_none_of_them() -> None:
    so = observed(**{n: silence(probe(n)) for n in behaviour.PROBES})
    so.probes["soa-udp"] = silence(soa_query())
    assert not so.up
    _, t = tallies(so)
    assert t == {c: {"skipped": 1} for c in behaviour.CHECKS}


@pytest.mark.parametrize("name", behaviour.PROBES)
def test_every_probe_has_a_key_of_its_zone(name: str) -> None:
    assert probe(name).key == (ZONE, 0, name)
