"""The probe engine against the lab's real PowerDNS, BIND and unbound."""

from __future__ import annotations

import asyncio

import pytest

from dnsops.config import Project
from dnsops.lab.runner import LabRunner
from dnsops.probe import Engine, Query, Target, TsigKey, axfr, bulk, probe, wire
from dnsops.zones import load_zones
from tests.conftest import LAB_RESOLVERS
from tests.test_lab import sync_lab

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def synced(lab_project: Project) -> Project:
    assert not sync_lab(lab_project).has_changes
    return lab_project


def desired(project: Project) -> list[tuple[str, str, int, list[str]]]:
    _, env = project.lab_environment()
    zone = load_zones(project, env)["example.test."]
    out = []
    for record in sorted(zone.records, key=lambda r: (r.fqdn, r._type)):
        rrset = record.to_rrset()
        out.append((rrset.name, rrset._type, rrset.ttl, list(rrset.rdatas)))
    return out


def nameservers(project: Project) -> list[Target]:
    return [
        Target(addr, 53, f"{pname} {ns}")
        for pname, prov in project.lab.providers.items()
        for ns, addr in prov.nameservers.items()
    ]


def test_every_nameserver_serves_every_desired_rrset(synced: Project) -> None:
    records = desired(synced)
    assert len(records) == 13
    queries = [
        Query.make(t, name, rtype, expect=wire.expected(rtype, ttl, values))
        for t in nameservers(synced)
        for name, rtype, ttl, values in records
    ]
    results = probe(queries)
    assert len(results) == 4 * 13
    bad = [(str(r.query.target), r.query.qname, r.rcode_text) for r in results if not r.matched]
    assert bad == []
    assert all(r.rcode == 0 and r.transport == "udp" and r.latency for r in results)


def test_resolvers_answer_with_counted_down_ttls(synced: Project) -> None:
    _, env = synced.lab_environment()
    name, rtype, ttl, values = next(r for r in desired(synced) if r[0] == "api.example.test.")
    queries = [
        Query.make(
            Target(r.address, r.port, r.name),
            name,
            rtype,
            rd=True,
            expect=wire.expected(rtype, ttl, values, ttl_at_most=True),
        )
        for r in env.resolvers
    ]
    results = probe(queries)
    assert [r.matched for r in results] == [True] * len(LAB_RESOLVERS)
    assert all(r.ttl is not None and 0 <= r.ttl <= 60 for r in results)
    assert all(r.flags & wire.RA and not r.aa for r in results)


def test_soa_over_tcp_from_every_nameserver(synced: Project) -> None:
    queries = [Query.make(t, "example.test.", "SOA", tcp=True) for t in nameservers(synced)]
    results = probe(queries)
    assert [(r.transport, r.rcode_text, r.aa) for r in results] == [("tcp", "NOERROR", True)] * 4
    mnames = {str(r.rrset().to_rdataset()[0].mname) for r in results}  # type: ignore[union-attr]
    assert mnames == {"ns1.pdns.test.", "ns1.bind.test."}  # each provider names itself


def test_axfr_is_refused_without_the_key_and_complete_with_it(synced: Project) -> None:
    secrets = LabRunner(synced).secrets()
    key = TsigKey(secrets.tsig_name, secrets.tsig_secret)
    bind_ns = [t for t in nameservers(synced) if t.label.startswith("bind")]

    async def all_transfers() -> list:
        jobs = [axfr(t, "example.test.") for t in nameservers(synced)]
        jobs += [axfr(t, "example.test.", key=key) for t in bind_ns]
        return list(await asyncio.gather(*jobs))

    *anonymous, signed1, signed2 = asyncio.run(all_transfers())
    assert [(t.refused, t.error) for t in anonymous] == [
        (True, "NOTAUTH"),
        (True, "NOTAUTH"),
        (True, "REFUSED"),
        (True, "REFUSED"),
    ]
    for transfer in (signed1, signed2):
        assert transfer.transferred and transfer.error is None
        assert transfer.rrsets is not None
        for name, rtype, ttl, values in desired(synced):
            key_ = (wire.name(name).to_wire(), wire.expected(rtype, ttl, values).rdtype)
            assert transfer.rrsets[key_] == wire.expected(rtype, ttl, values), (name, rtype)
        # 13 desired RRsets + the SOA, nothing else
        assert len(transfer.rrsets) == 14


def test_bulk_on_two_processes_gives_what_one_loop_gives(synced: Project) -> None:
    records = desired(synced)
    targets = nameservers(synced)
    names = {n: wire.name(n) for n, *_ in records}
    queries = [
        Query.make(t, names[name], rtype, expect=wire.expected(rtype, ttl, values), key=k)
        for k in range(80)
        for t in targets
        for name, rtype, ttl, values in records
    ]
    assert bulk.workers_for(len(queries), 2) == 2
    engine = Engine(concurrency=32)
    forked = bulk.run(queries, engine, workers=2)
    in_process = bulk.run(queries, engine, workers=1)
    assert [r.query for r in forked] == queries
    seen = [(r.rcode, r.matched, r.ttl, r.transport) for r in forked]
    assert seen == [(r.rcode, r.matched, r.ttl, r.transport) for r in in_process]
    assert all(s[1] for s in seen)
