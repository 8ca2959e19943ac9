"""Drills against the lab's real servers (PowerDNS, BIND, unbound), in a lab of their own.

The module starts its own lab on SPARE_NET from a project copy whose ``api``
record has a 2 s TTL (and a ``slow`` record with 3600 s), so failovers
converge in seconds; outages last 3 s. Drills that must die are run as real
``dnsops drill run`` subprocesses and killed with SIGKILL / SIGTERM.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dnsops.config import load_project
from dnsops.drill.actions import Actions
from dnsops.drill.model import load_scenarios
from dnsops.env import Env
from dnsops.lab.runner import LabRunner
from tests.conftest import IN_CI, LAB_RESOLVERS, REPO, SPARE_NET, lab_unavailable, make_project, run

pytestmark = pytest.mark.lab

SLOW = """slow:
  octodns:
    dnsops:
      standby:
        - 198.51.100.40
  ttl: 3600
  type: A
  value: 192.0.2.40
"""

# 8 s over 8 resolvers: one primed every second, whole seconds as unbound counts them
POP = """pop:
  octodns:
    dnsops:
      standby:
        - 198.51.100.22
  ttl: 8
  type: A
  value: 192.0.2.22
"""

SCENARIOS = {
    "population-failover": """name: population-failover
hypothesis: every resolver of the population converges within TTL + margin
steps:
  - {kind: record-failover, zone: example.test., name: pop, type: A, margin: 3s}
  - {kind: failback, margin: 3s}
max_duration: 2m
""",
    "population-together": """name: population-together
hypothesis: every resolver primed just before the change needs the full TTL
steps:
  - {kind: record-failover, zone: example.test., name: pop, type: A, margin: 3s, prime: together}
max_duration: 1m
""",
    "out-pdns": """name: out-pdns
hypothesis: losing pdns costs no resolution
steady_state:
  - {check: resolution, name: api.example.test., type: A}
steps:
  - {kind: provider-outage, provider: pdns, duration: 3s, method: stop}
  - kind: check
    checks: [{check: servers}, {check: zone, zone: example.test.}]
max_duration: 1m
""",
    "out-bind": """name: out-bind
hypothesis: losing bind costs no resolution
steps:
  - {kind: provider-outage, provider: bind, duration: 3s, method: stop}
max_duration: 1m
""",
    "drop-bind": """name: drop-bind
hypothesis: black-holing bind's traffic costs no resolution
steps:
  - {kind: provider-outage, provider: bind, duration: 3s, method: drop}
abort: {success_below: 0.0}
max_duration: 1m
""",
    "iso-bind": """name: iso-bind
hypothesis: pdns alone serves the complete, correct zone
steps:
  - {kind: provider-outage, provider: bind, method: isolate}
""",
    "fast-failover": """name: fast-failover
hypothesis: api converges within TTL + margin, there and back
steps:
  - {kind: record-failover, zone: example.test., name: api, type: A, margin: 3s}
  - {kind: failback, margin: 3s}
max_duration: 1m
""",
    "slow-failover": """name: slow-failover
hypothesis: slow (TTL 3600 s) cannot converge within the drill's 4 s deadline
steps:
  - {kind: record-failover, zone: example.test., name: slow, type: A, timeout: 4s}
  - {kind: failback}
max_duration: 1m
""",
    "unknown-vantages": """name: unknown-vantages
hypothesis: names the vantages of the production set, which the lab does not have
steady_state:
  - {check: resolution, name: api.example.test., type: A, vantages: [lhr-ssh, nrt-ssh, atlas-eu]}
steps:
  - {kind: provider-outage, provider: pdns, duration: 3s, method: stop}
""",
    "kill-outage": """name: kill-outage
hypothesis: a long outage, to be killed
steps:
  - {kind: provider-outage, provider: pdns, duration: 60s, method: stop}
max_duration: 2m
""",
    "kill-drop": """name: kill-drop
hypothesis: a long black hole, to be killed
steps:
  - {kind: provider-outage, provider: bind, duration: 60s, method: drop}
max_duration: 2m
""",
    "kill-failover": """name: kill-failover
hypothesis: a failover left in place, to be killed
steps:
  - {kind: record-failover, zone: example.test., name: api, type: A}
  - {kind: wait, duration: 60s}
  - {kind: failback}
max_duration: 2m
""",
}


@pytest.fixture(scope="module")
def drill_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    reason = lab_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    root = make_project(tmp_path_factory.mktemp("drill") / "p", net=SPARE_NET)
    zone = root / "zones" / "example.test.yaml"
    text = zone.read_text().replace("  ttl: 60\n  type: A\n", "  ttl: 2\n  type: A\n")
    text = text.replace("sip:\n", POP + "sip:\n")
    zone.write_text(text.replace("www:\n", SLOW + "www:\n"))
    # a 2 s TTL is what makes the tests quick; the lint policy (sync's gate) must allow it
    policy = root / "policies" / "default.yaml"
    band = "failover-critical: {ttl: 60, min: 30, max: 120, severity: error}"
    assert band in policy.read_text()
    policy.write_text(policy.read_text().replace(band, band.replace("min: 30", "min: 1")))
    for name, body in SCENARIOS.items():
        (root / "drills" / f"{name}.yaml").write_text(body)
    runner = LabRunner(load_project(root / "dnsops.yaml"))
    runner.up()
    try:
        from typer.testing import CliRunner

        synced = run(CliRunner(), root, "sync", "--doit")
        assert synced.exit_code == 0, synced.output
        yield root
    finally:
        runner.down()


def actions(root: Path) -> Actions:
    return Actions(Env(load_project(root / "dnsops.yaml")))


def assert_back_to_git(root: Path) -> None:
    """Every lab server answers and both providers equal the zones in git (audit clean)."""
    from typer.testing import CliRunner

    act = actions(root)
    assert act.servers_down() == []
    assert act.pending() == []
    assert not (root / ".dnsops" / "drill" / "journal.json").exists()
    audit = run(CliRunner(), root, "audit", "--format", "json")
    assert audit.exit_code == 0, audit.output
    assert json.loads(audit.stdout)["findings"] == []


def drill(cli: Any, root: Path, name: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    res = run(cli, root, "drill", "run", name, "--format", "json", *extra)
    doc = json.loads(res.stdout) if res.stdout.strip() else {}
    return res.exit_code, doc, res.stderr


def test_pdns_outage_costs_no_resolution(cli, drill_dir: Path) -> None:
    code, doc, stderr = drill(cli, drill_dir, "out-pdns")
    assert code == 0, stderr
    assert doc["verdict"] == "pass" and doc["reasons"] == []
    outage = doc["steps"][0]
    assert outage["method"] == "stop" and outage["ok"] is True
    impact = {x["vantage"]: x for x in outage["impact"]}
    assert sorted(impact) == sorted(LAB_RESOLVERS)
    for x in impact.values():
        assert x["success_fraction"] == 1.0
        assert x["samples"] >= 3 * 5 * 2  # 3 s x 5/s x 2 probes at least
        assert x["added_p50_ms"] is not None and x["added_p95_ms"] is not None
        assert x["baseline_p50_ms"] is not None
    check = doc["steps"][1]
    assert check["ok"] is True and [c["ok"] for c in check["checks"]] == [True, True]
    assert doc["rollback"] == {"undone": [], "verified": True, "problems": []}
    assert "report: " in stderr and Path(doc["reports"]["html"]).exists()
    assert_back_to_git(drill_dir)


def test_bind_outage_costs_no_resolution(cli, drill_dir: Path) -> None:
    code, doc, stderr = drill(cli, drill_dir, "out-bind")
    assert code == 0, stderr
    outage = doc["steps"][0]
    assert (outage["provider"], outage["method"], outage["ok"]) == ("bind", "stop", True)
    assert [x["success_fraction"] for x in outage["impact"]] == [1.0] * len(LAB_RESOLVERS)
    assert all(x["added_p95_ms"] is not None for x in outage["impact"])
    assert_back_to_git(drill_dir)


def test_black_holed_provider_is_measured_and_let_through_again(cli, drill_dir: Path) -> None:
    """nftables drops bind's DNS traffic (no ICMP: resolvers time out). How much that costs
    depends on what each unbound already knows about bind's servers, so the verdict is
    checked against the measurement, not against a fixed number."""
    code, doc, _ = drill(cli, drill_dir, "drop-bind")
    outage = doc["steps"][0]
    assert outage["method"] == "drop"
    impact = outage["impact"]
    assert [x["vantage"] for x in impact] == sorted(LAB_RESOLVERS)
    for x in impact:
        failed = sum(x["failures"].values())
        assert round(x["success_fraction"] * x["samples"]) == x["samples"] - failed
        assert x["timeout_fraction"] + x["servfail_fraction"] <= 1 - x["success_fraction"] + 1e-3
    held = all(x["success_fraction"] == 1.0 for x in impact)
    assert (code, doc["verdict"], outage["ok"]) == (
        (0, "pass", True) if held else (1, "fail", False)
    )
    assert doc["rollback"]["verified"] is True
    assert not Actions.table_exists(actions(drill_dir).nft_table("bind"))
    assert_back_to_git(drill_dir)


def test_isolation_says_so_plainly(cli, drill_dir: Path) -> None:
    code, doc, stderr = drill(cli, drill_dir, "iso-bind")
    assert code == 0, stderr
    step = doc["steps"][0]
    assert step["note"].startswith("This was an ISOLATION, not an outage")
    iso = step["isolation"]
    assert iso["provider"] == "pdns" and iso["complete_and_correct"] is True
    assert iso["records_checked"] == 15 and iso["problems"] == []
    md = Path(doc["reports"]["markdown"]).read_text()
    assert "> This was an ISOLATION, not an outage" in md


def test_record_failover_and_failback_converge_within_ttl(
    cli, drill_dir: Path, reads: Counter[str]
) -> None:
    code, doc, stderr = drill(cli, drill_dir, "fast-failover")
    assert code == 0, stderr
    # preflight, failover, checks, failback and the closing audit: one environment model
    assert reads == Counter({"octoDNS config": 1, "zone example.test.": 1})
    failover, failback = doc["steps"]
    assert failover["old"] == ["192.0.2.20", "192.0.2.21"]
    assert failover["new"] == ["198.51.100.20", "198.51.100.21"]
    assert failback["old"] == failover["new"] and failback["new"] == failover["old"]
    for step in (failover, failback):
        assert step["ttl"] == 2 and step["bound"] == 5.0
        assert sorted(c["vantage"] for c in step["convergence"]) == sorted(LAB_RESOLVERS)
        for c in step["convergence"]:
            assert c["converged"] is True
            assert c["first_correct"] is not None and c["max"] <= 5.0
            assert c["servfail_fraction"] == 0.0
        assert len(step["changes"]) == 2  # one update on each provider
    assert failover["changes"] == [
        "pdns: update api.example.test. A",
        "bind: update api.example.test. A",
    ] or failover["changes"] == [
        "pdns: Update api.example.test. A",
        "bind: Update api.example.test. A",
    ]
    assert_back_to_git(drill_dir)


def test_record_failover_converges_over_a_population_primed_at_staggered_times(
    cli, drill_dir: Path
) -> None:
    """8 resolvers, each cache filled at its own moment over the 8 s TTL before the change:
    their convergence spreads over the TTL instead of landing on one second. The failback
    is primed and measured the same way (and leaves every cache on git's answer)."""
    code, doc, stderr = drill(cli, drill_dir, "population-failover")
    assert code == 0, stderr
    failover, failback = doc["steps"]
    assert failback["new"] == failover["old"] == ["192.0.2.22"]
    # NSID (RFC 5001): each sample says which resolver instance answered (lab unbound nsid)
    assert {v: list(seen) for v, seen in doc["instances"].items()} == {
        v: [f"{v}.lab"] for v in LAB_RESOLVERS
    }
    assert all(count > 0 for seen in doc["instances"].values() for count in seen.values())
    n = len(LAB_RESOLVERS)
    for step in (failover, failback):
        pop = step["population"]
        assert (pop["n"], pop["converged"], pop["unconverged"]) == (n, n, [])
        assert (pop["prime"], pop["ttl"], pop["margin"], pop["bound"]) == (
            "staggered", 8, 3.0, 11.0)  # fmt: skip
        assert pop["percentile"] == "nearest-rank" and pop["within_bound"] is True
        assert 0 < pop["p50"] < pop["p95"] <= pop["max"] <= pop["ttl"] + pop["margin"]
        times = pop["per_vantage"]
        assert list(times) == LAB_RESOLVERS and len(set(times.values())) >= n // 2
        assert pop["max"] == max(times.values())
        # each primed at its own moment, in order: iad at the change, bom 7/8 TTL before it
        before = pop["primed_before"]
        assert list(before) == list(reversed(LAB_RESOLVERS))  # the earliest primed first
        ordered = [before[v] for v in LAB_RESOLVERS]
        assert ordered == sorted(ordered) and len(set(ordered)) == n
        assert 0 <= ordered[0] < ordered[-1] < pop["ttl"]
        assert step["primed"] == dict.fromkeys(reversed(LAB_RESOLVERS), "NOERROR")
        # a cache primed later expires later: whoever expired after the change was applied
        # converged no earlier than one primed before it (one that expired while the
        # providers were still being changed refilled with the old answer: one TTL more)
        after_apply = [v for v in LAB_RESOLVERS if pop["ttl"] - before[v] > step["apply_seconds"]]
        assert len(after_apply) >= n // 2
        got = [times[v] for v in after_apply]
        assert got == sorted(got, reverse=True)
        # nothing asked the record through a resolver between the hold and its priming query
        change_at = step["change_at"]
        for v in LAB_RESOLVERS:
            asked = [
                t
                for t, _o, _l, probe, _k in doc["timeline"]["vantages"][v]
                if probe == "pop.example.test. A"
            ]
            primed_at = change_at - before[v]
            assert not [t for t in asked if step["held_from"] + 0.1 < t < primed_at - 0.01], v
            assert any(t > change_at for t in asked)
        # the per-vantage table is still there
        assert sorted(c["vantage"] for c in step["convergence"]) == sorted(LAB_RESOLVERS)
    # the reports show the distribution: a sorted table per change
    pop = failover["population"]
    times, before = pop["per_vantage"], pop["primed_before"]
    md = Path(doc["reports"]["markdown"]).read_text()
    assert (
        md.count(f"Convergence over {n} vantages ({n} converged, caches primed staggered): ") == 2
    )
    fastest = min(times, key=lambda v: (times[v], v))
    assert (
        f"| {fastest} | {before[fastest]:g} s before | {times[fastest]:g} s after the change |"
        in md
    )
    html = Path(doc["reports"]["html"]).read_text()
    assert html.count("s after the change</td></tr>") == 2 * n
    assert_back_to_git(drill_dir)


def test_a_population_primed_together_converges_at_one_moment(cli, drill_dir: Path) -> None:
    """Every cache filled just before the change: each needs the full TTL (the worst case),
    and they all converge together: at one sampling tick (or two: a second's boundary)."""
    code, doc, stderr = drill(cli, drill_dir, "population-together")
    assert code == 0, stderr
    pop = doc["steps"][0]["population"]
    n = len(LAB_RESOLVERS)
    assert (pop["n"], pop["converged"], pop["prime"]) == (n, n, "together")
    times = sorted(pop["per_vantage"].values())
    assert len(set(times)) <= 2 and times[-1] - times[0] <= 1.0
    assert pop["ttl"] - 1 <= pop["p50"] <= pop["p95"] == pop["max"] <= pop["bound"]
    assert len(set(pop["primed_before"].values())) <= 2  # one batch
    assert_back_to_git(drill_dir)


def test_ttl_above_the_deadline_fails_for_convergence_and_rolls_back(cli, drill_dir: Path) -> None:
    code, doc, _ = drill(cli, drill_dir, "slow-failover")
    assert code == 1
    assert doc["verdict"] == "fail"
    assert doc["aborted"]["cause"] == "convergence"
    assert (
        "the drill's deadline (4 s) came before TTL 3600 s + margin 5 s"
        in (doc["aborted"]["reason"])
    )
    assert len(doc["steps"]) == 1 and doc["steps"][0]["ok"] is False
    # it cannot pass: no time is spent priming the caches for a TTL of an hour
    step = doc["steps"][0]
    assert step["prime"] == "none" and step["population"]["prime"] == "none"
    assert step["prime_note"] == (
        "not primed: the step's timeout (4 s) comes before TTL 3600 s + margin 5 s; "
        "the caches are asked once, now"
    )
    assert step["population"]["unconverged"] == sorted(LAB_RESOLVERS)
    assert doc["rollback"]["undone"] == ["sync zone example.test. from git on both providers"]
    assert doc["rollback"]["verified"] is True
    assert_back_to_git(drill_dir)


def _spawn(root: Path, name: str, log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "dnsops"
    with log.open("wb") as fh:
        return subprocess.Popen(
            [str(exe), "--config", str(root / "dnsops.yaml"), "drill", "run", name],
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _wait_for_action(root: Path, proc: subprocess.Popen[bytes], kind: str, log: Path) -> None:
    journal = root / ".dnsops" / "drill" / "journal.json"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            actions_ = json.loads(journal.read_text())["actions"]
        except (FileNotFoundError, ValueError):
            actions_ = []
        if any(a["kind"] == kind and a["state"] == "done" for a in actions_):
            time.sleep(0.5)
            return
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no {kind} action done in time:\n{log.read_text()}")


@pytest.mark.parametrize(
    ("scenario", "action", "broken"),
    [
        ("kill-outage", "stop-server", "pdns"),
        ("kill-drop", "drop-traffic", "bind"),
        ("kill-failover", "change-record", "api"),
    ],
)
def test_sigkill_then_rollback(
    cli, drill_dir: Path, tmp_path: Path, scenario: str, action: str, broken: str
) -> None:
    log = tmp_path / "drill.log"
    proc = _spawn(drill_dir, scenario, log)
    _wait_for_action(drill_dir, proc, action, log)
    act = actions(drill_dir)
    if broken == "pdns":
        assert act.servers_down() == ["pdns"]
    elif broken == "bind":
        assert act.table_exists(act.nft_table("bind"))
    else:
        assert (
            act.pending()
            == [
                "pdns: update api.example.test. A",
                "bind: update api.example.test. A",
            ]
            or len(act.pending()) == 2
        )
    busy = run(cli, drill_dir, "drill", "rollback")  # the drill still runs: not behind its back
    assert busy.exit_code == 1
    assert f"the drill that wrote the journal still runs: drill {scenario!r}" in busy.stderr
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    refused = run(cli, drill_dir, "drill", "run", "out-pdns")
    assert refused.exit_code == 1
    assert "an unfinished drill journal exists: drill " + repr(scenario) in refused.stderr
    assert "dnsops drill rollback" in refused.stderr
    status = run(cli, drill_dir, "drill", "status", "--format", "json")
    assert status.exit_code == 1
    assert scenario in json.loads(status.stdout)["unfinished_journal"]
    rb = run(cli, drill_dir, "drill", "rollback", "--format", "json")
    assert rb.exit_code == 0, rb.output
    doc = json.loads(rb.stdout)
    assert doc["verified"] is True and doc["problems"] == []
    assert len(doc["undone"]) == 1
    assert_back_to_git(drill_dir)
    again = run(cli, drill_dir, "drill", "rollback")
    assert again.exit_code == 0 and "nothing to roll back" in again.stdout


def test_sigterm_rolls_back_by_itself(drill_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "drill.log"
    proc = _spawn(drill_dir, "kill-outage", log)
    _wait_for_action(drill_dir, proc, "stop-server", log)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 1
    text = log.read_text()
    assert "interrupted by SIGTERM" in text
    assert "rollback verified" in text
    reports = sorted((drill_dir / "drills" / "history").glob("*-kill-outage.json"))
    doc = json.loads(reports[-1].read_text())
    assert doc["aborted"] == {"cause": "interrupted", "reason": "interrupted by SIGTERM"}
    assert doc["rollback"]["undone"] == ["start lab server pdns"]
    assert_back_to_git(drill_dir)


def test_preflight_refuses_while_a_plan_is_pending(cli, drill_dir: Path) -> None:
    zone = drill_dir / "zones" / "example.test.yaml"
    original = zone.read_text()
    zone.write_text(original.replace("value: 192.0.2.25", "value: 192.0.2.99"))
    try:
        code, doc, stderr = drill(cli, drill_dir, "out-pdns")
    finally:
        zone.write_text(original)
    assert code == 1 and doc == {}
    assert "preflight refused the drill" in stderr
    assert "in-sync: pdns: update mx1.example.test. A; bind: update mx1.example.test. A" in stderr
    assert "a plan is pending" in stderr
    assert not (drill_dir / ".dnsops" / "drill" / "journal.json").exists()
    assert_back_to_git(drill_dir)


def test_dry_run_changes_nothing(cli, drill_dir: Path) -> None:
    res = run(cli, drill_dir, "drill", "run", "fast-failover", "--dry-run", "--format", "json")
    assert res.exit_code == 0, res.output
    steps = json.loads(res.stdout)["steps"]
    assert [s["kind"] for s in steps] == ["record-failover", "failback"]
    assert len(steps[0]["would"]) == 2 and all(
        "api.example.test. A" in w for w in steps[0]["would"]
    )
    assert steps[1]["would"] == ["sync api.example.test. A back to git on both providers"]
    assert_back_to_git(drill_dir)


def test_reports_hold_no_secret_and_status_lists_runs(cli, drill_dir: Path) -> None:
    secrets = json.loads((drill_dir / ".dnsops" / "lab" / "secrets.json").read_text())
    history = drill_dir / "drills" / "history"
    texts = [p.read_text() for p in history.iterdir()]
    assert len(texts) >= 3 * 5
    for value in (secrets["pdns_api_key"], secrets["tsig_secret"]):
        assert all(value not in t for t in texts)
    res = run(cli, drill_dir, "drill", "status", "--format", "json")
    rows = {r["scenario"]: r for r in json.loads(res.stdout)["scenarios"]}
    assert rows["out-pdns"]["last_verdict"] == "pass" and rows["out-pdns"]["overdue"] is False
    assert rows["slow-failover"]["last_verdict"] == "fail" and rows["slow-failover"]["overdue"]
    assert rows["api-failover"]["last_run"] is None
    assert res.exit_code == 1  # never-run and failed scenarios are overdue


# The lab scenarios shipped in drills/ (the quarterly workflow runs only the production
# ones: the lab's are rehearsed here, in the test project whose api TTL is 2 s).
SHIPPED_LAB_SCENARIOS = [
    s.name
    for s in load_scenarios(load_project(REPO / "dnsops.yaml"))
    if (s.environment or "lab") == "lab"
]


@pytest.mark.parametrize("name", SHIPPED_LAB_SCENARIOS)
def test_every_shipped_lab_scenario_runs_in_the_lab(cli, drill_dir: Path, name: str) -> None:
    """Each runs to its end, is measured and rolled back. A failover must hold. An outage
    of 20 s is judged by its measurement: now and then one query in some hundreds times
    out at one resolver on both of the stub's tries (unbound still waiting on the stopped
    server), and then the drill says so and fails, as it should."""
    code, doc, stderr = drill(cli, drill_dir, name)
    assert (doc["environment"], doc["lab"], doc["aborted"]) == ("lab", True, None), stderr
    assert doc["rollback"]["verified"] is True
    assert_back_to_git(drill_dir)
    outages = [s for s in doc["steps"] if "impact" in s]
    if not outages:
        assert (code, doc["verdict"], doc["reasons"]) == (0, "pass", []), stderr
        return
    assert len(outages) == 1 and all(s["ok"] for s in doc["steps"] if "impact" not in s)
    low = [x for x in outages[0]["impact"] if x["success_fraction"] < 1.0]
    assert [x["vantage"] for x in outages[0]["impact"]] == sorted(LAB_RESOLVERS)
    if not low:
        assert (code, doc["verdict"], doc["reasons"]) == (0, "pass", []), stderr
        return
    assert (code, doc["verdict"]) == (1, "fail")
    why = "resolution success fell to " + ", ".join(
        f"{x['vantage']} {x['success_fraction']:.1%}" for x in low
    )
    assert doc["reasons"] == [f"step 1 (provider-outage): {why}"]
    for x in low:  # each query lost is one that timed out or failed, counted as such
        assert sum(x["failures"].values()) == round((1 - x["success_fraction"]) * x["samples"])


def test_the_lab_runs_no_production_scenario(cli, drill_dir: Path) -> None:
    assert SHIPPED_LAB_SCENARIOS == ["api-failover", "bind-outage", "pdns-outage"]
    for name in ("production-api-failover",):
        as_lab = run(cli, drill_dir, "drill", "run", name, "--env", "lab")
        assert as_lab.exit_code == 1
        assert f"drill {name!r} is a scenario of environment 'production', not 'lab'" in (
            as_lab.stderr
        )
        plain = run(cli, drill_dir, "drill", "run", name)
        assert plain.exit_code == 1
        assert "'production' is not a lab: a drill there changes real DNS" in plain.stderr
    assert not list((drill_dir / "drills" / "history").glob("*-production-*"))
    assert_back_to_git(drill_dir)


def test_a_drill_naming_unknown_vantages_stops_before_it_changes_anything(
    cli, drill_dir: Path
) -> None:
    """What the production set does until dnsops.yaml's example vantages are uncommented."""
    code, doc, stderr = drill(cli, drill_dir, "unknown-vantages")
    assert code == 1 and doc == {}
    assert "no vantage named lhr-ssh, nrt-ssh, atlas-eu (known: " in stderr
    assert not list((drill_dir / "drills" / "history").glob("*-unknown-vantages.*"))
    assert_back_to_git(drill_dir)


def test_html_report_renders_the_timeline_in_chromium(drill_dir: Path, tmp_path: Path) -> None:
    """The reports of the drills above as Chromium draws them: the timeline, the shaded
    outage window, every text label of the SVG clear of every other and inside the
    picture (boxes from getBBox() in the page), and no Python value printed."""
    from tests import chromium

    history = drill_dir / "drills" / "history"
    failover = sorted(history.glob("*-fast-failover.html"))[-1]
    dom = chromium.dump_dom(failover, tmp_path)
    assert '<svg id="timeline"' in dom
    assert dom.count('class="s-new"') > 10 and dom.count('class="s-old"') > 10
    assert 'class="mark-ttl"' in dom and 'class="mark-bound"' in dom
    assert 'Drill <code>fast-failover</code>: <span class="pass">PASS</span>' in dom
    outage = sorted(history.glob("*-out-pdns.html"))[-1]
    for html, windows in ((failover, 0), (outage, 1)):
        got = chromium.layout(html.read_text(), tmp_path, html.stem)
        assert len(got["labels"]) >= 12, got["labels"]
        assert chromium.overlaps(got["labels"]) == []
        assert chromium.outside(got) == []
        assert got["windows"] == windows
        assert not re.search(r"\b(True|False|None)\b", got["text"])
        assert ".." not in got["text"]
    text = chromium.layout(outage.read_text(), tmp_path, "again")["text"]
    # 15: the zone with the population drill's pop record
    assert "Step 2: check\nservers: ok\nzone example.test. (15 records): ok" in text
    assert "outage window (fault to restore)" in text


def test_preflight_refuses_while_the_lock_is_held(cli, drill_dir: Path) -> None:
    from dnsops.lock import environment_lock

    project = load_project(drill_dir / "dnsops.yaml")
    with environment_lock(project, "lab", command="dnsops sync --doit (the test)"):
        code, doc, stderr = drill(cli, drill_dir, "out-pdns")
        rolled = run(cli, drill_dir, "drill", "rollback")
    assert code == 1 and doc == {}
    assert "environment 'lab' is locked by pid" in stderr
    assert "(dnsops sync --doit (the test))" in stderr
    assert not (drill_dir / ".dnsops" / "drill" / "journal.json").exists()
    assert rolled.exit_code == 0  # nothing to roll back needs no lock
    assert_back_to_git(drill_dir)
