"""`make bench`: dnsops side by side with octoDNS, octodns-report and dnsperf, in one run.

    .venv/bin/python -m benchmarks.harness [--net 127.70] [--runs 3] [--sizes 1000,10000,100000]

Generates deterministic zones (benchmarks/zonegen.py) of the three sizes; lints the
largest offline; starts a lab of its own on ``--net`` (never 127.53, the demo lab's)
holding the other two, syncs them to PowerDNS and BIND, and then runs each pair of
commands in the same run, alternating, ``--runs`` times:

0. ``dnsops --help`` vs ``octodns-validate --help`` (start-up: CPU ≤ 0.15 s);
1. ``dnsops lint`` vs ``octodns-validate``, largest zone (wall ≤ 0.5, peak memory ≤ 0.7;
   at most two rounds: the 15-minute budget);
2. ``dnsops plan`` (both providers) vs ``octodns-sync`` (plan only, both targets), middle
   zone, no changes (wall and CPU ≤ 0.6); the smallest zone's pair is shown too, without
   a target;
3. wire checks of the middle zone at every nameserver of both providers: the dnsops probe
   engine (benchmarks/probe_phase.py) vs octodns-report's query phase (concurrency 4;
   at least 10 times) vs dnsperf (≥ 20 %), and ``dnsops health`` vs octodns-report's wall (≤ 0.3);
4. ``dnsops audit`` vs one ``octodns-sync`` plan of the middle zone (CPU ≤ 0.8);
5. the last lab drill's convergence per vantage (drills/history/) vs its TTL (≤ TTL + 1 s).

Each row shows the wall and the CPU ratio, its targets, the load average when its group
started, and **NO** where a target is missed. Prints one markdown table (medians; peak
RSS in brackets) and writes it, with every run,
to ``--out`` (benchmarks/out/bench.json and bench.md). A figure whose command is not
part of this dnsops yet is reported as "not available". The machine's load average is
recorded before and after each group: other work on the machine moves wall times (the
CPU seconds, also recorded, move less).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import drills, lab
from benchmarks.measure import (
    CommandFailed,
    Run,
    Stats,
    load,
    median_of,
    rounds,
    start,
    timed,
)
from benchmarks.report_phase import phase
from benchmarks.table import Row, markdown, missing_row, ratio_row

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ZONE = "bench.test."  # the middle zone: plan, audit, wire checks
SMALL_ZONE = "bench1k.test."
DRILL_ZONE = "example.test."  # the repo's zone, which the shipped drill scenarios change
# octodns-validate instantiates every provider of the config, and the lab's want a key
# set (any value: nothing is contacted). Dummies, not secrets.
DUMMY_ENV = {"DNSOPS_LAB_PDNS_API_KEY": "bench-dummy", "DNSOPS_LAB_TSIG_SECRET": "YmVuY2g="}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def dnsops_commands() -> set[str]:
    """The top-level commands this dnsops has (a missing one's figure is "not available")."""
    from dnsops.cli.app import COMMANDS

    return set(COMMANDS)


def dnsops(*args: str) -> list[str]:
    return [str(BIN / "dnsops"), *args]


def _must(run: Run, ok: Callable[[Run], bool], what: str) -> Run:
    if not ok(run):
        raise CommandFailed(f"{what} (exit {run.code}): {' '.join(run.argv)}\n{run.tail()}")
    return run


def _cell(stats: Stats) -> str:
    return f"{stats.wall:.2f} s ({stats.rss_mb:.0f} MiB)"


def _time_row(
    figure: str,
    ours: list[Run],
    theirs: list[Run],
    *,
    wall: float | None = None,
    cpu: float | None = None,
    memory: float | None = None,
    note: str = "",
) -> Row:
    """Medians of both commands; ``wall``/``cpu``/``memory``: the targets on each ratio
    (none: a row for scale). Where running in parallel could hide work, the target is
    on CPU; a row meets its targets only when it meets every one."""
    a, b = Stats.of(ours), Stats.of(theirs)
    cpu_ratio = a.cpu / b.cpu if b.cpu else math.inf
    rss_ratio = a.rss_mb / b.rss_mb if b.rss_mb else math.inf
    text = f"CPU {a.cpu:.2f} s vs {b.cpu:.2f} s; peak RSS ratio {rss_ratio:.2f}"
    row = ratio_row(
        figure,
        a.wall,
        b.wall,
        unit="s",
        target=wall if wall is not None else math.inf,
        lower_is_better=True,
        note=f"{note}; {text}" if note else text,
        data={
            "dnsops": a.to_json(),
            "anchor": b.to_json(),
            "cpu_ratio": round(cpu_ratio, 3),
            "rss_ratio": round(rss_ratio, 3),
        },
    )
    row.dnsops, row.anchor = _cell(a), _cell(b)
    row.cpu_ratio = cpu_ratio
    targets = {"wall": (wall, row.ratio), "CPU": (cpu, cpu_ratio), "memory": (memory, rss_ratio)}
    wanted = [(name, goal, got) for name, (goal, got) in targets.items() if goal is not None]
    if not wanted:
        row.target, row.met = "-", None
    else:
        row.target = ", ".join(f"{name} ≤ {goal:g}" for name, goal, _ in wanted)
        row.met = all(got is not None and got <= goal for _, goal, got in wanted)
    return row


# -- 0. start-up ------------------------------------------------------------------------

STARTUP_CPU = 0.15  # seconds of CPU for `dnsops --help`


def bench_startup(runs: int) -> list[Row]:
    """``dnsops --help`` against ``octodns-validate --help``: what every command pays first."""
    steps = {
        "dnsops --help": lambda: _must(
            timed(dnsops("--help"), cwd=REPO), lambda r: r.code == 0, "dnsops --help failed"
        ),
        "octodns-validate --help": lambda: _must(
            timed([BIN / "octodns-validate", "--help"], cwd=REPO),
            lambda r: r.code == 0,
            "octodns-validate --help failed",
        ),
    }
    got = rounds(steps, max(runs, 5), say)
    row = _time_row(
        "start-up: dnsops --help vs octodns-validate --help",
        got["dnsops --help"],
        got["octodns-validate --help"],
    )
    spent = Stats.of(got["dnsops --help"]).cpu
    row.target, row.met = f"CPU ≤ {STARTUP_CPU:g} s", spent <= STARTUP_CPU
    return [row]


# -- 1. lint ---------------------------------------------------------------------------

LINT_RUNS = 2  # rounds of the lint pair at most (see bench_lint)


def bench_lint(work: Path, records: int, runs: int, have: set[str]) -> list[Row]:
    figure = f"dnsops lint vs octodns-validate, {records:,} records"
    if "lint" not in have:
        return [
            missing_row(
                figure, "wall ≤ 0.5, memory ≤ 0.7", "`dnsops lint` is not part of this dnsops yet"
            )
        ]
    from benchmarks.bench_lint import project

    (work / "lint").mkdir(parents=True, exist_ok=True)
    root = project(work / "lint", records)
    env = {**os.environ, **DUMMY_ENV}
    steps = {
        "dnsops lint": lambda: _must(
            timed(dnsops("--config", str(root / "dnsops.yaml"), "lint"), cwd=root, env=env),
            lambda r: r.code == 0,
            "dnsops lint found errors in the generated zone",
        ),
        "octodns-validate": lambda: _must(
            timed(
                [BIN / "octodns-validate", "--config-file", "config/lab.yaml"], cwd=root, env=env
            ),
            lambda r: r.code == 0,
            "octodns-validate failed",
        ),
    }
    # At most LINT_RUNS rounds: octodns-validate of 100k records takes 65 s of CPU (up to
    # 170 s of wall time on a busy machine), and three rounds made the lint group 553 s of
    # a 897 s default run (BENCH_RUNS=3, load ~4): two keep `make bench` within 15 minutes.
    got = rounds(steps, min(runs, LINT_RUNS), say)
    return [_time_row(figure, got["dnsops lint"], got["octodns-validate"], wall=0.5, memory=0.7)]


# -- 2 + 4. plan and audit ---------------------------------------------------------------


def _no_change_plan(run: Run) -> bool:
    return run.code == 0 and "No changes were planned" in run.stdout + run.stderr


def _consistent(run: Run) -> bool:
    if run.code != 0:
        return False
    try:
        return bool(json.loads(run.stdout).get("consistent"))
    except ValueError:
        return False


def bench_control(
    root: Path, env: dict[str, str], zone: str, records: int, runs: int, have: set[str]
) -> list[Row]:
    """dnsops plan, octodns-sync (plan only) and dnsops audit of one zone, alternating."""
    steps: dict[str, Callable[[], Run]] = {
        "dnsops plan": lambda: _must(
            timed(dnsops("plan", "--zone", zone, "--detailed-exitcode"), cwd=root, env=env),
            lambda r: r.code == 0,
            "dnsops plan found changes (or failed) on the synced lab",
        ),
        "octodns-sync": lambda: _must(
            timed(
                [BIN / "octodns-sync", "--config-file", "config/lab.yaml", zone], cwd=root, env=env
            ),
            _no_change_plan,
            "octodns-sync planned changes (or failed) on the synced lab",
        ),
    }
    if "audit" in have:
        steps["dnsops audit"] = lambda: _must(
            timed(dnsops("audit", "--zone", zone, "--format", "json"), cwd=root, env=env),
            _consistent,
            "dnsops audit did not find the synced zone consistent",
        )
    got = rounds(steps, runs, say)
    return [
        _time_row(
            f"dnsops plan vs octodns-sync (plan only), both providers, {records:,} records, "
            "no changes",
            got["dnsops plan"],
            got["octodns-sync"],
            wall=0.6,
            cpu=0.6,
        ),
        _time_row(
            f"dnsops audit vs one octodns-sync plan, {records:,} records",
            got["dnsops audit"],
            got["octodns-sync"],
            cpu=0.8,
        )
        if "dnsops audit" in got
        else missing_row(
            f"dnsops audit vs one octodns-sync plan, {records:,} records",
            "CPU ≤ 0.8",
            "`dnsops audit` is not part of this dnsops yet",
        ),
    ]


def bench_small_plan(root: Path, env: dict[str, str], zone: str, records: int, runs: int) -> Row:
    steps: dict[str, Callable[[], Run]] = {
        "dnsops plan": lambda: _must(
            timed(dnsops("plan", "--zone", zone, "--detailed-exitcode"), cwd=root, env=env),
            lambda r: r.code == 0,
            "dnsops plan found changes (or failed) on the synced lab",
        ),
        "octodns-sync": lambda: _must(
            timed(
                [BIN / "octodns-sync", "--config-file", "config/lab.yaml", zone], cwd=root, env=env
            ),
            _no_change_plan,
            "octodns-sync planned changes (or failed) on the synced lab",
        ),
    }
    got = rounds(steps, runs, say)
    return _time_row(
        f"dnsops plan vs octodns-sync, {records:,} records (wall; for scale)",
        got["dnsops plan"],
        got["octodns-sync"],
    )


# -- 3. wire checks ----------------------------------------------------------------------


def query_file(root: Path, zone: str, path: Path) -> int:
    """dnsperf's input: one ``name TYPE`` line per record of the zone (octodns-report's set)."""
    from dnsops.config import load_project
    from dnsops.zones import load_zones

    project = load_project(root / "dnsops.yaml")
    _, env = project.lab_environment()
    here = Path.cwd()
    os.chdir(root)
    try:
        records = sorted(load_zones(project, env, zone)[zone].records)
    finally:
        os.chdir(here)
    path.write_text("".join(f"{r.fqdn} {r._type}\n" for r in records))
    return len(records)


def report_run(root: Path, env: dict[str, str], zone: str, servers: list[str]) -> Run:
    out = root / "octodns-report.csv"
    argv = [sys.executable, "-m", "benchmarks.report_phase", "--config-file", "config/lab.yaml"]
    argv += ["--zone", zone, "--source", "zones", *servers]
    run = _must(
        timed(argv, cwd=root, env=env, out_file=out),
        lambda r: r.code == 0 and phase(r.stderr) is not None,
        "octodns-report failed",
    )
    lines = [line for line in out.read_text().splitlines()[1:] if line]
    cells = [line.split(",") for line in lines]
    queries = len(lines) * len(servers)
    seconds = phase(run.stderr) or 0.0
    run.extra = {
        "queries": queries,
        "phase_s": seconds,
        "qps": queries / seconds if seconds else 0.0,
        "timeouts": sum(c.count("*timeout*") for c in cells),
        "inconsistent": sum(1 for c in cells if c and c[-1] != "True"),
    }
    return run


def probe_run(root: Path, env: dict[str, str], zone: str, servers: list[str]) -> Run:
    argv = [sys.executable, "-m", "benchmarks.probe_phase", "--config", "dnsops.yaml"]
    argv += ["--zone", zone]
    for s in servers:
        argv += ["--server", s]
    run = _must(timed(argv, cwd=root, env=env), lambda r: r.code == 0, "the probe phase failed")
    doc = json.loads(run.stdout)
    if doc["matched"] != doc["checked"]:
        raise CommandFailed(f"the probe engine found answers that differ: {doc['failed_sample']}")
    run.extra = doc
    return run


def dnsperf_run(root: Path, servers: list[str], qfile: Path, passes: int) -> Run:
    """One dnsperf per nameserver, all at once (as the probe engine asks them)."""
    exe = shutil.which("dnsperf")
    assert exe is not None
    begun = time.perf_counter()
    started = [
        start([exe, "-s", s, "-d", qfile, "-n", str(passes), "-t", "2"], cwd=root) for s in servers
    ]
    runs = [s.wait() for s in started]
    outputs = [r.stdout + r.stderr for r in runs]
    completed = [_dnsperf_number(o, "Queries completed:") for o in outputs]
    runtime = [_dnsperf_number(o, "Run time (s):") for o in outputs]
    run = Run(
        argv=[exe, "-s", ",".join(servers), "-d", str(qfile), "-n", str(passes)],
        wall=time.perf_counter() - begun,
        cpu=sum(r.cpu for r in runs),
        rss_mb=max(r.rss_mb for r in runs),
        code=max(r.code for r in runs),
    )
    if run.code != 0 or None in completed or None in runtime:
        raise CommandFailed("dnsperf failed:\n" + "\n".join(o[-800:] for o in outputs))
    total = sum(c for c in completed if c is not None)
    longest = max(t for t in runtime if t is not None)
    run.extra = {"queries": total, "seconds": longest, "qps": total / longest}
    return run


def _dnsperf_number(output: str, label: str) -> float | None:
    for line in output.splitlines():
        if line.strip().startswith(label):
            return float(line.split(":", 1)[1].split()[0])
    return None


def health_run(root: Path, env: dict[str, str], zone: str) -> Run:
    run = timed(dnsops("health", "--zone", zone, "--format", "json"), cwd=root, env=env)
    try:
        doc = json.loads(run.stdout)
    except ValueError:
        doc = None
    if run.code not in (0, 1) or not isinstance(doc, dict):
        raise CommandFailed(f"dnsops health failed (exit {run.code}):\n{run.tail()}")
    findings = doc.get("findings") or []
    run.extra = {"findings": len(findings), "exit": run.code}
    return run


def bench_wire(
    root: Path,
    env: dict[str, str],
    zone: str,
    records: int,
    servers: list[str],
    runs: int,
    have: set[str],
    passes: int,
) -> list[Row]:
    qfile = root / "dnsperf-queries.txt"
    asked = query_file(root, zone, qfile)
    steps: dict[str, Callable[[], Run]] = {
        "octodns-report": lambda: report_run(root, env, zone, servers),
        "probe engine": lambda: probe_run(root, env, zone, servers),
    }
    if shutil.which("dnsperf"):
        steps["dnsperf"] = lambda: dnsperf_run(root, servers, qfile, passes)
    if "health" in have:
        steps["dnsops health"] = lambda: health_run(root, env, zone)
    got = rounds(steps, runs, say)
    where = f"{records:,} records x {len(servers)} nameservers"
    report, probe = got["octodns-report"], got["probe engine"]
    ours = median_of(probe, "qps")
    theirs = median_of(report, "qps")
    report_note = (
        f"octodns-report's query phase {median_of(report, 'phase_s'):.1f} s of "
        f"{Stats.of(report).wall:.1f} s; timeouts {max(r.extra['timeouts'] for r in report)}"
    )
    rows = [
        ratio_row(
            f"wire check q/s: probe engine vs octodns-report query phase ({where})",
            ours,
            theirs,
            unit="q/s",
            target=10,
            lower_is_better=False,
            note=f"{report_note}; probe phase {median_of(probe, 'seconds'):.2f} s, "
            f"{asked * len(servers):,} queries, every answer checked",
            data={
                "probe": [r.extra for r in probe],
                "octodns-report": [r.extra for r in report],
                "probe_process": Stats.of(probe).to_json(),
                "report_process": Stats.of(report).to_json(),
            },
        )
    ]
    if "dnsperf" in got:
        perf = got["dnsperf"]
        rows.append(
            ratio_row(
                f"wire check q/s: probe engine vs dnsperf ({where})",
                ours,
                median_of(perf, "qps"),
                unit="q/s",
                target=0.2,
                lower_is_better=False,
                note=f"one dnsperf per nameserver at once, {passes} passes over the zone",
                data={"dnsperf": [r.extra for r in perf]},
            )
        )
    else:
        rows.append(
            missing_row(
                f"wire check q/s: probe engine vs dnsperf ({where})", "≥ 0.2", "dnsperf missing"
            )
        )
    figure = f"dnsops health vs octodns-report, whole commands ({where})"
    if "dnsops health" in got:
        health = got["dnsops health"]
        rows.append(
            _time_row(
                figure,
                health,
                report,
                wall=0.3,
                note=f"health exit {health[-1].extra['exit']}, "
                f"{health[-1].extra['findings']} finding(s)",
            )
        )
    else:
        rows.append(
            missing_row(figure, "wall ≤ 0.3", "`dnsops health` is not part of this dnsops yet")
        )
    return rows


# -- 5. drill ---------------------------------------------------------------------------


def run_drill(root: Path, env: dict[str, str], name: str) -> list[Row]:
    """``dnsops drill run NAME`` in the bench lab, then figure 5 from the report it wrote."""
    if "drill" not in dnsops_commands():
        return [
            missing_row(
                f"drill {name}: convergence",
                drills.TARGET,
                "`dnsops drill` is not part of this dnsops",
            )
        ]
    run = timed(dnsops("drill", "run", name, "--format", "json"), cwd=root, env=env)
    say(f"  drill {name}: exit {run.code} after {run.wall:.0f} s")
    if run.code not in (0, 1):
        raise CommandFailed(f"dnsops drill run {name} failed (exit {run.code}):\n{run.tail()}")
    return drills.rows(root / "drills" / "history")


# -- the run ---------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", default="127.70", help="the bench lab's 127.N prefix (not 127.53)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each command (alternating)")
    ap.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="three zone sizes: the smallest and middle are synced to the lab, the largest "
        "is linted",
    )
    ap.add_argument("--dnsperf-passes", type=int, default=3, help="dnsperf passes over the zone")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    ap.add_argument(
        "--drill-history", type=Path, default=REPO / "drills" / "history", help="drill reports"
    )
    ap.add_argument(
        "--drill",
        metavar="NAME",
        help="run this drill scenario in the bench lab (its zone is added to the lab) and "
        "report its convergence instead of the last one in --drill-history",
    )
    ap.add_argument("--work", type=Path, help="keep generated projects here (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="leave the lab running at the end")
    args = ap.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if len(sizes) != 3 or sizes[0] < 20:
        ap.error("--sizes wants three sizes of at least 20 records")
    args.sizes = sizes
    try:
        lab.check_net(args.net)
    except ValueError as exc:
        ap.error(str(exc))
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    small, mid, large = args.sizes
    have = dnsops_commands()
    doc: dict[str, Any] = {
        "format": "dnsops-bench/1",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "options": {"runs": args.runs, "sizes": args.sizes, "net": args.net},
        "load": [],
    }
    rows: list[Row] = []
    failures: list[str] = []

    def group(name: str, fn: Callable[[], list[Row]]) -> None:
        before = load()
        say(f"== {name} (load average {before[0]:.2f})")
        t = time.perf_counter()
        try:
            made = fn()
            for row in made:
                row.load = before[0]
            rows.extend(made)
        except CommandFailed as exc:
            failures.append(f"{name}: {exc}")
            say(f"FAILED: {exc}")
            rows.append(Row(f"{name}: failed", "failed", "-", None, "-", False, note=_brief(exc)))
        finally:
            doc["load"].append(
                {
                    "group": name,
                    "before": [round(x, 2) for x in before],
                    "after": [round(x, 2) for x in load()],
                    "seconds": round(time.perf_counter() - t, 1),
                }
            )

    with tempfile.TemporaryDirectory(prefix="dnsops-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        group("start-up", lambda: bench_startup(args.runs))
        group("lint", lambda: bench_lint(work, large, args.runs, have))
        keep = (DRILL_ZONE,) if args.drill else ()
        root = lab.make(work / "lab", args.net, {ZONE: mid, SMALL_ZONE: small}, keep)
        with lab.running(root, keep=args.keep, say=say) as runner:
            say(f"lab: syncing {small:,} + {mid:,} records to both providers")
            doc["setup"] = lab.sync(root)
            say(f"lab: synced in {doc['setup']['seconds']:.1f} s")
            env = lab.environ(runner, root, REPO)
            servers = lab.nameservers(runner)
            group("plan + audit", lambda: bench_control(root, env, ZONE, mid, args.runs, have))
            group(
                "wire checks",
                lambda: bench_wire(
                    root, env, ZONE, mid, servers, args.runs, have, args.dnsperf_passes
                ),
            )
            group(
                "plan, small zone",
                lambda: [bench_small_plan(root, env, SMALL_ZONE, small, args.runs)],
            )
            if args.drill:
                group("drill", lambda: run_drill(root, env, args.drill))
    if not args.drill:
        rows.extend(drills.rows(args.drill_history))
    doc["rows"] = [r.to_json() for r in rows]
    doc["seconds"] = round(time.perf_counter() - started, 1)
    doc["uptime"] = _uptime()
    loads = ", ".join(f"{g['group']} {g['before'][0]:.1f}→{g['after'][0]:.1f}" for g in doc["load"])
    text = markdown(rows) + (
        f"\n{args.runs} run(s) per command, medians; {os.cpu_count()} CPUs; load average (1 min) "
        f"per group: {loads}; {doc['uptime']}; whole run {doc['seconds']:.0f} s\n"
    )
    doc["markdown"] = text
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(doc, indent=2) + "\n")
    (args.out / "bench.md").write_text(text)
    print(text)
    say(f"wrote {args.out / 'bench.json'} and {args.out / 'bench.md'}")
    return 1 if failures else 0


def _brief(exc: Exception) -> str:
    """The first line of a failure and the last line of the command's output."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1:
        return f"{lines[0]} … {lines[-1]}"[:400]
    return lines[0][:400] if lines else type(exc).__name__


def _uptime() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
