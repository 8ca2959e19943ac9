"""The probe phase alone: every record of a zone asked at every given nameserver.

Run by the harness as its own process (so its CPU time and peak RSS are its own):
the zone is loaded and the queries built first (not timed), then one
``dnsops.probe.probe`` call asks them all, each with the answer the zone
expects (the engine checks it on the raw reply). Prints one JSON document:
queries, seconds, queries/s, answered, matched, and a sample of what failed.

    python -m benchmarks.probe_phase --config dnsops.yaml --zone bench.test. \\
        --server 127.67.1.1 --server 127.67.2.1
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import dns.rdatatype
from octodns.record import Record

from dnsops.config import load_project
from dnsops.probe import Engine, Expected, Query, Target, probe, wire
from dnsops.zones import load_zones


def expectation(record: Record) -> Expected | None:
    """What a nameserver of the zone must answer; None for a delegation (a referral)."""
    if record._type == "NS" and record.name:
        return None
    rrset = record.to_rrset()  # presentation values, as octoDNS renders them
    return wire.expected(record._type, rrset.ttl, rrset.rdatas)


def queries(records: list[Record], servers: list[str]) -> list[Query]:
    questions = []
    for record in sorted(records):
        try:
            rdtype = int(dns.rdatatype.from_text(record._type))
        except dns.rdatatype.UnknownRdatatype:
            continue
        questions.append((wire.name(record.fqdn), rdtype, expectation(record)))
    targets = [Target(address, 53, address) for address in servers]
    return [
        Query(target, qname, rdtype, expect=expect)
        for target in targets
        for qname, rdtype, expect in questions
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, required=True, help="the project's dnsops.yaml")
    ap.add_argument("--zone", required=True)
    ap.add_argument("--server", action="append", required=True, help="a nameserver address")
    ap.add_argument("--concurrency", type=int, default=100, help="in flight per server")
    args = ap.parse_args()
    project = load_project(args.config)
    os.chdir(project.root)
    _, env = project.lab_environment()
    zone = load_zones(project, env, args.zone)[args.zone]
    batch = queries(list(zone.records), args.server)
    engine = Engine(concurrency=args.concurrency)
    start = time.perf_counter()
    results = probe(batch, engine=engine)
    seconds = time.perf_counter() - start
    answered = sum(1 for r in results if r.answered)
    checked = [r for r in results if r.query.expect is not None]
    matched = sum(1 for r in checked if r.matched)
    failed = [
        f"{r.query.target.address} {r.query.qname} {dns.rdatatype.to_text(r.query.rdtype)}: "
        f"{r.rcode_text if r.answered else r.error}"
        for r in checked
        if not r.matched
    ]
    doc = {
        "queries": len(batch),
        "seconds": seconds,
        "qps": len(batch) / seconds,
        "answered": answered,
        "checked": len(checked),
        "matched": matched,
        "failed_sample": failed[:5],
    }
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
