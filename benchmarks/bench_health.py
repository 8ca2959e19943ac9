"""The wire check of `dnsops health` vs octodns-report and dnsperf, on the same servers.

A bench lab (PowerDNS + BIND, the project's lab layout) serves a generated zone
(``benchmarks/zonegen.py``, 10k records by default) on this run's own addresses:
``$DNSOPS_TEST_NET.100-103.x`` (default net 127.54), never anything else. Every
record is checked at all four nameservers (2 per provider), by:

- dnsops, queries: the probe engine's bulk path (``plan.record_queries`` then
  ``probe.bulk.run``), every answer compared with the desired RRset;
- dnsops, health's default: PowerDNS by queries, BIND by one signed AXFR per
  address (``health.driver.observe``), the same comparisons;
- octodns-report (its default concurrency 4; it always queries port 53), the
  query phase timed inside its process, after its own octoDNS set-up;
- dnsperf, sending the zone's queries once to each nameserver, the four at once
  and one after another (the better of the two is its ceiling here; dnsperf
  compares nothing).

Runs alternate (``--runs`` rounds, the order rotating) and the table shows
medians, queries per second and the ratios the issue asks for (>= 10x
octodns-report, >= 20 % of dnsperf). The machine is shared: figures move with
its load, the ratios less so.

    DNSOPS_TEST_NET=127.64 .venv/bin/python -m benchmarks.bench_health --runs 3 --keep

The lab stays up with ``--keep`` (the next run skips set-up: ~1-2 min for 10k
records); otherwise it is stopped at the end. Figures go to
benchmarks/out/bench_health.json too.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.zonegen import write_zone

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
ZONE = "bench.test."
NET = os.environ.get("DNSOPS_TEST_NET", "127.54")
LAYOUT = {"127.53.0.": f"{NET}.100.", "127.53.1.": f"{NET}.101.", "127.53.2.": f"{NET}.102."}
LAYOUT["127.53.3."] = f"{NET}.103."

REPORT_WRAPPER = """
import sys, time
import octodns.cmds.report as report
make_loop = report.new_event_loop
def timed_loop():
    loop = make_loop()
    run = loop.run_until_complete
    def timed(future):
        start = time.perf_counter()
        try:
            return run(future)
        finally:
            sys.stderr.write(f"QUERY_PHASE {time.perf_counter() - start}\\n")
    loop.run_until_complete = timed
    return loop
report.new_event_loop = timed_loop
sys.argv = ["octodns-report", *sys.argv[1:]]
report.main()
"""


def project(root: Path, records: int) -> Path:
    """The repo's dnsops files, the generated zone only, lab addresses moved to NET."""
    if not (root / "dnsops.yaml").exists():
        root.mkdir(parents=True, exist_ok=True)
        for name in ("dnsops.yaml", "config", "policies"):
            src = REPO / name
            if src.is_dir():
                shutil.copytree(src, root / name)
            else:
                shutil.copy(src, root / name)
        for path in [root / "dnsops.yaml", *sorted((root / "config").glob("*.yaml"))]:
            text = path.read_text()
            for old, new in LAYOUT.items():
                text = text.replace(old, new)
            path.write_text(text)
        # octodns-report's Manager.get_zone does not expand the config's '*' entry
        lab = root / "config" / "lab.yaml"
        text = lab.read_text()
        entry = f"\n  {ZONE}:\n    sources:\n      - zones\n    targets:\n      - pdns\n"
        entry += "      - bind\n"
        lab.write_text(text.replace("\nzones:\n", "\nzones:" + entry, 1))
    zones = root / "zones"
    shutil.rmtree(zones, ignore_errors=True)
    write_zone(zones, ZONE, records)
    return root


def setup(root: Path) -> tuple[Any, Any]:
    """Lab up, zone synced (skipped when the served zone is already this one)."""
    from dnsops import octo
    from dnsops.config import load_project
    from dnsops.lab.runner import LabRunner
    from dnsops.sync import core
    from dnsops.zones import load_zones

    os.chdir(root)
    proj = load_project(root / "dnsops.yaml")
    runner = LabRunner(proj)
    runner.up(progress=lambda m: print(f"  lab: {m}", file=sys.stderr))
    _, env = proj.lab_environment()
    digest = hashlib.sha256((root / "zones" / "bench.test.yaml").read_bytes()).hexdigest()
    marker = proj.state_dir / "bench-synced"
    if not marker.exists() or marker.read_text() != digest:
        print("  syncing the generated zone to both providers (once)…", file=sys.stderr)
        providers = octo.targets(proj, env)
        zones = load_zones(proj, env)
        # BIND refuses an update adding an MX whose in-zone target has no address
        # yet (check-integrity), and octodns-bind sends the apex first: MX last
        without_mx = {name: zone.copy() for name, zone in zones.items()}
        for zone in without_mx.values():
            for record in [r for r in zone.records if r._type == "MX"]:
                zone.remove_record(record)
        for step in (without_mx, zones):
            planned = core.plan(step, providers)
            for applied in core.apply(planned, providers, force=True):
                if getattr(applied, "error", None):
                    raise SystemExit(f"sync failed on {applied.provider}: {applied.error}")
        marker.write_text(digest)
    return proj, env


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def dnsops_queries(layout: Any, concurrency: int) -> dict[str, float]:
    from dnsops.health import plan
    from dnsops.probe import Engine, bulk

    start = time.perf_counter()
    queries = plan.record_queries(layout, range(len(layout.nameservers)))
    built = time.perf_counter()
    results = bulk.run(queries, Engine(concurrency=concurrency, timeout=2.0))
    done = time.perf_counter()
    bad = sum(1 for r in results if not (r.matched or r.query.expect is None))
    assert bad == 0, f"{bad} answers differ from the zone: the bench lab is not in sync"
    return {
        "queries": len(queries),
        "query_s": done - built,
        "qps": len(queries) / (done - built),
        "wall_s": done - start,
    }


def dnsops_health(layout: Any, keys: dict[str, Any], concurrency: int) -> dict[str, float]:
    from dnsops.health import driver

    options = driver.Options(concurrency=concurrency, transfer=True)
    start = time.perf_counter()
    observed, sent = driver.observe([layout], options, keys)
    wall = time.perf_counter() - start
    servers = observed[0].servers
    assert all(not so.seen for so in servers), "mismatches: the bench lab is not in sync"
    checked = sum(so.checked for so in servers)
    return {"queries": sent, "rrsets": checked, "wall_s": wall, "rrsets_per_s": checked / wall}


def octodns_report(
    root: Path, env: dict[str, str], addresses: list[str], records: int
) -> dict[str, float]:
    argv = [
        sys.executable,
        "-c",
        REPORT_WRAPPER,
        "--config-file",
        "config/lab.yaml",
        "--zone",
        ZONE,
        "--source",
        "zones",
        *addresses,
    ]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"octodns-report failed:\n{proc.stderr[-2000:]}")
    phase = float(re.findall(r"QUERY_PHASE ([\d.]+)", proc.stderr)[-1])
    rows = [line for line in proc.stdout.splitlines()[1:] if line.strip()]
    queries = len(rows) * len(addresses)
    return {"queries": queries, "query_s": phase, "qps": queries / phase, "wall_s": wall}


def _dnsperf_run(argv: list[str]) -> tuple[int, float]:
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    completed = re.search(r"Queries completed:\s+(\d+)", out)
    runtime = re.search(r"Run time \(s\):\s+([\d.]+)", out)
    if completed is None or runtime is None:
        raise SystemExit(f"dnsperf failed: {argv}\n{out[-2000:]}")
    return int(completed.group(1)), float(runtime.group(1))


def dnsperf(qfile: Path, addresses: list[str], parallel: bool) -> dict[str, float]:
    """Each server sent the zone's queries once: all four at once, or one after another."""
    argvs = [["dnsperf", "-s", a, "-d", str(qfile), "-n", "1", "-t", "2"] for a in addresses]
    start = time.perf_counter()
    if parallel:
        with ThreadPoolExecutor(len(argvs)) as pool:
            runs = list(pool.map(_dnsperf_run, argvs))
        query_s = max(t for _, t in runs)
    else:
        runs = [_dnsperf_run(argv) for argv in argvs]
        query_s = sum(t for _, t in runs)
    wall = time.perf_counter() - start
    completed = sum(n for n, _ in runs)
    return {"queries": completed, "query_s": query_s, "qps": completed / query_s, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=100, help="dnsops: in flight per server")
    ap.add_argument("--keep", action="store_true", help="leave the bench lab running")
    args = ap.parse_args()

    root = project(OUT / "health-lab", args.records)
    proj, env = setup(root)
    from dnsops.env import Env
    from dnsops.health import driver
    from dnsops.lab.runner import LabRunner
    from dnsops.zones import load_zones

    try:
        start = time.perf_counter()
        zones = load_zones(proj, env)
        loaded = time.perf_counter() - start
        model = Env(proj)
        [layout] = driver.layouts(model, zones, driver.Options())
        layout = dataclasses.replace(layout, vantages=())  # nameservers only
        prepared = time.perf_counter() - start - loaded
        keys = driver.transfer_keys(model)
        addresses = [ns.address for ns in layout.nameservers]
        qfile = OUT / "bench_health.queries"
        qfile.write_text("".join(f"{d.name} {d.rdtype}\n" for d in layout.desired))
        report_env = {**os.environ, **LabRunner(proj).environ()}
        tools: dict[str, Callable[[], dict[str, float]]] = {
            "dnsops (queries)": lambda: dnsops_queries(layout, args.concurrency),
            "dnsops health (AXFR for BIND)": lambda: dnsops_health(layout, keys, args.concurrency),
            "octodns-report": lambda: octodns_report(root, report_env, addresses, args.records),
            "dnsperf (4 servers at once)": lambda: dnsperf(qfile, addresses, parallel=True),
            "dnsperf (one server at a time)": lambda: dnsperf(qfile, addresses, parallel=False),
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in tools}
        names = list(tools)
        for k in range(args.runs):
            for name in names[k % len(names) :] + names[: k % len(names)]:
                samples[name].append(tools[name]())
                print(f"  run {k + 1}: {name}: {samples[name][-1]}", file=sys.stderr)
    finally:
        if not args.keep:
            LabRunner(proj).down()

    def med(name: str, key: str) -> float:
        return median([s[key] for s in samples[name] if key in s])

    ours = med("dnsops (queries)", "qps")
    report_qps = med("octodns-report", "qps")
    # the better of dnsperf's two ways: its ceiling on this machine
    perf_qps = max(
        med("dnsperf (4 servers at once)", "qps"), med("dnsperf (one server at a time)", "qps")
    )
    figures = {
        "records": args.records,
        "nameservers": len(addresses),
        "runs": args.runs,
        "load_zones_s": round(loaded, 2),
        "desired_rrsets_s": round(prepared, 2),
        "medians": {n: {k: round(med(n, k), 3) for k in samples[n][0]} for n in samples},
        "ratios": {
            "dnsops_vs_octodns_report": round(ours / report_qps, 1),
            "dnsops_vs_dnsperf": round(ours / perf_qps, 3),
        },
        "loadavg": os.getloadavg(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_health.json").write_text(json.dumps(figures, indent=2))
    print(f"\nwire check: {args.records} records x {len(addresses)} nameservers, ", end="")
    print(f"medians of {args.runs} runs")
    print(f"(octoDNS zone load {loaded:.1f} s and desired RRsets {prepared:.1f} s, shared by all)")
    print(f"{'tool':32} {'queries':>8} {'query s':>8} {'q/s':>9} {'wall s':>7}")
    for name in samples:
        m = figures["medians"][name]  # type: ignore[index]
        qps = m.get("qps") or m.get("rrsets_per_s")
        query_s = f"{m['query_s']:.2f}" if "query_s" in m else "-"
        print(f"{name:32} {m['queries']:>8.0f} {query_s:>8} {qps:>9.0f} {m['wall_s']:>7.2f}")
    health = figures["medians"]["dnsops health (AXFR for BIND)"]  # type: ignore[index]
    print(
        f"  (dnsops health: {health['rrsets']:.0f} RRsets verified, {health['rrsets_per_s']:.0f}/s)"
    )
    print(f"dnsops / octodns-report: {ours / report_qps:.1f}x (target >= 10x)")
    print(f"dnsops / dnsperf (its better way): {100 * ours / perf_qps:.0f} % (target >= 20 %)")
    print(f"load average during the runs: {figures['loadavg']}")


if __name__ == "__main__":
    main()
