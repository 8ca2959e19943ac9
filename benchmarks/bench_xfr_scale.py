"""dnsops audit and health over many small zones, side by side with octodns-report.

    sudo .venv/bin/python -m benchmarks.bench_xfr_scale [--zones 1000] [--records 15]
        [--rounds 2] [--net 127.158] [--quota 10] [--report-every 20] [--compare PATH]
        [--keep] [--out DIR]

A lab of its own on ``--net`` (``benchmarks.lab.make``; never the demo lab's 127.53)
holding ``--zones`` zones of ``--records`` records (``benchmarks.zonegen``), synced to
both providers (``benchmarks.lab.sync``: dnsops's plan and apply); BIND's
``transfers-out`` is ``--quota`` (BIND's default 10 unless given). Then, in rounds
that rotate the order, as a user runs them (subprocesses from the project directory):

* ``dnsops audit --format json``: the API of both providers, every BIND zone by AXFR from
  both BIND nameservers, PowerDNS by queries;
* ``dnsops health --format json``: phase A (probes, anonymous and signed transfers), then
  every record at PowerDNS and through every resolver;
* ``octodns-report`` as a user runs it over every zone: it takes one ``--zone`` per run
  (about 1 s each here, most of it octoDNS's set-up), so the loop over 1,000 zones would
  take 15-25 minutes. It runs on a fixed sample, every ``--report-every``-th zone
  (benchmarks/report_phase.py, all four provider nameservers), and its summed wall and
  CPU seconds are scaled linearly to all zones (the rows' notes say so).

Two rows (benchmarks/table.py), targets wall and CPU ≤ 0.5 of that loop, zero
findings: each prints the CPU ratio, the load average when the rounds began, and NO
when a target is missed or the command reported any finding (every zone is synced and
served alike: any finding is a false one). Also printed per run: the exit code,
``view-unavailable`` findings (audit), BIND nameservers read by AXFR versus by queries
(health: a refused transfer falls back to queries), and how often BIND logged "quota
reached" meanwhile. With ``--compare PATH`` audit and health also run with
``PYTHONPATH=PATH`` (another checkout of dnsops) for a side-by-side figure.

Then two plan rows, alternating with ``octodns-sync`` (plan only, both targets),
``--rounds`` runs each: ``dnsops plan`` of every zone (target: CPU ≤ 0.6), and
``dnsops plan --zone Z`` of one zone in the middle of the repository against
``octodns-sync ... Z`` (the common pull-request case; target: wall and CPU ≤ 1.0).

These rows are not part of ``make bench``: a 1,000-zone lab takes minutes to start and
sync, and the rounds about 3 minutes each, which the default run's 15 minutes cannot hold.
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

from benchmarks import lab
from benchmarks.harness import BIN, _must, _no_change_plan, _time_row
from benchmarks.measure import Run, load, timed
from benchmarks.measure import rounds as measure_rounds
from benchmarks.report_phase import phase
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


def report_sample(root: Path, env: dict[str, str], zones: list[str], servers: list[str]) -> Run:
    """octodns-report over ``zones`` one after the other, as a user loops over them; one
    Run with the summed seconds (peak RSS: the largest)."""
    runs: list[Run] = []
    rows = inconsistent = timeouts = 0
    for zone in zones:
        out = root / "octodns-report.csv"
        argv = [sys.executable, "-m", "benchmarks.report_phase", "--config-file"]
        argv += ["config/lab.yaml", "--zone", zone, "--source", "zones", *servers]
        run = timed(argv, cwd=root, env=env, out_file=out)
        if run.code != 0 or phase(run.stderr) is None:
            raise SystemExit(f"octodns-report failed on {zone} (exit {run.code}):\n{run.tail()}")
        cells = [line.split(",") for line in out.read_text().splitlines()[1:] if line]
        rows += len(cells)
        inconsistent += sum(1 for c in cells if c[-1] != "True")
        timeouts += sum(c.count("*timeout*") for c in cells)
        runs.append(run)
    total = Run(
        argv=["octodns-report", f"{len(zones)} zones"],
        wall=sum(r.wall for r in runs),
        cpu=sum(r.cpu for r in runs),
        rss_mb=max(r.rss_mb for r in runs),
        code=0,
    )
    total.extra = {
        "zones": len(zones),
        "records": rows,
        "inconsistent": inconsistent,
        "timeouts": timeouts,
    }
    return total


def scaled(run: Run, factor: float) -> Run:
    """The sample's seconds scaled linearly to every zone."""
    out = Run(run.argv, run.wall * factor, run.cpu * factor, run.rss_mb, run.code)
    out.extra = {**run.extra, "factor": factor, "sample_wall_s": run.wall, "sample_cpu_s": run.cpu}
    return out


def rows(
    results: dict[str, list[tuple[Run, dict[str, Any]]]],
    report: list[Run],
    zones: int,
    records: int,
    every: int,
    started_load: float,
) -> list[Row]:
    """The health and audit rows against the octodns-report loop, with their findings."""
    from benchmarks.harness import _time_row

    sample = report[-1].extra
    how = (
        f"octodns-report run on {sample['zones']} of {zones:,} zones (every {every}th), "
        f"seconds scaled x{sample['factor']:g} to all of them"
    )
    out = []
    for what in ("health", "audit"):
        got = results[f"{what} (new)"]
        found: Counter[str] = Counter()
        for _, facts in got:
            found.update(facts.get("findings") or {})
        worst = max(sum((facts.get("findings") or {}).values()) for _, facts in got)
        errors = [facts["error"] for _, facts in got if "error" in facts]
        row = _time_row(
            f"dnsops {what} vs octodns-report over every zone ({zones:,} zones x {records} "
            "records)",
            [run for run, _ in got],
            report,
            wall=0.5,
            cpu=0.5,
            note=f"{how}; {what} exit {got[-1][1]['exit']}, "
            f"findings {worst} (most of a run; zero expected)"
            + (f": {dict(found)}" if found else ""),
        )
        row.data["findings"] = worst
        if worst or errors:
            row.met = False
            row.target += ", findings = 0"
        else:
            row.target += ", findings = 0"
        row.load = started_load
        out.append(row)
    return out


def bench_plan(
    root: Path, env: dict[str, str], zones: int, records: int, rounds: int, one: str | None
) -> Row:
    """``dnsops plan`` vs ``octodns-sync`` (plan only, both targets), alternating: every
    zone (target CPU ≤ 0.6), or only ``one`` in the whole repository (wall and CPU ≤ 1.0)."""
    only = [one] if one else []
    dnsops = ["plan", "--detailed-exitcode", *(["--zone", one] if one else [])]
    steps: dict[str, Callable[[], Run]] = {
        "dnsops plan": lambda: _must(
            timed(command(root, *dnsops), cwd=root, env=env),
            lambda r: r.code == 0,
            "dnsops plan found changes (or failed) on the synced lab",
        ),
        "octodns-sync": lambda: _must(
            timed(
                [BIN / "octodns-sync", "--config-file", "config/lab.yaml", *only],
                cwd=root,
                env=env,
            ),
            _no_change_plan,
            "octodns-sync planned changes (or failed) on the synced lab",
        ),
    }
    before = os.getloadavg()[0]
    got = measure_rounds(steps, rounds, lambda m: print(m, flush=True))
    if one:
        figure = f"dnsops plan --zone {one} vs octodns-sync {one}, in a {zones:,}-zone repository"
        targets: dict[str, float] = {"wall": 1.0, "cpu": 1.0}
    else:
        figure = (
            f"dnsops plan vs octodns-sync (plan only), both providers, {zones:,} zones x "
            f"{records} records, no changes"
        )
        targets = {"cpu": 0.6}
    row = _time_row(
        figure,
        got["dnsops plan"],
        got["octodns-sync"],
        note=f"{rounds} run(s) each (--rounds), medians",
        **targets,
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
    ap.add_argument("--report-every", type=int, default=20, help="octodns-report on every Nth zone")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    args = ap.parse_args()
    if args.net == "127.53":
        raise SystemExit("127.53 is the demo lab's: pick another --net")
    from dnsops.config import load_project
    from dnsops.lab.runner import LabRunner

    names = [f"z{i:04d}.test." for i in range(args.zones)]
    root = Path(tempfile.mkdtemp(prefix="bench-xfr-")) / "p"
    lab.make(root, args.net, {name: args.records for name in names})
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
        synced = lab.sync(root)
        print(f"synced {args.zones} x {args.records} records in {synced['seconds']:.0f} s")
        servers = lab.nameservers(runner)
        sample = names[:: args.report_every]
        factor = len(names) / len(sample)
        results: dict[str, list[tuple[Run, dict[str, Any]]]] = {}
        report: list[Run] = []
        steps = [(code, what) for code in codes for what in ("audit", "health")]
        steps.append(("anchor", "octodns-report"))
        started_load = load()[0]
        for i in range(args.rounds):
            k = i % len(steps)
            for code, what in steps[k:] + steps[:k]:
                if what == "octodns-report":
                    run = scaled(report_sample(root, envs["new"], sample, servers), factor)
                    report.append(run)
                    facts = run.extra
                else:
                    run, facts = measure(what, root, envs[code], log, args.vantage or [])
                    results.setdefault(f"{what} ({code})", []).append((run, facts))
                print(
                    f"round {i + 1} {what:6} {code:8} {run.wall:7.2f} s wall "
                    f"{run.cpu:7.2f} s CPU  {json.dumps(facts)}",
                    flush=True,
                )
        print()
        print(
            f"{args.zones} zones x {args.records} records, BIND transfers-out {args.quota}, "
            f"medians of {args.rounds}; load {os.getloadavg()[0]:.1f}"
        )
        for name, got in results.items():
            wall = statistics.median(r.wall for r, _ in got)
            cpu = statistics.median(r.cpu for r, _ in got)
            print(
                f"  {name:16} {wall:7.2f} s wall {cpu:7.2f} s CPU  last: {json.dumps(got[-1][1])}"
            )
        made = rows(results, report, args.zones, args.records, args.report_every, started_load)
        middle = names[len(names) // 2]
        for one in (None, middle):
            made.append(bench_plan(root, envs["new"], args.zones, args.records, args.rounds, one))
        text = markdown(made, f"dnsops over {args.zones:,} zones") + (
            f"\n{args.rounds} round(s), medians; {os.cpu_count()} CPUs; load average (1 min) "
            f"{started_load:.1f} -> {load()[0]:.1f}\n"
        )
        print()
        print(text)
        args.out.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": "dnsops-bench-scale/1",
            "zones": args.zones,
            "records": args.records,
            "report_every": args.report_every,
            "rows": [r.to_json() for r in made],
            "runs": {
                name: [{"wall_s": r.wall, "cpu_s": r.cpu, **facts} for r, facts in got]
                for name, got in results.items()
            },
            "octodns-report": [{"wall_s": r.wall, "cpu_s": r.cpu, **r.extra} for r in report],
            "markdown": text,
        }
        (args.out / "bench_scale.json").write_text(json.dumps(doc, indent=2) + "\n")
        (args.out / "bench_scale.md").write_text(text)
    finally:
        if args.keep:
            print(f"lab left running: dnsops --config {root / 'dnsops.yaml'} lab down")
        else:
            runner.down()
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
