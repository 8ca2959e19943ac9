"""NSID (RFC 5001): every lab server names its instance, as an anycast site would."""

from __future__ import annotations

from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.query
import pytest

from dnsops.config import Project
from tests.conftest import TEST_NET

pytestmark = pytest.mark.lab


def nsid_of(address: str, qname: str, rd: bool = False) -> bytes | None:
    query = dns.message.make_query(
        qname, "SOA", use_edns=0, options=[dns.edns.GenericOption(dns.edns.NSID, b"")]
    )
    if rd:
        query.flags |= dns.flags.RD
    reply = dns.query.udp(query, address, timeout=3)
    found = [o for o in reply.options if o.otype == dns.edns.NSID]
    return found[0].to_wire() if found else None


def test_each_provider_and_resolver_answers_nsid(lab_dir: Path, lab_project: Project) -> None:
    assert nsid_of(f"{TEST_NET}.1.1", "example.test.") == b"pdns.lab"
    assert nsid_of(f"{TEST_NET}.1.2", "example.test.") == b"pdns.lab"
    assert nsid_of(f"{TEST_NET}.2.1", "example.test.") == b"bind.lab"
    resolvers = {r.name: r.address for r in lab_project.config.environments["lab"].resolvers}
    for name, address in resolvers.items():
        assert nsid_of(address, "example.test.", rd=True) == f"{name}.lab".encode()
