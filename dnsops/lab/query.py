"""Ask one question of every lab nameserver and resolver: do they all agree?

Every question goes through the probe engine (one batch, every server at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.rdatatype

from dnsops.config import Project
from dnsops.probe import Engine, Query, Result, Target, probe


@dataclass(frozen=True)
class Seen:
    server: str  # "pdns ns1.pdns.test." or "resolver iad (us-east)"
    address: str
    rcode: str | None  # None: no answer (timeout, refused connection)
    ttl: int | None
    values: tuple[str, ...]


def _seen(r: Result, rdtype: int) -> Seen:
    target = r.query.target
    msg = r.message if r.answered else None
    if msg is None:
        rcode = r.rcode_text if r.answered else None
        return Seen(target.label, target.address, rcode, None, ())
    # every RRset of the type in the answer (a resolver's answer may follow a CNAME)
    rrsets = [rr for rr in msg.answer if rr.rdtype == rdtype]
    ttl = rrsets[0].ttl if rrsets else None
    values = tuple(sorted(v.to_text() for rr in rrsets for v in rr))
    return Seen(target.label, target.address, r.rcode_text, ttl, values)


def query_everywhere(project: Project, name: str, rtype: str) -> list[Seen]:
    """Each lab provider nameserver (no recursion) and each lab resolver."""
    _, env = project.lab_environment()
    rdtype = dns.rdatatype.from_text(rtype)
    queries = [
        Query.make(Target(addr, 53, f"{pname} {ns}"), name, rdtype)
        for pname, prov in project.lab.providers.items()
        for ns, addr in prov.nameservers.items()
    ]
    queries += [
        Query.make(
            Target(r.address, r.port, f"resolver {r.name} ({r.region})"), name, rdtype, rd=True
        )
        for r in env.resolvers
    ]
    results = probe(queries, engine=Engine(timeout=2.0, retries=1))
    return [_seen(r, rdtype) for r in results]
