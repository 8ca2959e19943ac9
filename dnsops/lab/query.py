"""Ask one question of every lab nameserver and resolver: do they all agree?"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from dnsops.config import Project


@dataclass(frozen=True)
class Seen:
    server: str  # "pdns ns1.pdns.test." or "resolver iad (us-east)"
    address: str
    rcode: str | None  # None: no answer (timeout, refused connection)
    ttl: int | None
    values: tuple[str, ...]


async def _ask(server: str, addr: str, port: int, name: str, rtype: str, rd: bool) -> Seen:
    q = dns.message.make_query(name, rtype)
    if not rd:
        q.flags &= ~dns.flags.RD
    try:
        r = await dns.asyncquery.udp(q, addr, port=port, timeout=2.0)
    except (dns.exception.DNSException, OSError):
        return Seen(server, addr, None, None, ())
    rdtype = dns.rdatatype.from_text(rtype)
    rrsets = [rr for rr in r.answer if rr.rdtype == rdtype]
    ttl = rrsets[0].ttl if rrsets else None
    values = tuple(sorted(v.to_text() for rr in rrsets for v in rr))
    return Seen(server, addr, dns.rcode.to_text(r.rcode()), ttl, values)


def query_everywhere(project: Project, name: str, rtype: str) -> list[Seen]:
    """Each lab provider nameserver (no recursion) and each lab resolver."""
    _, env = project.lab_environment()
    jobs = [
        _ask(f"{pname} {ns}", addr, 53, name, rtype, rd=False)
        for pname, prov in project.lab.providers.items()
        for ns, addr in prov.nameservers.items()
    ]
    jobs += [
        _ask(f"resolver {r.name} ({r.region})", r.address, r.port, name, rtype, rd=True)
        for r in env.resolvers
    ]

    async def gather() -> list[Seen]:
        return list(await asyncio.gather(*jobs))

    return asyncio.run(gather())
