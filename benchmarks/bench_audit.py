"""dnsops audit vs one octoDNS plan, on a 10k-record zone served by both lab providers.

    sudo .venv/bin/python -m benchmarks.bench_audit [--records 10000] [--rounds 5] [--net 127.154]

What it does: a project in a temporary directory (``tests.conftest.make_project``) with
its lab moved to ``--net`` (never the demo lab's 127.53), the zone ``bench.test.``
written by ``benchmarks.zonegen``, the lab started and the zone synced to PowerDNS and
BIND. Then, alternating, as a user would run them (subprocesses from the project
directory, the lab's secrets in the environment):

* ``dnsops audit --zone bench.test. --format json``: three views, both providers
  (octoDNS populate of each API, AXFR of both BIND nameservers, one question per name and
  type to both PowerDNS nameservers); it must find the zone consistent;
* ``octodns-sync --config-file config/lab.yaml bench.test.``: one plan of the zone on both
  targets (no ``--doit``); it must plan no change.

Printed: each run's wall and CPU seconds (the process and its children), the medians,
and audit/plan ratios. Target: the audit takes no longer than the plan (ratio <= 1.0).
The machine is shared, so the wall-clock ratio moves with the load; CPU seconds do less.
The lab is stopped and the directory removed at the end (``--keep`` leaves both and
prints where).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.zonegen import write_zone

ZONE = "bench.test."
BIN = Path(sys.executable).parent


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str, str]:
    """(wall s, CPU s of the child, stdout, stderr) of one run; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return wall, cpu, proc.stdout, proc.stderr


def audit(root: Path, env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    cmd = [str(BIN / "dnsops"), "audit", "--zone", ZONE, "--format", "json"]
    cmd += ["--log", str(root / "bench-audit.jsonl")]
    wall, cpu, out, _ = _timed(cmd, root, env)
    doc = json.loads(out)
    if not doc["consistent"]:
        raise SystemExit(f"the audit found drift: {doc['verdict']}")
    return wall, cpu, doc


def plan(root: Path, env: dict[str, str]) -> tuple[float, float]:
    cmd = [str(BIN / "octodns-sync"), "--config-file", "config/lab.yaml", ZONE]
    wall, cpu, out, err = _timed(cmd, root, env)
    if "No changes were planned" not in out + err:  # the plan goes to its log (stderr)
        raise SystemExit(f"octodns-sync planned changes:\n{(out + err)[-3000:]}")
    return wall, cpu


def setup(runner: Any, records: int) -> None:
    from dnsops import octo
    from dnsops.sync import core
    from dnsops.zones import load_zones

    print(f"lab on {runner.project.root}: starting", flush=True)
    runner.up()
    project = runner.project
    _, env = project.lab_environment()
    os.chdir(project.root)
    started = time.perf_counter()
    zones = load_zones(project, env, ZONE)
    providers = octo.targets(project, env)
    # BIND refuses an update whose MX points at a name of the zone without an address
    # yet (check-integrity), and octodns-bind sends 1000 changes per update in name
    # order: the apex MX would come before its mx1/mx2 A records. So MX go second.
    without_mx = {}
    for name, zone in zones.items():
        without_mx[name] = zone.copy()
        for record in list(without_mx[name].records):
            if record._type == "MX":
                without_mx[name].remove_record(record)
    for stage in (without_mx, zones):
        for applied in core.apply(core.plan(stage, providers), providers):
            if applied.error:
                raise SystemExit(f"sync to {applied.provider} failed: {applied.error}")
    print(f"synced {records} records to both providers in {time.perf_counter() - started:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--net", default="127.154", help="the lab's 127.x prefix (not 127.53)")
    ap.add_argument("--keep", action="store_true", help="leave the lab running")
    args = ap.parse_args()
    if args.net == "127.53":
        raise SystemExit("127.53 is the demo lab's: pick another --net")
    from dnsops.config import load_project
    from dnsops.lab.runner import LabRunner
    from tests.conftest import make_project

    root = make_project(Path(tempfile.mkdtemp(prefix="bench-audit-")), net=args.net)
    write_zone(root / "zones", ZONE, args.records)
    runner = LabRunner(load_project(root / "dnsops.yaml"))
    try:
        setup(runner, args.records)
        env = {**os.environ, **runner.environ(), "DNSOPS_CONFIG": str(root / "dnsops.yaml")}
        audits: list[tuple[float, float]] = []
        plans: list[tuple[float, float]] = []
        last: dict[str, Any] = {}
        for i in range(args.rounds):
            # alternate which goes first, so neither always runs on a warmer machine
            order = ("audit", "plan") if i % 2 == 0 else ("plan", "audit")
            for what in order:
                if what == "audit":
                    wall, cpu, last = audit(root, env)
                    audits.append((wall, cpu))
                else:
                    wall, cpu = plan(root, env)
                    plans.append((wall, cpu))
                print(f"round {i + 1} {what:5}  {wall:6.2f} s wall  {cpu:6.2f} s CPU", flush=True)
        report(audits, plans, last, args.records)
    finally:
        if args.keep:
            print(f"lab left running: {root} (dnsops --config {root}/dnsops.yaml lab down)")
        else:
            runner.down()
            shutil.rmtree(root, ignore_errors=True)


def report(
    audits: list[tuple[float, float]],
    plans: list[tuple[float, float]],
    last: dict[str, Any],
    records: int,
) -> None:
    aw, ac = (statistics.median(x[k] for x in audits) for k in (0, 1))
    pw, pc = (statistics.median(x[k] for x in plans) for k in (0, 1))
    print()
    print(f"zone {ZONE} {records} records, lab PowerDNS + BIND, medians of {len(audits)} runs")
    print(f"  dnsops audit (3 views, 2 providers)  {aw:6.2f} s wall  {ac:6.2f} s CPU")
    print(f"  octodns-sync plan (2 providers)      {pw:6.2f} s wall  {pc:6.2f} s CPU")
    verdict = "ok" if aw / pw <= 1.0 else "over target"
    print(f"  ratio audit/plan: wall {aw / pw:.2f} ({verdict}, target <= 1.0), CPU {ac / pc:.2f}")
    print(f"  last audit: {last['verdict']}; inside it (s): {json.dumps(last['timings_s'])}")


if __name__ == "__main__":
    main()
