"""The lab as the internet in miniature: its root, resolvers that never leave
loopback, and zones added or removed while the lab runs. Real servers, exact answers."""

from __future__ import annotations

from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from dnsops.config import Project

pytestmark = pytest.mark.lab

PROVIDER_NS = ["ns1.bind.test.", "ns1.pdns.test.", "ns2.bind.test.", "ns2.pdns.test."]


def ask(addr: str, name: str, rtype: str, rd: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, rtype)
    if not rd:
        q.flags &= ~dns.flags.RD
    return dns.query.udp(q, addr, timeout=5)


def rrset_texts(section: list[Any], rtype: str) -> list[str]:
    rdtype = dns.rdatatype.from_text(rtype)
    return sorted(r.to_text() for rr in section if rr.rdtype == rdtype for r in rr)


def referral(resp: dns.message.Message, zone: str) -> list[str]:
    """The NS names of a referral to ``zone`` (no answer, not authoritative)."""
    assert resp.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(resp.rcode())
    assert not resp.answer and not resp.flags & dns.flags.AA
    assert {rr.name.to_text() for rr in resp.authority} == {zone}
    return rrset_texts(resp.authority, "NS")


def resolver_addresses(project: Project) -> list[str]:
    return [r.address for r in project.lab_environment()[1].resolvers]


# --- the root ----------------------------------------------------------------------------


def test_root_is_authoritative_for_the_root_zone(lab_project: Project) -> None:
    ((root_name, root_addr),) = lab_project.lab.root.items()
    resp = ask(root_addr, ".", "SOA")
    assert resp.rcode() == dns.rcode.NOERROR and resp.flags & dns.flags.AA
    (soa,) = resp.answer
    assert soa.name == dns.name.root
    assert soa[0].mname.to_text() == root_name == "a.root-servers.lab."
    assert soa[0].rname.to_text() == f"hostmaster.{root_name}"
    assert rrset_texts(ask(root_addr, ".", "NS").answer, "NS") == [root_name]
    assert rrset_texts(ask(root_addr, root_name, "A").answer, "A") == [root_addr]


def test_root_refers_test_to_the_parent_with_glue(lab_project: Project) -> None:
    lab = lab_project.lab
    root_addr = next(iter(lab.root.values()))
    ((parent_name, parent_addr),) = lab.parent.items()
    for qname in ("test.", "api.example.test."):
        resp = ask(root_addr, qname, "NS" if qname == "test." else "A")
        assert referral(resp, "test.") == [parent_name] == ["ns.test."]
        glue = {
            rr.name.to_text(): rrset_texts([rr], "A")
            for rr in resp.additional
            if rr.rdtype == dns.rdatatype.A
        }
        assert glue == {parent_name: [parent_addr]}
