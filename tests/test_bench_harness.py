"""The benchmark harness (benchmarks/): its parts, and one whole run on tiny zones.

No timing is asserted anywhere: only that every figure is measured (or reported
as not available), the table and the JSON agree, and the lab is gone afterwards.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import drills
from benchmarks.measure import Run, Stats, rounds, timed
from benchmarks.profile import summarise
from benchmarks.report_phase import phase
from benchmarks.table import NOT_AVAILABLE, Row, markdown, missing_row, ratio_row
from tests.conftest import IN_CI, REPO, SPARE_NET, lab_unavailable


def _run(name: str, wall: float = 1.0) -> Run:
    return Run(argv=[name], wall=wall, cpu=wall / 2, rss_mb=10.0, code=0)


def test_rounds_rotate_the_order() -> None:
    order: list[str] = []

    def step(name: str) -> Run:
        order.append(name)
        return _run(name)

    got = rounds({n: (lambda n=n: step(n)) for n in "abc"}, 4, say=lambda _m: None)
    assert order == list("abcbcacababc")
    assert {k: len(v) for k, v in got.items()} == {"a": 4, "b": 4, "c": 4}


def test_stats_are_medians_and_the_largest_rss() -> None:
    runs = [_run("x", w) for w in (3.0, 1.0, 2.0, 10.0, 2.5)]
    runs[1].rss_mb = 99.0
    stats = Stats.of(runs)
    assert (stats.wall, stats.cpu, stats.rss_mb, stats.runs) == (2.5, 1.25, 99.0, 5)


def test_timed_measures_the_command_not_the_harness(tmp_path: Path) -> None:
    """The peak RSS is the command's own, not the (larger) harness's it was forked from."""
    filler = bytearray(300 << 20)  # this process is now at least 300 MiB
    code = "import sys; x = bytearray(40 << 20); print('out'); print('err', file=sys.stderr)"
    got = timed([sys.executable, "-c", code + "; sys.exit(3)"], cwd=tmp_path)
    assert (got.code, got.stdout, got.stderr) == (3, "out\n", "err\n")
    assert 40 <= got.rss_mb < 200, got.rss_mb
    assert got.cpu > 0 and got.wall > 0
    del filler
    out = tmp_path / "out.txt"
    got = timed([sys.executable, "-c", "print('x' * 100000)"], cwd=tmp_path, out_file=out)
    assert got.stdout == "" and out.read_text() == "x" * 100000 + "\n"


def test_ratio_rows_point_the_right_way() -> None:
    slow = ratio_row("t", 8.0, 10.0, unit="s", target=0.7, lower_is_better=True)
    assert (slow.ratio, slow.met, slow.target, slow.dnsops, slow.anchor) == (
        0.8,
        False,
        "≤ 0.7",
        "8.00 s",
        "10.00 s",
    )
    fast = ratio_row("q", 20_000, 1_000, unit="q/s", target=10, lower_is_better=False)
    assert (fast.ratio, fast.met, fast.target, fast.dnsops) == (20.0, True, "≥ 10", "20,000 q/s")
    none = ratio_row("z", 1.0, 0.0, unit="s", target=1, lower_is_better=True)
    assert none.ratio == math.inf and none.met is False and none.to_json()["ratio"] is None


def test_scale_rows_fail_on_any_finding() -> None:
    """The 1,000-zone rows: the octodns-report sample scaled to every zone, CPU ratio,
    load, and NO when a command reported findings (zero expected) even if fast."""
    from benchmarks.bench_xfr_scale import rows, scaled

    sample = _run("octodns-report", wall=2.0)
    sample.extra = {"zones": 2, "records": 30, "inconsistent": 0, "timeouts": 0}
    report = [scaled(sample, 20.0)]
    assert report[0].wall == 40.0 and report[0].cpu == 20.0
    results = {
        "health (new)": [(_run("health", 4.0), {"exit": 1, "findings": {"ns-tcp": 3}})],
        "audit (new)": [(_run("audit", 4.0), {"exit": 0, "findings": {}})],
    }
    health, audit = rows(results, report, 40, 15, 20, 1.5)
    assert health.met is False and audit.met is True
    assert health.ratio == 0.1 and health.cpu_ratio == 0.1 and health.load == 1.5
    assert health.data["findings"] == 3 and "ns-tcp" in health.note
    assert "every 20th" in audit.note and "x20" in audit.note
    text = markdown([health, audit])
    assert text.count("**NO**") == 1 and "findings = 0" in text


def test_markdown_table() -> None:
    rows = [
        Row("plan | 10k", "5.00 s (90 MiB)", "10.00 s (80 MiB)", 0.5, "≤ 0.7", True, note="cpu"),
        missing_row("health", "≤ 0.3", "`dnsops health` is not part of this dnsops yet"),
        Row("audit", "3.00 s", "2.00 s", 1.5, "≤ 1", False),
    ]
    rows[0].cpu_ratio, rows[0].load = 0.625, 1.25
    assert markdown(rows, title="t") == (
        "### t\n\n"
        "| figure | dnsops | anchor | ratio | CPU ratio | target | load | met? |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| plan \\| 10k | 5.00 s (90 MiB) | 10.00 s (80 MiB) | 0.50 | 0.62 | ≤ 0.7 | 1.2 | yes |\n"
        f"| health | {NOT_AVAILABLE} | - | - | - | ≤ 0.3 | - | n/a |\n"
        "| audit | 3.00 s | 2.00 s | 1.50 | - | ≤ 1 | - | **NO** |\n"
        "\n"
        "- plan | 10k: cpu\n"
        "- health: `dnsops health` is not part of this dnsops yet\n"
    )


def test_report_phase_mark() -> None:
    err = 'INFO something\nBENCH-PHASE {"phase_s": 12.5}\n'
    assert phase(err) == 12.5
    assert phase("BENCH-PHASE {}\n") is None
    assert phase("Traceback ...\n") is None


def _drill_report(run_id: str, started: str, lab: bool, maxes: dict[str, float | None]) -> dict:
    conv = [
        {"vantage": v, "max": m, "first_correct": 0.5, "converged": m is not None and m <= 7}
        for v, m in maxes.items()
    ]
    return {
        "format": "dnsops-drill-report/1",
        "run_id": run_id,
        "scenario": {"name": "api-failover"},
        "lab": lab,
        "started_at": started,
        "vantages": sorted(maxes),
        "steps": [
            {"title": "record-failover api.example.test. A", "ttl": 2, "convergence": conv},
            {"title": "wait 5 s"},
            {
                "title": "failback",
                "ttl": 2,
                "convergence": [{**c, "max": 1.0} for c in conv],
            },
        ],
    }


def test_drill_rows_from_the_last_lab_report(tmp_path: Path) -> None:
    history = tmp_path / "history"
    assert drills.rows(history)[0].dnsops == NOT_AVAILABLE
    history.mkdir()
    old = _drill_report("r1", "2026-01-01T00:00:00Z", True, {"iad": 9.0, "lhr": 9.0})
    prod = _drill_report("r3", "2026-03-01T00:00:00Z", False, {"iad": 0.1, "lhr": 0.1})
    last = _drill_report("r2", "2026-02-01T00:00:00Z", True, {"iad": 2.4, "lhr": 3.5, "nrt": None})
    for doc in (old, prod, last):
        (history / f"{doc['run_id']}.json").write_text(json.dumps(doc))
    (history / "broken.json").write_text("{")
    rows = drills.rows(history)
    step = "drill api-failover, record-failover api.example.test. A"
    assert [(r.figure, r.dnsops, r.anchor, r.met) for r in rows] == [
        (f"{step}: convergence at iad (slowest stream)", "2.40 s", "TTL 2 s", True),
        (f"{step}: convergence at lhr (slowest stream)", "3.50 s", "TTL 2 s", False),
        (f"{step}: convergence at nrt (slowest stream)", "never", "TTL 2 s", False),
    ]
    assert rows[0].ratio == 1.2 and "r2 (2026-02-01T00:00:00Z), r2.json" in rows[0].note
    assert [r.note for r in rows[1:]] == ["", ""]


def test_profile_summary() -> None:
    raw = (
        'process 10:"dnsops plan";thread (1): MainThread;main (dnsops/cli/app.py:63);'
        "load (dnsops/zones.py:137) 6\n"
        'process 10:"dnsops plan";thread (1): MainThread;main (dnsops/cli/app.py:64) 2\n'
        'process 10:"dnsops plan";process 11:"dnsops plan";thread (1): MainThread;'
        "plan (dnsops/sync/core.py:9);"
        "populate (octodns_bind/__init__.py:74) 2\n"
        "garbage line\n"
    )
    assert summarise(raw, top=2) == (
        "10 samples\n"
        " 80.0%  process 10\n"
        " 20.0%  process 11\n"
        "-- inclusive (top 2)\n"
        " 80.0%  main (app.py)\n"
        " 60.0%  load (zones.py)\n"
        "-- self (top 2)\n"
        " 60.0%  load (zones.py)\n"
        " 20.0%  main (app.py)\n"
    )


def test_the_demo_lab_net_is_refused(tmp_path: Path) -> None:
    got = subprocess.run(
        [sys.executable, "-m", "benchmarks.harness", "--net", "127.53", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert got.returncode == 2
    assert "127.53 is the demo lab's" in got.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.lab
def test_one_whole_run_on_tiny_zones(tmp_path: Path) -> None:
    """Every figure measured (or "not available"), one table, the same as JSON, lab gone."""
    reason = lab_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    out, work = tmp_path / "out", tmp_path / "work"
    history = tmp_path / "history"
    history.mkdir()
    report = _drill_report("r9", "2026-02-01T00:00:00Z", True, {"iad": 1.5})
    (history / "r9.json").write_text(json.dumps(report))
    argv = [sys.executable, "-m", "benchmarks.harness", "--net", SPARE_NET]
    argv += ["--sizes", "30,40,60", "--runs", "1", "--dnsperf-passes", "1"]
    argv += ["--out", str(out), "--work", str(work), "--drill-history", str(history)]
    got = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    assert got.returncode == 0, got.stderr[-3000:]
    doc = json.loads((out / "bench.json").read_text())
    assert (out / "bench.md").read_text() == doc["markdown"]
    assert got.stdout.strip() == doc["markdown"].strip()
    rows = {r["figure"]: r for r in doc["rows"]}
    expected = [
        "start-up: dnsops --help vs octodns-validate --help",
        "dnsops lint vs octodns-validate, 60 records",
        "dnsops plan vs octodns-sync (plan only), both providers, 40 records, no changes",
        "dnsops audit vs one octodns-sync plan, 40 records",
        "wire check q/s: probe engine vs octodns-report query phase (40 records x 4 nameservers)",
        "wire check q/s: probe engine vs dnsperf (40 records x 4 nameservers)",
        "dnsops health vs octodns-report, whole commands (40 records x 4 nameservers)",
        "dnsops plan vs octodns-sync, 30 records (wall; for scale)",
        "drill api-failover, record-failover api.example.test. A: convergence at iad "
        "(slowest stream)",
    ]
    assert list(rows) == expected
    from benchmarks.harness import dnsops_commands

    have = dnsops_commands()
    for figure, row in rows.items():
        assert f"| {figure} |" in doc["markdown"]
        command = next((c for c in ("audit", "health") if f"dnsops {c} " in figure), None)
        if command is not None and command not in have:
            assert row["dnsops"] == NOT_AVAILABLE, figure
            continue
        assert row["dnsops"] != NOT_AVAILABLE, figure
        assert row["ratio"] is not None and row["ratio"] > 0, figure
        assert isinstance(row["met"], bool) or row["target"] == "-", figure
        assert row["load"] is not None or row["figure"].startswith("drill "), figure
        if row["figure"].startswith(("start-up", "dnsops ")):
            assert row["cpu_ratio"] is not None and row["cpu_ratio"] > 0, figure
    wire = rows[expected[4]]["data"]
    assert [p["queries"] for p in wire["probe"]] == [40 * 4]
    assert wire["probe"][0]["matched"] == wire["probe"][0]["checked"]
    assert [r["queries"] for r in wire["octodns-report"]] == [40 * 4]
    assert doc["setup"]["records"] == {"bench.test.": 40, "bench1k.test.": 30}
    assert [g["group"] for g in doc["load"]] == [
        "start-up",
        "lint",
        "plan + audit",
        "wire checks",
        "plan, small zone",
    ]
    # the lab was stopped: no server of its state dir runs, no address stays on lo
    state = str(work / "lab" / ".dnsops")
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert state not in procs.stdout
    lo = subprocess.run(["ip", "-4", "addr", "show", "lo"], capture_output=True, text=True)
    assert f" {SPARE_NET}." not in lo.stdout
    assert os.path.isdir(work / "lab" / "zones")
