"""`dnsops lint` vs `octodns-validate` on the same generated zone (wall <= 0.5, memory <= 0.7).

Both commands run as users run them (separate processes, from a project holding
only the generated zone), alternating, ``--runs`` times each; the table shows
median wall time, median CPU time (user+sys, less sensitive to a busy machine),
peak RSS, and the ratios. A second figure compares the zone loaders in-process:
dnsops's ``load_zone`` vs octoDNS's ``YamlProvider.populate`` (+ its zone
validation), which is what both commands spend their time in.

    .venv/bin/python -m benchmarks.bench_lint --records 100000 --runs 3
    .venv/bin/python -m benchmarks.bench_lint --records 100000 --profile

Writes the same figures as JSON to benchmarks/out/bench_lint.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.zonegen import write_zone

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ZONE = "bench.test."
WALL, MEMORY = 0.5, 0.7  # the targets on the ratios (the harness's lint row has the same)
# octodns-validate instantiates every provider of the config: the lab's need a key
# to be set (any value: nothing is contacted). These are dummies, not secrets.
DUMMY_ENV = {"DNSOPS_LAB_PDNS_API_KEY": "bench-dummy", "DNSOPS_LAB_TSIG_SECRET": "YmVuY2g="}


@dataclass
class Sample:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def medians(self) -> dict[str, float]:
        return {
            "wall_s": statistics.median(self.wall),
            "cpu_s": statistics.median(self.cpu),
            "peak_rss_mb": max(self.rss_mb),
        }


def project(root: Path, records: int) -> Path:
    """A copy of the repo's dnsops files whose zones/ holds only the generated zone."""
    for name in ("dnsops.yaml", "config", "policies"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        else:
            shutil.copy(src, root / name)
    write_zone(root / "zones", ZONE, records)
    return root


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """Run ``argv``; (wall s, user+sys s, peak RSS MiB, exit code) of that process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def bench_commands(root: Path, runs: int) -> dict[str, object]:
    env = {**os.environ, **DUMMY_ENV}
    commands = {
        "dnsops lint": [str(BIN / "dnsops"), "--config", str(root / "dnsops.yaml"), "lint"],
        "octodns-validate": [str(BIN / "octodns-validate"), "--config-file", "config/lab.yaml"],
    }
    samples = {name: Sample() for name in commands}
    for i in range(runs):
        order = list(commands) if i % 2 == 0 else list(reversed(commands))
        for name in order:
            wall, cpu, rss, code = timed(commands[name], root, env)
            if code != 0:
                raise SystemExit(f"{name} exited {code} (run it in {root} to see why)")
            samples[name].wall.append(wall)
            samples[name].cpu.append(cpu)
            samples[name].rss_mb.append(rss)
            print(f"  run {i + 1}/{runs} {name}: {wall:.2f} s wall, {cpu:.2f} s cpu", flush=True)
    ours, theirs = samples["dnsops lint"].medians(), samples["octodns-validate"].medians()
    return {
        "dnsops lint": ours,
        "octodns-validate": theirs,
        "runs": {k: {"wall": v.wall, "cpu": v.cpu} for k, v in samples.items()},
        "ratio_wall": ours["wall_s"] / theirs["wall_s"],
        "ratio_cpu": ours["cpu_s"] / theirs["cpu_s"],
    }


def bench_loaders(root: Path, runs: int) -> dict[str, float]:
    """In-process: dnsops load_zone vs YamlProvider.populate + Zone.validate, alternating."""
    from octodns.provider.yaml import YamlProvider
    from octodns.zone import Zone

    from dnsops.config import load_project
    from dnsops.zones import enable_validators, load_zone, octodns_config, validator_sets

    project = load_project(root / "dnsops.yaml")
    _, env = project.environment(None)
    enable_validators(validator_sets(octodns_config(project, env)))  # as both commands do
    source = YamlProvider(
        "zones", str(root / "zones"), enforce_order=True, escaped_semicolons=False
    )
    ours: list[float] = []
    theirs: list[float] = []
    for i in range(runs):
        for which in ("ours", "theirs") if i % 2 == 0 else ("theirs", "ours"):
            start = time.perf_counter()
            if which == "ours":
                zone, problems = load_zone(source, ZONE)
                assert not problems, problems[:3]
                ours.append(time.perf_counter() - start)
            else:
                zone = Zone(ZONE, [])
                source.populate(zone)
                zone.validate()
                theirs.append(time.perf_counter() - start)
    a, b = statistics.median(ours), statistics.median(theirs)
    return {"dnsops load_zone_s": a, "octodns populate_s": b, "ratio": a / b}


def profile(root: Path, top: int = 25) -> None:
    """cProfile of one `dnsops lint` in this process, top functions by cumulative time."""
    import cProfile
    import pstats

    from dnsops.cli.app import app

    os.chdir(root)
    prof = cProfile.Profile()
    prof.enable()
    try:
        app(["--config", str(root / "dnsops.yaml"), "lint"], standalone_mode=False)
    finally:
        prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(top)


def table(records: int, cmds: dict[str, object], loaders: dict[str, float] | None) -> str:
    ours = cmds["dnsops lint"]
    theirs = cmds["octodns-validate"]
    assert isinstance(ours, dict) and isinstance(theirs, dict)
    rw, rc = cmds["ratio_wall"], cmds["ratio_cpu"]
    assert isinstance(rw, float) and isinstance(rc, float)
    mem = ours["peak_rss_mb"] / theirs["peak_rss_mb"]
    lines = [
        f"### dnsops lint vs octodns-validate, {records:,} records (load {os.getloadavg()[0]:.1f})",
        "",
        "| figure | dnsops | anchor | ratio | target | met? |",
        "|---|---|---|---|---|---|",
        f"| wall time, median (s) | {ours['wall_s']:.2f} | {theirs['wall_s']:.2f} "
        f"| {rw:.2f} | <= {WALL} | {'yes' if rw <= WALL else 'NO'} |",
        f"| CPU time, median (s) | {ours['cpu_s']:.2f} | {theirs['cpu_s']:.2f} "
        f"| {rc:.2f} | - | - |",
        f"| peak RSS (MiB) | {ours['peak_rss_mb']:.0f} | {theirs['peak_rss_mb']:.0f} "
        f"| {mem:.2f} | <= {MEMORY} | {'yes' if mem <= MEMORY else 'NO'} |",
    ]
    if loaders:
        r = loaders["ratio"]
        lines.append(
            f"| zone load in-process (s) | {loaders['dnsops load_zone_s']:.2f} "
            f"| {loaders['octodns populate_s']:.2f} | {r:.2f} | <= 1.0 "
            f"| {'yes' if r <= 1.0 else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3, help="runs of each command (alternating)")
    ap.add_argument("--no-loaders", action="store_true", help="skip the in-process figure")
    ap.add_argument("--only-loaders", action="store_true", help="only the in-process figure")
    ap.add_argument("--profile", action="store_true", help="only cProfile one dnsops lint")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "bench_lint.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dnsops-bench-lint-") as tmp:
        root = project(Path(tmp), args.records)
        print(f"generated {args.records:,} records in {root / 'zones'}", flush=True)
        if args.profile:
            profile(root)
            return
        if args.only_loaders:
            print(json.dumps(bench_loaders(root, args.runs), indent=2))
            return
        cmds = bench_commands(root, args.runs)
        loaders = None if args.no_loaders else bench_loaders(root, args.runs)
    text = table(args.records, cmds, loaders)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"records": args.records, "commands": cmds, "loaders": loaders, "table": text}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
