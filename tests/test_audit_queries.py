"""How one probe result is filed for the audit: served, not served, or failed.
Hand-built replies (dnspython), no servers."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rrset

from dnsops.audit import convert
from dnsops.audit.model import Key, RRset
from dnsops.audit.queries import Answers, _record
from dnsops.probe.model import Query, Result, Target

ZONE = "example.test."
API: Key = ("api.example.test.", "A")
SUB: Key = ("sub.example.test.", "NS")
HELD = {
    API: RRset(60, frozenset(convert.text_value("A", v, dns.name.root) for v in ("192.0.2.20",)))
}


def result(
    key: Key,
    rcode: int | None = dns.rcode.NOERROR,
    aa: bool = True,
    answer: list[str] = (),  # type: ignore[assignment]
    authority: list[str] = (),  # type: ignore[assignment]
    matched: bool | None = None,
    error: str | None = None,
) -> Result:
    query = Query.make(Target("127.0.0.1"), key[0], key[1])
    if rcode is None:
        return Result(query, None, error=error)
    reply = dns.message.make_response(dns.message.make_query(key[0], key[1]))
    reply.set_rcode(rcode)
    if aa:
        reply.flags |= dns.flags.AA
    reply.answer = [rrset(a) for a in answer]
    reply.authority = [rrset(a) for a in authority]
    return Result(query, rcode, int(reply.flags), wire=reply.to_wire(), matched=matched, ttl=60)


def rrset(text: str) -> dns.rrset.RRset:
    """ "name ttl type value" as an RRset of class IN."""
    name, ttl, rtype, value = text.split(" ", 3)
    return dns.rrset.from_text(name, int(ttl), "IN", rtype, value)


def filed(res: Result, key: Key = API) -> Answers:
    answers = Answers()
    _record(answers, key, ZONE, res, HELD)
    return answers


def test_a_matched_reply_is_what_the_api_holds() -> None:
    got = filed(result(API, matched=True))
    assert got.records == {API: HELD[API]} and got.failed == {}


def test_a_reply_that_differs_is_parsed() -> None:
    got = filed(result(API, answer=["api.example.test. 300 A 192.0.2.99"], matched=False))
    assert got.records[API].ttl == 300
    assert got.records[API].texts("A") == ["192.0.2.99"]


def test_nxdomain_and_no_data_are_not_served() -> None:
    assert filed(result(API, rcode=dns.rcode.NXDOMAIN)) == Answers()
    assert filed(result(API)) == Answers()  # NOERROR, empty answer


def test_failures_are_named() -> None:
    assert filed(result(API, rcode=None, error="timeout")).failed == {API: "timeout"}
    assert filed(result(API, rcode=dns.rcode.REFUSED, aa=False)).failed == {API: "REFUSED"}
    assert filed(result(API, rcode=dns.rcode.SERVFAIL)).failed == {API: "SERVFAIL"}
    lame = filed(result(API, aa=False, answer=["api.example.test. 60 A 192.0.2.20"]))
    assert lame.failed == {API: "not authoritative (AA flag unset)"}


def test_a_delegation_is_served_as_a_referral() -> None:
    referral = result(SUB, aa=False, authority=["sub.example.test. 86400 NS ns1.elsewhere.net."])
    got = filed(referral, SUB)
    assert got.failed == {}
    assert got.records[SUB].texts("NS") == ["ns1.elsewhere.net."]
    assert got.records[SUB].ttl == 86400


def test_every_question_failing_makes_the_nameserver_unreadable() -> None:
    answers = Answers(failed={API: "timeout", SUB: "timeout"})
    served = answers.served("ns1 127.0.0.1", frozenset({API, SUB}))
    assert served.error == "no answer to any of 2 queries (timeout)"
    partly = Answers(failed={API: "timeout"}).served("ns1", frozenset({API, SUB}))
    assert partly.error is None and partly.failed == {API: "timeout"}
