"""dnsops audit and health over many small zones: every BIND zone read by AXFR, no refusal lost.

    sudo .venv/bin/python -m benchmarks.bench_xfr_scale [--zones 1000] [--records 15]
        [--rounds 2] [--net 127.158] [--quota 10] [--compare PATH] [--keep]

A lab of its own on ``--net`` (``benchmarks.lab.make``; never the demo lab's
127.53) holding ``--zones`` zones of ``--records`` records (``benchmarks.zonegen``),
synced to both providers (``benchmarks.lab.sync``: dnsops's plan and apply); BIND's
``transfers-out`` is ``--quota`` (BIND's default 10 unless given). Then, alternating,
as a user runs them (subprocesses from the project directory):

* ``dnsops audit --format json``: the API of both providers, every BIND zone by AXFR from
  both BIND nameservers, PowerDNS by queries;
* ``dnsops health --format json``: phase A (probes, anonymous and signed transfers), then
  every record at PowerDNS and through every resolver.

Printed per run: wall and CPU seconds, the exit code, ``view-unavailable`` findings
(audit), BIND nameservers read by AXFR versus by queries (health: a refused transfer
falls back to queries), and how often BIND logged "quota reached" meanwhile. With
``--compare PATH`` the same commands also run with ``PYTHONPATH=PATH`` (another checkout
of dnsops, e.g. the code before the transfer limits) for a side-by-side figure.

Then ``dnsops plan`` (every zone, both providers) against ``octodns-sync`` (plan only,
both targets, every zone), alternating, ``--rounds`` runs each: one table row with the
wall and CPU ratios (target: CPU ≤ 0.6), the load average and NO when missed. This row
is here and not in ``make bench``: the lab sync of 1,000 zones alone takes 60-80 s and
one pair of runs another 60-70 s on 2 cores, which the default run's 15 minutes do not
leave room for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import BIN, _must, _no_change_plan, _time_row
from benchmarks.lab import make, sync
from benchmarks.measure import Run, timed
from benchmarks.measure import rounds as measure_rounds
from benchmarks.table import Row, markdown

REPO = Path(__file__).resolve().parent.parent
QUOTA_REACHED = "quota reached"


def command(root: Path, *args: str) -> list[str]:
    main = "from dnsops.cli.app import main; main()"
    return [sys.executable, "-c", main, "--config", str(root / "dnsops.yaml"), *args]


def measure(
    what: str, root: Path, env: dict[str, str], log: Path, vantages: list[str]
) -> tuple[Run, dict[str, Any]]:
    before = log.read_text(errors="replace").count(QUOTA_REACHED)
    if what == "audit":
        run = timed(command(root, "audit", "--format", "json"), cwd=root, env=env)
    else:
        extra = [a for v in vantages for a in ("--vantage", v)]
        run = timed(command(root, "health", "--format", "json", *extra), cwd=root, env=env)
    facts: dict[str, Any] = {"exit": run.code}
    facts["quota_reached"] = log.read_text(errors="replace").count(QUOTA_REACHED) - before
    try:
        doc = json.loads(run.stdout)
    except ValueError:
        facts["error"] = run.tail(500)
        return run, facts
    found = Counter(f["id"] for f in doc.get("findings", []))
    facts["findings"] = dict(found)
    if what == "audit":
        served = [
            s
            for zone in doc["zones"]
            for p in zone["providers"]
            if p["provider"] == "bind"
            for s in p["served"]
        ]
        facts["view_unavailable"] = found.get("view-unavailable", 0)
        facts["bind_transfers_failed"] = sum(1 for s in served if s["error"])
    else:
        rows = [r for r in doc["nameservers"] if r["provider"] == "bind"]
        facts["bind_methods"] = dict(Counter(r["method"] for r in rows))
    return run, facts


def bench_plan(root: Path, env: dict[str, str], zones: int, records: int, rounds: int) -> Row:
    """``dnsops plan`` (every zone, both providers) vs ``octodns-sync`` (plan only, both
    targets, every zone), alternating: the CPU ratio is the target (≤ 0.6)."""
    steps: dict[str, Callable[[], Run]] = {
        "dnsops plan": lambda: _must(
            timed(command(root, "plan", "--detailed-exitcode"), cwd=root, env=env),
            lambda r: r.code == 0,
            "dnsops plan found changes (or failed) on the synced lab",
        ),
        "octodns-sync": lambda: _must(
            timed([BIN / "octodns-sync", "--config-file", "config/lab.yaml"], cwd=root, env=env),
            _no_change_plan,
            "octodns-sync planned changes (or failed) on the synced lab",
        ),
    }
    before = os.getloadavg()[0]
    got = measure_rounds(steps, rounds, lambda m: print(m, flush=True))
    row = _time_row(
        f"dnsops plan vs octodns-sync (plan only), both providers, {zones:,} zones x "
        f"{records} records, no changes",
        got["dnsops plan"],
        got["octodns-sync"],
        cpu=0.6,
        note=f"{rounds} run(s) each (--rounds), medians",
    )
    row.load = before
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zones", type=int, default=1000)
    ap.add_argument("--records", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--net", default="127.158", help="the lab's 127.x prefix (not 127.53)")
    ap.add_argument("--quota", type=int, default=10, help="BIND's transfers-out")
    ap.add_argument("--vantage", action="append", default=None, help="health --vantage")
    ap.add_argument("--compare", type=Path, help="another dnsops checkout to run too")
    ap.add_argument("--keep", action="store_true", help="leave the lab running")
    args = ap.parse_args()
    if args.net == "127.53":
        raise SystemExit("127.53 is the demo lab's: pick another --net")
    from dnsops.config import load_project
    from dnsops.lab.runner import LabRunner

    names = [f"z{i:04d}.test." for i in range(args.zones)]
    # zones/ holds only these; config/lab.yaml names each (octoDNS's tools look zones up
    # by name): benchmarks.lab.make
    root = make(
        Path(tempfile.mkdtemp(prefix="bench-xfr-")) / "p",
        args.net,
        dict.fromkeys(names, args.records),
    )
    options = (f"transfers-out {args.quota};",) if args.quota != 10 else ()
    runner = LabRunner(load_project(root / "dnsops.yaml"), bind_options=options)
    log = runner.state / "bind" / "server.log"
    try:
        started = time.perf_counter()
        runner.up()
        print(f"lab up with {args.zones} zones in {time.perf_counter() - started:.0f} s")
        base = {**os.environ, **runner.environ(), "DNSOPS_XFR_LOCK_DIR": str(root / "slots")}
        codes = {"new": str(REPO)}
        if args.compare:
            codes["compare"] = str(args.compare.resolve())
        envs = {k: {**base, "PYTHONPATH": v} for k, v in codes.items()}
        # in-process plan and apply (``dnsops sync --doit`` also verifies every record
        # after, which is not what is measured here)
        os.environ.update(runner.environ())
        synced = sync(root)
        print(f"synced {args.zones} x {args.records} records in {synced['seconds']:.0f} s")
        results: dict[str, list[tuple[Run, dict[str, Any]]]] = {}
        steps = [(code, what) for code in codes for what in ("audit", "health")]
        for i in range(args.rounds):
            k = i % len(steps)
            for code, what in steps[k:] + steps[:k]:
                run, facts = measure(what, root, envs[code], log, args.vantage or [])
                results.setdefault(f"{what} ({code})", []).append((run, facts))
                print(
                    f"round {i + 1} {what:6} {code:8} {run.wall:7.2f} s wall "
                    f"{run.cpu:7.2f} s CPU  {json.dumps(facts)}",
                    flush=True,
                )
        row = bench_plan(root, envs["new"], args.zones, args.records, args.rounds)
        print()
        print(
            f"{args.zones} zones x {args.records} records, BIND transfers-out {args.quota}, "
            f"medians of {args.rounds}; load {os.getloadavg()[0]:.1f}"
        )
        print(markdown([row], title=f"plan, {args.zones} zones"))
        for name, got in results.items():
            wall = statistics.median(r.wall for r, _ in got)
            cpu = statistics.median(r.cpu for r, _ in got)
            print(
                f"  {name:16} {wall:7.2f} s wall {cpu:7.2f} s CPU  last: {json.dumps(got[-1][1])}"
            )
    finally:
        if args.keep:
            print(f"lab left running: dnsops --config {root / 'dnsops.yaml'} lab down")
        else:
            runner.down()
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
